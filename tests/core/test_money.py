"""Money in integer minor units: conversions, exact strings, half-up percentages."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from remit.core.money import (
    MoneyError,
    currency_exponent,
    currency_is_known,
    major_to_minor,
    minor_to_decimal_string,
    minor_to_major,
    percentage_of,
)

# Real ISO 4217 currencies covering every exponent CLDR uses: 0, 2, 3 and 4.
REAL_CURRENCIES = (
    "USD",
    "EUR",
    "GBP",
    "CHF",
    "SEK",
    "INR",
    "BRL",
    "MXN",
    "CNY",
    "ZAR",
    "JPY",
    "KRW",
    "ISK",
    "CLP",
    "VND",
    "UGX",
    "PYG",
    "BHD",
    "KWD",
    "OMR",
    "JOD",
    "TND",
    "LYD",
    "CLF",
)

# The range of the BigIntegerField columns that store minor units.
BIGINT_MIN = -(2**63)
BIGINT_MAX = 2**63 - 1

minor_amounts = st.integers(min_value=BIGINT_MIN, max_value=BIGINT_MAX)
currencies = st.sampled_from(REAL_CURRENCIES)


def half_up(value: Fraction) -> int:
    """Exact half-up rounding (ties away from zero, as ``decimal.ROUND_HALF_UP``)."""
    magnitude = math.floor(abs(value) + Fraction(1, 2))
    return magnitude if value >= 0 else -magnitude


def expected_decimal_string(amount_minor: int, exponent: int) -> str:
    """The plain decimal string of ``amount_minor`` with exactly ``exponent`` decimals."""
    sign = "-" if amount_minor < 0 else ""
    whole, fraction = divmod(abs(amount_minor), 10**exponent)
    if exponent == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{fraction:0{exponent}d}"


# --- currency exponents -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "exponent"),
    [
        ("USD", 2),
        ("EUR", 2),
        ("GBP", 2),
        ("JPY", 0),
        ("KRW", 0),
        ("CLP", 0),
        ("ISK", 0),
        ("BHD", 3),
        ("KWD", 3),
        ("OMR", 3),
        ("JOD", 3),
        ("TND", 3),
        ("CLF", 4),
    ],
)
def test_currency_exponent_follows_cldr(currency, exponent):
    # given a real ISO 4217 currency
    # when its exponent is looked up
    # then it is the number of minor-unit digits CLDR defines for it
    assert currency_is_known(currency) is True
    assert currency_exponent(currency) == exponent


@pytest.mark.parametrize("code", ["usd", "Usd", "XYZ", "ABC", "US", "", "USDD", "123", "EU R"])
def test_unknown_currency_codes_are_refused_everywhere(code):
    # given a code that is not an upper-case ISO 4217 currency
    # when any conversion is asked for it
    # then every entry point refuses it with MoneyError
    assert currency_is_known(code) is False
    with pytest.raises(MoneyError, match="Unknown currency"):
        currency_exponent(code)
    with pytest.raises(MoneyError, match="Unknown currency"):
        major_to_minor("1", code)
    with pytest.raises(MoneyError, match="Unknown currency"):
        minor_to_major(100, code)
    with pytest.raises(MoneyError, match="Unknown currency"):
        minor_to_decimal_string(100, code)


def test_money_error_is_a_value_error():
    # given / when / then: callers that catch ValueError also catch MoneyError
    assert issubclass(MoneyError, ValueError)


# --- major_to_minor -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("100.00", "USD", 10_000),
        ("100", "USD", 10_000),
        ("0.01", "USD", 1),
        ("-12.34", "USD", -1_234),
        ("1.500", "USD", 150),  # trailing zeros beyond the exponent are not finer
        ("1500", "JPY", 1_500),
        ("1500.00", "JPY", 1_500),
        ("1.234", "BHD", 1_234),
        ("-12.3", "BHD", -12_300),
        ("0.0001", "CLF", 1),
        (Decimal("19.99"), "EUR", 1_999),
        (7, "USD", 700),
        (7, "JPY", 7),
        ("0", "USD", 0),
    ],
)
def test_major_to_minor_exact_examples(amount, currency, expected):
    # given an amount with no more decimals than the currency allows
    # when it is converted to minor units
    # then the result is the exact integer
    result = major_to_minor(amount, currency)
    assert result == expected
    assert type(result) is int


@pytest.mark.parametrize(
    ("amount", "currency"),
    [
        ("1.005", "USD"),
        ("0.001", "USD"),
        ("-0.001", "USD"),
        ("1.5", "JPY"),
        ("0.1", "JPY"),
        ("1.0001", "BHD"),
        ("0.00001", "CLF"),
        (Decimal("19.999"), "EUR"),
    ],
)
def test_major_to_minor_refuses_amounts_finer_than_the_currency(amount, currency):
    # given an amount with more decimals than the currency has
    # when it is converted
    # then it is refused instead of silently rounded
    with pytest.raises(MoneyError, match="more decimals than"):
        major_to_minor(amount, currency)


@pytest.mark.parametrize(
    "amount",
    [
        "abc",
        "",
        " ",
        "1,50",
        "1.2.3",
        "12 EUR",
        "$5",
        None,
        [],
        {},
        object(),
        "NaN",
        "-NaN",
        "sNaN",
        "Infinity",
        "-Infinity",
        "inf",
        Decimal("NaN"),
        Decimal("sNaN"),
        Decimal("Infinity"),
        Decimal("-Infinity"),
        float("nan"),
        float("inf"),
    ],
    ids=lambda value: "object()" if type(value) is object else repr(value),
)
def test_major_to_minor_refuses_non_numbers(amount):
    # given something that is not a finite number
    # when it is converted
    # then it is refused with MoneyError
    with pytest.raises(MoneyError, match="Not an amount"):
        major_to_minor(amount, "USD")


def test_major_to_minor_refuses_finer_amounts_with_many_digits():
    # given an amount with a third decimal and 29 significant digits in minor units
    # when it is converted to USD minor units
    # then it is refused like any other amount with three decimals
    with pytest.raises(MoneyError):
        major_to_minor("12345678901234567890123456.785", "USD")


@settings(max_examples=200)
@given(amount_minor=minor_amounts, currency=currencies)
def test_minor_to_major_and_back_is_identity(amount_minor, currency):
    # given any amount in minor units in the stored range, in a real currency
    exponent = currency_exponent(currency)
    # when it is converted to major units and back
    major = minor_to_major(amount_minor, currency)
    back = major_to_minor(major, currency)
    # then nothing is lost, the major amount is exact and carries the currency's scale
    assert back == amount_minor
    assert type(back) is int
    assert Fraction(major) == Fraction(amount_minor, 10**exponent)
    assert major.as_tuple().exponent == -exponent


@settings(max_examples=200)
@given(amount_minor=minor_amounts, currency=currencies)
def test_decimal_string_round_trips_and_is_plain(amount_minor, currency):
    # given any amount in minor units in a real currency
    exponent = currency_exponent(currency)
    # when it is written as a decimal string
    text = minor_to_decimal_string(amount_minor, currency)
    # then the string is plain (no exponent), has exactly the currency's decimals,
    # and parses back to the same minor amount
    assert text == expected_decimal_string(amount_minor, exponent)
    assert major_to_minor(text, currency) == amount_minor


@settings(max_examples=200)
@given(
    amount_minor=st.integers(min_value=-(10**15), max_value=10**15),
    extra_digit=st.integers(min_value=1, max_value=9),
    currency=currencies,
)
def test_major_to_minor_refuses_one_more_decimal(amount_minor, extra_digit, currency):
    # given an amount with exactly one non-zero decimal more than the currency allows
    exponent = currency_exponent(currency)
    finer = Decimal(amount_minor * 10 + extra_digit).scaleb(-(exponent + 1))
    # when it is converted, as a Decimal or as its string
    # then it is refused both ways
    with pytest.raises(MoneyError):
        major_to_minor(finer, currency)
    with pytest.raises(MoneyError):
        major_to_minor(str(finer), currency)


# --- minor_to_decimal_string --------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount_minor", "currency", "expected"),
    [
        (123_450, "USD", "1234.50"),
        (1_500, "JPY", "1500"),
        (0, "USD", "0.00"),
        (0, "JPY", "0"),
        (1, "USD", "0.01"),
        (5, "EUR", "0.05"),
        (-5, "USD", "-0.05"),
        (-123_450, "USD", "-1234.50"),
        (-1_500, "JPY", "-1500"),
        (1, "BHD", "0.001"),
        (1_234_567, "BHD", "1234.567"),
        (-1_234_567, "KWD", "-1234.567"),
        (12_345, "CLF", "1.2345"),
        (10**15, "USD", "10000000000000.00"),
        (BIGINT_MAX, "USD", "92233720368547758.07"),
        (BIGINT_MIN, "USD", "-92233720368547758.08"),
    ],
)
def test_minor_to_decimal_string_exact(amount_minor, currency, expected):
    # given an amount in minor units
    # when it is written for CSV, API and e-invoices
    # then the string is exact, with the currency's number of decimals
    assert minor_to_decimal_string(amount_minor, currency) == expected


@pytest.mark.parametrize(
    ("amount_minor", "currency", "expected"),
    [
        (123_450, "USD", Decimal("1234.50")),
        (1_500, "JPY", Decimal("1500")),
        (-1, "BHD", Decimal("-0.001")),
    ],
)
def test_minor_to_major_exact(amount_minor, currency, expected):
    # given an amount in minor units
    # when it is converted to a major-unit Decimal
    # then value and scale are exact
    result = minor_to_major(amount_minor, currency)
    assert result == expected
    assert str(result) == str(expected)


# --- percentage_of ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount_minor", "percent", "expected"),
    [
        (50, "1", 1),  # 0.5 -> 1
        (250, "1", 3),  # 2.5 -> 3 (half-even would give 2)
        (150, "1", 2),  # 1.5 -> 2
        (149, "1", 1),  # 1.49 -> 1
        (151, "1", 2),  # 1.51 -> 2
        (1, "50", 1),  # 0.5 -> 1
        (3, "50", 2),  # 1.5 -> 2
        (5, "50", 3),  # 2.5 -> 3
        (10_000, "19", 1_900),
        (999, "25.5", 255),  # 254.745 -> 255
        (2, "25.5", 1),  # 0.51 -> 1
        (1, "25.5", 0),  # 0.255 -> 0
        (1, "0.01", 0),  # 0.0001 -> 0
        (5_000, "0.01", 1),  # 0.5 -> 1
        (58_800, "10", 5_880),
        (0, "19", 0),
        (12_345, "0", 0),
        (12_345, "100", 12_345),
        (-50, "1", -1),  # ties go away from zero
        (-250, "1", -3),
        (-149, "1", -1),
    ],
)
def test_percentage_of_rounds_half_up_exact(amount_minor, percent, expected):
    # given an amount and a percentage
    # when the percentage of the amount is taken
    # then the exact result is rounded half-up (ties away from zero) to an int
    result = percentage_of(amount_minor, Decimal(percent))
    assert result == expected
    assert type(result) is int


percents = st.one_of(
    st.decimals(min_value=0, max_value=100, places=2),
    st.decimals(min_value=0, max_value=100, places=4),
)


@settings(max_examples=300)
@given(
    amount_minor=st.integers(min_value=-(10**15), max_value=10**15),
    percent=percents,
)
def test_percentage_of_equals_exact_fraction_rounded_half_up(amount_minor, percent):
    # given an amount and a percentage with up to four decimals
    # when the percentage is taken
    result = percentage_of(amount_minor, percent)
    # then it equals the exact rational result rounded half-up, and is symmetric in sign
    assert result == half_up(Fraction(amount_minor) * Fraction(percent) / 100)
    assert percentage_of(-amount_minor, percent) == -result
    assert type(result) is int


@settings(max_examples=100)
@given(whole=st.integers(min_value=0, max_value=10**12))
def test_percentage_of_exact_ties_round_up(whole):
    # given an amount whose 1 % is exactly <whole>.5
    amount_minor = whole * 100 + 50
    # when 1 % is taken
    # then the tie rounds up, never to even
    assert percentage_of(amount_minor, Decimal(1)) == whole + 1


@pytest.mark.parametrize("amount", [True, False, "1_000", "1E+2", " 1.00", "1.00 ", "+1", ".5"])
def test_major_to_minor_accepts_only_plain_decimal_text(amount):
    with pytest.raises(MoneyError):
        major_to_minor(amount, "USD")


def test_major_to_minor_refuses_amounts_outside_the_database_range():
    assert major_to_minor("92233720368547758.07", "USD") == 2**63 - 1
    with pytest.raises(MoneyError, match="too large"):
        major_to_minor("92233720368547758.08", "USD")
    with pytest.raises(MoneyError, match="too large"):
        major_to_minor("-92233720368547758.09", "USD")
