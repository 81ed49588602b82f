"""Log lines an operator can search: one JSON object per line with the request id, the account
and the actor of the request being served (O2).

``request_context`` (middleware) gives every request an id (the caller's ``X-Request-ID`` when it
is a plausible one, else a new one), sends it back in the response, and writes one access line
per request with its latency; the formatter adds the context to every line logged meanwhile.
Code that learns the account sets it with :func:`log_context_update`.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse

from remit.core.metrics import request_latency_observe

_context: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "remit_log_context", default=None
)
# What a caller's request id may look like (a proxy's or the operator's backend's).
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,100}")
access_logger = logging.getLogger("remit.access")


def log_context() -> dict[str, Any]:
    return dict(_context.get() or {})


def log_context_update(**values: Any) -> None:
    """Add ``values`` (``account=…``) to the current request's (or task's) log context."""
    current = _context.get()
    if current is not None:
        current.update({key: value for key, value in values.items() if value is not None})


def _actor(request: HttpRequest) -> str | None:
    api_key = getattr(request, "api_key", None)
    if api_key is not None:
        return f"api_key:{api_key.prefix}"
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return None


def request_context(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable:
    def middleware(request: HttpRequest) -> HttpResponse:
        given = request.headers.get("X-Request-ID", "")
        request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = _context.set({"request_id": request_id})
        started = time.perf_counter()
        try:
            response = get_response(request)
            log_context_update(actor=_actor(request))
            duration = time.perf_counter() - started
            route = request.resolver_match.route if request.resolver_match else "(unmatched)"
            request_latency_observe(
                method=request.method or "",
                route=route,
                status=response.status_code,
                seconds=duration,
            )
            account_id = str(
                (request.resolver_match.kwargs if request.resolver_match else {}).get(
                    "account_id", ""
                )
            )
            if account_id.isdigit():
                log_context_update(account=int(account_id))
            access_logger.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "route": route,
                    "status": response.status_code,
                    "duration_ms": round(duration * 1000, 2),
                },
            )
            response.headers["X-Request-ID"] = request_id
            return response
        finally:
            _context.reset(token)

    return middleware


# Attributes every LogRecord has; the rest of a record's attributes are the caller's ``extra``.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, the request's
    context (request_id, account, actor), the caller's ``extra`` fields and any exception."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **log_context(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)
