from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.db.models import Case, DateTimeField, F, Q, QuerySet, When
from django.db.models.functions import ExtractYear, TruncDate

from remit.billing.models import Account, Invoice, Order
from remit.core.dates import zone

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
    that were never paid. Each order is annotated with ``ordered_at``, when it really happened
    (a card order when it was paid: one recorded later from the payment platform keeps the
    payment's time; any other order when it was placed), and ``ordered_on``, that moment's day
    in the account's time zone; the list is sorted and its year filtered by them.
    """
    time_zone = zone(account.time_zone)
    orders = (
        Order.objects.filter(account=account, is_free_trial=False)
        .exclude(status=Order.Status.AWAITING_CARD_PAYMENT)
        # A voided invoice's row names its credit note and its replacement (X2).
        .select_related(
            "invoice",
            "invoice__credit_note__document",
            "invoice__replaced_by",
            "plan_size__plan",
        )
        .annotate(
            ordered_at=Case(
                When(
                    payment_method=Order.PaymentMethod.CARD,
                    paid_at__isnull=False,
                    then=F("paid_at"),
                ),
                default=F("created_at"),
                output_field=DateTimeField(),
            )
        )
        .annotate(ordered_on=TruncDate("ordered_at", tzinfo=time_zone))
        .order_by("-ordered_at", "-id")
    )
    if status == "paid":
        orders = orders.filter(status=Order.Status.PAID)
    elif status == "unpaid":
        orders = orders.filter(invoice__status=Invoice.Status.ISSUED)
    elif status == "void":
        orders = orders.filter(status=Order.Status.CANCELLED)
    if year is not None:
        # A range, not ExtractYear(...)=year: Django rewrites that lookup into bounds in the
        # current time zone, ignoring the account's.
        orders = orders.filter(
            ordered_at__gte=datetime(year, 1, 1, tzinfo=time_zone),
            ordered_at__lt=datetime(year + 1, 1, 1, tzinfo=time_zone),
        )
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
    years = (
        order_list_for_account(account=account)
        .annotate(ordered_year=ExtractYear("ordered_at", tzinfo=zone(account.time_zone)))
        .order_by("-ordered_year")
        .values_list("ordered_year", flat=True)
        .distinct()
    )
    return list(years)
