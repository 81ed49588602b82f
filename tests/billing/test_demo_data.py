"""`make run` loads demo data with remit_demo: idempotent, with a login per role."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from remit.billing.models import Account, Invoice, Order

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
