"""Requesting, rendering, storing and chaining documents (UC4, D2, X3).

``document_request_*`` run inside the transaction that issues the business document: they write
a *pending* Document (and its outbox email) and schedule rendering after commit. ``document_store``
renders once, writes the bytes atomically, and in one short transaction marks the document stored
and appends it to the hash chain. Everything is idempotent: running it twice, or after a crash,
stores one file and one chain entry.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import uuid
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import transaction
from django.db.models import prefetch_related_objects
from django.utils import timezone

from remit.billing.locks import document_counter_increment
from remit.billing.models import BillingProfile, CreditNote, DocumentCounter, Invoice, Payment
from remit.documents.models import ArchiveEntry, Document, EmailMessage
from remit.documents.services.rendering import CURRENT_TEMPLATE_VERSION, document_render

CHAIN_SERIES = "archive"


class ArchiveBroken(RuntimeError):
    """The chain cannot be extended because an earlier entry is missing."""


GENESIS_HASH = "0" * 64


def _document_request(
    *, email_kind: str, profile: BillingProfile | None = None, **fields: Any
) -> Document:
    """Write a pending document and its queued email in the caller's transaction, and render it
    after commit. Each business event calls this once; constraints refuse a second document.
    ``profile``: the account's billing profile if the caller holds it (saves a read)."""
    from remit.documents.services.emails import email_queue

    document = Document.objects.create(
        template_version=CURRENT_TEMPLATE_VERSION,
        render_timestamp=timezone.now().replace(microsecond=0),
        **fields,
    )
    transaction.on_commit(lambda: _enqueue_store(document.pk))
    email_queue(document=document, kind=email_kind, profile=profile)
    return document


def _enqueue_store(document_id: int) -> None:
    from remit.documents.tasks import document_store_task

    document_store_task.enqueue(document_id)


def document_request_invoice(
    *, invoice: Invoice, email_kind: str, profile: BillingProfile | None = None
) -> Document:
    """The PDF of the invoice's current revision and its email (issued or revised).
    ``profile``: the account's current billing profile when the caller has just read it under
    the account lock (its recipients are the email's); otherwise it is read here."""
    return _document_request(
        email_kind=email_kind,
        profile=profile,
        kind=Document.Kind.INVOICE,
        account=invoice.account,
        invoice=invoice,
        invoice_revision=invoice.revision,
        number=invoice.number,
        language=invoice.language,
    )


def document_request_credit_note(*, credit_note: CreditNote) -> Document:
    return _document_request(
        email_kind=EmailMessage.Kind.CREDIT_NOTE_ISSUED,
        kind=Document.Kind.CREDIT_NOTE,
        account=credit_note.account,
        credit_note=credit_note,
        number=credit_note.number,
        language=credit_note.language,
    )


def document_request_receipt(*, payment: Payment, invoice: Invoice) -> Document:
    return _document_request(
        email_kind=EmailMessage.Kind.PAYMENT_RECEIPT,
        kind=Document.Kind.RECEIPT,
        account=payment.account,
        invoice=invoice,
        payment=payment,
        number=invoice.number,
        language=invoice.language,
    )


# --- storing ----------------------------------------------------------------------------------


def _storage_name(document: Document) -> str:
    """Built from ids only: number formats may contain ``/`` or other path characters."""
    return f"documents/{document.account_id}/{document.pk}.pdf"


def _write_atomically(name: str, content: bytes) -> str:
    """Write ``content`` under ``name``: a crash leaves either no file or the whole file.

    Called only by the worker holding the document's row lock. On the filesystem the bytes go
    to a temporary sibling of its own (``.partial-<name>-<random>``) that is renamed into place;
    leftovers of crashed attempts are removed once the file is in place. Object stores (S3)
    write objects atomically by themselves.
    """
    storage = default_storage
    if isinstance(storage, FileSystemStorage):
        path = storage.path(name)
        directory, base = os.path.split(path)
        os.makedirs(directory, exist_ok=True)
        temporary = os.path.join(directory, f".partial-{base}-{uuid.uuid4().hex}")
        try:
            with open(temporary, "wb") as stream:
                stream.write(content)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, path)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
        for leftover in glob.glob(os.path.join(directory, glob.escape(f".partial-{base}") + "*")):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(leftover)
        return name
    if storage.exists(name):
        storage.delete(name)
    return storage.save(name, ContentFile(content))


def document_key_fields(document: Document) -> dict[str, Any]:
    """What the chain vouches for besides the bytes: read from the live rows at verify time,
    so editing an invoice, credit note or payment row in the database breaks the chain."""
    fields: dict[str, Any] = {
        "document": document.pk,
        "kind": document.kind,
        "account": document.account_id,
        "document_number": document.number,
        "language": document.language,
        "template_version": document.template_version,
        "render_timestamp": document.render_timestamp.isoformat(),
    }
    source: Invoice | CreditNote | None = None
    if document.kind == Document.Kind.CREDIT_NOTE:
        source = document.credit_note
    else:
        source = document.invoice
        fields["invoice_revision"] = document.invoice_revision
    if source is not None:
        fields.update(
            source_number=source.number,
            issue_date=source.issue_date.isoformat(),
            currency=source.currency,
            subtotal_minor=source.subtotal_minor,
            tax_minor=source.tax_minor,
            total_minor=source.total_minor,
            parties_sha256=_sha256_json({"seller": source.seller, "buyer": source.buyer}),
            lines_sha256=_sha256_json(
                [
                    (line.position, line.description, line.quantity, line.unit_price_minor,
                     line.discount_minor, line.net_minor, line.tax_category, line.tax_rate)
                    for line in source.lines.all()
                ]
            ),
        )  # fmt: skip
    if document.payment_id:
        payment = document.payment
        assert payment is not None
        fields["payment"] = {
            "amount_minor": payment.amount_minor,
            "currency": payment.currency,
            "reference": payment.provider_reference,
            "received_at": payment.received_at.isoformat(),
        }
    return fields


def _sha256_json(value: Any) -> str:
    encoded = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()


def chain_entry_hash(
    *, previous_hash: str, document_sha256: str, key_fields: dict[str, Any]
) -> str:
    return hashlib.sha256(
        f"{previous_hash}|{document_sha256}|{_sha256_json(key_fields)}".encode()
    ).hexdigest()


# What rendering and chaining read besides the document: its source rows (joined) and, per kind,
# the source's lines (one query each).
_SOURCE_ROWS = ("invoice__order", "credit_note__invoice", "payment")
_INVOICE_LINES = ("invoice__lines", "invoice__tax_lines", "invoice__revisions")
_SOURCE_LINES: dict[str, tuple[str, ...]] = {
    Document.Kind.INVOICE: _INVOICE_LINES,
    Document.Kind.RECEIPT: _INVOICE_LINES,
    Document.Kind.CREDIT_NOTE: ("credit_note__lines", "credit_note__tax_lines"),
}


def _document_with_sources(document_id: int) -> Document:
    """The document with everything rendering and chaining read, in a fixed number of queries:
    one, plus one per line relation of its kind while it is pending (``document_store`` returns
    a stored document as it is; its lines load on first use if a caller reads them)."""
    document = Document.objects.select_related(*_SOURCE_ROWS).get(pk=document_id)
    if document.status != Document.Status.STORED:
        prefetch_related_objects([document], *_SOURCE_LINES[document.kind])
    return document


def document_store(*, document_id: int) -> Document:
    """Render and store a pending document (idempotent, safe beside other workers).

    Rendering happens outside any lock; writing the file, marking the row stored and appending
    to the chain happen under the document's row lock, so when two workers race the second finds
    it stored and leaves the file alone. The lock is taken by the conditional update that marks
    the row stored (``WHERE status = 'pending'``): a worker that loses the race updates no row
    (PostgreSQL re-checks the condition once the winner commits; SQLite runs one writer at a
    time) and returns the stored document.
    """
    document = _document_with_sources(document_id)
    if document.status == Document.Status.STORED:
        return document
    content = document_render(document)
    digest = hashlib.sha256(content).hexdigest()
    key_fields = document_key_fields(document)
    name = _storage_name(document)
    with transaction.atomic():
        stored = {
            "status": Document.Status.STORED,
            "file_name": name,
            "sha256": digest,
            "size_bytes": len(content),
            "stored_at": timezone.now(),
        }
        pending = Document.objects.filter(pk=document_id, status=Document.Status.PENDING)
        if not pending.update(**stored):
            return _document_with_sources(document_id)
        stored["file_name"] = _write_atomically(name, content)
        if stored["file_name"] != name:  # object stores may pick another name
            Document.objects.filter(pk=document_id).update(file_name=stored["file_name"])
        for field, value in stored.items():
            setattr(document, field, value)
        from remit.documents.services.emails import emails_schedule_for_document

        # Before taking the chain's counter: every store waits for that lock, so the section
        # holding it is kept to the counter, the previous entry and the new entry.
        emails_schedule_for_document(document=document)
        position = document_counter_increment(series=CHAIN_SERIES, year=0)
        previous = (
            ArchiveEntry.objects.filter(position=position - 1)
            .values_list("entry_hash", flat=True)
            .first()
        )
        if previous is None and position > 1:
            raise ArchiveBroken(f"Archive entry #{position - 1} is missing; run the verifier")
        previous = previous or GENESIS_HASH
        ArchiveEntry.objects.create(
            position=position,
            document=document,
            previous_hash=previous,
            document_sha256=digest,
            entry_hash=chain_entry_hash(
                previous_hash=previous, document_sha256=digest, key_fields=key_fields
            ),
        )
    return document


def document_open(document: Document) -> bytes:
    with default_storage.open(document.file_name, "rb") as stream:
        return stream.read()


# --- verification -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ArchiveVerification:
    checked: int
    # None when the whole chain holds; else the first broken position and why.
    broken_position: int | None = None
    problem: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_position is None


def archive_verify() -> ArchiveVerification:
    """Walk the chain from the start; report the first link that does not hold."""
    previous_hash = GENESIS_HASH
    checked = 0
    entries = (
        ArchiveEntry.objects.select_related(
            "document__invoice", "document__credit_note", "document__payment"
        )
        .prefetch_related("document__invoice__lines", "document__credit_note__lines")
        .order_by("position")
    )
    for entry in entries.iterator(chunk_size=500):
        checked += 1
        document = entry.document
        where = f"{document.get_kind_display()} {document.download_name}"
        if entry.position != checked:
            return ArchiveVerification(checked, checked, f"entry #{checked} is missing")
        if entry.previous_hash != previous_hash:
            return ArchiveVerification(
                checked, entry.position, f"{where}: link to the previous entry is broken"
            )
        if document.sha256 != entry.document_sha256:
            return ArchiveVerification(
                checked, entry.position, f"{where}: document hash changed in the database"
            )
        try:
            actual = hashlib.sha256(document_open(document)).hexdigest()
        except FileNotFoundError:
            return ArchiveVerification(checked, entry.position, f"{where}: file is missing")
        if actual != entry.document_sha256:
            return ArchiveVerification(checked, entry.position, f"{where}: file content changed")
        expected = chain_entry_hash(
            previous_hash=previous_hash,
            document_sha256=entry.document_sha256,
            key_fields=document_key_fields(document),
        )
        if expected != entry.entry_hash:
            return ArchiveVerification(
                checked, entry.position, f"{where}: document or its record changed"
            )
        previous_hash = entry.entry_hash
    unchained = Document.objects.filter(status=Document.Status.STORED, archive__isnull=True).first()
    if unchained is not None:
        return ArchiveVerification(
            checked, checked + 1, f"{unchained}: stored but not in the chain"
        )
    chain_length = (
        DocumentCounter.objects.filter(series=CHAIN_SERIES, year=0)
        .values_list("last_sequence", flat=True)
        .first()
    ) or 0
    if chain_length > checked:
        return ArchiveVerification(
            checked, checked + 1, f"entries #{checked + 1}–#{chain_length} are missing"
        )
    return ArchiveVerification(checked)


def invoice_document_ready(*, invoice: Invoice) -> Document:
    """The stored PDF of the invoice's current revision, storing it now if the worker has not
    yet (the customer is waiting for the download; storing is idempotent)."""
    document = Document.objects.get(
        invoice=invoice, kind=Document.Kind.INVOICE, invoice_revision=invoice.revision
    )
    if document.status != Document.Status.STORED:
        document = document_store(document_id=document.pk)
    return document
