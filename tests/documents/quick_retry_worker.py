"""A real ``remit_worker`` whose first email retry comes after 3 s instead of 30 s, for the
delayed-task test in ``test_queues.py``. Run as
``python -m tests.documents.quick_retry_worker <remit_worker arguments…>`` from the project folder.
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta

QUICK_FIRST_RETRY = timedelta(seconds=3)


def main(arguments: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "remit.settings")
    import django

    django.setup()

    from django.core.management import call_command

    from remit.documents.services import emails

    emails.FIRST_RETRY = QUICK_FIRST_RETRY
    call_command("remit_worker", *arguments)


if __name__ == "__main__":
    main(sys.argv[1:])
