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
