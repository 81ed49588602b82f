"""Accounts' time zones and members' invitations through the API (issue 11): the same
services as the back office, the same rules and messages."""

from __future__ import annotations

import re

import pytest

from remit.billing.models import Account, AuditEvent

pytestmark = pytest.mark.django_db


def test_members_added_through_the_api_get_the_same_invitation(
    api, account, mailoutbox, run_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/accounts/{account.pk}/members", {"email": "Api@Acme.example"})
    assert response.status_code == 201
    assert response.json()["email"] == "api@acme.example"
    assert run_tasks() == 1
    [message] = mailoutbox
    assert message.to == ["api@acme.example"]
    assert message.subject == f"You are invited to the billing portal of {account.name}"
    assert re.search(r"http://127\.0\.0\.1/password-reset/[^/\s]+/[^/\s]+/", message.body)
    event = AuditEvent.objects.get(action="account.member_invited")
    assert event.actor_label == "backend"
    again = api.post(f"/accounts/{account.pk}/members", {"email": "api@acme.example"})
    assert again.status_code == 422
    assert again.json()["details"]["fields"] == {
        "email": [f"api@acme.example is already a member of {account.name}."]
    }


def test_the_api_sets_and_validates_the_time_zone(api, catalogue):
    created = api.post(
        "/accounts", {"name": "Tokyo KK", "currency": "JPY", "time_zone": "Asia/Tokyo"}
    )
    assert created.status_code == 201
    assert created.json()["time_zone"] == "Asia/Tokyo"
    account_id = created.json()["id"]
    changed = api.send("patch", f"/accounts/{account_id}", {"time_zone": "Europe/Paris"})
    assert changed.status_code == 200
    assert changed.json()["time_zone"] == "Europe/Paris"
    bad = api.send("patch", f"/accounts/{account_id}", {"time_zone": "Europe/Atlantis"})
    assert bad.status_code == 422
    assert bad.json()["details"]["fields"] == {
        "time_zone": [
            "“Europe/Atlantis” is not a time zone name; use an IANA name such as Europe/Berlin "
            "or America/New_York, or leave it empty for the site's time zone."
        ]
    }
    assert Account.objects.get(pk=account_id).time_zone == "Europe/Paris"
    refused = api.post("/accounts", {"name": "Nowhere", "time_zone": "UTC+2"})
    assert refused.status_code == 422
    assert set(refused.json()["details"]["fields"]) == {"time_zone"}
    assert not Account.objects.filter(name="Nowhere").exists()
