"""Customers asking for a change to an issued invoice, or its void (X4)."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from remit.billing.actors import Actor
from remit.billing.locks import account_lock, invoice_lock
from remit.billing.models import ChangeRequest, Invoice
from remit.billing.services.audit import audit_record
from remit.billing.services.validation import FieldErrors, clean_text
from remit.core.errors import ChangeRequestNotAllowed, ChangeRequestOpen

REASON_MAX_LENGTH = 2000


def change_request_create(
    *, invoice: Invoice, actor: Actor, kind: str, reason: str
) -> ChangeRequest:
    """Open a request for support. One open request per invoice (a second is refused with
    ``change_request_open``); a void invoice cannot be changed. The account and invoice locks
    serialise parallel requests, and the partial unique index is the last line of defence."""
    errors = FieldErrors()
    if kind not in ChangeRequest.Kind.values:
        errors.add("kind", "Choose a change or a void.")
    cleaned = clean_text(
        errors, "reason", reason, max_length=REASON_MAX_LENGTH, required=True, multiline=True
    )
    errors.raise_if_any()
    with transaction.atomic():
        account = account_lock(invoice.account_id)
        invoice = invoice_lock(invoice.pk)
        if invoice.status == Invoice.Status.VOID:
            raise ChangeRequestNotAllowed(
                f"Invoice {invoice.number} is void and cannot be changed.",
                details={"invoice": invoice.pk},
            )
        if ChangeRequest.objects.filter(invoice=invoice, status=ChangeRequest.Status.OPEN).exists():
            raise ChangeRequestOpen(
                f"A request for invoice {invoice.number} is already waiting for support.",
                details={"invoice": invoice.pk},
            )
        try:
            with transaction.atomic():
                request = ChangeRequest.objects.create(
                    account=account,
                    invoice=invoice,
                    kind=kind,
                    reason=cleaned,
                    requested_by_id=actor.user_id,
                )
        except IntegrityError as error:
            raise ChangeRequestOpen(
                f"A request for invoice {invoice.number} is already waiting for support.",
                details={"invoice": invoice.pk},
            ) from error
        audit_record(
            actor=actor,
            action="change_request.created",
            subject=invoice,
            account=account,
            reason=cleaned,
            new_values={"change_request": request.pk, "kind": kind},
        )
        return request
