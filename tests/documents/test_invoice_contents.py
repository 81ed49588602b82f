"""What an invoice (template set v3) tells the customer: when and how a paid invoice was paid,
why a zero-tax invoice has no tax, how to pay (a bank transfer only when the seller has bank
details: PDF, email and the User Center's Pay page) and no logo unless one is configured.

Documents are issued through the real services and stored; the text is read back with
``pdftotext`` as in test_rendering.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pypdf
import pytest
import time_machine
from django.urls import reverse

from remit.billing.models import Invoice, TaxCategory
from remit.core.i18n import label
from remit.documents.models import Document, EmailMessage
from remit.documents.services.archive import document_open, document_store
from remit.documents.services.emails import email_build
from remit.documents.services.rendering import (
    LEGACY_DEFAULT_LOGO,
    document_render_data,
    logo_path,
)
from tests.billing.helpers import (
    buy_credits_by_card,
    buy_credits_by_invoice,
    pay_card_order,
    record_platform_order,
)
from tests.documents.helpers_pdf import pdf_text, squash
from tests.factories import AccountFactory, BillingProfileFactory, MembershipFactory

pytestmark = pytest.mark.django_db

BANK = {
    "bank_account_holder": "Example SaaS Inc.",
    "bank_name": "First Example Bank",
    "bank_account_number": "000123456789",
    "bank_routing_number": "110000000",
}


def _stored(invoice: Invoice) -> tuple[Document, str]:
    document = Document.objects.get(invoice=invoice, kind=Document.Kind.INVOICE)
    stored = document_store(document_id=document.pk)
    return stored, pdf_text(document_open(stored))


def _contains(text: str, expected: str) -> bool:
    return squash(expected) in squash(text)


MAGENTA_LOGO = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="10">'
    '<rect width="40" height="10" fill="#ff00ff"/></svg>'
)


def _has_magenta_logo(pdf: bytes) -> bool:
    """The first page paints in the test logo's magenta (nothing else on an invoice is)."""
    content = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].get_contents()
    assert content is not None
    return b" 1 0 1 scn" in content.get_data()


# --- paid invoices: payment date and method ---------------------------------------------------


def test_an_invoice_paid_by_card_prints_the_payment_date_and_method(account):
    # Given credits paid by card on 5 March 2025
    with time_machine.travel("2025-03-05 10:00Z", tick=False):
        order = buy_credits_by_card(account, credits=321)
        pay_card_order(order, reference="pi_1")
    order.refresh_from_db()

    # When its invoice is printed
    document, text = _stored(order.invoice)

    # Then it is stamped paid and says when and how, with no due date and no payment box
    assert document.template_version == "3"
    assert "PAID" in text
    assert _contains(text, "Paid on March 5, 2025")
    assert _contains(text, "Payment method Card")
    assert label("due_date", "en") not in text
    assert label("reference", "en") not in text
    assert "Please pay" not in text


def test_a_platform_order_invoiced_later_prints_the_day_it_was_paid(account):
    # Given an order paid on Stripe on 28 February and recorded (and invoiced) on 3 March
    with time_machine.travel("2025-03-03 09:00Z", tick=False):
        order = record_platform_order(
            account, reference="late", received_at=datetime(2025, 2, 28, 15, 0, tzinfo=UTC)
        )
        _, text = _stored(order.invoice)

    # Then the invoice is dated the day it was issued and says it was paid on 28 February
    assert _contains(text, "Issue date March 3, 2025")
    assert _contains(text, "Paid on February 28, 2025")
    assert _contains(text, "Payment method Card")


def test_the_payment_rows_are_translated(catalogue):
    account = AccountFactory(language="de", currency="EUR")
    BillingProfileFactory(account=account, country="DE")
    with time_machine.travel("2025-03-05 10:00Z", tick=False):
        order = buy_credits_by_card(account, credits=100)
        pay_card_order(order)
    order.refresh_from_db()

    _, text = _stored(order.invoice)

    assert _contains(text, "Bezahlt am 5. März 2025")
    assert _contains(text, "Zahlungsart Karte")


# --- zero-tax invoices: the reason --------------------------------------------------------------


@pytest.fixture
def german_seller(settings):
    settings.REMIT_SELLER = {**settings.REMIT_SELLER, "country": "DE", "tax_id": "DE136695976"}


@pytest.mark.parametrize(
    ("profile", "tax_exempt", "category", "reason"),
    [
        (
            {"country": "FR", "tax_id": "FR40303265045"},
            False,
            TaxCategory.REVERSE_CHARGE,
            "Reverse charge: VAT to be accounted for by the recipient (Art. 196 Directive "
            "2006/112/EC).",
        ),
        ({"country": "DE"}, True, TaxCategory.EXEMPT, "Exempt from tax."),
        (
            {"country": "US"},
            False,
            TaxCategory.OUTSIDE_SCOPE,
            "Not subject to tax in the seller's country.",
        ),
    ],
    ids=["reverse-charge", "exempt", "outside-scope"],
)
def test_a_zero_tax_invoice_prints_why(
    catalogue, german_seller, profile, tax_exempt, category, reason
):
    # Given a German seller's invoice without tax
    account = AccountFactory(euro=True, tax_exempt=tax_exempt)
    BillingProfileFactory(account=account, **profile)
    invoice = buy_credits_by_invoice(account, credits=100)
    assert (invoice.tax_lines.get().category, invoice.tax_minor) == (category, 0)

    # Then the PDF names the reason, once
    _, text = _stored(invoice)
    assert _contains(text, reason)
    assert squash(text).count(squash(reason)) == 1


def test_a_zero_rated_invoice_prints_why(account):
    # Given an American sale where no tax rate is configured (zero rated)
    invoice = buy_credits_by_invoice(account, credits=100)
    assert (invoice.tax_lines.get().category, invoice.tax_minor) == (TaxCategory.ZERO, 0)

    # Then the PDF says so (v1 and v2 printed no reason)
    _, text = _stored(invoice)
    assert _contains(text, "Zero-rated: no tax is charged on this sale.")


def test_an_invoice_with_tax_prints_no_zero_tax_reason(catalogue, german_seller):
    account = AccountFactory(euro=True)
    BillingProfileFactory(account=account, country="DE")
    invoice = buy_credits_by_invoice(account, credits=100)

    data = document_render_data(Document.objects.get(invoice=invoice))

    assert data["tax_notes"] == []


# --- the logo -----------------------------------------------------------------------------------


def test_there_is_no_logo_unless_one_is_configured(account, settings, tmp_path):
    # Given no logo configured: the seller's name is the brand
    assert settings.REMIT_SELLER_LOGO is None
    unbranded, text = _stored(buy_credits_by_invoice(account))
    # and then a logo configured
    logo = tmp_path / "logo.svg"
    logo.write_text(MAGENTA_LOGO, encoding="utf-8")
    settings.REMIT_SELLER_LOGO = str(logo)
    branded, _ = _stored(buy_credits_by_invoice(account))

    # Then only the second invoice carries the logo; the first starts with the seller's name
    assert not _has_magenta_logo(document_open(unbranded))
    assert _has_magenta_logo(document_open(branded))
    assert text.lstrip().startswith("Example SaaS Inc.")
    # and neither has Remit's own logo, which v1 and v2 printed when none was configured.
    assert document_render_data(unbranded)["seller"]["name"] == "Example SaaS Inc."
    assert logo_path("3") == str(logo)
    settings.REMIT_SELLER_LOGO = None
    assert (logo_path("2"), logo_path("3")) == (str(LEGACY_DEFAULT_LOGO), "")


def test_an_empty_logo_setting_means_no_logo_on_any_version(settings):
    settings.REMIT_SELLER_LOGO = ""
    assert (logo_path("1"), logo_path("2"), logo_path("3")) == ("", "", "")


# --- how to pay: a bank transfer only with bank details ---------------------------------------


def test_without_bank_details_no_invoice_asks_for_a_bank_transfer(account, client):
    # Given a seller with no bank details, and an unpaid invoice
    invoice = buy_credits_by_invoice(account, credits=150)

    # When the customer reads its PDF, its email and its Pay page
    document, text = _stored(invoice)
    email = email_build(EmailMessage.objects.get(document=document))
    client.force_login(MembershipFactory(account=account).user)
    pay_page = client.get(reverse("usercenter:invoice_pay", args=[invoice.pk])).content.decode()

    # Then none of them mentions a bank transfer or bank details
    for where in (text, email.body, str(email.alternatives[0][0]), pay_page):
        assert "bank" not in where.lower()
        assert "transfer" not in where.lower()
    # and the PDF asks to pay online with the invoice number as reference
    assert _contains(text, label("pay_online", "en", reference=invoice.number))
    assert _contains(text, f"Reference {invoice.number}")
    # and the Pay page still offers paying online.
    assert "Pay online" in pay_page


def test_with_bank_details_the_invoice_and_pay_page_give_them(account, client, settings):
    settings.REMIT_SELLER = {**settings.REMIT_SELLER, **BANK}
    invoice = buy_credits_by_invoice(account, credits=150)

    _, text = _stored(invoice)
    client.force_login(MembershipFactory(account=account).user)
    pay_page = client.get(reverse("usercenter:invoice_pay", args=[invoice.pk])).content.decode()

    assert _contains(text, label("pay_by_transfer", "en", reference=invoice.number))
    assert _contains(text, "Account number 000123456789")
    assert _contains(text, "Routing number 110000000")
    assert "pay online by the due date" not in text
    assert "Pay by bank transfer" in pay_page
    assert "000123456789" in pay_page
