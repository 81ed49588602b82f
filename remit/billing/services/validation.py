"""Validation of customer-typed data: limits, formats and a clear message per field."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from functools import cache

from babel import Locale
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from stdnum import get_cc_module
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import InvalidChecksum, InvalidLength
from stdnum.exceptions import ValidationError as StdnumValidationError

from remit.billing.services.tax import EU_MEMBER_STATES
from remit.core.i18n import country_name
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


# How each EU VAT number is written, as python-stdnum checks it, for the error messages:
# (prefix as written, shape, counts). Shapes: "digits" (prefix and N digits), "digits_either"
# (N or M digits), "digits_range" (N to M digits), or a country's own wording.
_VAT_FORMATS: dict[str, tuple[str, str, tuple[int, ...]]] = {
    "AT": ("ATU", "digits", (8,)),
    "BE": ("BE", "digits", (10,)),
    "BG": ("BG", "digits_either", (9, 10)),
    "CY": ("CY", "CY", ()),
    "CZ": ("CZ", "digits_range", (8, 10)),
    "DE": ("DE", "digits", (9,)),
    "DK": ("DK", "digits", (8,)),
    "EE": ("EE", "digits", (9,)),
    "ES": ("ES", "ES", ()),
    "FI": ("FI", "digits", (8,)),
    "FR": ("FR", "FR", ()),
    "GR": ("EL", "digits", (9,)),
    "HR": ("HR", "digits", (11,)),
    "HU": ("HU", "digits", (8,)),
    "IE": ("IE", "IE", ()),
    "IT": ("IT", "digits", (11,)),
    "LT": ("LT", "digits_either", (9, 12)),
    "LU": ("LU", "digits", (8,)),
    "LV": ("LV", "digits", (11,)),
    "MT": ("MT", "digits", (8,)),
    "NL": ("NL", "NL", ()),
    "PL": ("PL", "digits", (10,)),
    "PT": ("PT", "digits", (9,)),
    "RO": ("RO", "digits_range", (2, 10)),
    "SE": ("SE", "SE", ()),
    "SI": ("SI", "digits", (8,)),
    "SK": ("SK", "digits", (10,)),
    # Outside the EU, with a stdnum validator and a simple form.
    "GB": ("GB", "digits_either", (9, 12)),
    "CH": ("CHE", "CH", ()),
}


def _vat_format(country: str) -> str:
    """ "DE followed by 9 digits", translated."""
    prefix, shape, counts = _VAT_FORMATS[country]
    if shape == "digits":
        return _("%(prefix)s followed by %(count)s digits") % {
            "prefix": prefix,
            "count": counts[0],
        }
    if shape == "digits_either":
        return _("%(prefix)s followed by %(count)s or %(other)s digits") % {
            "prefix": prefix,
            "count": counts[0],
            "other": counts[1],
        }
    if shape == "digits_range":
        return _("%(prefix)s followed by %(low)s to %(high)s digits") % {
            "prefix": prefix,
            "low": counts[0],
            "high": counts[1],
        }
    own = {
        "CY": _("CY followed by 8 digits and a letter"),
        "ES": _("ES followed by a letter or digit, 7 digits and a letter or digit"),
        "FR": _("FR followed by 2 letters or digits and 9 digits"),
        "IE": _("IE followed by 7 digits and 1 or 2 letters"),
        "NL": _("NL followed by 9 digits, the letter B and 2 digits"),
        "SE": _("SE followed by 12 digits ending in 01"),
        "CH": _("CHE followed by 9 digits and MWST, TVA or IVA"),
    }
    return own[shape]


def _tax_id_error(country: str, number: str, problem: str) -> str:
    """What is wrong with a tax/VAT number and the form the country expects, in the
    customer's language: "A VAT number from Germany is DE followed by 9 digits. The check
    digit of DE123456789 is wrong; check it for a typing error." """
    place = country_name(country, get_language() or "en")
    if country not in _VAT_FORMATS:
        return _("This is not a valid tax ID for %(country)s.") % {"country": place}
    expected = _("A VAT number from %(country)s is %(format)s.") % {
        "country": place,
        "format": _vat_format(country),
    }
    return f"{expected} {problem}"


def _stdnum_problem(error: StdnumValidationError, number: str) -> str:
    if isinstance(error, InvalidChecksum):
        return _("The check digit of %(number)s is wrong; check it for a typing error.") % {
            "number": number
        }
    if isinstance(error, InvalidLength):
        return _("%(number)s has too many or too few characters.") % {"number": number}
    return _("%(number)s does not have this form.") % {"number": number}


def clean_tax_id(errors: FieldErrors, name: str, value: str, country: str) -> str:
    """Normalise a tax/VAT id and check it against the country's format (python-stdnum).

    EU VAT numbers are stored with their prefix (EL for Greece), added when the customer left it
    out; GB numbers likewise keep their GB prefix. A refused number's message says what is
    wrong and the form the country expects, in the customer's language.
    """
    raw = value.strip()
    if not raw:
        return ""
    if country in EU_MEMBER_STATES:
        prefix = _VAT_PREFIX.get(country, country)
        compact = _compact_tax_id(raw)
        if compact[:2].isalpha():
            if compact[:2] != prefix:
                problem = _("%(number)s starts with %(given)s, not %(prefix)s.") % {
                    "number": compact,
                    "given": compact[:2],
                    "prefix": prefix,
                }
                errors.add(name, _tax_id_error(country, compact, problem))
                return raw
        else:
            compact = prefix + compact
        try:
            return str(eu_vat.validate(compact))
        except StdnumValidationError as error:
            errors.add(name, _tax_id_error(country, compact, _stdnum_problem(error, compact)))
            return raw
    module = get_cc_module(country.lower(), "vat") if country else None
    if module is not None:
        try:
            cleaned = str(module.validate(raw))
        except StdnumValidationError as error:
            number = _compact_tax_id(raw)
            errors.add(name, _tax_id_error(country, number, _stdnum_problem(error, number)))
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
