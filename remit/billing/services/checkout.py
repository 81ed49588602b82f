"""Paying online (P1 card purchases, P7 outstanding invoices) through the payment platform.

``checkout_start`` opens (or reuses) a checkout for an order waiting for a card payment or for an
outstanding invoice and returns where to send the customer. The payment is recorded exactly once
when the platform says it is paid (``checkout_return`` after Stripe sends the customer back,
``checkout_test_pay`` on the test-mode page), through the same services finance and the payment
platform's notifications use.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from remit.billing.actors import Actor
from remit.billing.locks import order_lock
from remit.billing.models import CheckoutSession, Invoice, Order, Payment
from remit.billing.services.audit import audit_record
from remit.billing.services.orders import order_card_payment_record
from remit.billing.services.payment_platform import (
    CheckoutRequest,
    payment_platform,
    payment_test_mode,
)
from remit.billing.services.payments import invoice_payment_record
from remit.core.errors import (
    CheckoutNotAvailable,
    InvoiceNotPayable,
    OrderNotPayable,
    PaymentAmountMismatch,
)

# Stripe Checkout Sessions expire after 24 hours; an open one younger than this is reused, so a
# customer who clicks Pay twice is never charged twice.
REUSE_OPEN_CHECKOUT_FOR = timedelta(hours=12)
TOKEN_PLACEHOLDER = "{token}"  # noqa: S105 - a URL placeholder, not a secret


@dataclass(frozen=True)
class CheckoutUrls:
    """Absolute URL templates with ``{token}`` where the checkout's token goes."""

    return_url: str
    cancel_url: str
    test_page_url: str

    def for_token(self, token: str) -> tuple[str, str, str]:
        return (
            self.return_url.replace(TOKEN_PLACEHOLDER, token),
            self.cancel_url.replace(TOKEN_PLACEHOLDER, token),
            self.test_page_url.replace(TOKEN_PLACEHOLDER, token),
        )


def _payable_check(order: Order, invoice: Invoice | None) -> None:
    if invoice is not None:
        if invoice.order_id != order.pk or invoice.status != Invoice.Status.ISSUED:
            raise InvoiceNotPayable(
                f"Invoice {invoice.number} is {invoice.get_status_display().lower()}.",
                details={"invoice": invoice.pk, "status": invoice.status},
            )
    elif order.status != Order.Status.AWAITING_CARD_PAYMENT:
        raise OrderNotPayable(
            f"Order {order.pk} is {order.get_status_display().lower()}.",
            details={"order": order.pk, "status": order.status},
        )


def checkout_start(
    *,
    order: Order,
    actor: Actor,
    urls: CheckoutUrls,
    invoice: Invoice | None = None,
    customer_email: str = "",
) -> CheckoutSession:
    """Open a checkout for the order (bought by card) or for its outstanding ``invoice``.

    Under the order lock: an open checkout of the same provider made in the last 12 hours is
    returned instead of a new one. The platform call happens inside that lock (with a timeout
    and Stripe's idempotency key), so two clicks cannot open two sessions.
    """
    platform = payment_platform()
    with transaction.atomic():
        order = order_lock(order.pk)
        if invoice is not None:
            invoice = Invoice.objects.get(pk=invoice.pk)
        _payable_check(order, invoice)
        reusable = (
            CheckoutSession.objects.filter(
                order=order,
                invoice=invoice,
                provider=platform.name,
                status=CheckoutSession.Status.OPEN,
                created_at__gte=timezone.now() - REUSE_OPEN_CHECKOUT_FOR,
            )
            .order_by("-created_at")
            .first()
        )
        if reusable is not None:
            return reusable
        token = secrets.token_urlsafe(24)
        return_url, cancel_url, test_page_url = urls.for_token(token)
        created = platform.checkout_create(
            CheckoutRequest(
                token=token,
                amount_minor=order.total_minor,
                currency=order.currency,
                description=invoice.number if invoice is not None else order.description,
                customer_email=customer_email,
                return_url=return_url,
                cancel_url=cancel_url,
                test_page_url=test_page_url,
            )
        )
        session = CheckoutSession.objects.create(
            account_id=order.account_id,
            order=order,
            invoice=invoice,
            provider=platform.name,
            token=token,
            provider_reference=created.reference,
            url=created.url,
            amount_minor=order.total_minor,
            currency=order.currency,
            created_by_id=actor.user_id,
        )
        audit_record(
            actor=actor,
            action="checkout.started",
            subject=order,
            account=order.account,
            new_values={
                "checkout": token,
                "provider": platform.name,
                "invoice": invoice and invoice.pk,
            },
        )
        return session


def checkout_complete(
    session: CheckoutSession,
    *,
    actor: Actor,
    payment_reference: str,
    amount_minor: int,
    currency: str,
) -> Payment:
    """Record the checkout's payment (once per ``payment_reference``) and mark it completed."""
    received_at = timezone.now()
    if session.invoice_id is not None:
        assert session.invoice is not None
        payment = invoice_payment_record(
            invoice=session.invoice,
            actor=actor,
            method=Payment.Method.CARD,
            provider=session.provider,
            provider_reference=payment_reference,
            amount_minor=amount_minor,
            currency=currency,
            received_at=received_at,
        )
    else:
        payment = order_card_payment_record(
            order=session.order,
            actor=actor,
            provider=session.provider,
            provider_reference=payment_reference,
            amount_minor=amount_minor,
            currency=currency,
            received_at=received_at,
        )
    CheckoutSession.objects.filter(pk=session.pk).exclude(
        status=CheckoutSession.Status.COMPLETED
    ).update(status=CheckoutSession.Status.COMPLETED, completed_at=received_at)
    return payment


def checkout_test_pay(*, session: CheckoutSession, actor: Actor) -> Payment:
    """The customer pressed *Pay* on the test-mode page: record the (simulated) card payment.
    Refused when a real platform is configured. Pressing it twice records one payment."""
    if not payment_test_mode() or session.provider != "test":
        raise CheckoutNotAvailable("Test-mode payments are switched off.")
    if session.status == CheckoutSession.Status.CANCELLED:
        raise CheckoutNotAvailable("This checkout was cancelled; start the payment again.")
    return checkout_complete(
        session,
        actor=actor,
        payment_reference=session.provider_reference,
        amount_minor=session.amount_minor,
        currency=session.currency,
    )


def checkout_return(*, session: CheckoutSession, actor: Actor) -> Payment | None:
    """The platform sent the customer back: ask it whether the checkout was paid and, if so,
    record the payment (once; a later notification for the same payment changes nothing).
    Returns ``None`` while the platform does not report it paid."""
    if session.status == CheckoutSession.Status.COMPLETED:
        return Payment.objects.filter(order=session.order).first()
    if session.provider == "test":
        return None
    status = payment_platform().checkout_status(session.provider_reference)
    if not status.paid:
        return None
    if status.amount_minor != session.amount_minor or status.currency != session.currency:
        raise PaymentAmountMismatch(
            "The platform reports a different amount for this checkout.",
            details={"expected_minor": session.amount_minor, "reported_minor": status.amount_minor},
        )
    return checkout_complete(
        session,
        actor=Actor.payment_platform(session.provider),
        payment_reference=status.payment_reference,
        amount_minor=status.amount_minor,
        currency=status.currency,
    )


def checkout_cancel(*, session: CheckoutSession, actor: Actor) -> None:
    """The customer left the checkout without paying; the order or invoice stays payable."""
    with transaction.atomic():
        updated = CheckoutSession.objects.filter(
            pk=session.pk, status=CheckoutSession.Status.OPEN
        ).update(status=CheckoutSession.Status.CANCELLED)
        if updated:
            audit_record(
                actor=actor,
                action="checkout.cancelled",
                subject=session.order,
                account=session.order.account,
                new_values={"checkout": session.token},
            )
