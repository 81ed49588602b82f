from __future__ import annotations

from datetime import date

from django import template
from django.utils.translation import get_language

from remit.core.i18n import format_day, format_money, format_quantity

register = template.Library()


@register.filter
def money(amount_minor: int, currency: str) -> str:
    """``{{ order.total_minor|money:order.currency }}`` in the page's language."""
    return format_money(amount_minor, currency, get_language() or "en")


@register.filter
def long_date(value: date) -> str:
    return format_day(value, get_language() or "en")


@register.filter
def quantity(value: int) -> str:
    """A count of credits, grouped for the page's language (12,500 / 12.500 / 12 500)."""
    return format_quantity(value, get_language() or "en")
