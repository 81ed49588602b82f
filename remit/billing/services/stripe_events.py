"""Stripe's webhooks (I4, P1, P7, UC6): verify the signature over the raw body, keep each event
once in the inbox, and record each payment exactly once — whatever the number and order of
deliveries (the inbox is unique on Stripe's event id, payments on Stripe's payment id).

Handled: ``checkout.session.completed`` / ``checkout.session.async_payment_succeeded`` and
``payment_intent.succeeded`` for Remit's own checkouts (found by the ``remit_checkout``
metadata), and ``invoice.paid`` for invoices Stripe issued itself (recorded as platform orders;
while the account is on its free trial they are free-trial orders, never invoiced by Remit).
Everything else is stored and ignored.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from typing import Any, cast

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from remit.billing.actors import Actor
from remit.billing.models import Account, CheckoutSession, Order
from remit.billing.selectors.catalogue import plan_size_get
from remit.billing.services.checkout import checkout_complete
from remit.billing.services.orders import order_record_from_platform
from remit.core.errors import DomainError, WebhookSignatureInvalid
from remit.core.validation import holds_nul, without_nul
from remit.integrations.models import StripeEvent

logger = logging.getLogger(__name__)
ACTOR = Actor.payment_platform("stripe")


def stripe_signature_verify(*, payload: bytes, header: str) -> None:
    """Stripe's scheme (HMAC-SHA256 of "<t>.<body>"), with the timestamp within the tolerance
    in both directions (the SDK checks only the past)."""
    import stripe

    tolerance = settings.REMIT_STRIPE_WEBHOOK_TOLERANCE_SECONDS
    secret = settings.REMIT_STRIPE_WEBHOOK_SECRET
    if not secret:
        raise WebhookSignatureInvalid("No Stripe webhook secret is configured.")
    try:
        stripe.WebhookSignature.verify_header(payload, header, secret, tolerance=tolerance)
    except stripe.SignatureVerificationError as error:
        raise WebhookSignatureInvalid(str(error)) from error
    stamps = [part[2:] for part in header.split(",") if part.startswith("t=")]
    if not stamps or not stamps[0].isdigit() or int(stamps[0]) > time.time() + tolerance:
        raise WebhookSignatureInvalid("Timestamp outside the tolerance zone (future).")


def _checkout_for(obj: dict[str, Any], *, session_id: str | None) -> CheckoutSession | None:
    sessions = CheckoutSession.objects.select_related("order", "invoice").filter(provider="stripe")
    if session_id:
        found = sessions.filter(provider_reference=session_id).first()
        if found is not None:
            return found
    token = (obj.get("metadata") or {}).get("remit_checkout")
    return sessions.filter(token=token).first() if isinstance(token, str) and token else None


def _object_id(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("id") or "")
    return str(value or "")


def _handle_checkout_session(obj: dict[str, Any]) -> tuple[str, str]:
    if obj.get("payment_status") != "paid":
        return StripeEvent.Outcome.IGNORED, "Not paid yet."
    session = _checkout_for(obj, session_id=obj.get("id"))
    if session is None:
        return StripeEvent.Outcome.IGNORED, "Not a Remit checkout."
    payment = checkout_complete(
        session,
        actor=ACTOR,
        payment_reference=_object_id(obj.get("payment_intent")) or str(obj.get("id")),
        amount_minor=int(obj.get("amount_total") or 0),
        currency=str(obj.get("currency") or "").upper(),
    )
    return StripeEvent.Outcome.PROCESSED, f"Payment {payment.pk}"


def _handle_payment_intent(obj: dict[str, Any]) -> tuple[str, str]:
    session = _checkout_for(obj, session_id=None)
    if session is None:
        return StripeEvent.Outcome.IGNORED, "Not a Remit checkout."
    payment = checkout_complete(
        session,
        actor=ACTOR,
        payment_reference=str(obj.get("id")),
        amount_minor=int(obj.get("amount_received") or obj.get("amount") or 0),
        currency=str(obj.get("currency") or "").upper(),
    )
    return StripeEvent.Outcome.PROCESSED, f"Payment {payment.pk}"


def _remit_metadata(obj: dict[str, Any]) -> dict[str, str]:
    metadata = dict(obj.get("metadata") or {})
    details = obj.get("subscription_details") or {}
    metadata.update({k: v for k, v in (details.get("metadata") or {}).items() if k not in metadata})
    return {str(k): str(v) for k, v in metadata.items()}


def _handle_invoice_paid(obj: dict[str, Any]) -> tuple[str, str]:
    metadata = _remit_metadata(obj)
    reference = metadata.get("remit_account", "")
    if not reference:
        return StripeEvent.Outcome.IGNORED, "No remit_account metadata."
    account = (
        Account.objects.filter(pk=int(reference)).first()
        if reference.isdigit()
        else Account.objects.filter(external_id=reference).first()
    )
    if account is None:
        return StripeEvent.Outcome.FAILED, f"No account {reference}."

    def number(name: str) -> int | None:
        value = metadata.get(name, "")
        return int(value) if value.isdigit() else None

    plan_size_id = number("remit_plan_size")
    plan_size = plan_size_get(plan_size_id=plan_size_id) if plan_size_id is not None else None
    paid_at = (obj.get("status_transitions") or {}).get("paid_at") or obj.get("created")
    received_at = datetime.fromtimestamp(int(paid_at), tz=UTC) if paid_at else timezone.now()
    order = order_record_from_platform(
        account=account,
        actor=ACTOR,
        external_reference=str(obj.get("id")),
        kind=Order.Kind.SUBSCRIPTION if plan_size is not None else Order.Kind.CREDITS,
        is_free_trial=account.status == Account.Status.TRIAL,
        provider="stripe",
        provider_reference=_object_id(obj.get("payment_intent")) or str(obj.get("id")),
        amount_minor=int(obj.get("amount_paid") or 0),
        currency=str(obj.get("currency") or "").upper(),
        received_at=received_at,
        credits=number("remit_credits"),
        plan_size=plan_size,
        term_months=number("remit_term_months"),
    )
    return StripeEvent.Outcome.PROCESSED, f"Order {order.pk}"


HANDLERS = {
    "checkout.session.completed": _handle_checkout_session,
    "checkout.session.async_payment_succeeded": _handle_checkout_session,
    "payment_intent.succeeded": _handle_payment_intent,
    "invoice.paid": _handle_invoice_paid,
}


EVENT_ID_MAX_LENGTH = 255  # StripeEvent.event_id
EVENT_TYPE_MAX_LENGTH = 100  # StripeEvent.type
# What reading a field of the wrong type or range raises (int("abc"), datetime.fromtimestamp(1e20),
# dict([...]), a list where a mapping belongs); errors of the database are not among them.
MALFORMED_FIELD_ERRORS = (ValueError, TypeError, KeyError, AttributeError, OverflowError, OSError)


def stripe_event_receive(*, payload: bytes, signature_header: str) -> StripeEvent:
    """Verify, store once, process once. A replay of a processed event changes nothing. A rule
    that refuses the payment (amount, already paid) is kept as ``failed`` for support; errors
    of the database itself propagate, so Stripe retries."""
    stripe_signature_verify(payload=payload, header=signature_header)
    try:
        event = json.loads(payload)
        event_id, event_type = str(event["id"]), str(event["type"])
        obj = event["data"]["object"]
        if not isinstance(obj, dict):
            raise TypeError(obj)
    except (ValueError, KeyError, TypeError) as error:
        raise WebhookSignatureInvalid("Not a Stripe event.") from error
    malformed = ""
    if holds_nul(event):
        # Kept (readable) and refused: nothing in it can be trusted to be stored as sent.
        event = cast(dict[str, Any], without_nul(event))
        event_id, event_type = str(event["id"]), str(event["type"])
        malformed = "The event contains NUL characters."
    if len(event_id) > EVENT_ID_MAX_LENGTH or len(event_type) > EVENT_TYPE_MAX_LENGTH:
        raise WebhookSignatureInvalid("Not a Stripe event (its id or type is too long).")
    with transaction.atomic():
        try:
            with transaction.atomic():
                stored = StripeEvent.objects.create(
                    event_id=event_id, type=event_type, payload=event
                )
        except IntegrityError:
            StripeEvent.objects.filter(event_id=event_id).update(deliveries=F("deliveries") + 1)
            stored = StripeEvent.objects.select_for_update().get(event_id=event_id)
            if stored.processed_at is not None:
                return stored
        handler = HANDLERS.get(event_type)
        outcome: str
        detail: str
        if malformed:
            outcome, detail = StripeEvent.Outcome.FAILED, malformed
        elif handler is None:
            outcome, detail = StripeEvent.Outcome.IGNORED, "Event type not used."
        else:
            try:
                with transaction.atomic():
                    outcome, detail = handler(obj)
            except DomainError as error:
                logger.warning("Stripe event %s refused: %s", event_id, error.message)
                outcome, detail = StripeEvent.Outcome.FAILED, f"{error.code}: {error.message}"
            except MALFORMED_FIELD_ERRORS as error:
                # A correctly signed event with a field of the wrong shape ("amount_paid": "abc",
                # "paid_at": 1e20, metadata a list): kept for support, answered so Stripe stops.
                logger.warning("Stripe event %s malformed: %r", event_id, error)
                outcome = StripeEvent.Outcome.FAILED
                detail = f"Malformed event: {type(error).__name__}: {error}"
        stored.outcome, stored.detail = outcome, detail[:500]
        stored.processed_at = timezone.now()
        stored.save(update_fields=["outcome", "detail", "processed_at"])
        return stored
