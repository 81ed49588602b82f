"""Money in integer minor units.

Amounts are stored and passed as ``int`` minor units with an ISO 4217 currency beside them.
Arithmetic that can produce fractions (tax, discounts) is done in ``Decimal`` and rounded once,
half-up, back to minor units. A currency's exponent comes from Babel (CLDR), so JPY has none and
BHD has three.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from functools import lru_cache

from babel.numbers import get_currency_precision, is_currency

ROUNDING = ROUND_HALF_UP
HUNDRED = Decimal(100)
# The range a BigIntegerField holds.
MIN_MINOR, MAX_MINOR = -(2**63), 2**63 - 1
# Amounts typed as text: plain decimal notation only (no exponents, underscores or spaces).
_AMOUNT_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?")


class MoneyError(ValueError):
    """An amount or currency that cannot be represented."""


@lru_cache(maxsize=1024)
def currency_is_known(currency: str) -> bool:
    return len(currency) == 3 and currency.isupper() and is_currency(currency)


@lru_cache(maxsize=1024)
def currency_exponent(currency: str) -> int:
    """Digits after the decimal point for ``currency`` (USD 2, JPY 0, BHD 3). Remembered per
    currency (Babel's lookup costs more than the arithmetic; unknown codes raise every time)."""
    if not currency_is_known(currency):
        raise MoneyError(f"Unknown currency {currency!r}")
    return int(get_currency_precision(currency))


def round_minor(value: Decimal) -> int:
    """Round an exact amount expressed in minor units to a whole minor unit, half-up."""
    return int(value.to_integral_value(rounding=ROUNDING))


def major_to_minor(amount: Decimal | str | int, currency: str) -> int:
    """Convert a major-unit amount to minor units, refusing amounts finer than the currency.

    ``major_to_minor("100.00", "USD") == 10000``; ``major_to_minor("1.005", "USD")`` raises:
    input amounts are never silently rounded.
    """
    if isinstance(amount, bool) or (isinstance(amount, str) and not _AMOUNT_TEXT.fullmatch(amount)):
        raise MoneyError(f"Not an amount: {amount!r}")
    try:
        value = Decimal(amount)
    except (InvalidOperation, TypeError, ValueError) as error:
        raise MoneyError(f"Not an amount: {amount!r}") from error
    if not value.is_finite():
        raise MoneyError(f"Not an amount: {amount!r}")
    exponent = currency_exponent(currency)
    with localcontext() as context:
        # Exact: enough digits that scaling never rounds.
        context.prec = max(28, len(value.as_tuple().digits) + exponent + 2)
        scaled = value.scaleb(exponent)
        if scaled != scaled.to_integral_value():
            raise MoneyError(f"{amount} has more decimals than {currency} allows")
    if not MIN_MINOR <= scaled <= MAX_MINOR:
        raise MoneyError(f"{amount} {currency} is too large")
    return int(scaled)


def minor_to_major(amount_minor: int, currency: str) -> Decimal:
    """The exact major-unit ``Decimal`` for an amount in minor units (with the currency's scale)."""
    exponent = currency_exponent(currency)
    return Decimal(amount_minor).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent))


def minor_to_decimal_string(amount_minor: int, currency: str) -> str:
    """``"1234.50"`` for 123450 USD; ``"1500"`` for 1500 JPY. Used in CSV, API and e-invoices."""
    return str(minor_to_major(amount_minor, currency))


def percentage_of(amount_minor: int, percent: Decimal) -> int:
    """``percent`` % of an amount, rounded half-up to a whole minor unit."""
    return round_minor(Decimal(amount_minor) * percent / HUNDRED)
