from __future__ import annotations

from collections.abc import Iterable

from remit.billing.models import ChangeRequest, Invoice


def change_requests_latest(*, invoice_ids: Iterable[int]) -> dict[int, ChangeRequest]:
    """The most recent change request of each invoice (X4), for the invoice rows."""
    latest: dict[int, ChangeRequest] = {}
    requests = ChangeRequest.objects.filter(invoice_id__in=list(invoice_ids)).order_by(
        "invoice_id", "-created_at", "-id"
    )
    for request in requests:
        latest.setdefault(request.invoice_id, request)
    return latest


def change_request_list_for_invoice(*, invoice_id: int) -> list[ChangeRequest]:
    """An invoice's change requests (X4), newest first, for the invoice's page."""
    return list(ChangeRequest.objects.filter(invoice_id=invoice_id).order_by("-created_at", "-id"))


def change_request_possible(*, invoice: Invoice, requests: Iterable[ChangeRequest]) -> bool:
    """Whether the invoice's page offers the request form: the invoice is not void and none of
    its ``requests`` is still open (what ``change_request_create`` enforces under its lock)."""
    return invoice.status != Invoice.Status.VOID and not any(
        request.status == ChangeRequest.Status.OPEN for request in requests
    )
