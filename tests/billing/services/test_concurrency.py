"""Real concurrency: many threads, each with its own database connection, contend at once.

These tests commit their data (``transaction=True``) so every thread's connection sees it. They
run against whatever database is configured: SQLite (WAL + ``BEGIN IMMEDIATE``) or PostgreSQL
(``SELECT ... FOR UPDATE``). Every thread waits on a :class:`threading.Barrier` before calling the
service, so the calls really overlap, and every outcome (result or exception) is collected and
asserted on as a whole.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from remit.billing.actors import Actor
from remit.billing.models import (
    Account,
    CreditLedgerEntry,
    DocumentCounter,
    Invoice,
    InvoiceLine,
    Order,
    Payment,
)
from remit.billing.selectors.credits import credit_balance
from remit.billing.services.orders import order_card_payment_record, order_place
from remit.billing.services.payments import invoice_payment_record
from remit.core.errors import InvoiceNotPayable, UnpaidInvoiceLimitReached
from tests.concurrency import MAX_THREADS, Outcome, run_concurrently
from tests.factories import AccountFactory, BillingProfileFactory, catalogue_create

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


def _open_connection() -> None:
    connection.ensure_connection()


def _unexpected(outcomes: list[Outcome], *expected: type[BaseException]) -> list[str]:
    """Every error that is not one of ``expected``, formatted for an assertion message."""
    return [
        f"task {o.index}: {type(o.error).__module__}.{type(o.error).__name__}: {o.error}"
        for o in outcomes
        if o.error is not None and not isinstance(o.error, expected)
    ]


def _error_names(outcomes: list[Outcome]) -> Counter[str]:
    return Counter("ok" if o.ok else type(o.error).__name__ for o in outcomes)


def _account_with_profile(**kwargs: Any) -> Account:
    account = AccountFactory(**kwargs)
    BillingProfileFactory(account=account)
    return account


@pytest.fixture
def catalogue_committed() -> None:
    catalogue_create()


# ---------------------------------------------------------------------------------------------
# P4: the unpaid-invoice limit holds under a burst of parallel invoice orders.
# ---------------------------------------------------------------------------------------------

LIMIT_ROUNDS = 5
LIMIT_CALLERS = 20
DEFAULT_UNPAID_LIMIT = 3


@pytest.mark.usefixtures("catalogue_committed")
def test_parallel_invoice_orders_never_exceed_the_unpaid_invoice_limit() -> None:
    # Rounds loop inside one test so the database is flushed once, not once per round.
    for round_number in range(LIMIT_ROUNDS):
        _limit_round(round_number)


def _limit_round(round_number: int) -> None:
    """One burst against a fresh account with no invoices."""
    account = _account_with_profile()
    assert account.unpaid_invoice_limit is None  # the default limit (3) applies
    actor = Actor.system()

    def place() -> Order:
        return order_place(
            account=Account.objects.get(pk=account.pk),
            actor=actor,
            kind=Order.Kind.CREDITS,
            payment_method=Order.PaymentMethod.INVOICE,
            credits=100,
        )

    outcomes = run_concurrently([place] * LIMIT_CALLERS, setup=_open_connection)

    assert _unexpected(outcomes, UnpaidInvoiceLimitReached) == [], f"round {round_number}"
    assert _error_names(outcomes) == {
        "ok": DEFAULT_UNPAID_LIMIT,
        "UnpaidInvoiceLimitReached": LIMIT_CALLERS - DEFAULT_UNPAID_LIMIT,
    }, f"round {round_number}"
    placed = {o.value.pk for o in outcomes if o.ok}
    assert set(Order.objects.filter(account=account).values_list("pk", flat=True)) == placed
    invoices = Invoice.objects.filter(account=account)
    assert invoices.count() == DEFAULT_UNPAID_LIMIT
    assert invoices.filter(status=Invoice.Status.ISSUED).count() == DEFAULT_UNPAID_LIMIT
    assert set(invoices.values_list("order_id", flat=True)) == placed
    assert credit_balance(account=account).pending == DEFAULT_UNPAID_LIMIT * 100
    # Every refusal reports the account as being at its limit.
    for outcome in outcomes:
        if isinstance(outcome.error, UnpaidInvoiceLimitReached):
            assert outcome.error.details["limit"] == DEFAULT_UNPAID_LIMIT
            assert len(outcome.error.details["invoices"]) == DEFAULT_UNPAID_LIMIT


# ---------------------------------------------------------------------------------------------
# D1: invoice numbers stay unique and gapless while issues commit and roll back in parallel.
# ---------------------------------------------------------------------------------------------

NUMBERING_ROUNDS = 3
ISSUES_PER_ROUND = 100
ROLLBACK_EVERY = 5  # issue i rolls back when i % 5 == 4: 20 of every 100
NUMBERING_ACCOUNTS = 10


class ForcedRollback(Exception):
    """Raised inside the issuing transaction to roll it back after the invoice was written."""


def _is_rollback(index: int) -> bool:
    return index % ROLLBACK_EVERY == ROLLBACK_EVERY - 1


@pytest.mark.usefixtures("catalogue_committed")
def test_parallel_issues_with_rollbacks_keep_invoice_numbers_gapless() -> None:
    # A high limit so P4 never refuses: only the forced rollbacks may fail.
    accounts = [
        _account_with_profile(unpaid_invoice_limit=10_000) for _ in range(NUMBERING_ACCOUNTS)
    ]
    actor = Actor.system()
    committed_per_round = sum(not _is_rollback(i) for i in range(ISSUES_PER_ROUND))
    committed_notes: set[str] = set()

    for round_number in range(1, NUMBERING_ROUNDS + 1):

        def issue(index: int, round_number: int = round_number) -> str:
            rollback = _is_rollback(index)
            note = f"{'rollback' if rollback else 'commit'} r{round_number} i{index}"
            account = accounts[index % NUMBERING_ACCOUNTS]
            with transaction.atomic():
                order = order_place(
                    account=account,
                    actor=actor,
                    kind=Order.Kind.CREDITS,
                    payment_method=Order.PaymentMethod.INVOICE,
                    credits=100,
                    notes=note,
                )
                number = order.invoice.number
                if rollback:
                    raise ForcedRollback(number)
            return number

        tasks = [(lambda index=index: issue(index)) for index in range(ISSUES_PER_ROUND)]
        outcomes = run_concurrently(tasks, threads=MAX_THREADS, setup=_open_connection)

        assert _unexpected(outcomes, ForcedRollback) == [], f"round {round_number}"
        assert _error_names(outcomes) == {
            "ok": committed_per_round,
            "ForcedRollback": ISSUES_PER_ROUND - committed_per_round,
        }, f"round {round_number}"
        assert all(o.ok != _is_rollback(o.index) for o in outcomes)
        returned_numbers = [o.value for o in outcomes if o.ok]
        assert len(set(returned_numbers)) == len(returned_numbers), "duplicate numbers handed out"
        committed_notes |= {
            f"commit r{round_number} i{i}" for i in range(ISSUES_PER_ROUND) if not _is_rollback(i)
        }

        total = committed_per_round * round_number
        invoices = list(
            Invoice.objects.filter(series="invoice").values_list(
                "year", "sequence", "number", "notes"
            )
        )
        assert len(invoices) == total
        years = {year for year, _seq, _number, _notes in invoices}
        assert len(years) == 1, f"invoices span several numbering years: {years}"
        (year,) = years
        sequences = sorted(seq for _year, seq, _number, _notes in invoices)
        assert sequences == list(range(1, total + 1)), "invoice sequence has gaps or duplicates"
        numbers = [number for _year, _seq, number, _notes in invoices]
        assert len(set(numbers)) == total
        assert all(number == f"INV-{year}-{seq:06d}" for _y, seq, number, _n in invoices)
        assert set(returned_numbers) <= set(numbers)
        counter = DocumentCounter.objects.get(series="invoice", year=year)
        assert counter.last_sequence == total

        # Nothing written by a rolled-back transaction survived.
        assert {notes for _y, _s, _n, notes in invoices} == committed_notes
        assert set(Order.objects.values_list("notes", flat=True)) == committed_notes
        assert not Order.objects.filter(notes__startswith="rollback").exists()
        assert not Invoice.objects.filter(notes__startswith="rollback").exists()
        assert InvoiceLine.objects.count() == total
        assert CreditLedgerEntry.objects.count() == total
        assert sum(credit_balance(account=a).pending for a in accounts) == total * 100


# ---------------------------------------------------------------------------------------------
# P7 / I4: a payment is recorded exactly once however many reports race.
# ---------------------------------------------------------------------------------------------

PAYMENT_CALLERS = 10
PAYMENT_ROUNDS = 3


@pytest.mark.usefixtures("catalogue_committed")
def test_parallel_reports_of_one_card_payment_record_it_once() -> None:
    for round_number in range(PAYMENT_ROUNDS):
        _card_payment_round(round_number)


def _card_payment_round(round_number: int) -> None:
    """One card order, reported by the payment platform from 10 threads at once."""
    account = _account_with_profile()
    actor = Actor.system()
    order = order_place(
        account=account,
        actor=actor,
        kind=Order.Kind.CREDITS,
        payment_method=Order.PaymentMethod.CARD,
        credits=100,
    )
    assert order.status == Order.Status.AWAITING_CARD_PAYMENT
    received_at = timezone.now()

    def report() -> int:
        payment = order_card_payment_record(
            order=Order.objects.get(pk=order.pk),
            actor=actor,
            provider="stripe",
            provider_reference=f"ch_race_{round_number}",
            amount_minor=order.total_minor,
            currency=order.currency,
            received_at=received_at,
        )
        return payment.pk

    outcomes = run_concurrently([report] * PAYMENT_CALLERS, setup=_open_connection)

    assert _unexpected(outcomes) == [], f"round {round_number}"
    payment_ids = {o.value for o in outcomes}
    assert len(payment_ids) == 1, f"different payments returned: {payment_ids}"
    payments = Payment.objects.filter(account=account)
    assert list(payments.values_list("pk", flat=True)) == list(payment_ids)
    assert Payment.objects.filter(provider_reference=f"ch_race_{round_number}").count() == 1
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert credit_balance(account=account).balance == 100
    assert credit_balance(account=account).pending == 0
    assert (
        CreditLedgerEntry.objects.filter(
            order=order, kind=CreditLedgerEntry.Kind.PURCHASE_GRANTED
        ).count()
        == 1
    )
    # The account has a billing profile, so exactly one paid invoice was issued with it.
    invoices = Invoice.objects.filter(order=order)
    assert invoices.count() == 1
    assert invoices.get().status == Invoice.Status.PAID
    assert payments.get().invoice_id == invoices.get().pk


@pytest.mark.usefixtures("catalogue_committed")
def test_parallel_payments_of_one_invoice_with_different_references_pay_it_once() -> None:
    for round_number in range(PAYMENT_ROUNDS):
        _invoice_payment_round(round_number)


def _invoice_payment_round(round_number: int) -> None:
    """One unpaid invoice, paid from 10 threads with 10 different references at once."""
    account = _account_with_profile()
    actor = Actor.system()
    order = order_place(
        account=account,
        actor=actor,
        kind=Order.Kind.CREDITS,
        payment_method=Order.PaymentMethod.INVOICE,
        credits=100,
    )
    invoice = order.invoice
    assert invoice.status == Invoice.Status.ISSUED
    received_at = timezone.now()

    def pay(index: int) -> int:
        payment = invoice_payment_record(
            invoice=Invoice.objects.get(pk=invoice.pk),
            actor=actor,
            method=Payment.Method.BANK_TRANSFER,
            provider="bank",
            provider_reference=f"wire-r{round_number}-{index}",
            amount_minor=invoice.total_minor,
            currency=invoice.currency,
            received_at=received_at,
        )
        return payment.pk

    tasks = [(lambda index=index: pay(index)) for index in range(PAYMENT_CALLERS)]
    outcomes = run_concurrently(tasks, setup=_open_connection)

    assert _unexpected(outcomes, InvoiceNotPayable) == [], f"round {round_number}"
    assert _error_names(outcomes) == {"ok": 1, "InvoiceNotPayable": PAYMENT_CALLERS - 1}, (
        f"round {round_number}"
    )
    (winner,) = [o for o in outcomes if o.ok]
    payment = Payment.objects.get(account=account)
    assert payment.pk == winner.value
    assert payment.provider_reference == f"wire-r{round_number}-{winner.index}"
    assert payment.invoice_id == invoice.pk
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert credit_balance(account=account).balance == 100
    assert credit_balance(account=account).pending == 0


@pytest.mark.usefixtures("catalogue_committed")
def test_an_order_placed_while_the_billing_profile_changes_is_invoiced_to_the_new_profile():
    """The profile is read after the account lock is granted: an order that waited for a
    profile change to commit invoices the new name, not the one from before the wait."""
    import threading
    import time

    from remit.billing.locks import account_lock
    from remit.billing.models import BillingProfile

    account = _account_with_profile()
    BillingProfile.objects.filter(account=account).update(legal_name="Old Name Ltd")
    locked = threading.Event()
    placing = threading.Event()
    outcome: dict[str, Any] = {}

    def wait_until_the_order_waits() -> None:
        """PostgreSQL: until another backend of this database waits for a lock (the order's
        account lock). SQLite: until the order thread starts; its BEGIN IMMEDIATE then waits
        for this transaction's write lock before it can read anything."""
        assert placing.wait(30)
        if connection.vendor != "postgresql":
            return
        deadline = time.monotonic() + 30
        with connection.cursor() as cursor:
            while time.monotonic() < deadline:
                cursor.execute("SELECT pg_stat_clear_snapshot()")
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                )
                if cursor.fetchone()[0]:
                    return
                time.sleep(0.01)
        raise AssertionError("the order never waited for the account lock")

    def change_profile() -> None:
        try:
            with transaction.atomic():
                account_lock(account.pk)
                BillingProfile.objects.filter(account=account).update(legal_name="New Name Ltd")
                locked.set()
                wait_until_the_order_waits()
        except Exception as error:  # reported below
            outcome["change_error"] = error
        finally:
            connection.close()

    def place_order() -> None:
        try:
            assert locked.wait(30)
            placing.set()
            order = order_place(
                account=account,
                actor=Actor.system(),
                kind=Order.Kind.CREDITS,
                payment_method=Order.PaymentMethod.INVOICE,
                credits=100,
            )
            outcome["buyer"] = Invoice.objects.get(order=order).buyer["legal_name"]
        except Exception as error:  # reported below
            outcome["error"] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=change_profile), threading.Thread(target=place_order)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert outcome == {"buyer": "New Name Ltd"}
