from __future__ import annotations

from django.db import transaction

from remit.billing.actors import Actor
from remit.billing.locks import account_lock
from remit.billing.models import Account, BillingProfile
from remit.billing.services.audit import audit_record
from remit.billing.services.validation import BillingProfileInput, billing_profile_input_clean


def billing_profile_save(
    *, account: Account, data: BillingProfileInput, actor: Actor
) -> BillingProfile:
    """Create or update the profile from already-cleaned input; call inside a transaction
    holding the account lock. Issued invoices keep their snapshots and are not touched."""
    profile = BillingProfile.objects.filter(account=account).first()
    new_values = data.as_dict()
    if profile is None:
        profile = BillingProfile.objects.create(account=account, **new_values)
        audit_record(
            actor=actor,
            action="billing_profile.created",
            subject=profile,
            account=account,
            new_values=new_values,
        )
        return profile
    old_values = {name: getattr(profile, name) for name in new_values}
    if old_values == new_values:
        return profile
    for name, value in new_values.items():
        setattr(profile, name, value)
    profile.save()
    audit_record(
        actor=actor,
        action="billing_profile.updated",
        subject=profile,
        account=account,
        old_values={k: v for k, v in old_values.items() if new_values[k] != v},
        new_values={k: v for k, v in new_values.items() if old_values[k] != v},
    )
    return profile


def billing_profile_set(
    *, account: Account, data: BillingProfileInput, actor: Actor
) -> BillingProfile:
    """Settings › Billing: validate and save; affects only invoices issued afterwards."""
    cleaned = billing_profile_input_clean(data)
    with transaction.atomic():
        locked = account_lock(account.pk)
        return billing_profile_save(account=locked, data=cleaned, actor=actor)
