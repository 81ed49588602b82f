"""Orders & Invoices (UC2, UC6): what the list shows, in which order, filtered and searched."""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine

from remit.billing.models import Order
from remit.billing.selectors.orders import order_list_for_account, order_years_for_account
from remit.billing.services.invoices import invoice_void
from tests.billing.helpers import (
    ACTOR,
    buy_credits_by_card,
    buy_credits_by_invoice,
    pay_card_order,
    pay_invoice,
    record_platform_order,
)
from tests.factories import AccountFactory, BillingProfileFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(account):
    """Orders across two years in every state, plus noise that must never be listed."""
    with time_machine.travel("2025-06-01 10:00Z"):
        paid_2025 = buy_credits_by_invoice(account, credits=100, po_number="PO-OLD")
        pay_invoice(paid_2025)
    with time_machine.travel("2026-02-01 10:00Z"):
        void_2026 = buy_credits_by_invoice(account, credits=200)
        invoice_void(invoice=void_2026, actor=ACTOR, reason_code="duplicate", reason="")
    with time_machine.travel("2026-03-01 10:00Z"):
        card = buy_credits_by_card(account, credits=30)
        pay_card_order(card)
    with time_machine.travel("2026-04-01 10:00Z"):
        unpaid_2026 = buy_credits_by_invoice(account, credits=300, po_number="PO-NEW-7")
        buy_credits_by_card(account, credits=5)  # abandoned checkout: never listed
        record_platform_order(account, reference="trial", is_free_trial=True)  # never listed (UC6)
    other = AccountFactory()
    BillingProfileFactory(account=other)
    buy_credits_by_invoice(other)
    return {
        "paid_2025": paid_2025.order,
        "void_2026": void_2026.order,
        "card": card,
        "unpaid_2026": unpaid_2026.order,
    }


def test_lists_every_past_order_newest_first_without_trial_or_abandoned_orders(account, history):
    listed = list(order_list_for_account(account=account))

    assert listed == [
        history["unpaid_2026"],
        history["card"],
        history["void_2026"],
        history["paid_2025"],
    ]


@pytest.mark.parametrize(
    ("status", "expected"),
    [("paid", ["card", "paid_2025"]), ("unpaid", ["unpaid_2026"]), ("void", ["void_2026"])],
)
def test_filters_by_status(account, history, status, expected):
    listed = list(order_list_for_account(account=account, status=status))

    assert listed == [history[name] for name in expected]


def test_filters_by_year(account, history):
    assert list(order_list_for_account(account=account, year=2025)) == [history["paid_2025"]]


def test_searches_by_invoice_number_and_po_number(account, history):
    number = history["void_2026"].invoice.number

    assert list(order_list_for_account(account=account, search=number)) == [history["void_2026"]]
    assert list(order_list_for_account(account=account, search="new-7")) == [history["unpaid_2026"]]
    assert list(order_list_for_account(account=account, search="no such thing")) == []


# --- the order's date: the payment's (or the order's) real day, in the account's time zone ------


def _record_from_platform(account, *, paid_at: str, reference: str) -> Order:
    return record_platform_order(
        account, reference=reference, received_at=datetime.fromisoformat(paid_at)
    )


def test_a_platform_order_is_dated_by_its_payment_in_the_accounts_time_zone(catalogue):
    # Given a New York account whose Stripe payment at 22:30 local time on New Year's Eve
    # (03:30 UTC on 1 January) is recorded two days later
    account = AccountFactory(time_zone="America/New_York")
    with time_machine.travel("2026-01-03 10:00Z", tick=False):
        recorded = _record_from_platform(
            account, paid_at="2026-01-01T03:30:00+00:00", reference="nye"
        )
    # and an invoice order placed at 23:30 local time on 28 February (04:30 UTC on 1 March)
    BillingProfileFactory(account=account)
    with time_machine.travel("2026-03-01 04:30Z", tick=False):
        placed = buy_credits_by_invoice(account, credits=100).order

    # When the list is read
    listed = list(order_list_for_account(account=account))

    # Then each order carries its own local day, not the day it was recorded (3 January) nor
    # the UTC day
    assert [(order, order.ordered_on.isoformat()) for order in listed] == [
        (placed, "2026-02-28"),
        (recorded, "2025-12-31"),
    ]
    # and the year filter and its choices use those days.
    assert list(order_list_for_account(account=account, year=2025)) == [recorded]
    assert list(order_list_for_account(account=account, year=2026)) == [placed]
    assert order_years_for_account(account=account) == [2026, 2025]


def test_an_account_ahead_of_utc_sees_the_next_day(catalogue):
    # Given a Tokyo account whose order was placed at 16:00 UTC on 31 December (01:00 JST)
    account = AccountFactory(time_zone="Asia/Tokyo")
    BillingProfileFactory(account=account)
    with time_machine.travel("2025-12-31 16:00Z", tick=False):
        order = buy_credits_by_invoice(account, credits=100).order

    # Then it is listed on 1 January 2026, in 2026
    (listed,) = order_list_for_account(account=account)
    assert (listed, listed.ordered_on.isoformat()) == (order, "2026-01-01")
    assert order_years_for_account(account=account) == [2026]
    assert list(order_list_for_account(account=account, year=2025)) == []


def test_an_account_without_a_time_zone_uses_the_sites(catalogue, settings):
    settings.TIME_ZONE = "America/Los_Angeles"
    account = AccountFactory()
    assert account.time_zone == ""
    recorded = _record_from_platform(account, paid_at="2026-01-01T03:30:00+00:00", reference="la")

    (listed,) = order_list_for_account(account=account)
    assert (listed, listed.ordered_on.isoformat()) == (recorded, "2025-12-31")
