"""Fixtures for documents: a private media folder, a real SMTP server, and the task queue."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage as ParsedEmail

import pytest
from aiosmtpd.controller import Controller


@dataclass
class SmtpRecorder:
    """An aiosmtpd handler that keeps every accepted message; ``refuse`` makes it answer 451."""

    messages: list[ParsedEmail] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    refuse: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.refuse > 0:
                self.refuse -= 1
                return "451 4.3.0 Try again later"
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.messages.append(
                email.message_from_bytes(envelope.original_content, policy=email.policy.default)
            )
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server(settings) -> Iterator[SmtpRecorder]:
    """A real SMTP server on 127.0.0.1; Django is pointed at it over a real connection."""
    recorder = SmtpRecorder()
    port = _free_port()
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


@pytest.fixture
def run_tasks(django_capture_on_commit_callbacks):
    """Run every ready task of the database queue in this test's transaction.

    The real ``db_worker`` closes database connections, which a test transaction cannot survive;
    this runs the same task functions from the same queue rows and marks them done. Tests with
    ``transaction=True`` use the real worker instead.
    """
    from django.utils import timezone
    from django.utils.module_loading import import_string
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    def run() -> int:
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
