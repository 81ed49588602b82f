"""Reading configuration from the environment, and the typed view of the billing settings."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {raw!r}") from error


def env_bool(name: str, *, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {raw!r}")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


# The seller's bank account (P7), field of the seller snapshot -> environment variable.
BANK_ENVIRONMENT = {
    "bank_account_holder": "REMIT_BANK_ACCOUNT_HOLDER",
    "bank_name": "REMIT_BANK_NAME",
    "bank_iban": "REMIT_BANK_IBAN",
    "bank_bic": "REMIT_BANK_BIC",
    "bank_account_number": "REMIT_BANK_ACCOUNT_NUMBER",
    "bank_routing_number": "REMIT_BANK_ROUTING_NUMBER",
}
# The demo seller's (fictitious) bank account, so that a demo invoice can be paid as it says:
# `make run` sets REMIT_DEMO_BANK_DETAILS. Never used once any REMIT_BANK_* variable is set.
DEMO_BANK_DETAILS = {
    "bank_account_holder": "Example SaaS Inc.",
    "bank_name": "Demo Bank (fictitious, for the demo only)",
    "bank_account_number": "000123456789",
    "bank_routing_number": "110000000",
}


def bank_details_from_env(*, demo: bool) -> dict[str, str]:
    """The seller's bank details from REMIT_BANK_*; the demo's when ``demo`` and none is set.
    All empty: invoices ask to be paid online, never by bank transfer."""
    configured = {field: os.environ.get(name, "") for field, name in BANK_ENVIRONMENT.items()}
    if demo and not any(name in os.environ for name in BANK_ENVIRONMENT.values()):
        return {**configured, **DEMO_BANK_DETAILS}
    return configured


def parse_currency_amounts(raw: str) -> dict[str, Decimal]:
    """Parse ``"USD=100.00,JPY=15000"`` into ``{"USD": Decimal("100.00"), ...}``."""
    amounts: dict[str, Decimal] = {}
    for item in raw.split(","):
        if not item.strip():
            continue
        code, separator, value = item.partition("=")
        code = code.strip().upper()
        if not separator or len(code) != 3 or not code.isalpha():
            raise ImproperlyConfigured(f"Expected CURRENCY=AMOUNT, got {item!r}")
        try:
            amount = Decimal(value.strip())
        except InvalidOperation as error:
            raise ImproperlyConfigured(f"Not an amount for {code}: {value!r}") from error
        if amount < 0:
            raise ImproperlyConfigured(f"Amount for {code} must not be negative")
        amounts[code] = amount
    return amounts


def secret_key_from_file(path: Path) -> str:
    """The key kept in ``path``; a random one is written there (readable by the owner only) the
    first time, so every process started with the same file shares it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    # Written whole to a private temporary file, then linked into place: a process starting at
    # the same moment reads either no file or the whole key, never an empty one.
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    temporary.write_text(secrets.token_urlsafe(50))
    temporary.chmod(0o600)
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass  # another process was first: its key is the one
    finally:
        temporary.unlink()
    return path.read_text().strip()


@dataclass(frozen=True)
class BillingSettings:
    default_currency: str
    credit_invoice_minimums: dict[str, Decimal]
    unpaid_invoice_limit: int
    payment_terms_days: int
    invoice_number_format: str
    credit_note_number_format: str
    tax_rate_overrides: str
    seller: dict[str, str]
    support_email: str
    support_phone: str


def billing_settings() -> BillingSettings:
    """The billing rules' configuration, read at call time so tests can override settings."""
    from django.conf import settings

    return BillingSettings(
        default_currency=settings.REMIT_DEFAULT_CURRENCY,
        credit_invoice_minimums=settings.REMIT_CREDIT_INVOICE_MINIMUMS,
        unpaid_invoice_limit=settings.REMIT_UNPAID_INVOICE_LIMIT,
        payment_terms_days=settings.REMIT_PAYMENT_TERMS_DAYS,
        invoice_number_format=settings.REMIT_INVOICE_NUMBER_FORMAT,
        credit_note_number_format=settings.REMIT_CREDIT_NOTE_NUMBER_FORMAT,
        tax_rate_overrides=settings.REMIT_TAX_RATES,
        seller=dict(settings.REMIT_SELLER),
        support_email=settings.REMIT_SUPPORT_EMAIL,
        support_phone=settings.REMIT_SUPPORT_PHONE,
    )
