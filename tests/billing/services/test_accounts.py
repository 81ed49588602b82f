"""Accounts, members and support's per-account options (P3, P4, X2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from remit.billing.models import Account, AuditEvent, Membership
from remit.billing.services.accounts import (
    account_activate,
    account_create,
    account_member_add,
    account_option_set,
)
from remit.core.errors import ValidationFailed
from tests.factories import AccountFactory, MembershipFactory, UserFactory

OPTION_FIELDS = (
    "status",
    "invoicing_during_trial_enabled",
    "invoicing_during_trial_expires_at",
    "unpaid_invoice_limit",
    "tax_exempt",
)
FAR_FUTURE = datetime(2099, 1, 31, 12, 0, tzinfo=UTC)


def _options(account: Account) -> dict[str, object]:
    account.refresh_from_db()
    return {name: getattr(account, name) for name in OPTION_FIELDS}


# --- account_create ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_account_create_stores_cleaned_values_and_audits(system_actor, catalogue):
    # When an account is created with loosely typed input
    account = account_create(
        name="  Acme GmbH  ", currency="eur", language="de", actor=system_actor
    )

    # Then the values are cleaned and the account starts on trial
    account.refresh_from_db()
    assert (account.name, account.currency, account.language, account.status) == (
        "Acme GmbH",
        "EUR",
        "de",
        Account.Status.TRIAL,
    )
    assert account.external_id is None
    assert account.tax_exempt is False
    # And exactly one "created" event is written
    events = list(AuditEvent.objects.all())
    assert len(events) == 1
    event = events[0]
    assert event.action == "account.created"
    assert event.account_id == account.pk
    assert (event.subject_type, event.subject_id) == ("account", str(account.pk))
    assert (event.actor_kind, event.actor_label) == ("system", "system")
    assert event.old_values == {}
    assert event.new_values == {"name": "Acme GmbH", "currency": "EUR", "status": "trial"}


@pytest.mark.django_db
def test_account_create_uses_the_default_currency(system_actor):
    account = account_create(name="Default Co", actor=system_actor, status="active")

    assert account.currency == "USD"
    assert account.status == Account.Status.ACTIVE
    assert AuditEvent.objects.get().new_values == {
        "name": "Default Co",
        "currency": "USD",
        "status": "active",
    }


@pytest.mark.django_db
def test_account_create_blank_external_id_is_stored_as_null(system_actor):
    account = account_create(name="Ext Co", actor=system_actor, external_id="   ")

    account.refresh_from_db()
    assert account.external_id is None


@pytest.mark.django_db
def test_account_create_refuses_an_external_id_another_account_has_and_writes_nothing(
    system_actor,
):
    account_create(name="First Co", actor=system_actor, external_id="crm-42")

    with pytest.raises(ValidationFailed) as excinfo:
        account_create(name="Second Co", actor=system_actor, external_id="crm-42")

    assert excinfo.value.field_errors == {"external_id": ["Another account has this external id."]}
    assert list(Account.objects.values_list("name", flat=True)) == ["First Co"]
    assert AuditEvent.objects.filter(action="account.created").count() == 1


@pytest.mark.django_db
def test_account_create_refuses_invalid_input_and_writes_nothing(system_actor):
    # When every checked field is wrong
    with pytest.raises(ValidationFailed) as excinfo:
        account_create(
            name="   ", currency="XYZ", language="xx", status="suspended", actor=system_actor
        )

    # Then each is reported under its own name
    assert excinfo.value.field_errors == {
        "name": ["This field is required."],
        "currency": ["Use an ISO 4217 currency code such as USD or EUR."],
        "language": ["Choose one of: en, de, fr, es, ja, zh-hans."],
        "status": ["Choose trial or active."],
    }
    # And nothing was written
    assert Account.objects.count() == 0
    assert AuditEvent.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"name": ""}, {"name": ["This field is required."]}),
        ({"name": "A" * 201}, {"name": ["Use at most 200 characters (you used 201)."]}),
        (
            {"name": "Line\nbreak"},
            {"name": ["Line breaks and control characters are not allowed here."]},
        ),
        ({"currency": "XYZ"}, {"currency": ["Use an ISO 4217 currency code such as USD or EUR."]}),
        ({"currency": "EURO"}, {"currency": ["Use an ISO 4217 currency code such as USD or EUR."]}),
        ({"language": "xx"}, {"language": ["Choose one of: en, de, fr, es, ja, zh-hans."]}),
        (
            {"external_id": "E" * 101},
            {"external_id": ["Use at most 100 characters (you used 101)."]},
        ),
    ],
)
def test_account_create_single_field_errors(system_actor, kwargs, expected):
    values = {"name": "Valid Name", **kwargs}

    with pytest.raises(ValidationFailed) as excinfo:
        account_create(actor=system_actor, **values)

    assert excinfo.value.field_errors == expected
    assert Account.objects.count() == 0
    assert AuditEvent.objects.count() == 0


# --- account_option_set: validation -----------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("reason", ["", "   ", "\n"])
def test_option_set_requires_a_reason(system_actor, reason):
    # Given a trial account
    account = AccountFactory(trial=True)
    before = _options(account)

    # When support changes an option without a reason
    with pytest.raises(ValidationFailed) as excinfo:
        account_option_set(
            account=account,
            actor=system_actor,
            reason=reason,
            invoicing_during_trial_enabled=True,
            unpaid_invoice_limit=5,
        )

    # Then it is refused and nothing changed
    assert excinfo.value.field_errors == {"reason": ["This field is required."]}
    assert _options(account) == before
    assert AuditEvent.objects.count() == 0


@pytest.mark.django_db
def test_option_set_refuses_a_too_long_reason(system_actor):
    account = AccountFactory()

    with pytest.raises(ValidationFailed) as excinfo:
        account_option_set(account=account, actor=system_actor, reason="r" * 2001, tax_exempt=True)

    assert excinfo.value.field_errors == {
        "reason": ["Use at most 2000 characters (you used 2001)."]
    }
    assert _options(account)["tax_exempt"] is False
    assert AuditEvent.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("expires_at", "message"),
    [
        (lambda: timezone.now() - timedelta(hours=1), "Choose a time in the future."),
        (lambda: timezone.now() - timedelta(days=365), "Choose a time in the future."),
        (lambda: timezone.now(), "Choose a time in the future."),
        (lambda: datetime(2099, 1, 31, 12, 0), "Give a time zone."),
    ],
    ids=["an-hour-ago", "a-year-ago", "now", "naive"],
)
def test_option_set_refuses_trial_invoicing_expiry_in_the_past_or_naive(
    system_actor, expires_at, message
):
    # Given a trial account
    account = AccountFactory(trial=True)
    before = _options(account)
    value = expires_at()

    # When support enables trial invoicing until that time
    with pytest.raises(ValidationFailed) as excinfo:
        account_option_set(
            account=account,
            actor=system_actor,
            reason="Customer pays by PO",
            invoicing_during_trial_enabled=True,
            invoicing_during_trial_expires_at=value,
        )

    # Then it is refused and nothing changed
    assert excinfo.value.field_errors == {"invoicing_during_trial_expires_at": [message]}
    assert _options(account) == before
    assert AuditEvent.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("limit", [-1, 101, 1000, True, False, 2.0, "5"])
def test_option_set_refuses_unpaid_invoice_limit_outside_0_to_100(system_actor, limit):
    account = AccountFactory()
    before = _options(account)

    with pytest.raises(ValidationFailed) as excinfo:
        account_option_set(
            account=account, actor=system_actor, reason="Credit check", unpaid_invoice_limit=limit
        )

    assert excinfo.value.field_errors == {
        "unpaid_invoice_limit": ["Use a whole number from 0 to 100."]
    }
    assert _options(account) == before
    assert AuditEvent.objects.count() == 0


@pytest.mark.django_db
def test_option_set_reports_all_errors_together(system_actor):
    account = AccountFactory(trial=True)

    with pytest.raises(ValidationFailed) as excinfo:
        account_option_set(
            account=account,
            actor=system_actor,
            reason="",
            unpaid_invoice_limit=101,
            invoicing_during_trial_expires_at=datetime(2099, 1, 1),
        )

    assert excinfo.value.field_errors == {
        "reason": ["This field is required."],
        "unpaid_invoice_limit": ["Use a whole number from 0 to 100."],
        "invoicing_during_trial_expires_at": ["Give a time zone."],
    }
    assert AuditEvent.objects.count() == 0


# --- account_option_set: changes ----------------------------------------------------------------


@pytest.mark.django_db
def test_option_set_enables_trial_invoicing_with_one_audited_event(system_actor):
    # Given a trial account
    account = AccountFactory(trial=True)

    # When support enables invoicing until a future time and sets a limit
    result = account_option_set(
        account=account,
        actor=system_actor,
        reason="  Enterprise pilot, approved by sales  ",
        invoicing_during_trial_enabled=True,
        invoicing_during_trial_expires_at=FAR_FUTURE,
        unpaid_invoice_limit=5,
    )

    # Then the account has the new options
    assert result.pk == account.pk
    assert _options(account) == {
        "status": Account.Status.TRIAL,
        "invoicing_during_trial_enabled": True,
        "invoicing_during_trial_expires_at": FAR_FUTURE,
        "unpaid_invoice_limit": 5,
        "tax_exempt": False,
    }
    # And exactly one event records the old and new values and the (stripped) reason
    events = list(AuditEvent.objects.all())
    assert len(events) == 1
    event = events[0]
    assert event.action == "account.options_changed"
    assert event.account_id == account.pk
    assert (event.subject_type, event.subject_id) == ("account", str(account.pk))
    assert event.reason == "Enterprise pilot, approved by sales"
    assert event.old_values == {
        "invoicing_during_trial_enabled": False,
        "invoicing_during_trial_expires_at": None,
        "unpaid_invoice_limit": None,
    }
    assert event.new_values == {
        "invoicing_during_trial_enabled": True,
        "invoicing_during_trial_expires_at": "2099-01-31T12:00:00Z",
        "unpaid_invoice_limit": 5,
    }


@pytest.mark.django_db
@pytest.mark.parametrize("limit", [0, 100])
def test_option_set_accepts_the_limit_bounds(system_actor, limit):
    account = AccountFactory()

    account_option_set(
        account=account, actor=system_actor, reason="Bounds", unpaid_invoice_limit=limit
    )

    assert _options(account)["unpaid_invoice_limit"] == limit
    event = AuditEvent.objects.get()
    assert event.old_values == {"unpaid_invoice_limit": None}
    assert event.new_values == {"unpaid_invoice_limit": limit}


@pytest.mark.django_db
def test_option_set_audits_only_values_that_actually_change(system_actor):
    # Given an account with a limit of 5 that is not tax exempt
    account = AccountFactory(unpaid_invoice_limit=5)

    # When support sends the same limit and a new tax exemption
    account_option_set(
        account=account,
        actor=system_actor,
        reason="Exemption certificate received",
        unpaid_invoice_limit=5,
        tax_exempt=True,
    )

    # Then only the tax exemption is recorded
    event = AuditEvent.objects.get()
    assert event.old_values == {"tax_exempt": False}
    assert event.new_values == {"tax_exempt": True}
    assert _options(account)["unpaid_invoice_limit"] == 5


@pytest.mark.django_db
def test_option_set_same_value_again_writes_nothing(system_actor):
    # Given an option already set
    account = AccountFactory()
    account_option_set(
        account=account, actor=system_actor, reason="Good payer", unpaid_invoice_limit=10
    )
    assert AuditEvent.objects.count() == 1

    # When it is set to the same value again
    account_option_set(
        account=account, actor=system_actor, reason="Good payer", unpaid_invoice_limit=10
    )

    # Then no further event is written
    assert AuditEvent.objects.count() == 1
    assert _options(account)["unpaid_invoice_limit"] == 10


@pytest.mark.django_db
def test_option_set_with_no_options_writes_nothing(system_actor):
    account = AccountFactory()
    before = _options(account)

    account_option_set(account=account, actor=system_actor, reason="Just looking")

    assert _options(account) == before
    assert AuditEvent.objects.count() == 0


@pytest.mark.django_db
def test_option_set_none_returns_the_limit_to_the_global_default(system_actor):
    account = AccountFactory(unpaid_invoice_limit=7)

    account_option_set(
        account=account, actor=system_actor, reason="Back to default", unpaid_invoice_limit=None
    )

    assert _options(account)["unpaid_invoice_limit"] is None
    event = AuditEvent.objects.get()
    assert event.old_values == {"unpaid_invoice_limit": 7}
    assert event.new_values == {"unpaid_invoice_limit": None}


@pytest.mark.django_db
def test_option_set_only_changes_the_given_account(system_actor):
    account = AccountFactory()
    other = AccountFactory()
    other_before = _options(other)

    account_option_set(account=account, actor=system_actor, reason="Only this one", tax_exempt=True)

    assert _options(other) == other_before
    assert not AuditEvent.objects.filter(account=other).exists()


# --- account_activate --------------------------------------------------------------------------


@pytest.mark.django_db
def test_activate_moves_trial_to_active_and_audits_once(system_actor):
    # Given a trial account
    account = AccountFactory(trial=True)

    # When it is activated twice
    account_activate(account=account, actor=system_actor, reason="Subscription started")
    again = account_activate(account=account, actor=system_actor, reason="Webhook retried")

    # Then it is active and only the first activation is audited
    assert again.status == Account.Status.ACTIVE
    assert _options(account)["status"] == Account.Status.ACTIVE
    events = list(AuditEvent.objects.all())
    assert len(events) == 1
    event = events[0]
    assert event.action == "account.activated"
    assert (event.subject_type, event.subject_id) == ("account", str(account.pk))
    assert event.reason == "Subscription started"
    assert event.old_values == {"status": "trial"}
    assert event.new_values == {"status": "active"}


@pytest.mark.django_db
def test_activate_an_active_account_writes_nothing(system_actor):
    account = AccountFactory()

    account_activate(account=account, actor=system_actor)

    assert _options(account)["status"] == Account.Status.ACTIVE
    assert AuditEvent.objects.count() == 0


# --- account_member_add ------------------------------------------------------------------------


@pytest.mark.django_db
def test_member_add_is_idempotent(system_actor):
    # Given an account and a user
    account = AccountFactory()
    user = UserFactory(username="alice@example.com")

    # When the user is added twice, the second time asking for another role
    first = account_member_add(account=account, user=user, actor=system_actor)
    second = account_member_add(
        account=account, user=user, actor=system_actor, role=Membership.Role.OWNER
    )

    # Then there is one membership with the first role, audited once
    assert second.pk == first.pk
    assert Membership.objects.filter(account=account, user=user).count() == 1
    assert Membership.objects.get(pk=first.pk).role == Membership.Role.MEMBER
    events = list(AuditEvent.objects.all())
    assert len(events) == 1
    event = events[0]
    assert event.action == "account.member_added"
    assert event.account_id == account.pk
    assert (event.subject_type, event.subject_id) == ("membership", str(first.pk))
    assert event.new_values == {"user": "alice@example.com", "role": "member"}


@pytest.mark.django_db
def test_member_add_existing_factory_membership_writes_nothing(system_actor):
    membership = MembershipFactory()

    result = account_member_add(
        account=membership.account, user=membership.user, actor=system_actor
    )

    assert result.pk == membership.pk
    assert result.role == Membership.Role.OWNER
    assert AuditEvent.objects.count() == 0


@pytest.mark.django_db
def test_same_user_may_join_two_accounts(system_actor):
    user = UserFactory()
    first, second = AccountFactory(), AccountFactory()

    account_member_add(account=first, user=user, actor=system_actor)
    account_member_add(account=second, user=user, actor=system_actor, role=Membership.Role.OWNER)

    assert sorted(Membership.objects.filter(user=user).values_list("account_id", "role")) == [
        (first.pk, "member"),
        (second.pk, "owner"),
    ]
    assert AuditEvent.objects.filter(action="account.member_added").count() == 2
