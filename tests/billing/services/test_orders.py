"""order_place: buying credits (P1, P2, P6) and plans (P5) by card or with Create an Invoice,
and the rules around it (P3, P4, UC3)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from remit.billing.models import (
    Account,
    BillingProfile,
    CreditLedgerEntry,
    Invoice,
    Order,
    TaxCategory,
)
from remit.billing.selectors.credits import CreditBalance, credit_balance
from remit.billing.services.orders import order_place
from remit.billing.services.validation import BillingProfileInput
from remit.core.errors import (
    BillingProfileRequired,
    CreditInvoiceBelowMinimum,
    InvoicingDuringTrialDisabled,
    PriceNotAvailable,
    TermNotInvoiceable,
    UnpaidInvoiceLimitReached,
    ValidationFailed,
)
from tests.billing.helpers import (
    ACTOR,
    buy_credits_by_card,
    buy_credits_by_invoice,
    buy_plan_by_invoice,
    pay_invoice,
    table_counts,
)
from tests.factories import AccountFactory, BillingProfileFactory

pytestmark = pytest.mark.django_db

ADDRESS = BillingProfileInput(
    legal_name="Kaiser Analytics GmbH",
    address_line1="Torstraße 5",
    city="Berlin",
    postal_code="10119",
    country="de",
    tax_id="DE136695976",
    invoice_recipient_emails=("rechnung@kaiser.example",),
)


# --- P1, P2: credits by invoice and the minimum -------------------------------------------


@time_machine.travel("2026-03-10 12:00Z", tick=False)
def test_credits_by_invoice_at_the_minimum_issue_an_outstanding_invoice(account):
    invoice = buy_credits_by_invoice(account, credits=100)

    assert invoice.status == Invoice.Status.ISSUED
    assert invoice.number == "INV-2026-000001"
    assert invoice.issue_date.isoformat() == "2026-03-10"
    assert invoice.due_date.isoformat() == "2026-04-09"
    assert (invoice.subtotal_minor, invoice.tax_minor, invoice.total_minor) == (10_000, 0, 10_000)
    assert invoice.order.status == Order.Status.AWAITING_INVOICE_PAYMENT
    line = invoice.lines.get()
    assert (line.description, line.quantity, line.unit_price_minor, line.net_minor) == (
        "100 credits",
        100,
        100,
        10_000,
    )
    assert invoice.revisions.get().revision == 1
    assert credit_balance(account=account).pending == 100
    assert credit_balance(account=account).balance == 0
    actions = list(account.audit_events.values_list("action", flat=True))
    assert actions[-2:] == ["order.created", "invoice.issued"]


def test_credits_by_invoice_below_the_minimum_are_refused_and_nothing_is_written(account):
    before = table_counts()

    with pytest.raises(CreditInvoiceBelowMinimum) as error:
        buy_credits_by_invoice(account, credits=99)

    assert error.value.details == {
        "minimum_minor": 10_000,
        "minimum": "100.00",
        "currency": "USD",
        "requested_minor": 9_900,
    }
    assert "100.00 USD" in error.value.message
    assert table_counts() == before


def test_the_minimum_is_configurable_per_currency(account, settings):
    settings.REMIT_CREDIT_INVOICE_MINIMUMS = {"USD": Decimal("250.00")}

    with pytest.raises(CreditInvoiceBelowMinimum):
        buy_credits_by_invoice(account, credits=249)
    assert buy_credits_by_invoice(account, credits=250).total_minor == 25_000


def test_yen_minimum_uses_a_currency_without_minor_units(catalogue):
    account = AccountFactory(yen=True)
    BillingProfileFactory(account=account, country="JP")

    with pytest.raises(CreditInvoiceBelowMinimum) as error:
        buy_credits_by_invoice(account, credits=149)
    invoice = buy_credits_by_invoice(account, credits=150)

    assert error.value.details["minimum"] == "15000"
    assert (invoice.currency, invoice.total_minor) == ("JPY", 15_000)


def test_a_currency_without_a_configured_minimum_has_none(catalogue, settings):
    settings.REMIT_CREDIT_INVOICE_MINIMUMS = {}
    account = AccountFactory()
    BillingProfileFactory(account=account)

    assert buy_credits_by_invoice(account, credits=1).total_minor == 100


def test_card_purchases_have_no_minimum_and_wait_for_the_payment_platform(account):
    order = buy_credits_by_card(account, credits=5)

    assert order.status == Order.Status.AWAITING_CARD_PAYMENT
    assert order.total_minor == 500
    assert not Invoice.objects.filter(order=order).exists()
    assert credit_balance(account=account).pending == 0


@pytest.mark.parametrize("credits", [0, -5, True, 1_000_000_001])
def test_credit_quantities_outside_the_limits_are_refused(account, credits):
    before = table_counts()

    with pytest.raises(ValidationFailed) as error:
        buy_credits_by_invoice(account, credits=credits)

    assert list(error.value.field_errors) == ["credits"]
    assert table_counts() == before


def test_credits_in_a_currency_without_a_price_are_refused(catalogue):
    account = AccountFactory(currency="CHF")
    BillingProfileFactory(account=account)

    with pytest.raises(PriceNotAvailable):
        buy_credits_by_invoice(account, credits=100)


# --- P3: trial accounts ----------------------------------------------------------------------


def test_trial_accounts_cannot_create_invoices_and_are_sent_to_support(catalogue, settings):
    settings.REMIT_SUPPORT_EMAIL = "help@vendor.example"
    account = AccountFactory(trial=True)
    BillingProfileFactory(account=account)
    before = table_counts()

    with pytest.raises(InvoicingDuringTrialDisabled) as error:
        buy_credits_by_invoice(account, credits=100)

    assert error.value.details["support_email"] == "help@vendor.example"
    assert table_counts() == before


def test_the_trial_gate_is_checked_before_the_minimum(catalogue):
    account = AccountFactory(trial=True)
    BillingProfileFactory(account=account)

    with pytest.raises(InvoicingDuringTrialDisabled):
        buy_credits_by_invoice(account, credits=1)


def test_trial_accounts_with_invoicing_enabled_can_create_invoices(catalogue):
    account = AccountFactory(trial_invoicing=True)
    BillingProfileFactory(account=account)

    assert buy_credits_by_invoice(account, credits=100).status == Invoice.Status.ISSUED


def test_trial_invoicing_stops_when_its_expiry_passes(catalogue):
    account = AccountFactory(
        trial_invoicing=True,
        invoicing_during_trial_expires_at=timezone.now() + timedelta(days=1),
    )
    BillingProfileFactory(account=account)
    buy_credits_by_invoice(account, credits=100)

    with (
        time_machine.travel(timezone.now() + timedelta(days=2)),
        pytest.raises(InvoicingDuringTrialDisabled),
    ):
        buy_credits_by_invoice(account, credits=100)


def test_trial_accounts_can_still_buy_by_card(catalogue):
    account = AccountFactory(trial=True)

    assert buy_credits_by_card(account).status == Order.Status.AWAITING_CARD_PAYMENT


# --- P4: the unpaid-invoice limit -------------------------------------------------------------


def test_the_fourth_unpaid_invoice_is_refused_with_the_three_listed(account):
    invoices = [buy_credits_by_invoice(account, credits=100 + i) for i in range(3)]
    before = table_counts()

    with pytest.raises(UnpaidInvoiceLimitReached) as error:
        buy_credits_by_invoice(account, credits=500)

    assert error.value.details["limit"] == 3
    assert [item["number"] for item in error.value.details["invoices"]] == [
        invoice.number for invoice in invoices
    ]
    assert [item["total"] for item in error.value.details["invoices"]] == [
        "100.00",
        "101.00",
        "102.00",
    ]
    assert table_counts() == before


def test_paying_one_unpaid_invoice_allows_the_next(account):
    invoices = [buy_credits_by_invoice(account) for _ in range(3)]
    pay_invoice(invoices[1])

    assert buy_credits_by_invoice(account).status == Invoice.Status.ISSUED


def test_the_limit_has_a_per_account_override_and_a_global_default(account, settings):
    settings.REMIT_UNPAID_INVOICE_LIMIT = 5
    for _ in range(5):
        buy_credits_by_invoice(account)
    with pytest.raises(UnpaidInvoiceLimitReached):
        buy_credits_by_invoice(account)

    Account.objects.filter(pk=account.pk).update(unpaid_invoice_limit=6)
    buy_credits_by_invoice(account)
    with pytest.raises(UnpaidInvoiceLimitReached) as error:
        buy_credits_by_invoice(account)
    assert error.value.details["limit"] == 6


def test_card_purchases_are_not_limited_by_unpaid_invoices(account):
    for _ in range(3):
        buy_credits_by_invoice(account)

    assert buy_credits_by_card(account).status == Order.Status.AWAITING_CARD_PAYMENT


# --- UC3: billing information before an invoice ----------------------------------------------


def test_an_invoice_needs_a_billing_profile(catalogue):
    account = AccountFactory()
    before = table_counts()

    with pytest.raises(BillingProfileRequired):
        buy_credits_by_invoice(account)

    assert table_counts() == before


def test_the_address_typed_in_the_dialog_becomes_the_billing_profile(catalogue):
    account = AccountFactory()

    invoice = buy_credits_by_invoice(account, billing_profile=ADDRESS)

    profile = BillingProfile.objects.get(account=account)
    assert (profile.legal_name, profile.country, profile.tax_id) == (
        "Kaiser Analytics GmbH",
        "DE",
        "DE136695976",
    )
    assert invoice.buyer["legal_name"] == "Kaiser Analytics GmbH"
    assert invoice.buyer["address_line1"] == "Torstraße 5"
    assert invoice.buyer["invoice_recipient_emails"] == ["rechnung@kaiser.example"]


def test_an_invalid_dialog_address_is_refused_and_nothing_is_written(catalogue):
    account = AccountFactory()
    before = table_counts()

    with pytest.raises(ValidationFailed) as error:
        buy_credits_by_invoice(
            account,
            billing_profile=BillingProfileInput(
                legal_name="", address_line1="x", city="y", postal_code="1", country="DE",
                tax_id="DE000000000",
            ),
        )  # fmt: skip

    assert set(error.value.field_errors) == {"legal_name", "tax_id"}
    assert table_counts() == before


def test_a_billing_profile_saved_before_a_rule_fails_is_rolled_back(catalogue):
    account = AccountFactory(unpaid_invoice_limit=0)

    with pytest.raises(UnpaidInvoiceLimitReached):
        buy_credits_by_invoice(account, billing_profile=ADDRESS)

    assert not BillingProfile.objects.filter(account=account).exists()


# --- P5: plans ----------------------------------------------------------------------------------


@time_machine.travel("2026-01-31 09:00Z", tick=False)
def test_a_six_month_plan_by_invoice_with_po_number_and_notes(account, catalogue):
    order = order_place(
        account=account,
        actor=ACTOR,
        kind=Order.Kind.SUBSCRIPTION,
        payment_method=Order.PaymentMethod.INVOICE,
        plan_size=catalogue,
        term_months=6,
        po_number="PO-778",
        notes="Cost centre 42\nAttn: Accounts Payable",
    )
    invoice = order.invoice

    # 6 x 49.00 = 294.00, 5 % term discount = 14.70, net 279.30
    assert (order.quantity, order.unit_price_minor, order.discount_minor, order.net_minor) == (
        6,
        4_900,
        1_470,
        27_930,
    )
    assert (order.period_start.isoformat(), order.period_end.isoformat()) == (
        "2026-01-31",
        "2026-07-30",
    )
    assert order.description == "Pro 50,000 emails, 6 months (2026-01-31 to 2026-07-30)"
    assert invoice.total_minor == 27_930
    assert invoice.po_number == "PO-778"
    assert invoice.notes == "Cost centre 42\nAttn: Accounts Payable"
    assert account.po_numbers.get().value == "PO-778"
    # A plan is not credits: its allowance is neither pending nor in the balance.
    assert credit_balance(account=account) == CreditBalance(balance=0, pending=0)
    assert not CreditLedgerEntry.objects.filter(account=account).exists()


def test_a_paid_plan_invoice_grants_no_credits(account, catalogue):
    # Given a plan bought by invoice and credits bought by invoice
    plan = buy_plan_by_invoice(account, catalogue, term_months=3)
    credits = buy_credits_by_invoice(account, credits=120)

    # When both are paid
    pay_invoice(plan.invoice)
    pay_invoice(credits)

    # Then only the credit purchase moved credits
    assert credit_balance(account=account) == CreditBalance(balance=120, pending=0)
    assert set(CreditLedgerEntry.objects.values_list("order__kind", flat=True)) == {"credits"}


def test_ledger_entries_of_plan_orders_written_before_the_fix_are_not_credits(account, catalogue):
    # Given a plan order that (as the code did before) wrote its allowance as pending credits
    plan = buy_plan_by_invoice(account, catalogue, term_months=6)
    CreditLedgerEntry.objects.create(
        account=account,
        order=plan,
        kind=CreditLedgerEntry.Kind.PURCHASE_PENDING,
        pending_delta=plan.credits,
    )
    buy_credits_by_invoice(account, credits=100)

    # Then the balance counts only the credit purchase
    assert credit_balance(account=account) == CreditBalance(balance=0, pending=100)


def test_a_one_month_term_cannot_be_bought_by_invoice_but_can_by_card(account, catalogue):
    with pytest.raises(TermNotInvoiceable) as error:
        order_place(
            account=account,
            actor=ACTOR,
            kind=Order.Kind.SUBSCRIPTION,
            payment_method=Order.PaymentMethod.INVOICE,
            plan_size=catalogue,
            term_months=1,
        )
    assert error.value.details["invoice_terms"] == [3, 6, 12]

    order = order_place(
        account=account,
        actor=ACTOR,
        kind=Order.Kind.SUBSCRIPTION,
        payment_method=Order.PaymentMethod.CARD,
        plan_size=catalogue,
        term_months=1,
    )
    assert order.total_minor == 4_900
    assert order.description.startswith("Pro 50,000 emails, 1 month (")


def test_a_plan_needs_a_size_and_an_offered_term(account, catalogue):
    with pytest.raises(ValidationFailed) as error:
        order_place(
            account=account,
            actor=ACTOR,
            kind=Order.Kind.SUBSCRIPTION,
            payment_method=Order.PaymentMethod.INVOICE,
        )
    assert set(error.value.field_errors) == {"plan_size", "term_months"}

    with pytest.raises(ValidationFailed) as error:
        order_place(
            account=account,
            actor=ACTOR,
            kind=Order.Kind.SUBSCRIPTION,
            payment_method=Order.PaymentMethod.INVOICE,
            plan_size=catalogue,
            term_months=24,
        )
    assert list(error.value.field_errors) == ["term_months"]


def test_plans_are_not_limited_by_the_credit_minimum(account, catalogue):
    order = buy_plan_by_invoice(account, catalogue, term_months=3)
    assert order.invoice.total_minor == 14_700


def test_bad_po_numbers_and_notes_are_refused(account):
    with pytest.raises(ValidationFailed) as error:
        buy_credits_by_invoice(account, po_number="P" * 65, notes="a\x00b")

    assert set(error.value.field_errors) == {"po_number", "notes"}


# --- D4: tax on the order and its invoice -----------------------------------------------------


@pytest.fixture
def german_seller(settings):
    settings.REMIT_SELLER = {**settings.REMIT_SELLER, "country": "DE", "tax_id": "DE136695976"}


def test_domestic_sale_in_the_eu_charges_the_standard_rate(catalogue, german_seller):
    account = AccountFactory(euro=True)
    BillingProfileFactory(account=account, german_business=True)

    invoice = buy_credits_by_invoice(account, credits=100)

    assert (invoice.subtotal_minor, invoice.tax_minor, invoice.total_minor) == (
        10_000,
        1_900,
        11_900,
    )
    tax_line = invoice.tax_lines.get()
    assert (tax_line.category, tax_line.rate, tax_line.taxable_minor, tax_line.tax_minor) == (
        TaxCategory.STANDARD,
        Decimal("19.00"),
        10_000,
        1_900,
    )


def test_eu_business_in_another_member_state_is_reverse_charged(catalogue, german_seller):
    account = AccountFactory(euro=True)
    BillingProfileFactory(account=account, country="FR", tax_id="FR40303265045")

    invoice = buy_credits_by_invoice(account, credits=100)

    tax_line = invoice.tax_lines.get()
    assert (tax_line.category, tax_line.tax_minor) == (TaxCategory.REVERSE_CHARGE, 0)
    assert "Reverse charge" in tax_line.note
    assert invoice.total_minor == 10_000


def test_tax_exempt_customers_pay_no_tax(catalogue, german_seller):
    account = AccountFactory(euro=True, tax_exempt=True)
    BillingProfileFactory(account=account, german_consumer=True)

    invoice = buy_credits_by_invoice(account, credits=100)

    assert invoice.tax_lines.get().category == TaxCategory.EXEMPT
    assert invoice.total_minor == 10_000


def test_placing_an_order_again_with_the_same_key_returns_the_first_order(account):
    from remit.billing.models import Order
    from tests.billing.helpers import ACTOR

    first = order_place(
        account=account,
        actor=ACTOR,
        kind="credits",
        payment_method="invoice",
        credits=100,
        idempotency_key="form-key-0123456789",
    )
    again = order_place(
        account=account,
        actor=ACTOR,
        kind="credits",
        payment_method="invoice",
        credits=500,
        idempotency_key="form-key-0123456789",
    )
    assert again.pk == first.pk
    assert Order.objects.filter(account=account).count() == 1


def test_the_same_key_in_another_account_is_another_order(account, catalogue):
    from tests.billing.helpers import ACTOR
    from tests.factories import AccountFactory, BillingProfileFactory

    other = AccountFactory()
    BillingProfileFactory(account=other)
    orders = [
        order_place(
            account=owner,
            actor=ACTOR,
            kind="credits",
            payment_method="invoice",
            credits=100,
            idempotency_key="shared-key-0123456789",
        )
        for owner in (account, other)
    ]
    assert orders[0].pk != orders[1].pk


@pytest.mark.parametrize("key", ["", "x" * 65, "has space", "ключ", "a/b"])
def test_a_malformed_idempotency_key_is_refused(account, key):
    from remit.core.errors import ValidationFailed
    from tests.billing.helpers import ACTOR

    with pytest.raises(ValidationFailed) as error:
        order_place(
            account=account,
            actor=ACTOR,
            kind="credits",
            payment_method="invoice",
            credits=100,
            idempotency_key=key,
        )
    assert list(error.value.field_errors) == ["idempotency_key"]
