"""The audit trail: one row per change, written in the transaction that makes it (Zulip's
rule); changes the operator subscribes to are also written to the webhook outbox (I3)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import models

from remit.billing.actors import Actor
from remit.billing.models import Account, AuditEvent
from remit.integrations.services.webhooks import WebhookEventInput, webhook_events_record

# Events recorded inside :func:`audit_batch`, written when the block ends.
_batch: ContextVar[list[AuditEvent] | None] = ContextVar("audit_batch", default=None)


def audit_record(
    *,
    actor: Actor,
    action: str,
    subject: models.Model,
    account: Account | None,
    reason: str = "",
    old_values: dict[str, Any] | None = None,
    new_values: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit event; call it inside the transaction that makes the change. Inside
    :func:`audit_batch` the event is written when the block ends (its ``pk`` is set then)."""
    event = AuditEvent(
        actor_kind=actor.kind,
        actor_user_id=actor.user_id,
        actor_label=actor.label,
        account=account,
        action=action,
        subject_type=subject._meta.model_name or type(subject).__name__.lower(),
        subject_id=str(subject.pk),
        reason=reason,
        old_values=old_values or {},
        new_values=new_values or {},
    )
    batch = _batch.get()
    if batch is None:
        _audit_write([event])
    else:
        batch.append(event)
    return event


@contextmanager
def audit_batch() -> Iterator[None]:
    """Write the audit events recorded in the block together when it ends: one insert, and
    one read of the webhook endpoints (issuing an invoice records two events).

    Use inside the transaction of the changes. If the block raises, nothing is written; a nested
    block hands its events to the outer one when it ends normally. Code inside that rolls back
    a savepoint and carries on must wrap the undone part in its own ``audit_batch``.
    """
    outer = _batch.get()
    events: list[AuditEvent] = []
    token = _batch.set(events)
    try:
        yield
    finally:
        _batch.reset(token)
    # Only a block that ends normally passes its events on: a nested block that raised (and
    # whose savepoint was rolled back) leaves nothing behind even if the outer one carries on.
    if outer is not None:
        outer.extend(events)
    else:
        _audit_write(events)


def _audit_write(events: list[AuditEvent]) -> None:
    if not events:
        return
    AuditEvent.objects.bulk_create(events)
    webhook_events_record(
        events=[
            WebhookEventInput(
                type=event.action,
                object_type=event.subject_type,
                object_id=event.subject_id,
                account_id=event.account_id,
                data={"changes": event.new_values, "actor": event.actor_kind},
            )
            for event in events
        ]
    )
