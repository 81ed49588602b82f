"""Help page "Tips for Troubleshooting Invoice Issues", *Making changes to invoices* (X2, UC4), in
a real browser: the customer cannot change an issued invoice and asks the Customer Experience
team, who void it (or change the credit amount: void + replacement); the customer then finds, in
Orders & Invoices, the void row naming its credit note, opens it and downloads the credit note's
stored PDF; the invoice's page lists every document with Download PDF, Print and Email again."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from remit.billing.actors import Actor
from remit.billing.models import ChangeRequest, CreditNote, Invoice
from remit.billing.services.change_requests import change_request_close, change_request_create
from remit.billing.services.invoices import invoice_reissue, invoice_void
from remit.documents.models import Document, EmailMessage
from remit.documents.services.archive import document_open
from tests.billing.helpers import buy_credits_by_invoice, pay_invoice
from tests.browser.conftest import nav_link, sign_in_cookie, stored_invoice_pdf
from tests.factories import AccountFactory, BillingProfileFactory

pytestmark = pytest.mark.browser

SUPPORT = Actor(kind="staff", label="agent@remit.example")
# What must never reach a customer's screen: spec ids, minor-unit field names, model reprs.
INSIDES = re.compile(r"\b(?:UC|X|P)\d\b|_minor\b|object \(\d+\)")


@pytest.fixture
def account(catalogue):  # type: ignore[no-untyped-def]
    account = AccountFactory(name="Müller & Söhne")
    BillingProfileFactory(account=account, legal_name="Müller & Söhne GmbH")
    return account


def stored_credit_note_pdf(credit_note: CreditNote) -> tuple[str, bytes]:
    document = Document.objects.get(credit_note=credit_note)
    assert document.status == Document.Status.STORED
    return document.download_name, document_open(document)


def named(action: str, document: str) -> re.Pattern[str]:
    """The accessible name of a document row's action: the action, then the document."""
    return re.compile(rf"^{re.escape(action)}\W+{re.escape(document)}$")


def expect_no_insides(page: Page) -> None:
    text = page.locator("body").inner_text()
    assert not INSIDES.search(text), INSIDES.search(text)


def test_support_voids_an_invoice_and_the_customer_downloads_its_credit_note(
    page: Page, url, shots, account, signed_in
):
    # The customer has an invoice; it cannot be changed, so they ask support, who void it.
    invoice = buy_credits_by_invoice(account, 120)
    credit_note = invoice_void(
        invoice=invoice, actor=SUPPORT, reason_code="customer_request", reason="Ordered by mistake"
    )
    signed_in(account)

    # Orders & Invoices: the row says Void and names its credit note.
    page.goto(url("/orders/"))
    nav_link(page, "Orders & Invoices").click()
    row = page.locator(f"#order-{invoice.order_id}")
    expect(row.locator(".badge")).to_have_text("Void")
    expect(row).to_contain_text(invoice.number)
    expect(row).to_contain_text(f"Credit note {credit_note.number}")
    expect(row.get_by_role("link", name=re.compile(r"^Pay\b"))).to_have_count(0)
    expect_no_insides(page)
    shots(page, "orders-void-row")

    # Open the credit note: its printable view, then its stored PDF.
    row.get_by_role("link", name=credit_note.number, exact=True).click()
    sheet = page.locator("article.sheet")
    expect(sheet.get_by_role("heading", level=1)).to_have_text("Credit note")
    expect(sheet).to_contain_text(credit_note.number)
    expect(sheet).to_contain_text(invoice.number)
    expect(sheet).to_contain_text("Müller & Söhne GmbH")
    shots(page, "credit-note-print-view")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF", exact=True).click()
    name, stored = stored_credit_note_pdf(credit_note)
    assert download_info.value.suggested_filename == name == f"{credit_note.number}.pdf"
    assert Path(download_info.value.path()).read_bytes() == stored
    assert stored.startswith(b"%PDF-")

    # Back to the invoice: its page links the credit note and lists both documents.
    page.get_by_role("link", name="Back to the invoice").click()
    expect(page).to_have_url(url(f"/invoices/{invoice.pk}/"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Invoice {invoice.number}")
    expect(page.locator(".invoice-head .badge")).to_have_text("Void")
    summary = page.get_by_role("region", name="Summary")
    expect(summary.get_by_role("link", name=credit_note.number, exact=True)).to_have_attribute(
        "href", re.compile(r"^/documents/\d+/print/$")
    )
    expect(page.get_by_role("link", name=re.compile(r"^Pay\b"))).to_have_count(0)
    documents = page.get_by_role("region", name="Documents")
    expect(documents.get_by_role("rowheader")).to_have_text(
        [f"Invoice {invoice.number}", f"Credit note {credit_note.number}"]
    )
    expect(page.get_by_role("region", name="Request a change")).to_contain_text(
        "This invoice is void and cannot be changed."
    )
    expect_no_insides(page)
    shots(page, "invoice-page-void")

    # Each document downloads as archived.
    with page.expect_download() as credit_info:
        documents.get_by_role(
            "link", name=named("Download PDF", f"Credit note {credit_note.number}")
        ).click()
    assert Path(credit_info.value.path()).read_bytes() == stored
    with page.expect_download() as invoice_info:
        documents.get_by_role(
            "link", name=named("Download PDF", f"Invoice {invoice.number}")
        ).click()
    invoice_name, invoice_bytes = stored_invoice_pdf(invoice)
    assert invoice_info.value.suggested_filename == invoice_name
    assert Path(invoice_info.value.path()).read_bytes() == invoice_bytes

    # Email again, for the credit note.
    documents.get_by_role(
        "button", name=named("Email again", f"Credit note {credit_note.number}")
    ).click()
    expect(page.locator(".messages li")).to_contain_text(
        f"Credit note {credit_note.number} is being emailed to"
    )
    resend = EmailMessage.objects.get(kind=EmailMessage.Kind.RESEND)
    assert resend.document.credit_note == credit_note
    shots(page, "invoice-page-emailed-again")


def test_a_changed_order_links_the_void_invoice_and_its_replacement(
    page: Page, url, shots, account, signed_in
):
    invoice = buy_credits_by_invoice(account, 120)
    replacement = invoice_reissue(
        invoice=invoice, actor=SUPPORT, reason="Customer wants 150 credits", credits=150
    )
    invoice.refresh_from_db()
    signed_in(account)

    page.goto(url("/orders/"))
    old_row = page.locator(f"#order-{invoice.order_id}")
    new_row = page.locator(f"#order-{replacement.order_id}")
    expect(old_row).to_contain_text(f"Credit note {invoice.credit_note.number}")
    expect(old_row).to_contain_text(f"Replaced by {replacement.number}")
    expect(new_row.locator(".badge")).to_have_text("Unpaid")
    # One design for every row: Invoice, and Pay when it is outstanding.
    expect(new_row.get_by_role("link")).to_have_count(2)
    expect(new_row.get_by_role("link", name=f"Invoice {replacement.number}")).to_be_visible()
    expect(new_row.get_by_role("link", name=f"Pay {replacement.number}")).to_have_class(
        re.compile(r"\bprimary\b")
    )
    expect(old_row.get_by_role("link")).to_have_count(3)
    expect(old_row.get_by_role("link", name=f"Invoice {invoice.number}")).to_be_visible()
    shots(page, "orders-replaced")

    old_row.get_by_role("link", name=replacement.number, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Invoice {replacement.number}")
    expect(page.get_by_role("link", name=f"Invoice {invoice.number}", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Pay", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Send request")).to_be_visible()
    shots(page, "replacement-page")
    page.get_by_role("link", name=f"Invoice {invoice.number}", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Invoice {invoice.number}")
    expect(
        page.get_by_role("link", name=f"Invoice {replacement.number}", exact=True)
    ).to_be_visible()


def test_the_list_and_the_invoice_page_on_a_phone(
    phone_page: Page, phone_context, live_server, url, shots, account, member
):
    invoice = buy_credits_by_invoice(account, 120, po_number="PO-2026-0042")
    credit_note = invoice_void(
        invoice=invoice, actor=SUPPORT, reason_code="duplicate", reason="Ordered twice"
    )
    open_invoice = buy_credits_by_invoice(account, 300)
    sign_in_cookie(phone_context, live_server.url, member(account))
    page = phone_page

    page.goto(url("/orders/"))
    row = page.locator(f"#order-{invoice.order_id}")
    expect(row).to_contain_text(f"Credit note {credit_note.number}")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - innerWidth")
    assert overflow <= 0, "the list is wider than the phone"
    shots(page, "phone-orders")

    page.locator(f"#order-{open_invoice.order_id}").get_by_role("link", name="Invoice").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Invoice {open_invoice.number}")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - innerWidth")
    assert overflow <= 0, "the invoice page is wider than the phone"
    shots(page, "phone-invoice-page")

    page.goto(url(f"/invoices/{invoice.pk}/"))
    expect(page.get_by_role("region", name="Documents").get_by_role("rowheader")).to_have_count(2)
    assert Invoice.objects.get(pk=invoice.pk).status == Invoice.Status.VOID
    shots(page, "phone-invoice-page-void")

    # In Japanese, the page reads in Japanese and still fits.
    page.get_by_role("button", name="Menu").click()  # the phone header's menu holds it
    page.get_by_label("Language").select_option(label="日本語")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"請求書 {invoice.number}")
    expect(page.get_by_role("region", name="書類").get_by_role("rowheader")).to_have_text(
        [f"請求書 {invoice.number}", f"クレジットノート {credit_note.number}"]
    )
    overflow = page.evaluate("() => document.documentElement.scrollWidth - innerWidth")
    assert overflow <= 0, "the Japanese invoice page is wider than the phone"
    shots(page, "phone-invoice-page-void-ja")
    page.get_by_role("button", name="メニュー").click()
    page.get_by_label("言語").select_option(label="English")


def test_a_change_is_requested_from_the_invoice_page_and_its_answer_shows_in_colour(
    page: Page, url, shots, account, signed_in
):
    invoice = buy_credits_by_invoice(account, 120)
    signed_in(account)
    page.goto(url("/orders/"))
    page.locator(f"#order-{invoice.order_id}").get_by_role("link", name="Invoice").click()
    change = page.get_by_role("region", name="Request a change")

    # Sent without a reason: the error is shown on the invoice's page, nothing is sent.
    change.get_by_role("button", name="Send request").click()
    expect(page).to_have_url(url(f"/invoices/{invoice.pk}/change-request/"))
    expect(change.get_by_role("alert")).to_contain_text("Please correct the fields marked below.")
    expect(change).to_contain_text("This field is required.")
    assert not ChangeRequest.objects.exists()
    shots(page, "change-request-error")

    change.get_by_label("What do you need?").select_option(label="A change to this invoice")
    change.get_by_label("Tell us what should change and why").fill("Please add our VAT ID.")
    change.get_by_role("button", name="Send request").click()
    expect(page).to_have_url(url(f"/invoices/{invoice.pk}/"))
    expect(page.locator(".messages li")).to_contain_text("was sent to our support team")
    status = change.locator("[data-change-status]")
    expect(status).to_contain_text("Change requested — waiting for support")
    expect(change.get_by_role("button", name="Send request")).to_have_count(0)
    open_colour = status.evaluate("(element) => getComputedStyle(element).backgroundColor")
    shots(page, "change-request-open")

    # Support answers: done is green, not a warning; declined is muted red.
    request = ChangeRequest.objects.get()
    change_request_close(
        change_request=request, actor=SUPPORT, status="done", response="VAT ID added."
    )
    page.reload()
    expect(status).to_contain_text("Change request done: VAT ID added.")
    done_colour = status.evaluate("(element) => getComputedStyle(element).backgroundColor")
    assert done_colour == "rgb(227, 245, 232)" != open_colour
    shots(page, "change-request-done")

    declined = change_request_create(
        invoice=invoice, actor=SUPPORT, kind="void", reason="Not needed after all"
    )
    change_request_close(
        change_request=declined, actor=SUPPORT, status="declined", response="It is correct."
    )
    page.goto(url("/orders/"))
    row_status = page.locator(f"#order-{invoice.order_id} [data-change-status]")
    expect(row_status).to_contain_text("Change request declined: It is correct.")
    declined_colour = row_status.evaluate("(element) => getComputedStyle(element).color")
    assert declined_colour == "rgb(125, 42, 42)"
    shots(page, "orders-change-declined")


def test_a_paid_invoice_lists_its_receipt(page: Page, url, shots, account, signed_in):
    invoice = buy_credits_by_invoice(account, 120)
    payment = pay_invoice(invoice)
    signed_in(account)

    page.goto(url(f"/invoices/{invoice.pk}/"))
    expect(page.locator(".invoice-head .badge")).to_have_text("Paid")
    expect(page.get_by_role("link", name="Pay", exact=True)).to_have_count(0)
    documents = page.get_by_role("region", name="Documents")
    expect(documents.get_by_role("rowheader")).to_have_text(
        [f"Invoice {invoice.number}", f"Payment receipt for {invoice.number}"]
    )
    with page.expect_download() as info:
        documents.get_by_role(
            "link", name=named("Download PDF", f"Payment receipt for {invoice.number}")
        ).click()
    receipt = Document.objects.get(payment=payment)
    assert info.value.suggested_filename == receipt.download_name
    assert Path(info.value.path()).read_bytes() == document_open(receipt)
    documents.get_by_role(
        "link", name=named("Print", f"Payment receipt for {invoice.number}")
    ).click()
    expect(page.locator("article.sheet")).to_contain_text(invoice.number)
    shots(page, "receipt-print-view")
    page.go_back()
    expect_no_insides(page)
    shots(page, "invoice-page-paid")
