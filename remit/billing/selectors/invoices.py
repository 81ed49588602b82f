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
