"""Secrets shown once (API keys, portal links): only their SHA-256 is stored."""

from __future__ import annotations

import hashlib


def secret_digest(secret: str) -> str:
    """What is stored and compared instead of a secret: a database leak reveals no usable key.
    The secrets are long random tokens, so a fast hash is enough (no password stretching)."""
    return hashlib.sha256(secret.encode()).hexdigest()
