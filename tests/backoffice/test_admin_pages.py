"""Every page of the back office reads like a finance tool (issue 11): a superuser walks every
changelist, add page, change page and support-action form of every registered model over a
world with every kind of object, and no page answers 500, shows an amount in minor units
("Subtotal minor: 25650"), a default object name ("Membership object (9)") or a spec id
("P3", "UC5")."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.db.models import Q
from django.urls import reverse

from remit.backoffice.actions import SupportActionsMixin
from remit.billing.models import Account, ChangeRequest, Invoice
from remit.billing.services.change_requests import change_request_create
from remit.billing.services.invoices import invoice_reissue, invoice_void
from remit.documents.models import Document
from remit.documents.services.archive import document_store
from remit.documents.services.emails import email_queue
from remit.integrations.models import StripeEvent, WebhookDelivery
from remit.integrations.services.api_keys import api_key_create
from remit.integrations.services.webhooks import webhook_endpoint_create
from tests.billing.helpers import ACTOR, buy_credits_by_invoice, pay_invoice
from tests.factories import (
    AccountFactory,
    BillingProfileFactory,
    MembershipFactory,
    PurchaseOrderNumberFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

SPEC_ID = re.compile(r"\b[A-Z]{1,2}\d\b")
# Objects of each model whose change page is walked (every kind of invoice is in the first few).
PER_MODEL = 6


class VisibleText(HTMLParser):
    """The text a reader sees: everything outside scripts, styles and icons."""

    HIDDEN = {"script", "style", "svg", "title"}

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self.hidden += 1

    def handle_endtag(self, tag):
        if tag in self.HIDDEN and self.hidden:
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return " ".join(parser.parts)


def problems_of(url: str, response) -> list[tuple[str, str]]:
    if response.status_code >= 500:
        return [(url, f"status {response.status_code}")]
    text = visible_text(response.content.decode())
    found = []
    if re.search(r"minor", text, re.IGNORECASE):
        found.append((url, "minor: " + text[max(0, text.lower().find("minor") - 60) :][:120]))
    if "object (" in text:
        found.append((url, "object (: " + text[text.find("object (") - 40 :][:80]))
    found.extend((url, f"spec id {match}") for match in set(SPEC_ID.findall(text)))
    return found


@pytest.fixture
def world(account, settings, tmp_path, role_groups, django_capture_on_commit_callbacks):
    """One of everything the back office shows: a paid invoice with its receipt, a voided one
    with its credit note and replacement, a revised one, a change request, stored documents and
    their emails, queued tasks, an API key, a webhook delivery and a Stripe event."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    webhook_endpoint_create(url="https://hooks.example.com/remit", event_types=["invoice.issued"])
    MembershipFactory(account=account)
    PurchaseOrderNumberFactory(account=account, value="PO-4711", is_default=True)
    with django_capture_on_commit_callbacks(execute=True):  # queues tasks (their admin too)
        paid = buy_credits_by_invoice(account, 150)
    pay_invoice(paid)
    voided = buy_credits_by_invoice(account, 200)
    invoice_void(invoice=voided, actor=ACTOR, reason_code="duplicate", reason="Ordered twice")
    changed = buy_credits_by_invoice(account, 120)
    invoice_reissue(
        invoice=changed,
        actor=ACTOR,
        reason="Customer wants 300",
        credits=300,
        plan_size=None,
        term_months=None,
    )
    open_one = buy_credits_by_invoice(account, 100)
    change_request_create(invoice=open_one, actor=ACTOR, kind="void", reason="Not needed")
    euro = AccountFactory(euro=True, trial=True, name="Bäckerei Müller")
    BillingProfileFactory(account=euro, german_business=True)
    for document in Document.objects.filter(status=Document.Status.PENDING):
        document_store(document_id=document.pk)
    email_queue(
        document=Document.objects.filter(kind=Document.Kind.INVOICE).first(),
        kind="resend",
        resend_number=1,
    )
    api_key_create(name="billing backend", scopes=["read", "write"], actor=ACTOR)
    StripeEvent.objects.create(
        event_id="evt_1", type="checkout.session.completed", payload={"id": "evt_1"}
    )
    assert WebhookDelivery.objects.exists()
    assert ChangeRequest.objects.filter(status="open").exists()
    return account


def test_every_back_office_page_reads_like_a_finance_tool(client, world):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(superuser)
    problems: list[tuple[str, str]] = []
    walked = 0

    def walk(url: str, *, expect: tuple[int, ...] = (200,)) -> None:
        nonlocal walked
        response = client.get(url)
        walked += 1
        if response.status_code not in expect:
            problems.append((url, f"status {response.status_code}"))
        problems.extend(problems_of(url, response))

    walk(reverse("admin:index"))
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        name = f"admin:{meta.app_label}_{meta.model_name}"
        walk(reverse(f"{name}_changelist"))
        request = client.get(reverse("admin:index")).wsgi_request
        walk(
            reverse(f"{name}_add"),
            expect=(200,) if model_admin.has_add_permission(request) else (403,),
        )
        objects = list(model._default_manager.order_by("pk")[:PER_MODEL])
        if not objects and model.__name__ not in {"Group"}:
            problems.append((meta.label, "no object to walk: the world is missing one"))
        for obj in objects:
            walk(reverse(f"{name}_change", args=[obj.pk]))
            if isinstance(model_admin, SupportActionsMixin):
                for action in model_admin.support_actions_for(request, obj):
                    walk(reverse(f"{name}_support", args=[obj.pk, action.name]))
    assert problems == []
    assert walked > 60


def test_amounts_show_as_money_and_pages_are_titled_by_number_and_account(client, world):
    """Given a paid USD invoice and a voided one, when finance opens them, then totals read
    "$150.00" and the page title is the invoice number and the account's name."""
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    paid = Invoice.objects.get(status="paid")
    voided = Invoice.objects.get(status="void", total_minor=20_000)
    page = client.get(reverse("admin:billing_invoice_change", args=[paid.pk])).content.decode()
    assert f"<title>Invoice {paid.number} · {world.name} | Remit back office</title>" in page
    assert "$150.00" in page
    assert "Subtotal" in page
    listed = client.get(reverse("admin:billing_invoice_changelist")).content.decode()
    assert "$150.00" in listed
    assert "$200.00" in listed
    voided_page = client.get(
        reverse("admin:billing_invoice_change", args=[voided.pk])
    ).content.decode()
    assert voided.credit_note.number in voided_page
    assert reverse("admin:billing_creditnote_change", args=[voided.credit_note.pk]) in voided_page
    credit_note_page = client.get(
        reverse("admin:billing_creditnote_change", args=[voided.credit_note.pk])
    ).content.decode()
    assert f"<title>Credit note {voided.credit_note.number} · {world.name}" in credit_note_page
    assert "$200.00" in credit_note_page


def test_the_verbose_names_are_english_plurals(world):
    assert WebhookDelivery._meta.verbose_name_plural == "webhook deliveries"
    names = {
        str(model._meta.verbose_name_plural)
        for model in admin.site._registry
        if model._meta.app_label != "auth"
    }
    assert not [name for name in names if re.search(r"[^aeiou]ys$", name)]
    assert Account.objects.exists()


def test_a_task_result_is_titled_by_its_task(client, world):
    from django_tasks_db.models import DBTaskResult

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    result = DBTaskResult.objects.order_by("enqueued_at").first()
    assert result is not None

    page = client.get(
        reverse("admin:django_tasks_database_dbtaskresult_change", args=[result.pk])
    ).content.decode()

    title = (
        f"Task {result.task_name} ({result.get_status_display().lower()}, "
        f"queued {result.enqueued_at:%Y-%m-%d %H:%M})"
    )
    assert f"<title>{title} | Remit back office</title>" in page
    assert str(result.pk) not in page.split("<title>", 1)[1].split("</title>", 1)[0]


def test_an_invoice_page_links_each_stored_file_its_customer_received(client, world):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    paid = Invoice.objects.get(status="paid")
    files = Document.objects.filter(Q(invoice=paid) | Q(payment__invoice=paid))
    for document in files:
        document_store(document_id=document.pk)
    stored = list(files.filter(status=Document.Status.STORED))
    assert {d.kind for d in stored} == {Document.Kind.INVOICE, Document.Kind.RECEIPT}

    page = client.get(reverse("admin:billing_invoice_change", args=[paid.pk])).content.decode()

    for document in stored:
        assert reverse("admin:documents_document_pdf", args=[document.pk]) in page
