"""Serve Remit: gunicorn for the web and a django-tasks database worker, stopped together."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the web server and a background worker until interrupted."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--web-workers", type=int, default=2)

    def handle(self, *args: Any, **options: Any) -> None:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "remit.settings"}
        bind = f"{options['host']}:{options['port']}"
        children = [
            subprocess.Popen(
                [sys.executable, "manage.py", "remit_worker"], env=env
            ),
            subprocess.Popen(  # noqa: S603
                [
                    sys.executable, "-m", "gunicorn", "remit.wsgi:application",
                    "--bind", bind, "--workers", str(options["web_workers"]),
                    "--access-logfile", "-",
                ],
                env=env,
            ),
        ]  # fmt: skip
        self.stdout.write(f"Remit is serving on http://{bind}/ with a background worker.")
        stopping = False

        def stop(*_: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping and all(child.poll() is None for child in children):
                time.sleep(0.5)
        finally:
            for child in children:
                if child.poll() is None:
                    child.terminate()
            for child in children:
                try:
                    child.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    child.kill()
        failed = [child.args for child in children if child.returncode not in (0, -15, None)]
        if failed and not stopping:
            raise SystemExit(f"A process stopped unexpectedly: {failed}")
