"""Who performs an action; every service takes one and writes it to the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


@dataclass(frozen=True)
class Actor:
    # One of AuditEvent.ActorKind.
    kind: str
    label: str
    user_id: int | None = None

    @classmethod
    def system(cls) -> Actor:
        return cls(kind="system", label="system")

    @classmethod
    def payment_platform(cls, name: str) -> Actor:
        return cls(kind="payment_platform", label=name)

    @classmethod
    def api_key(cls, name: str) -> Actor:
        return cls(kind="api_key", label=name)

    @classmethod
    def for_user(cls, user: AbstractBaseUser | AnonymousUser) -> Actor:
        if not user.is_authenticated:
            raise ValueError("An anonymous user cannot act")
        kind = "staff" if getattr(user, "is_staff", False) else "user"
        return cls(kind=kind, label=user.get_username(), user_id=user.pk)
