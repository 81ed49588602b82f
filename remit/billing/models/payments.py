from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from remit.billing.models.accounts import Account
from remit.billing.models.documents import Invoice
from remit.billing.models.orders import Order


class Payment(models.Model):
    """Money received for an order (P7). An order is paid by exactly one payment of its full
    total; partial and over-payments are refused, so the unique constraint on ``order`` also
    stops a second payment of the same order."""

    class Method(models.TextChoices):
        CARD = "card", "Card"
        BANK_TRANSFER = "bank_transfer", "Bank transfer"
        OTHER = "other", "Other"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="payments")
    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="payment")
    # The invoice this payment settled; NULL for a card payment made before any invoice.
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="payments"
    )
    method = models.CharField(max_length=20, choices=Method.choices)
    # Who processed it ("stripe", "manual") and their id for it; (provider, reference) is unique
    # so a payment reported twice is recorded once.
    provider = models.CharField(max_length=30)
    provider_reference = models.CharField(max_length=255)
    # Minor units of ``currency``; always equal to the order's total.
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    received_at = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_reference"], name="payment_provider_reference_unique"
            ),
            models.CheckConstraint(condition=Q(amount_minor__gte=0), name="payment_not_negative"),
        ]

    def __str__(self) -> str:
        return f"Payment {self.provider} {self.provider_reference}"


class CreditLedgerEntry(models.Model):
    """One movement of an account's credits (P6).

    Credits bought by invoice first appear as pending (``pending_delta`` > 0); payment moves them
    to the balance, a void cancels them. Balance and pending are the sums of the deltas. Each
    order has at most one entry of each kind, which makes granting idempotent.
    """

    class Kind(models.TextChoices):
        PURCHASE_PENDING = "purchase_pending", "Purchased, pending payment"
        PURCHASE_GRANTED = "purchase_granted", "Granted on payment"
        PURCHASE_CANCELLED = "purchase_cancelled", "Cancelled before payment"
        ADJUSTMENT = "adjustment", "Adjustment"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="credit_entries")
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, null=True, blank=True, related_name="credit_entries"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # Change to pending credits and to the usable balance, in credits (whole numbers).
    pending_delta = models.BigIntegerField(default=0)
    balance_delta = models.BigIntegerField(default=0)
    memo = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "credit ledger entries"
        constraints = [
            models.UniqueConstraint(
                fields=["order", "kind"],
                condition=Q(order__isnull=False),
                name="credit_entry_once_per_order_and_kind",
            ),
        ]


class CheckoutSession(models.Model):
    """One attempt to pay an order online (P1, P7) through the payment platform.

    ``provider`` is ``stripe`` (Stripe Checkout) or ``test`` (Remit's own test-mode page, used when
    no Stripe key is configured). The customer is sent to ``url``; on return or notification the
    session is completed, which records the payment exactly once.
    """

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="checkouts")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="checkouts")
    # Set when an outstanding invoice is paid online; NULL for an order bought by card.
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="checkouts"
    )
    provider = models.CharField(max_length=30)
    # Random public id used in Remit's own URLs (test page, return URL).
    token = models.CharField(max_length=64, unique=True)
    # The platform's id (Stripe ``cs_...``); the token again for the test provider.
    provider_reference = models.CharField(max_length=255)
    url = models.URLField(max_length=2000)
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_reference"], name="checkout_provider_reference_unique"
            ),
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="checkout_positive"),
        ]

    def __str__(self) -> str:
        return f"Checkout {self.token} for order {self.order_id}"
