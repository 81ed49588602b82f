from __future__ import annotations

from typing import Literal

from django.db.models import Q, QuerySet

from remit.billing.models import Account, Invoice, Order

OrderListStatus = Literal["paid", "unpaid", "void"]


def order_list_for_account(
    *,
    account: Account,
    status: OrderListStatus | None = None,
    year: int | None = None,
    search: str = "",
) -> QuerySet[Order]:
    """Orders & Invoices (UC2): every past order of the account, newest first.

    Never lists free-trial orders, which the payment platform invoiced (UC6), nor card checkouts
    that were never paid.
    """
    orders = (
        Order.objects.filter(account=account, is_free_trial=False)
        .exclude(status=Order.Status.AWAITING_CARD_PAYMENT)
        .select_related("invoice", "plan_size__plan")
        .order_by("-created_at", "-id")
    )
    if status == "paid":
        orders = orders.filter(status=Order.Status.PAID)
    elif status == "unpaid":
        orders = orders.filter(invoice__status=Invoice.Status.ISSUED)
    elif status == "void":
        orders = orders.filter(status=Order.Status.CANCELLED)
    if year is not None:
        orders = orders.filter(created_at__year=year)
    term = search.strip()
    if term:
        orders = orders.filter(
            Q(invoice__number__icontains=term)
            | Q(invoice__po_number__icontains=term)
            | Q(po_number__icontains=term)
        )
    return orders


def order_years_for_account(*, account: Account) -> list[int]:
    """Years that have listed orders, newest first (the year filter's choices)."""
    dates = order_list_for_account(account=account).dates("created_at", "year", order="DESC")
    return [day.year for day in dates]
