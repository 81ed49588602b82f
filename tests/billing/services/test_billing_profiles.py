"""billing_profile_set: Settings › Billing, audited, never touching issued invoices (UC3, D2)."""

from __future__ import annotations

import copy

import pytest

from remit.billing.models import AuditEvent, BillingProfile, Invoice, Order
from remit.billing.services.billing_profiles import billing_profile_set
from remit.billing.services.orders import order_place
from remit.billing.services.validation import BillingProfileInput
from remit.core.errors import ValidationFailed
from tests.factories import AccountFactory, BillingProfileFactory

DE_CHECK_DIGIT = (
    "A VAT number from Germany is DE followed by 9 digits. "
    "The check digit of DE136695977 is wrong; check it for a typing error."
)
PROFILE_FIELDS = (
    "legal_name",
    "address_line1",
    "address_line2",
    "city",
    "postal_code",
    "region",
    "country",
    "tax_id",
    "invoice_recipient_emails",
)


def _german_input(**overrides: object) -> BillingProfileInput:
    values: dict[str, object] = {
        "legal_name": "Beispiel GmbH",
        "address_line1": "Hauptstraße 1",
        "address_line2": "3. OG",
        "city": "Berlin",
        "postal_code": "10115",
        "region": "Berlin",
        "country": "DE",
        "tax_id": "DE136695976",
        "invoice_recipient_emails": ("ap@example.com",),
    }
    values.update(overrides)
    return BillingProfileInput(**values)  # type: ignore[arg-type]


def _profile_values(profile: BillingProfile) -> dict[str, object]:
    profile.refresh_from_db()
    return {name: getattr(profile, name) for name in PROFILE_FIELDS}


def _invoice_by_credit_order(account, actor) -> Invoice:  # type: ignore[no-untyped-def]
    order = order_place(
        account=account,
        actor=actor,
        kind=Order.Kind.CREDITS,
        payment_method=Order.PaymentMethod.INVOICE,
        credits=100,
    )
    return order.invoice


@pytest.mark.django_db
def test_first_save_creates_the_profile_and_audits_it(catalogue, customer_actor):
    # Given an account without a billing profile
    account = AccountFactory()

    # When the customer saves their billing information (typed loosely)
    profile = billing_profile_set(
        account=account,
        data=_german_input(
            country="de",
            tax_id="de 136 695 976",
            invoice_recipient_emails=("AP@Example.COM", "ap@example.com"),
        ),
        actor=customer_actor,
    )

    # Then the cleaned values are stored
    assert _profile_values(profile) == {
        "legal_name": "Beispiel GmbH",
        "address_line1": "Hauptstraße 1",
        "address_line2": "3. OG",
        "city": "Berlin",
        "postal_code": "10115",
        "region": "Berlin",
        "country": "DE",
        "tax_id": "DE136695976",
        "invoice_recipient_emails": ["AP@example.com", "ap@example.com"],
    }
    assert BillingProfile.objects.filter(account=account).count() == 1
    # And exactly one "created" event records them
    events = list(AuditEvent.objects.filter(account=account))
    assert len(events) == 1
    event = events[0]
    assert event.action == "billing_profile.created"
    assert event.subject_type == "billingprofile"
    assert event.subject_id == str(profile.pk)
    assert (event.actor_kind, event.actor_label, event.actor_user_id) == (
        "user",
        "customer@example.com",
        None,
    )
    assert event.old_values == {}
    assert event.new_values == {
        "legal_name": "Beispiel GmbH",
        "address_line1": "Hauptstraße 1",
        "address_line2": "3. OG",
        "city": "Berlin",
        "postal_code": "10115",
        "region": "Berlin",
        "country": "DE",
        "tax_id": "DE136695976",
        "invoice_recipient_emails": ["AP@example.com", "ap@example.com"],
    }


@pytest.mark.django_db
def test_update_audits_only_the_changed_fields(catalogue, customer_actor):
    # Given an account with a German profile
    account = AccountFactory()
    profile = billing_profile_set(account=account, data=_german_input(), actor=customer_actor)
    before = AuditEvent.objects.count()

    # When the customer moves to Munich and adds a recipient
    billing_profile_set(
        account=account,
        data=_german_input(
            city="München",
            postal_code="80331",
            region="Bayern",
            invoice_recipient_emails=("ap@example.com", "cfo@example.com"),
        ),
        actor=customer_actor,
    )

    # Then the profile has the new values
    values = _profile_values(profile)
    assert values["city"] == "München"
    assert values["postal_code"] == "80331"
    assert values["region"] == "Bayern"
    assert values["invoice_recipient_emails"] == ["ap@example.com", "cfo@example.com"]
    assert values["legal_name"] == "Beispiel GmbH"
    assert values["tax_id"] == "DE136695976"
    # And one "updated" event names only what changed
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.filter(account=account).last()
    assert event is not None
    assert event.action == "billing_profile.updated"
    assert event.subject_type == "billingprofile"
    assert event.subject_id == str(profile.pk)
    assert event.old_values == {
        "city": "Berlin",
        "postal_code": "10115",
        "region": "Berlin",
        "invoice_recipient_emails": ["ap@example.com"],
    }
    assert event.new_values == {
        "city": "München",
        "postal_code": "80331",
        "region": "Bayern",
        "invoice_recipient_emails": ["ap@example.com", "cfo@example.com"],
    }


@pytest.mark.django_db
def test_update_of_an_existing_factory_profile(account, customer_actor):
    # Given the fixture account's US profile
    profile = account.billing_profile
    legal_name = profile.legal_name

    # When only the tax id is added
    billing_profile_set(
        account=account,
        data=BillingProfileInput(
            legal_name=legal_name,
            address_line1="Hauptstraße 1",
            city="Berlin",
            postal_code="10115",
            country="US",
            tax_id="12-3456789",
            invoice_recipient_emails=("ap@example.com",),
        ),
        actor=customer_actor,
    )

    # Then exactly that is audited
    events = list(AuditEvent.objects.filter(account=account))
    assert len(events) == 1
    assert events[0].action == "billing_profile.updated"
    assert events[0].old_values == {"tax_id": ""}
    assert events[0].new_values == {"tax_id": "12-3456789"}
    assert _profile_values(profile)["tax_id"] == "12-3456789"


@pytest.mark.django_db
def test_saving_the_same_data_writes_no_event(catalogue, customer_actor):
    # Given a saved profile
    account = AccountFactory()
    profile = billing_profile_set(account=account, data=_german_input(), actor=customer_actor)
    updated_at = BillingProfile.objects.get(pk=profile.pk).updated_at
    before = AuditEvent.objects.count()

    # When the same data is saved again, once exactly and once typed differently
    billing_profile_set(account=account, data=_german_input(), actor=customer_actor)
    billing_profile_set(
        account=account,
        data=_german_input(
            country=" de ",
            tax_id="DE 136 695 976",
            legal_name="  Beispiel GmbH  ",
            invoice_recipient_emails=("ap@EXAMPLE.com", "ap@example.com"),
        ),
        actor=customer_actor,
    )

    # Then nothing is written
    assert AuditEvent.objects.count() == before
    assert BillingProfile.objects.get(pk=profile.pk).updated_at == updated_at


@pytest.mark.django_db
def test_invalid_input_changes_nothing(catalogue, customer_actor):
    # Given a saved profile
    account = AccountFactory()
    profile = billing_profile_set(account=account, data=_german_input(), actor=customer_actor)
    values_before = _profile_values(profile)
    events_before = AuditEvent.objects.count()

    # When an update with a bad VAT id and a missing city is submitted
    with pytest.raises(ValidationFailed) as excinfo:
        billing_profile_set(
            account=account,
            data=_german_input(legal_name="Neuer Name GmbH", city="", tax_id="DE136695977"),
            actor=customer_actor,
        )

    # Then the errors are reported and neither the profile nor the audit trail changed
    assert excinfo.value.field_errors == {
        "city": ["This field is required."],
        "tax_id": [DE_CHECK_DIGIT],
    }
    assert _profile_values(profile) == values_before
    assert AuditEvent.objects.count() == events_before
    assert BillingProfile.objects.count() == 1


@pytest.mark.django_db
def test_invalid_first_profile_creates_nothing(catalogue, customer_actor):
    account = AccountFactory()

    with pytest.raises(ValidationFailed) as excinfo:
        billing_profile_set(account=account, data=_german_input(country="XX"), actor=customer_actor)

    assert excinfo.value.field_errors == {"country": ["Choose a country from the list."]}
    assert not BillingProfile.objects.filter(account=account).exists()
    assert AuditEvent.objects.count() == 0


@pytest.mark.django_db
def test_issued_invoice_keeps_its_buyer_snapshot_and_next_invoice_uses_new_data(
    account, customer_actor
):
    # Given an unpaid invoice issued to the fixture account's US profile
    profile = account.billing_profile
    first = _invoice_by_credit_order(account, customer_actor)
    snapshot = copy.deepcopy(first.buyer)
    assert snapshot == {
        "version": 1,
        "account_id": account.pk,
        "account_name": account.name,
        "legal_name": f"{account.name} Legal",
        "address_line1": "Hauptstraße 1",
        "address_line2": "",
        "city": "Berlin",
        "postal_code": "10115",
        "region": "",
        "country": "US",
        "tax_id": "",
        "tax_exempt": False,
        "invoice_recipient_emails": ["ap@example.com"],
    }

    # When the customer changes the billing profile
    billing_profile_set(
        account=account,
        data=BillingProfileInput(
            legal_name="Renamed Corp.",
            address_line1="500 Fifth Avenue",
            address_line2="Floor 12",
            city="New York",
            postal_code="10110",
            region="NY",
            country="US",
            tax_id="12-3456789",
            invoice_recipient_emails=("billing@renamed.example",),
        ),
        actor=customer_actor,
    )

    # Then the issued invoice is unchanged
    first.refresh_from_db()
    assert first.buyer == snapshot
    assert first.revision == 1
    assert first.status == Invoice.Status.ISSUED
    # And the next invoice carries the new data
    second = _invoice_by_credit_order(account, customer_actor)
    assert second.buyer == {
        "version": 1,
        "account_id": account.pk,
        "account_name": account.name,
        "legal_name": "Renamed Corp.",
        "address_line1": "500 Fifth Avenue",
        "address_line2": "Floor 12",
        "city": "New York",
        "postal_code": "10110",
        "region": "NY",
        "country": "US",
        "tax_id": "12-3456789",
        "tax_exempt": False,
        "invoice_recipient_emails": ["billing@renamed.example"],
    }
    assert BillingProfile.objects.get(pk=profile.pk).legal_name == "Renamed Corp."
    # And the first invoice, read fresh, still has the original buyer
    assert Invoice.objects.get(pk=first.pk).buyer == snapshot


@pytest.mark.django_db
def test_profiles_of_other_accounts_are_not_touched(account, customer_actor):
    other = BillingProfileFactory(account=AccountFactory())
    other_values = _profile_values(other)

    billing_profile_set(account=account, data=_german_input(), actor=customer_actor)

    assert _profile_values(other) == other_values
    assert not AuditEvent.objects.filter(account=other.account).exists()
