from __future__ import annotations

from datetime import date

from django.db.models import Q, QuerySet

from remit.billing.models import Account
from remit.documents.models import Document


def document_list_for_period(*, account: Account, start: date, end: date) -> QuerySet[Document]:
    """Stored documents of an account whose business date (invoice or credit note issue date,
    payment date for receipts) lies in ``start``..``end`` inclusive, in issue order."""
    return (
        Document.objects.filter(account=account, status=Document.Status.STORED)
        .filter(
            Q(kind=Document.Kind.INVOICE, invoice__issue_date__range=(start, end))
            | Q(kind=Document.Kind.CREDIT_NOTE, credit_note__issue_date__range=(start, end))
            | Q(kind=Document.Kind.RECEIPT, payment__received_at__date__range=(start, end))
        )
        .select_related("invoice", "credit_note__invoice", "payment")
        .order_by("created_at", "id")
    )


def document_latest_for_invoice(*, account: Account, invoice_id: int) -> Document | None:
    """The stored PDF of an invoice's newest revision (what the *Invoice* button downloads)."""
    return (
        Document.objects.filter(account=account, invoice_id=invoice_id, kind=Document.Kind.INVOICE)
        .order_by("-invoice_revision")
        .first()
    )


def document_po_number(document: Document) -> str:
    """The PO number the document shows: its invoice revision's (a receipt: the revision the
    invoice had when paid, its last); a credit note: its invoice's."""
    if document.kind == Document.Kind.CREDIT_NOTE:
        assert document.credit_note is not None
        return document.credit_note.invoice.po_number
    invoice = document.invoice
    assert invoice is not None
    revision = invoice.revisions.filter(
        revision=document.invoice_revision or invoice.revision
    ).first()
    return revision.po_number if revision else invoice.po_number
