"""Seed page "Tips for Troubleshooting Invoice Issues" in a real browser: buying credits by
invoice and its $100 minimum (P1, P2), the trial rule (P3), the three-unpaid-invoices limit with
its Pay buttons and paying online in test mode (P4, P7), a 6-month plan with a PO number and
notes (P5), and one invoice however often the button is pressed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from remit.billing.actors import Actor
from remit.billing.models import Invoice, Order
from remit.billing.services.accounts import account_option_set
from tests.billing.helpers import buy_credits_by_invoice, table_counts
from tests.browser.conftest import nav_link, stored_invoice_pdf
from tests.factories import AccountFactory, BillingProfileFactory, PurchaseOrderNumberFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def account(catalogue):  # type: ignore[no-untyped-def]
    """An active USD account with billing details (they prefill the invoice fields)."""
    account = AccountFactory(name="Acme Analytics")
    BillingProfileFactory(account=account, legal_name="Acme Analytics Ltd")
    return account


def credits_form(page: Page) -> Locator:
    return page.locator("form[data-purchase=credits]")


def plan_form(page: Page) -> Locator:
    return page.locator("form[data-purchase=plan]")


def ask_for_invoice(form: Locator) -> None:
    """Buy credits / Buy Monthly opens the purchase dialog; tick Create an Invoice in it."""
    opener = form.locator("[data-opens-dialog]")
    opener.click()
    dialog = form.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Create an Invoice").check()
    expect(dialog.locator("[data-invoice-fields]")).to_be_visible()
    expect(dialog.get_by_role("button", name="Create Invoice")).to_be_visible()


def download_of(page: Page, click) -> tuple[str, bytes]:  # type: ignore[no-untyped-def]
    """Do ``click`` and return the name and bytes of the download it starts."""
    with page.expect_download() as info:
        click()
    return info.value.suggested_filename, Path(info.value.path()).read_bytes()


def expect_invoice_issued(page: Page, name: str, body: bytes) -> Invoice:
    """The newest invoice was downloaded (its stored bytes) and is listed on Orders & Invoices."""
    # The page drops ?ready from the address once the download started, so Reload and Back
    # do not download it again.
    expect(page).to_have_url(re.compile(r"/orders/$"))
    invoice = Invoice.objects.latest("pk")
    assert (name, body) == stored_invoice_pdf(invoice)
    expect(page.locator(".ready")).to_contain_text(f"Your invoice {invoice.number} is ready.")
    expect(page.locator(".ready").get_by_role("link", name="Download PDF")).to_be_visible()
    expect(page.locator(f"#order-{invoice.order_id}")).to_contain_text(invoice.number)
    return invoice


def test_credits_by_invoice_need_100_dollars_and_then_issue_an_invoice(
    page: Page, url, shots, account, signed_in
):
    signed_in(account)
    page.goto(url("/buy/"))
    form = credits_form(page)
    total = form.locator(".price output[data-total]")
    expect(form).to_contain_text("$1.00 per credit.")
    expect(form).to_contain_text("An invoice needs at least $100.00 of credits")
    expect(total).to_have_text("—")
    shots(page, "buy-page")

    # The total follows what is typed.
    credits = form.get_by_label("Credits")
    credits.press_sequentially("99")
    expect(total).to_have_text("$99.00")
    ask_for_invoice(form)
    expect(form.get_by_label("Legal name")).to_have_value("Acme Analytics Ltd")
    shots(page, "99-credits-by-invoice")

    before = table_counts()
    form.get_by_role("button", name="Create Invoice").click()
    error = form.locator(".field.invalid", has=page.get_by_label("Credits")).locator(".error")
    expect(error).to_have_text(
        "An invoice for credits needs at least $100.00 of credits (you chose $99.00). "
        "Buy more credits, or pay by card."
    )
    assert table_counts() == before
    expect(form.get_by_label("Create an Invoice")).to_be_checked()
    expect(form.get_by_role("dialog")).to_be_hidden()
    shots(page, "99-credits-refused")

    credits.fill("")
    expect(total).to_have_text("—")
    for typed, shown in (("1", "$1.00"), ("10", "$10.00"), ("100", "$100.00")):
        credits.press_sequentially(typed[-1])
        expect(total).to_have_text(shown)
    form.get_by_role("button", name="Buy credits").click()
    shots(page, "100-credits-by-invoice")

    name, body = download_of(page, form.get_by_role("button", name="Create Invoice").click)

    invoice = expect_invoice_issued(page, name, body)
    assert invoice.total_minor == 10_000
    assert invoice.status == Invoice.Status.ISSUED
    assert Invoice.objects.count() == 1
    expect(page.locator(".messages")).to_contain_text(
        f"Invoice {invoice.number} was created and emailed. "
        "Your 100 credits are pending until it is paid."
    )
    row = page.locator(f"#order-{invoice.order_id}")
    expect(row).to_contain_text("$100.00")
    expect(row.locator(".badge")).to_have_text("Unpaid")
    expect(page.locator(".credits-line")).to_contain_text("pending until paid: 100")
    shots(page, "invoice-issued")


def test_three_unpaid_invoices_block_a_fourth_until_one_is_paid_online(
    page: Page, url, shots, account, signed_in, settings
):
    settings.REMIT_SELLER = {
        **settings.REMIT_SELLER,
        "bank_account_holder": "Example SaaS Inc.",
        "bank_name": "First Example Bank",
        "bank_iban": "DE89370400440532013000",
        "bank_bic": "COBADEFFXXX",
    }
    unpaid = [buy_credits_by_invoice(account, credits=credits) for credits in (100, 200, 300)]
    signed_in(account)

    page.goto(url("/buy/"))
    form = credits_form(page)
    form.get_by_label("Credits").fill("150")
    ask_for_invoice(form)
    before = table_counts()
    form.get_by_role("button", name="Create Invoice").click()

    problem = page.locator("section.problem")
    expect(problem).to_be_visible()
    expect(problem.get_by_role("heading")).to_have_text("We could not create this invoice")
    expect(problem).to_contain_text(
        "You have 3 unpaid invoices. Pay one of them before creating another invoice, "
        "or pay this purchase by card."
    )
    expect(problem).to_contain_text("Questions? Write to support@example.com")
    items = problem.locator(".unpaid-list li")
    expect(items).to_have_count(3)
    for invoice in unpaid:
        item = items.filter(has_text=invoice.number)
        expect(item).to_have_count(1)
        expect(item.get_by_role("link", name=f"Pay {invoice.number}")).to_be_visible()
    assert table_counts() == before
    shots(page, "limit-reached")

    # Pay the second one: bank transfer instructions, or online.
    chosen = unpaid[1]
    problem.get_by_role("link", name=f"Pay {chosen.number}").click()
    expect(page).to_have_url(url(f"/invoices/{chosen.pk}/pay/"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Pay invoice {chosen.number}")
    expect(page.locator(".amount-due")).to_contain_text("$200.00")
    bank = page.locator("dl.bank")
    expect(bank.locator("dt", has_text="Reference").locator("+ dd")).to_have_text(chosen.number)
    expect(bank.locator("dt", has_text="IBAN").locator("+ dd")).to_have_text(
        "DE89370400440532013000"
    )
    expect(page.get_by_role("heading", name="Pay by bank transfer")).to_be_visible()
    shots(page, "pay-page")

    page.get_by_role("button", name="Pay online").click()
    expect(page).to_have_url(re.compile(r"/checkout/[^/]+/test/$"))
    banner = page.locator(".test-banner")
    expect(banner).to_contain_text("TEST MODE")
    expect(banner).to_contain_text("no card is charged and no money moves")
    expect(page.locator(".test-checkout")).to_contain_text(f"Invoice {chosen.number}")
    expect(page.locator(".amount-due")).to_contain_text("$200.00")
    shots(page, "test-checkout")

    page.get_by_role("button", name="Pay (test)").click()
    expect(page).to_have_url(url("/orders/"))
    expect(page.locator(".messages")).to_contain_text(
        f"Thank you! Invoice {chosen.number} is paid."
    )
    expect(page.locator(f"#order-{chosen.order_id} .badge")).to_have_text("Paid")
    for other in (unpaid[0], unpaid[2]):
        expect(page.locator(f"#order-{other.order_id} .badge")).to_have_text("Unpaid")
    chosen.refresh_from_db()
    assert chosen.status == Invoice.Status.PAID
    assert chosen.payments.count() == 1
    shots(page, "orders-after-payment")

    # With two unpaid invoices left, a new invoice is created.
    nav_link(page, "Buy").click()
    form = credits_form(page)
    form.get_by_label("Credits").fill("150")
    ask_for_invoice(form)
    name, body = download_of(page, form.get_by_role("button", name="Create Invoice").click)
    invoice = expect_invoice_issued(page, name, body)
    assert invoice.total_minor == 15_000
    assert Invoice.objects.filter(account=account, status=Invoice.Status.ISSUED).count() == 3
    shots(page, "invoice-after-paying-one")


def test_a_trial_account_gets_an_invoice_only_once_support_enables_it(
    page: Page, url, shots, catalogue, signed_in
):
    account = AccountFactory(trial=True)
    BillingProfileFactory(account=account)
    signed_in(account)

    page.goto(url("/buy/"))
    form = credits_form(page)
    form.get_by_label("Credits").fill("250")
    ask_for_invoice(form)
    before = table_counts()
    form.get_by_role("button", name="Create Invoice").click()

    problem = page.locator("section.problem")
    expect(problem).to_contain_text(
        "Invoices are not available during your free trial. Contact support to enable "
        "invoicing for your account, or pay by card."
    )
    expect(problem).to_contain_text("Questions? Write to support@example.com")
    assert problem.get_attribute("role") == "alert"
    assert table_counts() == before
    shots(page, "trial-refused")

    account_option_set(
        account=account,
        actor=Actor.system(),
        invoicing_during_trial_enabled=True,
        reason="Customer asked for an invoice (browser test)",
    )

    # The same form, sent again as it is.
    form = credits_form(page)
    expect(form.get_by_label("Credits")).to_have_value("250")
    expect(form.get_by_label("Create an Invoice")).to_be_checked()
    name, body = download_of(page, form.get_by_role("button", name="Create Invoice").click)
    invoice = expect_invoice_issued(page, name, body)
    assert invoice.account_id == account.pk
    assert invoice.total_minor == 25_000
    shots(page, "trial-invoice-issued")


def test_a_six_month_plan_by_invoice_carries_the_po_number_and_notes(
    page: Page, url, shots, account, signed_in
):
    PurchaseOrderNumberFactory(account=account, value="PO-2026-001", is_default=True)
    PurchaseOrderNumberFactory(account=account, value="PO-2026-002")
    signed_in(account)
    notes = "Project Falcon, cost centre 4711.\nPlease quote our PO on every invoice."

    page.goto(url("/buy/"))
    form = plan_form(page)
    expect(form.get_by_role("button", name="Buy Monthly")).to_be_visible()
    expect(form.get_by_role("dialog")).to_be_hidden()
    form.get_by_label("Plan size").select_option(label="Pro 200,000 emails — $149.00 a month")
    form.get_by_label("1 month").check()
    expect(form.locator(".price output[data-total]")).to_have_text("$149.00")
    ask_for_invoice(form)
    # Billing address prefilled; the default PO number proposed, the others offered.
    expect(form.get_by_label("Legal name")).to_have_value("Acme Analytics Ltd")
    po = form.get_by_label("PO number")
    expect(po).to_have_value("PO-2026-001")
    assert form.locator("datalist option").evaluate_all("(os) => os.map((o) => o.value)") == [
        "PO-2026-001",
        "PO-2026-002",
    ]
    po.fill("PO-2026-002")
    form.get_by_label("Additional notes").fill(notes)
    # One month is card only: with Create an Invoice ticked it cannot be chosen, and the
    # selection moves to the shortest term that can be invoiced (the server refuses it too,
    # tests/usercenter/test_buying.py).
    expect(form.get_by_label("1 month")).to_be_disabled()
    expect(form.get_by_label("3 months")).to_be_checked()
    expect(form.get_by_role("dialog").locator("output[data-total]")).to_have_text("$447.00")
    shots(page, "plan-1-month-not-invoiceable")

    # The term is chosen on the page: Escape, choose, Buy Monthly again (the box stays ticked).
    page.keyboard.press("Escape")
    form.get_by_label("6 months").check()
    form.get_by_role("button", name="Buy Monthly").click()
    # 6 × $149.00 = $894.00, less 5 % = $849.30
    expect(form.get_by_role("dialog").locator("output[data-total]")).to_have_text("$849.30")
    expect(form.get_by_label("Additional notes")).to_have_value(notes)
    shots(page, "plan-6-months-by-invoice")
    name, body = download_of(page, form.get_by_role("button", name="Create Invoice").click)

    invoice = expect_invoice_issued(page, name, body)
    order = invoice.order
    assert order.kind == Order.Kind.SUBSCRIPTION
    assert order.term_months == 6
    assert order.plan_size.code == "200k"
    assert invoice.total_minor == 84_930
    assert invoice.po_number == "PO-2026-002"
    assert invoice.notes == notes
    row = page.locator(f"#order-{order.pk}")
    expect(row).to_contain_text("PO PO-2026-002")
    expect(row).to_contain_text("$849.30")
    shots(page, "plan-invoice-issued")

    page.goto(url(f"/invoices/{invoice.pk}/print/"))
    sheet = page.locator("article.sheet")
    expect(sheet).to_contain_text("PO-2026-002")
    expect(sheet.locator(".notes")).to_contain_text("Project Falcon, cost centre 4711.")
    shots(page, "plan-invoice-print")

    page.goto(url("/orders/"))
    page.locator(f"#order-{order.pk}").get_by_role("link", name=f"Pay {invoice.number}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Pay invoice {invoice.number}")
    # No bank details are configured here, so the page offers no bank transfer.
    expect(page.get_by_role("heading", name="Pay online")).to_be_visible()
    expect(page.locator("dl.bank")).to_have_count(0)
    expect(page.get_by_role("heading", name="Pay by bank transfer")).to_have_count(0)
    shots(page, "plan-invoice-pay-page")


def _filled_credit_form(page: Page, url, credits: str) -> Locator:  # type: ignore[no-untyped-def]
    page.goto(url("/buy/"))
    form = credits_form(page)
    form.get_by_label("Credits").fill(credits)
    ask_for_invoice(form)
    return form


def test_pressing_create_invoice_twice_creates_one_invoice(
    page: Page, url, shots, account, signed_in
):
    signed_in(account)
    posts: list[str] = []
    # Orders posted (the dialog's live preview posts too, whenever it likes: not counted).
    page.on(
        "request",
        lambda r: posts.append(r.url) if r.method == "POST" and "/preview" not in r.url else None,
    )

    # A double click on the button.
    form = _filled_credit_form(page, url, "150")
    name, body = download_of(page, form.get_by_role("button", name="Create Invoice").dblclick)
    invoice = expect_invoice_issued(page, name, body)
    assert list(Invoice.objects.values_list("pk", flat=True)) == [invoice.pk]
    assert Order.objects.count() == 1
    shots(page, "after-double-click")

    # The same form sent twice at once (no script to stop the second, e.g. a slow network and
    # an impatient customer): both answers lead to the one invoice.
    form = _filled_credit_form(page, url, "175")
    posts.clear()
    finals = form.evaluate(
        """async (form) => {
            const send = () => fetch(form.action, { method: "POST", body: new FormData(form) });
            const answers = await Promise.all([send(), send()]);
            return answers.map((answer) => [answer.status, new URL(answer.url).pathname
                + new URL(answer.url).search]);
        }"""
    )
    assert posts == [url("/buy/credits/")] * 2
    assert Order.objects.count() == 2
    second = Invoice.objects.exclude(pk=invoice.pk).get()
    assert second.total_minor == 17_500
    assert finals[0] == finals[1]
    assert finals[0][0] == 200
    assert re.fullmatch(r"/orders/\?ready=\d+", finals[0][1])
    page.goto(url("/orders/"))
    expect(page.locator("table.orders tbody tr")).to_have_count(2)
    shots(page, "orders-after-double-submit")
