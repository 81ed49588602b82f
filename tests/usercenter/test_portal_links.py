"""UC1 portal links: created for a member, used once, short-lived, never stored in the clear."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from remit.billing.actors import Actor
from remit.billing.models import PortalLink
from remit.billing.services.portal_links import portal_link_consume, portal_link_create
from remit.core.errors import ValidationFailed
from tests.concurrency import run_concurrently
from tests.factories import MembershipFactory, UserFactory

ACTOR = Actor.api_key("backend")


@pytest.fixture
def member(account):
    return MembershipFactory(account=account).user


@pytest.mark.django_db
def test_a_link_signs_the_member_in_once_and_lands_on_the_requested_page(client, account, member):
    created = portal_link_create(
        account=account, user=member, actor=ACTOR, next_path="/orders/?status=unpaid"
    )
    url = reverse("usercenter:portal_link", args=[created.token])

    page = client.get(url)
    assert page.status_code == 200
    assert "data-autosubmit-form" in page.content.decode()
    assert "_auth_user_id" not in client.session  # a GET (link preview) uses nothing

    response = client.post(url)
    assert response.status_code == 302
    assert response["Location"] == "/orders/?status=unpaid"
    assert client.session["_auth_user_id"] == str(member.pk)

    client.logout()
    again = client.post(url)
    assert again.status_code == 410
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_only_the_tokens_hash_is_stored(account, member):
    created = portal_link_create(account=account, user=member, actor=ACTOR)

    stored = PortalLink.objects.get()
    assert stored.token_sha256 == hashlib.sha256(created.token.encode()).hexdigest()
    assert created.token not in str(PortalLink.objects.values().get())


@pytest.mark.django_db
def test_an_expired_or_unknown_link_is_refused(client, account, member):
    created = portal_link_create(
        account=account, user=member, actor=ACTOR, lifetime=timedelta(minutes=1)
    )
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        assert (
            client.post(reverse("usercenter:portal_link", args=[created.token])).status_code == 410
        )
    assert client.post(reverse("usercenter:portal_link", args=["nonsense"])).status_code == 410
    assert PortalLink.objects.get().used_at is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"next_path": "https://evil.example/"}, "next_path"),
        ({"next_path": "//evil.example/"}, "next_path"),
        ({"lifetime": timedelta(hours=2)}, "lifetime"),
        ({"lifetime": timedelta(seconds=1)}, "lifetime"),
    ],
)
def test_bad_link_requests_are_refused(account, member, overrides, field):
    with pytest.raises(ValidationFailed) as error:
        portal_link_create(account=account, user=member, actor=ACTOR, **overrides)

    assert list(error.value.field_errors) == [field]
    assert not PortalLink.objects.exists()


@pytest.mark.django_db
def test_links_are_only_for_members_of_the_account(account):
    with pytest.raises(ValidationFailed) as error:
        portal_link_create(account=account, user=UserFactory(), actor=ACTOR)

    assert list(error.value.field_errors) == ["user"]


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_a_link_used_twice_at_the_same_moment_works_once(account, member):
    token = portal_link_create(account=account, user=member, actor=ACTOR).token

    outcomes = run_concurrently([lambda: portal_link_consume(token=token)] * 8)

    assert sorted(type(o.error).__name__ if o.error else "ok" for o in outcomes) == (
        ["PortalLinkInvalid"] * 7 + ["ok"]
    )
