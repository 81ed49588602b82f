"""Invoice row actions: request a change (X4), email again (UC5), year downloads (UC7)."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from django.urls import reverse

from remit.billing.models import AuditEvent, ChangeRequest
from remit.billing.services.change_requests import change_request_close, change_request_create
from remit.billing.services.invoices import invoice_void
from remit.core.errors import ChangeRequestNotAllowed, ValidationFailed
from remit.documents.models import EmailMessage
from tests.billing.helpers import ACTOR, buy_credits_by_invoice
from tests.concurrency import run_concurrently
from tests.factories import AccountFactory, BillingProfileFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice(account):
    return buy_credits_by_invoice(account, 120)


def _request(client, invoice, **data):
    return client.post(
        reverse("usercenter:invoice_change_request", args=[invoice.pk]),
        {"kind": "change", "reason": "Please add our VAT ID.", **data},
    )


# --- X4 ---------------------------------------------------------------------------------------


def test_a_change_request_is_sent_and_its_status_shows_on_the_row(signed_in, invoice):
    response = _request(signed_in, invoice)
    assert response.status_code == 302
    request = ChangeRequest.objects.get()
    assert (request.invoice, request.kind, request.status) == (invoice, "change", "open")
    assert request.reason == "Please add our VAT ID."
    assert AuditEvent.objects.filter(action="change_request.created").count() == 1
    page = signed_in.get(reverse("usercenter:orders")).content.decode()
    assert "sent to our support team" in page
    assert 'data-change-status="open"' in page
    assert "Change requested — waiting for support" in page


def test_a_second_open_request_for_the_same_invoice_is_refused(signed_in, invoice):
    _request(signed_in, invoice)
    response = _request(signed_in, invoice, kind="void")
    assert response.status_code == 302
    assert ChangeRequest.objects.count() == 1
    assert "already has a request" in signed_in.get(response["Location"]).content.decode()


def test_a_closed_request_shows_supports_answer_and_a_new_one_can_be_made(signed_in, invoice):
    request = change_request_create(invoice=invoice, actor=ACTOR, kind="void", reason="Dup")
    change_request_close(
        change_request=request, actor=ACTOR, status="declined", response="The invoice is correct."
    )
    page = signed_in.get(reverse("usercenter:orders")).content.decode()
    assert "Change request declined: The invoice is correct." in page
    assert _request(signed_in, invoice).status_code == 302
    assert ChangeRequest.objects.filter(status="open").count() == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reason": ""}, "This field is required."),
        ({"reason": "x" * 2001}, "at most 2000 characters"),
        ({"kind": "delete"}, "Select a valid choice."),
    ],
)
def test_a_bad_change_request_is_shown_again_with_the_error(signed_in, invoice, data, message):
    response = _request(signed_in, invoice, **data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert ChangeRequest.objects.count() == 0


def test_control_characters_in_the_reason_are_refused_by_the_service(invoice):
    with pytest.raises(ValidationFailed) as error:
        change_request_create(invoice=invoice, actor=ACTOR, kind="change", reason="a\x00b")
    assert list(error.value.field_errors) == ["reason"]


def test_a_void_invoice_cannot_get_a_change_request(invoice):
    invoice_void(invoice=invoice, actor=ACTOR, reason_code="duplicate", reason="dup")
    with pytest.raises(ChangeRequestNotAllowed):
        change_request_create(invoice=invoice, actor=ACTOR, kind="change", reason="x")


def test_the_reason_is_escaped_on_the_page(signed_in, invoice):
    request = change_request_create(invoice=invoice, actor=ACTOR, kind="change", reason="x")
    change_request_close(
        change_request=request, actor=ACTOR, status="done", response="<img src=x onerror=alert(1)>"
    )
    page = signed_in.get(reverse("usercenter:orders")).content.decode()
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_another_accounts_invoice_cannot_be_asked_about(signed_in, catalogue):
    other = AccountFactory()
    BillingProfileFactory(account=other)
    foreign = buy_credits_by_invoice(other, 100)
    assert _request(signed_in, foreign).status_code == 404
    resend = signed_in.post(reverse("usercenter:invoice_resend", args=[foreign.pk]))
    assert resend.status_code == 404
    assert ChangeRequest.objects.count() == 0


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_parallel_change_requests_for_one_invoice_open_exactly_one(account):
    invoice = buy_credits_by_invoice(account, 100)
    outcomes = run_concurrently(
        [
            lambda: change_request_create(
                invoice=invoice, actor=ACTOR, kind="change", reason="same time"
            )
        ]
        * 8
    )
    assert sorted(type(o.error).__name__ if o.error else "ok" for o in outcomes) == (
        ["ChangeRequestOpen"] * 7 + ["ok"]
    )
    assert ChangeRequest.objects.filter(status="open").count() == 1


# --- UC5 --------------------------------------------------------------------------------------


def test_email_again_queues_the_current_revision_to_the_recipients(signed_in, invoice, account):
    response = signed_in.post(reverse("usercenter:invoice_resend", args=[invoice.pk]))
    assert response.status_code == 302
    resend = EmailMessage.objects.get(kind=EmailMessage.Kind.RESEND)
    assert resend.document.invoice == invoice
    assert (
        resend.recipients == account.billing_profile.invoice_recipient_emails or resend.recipients
    )
    page = signed_in.get(response["Location"]).content.decode()
    assert f"Invoice {invoice.number} is being emailed to" in page


def test_a_customer_can_resend_five_times_an_hour(signed_in, invoice):
    url = reverse("usercenter:invoice_resend", args=[invoice.pk])
    for _ in range(5):
        signed_in.post(url)
    refused = signed_in.post(url)
    assert (
        "emailed several times in the last hour"
        in signed_in.get(refused["Location"]).content.decode()
    )
    assert EmailMessage.objects.filter(kind=EmailMessage.Kind.RESEND).count() == 5


def test_resend_is_post_only(signed_in, invoice):
    assert signed_in.get(reverse("usercenter:invoice_resend", args=[invoice.pk])).status_code == 405


# --- UC7 --------------------------------------------------------------------------------------


def test_the_year_zip_and_csv_hold_the_accounts_invoices(signed_in, invoice):
    year = invoice.issue_date.year
    page = signed_in.get(reverse("usercenter:orders")).content.decode()
    assert f"{reverse('usercenter:documents_zip')}?year={year}" in page
    response = signed_in.get(reverse("usercenter:documents_zip"), {"year": year})
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert [name for name in archive.namelist() if invoice.number in name]
    response = signed_in.get(reverse("usercenter:documents_csv"), {"year": year})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert any(invoice.number in row for row in rows[1:])


def test_a_date_range_download_works_and_bad_ranges_are_explained(signed_in, invoice):
    day = invoice.issue_date.isoformat()
    ok = signed_in.get(reverse("usercenter:documents_csv"), {"start": day, "end": day})
    assert ok.status_code == 200
    for params in (
        {"start": "2026-02-01", "end": "2026-01-01"},
        {"start": "2020-01-01", "end": "2026-01-01"},
        {"start": "yesterday", "end": day},
        {"year": "abcd"},
        {},
    ):
        response = signed_in.get(reverse("usercenter:documents_zip"), params)
        assert response.status_code == 302
        assert "Choose a year" in signed_in.get(response["Location"]).content.decode()


def test_closing_a_request_twice_or_without_an_answer_is_refused(invoice):
    request = change_request_create(invoice=invoice, actor=ACTOR, kind="change", reason="x")
    with pytest.raises(ValidationFailed) as error:
        change_request_close(change_request=request, actor=ACTOR, status="open", response="")
    assert sorted(error.value.field_errors) == ["response", "status"]
    change_request_close(change_request=request, actor=ACTOR, status="done", response="Fixed.")
    with pytest.raises(ChangeRequestNotAllowed):
        change_request_close(change_request=request, actor=ACTOR, status="declined", response="no")
    assert AuditEvent.objects.filter(action="change_request.closed").count() == 1
