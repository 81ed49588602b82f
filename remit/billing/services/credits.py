"""Credit ledger movements (P6). Each function is idempotent per order.

Only credit purchases move credits: a plan order (P5) carries its allowance in ``Order.credits``
but never touches the credit balance, pending or granted.
"""

from __future__ import annotations

from remit.billing.models import CreditLedgerEntry, Order

Kind = CreditLedgerEntry.Kind


def _buys_credits(order: Order) -> bool:
    return order.kind == Order.Kind.CREDITS and order.credits > 0


def _entry_exists(order: Order, kind: str) -> bool:
    return CreditLedgerEntry.objects.filter(order=order, kind=kind).exists()


def credits_pending_add(*, order: Order) -> None:
    """Credits bought by invoice show as pending until the invoice is paid. Called once, for
    a new order; the unique (order, kind) constraint refuses a second pending entry."""
    if _buys_credits(order):
        CreditLedgerEntry.objects.create(
            account_id=order.account_id,
            order=order,
            kind=Kind.PURCHASE_PENDING,
            pending_delta=order.credits,
            memo=order.description,
        )


def credits_grant(*, order: Order) -> None:
    """Move the order's credits to the usable balance (from pending if they were pending)."""
    if not _buys_credits(order) or _entry_exists(order, Kind.PURCHASE_GRANTED):
        return
    was_pending = _entry_exists(order, Kind.PURCHASE_PENDING)
    CreditLedgerEntry.objects.create(
        account_id=order.account_id,
        order=order,
        kind=Kind.PURCHASE_GRANTED,
        pending_delta=-order.credits if was_pending else 0,
        balance_delta=order.credits,
        memo=order.description,
    )


def credits_pending_cancel(*, order: Order) -> None:
    """Drop pending credits of an order whose invoice was voided before payment."""
    if (
        _buys_credits(order)
        and _entry_exists(order, Kind.PURCHASE_PENDING)
        and not _entry_exists(order, Kind.PURCHASE_GRANTED)
        and not _entry_exists(order, Kind.PURCHASE_CANCELLED)
    ):
        CreditLedgerEntry.objects.create(
            account_id=order.account_id,
            order=order,
            kind=Kind.PURCHASE_CANCELLED,
            pending_delta=-order.credits,
            memo=order.description,
        )
