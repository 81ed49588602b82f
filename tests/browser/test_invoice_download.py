"""Seed page "How to Download Your Invoice" in a real browser (UC1–UC4): sign in, Orders &
Invoices, the *Invoice* button, the billing-information dialog that cannot be skipped, the PDF
that downloads by itself (the archived bytes) and the print view."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from remit.billing.models import BillingProfile, Invoice
from tests.billing.helpers import buy_credits_by_card, pay_card_order
from tests.browser.conftest import PASSWORD, sign_in_cookie, stored_invoice_pdf
from tests.factories import AccountFactory

pytestmark = pytest.mark.browser

GATE_FIELDS = [
    "id_legal_name",
    "id_address_line1",
    "id_address_line2",
    "id_city",
    "id_postal_code",
    "id_region",
    "id_country",
    "id_tax_id",
    "id_invoice_recipient_emails",
]


@pytest.fixture
def paid_card_order(catalogue, member):  # type: ignore[no-untyped-def]
    """A card purchase, paid, of an account that has never given billing information."""
    account = AccountFactory(name="Müller & Söhne")
    user = member(account)
    order = buy_credits_by_card(account, credits=120)
    pay_card_order(order)
    return account, user, order


def expect_gate_modal(page: Page) -> None:
    """The dialog is open and modal, now or within a moment: Chromium closes a dialog on a
    second Escape even when "cancel" is prevented, and the page re-opens it on "close"."""
    page.wait_for_function(
        "() => document.querySelector('dialog#billing-gate')?.matches(':modal')", timeout=2_000
    )


def invalid_fields(page: Page) -> set[str]:
    return set(
        page.locator("#billing-gate .field.invalid :is(input, select)").evaluate_all(
            "(inputs) => inputs.map((input) => input.id)"
        )
    )


def test_a_customer_signs_in_passes_the_billing_gate_and_gets_the_stored_pdf(
    page: Page, url, shots, paid_card_order
):
    account, user, order = paid_card_order

    # 1. Log in to the User Center.
    page.goto(url("/sign-in/"))
    shots(page, "sign-in")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    # 2. Orders & Invoices lists the paid card order, without an invoice yet.
    expect(page).to_have_url(url("/orders/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Orders & Invoices")
    row = page.locator(f"#order-{order.pk}")
    expect(row).to_contain_text("120 credits")
    expect(row).to_contain_text("$120.00")
    expect(row.locator(".badge")).to_have_text("Paid")
    shots(page, "orders")

    # 3. Invoice → the billing-information dialog, modal, with nothing to close it.
    row.get_by_role("link", name="Invoice").click()
    expect(page).to_have_url(url(f"/orders/{order.pk}/invoice/"))
    gate = page.locator("dialog#billing-gate")
    expect(gate).to_be_visible()
    expect(gate.get_by_role("heading", name="Billing information")).to_be_visible()
    expect_gate_modal(page)
    # Its only buttons: a preview of the invoice, and saving (nothing closes it).
    assert gate.get_by_role("button").all_inner_texts() == [
        "Preview PDF",
        "Save and get the invoice",
    ]
    shots(page, "gate-open")

    # It cannot be dismissed: Escape (twice: Chromium closes a dialog on the second Escape even
    # when "cancel" is prevented), a click on the backdrop, a click on a link behind it.
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    page.wait_for_timeout(200)  # let a "close" happen if it is going to
    expect_gate_modal(page)
    page.mouse.click(5, 450)
    expect_gate_modal(page)
    behind = page.locator("header nav a", has_text="Buy").bounding_box()
    assert behind is not None
    page.mouse.click(behind["x"] + behind["width"] / 2, behind["y"] + behind["height"] / 2)
    expect_gate_modal(page)
    expect(page).to_have_url(url(f"/orders/{order.pk}/invoice/"))
    shots(page, "gate-after-escape-and-outside-clicks")

    # Opening the invoice address directly shows the dialog again.
    page.goto(url(f"/orders/{order.pk}/invoice/"))
    expect_gate_modal(page)
    assert not Invoice.objects.filter(order=order).exists()

    # 4. Submitting it empty: the required fields say what is missing; nothing is saved.
    gate.get_by_role("button", name="Save and get the invoice").click()
    expect(gate.locator(".field.invalid").first).to_be_visible()
    expect_gate_modal(page)
    assert invalid_fields(page) == {
        "id_legal_name",
        "id_address_line1",
        "id_city",
        "id_postal_code",
        "id_country",
    }
    expect(gate.locator(".field.invalid .error").first).to_have_text("This field is required.")
    assert not BillingProfile.objects.filter(account=account).exists()
    assert not Invoice.objects.filter(order=order).exists()
    shots(page, "gate-required-fields")

    # Filled in: the invoice is issued and its PDF downloads by itself.
    gate.get_by_label("Legal name").fill("Müller & Söhne GmbH")
    gate.get_by_label(re.compile(r"^Address\W*$")).fill("Am Markt 3")
    gate.get_by_label("City").fill("Köln")
    gate.get_by_label("Postal code").fill("50667")
    gate.get_by_label("Country").select_option("DE")
    gate.get_by_label("Tax / VAT ID").fill("DE136695976")
    gate.get_by_label("Send invoices to").fill("ap@mueller.example")
    shots(page, "gate-filled")
    with page.expect_download() as download_info:
        gate.get_by_role("button", name="Save and get the invoice").click()
    download = download_info.value

    invoice = Invoice.objects.get(order=order)
    name, stored = stored_invoice_pdf(invoice)
    assert re.fullmatch(r"INV-\d{4}-\d{6}\.pdf", download.suggested_filename)
    assert download.suggested_filename == name == f"{invoice.number}.pdf"
    assert Path(download.path()).read_bytes() == stored
    assert stored.startswith(b"%PDF-")
    assert BillingProfile.objects.get(account=account).legal_name == "Müller & Söhne GmbH"

    expect(page.locator(".ready")).to_contain_text(f"Your invoice {invoice.number} is ready.")
    expect(page.locator("dialog#billing-gate")).to_have_count(0)
    row = page.locator(f"#order-{order.pk}")
    expect(row).to_contain_text(invoice.number)
    shots(page, "invoice-ready")

    # Asked once: the Invoice button now opens the invoice, whose PDF is the same stored file.
    row.get_by_role("link", name="Invoice").click()
    expect(page).to_have_url(url(f"/invoices/{invoice.pk}/"))
    expect(page.locator("dialog#billing-gate")).to_have_count(0)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Invoice {invoice.number}")
    shots(page, "invoice-page")
    with page.expect_download() as again_info:
        page.get_by_role("link", name="Download PDF", exact=True).click()
    assert Path(again_info.value.path()).read_bytes() == stored

    # 5. The print view (Print → Save as PDF).
    page.get_by_role("link", name="Print", exact=True).click()
    expect(page).to_have_url(url(f"/invoices/{invoice.pk}/print/"))
    sheet = page.get_by_role("main").locator("article.sheet")
    expect(sheet).to_contain_text(invoice.number)
    expect(sheet.locator(".buyer")).to_contain_text("Müller & Söhne GmbH")
    expect(sheet.locator(".buyer")).to_contain_text("Köln")
    expect(sheet).to_contain_text("$120.00")
    expect(page.get_by_role("link", name="Download PDF")).to_have_attribute(
        "href", re.compile(r"^/documents/\d+\.pdf$")
    )
    shots(page, "print-view")


def _focused(page: Page) -> dict:
    return page.evaluate(
        """() => {
            const element = document.activeElement;
            const box = element.getBoundingClientRect();
            return {
                id: element.id || element.tagName.toLowerCase(),
                text: element.textContent.trim(),
                inDialog: !!element.closest("dialog#billing-gate"),
                top: Math.round(box.top), left: Math.round(box.left),
            };
        }"""
    )


def test_the_billing_gate_keeps_keyboard_focus_inside_in_visual_order(
    page: Page, url, shots, paid_card_order, context, live_server
):
    _, user, order = paid_card_order
    sign_in_cookie(context, live_server.url, user)
    page.goto(url(f"/orders/{order.pk}/invoice/"))
    expect_gate_modal(page)

    # Opening the dialog puts focus on its first field.
    first = _focused(page)
    assert first["id"] == "id_legal_name"
    shots(page, "gate-focus-first-field")

    visited = [first]
    for _ in range(len(GATE_FIELDS) + 1):
        page.keyboard.press("Tab")
        visited.append(_focused(page))
    assert [stop["id"] for stop in visited] == [*GATE_FIELDS, "button", "button"]
    assert [stop["text"] for stop in visited[-2:]] == ["Preview PDF", "Save and get the invoice"]
    shots(page, "gate-focus-submit")

    # Visual order: each stop is below the previous one, or on the same row to its right.
    for before, after in itertools.pairwise(visited):
        same_row = abs(after["top"] - before["top"]) <= 4
        assert (same_row and after["left"] > before["left"]) or after["top"] > before["top"] + 4, (
            before,
            after,
        )

    # Past the last control and backwards past the first, focus never lands on the page behind.
    for key in ["Tab"] * (len(GATE_FIELDS) + 4) + ["Shift+Tab"] * (2 * len(GATE_FIELDS) + 6):
        page.keyboard.press(key)
        stop = _focused(page)
        assert stop["inDialog"] or stop["id"] == "body", stop
    expect_gate_modal(page)
