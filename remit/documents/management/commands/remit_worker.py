"""The background worker: django-tasks' db_worker plus recovery of work a dead worker left.

Each round: every ``--sweep`` seconds finish pending documents, due emails and due webhook
deliveries (idempotent),
then process the task queue. ``--once`` does one round and exits.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

from remit.documents.services.recovery import documents_recover
from remit.integrations.services.webhooks import webhooks_recover

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run background tasks and recover unfinished document work."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="One round, then exit.")
        parser.add_argument("--interval", type=float, default=1.0)
        parser.add_argument("--sweep", type=float, default=60.0)

    def handle(self, *args: Any, **options: Any) -> None:
        last_sweep = 0.0
        first = True
        while True:
            if time.monotonic() - last_sweep >= options["sweep"]:
                # At start anything pending is fair game; later only what a live worker would
                # have finished by now.
                try:
                    found = documents_recover(older_than=timedelta(0 if first else 120))
                    found["webhooks"] = webhooks_recover(older_than=timedelta(0 if first else 120))
                except Exception:  # the task loop below must run whatever the sweep hit
                    logger.exception("Recovery sweep failed")
                else:
                    if any(found.values()):
                        self.stdout.write(f"Recovered: {found}")
                last_sweep, first = time.monotonic(), False
            call_command("db_worker", batch=True, startup_delay=False, verbosity=0)
            if options["once"]:
                return
            time.sleep(options["interval"])
