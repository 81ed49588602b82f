"""Calendar-month arithmetic for subscription periods."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from remit.core.dates import add_months, period_end

starts = st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31))
month_counts = st.integers(min_value=1, max_value=120)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        # month-end clamping
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2025, 1, 30), 1, date(2025, 2, 28)),
        (date(2025, 1, 29), 1, date(2025, 2, 28)),
        (date(2025, 1, 28), 1, date(2025, 2, 28)),
        (date(2025, 3, 31), 1, date(2025, 4, 30)),
        (date(2025, 5, 31), 4, date(2025, 9, 30)),
        (date(2025, 8, 31), 1, date(2025, 9, 30)),
        # leap years: divisible by 4, except centuries not divisible by 400
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2000, 1, 31), 1, date(2000, 2, 29)),
        (date(2100, 1, 31), 1, date(2100, 2, 28)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 2, 29), 48, date(2028, 2, 29)),
        (date(2024, 2, 29), 1, date(2024, 3, 29)),
        # year rollover
        (date(2025, 12, 15), 1, date(2026, 1, 15)),
        (date(2025, 12, 31), 1, date(2026, 1, 31)),
        (date(2025, 12, 31), 2, date(2026, 2, 28)),
        (date(2025, 11, 30), 3, date(2026, 2, 28)),
        (date(2023, 11, 30), 3, date(2024, 2, 29)),
        (date(2025, 6, 30), 18, date(2026, 12, 30)),
        (date(2025, 1, 31), 12, date(2026, 1, 31)),
        (date(2025, 1, 31), 24, date(2027, 1, 31)),
        (date(2025, 1, 1), 12, date(2026, 1, 1)),
        # no change
        (date(2025, 1, 31), 0, date(2025, 1, 31)),
    ],
)
def test_add_months_clamps_to_month_end(day, months, expected):
    # given a day and a number of months
    # when the months are added
    # then the result is the same day-of-month, clamped to the target month's last day
    assert add_months(day, months) == expected


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 1), 1, date(2026, 1, 31)),
        (date(2026, 1, 1), 3, date(2026, 3, 31)),
        (date(2026, 1, 1), 12, date(2026, 12, 31)),
        (date(2026, 1, 15), 1, date(2026, 2, 14)),
        (date(2026, 2, 1), 1, date(2026, 2, 28)),
        (date(2024, 2, 1), 1, date(2024, 2, 29)),
        # the clamped end of the next month is the next period's first day
        (date(2026, 1, 31), 1, date(2026, 2, 27)),
        (date(2024, 1, 31), 1, date(2024, 2, 28)),
        (date(2024, 2, 29), 12, date(2025, 2, 27)),
        (date(2025, 12, 1), 3, date(2026, 2, 28)),
        (date(2025, 12, 31), 1, date(2026, 1, 30)),
        (date(2025, 7, 1), 6, date(2025, 12, 31)),
    ],
)
def test_period_end_is_the_day_before_the_same_day_months_later(start, months, expected):
    # given a period start and a term in months
    # when the inclusive end is computed
    # then it is the day before add_months(start, months)
    assert period_end(start, months) == expected


@settings(max_examples=300)
@given(start=starts, months=month_counts)
def test_period_end_plus_one_day_is_add_months(start, months):
    # given any start and term
    # when the period's inclusive end is computed
    end = period_end(start, months)
    # then the next period begins the day after it, and the period is not empty
    assert end + timedelta(days=1) == add_months(start, months)
    assert end >= start


@settings(max_examples=300)
@given(day=starts, months=st.integers(min_value=0, max_value=120))
def test_add_months_moves_exactly_n_calendar_months(day, months):
    # given any day and number of months
    # when the months are added
    result = add_months(day, months)
    # then the calendar month moves by exactly that many months, and the day of month is kept
    # unless the target month is shorter, in which case it is that month's last day
    assert (result.year * 12 + result.month) - (day.year * 12 + day.month) == months
    last_day = calendar.monthrange(result.year, result.month)[1]
    assert result.day == min(day.day, last_day)
    assert (result > day) is (months > 0)
