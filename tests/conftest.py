from __future__ import annotations

import pytest

from remit.billing.actors import Actor
from remit.billing.models import PlanSize
from tests.factories import AccountFactory, BillingProfileFactory, catalogue_create


@pytest.fixture
def system_actor() -> Actor:
    return Actor.system()


@pytest.fixture
def customer_actor() -> Actor:
    return Actor(kind="user", label="customer@example.com")


@pytest.fixture
def catalogue(db: None) -> PlanSize:
    """The demo catalogue; returns the Pro 50k plan size."""
    return catalogue_create()


@pytest.fixture
def account(db: None, catalogue: PlanSize):  # type: ignore[no-untyped-def]
    """An active USD account with a US billing profile."""
    account = AccountFactory()
    BillingProfileFactory(account=account)
    return account
