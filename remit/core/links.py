"""Absolute links (portal links, password resets, invitations, checkout return addresses).

With ``REMIT_PUBLIC_URL`` set every absolute link starts with it, whichever web process or Host
header served the request (production behind a proxy); unset (the embedded default), links use
the address of the request."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def public_base_url(request: HttpRequest) -> str:
    """Where customers reach Remit, without a trailing slash: ``https://billing.example.com``."""
    configured = str(settings.REMIT_PUBLIC_URL).rstrip("/")
    return configured or request.build_absolute_uri("/").rstrip("/")


def public_url(request: HttpRequest, path: str) -> str:
    """``path`` (absolute, e.g. from ``reverse``) as a link a customer can open."""
    return f"{public_base_url(request)}{path}"
