"""Idempotent POSTs (I2): the same ``Idempotency-Key`` and request replays the first response;
the same key with another request is refused (422); while the first is still running, 409.

The claim is one INSERT on a unique index, so two parallel requests with one key cannot both run
(PostgreSQL and SQLite alike)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from remit.integrations.models import ApiKey, IdempotencyRecord

KEEP_FOR = timedelta(hours=24)
MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class Claimed:
    record: IdempotencyRecord


@dataclass(frozen=True)
class Replay:
    status_code: int
    content_type: str
    body: bytes


@dataclass(frozen=True)
class Refused:
    status_code: int
    code: str
    message: str


def request_fingerprint(*, method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def idempotency_claim(*, api_key: ApiKey, key: str, fingerprint: str) -> Claimed | Replay | Refused:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        return Refused(
            400, "validation_error", f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters."
        )
    # Records older than KEEP_FOR may be reused.
    IdempotencyRecord.objects.filter(
        api_key=api_key, key=key, created_at__lt=timezone.now() - KEEP_FOR
    ).delete()
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                api_key=api_key, key=key, fingerprint=fingerprint
            )
        return Claimed(record)
    except IntegrityError:
        existing = IdempotencyRecord.objects.filter(api_key=api_key, key=key).first()
    if existing is None:  # the first request failed and released the key meanwhile
        return Refused(409, "idempotency_request_in_flight", "Retry the request.")
    if existing.fingerprint != fingerprint:
        return Refused(
            422,
            "idempotency_key_reused",
            "This Idempotency-Key was used for a different request.",
        )
    if existing.state == IdempotencyRecord.State.IN_FLIGHT:
        return Refused(
            409,
            "idempotency_request_in_flight",
            "A request with this Idempotency-Key is still being processed; retry later.",
        )
    assert existing.status_code is not None
    return Replay(existing.status_code, existing.content_type, bytes(existing.body))


def idempotency_complete(
    *, record: IdempotencyRecord, status_code: int, content_type: str, body: bytes
) -> None:
    """Store the response to replay. Server errors (5xx) release the key instead, so the
    client may retry the request."""
    if status_code >= 500:
        IdempotencyRecord.objects.filter(pk=record.pk).delete()
        return
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        state=IdempotencyRecord.State.COMPLETED,
        status_code=status_code,
        content_type=content_type[:100],
        body=body,
        completed_at=timezone.now(),
    )


def idempotency_release(*, record: IdempotencyRecord) -> None:
    IdempotencyRecord.objects.filter(pk=record.pk).delete()
