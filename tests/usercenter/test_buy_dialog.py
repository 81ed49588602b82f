"""The purchase dialog (P5 in the help page's order), post/redirect/get after a refused purchase,
and the live preview of the invoice before it is issued (issue 11)."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from remit.billing.models import BillingProfile, Invoice, Order
from remit.billing.selectors.catalogue import plan_offers
from remit.billing.services.orders import order_place
from remit.billing.services.previews import order_invoice_preview
from remit.documents.models import Document, EmailMessage
from remit.documents.services.rendering import CURRENT_TEMPLATE_VERSION, document_render_data
from tests.billing.helpers import buy_credits_by_card, pay_card_order, table_counts
from tests.documents.helpers_pdf import pdf_text
from tests.factories import AccountFactory, MembershipFactory

pytestmark = pytest.mark.django_db

BUYER = {
    "plan-billing-legal_name": "Preview & Sons Ltd",
    "plan-billing-address_line1": "7 Harbour Road",
    "plan-billing-city": "Springfield",
    "plan-billing-postal_code": "12345",
    "plan-billing-country": "US",
}


def _counts() -> dict[str, int]:
    counts = table_counts()
    counts["Document"] = Document.objects.count()
    counts["EmailMessage"] = EmailMessage.objects.count()
    return counts


def _plan_data(client, *, months=6, invoice=True, **extra) -> dict[str, str]:
    body = client.get(reverse("usercenter:buy")).content.decode()
    key = re.search(r'name="plan-idempotency_key" value="([^"]+)"', body).group(1)
    size = re.search(r'<option value="(\d+)"', body.split('name="plan-plan_size"')[1]).group(1)
    data = {"plan-plan_size": size, "plan-term_months": str(months), "plan-idempotency_key": key}
    if invoice:
        data["plan-create_invoice"] = "on"
        data.update(BUYER)
    data.update(extra)
    return data


def _dialog(body: str, kind: str) -> str:
    return body.split(f'id="{kind}-dialog"')[1].split("</dialog>")[0]


# --- the dialog ---------------------------------------------------------------------------------


def test_buy_monthly_is_a_review_step_and_the_dialog_holds_the_payment_choice(signed_in):
    body = signed_in.get(reverse("usercenter:buy")).content.decode()

    assert re.search(
        r'<button type="submit" class="primary buy-monthly" name="step" value="review" '
        r'data-opens-dialog="plan-dialog" aria-haspopup="dialog">Buy Monthly</button>',
        body,
    )
    dialog_tag = re.search(r'<dialog class="purchase" id="plan-dialog"[^>]*>', body).group(0)
    assert " open" not in dialog_tag  # closed until Buy Monthly
    dialog = _dialog(body, "plan")
    assert "Order summary" in dialog
    assert 'name="plan-create_invoice"' in dialog
    assert 'name="plan-billing-legal_name"' in dialog
    assert 'name="plan-po_number"' in dialog
    assert 'name="plan-notes"' in dialog
    assert 'data-label-invoice="Create Invoice"' in dialog
    assert f'formaction="{reverse("usercenter:buy_preview_pdf", args=["plan"])}"' in dialog


def test_without_javascript_buy_monthly_shows_the_dialog_open_and_places_nothing(
    signed_in, account
):
    before = _counts()
    data = _plan_data(signed_in, months=6, invoice=False, step="review")

    response = signed_in.post(reverse("usercenter:buy_submit", args=["plan"]), data)

    assert response.status_code == 303
    page = signed_in.get(response["Location"]).content.decode()
    assert re.search(r'<dialog class="purchase" id="plan-dialog"[^>]* open data-reopen>', page)
    dialog = _dialog(page, "plan")
    offer = plan_offers(currency="USD")[0]
    assert f'<dd data-summary="plan">{offer.plan_size.plan.name} {offer.plan_size.name}' in dialog
    assert '<dd data-summary="term">6 months · save 5%</dd>' in dialog
    assert "<output data-total>$279.30</output>" in dialog  # 6 x $49.00 less 5 %
    # The same form key is kept, so confirming places exactly this order.
    assert data["plan-idempotency_key"] in page
    assert _counts() == before


def test_confirming_the_dialog_with_create_an_invoice_issues_it(signed_in, account):
    data = _plan_data(signed_in, **{"plan-po_number": "PO-55", "plan-notes": "Cost centre 9"})

    response = signed_in.post(reverse("usercenter:buy_submit", args=["plan"]), data)

    invoice = Invoice.objects.get(account=account)
    assert response.status_code == 302
    assert response["Location"].startswith("/orders/?ready=")
    assert (invoice.po_number, invoice.notes, invoice.subtotal_minor) == (
        "PO-55",
        "Cost centre 9",
        27_930,
    )


# --- post/redirect/get after a refused purchase ------------------------------------------------


def test_a_refused_purchase_redirects_and_reloading_keeps_the_message_without_resubmitting(
    signed_in, account
):
    from tests.billing.helpers import buy_credits_by_invoice

    for _ in range(3):
        buy_credits_by_invoice(account, 100)
    before = _counts()
    data = _plan_data(signed_in)

    response = signed_in.post(reverse("usercenter:buy_submit", args=["plan"]), data)
    first = signed_in.get(response["Location"]).content.decode()
    reloaded = signed_in.get(response["Location"]).content.decode()

    assert response.status_code == 303
    assert re.fullmatch(r"/buy/\?tab=plan&state=[\w-]+#plan", response["Location"])
    for page in (first, reloaded):
        dialog = _dialog(page, "plan")
        assert 'data-problem="unpaid_invoice_limit_reached"' in dialog
        assert "You have 3 unpaid invoices." in dialog
        assert "data-error-summary" in dialog  # the page's script moves focus there
        assert 'value="Preview &amp; Sons Ltd"' in dialog  # what was typed is kept
    assert _counts() == before


def test_field_errors_survive_the_redirect_and_focus_goes_to_the_summary(signed_in):
    data = _plan_data(signed_in, **{"plan-billing-legal_name": "", "plan-notes": "x" * 2001})

    response = signed_in.post(reverse("usercenter:buy_submit", args=["plan"]), data)
    page = signed_in.get(response["Location"]).content.decode()

    dialog = _dialog(page, "plan")
    assert '<div class="errors" role="alert" data-error-summary tabindex="-1">' in dialog
    assert "<li>Legal name: This field is required.</li>" in dialog
    assert "Additional notes: Ensure this value has at most 2000 characters" in dialog
    assert Order.objects.count() == 0


def test_an_error_on_what_is_chosen_is_shown_on_the_page_with_the_dialog_closed(signed_in):
    response = signed_in.post(
        reverse("usercenter:buy_submit", args=["plan"]), _plan_data(signed_in, months=1)
    )
    page = signed_in.get(response["Location"]).content.decode()

    assert not re.search(r'<dialog class="purchase" id="plan-dialog"[^>]* open', page)
    assert "can only be paid by card" in page
    assert Order.objects.count() == 0


def test_an_old_or_foreign_state_token_shows_a_fresh_page(signed_in):
    response = signed_in.post(
        reverse("usercenter:buy_submit", args=["plan"]), _plan_data(signed_in, months=1)
    )
    page = signed_in.get(reverse("usercenter:buy") + "?tab=plan&state=nope").content.decode()

    assert response.status_code == 303
    assert "can only be paid by card" not in page


# --- the live preview ---------------------------------------------------------------------------


def test_the_preview_shows_what_will_print_and_creates_nothing(signed_in, account):
    profile_before = BillingProfile.objects.get(account=account).legal_name
    before = _counts()
    data = _plan_data(
        signed_in, **{"plan-po_number": "PO-PREVIEW-1", "plan-notes": "Deliver to <dock> 4"}
    )

    response = signed_in.post(reverse("usercenter:buy_preview", args=["plan"]), data)

    body = response.content.decode()
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert '<p class="watermark">PREVIEW</p>' in body
    assert "<strong>Preview &amp; Sons Ltd</strong><br>7 Harbour Road" in body
    assert "<dd>PO-PREVIEW-1</dd>" in body
    assert "Deliver to &lt;dock&gt; 4" in body
    assert "$279.30" in body
    assert "number assigned when issued" in body
    assert _counts() == before
    assert BillingProfile.objects.get(account=account).legal_name == profile_before
    assert mail.outbox == []


def test_the_preview_pdf_is_marked_preview_and_uses_no_number(signed_in, account):
    before = _counts()
    data = _plan_data(signed_in, **{"plan-po_number": "PO-PDF-7", "plan-notes": "Attn. Finance"})

    response = signed_in.post(reverse("usercenter:buy_preview_pdf", args=["plan"]), data)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="invoice-preview.pdf"'
    text = pdf_text(response.content)
    for expected in (
        "PREVIEW",
        "Preview & Sons Ltd",
        "7 Harbour Road",
        "PO-PDF-7",
        "Attn. Finance",
    ):
        assert expected in text
    assert _counts() == before
    assert mail.outbox == []
    # The next invoice gets the number it would have had without the preview.
    issued = signed_in.post(reverse("usercenter:buy_submit", args=["plan"]), data)
    invoice = Invoice.objects.get(account=account)
    assert issued.status_code == 302
    assert invoice.sequence == 1
    assert invoice.number not in text


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"plan-notes": "bad\x00byte"}, "Additional notes: "),
        ({"plan-notes": "n" * 2001}, "Additional notes: Ensure this value has at most 2000"),
        ({"plan-po_number": "p" * 65}, "PO number: Ensure this value has at most 64"),
        ({"plan-plan_size": "abc"}, "Plan size: Select a valid choice."),
        ({"plan-billing-legal_name": ""}, "Legal name: This field is required."),
        ({"plan-billing-legal_name": "A\x00B"}, "Legal name: "),
    ],
)
@pytest.mark.parametrize("name", ["usercenter:buy_preview", "usercenter:buy_preview_pdf"])
def test_bad_preview_input_is_a_400_with_the_reason(signed_in, extra, message, name):
    before = _counts()

    response = signed_in.post(reverse(name, args=["plan"]), _plan_data(signed_in, **extra))

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert message in response.content.decode()
    assert _counts() == before


def test_a_refused_preview_says_why(signed_in, account):
    response = signed_in.post(
        reverse("usercenter:buy_preview", args=["plan"]), _plan_data(signed_in, months=1)
    )

    assert response.status_code == 409
    assert "can only be paid by card" in response.content.decode()


def test_the_preview_is_the_issued_invoice_but_for_its_number(account, customer_actor):
    plan_size = plan_offers(currency="USD")[0].plan_size
    args = {
        "account": account,
        "actor": customer_actor,
        "kind": Order.Kind.SUBSCRIPTION,
        "plan_size": plan_size,
        "term_months": 12,
        "po_number": "PO-SAME",
        "notes": "Same notes",
    }

    preview = order_invoice_preview(**args)
    order = order_place(**args, payment_method=Order.PaymentMethod.INVOICE)

    issued = document_render_data(Document.objects.get(invoice=order.invoice))
    number = order.invoice.number
    assert preview.pop("watermark") == "PREVIEW"
    assert preview.pop("template_version") == CURRENT_TEMPLATE_VERSION
    assert preview.pop("number") == ""
    assert issued.pop("number") == number
    expected = repr(issued).replace(number, "number assigned when issued")
    assert repr(preview) == expected


# --- the billing gate's preview -----------------------------------------------------------------


@pytest.fixture
def gate(client, catalogue):
    account = AccountFactory()
    user = MembershipFactory(account=account).user
    order = buy_credits_by_card(account, credits=120)
    pay_card_order(order)
    client.force_login(user)
    return client, account, order


GATE_BUYER = {
    "legal_name": "Gate Preview GmbH",
    "address_line1": "Am Markt 3",
    "city": "Köln",
    "postal_code": "50667",
    "country": "DE",
    "tax_id": "DE136695976",
}


def test_the_gate_shows_a_preview_panel(gate):
    client, _, order = gate

    page = client.get(reverse("usercenter:order_invoice", args=[order.pk])).content.decode()

    gate_html = page.split('id="billing-gate"')[1].split("</dialog>")[0]
    assert f'data-preview-url="{reverse("usercenter:gate_preview", args=[order.pk])}"' in gate_html
    assert "Preview PDF" in gate_html


def test_the_gate_preview_is_the_paid_invoice_and_saves_nothing(gate):
    client, account, order = gate
    before = _counts()

    html = client.post(reverse("usercenter:gate_preview", args=[order.pk]), GATE_BUYER)
    pdf = client.post(reverse("usercenter:gate_preview_pdf", args=[order.pk]), GATE_BUYER)

    assert html.status_code == pdf.status_code == 200
    body = html.content.decode()
    assert "<strong>Gate Preview GmbH</strong>" in body
    assert "PAID" in body
    text = pdf_text(pdf.content)
    assert "PREVIEW" in text
    assert "Gate Preview GmbH" in text
    assert _counts() == before
    assert not BillingProfile.objects.filter(account=account).exists()
    assert mail.outbox == []


def test_the_gate_preview_refuses_bad_input_and_other_accounts_orders(gate, catalogue):
    client, _, order = gate
    other = buy_credits_by_card(AccountFactory(), credits=100)

    bad = client.post(
        reverse("usercenter:gate_preview", args=[order.pk]), {**GATE_BUYER, "city": "K\x00ln"}
    )
    foreign = client.post(reverse("usercenter:gate_preview", args=[other.pk]), GATE_BUYER)

    assert bad.status_code == 400
    assert "City: " in bad.content.decode()
    assert foreign.status_code == 404


def test_previews_need_a_signed_in_customer_and_post(client, signed_in):
    url = reverse("usercenter:buy_preview", args=["plan"])

    assert signed_in.get(url).status_code == 405
    assert signed_in.post(reverse("usercenter:buy_preview", args=["nope"]), {}).status_code == 404
    signed_in.logout()
    assert signed_in.post(url, {}).status_code == 302
