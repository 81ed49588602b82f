"""Cursor pagination: newest first by id; ``next_cursor`` is opaque (base64 of the last id)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any, TypeVar

from django.db.models import Model, QuerySet

from remit.core.errors import ValidationFailed

M = TypeVar("M", bound=Model)
MAX_LIMIT = 100


def _decode(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4)).decode()
        kind, _, value = text.partition(":")
        if kind != "id" or not value.isdigit():
            raise ValueError(cursor)
        return int(value)
    except (ValueError, UnicodeDecodeError) as error:
        raise ValidationFailed({"cursor": ["Not a cursor this API returned."]}) from error


def _encode(pk: int) -> str:
    return base64.urlsafe_b64encode(f"id:{pk}".encode()).decode().rstrip("=")


def page(
    queryset: QuerySet[M], *, cursor: str | None, limit: int, serialize: Callable[[M], Any]
) -> dict[str, Any]:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed({"limit": [f"Use 1 to {MAX_LIMIT}."]})
    if cursor:
        queryset = queryset.filter(pk__lt=_decode(cursor))
    rows = list(queryset.order_by("-pk")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [serialize(row) for row in rows],
        "next_cursor": _encode(rows[-1].pk) if more and rows else None,
    }
