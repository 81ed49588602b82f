from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from tests.factories import UserFactory


@pytest.fixture
def as_role(client, role_groups):
    """Sign the test client in as a staff member with one role (or none)."""

    def sign_in(role: str | None):
        user = UserFactory(is_staff=True)
        if role:
            user.groups.add(Group.objects.get(name=role))
        client.force_login(user)
        return user

    return sign_in


# The real SMTP server and the task runner of the document tests serve invitations too.
from tests.documents.conftest import run_tasks, smtp_server  # noqa: E402, F401
