"""What the operator's systems use to drive Remit (I1, I2): API keys and idempotency records."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class ApiKey(models.Model):
    """A key for the REST API. The secret is shown once at creation; only its SHA-256 is kept.
    ``prefix`` (public, unique) finds the row; scopes: read, write, staff."""

    class Scope(models.TextChoices):
        READ = "read", "Read"
        WRITE = "write", "Write"
        STAFF = "staff", "Staff (account options)"

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    secret_sha256 = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class IdempotencyRecord(models.Model):
    """The first response to a POST with an ``Idempotency-Key`` (I2), replayed for the same key
    and body; kept at least 24 hours."""

    class State(models.TextChoices):
        IN_FLIGHT = "in_flight", "In flight"
        COMPLETED = "completed", "Completed"

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # SHA-256 of method, path and body: the same key with another request is refused.
    fingerprint = models.CharField(max_length=64)
    state = models.CharField(max_length=10, choices=State.choices, default=State.IN_FLIGHT)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(default=b"")
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["api_key", "key"], name="idempotency_key_per_api_key"),
            models.CheckConstraint(
                condition=Q(state="in_flight") | Q(status_code__isnull=False),
                name="idempotency_completed_has_status",
            ),
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]

    def __str__(self) -> str:
        return f"{self.key} ({self.state})"


class WebhookEndpoint(models.Model):
    """Where the operator wants to hear about changes (I3). ``secret`` signs every delivery; it is
    shown once at creation (and kept, since signing needs it)."""

    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=64)
    # Event types to send; empty means every type.
    event_types = models.JSONField(default=list, blank=True)
    description = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.url


class WebhookEvent(models.Model):
    """One change, written in the transaction that made it (the outbox)."""

    event_id = models.CharField(max_length=40, unique=True)
    type = models.CharField(max_length=60)
    account_id = models.BigIntegerField(null=True, blank=True)
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["type", "created_at"], name="webhook_event_type")]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class WebhookDelivery(models.Model):
    """One event to one endpoint: attempts, the last answer, and when to try next."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    # Set while a worker is sending; another worker leaves the delivery alone until it passes.
    lease_until = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="webhook_delivery_once")
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_due")]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint}"


class StripeEvent(models.Model):
    """The inbox of Stripe's webhook deliveries (I4): one row per Stripe event id, however often
    Stripe sends it; ``outcome`` says what Remit did with it."""

    class Outcome(models.TextChoices):
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored"
        FAILED = "failed", "Failed (needs a look)"

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    deliveries = models.PositiveIntegerField(default=1)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class ApiRequestCount(models.Model):
    """Requests of one API key in one fixed one-minute window (I1's rate limit), counted with one
    upsert per request when no Redis cache is configured; old windows are pruned."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    # The window's start, in whole minutes since the Unix epoch (UTC).
    minute = models.BigIntegerField()
    # Requests in the window so far; ≥ 1.
    count = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["api_key", "minute"], name="api_request_count_minute")
        ]

    def __str__(self) -> str:
        return f"{self.api_key_id} @ {self.minute}: {self.count}"
