"""Gapless document numbers: format validation, series, years and rollbacks."""

from __future__ import annotations

import contextlib
from datetime import date

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from remit.billing.models import DocumentCounter
from remit.billing.services.numbering import (
    DocumentNumber,
    Series,
    document_number_take,
    number_format_fields,
)

ISSUE_DAY = date(2026, 3, 15)


class Rollback(Exception):
    """Raised to roll the enclosing transaction back."""


def take(series: Series = Series.INVOICE, issue_date: date = ISSUE_DAY) -> DocumentNumber:
    return document_number_take(series=series, issue_date=issue_date)


def take_rolled_back() -> DocumentNumber:
    """Take an invoice number in a transaction (or savepoint) that then rolls back."""
    taken: list[DocumentNumber] = []
    with contextlib.suppress(Rollback), transaction.atomic():
        taken.append(take())
        raise Rollback
    return taken[0]


def counters() -> list[tuple[str, int, int]]:
    return sorted(DocumentCounter.objects.values_list("series", "year", "last_sequence"))


@pytest.fixture
def number_formats(settings):
    """The shipped formats, whatever the environment configures."""
    settings.REMIT_INVOICE_NUMBER_FORMAT = "INV-{year}-{number:06d}"
    settings.REMIT_CREDIT_NOTE_NUMBER_FORMAT = "CN-{year}-{number:06d}"


# --- number_format_fields -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("number_format", "fields"),
    [
        ("INV-{year}-{number:06d}", {"year", "number"}),
        ("{number}", {"number"}),
        ("CN/{number:05d}/{year}", {"year", "number"}),
        ("{year:04d}{number:08d}", {"year", "number"}),
        ("{number}-{{draft}}", {"number"}),  # escaped braces are literal text
    ],
)
def test_number_format_fields_accepts_number_and_year(number_format, fields):
    # given a format using {number} and possibly {year}
    # when it is validated
    # then its fields are returned
    assert number_format_fields(number_format) == fields


@hypothesis_settings(max_examples=100)
@given(
    prefix=st.text(alphabet=st.characters(exclude_characters="{}"), max_size=12),
    suffix=st.text(alphabet=st.characters(exclude_characters="{}"), max_size=12),
)
def test_any_literal_text_around_number_is_accepted(prefix, suffix):
    # given literal text (no braces) around {number}
    # when the format is validated
    # then only the number field is found
    assert number_format_fields(f"{prefix}{{number}}{suffix}") == {"number"}


@pytest.mark.parametrize(
    "number_format",
    ["INV-{year}", "INV", "", "{{number}}", "{year}-{{number}}"],
)
def test_number_format_without_number_is_refused(number_format):
    # given a format that cannot produce distinct numbers
    # when it is validated
    # then it is refused
    with pytest.raises(ImproperlyConfigured, match="must use"):
        number_format_fields(number_format)


@pytest.mark.parametrize(
    "number_format",
    [
        "{number}-{month}",
        "{customer}-{number}",
        "{number}{0}",
        "{}{number}",
        "{year.real}{number}",
        "{number.real}",
    ],
)
def test_number_format_with_unknown_fields_is_refused(number_format):
    # given a format with a field other than {number} and {year}
    # when it is validated
    # then it is refused
    with pytest.raises(ImproperlyConfigured, match=r"(?i)document number format"):
        number_format_fields(number_format)


@pytest.mark.parametrize(
    "number_format",
    [
        "{number",
        "number}",
        "INV-{year-{number}",
        "{number!x}",
        "{number:s}",
        "{number:06q}",
        "{number:{width}}",
        "{number[0]}",
        "{number.foo}",
    ],
)
def test_malformed_number_format_is_refused(number_format):
    # given a format that str.format cannot apply
    # when it is validated
    # then it is refused as a bad format
    with pytest.raises(ImproperlyConfigured, match=r"(?i)document number format"):
        number_format_fields(number_format)


# --- document_number_take -----------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.usefixtures("number_formats")
def test_numbers_are_taken_one_two_three():
    # given the default invoice format and no invoices yet
    # when three numbers are taken in the issuing transaction
    with transaction.atomic():
        taken = [take(), take(), take()]
    # then they are 1, 2, 3 of the year's series, formatted as configured
    assert taken == [
        DocumentNumber(series="invoice", year=2026, sequence=1, number="INV-2026-000001"),
        DocumentNumber(series="invoice", year=2026, sequence=2, number="INV-2026-000002"),
        DocumentNumber(series="invoice", year=2026, sequence=3, number="INV-2026-000003"),
    ]
    assert counters() == [("invoice", 2026, 3)]


@pytest.mark.django_db
@pytest.mark.usefixtures("number_formats")
def test_numbers_follow_the_configured_format(settings):
    # given custom formats for both series
    settings.REMIT_INVOICE_NUMBER_FORMAT = "R{year}/{number:04d}"
    settings.REMIT_CREDIT_NOTE_NUMBER_FORMAT = "G-{number}-{year}"
    # when one number of each series is taken
    with transaction.atomic():
        invoice, credit_note = take(Series.INVOICE), take(Series.CREDIT_NOTE)
    # then each is formatted with its series' format
    assert invoice.number == "R2026/0001"
    assert credit_note.number == "G-1-2026"


@pytest.mark.django_db
@pytest.mark.usefixtures("number_formats")
def test_series_count_independently():
    # given invoices and credit notes issued in turn
    # when numbers are taken for both series
    with transaction.atomic():
        numbers = [
            take(Series.INVOICE).number,
            take(Series.INVOICE).number,
            take(Series.CREDIT_NOTE).number,
            take(Series.INVOICE).number,
            take(Series.CREDIT_NOTE).number,
        ]
    # then each series has its own gapless counter
    assert numbers == [
        "INV-2026-000001",
        "INV-2026-000002",
        "CN-2026-000001",
        "INV-2026-000003",
        "CN-2026-000002",
    ]
    assert counters() == [("credit_note", 2026, 2), ("invoice", 2026, 3)]


@pytest.mark.django_db
@pytest.mark.usefixtures("number_formats")
def test_a_new_year_restarts_at_one_with_a_year_format():
    # given two invoices numbered in 2025
    with transaction.atomic():
        last_year = [take(issue_date=date(2025, 12, 31)), take(issue_date=date(2025, 12, 31))]
    # when invoices are issued on 1 January and, late, again dated 2025
    with transaction.atomic():
        new_year = take(issue_date=date(2026, 1, 1))
        late = take(issue_date=date(2025, 12, 31))
    # then the new year starts at 1 and each year keeps its own counter
    assert [n.number for n in last_year] == ["INV-2025-000001", "INV-2025-000002"]
    assert new_year == DocumentNumber(
        series="invoice", year=2026, sequence=1, number="INV-2026-000001"
    )
    assert late == DocumentNumber(series="invoice", year=2025, sequence=3, number="INV-2025-000003")
    assert counters() == [("invoice", 2025, 3), ("invoice", 2026, 1)]


@pytest.mark.django_db
@pytest.mark.usefixtures("number_formats")
def test_a_format_without_year_keeps_one_counter_across_years(settings):
    # given an invoice format without {year}
    settings.REMIT_INVOICE_NUMBER_FORMAT = "{number:05d}"
    # when invoices are issued across two year ends
    with transaction.atomic():
        taken = [
            take(issue_date=date(2025, 12, 31)),
            take(issue_date=date(2026, 1, 1)),
            take(issue_date=date(2027, 6, 30)),
        ]
    # then numbering never restarts, on the single year-0 counter
    assert taken == [
        DocumentNumber(series="invoice", year=0, sequence=1, number="00001"),
        DocumentNumber(series="invoice", year=0, sequence=2, number="00002"),
        DocumentNumber(series="invoice", year=0, sequence=3, number="00003"),
    ]
    assert counters() == [("invoice", 0, 3)]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("number_formats")
def test_a_rolled_back_issue_gives_its_number_back():
    # given invoice 1 committed
    with transaction.atomic():
        first = take()
    # when invoice 2 is taken in a transaction that rolls back
    rolled_back = take_rolled_back()
    # then the next issue gets 2 again: no gap
    with transaction.atomic():
        again = take()
    assert first.number == "INV-2026-000001"
    assert rolled_back.number == "INV-2026-000002"
    assert again == DocumentNumber(
        series="invoice", year=2026, sequence=2, number="INV-2026-000002"
    )
    assert counters() == [("invoice", 2026, 2)]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("number_formats")
def test_a_rolled_back_first_issue_gives_number_one_back():
    # given no counter row yet, and the first issue of the year rolls back
    rolled_back = take_rolled_back()
    # when the next invoice is issued
    with transaction.atomic():
        again = take()
    # then it is number 1 again
    assert rolled_back.sequence == 1
    assert again.number == "INV-2026-000001"
    assert counters() == [("invoice", 2026, 1)]


@pytest.mark.django_db
@pytest.mark.usefixtures("number_formats")
def test_a_rolled_back_savepoint_gives_its_number_back():
    # given invoice 1 taken in the outer transaction
    with transaction.atomic():
        first = take()
        # when invoice 2 is taken in a nested block that rolls back
        rolled_back = take_rolled_back()
        # then the next take in the outer transaction gets 2 again
        again = take()
    assert (first.sequence, rolled_back.sequence, again.sequence) == (1, 2, 2)
    assert again.number == "INV-2026-000002"


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("number_formats")
def test_taking_a_number_outside_a_transaction_is_refused():
    # given no enclosing transaction (autocommit)
    # when a number is taken
    # then it is refused, and no counter is created or incremented
    with pytest.raises(RuntimeError, match=r"transaction\.atomic"):
        take()
    assert counters() == []


@pytest.mark.django_db
@pytest.mark.usefixtures("number_formats")
def test_a_bad_configured_format_is_refused_before_counting(settings):
    # given an invoice format without {number}
    settings.REMIT_INVOICE_NUMBER_FORMAT = "INV-{year}"
    # when a number is taken
    # then configuration is reported as broken and nothing is counted
    with pytest.raises(ImproperlyConfigured), transaction.atomic():
        take()
    assert counters() == []


@pytest.mark.django_db
def test_identical_invoice_and_credit_note_formats_are_refused(settings):
    settings.REMIT_INVOICE_NUMBER_FORMAT = "DOC-{number}"
    settings.REMIT_CREDIT_NOTE_NUMBER_FORMAT = "DOC-{number}"

    with pytest.raises(ImproperlyConfigured, match="different"), transaction.atomic():
        document_number_take(series=Series.CREDIT_NOTE, issue_date=date(2026, 1, 1))
