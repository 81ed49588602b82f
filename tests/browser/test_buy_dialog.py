"""Seed page "Tips for Troubleshooting Invoice Issues", monthly users, steps 2-4, literally: select
the plan size, click the orange Buy Monthly button, tick Create an Invoice in the dialog's bottom
left corner, fill Billing Address, PO number and Additional Notes on the right, click Create
Invoice. Escape closes the dialog without creating anything, and the live preview shows what the
issued PDF then prints (issue 11)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from remit.billing.models import Invoice
from tests.billing.helpers import table_counts
from tests.browser.conftest import sign_in_cookie, stored_invoice_pdf
from tests.browser.test_buying import download_of, expect_invoice_issued
from tests.documents.helpers_pdf import pdf_text
from tests.factories import AccountFactory, BillingProfileFactory, PurchaseOrderNumberFactory

pytestmark = pytest.mark.browser

PLAN = "Pro 200,000 emails — $149.00 a month"
NOTES = "Project Falcon, cost centre 4711"


@pytest.fixture
def account(catalogue):  # type: ignore[no-untyped-def]
    account = AccountFactory(name="Acme Analytics")
    BillingProfileFactory(account=account, legal_name="Acme Analytics Ltd")
    PurchaseOrderNumberFactory(account=account, value="PO-2026-001", is_default=True)
    PurchaseOrderNumberFactory(account=account, value="PO-2026-002")
    return account


def _words(text: str) -> str:
    return re.sub(r"[\s\u00a0\u202f]+", " ", text).strip()


def buy_monthly(page: Page) -> Locator:
    """Step 2: the plan size, then the orange Buy Monthly button; returns the dialog."""
    plan = page.get_by_role("region", name="Buy a monthly plan")
    plan.get_by_label("Plan size").select_option(label=PLAN)
    plan.get_by_label("6 months").check()
    button = plan.get_by_role("button", name="Buy Monthly")
    assert button.evaluate("(b) => getComputedStyle(b).backgroundColor") == "rgb(194, 65, 12)"
    button.click()
    dialog = page.get_by_role("dialog", name="Confirm your purchase")
    expect(dialog).to_be_visible()
    return dialog


def test_buy_monthly_opens_the_dialog_and_create_invoice_issues_what_the_preview_showed(
    page: Page, url, shots, account, signed_in
):
    signed_in(account)
    page.goto(url("/buy/"))
    dialog = buy_monthly(page)

    # Focus is inside the modal dialog; it shows the summary and the card choice first.
    assert page.evaluate("() => document.activeElement.closest('dialog') !== null")
    summary = dialog.get_by_role("region", name="Order summary")
    expect(summary).to_contain_text("Pro 200,000 emails")
    expect(summary).to_contain_text("6 months · save 5%")
    expect(summary.locator("output")).to_have_text("$849.30")
    expect(dialog.get_by_role("button", name="Pay by card")).to_be_visible()
    expect(dialog.get_by_label("Legal name")).to_be_hidden()
    shots(page, "dialog-card")

    # Step 3: Create an Invoice, bottom left; the right side becomes the invoice's details.
    box = dialog.get_by_label("Create an Invoice")
    dialog_box = dialog.bounding_box()
    box_box = box.bounding_box()
    assert dialog_box
    assert box_box
    assert box_box["x"] < dialog_box["x"] + dialog_box["width"] / 4
    assert box_box["y"] > dialog_box["y"] + dialog_box["height"] * 0.7
    box.check()
    payment = dialog.get_by_role("region", name="Payment")
    expect(payment.get_by_label("Legal name")).to_have_value("Acme Analytics Ltd")
    po = payment.get_by_label("PO number")
    expect(po).to_have_value("PO-2026-001")
    po.fill("PO-2026-002")
    payment.get_by_label("Additional notes").fill(NOTES)
    payment.get_by_label("Legal name").fill("Acme Analytics & Co Ltd")
    submit = dialog.get_by_role("button", name="Create Invoice")
    expect(submit).to_be_visible()

    # The live preview follows what is typed.
    preview = dialog.get_by_role("region", name="Invoice preview")
    sheet = preview.locator("article.sheet")
    expect(sheet).to_contain_text("Acme Analytics & Co Ltd")
    expect(sheet).to_contain_text("PO-2026-002")
    expect(sheet).to_contain_text(NOTES)
    expect(sheet).to_contain_text("PREVIEW")
    expect(sheet).to_contain_text("number assigned when issued")
    shots(page, "dialog-invoice-with-preview")
    preview_text = _words(sheet.inner_text())
    buyer = [_words(line) for line in sheet.locator(".buyer").inner_text().splitlines()[1:]]
    totals = [_words(text) for text in sheet.locator(".totals dd").all_inner_texts()]
    assert totals[-1] == "$849.30"

    # Step 4: Create Invoice issues it; its PDF downloads.
    name, body = download_of(page, submit.click)
    invoice = expect_invoice_issued(page, name, body)
    assert (invoice.po_number, invoice.notes, invoice.total_minor) == ("PO-2026-002", NOTES, 84_930)
    issued = _words(pdf_text(body, layout=False))
    for line in [*buyer, "PO-2026-002", NOTES, *totals]:
        assert line in issued, line
        assert line in preview_text, line
    assert invoice.number in issued
    assert invoice.number not in preview_text
    assert "PREVIEW" not in issued
    assert stored_invoice_pdf(invoice) == (name, body)
    shots(page, "invoice-issued")


def test_escape_closes_the_dialog_and_nothing_is_created(
    page: Page, url, shots, account, signed_in
):
    signed_in(account)
    page.goto(url("/buy/"))
    before = table_counts()
    dialog = buy_monthly(page)
    dialog.get_by_label("Create an Invoice").check()
    dialog.get_by_label("Additional notes").fill("Never sent")

    page.keyboard.press("Escape")

    expect(dialog).to_be_hidden()
    buy = page.get_by_role("button", name="Buy Monthly")
    expect(buy).to_be_focused()
    assert table_counts() == before
    assert Invoice.objects.count() == 0
    shots(page, "after-escape")


def test_a_refused_invoice_reloads_without_resubmitting(page: Page, url, shots, account, signed_in):
    from tests.billing.helpers import buy_credits_by_invoice

    for _ in range(3):
        buy_credits_by_invoice(account, 100)
    signed_in(account)
    page.goto(url("/buy/"))
    dialog = buy_monthly(page)
    dialog.get_by_label("Create an Invoice").check()
    before = table_counts()
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    dialog.get_by_role("button", name="Create Invoice").click()

    problem = page.get_by_role("dialog").locator("section.problem")
    expect(problem).to_contain_text("You have 3 unpaid invoices.")
    expect(problem).to_be_focused()
    shots(page, "refused")
    posts.clear()
    page.reload()
    expect(page.get_by_role("dialog").locator("section.problem")).to_contain_text(
        "You have 3 unpaid invoices."
    )
    assert [post for post in posts if post.endswith("/buy/plan/")] == []
    assert table_counts() == before


def test_without_javascript_buy_monthly_is_a_confirm_step(browser, live_server, account, shots):
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1280, "height": 900}
    )
    try:
        page = context.new_page()
        from tests.factories import MembershipFactory

        sign_in_cookie(context, live_server.url, MembershipFactory(account=account).user)
        page.goto(f"{live_server.url}/buy/")
        page.get_by_label("Plan size").select_option(label=PLAN)
        page.get_by_label("6 months").check()
        page.get_by_role("button", name="Buy Monthly").click()

        dialog = page.get_by_role("dialog", name="Confirm your purchase")
        expect(dialog).to_be_visible()
        expect(dialog.get_by_role("region", name="Order summary")).to_contain_text("$849.30")
        dialog.get_by_label("Create an Invoice").check()
        dialog.get_by_label("Additional notes").fill(NOTES)
        shots(page, "no-js-confirm")
        with page.expect_navigation():
            dialog.get_by_role("button", name="Confirm purchase").click()
        invoice = Invoice.objects.get(account=account)
        assert (invoice.notes, invoice.total_minor) == (NOTES, 84_930)
    finally:
        context.close()


def test_the_dialog_fits_a_phone(phone_page: Page, phone_context, live_server, url, shots, account):
    from tests.factories import MembershipFactory

    sign_in_cookie(phone_context, live_server.url, MembershipFactory(account=account).user)
    page = phone_page
    page.goto(url("/buy/"))
    dialog = buy_monthly(page)
    shots(page, "phone-dialog-card")
    dialog.get_by_label("Create an Invoice").check()
    expect(dialog.locator("article.sheet")).to_contain_text("Acme Analytics Ltd")
    shots(page, "phone-dialog-invoice")
    dialog.get_by_role("region", name="Invoice preview").scroll_into_view_if_needed()
    shots(page, "phone-dialog-preview")
    overflowing = dialog.evaluate(
        """(d) => [...d.querySelectorAll("label, select, input, button, h2, h3")]
            .filter((e) => e.offsetParent
                && e.getBoundingClientRect().right > d.getBoundingClientRect().right + 1)
            .map((e) => e.outerHTML.slice(0, 80))"""
    )
    assert overflowing == []
    assert dialog.evaluate("(d) => d.scrollWidth <= d.clientWidth")
