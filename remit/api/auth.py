"""API authentication (I1): ``Authorization: Bearer rk_…`` keys with scopes, and a request rate
per key (429 with Retry-After)."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.security import HttpBearer

from remit.integrations.models import ApiKey
from remit.integrations.services.api_keys import api_key_authenticate
from remit.integrations.services.api_rate import WINDOW_SECONDS, api_request_count


class ScopeMissing(Exception):
    def __init__(self, scope: str) -> None:
        super().__init__(scope)
        self.scope = str(scope)


class RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


def _rate_check(api_key: ApiKey) -> None:
    """Fixed one-minute windows per key (see :mod:`remit.integrations.services.api_rate`)."""
    limit = settings.REMIT_API_REQUESTS_PER_MINUTE
    now = time.time()
    minute = int(now // WINDOW_SECONDS)
    if api_request_count(api_key=api_key, minute=minute) > limit:
        raise RateLimited(retry_after=max(1, int(WINDOW_SECONDS - now % WINDOW_SECONDS)))


class ApiKeyAuth(HttpBearer):
    """A valid, unrevoked key with ``scope``. Unknown key → 401; known key without the scope →
    403; over the rate → 429."""

    openapi_scheme = "bearer"

    def __init__(self, scope: str) -> None:
        super().__init__()
        self.scope = str(scope)

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        # The idempotency middleware already authenticated this request's key (same header).
        api_key = getattr(request, "api_key", None) or api_key_authenticate(token)
        if api_key is None:
            return None
        request.api_key = api_key  # type: ignore[attr-defined]
        _rate_check(api_key)
        if self.scope not in api_key.scopes:
            raise ScopeMissing(self.scope)
        return api_key


READ = ApiKeyAuth(ApiKey.Scope.READ.value)
WRITE = ApiKeyAuth(ApiKey.Scope.WRITE.value)
STAFF = ApiKeyAuth(ApiKey.Scope.STAFF.value)
