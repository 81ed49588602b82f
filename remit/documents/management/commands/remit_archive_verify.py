from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from remit.documents.services.archive import archive_verify


class Command(BaseCommand):
    help = "Verify the document archive's hash chain and every stored file (D2)."

    def handle(self, *args: Any, **options: Any) -> None:
        result = archive_verify()
        if not result.intact:
            raise CommandError(
                f"Archive BROKEN at entry #{result.broken_position} ({result.problem}); "
                f"{result.checked} entries checked."
            )
        self.stdout.write(f"Archive intact: {result.checked} documents verified.")
