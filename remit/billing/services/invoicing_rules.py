"""The rules that decide whether an account may create an invoice now (P2, P3, P4).

Each rule has exactly one function here; ``order_place`` and ``invoice_reissue`` call them while
holding the account lock, so the count in :func:`unpaid_invoice_limit_check` cannot race.
"""

from __future__ import annotations

from django.utils import timezone

from remit.billing.models import Account
from remit.billing.selectors.invoices import invoice_unpaid_list
from remit.core.config import billing_settings
from remit.core.errors import (
    CreditInvoiceBelowMinimum,
    InvoicingDuringTrialDisabled,
    UnpaidInvoiceLimitReached,
)
from remit.core.money import major_to_minor, minor_to_decimal_string


def invoicing_during_trial_allowed(account: Account) -> bool:
    if account.status != Account.Status.TRIAL:
        return True
    if not account.invoicing_during_trial_enabled:
        return False
    expires_at = account.invoicing_during_trial_expires_at
    return expires_at is None or expires_at > timezone.now()


def trial_invoicing_check(account: Account) -> None:
    """P3: a trial account invoices only if support enabled it (and it has not expired)."""
    if not invoicing_during_trial_allowed(account):
        config = billing_settings()
        raise InvoicingDuringTrialDisabled(
            "Invoices are not available during the free trial. Contact support to enable "
            "invoicing for your account.",
            details={"support_email": config.support_email, "support_phone": config.support_phone},
        )


def credit_invoice_minimum_minor(currency: str) -> int:
    minimum = billing_settings().credit_invoice_minimums.get(currency)
    return 0 if minimum is None else major_to_minor(minimum, currency)


def credit_invoice_minimum_check(*, currency: str, net_minor: int) -> None:
    """P2: credits bought by invoice must be worth at least the currency's minimum."""
    minimum = credit_invoice_minimum_minor(currency)
    if net_minor < minimum:
        raise CreditInvoiceBelowMinimum(
            f"An invoice for credits needs at least {minor_to_decimal_string(minimum, currency)} "
            f"{currency} of credits.",
            details={
                "minimum_minor": minimum,
                "minimum": minor_to_decimal_string(minimum, currency),
                "currency": currency,
                "requested_minor": net_minor,
            },
        )


def unpaid_invoice_limit(account: Account) -> int:
    if account.unpaid_invoice_limit is not None:
        return account.unpaid_invoice_limit
    return billing_settings().unpaid_invoice_limit


def unpaid_invoice_limit_check(account: Account) -> None:
    """P4: an account at its limit of unpaid invoices must pay one before creating another."""
    limit = unpaid_invoice_limit(account)
    if invoice_unpaid_list(account=account).count() >= limit:
        unpaid = list(invoice_unpaid_list(account=account))
        raise UnpaidInvoiceLimitReached(
            f"You have {len(unpaid)} unpaid invoices. Pay one of them before creating another.",
            details={
                "limit": limit,
                "invoices": [
                    {
                        "id": invoice.pk,
                        "number": invoice.number,
                        "total_minor": invoice.total_minor,
                        "total": minor_to_decimal_string(invoice.total_minor, invoice.currency),
                        "currency": invoice.currency,
                        "due_date": invoice.due_date.isoformat(),
                    }
                    for invoice in unpaid
                ],
            },
        )
