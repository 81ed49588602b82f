"""The document archive (D2, X3): storing is idempotent, every stored document is a link of one
gapless hash chain, a revision is a new file beside the old one, and ``archive_verify`` (and the
``remit_archive_verify`` command) finds each kind of tampering at the entry where it happened."""

from __future__ import annotations

import hashlib
import itertools
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from remit.billing.models import DocumentCounter, Invoice
from remit.billing.services.invoices import invoice_void
from remit.billing.services.po_numbers import po_number_add
from remit.core.errors import InvoiceImmutable
from remit.documents.models import ArchiveEntry, Document
from remit.documents.services.archive import (
    CHAIN_SERIES,
    GENESIS_HASH,
    archive_verify,
    chain_entry_hash,
    document_key_fields,
    document_open,
    document_store,
)
from remit.documents.services.rendering import document_render
from tests.billing.helpers import ACTOR, buy_credits_by_invoice, pay_invoice

pytestmark = pytest.mark.django_db


def store_pending() -> list[Document]:
    """Store every pending document in the order it was requested (what the worker does)."""
    pending = Document.objects.filter(status=Document.Status.PENDING).order_by("id")
    return [document_store(document_id=pk) for pk in pending.values_list("pk", flat=True)]


def stored_files(media_root) -> list[str]:
    return sorted(
        str(path.relative_to(media_root)) for path in media_root.rglob("*") if path.is_file()
    )


def where(document: Document) -> str:
    return f"{document.get_kind_display()} {document.download_name}"


@pytest.fixture
def chain(account) -> dict[str, Document]:
    """Six stored documents of every kind, chained in this order:

    1 invoice A, 2 receipt of A, 3 invoice B, 4 credit note voiding B, 5 invoice C revision 1,
    6 invoice C revision 2 (a PO number applied to unpaid invoices).
    """
    invoice_a = buy_credits_by_invoice(account, credits=100, po_number="PO-A")
    store_pending()
    payment = pay_invoice(invoice_a)
    store_pending()
    invoice_b = buy_credits_by_invoice(account, credits=200, po_number="PO-B")
    store_pending()
    credit_note = invoice_void(
        invoice=invoice_b, actor=ACTOR, reason_code="duplicate", reason="Ordered twice"
    )
    store_pending()
    invoice_c = buy_credits_by_invoice(account, credits=300, po_number="")
    store_pending()
    po_number_add(account=account, actor=ACTOR, value="PO-C", apply_to_unpaid=True)
    store_pending()
    documents = {
        "invoice_a": Document.objects.get(invoice=invoice_a, kind=Document.Kind.INVOICE),
        "receipt_a": Document.objects.get(payment=payment),
        "invoice_b": Document.objects.get(invoice=invoice_b, kind=Document.Kind.INVOICE),
        "credit_note_b": Document.objects.get(credit_note=credit_note),
        "invoice_c_r1": Document.objects.get(invoice=invoice_c, invoice_revision=1),
        "invoice_c_r2": Document.objects.get(invoice=invoice_c, invoice_revision=2),
    }
    assert archive_verify().intact
    return documents


def entry_at(position: int) -> ArchiveEntry:
    return ArchiveEntry.objects.select_related("document").get(position=position)


# --- storing -----------------------------------------------------------------------------------


def test_storing_a_document_twice_keeps_one_file_one_entry_and_one_hash(account, media_root):
    invoice = buy_credits_by_invoice(account, credits=120, po_number="PO-55")
    document = Document.objects.get(invoice=invoice)
    assert (document.status, document.sha256, document.file_name) == (
        Document.Status.PENDING,
        "",
        "",
    )

    first = document_store(document_id=document.pk)
    first_files = stored_files(media_root)
    second = document_store(document_id=document.pk)

    document.refresh_from_db()
    assert document.status == Document.Status.STORED
    assert first.sha256 == second.sha256 == document.sha256
    assert first.file_name == second.file_name == document.file_name
    assert first.stored_at == document.stored_at
    assert stored_files(media_root) == first_files == [document.file_name]
    content = document_open(document)
    assert hashlib.sha256(content).hexdigest() == document.sha256
    assert document.size_bytes == len(content)
    entry = ArchiveEntry.objects.get()
    assert (entry.position, entry.document_id, entry.document_sha256) == (
        1,
        document.pk,
        document.sha256,
    )
    assert DocumentCounter.objects.get(series=CHAIN_SERIES, year=0).last_sequence == 1
    # A re-render is byte-identical, so a retry after a crash writes the same file.
    assert hashlib.sha256(document_render(document)).hexdigest() == document.sha256


def test_every_kind_of_document_is_chained_in_one_gapless_sequence(chain):
    entries = list(ArchiveEntry.objects.select_related("document").order_by("position"))

    assert [entry.position for entry in entries] == [1, 2, 3, 4, 5, 6]
    assert [entry.document for entry in entries] == list(chain.values())
    assert [entry.document.kind for entry in entries] == [
        Document.Kind.INVOICE,
        Document.Kind.RECEIPT,
        Document.Kind.INVOICE,
        Document.Kind.CREDIT_NOTE,
        Document.Kind.INVOICE,
        Document.Kind.INVOICE,
    ]
    assert entries[0].previous_hash == GENESIS_HASH == "0" * 64
    for previous, entry in itertools.pairwise(entries):
        assert entry.previous_hash == previous.entry_hash
    for entry in entries:
        assert entry.document_sha256 == entry.document.sha256
        assert entry.entry_hash == chain_entry_hash(
            previous_hash=entry.previous_hash,
            document_sha256=entry.document_sha256,
            key_fields=document_key_fields(entry.document),
        )
    assert len({entry.entry_hash for entry in entries}) == 6
    assert DocumentCounter.objects.get(series=CHAIN_SERIES, year=0).last_sequence == 6
    result = archive_verify()
    assert (result.intact, result.checked, result.broken_position) == (True, 6, None)


def test_a_po_number_applied_to_unpaid_invoices_adds_revision_2_beside_the_unchanged_revision_1(
    account, media_root
):
    invoice = buy_credits_by_invoice(account, credits=150, po_number="")
    [revision_1] = store_pending()
    original_bytes = document_open(revision_1)
    original_row = Document.objects.filter(pk=revision_1.pk).values().get()

    change = po_number_add(account=account, actor=ACTOR, value="PO-2026-7", apply_to_unpaid=True)
    assert [revised.pk for revised in change.revised_invoices] == [invoice.pk]
    [revision_2] = store_pending()

    invoice.refresh_from_db()
    assert (invoice.revision, invoice.po_number) == (2, "PO-2026-7")
    assert (revision_2.kind, revision_2.invoice_id, revision_2.invoice_revision) == (
        Document.Kind.INVOICE,
        invoice.pk,
        2,
    )
    assert revision_2.number == revision_1.number == invoice.number
    assert revision_2.download_name == f"{invoice.number}-r2.pdf"
    assert revision_1.download_name == f"{invoice.number}.pdf"
    assert revision_2.file_name != revision_1.file_name
    assert revision_2.sha256 != revision_1.sha256
    assert sorted(stored_files(media_root)) == sorted([revision_1.file_name, revision_2.file_name])
    # Revision 1: same row, same file, same bytes, still readable.
    assert Document.objects.filter(pk=revision_1.pk).values().get() == original_row
    assert document_open(revision_1) == original_bytes
    assert hashlib.sha256(original_bytes).hexdigest() == revision_1.sha256
    assert hashlib.sha256(document_open(revision_2)).hexdigest() == revision_2.sha256
    assert [e.document_id for e in ArchiveEntry.objects.order_by("position")] == [
        revision_1.pk,
        revision_2.pk,
    ]
    # Changing the invoice's PO number and revision does not break revision 1's entry.
    result = archive_verify()
    assert (result.intact, result.checked) == (True, 2)


# --- verification: each tampering is found where it happened ----------------------------------


def assert_broken_at(position: int, problem: str) -> None:
    result = archive_verify()
    assert not result.intact
    assert result.broken_position == position
    assert result.problem == problem
    # Every entry before the broken one was checked and held.
    assert result.checked == position


def test_verify_reports_an_intact_archive(chain):
    result = archive_verify()
    assert result.intact
    assert (result.checked, result.broken_position, result.problem) == (6, None, "")


def test_an_empty_archive_is_intact(db):
    result = archive_verify()
    assert (result.intact, result.checked) == (True, 0)


def test_overwritten_file_bytes_are_found(chain, media_root):
    document = chain["invoice_b"]
    path = media_root / document.file_name
    original = path.read_bytes()
    path.write_bytes(original + b"\n% forged\n")

    assert_broken_at(3, f"{where(document)}: file content changed")

    path.write_bytes(original)
    assert archive_verify().intact


def test_a_deleted_file_is_found(chain, media_root):
    document = chain["credit_note_b"]
    (media_root / document.file_name).unlink()

    assert_broken_at(4, f"Credit note {document.number}.pdf: file is missing")


def test_a_changed_document_hash_in_the_database_is_found(chain):
    document = chain["receipt_a"]
    forged = hashlib.sha256(b"forged").hexdigest()
    Document.objects.filter(pk=document.pk).update(sha256=forged)

    problem = "document hash changed in the database"
    assert_broken_at(2, f"Payment receipt receipt-{document.number}.pdf: {problem}")


def test_a_replaced_file_with_a_matching_document_hash_is_still_found(chain, media_root):
    """Rewriting the file and the row's hash together is caught by the chain entry's own copy."""
    document = chain["invoice_c_r1"]
    forged = b"%PDF-1.7 forged invoice"
    (media_root / document.file_name).write_bytes(forged)
    Document.objects.filter(pk=document.pk).update(sha256=hashlib.sha256(forged).hexdigest())

    assert_broken_at(5, f"{where(document)}: document hash changed in the database")


def test_a_changed_invoice_total_is_found(chain):
    document = chain["invoice_b"]
    with pytest.raises(InvoiceImmutable):
        Invoice.objects.filter(pk=document.invoice_id).update(total_minor=1)
    with connection.cursor() as cursor:
        # The total must stay subtotal + tax (a CHECK constraint), so both change.
        cursor.execute(
            "UPDATE billing_invoice SET total_minor = total_minor - 100, "
            "subtotal_minor = subtotal_minor - 100 WHERE id = %s",
            [document.invoice_id],
        )

    # The file and the row's hash are untouched; the key fields read from the invoice differ.
    assert_broken_at(3, f"{where(document)}: document or its record changed")


def _buyer_update(invoice_id: int, buyer: dict) -> None:
    cast = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE billing_invoice SET buyer = {cast} WHERE id = %s",  # noqa: S608
            [json.dumps(buyer), invoice_id],
        )


def test_a_changed_buyer_is_found(chain):
    document = chain["invoice_a"]
    invoice = Invoice.objects.get(pk=document.invoice_id)
    with pytest.raises(InvoiceImmutable):
        Invoice.objects.filter(pk=invoice.pk).update(buyer={})
    _buyer_update(invoice.pk, {**invoice.buyer, "legal_name": "Someone Else Ltd"})
    assert Invoice.objects.get(pk=invoice.pk).buyer["legal_name"] == "Someone Else Ltd"

    # Invoice A is the first entry; its receipt (entry 2) is never reached.
    assert_broken_at(1, f"{where(document)}: document or its record changed")


def _entry_hash_update(entry: ArchiveEntry, entry_hash: str) -> None:
    with pytest.raises(InvoiceImmutable):
        ArchiveEntry.objects.filter(pk=entry.pk).update(entry_hash=entry_hash)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE documents_archiveentry SET entry_hash = %s WHERE id = %s",
            [entry_hash, entry.pk],
        )


def test_a_changed_entry_hash_is_found_at_that_entry(chain):
    entry = entry_at(3)
    _entry_hash_update(entry, hashlib.sha256(b"forged").hexdigest())

    # The entry's hash no longer matches its own contents, and entry 4 no longer links to it;
    # the walk stops at the first of the two.
    assert_broken_at(3, f"{where(entry.document)}: document or its record changed")


def test_a_consistently_rewritten_entry_breaks_the_link_of_the_next_one(chain):
    """Someone changes invoice B's buyer and recomputes entry 3 so that it holds by itself:
    entry 4 still points at the old hash."""
    entry = entry_at(3)
    invoice = Invoice.objects.get(pk=entry.document.invoice_id)
    _buyer_update(invoice.pk, {**invoice.buyer, "legal_name": "Someone Else Ltd"})
    document = Document.objects.select_related("invoice").get(pk=entry.document_id)
    _entry_hash_update(
        entry,
        chain_entry_hash(
            previous_hash=entry.previous_hash,
            document_sha256=entry.document_sha256,
            key_fields=document_key_fields(document),
        ),
    )

    assert_broken_at(4, f"{where(chain['credit_note_b'])}: link to the previous entry is broken")


def _entry_delete(entry: ArchiveEntry) -> None:
    with pytest.raises(InvoiceImmutable):
        ArchiveEntry.objects.filter(pk=entry.pk).delete()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM documents_archiveentry WHERE id = %s", [entry.pk])


def test_a_stored_document_without_a_chain_entry_is_found(chain):
    document = chain["invoice_c_r2"]
    _entry_delete(entry_at(6))

    result = archive_verify()
    assert not result.intact
    assert (result.checked, result.broken_position) == (5, 6)
    assert result.problem == f"Invoice {document.number}: stored but not in the chain"


def test_a_deleted_entry_in_the_middle_is_reported_as_missing(chain):
    _entry_delete(entry_at(2))

    assert_broken_at(2, "entry #2 is missing")


# --- the management command --------------------------------------------------------------------


def test_the_command_reports_an_intact_archive(chain):
    out = StringIO()
    call_command("remit_archive_verify", stdout=out)
    assert out.getvalue() == "Archive intact: 6 documents verified.\n"


def test_the_command_fails_naming_the_broken_entry(chain, media_root):
    document = chain["invoice_c_r1"]
    (media_root / document.file_name).write_bytes(b"%PDF-1.7 forged")

    out = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("remit_archive_verify", stdout=out)

    assert str(raised.value) == (
        f"Archive BROKEN at entry #5 ({where(document)}: file content changed); 5 entries checked."
    )
    assert "intact" not in out.getvalue()
