"""factory_boy factories with traits; tests build exactly the world they need."""

from __future__ import annotations

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from remit.billing.models import (
    Account,
    BillingProfile,
    CreditPrice,
    Membership,
    Plan,
    PlanPrice,
    PlanSize,
    PurchaseOrderNumber,
    Term,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}@example.com")
    email = factory.SelfAttribute("username")
    password = factory.django.Password("correct horse battery staple")


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Customer {n} GmbH")
    status = Account.Status.ACTIVE
    currency = "USD"
    language = "en"

    class Params:
        trial = factory.Trait(status=Account.Status.TRIAL)
        trial_invoicing = factory.Trait(
            status=Account.Status.TRIAL, invoicing_during_trial_enabled=True
        )
        euro = factory.Trait(currency="EUR")
        yen = factory.Trait(currency="JPY")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    account = factory.SubFactory(AccountFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.OWNER


class BillingProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BillingProfile

    account = factory.SubFactory(AccountFactory)
    legal_name = factory.LazyAttribute(lambda o: f"{o.account.name} Legal")
    address_line1 = "Hauptstraße 1"
    city = "Berlin"
    postal_code = "10115"
    country = "US"
    tax_id = ""
    invoice_recipient_emails = factory.LazyFunction(lambda: ["ap@example.com"])

    class Params:
        german_business = factory.Trait(country="DE", tax_id="DE136695976")
        german_consumer = factory.Trait(country="DE", tax_id="")


class PurchaseOrderNumberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PurchaseOrderNumber

    account = factory.SubFactory(AccountFactory)
    value = factory.Sequence(lambda n: f"PO-{n:05d}")


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Plan
        django_get_or_create = ("code",)

    code = "pro"
    name = "Pro"


class PlanSizeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlanSize
        django_get_or_create = ("plan", "code")

    plan = factory.SubFactory(PlanFactory)
    code = "50k"
    name = "50,000 emails"
    monthly_credits = 50_000


class PlanPriceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlanPrice
        django_get_or_create = ("plan_size", "currency")

    plan_size = factory.SubFactory(PlanSizeFactory)
    currency = "USD"
    monthly_price_minor = 4_900


def catalogue_create() -> PlanSize:
    """The demo catalogue: credits at 1.00 USD/EUR and 100 JPY, a Pro plan with two sizes,
    terms of 1 (card only), 3, 6 (5 % off) and 12 months (10 % off)."""
    for currency, price in (("USD", 100), ("EUR", 100), ("JPY", 100)):
        CreditPrice.objects.get_or_create(currency=currency, defaults={"unit_price_minor": price})
    for months, discount, invoiceable in (
        (1, "0", False),
        (3, "0", True),
        (6, "5", True),
        (12, "10", True),
    ):
        Term.objects.get_or_create(
            months=months,
            defaults={"discount_percent": Decimal(discount), "invoice_allowed": invoiceable},
        )
    size = PlanSizeFactory()
    PlanPriceFactory(plan_size=size, currency="USD", monthly_price_minor=4_900)
    PlanPriceFactory(plan_size=size, currency="EUR", monthly_price_minor=4_500)
    PlanPriceFactory(plan_size=size, currency="JPY", monthly_price_minor=7_000)
    large = PlanSizeFactory(code="200k", name="200,000 emails", monthly_credits=200_000, position=1)
    PlanPriceFactory(plan_size=large, currency="USD", monthly_price_minor=14_900)
    PlanPriceFactory(plan_size=large, currency="EUR", monthly_price_minor=13_900)
    return size
