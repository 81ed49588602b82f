"""The API's request rate per key (I1): fixed one-minute windows, counted where it costs least.

With a Redis cache (``REMIT_CACHE_URL``) the count is a Redis counter; otherwise it is one
upsert of an :class:`ApiRequestCount` row (a single statement on PostgreSQL and SQLite, where
Django's database cache needs several per request)."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from remit.integrations.models import ApiKey, ApiRequestCount

WINDOW_SECONDS = 60


def rate_uses_cache() -> bool:
    return str(settings.CACHES["default"]["BACKEND"]).endswith("RedisCache")


def api_request_count(*, api_key: ApiKey, minute: int) -> int:
    """Count one request of ``api_key`` in the window starting at ``minute`` (minutes since the
    epoch); returns the requests in that window so far, this one included."""
    if rate_uses_cache():
        key = f"api-rate:{api_key.pk}:{minute}"
        # add() then incr(): the first request of a window creates the counter with its expiry.
        if cache.add(key, 1, timeout=2 * WINDOW_SECONDS):
            return 1
        try:
            return int(cache.incr(key))
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=2 * WINDOW_SECONDS)
            return 1
    table = connection.ops.quote_name(ApiRequestCount._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (api_key_id, minute, count) VALUES (%s, %s, 1) "  # noqa: S608
            f"ON CONFLICT (api_key_id, minute) DO UPDATE SET count = {table}.count + 1 "
            "RETURNING count",
            [api_key.pk, minute],
        )
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])
