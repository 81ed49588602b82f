"""The parties of a document exactly as they are at issue (D2)."""

from __future__ import annotations

from typing import Any

from remit.billing.models import Account, BillingProfile
from remit.core.config import billing_settings

SNAPSHOT_VERSION = 1


def seller_snapshot() -> dict[str, Any]:
    config = billing_settings()
    return {
        "version": SNAPSHOT_VERSION,
        **config.seller,
        "support_email": config.support_email,
        "support_phone": config.support_phone,
    }


def buyer_snapshot(*, account: Account, profile: BillingProfile) -> dict[str, Any]:
    return {
        "version": SNAPSHOT_VERSION,
        "account_id": account.pk,
        "account_name": account.name,
        "legal_name": profile.legal_name,
        "address_line1": profile.address_line1,
        "address_line2": profile.address_line2,
        "city": profile.city,
        "postal_code": profile.postal_code,
        "region": profile.region,
        "country": profile.country,
        "tax_id": profile.tax_id,
        "tax_exempt": account.tax_exempt,
        "invoice_recipient_emails": list(profile.invoice_recipient_emails),
    }
