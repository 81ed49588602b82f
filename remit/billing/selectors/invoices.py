from __future__ import annotations

from django.db.models import QuerySet

from remit.billing.models import Account, Invoice

# What a list of invoices shows (the API's page): every column but the snapshots of the parties,
# whose JSON is the largest part of a row and costs the most to decode.
INVOICE_LIST_FIELDS = (
    "id", "account_id", "order_id", "number", "status", "revision", "issue_date", "due_date",
    "currency", "subtotal_minor", "tax_minor", "total_minor", "po_number", "notes", "paid_at",
    "voided_at", "replaces_id", "created_at",
)  # fmt: skip


def invoice_list(
    *, account_id: int | None = None, status: str | None = None, number: str | None = None
) -> QuerySet[Invoice]:
    """Invoices, optionally of one account, in one status or with one number (the API's list;
    the caller orders and pages it). Only :data:`INVOICE_LIST_FIELDS` are read."""
    rows = Invoice.objects.only(*INVOICE_LIST_FIELDS)
    if account_id is not None:
        rows = rows.filter(account_id=account_id)
    if status:
        rows = rows.filter(status=status)
    if number:
        rows = rows.filter(number=number)
    return rows


def invoice_unpaid_list(*, account: Account) -> QuerySet[Invoice]:
    """The account's outstanding invoices, oldest due first."""
    return Invoice.objects.filter(account=account, status=Invoice.Status.ISSUED).order_by(
        "due_date", "sequence"
    )


def invoice_get_for_account(*, account: Account, invoice_id: int) -> Invoice | None:
    return Invoice.objects.filter(account=account, pk=invoice_id).first()


def invoice_detail_for_account(*, account: Account, invoice_id: int) -> Invoice | None:
    """The invoice's page (UC2, X2): one of the account's invoices with its order, its credit
    note, and the invoices it replaces and that replace it; None when the account has no such
    invoice (another account's invoice is not found)."""
    return (
        Invoice.objects.filter(account=account, pk=invoice_id)
        .select_related("account", "order", "credit_note__document", "replaces", "replaced_by")
        .first()
    )
