from __future__ import annotations

import calendar
from datetime import date, timedelta


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to the month's end (31 Jan + 1 -> 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def period_end(start: date, months: int) -> date:
    """Last day (inclusive) of a period of ``months`` starting on ``start``."""
    return add_months(start, months) - timedelta(days=1)
