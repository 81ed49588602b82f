"""Gapless, duplicate-free document numbers per series (D1)."""

from __future__ import annotations

import enum
import string
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ImproperlyConfigured

from remit.billing.locks import document_counter_increment
from remit.core.config import billing_settings

ALLOWED_FIELDS = frozenset({"year", "number"})


class Series(enum.StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


@dataclass(frozen=True)
class DocumentNumber:
    series: str
    # The counter's year; 0 when the format has no {year} and numbering never restarts.
    year: int
    sequence: int
    number: str


def _number_format(series: Series) -> str:
    config = billing_settings()
    if config.invoice_number_format == config.credit_note_number_format:
        raise ImproperlyConfigured("Invoices and credit notes need different number formats")
    return (
        config.invoice_number_format
        if series is Series.INVOICE
        else config.credit_note_number_format
    )


def number_format_fields(number_format: str) -> set[str]:
    """The replacement fields of a number format; refuses formats that could repeat numbers."""
    try:
        fields = {
            name for _text, name, _spec, _conv in string.Formatter().parse(number_format) if name
        }
        number_format.format(year=2026, number=1)
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as error:
        raise ImproperlyConfigured(f"Bad document number format {number_format!r}") from error
    if "number" not in fields or not fields <= ALLOWED_FIELDS:
        raise ImproperlyConfigured(
            f"Document number format {number_format!r} must use {{number}} and may use {{year}}"
        )
    return fields


def document_number_take(*, series: Series, issue_date: date) -> DocumentNumber:
    """Take the next number of ``series``; call inside the issuing transaction.

    The counter row stays locked until that transaction ends; if it rolls back, so does the
    increment, which is what keeps the series gapless. A format without ``{year}`` keeps one
    continuous counter (year 0) so numbers never repeat across years.
    """
    number_format = _number_format(series)
    counter_year = issue_date.year if "year" in number_format_fields(number_format) else 0
    sequence = document_counter_increment(series=series.value, year=counter_year)
    return DocumentNumber(
        series=series.value,
        year=counter_year,
        sequence=sequence,
        number=number_format.format(year=issue_date.year, number=sequence),
    )
