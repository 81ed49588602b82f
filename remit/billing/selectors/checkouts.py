from __future__ import annotations

from remit.billing.models import Account, CheckoutSession


def checkout_get_for_account(*, account: Account, token: str) -> CheckoutSession | None:
    if not token or len(token) > 64:
        return None
    return (
        CheckoutSession.objects.select_related("order", "invoice")
        .filter(account=account, token=token)
        .first()
    )
