"""Short ways to reach a state through the real services (never by writing rows directly)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from remit.billing.actors import Actor
from remit.billing.models import Account, AuditEvent, DocumentCounter, Invoice, Order, Payment
from remit.billing.services.orders import (
    order_card_payment_record,
    order_place,
    order_record_from_platform,
)
from remit.billing.services.payments import invoice_payment_record

ACTOR = Actor.system()


def buy_credits_by_invoice(account: Account, credits: int = 100, **kwargs: Any) -> Invoice:
    order = order_place(
        account=account,
        actor=ACTOR,
        kind=Order.Kind.CREDITS,
        payment_method=Order.PaymentMethod.INVOICE,
        credits=credits,
        **kwargs,
    )
    return order.invoice


def buy_plan_by_invoice(account: Account, plan_size: Any, term_months: int = 3) -> Order:
    return order_place(
        account=account,
        actor=ACTOR,
        kind=Order.Kind.SUBSCRIPTION,
        payment_method=Order.PaymentMethod.INVOICE,
        plan_size=plan_size,
        term_months=term_months,
    )


def buy_credits_by_card(account: Account, credits: int = 50) -> Order:
    return order_place(
        account=account,
        actor=ACTOR,
        kind=Order.Kind.CREDITS,
        payment_method=Order.PaymentMethod.CARD,
        credits=credits,
    )


def record_platform_order(
    account: Account,
    *,
    reference: str,
    received_at: datetime | None = None,
    credits: int = 10,
    amount_minor: int | None = None,
    is_free_trial: bool = False,
) -> Order:
    """A credits order paid on Stripe and recorded by Remit (``in_<reference>``,
    ``pi_<reference>``), at $1.00 a credit unless ``amount_minor`` says otherwise."""
    return order_record_from_platform(
        account=account,
        actor=Actor.payment_platform("stripe"),
        external_reference=f"in_{reference}",
        kind=Order.Kind.CREDITS,
        credits=credits,
        is_free_trial=is_free_trial,
        provider="stripe",
        provider_reference=f"pi_{reference}",
        amount_minor=credits * 100 if amount_minor is None else amount_minor,
        currency="USD",
        received_at=received_at or timezone.now(),
    )


def pay_card_order(order: Order, reference: str = "pi_1") -> Payment:
    return order_card_payment_record(
        order=order,
        actor=Actor.payment_platform("stripe"),
        provider="stripe",
        provider_reference=reference,
        amount_minor=order.total_minor,
        currency=order.currency,
        received_at=timezone.now(),
    )


def pay_invoice(invoice: Invoice, reference: str | None = None) -> Payment:
    return invoice_payment_record(
        invoice=invoice,
        actor=ACTOR,
        method="bank_transfer",
        provider="manual",
        provider_reference=reference or f"BANK-{invoice.number}",
        amount_minor=invoice.total_minor,
        currency=invoice.currency,
        received_at=timezone.now(),
    )


def table_counts() -> dict[str, int]:
    """Row counts of everything a failed rule must leave untouched."""
    from remit.billing.models import (
        BillingProfile,
        CreditLedgerEntry,
        CreditNote,
        InvoiceRevision,
        PurchaseOrderNumber,
    )

    models = (
        Order,
        Invoice,
        InvoiceRevision,
        CreditNote,
        Payment,
        CreditLedgerEntry,
        AuditEvent,
        BillingProfile,
        PurchaseOrderNumber,
    )
    counts = {model.__name__: model.objects.count() for model in models}
    counts["issued_numbers"] = sum(DocumentCounter.objects.values_list("last_sequence", flat=True))
    return counts
