"""How an audit event's values read in the back office: money as money, no database ids."""

from __future__ import annotations

from remit.backoffice.display import audit_changes
from remit.billing.models import AuditEvent


def test_audit_values_show_money_and_numbers_but_no_database_ids():
    event = AuditEvent(
        action="invoice.issued",
        old_values={"status": "issued"},
        new_values={
            "order": 1172,
            "invoice": 88,
            "account_id": 3,
            "replaces": None,
            "number": "INV-2026-000001",
            "status": "void",
            "total_minor": 25_650,
            "currency": "USD",
            "document": "INV-2026-000001-r2",
        },
    )

    assert audit_changes(event) == [
        "status: issued → void",
        "number: INV-2026-000001",
        "total: $256.50",
        "document: INV-2026-000001-r2",
    ]
