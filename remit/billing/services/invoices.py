"""Issuing invoices and credit notes, voiding, and reissuing (UC3, D1, D2, X1, X2)."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from remit.billing.actors import Actor
from remit.billing.locks import account_lock, invoice_lock, order_lock
from remit.billing.models import (
    Account,
    BillingProfile,
    CreditNote,
    CreditNoteLine,
    CreditNoteTaxLine,
    Invoice,
    InvoiceLine,
    InvoiceRevision,
    InvoiceTaxLine,
    Order,
    Payment,
    PlanSize,
)
from remit.billing.services.audit import audit_record
from remit.billing.services.billing_profiles import billing_profile_save
from remit.billing.services.credits import credits_pending_add, credits_pending_cancel
from remit.billing.services.invoicing_rules import credit_invoice_minimum_check
from remit.billing.services.numbering import Series, document_number_take
from remit.billing.services.quotes import (
    order_create,
    quote_credits,
    quote_plan,
    tax_decision_for,
)
from remit.billing.services.snapshots import buyer_snapshot, seller_snapshot
from remit.billing.services.validation import (
    REASON_MAX_LENGTH,
    BillingProfileInput,
    FieldErrors,
    billing_profile_input_clean,
    clean_text,
)
from remit.core.config import billing_settings
from remit.core.errors import (
    BillingProfileRequired,
    InvoiceNotVoidable,
    OrderInvoicedByPaymentPlatform,
    OrderNotPaid,
    ValidationFailed,
)
from remit.documents.services.archive import (
    document_request_credit_note,
    document_request_invoice,
)

VOID_REASON_CODES = (
    "customer_request",
    "order_changed",
    "duplicate",
    "billing_error",
    "uncollectible",
    "other",
)


def _support_contact() -> dict[str, str]:
    config = billing_settings()
    return {"support_email": config.support_email, "support_phone": config.support_phone}


def invoice_issue(
    *,
    account: Account,
    order: Order,
    profile: BillingProfile,
    paid: bool,
    actor: Actor,
    replaces: Invoice | None = None,
) -> Invoice:
    """Number, snapshot and write the invoice for ``order``.

    Call inside the transaction that holds the account lock. The amounts are the order's: the
    invoice never re-prices what was sold.
    """
    if order.is_free_trial:
        raise OrderInvoicedByPaymentPlatform(
            "Orders paid during the free trial are invoiced by the payment platform.",
            details=_support_contact(),
        )
    today = timezone.localdate()
    number = document_number_take(series=Series.INVOICE, issue_date=today)
    terms = timedelta(days=0 if paid else billing_settings().payment_terms_days)
    invoice = Invoice.objects.create(
        account=account,
        order=order,
        series=number.series,
        year=number.year,
        sequence=number.sequence,
        number=number.number,
        status=Invoice.Status.PAID if paid else Invoice.Status.ISSUED,
        issue_date=today,
        due_date=today + terms,
        currency=order.currency,
        language=account.language,
        subtotal_minor=order.net_minor,
        tax_minor=order.tax_minor,
        total_minor=order.total_minor,
        seller=seller_snapshot(),
        buyer=buyer_snapshot(account=account, profile=profile),
        po_number=order.po_number,
        notes=order.notes,
        replaces=replaces,
        paid_at=order.paid_at if paid else None,
    )
    InvoiceLine.objects.create(
        invoice=invoice,
        position=1,
        description=order.description,
        quantity=order.quantity,
        unit_price_minor=order.unit_price_minor,
        discount_minor=order.discount_minor,
        net_minor=order.net_minor,
        tax_category=order.tax_category,
        tax_rate=order.tax_rate,
    )
    InvoiceTaxLine.objects.create(
        invoice=invoice,
        category=order.tax_category,
        rate=order.tax_rate,
        taxable_minor=order.net_minor,
        tax_minor=order.tax_minor,
        note=order.tax_note,
    )
    InvoiceRevision.objects.create(
        invoice=invoice, revision=1, po_number=invoice.po_number, notes=invoice.notes
    )
    document_request_invoice(invoice=invoice, email_kind="invoice_issued", profile=profile)
    audit_record(
        actor=actor,
        action="invoice.issued",
        subject=invoice,
        account=account,
        new_values={
            "number": invoice.number,
            "status": invoice.status,
            "total_minor": invoice.total_minor,
            "currency": invoice.currency,
            "order": order.pk,
            "replaces": replaces.number if replaces else None,
        },
    )
    return invoice


def invoice_for_order(
    *, order: Order, actor: Actor, billing_profile: BillingProfileInput | None = None
) -> Invoice:
    """The *Invoice* button (UC3): the order's invoice, issuing it first if needed.

    A card-paid order gets its (paid) invoice the first time this is called with a billing
    profile on the account; ``billing_profile`` is what the customer typed in the gate dialog.
    """
    cleaned = billing_profile_input_clean(billing_profile) if billing_profile else None
    with transaction.atomic():
        account = account_lock(order.account_id)
        order = order_lock(order.pk)
        if order.is_free_trial:
            raise OrderInvoicedByPaymentPlatform(
                "This order was paid during the free trial; its invoice was emailed to you by "
                "the payment platform.",
                details=_support_contact(),
            )
        existing = Invoice.objects.filter(order=order).first()
        if existing is not None:
            return existing
        if order.status != Order.Status.PAID:
            raise OrderNotPaid(
                "This order has not been paid yet, so there is no invoice for it.",
                details={"order": order.pk, "status": order.status},
            )
        if cleaned is not None:
            profile = billing_profile_save(account=account, data=cleaned, actor=actor)
        else:
            profile_or_none = BillingProfile.objects.filter(account=account).first()
            if profile_or_none is None:
                raise BillingProfileRequired(
                    "Add your billing information to get an invoice.", details={"order": order.pk}
                )
            profile = profile_or_none
        invoice = invoice_issue(
            account=account, order=order, profile=profile, paid=True, actor=actor
        )
        Payment.objects.filter(order=order, invoice__isnull=True).update(invoice=invoice)
        return invoice


def _reason_clean(reason_code: str, reason: str) -> str:
    errors = FieldErrors()
    if reason_code not in VOID_REASON_CODES:
        errors.add("reason_code", f"Choose one of: {', '.join(VOID_REASON_CODES)}.")
    text = clean_text(errors, "reason", reason, max_length=REASON_MAX_LENGTH, multiline=True)
    errors.raise_if_any()
    return text


def _credit_note_issue(
    *, account: Account, invoice: Invoice, actor: Actor, reason_code: str, reason: str
) -> CreditNote:
    today = timezone.localdate()  # read once: number year and issue date must agree
    number = document_number_take(series=Series.CREDIT_NOTE, issue_date=today)
    credit_note = CreditNote.objects.create(
        account=account,
        invoice=invoice,
        series=number.series,
        year=number.year,
        sequence=number.sequence,
        number=number.number,
        issue_date=today,
        currency=invoice.currency,
        language=invoice.language,
        subtotal_minor=invoice.subtotal_minor,
        tax_minor=invoice.tax_minor,
        total_minor=invoice.total_minor,
        seller=invoice.seller,
        buyer=invoice.buyer,
        reason_code=reason_code,
        reason=reason,
    )
    CreditNoteLine.objects.bulk_create(
        CreditNoteLine(
            credit_note=credit_note,
            **{
                name: getattr(line, name)
                for name in (
                    "position",
                    "description",
                    "quantity",
                    "unit_price_minor",
                    "discount_minor",
                    "net_minor",
                    "tax_category",
                    "tax_rate",
                )
            },
        )
        for line in invoice.lines.all()
    )
    CreditNoteTaxLine.objects.bulk_create(
        CreditNoteTaxLine(
            credit_note=credit_note,
            category=tax_line.category,
            rate=tax_line.rate,
            taxable_minor=tax_line.taxable_minor,
            tax_minor=tax_line.tax_minor,
            note=tax_line.note,
        )
        for tax_line in invoice.tax_lines.all()
    )
    document_request_credit_note(credit_note=credit_note)
    audit_record(
        actor=actor,
        action="credit_note.issued",
        subject=credit_note,
        account=account,
        reason=reason,
        new_values={"number": credit_note.number, "invoice": invoice.number},
    )
    return credit_note


def _invoice_void_locked(
    *, account: Account, invoice: Invoice, actor: Actor, reason_code: str, reason: str
) -> CreditNote:
    if invoice.status != Invoice.Status.ISSUED:
        raise InvoiceNotVoidable(
            f"Invoice {invoice.number} is {invoice.get_status_display().lower()} and cannot be "
            "voided.",
            details={"invoice": invoice.pk, "status": invoice.status},
        )
    order = order_lock(invoice.order_id)  # before the credit-note counter: locks go down
    credit_note = _credit_note_issue(
        account=account, invoice=invoice, actor=actor, reason_code=reason_code, reason=reason
    )
    invoice.status = Invoice.Status.VOID
    invoice.voided_at = timezone.now()
    invoice.void_reason_code = reason_code
    invoice.void_reason = reason
    invoice.save(update_fields=["status", "voided_at", "void_reason_code", "void_reason"])
    order.status = Order.Status.CANCELLED
    order.cancelled_at = invoice.voided_at
    order.save(update_fields=["status", "cancelled_at"])
    credits_pending_cancel(order=order)
    audit_record(
        actor=actor,
        action="invoice.voided",
        subject=invoice,
        account=account,
        reason=reason,
        old_values={"status": Invoice.Status.ISSUED},
        new_values={
            "status": Invoice.Status.VOID,
            "reason_code": reason_code,
            "credit_note": credit_note.number,
        },
    )
    return credit_note


def invoice_void(*, invoice: Invoice, actor: Actor, reason_code: str, reason: str) -> CreditNote:
    """X2: void an unpaid invoice; a credit note with its own number cancels it in full.

    Paid invoices are not voided here (that needs a refund); the error says so.
    """
    text = _reason_clean(reason_code, reason)
    with transaction.atomic():
        account = account_lock(invoice.account_id)
        locked = invoice_lock(invoice.pk)
        return _invoice_void_locked(
            account=account, invoice=locked, actor=actor, reason_code=reason_code, reason=text
        )


def invoice_reissue(
    *,
    invoice: Invoice,
    actor: Actor,
    reason: str,
    credits: int | None = None,
    plan_size: PlanSize | None = None,
    term_months: int | None = None,
) -> Invoice:
    """X2: change the credit amount or the subscription of an unpaid invoice.

    The invoice is voided (with its credit note) and a replacement order and invoice are issued
    that point back at the originals; PO number and notes carry over. The replacement keeps the
    P2 minimum; it does not count against the P4 limit, as it replaces an unpaid invoice.
    """
    text = _reason_clean("order_changed", reason)
    with transaction.atomic():
        account = account_lock(invoice.account_id)
        invoice = invoice_lock(invoice.pk)
        old_order = order_lock(invoice.order_id)
        if invoice.status != Invoice.Status.ISSUED:
            raise InvoiceNotVoidable(
                f"Invoice {invoice.number} is {invoice.get_status_display().lower()}; only "
                "unpaid invoices can be changed.",
                details={"invoice": invoice.pk, "status": invoice.status},
            )
        if old_order.kind == Order.Kind.CREDITS:
            if credits is None:
                raise ValidationFailed({"credits": ["Enter the new number of credits."]})
            quote = quote_credits(
                currency=old_order.currency, credits=credits, language=account.language
            )
            credit_invoice_minimum_check(currency=quote.currency, net_minor=quote.net_minor)
        else:
            size = plan_size or old_order.plan_size
            assert size is not None  # subscription orders always have a plan size (constraint)
            quote = quote_plan(
                currency=old_order.currency,
                plan_size=size,
                term_months=term_months or old_order.term_months or 0,
                payment_method=Order.PaymentMethod.INVOICE,
                period_start=old_order.period_start,
                language=account.language,
            )
        profile = BillingProfile.objects.get(account=account)
        _invoice_void_locked(
            account=account, invoice=invoice, actor=actor, reason_code="order_changed", reason=text
        )
        new_order = order_create(
            account=account,
            quote=quote,
            tax=tax_decision_for(account=account, profile=profile),
            payment_method=Order.PaymentMethod.INVOICE,
            source=Order.Source.BACK_OFFICE,
            status=Order.Status.AWAITING_INVOICE_PAYMENT,
            actor=actor,
            po_number=invoice.po_number,
            notes=invoice.notes,
            replaces=old_order,
        )
        credits_pending_add(order=new_order)
        return invoice_issue(
            account=account,
            order=new_order,
            profile=profile,
            paid=False,
            actor=actor,
            replaces=invoice,
        )
