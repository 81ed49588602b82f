from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet, Sum

from remit.billing.models import Account, CreditLedgerEntry, Order


@dataclass(frozen=True)
class CreditBalance:
    # Credits the account can use now.
    balance: int
    # Credits bought by invoice and granted when that invoice is paid (P6).
    pending: int


def credit_entries(*, account: Account) -> QuerySet[CreditLedgerEntry]:
    """The account's credit movements. Entries of plan orders, written before plans stopped
    moving credits, are left out: a plan's allowance is never credits (P5)."""
    return CreditLedgerEntry.objects.filter(account=account).exclude(
        order__kind=Order.Kind.SUBSCRIPTION
    )


def credit_balance(*, account: Account) -> CreditBalance:
    totals = credit_entries(account=account).aggregate(
        balance=Sum("balance_delta"), pending=Sum("pending_delta")
    )
    return CreditBalance(balance=totals["balance"] or 0, pending=totals["pending"] or 0)
