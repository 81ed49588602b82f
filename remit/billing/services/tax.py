"""Which tax applies to a sale (D4).

Rules, first match wins:
1. the customer is marked tax exempt -> exempt (E), 0 %;
2. seller in the EU, buyer in another EU member state with a valid VAT id -> reverse charge
   (AE), 0 %;
3. buyer in the seller's country, or seller and (consumer) buyer both in the EU -> the buyer
   country's standard rate (S); a country with no configured rate is zero rated (Z);
4. anything else (exports of services) -> outside the scope of tax (O), 0 %.

Rates are the built-in EU standard rates merged with ``REMIT_TAX_RATES`` overrides.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ImproperlyConfigured

from remit.billing.models import TaxCategory
from remit.core.config import billing_settings

EU_MEMBER_STATES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    ]
)

# Standard VAT rates in percent, as in force on 2026-01-01. Override with REMIT_TAX_RATES.
STANDARD_RATES: dict[str, Decimal] = {
    code: Decimal(rate)
    for code, rate in {
        "AT": "20", "BE": "21", "BG": "20", "CY": "19", "CZ": "21", "DE": "19", "DK": "25",
        "EE": "24", "ES": "21", "FI": "25.5", "FR": "20", "GR": "24", "HR": "25", "HU": "27",
        "IE": "23", "IT": "22", "LT": "21", "LU": "17", "LV": "21", "MT": "18", "NL": "21",
        "PL": "23", "PT": "23", "RO": "21", "SE": "25", "SI": "22", "SK": "23",
        "GB": "20", "CH": "8.1", "NO": "25",
    }.items()
}  # fmt: skip

REVERSE_CHARGE_NOTE = (
    "Reverse charge: VAT to be accounted for by the recipient (Article 196, Directive 2006/112/EC)"
)
EXEMPT_NOTE = "Exempt from tax"
OUTSIDE_SCOPE_NOTE = "Not subject to tax in the seller's country (place of supply outside)"


@dataclass(frozen=True)
class TaxDecision:
    category: str
    # Percent, two decimals.
    rate: Decimal
    note: str


def tax_rates() -> dict[str, Decimal]:
    rates = dict(STANDARD_RATES)
    raw = billing_settings().tax_rate_overrides
    for item in raw.split(","):
        if not item.strip():
            continue
        country, _sep, rate = item.partition("=")
        country = country.strip().upper()
        if len(country) != 2 or not country.isalpha():
            raise ImproperlyConfigured(f"REMIT_TAX_RATES: use a two-letter country in {item!r}")
        try:
            value = Decimal(rate.strip())
        except ArithmeticError as error:
            raise ImproperlyConfigured(f"REMIT_TAX_RATES: bad rate in {item!r}") from error
        if not value.is_finite() or not Decimal(0) <= value < Decimal(100):
            raise ImproperlyConfigured(f"REMIT_TAX_RATES: rate out of range in {item!r}")
        if value != value.quantize(Decimal("0.01")):
            raise ImproperlyConfigured(f"REMIT_TAX_RATES: at most two decimals in {item!r}")
        rates[country] = value
    return rates


def tax_decide(
    *, seller_country: str, buyer_country: str, buyer_tax_id: str, buyer_tax_exempt: bool
) -> TaxDecision:
    zero = Decimal("0.00")
    if buyer_tax_exempt:
        return TaxDecision(TaxCategory.EXEMPT, zero, EXEMPT_NOTE)
    seller_in_eu = seller_country in EU_MEMBER_STATES
    buyer_in_eu = buyer_country in EU_MEMBER_STATES
    if seller_in_eu and buyer_in_eu and buyer_country != seller_country and buyer_tax_id:
        return TaxDecision(TaxCategory.REVERSE_CHARGE, zero, REVERSE_CHARGE_NOTE)
    if buyer_country == seller_country or (seller_in_eu and buyer_in_eu):
        rate = tax_rates().get(buyer_country, zero)
        if rate == 0:
            return TaxDecision(TaxCategory.ZERO, zero, "")
        return TaxDecision(TaxCategory.STANDARD, rate.quantize(Decimal("0.01")), "")
    return TaxDecision(TaxCategory.OUTSIDE_SCOPE, zero, OUTSIDE_SCOPE_NOTE)
