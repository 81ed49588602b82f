"""A worker killed in the middle of storing a document (issue 3), on the database queue and on
Redis + RQ.

Real processes against the real (committed) test database and a real SMTP server: worker A is
started, hangs while writing the PDF and is killed with SIGKILL; worker B is then run as
``manage.py remit_worker --once``, exactly as an operator restarts the worker. The document must
be stored once, chained once and emailed once, and no half-written file may remain.

Neither backend hands a RUNNING task to another worker (django-tasks-db never does; RQ keeps a
killed worker's job "started" until its heartbeat expires, then calls it failed), so the task
worker A claimed is never run again; what finishes the work is ``remit_worker``'s recovery sweep.
"""

from __future__ import annotations

import hashlib
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django_tasks import TaskResultStatus

from remit.documents.models import ArchiveEntry, Document, EmailMessage
from remit.documents.services.archive import archive_verify
from tests.billing.helpers import buy_credits_by_invoice

pytestmark = pytest.mark.django_db(transaction=True)

# Seconds to wait for worker A to reach the point where it hangs.
MARKER_TIMEOUT = 30
# Seconds worker B may take for one round.
WORKER_TIMEOUT = 60
STORE_TASK = "remit.documents.tasks.document_store_task"
EMAIL_TASK = "remit.documents.tasks.email_send_task"


def _start_hanging_worker(
    env: dict[str, str], markers: Path, log_dir: Path
) -> tuple[subprocess.Popen[bytes], Path]:
    log = log_dir / "worker-a.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "tests.documents.hanging_worker", str(markers)],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    return process, log


def _wait_for(marker: Path, process: subprocess.Popen[bytes], log: Path) -> str:
    deadline = time.monotonic() + MARKER_TIMEOUT
    while not marker.exists():
        if process.poll() is not None:
            pytest.fail(
                f"worker A exited ({process.returncode}) before {marker.name}:\n"
                f"{log.read_text(errors='replace')}"
            )
        if time.monotonic() > deadline:
            pytest.fail(
                f"worker A did not reach {marker.name} within {MARKER_TIMEOUT}s:\n"
                f"{log.read_text(errors='replace')}"
            )
        time.sleep(0.05)
    return marker.read_text()


def _run_worker_once(env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", "remit_worker", "--once"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=WORKER_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, f"worker B failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.mark.parametrize("crash_in", ["task", "startup_sweep"])
def test_a_worker_killed_while_writing_the_pdf_leaves_work_that_a_restart_completes_once(
    crash_in, task_backend, account, smtp_server, media_root, worker_env, tmp_path
):
    _task_statuses = task_backend.statuses
    markers = tmp_path / "markers"
    markers.mkdir()
    worker_a: subprocess.Popen[bytes] | None = None
    try:
        if crash_in == "task":
            # A is idle in its task loop when the invoice is issued: db_worker claims the
            # store task and hangs inside it.
            worker_a, log = _start_hanging_worker(worker_env, markers, tmp_path)
            _wait_for(markers / "swept", worker_a, log)
            invoice = buy_credits_by_invoice(account, credits=120, po_number="PO-77")
        else:
            # The document is already pending when A starts: A's start-up sweep takes it.
            invoice = buy_credits_by_invoice(account, credits=120, po_number="PO-77")
            worker_a, log = _start_hanging_worker(worker_env, markers, tmp_path)

        document = Document.objects.get(invoice=invoice)
        email = EmailMessage.objects.get(document=document)
        assert email.status == EmailMessage.Status.QUEUED

        rendering = _wait_for(markers / "rendering", worker_a, log)
        rendered_pk, rendered_size, rendered_sha256, partial_path = rendering.split()
        assert int(rendered_pk) == document.pk
        worker_a.send_signal(signal.SIGKILL)
        assert worker_a.wait(timeout=10) == -signal.SIGKILL
    finally:
        if worker_a is not None and worker_a.poll() is None:
            worker_a.kill()
            worker_a.wait(timeout=10)

    # The crash left a half-written temporary file, no final file, nothing recorded or sent.
    document.refresh_from_db()
    assert document.status == Document.Status.PENDING
    assert (document.file_name, document.sha256) == ("", "")
    folder = media_root / "documents" / str(account.pk)
    final = folder / f"{document.pk}.pdf"
    # A crashed attempt's leftover, named as the product names its temporary files.
    partial = Path(partial_path)
    assert partial.parent == media_root / "documents" / ".partial"
    assert not final.exists()
    assert partial.stat().st_size == int(rendered_size) // 2
    assert not ArchiveEntry.objects.exists()
    email.refresh_from_db()
    assert (email.status, email.attempts) == (EmailMessage.Status.QUEUED, 0)
    assert smtp_server.messages == []
    if crash_in == "task":
        # A claimed the task; django-tasks-db will never give it to anyone else.
        assert _task_statuses(STORE_TASK) == [TaskResultStatus.RUNNING]
    else:
        assert _task_statuses(STORE_TASK) == [TaskResultStatus.READY]

    # Restart: one round of the real worker.
    output = _run_worker_once(worker_env)

    # The recovery sweep did the work (the claimed task could not).
    recovered = "{'documents_stored': 1, 'emails_sent': 1, 'failed': 0, 'webhooks': 0}"
    assert f"Recovered: {recovered}" in output
    document.refresh_from_db()
    assert document.status == Document.Status.STORED
    assert document.file_name == f"documents/{account.pk}/{final.name}"
    content = final.read_bytes()
    assert content.startswith(b"%PDF-")
    assert hashlib.sha256(content).hexdigest() == document.sha256 == rendered_sha256
    assert document.size_bytes == len(content) == int(rendered_size)
    assert sorted(p.name for p in media_root.rglob("*") if p.is_file()) == [final.name]
    assert not partial.exists()  # the sweep removed the crashed attempt's leftover
    entry = ArchiveEntry.objects.get()
    assert (entry.position, entry.document_id, entry.document_sha256) == (
        1,
        document.pk,
        document.sha256,
    )
    assert archive_verify().intact
    email.refresh_from_db()
    assert (email.status, email.attempts, email.last_error) == (EmailMessage.Status.SENT, 1, "")
    [message] = smtp_server.messages
    assert message["Message-ID"] == email.message_id
    assert message["Subject"] == f"Invoice {invoice.number} – PO PO-77"
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content() == content
    if crash_in == "task":
        assert _task_statuses(STORE_TASK) == [TaskResultStatus.RUNNING]
    else:  # B's task loop ran the leftover task after the sweep: a no-op
        assert _task_statuses(STORE_TASK) == [TaskResultStatus.SUCCESSFUL]
    # Storing queued the send task; B's task loop ran it after the sweep had sent: a no-op.
    assert _task_statuses(EMAIL_TASK) == [TaskResultStatus.SUCCESSFUL]

    # Another restart finds nothing to do.
    output = _run_worker_once(worker_env)
    assert "Recovered" not in output
    assert len(smtp_server.messages) == 1
    assert ArchiveEntry.objects.count() == 1
    assert Document.objects.get(pk=document.pk).sha256 == document.sha256
    assert final.read_bytes() == content
    email.refresh_from_db()
    assert (email.status, email.attempts) == (EmailMessage.Status.SENT, 1)
