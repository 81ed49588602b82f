"""Support creates customer accounts, invites members, sets an account's time zone and takes a
change request from its own page (issue 11); the API invites members through the same service.
Invitations go out through the configured email backend (a real SMTP server here)."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from remit.billing.models import Account, AuditEvent, ChangeRequest, Membership
from remit.billing.services.change_requests import change_request_close, change_request_create
from remit.billing.services.invitations import account_member_invite
from remit.core.errors import ValidationFailed
from tests.billing.helpers import ACTOR, buy_credits_by_invoice, table_counts
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

SET_PASSWORD_LINK = re.compile(r"http://testserver(/password-reset/[^/\s]+/[^/\s]+/)")
NEW_PASSWORD = {"new_password1": "a long new passphrase", "new_password2": "a long new passphrase"}


def support_url(model: str, pk: int, name: str) -> str:
    return reverse(f"admin:billing_{model}_support", args=[pk, name])


def set_password_with(client, link: str) -> None:
    """Follow the invitation's link and choose a password, as the invited member does."""
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    response = client.post(form_page.redirect_chain[-1][0], NEW_PASSWORD)
    assert response.status_code == 302


# --- creating an account ----------------------------------------------------------------------


def test_support_creates_an_account_whose_invited_owner_sets_a_password_and_signs_in(
    client, as_role, catalogue, smtp_server, run_tasks, django_capture_on_commit_callbacks
):
    agent = as_role("Support agent")
    form = client.get(reverse("admin:billing_account_add"))
    assert form.status_code == 200
    assert "Create account" in form.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:billing_account_add"),
            {
                "name": "Initech LLC",
                "currency": "eur",
                "language": "de",
                "status": "trial",
                "external_id": "cus_42",
                "time_zone": "Europe/Berlin",
                "owner_email": "Peter@Initech.example",
            },
        )
    account = Account.objects.get(name="Initech LLC")
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:billing_account_change", args=[account.pk])
    assert (account.currency, account.language, account.status) == ("EUR", "de", "trial")
    assert (account.external_id, account.time_zone) == ("cus_42", "Europe/Berlin")
    owner = Membership.objects.get(account=account)
    assert (owner.user.email, owner.role) == ("peter@initech.example", "owner")
    assert not owner.user.has_usable_password()
    invited = AuditEvent.objects.get(action="account.member_invited")
    assert (invited.actor_label, invited.new_values) == (
        agent.username,
        {"user": "peter@initech.example", "role": "owner"},
    )
    assert AuditEvent.objects.filter(action="account.created", account=account).count() == 1

    assert run_tasks() == 1
    [message] = smtp_server.messages
    assert smtp_server.envelopes[0][1] == ["peter@initech.example"]
    assert message["Subject"] == "Sie sind zum Abrechnungsportal von Initech LLC eingeladen"
    body = message.get_content()
    assert "Legen Sie hier Ihr Passwort fest (der Link funktioniert einmal, 3 Tage lang):" in body
    client.logout()
    set_password_with(client, SET_PASSWORD_LINK.search(body).group(1))
    owner.user.refresh_from_db()
    assert owner.user.check_password(NEW_PASSWORD["new_password1"])
    signed_in = client.post(
        reverse("usercenter:login"),
        {"username": "peter@initech.example", "password": NEW_PASSWORD["new_password1"]},
    )
    assert signed_in.status_code == 302
    assert client.get(reverse("usercenter:orders")).status_code == 200


def test_an_account_without_an_owner_email_sends_nothing(
    client, as_role, catalogue, mailoutbox, django_capture_on_commit_callbacks
):
    as_role("Support agent")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            reverse("admin:billing_account_add"),
            {"name": "Solo", "currency": "USD", "language": "en", "status": "active"},
        )
    assert response.status_code == 302
    assert Account.objects.get(name="Solo").memberships.count() == 0
    assert callbacks == []
    assert mailoutbox == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "This field is required."),
        ("currency", "ABC", "Use an ISO 4217 currency code such as USD or EUR."),
        ("time_zone", "Mars/Olympus_Mons", "“Mars/Olympus_Mons” is not a time zone name"),
        ("owner_email", "not-an-email", "Enter a valid email address."),
        ("language", "tlh", "Select a valid choice. tlh is not one of the available choices."),
    ],
)
def test_bad_account_input_is_refused_field_by_field_and_nothing_is_created(
    client, as_role, catalogue, field, value, message
):
    as_role("Support agent")
    data = {"name": "Initech", "currency": "USD", "language": "en", "status": "trial"}
    before = table_counts()
    response = client.post(reverse("admin:billing_account_add"), {**data, field: value})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert table_counts() == before


def test_account_names_are_escaped_on_every_page(client, as_role, catalogue):
    as_role("Support agent")
    client.post(
        reverse("admin:billing_account_add"),
        {
            "name": "<script>alert(1)</script>",
            "currency": "USD",
            "language": "en",
            "status": "trial",
        },
    )
    account = Account.objects.get()
    page = client.get(reverse("admin:billing_account_change", args=[account.pk])).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_finance_cannot_create_accounts_or_invite(client, as_role, catalogue, account):
    as_role("Finance")
    before = table_counts()
    assert client.get(reverse("admin:billing_account_add")).status_code == 403
    assert (
        client.post(
            reverse("admin:billing_account_add"),
            {"name": "X", "currency": "USD", "language": "en", "status": "trial"},
        ).status_code
        == 403
    )
    assert (
        client.post(
            support_url("account", account.pk, "invite"), {"email": "x@example.com"}
        ).status_code
        == 403
    )
    assert table_counts() == before


# --- inviting a member --------------------------------------------------------------------------


def test_support_invites_a_member_from_the_account_page(
    client, as_role, account, mailoutbox, run_tasks, django_capture_on_commit_callbacks
):
    agent = as_role("Support agent")
    page = client.get(reverse("admin:billing_account_change", args=[account.pk]))
    assert "Invite a member" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            support_url("account", account.pk, "invite"),
            {"email": "jane@acme.example", "role": "member"},
        )
    assert response.status_code == 302
    assert run_tasks() == 1
    [message] = mailoutbox
    assert message.to == ["jane@acme.example"]
    assert message.subject == f"You are invited to the billing portal of {account.name}"
    assert "Choose your password here (the link works once, for 3 days):" in message.body
    link = SET_PASSWORD_LINK.search(message.body).group(1)
    event = AuditEvent.objects.get(action="account.member_invited")
    assert (event.actor_label, event.account) == (agent.username, account)
    client.logout()
    set_password_with(client, link)
    jane = get_user_model().objects.get(username="jane@acme.example")
    assert jane.check_password(NEW_PASSWORD["new_password1"])
    # The link works once.
    assert "expired" in client.get(link, follow=True).content.decode()


def test_inviting_an_existing_member_again_or_a_bad_address_is_refused(
    client, as_role, account, mailoutbox, django_capture_on_commit_callbacks
):
    member = MembershipFactory(account=account).user
    as_role("Support agent")
    before = table_counts()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = client.post(
            support_url("account", account.pk, "invite"), {"email": member.email, "role": "member"}
        )
        bad = client.post(
            support_url("account", account.pk, "invite"), {"email": "nobody", "role": "boss"}
        )
    assert again.status_code == 400
    assert f"{member.email} is already a member of {account.name}." in again.content.decode()
    assert bad.status_code == 400
    assert "Enter a valid email address." in bad.content.decode()
    assert "Select a valid choice." in bad.content.decode()
    assert table_counts() == before
    assert callbacks == []
    assert mailoutbox == []


def test_someone_who_already_has_a_password_is_invited_to_sign_in(
    account, mailoutbox, run_tasks, django_capture_on_commit_callbacks
):
    existing = UserFactory(username="sam@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        account_member_invite(
            account=account, email="SAM@example.com", actor=ACTOR, site_url="https://b.example/"
        )
    run_tasks()
    [message] = mailoutbox
    assert "Sign in with your email and password here:\nhttps://b.example/sign-in/" in (
        message.body
    )
    assert "password-reset" not in message.body
    existing.refresh_from_db()
    assert existing.check_password("correct horse battery staple")


def test_the_public_url_setting_wins_over_the_requests_address(
    account, settings, mailoutbox, run_tasks, django_capture_on_commit_callbacks
):
    """The API was reached at an internal address; the invitation links to the public one."""
    from django.test import Client

    from remit.integrations.services.api_keys import api_key_create

    settings.REMIT_PUBLIC_URL = "https://billing.example.com/"
    settings.ALLOWED_HOSTS = ["internal"]
    token = api_key_create(name="b", scopes=["read", "write"], actor=ACTOR).token
    with django_capture_on_commit_callbacks(execute=True):
        response = Client(HTTP_HOST="internal:8000").post(
            f"/api/v1/accounts/{account.pk}/members",
            {"email": "new@example.com"},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
    assert response.status_code == 201, response.content
    run_tasks()
    [message] = mailoutbox
    assert "https://billing.example.com/password-reset/" in message.body
    assert "internal" not in message.body


def test_a_new_member_refused_by_the_service_leaves_nothing_behind(account):
    before = table_counts()
    with pytest.raises(ValidationFailed) as error:
        account_member_invite(
            account=account, email="x@", role="member", actor=ACTOR, site_url="http://t"
        )
    assert error.value.field_errors == {"email": ["Enter a valid email address."]}
    assert table_counts() == before


# --- time zone ------------------------------------------------------------------------------------


def test_support_sets_the_time_zone_with_a_reason_in_the_audit_trail(client, as_role, account):
    agent = as_role("Support agent")
    response = client.post(
        support_url("account", account.pk, "time-zone"),
        {"time_zone": "America/New_York", "reason": "Customer is in New York"},
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.time_zone == "America/New_York"
    event = AuditEvent.objects.get(action="account.updated")
    assert (event.actor_label, event.reason, event.old_values, event.new_values) == (
        agent.username,
        "Customer is in New York",
        {"time_zone": ""},
        {"time_zone": "America/New_York"},
    )
    page = client.get(reverse("admin:billing_account_change", args=[account.pk])).content.decode()
    assert "America/New_York" in page
    # Empty returns to the site's zone.
    client.post(support_url("account", account.pk, "time-zone"), {"time_zone": ""})
    account.refresh_from_db()
    assert account.time_zone == ""


def test_a_bad_time_zone_is_refused_with_a_clear_escaped_message(client, as_role, account):
    as_role("Support agent")
    response = client.post(
        support_url("account", account.pk, "time-zone"),
        {"time_zone": "<b>Berlin</b>", "reason": "x"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert (
        "“&lt;b&gt;Berlin&lt;/b&gt;” is not a time zone name; use an IANA name such as "
        "Europe/Berlin or America/New_York, or leave it empty for the site&#x27;s time zone."
    ) in body
    assert "<b>Berlin</b>" not in body
    account.refresh_from_db()
    assert account.time_zone == ""
    assert not AuditEvent.objects.filter(action="account.updated").exists()


# --- assign to me, sign-in --------------------------------------------------------------------


@pytest.fixture
def change_request(account):
    invoice = buy_credits_by_invoice(account, 100)
    return change_request_create(invoice=invoice, actor=ACTOR, kind="change", reason="PO missing")


def test_assign_to_me_on_the_change_requests_own_page(client, as_role, change_request):
    agent = as_role("Support agent")
    page = client.get(reverse("admin:billing_changerequest_change", args=[change_request.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    assign = support_url("changerequest", change_request.pk, "assign")
    assert f'<a href="{assign}" class="support-action">Assign to me</a>' in body
    assert (
        f"<title>Change request for invoice {change_request.invoice.number} · "
        f"{change_request.account.name} | Remit back office</title>"
    ) in body
    response = client.post(assign, {})
    assert response.status_code == 302
    change_request.refresh_from_db()
    assert change_request.assigned_to == agent
    event = AuditEvent.objects.get(action="change_request.assigned")
    assert (event.actor_label, event.new_values) == (
        agent.username,
        {"change_request": change_request.pk, "assigned_to": agent.pk},
    )


def test_a_closed_request_cannot_be_assigned_and_finance_cannot_assign(
    client, as_role, change_request
):
    as_role("Finance")
    assign = support_url("changerequest", change_request.pk, "assign")
    assert client.post(assign, {}).status_code == 403
    change_request_close(
        change_request=change_request, actor=ACTOR, status="done", response="Added the PO"
    )
    as_role("Support agent")
    page = client.get(reverse("admin:billing_changerequest_change", args=[change_request.pk]))
    assert "Assign to me" not in page.content.decode()
    response = client.post(assign, {})
    assert response.status_code == 400
    assert "This action is not available any more" in response.content.decode()
    change_request.refresh_from_db()
    assert change_request.assigned_to is None
    assert ChangeRequest.objects.get().status == "done"


def test_the_back_office_sign_in_asks_for_the_email(client):
    page = client.get(reverse("admin:login")).content.decode()
    assert '<label for="id_username" class="required">Email:</label>' in page
    assert 'autocomplete="email"' in page
    assert "Username" not in page


def test_the_invitation_is_sent_once_however_often_its_task_runs(account, smtp_server):
    from smtplib import SMTPException

    from remit.billing.services.invitations import member_invitation_send

    membership = account_member_invite(
        account=account, email="once@example.com", actor=ACTOR, site_url="http://t"
    )
    smtp_server.refuse = 1
    with pytest.raises(SMTPException):
        member_invitation_send(membership_id=membership.pk, site_url="http://t")
    membership.refresh_from_db()
    assert membership.invitation_sent_at is None
    assert smtp_server.messages == []

    assert member_invitation_send(membership_id=membership.pk, site_url="http://t") is True
    assert member_invitation_send(membership_id=membership.pk, site_url="http://t") is False
    assert len(smtp_server.messages) == 1
    membership.refresh_from_db()
    assert membership.invitation_sent_at is not None
    assert member_invitation_send(membership_id=999_999, site_url="http://t") is False
