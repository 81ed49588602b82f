"""Back office (issue 5, first part): role groups, the change-request queue (X4) and read-only
invoices and audit trail in the admin."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from remit.backoffice.roles import ROLES
from remit.billing.models import AuditEvent, ChangeRequest
from remit.billing.services.change_requests import change_request_create
from tests.billing.helpers import ACTOR, buy_credits_by_invoice
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def staff(client, role: str | None):
    user = UserFactory(is_staff=True)
    if role:
        user.groups.add(Group.objects.get(name=role))
    client.force_login(user)
    return user


@pytest.fixture
def change_request(account):
    invoice = buy_credits_by_invoice(account, 100)
    return change_request_create(invoice=invoice, actor=ACTOR, kind="void", reason="Ordered twice")


def test_the_role_groups_exist_with_exactly_their_permissions():
    for name, codes in ROLES.items():
        group = Group.objects.get(name=name)
        granted = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        assert granted == set(codes), name
    support = set(ROLES["Support agent"])
    assert "backoffice.answer_change_requests" in support
    assert "backoffice.void_invoices" not in support
    assert "backoffice.answer_change_requests" not in set(ROLES["Finance"])


def test_a_support_agent_assigns_and_answers_and_the_customer_sees_the_answer(
    client, change_request, account
):
    agent = staff(client, "Support agent")
    queue = client.get(reverse("admin:billing_changerequest_changelist"))
    assert queue.status_code == 200
    assert change_request.invoice.number in queue.content.decode()

    client.post(
        reverse("admin:billing_changerequest_changelist"),
        {"action": "assign_to_me", "_selected_action": [change_request.pk]},
    )
    change_request.refresh_from_db()
    assert change_request.assigned_to == agent

    url = reverse("admin:billing_changerequest_support", args=[change_request.pk, "answer"])
    assert client.get(url).status_code == 200
    response = client.post(url, {"status": "declined", "response": "Not a duplicate: two seats."})
    assert response.status_code == 302
    change_request.refresh_from_db()
    assert change_request.status == "declined"
    assert change_request.closed_by == agent
    event = AuditEvent.objects.get(action="change_request.closed")
    assert event.actor_label == agent.username
    assert event.reason == "Not a duplicate: two seats."

    customer = MembershipFactory(account=account).user
    client.force_login(customer)
    page = client.get(reverse("usercenter:orders")).content.decode()
    assert "Change request declined: Not a duplicate: two seats." in page


def test_an_empty_answer_is_refused_and_nothing_changes(client, change_request):
    staff(client, "Support agent")
    url = reverse("admin:billing_changerequest_support", args=[change_request.pk, "answer"])
    response = client.post(url, {"status": "done", "response": ""})
    assert response.status_code == 400
    change_request.refresh_from_db()
    assert change_request.status == ChangeRequest.Status.OPEN


def test_answering_twice_is_refused(client, change_request):
    staff(client, "Support agent")
    url = reverse("admin:billing_changerequest_support", args=[change_request.pk, "answer"])
    client.post(url, {"status": "done", "response": "Voided."})
    response = client.post(url, {"status": "declined", "response": "No."})
    assert response.status_code == 400
    assert "not available any more" in response.content.decode()


def test_finance_cannot_answer_or_assign_change_requests(client, change_request):
    staff(client, "Finance")
    url = reverse("admin:billing_changerequest_support", args=[change_request.pk, "answer"])
    assert client.get(url).status_code == 403
    assert client.post(url, {"status": "done", "response": "x"}).status_code == 403
    queue = client.get(reverse("admin:billing_changerequest_changelist"))
    assert queue.status_code == 200
    assert "assign_to_me" not in queue.content.decode()
    change_request.refresh_from_db()
    assert change_request.status == ChangeRequest.Status.OPEN


def test_staff_without_a_role_and_customers_get_no_queue(client, change_request, account):
    staff(client, None)
    assert client.get(reverse("admin:billing_changerequest_changelist")).status_code == 403
    client.force_login(MembershipFactory(account=account).user)
    response = client.get(reverse("admin:billing_changerequest_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_issued_invoices_and_the_audit_trail_are_read_only_in_the_admin(client, change_request):
    staff(client, "Finance")
    invoice = change_request.invoice
    change_url = reverse("admin:billing_invoice_change", args=[invoice.pk])
    page = client.get(change_url)
    assert page.status_code == 200
    assert 'name="total_minor"' not in page.content.decode()
    assert client.post(change_url, {"total_minor": "1"}).status_code == 403
    assert client.get(reverse("admin:billing_invoice_delete", args=[invoice.pk])).status_code == 403
    assert client.get(reverse("admin:billing_invoice_add")).status_code == 403
    event = AuditEvent.objects.first()
    assert (
        client.get(reverse("admin:billing_auditevent_delete", args=[event.pk])).status_code == 403
    )
    assert (
        client.post(
            reverse("admin:billing_auditevent_change", args=[event.pk]), {"action": "x"}
        ).status_code
        == 403
    )
