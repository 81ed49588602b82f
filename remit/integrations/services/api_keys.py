"""API keys (I1): created in the back office, shown once, stored hashed, revocable, scoped."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from remit.billing.actors import Actor
from remit.core.secrets import secret_digest
from remit.core.validation import FieldErrors, clean_text
from remit.integrations.models import ApiKey

KEY_PREFIX = "rk_"
# last_used_at is written at most this often per key (not on every request).
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class CreatedApiKey:
    api_key: ApiKey
    # The full secret ("rk_<prefix>_<secret>"): shown once, never stored.
    token: str


def api_key_create(*, name: str, scopes: list[str], actor: Actor) -> CreatedApiKey:
    errors = FieldErrors()
    cleaned = clean_text(errors, "name", name, max_length=100, required=True)
    unknown = sorted(set(scopes) - set(ApiKey.Scope.values))
    if not scopes or unknown:
        errors.add("scopes", f"Choose one or more of: {', '.join(ApiKey.Scope.values)}.")
    errors.raise_if_any()
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        api_key = ApiKey.objects.create(
            name=cleaned,
            prefix=prefix,
            secret_sha256=secret_digest(secret),
            scopes=sorted(set(scopes)),
            created_by_id=actor.user_id,
        )
    return CreatedApiKey(api_key=api_key, token=f"{KEY_PREFIX}{prefix}_{secret}")


def api_key_prefix_of(token: str) -> str | None:
    """The public part of a presented key, or None if it is not shaped like one."""
    if not token.startswith(KEY_PREFIX) or len(token) > 200:
        return None
    prefix, separator, secret = token[len(KEY_PREFIX) :].partition("_")
    if not separator or not prefix or not secret:
        return None
    return prefix


def api_key_authenticate(token: str) -> ApiKey | None:
    """The active key for ``token``, or None (unknown, malformed or revoked: one answer)."""
    prefix = api_key_prefix_of(token)
    if prefix is None:
        return None
    secret = token[len(KEY_PREFIX) + len(prefix) + 1 :]
    # The prefix is unique: no ORDER BY (``first()`` would add one).
    api_key = next(iter(ApiKey.objects.filter(prefix=prefix, revoked_at__isnull=True)[:1]), None)
    if api_key is None or not hmac.compare_digest(api_key.secret_sha256, secret_digest(secret)):
        return None
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    return api_key


def api_key_revoke(*, api_key: ApiKey, actor: Actor) -> ApiKey:
    ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    api_key.refresh_from_db()
    return api_key
