from __future__ import annotations

from django.db.models import QuerySet

from remit.billing.models import Account, PurchaseOrderNumber


def po_number_list(*, account: Account) -> QuerySet[PurchaseOrderNumber]:
    """The account's PO numbers, the default first."""
    return PurchaseOrderNumber.objects.filter(account=account).order_by("-is_default", "value")
