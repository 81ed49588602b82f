from __future__ import annotations

from datetime import date, datetime

from django import template
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from remit.core.dates import local_day
from remit.core.i18n import format_day, format_money, format_quantity
from remit.documents.models import Document

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


@register.filter
def document_title(document: Document) -> str:
    """What a document is, in words: "Invoice INV-2026-000123", "Invoice INV-2026-000123,
    revision 2", "Credit note CN-2026-000007", "Payment receipt for INV-2026-000123"."""
    if document.kind == Document.Kind.CREDIT_NOTE:
        return _("Credit note %(number)s") % {"number": document.number}
    if document.kind == Document.Kind.RECEIPT:
        return _("Payment receipt for %(number)s") % {"number": document.number}
    if (document.invoice_revision or 1) > 1:
        return _("Invoice %(number)s, revision %(revision)s") % {
            "number": document.number,
            "revision": document.invoice_revision,
        }
    return _("Invoice %(number)s") % {"number": document.number}


@register.filter
def account_day(moment: datetime | None, time_zone: str = "") -> str:
    """A moment's day in the account's time zone, written out for the page's language."""
    if moment is None:
        return ""
    return format_day(local_day(moment, time_zone=time_zone), get_language() or "en")
