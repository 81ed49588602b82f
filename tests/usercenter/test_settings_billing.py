"""Settings › Billing (UC3, X3): billing details for future invoices, PO numbers, and applying
a PO number to unpaid invoices as revisions."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from remit.billing.models import BillingProfile, Invoice, InvoiceRevision, PurchaseOrderNumber
from tests.billing.helpers import buy_credits_by_invoice, pay_invoice
from tests.factories import AccountFactory, PurchaseOrderNumberFactory

pytestmark = pytest.mark.django_db

DETAILS = {
    "legal_name": "Renamed GmbH",
    "address_line1": "Neue Straße 9",
    "city": "Hamburg",
    "postal_code": "20095",
    "country": "DE",
    "tax_id": "DE136695976",
    "invoice_recipient_emails": "billing@renamed.example",
}


def test_the_page_shows_the_current_details(signed_in, account):
    page = signed_in.get(reverse("usercenter:settings_billing")).content.decode()

    assert account.billing_profile.legal_name in page
    assert "apply to invoices issued from now on" in page


def test_saving_details_changes_future_invoices_only(signed_in, account):
    issued = buy_credits_by_invoice(account)

    response = signed_in.post(reverse("usercenter:settings_billing_profile"), DETAILS)

    assert response.status_code == 302
    assert BillingProfile.objects.get(account=account).legal_name == "Renamed GmbH"
    assert Invoice.objects.get(pk=issued.pk).buyer["legal_name"] != "Renamed GmbH"
    assert buy_credits_by_invoice(account).buyer["legal_name"] == "Renamed GmbH"


def test_invalid_details_are_refused_and_nothing_changes(signed_in, account):
    before = BillingProfile.objects.get(account=account).legal_name

    response = signed_in.post(
        reverse("usercenter:settings_billing_profile"),
        {**DETAILS, "tax_id": "DE000000000", "city": ""},
    )

    assert response.status_code == 400
    assert set(response.context["profile_form"].errors) == {"tax_id", "city"}
    assert BillingProfile.objects.get(account=account).legal_name == before


def test_a_wrong_vat_number_is_explained_in_the_customers_language(signed_in, account):
    # Given a German-speaking customer who mistypes the last digit of the VAT number
    signed_in.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    before = BillingProfile.objects.get(account=account).tax_id

    # When the details are saved
    response = signed_in.post(
        reverse("usercenter:settings_billing_profile"), {**DETAILS, "tax_id": "DE136695977"}
    )

    # Then the field says what is wrong and what a German VAT number looks like
    assert response.status_code == 400
    assert response.context["profile_form"].errors["tax_id"] == [
        "Eine USt-IdNr. (Deutschland) besteht aus DE und 9 Ziffern. Die Prüfziffer von "
        "DE136695977 ist falsch; bitte prüfen Sie die Nummer auf Tippfehler."
    ]
    assert BillingProfile.objects.get(account=account).tax_id == before


def test_a_vat_number_with_markup_is_shown_escaped(signed_in, account):
    response = signed_in.post(
        reverse("usercenter:settings_billing_profile"), {**DETAILS, "tax_id": "<b>DE1</b>"}
    )

    body = response.content.decode()
    assert response.status_code == 400
    assert "DE&lt;B&gt;DE1&lt;B&gt; does not have this form." in body
    assert "<B>" not in body


def test_adding_a_po_number_applied_to_unpaid_invoices_revises_them(signed_in, account):
    unpaid = buy_credits_by_invoice(account)
    paid = buy_credits_by_invoice(account)
    pay_invoice(paid)

    response = signed_in.post(
        reverse("usercenter:settings_po_add"),
        {"value": "PO-2026-77", "make_default": "on", "apply_to_unpaid": "on"},
        follow=True,
    )

    assert f"issued and emailed for: {unpaid.number}" in response.content.decode()
    assert InvoiceRevision.objects.filter(
        invoice=unpaid, revision=2, po_number="PO-2026-77"
    ).exists()
    assert not InvoiceRevision.objects.filter(invoice=paid, revision=2).exists()
    assert PurchaseOrderNumber.objects.get(account=account).is_default


def test_a_duplicate_po_number_is_refused(signed_in, account):
    PurchaseOrderNumberFactory(account=account, value="PO-1")

    response = signed_in.post(reverse("usercenter:settings_po_add"), {"value": "PO-1"})

    assert response.status_code == 400
    assert "already on your list" in response.content.decode()
    assert PurchaseOrderNumber.objects.filter(account=account).count() == 1


def test_editing_and_removing_a_po_number(signed_in, account):
    po = PurchaseOrderNumberFactory(account=account, value="PO-OLD")
    url = reverse("usercenter:settings_po_change", args=[po.pk])

    signed_in.post(url, {"value": "PO-NEW", "action": "save"})
    assert PurchaseOrderNumber.objects.get(pk=po.pk).value == "PO-NEW"

    signed_in.post(url, {"value": "PO-NEW", "action": "delete"})
    assert not PurchaseOrderNumber.objects.filter(pk=po.pk).exists()


def test_another_accounts_po_numbers_cannot_be_touched(signed_in, catalogue):
    foreign = PurchaseOrderNumberFactory(account=AccountFactory(), value="PO-X")

    response = signed_in.post(
        reverse("usercenter:settings_po_change", args=[foreign.pk]), {"action": "delete"}
    )

    assert response.status_code == 404
    assert PurchaseOrderNumber.objects.filter(pk=foreign.pk).exists()
