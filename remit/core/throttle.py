"""Counting failures per key in the shared cache, to slow down guessing (UC1)."""

from __future__ import annotations

from django.core.cache import cache


def _key(scope: str, identity: str) -> str:
    return f"throttle:{scope}:{identity}"


def throttle_blocked(*, scope: str, identities: list[str], limit: int) -> bool:
    """True when any of ``identities`` has ``limit`` or more recent failures."""
    counts = cache.get_many([_key(scope, identity) for identity in identities])
    return any(int(count) >= limit for count in counts.values())


def throttle_failure(*, scope: str, identities: list[str], window_seconds: int) -> None:
    for identity in identities:
        key = _key(scope, identity)
        if not cache.add(key, 1, timeout=window_seconds):
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, timeout=window_seconds)


def throttle_clear(*, scope: str, identities: list[str]) -> None:
    cache.delete_many([_key(scope, identity) for identity in identities])
