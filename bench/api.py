"""Web-process benchmark (issue 12): what one API request and one issued invoice cost.

    .venv/bin/python bench/api.py [--invoices 1000] [--requests 300] [--skip-postgres]

For SQLite and PostgreSQL, in one process per database (a fresh bench database each), with
``--invoices`` invoices issued first:

1. ``GET /api/v1/invoices?limit=30`` (first page and a page behind a cursor): CPU ms of the web
   process per request (process time: the whole Django stack in process, without a socket),
   PostgreSQL's server CPU for the same requests (read from /proc when the server is local),
   wall ms, and SQL statements per request. Rounds alternate between the API rate limit as
   Remit counts it now (one upsert of a row; or a Redis counter with ``REMIT_CACHE_URL``) and
   the named baseline, today's path before this change: Django's database cache (``add`` and
   ``incr`` on the cache table).
2. ``POST /api/v1/accounts/{id}/orders`` (an invoice order: create and issue in one request):
   web CPU, server CPU, wall and statements per request.
3. ``order_place`` to commit (the service alone): client CPU, server CPU and statements.

Each figure is the median of ``--rounds`` rounds. Bench databases are created and dropped by the
script (SQLite in a temp dir, PostgreSQL database ``remit_bench_api``).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from documents import _server_cpu_seconds  # noqa: E402 - the same reading of the server's CPU

POSTGRES_SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
POSTGRES_DATABASE = os.environ.get("BENCH_POSTGRES_API_DATABASE", "remit_bench_api")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")


def _setup(engine: str, media: str) -> None:
    if engine == "postgresql":
        import psycopg
        from psycopg import sql

        name = sql.Identifier(POSTGRES_DATABASE)
        with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True) as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
            connection.execute(sql.SQL("CREATE DATABASE {}").format(name))
        os.environ["DATABASE_URL"] = f"{POSTGRES_SERVER}/{POSTGRES_DATABASE}"
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{media}/bench.sqlite3"
    os.environ["REMIT_MEDIA_ROOT"] = media
    # The embedded default's task backend: issuing writes its document task's row.
    os.environ["REMIT_TASK_BACKEND"] = "django_tasks_db.DatabaseBackend"
    os.environ.setdefault("REMIT_SECRET_KEY", "bench-" + "x" * 50)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "remit.settings")
    import django

    django.setup()


class Measure:
    """Per-call CPU (this process), server CPU (PostgreSQL), wall and statements of ``calls``
    calls of ``function``, medians over rounds."""

    def __init__(self) -> None:
        self.rounds: dict[str, list[tuple[float, float | None, float, float]]] = {}

    def run(self, name: str, function: Callable[[], object], calls: int) -> None:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        function()  # warm (and the first statement of a new connection)
        with CaptureQueriesContext(connection) as counted:  # a separate pass: logging costs CPU
            function()
        # Read now: the list is a slice of the connection's log, which each request resets.
        statements = len(counted.captured_queries)
        server_start = _server_cpu_seconds()
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(calls):
            function()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        server_end = _server_cpu_seconds()
        server = None
        if server_start is not None and server_end is not None:
            server = (server_end - server_start) * 1000 / calls
        self.rounds.setdefault(name, []).append(
            (cpu * 1000 / calls, server, wall * 1000 / calls, statements)
        )

    def line(self, name: str) -> str:
        rounds = self.rounds[name]
        cpu = statistics.median(r[0] for r in rounds)
        servers = [r[1] for r in rounds if r[1] is not None]
        server = f", server {statistics.median(servers):5.2f} ms" if servers else ""
        wall = statistics.median(r[2] for r in rounds)
        statements = statistics.median(r[3] for r in rounds)
        return (
            f"    {name:<44} web CPU {cpu:6.2f} ms{server}, wall {wall:6.2f} ms, "
            f"{statements:4.1f} statements"
        )

    def cpu(self, name: str) -> float:
        return statistics.median(r[0] for r in self.rounds[name])


def _world(invoices: int) -> tuple[int, str]:
    """Accounts, ``invoices`` issued invoices, an API key; returns an account id and the key."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    from remit.billing.actors import Actor
    from remit.billing.management.commands.remit_demo import _catalogue
    from remit.billing.models import Account, BillingProfile
    from remit.billing.services.orders import order_place
    from remit.integrations.services.api_keys import api_key_create

    _catalogue()
    accounts = []
    for index in range(max(2, invoices // 50)):
        account = Account.objects.create(
            name=f"Bench {index}", status="active", unpaid_invoice_limit=30_000
        )
        BillingProfile.objects.create(
            account=account,
            legal_name=f"Bench Customer {index} Ltd",
            address_line1="10 Downing Street",
            city="London",
            postal_code="SW1A 2AA",
            country="GB",
            invoice_recipient_emails=["ap@example.com"],
        )
        accounts.append(account)
    for index in range(invoices):
        order_place(
            account=accounts[index % len(accounts)],
            actor=Actor.system(),
            kind="credits",
            payment_method="invoice",
            credits=100 + index,
        )
    token = api_key_create(name="bench", scopes=["read", "write"], actor=Actor.system()).token
    return accounts[0].pk, token


def _database_child(engine: str, invoices: int, requests: int, rounds: int) -> None:
    media = tempfile.mkdtemp(prefix="remit-bench-api-")
    _setup(engine, media)
    from django.conf import settings
    from django.core.cache import caches
    from django.test import Client
    from django.test.utils import override_settings

    account_id, token = _world(invoices)
    settings.REMIT_API_REQUESTS_PER_MINUTE = 10**9
    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token}")
    first = client.get("/api/v1/invoices", {"limit": 30})
    assert first.status_code == 200, first.content
    assert len(first.json()["items"]) == 30
    cursor = client.get("/api/v1/invoices", {"limit": 30, "cursor": first.json()["next_cursor"]})
    cursor = cursor.json()["next_cursor"]

    def list_first() -> None:
        response = client.get("/api/v1/invoices", {"limit": 30})
        assert response.status_code == 200

    def list_cursor() -> None:
        response = client.get("/api/v1/invoices", {"limit": 30, "cursor": cursor})
        assert response.status_code == 200

    body = json.dumps({"kind": "credits", "credits": 150, "payment_method": "invoice"})

    def create_and_issue() -> None:
        response = client.post(
            f"/api/v1/accounts/{account_id}/orders", body, content_type="application/json"
        )
        assert response.status_code == 201, response.content

    from remit.billing.actors import Actor
    from remit.billing.models import Account
    from remit.billing.services.orders import order_place

    account = Account.objects.get(pk=account_id)

    def issue() -> None:
        order_place(
            account=account,
            actor=Actor.system(),
            kind="credits",
            payment_method="invoice",
            credits=150,
        )

    database_cache = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "remit_cache",
        }
    }
    redis_cache = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    from remit.integrations.services import api_rate

    variants: list[tuple[str, dict, Callable[[], bool] | None]] = [
        ("rate as a row upsert (Remit, no Redis)", database_cache, None),
        ("rate in Redis (Remit, REMIT_CACHE_URL)", redis_cache, None),
        ("baseline: rate in Django's database cache", database_cache, lambda: True),
    ]
    measure = Measure()
    for _ in range(rounds):  # alternate the variants round by round
        for name, caches_setting, force_cache in variants:
            with override_settings(CACHES=caches_setting):
                if "Redis" in caches_setting["default"]["BACKEND"]:
                    caches["default"].clear()
                original = api_rate.rate_uses_cache
                if force_cache is not None:
                    api_rate.rate_uses_cache = force_cache
                try:
                    measure.run(f"list, first page: {name}", list_first, requests)
                    measure.run(f"list, cursor page: {name}", list_cursor, requests)
                finally:
                    api_rate.rate_uses_cache = original
        measure.run("create + issue (POST orders)", create_and_issue, max(20, requests // 10))
        measure.run("issue (order_place to commit)", issue, max(20, requests // 10))
    print(f"  {engine} ({invoices} invoices, {rounds} rounds, medians):", flush=True)
    for name in measure.rounds:
        print(measure.line(name), flush=True)
    for page in ("first page", "cursor page"):
        remit = measure.cpu(f"list, {page}: {variants[0][0]}")
        baseline = measure.cpu(f"list, {page}: {variants[2][0]}")
        print(f"    list, {page}: the row upsert costs {remit / baseline:.2f}x the baseline's CPU")


def _child_main(function, *args) -> None:  # type: ignore[no-untyped-def]
    function(*args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-postgres", action="store_true")
    options = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[attr-defined]
    print(f"Remit web benchmark — {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    context = multiprocessing.get_context("spawn")
    for engine in ["sqlite"] + ([] if options.skip_postgres else ["postgresql"]):
        process = context.Process(
            target=_child_main,
            args=(_database_child, engine, options.invoices, options.requests, options.rounds),
        )
        process.start()
        process.join()
        if process.exitcode != 0:
            raise SystemExit(f"{engine} failed with exit code {process.exitcode}")


if __name__ == "__main__":
    main()
