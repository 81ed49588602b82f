"""Accounts, their members and the per-account options support can change (P3, P4)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from remit.billing.actors import Actor
from remit.billing.locks import account_lock
from remit.billing.models import Account, Membership
from remit.billing.selectors.accounts import user_get_by_email
from remit.billing.selectors.catalogue import catalogue_currencies
from remit.billing.services.audit import audit_record
from remit.billing.services.validation import REASON_MAX_LENGTH, FieldErrors, clean_text
from remit.core.dates import validate_time_zone
from remit.core.errors import ValidationFailed
from remit.core.money import currency_is_known


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()
MAX_UNPAID_INVOICE_LIMIT = 100


def _account_fields_clean(errors: FieldErrors, **fields: Any) -> dict[str, Any]:
    """The cleaned values of the account fields given (``UNSET`` ones are left out): one set
    of checks for creating and for updating an account."""
    cleaned: dict[str, Any] = {}
    if fields.get("name", UNSET) is not UNSET:
        cleaned["name"] = clean_text(errors, "name", fields["name"], max_length=200, required=True)
    if fields.get("language", UNSET) is not UNSET:
        if fields["language"] not in dict(settings.LANGUAGES):
            errors.add("language", f"Choose one of: {', '.join(dict(settings.LANGUAGES))}.")
        cleaned["language"] = fields["language"]
    if fields.get("status", UNSET) is not UNSET:
        if fields["status"] not in Account.Status.values:
            errors.add("status", "Choose trial or active.")
        cleaned["status"] = fields["status"]
    if fields.get("time_zone", UNSET) is not UNSET:
        name = (fields["time_zone"] or "").strip()
        try:
            validate_time_zone(name)
        except ValidationError:
            errors.add(
                "time_zone",
                f"“{name[:64]}” is not a time zone name; use an IANA name such as Europe/Berlin or "
                "America/New_York, or leave it empty for the site's time zone.",
            )
        cleaned["time_zone"] = name
    if fields.get("external_id", UNSET) is not UNSET:
        external_id = fields["external_id"]
        cleaned["external_id"] = (
            clean_text(errors, "external_id", external_id, max_length=100) or None
            if external_id is not None
            else None
        )
    return cleaned


def _external_id_taken(external_id: str | None, *, other_than: int | None = None) -> bool:
    if not external_id:
        return False
    others = Account.objects.filter(external_id=external_id)
    if other_than is not None:
        others = others.exclude(pk=other_than)
    return others.exists()


_EXTERNAL_ID_TAKEN = {"external_id": ["Another account has this external id."]}


@contextmanager
def _external_id_unique(external_id: str | None) -> Iterator[None]:
    """Turn losing a race for the same external id (the unique index) into the field error."""
    try:
        yield
    except IntegrityError:
        if _external_id_taken(external_id):
            raise ValidationFailed(_EXTERNAL_ID_TAKEN) from None
        raise


def account_create(
    *,
    name: str,
    actor: Actor,
    currency: str | None = None,
    language: str = "en",
    status: str = Account.Status.TRIAL,
    external_id: str | None = None,
    tax_exempt: bool = False,
    time_zone: str = "",
) -> Account:
    errors = FieldErrors()
    fields = _account_fields_clean(
        errors,
        name=name,
        language=language,
        status=status,
        external_id=external_id,
        time_zone=time_zone,
    )
    code = (currency or settings.REMIT_DEFAULT_CURRENCY).upper()
    # Only what can be sold: a currency the catalogue prices (or the default before it has any).
    sold = catalogue_currencies() or {settings.REMIT_DEFAULT_CURRENCY}
    if not currency_is_known(code):
        errors.add("currency", "Use an ISO 4217 currency code such as USD or EUR.")
    elif code not in sold:
        errors.add("currency", f"Nothing is sold in {code}; use one of: {', '.join(sorted(sold))}.")
    errors.raise_if_any()
    if _external_id_taken(fields["external_id"]):
        raise ValidationFailed(_EXTERNAL_ID_TAKEN)
    with _external_id_unique(fields["external_id"]), transaction.atomic():
        account = Account.objects.create(currency=code, tax_exempt=tax_exempt, **fields)
        audit_record(
            actor=actor,
            action="account.created",
            subject=account,
            account=account,
            new_values={"name": fields["name"], "currency": code, "status": status},
        )
    return account


def _account_fields_apply(
    *, account: Account, changes: dict[str, Any], actor: Actor, action: str, reason: str = ""
) -> None:
    """Set the fields that really change on the locked account, save them and audit old and
    new values; nothing is written when nothing changes."""
    old = {name: getattr(account, name) for name in changes}
    changed = {name: value for name, value in changes.items() if old[name] != value}
    if not changed:
        return
    for name, value in changed.items():
        setattr(account, name, value)
    account.save(update_fields=list(changed))
    audit_record(
        actor=actor,
        action=action,
        subject=account,
        account=account,
        reason=reason,
        old_values={name: old[name] for name in changed},
        new_values=changed,
    )


def account_update(
    *,
    account: Account,
    actor: Actor,
    name: str = UNSET,
    language: str = UNSET,
    external_id: str | None = UNSET,
    status: str = UNSET,
    time_zone: str = UNSET,
    reason: str = "",
) -> Account:
    """Change an account's name, document language, external id, status (trial / active) or
    time zone (an IANA name; empty: the site's), audited. The currency never changes."""
    errors = FieldErrors()
    changes = _account_fields_clean(
        errors,
        name=name,
        language=language,
        external_id=external_id,
        status=status,
        time_zone=time_zone,
    )
    text = clean_text(errors, "reason", reason, max_length=REASON_MAX_LENGTH, multiline=True)
    errors.raise_if_any()
    with _external_id_unique(changes.get("external_id")), transaction.atomic():
        account = account_lock(account.pk)
        if _external_id_taken(changes.get("external_id"), other_than=account.pk):
            raise ValidationFailed(_EXTERNAL_ID_TAKEN)
        _account_fields_apply(
            account=account, changes=changes, actor=actor, action="account.updated", reason=text
        )
    return account


def account_member_add(
    *, account: Account, user: AbstractBaseUser, actor: Actor, role: str = Membership.Role.MEMBER
) -> Membership:
    with transaction.atomic():
        membership, created = Membership.objects.get_or_create(
            account=account, user=user, defaults={"role": role}
        )
        if created:
            audit_record(
                actor=actor,
                action="account.member_added",
                subject=membership,
                account=account,
                new_values={"user": user.get_username(), "role": role},
            )
    return membership


def account_member_add_by_email(
    *, account: Account, email: str, actor: Actor, role: str = Membership.Role.MEMBER
) -> Membership:
    """Add the user with this email (created without a usable password if new) as a member."""
    from django.contrib.auth import get_user_model
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    errors = FieldErrors()
    address = (email or "").strip().lower()
    try:
        validate_email(address)
    except ValidationError:
        errors.add("email", "Enter a valid email address.")
    if role not in Membership.Role.values:
        errors.add("role", "Choose owner or member.")
    errors.raise_if_any()
    with transaction.atomic():
        user = user_get_by_email(email=address)
        if user is None:
            user = get_user_model()(username=address, email=address)
            user.set_unusable_password()
            user.save()
        return account_member_add(account=account, user=user, actor=actor, role=role)


def account_activate(*, account: Account, actor: Actor, reason: str = "") -> Account:
    """The trial ended with a subscription: invoicing rules for trials no longer apply."""
    with transaction.atomic():
        account = account_lock(account.pk)
        if account.status != Account.Status.ACTIVE:
            account.status = Account.Status.ACTIVE
            account.save(update_fields=["status"])
            audit_record(
                actor=actor,
                action="account.activated",
                subject=account,
                account=account,
                reason=reason,
                old_values={"status": Account.Status.TRIAL},
                new_values={"status": Account.Status.ACTIVE},
            )
    return account


def account_option_set(
    *,
    account: Account,
    actor: Actor,
    reason: str,
    invoicing_during_trial_enabled: bool = UNSET,
    invoicing_during_trial_expires_at: datetime | None = UNSET,
    unpaid_invoice_limit: int | None = UNSET,
    tax_exempt: bool = UNSET,
) -> Account:
    """Support's per-account switches (X2): trial invoicing (P3), the unpaid-invoice limit
    override (P4; ``None`` returns to the global default) and tax exemption. Needs a reason."""
    errors = FieldErrors()
    text = clean_text(
        errors, "reason", reason, max_length=REASON_MAX_LENGTH, required=True, multiline=True
    )
    if (
        unpaid_invoice_limit is not UNSET
        and unpaid_invoice_limit is not None
        and (
            isinstance(unpaid_invoice_limit, bool)
            or not isinstance(unpaid_invoice_limit, int)
            or not 0 <= unpaid_invoice_limit <= MAX_UNPAID_INVOICE_LIMIT
        )
    ):
        errors.add(
            "unpaid_invoice_limit", f"Use a whole number from 0 to {MAX_UNPAID_INVOICE_LIMIT}."
        )
    if invoicing_during_trial_expires_at not in (UNSET, None):
        assert isinstance(invoicing_during_trial_expires_at, datetime)
        if timezone.is_naive(invoicing_during_trial_expires_at):
            errors.add("invoicing_during_trial_expires_at", "Give a time zone.")
        elif invoicing_during_trial_expires_at <= timezone.now():
            errors.add("invoicing_during_trial_expires_at", "Choose a time in the future.")
    errors.raise_if_any()
    requested = {
        "invoicing_during_trial_enabled": invoicing_during_trial_enabled,
        "invoicing_during_trial_expires_at": invoicing_during_trial_expires_at,
        "unpaid_invoice_limit": unpaid_invoice_limit,
        "tax_exempt": tax_exempt,
    }
    changes = {name: value for name, value in requested.items() if value is not UNSET}
    with transaction.atomic():
        account = account_lock(account.pk)
        _account_fields_apply(
            account=account,
            changes=changes,
            actor=actor,
            action="account.options_changed",
            reason=text,
        )
    return account
