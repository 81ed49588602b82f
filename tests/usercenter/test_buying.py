"""Buying credits and plans (P1–P6) and paying (P1, P7) in the User Center."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from remit.billing.models import CheckoutSession, Invoice, Order, Payment
from remit.billing.selectors.credits import credit_balance
from tests.billing.helpers import buy_credits_by_invoice, table_counts
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(account):
    return MembershipFactory(account=account).user


@pytest.fixture
def signed_in(client, customer):
    client.force_login(customer)
    return client


def _key(page) -> str:
    return re.search(r'name="credits-idempotency_key" value="([^"]+)"', page.content.decode()).group(1)


def credits_post(client, credits, *, invoice=True, key=None, **extra):
    page = client.get(reverse("usercenter:buy"))
    data = {
        "credits-credits": str(credits),
        "credits-idempotency_key": key or _key(page),
        **extra,
    }
    if invoice:
        data["credits-create_invoice"] = "on"
        data.update(
            {
                "credits-billing-legal_name": "Acme Corp",
                "credits-billing-address_line1": "1 Main St",
                "credits-billing-city": "Springfield",
                "credits-billing-postal_code": "12345",
                "credits-billing-country": "US",
            }
        )
    return client.post(reverse("usercenter:buy_submit", args=["credits"]), data)


def test_the_buy_page_shows_prices_balance_and_both_forms(signed_in):
    page = signed_in.get(reverse("usercenter:buy"))
    body = page.content.decode()
    assert page.status_code == 200
    assert "Buy credits" in body and "Buy a monthly plan" in body
    assert "$1.00 per credit" in body
    assert "Test mode" in body


def test_credits_by_invoice_below_the_minimum_are_refused_with_the_minimum(signed_in, account):
    before = table_counts()
    response = credits_post(signed_in, 99)
    body = response.content.decode()
    assert response.status_code == 400
    assert "needs at least $100.00 of credits" in body
    assert table_counts() == before


def test_credits_by_invoice_at_the_minimum_issue_an_invoice_with_pending_credits(signed_in, account):
    response = credits_post(signed_in, 100)
    assert response.status_code == 302, re.findall(r"role=\"alert\">([^<]*)", response.content.decode())
    invoice = Invoice.objects.get(account=account)
    assert invoice.total_minor == 10_000
    assert credit_balance(account=account).pending == 100
    page = signed_in.get(response["Location"])
    assert invoice.number in page.content.decode()
