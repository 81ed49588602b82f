"""Settings › Billing in a real browser (X3): a PO number added or edited with "apply this PO number
to any unpaid invoices" issues new revisions of exactly the unpaid invoices, names them, and the
Orders & Invoices rows and downloads show the new revision."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from remit.billing.models import Invoice, InvoiceRevision, PurchaseOrderNumber
from tests.billing.helpers import buy_credits_by_invoice, pay_invoice
from tests.browser.conftest import nav_link, stored_invoice_pdf
from tests.factories import AccountFactory, BillingProfileFactory, PurchaseOrderNumberFactory

pytestmark = pytest.mark.browser


def test_a_po_number_applied_to_unpaid_invoices_revises_exactly_those(
    page: Page, url, shots, catalogue, signed_in
):
    account = AccountFactory()
    BillingProfileFactory(account=account)
    paid = buy_credits_by_invoice(account, credits=100)
    pay_invoice(paid)
    unpaid = [buy_credits_by_invoice(account, credits=credits) for credits in (200, 300)]
    signed_in(account)

    page.goto(url("/orders/"))
    nav_link(page, "Settings › Billing").click()
    expect(page).to_have_url(url("/settings/billing/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Settings › Billing")
    expect(page.locator(".po-list")).to_have_count(0)
    shots(page, "settings-billing")

    # Add, with the box ticked.
    add = page.locator("form.po-add")
    add.get_by_role("textbox", name="PO number").fill("PO-7781")
    add.get_by_label("Apply this PO number to any unpaid invoices").check()
    shots(page, "po-add-filled")
    add.get_by_role("button", name="Add PO number").click()

    message = page.locator(".messages li")
    expect(message).to_have_text(
        "New revisions with PO number PO-7781 were issued and emailed for: "
        f"{unpaid[0].number}, {unpaid[1].number}."
    )
    expect(message).not_to_contain_text(paid.number)
    expect(page.locator(".po-list input[name=value]")).to_have_value("PO-7781")
    shots(page, "po-added-and-applied")

    for invoice in unpaid:
        invoice.refresh_from_db()
        assert (invoice.revision, invoice.po_number) == (2, "PO-7781")
    paid.refresh_from_db()
    assert (paid.revision, paid.po_number) == (1, "")
    assert InvoiceRevision.objects.filter(invoice__in=unpaid).count() == 4

    nav_link(page, "Orders & Invoices").click()
    for invoice in unpaid:
        expect(page.locator(f"#order-{invoice.order_id}")).to_contain_text("PO PO-7781")
    expect(page.locator(f"#order-{paid.order_id}")).not_to_contain_text("PO ")
    shots(page, "orders-with-po")

    # The Invoice button opens the invoice; its PDF is the new revision, as archived.
    page.locator(f"#order-{unpaid[0].order_id}").get_by_role("link", name="Invoice").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Invoice {unpaid[0].number}")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download PDF", exact=True).click()
    name, stored = stored_invoice_pdf(unpaid[0])
    assert info.value.suggested_filename == name == f"{unpaid[0].number}-r2.pdf"
    assert Path(info.value.path()).read_bytes() == stored

    # Edit it, applying again: a third revision with the new value.
    page.goto(url("/settings/billing/"))
    row = page.locator(".po-list li").first
    row.get_by_role("textbox", name="PO number").fill("PO-7781-A")
    row.get_by_label("Apply to unpaid invoices").check()
    row.get_by_role("button", name="Save").click()
    expect(page.locator(".messages li")).to_have_text(
        "New revisions with PO number PO-7781-A were issued and emailed for: "
        f"{unpaid[0].number}, {unpaid[1].number}."
    )
    assert PurchaseOrderNumber.objects.get(account=account).value == "PO-7781-A"
    assert set(
        Invoice.objects.filter(account=account, po_number="PO-7781-A").values_list("pk", flat=True)
    ) == {invoice.pk for invoice in unpaid}
    shots(page, "po-edited-and-applied")

    page.goto(url("/orders/?q=PO-7781-A"))
    expect(page.locator("table.orders tbody tr")).to_have_count(2)
    shots(page, "orders-searched-by-po")


def test_po_fields_have_distinct_names_and_a_refused_form_takes_the_focus(
    page: Page, url, shots, catalogue, signed_in
):
    account = AccountFactory()
    BillingProfileFactory(account=account, legal_name="Acme Analytics Ltd")
    values = ["PO-2026-001", "PO-2026-002"]
    for value in values:
        PurchaseOrderNumberFactory(account=account, value=value)
    signed_in(account)
    page.goto(url("/settings/billing/"))

    # Adding is a named group; each saved PO number is a form named after it.
    add = page.get_by_role("group", name="Add a PO number")
    expect(add.get_by_role("textbox", name="PO number", exact=True)).to_be_visible()
    expect(page.get_by_role("textbox", name="PO number", exact=True)).to_have_count(1)
    for value in values:
        row = page.get_by_role("form", name=f"PO number {value}", exact=True)
        expect(row.get_by_role("textbox", name=f"PO number for {value}", exact=True)).to_have_value(
            value
        )
        expect(row.get_by_role("checkbox", name=f"Default ({value})", exact=True)).to_be_visible()
        expect(row.get_by_role("button", name=f"Save {value}", exact=True)).to_be_visible()
        expect(row.get_by_role("button", name=f"Remove {value}", exact=True)).to_be_visible()
    shots(page, "po-list")

    # A refused billing-details form: focus goes to its error summary.
    page.get_by_label("Legal name").fill("")
    page.get_by_role("button", name="Save billing details").click()
    summary = page.get_by_role("alert").filter(has_text="Please correct the fields marked below.")
    expect(summary).to_be_focused()
    shots(page, "profile-refused")

    # A refused new PO number (empty): focus goes to the invalid field.
    page.get_by_role("group", name="Add a PO number").get_by_role(
        "button", name="Add PO number"
    ).click()
    field = page.get_by_role("group", name="Add a PO number").get_by_role(
        "textbox", name="PO number", exact=True
    )
    expect(field).to_be_focused()
    expect(field).to_have_attribute("aria-invalid", "true")
    shots(page, "po-add-refused")
