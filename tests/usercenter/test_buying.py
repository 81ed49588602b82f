"""Buying credits and plans (P1–P6) and paying (P1, P7) in the User Center."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.urls import reverse

from remit.billing.models import CheckoutSession, Invoice, Order, Payment
from remit.billing.selectors.credits import credit_balance
from tests.billing.helpers import buy_credits_by_invoice, table_counts
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def _key(page) -> str:
    return re.search(
        r'name="credits-idempotency_key" value="([^"]+)"', page.content.decode()
    ).group(1)


def _errors(response) -> list[tuple[str, str]]:
    """(field id, message) of every field error on a page, for assertion messages."""
    return re.findall(r'id="id_([^"]+)_error"><p>([^<]*)', response.content.decode())


def _refused(client, response):
    """A refused purchase redirects to the buy page (post/redirect/get) and its GET says why;
    other responses are returned as they are."""
    if response.status_code != 303:
        response.refused = False
        return response
    assert re.fullmatch(
        r"/buy/\?tab=(credits|plan)&state=[\w-]+#(credits|plan)", response["Location"]
    ), response["Location"]
    page = client.get(response["Location"])
    assert page.status_code == 200
    page.refused = True
    return page


def credits_post(client, credits, *, invoice=True, key=None, **extra):
    page = client.get(reverse("usercenter:buy"))
    data = {
        "credits-credits": str(credits),
        "credits-idempotency_key": key or _key(page),
        **extra,
    }
    if invoice:
        data["credits-create_invoice"] = "on"
        data.update(
            {
                "credits-billing-legal_name": "Acme Corp",
                "credits-billing-address_line1": "1 Main St",
                "credits-billing-city": "Springfield",
                "credits-billing-postal_code": "12345",
                "credits-billing-country": "US",
            }
        )
    return _refused(client, client.post(reverse("usercenter:buy_submit", args=["credits"]), data))


def test_the_buy_page_shows_prices_balance_and_both_forms(signed_in):
    page = signed_in.get(reverse("usercenter:buy"))
    body = page.content.decode()
    assert page.status_code == 200
    assert "Buy credits" in body
    assert "Buy a monthly plan" in body
    assert "$1.00 per credit" in body
    assert "Test mode" in body


@pytest.mark.parametrize(
    ("bank", "told"),
    [
        ({}, "To pay later online, tick Create an Invoice."),
        (
            {"bank_iban": "DE89370400440532013000"},
            "To pay later by bank transfer or online, tick Create an Invoice.",
        ),
    ],
    ids=["no-bank-details", "bank-details"],
)
def test_the_dialog_mentions_bank_transfer_only_when_there_are_bank_details(
    signed_in, settings, bank, told
):
    seller = {
        key: value for key, value in settings.REMIT_SELLER.items() if not key.startswith("bank_")
    }
    settings.REMIT_SELLER = {**seller, **bank}

    body = signed_in.get(reverse("usercenter:buy")).content.decode()

    assert body.count(told) == 2  # the credits dialog and the plan dialog
    if not bank:
        assert "bank transfer" not in body


def test_the_plan_form_starts_on_the_shortest_term_that_can_be_invoiced(signed_in):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from remit.billing.models import Term

    def initial_term(html: str) -> str:
        checked = re.findall(
            r'<input type="radio" name="plan-term_months" value="(\d+)"[^>]* checked', html
        )
        assert len(checked) == 1, checked
        return checked[0]

    with CaptureQueriesContext(connection) as queries:
        page = signed_in.get(reverse("usercenter:buy")).content.decode()
    assert initial_term(page) == "3"  # the default catalogue: 1 month is card only
    # The catalogue's terms are read once for the whole page.
    terms = [q for q in queries.captured_queries if 'FROM "billing_term"' in q["sql"]]
    assert len(terms) == 1

    Term.objects.filter(months=3).update(invoice_allowed=False)
    assert initial_term(signed_in.get(reverse("usercenter:buy")).content.decode()) == "6"


def test_credits_by_invoice_below_the_minimum_are_refused_with_the_minimum(signed_in, account):
    before = table_counts()
    response = credits_post(signed_in, 99)
    body = response.content.decode()
    assert response.refused
    assert "needs at least $100.00 of credits" in body
    assert table_counts() == before


def test_credits_by_invoice_at_the_minimum_issue_an_invoice_with_pending_credits(
    signed_in, account
):
    response = credits_post(signed_in, 100)
    assert response.status_code == 302, _errors(response)
    invoice = Invoice.objects.get(account=account)
    assert invoice.total_minor == 10_000
    assert credit_balance(account=account).pending == 100
    page = signed_in.get(response["Location"])
    assert invoice.number in page.content.decode()


def test_a_double_submit_of_one_form_creates_one_invoice(signed_in, account):
    page = signed_in.get(reverse("usercenter:buy"))
    key = _key(page)
    first = credits_post(signed_in, 150, key=key)
    second = credits_post(signed_in, 150, key=key)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Invoice.objects.filter(account=account).count() == 1


def test_a_fresh_form_gets_a_fresh_key_and_places_a_second_order(signed_in, account):
    credits_post(signed_in, 150)
    credits_post(signed_in, 150)
    assert Invoice.objects.filter(account=account).count() == 2


def test_a_missing_or_bad_idempotency_key_is_refused_clearly(signed_in, account):
    response = _refused(
        signed_in,
        signed_in.post(
            reverse("usercenter:buy_submit", args=["credits"]),
            {"credits-credits": "100", "credits-idempotency_key": ""},
        ),
    )
    assert response.refused
    assert "This form expired. Reload the page and try again." in response.content.decode()
    response = credits_post(signed_in, 100, key="x" * 20 + "<>")
    assert response.refused
    assert Order.objects.count() == 0


@pytest.mark.parametrize("value", ["", "abc", "-5", "0", "1.5", "99999999999999"])
def test_bad_credit_amounts_get_a_field_error_and_nothing_is_created(signed_in, value):
    response = credits_post(signed_in, value)
    assert response.refused
    assert 'class="error"' in response.content.decode()
    assert Order.objects.count() == 0


def test_an_invoice_without_a_billing_address_lists_every_missing_field(signed_in):
    page = signed_in.get(reverse("usercenter:buy"))
    response = _refused(
        signed_in,
        signed_in.post(
            reverse("usercenter:buy_submit", args=["credits"]),
            {
                "credits-credits": "200",
                "credits-create_invoice": "on",
                "credits-idempotency_key": _key(page),
                "credits-billing-country": "DE",
                "credits-billing-tax_id": "DE123",
            },
        ),
    )
    body = response.content.decode()
    assert response.refused
    assert body.count("This field is required.") >= 3
    assert "VAT" in body or "tax" in body.lower()
    assert Order.objects.count() == 0


def test_notes_and_po_numbers_over_their_limits_are_refused(signed_in):
    response = credits_post(signed_in, 200, **{"credits-notes": "n" * 2001})
    assert response.refused
    response = credits_post(signed_in, 200, **{"credits-po_number": "p" * 65})
    assert response.refused
    assert Order.objects.count() == 0


def test_user_text_is_escaped_on_the_page_after_an_error(signed_in):
    response = credits_post(signed_in, 99, **{"credits-notes": "<script>alert(1)</script>"})
    body = response.content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_at_the_unpaid_limit_the_page_lists_the_three_invoices_with_pay_buttons(signed_in, account):
    invoices = [buy_credits_by_invoice(account, 100) for _ in range(3)]
    before = table_counts()
    response = credits_post(signed_in, 100)
    body = response.content.decode()
    assert response.refused
    assert 'data-problem="unpaid_invoice_limit_reached"' in body
    for invoice in invoices:
        assert invoice.number in body
        assert reverse("usercenter:invoice_pay", args=[invoice.pk]) in body
    assert "support@" in body
    assert table_counts() == before


def test_a_trial_account_is_told_to_contact_support_then_can_invoice_once_enabled(
    client, catalogue
):
    from remit.billing.actors import Actor
    from remit.billing.services.accounts import account_option_set
    from tests.factories import AccountFactory

    account = AccountFactory(trial=True)
    client.force_login(MembershipFactory(account=account).user)
    response = credits_post(client, 100)
    body = response.content.decode()
    assert response.refused
    assert "Contact support to enable invoicing" in body
    assert Order.objects.count() == 0

    account_option_set(
        account=account,
        actor=Actor.system(),
        invoicing_during_trial_enabled=True,
        reason="Customer asked",
    )
    response = credits_post(client, 100)
    assert response.status_code == 302
    assert Invoice.objects.filter(account=account).count() == 1


def _plan_post(client, *, months, invoice=True, **extra):
    page = client.get(reverse("usercenter:buy"))
    body = page.content.decode()
    key = re.search(r'name="plan-idempotency_key" value="([^"]+)"', body).group(1)
    size = re.search(r'<option value="(\d+)"', body.split('name="plan-plan_size"')[1]).group(1)
    data = {"plan-plan_size": size, "plan-term_months": str(months), "plan-idempotency_key": key}
    if invoice:
        data.update(
            {
                "plan-create_invoice": "on",
                "plan-billing-legal_name": "Acme Corp",
                "plan-billing-address_line1": "1 Main St",
                "plan-billing-city": "Springfield",
                "plan-billing-postal_code": "12345",
                "plan-billing-country": "US",
            }
        )
    data.update(extra)
    return _refused(client, client.post(reverse("usercenter:buy_submit", args=["plan"]), data))


def test_a_six_month_plan_by_invoice_carries_the_po_number_and_notes(signed_in, account):
    response = _plan_post(
        signed_in, months=6, **{"plan-po_number": "PO-778", "plan-notes": "Cost centre 42"}
    )
    assert response.status_code == 302, _errors(response)
    invoice = Invoice.objects.get(account=account)
    assert invoice.po_number == "PO-778"
    assert invoice.notes == "Cost centre 42"
    assert invoice.order.term_months == 6
    # 6 x $49.00 less 5 %
    assert invoice.subtotal_minor == 27_930
    assert account.po_numbers.filter(value="PO-778").exists()


@time_machine.travel("2026-01-31 09:00Z", tick=False)
def test_a_plan_by_invoice_shows_its_size_and_period_and_no_pending_credits(signed_in, account):
    # Given a customer who buys a six-month plan by invoice
    response = _plan_post(signed_in, months=6)
    assert response.status_code == 302, _errors(response)
    invoice = Invoice.objects.get(account=account)

    # When they land on the next page and then open Orders & Invoices
    landed = signed_in.get(response["Location"]).content.decode()
    orders = signed_in.get(reverse("usercenter:orders")).content.decode()

    # Then the message names the plan's size and period, and no credits are pending anywhere
    assert (
        f"Invoice {invoice.number} for Pro 50,000 emails, 6 months (2026-01-31 to 2026-07-30) "
        "was created and emailed."
    ) in landed
    assert "credits are pending" not in landed
    assert "pending until paid" not in orders
    assert "300,000" not in landed + orders
    assert credit_balance(account=account).pending == 0


def test_the_plan_form_prefills_the_billing_address_and_default_po(signed_in, account):
    from tests.factories import PurchaseOrderNumberFactory

    PurchaseOrderNumberFactory(account=account, value="PO-DEFAULT", is_default=True)
    body = signed_in.get(reverse("usercenter:buy")).content.decode()
    assert f'value="{account.billing_profile.legal_name}"' in body
    assert 'value="PO-DEFAULT"' in body
    assert '<option value="PO-DEFAULT">' in body


def test_a_one_month_term_cannot_be_invoiced_and_says_so(signed_in):
    response = _plan_post(signed_in, months=1)
    assert response.refused
    assert "can only be paid by card" in response.content.decode()
    assert Order.objects.count() == 0


def test_a_plan_by_card_goes_to_the_test_checkout(signed_in, account):
    response = _plan_post(signed_in, months=1, invoice=False)
    assert response.status_code == 302
    session = CheckoutSession.objects.get()
    assert response["Location"].endswith(reverse("usercenter:checkout_test", args=[session.token]))
    assert session.order.status == Order.Status.AWAITING_CARD_PAYMENT
    assert session.amount_minor == session.order.total_minor


# --- card purchase through the test-mode checkout -----------------------------------------


def test_credits_by_card_are_paid_on_the_test_page_and_granted_once(signed_in, account):
    response = credits_post(signed_in, 40, invoice=False)
    session = CheckoutSession.objects.get()
    page = signed_in.get(response["Location"])
    assert page.status_code == 200
    assert "TEST MODE" in page.content.decode()

    paid = signed_in.post(page.wsgi_request.path, {"action": "pay"})
    again = signed_in.post(page.wsgi_request.path, {"action": "pay"})
    assert paid.status_code == 302
    assert again.status_code == 302
    done = signed_in.get(paid["Location"])
    assert done.status_code == 302  # the paid invoice is offered for download
    assert Payment.objects.count() == 1
    assert credit_balance(account=account).balance == 40
    session.refresh_from_db()
    assert session.status == CheckoutSession.Status.COMPLETED
    assert Invoice.objects.get(account=account).status == Invoice.Status.PAID


def test_cancelling_the_test_checkout_charges_nothing_and_it_cannot_be_paid_after(
    signed_in, account
):
    response = credits_post(signed_in, 40, invoice=False)
    cancelled = signed_in.post(response["Location"], {"action": "cancel"})
    assert cancelled.status_code == 302
    signed_in.get(cancelled["Location"])
    assert CheckoutSession.objects.get().status == CheckoutSession.Status.CANCELLED
    refused = signed_in.post(response["Location"], {"action": "pay"})
    assert refused.status_code == 302
    assert Payment.objects.count() == 0


def test_the_test_page_does_not_exist_once_a_stripe_key_is_configured(signed_in, account, settings):
    response = credits_post(signed_in, 40, invoice=False)
    settings.REMIT_STRIPE_SECRET_KEY = "sk_test_configured"
    assert signed_in.get(response["Location"]).status_code == 404
    assert signed_in.post(response["Location"], {"action": "pay"}).status_code == 404
    assert Payment.objects.count() == 0


# --- no payment platform (the default): no card payments, no free test page -----------------


def test_without_a_platform_nothing_is_bought_by_card_and_the_dialog_only_invoices(
    signed_in, account, settings
):
    settings.REMIT_PAYMENTS_TEST_MODE = False
    page = signed_in.get(reverse("usercenter:buy")).content.decode()
    assert "Pay by card on the payment platform" not in page
    assert "This purchase is invoiced: pay the invoice by bank transfer." in page
    assert "data-invoice-toggle checked hidden" in page
    assert "card payments have no minimum" not in page
    before = table_counts()

    refused = credits_post(signed_in, 40, invoice=False)  # follows the redirect (PRG)

    body = refused.content.decode()
    assert 'data-problem="card_payments_unavailable"' in body
    assert "Card payments are not available: create an invoice and pay it by bank transfer." in body
    assert table_counts() == before
    assert not CheckoutSession.objects.exists()


def test_without_a_platform_an_invoice_is_paid_by_bank_transfer_only(signed_in, account, settings):
    settings.REMIT_PAYMENTS_TEST_MODE = False
    settings.REMIT_SELLER = {**settings.REMIT_SELLER, "bank_iban": "DE89370400440532013000"}
    invoice = buy_credits_by_invoice(account, 100)
    url = reverse("usercenter:invoice_pay", args=[invoice.pk])
    body = signed_in.get(url).content.decode()
    assert "Pay by bank transfer" in body
    assert "Pay online" not in body

    posted = signed_in.post(url)

    assert posted.status_code == 302
    assert posted["Location"] == url
    assert "Card payments are not available" in signed_in.get(url).content.decode()
    assert not CheckoutSession.objects.exists()
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.ISSUED


def test_the_test_page_of_an_old_checkout_is_gone_once_test_mode_is_off(
    signed_in, account, settings
):
    response = credits_post(signed_in, 40, invoice=False)
    settings.REMIT_PAYMENTS_TEST_MODE = False
    assert signed_in.get(response["Location"]).status_code == 404
    assert signed_in.post(response["Location"], {"action": "pay"}).status_code == 404
    assert Payment.objects.count() == 0


# --- P7 pay an outstanding invoice ----------------------------------------------------------


def test_the_pay_page_shows_bank_transfer_instructions_with_the_invoice_number(
    signed_in, account, settings
):
    settings.REMIT_SELLER = {**settings.REMIT_SELLER, "bank_iban": "DE89370400440532013000"}
    invoice = buy_credits_by_invoice(account, 100)
    body = signed_in.get(reverse("usercenter:invoice_pay", args=[invoice.pk])).content.decode()
    assert "Pay by bank transfer" in body
    assert invoice.number in body
    assert "DE89370400440532013000" in body
    assert "$100.00" in body
    detail = reverse("usercenter:invoice_detail", args=[invoice.pk])
    assert f'<a href="{detail}">Back to the invoice</a>' in body


def test_paying_an_invoice_online_marks_it_paid_and_grants_the_pending_credits(signed_in, account):
    invoice = buy_credits_by_invoice(account, 100)
    start = signed_in.post(reverse("usercenter:invoice_pay", args=[invoice.pk]))
    assert start.status_code == 302
    # A second click reuses the open checkout.
    again = signed_in.post(reverse("usercenter:invoice_pay", args=[invoice.pk]))
    assert again["Location"] == start["Location"]
    signed_in.post(start["Location"], {"action": "pay"})
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert credit_balance(account=account) == type(credit_balance(account=account))(100, 0)
    after = signed_in.post(reverse("usercenter:invoice_pay", args=[invoice.pk]))
    assert after.status_code == 302
    assert after["Location"] == reverse("usercenter:orders")
    assert Payment.objects.count() == 1


def test_another_accounts_invoice_and_checkout_are_not_found(signed_in, catalogue):
    from tests.factories import AccountFactory, BillingProfileFactory

    other = AccountFactory()
    BillingProfileFactory(account=other)
    invoice = buy_credits_by_invoice(other, 100)
    assert signed_in.get(reverse("usercenter:invoice_pay", args=[invoice.pk])).status_code == 404
    assert signed_in.post(reverse("usercenter:invoice_pay", args=[invoice.pk])).status_code == 404
    other_client_session = CheckoutSession.objects.create(
        account=other,
        order=invoice.order,
        invoice=invoice,
        provider="test",
        token="t" * 32,
        provider_reference="test_" + "t" * 32,
        url="http://testserver/x",
        amount_minor=invoice.total_minor,
        currency="USD",
    )
    for name in ("checkout_test", "checkout_return", "checkout_cancel"):
        url = reverse(f"usercenter:{name}", args=[other_client_session.token])
        assert signed_in.get(url).status_code == 404
    assert (
        signed_in.post(
            reverse("usercenter:checkout_test", args=[other_client_session.token]),
            {"action": "pay"},
        ).status_code
        == 404
    )
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.ISSUED
