"""Support actions in the back office (X2, P3, P4, P7, UC5, D2): each as the right role and as a
role without it, with the audit event, the email and what the customer then sees."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from remit.billing.models import Account, AuditEvent, CreditNote, Invoice, Payment
from remit.billing.selectors.credits import credit_balance
from remit.documents.models import Document, EmailMessage
from remit.documents.services.archive import invoice_document_ready
from tests.billing.helpers import buy_credits_by_invoice, table_counts
from tests.factories import AccountFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def action_url(model: str, pk: int, name: str) -> str:
    app = "documents" if model == "document" else "billing"
    return reverse(f"admin:{app}_{model}_support", args=[pk, name])


@pytest.fixture
def invoice(account):
    return buy_credits_by_invoice(account, 150)


def test_a_malformed_id_or_an_unknown_action_is_not_found(client, as_role, invoice):
    """Regression (issue 13 item 6): ``abc`` was a 500, an unknown action a 403."""
    as_role("Finance")
    assert client.get("/admin/billing/invoice/abc/support/void/").status_code == 404
    assert client.post("/admin/billing/invoice/abc/support/void/").status_code == 404
    assert client.get(action_url("invoice", invoice.pk, "no-such-action")).status_code == 404
    assert client.get(action_url("invoice", 10**9, "void")).status_code == 404


# --- void -----------------------------------------------------------------------------------


def test_finance_voids_an_invoice_and_a_credit_note_is_issued_and_emailed(
    client, as_role, invoice, account
):
    user = as_role("Finance")
    page = client.get(reverse("admin:billing_invoice_change", args=[invoice.pk]))
    assert "Void invoice" in page.content.decode()
    response = client.post(
        action_url("invoice", invoice.pk, "void"),
        {"reason_code": "duplicate", "reason": "Ordered twice by mistake"},
    )
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.VOID
    credit_note = CreditNote.objects.get(invoice=invoice)
    event = AuditEvent.objects.get(action="invoice.voided")
    assert (event.actor_label, event.reason) == (user.username, "Ordered twice by mistake")
    assert EmailMessage.objects.filter(document__credit_note=credit_note).exists()
    assert credit_balance(account=account).pending == 0
    client.force_login(MembershipFactory(account=account).user)
    orders = client.get(reverse("usercenter:orders")).content.decode()
    assert 'class="badge void"' in orders


def test_a_support_agent_cannot_void(client, as_role, invoice):
    as_role("Support agent")
    page = client.get(reverse("admin:billing_invoice_change", args=[invoice.pk]))
    assert page.status_code == 200
    assert "Void invoice" not in page.content.decode()
    before = table_counts()
    response = client.post(
        action_url("invoice", invoice.pk, "void"), {"reason_code": "duplicate", "reason": "x"}
    )
    assert response.status_code == 403
    assert table_counts() == before


def test_voiding_needs_a_reason_code_and_refuses_a_paid_invoice(client, as_role, invoice):
    as_role("Finance")
    response = client.post(action_url("invoice", invoice.pk, "void"), {"reason_code": "bogus"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    from tests.billing.helpers import pay_invoice

    pay_invoice(invoice)
    response = client.post(
        action_url("invoice", invoice.pk, "void"), {"reason_code": "duplicate", "reason": "x"}
    )
    assert response.status_code == 400
    assert "not available any more" in response.content.decode()
    assert CreditNote.objects.count() == 0


# --- change credits or plan -----------------------------------------------------------------


def test_finance_changes_the_credit_amount_with_a_linked_replacement(client, as_role, invoice):
    as_role("Finance")
    response = client.post(
        action_url("invoice", invoice.pk, "reissue"),
        {"credits": "300", "reason": "Customer wants 300 credits"},
    )
    assert response.status_code == 302
    replacement = Invoice.objects.get(replaces=invoice)
    assert replacement.total_minor == 30_000
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.VOID
    page = client.get(reverse("admin:billing_invoice_change", args=[invoice.pk])).content.decode()
    assert "replaced by <a" in page
    assert replacement.number in page


def test_a_replacement_below_the_minimum_is_refused_with_the_services_message(
    client, as_role, invoice
):
    as_role("Finance")
    response = client.post(
        action_url("invoice", invoice.pk, "reissue"), {"credits": "50", "reason": "x"}
    )
    assert response.status_code == 400
    assert "at least 100.00 USD" in response.content.decode()
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.ISSUED


# --- record a manual payment ------------------------------------------------------------------


def test_finance_records_a_bank_transfer_and_credits_and_receipt_follow(
    client, as_role, invoice, account
):
    as_role("Finance")
    today = timezone.localdate().isoformat()
    response = client.post(
        action_url("invoice", invoice.pk, "payment"),
        {"method": "bank_transfer", "received_on": today, "amount": "150.00", "reference": "TRX-1"},
    )
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    payment = Payment.objects.get()
    assert (payment.provider, payment.provider_reference, payment.amount_minor) == (
        "manual",
        "TRX-1",
        15_000,
    )
    assert credit_balance(account=account).balance == 150
    receipt = Document.objects.get(kind=Document.Kind.RECEIPT, payment=payment)
    assert EmailMessage.objects.filter(document=receipt).exists()
    assert AuditEvent.objects.filter(action="invoice.paid").count() == 1


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("100.00", "payment"),  # partial: refused by the service
        ("200.00", "payment"),  # over-payment: refused too
        ("1.005", "Not an amount in USD"),
        ("-5", "greater than or equal to 0"),
    ],
)
def test_partial_over_and_malformed_payments_are_refused(client, as_role, invoice, amount, message):
    as_role("Finance")
    response = client.post(
        action_url("invoice", invoice.pk, "payment"),
        {
            "method": "bank_transfer",
            "received_on": timezone.localdate().isoformat(),
            "amount": amount,
            "reference": "TRX-2",
        },
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Payment.objects.count() == 0


def test_a_payment_dated_in_the_future_is_refused(client, as_role, invoice):
    as_role("Finance")
    response = client.post(
        action_url("invoice", invoice.pk, "payment"),
        {
            "method": "bank_transfer",
            "received_on": (timezone.localdate() + timedelta(days=5)).isoformat(),
            "amount": "150.00",
            "reference": "TRX-3",
        },
    )
    assert response.status_code == 400
    assert "cannot be received in the future" in response.content.decode()


def test_a_support_agent_cannot_record_payments(client, as_role, invoice):
    as_role("Support agent")
    response = client.post(
        action_url("invoice", invoice.pk, "payment"),
        {"method": "bank_transfer", "received_on": "2026-01-01", "amount": "150", "reference": "x"},
    )
    assert response.status_code == 403
    assert Payment.objects.count() == 0


# --- trial invoicing, limits --------------------------------------------------------------------


def test_support_enables_invoicing_during_trial_with_an_expiry(client, as_role, catalogue):
    trial = AccountFactory(trial=True)
    as_role("Support agent")
    expires = (timezone.now() + timedelta(days=14)).strftime("%Y-%m-%d %H:%M")
    response = client.post(
        action_url("account", trial.pk, "trial-invoicing"),
        {"enabled": "on", "expires_at": expires, "reason": "Pilot customer"},
    )
    assert response.status_code == 302
    trial.refresh_from_db()
    assert trial.invoicing_during_trial_enabled
    assert trial.invoicing_during_trial_expires_at is not None
    event = AuditEvent.objects.get(action="account.options_changed")
    assert event.reason == "Pilot customer"
    assert event.old_values["invoicing_during_trial_enabled"] is False


def test_the_trial_switch_needs_a_reason_and_a_future_expiry(client, as_role, catalogue):
    trial = AccountFactory(trial=True)
    as_role("Support agent")
    response = client.post(
        action_url("account", trial.pk, "trial-invoicing"),
        {"enabled": "on", "expires_at": "2020-01-01 10:00", "reason": ""},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "This field is required." in body
    trial.refresh_from_db()
    assert not trial.invoicing_during_trial_enabled


def test_finance_cannot_switch_trial_invoicing_and_support_cannot_change_limits(
    client, as_role, catalogue, account
):
    trial = AccountFactory(trial=True)
    as_role("Finance")
    assert (
        client.post(
            action_url("account", trial.pk, "trial-invoicing"), {"enabled": "on", "reason": "x"}
        ).status_code
        == 403
    )
    as_role("Support agent")
    assert (
        client.post(
            action_url("account", account.pk, "limit"), {"limit": "9", "reason": "x"}
        ).status_code
        == 403
    )
    account.refresh_from_db()
    assert account.unpaid_invoice_limit is None


def test_finance_raises_the_limit_and_the_customer_can_invoice_again(client, as_role, account):
    for _ in range(3):
        buy_credits_by_invoice(account, 100)
    as_role("Finance")
    response = client.post(
        action_url("account", account.pk, "limit"), {"limit": "5", "reason": "Large customer"}
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.unpaid_invoice_limit == 5
    buy_credits_by_invoice(account, 100)  # the 4th unpaid invoice is now allowed
    assert Invoice.objects.filter(account=account, status="issued").count() == 4


# --- resend, archive, account page ------------------------------------------------------------


def test_support_resends_an_invoice_email(client, as_role, invoice):
    as_role("Support agent")
    response = client.post(action_url("invoice", invoice.pk, "resend"), {})
    assert response.status_code == 302
    assert EmailMessage.objects.filter(kind=EmailMessage.Kind.RESEND).count() == 1
    for _ in range(6):  # staff have no hourly limit
        client.post(action_url("invoice", invoice.pk, "resend"), {})
    assert EmailMessage.objects.filter(kind=EmailMessage.Kind.RESEND).count() == 7


def test_any_stored_document_can_be_resent_and_downloaded_as_stored(client, as_role, invoice):
    as_role("Support agent")
    document = invoice_document_ready(invoice=invoice)
    response = client.post(action_url("document", document.pk, "resend"), {})
    assert response.status_code == 302
    pdf = client.get(reverse("admin:documents_document_pdf", args=[document.pk]))
    from remit.documents.services.archive import document_open

    assert b"".join(pdf.streaming_content) == document_open(document)


def test_the_archive_check_runs_for_administrators_only(client, as_role, invoice):
    invoice_document_ready(invoice=invoice)
    url = reverse("admin:documents_document_verify")
    as_role("Support agent")
    assert client.post(url).status_code == 403
    as_role("Administrator")
    response = client.post(url)
    assert response.status_code == 200
    assert "Intact:" in response.content.decode()


def test_the_account_page_has_everything_and_search_finds_it(client, as_role, invoice, account):
    member = MembershipFactory(account=account).user
    as_role("Support agent")
    page = client.get(reverse("admin:billing_account_change", args=[account.pk])).content.decode()
    for text in (member.email, invoice.number, "150 pending", "Order created"):
        assert text in page, text
    for term in (member.email, invoice.number, account.name):
        found = client.get(reverse("admin:billing_account_changelist"), {"q": term})
        assert account.name in found.content.decode(), term


def test_a_customer_cannot_reach_the_back_office(client, account, invoice):
    client.force_login(MembershipFactory(account=account).user)
    response = client.post(
        action_url("invoice", invoice.pk, "void"), {"reason_code": "duplicate", "reason": "x"}
    )
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    assert Account.objects.get(pk=account.pk)
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.ISSUED


def test_staff_sign_in_is_throttled_like_customers(client, settings):
    from tests.factories import UserFactory

    settings.REMIT_LOGIN_ATTEMPTS = 3
    staff = UserFactory(is_staff=True)
    url = reverse("admin:login")
    for _ in range(3):
        client.post(url, {"username": staff.username, "password": "wrong"})
    response = client.post(
        url, {"username": staff.username, "password": "correct horse battery staple"}
    )
    assert "Too many failed attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    ("model", "name", "data"),
    [
        ("invoice", "void", {"reason_code": "duplicate", "reason": "x"}),
        ("invoice", "reissue", {"credits": "300", "reason": "x"}),
        ("invoice", "payment", {"method": "bank_transfer", "amount": "150", "reference": "x"}),
        ("invoice", "resend", {}),
        ("account", "limit", {"limit": "9", "reason": "x"}),
    ],
)
def test_staff_without_a_role_can_do_nothing(client, as_role, invoice, model, name, data):
    as_role(None)
    pk = invoice.pk if model == "invoice" else invoice.account_id
    before = table_counts()
    assert client.post(action_url(model, pk, name), data).status_code == 403
    assert table_counts() == before
    assert EmailMessage.objects.filter(kind=EmailMessage.Kind.RESEND).count() == 0


def test_the_account_page_lists_the_accounts_emails(client, as_role, invoice, account):
    as_role("Support agent")
    page = client.get(reverse("admin:billing_account_change", args=[account.pk])).content.decode()
    assert "Emails (latest 20)" in page
    assert "Invoice issued" in page


def test_an_administrator_creates_an_api_key_shown_once_and_revokes_it(client, as_role):
    import re

    from remit.integrations.models import ApiKey
    from tests.api.conftest import ApiClient

    as_role("Support agent")
    assert client.get(reverse("admin:integrations_apikey_add")).status_code == 403
    as_role("Administrator")
    form = client.get(reverse("admin:integrations_apikey_add")).content.decode()
    assert "Create API key" in form
    assert "The key is shown once, on the next page" in form
    response = client.post(
        reverse("admin:integrations_apikey_add"), {"name": "backend", "scopes": ["read"]}
    )
    assert response.status_code == 200
    token = re.search(r'id="api-key">([^<]+)<', response.content.decode()).group(1)
    api_key = ApiKey.objects.get()
    assert token.startswith(f"rk_{api_key.prefix}_")
    assert token not in api_key.secret_sha256
    assert ApiClient(token).get("/accounts").status_code == 200
    page = client.get(reverse("admin:integrations_apikey_change", args=[api_key.pk]))
    assert token not in page.content.decode()
    revoke = client.post(
        reverse("admin:integrations_apikey_support", args=[api_key.pk, "revoke"]), {}
    )
    assert revoke.status_code == 302
    assert ApiClient(token).get("/accounts").status_code == 401
    bad = client.post(reverse("admin:integrations_apikey_add"), {"name": "", "scopes": []})
    assert bad.status_code == 400
    assert ApiKey.objects.count() == 1


def test_an_administrator_sees_the_webhook_log_and_sends_a_delivery_again(
    client, as_role, account, settings
):
    settings.REMIT_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    from remit.integrations.models import WebhookDelivery
    from remit.integrations.services.webhooks import webhook_endpoint_create

    webhook_endpoint_create(url="http://127.0.0.1:9/hooks", event_types=["invoice.issued"])
    buy_credits_by_invoice(account, 100)
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="failed", attempts=10)
    url = reverse("admin:integrations_webhookdelivery_support", args=[delivery.pk, "redeliver"])
    as_role("Finance")
    assert client.post(url, {}).status_code == 403
    as_role("Administrator")
    page = client.get(reverse("admin:integrations_webhookdelivery_changelist"))
    assert "invoice.issued" in page.content.decode()
    assert client.post(url, {}).status_code == 302
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 0)


def test_the_account_page_reads_a_fixed_number_of_queries_and_the_latest_audit_events(
    client, as_role, account
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from remit.billing.services.invoices import invoice_void
    from tests.billing.helpers import ACTOR, pay_invoice

    account.unpaid_invoice_limit = 50
    account.save(update_fields=["unpaid_invoice_limit"])
    as_role("Support agent")
    url = reverse("admin:billing_account_change", args=[account.pk])

    def grow(count: int) -> None:
        """Members, credit notes and payments: the rows whose columns show a related row."""
        for _ in range(count):
            MembershipFactory(account=account)
            invoice_void(
                invoice=buy_credits_by_invoice(account, 150),
                actor=ACTOR,
                reason_code="duplicate",
                reason="x",
            )
            pay_invoice(buy_credits_by_invoice(account, 150))

    grow(1)
    client.get(url)  # the first request also fills per-process caches
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    grow(4)
    with CaptureQueriesContext(connection) as many:
        page = client.get(url).content.decode()

    assert len(many.captured_queries) == len(few.captured_queries)
    # The audit trail shows the latest 20 events and links to all of them.
    assert AuditEvent.objects.filter(account=account).count() > 20
    assert "Audit trail (latest 20)" in page
    assert page.count("invoice.voided") + page.count("payment.recorded") <= 20
    everything = (
        reverse("admin:billing_auditevent_changelist") + f"?account__id__exact={account.pk}"
    )
    listed = client.get(everything)
    assert listed.status_code == 200
    assert f"{AuditEvent.objects.filter(account=account).count()} audit events" in (
        listed.content.decode()
    )


def test_the_credit_note_and_payment_lists_show_amounts_with_their_currency(
    client, as_role, invoice
):
    from remit.billing.services.invoices import invoice_void
    from tests.billing.helpers import ACTOR, pay_invoice

    pay_invoice(invoice)
    invoice_void(
        invoice=buy_credits_by_invoice(invoice.account, 200),
        actor=ACTOR,
        reason_code="duplicate",
        reason="x",
    )
    as_role("Finance")
    payments = client.get(reverse("admin:billing_payment_changelist")).content.decode()
    credit_notes = client.get(reverse("admin:billing_creditnote_changelist")).content.decode()
    assert "$150.00" in payments
    assert "$200.00" in credit_notes
