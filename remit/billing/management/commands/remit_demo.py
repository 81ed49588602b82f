"""Load the demo catalogue, a demo customer with a few orders, and a support login.

Idempotent: running it again changes nothing and prints the same logins.
"""

from __future__ import annotations

import os
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from remit.billing.actors import Actor
from remit.billing.models import (
    Account,
    CreditPrice,
    Order,
    Plan,
    PlanPrice,
    PlanSize,
    Term,
)
from remit.billing.services.accounts import account_create, account_member_add
from remit.billing.services.billing_profiles import billing_profile_set
from remit.billing.services.orders import order_card_payment_record, order_place
from remit.billing.services.payments import invoice_payment_record
from remit.billing.services.validation import BillingProfileInput
from remit.core.config import billing_settings

DEMO_ACCOUNT_ID = "demo-acme"
CUSTOMER_EMAIL = "customer@demo.remit.local"
SUPPORT_EMAIL = "support@demo.remit.local"
# Back-office staff with one role each (groups made by remit.backoffice.roles after migrate).
ROLE_LOGINS = (("agent@demo.remit.local", "Support agent"), ("finance@demo.remit.local", "Finance"))


def _catalogue() -> PlanSize:
    for currency, price in (("USD", 100), ("EUR", 100), ("GBP", 100), ("JPY", 100)):
        CreditPrice.objects.get_or_create(currency=currency, defaults={"unit_price_minor": price})
    for months, discount, invoiceable in (
        (1, 0, False),
        (3, 0, True),
        (6, 5, True),
        (12, 10, True),
    ):
        Term.objects.get_or_create(
            months=months,
            defaults={"discount_percent": Decimal(discount), "invoice_allowed": invoiceable},
        )
    plan, _ = Plan.objects.get_or_create(code="pro", defaults={"name": "Pro"})
    first = None
    for position, (code, name, credits, prices) in enumerate(
        (
            ("50k", "50,000 emails", 50_000, {"USD": 4_900, "EUR": 4_500, "JPY": 7_000}),
            ("200k", "200,000 emails", 200_000, {"USD": 14_900, "EUR": 13_900, "JPY": 21_000}),
            ("1m", "1,000,000 emails", 1_000_000, {"USD": 49_900, "EUR": 45_900}),
        )
    ):
        size, _ = PlanSize.objects.get_or_create(
            plan=plan,
            code=code,
            defaults={"name": name, "monthly_credits": credits, "position": position},
        )
        first = first or size
        for currency, monthly in prices.items():
            PlanPrice.objects.get_or_create(
                plan_size=size, currency=currency, defaults={"monthly_price_minor": monthly}
            )
    assert first is not None
    return first


class Command(BaseCommand):
    help = "Load demo data (idempotent) and print the demo logins."

    def handle(self, *args: Any, **options: Any) -> None:
        password = os.environ.get("REMIT_DEMO_PASSWORD", "remit-demo-2026")
        actor = Actor.system()
        user_model = get_user_model()
        with transaction.atomic():
            size = _catalogue()
            support, created = user_model.objects.get_or_create(
                username=SUPPORT_EMAIL,
                defaults={"email": SUPPORT_EMAIL, "is_staff": True, "is_superuser": True},
            )
            if created:
                support.set_password(password)
                support.save()
            for email, role in ROLE_LOGINS:
                staff, created = user_model.objects.get_or_create(
                    username=email, defaults={"email": email, "is_staff": True}
                )
                if created:
                    staff.set_password(password)
                    staff.save()
                    staff.groups.add(Group.objects.get(name=role))
            customer, created = user_model.objects.get_or_create(
                username=CUSTOMER_EMAIL, defaults={"email": CUSTOMER_EMAIL}
            )
            if created:
                customer.set_password(password)
                customer.save()
            account = Account.objects.filter(external_id=DEMO_ACCOUNT_ID).first()
        if account is None:
            account = account_create(
                name="Acme Analytics Ltd",
                actor=actor,
                currency="USD",
                status=Account.Status.ACTIVE,
                external_id=DEMO_ACCOUNT_ID,
            )
            account_member_add(account=account, user=customer, actor=actor, role="owner")
            billing_profile_set(
                account=account,
                actor=actor,
                data=BillingProfileInput(
                    legal_name="Acme Analytics Ltd",
                    address_line1="500 Howard Street",
                    city="San Francisco",
                    postal_code="94105",
                    region="CA",
                    country="US",
                    invoice_recipient_emails=("ap@acme.example",),
                ),
            )
            card_order = order_place(
                account=account,
                actor=actor,
                kind=Order.Kind.SUBSCRIPTION,
                payment_method=Order.PaymentMethod.CARD,
                plan_size=size,
                term_months=1,
            )
            order_card_payment_record(
                order=card_order,
                actor=Actor.payment_platform("stripe"),
                provider="stripe",
                provider_reference="pi_demo_0001",
                amount_minor=card_order.total_minor,
                currency=card_order.currency,
                received_at=timezone.now() - timedelta(days=40),
            )
            paid = order_place(
                account=account,
                actor=actor,
                kind=Order.Kind.CREDITS,
                payment_method=Order.PaymentMethod.INVOICE,
                credits=250,
                po_number="PO-2026-0042",
            )
            invoice_payment_record(
                invoice=paid.invoice,
                actor=actor,
                method="bank_transfer",
                provider="manual",
                provider_reference="DEMO-BANK-0001",
                amount_minor=paid.total_minor,
                currency=paid.currency,
                received_at=timezone.now() - timedelta(days=3),
            )
            order_place(
                account=account,
                actor=actor,
                kind=Order.Kind.SUBSCRIPTION,
                payment_method=Order.PaymentMethod.INVOICE,
                plan_size=size,
                term_months=6,
                notes="Annual budget line 4711",
            )
            order_place(
                account=account,
                actor=actor,
                kind=Order.Kind.CREDITS,
                payment_method=Order.PaymentMethod.INVOICE,
                credits=100,
            )
        self.stdout.write(
            "Demo data ready.\n"
            f"  Customer login: {CUSTOMER_EMAIL} / {password}  (account: {account.name})\n"
            f"  Admin login:    {SUPPORT_EMAIL} / {password}  (back office: /admin/)\n"
            + "".join(f"  {role} login: {email} / {password}\n" for email, role in ROLE_LOGINS)
            + _bank_line()
        )


def _bank_line() -> str:
    """Say how demo invoices are paid: by transfer to the configured (or the demo's fictitious)
    account, or online only when there are no bank details."""
    seller = billing_settings().seller
    account = seller.get("bank_iban") or seller.get("bank_account_number")
    if not account:
        return "  Bank details: none (invoices ask to be paid online; set REMIT_BANK_*)\n"
    return f"  Bank details on invoices: {seller.get('bank_name') or 'bank'} {account}\n"
