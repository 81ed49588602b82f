"""`make run` loads demo data with remit_demo: idempotent, with a login per role."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from remit.billing.models import Account, Invoice, Order
from remit.core.config import BANK_ENVIRONMENT, DEMO_BANK_DETAILS, bank_details_from_env
from remit.core.i18n import label
from remit.documents.models import Document
from remit.documents.services.rendering import document_render_data

pytestmark = pytest.mark.django_db


def test_demo_data_loads_once_with_customer_admin_and_role_logins():
    first = io.StringIO()
    call_command("remit_demo", stdout=first)
    counts = (Account.objects.count(), Order.objects.count(), Invoice.objects.count())
    second = io.StringIO()
    call_command("remit_demo", stdout=second)

    assert (Account.objects.count(), Order.objects.count(), Invoice.objects.count()) == counts
    assert first.getvalue() == second.getvalue()
    users = get_user_model().objects
    agent = users.get(username="agent@demo.remit.local")
    finance = users.get(username="finance@demo.remit.local")
    assert agent.has_perm("backoffice.answer_change_requests")
    assert not agent.has_perm("backoffice.void_invoices")
    assert finance.has_perm("backoffice.record_payments")
    assert users.get(username="support@demo.remit.local").is_superuser
    assert users.get(username="customer@demo.remit.local").check_password("remit-demo-2026")
    assert "agent@demo.remit.local" in first.getvalue()


def test_the_demo_invoices_can_be_paid_by_transfer_to_the_demo_bank_account(settings):
    # Given the demo's bank details (make run sets REMIT_DEMO_BANK_DETAILS)
    settings.REMIT_SELLER = {**settings.REMIT_SELLER, **DEMO_BANK_DETAILS}
    output = io.StringIO()

    # When the demo data is loaded
    call_command("remit_demo", stdout=output)

    # Then every unpaid demo invoice asks for a transfer to that account, with its number
    unpaid = Invoice.objects.filter(status=Invoice.Status.ISSUED).order_by("number")
    assert unpaid.count() == 2
    for invoice in unpaid:
        document = Document.objects.get(invoice=invoice, kind=Document.Kind.INVOICE)
        payment = document_render_data(document)["payment"]
        assert payment["text"] == label("pay_by_transfer", "en", reference=invoice.number)
        assert payment["rows"] == [
            ["Reference", invoice.number],
            ["Account holder", "Example SaaS Inc."],
            ["Bank", "Demo Bank (fictitious, for the demo only)"],
            ["Account number", "000123456789"],
            ["Routing number", "110000000"],
        ]
    assert (
        "Bank details on invoices: Demo Bank (fictitious, for the demo only) 000123456789"
        in output.getvalue()
    )


def test_the_demo_bank_details_apply_only_when_no_bank_variable_is_set(monkeypatch):
    for name in BANK_ENVIRONMENT.values():
        monkeypatch.delenv(name, raising=False)
    assert bank_details_from_env(demo=True) == {
        "bank_iban": "",
        "bank_bic": "",
        **DEMO_BANK_DETAILS,
    }
    assert set(bank_details_from_env(demo=False).values()) == {""}
    # An operator's own details (even only an IBAN) are never mixed with the demo's.
    monkeypatch.setenv("REMIT_BANK_IBAN", "DE89370400440532013000")
    assert bank_details_from_env(demo=True) == {
        **dict.fromkeys(BANK_ENVIRONMENT, ""),
        "bank_iban": "DE89370400440532013000",
    }


def test_make_run_turns_the_demo_bank_details_on():
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text(encoding="utf-8")
    assert "run: export REMIT_DEMO_BANK_DETAILS ?= true\n" in makefile
