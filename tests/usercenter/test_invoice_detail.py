"""The invoice's page and the documents of an invoice (UC2, UC4, X2): every revision, credit
note and receipt reachable from the invoice, a voided invoice's row naming its credit note and
replacement, the list without N+1 queries, export links only when there is something to export."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from remit.billing.models import AuditEvent, ChangeRequest
from remit.billing.services.change_requests import change_request_close, change_request_create
from remit.billing.services.invoices import invoice_reissue, invoice_void
from remit.billing.services.po_numbers import po_number_add
from remit.documents.models import Document, EmailMessage
from remit.documents.services.archive import document_open
from tests.billing.helpers import ACTOR, buy_credits_by_card, buy_credits_by_invoice, pay_invoice
from tests.factories import AccountFactory, BillingProfileFactory

pytestmark = pytest.mark.django_db


def _page(client, name, *args):
    response = client.get(reverse(f"usercenter:{name}", args=args))
    assert response.status_code == 200
    return response.content.decode()


def test_a_voided_invoices_row_names_and_links_its_credit_note_and_replacement(signed_in, account):
    invoice = buy_credits_by_invoice(account, 120)
    replacement = invoice_reissue(invoice=invoice, actor=ACTOR, reason="More credits", credits=150)
    invoice.refresh_from_db()
    credit_note = invoice.credit_note
    credit_document = Document.objects.get(credit_note=credit_note)

    page = _page(signed_in, "orders")

    row = re.search(rf'<tr id="order-{invoice.order_id}">.*?</tr>', page, re.S)
    assert row is not None
    assert "Void" in row.group(0)
    assert "Credit note <a" in row.group(0)
    assert reverse("usercenter:document_print", args=[credit_document.pk]) in row.group(0)
    assert f">{credit_note.number}</a>" in row.group(0)
    assert reverse("usercenter:invoice_detail", args=[replacement.pk]) in row.group(0)
    assert f">{replacement.number}</a>" in row.group(0)


def test_the_invoice_page_lists_its_revisions_credit_note_and_receipts(signed_in, account):
    voided = buy_credits_by_invoice(account, 120)
    invoice_void(invoice=voided, actor=ACTOR, reason_code="duplicate", reason="Ordered twice")
    paid = buy_credits_by_invoice(account, 130)
    payment = pay_invoice(paid)

    page = _page(signed_in, "invoice_detail", voided.pk)
    voided.refresh_from_db()
    assert f"Invoice {voided.number}" in page
    credit_document = Document.objects.get(credit_note=voided.credit_note)
    assert (
        f'<dt>Credit note</dt><dd><a class="nowrap" href="'
        f'{reverse("usercenter:document_print", args=[credit_document.pk])}">'
        f"{voided.credit_note.number}</a>"
    ) in page
    assert f"Credit note {voided.credit_note.number}" in page
    assert reverse("usercenter:invoice_pay", args=[voided.pk]) not in page
    assert "This invoice is void and cannot be changed." in page
    documents = Document.objects.filter(credit_note=voided.credit_note) | Document.objects.filter(
        invoice=voided
    )
    assert documents.count() == 2
    for document in documents:
        assert reverse("usercenter:document_pdf", args=[document.pk]) in page
        assert reverse("usercenter:document_print", args=[document.pk]) in page
        assert reverse("usercenter:document_resend", args=[document.pk]) in page

    page = _page(signed_in, "invoice_detail", paid.pk)
    receipt = Document.objects.get(payment=payment)
    assert f"Payment receipt for {paid.number}" in page
    assert reverse("usercenter:document_pdf", args=[receipt.pk]) in page
    assert "Paid on" in page


def test_an_unpaid_invoices_page_offers_pay_download_print_email_and_a_change(signed_in, account):
    invoice = buy_credits_by_invoice(account, 120, po_number="PO-1")
    document = Document.objects.get(invoice=invoice)

    page = _page(signed_in, "invoice_detail", invoice.pk)

    assert reverse("usercenter:invoice_pay", args=[invoice.pk]) in page
    assert reverse("usercenter:document_pdf", args=[document.pk]) in page
    assert reverse("usercenter:invoice_print", args=[invoice.pk]) in page
    assert reverse("usercenter:invoice_resend", args=[invoice.pk]) in page
    assert reverse("usercenter:invoice_change_request", args=[invoice.pk]) in page
    assert "PO-1" in page
    # No database ids or minor units on the screen: amounts as money.
    assert "$120.00" in page
    assert "12000" not in page


def test_a_pending_document_is_stored_when_downloaded_and_its_print_view_shown(signed_in, account):
    invoice = buy_credits_by_invoice(account, 120)
    invoice_void(invoice=invoice, actor=ACTOR, reason_code="duplicate", reason="dup")
    document = Document.objects.get(credit_note__invoice=invoice)
    assert document.status == Document.Status.PENDING

    response = signed_in.get(reverse("usercenter:document_pdf", args=[document.pk]))

    assert response.status_code == 200
    document.refresh_from_db()
    assert document.status == Document.Status.STORED
    assert b"".join(response.streaming_content) == document_open(document)
    page = _page(signed_in, "document_print", document.pk)
    assert document.number in page
    assert invoice.number in page
    assert reverse("usercenter:invoice_detail", args=[invoice.pk]) in page


def test_a_credit_note_can_be_emailed_again(signed_in, account):
    invoice = buy_credits_by_invoice(account, 120)
    credit_note = invoice_void(invoice=invoice, actor=ACTOR, reason_code="duplicate", reason="dup")
    document = Document.objects.get(credit_note=credit_note)

    response = signed_in.post(reverse("usercenter:document_resend", args=[document.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("usercenter:invoice_detail", args=[invoice.pk])
    resend = EmailMessage.objects.get(kind=EmailMessage.Kind.RESEND)
    assert resend.document == document
    event = AuditEvent.objects.get(action="document.email_resent")
    assert event.new_values["document"] == credit_note.number
    page = signed_in.get(response["Location"]).content.decode()
    assert f"Credit note {credit_note.number} is being emailed to" in page
    again = signed_in.get(reverse("usercenter:document_resend", args=[document.pk]))
    assert again.status_code == 405


def test_another_accounts_invoice_page_and_documents_are_not_found(signed_in, catalogue):
    other = AccountFactory()
    BillingProfileFactory(account=other)
    invoice = buy_credits_by_invoice(other, 100)
    invoice_void(invoice=invoice, actor=ACTOR, reason_code="duplicate", reason="dup")
    document = Document.objects.get(credit_note__invoice=invoice)

    for name, pk in (
        ("invoice_detail", invoice.pk),
        ("invoice_print", invoice.pk),
        ("document_print", document.pk),
        ("document_pdf", document.pk),
    ):
        assert signed_in.get(reverse(f"usercenter:{name}", args=[pk])).status_code == 404
    resend = signed_in.post(reverse("usercenter:document_resend", args=[document.pk]))
    assert resend.status_code == 404
    assert not EmailMessage.objects.filter(kind=EmailMessage.Kind.RESEND).exists()


def test_a_change_request_shows_its_state_date_and_answer_on_the_invoice_page(signed_in, account):
    invoice = buy_credits_by_invoice(account, 120)
    request = change_request_create(invoice=invoice, actor=ACTOR, kind="change", reason="VAT ID")

    page = _page(signed_in, "invoice_detail", invoice.pk)
    assert 'class="change-status state-open" data-change-status="open"' in page
    assert "You asked on" in page
    # One open request at a time: no form until it is answered.
    assert reverse("usercenter:invoice_change_request", args=[invoice.pk]) not in page

    change_request_close(change_request=request, actor=ACTOR, status="done", response="Added.")
    page = _page(signed_in, "invoice_detail", invoice.pk)
    assert 'class="change-status state-done" data-change-status="done"' in page
    assert "Change request done: Added." in page
    assert reverse("usercenter:invoice_change_request", args=[invoice.pk]) in page
    orders = _page(signed_in, "orders")
    assert 'class="change-status state-done"' in orders


def test_a_bad_change_request_shows_the_invoice_page_again_with_the_error(signed_in, account):
    invoice = buy_credits_by_invoice(account, 120)

    response = signed_in.post(
        reverse("usercenter:invoice_change_request", args=[invoice.pk]),
        {"kind": "change", "reason": ""},
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert f"Invoice {invoice.number}" in page
    assert 'class="field invalid"' in page
    assert ChangeRequest.objects.count() == 0


def test_export_links_appear_only_when_there_is_something_to_export(signed_in, account):
    assert "Download for your accounting" not in _page(signed_in, "orders")
    # A card order without an invoice yet has no document to export.
    buy_credits_by_card(account)
    assert "Download for your accounting" not in _page(signed_in, "orders")

    invoice = buy_credits_by_invoice(account, 120)

    page = _page(signed_in, "orders")
    assert "Download for your accounting" in page
    assert f"?year={invoice.issue_date.year}" in page


def _orders_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("usercenter:orders")).status_code == 200
    return len(queries)


def test_the_list_reads_credit_notes_and_replacements_without_a_query_per_row(signed_in, account):
    first = buy_credits_by_invoice(account, 120)
    replacement = invoice_reissue(invoice=first, actor=ACTOR, reason="More", credits=140)
    change_request_create(invoice=replacement, actor=ACTOR, kind="change", reason="x")
    baseline = _orders_queries(signed_in)

    for credits in (150, 160, 170):
        invoice = buy_credits_by_invoice(account, credits)
        replacement = invoice_reissue(
            invoice=invoice, actor=ACTOR, reason="More", credits=credits + 5
        )
        invoice_void(invoice=replacement, actor=ACTOR, reason_code="duplicate", reason="dup")

    assert _orders_queries(signed_in) == baseline


def test_every_revision_of_an_invoice_is_listed_with_its_own_download(signed_in, account):
    invoice = buy_credits_by_invoice(account, 120)
    po_number_add(
        account=account, actor=ACTOR, value="PO-77", make_default=True, apply_to_unpaid=True
    )
    invoice.refresh_from_db()
    assert invoice.revision == 2
    first, second = Document.objects.filter(invoice=invoice).order_by("invoice_revision")

    page = _page(signed_in, "invoice_detail", invoice.pk)

    assert f'<th scope="row">Invoice {invoice.number}</th>' in page
    assert f'<th scope="row">Invoice {invoice.number}, revision 2</th>' in page
    for document in (first, second):
        assert reverse("usercenter:document_pdf", args=[document.pk]) in page
    # The page's own Download PDF is the current revision.
    assert (
        f'<a class="button" href="{reverse("usercenter:document_pdf", args=[second.pk])}">'
        "Download PDF</a>"
    ) in page
