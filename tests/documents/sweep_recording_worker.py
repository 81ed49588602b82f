"""A real ``remit_worker`` that notes each recovery sweep, for ``test_queues.py``.

Run as ``python -m tests.documents.sweep_recording_worker <log> <remit_worker arguments…>``
from the project folder, with the environment of a real worker. Before each sweep it appends a
line ``<time.monotonic()> <tasks ready in the emails queue>`` to ``<log>``, so a test can see
when the sweeps ran and how much the queue held at that moment.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any


def _emails_ready() -> int:
    from django.conf import settings

    if settings.TASKS["default"]["BACKEND"] == "django_tasks_rq.RQBackend":
        import django_rq

        return int(django_rq.get_queue("emails").count)
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.ready().filter(queue_name="emails").count()


def main(log: Path, arguments: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "remit.settings")
    import django

    django.setup()

    from django.core.management import call_command

    from remit.documents.management.commands import remit_worker

    real_recover = remit_worker.documents_recover

    def note_then_recover(**kwargs: Any) -> dict[str, int]:
        with open(log, "a") as stream:
            stream.write(f"{time.monotonic()} {_emails_ready()}\n")
        return real_recover(**kwargs)

    remit_worker.documents_recover = note_then_recover
    call_command("remit_worker", *arguments)


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2:])
