from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from remit.billing.models.accounts import Account
from remit.billing.models.catalogue import PlanSize
from remit.billing.models.documents import TaxCategory


class Order(models.Model):
    """Something an account bought: credits or a subscription period.

    The order carries the agreed price (net, tax, total); an invoice for it copies these
    amounts, so what was charged by card and what the invoice says can never disagree.
    """

    class Kind(models.TextChoices):
        CREDITS = "credits", "Credits"
        SUBSCRIPTION = "subscription", "Subscription"

    class Source(models.TextChoices):
        USER_CENTER = "user_center", "User Center"
        API = "api", "API"
        PAYMENT_PLATFORM = "payment_platform", "Payment platform"
        BACK_OFFICE = "back_office", "Back office"

    class PaymentMethod(models.TextChoices):
        CARD = "card", "Card"
        INVOICE = "invoice", "Invoice"

    class Status(models.TextChoices):
        AWAITING_CARD_PAYMENT = "awaiting_card_payment", "Awaiting card payment"
        AWAITING_INVOICE_PAYMENT = "awaiting_invoice_payment", "Invoice outstanding"
        PAID = "paid", "Paid"
        CANCELLED = "cancelled", "Cancelled"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="orders")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    source = models.CharField(max_length=20, choices=Source.choices)
    payment_method = models.CharField(max_length=10, choices=PaymentMethod.choices)
    status = models.CharField(max_length=30, choices=Status.choices)
    # UC6: paid during a free trial and invoiced by the payment platform; never gets a Remit
    # invoice and is never listed in Orders & Invoices.
    is_free_trial = models.BooleanField(default=False)
    currency = models.CharField(max_length=3)
    # Credits granted by this order when paid (credit purchases, or credit-based plans).
    credits = models.PositiveBigIntegerField(default=0)
    plan_size = models.ForeignKey(PlanSize, on_delete=models.PROTECT, null=True, blank=True)
    term_months = models.PositiveSmallIntegerField(null=True, blank=True)
    period_start = models.DateField(null=True, blank=True)
    # Last day of the subscription period (inclusive).
    period_end = models.DateField(null=True, blank=True)
    description = models.CharField(max_length=300)
    # The single priced line: quantity x unit price - discount = net (all minor units).
    quantity = models.PositiveBigIntegerField()
    unit_price_minor = models.BigIntegerField()
    discount_minor = models.BigIntegerField(default=0)
    net_minor = models.BigIntegerField()
    # Tax decided at order time from the buyer (D4): rate in percent, category as EN 16931.
    tax_category = models.CharField(max_length=2, choices=TaxCategory.choices)
    tax_rate = models.DecimalField(max_digits=5, decimal_places=2)
    tax_note = models.CharField(max_length=300, blank=True)
    tax_minor = models.BigIntegerField()
    # net + tax, what the customer pays.
    total_minor = models.BigIntegerField()
    po_number = models.CharField("PO number", max_length=64, blank=True)
    notes = models.TextField(blank=True)
    # X2: the order this one replaces after a support change (credit amount or plan).
    replaces = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="replaced_by"
    )
    # The payment platform's id for this purchase (e.g. a Stripe invoice id); unique per source.
    external_reference = models.CharField(max_length=255, null=True, blank=True)
    # A key the client sends once per purchase form (or API request): placing an order again with
    # the same key returns this order instead of creating a second one. Unique per account.
    idempotency_key = models.CharField(max_length=64, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "-created_at"], name="order_account_recent")]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_reference"],
                condition=Q(external_reference__isnull=False),
                name="order_external_reference_unique",
            ),
            models.UniqueConstraint(
                fields=["account", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="order_idempotency_key_unique",
            ),
            models.CheckConstraint(
                condition=Q(unit_price_minor__gte=0)
                & Q(discount_minor__gte=0)
                & Q(net_minor__gte=0)
                & Q(tax_minor__gte=0),
                name="order_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(net_minor=F("quantity") * F("unit_price_minor") - F("discount_minor")),
                name="order_net_is_quantity_times_price_less_discount",
            ),
            models.CheckConstraint(
                condition=Q(total_minor=F("net_minor") + F("tax_minor")),
                name="order_total_is_net_plus_tax",
            ),
            models.CheckConstraint(
                condition=Q(kind="credits", credits__gt=0)
                | Q(kind="subscription", plan_size__isnull=False, term_months__isnull=False),
                name="order_kind_fields",
            ),
            models.CheckConstraint(
                condition=Q(is_free_trial=False)
                | Q(source="payment_platform", payment_method="card"),
                name="order_free_trial_from_platform_by_card",
            ),
        ]

    def __str__(self) -> str:
        return self.description
