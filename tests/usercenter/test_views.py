"""User Center views: sign-in (UC1), Orders & Invoices (UC2, UC6), the Invoice button, the
billing-information gate (UC3), downloads of stored PDFs (UC4), scoping and security headers."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from remit.billing.models import BillingProfile, Invoice
from remit.documents.models import Document
from remit.documents.services.archive import document_open
from tests.billing.helpers import (
    buy_credits_by_card,
    buy_credits_by_invoice,
    pay_card_order,
    record_platform_order,
)
from tests.factories import AccountFactory, BillingProfileFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


# --- UC1 sign in ------------------------------------------------------------------------------


def test_signing_in_with_email_and_password_opens_orders(client, customer):
    response = client.post(
        reverse("usercenter:login"), {"username": customer.email, "password": PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("usercenter:orders")


def test_a_wrong_password_is_refused_with_a_clear_message(client, customer):
    response = client.post(
        reverse("usercenter:login"), {"username": customer.email, "password": "nope"}
    )

    assert response.status_code == 200
    assert "That email and password do not match an account." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_repeated_failures_pause_sign_in_even_with_the_right_password(client, customer, settings):
    settings.REMIT_LOGIN_ATTEMPTS = 3
    for _ in range(3):
        client.post(reverse("usercenter:login"), {"username": customer.email, "password": "x"})

    response = client.post(
        reverse("usercenter:login"), {"username": customer.email, "password": PASSWORD}
    )

    assert "Too many failed attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_password_reset_mails_a_single_use_link_that_sets_a_new_password(client, customer):
    client.post(reverse("usercenter:password_reset"), {"email": customer.email})

    [message] = mail.outbox
    link = re.search(r"http://testserver(/password-reset/\S+/)", message.body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a new long passphrase", "new_password2": "a new long passphrase"},
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.check_password("a new long passphrase")
    assert "expired" in client.get(link, follow=True).content.decode()


def test_the_password_reset_link_starts_with_the_public_url_not_the_host_header(
    client, customer, settings
):
    """Behind a proxy, or with a forged Host header, the link still leads to Remit."""
    settings.REMIT_PUBLIC_URL = "https://billing.example.com/"
    settings.ALLOWED_HOSTS = ["attacker.example"]
    client.post(
        reverse("usercenter:password_reset"),
        {"email": customer.email},
        HTTP_HOST="attacker.example",
    )

    [message] = mail.outbox
    assert "attacker.example" not in message.body
    assert re.search(r"https://billing\.example\.com/password-reset/\S+/\S+/", message.body)


def test_sign_out_is_a_post(signed_in):
    assert signed_in.get(reverse("usercenter:logout")).status_code == 405
    signed_in.post(reverse("usercenter:logout"))
    assert "_auth_user_id" not in signed_in.session


def test_pages_need_a_signed_in_member(client, customer):
    assert client.get(reverse("usercenter:orders"))["Location"].startswith("/sign-in/")
    client.force_login(UserFactory())
    assert client.get(reverse("usercenter:orders")).status_code == 403


# --- UC2 / UC6 Orders & Invoices ---------------------------------------------------------------


def test_orders_are_listed_newest_first_without_free_trial_orders(signed_in, account):
    first = buy_credits_by_invoice(account, credits=100)
    second = buy_credits_by_invoice(account, credits=200, po_number="PO-42")
    record_platform_order(account, reference="trial", is_free_trial=True)

    page = signed_in.get(reverse("usercenter:orders")).content.decode()

    assert page.index(second.number) < page.index(first.number)
    assert "10 credits" not in page
    assert "$200.00" in page
    assert "PO-42" in page
    assert "free trial are invoiced by our payment provider" in page


def test_a_platform_order_shows_its_payment_day_in_the_accounts_time_zone(signed_in, account):
    # Given a Berlin account whose Stripe payment at 00:30 local time on 1 March (23:30 UTC on
    # 28 February) is recorded on 2 March
    account.time_zone = "Europe/Berlin"
    account.save(update_fields=["time_zone"])
    with time_machine.travel("2026-03-02 09:00Z", tick=False):
        order = record_platform_order(
            account, reference="late", received_at=datetime(2026, 2, 28, 23, 30, tzinfo=UTC)
        )

    # When the customer opens Orders & Invoices
    response = signed_in.get(reverse("usercenter:orders"))

    # Then the row is dated 1 March (Berlin), not 28 February (UTC) nor 2 March (recorded)
    page = response.content.decode()
    row = re.search(rf'<tr id="order-{order.pk}">\s*<td[^>]*>([^<]*)</td>', page)
    assert row is not None
    assert row.group(1) == "2026-03-01"


def test_orders_filter_by_status_and_search_and_paginate(signed_in, account, settings):
    settings.REMIT_UNPAID_INVOICE_LIMIT = 100
    invoices = [buy_credits_by_invoice(account, credits=100 + i) for i in range(23)]

    page_two = signed_in.get(reverse("usercenter:orders"), {"page": 2}).content.decode()
    searched = signed_in.get(reverse("usercenter:orders"), {"q": invoices[5].number})
    paid = signed_in.get(reverse("usercenter:orders"), {"status": "paid"}).content.decode()

    assert "Page 2 of 2" in page_two
    assert invoices[0].number in page_two
    assert [o.invoice.number for o in searched.context["page"].object_list] == [invoices[5].number]
    assert "No orders match." in paid


def test_bad_filter_values_are_ignored_not_errors(signed_in, account):
    response = signed_in.get(
        reverse("usercenter:orders"), {"status": "<script>", "year": "abc", "page": "999"}
    )
    assert response.status_code == 200
    assert "<script>" not in response.content.decode().split("<body>")[1].replace(
        '<script src="', ""
    )


def test_another_accounts_orders_are_not_shown(signed_in, catalogue):
    other = AccountFactory()
    BillingProfileFactory(account=other)
    foreign = buy_credits_by_invoice(other)

    assert foreign.number not in signed_in.get(reverse("usercenter:orders")).content.decode()


# --- UC3 the Invoice button and the gate ---------------------------------------------------


@pytest.fixture
def card_order_without_profile(catalogue):
    account = AccountFactory()
    user = MembershipFactory(account=account).user
    order = buy_credits_by_card(account, credits=120)
    pay_card_order(order)
    return account, user, order


def test_the_gate_opens_when_the_account_has_no_billing_information(
    client, card_order_without_profile
):
    _, user, order = card_order_without_profile
    client.force_login(user)

    page = client.get(reverse("usercenter:order_invoice", args=[order.pk])).content.decode()

    assert "data-undismissable" in page
    assert f'method="post" action="/orders/{order.pk}/invoice/"' in page
    assert "close" not in page.split('id="billing-gate"')[1].split("</dialog>")[0].lower()
    assert not Invoice.objects.filter(order=order).exists()


def test_an_invalid_gate_form_is_refused_with_field_errors_and_nothing_saved(
    client, card_order_without_profile
):
    account, user, order = card_order_without_profile
    client.force_login(user)

    response = client.post(
        reverse("usercenter:order_invoice", args=[order.pk]),
        {"legal_name": "", "address_line1": "1 Road", "city": "Berlin", "postal_code": "10115",
         "country": "DE", "tax_id": "DE000000000"},
    )  # fmt: skip

    assert response.status_code == 400
    assert set(response.context["gate_form"].errors) == {"legal_name", "tax_id"}
    assert not BillingProfile.objects.filter(account=account).exists()
    assert not Invoice.objects.filter(order=order).exists()


def test_passing_the_gate_issues_the_invoice_and_offers_the_stored_pdf(
    client, card_order_without_profile
):
    account, user, order = card_order_without_profile
    client.force_login(user)

    response = client.post(
        reverse("usercenter:order_invoice", args=[order.pk]),
        {"legal_name": "Müller GmbH", "address_line1": "Am Markt 3", "city": "Köln",
         "postal_code": "50667", "country": "DE", "tax_id": "DE136695976",
         "invoice_recipient_emails": "ap@mueller.example, cfo@mueller.example"},
    )  # fmt: skip

    invoice = Invoice.objects.get(order=order)
    document = Document.objects.get(invoice=invoice)
    assert response.status_code == 302
    assert response["Location"] == f"/orders/?ready={document.pk}"
    assert invoice.status == Invoice.Status.PAID
    assert BillingProfile.objects.get(account=account).invoice_recipient_emails == [
        "ap@mueller.example",
        "cfo@mueller.example",
    ]
    landing = client.get(response["Location"]).content.decode()
    assert f"/documents/{document.pk}.pdf" in landing
    assert "data-auto-download" in landing
    download = client.get(reverse("usercenter:document_pdf", args=[document.pk]))
    assert b"".join(download.streaming_content) == document_open(document)
    assert download["Content-Disposition"] == f'attachment; filename="{invoice.number}.pdf"'
    # Asked once: the next click goes straight to the PDF.
    again = client.get(reverse("usercenter:order_invoice", args=[order.pk]))
    assert again["Location"] == f"/orders/?ready={document.pk}"


def test_the_invoice_button_of_an_unpaid_card_order_explains_itself(signed_in, account):
    order = buy_credits_by_card(account)

    response = signed_in.get(reverse("usercenter:order_invoice", args=[order.pk]), follow=True)

    assert "has not been paid" in response.content.decode()


def test_orders_documents_and_prints_of_other_accounts_are_not_found(signed_in, catalogue):
    other = AccountFactory()
    BillingProfileFactory(account=other)
    invoice = buy_credits_by_invoice(other)
    document = Document.objects.get(invoice=invoice)

    assert (
        signed_in.get(reverse("usercenter:order_invoice", args=[invoice.order_id])).status_code
        == 404
    )
    assert signed_in.get(reverse("usercenter:document_pdf", args=[document.pk])).status_code == 404
    assert signed_in.get(reverse("usercenter:invoice_print", args=[invoice.pk])).status_code == 404


def test_the_print_view_shows_the_invoice_with_user_text_escaped(signed_in, account):
    invoice = buy_credits_by_invoice(account, notes="<script>alert(1)</script>")

    page = signed_in.get(reverse("usercenter:invoice_print", args=[invoice.pk])).content.decode()

    assert invoice.number in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert" not in page


def test_pages_carry_a_content_security_policy_without_inline_scripts(signed_in, account):
    buy_credits_by_invoice(account)
    response = signed_in.get(reverse("usercenter:orders"))

    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert re.findall(r"<script(?![^>]*\bsrc=)", response.content.decode()) == []


def test_signed_in_pages_and_api_answers_are_never_cached(client, customer, account):
    """Regression (issue 13 item 10)."""
    from remit.billing.actors import Actor
    from remit.integrations.services.api_keys import api_key_create

    token = api_key_create(name="b", scopes=["read"], actor=Actor.system()).token
    for response in (
        client.get("/api/v1/accounts", HTTP_AUTHORIZATION=f"Bearer {token}"),
        client.get("/api/v1/accounts"),  # 401 too
    ):
        assert "no-store" in response["Cache-Control"]
        assert "private" in response["Cache-Control"]
    client.force_login(customer)
    for name in ("usercenter:orders", "usercenter:buy", "usercenter:settings_billing"):
        response = client.get(reverse(name))
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"], name
