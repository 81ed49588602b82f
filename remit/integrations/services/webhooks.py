"""Outgoing webhooks (I3): an outbox written in the transaction of the change, delivered by a
task with an HMAC-SHA256 signature, retried with exponential backoff, logged, redeliverable.

Signature header: ``Remit-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>``.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from remit.core.validation import FieldErrors, clean_text
from remit.integrations.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from remit.integrations.services.outbound import host_refusal, outbound_post

logger = logging.getLogger(__name__)

EVENT_TYPES = (
    "order.created",
    "invoice.issued",
    "invoice.revised",
    "invoice.paid",
    "invoice.voided",
    "credit_note.issued",
    "payment.recorded",
)
MAX_ATTEMPTS = 10
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=6)
# Seconds an attempt may wait to connect, and for each read of the answer.
SEND_TIMEOUT = 5
ENDPOINT_DISABLED = "The endpoint is disabled; no further attempts."
LEASE = timedelta(seconds=SEND_TIMEOUT * 3)
SIGNATURE_HEADER = "Remit-Signature"


@dataclass(frozen=True)
class CreatedEndpoint:
    endpoint: WebhookEndpoint
    secret: str


def webhook_endpoint_create(
    *, url: str, event_types: list[str], description: str = ""
) -> CreatedEndpoint:
    errors = FieldErrors()
    parts = urlsplit(url or "")
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.username
        or parts.password
        or len(url) > 500
    ):
        errors.add("url", "Give an http(s) URL of at most 500 characters, without credentials.")
    elif refusal := host_refusal(parts.hostname or ""):
        errors.add("url", refusal)
    unknown = sorted(set(event_types) - set(EVENT_TYPES))
    if unknown:
        errors.add("event_types", f"Unknown event types: {', '.join(unknown)}.")
    cleaned = clean_text(errors, "description", description, max_length=200)
    errors.raise_if_any()
    secret = f"whsec_{secrets.token_urlsafe(32)}"
    endpoint = WebhookEndpoint.objects.create(
        url=url, secret=secret, event_types=sorted(set(event_types)), description=cleaned
    )
    return CreatedEndpoint(endpoint=endpoint, secret=secret)


def _enqueue(delivery_ids: list[int], run_after: datetime | None = None) -> None:
    from remit.integrations.tasks import webhook_deliver_task

    task = webhook_deliver_task.using(run_after=run_after) if run_after else webhook_deliver_task

    def enqueue(delivery_id: int) -> None:
        task.enqueue(delivery_id)

    for delivery_id in delivery_ids:
        transaction.on_commit(functools.partial(enqueue, delivery_id))


@dataclass(frozen=True)
class WebhookEventInput:
    """A change to announce: its event type, the object it happened to, and what changed."""

    type: str
    object_type: str
    object_id: str
    account_id: int | None
    data: dict[str, Any]


def webhook_events_record(*, events: list[WebhookEventInput]) -> list[WebhookEvent]:
    """Write each change's event and one delivery per endpoint subscribed to its type; call
    inside the transaction of the changes (the audit trail does). Sending starts after commit.
    The endpoints are read once (one query when none is subscribed: nothing is written).
    Returns the events written."""
    events = [event for event in events if event.type in EVENT_TYPES]
    if not events:
        return []
    active = list(WebhookEndpoint.objects.filter(is_active=True))
    if not active:
        return []
    now = timezone.now()
    written = []
    for change in events:
        endpoints = [e for e in active if not e.event_types or change.type in e.event_types]
        if not endpoints:
            continue
        event_id = f"evt_{secrets.token_hex(12)}"
        payload = json.loads(
            json.dumps(
                {
                    "id": event_id,
                    "type": change.type,
                    "created": now.isoformat().replace("+00:00", "Z"),
                    "account_id": change.account_id,
                    "data": {"object": change.object_type, "id": change.object_id, **change.data},
                },
                cls=DjangoJSONEncoder,
            )
        )
        event = WebhookEvent.objects.create(
            event_id=event_id, type=change.type, account_id=change.account_id, payload=payload
        )
        deliveries = WebhookDelivery.objects.bulk_create(
            WebhookDelivery(endpoint=endpoint, event=event, next_attempt_at=now)
            for endpoint in endpoints
        )
        _enqueue([delivery.pk for delivery in deliveries])
        written.append(event)
    return written


def webhook_signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def _retry_delay(attempts: int) -> timedelta:
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), MAX_RETRY)


def _post(endpoint: WebhookEndpoint, event: WebhookEvent) -> tuple[int | None, str]:
    body = json.dumps(event.payload, separators=(",", ":")).encode()
    result = outbound_post(
        url=endpoint.url,
        body=body,
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Remit-Webhooks/1",
            "Remit-Event-Id": event.event_id,
            "Remit-Event-Type": event.type,
            SIGNATURE_HEADER: webhook_signature(endpoint.secret, int(time.time()), body),
        },
        timeout=SEND_TIMEOUT,
    )
    return result.status_code, result.error


def webhook_deliver(*, delivery_id: int) -> WebhookDelivery:
    """Send one delivery if it is due and nobody else is sending it; 2xx is delivered, anything
    else is retried later (up to MAX_ATTEMPTS), then failed."""
    now = timezone.now()
    claimed = (
        WebhookDelivery.objects.filter(
            pk=delivery_id, status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now
        )
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + LEASE)
    )
    delivery = WebhookDelivery.objects.select_related("endpoint", "event").get(pk=delivery_id)
    if not claimed:
        return delivery
    if not delivery.endpoint.is_active:
        # A disabled endpoint gets no further attempts; the delivery says why it stopped.
        WebhookDelivery.objects.filter(pk=delivery_id).update(
            status=WebhookDelivery.Status.FAILED, last_error=ENDPOINT_DISABLED, lease_until=None
        )
        delivery.refresh_from_db()
        return delivery
    status_code, error = _post(delivery.endpoint, delivery.event)
    attempts = delivery.attempts + 1
    finished = timezone.now()
    update: dict[str, Any] = {
        "attempts": attempts,
        "last_attempt_at": finished,
        "last_status_code": status_code,
        "last_error": error,
        "lease_until": None,
    }
    if status_code is not None and 200 <= status_code < 300:
        update.update(status=WebhookDelivery.Status.DELIVERED, delivered_at=finished)
    elif attempts >= MAX_ATTEMPTS:
        update.update(status=WebhookDelivery.Status.FAILED)
    else:
        update.update(next_attempt_at=finished + _retry_delay(attempts))
    WebhookDelivery.objects.filter(pk=delivery_id).update(**update)
    if update.get("next_attempt_at"):
        with transaction.atomic():
            _enqueue([delivery_id], run_after=update["next_attempt_at"])
    delivery.refresh_from_db()
    return delivery


def webhook_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send again now, whatever happened before (support's or the operator's request)."""
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.PENDING,
            next_attempt_at=timezone.now(),
            lease_until=None,
            attempts=0,
        )
        _enqueue([delivery.pk])
    delivery.refresh_from_db()
    return delivery


def webhooks_recover(*, older_than: timedelta = timedelta(minutes=2)) -> int:
    """Deliveries due for longer than ``older_than`` with no live lease (a worker died, or a
    task was lost) are sent now. Returns how many were tried."""
    now = timezone.now()
    due = WebhookDelivery.objects.filter(
        status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now - older_than
    ).filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
    tried = 0
    for delivery_id in list(due.values_list("pk", flat=True)[:500]):
        webhook_deliver(delivery_id=delivery_id)
        tried += 1
    return tried
