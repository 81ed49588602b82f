from __future__ import annotations

from django.db.models import QuerySet

from remit.billing.models import Account, Invoice


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
