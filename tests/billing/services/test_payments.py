"""Recording payments (P6, P7, I4): full amount only, exactly once per reference."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from remit.billing.actors import Actor
from remit.billing.models import Invoice, Order, Payment
from remit.billing.selectors.credits import credit_balance
from remit.billing.services.invoices import invoice_void
from remit.billing.services.orders import order_card_payment_record
from remit.billing.services.payments import invoice_payment_record
from remit.core.errors import (
    InvoiceNotPayable,
    OrderNotPayable,
    PaymentAmountMismatch,
    PaymentReferenceConflict,
    ValidationFailed,
)
from tests.billing.helpers import (
    ACTOR,
    buy_credits_by_card,
    buy_credits_by_invoice,
    pay_card_order,
    pay_invoice,
    record_platform_order,
    table_counts,
)

pytestmark = pytest.mark.django_db


def _record(invoice, **overrides):
    values = {
        "invoice": invoice,
        "actor": ACTOR,
        "method": "bank_transfer",
        "provider": "manual",
        "provider_reference": "BANK-1",
        "amount_minor": invoice.total_minor,
        "currency": invoice.currency,
        "received_at": timezone.now(),
    }
    return invoice_payment_record(**{**values, **overrides})


def test_paying_an_invoice_marks_it_paid_and_grants_its_pending_credits(account):
    invoice = buy_credits_by_invoice(account, credits=150)

    payment = _record(invoice)

    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert invoice.paid_at == payment.received_at
    assert invoice.order.status == Order.Status.PAID
    assert (payment.amount_minor, payment.currency, payment.invoice) == (15_000, "USD", invoice)
    balance = credit_balance(account=account)
    assert (balance.balance, balance.pending) == (150, 0)
    actions = list(account.audit_events.values_list("action", flat=True).order_by("-id")[:2])
    assert actions == ["invoice.paid", "payment.recorded"]


def test_the_same_reference_recorded_again_returns_the_first_payment(account):
    invoice = buy_credits_by_invoice(account)
    first = _record(invoice)
    before = table_counts()

    again = _record(invoice)

    assert again.pk == first.pk
    assert table_counts() == before
    assert credit_balance(account=account).balance == 100


@pytest.mark.parametrize(
    ("amount_minor", "currency"),
    [(9_999, "USD"), (10_001, "USD"), (5_000, "USD"), (10_000, "EUR")],
)
def test_partial_over_and_foreign_currency_payments_are_refused(account, amount_minor, currency):
    invoice = buy_credits_by_invoice(account)
    before = table_counts()

    with pytest.raises(PaymentAmountMismatch) as error:
        _record(invoice, amount_minor=amount_minor, currency=currency)

    assert error.value.details["expected_minor"] == 10_000
    assert table_counts() == before
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.ISSUED


def test_a_void_invoice_cannot_be_paid(account):
    invoice = buy_credits_by_invoice(account)
    invoice_void(invoice=invoice, actor=ACTOR, reason_code="duplicate", reason="")

    with pytest.raises(InvoiceNotPayable):
        _record(invoice)
    assert not Payment.objects.exists()


def test_a_paid_invoice_cannot_be_paid_again_with_another_reference(account):
    invoice = buy_credits_by_invoice(account)
    _record(invoice)

    with pytest.raises(InvoiceNotPayable):
        _record(invoice, provider_reference="BANK-2")
    assert Payment.objects.count() == 1


def test_a_reference_already_used_for_another_invoice_is_a_conflict(account):
    first, second = buy_credits_by_invoice(account), buy_credits_by_invoice(account)
    _record(first)

    with pytest.raises(PaymentReferenceConflict):
        _record(second)
    second.refresh_from_db()
    assert second.status == Invoice.Status.ISSUED


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"received_at": timezone.now() + timedelta(days=3)}, "received_at"),
        ({"received_at": timezone.now().replace(tzinfo=None)}, "received_at"),
        ({"provider_reference": " "}, "provider_reference"),
        ({"provider_reference": "x" * 256}, "provider_reference"),
        ({"method": "cash"}, "method"),
        ({"provider": "bad provider!"}, "provider"),
    ],
)
def test_bad_payment_input_is_refused(account, overrides, field):
    invoice = buy_credits_by_invoice(account)

    with pytest.raises(ValidationFailed) as error:
        _record(invoice, **overrides)

    assert list(error.value.field_errors) == [field]
    assert not Payment.objects.exists()


# --- card payments for orders --------------------------------------------------------------


def test_a_card_payment_is_recorded_once_however_often_it_is_reported(account):
    order = buy_credits_by_card(account, credits=40)

    payments = [pay_card_order(order, reference="pi_42") for _ in range(5)]

    assert {p.pk for p in payments} == {payments[0].pk}
    assert Payment.objects.count() == 1
    assert Invoice.objects.filter(order=order).count() == 1
    assert credit_balance(account=account).balance == 40


def test_a_card_payment_of_the_wrong_amount_is_refused(account):
    order = buy_credits_by_card(account, credits=40)

    with pytest.raises(PaymentAmountMismatch):
        order_card_payment_record(
            order=order,
            actor=Actor.payment_platform("stripe"),
            provider="stripe",
            provider_reference="pi_1",
            amount_minor=3_999,
            currency="USD",
            received_at=timezone.now(),
        )
    order.refresh_from_db()
    assert order.status == Order.Status.AWAITING_CARD_PAYMENT
    assert credit_balance(account=account).balance == 0


def test_a_second_card_payment_for_a_paid_order_is_refused(account):
    order = buy_credits_by_card(account)
    pay_card_order(order, reference="pi_1")

    with pytest.raises(OrderNotPayable):
        pay_card_order(order, reference="pi_2")
    assert Payment.objects.count() == 1


def test_an_invoice_order_cannot_be_paid_through_the_card_path(account):
    invoice = buy_credits_by_invoice(account)

    with pytest.raises(OrderNotPayable):
        pay_card_order(invoice.order)


def test_a_refused_platform_payment_leaves_no_order_behind(account):
    with pytest.raises(PaymentAmountMismatch):
        record_platform_order(account, reference="1", credits=20, amount_minor=1)
    assert not Order.objects.exists()


def test_paying_the_invoice_through_the_helper_uses_the_exact_total(account):
    invoice = buy_credits_by_invoice(account, credits=123)

    assert pay_invoice(invoice).amount_minor == 12_300
