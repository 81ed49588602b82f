"""The prune (run hourly by the worker): finished work past its retention goes, the rest stays."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from remit.billing.actors import Actor
from remit.integrations.models import (
    ApiRequestCount,
    IdempotencyRecord,
    StripeEvent,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from remit.integrations.services.api_keys import api_key_create
from remit.operations.models import WorkerHeartbeat
from remit.operations.services import operations_prune

pytestmark = pytest.mark.django_db


def _task(status: str, finished_days_ago: float | None) -> DBTaskResult:
    now = timezone.now()
    return DBTaskResult.objects.create(
        status=status,
        args_kwargs={"args": [], "kwargs": {}},
        task_path="remit.documents.tasks.document_store_task",
        queue_name="default",
        backend_name="default",
        run_after=now,
        finished_at=now - timedelta(days=finished_days_ago) if finished_days_ago else None,
    )


def test_prune_keeps_everything_within_retention_and_removes_what_is_past_it(settings):
    now = timezone.now()
    old_task = _task(TaskResultStatus.SUCCESSFUL, 8)
    old_failed_task = _task(TaskResultStatus.FAILED, 8)
    recent_task = _task(TaskResultStatus.SUCCESSFUL, 6)
    waiting_task = _task(TaskResultStatus.READY, None)

    api_key = api_key_create(name="b", scopes=["read"], actor=Actor.system()).api_key
    with time_machine.travel(now - timedelta(hours=49)):
        IdempotencyRecord.objects.create(api_key=api_key, key="old", fingerprint="f")
    IdempotencyRecord.objects.create(api_key=api_key, key="new", fingerprint="f")

    endpoint = WebhookEndpoint.objects.create(url="https://hooks.example.com/", secret="s")
    with time_machine.travel(now - timedelta(days=31)):
        old_event = WebhookEvent.objects.create(event_id="evt_old", type="t", payload={})
        stuck_event = WebhookEvent.objects.create(event_id="evt_stuck", type="t", payload={})
    WebhookDelivery.objects.create(
        endpoint=endpoint, event=old_event, status="delivered", next_attempt_at=now
    )
    pending = WebhookDelivery.objects.create(
        endpoint=endpoint, event=stuck_event, status="pending", next_attempt_at=now
    )

    with time_machine.travel(now - timedelta(days=91)):
        StripeEvent.objects.create(event_id="evt_1", type="t", payload={}, outcome="processed")
        StripeEvent.objects.create(event_id="evt_2", type="t", payload={}, outcome="failed")
    minute = int(now.timestamp() // 60)
    ApiRequestCount.objects.create(api_key=api_key, minute=minute - 61)
    ApiRequestCount.objects.create(api_key=api_key, minute=minute)
    WorkerHeartbeat.objects.create(
        name="gone:1", queues="documents", started_at=now, seen_at=now - timedelta(days=2)
    )
    WorkerHeartbeat.objects.create(name="here:2", queues="documents", started_at=now, seen_at=now)

    pruned = operations_prune()

    assert pruned == {
        "task_results": 2,
        "idempotency_keys": 1,
        "webhook_deliveries": 1,
        "webhook_events": 1,
        "stripe_events": 1,
        "api_request_counts": 1,
        "worker_heartbeats": 1,
    }
    assert set(DBTaskResult.objects.values_list("pk", flat=True)) == {
        recent_task.pk,
        waiting_task.pk,
    }
    assert not DBTaskResult.objects.filter(pk__in=[old_task.pk, old_failed_task.pk]).exists()
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
    # A delivery still pending keeps its event, however old.
    assert list(WebhookDelivery.objects.all()) == [pending]
    assert list(WebhookEvent.objects.values_list("event_id", flat=True)) == ["evt_stuck"]
    # A failed Stripe event needs a look: it is never pruned.
    assert list(StripeEvent.objects.values_list("event_id", flat=True)) == ["evt_2"]
    assert list(ApiRequestCount.objects.values_list("minute", flat=True)) == [minute]
    assert list(WorkerHeartbeat.objects.values_list("name", flat=True)) == ["here:2"]
    # Running it again finds nothing more.
    assert set(operations_prune().values()) == {0}


def test_retention_follows_the_settings(settings):
    settings.REMIT_RETENTION = {**settings.REMIT_RETENTION, "task_days": 1}
    _task(TaskResultStatus.SUCCESSFUL, 2)
    assert operations_prune()["task_results"] == 1


def test_the_prune_command_reports_what_it_removed():
    from io import StringIO

    from django.core.management import call_command

    _task(TaskResultStatus.SUCCESSFUL, 30)
    out = StringIO()
    call_command("remit_prune", stdout=out)
    assert out.getvalue().startswith("task_results: 1, idempotency_keys: 0,")
