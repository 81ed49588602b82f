"""Running database work on real parallel connections, started together (a barrier)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection

# How long the main thread waits for the workers before declaring a hang (seconds).
JOIN_TIMEOUT = 120
# PostgreSQL allows 100 connections; stay well below so other sessions are not starved.
MAX_THREADS = 20


@dataclass(frozen=True)
class Outcome:
    """What one call did: returned ``value`` or raised ``error``."""

    index: int
    value: Any = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def run_concurrently(
    tasks: Sequence[Callable[[], Any]],
    *,
    threads: int | None = None,
    setup: Callable[[], None] | None = None,
) -> list[Outcome]:
    """Run ``tasks`` on ``threads`` threads (default: one per task) that start together.

    Task ``i`` runs on thread ``i % threads``; each thread runs its tasks in order. ``setup``
    runs in every thread before the barrier (e.g. to open the connection), so the barrier
    releases threads that are ready to hit the database at once. Each thread closes its own
    connection when done. Returns one :class:`Outcome` per task, in task order.
    """
    count = min(threads or len(tasks), len(tasks))
    barrier = threading.Barrier(count)
    outcomes: list[Outcome | None] = [None] * len(tasks)
    crashed: list[BaseException] = []

    def worker(slot: int) -> None:
        try:
            if setup is not None:
                setup()
            barrier.wait(timeout=JOIN_TIMEOUT)
            for index in range(slot, len(tasks), count):
                try:
                    outcomes[index] = Outcome(index=index, value=tasks[index]())
                except Exception as error:
                    outcomes[index] = Outcome(index=index, error=error)
        except BaseException as error:  # setup or barrier failure: the run is invalid
            crashed.append(error)
            barrier.abort()
        finally:
            connection.close()

    workers = [
        threading.Thread(target=worker, args=(slot,), name=f"concurrency-{slot}", daemon=True)
        for slot in range(count)
    ]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(JOIN_TIMEOUT)
    hung = [thread.name for thread in workers if thread.is_alive()]
    assert not hung, f"threads did not finish within {JOIN_TIMEOUT}s: {hung}"
    assert not crashed, f"worker threads crashed outside the tasks: {crashed!r}"
    assert all(outcome is not None for outcome in outcomes), "some tasks never ran"
    return [outcome for outcome in outcomes if outcome is not None]
