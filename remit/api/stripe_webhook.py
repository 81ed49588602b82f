"""Stripe's webhook endpoint (I4): POST /stripe/webhook with the raw body and Stripe-Signature."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from remit.api.middleware import body_refusal
from remit.billing.services.stripe_events import stripe_event_receive
from remit.core.errors import WebhookSignatureInvalid

# Stripe's events are a few KiB; anything this large is not one.
MAX_BODY = 1_000_000


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    if refusal := body_refusal(request, limit=MAX_BODY, read=True):
        return refusal
    try:
        event = stripe_event_receive(
            payload=request.body, signature_header=request.headers.get("Stripe-Signature", "")
        )
    except WebhookSignatureInvalid as error:
        return JsonResponse({"code": error.code, "message": error.message}, status=400)
    return JsonResponse({"received": True, "outcome": event.outcome})
