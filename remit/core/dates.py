from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from django.core.exceptions import ValidationError
from django.utils import timezone


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to the month's end (31 Jan + 1 -> 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def period_end(start: date, months: int) -> date:
    """Last day (inclusive) of a period of ``months`` starting on ``start``."""
    return add_months(start, months) - timedelta(days=1)


@cache
def _time_zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def validate_time_zone(name: str) -> None:
    """An IANA time zone name (Europe/Berlin); empty means the site's REMIT_TIME_ZONE."""
    if name and name not in _time_zone_names():
        raise ValidationError(
            "Enter a time zone name such as Europe/Berlin or America/New_York.",
            code="invalid_time_zone",
        )


def zone(name: str = "") -> tzinfo:
    """The time zone called ``name``, or the site's (REMIT_TIME_ZONE) when it is empty."""
    return ZoneInfo(name) if name else timezone.get_default_timezone()


def local_day(moment: datetime, *, time_zone: str = "") -> date:
    """The calendar day ``moment`` falls on in ``time_zone`` (empty: the site's zone)."""
    return moment.astimezone(zone(time_zone)).date()
