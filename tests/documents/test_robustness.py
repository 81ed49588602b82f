"""Failure modes found in review: racing workers, a document that cannot render, stale objects,
expired leases, tampering the chain cannot see, and awkward number formats."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from remit.documents.models import ArchiveEntry, Document, EmailMessage
from remit.documents.services import emails as email_services
from remit.documents.services.archive import archive_verify, document_store
from remit.documents.services.bulk import documents_csv_stream, documents_zip_stream
from remit.documents.services.emails import email_resend, email_send
from remit.documents.services.recovery import documents_recover
from tests.billing.helpers import buy_credits_by_invoice
from tests.concurrency import run_concurrently
from tests.factories import AccountFactory, BillingProfileFactory


def _pending_document(account) -> Document:
    return Document.objects.get(invoice=buy_credits_by_invoice(account))


@pytest.mark.django_db
def test_the_sweep_goes_on_past_a_document_that_cannot_render(catalogue, before_render):
    broken_account, other_account = AccountFactory(name="Broken"), AccountFactory()
    BillingProfileFactory(account=broken_account)
    BillingProfileFactory(account=other_account)
    broken = _pending_document(broken_account)
    healthy = _pending_document(other_account)

    def fail_broken(document):
        if document.pk == broken.pk:
            raise RuntimeError("disk on fire")

    before_render(fail_broken)

    result = documents_recover()

    assert result == {"documents_stored": 1, "emails_sent": 1, "failed": 1}
    broken.refresh_from_db()
    healthy.refresh_from_db()
    assert (broken.status, healthy.status) == ("pending", "stored")


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_workers_racing_to_store_one_document_store_it_once(account, media_root):
    document = _pending_document(account)

    outcomes = run_concurrently([lambda: document_store(document_id=document.pk)] * 6)

    assert [outcome.error for outcome in outcomes] == [None] * 6
    document.refresh_from_db()
    assert document.status == Document.Status.STORED
    assert ArchiveEntry.objects.filter(document=document).count() == 1
    files = sorted(path.name for path in media_root.rglob("*") if path.is_file())
    assert files == [f"{document.pk}.pdf"]
    assert archive_verify().intact


@pytest.mark.django_db
def test_a_resend_from_a_stale_copy_of_a_stored_document_is_scheduled(
    account, django_capture_on_commit_callbacks
):
    stale = _pending_document(account)
    document_store(document_id=stale.pk)
    assert stale.status == Document.Status.PENDING  # the caller's copy is out of date

    with django_capture_on_commit_callbacks() as callbacks:
        resend = email_resend(document=stale)

    assert resend.status == EmailMessage.Status.QUEUED
    assert len(callbacks) == 1


@pytest.mark.django_db
def test_an_attempt_that_outlived_its_lease_does_not_undo_a_later_send(
    account, smtp_server, monkeypatch
):
    document = _pending_document(account)
    document_store(document_id=document.pk)
    email = EmailMessage.objects.get(document=document)
    real_build = email_services.email_build

    class SlowFailure:
        def __init__(self, built):
            self.built = built

        def send(self):
            # While this attempt hangs past its lease, another one takes over and succeeds.
            EmailMessage.objects.filter(pk=email.pk).update(
                status=EmailMessage.Status.SENT,
                attempts=2,
                sent_at=timezone.now(),
                next_attempt_at=None,
            )
            raise TimeoutError("the first attempt finally gives up")

    monkeypatch.setattr(email_services, "email_build", lambda e: SlowFailure(real_build(e)))

    result = email_send(email_id=email.pk)

    assert (result.status, result.attempts) == (EmailMessage.Status.SENT, 2)
    email.refresh_from_db()
    assert (email.status, email.next_attempt_at, email.last_error) == ("sent", None, "")


@pytest.mark.django_db
def test_changing_a_documents_number_in_the_database_breaks_the_chain(account):
    document = _pending_document(account)
    document_store(document_id=document.pk)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE documents_document SET number = %s WHERE id = %s", ["FAKE-1", document.pk]
        )

    result = archive_verify()

    assert (result.broken_position, result.problem) == (
        1,
        "Invoice FAKE-1.pdf: document or its record changed",
    )


@pytest.mark.django_db
def test_cutting_entries_off_the_end_of_the_chain_is_found(account):
    first, second = _pending_document(account), _pending_document(account)
    document_store(document_id=first.pk)
    document_store(document_id=second.pk)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM documents_archiveentry WHERE position = 2")
        cursor.execute(
            "UPDATE documents_document SET status = 'pending', sha256 = '', file_name = '' "
            "WHERE id = %s",
            [second.pk],
        )

    result = archive_verify()

    assert (result.checked, result.broken_position, result.problem) == (
        1,
        2,
        "entries #2–#2 are missing",
    )


@pytest.mark.django_db
def test_rendering_is_enqueued_only_after_commit(account, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        buy_credits_by_invoice(account)
        assert DBTaskResult.objects.count() == 0

    assert DBTaskResult.objects.count() == 0  # still not: the callbacks were not run
    assert len(callbacks) == 1
    callbacks[0]()
    assert DBTaskResult.objects.get().task_path.endswith("document_store_task")


@pytest.mark.django_db
def test_number_formats_with_slashes_give_safe_file_names(account, settings, media_root):
    settings.REMIT_INVOICE_NUMBER_FORMAT = "FA/{year}/{number:05d}"
    with time_machine.travel("2026-02-03 10:00Z", tick=False):
        document = _pending_document(account)
    document = document_store(document_id=document.pk)

    assert document.number == "FA/2026/00001"
    assert document.file_name == f"documents/{account.pk}/{document.pk}.pdf"
    assert document.download_name == "FA-2026-00001.pdf"
    import io
    import zipfile

    stream = documents_zip_stream(account=account, start=date(2026, 1, 1), end=date(2026, 12, 31))
    assert zipfile.ZipFile(io.BytesIO(b"".join(stream))).namelist() == [
        "invoices/FA-2026-00001.pdf"
    ]


@pytest.mark.django_db
def test_the_csv_needs_a_fixed_number_of_queries_however_many_rows(catalogue):
    account = AccountFactory(unpaid_invoice_limit=100)
    BillingProfileFactory(account=account)
    today = timezone.localdate()

    def queries_for(count: int) -> int:
        for _ in range(count):
            document_store(document_id=_pending_document(account).pk)
        with CaptureQueriesContext(connection) as captured:
            list(documents_csv_stream(account=account, start=today, end=today + timedelta(1)))
        return len(captured)

    assert queries_for(2) == queries_for(8)
