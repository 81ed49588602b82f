"""HTTP responses for stored documents; views of the User Center, back office and API use them."""

from __future__ import annotations

from datetime import date

from django.http import FileResponse, Http404, StreamingHttpResponse
from django.utils.http import content_disposition_header

from remit.billing.models import Account
from remit.documents.models import Document
from remit.documents.services.archive import document_open
from remit.documents.services.bulk import documents_csv_stream, documents_zip_stream


def document_pdf_response(document: Document, *, inline: bool = False) -> FileResponse:
    """The stored bytes, exactly; never a re-render."""
    if document.status != Document.Status.STORED:
        raise Http404("The document is still being prepared")
    response = FileResponse(iter([document_open(document)]), content_type="application/pdf")
    # FileResponse only derives these from file objects, so they are set here.
    response["Content-Disposition"] = (
        content_disposition_header(as_attachment=not inline, filename=document.download_name) or ""
    )
    response["Content-Length"] = str(document.size_bytes)
    response["ETag"] = f'"{document.sha256}"'
    response["Cache-Control"] = "private, max-age=0, must-revalidate"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _period_name(account: Account, start: date, end: date) -> str:
    if start.month == 1 and start.day == 1 and end == date(start.year, 12, 31):
        return f"{account.pk}-{start.year}"
    return f"{account.pk}-{start.isoformat()}-{end.isoformat()}"


def documents_zip_response(*, account: Account, start: date, end: date) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        documents_zip_stream(account=account, start=start, end=end), content_type="application/zip"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="documents-{_period_name(account, start, end)}.zip"'
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


def documents_csv_response(*, account: Account, start: date, end: date) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        documents_csv_stream(account=account, start=start, end=end),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="documents-{_period_name(account, start, end)}.csv"'
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
