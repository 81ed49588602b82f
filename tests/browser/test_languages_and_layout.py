"""The User Center in Japanese and German (D3) and at phone width, in a real browser: the language
switcher, translated headings and money, and pages that fit a 390 px screen without sideways
scrolling. The screenshots are for a person to look at (glyphs, overlaps, wrapping)."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from playwright.sync_api import BrowserContext, Locator, Page, expect

from tests.billing.helpers import buy_credits_by_card, buy_credits_by_invoice, pay_card_order
from tests.browser.conftest import PHONE, sign_in_cookie
from tests.factories import AccountFactory, BillingProfileFactory, PurchaseOrderNumberFactory

pytestmark = pytest.mark.browser

# English text that must not be left on a translated page.
ENGLISH = [
    "Orders & Invoices",
    "Buy credits and plans",
    "Create an Invoice",
    "Total before tax",
    "Need help?",
    "Settings › Billing",
    "Unpaid",
]
TRANSLATIONS = {
    "ja": {
        "name": "日本語",
        "orders": "注文と請求書",
        "buy": "クレジット・プランを購入",
        "create_invoice": "請求書を作成",
        "unpaid": "未払い",
    },
    "de": {
        "name": "Deutsch",
        "orders": "Bestellungen & Rechnungen",
        "buy": "Credits und Pläne kaufen",
        "create_invoice": "Rechnung erstellen",
        "unpaid": "Unbezahlt",
    },
}


@pytest.fixture
def busy_account(catalogue):  # type: ignore[no-untyped-def]
    """An account with a paid card order, an unpaid invoice with a PO number and a plan."""
    account = AccountFactory(name="Acme Analytics")
    BillingProfileFactory(account=account, legal_name="Acme Analytics Ltd")
    pay_card_order(buy_credits_by_card(account, credits=120))
    PurchaseOrderNumberFactory(account=account, value="PO-2026-LONG-REFERENCE-0001")
    buy_credits_by_invoice(account, credits=1_500, po_number="PO-2026-LONG-REFERENCE-0001")
    return account


def open_dialog_and_ask_for_invoice(page: Page, form: Locator, create_invoice: str) -> None:
    """The form's buy button opens its purchase dialog; tick Create an Invoice in it."""
    form.locator("[data-opens-dialog]").click()
    dialog = form.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label(create_invoice).check()
    expect(dialog.locator("[data-invoice-fields]")).to_be_visible()


def visible_text(page: Page) -> str:
    return page.locator("body").inner_text()


def switch_language(page: Page, name: str) -> None:
    # The switcher's label is translated too, so it is found by its id.
    page.locator("select#language").select_option(label=name)
    expect(page.locator("select#language")).to_have_value(
        next(code for code, texts in TRANSLATIONS.items() if texts["name"] == name)
    )


@pytest.mark.parametrize("language", ["ja", "de"])
def test_the_language_switcher_translates_orders_and_buy(
    page: Page, url, shots, busy_account, signed_in, language
):
    texts = TRANSLATIONS[language]
    signed_in(busy_account)

    page.goto(url("/orders/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Orders & Invoices")
    switch_language(page, texts["name"])
    expect(page).to_have_url(url("/orders/"))
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.get_by_role("heading", level=1)).to_have_text(texts["orders"])
    expect(page.locator("table.orders")).to_contain_text(texts["unpaid"])
    text = visible_text(page)
    assert [english for english in ENGLISH if english in text] == []
    shots(page, f"orders-{language}")

    page.goto(url("/buy/"))
    expect(page.get_by_role("heading", level=1)).to_have_text(texts["buy"])
    form = page.locator("form[data-purchase=credits]")
    form.locator("input[name='credits-credits']").fill("150")
    total = form.locator(".price output[data-total]")
    if language == "de":
        expect(total).to_have_text(re.compile(r"^150,00\s\$$"))
    else:
        expect(total).to_have_text("$150.00")
    open_dialog_and_ask_for_invoice(page, form, texts["create_invoice"])
    text = visible_text(page)
    assert [english for english in ENGLISH if english in text] == []
    shots(page, f"buy-credits-dialog-{language}")
    page.keyboard.press("Escape")
    expect(form.get_by_role("dialog")).to_be_hidden()

    plan = page.locator("form[data-purchase=plan]")
    plan.locator("input[name='plan-term_months'][value='12']").check()
    open_dialog_and_ask_for_invoice(page, plan, texts["create_invoice"])
    text = visible_text(page)
    assert [english for english in ENGLISH if english in text] == []
    shots(page, f"buy-plan-dialog-{language}")

    # The choice sticks for the next pages.
    page.goto(url("/settings/billing/"))
    expect(page.locator("html")).to_have_attribute("lang", language)
    shots(page, f"settings-{language}")


def _no_sideways_scroll(page: Page) -> None:
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.body.scrollWidth]"
    )
    assert max(widths) <= PHONE["width"] + 1, widths
    assert _clipped(page) == []


# Visible selects whose chosen option does not fit (measured in the select's own font, leaving
# room for the arrow), and labels or buttons whose text overflows their box.
CLIPPED = """() => {
    const measure = document.createElement("canvas").getContext("2d");
    const clipped = [];
    for (const element of document.querySelectorAll("select, label, button, .button")) {
        if (!element.checkVisibility() || element.closest(".visually-hidden")) continue;
        if (element.tagName === "SELECT") {
            const style = getComputedStyle(element);
            measure.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
            const text = element.selectedOptions[0] ? element.selectedOptions[0].textContent : "";
            const room = element.clientWidth - parseFloat(style.paddingLeft)
                - parseFloat(style.paddingRight) - 20;
            if (measure.measureText(text).width > room) clipped.push(`select: ${text}`);
        } else if (element.scrollWidth > element.clientWidth + 1) {
            clipped.push(`${element.tagName.toLowerCase()}: ${element.textContent.trim()}`);
        }
    }
    return clipped;
}"""


def _clipped(page: Page) -> list[str]:
    return page.evaluate(CLIPPED)


def test_orders_and_buy_fit_a_phone_screen(
    phone_page: Page, phone_context: BrowserContext, url, shots, busy_account, member, live_server
):
    page = phone_page
    sign_in_cookie(phone_context, live_server.url, member(busy_account))

    page.goto(url("/orders/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Orders & Invoices")
    # The header is one line: the brand and a Menu button; the menu opens over the page.
    header = page.get_by_role("banner")
    line = header.get_by_role("link", name="Remit").bounding_box()
    box = header.bounding_box()
    assert line
    assert box
    assert box["height"] < 2.2 * line["height"] + 24, (box, line)
    navigation = page.get_by_role("navigation", name="Main")
    menu = header.get_by_role("button", name="Menu")
    expect(navigation).to_be_hidden()
    expect(menu).to_have_attribute("aria-expanded", "false")
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(navigation.get_by_role("link", name="Settings › Billing")).to_be_visible()
    expect(header.get_by_role("button", name="Sign out")).to_be_visible()
    _no_sideways_scroll(page)
    shots(page, "menu-open-phone")
    page.keyboard.press("Escape")
    expect(navigation).to_be_hidden()
    expect(menu).to_be_focused()
    rows = page.locator("table.orders tbody tr")
    expect(rows).to_have_count(2)
    _no_sideways_scroll(page)
    # The table turns into stacked rows rather than a box to scroll sideways.
    table = page.locator(".table-wrap").evaluate("(t) => [t.scrollWidth, t.clientWidth]")
    assert table[0] <= table[1] + 1, table
    shots(page, "orders-phone")

    rows.first.get_by_role("link", name=re.compile(r"^Pay ")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Pay invoice")
    _no_sideways_scroll(page)
    shots(page, "pay-phone")

    page.goto(url("/buy/"))
    _no_sideways_scroll(page)
    shots(page, "buy-phone")
    credits = page.locator("form[data-purchase=credits]")
    credits.get_by_label("Credits").fill("150")
    open_dialog_and_ask_for_invoice(page, credits, "Create an Invoice")
    _no_sideways_scroll(page)
    shots(page, "buy-credits-dialog-phone")
    page.keyboard.press("Escape")
    plan = page.locator("form[data-purchase=plan]")
    # The longest plan name fits its select too.
    sizes = plan.get_by_label("Plan size")
    longest = max(sizes.locator("option").all_inner_texts(), key=len)
    sizes.select_option(label=longest)
    assert _clipped(page) == []
    plan.get_by_label("6 months").check()
    open_dialog_and_ask_for_invoice(page, plan, "Create an Invoice")
    _no_sideways_scroll(page)
    shots(page, "buy-plan-dialog-phone")

    # The menu leads to the other pages.
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Menu").click()
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Settings › Billing"
    ).click()
    expect(page).to_have_url(url("/settings/billing/"))
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    _no_sideways_scroll(page)
    shots(page, "settings-phone")

    # In German (longer words, "149,00 $ pro Monat") nothing is clipped either.
    phone_context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": "de", "url": live_server.url}]
    )
    for path in ("/orders/", "/buy/", "/settings/billing/"):
        page.goto(url(path))
        expect(page.locator("html")).to_have_attribute("lang", "de")
        _no_sideways_scroll(page)
    page.goto(url("/buy/"))
    sizes = page.locator("select[name='plan-plan_size']")
    sizes.select_option(label=max(sizes.locator("option").all_inner_texts(), key=len))
    assert _clipped(page) == []
    shots(page, "buy-phone-de")
