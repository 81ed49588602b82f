"""Customers asking for a change to an issued invoice, or its void (X4)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

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


RESPONSE_MAX_LENGTH = 2000


def change_request_close(
    *, change_request: ChangeRequest, actor: Actor, status: str, response: str
) -> ChangeRequest:
    """Support answers a request (X4): done or declined, with a message the customer sees on the
    invoice's row. Closing an already closed request is refused."""
    errors = FieldErrors()
    if status not in (ChangeRequest.Status.DONE, ChangeRequest.Status.DECLINED):
        errors.add("status", "Choose done or declined.")
    cleaned = clean_text(
        errors, "response", response, max_length=RESPONSE_MAX_LENGTH, required=True, multiline=True
    )
    errors.raise_if_any()
    with transaction.atomic():
        account_lock(change_request.account_id)
        locked = ChangeRequest.objects.select_for_update().get(pk=change_request.pk)
        if locked.status != ChangeRequest.Status.OPEN:
            raise ChangeRequestNotAllowed(
                f"Change request {locked.pk} is already {locked.get_status_display().lower()}.",
                details={"change_request": locked.pk, "status": locked.status},
            )
        locked.status = status
        locked.response = cleaned
        locked.closed_at = timezone.now()
        locked.closed_by_id = actor.user_id
        locked.save(update_fields=["status", "response", "closed_at", "closed_by"])
        audit_record(
            actor=actor,
            action="change_request.closed",
            subject=locked.invoice,
            account=locked.account,
            reason=cleaned,
            old_values={"status": ChangeRequest.Status.OPEN},
            new_values={"change_request": locked.pk, "status": status},
        )
        return locked


def change_request_assign(
    *, change_request: ChangeRequest, actor: Actor, assignee_id: int | None
) -> ChangeRequest:
    """Take an open request in the queue (or hand it back with ``None``), audited."""
    with transaction.atomic():
        locked = ChangeRequest.objects.select_for_update().get(pk=change_request.pk)
        if locked.status != ChangeRequest.Status.OPEN:
            raise ChangeRequestNotAllowed(
                f"Change request {locked.pk} is already {locked.get_status_display().lower()}.",
                details={"change_request": locked.pk, "status": locked.status},
            )
        previous = locked.assigned_to_id
        locked.assigned_to_id = assignee_id
        locked.save(update_fields=["assigned_to"])
        audit_record(
            actor=actor,
            action="change_request.assigned",
            subject=locked.invoice,
            account=locked.account,
            old_values={"assigned_to": previous},
            new_values={"change_request": locked.pk, "assigned_to": assignee_id},
        )
        return locked
