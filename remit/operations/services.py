"""Worker heartbeats and pruning: the rows that would otherwise grow without end."""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from remit.integrations.models import (
    ApiRequestCount,
    IdempotencyRecord,
    StripeEvent,
    WebhookDelivery,
    WebhookEvent,
)
from remit.operations.models import WorkerHeartbeat

# Rows deleted per statement: short transactions that never hold locks for long.
PRUNE_BATCH = 1000


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def worker_heartbeat(*, name: str, queues: list[str], started_at: datetime) -> None:
    """Record that the worker ``name`` is alive (every round of its loop)."""
    WorkerHeartbeat.objects.update_or_create(
        name=name,
        defaults={"queues": ",".join(queues), "seen_at": timezone.now()},
        create_defaults={
            "queues": ",".join(queues),
            "started_at": started_at,
            "seen_at": timezone.now(),
        },
    )


def worker_stopped(*, name: str) -> None:
    WorkerHeartbeat.objects.filter(name=name).delete()


def _delete_in_batches(rows: models.QuerySet) -> int:
    deleted = 0
    while True:
        with transaction.atomic():
            batch = list(rows.order_by().values_list("pk", flat=True)[:PRUNE_BATCH])
            if not batch:
                return deleted
            rows.model.objects.filter(pk__in=batch).delete()
        deleted += len(batch)


def operations_prune(*, now: datetime | None = None) -> dict[str, int]:
    """Remove what is past its retention (README, "Retention"); returns how many rows of each
    kind went. Safe to run from several workers at once and as often as wanted."""
    now = now or timezone.now()
    retention = settings.REMIT_RETENTION
    finished = [TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED]
    pruned = {
        "task_results": _delete_in_batches(
            DBTaskResult.objects.filter(
                status__in=finished,
                finished_at__lt=now - timedelta(days=retention["task_days"]),
            )
        ),
        "idempotency_keys": _delete_in_batches(
            IdempotencyRecord.objects.filter(
                created_at__lt=now - timedelta(hours=retention["idempotency_hours"])
            )
        ),
        "webhook_deliveries": _delete_in_batches(
            WebhookDelivery.objects.filter(
                status__in=[WebhookDelivery.Status.DELIVERED, WebhookDelivery.Status.FAILED],
                event__created_at__lt=now - timedelta(days=retention["webhook_days"]),
            )
        ),
    }
    pruned["webhook_events"] = _delete_in_batches(
        WebhookEvent.objects.filter(
            created_at__lt=now - timedelta(days=retention["webhook_days"]),
            deliveries__isnull=True,
        )
    )
    pruned["stripe_events"] = _delete_in_batches(
        StripeEvent.objects.filter(
            received_at__lt=now - timedelta(days=retention["stripe_days"]),
            outcome__in=[StripeEvent.Outcome.PROCESSED, StripeEvent.Outcome.IGNORED],
        )
    )
    # Rate windows older than an hour count nothing any more.
    pruned["api_request_counts"] = _delete_in_batches(
        ApiRequestCount.objects.filter(minute__lt=int(now.timestamp() // 60) - 60)
    )
    pruned["worker_heartbeats"] = _delete_in_batches(
        WorkerHeartbeat.objects.filter(seen_at__lt=now - timedelta(days=1))
    )
    return pruned
