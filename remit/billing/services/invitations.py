"""Inviting a member to an account (issue 11): support in the back office and the operator's
backend through the API add a member the same way, and the new member gets an email with a
link to choose a password (Django's password-reset tokens: one use, limited time)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from remit.billing.actors import Actor
from remit.billing.models import Account, Membership
from remit.billing.selectors.accounts import user_get_by_email
from remit.billing.services.accounts import account_member_add_by_email
from remit.billing.services.audit import audit_record
from remit.core.errors import ValidationFailed


def account_member_invite(
    *,
    account: Account,
    email: str,
    actor: Actor,
    site_url: str,
    role: str = Membership.Role.MEMBER,
) -> Membership:
    """Add the user with ``email`` (created without a password if new) as a member of
    ``account``, audited, and email them an invitation after commit: a link to choose a
    password, or to sign in if they already have one. ``site_url``: where customers reach
    Remit (:func:`remit.core.links.public_base_url`), the start of the link."""
    existing = user_get_by_email(email=(email or "").strip().lower())
    if (
        existing is not None
        and Membership.objects.filter(account=account, user_id=existing.pk).exists()
    ):
        raise ValidationFailed(
            {"email": [f"{existing.get_username()} is already a member of {account.name}."]}
        )
    with transaction.atomic():
        membership = account_member_add_by_email(
            account=account, email=email, actor=actor, role=role
        )
        audit_record(
            actor=actor,
            action="account.member_invited",
            subject=membership,
            account=account,
            new_values={"user": membership.user.get_username(), "role": membership.role},
        )
        membership_id, base = membership.pk, site_url.rstrip("/")
        transaction.on_commit(lambda: _schedule_invitation(membership_id, base))
    return membership


def _schedule_invitation(membership_id: int, site_url: str) -> None:
    from remit.billing.tasks import member_invitation_send_task

    member_invitation_send_task.enqueue(membership_id, site_url)


def member_invitation_build(*, membership: Membership, site_url: str) -> EmailMessage:
    """The invitation in the account's language: a set-password link for a new user, a
    sign-in link for one who already has a password."""
    user, account = membership.user, membership.account
    base = site_url.rstrip("/")
    with translation.override(account.language):
        if user.has_usable_password():
            link = base + reverse("usercenter:login")
            action = _("Sign in with your email and password here:")
        else:
            link = base + reverse(
                "usercenter:password_reset_confirm",
                kwargs={
                    "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
                    "token": default_token_generator.make_token(user),
                },
            )
            days = max(1, settings.PASSWORD_RESET_TIMEOUT // 86400)
            action = _("Choose your password here (the link works once, for %(days)d days):") % {
                "days": days
            }
        subject = _("You are invited to the billing portal of %(account)s") % {
            "account": account.name
        }
        body = "\n\n".join(
            [
                _(
                    "You now have access to the billing account of %(account)s: its orders, "
                    "invoices, payments and billing details."
                )
                % {"account": account.name},
                f"{action}\n{link}",
                _("Questions? Write to %(email)s.") % {"email": settings.REMIT_SUPPORT_EMAIL},
            ]
        )
    return EmailMessage(
        subject=subject,
        body=body + "\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email or user.get_username()],
        headers={"Auto-Submitted": "auto-generated"},
        connection=get_connection(timeout=settings.EMAIL_TIMEOUT),
    )


def member_invitation_send(*, membership_id: int, site_url: str) -> bool:
    """Send the invitation of a membership once (the task's one service, safe to run twice);
    ``False`` when it was already sent or the membership no longer exists.

    The run that marks the membership first sends; the mark is a conditional update, so no
    lock is held while talking to the mail server. If sending fails the mark is taken back and
    the error is the task's to report (a failed task in the back office)."""
    claimed = Membership.objects.filter(pk=membership_id, invitation_sent_at__isnull=True).update(
        invitation_sent_at=timezone.now()
    )
    if not claimed:
        return False
    membership = Membership.objects.select_related("user", "account").get(pk=membership_id)
    try:
        member_invitation_build(membership=membership, site_url=site_url).send()
    except Exception:
        Membership.objects.filter(pk=membership_id).update(invitation_sent_at=None)
        raise
    return True
