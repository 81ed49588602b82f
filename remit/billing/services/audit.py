from __future__ import annotations

from typing import Any

from django.db import models

from remit.billing.actors import Actor
from remit.billing.models import Account, AuditEvent
from remit.integrations.services.webhooks import EVENT_TYPES as WEBHOOK_EVENT_TYPES
from remit.integrations.services.webhooks import webhook_event_record


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
    """Append one audit event; call it inside the transaction that makes the change. Changes
    the operator subscribes to (I3) are written to the webhook outbox in the same transaction."""
    event = AuditEvent.objects.create(
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
    if action in WEBHOOK_EVENT_TYPES:
        webhook_event_record(
            type=action,
            object_type=event.subject_type,
            object_id=event.subject_id,
            account_id=account.pk if account else None,
            data={"changes": event.new_values, "actor": actor.kind},
        )
    return event
