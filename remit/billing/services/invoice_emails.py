"""A customer sends an invoice's email again (UC5)."""

from __future__ import annotations

from django.db import transaction

from remit.billing.actors import Actor
from remit.billing.models import Invoice
from remit.billing.services.audit import audit_record
from remit.documents.models import EmailMessage
from remit.documents.services.archive import invoice_document_ready
from remit.documents.services.emails import email_resend

# Customers may resend one invoice's email this often per hour; support has no limit.
CUSTOMER_RESENDS_PER_HOUR = 5


def invoice_email_resend(*, invoice: Invoice, actor: Actor) -> EmailMessage:
    """Queue the current revision's email again, to the account's invoice recipients."""
    document = invoice_document_ready(invoice=invoice)
    with transaction.atomic():
        email = email_resend(
            document=document,
            max_per_hour=CUSTOMER_RESENDS_PER_HOUR if actor.kind == "user" else None,
        )
        audit_record(
            actor=actor,
            action="invoice.email_resent",
            subject=invoice,
            account=invoice.account,
            new_values={"email": email.pk, "recipients": email.recipients},
        )
    return email
