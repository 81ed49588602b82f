"""Security headers for every response (the admin keeps Django's own inline-free defaults), no
storing of signed-in pages and API answers in caches, and the refusal of NUL characters in any
request."""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import unquote_plus

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

from remit.core.validation import NUL, holds_nul

# No inline scripts or styles anywhere in the User Center: everything comes from /static/.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def security_headers(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable:
    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        if not request.path.startswith("/admin/"):
            response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Referrer-Policy", "same-origin")
        # A signed-in person's pages and every API answer hold one account's data: no shared
        # cache (a proxy, the browser's back button after sign-out) may keep them.
        signed_in = getattr(getattr(request, "user", None), "is_authenticated", False)
        if "Cache-Control" not in response.headers and (
            signed_in or request.path.startswith("/api/")
        ):
            add_never_cache_headers(response)
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        return response

    return middleware


# Stripe's signed events are checked by their own code (a bad event is kept and refused there).
NUL_CHECK_EXEMPT = ("/stripe/webhook",)


def nul_refusal_where(request: HttpRequest) -> str | None:
    """Where the request carries a NUL character (which no text column can store, and which
    PostgreSQL refuses with an error): "address", "query string", "body", or None."""
    if NUL in request.path:
        return "address"
    if NUL in unquote_plus(request.META.get("QUERY_STRING", "")):
        return "query string"
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    if (request.content_type or "") != "application/json":
        # Form fields refuse NUL themselves, field by field (Django's ProhibitNullCharacters
        # validator on every CharField), which says which field is wrong.
        return None
    try:
        document = json.loads(request.body)
    except ValueError:
        return None  # not JSON at all: the endpoint says so
    return "body" if holds_nul(document) else None


def refuse_nul(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable:
    """One place refuses NUL characters in addresses, query strings and JSON bodies: 400, in the
    API's error shape under /api/ (form posts get their field errors from the forms)."""

    def middleware(request: HttpRequest) -> HttpResponse:
        if request.path.startswith(NUL_CHECK_EXEMPT):
            return get_response(request)
        where = nul_refusal_where(request)
        if where is None:
            return get_response(request)
        message = f"The {where} contains a NUL character, which is not accepted."
        if request.path.startswith("/api/"):
            return HttpResponse(
                json.dumps({"code": "bad_request", "message": message, "details": {}}),
                status=400,
                content_type="application/json",
            )
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")

    return middleware
