"""Fixtures for documents: a private media folder, a real SMTP server, and the task queues on
either backend (the database, or Redis + RQ against the real Redis on 127.0.0.1:6379)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage as ParsedEmail
from pathlib import Path
from urllib.parse import quote

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection


@dataclass
class SmtpRecorder:
    """An aiosmtpd handler that keeps every accepted message; ``refuse`` makes it answer 451."""

    messages: list[ParsedEmail] = field(default_factory=list)
    # time.monotonic() when each message was accepted
    arrived_at: list[float] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    refuse: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.refuse > 0:
                self.refuse -= 1
                return "451 4.3.0 Try again later"
            self.arrived_at.append(time.monotonic())
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.messages.append(
                email.message_from_bytes(envelope.original_content, policy=email.policy.default)
            )
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server(settings) -> Iterator[SmtpRecorder]:
    """A real SMTP server on 127.0.0.1; Django is pointed at it over a real connection."""
    recorder = SmtpRecorder()
    port = free_port()
    controller = Controller(
        recorder, hostname="127.0.0.1", port=port, loop=asyncio.new_event_loop()
    )
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield recorder
    finally:
        controller.stop()


# Redis databases of the tests: this number plus the xdist worker's (gw0 → 2, gw1 → 3, …, up to
# 9; the API's cache tests use 10 and up). Each test flushes its own database before and after.
REDIS_TEST_DATABASE_FIRST = 2
RQ_BACKEND = "django_tasks_rq.RQBackend"


@pytest.fixture
def redis_url(worker_id: str) -> Iterator[str]:
    """The real Redis on 127.0.0.1:6379, a database of this xdist worker's own, empty. Without a
    Redis server the flush raises and the test fails (never skipped)."""
    import redis

    number = REDIS_TEST_DATABASE_FIRST + (int(worker_id[2:]) if worker_id.startswith("gw") else 0)
    assert number < 10, "more xdist workers than Redis test databases"
    url = f"redis://127.0.0.1:6379/{number}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()


@dataclass
class TaskBackend:
    """The task backend a test runs on: ``env`` points a worker process at it, ``statuses``
    lists the results of one task's runs however the backend stores them."""

    name: str
    env: dict[str, str]
    redis_url: str = ""

    def statuses(self, task_path: str) -> list[str]:
        if self.name == "database":
            from django_tasks_db.models import DBTaskResult

            return sorted(
                DBTaskResult.objects.filter(task_path=task_path).values_list("status", flat=True)
            )
        import redis
        from django_tasks_rq.backend import RQ_STATUS_TO_RESULT_STATUS
        from rq.job import Job

        connection = redis.Redis.from_url(self.redis_url)
        ids = [
            key.decode().split(":")[2]
            for key in connection.scan_iter("rq:job:*")
            if key.decode().count(":") == 2
        ]
        jobs = [job for job in Job.fetch_many(ids, connection=connection) if job is not None]
        return sorted(
            RQ_STATUS_TO_RESULT_STATUS[job.get_status()]
            for job in jobs
            if job.func_name == task_path
        )


@pytest.fixture(params=["database", "rq"])
def task_backend(request, settings) -> TaskBackend:
    """Each test that asks for it runs twice: on the database queue and on Redis + RQ (this
    process enqueues into the same backend its worker processes serve)."""
    if request.param == "database":
        return TaskBackend(name="database", env={"REMIT_TASK_BACKEND": "database"})
    url = request.getfixturevalue("redis_url")
    settings.TASKS = {"default": {**settings.TASKS["default"], "BACKEND": RQ_BACKEND}}
    settings.RQ_QUEUES = {
        name: {**config, "URL": url} for name, config in settings.RQ_QUEUES.items()
    }
    return TaskBackend(
        name="rq", env={"REMIT_TASK_BACKEND": "rq", "REMIT_REDIS_URL": url}, redis_url=url
    )


def _rq_run_ready(capture_on_commit) -> int:
    """Run every queued RQ job in this process and this test's transaction, queues in priority
    order, with RQ's own in-process worker; a job that fails fails the test."""
    import django_rq
    from django.conf import settings
    from django_tasks_rq import Job
    from rq.registry import FailedJobRegistry
    from rq.worker import SimpleWorker

    class CountingWorker(SimpleWorker):
        ran = 0

        def execute_job(self, job, queue):
            CountingWorker.ran += 1
            # What the job enqueues after commit is queued before the next job is taken.
            with capture_on_commit(execute=True):
                super().execute_job(job, queue)

    queues = django_rq.queues.get_queues(*settings.TASK_QUEUES, job_class=Job)
    handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    worker = CountingWorker(
        queues, connection=queues[0].connection, job_class=Job, queue_class=type(queues[0])
    )
    try:
        worker.work(burst=True)
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)
    for queue in queues:
        registry = FailedJobRegistry(queue=queue)
        failed = [
            Job.fetch(job_id, connection=queue.connection) for job_id in registry.get_job_ids()
        ]
        assert not failed, [job.latest_result().exc_string for job in failed]
    return CountingWorker.ran


@pytest.fixture
def run_tasks(django_capture_on_commit_callbacks, settings):
    """Run every ready task of the task queues in this test's transaction.

    The real ``db_worker`` closes database connections, which a test transaction cannot survive;
    this runs the same task functions from the same queue rows and marks them done. Tests with
    ``transaction=True`` use the real worker instead. On RQ (``task_backend``), RQ's in-process
    worker runs the queued jobs.
    """
    from django.utils import timezone
    from django.utils.module_loading import import_string
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    def run() -> int:
        if settings.TASKS["default"]["BACKEND"] == RQ_BACKEND:
            return _rq_run_ready(django_capture_on_commit_callbacks)
        ran = 0
        while True:
            ready = DBTaskResult.objects.ready().order_by("enqueued_at", "id").first()
            if ready is None:
                return ran
            ready.status = TaskResultStatus.SUCCESSFUL
            ready.finished_at = timezone.now()
            ready.save(update_fields=["status", "finished_at"])
            with django_capture_on_commit_callbacks(execute=True):
                import_string(ready.task_path).call(
                    *ready.args_kwargs["args"], **ready.args_kwargs["kwargs"]
                )
            ran += 1

    return run


@pytest.fixture
def before_render(monkeypatch):
    """``before_render(hook)``: storing calls ``hook(document)`` before it renders each
    document (to fail one, or to make something happen mid-render), then renders it."""
    from remit.documents.services import archive

    real_render = archive.document_render

    def install(hook):
        def render(document):
            hook(document)
            return real_render(document)

        monkeypatch.setattr(archive, "document_render", render)

    return install


def database_url() -> str:
    """The test database as a DATABASE_URL, so a subprocess uses the same committed rows."""
    database = connection.settings_dict
    if database["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{Path(database['NAME']).resolve()}"
    if database["ENGINE"] == "django.db.backends.postgresql":
        user = quote(database["USER"] or "", safe="")
        password = f":{quote(database['PASSWORD'], safe='')}" if database["PASSWORD"] else ""
        host = database["HOST"] or "localhost"
        port = database["PORT"] or 5432
        return f"postgres://{user}{password}@{host}:{port}/{database['NAME']}"
    raise AssertionError(f"no DATABASE_URL for {database['ENGINE']}")


@pytest.fixture
def worker_env(smtp_server, media_root, task_backend) -> dict[str, str]:
    """The environment of a real worker process, pointed at this test's database, task
    backend, media folder and SMTP server."""
    env = dict(os.environ)
    env.update(
        **task_backend.env,
        DJANGO_SETTINGS_MODULE="remit.settings",
        DATABASE_URL=database_url(),
        REMIT_MEDIA_ROOT=str(media_root),
        REMIT_EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        REMIT_EMAIL_HOST="127.0.0.1",
        REMIT_EMAIL_PORT=str(settings.EMAIL_PORT),
        REMIT_EMAIL_USE_TLS="false",
        REMIT_EMAIL_USER="",
        REMIT_EMAIL_PASSWORD="",
        PYTHONPATH=os.pathsep.join(filter(None, [str(settings.BASE_DIR), env.get("PYTHONPATH")])),
    )
    return env
