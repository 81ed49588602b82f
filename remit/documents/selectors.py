from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Q, QuerySet

from remit.billing.models import Account, CreditNote, Invoice, InvoiceRevision, Payment
from remit.core.dates import local_day
from remit.documents.models import Document


def document_list_for_period(
    *, account: Account, start: date, end: date, status: str = Document.Status.STORED
) -> QuerySet[Document]:
    """Documents (stored, or of ``status``) of an account whose business date (invoice or credit
    note issue date, payment date for receipts) lies in ``start``..``end`` inclusive, in issue
    order."""
    return (
        Document.objects.filter(account=account, status=status)
        .filter(
            Q(kind=Document.Kind.INVOICE, invoice__issue_date__range=(start, end))
            | Q(kind=Document.Kind.CREDIT_NOTE, credit_note__issue_date__range=(start, end))
            | Q(kind=Document.Kind.RECEIPT, payment__received_at__date__range=(start, end))
        )
        .select_related("invoice", "credit_note__invoice", "payment")
        .order_by("created_at", "id")
    )


def document_list_claimable(*, now: datetime) -> QuerySet[Document]:
    """Pending documents no worker's claim holds at ``now`` (none, or lapsed)."""
    return Document.objects.filter(status=Document.Status.PENDING).filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    )


def document_invoice_revision(document: Document) -> InvoiceRevision | None:
    """The invoice revision a document shows: its own for an invoice PDF, the last one (the
    revision the invoice had when paid) for a receipt, none for a credit note. Reads
    ``invoice.revisions`` through the prefetch cache when the caller prefetched it."""
    invoice = document.invoice
    if invoice is None or document.kind == Document.Kind.CREDIT_NOTE:
        return None
    wanted = document.invoice_revision or invoice.revision
    return next((r for r in invoice.revisions.all() if r.revision == wanted), None)


def document_po_number(document: Document) -> str:
    """The PO number the document shows (a credit note: its invoice's current one)."""
    if document.kind == Document.Kind.CREDIT_NOTE:
        assert document.credit_note is not None
        return document.credit_note.invoice.po_number
    revision = document_invoice_revision(document)
    assert document.invoice is not None
    return revision.po_number if revision else document.invoice.po_number


@dataclass(frozen=True)
class InvoiceDocument:
    """One file an account received about an invoice, for the invoice's page (X2, UC4)."""

    document: Document
    # The document's business date: the revision's issue day, the credit note's issue date, the
    # payment's day; in the account's time zone.
    day: date


def document_list_for_invoice(*, invoice: Invoice) -> list[InvoiceDocument]:
    """Every document of an invoice: its revisions, its credit note and its payment receipts,
    in the order they were issued (one query)."""
    documents = (
        Document.objects.filter(
            Q(kind=Document.Kind.INVOICE, invoice=invoice)
            | Q(kind=Document.Kind.CREDIT_NOTE, credit_note__invoice=invoice)
            | Q(kind=Document.Kind.RECEIPT, invoice=invoice)
        )
        .select_related("credit_note", "payment")
        .order_by("created_at", "id")
    )
    time_zone = invoice.account.time_zone
    rows = []
    for document in documents:
        if document.kind == Document.Kind.CREDIT_NOTE:
            assert document.credit_note is not None
            day = document.credit_note.issue_date
        elif document.kind == Document.Kind.RECEIPT:
            assert document.payment is not None
            day = local_day(document.payment.received_at, time_zone=time_zone)
        elif document.invoice_revision == 1:
            day = invoice.issue_date
        else:
            day = local_day(document.created_at, time_zone=time_zone)
        rows.append(InvoiceDocument(document=document, day=day))
    return rows


def document_current_revision(
    *, documents: list[InvoiceDocument], invoice: Invoice
) -> Document | None:
    """Among an invoice's ``documents``, the PDF of its current revision (the one to download)."""
    return next(
        (
            row.document
            for row in documents
            if row.document.kind == Document.Kind.INVOICE
            and row.document.invoice_revision == invoice.revision
        ),
        None,
    )


def document_years_for_account(*, account: Account) -> list[int]:
    """Years with at least one document to export (UC7), newest first: the years of invoice and
    credit-note issue dates and of receipts' payment days, as the export periods count them."""
    years: set[int] = set()
    years.update(
        Invoice.objects.filter(account=account, documents__isnull=False)
        .values_list("issue_date__year", flat=True)
        .distinct()
    )
    years.update(
        CreditNote.objects.filter(account=account, document__isnull=False)
        .values_list("issue_date__year", flat=True)
        .distinct()
    )
    years.update(
        Payment.objects.filter(account=account, receipt__isnull=False)
        .values_list("received_at__year", flat=True)
        .distinct()
    )
    return sorted(years, reverse=True)
