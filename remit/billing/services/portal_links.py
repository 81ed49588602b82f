"""One-time portal links (UC1): created for a member by the operator's backend (API, later),
consumed once by the User Center to sign that member in."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from remit.billing.actors import Actor
from remit.billing.models import Account, Membership, PortalLink
from remit.billing.services.audit import audit_record
from remit.core.errors import PortalLinkInvalid, ValidationFailed
from remit.core.secrets import secret_digest

DEFAULT_LIFETIME = timedelta(minutes=5)
MAX_LIFETIME = timedelta(hours=1)


@dataclass(frozen=True)
class CreatedPortalLink:
    link: PortalLink
    # The secret for the URL; shown once, never stored.
    token: str


def portal_link_create(
    *,
    account: Account,
    user: AbstractBaseUser,
    actor: Actor,
    lifetime: timedelta = DEFAULT_LIFETIME,
    next_path: str = "/orders/",
) -> CreatedPortalLink:
    errors: dict[str, list[str]] = {}
    if not Membership.objects.filter(account=account, user_id=user.pk).exists():
        errors["user"] = ["The user is not a member of this account."]
    if not timedelta(seconds=30) <= lifetime <= MAX_LIFETIME:
        errors["lifetime"] = ["Use between 30 seconds and 1 hour."]
    if (
        not next_path.startswith("/")
        or next_path.startswith("//")
        or len(next_path) > 200
        or not url_has_allowed_host_and_scheme(next_path, allowed_hosts=None)
    ):
        errors["next_path"] = ["Use a path inside the User Center, such as /orders/."]
    if errors:
        raise ValidationFailed(errors)
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        link = PortalLink.objects.create(
            account=account,
            user_id=user.pk,
            token_sha256=secret_digest(token),
            next_path=next_path,
            expires_at=timezone.now() + lifetime,
            created_by=actor.label,
        )
        audit_record(
            actor=actor,
            action="portal_link.created",
            subject=link,
            account=account,
            new_values={"user": user.get_username(), "expires_at": link.expires_at},
        )
    return CreatedPortalLink(link=link, token=token)


def portal_link_consume(*, token: str) -> PortalLink:
    """Use a link once: returns it (with its user) or raises PortalLinkInvalid."""
    if not token or len(token) > 100:
        raise PortalLinkInvalid("This sign-in link is not valid any more.")
    with transaction.atomic():
        link = (
            PortalLink.objects.select_for_update()
            .select_related("user", "account")
            .filter(token_sha256=secret_digest(token))
            .first()
        )
        now = timezone.now()
        if link is None or link.used_at is not None or link.expires_at <= now:
            raise PortalLinkInvalid("This sign-in link is not valid any more.")
        if not link.user.is_active:
            raise PortalLinkInvalid("This sign-in link is not valid any more.")
        link.used_at = now
        link.save(update_fields=["used_at"])
        audit_record(
            actor=Actor(kind="user", label=link.user.get_username(), user_id=link.user_id),
            action="portal_link.used",
            subject=link,
            account=link.account,
        )
    return link
