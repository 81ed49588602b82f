from __future__ import annotations

from typing import Any

from django.db import models

from remit.billing.actors import Actor
from remit.billing.models import Account, AuditEvent


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
    """Append one audit event; call it inside the transaction that makes the change."""
    return AuditEvent.objects.create(
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
