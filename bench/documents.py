"""Document benchmark (issue 3): one command, figures and ratios against a named baseline.

    make bench                 # or: .venv/bin/python bench/documents.py --invoices 400

1. Render only: the same Latin one-page invoice rendered warm by Typst (Remit's engine) and by
   WeasyPrint (the baseline) in this run: median and p90 ms per PDF, and the ratio.
2. End to end: N invoices issued through the real services (rules, gapless number, snapshot,
   order, invoice, document row, email queued), rendered, stored (fsync'd) and chained, on
   SQLite and on PostgreSQL: invoices per second. The documents are stored as the worker's
   tasks store them (claimed, rendered and chained in batches; here the issuing processes
   also do the worker's part, as on a 2-core machine running both), with 1 and 2 processes;
   the baseline is storing each document alone right after its invoice (what the worker did
   before batches, and what a download still does), with 2 processes. The task queue itself
   (django-tasks rows) is not part of the figure: tasks are called directly.
Peak memory is the process's maximum resident set size. Bench databases are created and
dropped by the script (SQLite in a temp dir, PostgreSQL database ``remit_bench``, or
``$BENCH_POSTGRES_DATABASE``).

    .venv/bin/python bench/documents.py --queries [--invoices 200]

instead measures the cost of one invoice in a single process on each database: the SQL
statements it sends (listed for one invoice stored alone, counted over all, stored alone and in
worker batches), and the CPU milliseconds per invoice of the issuing process and, on
PostgreSQL, of its server process (read from /proc when the server runs on this machine).
"""

from __future__ import annotations

import argparse
import datetime
import logging
import multiprocessing
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
_WARM_TIME = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
_WARM_DATA = {
    "lang": "en", "title": "Invoice", "number": "WARM", "seller": {"name": "S", "lines": []},
    "buyer_label": "Bill to", "buyer": {"name": "B", "lines": []}, "footer": "", "support": "",
    "page_label": "Page", "notes_label": "Notes", "notes": "", "intro": "", "stamp": "",
    "payment": None, "meta": [], "show_discount": False, "columns": ["#", "D", "Q", "U", "T", "A"],
    "lines": [], "totals": [], "grand_total": ["Total", "0"], "tax_notes": [],
}  # fmt: skip
POSTGRES_SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
POSTGRES_DATABASE = os.environ.get("BENCH_POSTGRES_DATABASE", "remit_bench")


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _setup(database_url: str, media: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["REMIT_MEDIA_ROOT"] = media
    os.environ["REMIT_TASK_BACKEND"] = "django_tasks.backends.dummy.DummyBackend"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "remit.settings")
    import django

    django.setup()


def _fresh_postgres() -> str:
    import psycopg
    from psycopg import sql

    name = sql.Identifier(POSTGRES_DATABASE)
    with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(name))
    return f"{POSTGRES_SERVER}/{POSTGRES_DATABASE}"


def _prepare_world(accounts: int) -> list[int]:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from remit.billing.management.commands.remit_demo import _catalogue
    from remit.billing.models import Account, BillingProfile

    _catalogue()
    ids = []
    for index in range(accounts):
        account = Account.objects.create(
            name=f"Bench {index}", status="active", unpaid_invoice_limit=100
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
        ids.append(account.pk)
    return ids


def _issue(account_ids: list[int], count: int, *, store: str = "batch") -> None:
    """Issue ``count`` invoices end to end, spreading them over the accounts, and store their
    documents: ``batch`` as the worker's tasks do (after every STORE_BATCH invoices, and at the
    end, claim and store the queue in batches), ``single`` one document right after its invoice
    (the per-document path of downloads, and of the worker before batches)."""
    from remit.billing.actors import Actor
    from remit.billing.models import Account
    from remit.billing.services.orders import order_place
    from remit.documents.models import Document
    from remit.documents.services.archive import (
        STORE_BATCH,
        document_store,
        documents_store_queued,
    )

    actor = Actor.system()
    accounts = list(Account.objects.filter(pk__in=account_ids))
    for index in range(count):
        order = order_place(
            account=accounts[index % len(accounts)],
            actor=actor,
            kind="credits",
            payment_method="invoice",
            credits=100 + index,
        )
        if store == "single":
            document_store(document_id=Document.objects.get(invoice=order.invoice).pk)
        elif (index + 1) % STORE_BATCH == 0:
            documents_store_queued()
    if store == "batch":
        while documents_store_queued():
            pass


def _worker(
    database_url: str, media: str, account_ids: list[int], count: int, store: str, barrier, times
) -> None:  # type: ignore[no-untyped-def]
    """One issuing process. It sets up Django and warms its own Typst compiler (the compiler's
    threads do not survive fork, so every process builds its own), waits for the others, then
    issues ``count`` invoices and reports when it started and finished."""
    _setup(database_url, media)
    from remit.documents.services.rendering import (
        CURRENT_TEMPLATE_VERSION,
        covered_codepoints,
        render_pdf,
    )

    covered_codepoints()
    render_pdf(template_version=CURRENT_TEMPLATE_VERSION, data=_WARM_DATA, timestamp=_WARM_TIME)
    barrier.wait()
    start = time.perf_counter()
    _issue(account_ids, count, store=store)
    times.append((start, time.perf_counter()))


def _end_to_end(label: str, database_url: str, invoices: int, processes: int, store: str) -> float:
    media = tempfile.mkdtemp(prefix="remit-bench-media-")
    _setup(database_url, media)
    account_ids = _prepare_world(accounts=max(2, invoices // 20))
    from django.db import connections

    connections.close_all()
    per_process = invoices // processes
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes)
    with context.Manager() as manager:
        times = manager.list()
        shards = [account_ids[i::processes] for i in range(processes)]
        workers = [
            context.Process(
                target=_worker,
                args=(database_url, media, shard, per_process, store, barrier, times),
            )
            for shard in shards
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
            if worker.exitcode != 0:
                raise SystemExit(f"bench worker failed ({worker.exitcode})")
        elapsed = max(end for _, end in times) - min(start for start, _ in times)
    from remit.billing.models import Invoice
    from remit.documents.models import ArchiveEntry
    from remit.documents.services.archive import archive_verify

    issued = Invoice.objects.count()
    assert issued == per_process * processes, (issued, per_process * processes)
    assert ArchiveEntry.objects.count() == issued
    assert archive_verify().intact
    shutil.rmtree(media, ignore_errors=True)
    rate = issued / elapsed
    print(
        f"  {label:<34} {issued:>5} invoices in {elapsed:6.2f} s = {rate:7.1f} invoices/s",
        flush=True,
    )
    return rate


def _render_only(samples: int) -> None:
    # WeasyPrint logs every layout step at INFO through the root logger Remit configures.
    for name in ("weasyprint", "weasyprint.progress"):
        logging.getLogger(name).setLevel(logging.WARNING)
    media = tempfile.mkdtemp(prefix="remit-bench-render-")
    _setup(f"sqlite:///{media}/render.sqlite3", media)
    account_ids = _prepare_world(accounts=1)
    _issue(account_ids, 1)
    from django.template import Context, Template

    from remit.documents.models import Document
    from remit.documents.services.rendering import (
        CURRENT_TEMPLATE_VERSION,
        document_render_data,
        render_pdf,
    )

    document = Document.objects.get()
    data = document_render_data(document)
    template = Template((ROOT / "bench" / "invoice_weasyprint.html").read_text())

    counter = iter(range(1, 10**9))

    def varied() -> dict:  # type: ignore[type-arg]
        """A different invoice each time (number, line, total), so neither engine can reuse a
        previous layout: Typst memoises identical inputs, which would flatter it."""
        n = next(counter)
        return {
            **data,
            "number": f"INV-2026-{n:06d}",
            "lines": [{**data["lines"][0], "description": f"{100 + n} credits"}],
            "grand_total": [data["grand_total"][0], f"${100 + n}.00"],
        }

    def typst_once() -> bytes:
        return render_pdf(
            template_version=CURRENT_TEMPLATE_VERSION,
            data=varied(),
            timestamp=document.render_timestamp,
        )

    def weasyprint_once() -> bytes:
        import weasyprint

        logging.getLogger("fontTools").setLevel(logging.WARNING)

        html = template.render(Context(varied()))
        return weasyprint.HTML(string=html).write_pdf()  # type: ignore[no-any-return]

    results = {}
    for name, render, count in (
        ("Typst (Remit)", typst_once, samples),
        ("WeasyPrint (baseline)", weasyprint_once, max(10, samples // 10)),
    ):
        render()  # warm
        timings = []
        for _ in range(count):
            start = time.perf_counter()
            pdf = render()
            timings.append((time.perf_counter() - start) * 1000)
        timings.sort()
        median = statistics.median(timings)
        p90 = timings[int(len(timings) * 0.9) - 1]
        results[name] = median
        print(
            f"  {name:<22} median {median:7.2f} ms  p90 {p90:7.2f} ms  "
            f"({count} renders, {len(pdf) / 1024:.0f} KiB)",
            flush=True,
        )
    ratio = results["WeasyPrint (baseline)"] / results["Typst (Remit)"]
    print(f"  Typst is {ratio:.1f}x faster than WeasyPrint on the same invoice")
    print(f"  peak memory (max RSS of this process): {_peak_rss_mib():.0f} MiB", flush=True)
    shutil.rmtree(media, ignore_errors=True)


def _child_main(function, results, *args) -> None:  # type: ignore[no-untyped-def]
    results.put(function(*args))


def _in_child(function, *args):  # type: ignore[no-untyped-def]
    """Each measurement in its own process: its own Django set-up, database and peak RSS.
    Returns what ``function`` returned."""
    context = multiprocessing.get_context("spawn")
    results = context.SimpleQueue()
    process = context.Process(target=_child_main, args=(function, results, *args))
    process.start()
    process.join()
    if process.exitcode != 0:
        raise SystemExit(f"{function.__name__} failed with exit code {process.exitcode}")
    return results.get()


def _fresh_database(engine: str) -> str:
    if engine == "postgresql":
        return _fresh_postgres()
    return f"sqlite:///{tempfile.mkdtemp(prefix='remit-bench-db-')}/bench.sqlite3"


def _end_to_end_child(label: str, engine: str, invoices: int, processes: int, store: str) -> float:
    return _end_to_end(label, _fresh_database(engine), invoices, processes, store)


def _server_cpu_seconds() -> float | None:
    """CPU time of this connection's PostgreSQL server process, if it runs on this machine."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")


def _queries_child(engine: str, invoices: int) -> None:
    """Statements and CPU per invoice, one process (see the module docstring)."""
    import re

    media = tempfile.mkdtemp(prefix="remit-bench-media-")
    _setup(_fresh_database(engine), media)
    account_ids = _prepare_world(accounts=max(2, invoices // 20))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from remit.documents.services.rendering import (
        CURRENT_TEMPLATE_VERSION,
        covered_codepoints,
        render_pdf,
    )

    covered_codepoints()
    render_pdf(template_version=CURRENT_TEMPLATE_VERSION, data=_WARM_DATA, timestamp=_WARM_TIME)
    _issue(account_ids, 5)  # warm: first numbers of each series, caches, compiled template
    with CaptureQueriesContext(connection) as one:
        _issue(account_ids[:1], 1, store="single")
    # The first statement reads the bench's accounts, once per call: not part of an invoice.
    statements = [re.sub(r"\s+", " ", query["sql"]) for query in one.captured_queries][1:]
    print(
        f"  {engine}: the statements of one invoice stored alone ({len(statements)}; the "
        "SELECT after the first COMMIT is the bench finding the document)"
    )
    for number, sql in enumerate(statements, 1):
        print(f"    {number:2d} {sql[:110]}")
    for store in ("single", "batch"):
        connection.queries_log.clear()  # the log keeps 9,000 statements; count from empty
        with CaptureQueriesContext(connection) as every:
            _issue(account_ids, invoices, store=store)
        per_invoice = (len(every.captured_queries) - 1) / invoices
        server_start = _server_cpu_seconds()
        start = time.process_time()
        wall = time.perf_counter()
        _issue(account_ids, invoices, store=store)
        cpu_ms = (time.process_time() - start) * 1000 / invoices
        wall_ms = (time.perf_counter() - wall) * 1000 / invoices
        server_end = _server_cpu_seconds()
        server = (
            f", server process {(server_end - server_start) * 1000 / invoices:.1f} ms CPU"
            if server_start is not None and server_end is not None
            else ""
        )
        print(
            f"  {engine}, stored {store:<6}: {per_invoice:.1f} statements per invoice; issuing "
            f"process {cpu_ms:.1f} ms CPU{server}, {wall_ms:.1f} ms wall per invoice "
            f"({invoices} invoices)",
            flush=True,
        )
    shutil.rmtree(media, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=400)
    parser.add_argument("--renders", type=int, default=200)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument(
        "--queries",
        action="store_true",
        help="only list and count the SQL statements and CPU time per invoice (one process)",
    )
    options = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[attr-defined]
    print(f"Remit document benchmark — {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    engines = ["sqlite"] + ([] if options.skip_postgres else ["postgresql"])
    if options.queries:
        print("Per invoice, one process (issue, then render, store, chain):")
        for engine in engines:
            _in_child(_queries_child, engine, options.invoices)
        return
    print("Render only (Latin one-page invoice, warm):")
    _in_child(_render_only, options.renders)
    print("End to end (rules, number, snapshot, render, store, chain, email queued):")
    print("  worker batches: the documents stored as the worker's tasks store them (claimed,")
    print("  rendered and chained in batches); baseline: each stored alone after its invoice")
    for engine in engines:
        rates = {}
        for store, processes in (("single", 2), ("batch", 1), ("batch", 2)):
            plural = "es" if processes > 1 else ""
            how = "worker batches" if store == "batch" else "baseline"
            label = f"{engine}, {processes} process{plural}, {how}"
            rates[store, processes] = _in_child(
                _end_to_end_child, label, engine, options.invoices, processes, store
            )
        ratio = rates["batch", 2] / rates["single", 2]
        print(f"  {engine}: worker batches are {ratio:.2f}x the baseline with 2 processes")


if __name__ == "__main__":
    main()
