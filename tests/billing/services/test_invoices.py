"""Invoices: the UC3 gate for card-paid orders, free-trial orders (UC6), void with credit note and
reissue with a linked replacement (X2), numbering of both series (D1)."""

from __future__ import annotations

import pytest
import time_machine
from django.utils import timezone

from remit.billing.actors import Actor
from remit.billing.models import (
    BillingProfile,
    CreditNote,
    Invoice,
    Order,
    Payment,
)
from remit.billing.selectors.credits import credit_balance
from remit.billing.services.invoices import invoice_for_order, invoice_reissue, invoice_void
from remit.billing.services.orders import order_record_from_platform
from remit.billing.services.validation import BillingProfileInput
from remit.core.errors import (
    BillingProfileRequired,
    CreditInvoiceBelowMinimum,
    InvoiceNotVoidable,
    OrderInvoicedByPaymentPlatform,
    OrderNotPaid,
    ValidationFailed,
)
from tests.billing.helpers import (
    ACTOR,
    buy_credits_by_card,
    buy_credits_by_invoice,
    buy_plan_by_invoice,
    pay_card_order,
    pay_invoice,
    table_counts,
)
from tests.factories import AccountFactory, BillingProfileFactory

pytestmark = pytest.mark.django_db

GATE_ADDRESS = BillingProfileInput(
    legal_name="Müller & Söhne KG",
    address_line1="Am Markt 3",
    city="Köln",
    postal_code="50667",
    country="DE",
)


# --- UC3: card-paid orders get a paid invoice at the gate --------------------------------------


def test_card_paid_order_without_profile_is_invoiced_when_the_gate_is_passed(catalogue):
    account = AccountFactory()
    order = buy_credits_by_card(account, credits=50)
    payment = pay_card_order(order)
    assert not Invoice.objects.filter(order=order).exists()
    before = table_counts()

    with pytest.raises(BillingProfileRequired):
        invoice_for_order(order=order, actor=ACTOR)
    assert table_counts() == before

    invoice = invoice_for_order(order=order, actor=ACTOR, billing_profile=GATE_ADDRESS)

    assert invoice.status == Invoice.Status.PAID
    assert invoice.due_date == invoice.issue_date
    order.refresh_from_db()
    assert invoice.paid_at == order.paid_at
    assert invoice.total_minor == 5_000
    assert invoice.buyer["legal_name"] == "Müller & Söhne KG"
    assert BillingProfile.objects.get(account=account).city == "Köln"
    payment.refresh_from_db()
    assert payment.invoice == invoice


def test_asking_again_returns_the_same_invoice_without_a_new_number(catalogue):
    account = AccountFactory()
    order = buy_credits_by_card(account)
    pay_card_order(order)
    first = invoice_for_order(order=order, actor=ACTOR, billing_profile=GATE_ADDRESS)

    again = invoice_for_order(order=order, actor=ACTOR)

    assert again.pk == first.pk
    assert Invoice.objects.count() == 1


def test_card_payment_issues_the_paid_invoice_at_once_when_a_profile_exists(account):
    order = buy_credits_by_card(account, credits=50)

    payment = pay_card_order(order)

    invoice = Invoice.objects.get(order=order)
    assert invoice.status == Invoice.Status.PAID
    assert payment.invoice == invoice
    assert credit_balance(account=account).balance == 50


def test_an_unpaid_card_order_has_no_invoice(account):
    order = buy_credits_by_card(account)

    with pytest.raises(OrderNotPaid):
        invoice_for_order(order=order, actor=ACTOR)
    assert not Invoice.objects.exists()


def test_the_invoice_button_on_an_invoice_order_returns_its_invoice(account):
    invoice = buy_credits_by_invoice(account)

    assert invoice_for_order(order=invoice.order, actor=ACTOR) == invoice


# --- UC6: free-trial orders --------------------------------------------------------------------


def _free_trial_order(account, reference="in_trial_1"):
    return order_record_from_platform(
        account=account,
        actor=Actor.payment_platform("stripe"),
        external_reference=reference,
        kind=Order.Kind.CREDITS,
        credits=20,
        is_free_trial=True,
        provider="stripe",
        provider_reference=f"pi_{reference}",
        amount_minor=2_000,
        currency="USD",
        received_at=timezone.now(),
    )


def test_free_trial_orders_are_recorded_paid_but_never_invoiced_by_remit(account):
    order = _free_trial_order(account)

    assert (order.status, order.is_free_trial, order.source) == (
        Order.Status.PAID,
        True,
        Order.Source.PAYMENT_PLATFORM,
    )
    assert not Invoice.objects.filter(order=order).exists()
    assert Payment.objects.get(order=order).provider_reference == "pi_in_trial_1"
    assert credit_balance(account=account).balance == 20
    with pytest.raises(OrderInvoicedByPaymentPlatform) as error:
        invoice_for_order(order=order, actor=ACTOR)
    assert "support_email" in error.value.details
    assert not Invoice.objects.exists()


def test_recording_the_same_platform_order_twice_records_it_once(account):
    first = _free_trial_order(account)

    second = _free_trial_order(account)

    assert second.pk == first.pk
    assert Order.objects.count() == 1
    assert Payment.objects.count() == 1


# --- X2: void --------------------------------------------------------------------------------


@time_machine.travel("2026-05-02 10:00Z", tick=False)
def test_voiding_an_unpaid_invoice_issues_a_credit_note_in_its_own_series(account):
    buy_credits_by_invoice(account)
    invoice = buy_credits_by_invoice(account, credits=300, po_number="PO-1")
    assert credit_balance(account=account).pending == 400

    credit_note = invoice_void(
        invoice=invoice, actor=ACTOR, reason_code="customer_request", reason="Ordered twice"
    )

    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.VOID
    assert (invoice.void_reason_code, invoice.void_reason) == ("customer_request", "Ordered twice")
    assert credit_note.number == "CN-2026-000001"
    assert credit_note.invoice == invoice
    assert (credit_note.subtotal_minor, credit_note.tax_minor, credit_note.total_minor) == (
        30_000,
        0,
        30_000,
    )
    assert credit_note.buyer == invoice.buyer
    assert credit_note.seller == invoice.seller
    assert list(credit_note.lines.values_list("description", "net_minor")) == [
        ("300 credits", 30_000)
    ]
    assert invoice.order.status == Order.Status.CANCELLED
    assert credit_balance(account=account).pending == 100
    events = list(account.audit_events.values_list("action", "reason").order_by("-id")[:2])
    assert events == [("invoice.voided", "Ordered twice"), ("credit_note.issued", "Ordered twice")]


def test_a_void_invoice_no_longer_counts_towards_the_limit(account):
    invoices = [buy_credits_by_invoice(account) for _ in range(3)]

    invoice_void(invoice=invoices[0], actor=ACTOR, reason_code="duplicate", reason="")

    assert buy_credits_by_invoice(account).status == Invoice.Status.ISSUED


@pytest.mark.parametrize("state", ["paid", "void"])
def test_paid_or_void_invoices_cannot_be_voided(account, state):
    invoice = buy_credits_by_invoice(account)
    if state == "paid":
        pay_invoice(invoice)
    else:
        invoice_void(invoice=invoice, actor=ACTOR, reason_code="duplicate", reason="")
    before = table_counts()

    with pytest.raises(InvoiceNotVoidable) as error:
        invoice_void(invoice=invoice, actor=ACTOR, reason_code="duplicate", reason="again")

    assert error.value.details["status"] == state
    assert table_counts() == before


def test_a_void_needs_a_known_reason_code(account):
    invoice = buy_credits_by_invoice(account)

    with pytest.raises(ValidationFailed) as error:
        invoice_void(invoice=invoice, actor=ACTOR, reason_code="because", reason="x" * 2001)

    assert set(error.value.field_errors) == {"reason_code", "reason"}
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.ISSUED


# --- X2: reissue -----------------------------------------------------------------------------


def test_changing_the_credit_amount_voids_and_issues_a_linked_replacement(account):
    original = buy_credits_by_invoice(account, credits=100, po_number="PO-9", notes="Q3")

    replacement = invoice_reissue(
        invoice=original, actor=ACTOR, reason="Customer wants 300", credits=300
    )

    original.refresh_from_db()
    assert original.status == Invoice.Status.VOID
    assert CreditNote.objects.get(invoice=original).total_minor == 10_000
    assert replacement.replaces == original
    assert original.replaced_by == replacement
    assert replacement.order.replaces == original.order
    assert replacement.number == f"INV-{replacement.issue_date.year}-000002"
    assert replacement.total_minor == 30_000
    assert (replacement.po_number, replacement.notes) == ("PO-9", "Q3")
    assert replacement.status == Invoice.Status.ISSUED
    assert credit_balance(account=account).pending == 300


def test_changing_the_subscription_reprices_the_replacement(account, catalogue):
    from remit.billing.models import PlanSize

    order = buy_plan_by_invoice(account, catalogue, term_months=3)
    larger = PlanSize.objects.get(code="200k")

    replacement = invoice_reissue(
        invoice=order.invoice, actor=ACTOR, reason="Upgrade", plan_size=larger, term_months=12
    )

    # 12 x 149.00 = 1788.00 less 10 % = 1609.20
    assert replacement.total_minor == 160_920
    assert replacement.order.period_start == order.period_start
    assert replacement.order.credits == 2_400_000


def test_a_replacement_below_the_minimum_is_refused_and_nothing_changes(account):
    original = buy_credits_by_invoice(account, credits=100)
    before = table_counts()

    with pytest.raises(CreditInvoiceBelowMinimum):
        invoice_reissue(invoice=original, actor=ACTOR, reason="Fewer", credits=50)

    original.refresh_from_db()
    assert original.status == Invoice.Status.ISSUED
    assert table_counts() == before


def test_reissue_is_allowed_at_the_unpaid_limit(account):
    invoices = [buy_credits_by_invoice(account) for _ in range(3)]

    replacement = invoice_reissue(invoice=invoices[2], actor=ACTOR, reason="More", credits=200)

    assert replacement.status == Invoice.Status.ISSUED
    assert Invoice.objects.filter(account=account, status=Invoice.Status.ISSUED).count() == 3


def test_a_paid_invoice_cannot_be_reissued(account):
    invoice = buy_credits_by_invoice(account)
    pay_invoice(invoice)

    with pytest.raises(InvoiceNotVoidable):
        invoice_reissue(invoice=invoice, actor=ACTOR, reason="More", credits=200)


# --- D1 -------------------------------------------------------------------------------------------


def test_invoice_numbers_continue_across_accounts_and_restart_each_year(catalogue):
    first, second = AccountFactory(), AccountFactory()
    BillingProfileFactory(account=first)
    BillingProfileFactory(account=second)

    with time_machine.travel("2026-12-31 23:00Z", tick=False):
        numbers = [buy_credits_by_invoice(a).number for a in (first, second, first)]
    with time_machine.travel("2027-01-01 01:00Z", tick=False):
        numbers.append(buy_credits_by_invoice(second).number)

    assert numbers == ["INV-2026-000001", "INV-2026-000002", "INV-2026-000003", "INV-2027-000001"]
