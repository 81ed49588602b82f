"""Outgoing webhooks (I3) against a real HTTP receiver on 127.0.0.1: written with the change,
signed, retried with backoff, logged, redeliverable."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.utils import timezone

from remit.billing.services.invoices import invoice_void
from remit.core.errors import ValidationFailed
from remit.integrations.models import WebhookDelivery, WebhookEvent
from remit.integrations.services.webhooks import (
    MAX_ATTEMPTS,
    webhook_deliver,
    webhook_endpoint_create,
    webhooks_recover,
)
from tests.billing.helpers import ACTOR, buy_credits_by_invoice, pay_invoice

pytestmark = pytest.mark.django_db


class Receiver:
    """Records every POST; answers with ``self.status`` (a list is consumed one per request)."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[dict]:
        return [json.loads(request["body"]) for request in self.requests]


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.server.shutdown()


def deliver_all() -> None:
    pending = WebhookDelivery.objects.filter(status="pending").order_by("pk")
    for delivery_id in pending.values_list("pk", flat=True):
        webhook_deliver(delivery_id=delivery_id)


def verify(secret: str, request: dict, tolerance: int = 300) -> bool:
    """What a receiver does with the Remit-Signature header."""
    parts = dict(item.split("=", 1) for item in request["headers"]["Remit-Signature"].split(","))
    expected = hmac.new(
        secret.encode(), f"{parts['t']}.".encode() + request["body"], hashlib.sha256
    ).hexdigest()
    fresh = abs(int(timezone.now().timestamp()) - int(parts["t"])) <= tolerance
    return fresh and hmac.compare_digest(expected, parts["v1"])


def test_every_change_is_sent_signed_in_order(receiver, account):
    created = webhook_endpoint_create(url=receiver.url, event_types=[])
    invoice = buy_credits_by_invoice(account, 150)
    pay_invoice(invoice)
    deliver_all()
    types = [event["type"] for event in receiver.events()]
    assert types == ["order.created", "invoice.issued", "payment.recorded", "invoice.paid"]
    for request in receiver.requests:
        assert verify(created.secret, request)
        assert request["headers"]["Remit-Event-Type"] in types
    issued = receiver.events()[1]
    assert issued["data"]["object"] == "invoice"
    assert issued["data"]["id"] == str(invoice.pk)
    assert issued["account_id"] == account.pk
    assert not verify("whsec_wrong", receiver.requests[0])


def test_an_endpoint_gets_only_its_event_types_and_voids_send_credit_notes(receiver, account):
    webhook_endpoint_create(url=receiver.url, event_types=["invoice.voided", "credit_note.issued"])
    invoice = buy_credits_by_invoice(account, 150)
    invoice_void(invoice=invoice, actor=ACTOR, reason_code="duplicate", reason="x")
    deliver_all()
    assert sorted(event["type"] for event in receiver.events()) == [
        "credit_note.issued",
        "invoice.voided",
    ]


def test_no_endpoint_no_outbox_rows(account):
    buy_credits_by_invoice(account, 150)
    assert WebhookEvent.objects.count() == 0


def test_an_event_of_a_rolled_back_change_is_never_sent(receiver, account):
    from django.db import transaction

    webhook_endpoint_create(url=receiver.url, event_types=[])

    def change_then_fail() -> None:
        with transaction.atomic():
            buy_credits_by_invoice(account, 150)
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        change_then_fail()
    assert WebhookEvent.objects.count() == 0
    deliver_all()
    assert receiver.requests == []


def test_failures_are_retried_with_backoff_then_given_up(receiver, account):
    webhook_endpoint_create(url=receiver.url, event_types=["invoice.issued"])
    receiver.statuses = [500, 503]
    buy_credits_by_invoice(account, 150)
    delivery = WebhookDelivery.objects.get()
    first = webhook_deliver(delivery_id=delivery.pk)
    assert (first.status, first.attempts, first.last_status_code) == ("pending", 1, 500)
    assert (
        timedelta(seconds=29)
        < first.next_attempt_at - first.last_attempt_at
        <= timedelta(seconds=31)
    )
    # Not due yet: nothing is sent.
    assert webhook_deliver(delivery_id=delivery.pk).attempts == 1
    with time_machine.travel(first.next_attempt_at + timedelta(seconds=1)):
        second = webhook_deliver(delivery_id=delivery.pk)
    assert (second.attempts, second.last_status_code) == (2, 503)
    assert second.next_attempt_at - second.last_attempt_at > timedelta(seconds=59)
    with time_machine.travel(second.next_attempt_at + timedelta(seconds=1)):
        third = webhook_deliver(delivery_id=delivery.pk)
    assert (third.status, third.attempts) == ("delivered", 3)
    assert len(receiver.requests) == 3
    # The same event id every time, so the receiver can deduplicate.
    assert len({event["id"] for event in receiver.events()}) == 1


def test_an_unreachable_endpoint_fails_after_max_attempts(account):
    webhook_endpoint_create(url="http://127.0.0.1:9/hooks", event_types=["invoice.issued"])
    buy_credits_by_invoice(account, 150)
    delivery = WebhookDelivery.objects.get()
    now = timezone.now()
    for attempt in range(MAX_ATTEMPTS):
        with time_machine.travel(now + timedelta(days=attempt + 1)):
            delivery = webhook_deliver(delivery_id=delivery.pk)
    assert delivery.status == "failed"
    assert delivery.attempts == MAX_ATTEMPTS
    assert delivery.last_error


def test_the_recovery_sweep_sends_deliveries_a_dead_worker_left(receiver, account):
    webhook_endpoint_create(url=receiver.url, event_types=["invoice.issued"])
    buy_credits_by_invoice(account, 150)
    assert webhooks_recover(older_than=timedelta(0)) == 1
    assert WebhookDelivery.objects.get().status == "delivered"
    assert webhooks_recover(older_than=timedelta(0)) == 0


def test_bad_endpoints_are_refused():
    with pytest.raises(ValidationFailed) as error:
        webhook_endpoint_create(url="ftp://x", event_types=["invoice.exploded"])
    assert sorted(error.value.field_errors) == ["event_types", "url"]
    with pytest.raises(ValidationFailed):
        webhook_endpoint_create(url="https://user:pw@example.com/x", event_types=[])
    from remit.integrations.models import WebhookEndpoint

    assert WebhookEndpoint.objects.count() == 0


def test_the_api_registers_endpoints_lists_deliveries_and_redelivers(api, receiver, account):
    response = api.post(
        "/webhook-endpoints", {"url": receiver.url, "event_types": ["invoice.issued"]}
    )
    assert response.status_code == 201
    endpoint = response.json()
    assert endpoint["secret"].startswith("whsec_")
    assert "secret" not in api.get("/webhook-endpoints").json()[0]
    buy_credits_by_invoice(account, 150)
    deliver_all()
    log = api.get(f"/webhook-endpoints/{endpoint['id']}/deliveries").json()["items"]
    assert [(d["event_type"], d["status"], d["last_status_code"]) for d in log] == [
        ("invoice.issued", "delivered", 200)
    ]
    again = api.post(f"/webhook-deliveries/{log[0]['id']}/redeliver")
    assert again.json()["status"] == "pending"
    deliver_all()
    assert len(receiver.requests) == 2
    bad = api.post("/webhook-endpoints", {"url": "nope", "event_types": []})
    assert bad.status_code == 422
