"""Stripe's webhooks (I4): events signed with the SDK's scheme; each payment recorded exactly once
whatever the number and order of deliveries; bad, old and future signatures refused."""

from __future__ import annotations

import itertools
import json
import time

import pytest
import stripe
from django.test import Client

from remit.billing.models import CheckoutSession, Invoice, Order, Payment
from remit.billing.selectors.credits import credit_balance
from remit.integrations.models import StripeEvent
from tests.billing.helpers import buy_credits_by_card, buy_credits_by_invoice
from tests.concurrency import run_concurrently
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db
SECRET = "whsec_test_remit"


@pytest.fixture(autouse=True)
def webhook_secret(settings):
    settings.REMIT_STRIPE_WEBHOOK_SECRET = SECRET
    settings.REMIT_STRIPE_WEBHOOK_TOLERANCE_SECONDS = 300


def signed(event: dict, *, secret: str = SECRET, at: int | None = None) -> tuple[bytes, str]:
    payload = json.dumps(event).encode()
    timestamp = int(time.time()) if at is None else at
    signature = stripe.WebhookSignature._compute_signature(
        f"{timestamp}.{payload.decode()}", secret
    )
    return payload, f"t={timestamp},v1={signature}"


def send(event: dict, **kwargs) -> tuple[int, dict]:
    payload, header = signed(event, **kwargs)
    response = Client(HTTP_HOST="127.0.0.1").post(
        "/stripe/webhook",
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )
    return response.status_code, response.json()


def _session(order: Order, invoice: Invoice | None = None) -> CheckoutSession:
    return CheckoutSession.objects.create(
        account=order.account,
        order=order,
        invoice=invoice,
        provider="stripe",
        token=f"tok{order.pk}",
        provider_reference=f"cs_{order.pk}",
        url="https://checkout.stripe.test/x",
        amount_minor=order.total_minor,
        currency=order.currency,
    )


def checkout_events(session: CheckoutSession) -> list[dict]:
    """The four events Stripe sends for one Checkout payment."""
    pi = f"pi_{session.pk}"
    base = {"object": "event", "api_version": "2024-06-20", "created": int(time.time())}
    return [
        {
            **base,
            "id": f"evt_pi_created_{session.pk}",
            "type": "payment_intent.created",
            "data": {
                "object": {
                    "id": pi,
                    "object": "payment_intent",
                    "status": "requires_payment_method",
                }
            },
        },
        {
            **base,
            "id": f"evt_charge_{session.pk}",
            "type": "charge.succeeded",
            "data": {
                "object": {"id": f"ch_{session.pk}", "object": "charge", "payment_intent": pi}
            },
        },
        {
            **base,
            "id": f"evt_pi_succeeded_{session.pk}",
            "type": "payment_intent.succeeded",
            "data": {
                "object": {
                    "id": pi,
                    "object": "payment_intent",
                    "amount_received": session.amount_minor,
                    "currency": session.currency.lower(),
                    "metadata": {"remit_checkout": session.token},
                }
            },
        },
        {
            **base,
            "id": f"evt_cs_completed_{session.pk}",
            "type": "checkout.session.completed",
            "data": {
                "object": {
                    "id": session.provider_reference,
                    "object": "checkout.session",
                    "payment_status": "paid",
                    "payment_intent": pi,
                    "amount_total": session.amount_minor,
                    "currency": session.currency.lower(),
                    "metadata": {"remit_checkout": session.token},
                }
            },
        },
    ]


def test_a_card_purchase_is_recorded_once_in_every_order_of_the_four_events(account):
    """All 24 orderings of the 4-event sequence, each on its own order: one payment each."""
    for ordering in itertools.permutations(range(4)):
        order = buy_credits_by_card(account, credits=10)
        session = _session(order)
        events = checkout_events(session)
        for index in ordering:
            status, _ = send(events[index])
            assert status == 200
        order.refresh_from_db()
        assert order.status == Order.Status.PAID, ordering
        assert Payment.objects.filter(order=order).count() == 1
        session.refresh_from_db()
        assert session.status == CheckoutSession.Status.COMPLETED
    assert Payment.objects.count() == 24
    assert credit_balance(account=account).balance == 240


def test_five_replays_of_each_event_change_nothing(account):
    invoice = buy_credits_by_invoice(account, credits=100)
    session = _session(invoice.order, invoice)
    events = checkout_events(session)
    for _ in range(5):
        for event in events:
            assert send(event)[0] == 200
    assert Payment.objects.count() == 1
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert StripeEvent.objects.count() == 4
    assert set(StripeEvent.objects.values_list("deliveries", flat=True)) == {5}
    outcomes = dict(StripeEvent.objects.values_list("type", "outcome"))
    assert outcomes["charge.succeeded"] == "ignored"
    assert outcomes["checkout.session.completed"] == "processed"


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_parallel_deliveries_of_the_same_events_record_one_payment(catalogue):
    from tests.factories import BillingProfileFactory

    account = AccountFactory()
    BillingProfileFactory(account=account)
    order = buy_credits_by_card(account, credits=10)
    session = _session(order)
    events = checkout_events(session)[2:]
    outcomes = run_concurrently([lambda event=event: send(event) for event in events * 4])
    assert [o.error for o in outcomes] == [None] * 8
    assert {o.value[0] for o in outcomes} == {200}
    assert Payment.objects.count() == 1


def test_a_bad_signature_is_400_and_stores_nothing(account):
    order = buy_credits_by_card(account, credits=10)
    event = checkout_events(_session(order))[3]
    status, body = send(event, secret="whsec_wrong")
    assert status == 400
    assert body["code"] == "webhook_signature_invalid"
    payload, header = signed(event)
    tampered = Client(HTTP_HOST="127.0.0.1").post(
        "/stripe/webhook",
        data=payload.replace(b'"paid"', b'"unpaid"'),
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )
    assert tampered.status_code == 400
    missing = Client(HTTP_HOST="127.0.0.1").post(
        "/stripe/webhook", data=payload, content_type="application/json"
    )
    assert missing.status_code == 400
    assert StripeEvent.objects.count() == 0
    assert Payment.objects.count() == 0


def test_an_oversized_body_is_413_and_a_bad_length_400_and_neither_is_stored(account):
    order = buy_credits_by_card(account, credits=10)
    payload, header = signed(checkout_events(_session(order))[3])
    client = Client(HTTP_HOST="127.0.0.1")
    oversized = client.post(
        "/stripe/webhook",
        data=payload + b" " * 1_000_001,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )
    assert oversized.status_code == 413
    assert oversized.json()["code"] == "payload_too_large"
    bad_length = client.post(
        "/stripe/webhook",
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
        CONTENT_LENGTH="twelve",
    )
    assert bad_length.status_code == 400
    assert StripeEvent.objects.count() == 0
    assert Payment.objects.count() == 0


@pytest.mark.parametrize("skew", [-301, 301, -3600, 3600])
def test_old_and_future_timestamps_are_refused(account, skew):
    order = buy_credits_by_card(account, credits=10)
    event = checkout_events(_session(order))[3]
    status, _ = send(event, at=int(time.time()) + skew)
    assert status == 400
    assert Payment.objects.count() == 0


@pytest.mark.parametrize("skew", [-250, 250])
def test_timestamps_within_the_tolerance_are_accepted(account, skew):
    order = buy_credits_by_card(account, credits=10)
    event = checkout_events(_session(order))[3]
    assert send(event, at=int(time.time()) + skew)[0] == 200
    assert Payment.objects.count() == 1


def test_a_wrong_amount_is_kept_for_support_and_records_nothing(account):
    order = buy_credits_by_card(account, credits=10)
    event = checkout_events(_session(order))[3]
    event["data"]["object"]["amount_total"] = 1
    status, body = send(event)
    assert status == 200
    assert body["outcome"] == "failed"
    stored = StripeEvent.objects.get()
    assert stored.detail.startswith("payment_amount_mismatch")
    assert Payment.objects.count() == 0


def test_stripe_invoices_during_the_trial_become_free_trial_orders(catalogue):
    account = AccountFactory(trial=True, external_id="cust_77")
    assert account.status == "trial"
    event = {
        "id": "evt_inv_1",
        "object": "event",
        "type": "invoice.paid",
        "created": int(time.time()),
        "data": {
            "object": {
                "id": "in_1",
                "object": "invoice",
                "amount_paid": 5000,
                "currency": "usd",
                "payment_intent": "pi_inv_1",
                "status_transitions": {"paid_at": int(time.time())},
                "metadata": {"remit_account": "cust_77", "remit_credits": "50"},
            }
        },
    }
    for _ in range(3):
        assert send(event)[0] == 200
    order = Order.objects.get()
    assert order.is_free_trial
    assert order.source == Order.Source.PAYMENT_PLATFORM
    assert order.external_reference == "in_1"
    assert not Invoice.objects.exists()
    assert Payment.objects.get().provider_reference == "pi_inv_1"
    assert (order.kind, order.credits) == (Order.Kind.CREDITS, 50)


def test_a_stripe_invoice_for_a_plan_becomes_a_plan_order(catalogue):
    account = AccountFactory(trial=True, external_id="cust_78")
    size = catalogue  # the Pro 50k plan size
    event = {
        "id": "evt_inv_2",
        "object": "event",
        "type": "invoice.paid",
        "created": int(time.time()),
        "data": {
            "object": {
                "id": "in_2",
                "object": "invoice",
                "amount_paid": 27930,  # the 6-month price of Pro 50k
                "currency": "usd",
                "payment_intent": "pi_inv_2",
                "metadata": {
                    "remit_account": "cust_78",
                    "remit_plan_size": str(size.pk),
                    "remit_term_months": "6",
                },
            }
        },
    }
    status, body = send(event)
    assert (status, body["outcome"]) == (200, "processed"), StripeEvent.objects.get().detail
    order = Order.objects.get(account=account)
    assert (order.kind, order.plan_size_id, order.term_months) == (
        Order.Kind.SUBSCRIPTION,
        size.pk,
        6,
    )


def test_events_not_for_remit_are_ignored(account):
    status, body = send(
        {
            "id": "evt_other",
            "object": "event",
            "type": "customer.created",
            "data": {"object": {"id": "cus_1", "object": "customer"}},
        }
    )
    assert (status, body["outcome"]) == (200, "ignored")
    assert Client(HTTP_HOST="127.0.0.1").get("/stripe/webhook").status_code == 405


# --- correctly signed, badly shaped (issue 13): kept as failed, answered so Stripe stops --------


def _paid_invoice_event(event_id: str, **fields) -> dict:
    obj = {
        "id": "in_bad",
        "object": "invoice",
        "amount_paid": 5000,
        "currency": "usd",
        "payment_intent": "pi_bad",
        "status_transitions": {"paid_at": int(time.time())},
        "metadata": {"remit_account": "cust_bad", "remit_credits": "50"},
    }
    obj.update(fields)
    return {
        "id": event_id,
        "object": "event",
        "type": "invoice.paid",
        "created": int(time.time()),
        "data": {"object": obj},
    }


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"amount_paid": "abc"}, "Malformed event: ValueError"),
        ({"status_transitions": {"paid_at": 1e20}}, "Malformed event: "),
        ({"metadata": ["remit_account", "cust_bad"]}, "Malformed event: "),
        ({"currency": "us\u0000d"}, "The event contains NUL characters."),
    ],
    ids=["amount-not-a-number", "paid-at-far-future", "metadata-a-list", "nul-in-currency"],
)
def test_a_signed_event_with_a_malformed_field_is_kept_as_failed_and_answered_200(
    catalogue, fields, reason
):
    AccountFactory(external_id="cust_bad")
    event = _paid_invoice_event("evt_bad_1", **fields)

    for _ in range(2):
        status, body = send(event)
        assert (status, body) == (200, {"received": True, "outcome": "failed"})

    stored = StripeEvent.objects.get()
    assert stored.detail.startswith(reason)
    assert stored.deliveries == 2
    assert not Order.objects.exists()
    assert not Payment.objects.exists()


def test_a_nul_in_the_event_id_is_kept_readable_and_refused(catalogue):
    status, body = send(_paid_invoice_event("evt_\u0000x"))

    assert (status, body) == (200, {"received": True, "outcome": "failed"})
    stored = StripeEvent.objects.get()
    assert stored.event_id == "evt_\ufffdx"
    assert stored.detail == "The event contains NUL characters."
    assert not Order.objects.exists()


def test_an_overlong_event_id_is_400_and_stores_nothing(catalogue):
    status, body = send(_paid_invoice_event("evt_" + "x" * 300))

    assert status == 400
    assert body["message"] == "Not a Stripe event (its id or type is too long)."
    assert not StripeEvent.objects.exists()
