"""Finishing work a dead worker left behind (pending documents, due emails)."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from remit.documents.models import Document, EmailMessage
from remit.documents.services.archive import document_store
from remit.documents.services.emails import email_send

logger = logging.getLogger(__name__)


def documents_recover(*, older_than: timedelta = timedelta(0)) -> dict[str, int]:
    """Finish work a dead worker left behind: store pending documents, send due emails.

    Run at worker start and periodically; safe beside live workers because storing and sending
    are idempotent and locked.
    """
    cutoff = timezone.now() - older_than
    stored = 0
    failed = 0
    for document_id in Document.objects.filter(
        status=Document.Status.PENDING, created_at__lte=cutoff
    ).values_list("pk", flat=True):
        try:
            document_store(document_id=document_id)
        except Exception:  # one bad document must not stop the others (or the emails)
            logger.exception("Storing document %s failed; it stays pending", document_id)
            failed += 1
            continue
        stored += 1
    sent = 0
    due = EmailMessage.objects.filter(
        Q(status=EmailMessage.Status.QUEUED) | Q(status=EmailMessage.Status.SENDING),
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=timezone.now()),
        document__status=Document.Status.STORED,
        created_at__lte=cutoff,
    )
    for email_id in due.values_list("pk", flat=True):
        try:
            if email_send(email_id=email_id).status == EmailMessage.Status.SENT:
                sent += 1
        except Exception:
            logger.exception("Sending email %s failed", email_id)
            failed += 1
    return {"documents_stored": stored, "emails_sent": sent, "failed": failed}
