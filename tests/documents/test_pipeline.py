"""The whole path: issuing an invoice queues its PDF and email; the worker renders, stores,
chains and sends it, once; on the database queue and on Redis + RQ."""

from __future__ import annotations

import hashlib

import pytest

from remit.documents.models import ArchiveEntry, Document, EmailMessage
from remit.documents.services.archive import archive_verify, document_open
from tests.billing.helpers import buy_credits_by_invoice

pytestmark = pytest.mark.django_db


def test_an_issued_invoice_is_rendered_stored_chained_and_emailed_by_the_worker(
    task_backend, account, smtp_server, run_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invoice = buy_credits_by_invoice(account, credits=120, po_number="PO-55")
    document = Document.objects.get(invoice=invoice)
    assert document.status == Document.Status.PENDING

    assert task_backend.statuses("remit.documents.tasks.document_store_task") == ["READY"]
    # Stores the document, which enqueues the email, then sends it.
    assert run_tasks() == 2

    document.refresh_from_db()
    content = document_open(document)
    assert document.status == Document.Status.STORED
    assert hashlib.sha256(content).hexdigest() == document.sha256
    assert content.startswith(b"%PDF-")
    assert ArchiveEntry.objects.get().document == document
    assert archive_verify().intact
    email = EmailMessage.objects.get(document=document)
    assert (email.status, email.attempts) == (EmailMessage.Status.SENT, 1)
    [message] = smtp_server.messages
    assert message["Subject"] == f"Invoice {invoice.number} – PO PO-55"
    assert message["Message-ID"] == email.message_id
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == f"{invoice.number}.pdf"
    assert attachment.get_content() == content

    assert run_tasks() == 0  # nothing left: no second email
    assert len(smtp_server.messages) == 1
