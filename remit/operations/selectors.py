"""The state of the background pipeline, read for /health and /metrics (cluster-wide: from the
database, so every web process on every machine reports the same figures)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Min, Q
from django.utils import timezone

from remit.documents.models import Document, EmailMessage
from remit.integrations.models import WebhookDelivery
from remit.operations.models import WorkerHeartbeat

# A worker writes its heartbeat every round (about every second, at most a sweep apart); one
# not seen for this long is taken for dead.
HEARTBEAT_STALE_AFTER = timedelta(minutes=2)


@dataclass(frozen=True)
class Backlog:
    """Work of one pipeline queue that is waiting: how much, and since when."""

    waiting: int
    oldest: datetime | None

    def age_seconds(self, now: datetime) -> float:
        return max(0.0, (now - self.oldest).total_seconds()) if self.oldest else 0.0


@dataclass(frozen=True)
class PipelineState:
    now: datetime
    # Pipeline queue ("documents", "emails", "webhooks") -> its backlog.
    backlogs: dict[str, Backlog]
    documents_stored: int
    emails_sent: int
    emails_failed: int
    webhook_deliveries_failed: int
    # Pending deliveries whose last attempt failed (the endpoint is failing now).
    webhook_deliveries_retrying: int
    # Task backend queue -> tasks ready to run (the database backend; empty for others).
    task_queues: dict[str, int] = field(default_factory=dict)
    workers: list[WorkerHeartbeat] = field(default_factory=list)

    def live_workers(self) -> list[WorkerHeartbeat]:
        return [w for w in self.workers if self.now - w.seen_at <= HEARTBEAT_STALE_AFTER]


def _task_queue_depths() -> dict[str, int]:
    backend = str(settings.TASKS["default"]["BACKEND"])
    if not backend.startswith("django_tasks_db."):
        return {}
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    rows = (
        DBTaskResult.objects.filter(status=TaskResultStatus.READY)
        .values("queue_name")
        .annotate(ready=Count("id"))
        .order_by()
    )
    return {row["queue_name"]: row["ready"] for row in rows}


def pipeline_state() -> PipelineState:
    """Everything /metrics reports, in five queries."""
    now = timezone.now()
    documents = Document.objects.aggregate(
        pending=Count("id", filter=Q(status=Document.Status.PENDING)),
        oldest=Min("created_at", filter=Q(status=Document.Status.PENDING)),
        stored=Count("id", filter=Q(status=Document.Status.STORED)),
    )
    waiting = Q(status__in=[EmailMessage.Status.QUEUED, EmailMessage.Status.SENDING])
    emails = EmailMessage.objects.aggregate(
        waiting=Count("id", filter=waiting),
        oldest=Min("created_at", filter=waiting),
        sent=Count("id", filter=Q(status=EmailMessage.Status.SENT)),
        failed=Count("id", filter=Q(status=EmailMessage.Status.FAILED)),
    )
    pending = Q(status=WebhookDelivery.Status.PENDING)
    webhooks = WebhookDelivery.objects.aggregate(
        waiting=Count("id", filter=pending),
        oldest=Min("event__created_at", filter=pending),
        failed=Count("id", filter=Q(status=WebhookDelivery.Status.FAILED)),
        retrying=Count("id", filter=pending & Q(attempts__gt=0)),
    )
    return PipelineState(
        now=now,
        backlogs={
            "documents": Backlog(documents["pending"], documents["oldest"]),
            "emails": Backlog(emails["waiting"], emails["oldest"]),
            "webhooks": Backlog(webhooks["waiting"], webhooks["oldest"]),
        },
        documents_stored=documents["stored"],
        emails_sent=emails["sent"],
        emails_failed=emails["failed"],
        webhook_deliveries_failed=webhooks["failed"],
        webhook_deliveries_retrying=webhooks["retrying"],
        task_queues=_task_queue_depths(),
        workers=list(WorkerHeartbeat.objects.all()),
    )
