from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from remit.billing.models import Account


def account_for_user(user: AbstractBaseUser | AnonymousUser) -> Account | None:
    """The account a signed-in customer acts for (their first membership)."""
    if not user.is_authenticated:
        return None
    return (
        Account.objects.filter(memberships__user_id=user.pk)
        .select_related("billing_profile")
        .order_by("memberships__created_at", "pk")
        .first()
    )


def user_get_by_email(*, email: str) -> AbstractBaseUser | None:
    """The user signing in with this email (usernames are the lower-cased address)."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(username=email.strip().lower()).first()
