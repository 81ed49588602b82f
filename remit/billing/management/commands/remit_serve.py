"""Serve Remit: gunicorn for the web and two background workers, one for what customers wait
for (documents, then emails) and one for webhooks, so a slow or failing webhook receiver never
delays an invoice email (the queues: README, "Workers and queues").

The web server never depends on a worker: a worker that dies (killed, out of memory, a crash)
is started again after a pause that doubles with each quick failure (1 s, 2 s, 4 s … at most
60 s) and is forgiven once it has run for a minute; each worker has its own pause, and each
restart is announced. Only the web server stopping, or Ctrl-C / SIGTERM, stops everything.
Production runs the workers as their own services (README), so this supervision is for
`make run`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

BACKOFF_FIRST_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 60.0
# A worker that ran this long before it stopped counts as healthy: the next pause starts again
# from BACKOFF_FIRST_SECONDS.
HEALTHY_AFTER_SECONDS = 60.0
# The worker processes, each serving its queues in this priority order; together every queue.
WORKER_QUEUES = (("documents", "emails"), ("webhooks", "default"))


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


def worker_command(queues: tuple[str, ...]) -> list[str]:
    """The command line of a worker process serving ``queues`` (also what the README's
    production services run)."""
    manage = str(Path(settings.BASE_DIR) / "manage.py")
    return [sys.executable, manage, "remit_worker", "--queues", ",".join(queues)]


@dataclass
class SupervisedWorker:
    """One worker process, restarted with its own backoff whenever it stops."""

    queues: tuple[str, ...]
    env: dict[str, str]
    stdout: Any
    stderr: Any
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restart_at: float | None = None
    backoff: Backoff = field(default_factory=Backoff)

    @property
    def name(self) -> str:
        return ",".join(self.queues)

    def start(self) -> None:
        self.process = subprocess.Popen(worker_command(self.queues), env=self.env)  # noqa: S603
        self.started_at = time.monotonic()
        self.restart_at = None
        self.stdout.write(f"Background worker {self.name} started (pid {self.process.pid}).")

    def supervise(self) -> None:
        """Announce a stopped worker and schedule its restart; restart it when the pause is over."""
        now = time.monotonic()
        if self.restart_at is None and self.process and self.process.poll() is not None:
            pause = self.backoff.pause_after(now - self.started_at)
            self.restart_at = now + pause
            self.stderr.write(
                f"The background worker {self.name} stopped (exit code "
                f"{self.process.returncode}); the web server goes on; restarting it in {pause:g} s."
            )
        elif self.restart_at is not None and now >= self.restart_at:
            self.start()


class Command(BaseCommand):
    help = (
        "Run the web server and the background workers (restarted if they die) until interrupted."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--web-workers", type=int, default=2)

    def handle(self, *args: Any, **options: Any) -> None:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "remit.settings"}
        # The web processes' request metrics are added up across them (remit.gunicorn_config).
        env.setdefault("PROMETHEUS_MULTIPROC_DIR", str(Path(settings.VAR_DIR) / "prometheus"))
        bind = f"{options['host']}:{options['port']}"
        web = subprocess.Popen(  # noqa: S603
            [
                sys.executable, "-m", "gunicorn", "remit.wsgi:application",
                "--config", "python:remit.gunicorn_config",
                "--bind", bind, "--workers", str(options["web_workers"]),
            ],
            env=env,
        )  # fmt: skip
        workers = [
            SupervisedWorker(queues=queues, env=env, stdout=self.stdout, stderr=self.stderr)
            for queues in WORKER_QUEUES
        ]
        for worker in workers:
            worker.start()
        self.stdout.write(f"Remit is serving on http://{bind}/ with {len(workers)} workers.")
        stopping = False

        def stop(*_: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping and web.poll() is None:
                for worker in workers:
                    worker.supervise()
                time.sleep(0.2)
        finally:
            children = [web, *(worker.process for worker in workers if worker.process)]
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
