"""The background worker: the task queues in strict priority order, plus a recovery sweep that
finishes what a dead worker left.

``remit_worker`` serves every queue (documents, then emails, then webhooks, then default: the
next task always comes from the first queue that has one); ``--queues documents,emails`` serves
only those, so production runs customer-facing work and webhooks in separate processes and a
slow receiver never delays an invoice email. Works with either task backend: the database queue
(django-tasks-db) or Redis + RQ (django-tasks-rq), where any number of these processes may run
on any number of machines.

The sweep runs at start and then every ``--sweep`` seconds whatever the queues hold: it is
checked before every task, and at least every second while the queues are empty, so a backlog of
thousands of tasks delays it by one task at most. It finishes pending documents and due emails
(a worker serving documents or emails) and due webhook deliveries (a worker serving webhooks);
all of it is idempotent. ``--once`` sweeps, runs what the queues hold, then exits.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, OutputWrapper
from django.db import close_old_connections
from django.db.utils import OperationalError
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.management.commands.db_worker import Worker as DatabaseWorker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception
from rq.job import Job as RQJob
from rq.queue import Queue as RQQueue
from rq.scheduler import RQScheduler
from rq.scheduler import run as rq_scheduler_run
from rq.worker import SimpleWorker

from remit.documents.services.recovery import documents_recover
from remit.integrations.services.webhooks import webhooks_recover
from remit.operations.services import (
    operations_prune,
    worker_heartbeat,
    worker_name,
    worker_stopped,
)

logger = logging.getLogger(__name__)

# Work older than this when a periodic sweep finds it was left by a worker that died (a live
# worker finishes a task in seconds); the start-up sweep takes everything pending.
LEFT_BEHIND_AFTER = timedelta(minutes=2)
# How often a worker removes finished work past its retention (remit_prune).
PRUNE_EVERY = 3600.0
# Longest wait on an empty RQ queue before the sweep's schedule is checked again.
RQ_IDLE_POLL_SECONDS = 1


class RecoverySweep:
    """Finishes what a dead worker left for the queues this worker serves, on a schedule."""

    def __init__(
        self, *, queues: list[str], every: float, stdout: OutputWrapper, backend: str
    ) -> None:
        self.recovers_documents = bool({"documents", "emails"} & set(queues))
        self.recovers_webhooks = "webhooks" in queues
        self.every = every
        self.stdout = stdout
        self.ready_message = f"Worker ready: {backend} backend, queues {','.join(queues)}."
        self.last_finished: float | None = None
        # The heartbeat /health and /metrics read (written every sweep), and the hourly prune.
        self.queues = queues
        self.name = worker_name()
        self.started_at = timezone.now()
        self.last_pruned: float | None = None

    def due(self) -> bool:
        return self.last_finished is None or time.monotonic() - self.last_finished >= self.every

    def seconds_left(self) -> float:
        if self.last_finished is None:
            return 0.0
        return max(0.0, self.every - (time.monotonic() - self.last_finished))

    def run(self) -> None:
        first = self.last_finished is None
        older_than = timedelta(0) if first else LEFT_BEHIND_AFTER
        found: dict[str, int] = {}
        try:
            if self.recovers_documents:
                found.update(documents_recover(older_than=older_than))
            if self.recovers_webhooks:
                found["webhooks"] = webhooks_recover(older_than=older_than)
            worker_heartbeat(name=self.name, queues=self.queues, started_at=self.started_at)
            if self.last_pruned is None or time.monotonic() - self.last_pruned >= PRUNE_EVERY:
                self.last_pruned = time.monotonic()
                pruned = operations_prune()
                if any(pruned.values()):
                    self.stdout.write(f"Pruned: {pruned}")
        except Exception:  # the queues must be served whatever the sweep hit
            logger.exception("Recovery sweep failed")
        else:
            if any(found.values()):
                self.stdout.write(f"Recovered: {found}")
        finally:
            self.last_finished = time.monotonic()
        if first:
            self.stdout.write(self.ready_message)

    def stopped(self) -> None:
        try:
            worker_stopped(name=self.name)
        except Exception:  # stopping must not fail on a database that went away
            logger.exception("Removing the heartbeat of %s failed", self.name)


class DatabaseQueueWorker(DatabaseWorker):
    """django-tasks-db's worker, taking the next task from the first of its queues that has one
    (its own loop takes by task priority and age across all queues)."""

    def next_task(self) -> DBTaskResult | None:
        ready = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        with exclusive_transaction(ready.db):
            try:
                for queue_name in self.queue_names:
                    task_result = ready.filter(queue_name=queue_name).get_locked()
                    if task_result is not None:
                        # Claimed: no other worker process runs it.
                        task_result.claim(self.worker_id)
                        return task_result
            except OperationalError as error:
                if is_locked_database_exception(error):  # SQLite busy: try again next round
                    return None
                raise
        return None


def database_worker_run(
    *, queues: list[str], sweep: RecoverySweep, once: bool, interval: float, backend_name: str
) -> None:
    worker = DatabaseQueueWorker(
        queue_names=queues,
        interval=interval,
        batch=once,
        backend_name=backend_name,
        startup_delay=False,
        max_tasks=None,
        worker_id=get_random_string(32),
        excluded_queue_names=[],
    )
    # SIGTERM / Ctrl-C: the task that is running finishes, then the worker exits.
    worker.configure_signals()
    while worker.running:
        if sweep.due():
            sweep.run()
        close_old_connections()
        task_result = worker.next_task()
        if task_result is not None:
            worker.run_task(task_result)
            close_old_connections()
            continue
        if once:
            return
        time.sleep(max(0.0, min(interval, sweep.seconds_left())))


class ThreadScheduler(RQScheduler):
    """RQ's scheduler (moves delayed jobs into their queue when due) in a thread of the worker
    instead of a forked process: it dies with the worker even when the worker is killed with
    SIGKILL, where RQ's scheduler process would live on, orphaned, holding the queues' scheduler
    locks. It uses a connection of its own."""

    def _install_signal_handlers(self) -> None:
        """The worker's handlers stop it (a thread cannot install handlers)."""

    def start(self) -> threading.Thread:
        self._status = self.Status.STARTED
        self._connection = None  # connect anew: redis connections are not shared by threads
        thread = threading.Thread(
            target=rq_scheduler_run, args=(self,), name="rq-scheduler", daemon=True
        )
        self._process = thread  # type: ignore[assignment]
        thread.start()
        return thread


class SweepingRQWorker(SimpleWorker):
    """RQ's in-process worker (one warm Typst compiler and database connection per process, as
    with the database queue) with the recovery sweep among its maintenance work. RQ checks its
    maintenance before every job and after every empty wait, and the wait is kept short."""

    def __init__(self, *args: Any, sweep: RecoverySweep, **kwargs: Any) -> None:
        self.sweep = sweep
        self.scheduler_runs_once = False
        super().__init__(*args, **kwargs)

    @property
    def should_run_maintenance_tasks(self) -> bool:
        return self.sweep.due() or super().should_run_maintenance_tasks

    def run_maintenance_tasks(self) -> None:
        if super().should_run_maintenance_tasks:
            super().run_maintenance_tasks()
        if self.sweep.due():
            self.sweep.run()
            self.scheduler_take_over()

    def scheduler_take_over(self) -> None:
        """Take the scheduler locks a stopped scheduler held (a worker killed with SIGKILL keeps
        them for a minute) at every sweep, rather than at RQ's ten-minute maintenance, so delayed
        retries never wait long for a scheduler."""
        if self.scheduler is None or self.scheduler_runs_once:
            return
        thread = self.scheduler._process
        if not (isinstance(thread, threading.Thread) and thread.is_alive()):
            self.scheduler.acquire_locks(auto_start=True)

    @property
    def dequeue_timeout(self) -> int:
        return RQ_IDLE_POLL_SECONDS

    def subscribe(self) -> None:
        """As RQ's, but the thread listening for commands (``rq`` suspend, kill…) waits at most
        a second for a message: stopping it joins the thread (redis-py 8), and with RQ's 60 s
        every worker shutdown took up to a minute."""
        self.log.info("Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(  # type: ignore[assignment]
            sleep_time=1, daemon=True, exception_handler=self._pubsub_exception_handler
        )

    def _start_scheduler(
        self,
        burst: bool = False,
        logging_level: str | None = "INFO",
        date_format: str = "",
        log_format: str = "",
    ) -> None:
        # As RQ's own, with the scheduler in a thread. One scheduler per queue holds the queue's
        # lock in Redis; the others stand by and take over when it stops.
        self.scheduler_runs_once = burst
        self.scheduler = ThreadScheduler(
            self.queues, connection=self.connection, serializer=self.serializer
        )
        self.scheduler.acquire_locks()
        if not self.scheduler.acquired_locks:
            return
        if burst:
            try:
                self.scheduler.register_birth()
                self.scheduler.enqueue_scheduled_jobs()
            finally:
                self.scheduler.release_locks()
                self.scheduler.register_death()
        else:
            self.scheduler.start()

    def stop_scheduler(self) -> None:
        if self.scheduler is None:
            return
        self.scheduler.request_stop()
        thread = self.scheduler._process
        if isinstance(thread, threading.Thread):
            thread.join(timeout=self.scheduler.interval + 5)

    def execute_job(self, job: RQJob, queue: RQQueue) -> None:
        # As django-tasks-db's worker does: a connection the database dropped between two jobs
        # is replaced instead of failing the next one.
        close_old_connections()
        try:
            super().execute_job(job, queue)
        finally:
            close_old_connections()


def rq_worker_run(*, queues: list[str], sweep: RecoverySweep, once: bool) -> None:
    import django_rq
    from django_tasks_rq import Job

    rq_queues = django_rq.queues.get_queues(*queues, job_class=Job)
    worker = SweepingRQWorker(
        rq_queues,
        connection=rq_queues[0].connection,
        job_class=Job,
        queue_class=type(rq_queues[0]),
        sweep=sweep,
    )
    # The scheduler moves delayed jobs (email and webhook retries, `run_after`) into their
    # queue when due.
    worker.work(burst=once, with_scheduler=True)


class Command(BaseCommand):
    help = "Run background tasks in queue priority order and recover unfinished work."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--queues",
            default=",".join(settings.TASK_QUEUES),
            help="Comma-separated queues to serve, highest priority first (default: all, "
            "%(default)s).",
        )
        parser.add_argument("--once", action="store_true", help="Sweep, run what is queued, exit.")
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help="Seconds between looks at an empty database queue.",
        )
        parser.add_argument("--sweep", type=float, default=60.0, help="Seconds between sweeps.")
        parser.add_argument("--backend", default=DEFAULT_TASK_BACKEND_ALIAS)

    def handle(self, *args: Any, **options: Any) -> None:
        queues = [name.strip() for name in options["queues"].split(",") if name.strip()]
        unknown = sorted(set(queues) - set(settings.TASK_QUEUES))
        if not queues or unknown:
            raise CommandError(
                f"Unknown queues {unknown}; the queues are {','.join(settings.TASK_QUEUES)}."
            )
        backend = task_backends[options["backend"]]
        if isinstance(backend, DatabaseBackend):
            sweep = RecoverySweep(
                queues=queues, every=options["sweep"], stdout=self.stdout, backend="database"
            )
            try:
                database_worker_run(
                    queues=queues,
                    sweep=sweep,
                    once=options["once"],
                    interval=options["interval"],
                    backend_name=options["backend"],
                )
            finally:
                sweep.stopped()
            return
        from django_tasks_rq import RQBackend

        if isinstance(backend, RQBackend):
            sweep = RecoverySweep(
                queues=queues, every=options["sweep"], stdout=self.stdout, backend="rq"
            )
            try:
                rq_worker_run(queues=queues, sweep=sweep, once=options["once"])
            finally:
                sweep.stopped()
            return
        raise CommandError(f"remit_worker cannot run tasks of {type(backend).__name__}.")
