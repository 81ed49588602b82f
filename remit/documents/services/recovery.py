"""Finishing work a dead worker left behind (pending documents, due emails)."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from remit.documents.models import Document, EmailMessage
from remit.documents.services.archive import documents_store
from remit.documents.services.emails import email_send

logger = logging.getLogger(__name__)


def documents_recover(*, older_than: timedelta = timedelta(0)) -> dict[str, int]:
    """Finish work a dead worker left behind: store pending documents, send due emails.

    Run at worker start and periodically; safe beside live workers because storing and sending
    are idempotent and locked.
    """
    now = timezone.now()
    cutoff = now - older_than
    pending = Document.objects.filter(status=Document.Status.PENDING, created_at__lte=cutoff)
    if older_than:
        # Later sweeps leave alone what a live worker has claimed; the first one (at start-up)
        # cannot tell a live claim from a dead worker's and stores everything (idempotently).
        pending = pending.filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
    pending_ids = list(pending.values_list("pk", flat=True))
    stored = documents_store(document_ids=pending_ids, raise_errors=False)
    # What is still pending failed to render (logged); what someone else stored is not counted.
    failed = Document.objects.filter(pk__in=pending_ids, status=Document.Status.PENDING).count()
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
