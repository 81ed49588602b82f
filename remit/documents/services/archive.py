"""Requesting, rendering, storing and chaining documents (UC4, D2, X3).

``document_request_*`` run inside the transaction that issues the business document: they write
a *pending* Document (and its outbox email) and schedule its task after commit. The task
(``documents_store_queued``) claims its document and other pending ones, renders them and writes
their bytes to temporary files outside any lock, then in one short transaction renames the files
into place, marks the documents stored, schedules their emails and appends them to the hash
chain. ``document_store`` does the same for one document at once (a download that cannot wait).
Everything is idempotent: running it twice, or after a crash, stores one file and one chain
entry per document.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import models, transaction
from django.db.models import Case, QuerySet, Subquery, Value, When, prefetch_related_objects
from django.utils import timezone

from remit.billing.locks import document_counter_increment
from remit.billing.models import BillingProfile, CreditNote, DocumentCounter, Invoice, Payment
from remit.documents.models import ArchiveEntry, Document, EmailMessage
from remit.documents.selectors import document_list_claimable
from remit.documents.services.rendering import CURRENT_TEMPLATE_VERSION, document_render

CHAIN_SERIES = "archive"
# How many pending documents a worker claims, renders and stores together, and how long its
# claim holds: far longer than rendering a batch takes (about 10 ms a page).
STORE_BATCH = 50
CLAIM_LEASE = timedelta(minutes=5)

logger = logging.getLogger(__name__)


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


# Where files are written before they are renamed into place (filesystem storage): one folder,
# so the sweep that removes crashed attempts' leftovers lists only it, never the archive.
TEMPORARY_FOLDER = "documents/.partial"


def _fsync_folder(folder: str) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _folders_make(folder: str) -> set[str]:
    """Make ``folder`` (and missing parents); returns the folders to fsync so that the files
    renamed into it, and every folder just created, survive a power cut: ``folder`` and the
    parent of each folder created."""
    missing = []
    current = folder
    while not os.path.isdir(current):
        missing.append(current)
        current = os.path.dirname(current)
    os.makedirs(folder, exist_ok=True)
    return {folder} | {os.path.dirname(created) for created in missing}


def temporary_file_path(name: str) -> str:
    """A fresh path to write ``name``'s bytes to before they are renamed into place: unique,
    so two writers (a download and a worker whose claim lapsed) never share one."""
    base = name.replace("/", "_")
    return os.path.join(default_storage.path(TEMPORARY_FOLDER), f"{base}-{uuid.uuid4().hex}")


class _Files:
    """Storing files so that a crash leaves either no file or the whole file.

    On the filesystem the bytes are written and fsync'd to unique temporary files *before* the
    documents' rows are locked (:meth:`prepare`); under the locks they are only renamed into
    place and their folders fsync'd, so the renames survive a power cut (:meth:`commit`).
    Whatever was not renamed is removed (:meth:`discard`); a crash's leftovers are removed by
    the recovery sweep. Object stores (S3) write objects atomically: :meth:`commit` saves them.
    """

    def __init__(self, contents: dict[str, bytes]) -> None:
        self.contents = contents
        self.on_filesystem = isinstance(default_storage, FileSystemStorage)
        self.temporary: dict[str, str] = {}

    def prepare(self) -> None:
        if not self.on_filesystem:
            return
        os.makedirs(default_storage.path(TEMPORARY_FOLDER), exist_ok=True)
        for name, content in self.contents.items():
            path = temporary_file_path(name)
            self.temporary[name] = path
            with open(path, "wb") as stream:
                stream.write(content)
                stream.flush()
                os.fsync(stream.fileno())

    def commit(self, names: list[str]) -> dict[str, str]:
        """Put ``names`` in place; returns the name each was stored under."""
        if not self.on_filesystem:
            stored = {}
            for name in names:
                if default_storage.exists(name):
                    default_storage.delete(name)
                stored[name] = default_storage.save(name, ContentFile(self.contents[name]))
            return stored
        folders: set[str] = set()
        for name in names:
            path = default_storage.path(name)
            folder = os.path.dirname(path)
            if folder not in folders:
                folders |= _folders_make(folder)
            os.replace(self.temporary.pop(name), path)
        for folder in sorted(folders):
            _fsync_folder(folder)
        return {name: name for name in names}

    def discard(self) -> None:
        for path in self.temporary.values():
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        self.temporary.clear()


def temporary_files_remove(*, older_than: timedelta) -> int:
    """Remove temporary files older than ``older_than`` that crashed attempts left behind
    (the recovery sweep). Returns how many were removed."""
    if not isinstance(default_storage, FileSystemStorage):
        return 0
    folder = default_storage.path(TEMPORARY_FOLDER)
    cutoff = timezone.now().timestamp() - older_than.total_seconds()
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return 0
    for entry in entries:
        with contextlib.suppress(FileNotFoundError):
            if entry.is_file() and entry.stat().st_mtime <= cutoff:
                os.unlink(entry.path)
                removed += 1
    return removed


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


def _documents_with_sources(documents: QuerySet[Document]) -> list[Document]:
    """The documents with everything rendering and chaining read, in a fixed number of queries:
    one, plus one per line relation of the kinds among them that are still pending (stored
    documents are returned as they are; their lines load on first use if a caller reads them)."""
    found = list(documents.select_related(*_SOURCE_ROWS))
    by_lines: dict[tuple[str, ...], list[Document]] = {}
    for document in found:
        if document.status != Document.Status.STORED:
            by_lines.setdefault(_SOURCE_LINES[document.kind], []).append(document)
    for lookups, group in by_lines.items():
        prefetch_related_objects(group, *lookups)
    return found


def _document_with_sources(document_id: int) -> Document:
    found = _documents_with_sources(Document.objects.filter(pk=document_id))
    if not found:
        raise Document.DoesNotExist(f"Document {document_id} does not exist")
    return found[0]


@dataclass(frozen=True)
class _Rendered:
    content: bytes
    sha256: str
    key_fields: dict[str, Any]


@dataclass
class _Outcome:
    stored: list[Document]
    failed: dict[int, Exception]  # document id -> what went wrong (logged)


def _documents_store(
    documents: list[Document], *, claim_token: str | None, raise_errors: bool
) -> _Outcome:
    """Render ``documents`` and write their temporary files outside any lock, then store them
    together (:func:`_group_store`). Returns those stored here and those that failed.

    A document that fails (to render, or in the store transaction) is logged and left
    pending (or raises, with ``raise_errors``); the others are stored: when the group's
    transaction fails, each document is retried in a transaction of its own. Losing a race is
    not a failure: a document someone else stored meanwhile is skipped.
    """
    outcome = _Outcome(stored=[], failed={})
    rendered: dict[int, _Rendered] = {}
    for document in documents:
        try:
            content = document_render(document)
            rendered[document.pk] = _Rendered(
                content, hashlib.sha256(content).hexdigest(), document_key_fields(document)
            )
        except Exception as error:
            if raise_errors:
                raise
            logger.exception("Rendering document %s failed; it stays pending", document.pk)
            outcome.failed[document.pk] = error
    # The whole group in one transaction; if that fails, each document in one of its own.
    attempts = [[document for document in documents if document.pk in rendered]]
    while attempts:
        group = attempts.pop()
        try:
            outcome.stored += _group_store(group, rendered, claim_token=claim_token)
        except Exception as error:
            if len(group) > 1:
                logger.exception("Storing %d documents together failed; one by one now", len(group))
                attempts += [[document] for document in reversed(group)]
                continue
            if raise_errors:
                raise
            logger.exception("Storing document %s failed; it stays pending", group[0].pk)
            outcome.failed[group[0].pk] = error
    return outcome


def _group_store(
    group: list[Document], rendered: dict[int, _Rendered], *, claim_token: str | None
) -> list[Document]:
    """In one short transaction: lock the documents still pending (with ``claim_token``: and
    still claimed by it), put their files in place, mark them stored, schedule their emails
    and append them to the chain in id order. Returns those stored."""
    if not group:
        return []
    files = _Files({_storage_name(d): rendered[d.pk].content for d in group})
    try:
        files.prepare()
        with transaction.atomic():
            # Locks in id order (no deadlock between two groups); on SQLite the transaction
            # already holds the database's write lock.
            still_pending = Document.objects.select_for_update().filter(
                pk__in=[d.pk for d in group], status=Document.Status.PENDING
            )
            if claim_token is not None:
                still_pending = still_pending.filter(claim_token=claim_token)
            mine = set(still_pending.order_by("pk").values_list("pk", flat=True))
            batch = sorted((d for d in group if d.pk in mine), key=lambda d: d.pk)
            if not batch:
                return []
            names = files.commit([_storage_name(d) for d in batch])
            _chain_stored(batch, rendered, names)
    finally:
        files.discard()
    return batch


def _chain_stored(
    batch: list[Document], rendered: dict[int, _Rendered], names: dict[str, str]
) -> None:
    """Mark ``batch`` stored, schedule its emails and chain it (inside the locks)."""
    stored_at = timezone.now()
    for document in batch:
        document.status = Document.Status.STORED
        document.file_name = names[_storage_name(document)]
        document.sha256 = rendered[document.pk].sha256
        document.size_bytes = len(rendered[document.pk].content)
        document.stored_at = stored_at
        document.claim_token, document.claimed_until = "", None

    def per_document(field: str, output_field: models.Field[Any, Any]) -> Case:
        return Case(
            *[When(pk=d.pk, then=Value(getattr(d, field))) for d in batch],
            output_field=output_field,
        )

    Document.objects.filter(pk__in=[d.pk for d in batch]).update(
        status=Document.Status.STORED,
        stored_at=stored_at,
        claim_token="",
        claimed_until=None,
        file_name=per_document("file_name", models.CharField()),
        sha256=per_document("sha256", models.CharField()),
        size_bytes=per_document("size_bytes", models.PositiveIntegerField()),
    )
    from remit.documents.services.emails import emails_schedule_for_documents

    # Before taking the chain's counter: every store waits for that lock, so the section
    # holding it is kept to the counter, the previous entry and the new entries.
    emails_schedule_for_documents(documents=batch)
    last = document_counter_increment(series=CHAIN_SERIES, year=0, count=len(batch))
    first = last - len(batch) + 1
    previous = (
        ArchiveEntry.objects.filter(position=first - 1).values_list("entry_hash", flat=True).first()
    )
    if previous is None and first > 1:
        raise ArchiveBroken(f"Archive entry #{first - 1} is missing; run the verifier")
    previous = previous or GENESIS_HASH
    entries = []
    for position, document in enumerate(batch, start=first):
        entry_hash = chain_entry_hash(
            previous_hash=previous,
            document_sha256=document.sha256,
            key_fields=rendered[document.pk].key_fields,
        )
        entries.append(
            ArchiveEntry(
                position=position,
                document=document,
                previous_hash=previous,
                document_sha256=document.sha256,
                entry_hash=entry_hash,
            )
        )
        previous = entry_hash
    ArchiveEntry.objects.bulk_create(entries)


class DocumentNotStored(RuntimeError):
    """The worker could not store its document (logged); it stays pending and claimed until
    the claim lapses, then a later task or the recovery sweep tries again."""


def document_store(*, document_id: int) -> Document:
    """Render and store one pending document now (a download that cannot wait for the worker),
    whether or not a worker has claimed it; idempotent, safe beside other workers. Returns the
    stored document; raises what made storing it fail."""
    document = _document_with_sources(document_id)
    if document.status == Document.Status.STORED:
        return document
    if _documents_store([document], claim_token=None, raise_errors=True).stored:
        return document
    return _document_with_sources(document_id)  # stored by someone else meanwhile


def documents_store(*, document_ids: Iterable[int], raise_errors: bool) -> int:
    """:func:`document_store` for many documents, :data:`STORE_BATCH` at a time (a year's
    export, the recovery sweep). Returns how many were stored here. A document that fails
    raises with ``raise_errors`` (an export must not silently miss it); else it is logged,
    stays pending, and the others are stored."""
    stored = 0
    ids = sorted(set(document_ids))
    for start in range(0, len(ids), STORE_BATCH):
        chunk = ids[start : start + STORE_BATCH]
        documents = _documents_with_sources(
            Document.objects.filter(pk__in=chunk, status=Document.Status.PENDING)
        )
        outcome = _documents_store(documents, claim_token=None, raise_errors=raise_errors)
        stored += len(outcome.stored)
    return stored


def documents_store_queued(*, document_id: int | None = None, limit: int = STORE_BATCH) -> int:
    """The worker's task: claim the document (if still pending and unclaimed) and up to
    ``limit`` pending documents in all that no live claim holds, oldest first; render, store and
    chain them together. Returns how many were stored; raises :class:`DocumentNotStored` (after
    storing the others) if ``document_id`` itself failed, so its task shows the failure.

    When documents queue up (month-end), a task thus stores them in batches (one read of the
    sources and one transaction per batch) and the tasks of documents it took find nothing
    left to do. A claim lapses after :data:`CLAIM_LEASE`: a crashed worker's documents, and
    those that failed, are taken again by a later task or the recovery sweep.
    """
    now = timezone.now()
    token = uuid.uuid4().hex
    claim = {"claim_token": token, "claimed_until": now + CLAIM_LEASE}
    claimable = document_list_claimable(now=now)
    claimed = claimable.filter(pk=document_id).update(**claim) if document_id else 0
    if limit > claimed:
        oldest = claimable.order_by("pk").values("pk")[: limit - claimed]
        claimable.filter(pk__in=Subquery(oldest)).update(**claim)
    documents = _documents_with_sources(
        Document.objects.filter(claim_token=token, status=Document.Status.PENDING).order_by("pk")
    )
    outcome = _documents_store(documents, claim_token=token, raise_errors=False)
    if document_id in outcome.failed:
        raise DocumentNotStored(
            f"Document {document_id} could not be stored (see the log); it is tried again "
            f"after {CLAIM_LEASE}"
        ) from outcome.failed[document_id]
    return len(outcome.stored)


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
    return document_ready(document=document)


def document_ready(*, document: Document) -> Document:
    """``document`` stored: as it is when the worker has stored it, else stored now (a customer
    is waiting for the download or the print view; storing is idempotent)."""
    if document.status != Document.Status.STORED:
        document = document_store(document_id=document.pk)
    return document
