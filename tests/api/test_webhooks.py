"""Outgoing webhooks (I3) against a real HTTP receiver on 127.0.0.1: written with the change,
signed, retried with backoff, logged, redeliverable."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.utils import timezone

from remit.billing.services.invoices import invoice_void
from remit.core.errors import ValidationFailed
from remit.integrations.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
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
        self.location = ""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[dict]:
        return [json.loads(request["body"]) for request in self.requests]


@pytest.fixture
def receiver(settings):
    # The receiver listens on loopback, which outgoing webhooks refuse unless allowed.
    settings.REMIT_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
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


def test_an_unreachable_endpoint_fails_after_max_attempts(account, settings):
    settings.REMIT_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
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


# --- outgoing requests never reach inside (issue 13): addresses, redirects, disabled endpoints ---


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:5432/",
        "http://localhost/hooks",
        "http://api.localhost/hooks",
        "http://[::1]/hooks",
        "http://0.0.0.0/hooks",
        "http://2130706433/hooks",
        "http://127.1/hooks",
        "http://0x7f.1/hooks",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.7/hooks",
        "http://192.168.1.1/hooks",
        "http://172.16.5.4/hooks",
        "http://100.64.0.1/hooks",
        "http://[::ffff:127.0.0.1]/hooks",
        "http://[fd00::1]/hooks",
        "http://[fe80::1]/hooks",
        "http://224.0.0.1/hooks",
    ],
)
def test_an_endpoint_at_an_internal_address_is_refused_when_registered(url):
    with pytest.raises(ValidationFailed) as error:
        webhook_endpoint_create(url=url, event_types=[])

    assert error.value.field_errors == {
        "url": ["Refused: the endpoint's address is not a public internet address."]
    }
    assert not WebhookEndpoint.objects.exists()


def test_a_name_that_resolves_inside_is_refused_when_sending(
    receiver, account, settings, monkeypatch
):
    # Given an endpoint whose public-looking name later resolves to the loopback receiver
    webhook_endpoint_create(
        url=receiver.url.replace("127.0.0.1", "hooks.example.com"), event_types=["invoice.issued"]
    )
    port = receiver.server.server_address[1]
    real = socket.getaddrinfo
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, *args, **kwargs: (
            real("127.0.0.1", port, type=socket.SOCK_STREAM)
            if host == "hooks.example.com"
            else real(host, *args, **kwargs)
        ),
    )
    settings.REMIT_WEBHOOK_ALLOWED_NETWORKS = []
    buy_credits_by_invoice(account, 150)

    # When the delivery is attempted
    delivery = webhook_deliver(delivery_id=WebhookDelivery.objects.get().pk)

    # Then nothing was sent, and the attempt says why
    assert receiver.requests == []
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, None)
    assert (
        delivery.last_error == "Refused: the endpoint's address is not a public internet address."
    )

    # With the range allowed, the name is used as resolved then (Host says the name)
    settings.REMIT_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    delivery = webhook_deliver(delivery_id=delivery.pk)
    assert delivery.status == "delivered"
    assert receiver.requests[0]["headers"]["Host"] == f"hooks.example.com:{port}"


def test_a_redirect_is_not_followed(receiver, account):
    # Given an endpoint that answers 302 to another (internal) address
    elsewhere = Receiver()
    receiver.statuses = [302]
    receiver.location = elsewhere.url
    webhook_endpoint_create(url=receiver.url, event_types=["invoice.issued"])
    buy_credits_by_invoice(account, 150)

    delivery = webhook_deliver(delivery_id=WebhookDelivery.objects.get().pk)

    # Then the 302 is the attempt's answer: a failed attempt, retried later; nothing went there
    assert (delivery.status, delivery.last_status_code) == ("pending", 302)
    assert delivery.last_error == "HTTP 302 (redirects are not followed)"
    assert len(receiver.requests) == 1
    assert elsewhere.requests == []
    elsewhere.server.shutdown()


def test_a_refused_port_and_a_silent_close_read_the_same(account, settings):
    # Given two endpoints on loopback (allowed here): nothing listens on one; the other accepts
    # and closes without answering
    settings.REMIT_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    closer = socket.socket()
    closer.bind(("127.0.0.1", 0))
    closer.listen()

    def close_each() -> None:
        while True:
            try:
                connection, _ = closer.accept()
            except OSError:
                return
            connection.recv(65536)
            connection.close()

    threading.Thread(target=close_each, daemon=True).start()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        refused_port = probe.getsockname()[1]
    webhook_endpoint_create(
        url=f"http://127.0.0.1:{refused_port}/h", event_types=["invoice.issued"]
    )
    webhook_endpoint_create(
        url=f"http://127.0.0.1:{closer.getsockname()[1]}/h", event_types=["invoice.issued"]
    )
    buy_credits_by_invoice(account, 150)

    errors = {
        webhook_deliver(delivery_id=pk).last_error
        for pk in WebhookDelivery.objects.values_list("pk", flat=True)
    }
    closer.close()

    assert errors == {"Could not connect, or the connection closed without an answer."}


def test_a_disabled_endpoint_gets_no_further_attempts(receiver, account):
    created = webhook_endpoint_create(url=receiver.url, event_types=["invoice.issued"])
    buy_credits_by_invoice(account, 150)
    WebhookEndpoint.objects.filter(pk=created.endpoint.pk).update(is_active=False)

    delivery = webhook_deliver(delivery_id=WebhookDelivery.objects.get().pk)

    assert receiver.requests == []
    assert (delivery.status, delivery.attempts) == ("failed", 0)
    assert delivery.last_error == "The endpoint is disabled; no further attempts."
