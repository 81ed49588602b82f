"""Serve Remit: gunicorn for the web and a django-tasks database worker.

The web server never depends on the worker: a worker that dies (killed, out of memory, a crash)
is started again after a pause that doubles with each quick failure (1 s, 2 s, 4 s … at most
60 s) and is forgiven once a worker has run for a minute; each restart is announced. Only the web
server stopping, or Ctrl-C / SIGTERM, stops both. Production runs the worker as its own service
(README), so this supervision is for `make run`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

from django.core.management.base import BaseCommand

BACKOFF_FIRST_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 60.0
# A worker that ran this long before it stopped counts as healthy: the next pause starts again
# from BACKOFF_FIRST_SECONDS.
HEALTHY_AFTER_SECONDS = 60.0


@dataclass
class Backoff:
    """How long to wait before the next restart of a process that keeps stopping."""

    first: float = BACKOFF_FIRST_SECONDS
    most: float = BACKOFF_MAX_SECONDS
    healthy_after: float = HEALTHY_AFTER_SECONDS
    failures: int = 0

    def pause_after(self, ran_for: float) -> float:
        """The pause before restarting a process that stopped after ``ran_for`` seconds."""
        if ran_for >= self.healthy_after:
            self.failures = 0
        pause = min(self.most, self.first * 2**self.failures)
        self.failures += 1
        return pause


class Command(BaseCommand):
    help = "Run the web server and a background worker (restarted if it dies) until interrupted."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--web-workers", type=int, default=2)

    def handle(self, *args: Any, **options: Any) -> None:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "remit.settings"}
        bind = f"{options['host']}:{options['port']}"
        web = subprocess.Popen(  # noqa: S603
            [
                sys.executable, "-m", "gunicorn", "remit.wsgi:application",
                "--bind", bind, "--workers", str(options["web_workers"]),
                "--access-logfile", "-",
            ],
            env=env,
        )  # fmt: skip
        worker_command = [sys.executable, "manage.py", "remit_worker"]

        def start_worker() -> subprocess.Popen[bytes]:
            child = subprocess.Popen(worker_command, env=env)  # noqa: S603
            self.stdout.write(f"Background worker started (pid {child.pid}).")
            return child

        worker = start_worker()
        worker_started = time.monotonic()
        restart_at: float | None = None
        backoff = Backoff()
        self.stdout.write(f"Remit is serving on http://{bind}/ with a background worker.")
        stopping = False

        def stop(*_: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping and web.poll() is None:
                now = time.monotonic()
                if restart_at is None and worker.poll() is not None:
                    pause = backoff.pause_after(now - worker_started)
                    restart_at = now + pause
                    self.stderr.write(
                        f"The background worker stopped (exit code {worker.returncode}); "
                        f"the web server goes on; restarting the worker in {pause:g} s."
                    )
                elif restart_at is not None and now >= restart_at:
                    worker = start_worker()
                    worker_started = time.monotonic()
                    restart_at = None
                time.sleep(0.2)
        finally:
            children = [web, worker]
            for child in children:
                if child.poll() is None:
                    child.terminate()
            for child in children:
                try:
                    child.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    child.kill()
        if not stopping and web.returncode not in (0, -15):
            raise SystemExit(f"The web server stopped unexpectedly (exit code {web.returncode}).")
