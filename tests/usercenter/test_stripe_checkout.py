"""Stripe Checkout behind REMIT_STRIPE_SECRET_KEY (P1, P7) through the stripe SDK, against a local
fake of Stripe's HTTP API that records what Remit sent and answers like Stripe."""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse

from remit.billing.models import CheckoutSession, Invoice, Order, Payment
from tests.billing.helpers import buy_credits_by_invoice

pytestmark = pytest.mark.django_db


class FakeStripe:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.sessions: dict[str, dict] = {}
        self.refuse: str | None = None
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status: int, payload: dict) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                length = int(self.headers["Content-Length"])
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                fake.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "form": form}
                )
                if fake.refuse:
                    self._send(400, {"error": {"message": fake.refuse}})
                    return
                number = len(fake.sessions) + 1
                session = {
                    "object": "checkout.session",
                    "id": f"cs_test_{number}",
                    "url": f"https://checkout.stripe.test/c/pay/cs_test_{number}",
                    "payment_status": "unpaid",
                    "payment_intent": None,
                    "amount_total": int(form["line_items[0][price_data][unit_amount]"]),
                    "currency": form["line_items[0][price_data][currency]"],
                }
                fake.sessions[session["id"]] = session
                self._send(200, session)

            def do_GET(self):
                fake.requests.append({"path": self.path, "headers": dict(self.headers)})
                session_id = urllib.parse.unquote(self.path.rsplit("/", 1)[-1])
                if session_id not in fake.sessions:
                    self._send(404, {"error": {"message": "No such checkout.session"}})
                    return
                self._send(200, fake.sessions[session_id])

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def pay(self, session_id: str, amount: int | None = None) -> None:
        session = self.sessions[session_id]
        session.update(payment_status="paid", payment_intent=f"pi_{session_id}")
        if amount is not None:
            session["amount_total"] = amount


@pytest.fixture
def stripe(settings):
    fake = FakeStripe()
    settings.REMIT_STRIPE_SECRET_KEY = "sk_test_remit"
    settings.REMIT_STRIPE_API_BASE = fake.url
    settings.REMIT_STRIPE_TIMEOUT_SECONDS = 5
    yield fake
    fake.server.shutdown()


def _buy_by_card(client, credits: int = 40):
    page = client.get(reverse("usercenter:buy")).content.decode()
    key = re.search(r'name="credits-idempotency_key" value="([^"]+)"', page).group(1)
    return client.post(
        reverse("usercenter:buy_submit", args=["credits"]),
        {"credits-credits": str(credits), "credits-idempotency_key": key},
    )


def test_buying_by_card_redirects_to_stripe_checkout_with_the_orders_amount(signed_in, stripe):
    response = _buy_by_card(signed_in, 40)
    assert response.status_code == 302
    assert response["Location"] == "https://checkout.stripe.test/c/pay/cs_test_1"
    [request] = stripe.requests
    assert request["path"] == "/v1/checkout/sessions"
    assert request["headers"]["Authorization"] == "Bearer sk_test_remit"
    session = CheckoutSession.objects.get()
    assert request["headers"]["Idempotency-Key"] == f"remit-{session.token}"
    form = request["form"]
    assert form["mode"] == "payment"
    assert form["line_items[0][price_data][unit_amount]"] == "4000"
    assert form["line_items[0][price_data][currency]"] == "usd"
    # The checkout's token travels with the session and its payment, for the webhooks.
    assert form["metadata[remit_checkout]"] == session.token
    assert form["payment_intent_data[metadata][remit_checkout]"] == session.token
    assert form["success_url"].endswith(reverse("usercenter:checkout_return", args=[session.token]))
    assert form["cancel_url"].endswith(reverse("usercenter:checkout_cancel", args=[session.token]))
    assert (session.provider, session.provider_reference) == ("stripe", "cs_test_1")


def test_the_return_records_the_payment_once_when_stripe_says_paid(signed_in, stripe, account):
    _buy_by_card(signed_in, 40)
    session = CheckoutSession.objects.get()
    return_url = reverse("usercenter:checkout_return", args=[session.token])

    waiting = signed_in.get(return_url)
    assert waiting.status_code == 202
    assert "has not confirmed this payment yet" in waiting.content.decode()
    assert Payment.objects.count() == 0

    stripe.pay("cs_test_1")
    first = signed_in.get(return_url)
    second = signed_in.get(return_url)
    assert first.status_code == 302
    assert second.status_code == 302
    payment = Payment.objects.get()
    assert (payment.provider, payment.provider_reference) == ("stripe", "pi_cs_test_1")
    assert payment.amount_minor == 4000
    assert Order.objects.get().status == Order.Status.PAID
    assert Invoice.objects.get(account=account).status == Invoice.Status.PAID


def test_an_outstanding_invoice_is_paid_through_stripe(signed_in, stripe, account):
    invoice = buy_credits_by_invoice(account, 100)
    response = signed_in.post(reverse("usercenter:invoice_pay", args=[invoice.pk]))
    assert response["Location"].startswith("https://checkout.stripe.test/")
    assert stripe.requests[0]["form"]["line_items[0][price_data][product_data][name]"] == (
        invoice.number
    )
    session = CheckoutSession.objects.get()
    stripe.pay(session.provider_reference)
    signed_in.get(reverse("usercenter:checkout_return", args=[session.token]))
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID


def test_a_different_amount_reported_by_stripe_is_not_recorded(signed_in, stripe):
    _buy_by_card(signed_in, 40)
    session = CheckoutSession.objects.get()
    stripe.pay("cs_test_1", amount=1)
    response = signed_in.get(reverse("usercenter:checkout_return", args=[session.token]))
    assert response.status_code == 302
    assert Payment.objects.count() == 0
    assert "needs a look from our team" in signed_in.get(response["Location"]).content.decode()


def test_stripe_refusing_the_checkout_is_explained_and_nothing_is_charged(signed_in, stripe):
    stripe.refuse = "Invalid API Key provided"
    response = _buy_by_card(signed_in, 40)
    assert response.status_code == 303  # post/redirect/get: the page says why
    response = signed_in.get(response["Location"])
    assert "could not reach the payment platform" in response.content.decode()
    assert CheckoutSession.objects.count() == 0
    assert Payment.objects.count() == 0
    # The unpaid card order is never listed in Orders & Invoices.
    orders = signed_in.get(reverse("usercenter:orders")).content.decode()
    assert "No orders match." in orders


def test_stripe_unreachable_is_explained(signed_in, settings):
    settings.REMIT_STRIPE_SECRET_KEY = "sk_test_remit"
    settings.REMIT_STRIPE_API_BASE = "http://127.0.0.1:9"  # discard port: connection refused
    response = _buy_by_card(signed_in, 40)
    assert response.status_code == 303  # post/redirect/get: the page says why
    response = signed_in.get(response["Location"])
    assert "could not reach the payment platform" in response.content.decode()
    assert CheckoutSession.objects.count() == 0
    assert Payment.objects.count() == 0


def test_cancel_from_stripe_leaves_the_invoice_payable(signed_in, stripe, account):
    invoice = buy_credits_by_invoice(account, 100)
    signed_in.post(reverse("usercenter:invoice_pay", args=[invoice.pk]))
    session = CheckoutSession.objects.get()
    response = signed_in.get(reverse("usercenter:checkout_cancel", args=[session.token]))
    assert response["Location"] == reverse("usercenter:invoice_pay", args=[invoice.pk])
    session.refresh_from_db()
    assert session.status == CheckoutSession.Status.CANCELLED
    again = signed_in.post(reverse("usercenter:invoice_pay", args=[invoice.pk]))
    assert again["Location"].endswith("cs_test_2")
