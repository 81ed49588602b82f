from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Sum

from remit.billing.models import Account, CreditLedgerEntry


@dataclass(frozen=True)
class CreditBalance:
    # Credits the account can use now.
    balance: int
    # Credits bought by invoice and granted when that invoice is paid (P6).
    pending: int


def credit_balance(*, account: Account) -> CreditBalance:
    totals = CreditLedgerEntry.objects.filter(account=account).aggregate(
        balance=Sum("balance_delta"), pending=Sum("pending_delta")
    )
    return CreditBalance(balance=totals["balance"] or 0, pending=totals["pending"] or 0)
