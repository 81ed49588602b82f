"""UC7: every stored document of a period as one streamed ZIP, and a CSV for accounting."""

from __future__ import annotations

import csv
import io
import os
import tracemalloc
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.db import connection
from django.db.models.sql import compiler
from django.test.utils import CaptureQueriesContext

from remit.billing.actors import Actor
from remit.billing.models import Account, Invoice, Order, Payment
from remit.billing.services.invoices import invoice_void
from remit.billing.services.orders import order_place
from remit.documents.models import Document
from remit.documents.services import archive
from remit.documents.services.archive import document_open, document_store
from remit.documents.services.bulk import CSV_HEADER, documents_csv_stream, documents_zip_stream
from tests.billing.helpers import buy_credits_by_invoice, pay_invoice
from tests.documents.helpers_pdf import pdf_text
from tests.factories import AccountFactory, BillingProfileFactory

pytestmark = pytest.mark.django_db

ACTOR = Actor.system()


def _at(moment: str) -> time_machine.travel:
    return time_machine.travel(datetime.fromisoformat(moment).replace(tzinfo=UTC), tick=False)


def _store_pending() -> None:
    for pk in Document.objects.filter(status=Document.Status.PENDING).values_list("pk", flat=True):
        document_store(document_id=pk)


def _account(**kwargs) -> Account:
    profile = kwargs.pop("profile", {})
    account = AccountFactory(unpaid_invoice_limit=1000, **kwargs)
    BillingProfileFactory(account=account, **profile)
    return account


def _zip(account: Account, start: date, end: date) -> zipfile.ZipFile:
    archive_file = zipfile.ZipFile(
        io.BytesIO(b"".join(documents_zip_stream(account=account, start=start, end=end)))
    )
    assert archive_file.testzip() is None  # every entry's CRC holds
    return archive_file


def _zip_contents(account: Account, start: date, end: date) -> dict[str, bytes]:
    archive_file = _zip(account, start, end)
    names = archive_file.namelist()
    assert len(names) == len(set(names))
    return {name: archive_file.read(name) for name in names}


def _expected(*documents: Document) -> dict[str, bytes]:
    folders = {"invoice": "invoices", "credit_note": "credit-notes", "receipt": "receipts"}
    expected = {}
    for document in documents:
        document.refresh_from_db()
        assert document.status == Document.Status.STORED
        expected[f"{folders[document.kind]}/{document.download_name}"] = document_open(document)
    return expected


def _csv_rows(account: Account, start: date, end: date) -> list[list[str]]:
    text = "".join(documents_csv_stream(account=account, start=start, end=end))
    assert text.startswith("\ufeff")
    assert text.count("\ufeff") == 1
    rows = list(csv.reader(io.StringIO(text[1:], newline="")))
    assert rows[0] == list(CSV_HEADER)
    return rows[1:]


def _invoice_document(invoice: Invoice) -> Document:
    return Document.objects.get(invoice=invoice, kind=Document.Kind.INVOICE)


@dataclass
class History:
    """Two years of one account's documents, plus another account's."""

    account: Account
    other: Account
    documents: dict[str, Document] = field(default_factory=dict)
    payments: dict[str, Payment] = field(default_factory=dict)


@pytest.fixture
def history(catalogue) -> History:
    account = _account()
    other = _account()
    world = History(account=account, other=other)
    with _at("2025-06-15 10:00"):
        june = buy_credits_by_invoice(account, credits=100, po_number="PO-2025")
    with _at("2025-12-31 23:30"):
        december = buy_credits_by_invoice(account, credits=200)
    with _at("2026-01-01 00:10"):
        january = buy_credits_by_invoice(account, credits=300)
    with _at("2026-01-02 08:00"):
        world.payments["june"] = pay_invoice(june)  # receipt dated 2026 for a 2025 invoice
    with _at("2026-01-05 12:00"):
        credit_note = invoice_void(
            invoice=december, actor=ACTOR, reason_code="duplicate", reason="Ordered twice"
        )
    with _at("2026-03-10 12:00"):
        march = buy_credits_by_invoice(account, credits=400)
        other_invoice = buy_credits_by_invoice(other, credits=500)
    _store_pending()
    with _at("2026-03-11 12:00"):
        # Issued in the period, but its PDF is not stored yet: the download stores it first.
        world.documents["pending"] = _invoice_document(buy_credits_by_invoice(account))
    world.documents.update(
        june=_invoice_document(june),
        december=_invoice_document(december),
        january=_invoice_document(january),
        receipt=Document.objects.get(kind=Document.Kind.RECEIPT, payment=world.payments["june"]),
        credit_note=Document.objects.get(credit_note=credit_note),
        march=_invoice_document(march),
        other=_invoice_document(other_invoice),
    )
    return world


# --- ZIP ------------------------------------------------------------------------------------


def test_the_zip_of_a_year_holds_exactly_that_years_stored_documents_by_folder(history):
    d = history.documents
    contents = _zip_contents(history.account, date(2026, 1, 1), date(2026, 12, 31))

    assert d["pending"].status == Document.Status.PENDING  # until the download stored it
    assert contents == _expected(
        d["january"], d["march"], d["pending"], d["receipt"], d["credit_note"]
    )
    assert sorted(contents) == sorted(
        [
            f"invoices/{d['january'].number}.pdf",
            f"invoices/{d['march'].number}.pdf",
            f"invoices/{d['pending'].number}.pdf",
            f"receipts/receipt-{d['june'].number}.pdf",
            f"credit-notes/{d['credit_note'].number}.pdf",
        ]
    )
    assert all(content.startswith(b"%PDF-") for content in contents.values())
    assert _zip_contents(history.account, date(2025, 1, 1), date(2025, 12, 31)) == _expected(
        d["june"], d["december"]
    )


def test_the_zip_date_range_includes_both_ends(history):
    d = history.documents
    account = history.account

    new_year = _zip_contents(account, date(2025, 12, 31), date(2026, 1, 1))
    assert new_year == _expected(d["december"], d["january"])
    # Receipts by payment date, credit notes by their own issue date.
    assert _zip_contents(account, date(2026, 1, 2), date(2026, 1, 5)) == _expected(
        d["receipt"], d["credit_note"]
    )
    assert _zip_contents(account, date(2026, 1, 3), date(2026, 1, 4)) == {}
    one_day = _zip_contents(account, date(2026, 3, 10), date(2026, 3, 10))
    assert one_day == _expected(d["march"])


def test_the_zip_never_includes_another_accounts_documents(history):
    d = history.documents
    mine = _zip_contents(history.account, date(2026, 3, 10), date(2026, 3, 10))
    theirs = _zip_contents(history.other, date(2026, 3, 10), date(2026, 3, 10))

    assert mine == _expected(d["march"])
    assert theirs == _expected(d["other"])
    everything = _zip_contents(history.account, date(2000, 1, 1), date(2100, 12, 31))
    assert len(everything) == 7  # the pending invoice was stored for the download
    assert f"invoices/{d['other'].download_name}" not in everything
    assert d["other"].number != d["march"].number


def test_an_empty_period_gives_a_valid_empty_zip(history):
    archive_file = _zip(history.account, date(2024, 1, 1), date(2024, 12, 31))
    assert archive_file.namelist() == []
    new_account = _account()
    assert _zip(new_account, date(2026, 1, 1), date(2026, 12, 31)).namelist() == []


def test_a_revised_invoice_has_one_file_per_revision_in_the_zip(catalogue):
    from remit.billing.services.po_numbers import po_number_add

    account = _account()
    with _at("2026-04-01 09:00"):
        invoice = buy_credits_by_invoice(account, po_number="PO-1")
        po_number_add(account=account, actor=ACTOR, value="PO-2", apply_to_unpaid=True)
    _store_pending()
    contents = _zip_contents(account, date(2026, 4, 1), date(2026, 4, 1))
    assert sorted(contents) == [
        f"invoices/{invoice.number}-r2.pdf",
        f"invoices/{invoice.number}.pdf",
    ]
    assert contents == _expected(*Document.objects.filter(invoice=invoice))


# --- CSV ------------------------------------------------------------------------------------


def _row(rows: list[list[str]], number: str, kind: str) -> dict[str, str]:
    [row] = [r for r in rows if r[0] == kind and r[1] == number]
    return dict(zip(CSV_HEADER, row, strict=True))


def test_the_csv_has_the_header_and_one_row_per_document(history):
    d = history.documents
    rows = _csv_rows(history.account, date(2026, 1, 1), date(2026, 12, 31))

    assert len(rows) == 5
    assert all(len(row) == len(CSV_HEADER) for row in rows)
    assert sorted((r[0], r[1]) for r in rows) == sorted(
        [
            ("invoice", d["january"].number),
            ("invoice", d["march"].number),
            ("invoice", d["pending"].number),
            ("receipt", d["june"].number),
            ("credit_note", d["credit_note"].number),
        ]
    )
    january = _row(rows, d["january"].number, "invoice")
    assert january == {
        "type": "invoice",
        "number": d["january"].number,
        "revision": "1",
        "latest_revision": "yes",
        "issue_date": "2026-01-01",
        "due_date": "2026-01-31",
        "status": "issued",
        "currency": "USD",
        "subtotal": "300.00",
        "tax": "0.00",
        "total": "300.00",
        "po_number": "",
        "buyer": history.account.billing_profile.legal_name,
        "buyer_tax_id": "",
        "buyer_country": "US",
        "related_invoice": "",
        "paid_at": "",
        "sha256": d["january"].sha256,
    }
    receipt = _row(rows, d["june"].number, "receipt")
    assert receipt["revision"] == ""
    assert receipt["issue_date"] == "2026-01-02"  # the payment's, not the invoice's (2025-06-15)
    assert receipt["status"] == "paid"
    assert receipt["related_invoice"] == d["june"].number
    assert receipt["paid_at"] == history.payments["june"].received_at.isoformat()
    assert receipt["paid_at"].startswith("2026-01-02T08:00:00")
    assert receipt["po_number"] == "PO-2025"
    assert (receipt["subtotal"], receipt["tax"], receipt["total"]) == ("", "", "100.00")
    assert receipt["sha256"] == d["receipt"].sha256
    credit_note = _row(rows, d["credit_note"].number, "credit_note")
    assert credit_note["issue_date"] == "2026-01-05"
    assert credit_note["related_invoice"] == d["december"].number
    assert (credit_note["status"], credit_note["due_date"], credit_note["revision"]) == (
        "issued",
        "",
        "",
    )
    assert (credit_note["subtotal"], credit_note["total"]) == ("-200.00", "-200.00")
    assert credit_note["sha256"] == d["credit_note"].sha256
    # The period and the account filter are the ZIP's.
    assert _csv_rows(history.account, date(2024, 1, 1), date(2024, 12, 31)) == []
    other_rows = _csv_rows(history.other, date(2026, 1, 1), date(2026, 12, 31))
    assert [(r[0], r[1]) for r in other_rows] == [("invoice", d["other"].number)]


def test_a_receipt_row_is_dated_the_local_day_the_payment_arrived(catalogue, settings):
    # Given a payment that arrives on 31 January in UTC but on 1 February in Tokyo
    settings.TIME_ZONE = "Asia/Tokyo"
    account = _account()
    with _at("2026-01-20 10:00"):
        invoice = buy_credits_by_invoice(account, credits=100)
    with _at("2026-01-31 20:30"):
        payment = pay_invoice(invoice)
    _store_pending()
    receipt = Document.objects.get(payment=payment)

    # Then its CSV row is dated 1 February, the day its PDF says it was paid
    [row] = _csv_rows(account, date(2026, 2, 1), date(2026, 2, 28))
    assert dict(zip(CSV_HEADER, row, strict=True))["issue_date"] == "2026-02-01"
    assert row[:2] == ["receipt", invoice.number]
    assert row[CSV_HEADER.index("paid_at")] == "2026-01-31T20:30:00+00:00"
    assert "February 1, 2026" in pdf_text(document_open(receipt))
    # and it is in February's period, not January's (which has only the invoice).
    january = _csv_rows(account, date(2026, 1, 1), date(2026, 1, 31))
    assert [(r[0], r[4]) for r in january] == [("invoice", "2026-01-20")]
    one_day = _zip_contents(account, date(2026, 2, 1), date(2026, 2, 1))
    assert list(one_day) == [f"receipts/{receipt.download_name}"]


def test_csv_amounts_are_plain_decimal_strings_in_the_currency_exponent(catalogue):
    usd = _account()
    yen = _account(yen=True)
    with _at("2026-02-02 10:00"):
        buy_credits_by_invoice(usd, credits=100)
        buy_credits_by_invoice(yen, credits=150)
    _store_pending()

    [usd_row] = _csv_rows(usd, date(2026, 2, 1), date(2026, 2, 28))
    [yen_row] = _csv_rows(yen, date(2026, 2, 1), date(2026, 2, 28))
    amounts = slice(CSV_HEADER.index("currency"), CSV_HEADER.index("total") + 1)
    assert usd_row[amounts] == ["USD", "100.00", "0.00", "100.00"]
    assert yen_row[amounts] == ["JPY", "15000", "0", "15000"]


def test_csv_cells_a_spreadsheet_would_run_as_formulas_are_neutralised(catalogue):
    account = _account(profile={"legal_name": '@SUM(1+1), "Evil" Ltd', "tax_id": "-12"})
    pos = ['=HYPERLINK("http://x")', "+1 555", "-5", "@A1", 'PO, "7"', "PO-=1"]
    with _at("2026-02-02 10:00"):
        for po in pos:
            order_place(
                account=account,
                actor=ACTOR,
                kind=Order.Kind.CREDITS,
                payment_method=Order.PaymentMethod.INVOICE,
                credits=100,
                po_number=po,
            )
    _store_pending()

    rows = _csv_rows(account, date(2026, 2, 1), date(2026, 2, 28))
    column = {name: index for index, name in enumerate(CSV_HEADER)}
    assert [row[column["po_number"]] for row in rows] == [
        '\'=HYPERLINK("http://x")',
        "'+1 555",
        "'-5",
        "'@A1",
        'PO, "7"',  # quotes and commas round-trip through the CSV quoting
        "PO-=1",  # only a leading character makes a formula
    ]
    assert {row[column["buyer"]] for row in rows} == {'\'@SUM(1+1), "Evil" Ltd'}
    assert {row[column["buyer_tax_id"]] for row in rows} == {"'-12"}


# --- streaming ------------------------------------------------------------------------------

# More than the 500 rows bulk.py fetches per chunk, so "fetched before the first chunk" can be
# told apart from "fetched everything": 130 invoices with 4 revisions (PO numbers) each.
STREAM_INVOICES = 130
STREAM_REVISIONS = 4
STREAM_DOCUMENTS = STREAM_INVOICES * STREAM_REVISIONS


@pytest.fixture
def many_documents(catalogue, monkeypatch) -> tuple[Account, int]:
    """520 stored invoice PDFs of one account, each stored by document_store.

    For speed, only the first is rendered by Typst; the others get its bytes made unique per
    document (the stream never looks inside a file), and fsync is skipped while storing them.
    """
    from remit.billing.services.po_numbers import po_number_add

    account = _account()
    with _at("2026-05-05 10:00"):
        for _ in range(STREAM_INVOICES):
            buy_credits_by_invoice(account)
        for revision in range(2, STREAM_REVISIONS + 1):
            po_number_add(
                account=account, actor=ACTOR, value=f"PO-R{revision}", apply_to_unpaid=True
            )
    first = Document.objects.filter(account=account).first()
    assert first is not None
    template = document_open(document_store(document_id=first.pk))
    with monkeypatch.context() as patch:
        patch.setattr(
            archive,
            "document_render",
            lambda document: template + f"% document {document.pk}\n".encode() * 50,
        )
        patch.setattr(os, "fsync", lambda fd: None)
        _store_pending()
    sizes = Document.objects.filter(account=account).values_list("size_bytes", flat=True)
    assert Document.objects.filter(status=Document.Status.STORED).count() == STREAM_DOCUMENTS
    return account, sum(sizes)


def test_the_zip_streams_rows_in_chunks_with_small_memory(many_documents, monkeypatch):
    account, total_bytes = many_documents
    period = {"account": account, "start": date(2026, 1, 1), "end": date(2026, 12, 31)}

    # Rows the database cursor has handed to Django so far.
    fetched = [0]
    real_cursor_iter = compiler.cursor_iter

    def counting_cursor_iter(*args, **kwargs):
        for rows in real_cursor_iter(*args, **kwargs):
            fetched[0] += len(rows)
            yield rows

    monkeypatch.setattr(compiler, "cursor_iter", counting_cursor_iter)
    with CaptureQueriesContext(connection) as queries:
        stream = documents_zip_stream(**period)
        first = next(chunk for chunk in stream if chunk)
        fetched_before_first_chunk = fetched[0]
        queries_before_first_chunk = len(queries)
        rest = b"".join(stream)
    assert first.startswith(b"PK\x03\x04")
    assert 0 < fetched_before_first_chunk < STREAM_DOCUMENTS
    assert fetched[0] == STREAM_DOCUMENTS
    # One query for the documents still to store (none here), one for everything else: no
    # query per document.
    assert queries_before_first_chunk == 2
    assert len(queries) == 2
    entries = zipfile.ZipFile(io.BytesIO(first + rest)).infolist()
    assert len(entries) == STREAM_DOCUMENTS
    assert sum(entry.file_size for entry in entries) == total_bytes

    # Consuming the whole stream never holds more than a small part of it.
    monkeypatch.undo()
    streamed = 0
    tracemalloc.start()
    try:
        for chunk in documents_zip_stream(**period):
            streamed += len(chunk)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert streamed > total_bytes
    assert peak < total_bytes * 0.25, f"peak {peak} bytes for {total_bytes} bytes of PDFs"


def test_the_csv_row_of_a_receipt_carries_the_po_number_the_invoice_had_when_paid(catalogue):
    from remit.billing.services.po_numbers import po_number_add
    from remit.documents.selectors import document_po_number

    account = _account()
    with _at("2026-04-01 09:00"):
        invoice = buy_credits_by_invoice(account, po_number="PO-OLD")
        po_number_add(account=account, actor=ACTOR, value="PO-NEW", apply_to_unpaid=True)
        invoice.refresh_from_db()
        payment = pay_invoice(invoice)
    _store_pending()
    assert (invoice.revision, invoice.po_number) == (2, "PO-NEW")
    receipt = Document.objects.get(payment=payment)
    assert document_po_number(receipt) == "PO-NEW"  # what the receipt email's subject shows

    rows = _csv_rows(account, date(2026, 4, 1), date(2026, 4, 1))
    by_revision = {row[2]: row for row in rows if row[0] == "invoice"}
    assert by_revision["1"][CSV_HEADER.index("po_number")] == "PO-OLD"
    assert by_revision["2"][CSV_HEADER.index("po_number")] == "PO-NEW"
    latest = CSV_HEADER.index("latest_revision")
    assert (by_revision["1"][latest], by_revision["2"][latest]) == ("no", "yes")
    assert _row(rows, invoice.number, "receipt")["po_number"] == "PO-NEW"
