from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from remit.billing.models.accounts import Account
from remit.billing.models.documents import ImmutableModel


class AuditEvent(ImmutableModel):
    """A state change: who did it, when, why, and the values before and after (append-only)."""

    class ActorKind(models.TextChoices):
        USER = "user", "User"
        STAFF = "staff", "Staff"
        API_KEY = "api_key", "API key"
        PAYMENT_PLATFORM = "payment_platform", "Payment platform"
        SYSTEM = "system", "System"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor_kind = models.CharField(max_length=20, choices=ActorKind.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Who acted, readable even after the user is deleted (email, key name, "stripe", "system").
    actor_label = models.CharField(max_length=200)
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, null=True, blank=True, related_name="audit_events"
    )
    # Dotted name, e.g. "invoice.voided".
    action = models.CharField(max_length=60)
    subject_type = models.CharField(max_length=40)
    subject_id = models.CharField(max_length=64)
    reason = models.TextField(blank=True)
    old_values = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    new_values = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["subject_type", "subject_id"], name="audit_subject"),
            models.Index(fields=["account", "created_at"], name="audit_account_time"),
        ]

    def __str__(self) -> str:
        return f"{self.action} · {self.subject_type} {self.subject_id}"
