"""A customer sends a document's email again (UC5): an invoice, a credit note, a receipt."""

from __future__ import annotations

from django.db import transaction

from remit.billing.actors import Actor
from remit.billing.models import CreditNote, Invoice
from remit.billing.services.audit import audit_record
from remit.documents.models import Document, EmailMessage
from remit.documents.services.archive import document_ready, invoice_document_ready
from remit.documents.services.emails import email_resend

# Customers may resend one invoice's email this often per hour; support has no limit.
CUSTOMER_RESENDS_PER_HOUR = 5


def invoice_email_resend(*, invoice: Invoice, actor: Actor) -> EmailMessage:
    """Queue the current revision's email again, to the account's invoice recipients."""
    return document_email_resend(document=invoice_document_ready(invoice=invoice), actor=actor)


def document_email_resend(*, document: Document, actor: Actor) -> EmailMessage:
    """Queue a document's email again (an invoice revision, a credit note or a payment receipt),
    to the account's invoice recipients; customers at most ``CUSTOMER_RESENDS_PER_HOUR`` times an
    hour per document (``resend_limit_reached``)."""
    document = document_ready(document=document)
    subject: Invoice | CreditNote | None = (
        document.credit_note if document.kind == Document.Kind.CREDIT_NOTE else document.invoice
    )
    assert subject is not None
    with transaction.atomic():
        email = email_resend(
            document=document,
            max_per_hour=CUSTOMER_RESENDS_PER_HOUR if actor.kind == "user" else None,
        )
        audit_record(
            actor=actor,
            action="invoice.email_resent"
            if document.kind == Document.Kind.INVOICE
            else "document.email_resent",
            subject=subject,
            account=document.account,
            new_values={
                "email": email.pk,
                "recipients": email.recipients,
                "document": document.number,
                "kind": document.kind,
            },
        )
    return email
