"""Bulk downloads (UC7): every document of a period as one ZIP, and a CSV for accounting.

Both are generators that stream: rows come from the database in chunks and files from storage in
blocks, so 10,000 documents never sit in memory at once.
"""

from __future__ import annotations

import csv
import zipfile
from collections.abc import Iterable, Iterator
from datetime import date

from django.core.files.storage import default_storage
from django.utils import timezone

from remit.billing.models import Account, CreditNote, Invoice
from remit.core.money import minor_to_decimal_string
from remit.documents.models import Document
from remit.documents.selectors import document_list_for_period, document_po_number
from remit.documents.services.archive import documents_store

CHUNK_SIZE = 64 * 1024
# Cells starting with these are formulas to a spreadsheet (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")


class _StreamBuffer:
    """A write-only file for zipfile that hands written bytes to the generator."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._offset = 0

    def write(self, data: bytes) -> int:
        self._chunks.append(bytes(data))
        self._offset += len(data)
        return len(data)

    def tell(self) -> int:
        return self._offset

    def flush(self) -> None:
        return None

    def drain(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


def _zip_name(document: Document) -> str:
    folder = {
        Document.Kind.INVOICE: "invoices",
        Document.Kind.CREDIT_NOTE: "credit-notes",
        Document.Kind.RECEIPT: "receipts",
    }[Document.Kind(document.kind)]
    return f"{folder}/{document.download_name}"


def documents_store_pending(*, account: Account, start: date, end: date) -> int:
    """Store the period's documents the worker has not stored yet, so a download right after
    an issue is complete (storing is idempotent). Returns how many were stored."""
    pending = document_list_for_period(
        account=account, start=start, end=end, status=Document.Status.PENDING
    ).values_list("pk", flat=True)
    return documents_store(document_ids=list(pending), raise_errors=True)


def documents_zip_stream(*, account: Account, start: date, end: date) -> Iterator[bytes]:
    documents_store_pending(account=account, start=start, end=end)
    buffer = _StreamBuffer()
    with zipfile.ZipFile(buffer, mode="w", compression=zipfile.ZIP_STORED) as archive:  # type: ignore[call-overload]
        for document in document_list_for_period(account=account, start=start, end=end).iterator(
            chunk_size=500
        ):
            info = zipfile.ZipInfo(
                _zip_name(document), date_time=document.render_timestamp.timetuple()[:6]
            )
            info.compress_type = zipfile.ZIP_STORED
            with (
                archive.open(info, mode="w", force_zip64=True) as entry,
                default_storage.open(document.file_name, "rb") as source,
            ):
                while block := source.read(CHUNK_SIZE):
                    entry.write(block)
                    yield buffer.drain()
            yield buffer.drain()
    yield buffer.drain()


def csv_safe(value: str) -> str:
    """Neutralise text a spreadsheet would run as a formula."""
    return f"'{value}" if value.startswith(FORMULA_PREFIXES) else value


class _Echo:
    def write(self, value: str) -> str:
        return value


# One row per document. To total a period: invoice rows with latest_revision "yes" (earlier
# revisions repeat the same amounts) plus credit-note rows, whose amounts are negative; receipt
# rows carry the payment received, not a new charge, and are dated (issue_date) the day it
# arrived.
CSV_HEADER = (
    "type", "number", "revision", "latest_revision", "issue_date", "due_date", "status",
    "currency", "subtotal", "tax", "total", "po_number", "buyer", "buyer_tax_id",
    "buyer_country", "related_invoice", "paid_at", "sha256",
)  # fmt: skip


def _csv_amounts(document: Document, source: Invoice | CreditNote) -> list[str]:
    currency = source.currency
    if document.kind == Document.Kind.RECEIPT:
        assert document.payment is not None
        return ["", "", minor_to_decimal_string(document.payment.amount_minor, currency)]
    sign = -1 if document.kind == Document.Kind.CREDIT_NOTE else 1
    return [
        minor_to_decimal_string(sign * amount, currency)
        for amount in (source.subtotal_minor, source.tax_minor, source.total_minor)
    ]


def _csv_row(document: Document) -> list[str]:
    source: Invoice | CreditNote
    latest = ""
    if document.kind == Document.Kind.CREDIT_NOTE:
        assert document.credit_note is not None
        source = document.credit_note
        related, due, status = source.invoice.number, "", "issued"
        paid_at = ""
        issue_date = source.issue_date
    else:
        invoice = document.invoice
        assert invoice is not None
        source = invoice
        related = invoice.number if document.kind == Document.Kind.RECEIPT else ""
        due, status = invoice.due_date.isoformat(), invoice.status
        paid_at = invoice.paid_at.isoformat() if invoice.paid_at else ""
        issue_date = invoice.issue_date
        if document.kind == Document.Kind.RECEIPT and document.payment is not None:
            paid_at = document.payment.received_at.isoformat()
            # A receipt's date is the day the payment arrived, in local time: the date its PDF
            # shows and the one document_list_for_period puts it in a period by.
            issue_date = timezone.localtime(document.payment.received_at).date()
        if document.kind == Document.Kind.INVOICE:
            latest = "yes" if document.invoice_revision == invoice.revision else "no"
    return [
        document.kind,
        document.number,
        str(document.invoice_revision or ""),
        latest,
        issue_date.isoformat(),
        due,
        status,
        source.currency,
        *_csv_amounts(document, source),
        csv_safe(document_po_number(document)),
        csv_safe(source.buyer.get("legal_name", "")),
        csv_safe(source.buyer.get("tax_id", "")),
        source.buyer.get("country", ""),
        related,
        paid_at,
        document.sha256,
    ]


def documents_csv_stream(*, account: Account, start: date, end: date) -> Iterable[str]:
    documents_store_pending(account=account, start=start, end=end)
    writer = csv.writer(_Echo())
    yield "\ufeff"  # spreadsheets then read the file as UTF-8
    yield writer.writerow(CSV_HEADER)
    documents = document_list_for_period(account=account, start=start, end=end)
    for document in documents.prefetch_related("invoice__revisions").iterator(chunk_size=500):
        yield writer.writerow(_csv_row(document))
