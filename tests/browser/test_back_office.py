"""The back office in a real browser (issue 5): finance signs in, voids an invoice with a credit
note and records a bank transfer for another; the customer's User Center shows both results."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import Page, expect

from remit.billing.models import CreditNote, Invoice, Payment
from remit.billing.selectors.credits import credit_balance
from remit.documents.models import EmailMessage
from tests.billing.helpers import buy_credits_by_invoice
from tests.browser.conftest import PASSWORD, sign_in_cookie
from tests.factories import AccountFactory, BillingProfileFactory, UserFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def finance(role_groups):  # type: ignore[no-untyped-def]
    user = UserFactory(username="finance@example.com", is_staff=True)
    user.groups.add(Group.objects.get(name="Finance"))
    return user


def staff_sign_in(page: Page, url, shots, user) -> None:  # type: ignore[no-untyped-def]
    page.goto(url("/admin/"))
    page.get_by_label("Email").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    shots(page, "staff-sign-in")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#site-name")).to_contain_text("Remit back office")


def open_invoice(page: Page, url, shots, invoice: Invoice) -> None:  # type: ignore[no-untyped-def]
    page.goto(url("/admin/billing/account/"))
    page.locator("#searchbar").fill(invoice.number)
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=invoice.account.name).click()
    shots(page, "account-page")
    page.locator("#invoices-group").get_by_role("link", name=invoice.number).click()
    expect(page.locator("#content")).to_contain_text(invoice.number)


def test_finance_voids_an_invoice_with_a_credit_note_and_the_customer_sees_it(
    page: Page, url, shots, catalogue, finance, member, context, live_server
):
    account = AccountFactory(name="Globex Corporation")
    BillingProfileFactory(account=account)
    invoice = buy_credits_by_invoice(account, credits=250)

    staff_sign_in(page, url, shots, finance)
    open_invoice(page, url, shots, invoice)
    shots(page, "invoice-page")
    page.get_by_role("link", name="Void invoice").click()
    page.get_by_label("Reason code:").select_option("duplicate")
    page.get_by_label("Reason:", exact=True).fill(
        "Ordered twice; the customer keeps INV of the first order."
    )
    shots(page, "void-form")
    page.get_by_role("button", name="Void invoice").click()

    credit_note = CreditNote.objects.get(invoice=invoice)
    expect(page.locator(".messagelist")).to_contain_text(
        f"Invoice {invoice.number} voided; credit note {credit_note.number} issued and emailed."
    )
    shots(page, "invoice-voided")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.VOID
    assert EmailMessage.objects.filter(document__credit_note=credit_note).exists()
    # No more void button on a void invoice.
    expect(page.get_by_role("link", name="Void invoice")).to_have_count(0)

    sign_in_cookie(context, live_server.url, member(account))
    page.goto(url("/orders/"))
    row = page.locator(f"#order-{invoice.order_id}")
    expect(row).to_contain_text("Void")
    shots(page, "customer-sees-void")


def test_finance_records_a_bank_transfer_and_the_customer_sees_it_paid(
    page: Page, url, shots, catalogue, finance, member, context, live_server
):
    account = AccountFactory(name="Initech GmbH")
    BillingProfileFactory(account=account)
    invoice = buy_credits_by_invoice(account, credits=400)

    staff_sign_in(page, url, shots, finance)
    open_invoice(page, url, shots, invoice)
    page.get_by_role("link", name="Record payment").click()
    expect(page.get_by_label("Amount:")).to_have_value("400.00")

    # A partial payment is refused with the reason; nothing is recorded.
    page.get_by_label("Amount:").fill("300.00")
    page.get_by_label("Reference:").fill("SEPA-2026-11-000417")
    page.get_by_role("button", name="Record payment").click()
    expect(page.locator(".errornote")).to_be_visible()
    shots(page, "partial-payment-refused")
    assert Payment.objects.count() == 0

    page.get_by_label("Amount:").fill("400.00")
    page.get_by_role("button", name="Record payment").click()
    expect(page.locator(".messagelist")).to_contain_text(
        f"Payment recorded: invoice {invoice.number} is paid"
    )
    shots(page, "payment-recorded")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert Payment.objects.get().provider_reference == "SEPA-2026-11-000417"
    assert credit_balance(account=account).balance == 400

    sign_in_cookie(context, live_server.url, member(account))
    page.goto(url("/orders/"))
    expect(page.locator(f"#order-{invoice.order_id}")).to_contain_text("Paid")
    expect(page.locator(".credits-line")).to_contain_text("400")
    shots(page, "customer-sees-paid")
