"""Request rules for /api/: a body size limit (413) and idempotent POSTs (I2) — every POST with an
``Idempotency-Key`` header is claimed, run once, and its response stored and replayed."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase

from remit.integrations.services.api_keys import api_key_authenticate
from remit.integrations.services.idempotency import (
    Claimed,
    Refused,
    Replay,
    idempotency_claim,
    idempotency_complete,
    idempotency_release,
    request_fingerprint,
)

API_PREFIX = "/api/"


def _error(status: int, code: str, message: str) -> HttpResponse:
    return HttpResponse(
        json.dumps({"code": code, "message": message, "details": {}}),
        status=status,
        content_type="application/json",
    )


def body_refusal(request: HttpRequest, *, limit: int, read: bool) -> HttpResponse | None:
    """The answer to a body this endpoint will not take, or None: 400 when Content-Length is
    not a number, 413 when it (or, with ``read``, the body itself) is over ``limit`` bytes."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _error(400, "bad_request", "Content-Length is not a number.")
    if declared > limit or (read and len(request.body) > limit):
        return _error(413, "payload_too_large", f"Request bodies are limited to {limit} bytes.")
    return None


def _not_an_object(request: HttpRequest) -> HttpResponse | None:
    """422 for a JSON body that is not an object (``null``, ``123``, ``[]``): every operation
    takes named fields, and ninja would read such a body as "no fields sent"."""
    if request.method not in ("POST", "PUT", "PATCH") or request.content_type != "application/json":
        return None
    if not request.body.strip() or len(request.body) > settings.REMIT_API_MAX_BODY_BYTES:
        return None  # no body, or one the size limit refuses
    try:
        document = json.loads(request.body)
    except ValueError:
        return None  # not JSON: the operation says so
    if isinstance(document, dict):
        return None
    return HttpResponse(
        json.dumps(
            {
                "code": "validation_error",
                "message": "Invalid input.",
                "details": {"fields": {"body": ["Send a JSON object."]}},
            }
        ),
        status=422,
        content_type="application/json",
    )


class ApiRequestMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        limit = settings.REMIT_API_MAX_BODY_BYTES
        if refusal := body_refusal(request, limit=limit, read=False):
            return refusal
        if refusal := _not_an_object(request):
            return refusal
        key = request.headers.get("Idempotency-Key")
        if request.method != "POST" or key is None:
            return self.get_response(request)
        if refusal := body_refusal(request, limit=limit, read=True):
            return refusal
        authorization = request.headers.get("Authorization", "")
        api_key = (
            api_key_authenticate(authorization[7:].strip())
            if authorization.lower().startswith("bearer ")
            else None
        )
        if api_key is None:
            return self.get_response(request)  # the API answers 401
        request.api_key = api_key  # type: ignore[attr-defined]  # the API's auth reuses it
        claim = idempotency_claim(
            api_key=api_key,
            key=key,
            fingerprint=request_fingerprint(
                method=request.method, path=request.get_full_path(), body=request.body
            ),
        )
        if isinstance(claim, Refused):
            return _error(claim.status_code, claim.code, claim.message)
        if isinstance(claim, Replay):
            replay = HttpResponse(
                claim.body, status=claim.status_code, content_type=claim.content_type
            )
            replay["Idempotent-Replayed"] = "true"
            return replay
        assert isinstance(claim, Claimed)
        try:
            response = self.get_response(request)
        except BaseException:
            idempotency_release(record=claim.record)
            raise
        if response.streaming or response.status_code in (401, 403, 429):
            idempotency_release(record=claim.record)
        else:
            assert isinstance(response, HttpResponse)
            idempotency_complete(
                record=claim.record,
                status_code=response.status_code,
                content_type=response.get("Content-Type", ""),
                body=response.content,
            )
        return response
