"""The payment platform (P1, P7): where the customer pays online.

Two providers with one interface: ``StripePlatform`` (Stripe Checkout through the ``stripe`` SDK,
chosen when ``REMIT_STRIPE_SECRET_KEY`` is set) and ``TestPlatform`` (Remit's own test-mode page,
only with ``REMIT_PAYMENTS_TEST_MODE``; no money moves). With neither there is no platform: card
payments are refused (:class:`CardPaymentsUnavailable`) and invoices are paid by bank transfer.
Amounts are minor units, which is also what Stripe expects,
zero-decimal currencies such as JPY included.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings

from remit.core.errors import CardPaymentsUnavailable, PaymentPlatformUnavailable

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckoutRequest:
    token: str
    amount_minor: int
    currency: str
    description: str
    customer_email: str
    # Absolute URLs the platform sends the customer back to.
    return_url: str
    cancel_url: str
    # Remit's own test-mode page for this checkout (used by TestPlatform only).
    test_page_url: str


@dataclass(frozen=True)
class PlatformCheckout:
    reference: str
    url: str


@dataclass(frozen=True)
class PlatformPaymentStatus:
    paid: bool
    # The platform's id of the payment itself (Stripe: the PaymentIntent).
    payment_reference: str
    amount_minor: int
    currency: str


class PaymentPlatform(Protocol):
    name: str

    def checkout_create(self, request: CheckoutRequest) -> PlatformCheckout: ...

    def checkout_status(self, reference: str) -> PlatformPaymentStatus: ...


class TestPlatform:
    """No external platform: the checkout is Remit's test-mode page, and paying there is the
    customer's click, recorded by :func:`remit.billing.services.checkout.checkout_test_pay`."""

    name = "test"

    def checkout_create(self, request: CheckoutRequest) -> PlatformCheckout:
        return PlatformCheckout(reference=f"test_{request.token}", url=request.test_page_url)

    def checkout_status(self, reference: str) -> PlatformPaymentStatus:
        raise PaymentPlatformUnavailable("The test platform reports payments from its own page.")


class StripePlatform:
    """Stripe Checkout Sessions through the official ``stripe`` SDK (a ``StripeClient`` whose API
    address is configurable, so tests point it at a local server that answers like Stripe)."""

    name = "stripe"

    def __init__(self, *, secret_key: str, api_base: str, timeout: float) -> None:
        from stripe import RequestsClient, StripeClient

        self.client = StripeClient(
            secret_key,
            base_addresses={"api": api_base.rstrip("/")},
            http_client=RequestsClient(timeout=timeout),
            max_network_retries=2,
        )

    @staticmethod
    def _unavailable(error: Exception) -> PaymentPlatformUnavailable:
        logger.warning("Stripe call failed: %s", error)
        message = getattr(error, "user_message", None) or str(error)[:300]
        return PaymentPlatformUnavailable(
            "The payment platform could not be reached or refused the request. Nothing was "
            "charged; try again.",
            details={"platform": message},
        )

    def checkout_create(self, request: CheckoutRequest) -> PlatformCheckout:
        import stripe

        params: dict[str, Any] = {
            "mode": "payment",
            "success_url": request.return_url,
            "cancel_url": request.cancel_url,
            "client_reference_id": request.token,
            "metadata": {"remit_checkout": request.token},
            "payment_intent_data": {"metadata": {"remit_checkout": request.token}},
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": request.currency.lower(),
                        "unit_amount": request.amount_minor,
                        "product_data": {"name": request.description[:250]},
                    },
                }
            ],
        }
        if request.customer_email:
            params["customer_email"] = request.customer_email
        try:
            session = self.client.v1.checkout.sessions.create(
                params,  # type: ignore[arg-type]
                {"idempotency_key": f"remit-{request.token}"},
            )
        except stripe.StripeError as error:
            raise self._unavailable(error) from error
        if not session.id or not session.url:
            raise PaymentPlatformUnavailable("The payment platform sent an unexpected answer.")
        return PlatformCheckout(reference=session.id, url=session.url)

    def checkout_status(self, reference: str) -> PlatformPaymentStatus:
        import stripe

        try:
            session = self.client.v1.checkout.sessions.retrieve(reference)
        except stripe.StripeError as error:
            raise self._unavailable(error) from error
        payment_intent = session.payment_intent
        if payment_intent is not None and not isinstance(payment_intent, str):
            payment_intent = payment_intent.id
        amount = session.amount_total
        return PlatformPaymentStatus(
            paid=session.payment_status == "paid",
            payment_reference=str(payment_intent or reference),
            amount_minor=amount if isinstance(amount, int) else -1,
            currency=str(session.currency or "").upper(),
        )


def card_payments_available() -> bool:
    """Whether anything can be paid by card: a payment platform, or the test-mode page."""
    return bool(settings.REMIT_STRIPE_SECRET_KEY or settings.REMIT_PAYMENTS_TEST_MODE)


def card_payments_check() -> None:
    """The rule: without a payment platform nothing is bought or paid by card."""
    if not card_payments_available():
        raise CardPaymentsUnavailable(
            "Card payments are not available: no payment platform is configured. Create an "
            "invoice and pay it by bank transfer."
        )


def payment_platform() -> PaymentPlatform:
    """The configured platform, read at call time so tests can switch settings; raises
    :class:`CardPaymentsUnavailable` when there is none."""
    card_payments_check()
    if settings.REMIT_STRIPE_SECRET_KEY:
        return StripePlatform(
            secret_key=settings.REMIT_STRIPE_SECRET_KEY,
            api_base=settings.REMIT_STRIPE_API_BASE,
            timeout=settings.REMIT_STRIPE_TIMEOUT_SECONDS,
        )
    return TestPlatform()


def payment_test_mode() -> bool:
    """The test-mode page is the platform (switched on, and no Stripe key)."""
    return bool(settings.REMIT_PAYMENTS_TEST_MODE and not settings.REMIT_STRIPE_SECRET_KEY)
