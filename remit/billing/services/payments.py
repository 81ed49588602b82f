"""Recording money received (P7, I4): exactly once per provider reference."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from remit.billing.actors import Actor
from remit.billing.locks import account_lock, invoice_lock, order_lock
from remit.billing.models import Account, Invoice, Order, Payment
from remit.billing.services.audit import audit_record
from remit.billing.services.credits import credits_grant
from remit.billing.services.validation import FieldErrors, clean_text
from remit.core.errors import (
    InvoiceNotPayable,
    PaymentAmountMismatch,
    PaymentReferenceConflict,
)
from remit.core.money import minor_to_decimal_string
from remit.documents.services.archive import document_request_receipt

# A payment dated further in the future than this is a typing mistake.
FUTURE_TOLERANCE = timedelta(days=1)


def payment_input_clean(
    *, method: str, provider: str, provider_reference: str, received_at: datetime
) -> str:
    errors = FieldErrors()
    if method not in Payment.Method.values:
        errors.add("method", f"Choose one of: {', '.join(Payment.Method.values)}.")
    if not provider or len(provider) > 30 or not provider.replace("_", "").isalnum():
        errors.add("provider", "Use a short name of letters, digits and underscores.")
    reference = clean_text(
        errors, "provider_reference", provider_reference, max_length=255, required=True
    )
    if timezone.is_naive(received_at):
        errors.add("received_at", "Give a date and time with a time zone.")
    elif received_at > timezone.now() + FUTURE_TOLERANCE:
        errors.add("received_at", "A payment cannot be received in the future.")
    errors.raise_if_any()
    return reference


def payment_existing(*, provider: str, provider_reference: str, order: Order) -> Payment | None:
    """The payment already recorded under this reference for ``order``, if any; a reference
    already used for another order is a conflict. Call while holding the account lock."""
    existing = Payment.objects.filter(
        provider=provider, provider_reference=provider_reference
    ).first()
    if existing is None:
        return None
    if existing.order_id != order.pk:
        raise PaymentReferenceConflict(
            f"Reference {provider_reference} was already recorded for another payment.",
            details={"provider": provider, "provider_reference": provider_reference},
        )
    return existing


def payment_amount_check(*, order: Order, amount_minor: int, currency: str) -> None:
    """Partial and over-payments are refused: a payment settles exactly one order's total."""
    if currency != order.currency or amount_minor != order.total_minor:
        expected = minor_to_decimal_string(order.total_minor, order.currency)
        raise PaymentAmountMismatch(
            f"The payment must be exactly {expected} {order.currency}.",
            details={
                "expected_minor": order.total_minor,
                "expected_currency": order.currency,
                "received_minor": amount_minor,
                "received_currency": currency,
            },
        )


def payment_create(
    *,
    account: Account,
    order: Order,
    invoice: Invoice | None,
    actor: Actor,
    method: str,
    provider: str,
    provider_reference: str,
    amount_minor: int,
    received_at: datetime,
) -> Payment:
    """Write the payment, mark the order paid and grant its credits; call with the account and
    order locked, after :func:`payment_amount_check`."""
    payment = Payment.objects.create(
        account=account,
        order=order,
        invoice=invoice,
        method=method,
        provider=provider,
        provider_reference=provider_reference,
        amount_minor=amount_minor,
        currency=order.currency,
        received_at=received_at,
        recorded_by_id=actor.user_id,
    )
    order.status = Order.Status.PAID
    order.paid_at = received_at
    order.save(update_fields=["status", "paid_at"])
    credits_grant(order=order)
    audit_record(
        actor=actor,
        action="payment.recorded",
        subject=payment,
        account=account,
        new_values={
            "order": order.pk,
            "invoice": invoice.number if invoice else None,
            "method": method,
            "provider": provider,
            "provider_reference": provider_reference,
            "amount_minor": amount_minor,
            "currency": order.currency,
        },
    )
    return payment


def invoice_payment_record(
    *,
    invoice: Invoice,
    actor: Actor,
    method: str,
    provider: str,
    provider_reference: str,
    amount_minor: int,
    currency: str,
    received_at: datetime,
) -> Payment:
    """Mark an unpaid invoice paid (bank transfer recorded by finance, or an online payment).

    Recording the same provider reference again returns the first payment unchanged.
    """
    reference = payment_input_clean(
        method=method,
        provider=provider,
        provider_reference=provider_reference,
        received_at=received_at,
    )
    with transaction.atomic():
        account = account_lock(invoice.account_id)
        invoice = invoice_lock(invoice.pk)
        order = order_lock(invoice.order_id)
        existing = payment_existing(provider=provider, provider_reference=reference, order=order)
        if existing is not None:
            return existing
        if invoice.status != Invoice.Status.ISSUED:
            raise InvoiceNotPayable(
                f"Invoice {invoice.number} is {invoice.get_status_display().lower()}.",
                details={"invoice": invoice.pk, "status": invoice.status},
            )
        payment_amount_check(order=order, amount_minor=amount_minor, currency=currency)
        payment = payment_create(
            account=account,
            order=order,
            invoice=invoice,
            actor=actor,
            method=method,
            provider=provider,
            provider_reference=reference,
            amount_minor=amount_minor,
            received_at=received_at,
        )
        invoice.status = Invoice.Status.PAID
        invoice.paid_at = received_at
        invoice.save(update_fields=["status", "paid_at"])
        document_request_receipt(payment=payment, invoice=invoice)
        audit_record(
            actor=actor,
            action="invoice.paid",
            subject=invoice,
            account=account,
            old_values={"status": Invoice.Status.ISSUED},
            new_values={"status": Invoice.Status.PAID, "payment": payment.pk},
        )
        return payment
