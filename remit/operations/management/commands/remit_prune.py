"""Remove finished work past its retention (README, "Retention"); the worker runs it hourly."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from remit.operations.services import operations_prune


class Command(BaseCommand):
    help = (
        "Remove finished task rows, expired idempotency keys, old webhook deliveries and Stripe "
        "events."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        pruned = operations_prune()
        self.stdout.write(", ".join(f"{name}: {count}" for name, count in pruned.items()))
