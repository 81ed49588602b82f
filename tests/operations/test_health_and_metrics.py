"""/health and /metrics (O2): what a load balancer and Prometheus read."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from remit.documents.models import Document
from remit.documents.services.archive import document_store
from remit.operations.services import worker_heartbeat, worker_name
from tests.billing.helpers import buy_credits_by_invoice

pytestmark = pytest.mark.django_db


def _alive() -> None:
    worker_heartbeat(name=worker_name(), queues=["documents"], started_at=timezone.now())


def test_health_is_ok_with_a_live_worker_and_empty_queues(client: Client):
    _alive()
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "storage": "ok",
        "workers": 1,
        "queues": {
            "documents": {"status": "ok", "oldest_seconds": 0},
            "emails": {"status": "ok", "oldest_seconds": 0},
            "webhooks": {"status": "ok", "oldest_seconds": 0},
        },
        "problems": [],
    }
    assert response["Cache-Control"].startswith("max-age=0")


def test_health_is_degraded_but_200_without_a_worker_or_with_an_old_backlog(client, account):
    """The web keeps serving (the load balancer keeps it); monitoring sees why."""
    with time_machine.travel(timezone.now() - timedelta(minutes=15)):
        buy_credits_by_invoice(account)
        _alive()  # reported 15 minutes ago: stale now
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["workers"] == 0
    assert body["queues"]["documents"]["status"] == "behind"
    assert 900 <= body["queues"]["documents"]["oldest_seconds"] < 960
    assert body["queues"]["emails"]["status"] == "ok"  # 15 minutes is within its 30
    assert body["problems"][0] == "no background worker has reported in the last 2 minutes"
    assert body["problems"][1].startswith("the documents queue's oldest work waits for 9")


def test_health_is_503_when_the_storage_cannot_be_reached(client, monkeypatch):
    from django.core.files.storage import default_storage

    def unreachable(name):
        raise ConnectionError("storage down")

    monkeypatch.setattr(default_storage, "exists", unreachable)
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "ok", "storage": "unreachable"}


def test_metrics_are_off_without_a_token_and_refuse_a_wrong_one(client, settings):
    settings.REMIT_METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    settings.REMIT_METRICS_TOKEN = "s3cret-metrics"
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 401
    assert wrong["WWW-Authenticate"] == "Bearer"


def _samples(text: str) -> dict[str, float]:
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    return values


def test_metrics_report_queues_ages_counts_workers_and_request_latency(client, settings, account):
    settings.REMIT_METRICS_TOKEN = "s3cret-metrics"
    with time_machine.travel(timezone.now() - timedelta(seconds=90)):
        buy_credits_by_invoice(account)
    buy_credits_by_invoice(account)
    document_store(document_id=Document.objects.order_by("pk").last().pk)
    _alive()
    client.get("/health")

    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    samples = _samples(response.content.decode())
    assert samples['remit_queue_depth{queue="documents"}'] == 1
    assert samples['remit_queue_depth{queue="emails"}'] == 2
    assert samples['remit_queue_depth{queue="webhooks"}'] == 0
    assert 90 <= samples['remit_queue_oldest_age_seconds{queue="documents"}'] < 150
    assert samples['remit_queue_oldest_age_seconds{queue="webhooks"}'] == 0
    assert samples["remit_documents_stored_total"] == 1
    assert samples["remit_emails_sent_total"] == 0
    assert samples["remit_emails_failed_total"] == 0
    assert samples["remit_webhook_deliveries_failed_total"] == 0
    assert samples["remit_workers_alive"] == 1
    health = 'remit_http_request_duration_seconds_count{method="GET",route="health",status="200"}'
    assert samples[health] >= 1
