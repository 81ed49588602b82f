"""The payment platform (P1, P7): where the customer pays online.

Two providers with one interface: ``StripePlatform`` (Stripe Checkout over Stripe's HTTP API,
chosen when ``REMIT_STRIPE_SECRET_KEY`` is set) and ``TestPlatform`` (Remit's own test-mode page,
chosen otherwise; no money moves). Amounts are minor units, which is also what Stripe expects,
zero-decimal currencies such as JPY included.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings

from remit.core.errors import PaymentPlatformUnavailable

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
    """Stripe Checkout Sessions through Stripe's REST API (form-encoded, Bearer key)."""

    name = "stripe"

    def __init__(self, *, secret_key: str, api_base: str, timeout: float) -> None:
        self.secret_key = secret_key
        self.api_base = api_base.rstrip("/")
        self.timeout = timeout

    def _call(
        self,
        method: str,
        path: str,
        fields: dict[str, str] | None = None,
        idempotency_key: str = "",
    ) -> dict[str, Any]:
        body = urllib.parse.urlencode(fields).encode() if fields is not None else None
        request = urllib.request.Request(  # noqa: S310 - the URL is the configured Stripe API
            f"{self.api_base}{path}", data=body, method=method
        )
        request.add_header("Authorization", f"Bearer {self.secret_key}")
        request.add_header("Stripe-Version", "2024-06-20")
        if body is not None:
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
        if idempotency_key:
            request.add_header("Idempotency-Key", idempotency_key)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                payload = json.loads(response.read(1_000_000))
        except urllib.error.HTTPError as error:
            try:
                message = json.loads(error.read(100_000))["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = f"HTTP {error.code}"
            logger.warning("Stripe refused %s %s: %s", method, path, message)
            raise PaymentPlatformUnavailable(
                "The payment platform refused the request.", details={"platform": message}
            ) from error
        except (OSError, ValueError) as error:
            logger.warning("Stripe unreachable for %s %s: %s", method, path, error)
            raise PaymentPlatformUnavailable(
                "The payment platform could not be reached. Nothing was charged; try again."
            ) from error
        if not isinstance(payload, dict):
            raise PaymentPlatformUnavailable("The payment platform sent an unexpected answer.")
        return payload

    def checkout_create(self, request: CheckoutRequest) -> PlatformCheckout:
        fields = {
            "mode": "payment",
            "success_url": request.return_url,
            "cancel_url": request.cancel_url,
            "client_reference_id": request.token,
            "metadata[remit_checkout]": request.token,
            "line_items[0][quantity]": "1",
            "line_items[0][price_data][currency]": request.currency.lower(),
            "line_items[0][price_data][unit_amount]": str(request.amount_minor),
            "line_items[0][price_data][product_data][name]": request.description[:250],
        }
        if request.customer_email:
            fields["customer_email"] = request.customer_email
        payload = self._call(
            "POST", "/v1/checkout/sessions", fields, idempotency_key=f"remit-{request.token}"
        )
        reference, url = payload.get("id"), payload.get("url")
        if not isinstance(reference, str) or not isinstance(url, str):
            raise PaymentPlatformUnavailable("The payment platform sent an unexpected answer.")
        return PlatformCheckout(reference=reference, url=url)

    def checkout_status(self, reference: str) -> PlatformPaymentStatus:
        quoted = urllib.parse.quote(reference, safe="")
        payload = self._call("GET", f"/v1/checkout/sessions/{quoted}")
        payment_intent = payload.get("payment_intent")
        if isinstance(payment_intent, dict):
            payment_intent = payment_intent.get("id")
        amount = payload.get("amount_total")
        return PlatformPaymentStatus(
            paid=payload.get("payment_status") == "paid",
            payment_reference=str(payment_intent or reference),
            amount_minor=amount if isinstance(amount, int) else -1,
            currency=str(payload.get("currency") or "").upper(),
        )


def payment_platform() -> PaymentPlatform:
    """The configured platform, read at call time so tests can switch settings."""
    if settings.REMIT_STRIPE_SECRET_KEY:
        return StripePlatform(
            secret_key=settings.REMIT_STRIPE_SECRET_KEY,
            api_base=settings.REMIT_STRIPE_API_BASE,
            timeout=settings.REMIT_STRIPE_TIMEOUT_SECONDS,
        )
    return TestPlatform()


def payment_test_mode() -> bool:
    return not settings.REMIT_STRIPE_SECRET_KEY
