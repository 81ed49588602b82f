"""Document emails through the outbox (UC5), delivered to a real SMTP server on 127.0.0.1:
content and headers, languages, recipients, every kind of document, retry with backoff, never
twice, resend, header injection, and the outbox row sharing the business transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from remit.billing.locks import account_lock
from remit.billing.models import Invoice, InvoiceRevision
from remit.billing.services.invoices import invoice_void
from remit.billing.services.po_numbers import invoice_po_number_revise, po_number_add
from remit.documents.models import Document, EmailMessage
from remit.documents.services import emails as email_services
from remit.documents.services.archive import document_open
from remit.documents.services.emails import MAX_ATTEMPTS, email_resend, email_send
from remit.documents.services.recovery import documents_recover
from tests.billing.helpers import (
    ACTOR,
    buy_credits_by_card,
    buy_credits_by_invoice,
    pay_card_order,
    pay_invoice,
)
from tests.factories import AccountFactory, BillingProfileFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

SEND_TASK = "remit.documents.tasks.email_send_task"


@pytest.fixture
def deliver(run_tasks, django_capture_on_commit_callbacks):
    """Run ``action`` as the business event (its after-commit callbacks enqueue the work), then
    let the worker store and send everything that is due."""

    def run(action=None):  # type: ignore[no-untyped-def]
        result = None
        if action is not None:
            with django_capture_on_commit_callbacks(execute=True):
                result = action()
        run_tasks()
        return result

    return run


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def text_part(message) -> str:  # type: ignore[no-untyped-def]
    return message.get_body(preferencelist=("plain",)).get_content()


def html_part(message) -> str:  # type: ignore[no-untyped-def]
    return message.get_body(preferencelist=("html",)).get_content()


def pdf_attachments(message) -> list:  # type: ignore[no-untyped-def]
    return [
        part for part in message.iter_attachments() if part.get_content_type() == "application/pdf"
    ]


def subject_of(message) -> str:  # type: ignore[no-untyped-def]
    """The decoded Subject. Django (compat32 ``Header.encode``) folds a long non-ASCII subject
    right after ``Subject:``, so the unfolded value starts with the folding space; mail clients
    drop it, and so does this."""
    [subject] = message.get_all("Subject")
    assert "\r" not in subject
    assert "\n" not in subject
    return subject.lstrip(" ")


def outbox(document: Document) -> EmailMessage:
    return EmailMessage.objects.get(document=document)


# --- the invoice email -------------------------------------------------------------------------


def test_an_issued_invoice_is_emailed_once_with_its_stored_pdf(catalogue, smtp_server, deliver):
    account = AccountFactory()
    BillingProfileFactory(
        account=account,
        legal_name="Acme Corp",
        invoice_recipient_emails=["ap@example.com", "finance@example.com"],
    )
    invoice = deliver(lambda: buy_credits_by_invoice(account, credits=120, po_number="PO-55"))
    deliver()

    document = Document.objects.get(invoice=invoice)
    email = outbox(document)
    assert (email.status, email.attempts, email.kind) == (
        EmailMessage.Status.SENT,
        1,
        EmailMessage.Kind.INVOICE_ISSUED,
    )
    assert email.sent_at is not None
    assert email.next_attempt_at is None
    [message] = smtp_server.messages
    [(_, envelope_recipients)] = smtp_server.envelopes
    assert envelope_recipients == ["ap@example.com", "finance@example.com"]
    assert message["To"] == "ap@example.com, finance@example.com"
    assert message["From"] == settings.DEFAULT_FROM_EMAIL
    assert message["Reply-To"] == settings.REMIT_SUPPORT_EMAIL == "support@example.com"
    assert subject_of(message) == f"Invoice {invoice.number} – PO PO-55"
    assert invoice.number in message["Subject"]
    assert "PO-55" in message["Subject"]
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_all("Message-ID") == [email.message_id]
    # <kind.number.rREVISION.RESEND.DOCUMENT@domain>; characters outside [A-Za-z0-9.-]
    # (here the kind's underscore) become "-".
    assert email.message_id == (
        f"<invoice-issued.{invoice.number}.r1.0.{document.pk}@{settings.REMIT_MESSAGE_ID_DOMAIN}>"
    )
    # Deterministic: the same event always gets the same id.
    assert email_services._message_id(document, email.kind, 0) == email.message_id

    assert message.get_content_type() == "multipart/mixed"
    content_types = [part.get_content_type() for part in message.walk()]
    assert "multipart/alternative" in content_types
    assert content_types.count("text/plain") == 1
    assert content_types.count("text/html") == 1
    text = text_part(message)
    html = html_part(message)
    assert text.startswith("Hello Acme Corp,")
    assert invoice.number in text
    assert "$120.00" in text
    assert "<p>Hello Acme Corp,</p>" in html
    assert "support@example.com" in text

    [attachment] = pdf_attachments(message)
    assert len(list(message.iter_attachments())) == 1
    assert attachment.get_filename() == f"{invoice.number}.pdf"
    assert attachment.get_content() == document_open(document)


@pytest.mark.parametrize(
    ("language", "subject", "greeting", "sign_off"),
    [
        (
            "de",
            "Rechnung {number} – Bestellung {po}",
            "Guten Tag {name},",
            "Mit freundlichen Grüßen",
        ),
        ("ja", "請求書 {number} – 発注番号 {po}", "{name} 様", "よろしくお願いいたします。"),
    ],
    ids=["de", "ja"],
)
def test_the_email_is_in_the_account_language(
    catalogue, smtp_server, deliver, language, subject, greeting, sign_off
):
    account = AccountFactory(language=language)
    BillingProfileFactory(account=account, legal_name="Beispiel AG")
    invoice = deliver(lambda: buy_credits_by_invoice(account, credits=120, po_number="PO-77"))

    [message] = smtp_server.messages
    assert subject_of(message) == subject.format(number=invoice.number, po="PO-77")
    assert outbox(Document.objects.get(invoice=invoice)).language == language
    text = text_part(message)
    assert text.startswith(greeting.format(name="Beispiel AG"))
    assert sign_off in text
    assert greeting.format(name="Beispiel AG") in html_part(message)
    assert f'<html lang="{language}">' in html_part(message)


# --- recipients --------------------------------------------------------------------------------


def test_without_billing_recipients_the_account_members_are_emailed(
    catalogue, smtp_server, deliver
):
    account = AccountFactory()
    BillingProfileFactory(account=account, invoice_recipient_emails=[])
    MembershipFactory(account=account, user=UserFactory(username="owner@example.com"))
    MembershipFactory(account=account, user=UserFactory(username="member@example.com"))
    MembershipFactory(
        account=account, user=UserFactory(username="gone@example.com", is_active=False)
    )
    MembershipFactory(account=account, user=UserFactory(username="no-email", email=""))
    MembershipFactory(user=UserFactory(username="other-account@example.com"))

    invoice = deliver(lambda: buy_credits_by_invoice(account))

    email = outbox(Document.objects.get(invoice=invoice))
    assert email.recipients == ["member@example.com", "owner@example.com"]
    [message] = smtp_server.messages
    assert smtp_server.envelopes[0][1] == ["member@example.com", "owner@example.com"]
    assert message["To"] == "member@example.com, owner@example.com"


def test_without_any_recipient_the_email_fails_and_nothing_is_sent(catalogue, smtp_server, deliver):
    account = AccountFactory()
    BillingProfileFactory(account=account, invoice_recipient_emails=[])

    invoice = deliver(lambda: buy_credits_by_invoice(account))
    deliver()

    document = Document.objects.get(invoice=invoice)
    assert document.status == Document.Status.STORED
    email = outbox(document)
    assert email.status == EmailMessage.Status.FAILED
    assert email.recipients == []
    assert email.attempts == 0
    assert email.last_error == "No recipients: no billing emails and no members"
    assert email_send(email_id=email.pk).status == EmailMessage.Status.FAILED
    assert documents_recover() == {"documents_stored": 0, "emails_sent": 0, "failed": 0}
    assert smtp_server.messages == []


# --- every kind of document --------------------------------------------------------------------


def test_a_credit_note_is_emailed_with_its_own_subject_and_pdf(account, smtp_server, deliver):
    invoice = deliver(lambda: buy_credits_by_invoice(account, po_number="PO-55"))
    credit_note = deliver(
        lambda: invoice_void(
            invoice=invoice, actor=ACTOR, reason_code="duplicate", reason="Ordered twice"
        )
    )

    document = Document.objects.get(credit_note=credit_note)
    email = outbox(document)
    assert (email.kind, email.status) == (
        EmailMessage.Kind.CREDIT_NOTE_ISSUED,
        EmailMessage.Status.SENT,
    )
    assert len(smtp_server.messages) == 2
    message = smtp_server.messages[1]
    assert subject_of(message) == (
        f"Credit note {credit_note.number} for invoice {invoice.number} – PO PO-55"
    )
    assert message["Message-ID"] == email.message_id
    assert f"invoice {invoice.number} was cancelled" in text_part(message)
    [attachment] = pdf_attachments(message)
    assert attachment.get_filename() == f"{credit_note.number}.pdf"
    assert attachment.get_content() == document_open(document)


def test_a_credit_note_email_replies_to_support_like_the_other_documents(
    account, smtp_server, deliver
):
    invoice = deliver(lambda: buy_credits_by_invoice(account, po_number="PO-55"))
    deliver(lambda: invoice_void(invoice=invoice, actor=ACTOR, reason_code="duplicate", reason=""))

    issued, credit_note = smtp_server.messages
    assert issued["Reply-To"] == "support@example.com"
    assert credit_note["Reply-To"] == "support@example.com"


def test_a_revision_is_emailed_as_an_updated_invoice(account, smtp_server, deliver):
    invoice = deliver(lambda: buy_credits_by_invoice(account, po_number=""))
    assert subject_of(smtp_server.messages[0]) == f"Invoice {invoice.number}"

    deliver(
        lambda: po_number_add(account=account, actor=ACTOR, value="PO-900", apply_to_unpaid=True)
    )

    document = Document.objects.get(invoice=invoice, invoice_revision=2)
    email = outbox(document)
    assert (email.kind, email.status) == (
        EmailMessage.Kind.INVOICE_REVISED,
        EmailMessage.Status.SENT,
    )
    assert email.message_id.startswith(f"<invoice-revised.{invoice.number}.r2.0.")
    assert len(smtp_server.messages) == 2
    message = smtp_server.messages[1]
    assert subject_of(message) == f"Updated invoice {invoice.number} – PO PO-900"
    assert "(revision 2)" in text_part(message)
    [attachment] = pdf_attachments(message)
    assert attachment.get_filename() == f"{invoice.number}-r2.pdf"
    assert attachment.get_content() == document_open(document)
    # Revision 1's email is untouched.
    first = outbox(Document.objects.get(invoice=invoice, invoice_revision=1))
    assert (first.status, first.attempts) == (EmailMessage.Status.SENT, 1)


def test_a_payment_is_emailed_as_a_receipt(account, smtp_server, deliver):
    invoice = deliver(lambda: buy_credits_by_invoice(account, credits=120, po_number="PO-55"))
    payment = deliver(lambda: pay_invoice(invoice))

    document = Document.objects.get(payment=payment)
    email = outbox(document)
    assert (email.kind, email.status) == (
        EmailMessage.Kind.PAYMENT_RECEIPT,
        EmailMessage.Status.SENT,
    )
    assert len(smtp_server.messages) == 2
    message = smtp_server.messages[1]
    assert subject_of(message) == f"Payment received for invoice {invoice.number} – PO PO-55"
    assert message["Reply-To"] == "support@example.com"
    assert "we received your payment of $120.00" in text_part(message)
    [attachment] = pdf_attachments(message)
    assert attachment.get_filename() == f"receipt-{invoice.number}.pdf"
    assert attachment.get_content() == document_open(document)


def test_a_card_payment_issues_and_emails_a_paid_invoice(account, smtp_server, deliver):
    order = buy_credits_by_card(account, credits=50)
    payment = deliver(lambda: pay_card_order(order))

    invoice = Invoice.objects.get(order=order)
    assert invoice.status == Invoice.Status.PAID
    assert payment.invoice_id == invoice.pk
    email = outbox(Document.objects.get(invoice=invoice))
    assert (email.kind, email.status) == (
        EmailMessage.Kind.INVOICE_ISSUED,
        EmailMessage.Status.SENT,
    )
    assert list(EmailMessage.objects.values_list("kind", flat=True)) == ["invoice_issued"]
    [message] = smtp_server.messages
    assert subject_of(message) == f"Invoice {invoice.number}"
    assert "It is due on" not in text_part(message)
    [attachment] = pdf_attachments(message)
    assert attachment.get_content() == document_open(Document.objects.get(invoice=invoice))


# --- retries -----------------------------------------------------------------------------------


def test_a_refused_message_is_retried_after_the_backoff_and_sent_once(
    account, smtp_server, deliver, run_tasks, on_commit
):
    smtp_server.refuse = 1
    before = timezone.now()
    invoice = deliver(lambda: buy_credits_by_invoice(account, po_number="PO-55"))

    email = outbox(Document.objects.get(invoice=invoice))
    assert (email.status, email.attempts) == (EmailMessage.Status.QUEUED, 1)
    assert "451" in email.last_error
    assert email.last_error.startswith("SMTPDataError")
    assert email.sent_at is None
    assert before + timedelta(seconds=29) <= email.next_attempt_at
    assert email.next_attempt_at <= timezone.now() + timedelta(seconds=31)
    assert smtp_server.messages == []
    retry = DBTaskResult.objects.get(task_path=SEND_TASK, status=TaskResultStatus.READY)
    assert retry.args_kwargs["args"] == [email.pk]
    assert retry.run_after == email.next_attempt_at

    # Not due yet: neither the worker nor a direct call tries again.
    assert run_tasks() == 0
    assert email_send(email_id=email.pk).attempts == 1
    assert smtp_server.messages == []

    with time_machine.travel(email.next_attempt_at + timedelta(seconds=1), tick=False):
        with on_commit():
            email = email_send(email_id=email.pk)
        assert (email.status, email.attempts, email.last_error) == (
            EmailMessage.Status.SENT,
            2,
            "",
        )
        assert email.next_attempt_at is None
        assert run_tasks() == 1  # the scheduled retry finds the message already sent
    assert len(smtp_server.messages) == 1
    assert smtp_server.messages[0]["Message-ID"] == email.message_id
    email.refresh_from_db()
    assert (email.status, email.attempts) == (EmailMessage.Status.SENT, 2)


def test_after_eight_refusals_the_message_fails_for_good(account, smtp_server, deliver, on_commit):
    smtp_server.refuse = MAX_ATTEMPTS
    assert MAX_ATTEMPTS == 8
    invoice = deliver(lambda: buy_credits_by_invoice(account))
    email = outbox(Document.objects.get(invoice=invoice))
    delays = []
    while email.status == EmailMessage.Status.QUEUED:
        due = email.next_attempt_at
        with time_machine.travel(due + timedelta(seconds=1), tick=False), on_commit():
            email = email_send(email_id=email.pk)
            if email.next_attempt_at is not None:
                delays.append(email.next_attempt_at - timezone.now())

    assert (email.status, email.attempts) == (EmailMessage.Status.FAILED, 8)
    assert email.next_attempt_at is None
    assert "451" in email.last_error
    # Backoff doubles from 30 s: attempts 2..7 were followed by these waits.
    assert delays == [timedelta(seconds=30 * 2**n) for n in range(1, 7)]
    assert smtp_server.refuse == 0
    assert smtp_server.messages == []

    # No more attempts, even when the server would accept it now.
    with time_machine.travel(timezone.now() + timedelta(days=1), tick=False):
        assert email_send(email_id=email.pk).attempts == 8
        assert documents_recover()["emails_sent"] == 0
    email.refresh_from_db()
    assert (email.status, email.attempts) == (EmailMessage.Status.FAILED, 8)
    assert smtp_server.messages == []


def test_a_sent_message_is_never_sent_again(account, smtp_server, deliver, run_tasks, on_commit):
    invoice = deliver(lambda: buy_credits_by_invoice(account))
    email = outbox(Document.objects.get(invoice=invoice))
    assert email.status == EmailMessage.Status.SENT
    assert len(smtp_server.messages) == 1

    with on_commit():
        assert email_send(email_id=email.pk).status == EmailMessage.Status.SENT
    assert run_tasks() == 0
    with on_commit():
        assert documents_recover() == {"documents_stored": 0, "emails_sent": 0, "failed": 0}
    with time_machine.travel(timezone.now() + timedelta(days=1), tick=False):
        assert documents_recover() == {"documents_stored": 0, "emails_sent": 0, "failed": 0}

    assert len(smtp_server.messages) == 1
    email.refresh_from_db()
    assert (email.status, email.attempts) == (EmailMessage.Status.SENT, 1)


def test_a_resend_is_a_new_message_and_leaves_the_original_alone(account, smtp_server, deliver):
    invoice = deliver(lambda: buy_credits_by_invoice(account, po_number="PO-55"))
    document = Document.objects.get(invoice=invoice)
    original = outbox(document)
    original_row = EmailMessage.objects.filter(pk=original.pk).values().get()

    resend = deliver(lambda: email_resend(document=document))

    assert (resend.kind, resend.resend_number) == (EmailMessage.Kind.RESEND, 1)
    resend.refresh_from_db()
    assert (resend.status, resend.attempts) == (EmailMessage.Status.SENT, 1)
    assert resend.message_id != original.message_id
    assert resend.message_id == (
        f"<resend.{invoice.number}.r1.1.{document.pk}@{settings.REMIT_MESSAGE_ID_DOMAIN}>"
    )
    assert EmailMessage.objects.filter(pk=original.pk).values().get() == original_row
    first, second = smtp_server.messages
    assert first["Message-ID"] == original.message_id
    assert second["Message-ID"] == resend.message_id
    assert subject_of(second) == subject_of(first) == f"Invoice {invoice.number} – PO PO-55"
    assert pdf_attachments(second)[0].get_content() == document_open(document)

    again = deliver(lambda: email_resend(document=document))
    assert again.resend_number == 2
    assert len({m["Message-ID"] for m in smtp_server.messages}) == 3


# --- injection ---------------------------------------------------------------------------------


def test_a_po_number_with_line_breaks_cannot_add_headers_or_recipients(
    account, smtp_server, deliver
):
    hostile = "PO-1\r\nBcc: attacker@example.com"
    invoice = deliver(lambda: buy_credits_by_invoice(account, po_number="PO-1"))
    # The services refuse such a value; write it the only ways left open.
    Invoice.objects.filter(pk=invoice.pk).update(po_number=hostile)

    def revise() -> Invoice:
        locked = account_lock(account.pk)
        return invoice_po_number_revise(
            account=locked,
            invoice=Invoice.objects.get(pk=invoice.pk),
            po_number=hostile,
            actor=ACTOR,
            reason="hostile",
        )

    deliver(revise)

    assert InvoiceRevision.objects.get(invoice=invoice, revision=2).po_number == hostile
    email = outbox(Document.objects.get(invoice=invoice, invoice_revision=2))
    assert (email.status, email.attempts) == (EmailMessage.Status.SENT, 1)
    assert len(smtp_server.messages) == 2
    message = smtp_server.messages[1]
    assert message["Bcc"] is None
    assert "bcc" not in {name.lower() for name in message}
    for _, recipients in smtp_server.envelopes:
        assert recipients == ["ap@example.com"]
        assert "attacker@example.com" not in recipients
    # One Subject header, on one line, with the line break collapsed to a space.
    assert len(message.get_all("Subject")) == 1
    assert subject_of(message) == (
        f"Updated invoice {invoice.number} – PO PO-1 Bcc: attacker@example.com"
    )


def test_a_hostile_buyer_name_is_escaped_in_html_and_literal_in_text(
    catalogue, smtp_server, deliver
):
    account = AccountFactory()
    BillingProfileFactory(account=account, legal_name="<script>alert(1)</script>")
    deliver(lambda: buy_credits_by_invoice(account))

    [message] = smtp_server.messages
    html = html_part(message)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>" not in html
    text = text_part(message)
    assert text.startswith("Hello <script>alert(1)</script>,")


# --- the outbox shares the business transaction ------------------------------------------------


def test_a_rolled_back_invoice_issue_leaves_no_document_and_no_email(
    account, smtp_server, run_tasks, monkeypatch, django_capture_on_commit_callbacks
):
    from remit.billing.services import invoices

    real_audit_record = invoices.audit_record

    def failing_audit_record(**kwargs):  # type: ignore[no-untyped-def]
        if kwargs["action"] == "invoice.issued":
            # By now the invoice, its Document and its EmailMessage rows are written.
            assert Document.objects.filter(invoice=kwargs["subject"]).exists()
            assert EmailMessage.objects.filter(document__invoice=kwargs["subject"]).exists()
            raise RuntimeError("crash after the outbox row was written")
        return real_audit_record(**kwargs)

    monkeypatch.setattr(invoices, "audit_record", failing_audit_record)

    with (
        pytest.raises(RuntimeError, match="crash after the outbox row"),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        buy_credits_by_invoice(account, po_number="PO-55")

    assert callbacks == []
    assert not Invoice.objects.exists()
    assert not Document.objects.exists()
    assert not EmailMessage.objects.exists()
    assert not DBTaskResult.objects.exists()
    assert run_tasks() == 0
    assert smtp_server.messages == []
