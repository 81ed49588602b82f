"""PO numbers in Settings › Billing (X3), and applying one to unpaid invoices as revisions."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from remit.billing.actors import Actor
from remit.billing.locks import account_lock
from remit.billing.models import Account, Invoice, InvoiceRevision, PurchaseOrderNumber
from remit.billing.services.audit import audit_record
from remit.billing.services.validation import FieldErrors, po_number_clean
from remit.core.errors import InvoiceNotRevisable, PurchaseOrderNumberExists, ValidationFailed
from remit.documents.services.archive import document_request_invoice


@dataclass(frozen=True)
class PurchaseOrderNumberChange:
    po_number: PurchaseOrderNumber
    # Unpaid invoices that received a new revision carrying this PO number.
    revised_invoices: list[Invoice] = field(default_factory=list)


def _value_clean(value: str) -> str:
    errors = FieldErrors()
    cleaned = po_number_clean(errors, "value", value)
    if not cleaned and "value" not in errors.errors:
        errors.add("value", "This field is required.")
    errors.raise_if_any()
    return cleaned


def po_number_register(*, account: Account, value: str, actor: Actor) -> PurchaseOrderNumber:
    """Add ``value`` to the account's PO numbers if it is new (a PO typed while ordering);
    call with the account locked."""
    existing = PurchaseOrderNumber.objects.filter(account=account, value=value).first()
    if existing is not None:
        return existing
    po = PurchaseOrderNumber.objects.create(account=account, value=value)
    audit_record(
        actor=actor,
        action="po_number.added",
        subject=po,
        account=account,
        new_values={"value": value},
    )
    return po


def _default_set(*, account: Account, po: PurchaseOrderNumber, actor: Actor) -> None:
    previous = PurchaseOrderNumber.objects.filter(account=account, is_default=True).exclude(
        pk=po.pk
    )
    old = [p.value for p in previous]
    previous.update(is_default=False)
    if not po.is_default:
        po.is_default = True
        po.save(update_fields=["is_default"])
        audit_record(
            actor=actor,
            action="po_number.default_set",
            subject=po,
            account=account,
            old_values={"default": old[0] if old else None},
            new_values={"default": po.value},
        )


def invoice_po_number_revise(
    *, account: Account, invoice: Invoice, po_number: str, actor: Actor, reason: str
) -> Invoice:
    """A new revision of an unpaid invoice with ``po_number``: same number, same amounts.
    Call with the account locked."""
    if invoice.status != Invoice.Status.ISSUED:
        raise InvoiceNotRevisable(
            f"Invoice {invoice.number} is {invoice.get_status_display().lower()}; only unpaid "
            "invoices get a new PO number.",
            details={"invoice": invoice.pk, "status": invoice.status},
        )
    old = {"po_number": invoice.po_number, "revision": invoice.revision}
    invoice.po_number = po_number
    invoice.revision += 1
    invoice.save(update_fields=["po_number", "revision"])
    InvoiceRevision.objects.create(
        invoice=invoice,
        revision=invoice.revision,
        po_number=po_number,
        notes=invoice.notes,
        reason=reason,
    )
    document_request_invoice(invoice=invoice, email_kind="invoice_revised")
    audit_record(
        actor=actor,
        action="invoice.revised",
        subject=invoice,
        account=account,
        reason=reason,
        old_values=old,
        new_values={"po_number": po_number, "revision": invoice.revision},
    )
    return invoice


def _apply_to_unpaid(*, account: Account, value: str, actor: Actor) -> list[Invoice]:
    invoices = (
        Invoice.objects.select_for_update()
        .filter(account=account, status=Invoice.Status.ISSUED)
        .exclude(po_number=value)
        .order_by("sequence")
    )
    return [
        invoice_po_number_revise(
            account=account,
            invoice=invoice,
            po_number=value,
            actor=actor,
            reason="PO number applied to unpaid invoices",
        )
        for invoice in invoices
    ]


def po_number_add(
    *,
    account: Account,
    actor: Actor,
    value: str,
    make_default: bool = False,
    apply_to_unpaid: bool = False,
) -> PurchaseOrderNumberChange:
    cleaned = _value_clean(value)
    with transaction.atomic():
        account = account_lock(account.pk)
        if PurchaseOrderNumber.objects.filter(account=account, value=cleaned).exists():
            raise PurchaseOrderNumberExists(
                f"PO number {cleaned} is already on your list.", details={"value": cleaned}
            )
        po = po_number_register(account=account, value=cleaned, actor=actor)
        if make_default:
            _default_set(account=account, po=po, actor=actor)
        revised = (
            _apply_to_unpaid(account=account, value=cleaned, actor=actor) if apply_to_unpaid else []
        )
        return PurchaseOrderNumberChange(po_number=po, revised_invoices=revised)


def po_number_update(
    *,
    po_number: PurchaseOrderNumber,
    actor: Actor,
    value: str,
    make_default: bool = False,
    apply_to_unpaid: bool = False,
) -> PurchaseOrderNumberChange:
    """Edit a PO number. Invoices already carrying the old value keep it unless
    ``apply_to_unpaid`` revises the unpaid ones."""
    cleaned = _value_clean(value)
    with transaction.atomic():
        account = account_lock(po_number.account_id)
        po = PurchaseOrderNumber.objects.select_for_update().get(pk=po_number.pk)
        if po.value != cleaned:
            if PurchaseOrderNumber.objects.filter(account=account, value=cleaned).exists():
                raise PurchaseOrderNumberExists(
                    f"PO number {cleaned} is already on your list.", details={"value": cleaned}
                )
            old_value = po.value
            po.value = cleaned
            try:
                with transaction.atomic():
                    po.save(update_fields=["value"])
            except IntegrityError as error:  # pragma: no cover - guarded by the lock above
                raise ValidationFailed({"value": ["This PO number already exists."]}) from error
            audit_record(
                actor=actor,
                action="po_number.updated",
                subject=po,
                account=account,
                old_values={"value": old_value},
                new_values={"value": cleaned},
            )
        if make_default:
            _default_set(account=account, po=po, actor=actor)
        revised = (
            _apply_to_unpaid(account=account, value=cleaned, actor=actor) if apply_to_unpaid else []
        )
        return PurchaseOrderNumberChange(po_number=po, revised_invoices=revised)


def po_number_delete(*, po_number: PurchaseOrderNumber, actor: Actor) -> None:
    """Remove a PO number from the list; invoices that carry it are not changed."""
    with transaction.atomic():
        account = account_lock(po_number.account_id)
        audit_record(
            actor=actor,
            action="po_number.deleted",
            subject=po_number,
            account=account,
            old_values={"value": po_number.value, "is_default": po_number.is_default},
        )
        PurchaseOrderNumber.objects.filter(pk=po_number.pk).delete()
