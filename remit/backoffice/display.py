"""How the back office shows amounts, audit events and small tables: as a finance tool reads,
never as database columns ("$256.50", not "subtotal_minor: 25650")."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from remit.billing.models import AuditEvent
from remit.core.i18n import format_money

# The back office is in English; amounts use the English (US) conventions of CLDR.
BACK_OFFICE_LANGUAGE = "en"
MINOR_SUFFIX = "_minor"


def money(amount_minor: int | None, currency: str) -> str:
    """``$256.50``, ``€1,234.00``, ``¥7,000`` (the currency's own exponent)."""
    if amount_minor is None:
        return "–"
    return format_money(amount_minor, currency, BACK_OFFICE_LANGUAGE)


def html_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, empty: str = "–") -> str:
    """A small table; cells are escaped unless they are already safe HTML (links)."""
    body = format_html_join(
        "",
        "<tr>{}</tr>",
        (
            (format_html_join("", "<td>{}</td>", ((conditional_escape(cell),) for cell in row)),)
            for row in rows
        ),
    )
    if not body:
        return empty
    head = format_html_join("", '<th scope="col">{}</th>', ((header,) for header in headers))
    return format_html('<table class="backoffice-table"><tr>{}</tr>{}</table>', head, body)


def _label(key: str) -> str:
    name = key.removesuffix(MINOR_SUFFIX) if key.endswith(MINOR_SUFFIX) else key
    return name.replace("_", " ")


def _value(key: str, value: Any, currency: str) -> str:
    if value is None or value == "":
        return "–"
    if key.endswith(MINOR_SUFFIX) and isinstance(value, int) and currency:
        return money(value, currency)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "–"
    return str(value)


def audit_changes(event: AuditEvent, *, currency: str = "") -> list[str]:
    """One line per value an event recorded: ``status: unpaid → void``, ``total: $150.00``.
    Amounts in minor units are shown as money in the event's (or the account's) currency."""
    old, new = event.old_values or {}, event.new_values or {}
    code = str(new.get("currency") or old.get("currency") or currency)
    keys = [
        key
        for key in {**old, **new}
        if not (key == "currency" and _has_amount(old, new))
        and not _is_reference(key, old.get(key), new.get(key))
    ]
    lines = []
    for key in keys:
        label = _label(key)
        if key in old and key in new:
            lines.append(f"{label}: {_value(key, old[key], code)} → {_value(key, new[key], code)}")
        elif key in new:
            lines.append(f"{label}: {_value(key, new[key], code)}")
        else:
            lines.append(f"{label}: {_value(key, old[key], code)} → –")
    return lines


# Audit values that hold another row's database id: kept in the record, not shown (the page
# links the documents themselves, by number). Under these names a number (not text, such as a
# document's number) or nothing is such an id.
REFERENCE_KEYS = frozenset(
    {"id", "order", "invoice", "payment", "change_request", "email", "document", "replaces"}
)


def _is_reference(key: str, *values: Any) -> bool:
    if key.endswith("_id"):
        return True
    return key in REFERENCE_KEYS and all(
        value is None or (isinstance(value, int) and not isinstance(value, bool))
        for value in values
    )


def _has_amount(old: dict[str, Any], new: dict[str, Any]) -> bool:
    return any(key.endswith(MINOR_SUFFIX) for key in (*old, *new))


def audit_action(event: AuditEvent) -> str:
    """``invoice.voided`` → ``Invoice voided``."""
    return event.action.replace(".", " ").replace("_", " ").capitalize()


def lines_html(lines: Sequence[str]) -> SafeString:
    return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines)) or mark_safe("–")


def audit_table(events: Iterable[AuditEvent], *, currency: str = "") -> str:
    """The audit trail as a finance tool shows it: when, who, what, old → new, reason."""
    return html_table(
        ("When", "Who", "What", "Old → new", "Reason"),
        (
            (
                f"{event.created_at:%Y-%m-%d %H:%M}",
                event.actor_label,
                audit_action(event),
                lines_html(audit_changes(event, currency=currency)),
                event.reason or "–",
            )
            for event in events
        ),
    )
