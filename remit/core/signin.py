"""Sign-in throttling shared by the User Center and the back office (UC1, issue 5): after
``REMIT_LOGIN_ATTEMPTS`` failures for an email or from an address, sign-in pauses."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from remit.core.throttle import throttle_blocked, throttle_clear, throttle_failure

SIGN_IN_SCOPE = "sign-in"
THROTTLED_MESSAGE = _("Too many failed attempts. Wait a few minutes, or reset your password.")


class ThrottledSignInMixin:
    """For ``AuthenticationForm`` subclasses: counts failures per email and per address in the
    shared cache; a success clears the email's count."""

    data: Any
    request: Any

    def _identities(self) -> list[str]:
        email = (self.data.get("username") or "").strip().lower()
        address = self.request.META.get("REMOTE_ADDR", "") if self.request else ""
        return [f"email:{email}", f"address:{address}"]

    def clean(self) -> dict[str, Any]:
        identities = self._identities()
        if throttle_blocked(
            scope=SIGN_IN_SCOPE, identities=identities, limit=settings.REMIT_LOGIN_ATTEMPTS
        ):
            raise ValidationError(THROTTLED_MESSAGE, code="throttled")
        try:
            cleaned: dict[str, Any] = super().clean()  # type: ignore[misc]
        except ValidationError:
            throttle_failure(
                scope=SIGN_IN_SCOPE,
                identities=identities,
                window_seconds=settings.REMIT_LOGIN_LOCKOUT_SECONDS,
            )
            raise
        throttle_clear(scope=SIGN_IN_SCOPE, identities=identities[:1])
        return cleaned
