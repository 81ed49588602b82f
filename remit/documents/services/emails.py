"""Document emails through an outbox (UC5): queued with the event, sent after commit by a task,
retried with backoff, and never sent again once an attempt succeeded."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Max
from django.template.loader import render_to_string
from django.utils import timezone

from remit.billing.models import Account, BillingProfile
from remit.core.errors import ResendLimitReached
from remit.core.i18n import format_day, format_money, label, normalise_language
from remit.documents.models import Document, EmailMessage
from remit.documents.selectors import document_po_number
from remit.documents.services.archive import document_open
from remit.documents.services.rendering import support_line

MAX_ATTEMPTS = 8
# While one worker sends, others leave the message alone this long: far longer than an SMTP
# conversation may take (EMAIL_TIMEOUT per network operation).
SEND_LEASE = timedelta(minutes=10)
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=1)
_UNSAFE_ID = re.compile(r"[^A-Za-z0-9.\-]")


def email_recipients(account: Account, *, profile: BillingProfile | None = None) -> list[str]:
    """The billing profile's invoice recipients, else the account members' addresses.

    ``profile``: the account's billing profile when the caller already read it in this
    transaction (issuing does, under the account lock), which saves reading it again."""
    if profile is None:
        profile = BillingProfile.objects.filter(account=account).first()
    else:
        assert profile.account_id == account.pk
    if profile and profile.invoice_recipient_emails:
        return list(profile.invoice_recipient_emails)
    return sorted(
        {
            membership.user.email
            for membership in account.memberships.select_related("user")
            if membership.user.email and membership.user.is_active
        }
    )


def _message_id(document: Document, kind: str, resend_number: int) -> str:
    """Deterministic: the same event always has the same Message-ID, so a receiver can drop a
    copy delivered twice after a crash between the SMTP reply and our bookkeeping."""
    local = _UNSAFE_ID.sub("-", f"{kind}.{document.number}.r{document.invoice_revision or 1}")
    return f"<{local}.{resend_number}.{document.pk}@{settings.REMIT_MESSAGE_ID_DOMAIN}>"


def email_queue(
    *,
    document: Document,
    kind: str,
    resend_number: int = 0,
    profile: BillingProfile | None = None,
) -> EmailMessage:
    """Queue the email of ``kind`` for ``document``; once per (document, kind, resend number),
    which the database enforces. ``profile``: see :func:`email_recipients`."""
    recipients = email_recipients(document.account, profile=profile)
    email = EmailMessage.objects.create(
        account_id=document.account_id,
        document=document,
        kind=kind,
        resend_number=resend_number,
        recipients=recipients,
        language=document.language,
        message_id=_message_id(document, kind, resend_number),
        status=EmailMessage.Status.QUEUED if recipients else EmailMessage.Status.FAILED,
        last_error="" if recipients else "No recipients: no billing emails and no members",
    )
    if document.status == Document.Status.STORED:
        _schedule_send(email.pk)
    return email


def email_resend(
    *,
    document: Document,
    kind: str = EmailMessage.Kind.RESEND,
    max_per_hour: int | None = None,
) -> EmailMessage:
    """Send a document's email again (customer or support request, UC5/X2). With
    ``max_per_hour``, a further resend within the hour is refused (``resend_limit_reached``);
    the count is taken under the document's row lock, so parallel clicks cannot exceed it."""
    with transaction.atomic():
        # The locked row, not the caller's copy: whether to schedule the send depends on its
        # current status.
        locked = Document.objects.select_for_update().get(pk=document.pk)
        if max_per_hour is not None:
            recent = EmailMessage.objects.filter(
                document=locked, kind=kind, created_at__gte=timezone.now() - timedelta(hours=1)
            ).count()
            if recent >= max_per_hour:
                raise ResendLimitReached(
                    f"This email was already sent again {recent} times in the last hour.",
                    details={"limit": max_per_hour},
                )
        latest = EmailMessage.objects.filter(document=locked, kind=kind).aggregate(
            latest=Max("resend_number")
        )["latest"]
        return email_queue(
            document=locked, kind=kind, resend_number=1 if latest is None else latest + 1
        )


def _schedule_send(email_id: int, run_after: datetime | None = None) -> None:
    from remit.documents.tasks import email_send_task

    task = email_send_task.using(run_after=run_after) if run_after else email_send_task
    transaction.on_commit(lambda: task.enqueue(email_id))


def emails_schedule_for_documents(*, documents: list[Document]) -> None:
    """Send the queued emails of documents just stored (after commit)."""
    queued = EmailMessage.objects.filter(
        document__in=documents, status=EmailMessage.Status.QUEUED
    ).values_list("pk", flat=True)
    for email_id in queued:
        _schedule_send(email_id)


def _subject(email: EmailMessage) -> str:
    document = email.document
    language = email.language
    if document.kind == Document.Kind.CREDIT_NOTE:
        assert document.credit_note is not None
        subject = label(
            "subject_credit_note_issued",
            language,
            number=document.number,
            invoice=document.credit_note.invoice.number,
        )
    else:
        key = {
            Document.Kind.RECEIPT: "subject_payment_receipt",
            Document.Kind.INVOICE: (
                "subject_invoice_revised"
                if email.kind == EmailMessage.Kind.INVOICE_REVISED
                else "subject_invoice_issued"
            ),
        }[Document.Kind(document.kind)]
        subject = label(key, language, number=document.number)
    po_number = document_po_number(document)
    if po_number:
        subject = f"{subject} – {label('subject_po', language, po=po_number)}"
    # Header injection is impossible: line breaks never reach a header.
    return " ".join(subject.split())


def _body_context(email: EmailMessage) -> dict[str, Any]:
    document = email.document
    language = normalise_language(email.language)
    source = (
        document.credit_note if document.kind == Document.Kind.CREDIT_NOTE else document.invoice
    )
    assert source is not None
    amount = format_money(source.total_minor, source.currency, language)
    paragraphs: list[str] = []
    if document.kind == Document.Kind.CREDIT_NOTE:
        assert document.credit_note is not None
        paragraphs.append(
            label(
                "body_credit_note_issued",
                language,
                number=document.number,
                invoice=document.credit_note.invoice.number,
                amount=amount,
            )
        )
    elif document.kind == Document.Kind.RECEIPT:
        assert document.payment is not None
        paid = format_money(document.payment.amount_minor, document.payment.currency, language)
        paragraphs.append(
            label("body_payment_receipt", language, number=document.number, amount=paid)
        )
    elif email.kind == EmailMessage.Kind.INVOICE_REVISED:
        paragraphs.append(
            label(
                "body_invoice_revised",
                language,
                number=document.number,
                revision=str(document.invoice_revision),
            )
        )
    else:
        paragraphs.append(
            label("body_invoice_issued", language, number=document.number, amount=amount)
        )
        assert document.invoice is not None
        if document.invoice.due_date > document.invoice.issue_date:
            paragraphs.append(
                label("body_due", language, date=format_day(document.invoice.due_date, language))
            )
    seller = source.seller
    return {
        "greeting": label("greeting", language, name=source.buyer.get("legal_name", "")),
        "paragraphs": paragraphs,
        "sign_off": label("sign_off", language),
        "seller_name": seller.get("legal_name", ""),
        "support": support_line(seller, language),
        "language": language,
    }


def email_build(email: EmailMessage) -> EmailMultiAlternatives:
    context = _body_context(email)
    document = email.document
    source = (
        document.credit_note if document.kind == Document.Kind.CREDIT_NOTE else document.invoice
    )
    assert source is not None
    support_email = source.seller.get("support_email")
    message = EmailMultiAlternatives(
        subject=_subject(email),
        body=render_to_string("emails/document.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=list(email.recipients),
        reply_to=[support_email] if support_email else None,
        headers={"Message-ID": email.message_id, "Auto-Submitted": "auto-generated"},
        connection=get_connection(timeout=settings.EMAIL_TIMEOUT),
    )
    message.attach_alternative(render_to_string("emails/document.html", context), "text/html")
    message.attach(document.download_name, document_open(document), "application/pdf")
    return message


def _retry_delay(attempts: int) -> timedelta:
    return min(MAX_RETRY, FIRST_RETRY * (2 ** max(0, attempts - 1)))


def _holds_lease(email: EmailMessage, attempt: int) -> bool:
    return email.status == EmailMessage.Status.SENDING and email.attempts == attempt


def email_send(*, email_id: int) -> EmailMessage:
    """Send one queued email (idempotent; see the module docstring)."""
    now = timezone.now()
    with transaction.atomic():
        email = EmailMessage.objects.select_for_update().get(pk=email_id)
        due = email.next_attempt_at is None or email.next_attempt_at <= now + timedelta(seconds=1)
        if email.status in (EmailMessage.Status.SENT, EmailMessage.Status.FAILED) or not due:
            return email
        if Document.objects.get(pk=email.document_id).status != Document.Status.STORED:
            return email  # storing the document schedules its emails
        email.status = EmailMessage.Status.SENDING
        email.attempts += 1
        email.next_attempt_at = now + SEND_LEASE
        email.save(update_fields=["status", "attempts", "next_attempt_at"])
    attempt = email.attempts
    email = EmailMessage.objects.select_related(
        "document__invoice", "document__credit_note__invoice", "document__payment"
    ).get(pk=email_id)
    try:
        email_build(email).send()
    except Exception as error:  # any delivery failure is retried, never lost
        with transaction.atomic():
            email = EmailMessage.objects.select_for_update().get(pk=email_id)
            if not _holds_lease(email, attempt):
                return email  # a later attempt took over after our lease ran out
            email.last_error = f"{type(error).__name__}: {error}"[:2000]
            if email.attempts >= MAX_ATTEMPTS:
                email.status = EmailMessage.Status.FAILED
                email.next_attempt_at = None
            else:
                email.status = EmailMessage.Status.QUEUED
                email.next_attempt_at = timezone.now() + _retry_delay(email.attempts)
                _schedule_send(email.pk, run_after=email.next_attempt_at)
            email.save(update_fields=["status", "next_attempt_at", "last_error"])
        return email
    with transaction.atomic():
        email = EmailMessage.objects.select_for_update().get(pk=email_id)
        if email.status == EmailMessage.Status.SENT:
            return email
        email.status = EmailMessage.Status.SENT
        email.sent_at = timezone.now()
        email.next_attempt_at = None
        email.last_error = ""
        email.save(update_fields=["status", "sent_at", "next_attempt_at", "last_error"])
    return email
