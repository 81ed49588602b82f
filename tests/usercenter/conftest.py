from __future__ import annotations

import pytest

from tests.factories import MembershipFactory


@pytest.fixture
def customer(account):
    """A member of ``account`` (password: "correct horse battery staple")."""
    return MembershipFactory(account=account).user


@pytest.fixture
def signed_in(client, customer):
    client.force_login(customer)
    return client
