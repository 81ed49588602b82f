"""Line, tax and document amounts: exact integer arithmetic, tax per (category, rate) group."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from remit.billing.services.pricing import (
    DocumentAmounts,
    LineAmounts,
    TaxLineAmounts,
    document_amounts,
    line_amounts,
)

TAX_RATES = (
    ("S", Decimal("19.00")),
    ("S", Decimal("7.00")),
    ("S", Decimal("25.50")),
    ("AE", Decimal("0")),
    ("E", Decimal("0")),
)


def half_up(value: Fraction) -> int:
    """Exact half-up rounding (ties away from zero, as ``decimal.ROUND_HALF_UP``)."""
    magnitude = math.floor(abs(value) + Fraction(1, 2))
    return magnitude if value >= 0 else -magnitude


def line(
    quantity: int,
    unit_price_minor: int,
    discount_percent: str = "0",
    tax: tuple[str, Decimal] = ("S", Decimal("19.00")),
) -> LineAmounts:
    category, rate = tax
    return line_amounts(
        description="Item",
        quantity=quantity,
        unit_price_minor=unit_price_minor,
        discount_percent=Decimal(discount_percent),
        tax_category=category,
        tax_rate=rate,
    )


line_inputs = st.fixed_dictionaries(
    {
        "quantity": st.integers(min_value=1, max_value=10_000),
        "unit_price_minor": st.integers(min_value=0, max_value=10**9),
        "discount_percent": st.decimals(min_value=0, max_value=Decimal("99.99"), places=2),
        "tax": st.sampled_from(TAX_RATES),
    }
)


def amounts_of(document: DocumentAmounts) -> list[object]:
    values: list[object] = [document.subtotal_minor, document.tax_minor, document.total_minor]
    for item in document.lines:
        values += [item.quantity, item.unit_price_minor, item.discount_minor, item.net_minor]
    for tax_line in document.tax_lines:
        values += [tax_line.taxable_minor, tax_line.tax_minor]
    return values


@settings(max_examples=300)
@given(inputs=st.lists(line_inputs, min_size=1, max_size=10))
def test_document_amounts_are_exact_sums_of_their_parts(inputs):
    # given random lines with quantities, prices, discounts and a few tax rates
    lines = [
        line_amounts(
            description=f"Line {index}",
            quantity=item["quantity"],
            unit_price_minor=item["unit_price_minor"],
            discount_percent=item["discount_percent"],
            tax_category=item["tax"][0],
            tax_rate=item["tax"][1],
        )
        for index, item in enumerate(inputs)
    ]

    # when the document is totalled
    document = document_amounts(lines)

    # then each line's discount is the half-up percentage of its gross, and net = gross - discount
    for item, priced in zip(inputs, lines, strict=True):
        gross = item["quantity"] * item["unit_price_minor"]
        expected_discount = half_up(Fraction(gross) * Fraction(item["discount_percent"]) / 100)
        assert priced.discount_minor == expected_discount
        assert priced.net_minor == gross - expected_discount
        assert 0 <= priced.discount_minor <= gross
    # and there is one tax line per (category, rate), sorted, over the sum of its lines' nets
    groups: dict[tuple[str, Decimal], int] = {}
    for priced in lines:
        key = (priced.tax_category, priced.tax_rate)
        groups[key] = groups.get(key, 0) + priced.net_minor
    assert [(t.category, t.rate) for t in document.tax_lines] == sorted(groups)
    for tax_line in document.tax_lines:
        assert tax_line.taxable_minor == groups[(tax_line.category, tax_line.rate)]
        # and each group's tax is rounded once, half-up, from the exact product
        assert tax_line.tax_minor == half_up(
            Fraction(tax_line.taxable_minor) * Fraction(tax_line.rate) / 100
        )
        assert tax_line.note == ""
    # and the totals are exactly the sums of their parts
    assert document.lines == tuple(lines)
    assert document.subtotal_minor == sum(priced.net_minor for priced in lines)
    assert document.subtotal_minor == sum(t.taxable_minor for t in document.tax_lines)
    assert document.tax_minor == sum(t.tax_minor for t in document.tax_lines)
    assert document.total_minor == document.subtotal_minor + document.tax_minor
    # and every amount is a plain int
    assert all(type(value) is int for value in amounts_of(document))


def test_document_amounts_worked_example():
    # given lines at two standard rates and a reverse-charge line
    lines = [
        line(12, 4_900, "10", ("S", Decimal("19.00"))),  # 58800 - 5880 = 52920
        line(3, 999, "0", ("S", Decimal("19.00"))),  # 2997
        line(1, 10_000, "5", ("S", Decimal("7.00"))),  # 10000 - 500 = 9500
        line(2, 1_234, "0", ("AE", Decimal("0"))),  # 2468
    ]

    # when the document is totalled with a note for the reverse charge
    document = document_amounts(lines, tax_notes={"AE": "Reverse charge"})

    # then the lines, tax lines and totals are exactly these
    assert [(p.discount_minor, p.net_minor) for p in lines] == [
        (5_880, 52_920),
        (0, 2_997),
        (500, 9_500),
        (0, 2_468),
    ]
    assert document.tax_lines == (
        TaxLineAmounts("AE", Decimal("0"), 2_468, 0, "Reverse charge"),
        TaxLineAmounts("S", Decimal("7.00"), 9_500, 665, ""),
        TaxLineAmounts("S", Decimal("19.00"), 55_917, 10_624, ""),  # 10624.23
    )
    assert document.subtotal_minor == 67_885
    assert document.tax_minor == 11_289
    assert document.total_minor == 79_174


def test_tax_is_rounded_once_per_group_not_per_line():
    # given two lines of 0.01 each at 25.5 %, whose per-line tax (0.255) would round to 0
    lines = [line(1, 1, "0", ("S", Decimal("25.50"))), line(1, 1, "0", ("S", Decimal("25.50")))]

    # when the document is totalled
    document = document_amounts(lines)

    # then the group's tax is 0.51 rounded half-up: 1
    assert document.tax_lines == (TaxLineAmounts("S", Decimal("25.50"), 2, 1, ""),)
    assert (document.subtotal_minor, document.tax_minor, document.total_minor) == (2, 1, 3)


@pytest.mark.parametrize(
    ("unit_price_minor", "discount_percent", "expected_discount", "expected_net"),
    [
        (50, "1", 1, 49),  # 0.5 -> 1
        (250, "1", 3, 247),  # 2.5 -> 3
        (149, "1", 1, 148),  # 1.49 -> 1
        (4_900, "0", 0, 4_900),
        (4_900, "99.99", 4_900, 0),  # 4899.51 -> 4900
        (0, "50", 0, 0),
    ],
)
def test_line_discount_rounds_half_up(
    unit_price_minor, discount_percent, expected_discount, expected_net
):
    # given a single unit with a discount
    # when the line is priced
    priced = line(1, unit_price_minor, discount_percent)
    # then the discount is rounded half-up and the net is what remains
    assert (priced.discount_minor, priced.net_minor) == (expected_discount, expected_net)


def test_empty_document_is_all_zero():
    # given no lines
    # when the document is totalled
    document = document_amounts([])
    # then there are no tax lines and every total is 0
    assert document == DocumentAmounts(
        lines=(), tax_lines=(), subtotal_minor=0, tax_minor=0, total_minor=0
    )


@pytest.mark.parametrize(
    ("quantity", "unit_price_minor"),
    [(0, 100), (-1, 100), (1, -1), (0, -1), (-5, -5)],
)
def test_line_amounts_refuses_bad_input(quantity, unit_price_minor):
    # given a quantity that is not positive or a negative price
    # when the line is priced
    # then it is refused
    with pytest.raises(ValueError, match="positive quantity"):
        line(quantity, unit_price_minor)


@pytest.mark.parametrize("percent", [Decimal("-0.01"), Decimal(100), Decimal("150")])
def test_discounts_outside_zero_to_below_one_hundred_percent_are_refused(percent):
    with pytest.raises(ValueError, match="discount"):
        line_amounts(
            description="x",
            quantity=1,
            unit_price_minor=100,
            discount_percent=percent,
            tax_category="S",
            tax_rate=Decimal("19.00"),
        )
