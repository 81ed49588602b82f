"""Separate queues (issue 12), with real worker processes on the database queue and on Redis + RQ:
webhook traffic never delays an invoice email beyond a stated bound, and the recovery sweep runs
on its schedule while a queue holds thousands of tasks."""

from __future__ import annotations

import itertools
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings

from remit.billing.management.commands.remit_serve import WORKER_QUEUES, worker_command
from remit.documents.models import EmailMessage
from remit.documents.tasks import email_send_task
from remit.integrations.models import WebhookDelivery
from remit.integrations.services.webhooks import SEND_TIMEOUT, webhook_endpoint_create
from tests.billing.helpers import buy_credits_by_card, buy_credits_by_invoice
from tests.documents.conftest import free_port

pytestmark = pytest.mark.django_db(transaction=True)

# The bound stated in the README ("Workers and queues"): with the production layout (a
# documents,emails worker and a webhooks worker), an invoice's email is accepted by the mail
# server at most this many seconds after the invoice is issued, whatever the webhook queue holds.
EMAIL_BOUND_SECONDS = 3.0
SLOW_RECEIVER_SECONDS = 8
READY_TIMEOUT = 60


class Receiver:
    """An HTTP server on 127.0.0.1 that answers every POST with ``status`` after ``delay``
    seconds; ``first_request`` is set when the first request arrives."""

    def __init__(self, *, status: int, delay: float = 0) -> None:
        self.first_request = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                receiver.first_request.set()
                time.sleep(delay)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receivers(settings) -> Iterator[dict[str, Receiver]]:
    settings.REMIT_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    servers = {
        "slow": Receiver(status=200, delay=SLOW_RECEIVER_SECONDS),
        "error": Receiver(status=500),
    }
    yield servers
    for receiver in servers.values():
        receiver.server.shutdown()
        receiver.server.server_close()


def _start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as output:
        return subprocess.Popen(  # noqa: S603
            command, cwd=settings.BASE_DIR, env=env, stdout=output, stderr=subprocess.STDOUT
        )


def _wait_until_ready(process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while "Worker ready" not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"worker not ready ({process.poll()}):\n{log.read_text(errors='replace')}")
        time.sleep(0.05)


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=SEND_TIMEOUT + 10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def test_webhook_traffic_does_not_delay_the_invoice_email_beyond_the_bound(
    task_backend, account, smtp_server, receivers, worker_env, tmp_path
):
    # Given 31 endpoints: the slow one first (answers after 8 s, so each attempt waits out the
    # 5 s timeout), 15 refusing connections, 15 answering 500
    refused_port = free_port()
    webhook_endpoint_create(url=receivers["slow"].url, event_types=[])
    for number in range(15):
        webhook_endpoint_create(url=f"http://127.0.0.1:{refused_port}/{number}", event_types=[])
        webhook_endpoint_create(url=f"{receivers['error'].url}?{number}", event_types=[])
    env = {**worker_env, "REMIT_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32"}
    # and the worker processes of the production layout, as remit_serve starts them
    workers = []
    try:
        for number, queues in enumerate(WORKER_QUEUES):
            log = tmp_path / f"worker-{number}.log"
            workers.append((_start(worker_command(queues), env, log), log))
        for process, log in workers:
            _wait_until_ready(process, log)

        # and 62 deliveries queued first (two card orders), the webhook worker busy with them
        buy_credits_by_card(account)
        buy_credits_by_card(account)
        assert WebhookDelivery.objects.count() == 62
        assert receivers["slow"].first_request.wait(timeout=30)

        # When an invoice is issued
        issued_at = time.monotonic()
        invoice = buy_credits_by_invoice(account, credits=120)

        # Then its email arrives within the bound while the webhook queue is still far from done
        deadline = issued_at + 60
        while not smtp_server.messages and time.monotonic() < deadline:
            time.sleep(0.02)
        unattempted = WebhookDelivery.objects.filter(attempts=0).count()
    finally:
        _stop([process for process, _ in workers])
    logs = "\n".join(log.read_text(errors="replace") for _, log in workers)
    [message] = smtp_server.messages
    assert message["Subject"].startswith(f"Invoice {invoice.number}")
    took = smtp_server.arrived_at[0] - issued_at
    assert took <= EMAIL_BOUND_SECONDS, f"the email took {took:.2f} s:\n{logs}"
    assert unattempted > 30  # the slow endpoint alone holds the webhook worker ≥ 5 s per event
    assert EmailMessage.objects.get(document__invoice=invoice).status == EmailMessage.Status.SENT


SWEEP_SECONDS = 1.0
# A sweep may start late by the task running when it falls due (here a few milliseconds; on
# a loaded two-core machine allow more).
SWEEP_LATENESS = 0.75
QUEUED_TASKS = 5000


def test_the_recovery_sweep_runs_on_schedule_while_a_queue_holds_thousands_of_tasks(
    task_backend, account, smtp_server, worker_env, tmp_path
):
    # Given an invoice whose email was sent (a send task for it does nothing)
    buy_credits_by_invoice(account, credits=120)
    once = subprocess.run(
        [sys.executable, "manage.py", "remit_worker", "--once"],
        cwd=settings.BASE_DIR,
        env=worker_env,
        capture_output=True,
        # A round on a nearly empty queue takes seconds (RQ's command listener once held every
        # --once exit for a minute).
        timeout=30,
        check=False,
    )
    assert once.returncode == 0, once.stderr
    email = EmailMessage.objects.get(status=EmailMessage.Status.SENT)
    # and thousands of such tasks queued
    for _ in range(QUEUED_TASKS):
        email_send_task.enqueue(email.pk)

    # When a worker runs with a sweep every second
    sweeps = tmp_path / "sweeps"
    log = tmp_path / "worker.log"
    worker = _start(
        [
            sys.executable, "-m", "tests.documents.sweep_recording_worker", str(sweeps),
            "--queues", "documents,emails", "--sweep", str(SWEEP_SECONDS),
        ],
        worker_env,
        log,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if sweeps.exists() and len(sweeps.read_text().splitlines()) >= 4:
                break
            if worker.poll() is not None:
                pytest.fail(f"the worker stopped:\n{log.read_text(errors='replace')}")
            time.sleep(0.05)
    finally:
        _stop([worker])

    # Then it swept every second while the queue still held tasks, taking tasks in between
    noted = [line.split() for line in sweeps.read_text().splitlines()[:4]]
    times = [float(at) for at, _ in noted]
    ready = [int(count) for _, count in noted]
    output = log.read_text(errors="replace")
    assert ready[0] == QUEUED_TASKS, output
    assert ready == sorted(ready, reverse=True), (ready, output)
    assert len(set(ready)) == 4, (ready, output)
    assert ready[-1] > 0, f"the queue was drained before the sweeps: {ready}"
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert all(SWEEP_SECONDS <= gap <= SWEEP_SECONDS + SWEEP_LATENESS for gap in gaps), gaps


def test_a_refused_email_is_retried_when_its_delayed_task_falls_due(
    task_backend, account, smtp_server, worker_env, tmp_path
):
    from tests.documents.quick_retry_worker import QUICK_FIRST_RETRY

    # Given a mail server that refuses the first attempt, and a worker retrying after 3 s (a
    # task with run_after: on RQ its scheduler must move the job into the queue when due)
    smtp_server.refuse = 1
    log = tmp_path / "worker.log"
    worker = _start(
        [
            sys.executable,
            "-m",
            "tests.documents.quick_retry_worker",
            "--queues",
            "documents,emails",
        ],
        worker_env,
        log,
    )
    try:
        _wait_until_ready(worker, log)
        # When an invoice is issued
        issued_at = time.monotonic()
        invoice = buy_credits_by_invoice(account, credits=120)
        deadline = issued_at + 30
        while not smtp_server.messages and time.monotonic() < deadline:
            time.sleep(0.05)
        # and an idle worker asked to stop stops promptly
        worker.terminate()
        assert worker.wait(timeout=5) == 0
    finally:
        _stop([worker])

    # Then the refused email is sent by its retry, once, after the delay and not much later
    output = log.read_text(errors="replace")
    [message] = smtp_server.messages
    assert message["Subject"].startswith(f"Invoice {invoice.number}")
    took = smtp_server.arrived_at[0] - issued_at
    delay = QUICK_FIRST_RETRY.total_seconds()
    # RQ schedules in whole seconds (a job may fall due up to 1 s early) and email_send takes
    # an attempt due within the next second, so "after the delay" means at most 1 s before it.
    assert delay - 1 <= took <= delay + 4, f"{took:.2f} s:\n{output}"
    email = EmailMessage.objects.get(document__invoice=invoice)
    assert (email.status, email.attempts) == (EmailMessage.Status.SENT, 2)
