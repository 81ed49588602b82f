"""Line, tax and document amounts in integer minor units.

Tax is computed per (category, rate) group on the sum of the group's line nets and rounded once,
half-up (EN 16931 BR-CO-17), so totals always equal the sum of their parts exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from remit.core.money import percentage_of


@dataclass(frozen=True)
class LineAmounts:
    description: str
    quantity: int
    unit_price_minor: int
    discount_minor: int
    net_minor: int
    tax_category: str
    tax_rate: Decimal


@dataclass(frozen=True)
class TaxLineAmounts:
    category: str
    rate: Decimal
    taxable_minor: int
    tax_minor: int
    note: str


@dataclass(frozen=True)
class DocumentAmounts:
    lines: tuple[LineAmounts, ...]
    tax_lines: tuple[TaxLineAmounts, ...]
    subtotal_minor: int
    tax_minor: int
    total_minor: int


def line_amounts(
    *,
    description: str,
    quantity: int,
    unit_price_minor: int,
    discount_percent: Decimal,
    tax_category: str,
    tax_rate: Decimal,
) -> LineAmounts:
    if quantity <= 0 or unit_price_minor < 0:
        raise ValueError("A line needs a positive quantity and a price >= 0")
    if not Decimal(0) <= discount_percent < Decimal(100):
        raise ValueError("A discount is a percentage from 0 up to (not including) 100")
    gross = quantity * unit_price_minor
    discount = percentage_of(gross, discount_percent)
    return LineAmounts(
        description=description,
        quantity=quantity,
        unit_price_minor=unit_price_minor,
        discount_minor=discount,
        net_minor=gross - discount,
        tax_category=tax_category,
        tax_rate=tax_rate,
    )


def document_amounts(
    lines: Sequence[LineAmounts], *, tax_notes: dict[str, str] | None = None
) -> DocumentAmounts:
    groups: dict[tuple[str, Decimal], int] = {}
    for line in lines:
        key = (line.tax_category, line.tax_rate)
        groups[key] = groups.get(key, 0) + line.net_minor
    tax_lines = tuple(
        TaxLineAmounts(
            category=category,
            rate=rate,
            taxable_minor=taxable,
            tax_minor=percentage_of(taxable, rate),
            note=(tax_notes or {}).get(category, ""),
        )
        for (category, rate), taxable in sorted(groups.items())
    )
    subtotal = sum(line.net_minor for line in lines)
    tax = sum(tax_line.tax_minor for tax_line in tax_lines)
    return DocumentAmounts(
        lines=tuple(lines),
        tax_lines=tax_lines,
        subtotal_minor=subtotal,
        tax_minor=tax,
        total_minor=subtotal + tax,
    )
