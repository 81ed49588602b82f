"""Workers store the document queue in batches (issue 3, month-end volume): a task claims its
document and the oldest other pending ones, renders them, and stores and chains them in one
transaction. Claims keep workers apart, lapse when a worker dies, and never make a download
wait; each document is still stored, chained and emailed exactly once."""

from __future__ import annotations

import os
import stat
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from remit.documents.models import ArchiveEntry, Document, EmailMessage
from remit.documents.services import archive as archive_services
from remit.documents.services.archive import (
    archive_verify,
    document_store,
    documents_store_queued,
)
from tests.billing.helpers import buy_credits_by_invoice
from tests.concurrency import run_concurrently

EMAIL_TASK = "remit.documents.tasks.email_send_task"


@pytest.fixture
def account(account):
    """An account allowed enough unpaid invoices for a queue (P4 allows 3 by default)."""
    account.unpaid_invoice_limit = 100
    account.save(update_fields=["unpaid_invoice_limit"])
    return account


def _pending(account, count: int) -> list[Document]:
    documents = [
        Document.objects.get(invoice=buy_credits_by_invoice(account, credits=100 + index))
        for index in range(count)
    ]
    assert {document.status for document in documents} == {Document.Status.PENDING}
    return documents


def _chain() -> list[tuple[int, int]]:
    return list(ArchiveEntry.objects.order_by("position").values_list("position", "document_id"))


@pytest.mark.django_db
def test_a_task_stores_its_document_and_the_rest_of_the_queue_in_one_batch(
    account, media_root, django_capture_on_commit_callbacks
):
    documents = _pending(account, 5)
    DBTaskResult.objects.all().delete()  # the queued store tasks; only email tasks count below

    with django_capture_on_commit_callbacks(execute=True):
        stored = documents_store_queued(document_id=documents[2].pk)

    assert stored == 5
    for document in documents:
        document.refresh_from_db()
        assert document.status == Document.Status.STORED
        assert (document.claim_token, document.claimed_until) == ("", None)
        assert (media_root / document.file_name).read_bytes().startswith(b"%PDF-")
    # Chained in id order, the order the documents were issued.
    assert _chain() == [(position, d.pk) for position, d in enumerate(documents, start=1)]
    assert archive_verify().intact
    # Each document's email is handed to the worker once.
    emails = set(EmailMessage.objects.values_list("pk", flat=True))
    assert len(emails) == 5
    queued = DBTaskResult.objects.filter(task_path=EMAIL_TASK)
    assert sorted(task.args_kwargs["args"][0] for task in queued) == sorted(emails)
    # The tasks of the other four documents find nothing left to do.
    assert documents_store_queued(document_id=documents[0].pk) == 0
    assert ArchiveEntry.objects.count() == 5


@pytest.mark.django_db
def test_a_batch_reads_and_writes_with_the_same_statements_whatever_its_size(account):
    _pending(account, 2)
    with CaptureQueriesContext(connection) as small:
        assert documents_store_queued() == 2

    _pending(account, 12)
    with CaptureQueriesContext(connection) as large:
        assert documents_store_queued() == 12

    assert len(large.captured_queries) == len(small.captured_queries)
    assert archive_verify().intact


@pytest.mark.django_db
def test_a_batch_takes_at_most_its_limit_oldest_first_and_its_own_document_first(account):
    documents = _pending(account, 5)

    assert documents_store_queued(document_id=documents[4].pk, limit=2) == 2

    statuses = [Document.objects.get(pk=d.pk).status for d in documents]
    assert statuses == ["stored", "pending", "pending", "pending", "stored"]
    assert _chain() == [(1, documents[0].pk), (2, documents[4].pk)]


@pytest.mark.django_db
def test_a_live_claim_keeps_other_workers_off_until_it_lapses(account):
    claimed, free = _pending(account, 2)
    Document.objects.filter(pk=claimed.pk).update(
        claim_token="other-worker", claimed_until=timezone.now() + timedelta(minutes=5)
    )

    assert documents_store_queued(document_id=claimed.pk) == 1

    claimed.refresh_from_db()
    free.refresh_from_db()
    assert (claimed.status, free.status) == ("pending", "stored")
    # The other worker died: once its claim lapses the next task takes the document.
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        assert documents_store_queued() == 1
    claimed.refresh_from_db()
    assert claimed.status == Document.Status.STORED
    assert _chain() == [(1, free.pk), (2, claimed.pk)]


@pytest.mark.django_db
def test_a_download_does_not_wait_for_a_claimed_document_and_the_worker_then_skips_it(
    account, before_render, media_root
):
    first, second = _pending(account, 2)
    downloaded: list[Document] = []

    def download_first(document):
        # While the worker renders its batch, a customer downloads the first document.
        if document.pk == first.pk and not downloaded:
            downloaded.append(document)
            document_store(document_id=first.pk)

    before_render(download_first)

    assert documents_store_queued(document_id=first.pk) == 1  # only the second is its own

    first.refresh_from_db()
    assert first.status == Document.Status.STORED
    assert ArchiveEntry.objects.filter(document=first).count() == 1
    assert _chain() == [(1, first.pk), (2, second.pk)]
    files = sorted(path.name for path in media_root.rglob("*") if path.is_file())
    assert files == sorted([f"{first.pk}.pdf", f"{second.pk}.pdf"])
    assert archive_verify().intact


@pytest.mark.django_db
def test_a_document_that_cannot_render_stays_pending_and_the_rest_of_its_batch_is_stored(
    account, before_render, caplog
):
    good, broken, also_good = _pending(account, 3)

    def fail_broken(document):
        if document.pk == broken.pk:
            raise RuntimeError("template bug")

    before_render(fail_broken)

    assert documents_store_queued() == 2

    broken.refresh_from_db()
    assert broken.status == Document.Status.PENDING
    assert f"Rendering document {broken.pk} failed" in caplog.text
    assert _chain() == [(1, good.pk), (2, also_good.pk)]
    # Storing that one document alone reports the error instead of logging it.
    with pytest.raises(RuntimeError, match="template bug"):
        document_store(document_id=broken.pk)


@pytest.mark.django_db
def test_storing_syncs_the_folders_so_the_files_and_new_folders_survive_a_power_cut(
    account, monkeypatch
):
    first, second = _pending(account, 2)
    synced_folders: list[str] = []
    real_fsync = os.fsync

    def fsync(descriptor: int) -> None:
        if stat.S_ISDIR(os.fstat(descriptor).st_mode):
            synced_folders.append(os.readlink(f"/proc/self/fd/{descriptor}"))
        real_fsync(descriptor)

    monkeypatch.setattr(archive_services.os, "fsync", fsync)

    stored = document_store(document_id=first.pk)
    path = archive_services.default_storage.path(stored.file_name)
    folder = os.path.dirname(os.path.realpath(path))
    # The account's folder was new: its entry in the documents folder is synced too.
    assert sorted(synced_folders) == sorted([os.path.dirname(folder), folder])

    synced_folders.clear()
    document_store(document_id=second.pk)
    assert synced_folders == [folder]


@pytest.mark.django_db
def test_a_document_failing_in_the_store_transaction_does_not_hold_up_its_batch(
    account, monkeypatch, caplog
):
    good, broken, also_good = _pending(account, 3)
    real_chain = archive_services._chain_stored

    def chain(batch, rendered, names):
        if any(document.pk == broken.pk for document in batch):
            raise OSError("disk full")
        return real_chain(batch, rendered, names)

    monkeypatch.setattr(archive_services, "_chain_stored", chain)

    # The broken document's own task fails (visible in the task's result) after storing the
    # rest of its batch.
    with pytest.raises(archive_services.DocumentNotStored):
        documents_store_queued(document_id=broken.pk)

    statuses = {d.pk: Document.objects.get(pk=d.pk).status for d in (good, broken, also_good)}
    assert statuses == {good.pk: "stored", broken.pk: "pending", also_good.pk: "stored"}
    assert f"Storing document {broken.pk} failed" in caplog.text
    assert archive_verify().intact
    # No temporary file is left behind by the failed attempts.
    temporary = archive_services.default_storage.path(archive_services.TEMPORARY_FOLDER)
    assert os.listdir(temporary) == []


@pytest.mark.django_db
def test_a_lease_that_lapses_mid_render_hands_the_documents_to_the_next_worker_once(
    account, before_render
):
    documents = _pending(account, 3)
    second_worker: list[int] = []
    lapsed: list[bool] = []

    def lapse_and_let_another_worker_in(document):
        if not lapsed:
            lapsed.append(True)
            # The first worker is so slow that its claim lapses and another worker takes
            # (and stores) the documents before the first one gets to its transaction.
            with time_machine.travel(timezone.now() + timedelta(minutes=6)):
                second_worker.append(documents_store_queued())

    before_render(lapse_and_let_another_worker_in)

    assert documents_store_queued() == 0
    assert second_worker == [3]
    assert _chain() == [(position, d.pk) for position, d in enumerate(documents, start=1)]
    assert archive_verify().intact


@pytest.mark.django_db
def test_the_sweep_removes_temporary_files_crashed_writers_left_and_keeps_fresh_ones():
    folder = archive_services.default_storage.path(archive_services.TEMPORARY_FOLDER)
    os.makedirs(folder)
    old = archive_services.temporary_file_path("documents/1/1.pdf")
    fresh = archive_services.temporary_file_path("documents/1/2.pdf")
    for path in (old, fresh):
        with open(path, "wb") as stream:
            stream.write(b"%PDF-half")
    an_hour_ago = timezone.now().timestamp() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))

    assert archive_services.temporary_files_remove(older_than=timedelta(minutes=2)) == 1

    assert os.listdir(folder) == [os.path.basename(fresh)]


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_parallel_workers_draining_the_queue_store_each_document_once(
    account, media_root, before_render
):
    documents = _pending(account, 24)
    rendered: list[int] = []
    before_render(lambda document: rendered.append(document.pk))  # atomic across threads

    def drain() -> int:
        stored = 0
        while taken := documents_store_queued(limit=5):
            stored += taken
        return stored

    outcomes = run_concurrently([drain] * 4)

    assert [outcome.error for outcome in outcomes] == [None] * 4
    assert sum(outcome.value for outcome in outcomes) == 24
    # Claims kept the workers apart: no document was rendered twice.
    assert sorted(rendered) == sorted(d.pk for d in documents)
    assert Document.objects.filter(status=Document.Status.PENDING).count() == 0
    chain = _chain()
    assert [position for position, _ in chain] == list(range(1, 25))
    assert sorted(document_id for _, document_id in chain) == sorted(d.pk for d in documents)
    files = [path for path in media_root.rglob("*") if path.is_file()]
    assert len(files) == 24
    assert archive_verify().intact


@pytest.mark.django_db
def test_the_periodic_sweep_leaves_live_claims_alone_and_takes_lapsed_ones(account):
    from remit.documents.services.recovery import documents_recover

    live, lapsed = _pending(account, 2)
    now = timezone.now()
    Document.objects.filter(pk=live.pk).update(
        claim_token="live-worker", claimed_until=now + timedelta(minutes=4)
    )
    Document.objects.filter(pk=lapsed.pk).update(
        claim_token="dead-worker", claimed_until=now - timedelta(minutes=1)
    )

    with time_machine.travel(now + timedelta(minutes=3)):
        found = documents_recover(older_than=timedelta(minutes=2))

    assert (found["documents_stored"], found["failed"]) == (1, 0)
    live.refresh_from_db()
    lapsed.refresh_from_db()
    assert (live.status, lapsed.status) == ("pending", "stored")
    # At start-up the sweep cannot tell a live claim from a dead worker's: it stores both.
    assert documents_recover()["documents_stored"] == 1
    live.refresh_from_db()
    assert live.status == Document.Status.STORED
