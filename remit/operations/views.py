"""/health for load balancers and monitors, /metrics for Prometheus (O2)."""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from remit.operations.selectors import PipelineState, pipeline_state

# /health calls a queue behind when its oldest waiting work is older than this.
BACKLOG_AGE_LIMITS = {
    "documents": timedelta(minutes=10),
    "emails": timedelta(minutes=30),
    "webhooks": timedelta(hours=1),
}


def _check(probe: Callable[[], None]) -> str:
    try:
        probe()
    except Exception:  # any failure of the dependency means "not ready"
        return "unreachable"
    return "ok"


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _storage() -> None:
    # A metadata read (a HEAD request on S3, a stat on local disk): it fails when the store
    # cannot be reached or the credentials are wrong.
    default_storage.exists("documents/.health")


@never_cache
def health(request: HttpRequest) -> JsonResponse:
    """503 when this web process cannot serve (database or document storage unreachable);
    otherwise 200, with ``"status": "degraded"`` and the problems when the background pipeline
    is behind (no live worker, a queue's oldest work too old) — the web keeps serving then."""
    checks = {"database": _check(_database), "storage": _check(_storage)}
    if "unreachable" in checks.values():
        return JsonResponse({"status": "error", **checks}, status=503)
    state = pipeline_state()
    problems = []
    if not state.live_workers():
        problems.append("no background worker has reported in the last 2 minutes")
    queues = {}
    for name, backlog in state.backlogs.items():
        age = backlog.age_seconds(state.now)
        behind = age > BACKLOG_AGE_LIMITS[name].total_seconds()
        queues[name] = {"status": "behind" if behind else "ok", "oldest_seconds": round(age)}
        if behind:
            problems.append(f"the {name} queue's oldest work waits for {round(age)} s")
    return JsonResponse(
        {
            "status": "degraded" if problems else "ok",
            **checks,
            "workers": len(state.live_workers()),
            "queues": queues,
            "problems": problems,
        }
    )


class _PipelineCollector:
    """The pipeline's figures, read from the database at scrape time."""

    def __init__(self, state: PipelineState) -> None:
        self.state = state

    def collect(self):  # type: ignore[no-untyped-def]
        state = self.state
        waiting = GaugeMetricFamily(
            "remit_queue_depth", "Work waiting in each pipeline queue.", labels=["queue"]
        )
        oldest = GaugeMetricFamily(
            "remit_queue_oldest_age_seconds",
            "Age of the oldest waiting work of each pipeline queue (0 when empty).",
            labels=["queue"],
        )
        for name, backlog in state.backlogs.items():
            waiting.add_metric([name], backlog.waiting)
            oldest.add_metric([name], backlog.age_seconds(state.now))
        yield waiting
        yield oldest
        tasks = GaugeMetricFamily(
            "remit_task_queue_ready", "Tasks ready to run in each task queue.", labels=["queue"]
        )
        for name, ready in sorted(state.task_queues.items()):
            tasks.add_metric([name], ready)
        yield tasks
        yield CounterMetricFamily(
            "remit_documents_stored", "Documents stored in the archive.", state.documents_stored
        )
        yield CounterMetricFamily("remit_emails_sent", "Document emails sent.", state.emails_sent)
        yield CounterMetricFamily(
            "remit_emails_failed", "Document emails given up on.", state.emails_failed
        )
        yield CounterMetricFamily(
            "remit_webhook_deliveries_failed",
            "Webhook deliveries given up on (kept for the retention period).",
            state.webhook_deliveries_failed,
        )
        yield GaugeMetricFamily(
            "remit_webhook_deliveries_retrying",
            "Pending webhook deliveries whose last attempt failed.",
            state.webhook_deliveries_retrying,
        )
        yield GaugeMetricFamily(
            "remit_workers_alive",
            "Background worker processes that reported in the last 2 minutes.",
            len(state.live_workers()),
        )


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text format; only with ``Authorization: Bearer $REMIT_METRICS_TOKEN``."""
    token = settings.REMIT_METRICS_TOKEN
    if not token:
        return HttpResponse("Metrics are off (set REMIT_METRICS_TOKEN).", status=404)
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        response = HttpResponse("A valid metrics token is required.", status=401)
        response["WWW-Authenticate"] = "Bearer"
        return response
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry()
        MultiProcessCollector(processes)
        body = generate_latest(processes)
    else:
        body = generate_latest(REGISTRY)
    pipeline = CollectorRegistry()
    pipeline.register(_PipelineCollector(pipeline_state()))
    return HttpResponse(body + generate_latest(pipeline), content_type=CONTENT_TYPE_LATEST)
