"""Buying credits and plans (P1–P6), and card payments for orders (P1, I4, UC6)."""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction

from remit.billing.actors import Actor
from remit.billing.locks import account_lock, order_lock
from remit.billing.models import (
    Account,
    BillingProfile,
    Order,
    Payment,
    PlanSize,
    PurchaseOrderNumber,
)
from remit.billing.services.audit import audit_batch
from remit.billing.services.billing_profiles import billing_profile_save
from remit.billing.services.credits import credits_pending_add
from remit.billing.services.invoices import invoice_issue
from remit.billing.services.invoicing_rules import (
    credit_invoice_minimum_check,
    trial_invoicing_check,
    unpaid_invoice_limit_check,
)
from remit.billing.services.payment_platform import card_payments_check
from remit.billing.services.payments import (
    payment_amount_check,
    payment_create,
    payment_existing,
    payment_input_clean,
)
from remit.billing.services.po_numbers import po_number_register
from remit.billing.services.quotes import (
    Quote,
    order_create,
    quote_credits,
    quote_plan,
    tax_decision_for,
)
from remit.billing.services.validation import (
    BillingProfileInput,
    FieldErrors,
    billing_profile_input_clean,
    idempotency_key_clean,
    notes_clean,
    po_number_clean,
)
from remit.core.errors import (
    BillingProfileRequired,
    ExternalOrderConflict,
    OrderNotPayable,
    ValidationFailed,
)


def _quote(
    *,
    account: Account,
    kind: str,
    payment_method: str,
    credits: int | None,
    plan_size: PlanSize | None,
    term_months: int | None,
    period_start: date | None,
) -> Quote:
    if kind == Order.Kind.CREDITS:
        return quote_credits(
            currency=account.currency, credits=credits or 0, language=account.language
        )
    if kind == Order.Kind.SUBSCRIPTION:
        errors = FieldErrors()
        if plan_size is None:
            errors.add("plan_size", "Choose a plan size.")
        if term_months is None:
            errors.add("term_months", "Choose a term.")
        errors.raise_if_any()
        assert plan_size is not None
        assert term_months is not None
        return quote_plan(
            currency=account.currency,
            plan_size=plan_size,
            term_months=term_months,
            payment_method=payment_method,
            period_start=period_start,
            language=account.language,
        )
    raise ValidationFailed({"kind": ["Choose credits or a subscription."]})


def order_place(
    *,
    account: Account,
    actor: Actor,
    kind: str,
    payment_method: str,
    source: str = Order.Source.USER_CENTER,
    credits: int | None = None,
    plan_size: PlanSize | None = None,
    term_months: int | None = None,
    period_start: date | None = None,
    billing_profile: BillingProfileInput | None = None,
    po_number: str | None = None,
    notes: str = "",
    idempotency_key: str | None = None,
) -> Order:
    """Buy credits (P1) or a plan (P5), by card or with *Create an Invoice*.

    By card: the order waits for the payment platform (see :func:`order_card_payment_record`);
    no invoice rule applies. By invoice: the trial gate (P3), the credit minimum (P2), a billing
    profile and the unpaid-invoice limit (P4) are checked under the account lock, then the order
    and its outstanding invoice are written in one transaction. ``billing_profile`` (what the
    customer typed in the dialog) is saved as the account's profile. ``po_number=None`` uses the
    account's default PO number; ``""`` means none.

    ``idempotency_key`` (one per purchase form or API request): if the account already placed
    an order with this key, that order is returned and nothing else happens — checked first,
    under the account lock, so a double submit creates one order even when the first one used
    up the account's last unpaid-invoice slot.
    """
    errors = FieldErrors()
    if payment_method not in Order.PaymentMethod.values:
        errors.add("payment_method", "Choose card or invoice.")
    if source not in Order.Source.values or source == Order.Source.PAYMENT_PLATFORM:
        errors.add("source", "Not a source that places orders.")
    cleaned_po = po_number_clean(errors, "po_number", po_number) if po_number is not None else None
    cleaned_notes = notes_clean(errors, "notes", notes)
    key = idempotency_key_clean(errors, "idempotency_key", idempotency_key)
    errors.raise_if_any()
    cleaned_profile = billing_profile_input_clean(billing_profile) if billing_profile else None
    quote = _quote(
        account=account,
        kind=kind,
        payment_method=payment_method,
        credits=credits,
        plan_size=plan_size,
        term_months=term_months,
        period_start=period_start,
    )
    by_invoice = payment_method == Order.PaymentMethod.INVOICE
    if not by_invoice:
        card_payments_check()
    with transaction.atomic(), audit_batch():
        account = account_lock(account.pk)
        if key is not None:
            replayed = Order.objects.filter(account=account, idempotency_key=key).first()
            if replayed is not None:
                return replayed
        if by_invoice:
            trial_invoicing_check(account)
            if kind == Order.Kind.CREDITS:
                credit_invoice_minimum_check(currency=quote.currency, net_minor=quote.net_minor)
        if cleaned_profile is not None:
            profile: BillingProfile | None = billing_profile_save(
                account=account, data=cleaned_profile, actor=actor
            )
        else:
            # Read after the lock, never in the locking statement: on PostgreSQL a statement
            # that waited for the lock would see the profile as it was before the wait.
            profile = BillingProfile.objects.filter(account=account).first()
        if by_invoice:
            if profile is None:
                raise BillingProfileRequired("A billing address is required to create an invoice.")
            unpaid_invoice_limit_check(account)
        if cleaned_po is None:
            # The account's default PO number goes on invoices only (a card order has none).
            default = (
                PurchaseOrderNumber.objects.filter(account=account, is_default=True)
                .values_list("value", flat=True)
                .first()
                if by_invoice
                else None
            )
            cleaned_po = default or ""
        elif cleaned_po:
            po_number_register(account=account, value=cleaned_po, actor=actor)
        order = order_create(
            account=account,
            quote=quote,
            tax=tax_decision_for(account=account, profile=profile),
            payment_method=payment_method,
            source=source,
            status=(
                Order.Status.AWAITING_INVOICE_PAYMENT
                if by_invoice
                else Order.Status.AWAITING_CARD_PAYMENT
            ),
            actor=actor,
            po_number=cleaned_po,
            notes=cleaned_notes,
            idempotency_key=key,
        )
        if by_invoice:
            assert profile is not None
            credits_pending_add(order=order)
            invoice_issue(account=account, order=order, profile=profile, paid=False, actor=actor)
        return order


def order_card_payment_record(
    *,
    order: Order,
    actor: Actor,
    provider: str,
    provider_reference: str,
    amount_minor: int,
    currency: str,
    received_at: datetime,
) -> Payment:
    """The payment platform reports a card payment for an order (P1).

    Exactly once per ``(provider, provider_reference)``: a repeated report returns the first
    payment. The order is paid and its credits granted; if the account has a billing profile its
    paid invoice is issued now, otherwise the first time the customer clicks *Invoice* (UC3).
    """
    reference = payment_input_clean(
        method=Payment.Method.CARD,
        provider=provider,
        provider_reference=provider_reference,
        received_at=received_at,
    )
    with transaction.atomic():
        account = account_lock(order.account_id)
        order = order_lock(order.pk)
        existing = payment_existing(provider=provider, provider_reference=reference, order=order)
        if existing is not None:
            return existing
        if order.status != Order.Status.AWAITING_CARD_PAYMENT:
            raise OrderNotPayable(
                f"Order {order.pk} is {order.get_status_display().lower()}.",
                details={"order": order.pk, "status": order.status},
            )
        payment_amount_check(order=order, amount_minor=amount_minor, currency=currency)
        payment = payment_create(
            account=account,
            order=order,
            invoice=None,
            actor=actor,
            method=Payment.Method.CARD,
            provider=provider,
            provider_reference=reference,
            amount_minor=amount_minor,
            received_at=received_at,
        )
        profile = BillingProfile.objects.filter(account=account).first()
        if profile is not None and not order.is_free_trial:
            payment.invoice = invoice_issue(
                account=account, order=order, profile=profile, paid=True, actor=actor
            )
            payment.save(update_fields=["invoice"])
        return payment


def order_record_from_platform(
    *,
    account: Account,
    actor: Actor,
    external_reference: str,
    kind: str,
    is_free_trial: bool,
    provider: str,
    provider_reference: str,
    amount_minor: int,
    currency: str,
    received_at: datetime,
    credits: int | None = None,
    plan_size: PlanSize | None = None,
    term_months: int | None = None,
    period_start: date | None = None,
) -> Order:
    """Record an order the payment platform already charged (and, for free-trial orders,
    already invoiced — UC6). Idempotent on ``external_reference``."""
    errors = FieldErrors()
    if not external_reference or len(external_reference) > 255:
        errors.add("external_reference", "Give the payment platform's id (at most 255 characters).")
    errors.raise_if_any()
    quote = _quote(
        account=account,
        kind=kind,
        payment_method=Order.PaymentMethod.CARD,
        credits=credits,
        plan_size=plan_size,
        term_months=term_months,
        period_start=period_start,
    )
    with transaction.atomic():
        account = account_lock(account.pk)
        existing = Order.objects.filter(
            source=Order.Source.PAYMENT_PLATFORM, external_reference=external_reference
        ).first()
        if existing is not None:
            if existing.account_id != account.pk:
                raise ExternalOrderConflict(
                    f"{external_reference} was recorded for another account.",
                    details={"external_reference": external_reference},
                )
            return existing
        profile = BillingProfile.objects.filter(account=account).first()
        order = order_create(
            account=account,
            quote=quote,
            tax=tax_decision_for(account=account, profile=profile),
            payment_method=Order.PaymentMethod.CARD,
            source=Order.Source.PAYMENT_PLATFORM,
            status=Order.Status.AWAITING_CARD_PAYMENT,
            actor=actor,
        )
        order.is_free_trial = is_free_trial
        order.external_reference = external_reference
        order.save(update_fields=["is_free_trial", "external_reference"])
        # Same transaction: if the payment is refused (amount, reference) no order is left behind.
        order_card_payment_record(
            order=order,
            actor=actor,
            provider=provider,
            provider_reference=provider_reference,
            amount_minor=amount_minor,
            currency=currency,
            received_at=received_at,
        )
        order.refresh_from_db()
        return order
