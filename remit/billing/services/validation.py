"""Validation of customer-typed data: limits, formats and a clear message per field."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from functools import cache

from babel import Locale
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from stdnum import get_cc_module
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumValidationError

from remit.billing.services.tax import EU_MEMBER_STATES
from remit.core.validation import FieldErrors, clean_text

MAX_RECIPIENTS = 10
PO_NUMBER_MAX_LENGTH = 64
NOTES_MAX_LENGTH = 2000
REASON_MAX_LENGTH = 2000

# Countries that have no postal codes (UPU); everyone else must give one.
COUNTRIES_WITHOUT_POSTAL_CODES = frozenset(
    [
        "AE",
        "AG",
        "AO",
        "AW",
        "BF",
        "BI",
        "BJ",
        "BO",
        "BS",
        "BW",
        "BZ",
        "CD",
        "CF",
        "CG",
        "CI",
        "CK",
        "CM",
        "DJ",
        "DM",
        "ER",
        "FJ",
        "GA",
        "GD",
        "GH",
        "GM",
        "GQ",
        "GY",
        "HK",
        "KI",
        "KM",
        "KN",
        "KP",
        "LC",
        "ML",
        "MO",
        "MR",
        "MW",
        "NR",
        "NU",
        "QA",
        "RW",
        "SB",
        "SC",
        "SL",
        "SR",
        "ST",
        "SY",
        "TD",
        "TF",
        "TG",
        "TK",
        "TL",
        "TO",
        "TV",
        "UG",
        "VU",
        "YE",
        "ZW",
    ]
)
# Babel territory codes that are not countries.
_NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"})
# The prefix of EU VAT numbers where it differs from the ISO country code.
_VAT_PREFIX = {"GR": "EL"}


@cache
def country_codes() -> frozenset[str]:
    territories = dict(Locale("en").territories)
    return frozenset(
        str(code)
        for code in territories
        if len(str(code)) == 2 and str(code).isalpha() and code not in _NOT_COUNTRIES
    )


def _compact_tax_id(raw: str) -> str:
    return "".join(char for char in raw if char not in " .-/\t").upper()


def clean_tax_id(errors: FieldErrors, name: str, value: str, country: str) -> str:
    """Normalise a tax/VAT id and check it against the country's format (python-stdnum).

    EU VAT numbers are stored with their prefix (EL for Greece), added when the customer left it
    out; GB numbers likewise keep their GB prefix.
    """
    raw = value.strip()
    if not raw:
        return ""
    if country in EU_MEMBER_STATES:
        prefix = _VAT_PREFIX.get(country, country)
        compact = _compact_tax_id(raw)
        if compact[:2].isalpha():
            if compact[:2] != prefix:
                errors.add(name, f"A VAT number for this country starts with {prefix}.")
                return raw
        else:
            compact = prefix + compact
        try:
            return str(eu_vat.validate(compact))
        except StdnumValidationError:
            errors.add(name, f"This is not a valid VAT number for {country} ({prefix}…).")
            return raw
    module = get_cc_module(country.lower(), "vat") if country else None
    if module is not None:
        try:
            cleaned = str(module.validate(raw))
        except StdnumValidationError:
            errors.add(name, f"This is not a valid tax ID for {country}.")
            return raw
        return f"GB{cleaned}" if country == "GB" and cleaned[:1].isdigit() else cleaned
    compact = "".join(raw.split()).upper()
    if not 2 <= len(compact) <= 32 or not all(c.isalnum() or c in "-./" for c in compact):
        errors.add(name, "Use 2–32 letters, digits, dashes, dots or slashes.")
    return compact


def clean_emails(errors: FieldErrors, name: str, values: list[str] | tuple[str, ...]) -> list[str]:
    cleaned: list[str] = []
    values = [value for value in values if (value or "").strip()]
    if len(values) > MAX_RECIPIENTS:
        errors.add(name, f"Add at most {MAX_RECIPIENTS} recipients.")
        return list(values)
    for value in values:
        email = (value or "").strip()
        if not email:
            continue
        local, _at, domain = email.rpartition("@")
        email = f"{local}@{domain.lower()}" if local else email
        try:
            validate_email(email)
        except DjangoValidationError:
            errors.add(name, f"{email[:80]} is not a valid email address.")
            continue
        if email not in cleaned:
            cleaned.append(email)
    return cleaned


@dataclass(frozen=True)
class BillingProfileInput:
    """What a customer types in the billing-information dialog or Settings › Billing (UC3)."""

    legal_name: str
    address_line1: str
    city: str
    postal_code: str
    country: str
    address_line2: str = ""
    region: str = ""
    tax_id: str = ""
    invoice_recipient_emails: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, object]:
        values: dict[str, object] = {f.name: getattr(self, f.name) for f in fields(self)}
        values["invoice_recipient_emails"] = list(self.invoice_recipient_emails)
        return values


def billing_profile_input_clean(data: BillingProfileInput) -> BillingProfileInput:
    errors = FieldErrors()
    country = (data.country or "").strip().upper()
    if not country:
        errors.add("country", "This field is required.")
    elif country not in country_codes():
        errors.add("country", "Choose a country from the list.")
    cleaned = replace(
        data,
        legal_name=clean_text(errors, "legal_name", data.legal_name, max_length=200, required=True),
        address_line1=clean_text(
            errors, "address_line1", data.address_line1, max_length=200, required=True
        ),
        address_line2=clean_text(errors, "address_line2", data.address_line2, max_length=200),
        city=clean_text(errors, "city", data.city, max_length=100, required=True),
        postal_code=clean_text(
            errors,
            "postal_code",
            data.postal_code,
            max_length=20,
            required=country not in COUNTRIES_WITHOUT_POSTAL_CODES,
        ),
        region=clean_text(errors, "region", data.region, max_length=100),
        country=country,
        invoice_recipient_emails=tuple(
            clean_emails(errors, "invoice_recipient_emails", data.invoice_recipient_emails)
        ),
    )
    tax_id = clean_text(errors, "tax_id", data.tax_id, max_length=40)
    if "tax_id" not in errors.errors and "country" not in errors.errors:
        tax_id = clean_tax_id(errors, "tax_id", tax_id, country)
    errors.raise_if_any()
    return replace(cleaned, tax_id=tax_id)


def po_number_clean(errors: FieldErrors, name: str, value: str | None) -> str:
    return clean_text(errors, name, value, max_length=PO_NUMBER_MAX_LENGTH)


def notes_clean(errors: FieldErrors, name: str, value: str | None) -> str:
    return clean_text(errors, name, value, max_length=NOTES_MAX_LENGTH, multiline=True)


IDEMPOTENCY_KEY_MAX_LENGTH = 64
_IDEMPOTENCY_KEY_CHARACTERS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:"
)


def idempotency_key_clean(errors: FieldErrors, name: str, value: str | None) -> str | None:
    """``None`` (no key) or 1–64 characters of letters, digits and ``-_.:``."""
    if value is None:
        return None
    if not 0 < len(value) <= IDEMPOTENCY_KEY_MAX_LENGTH or not set(value).issubset(
        _IDEMPOTENCY_KEY_CHARACTERS
    ):
        errors.add(
            name,
            f"Use 1 to {IDEMPOTENCY_KEY_MAX_LENGTH} letters, digits or the characters - _ . :",
        )
        return None
    return value
