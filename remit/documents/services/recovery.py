"""Finishing work a dead worker left behind (pending documents, due emails)."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from remit.documents.models import Document, EmailMessage
from remit.documents.selectors import document_list_claimable
from remit.documents.services.archive import (
    CLAIM_LEASE,
    documents_store,
    temporary_files_remove,
)
from remit.documents.services.emails import email_send

logger = logging.getLogger(__name__)


def documents_recover(*, older_than: timedelta = timedelta(0)) -> dict[str, int]:
    """Finish work a dead worker left behind: store pending documents, send due emails.

    Run at worker start and periodically; safe beside live workers because storing and sending
    are idempotent and locked.
    """
    now = timezone.now()
    cutoff = now - older_than
    # Later sweeps leave alone what a live worker has claimed; the first one (at start-up)
    # cannot tell a live claim from a dead worker's and stores everything (idempotently).
    pending = (
        document_list_claimable(now=now)
        if older_than
        else Document.objects.filter(status=Document.Status.PENDING)
    ).filter(created_at__lte=cutoff)
    pending_ids = list(pending.values_list("pk", flat=True))
    # One document that cannot be stored is logged and skipped; the others, and the emails
    # below, go on.
    stored = documents_store(document_ids=pending_ids, raise_errors=False)
    failed = Document.objects.filter(pk__in=pending_ids, status=Document.Status.PENDING).count()
    # What crashed writers left in the temporary folder; a live writer never takes this long.
    temporary_files_remove(older_than=min(older_than, CLAIM_LEASE))
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
