"""gunicorn settings of Remit's web processes (``remit_serve``, deploy/systemd/remit-web.service):
``gunicorn -c python:remit.gunicorn_config remit.wsgi:application``.

With ``PROMETHEUS_MULTIPROC_DIR`` set, each web process writes its request metrics to files in
that folder and /metrics adds them up: the folder is emptied when gunicorn starts, and the files
of a process that exits are marked dead so its counts stay but its gauges go."""

from __future__ import annotations

import os
import shutil
from typing import Any

from prometheus_client import multiprocess

# Logged by Remit's own access line (JSON, with the request id): gunicorn's would repeat it.
accesslog = None
# Requests that take longer (a year's ZIP export streams; anything else is a fault).
timeout = 120
graceful_timeout = 30
# Keep-alive behind a reverse proxy that reuses connections.
keepalive = 5


def on_starting(server: Any) -> None:
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder, exist_ok=True)


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
