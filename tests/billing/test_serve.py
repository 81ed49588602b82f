"""`make run`'s supervisor (remit_serve): the web server does not depend on its workers (one for
documents and emails, one for webhooks). A killed worker is announced and started again after a
pause; the other worker and the web server go on meanwhile; SIGTERM stops everything."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from django.conf import settings

from remit.billing.management.commands.remit_serve import Backoff


def test_the_pause_doubles_with_each_quick_failure_up_to_a_minute_and_resets_when_healthy():
    backoff = Backoff()

    pauses = [backoff.pause_after(ran_for=2) for _ in range(8)]

    assert pauses == [1, 2, 4, 8, 16, 32, 60, 60]
    # A worker that ran a minute or more was healthy: the next pause is short again.
    assert backoff.pause_after(ran_for=61) == 1
    assert backoff.pause_after(ran_for=3) == 2


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _health(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as answer:
            return answer.status
    except OSError:
        return 0


class _Lines:
    """Every line the supervisor prints (stdout and stderr), readable with a deadline."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.seen: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        for stream in (process.stdout, process.stderr):
            threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream) -> None:  # type: ignore[no-untyped-def]
        for line in stream:
            self._queue.put(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float = 60) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            self.seen.append(line)
            found = re.search(pattern, line)
            if found:
                return found
        raise AssertionError(f"no line matched {pattern!r}; seen: {self.seen[-20:]}")


def test_a_killed_worker_is_restarted_and_the_web_server_keeps_answering(tmp_path: Path):
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL",)} | {
        "REMIT_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "remit.settings",
    }
    manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
    subprocess.run(  # noqa: S603 - our own manage.py
        [*manage, "migrate", "--noinput", "-v0"], env=env, check=True, cwd=tmp_path
    )
    port = _free_port()
    serve = subprocess.Popen(  # noqa: S603
        [*manage, "remit_serve", "--port", str(port), "--web-workers", "1"],
        env=env,
        cwd=settings.BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    lines = _Lines(serve)
    try:
        started = {}
        for _ in range(2):
            found = lines.wait_for(r"Background worker ([a-z,]+) started \(pid (\d+)\)")
            started[found[1]] = int(found[2])
        assert sorted(started) == ["documents,emails", "webhooks,default"]
        deadline = time.monotonic() + 60
        while _health(port) != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _health(port) == 200

        # When the customer-facing worker is killed
        os.kill(started["documents,emails"], signal.SIGKILL)

        # Then it is announced, the web server and the webhook worker go on, and a new
        # documents worker starts after a pause
        lines.wait_for(
            r"The background worker documents,emails stopped \(exit code -9\); "
            r"the web server goes on; restarting it in 1 s"
        )
        assert _health(port) == 200
        found = lines.wait_for(r"Background worker documents,emails started \(pid (\d+)\)")
        assert int(found[1]) != started["documents,emails"]
        os.kill(started["webhooks,default"], 0)  # still running: raises if it is gone
        assert serve.poll() is None
        assert _health(port) == 200
    finally:
        serve.send_signal(signal.SIGTERM)
        try:
            serve.wait(timeout=30)
        finally:
            if serve.poll() is None:
                os.killpg(serve.pid, signal.SIGKILL)
    # SIGTERM stops both, cleanly.
    assert serve.returncode == 0
    assert _health(port) == 0
