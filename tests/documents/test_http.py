"""HTTP responses for stored documents: one PDF, and the ZIP and CSV of a period."""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import date

import pytest
import time_machine
from django.http import Http404

from remit.documents.http import (
    document_pdf_response,
    documents_csv_response,
    documents_zip_response,
)
from remit.documents.models import Document
from remit.documents.services.archive import document_open, document_store
from remit.documents.services.bulk import CSV_HEADER
from tests.billing.helpers import buy_credits_by_invoice

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending_document(account) -> Document:
    with time_machine.travel("2026-03-10 12:00Z", tick=False):
        invoice = buy_credits_by_invoice(account, credits=120)
    return Document.objects.get(invoice=invoice)


@pytest.fixture
def stored_document(pending_document) -> Document:
    return document_store(document_id=pending_document.pk)


def test_the_pdf_response_serves_exactly_the_stored_bytes(stored_document, media_root):
    on_disk = (media_root / stored_document.file_name).read_bytes()

    response = document_pdf_response(stored_document)

    body = b"".join(response.streaming_content)
    assert response.status_code == 200
    assert body == on_disk
    assert body.startswith(b"%PDF-")
    assert hashlib.sha256(body).hexdigest() == stored_document.sha256
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Length"] == str(stored_document.size_bytes) == str(len(body))
    assert response["ETag"] == f'"{stored_document.sha256}"'
    assert "private" in response["Cache-Control"].split(", ")  # never in a shared cache
    assert response["X-Content-Type-Options"] == "nosniff"


def test_the_pdf_response_is_an_attachment_named_after_the_document(stored_document):
    response = document_pdf_response(stored_document)

    assert stored_document.download_name == f"{stored_document.number}.pdf"
    assert response.get("Content-Disposition") == (
        f'attachment; filename="{stored_document.download_name}"'
    )


def test_an_inline_pdf_response_is_shown_in_the_browser(stored_document):
    response = document_pdf_response(stored_document, inline=True)

    assert response.get("Content-Disposition") == (
        f'inline; filename="{stored_document.download_name}"'
    )
    assert b"".join(response.streaming_content).startswith(b"%PDF-")


def test_a_pending_document_is_not_found(pending_document):
    assert pending_document.status == Document.Status.PENDING
    with pytest.raises(Http404):
        document_pdf_response(pending_document)


def test_the_zip_response_of_a_year(account, stored_document):
    response = documents_zip_response(
        account=account, start=date(2026, 1, 1), end=date(2026, 12, 31)
    )

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == (
        f'attachment; filename="documents-{account.pk}-2026.zip"'
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert archive.namelist() == [f"invoices/{stored_document.download_name}"]
    assert archive.read(f"invoices/{stored_document.download_name}") == document_open(
        stored_document
    )


@pytest.mark.parametrize(
    ("start", "end", "suffix"),
    [
        (date(2026, 3, 1), date(2026, 3, 31), "2026-03-01-2026-03-31"),
        (date(2026, 1, 1), date(2026, 12, 30), "2026-01-01-2026-12-30"),
        (date(2026, 1, 2), date(2026, 12, 31), "2026-01-02-2026-12-31"),
        (date(2025, 1, 1), date(2026, 12, 31), "2025-01-01-2026-12-31"),
        (date(2026, 3, 10), date(2026, 3, 10), "2026-03-10-2026-03-10"),
    ],
)
def test_the_zip_and_csv_responses_of_a_date_range(account, stored_document, start, end, suffix):
    zip_response = documents_zip_response(account=account, start=start, end=end)
    csv_response = documents_csv_response(account=account, start=start, end=end)

    assert zip_response["Content-Disposition"] == (
        f'attachment; filename="documents-{account.pk}-{suffix}.zip"'
    )
    assert csv_response["Content-Disposition"] == (
        f'attachment; filename="documents-{account.pk}-{suffix}.csv"'
    )
    names = zipfile.ZipFile(io.BytesIO(b"".join(zip_response.streaming_content))).namelist()
    assert names == [f"invoices/{stored_document.download_name}"]
    assert b"".join(csv_response.streaming_content).count(b"\r\n") == 2  # header + one row


def test_the_csv_response_of_a_year(account, stored_document):
    response = documents_csv_response(
        account=account, start=date(2026, 1, 1), end=date(2026, 12, 31)
    )

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="documents-{account.pk}-2026.csv"'
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")  # the UTF-8 byte order mark
    header, row, end = body.decode("utf-8-sig").split("\r\n")
    assert header == ",".join(CSV_HEADER)
    assert row.startswith(f"invoice,{stored_document.number},1,yes,2026-03-10,")
    assert row.endswith(f",{stored_document.sha256}")
    assert end == ""
