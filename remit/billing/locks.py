"""Row locks, all in one place (Saleor's rule).

Every service that changes an account's invoices takes the account lock first, then any
order/invoice lock, and the document counter last, so locks are always taken in the same order
and cannot deadlock. On PostgreSQL these are ``SELECT ... FOR UPDATE``; on SQLite they are plain
reads, and the serialisation comes from ``BEGIN IMMEDIATE`` (``transaction_mode``), which gives
the transaction the database's single write lock before its first read.
"""

from __future__ import annotations

from django.db import connection, transaction

from remit.billing.models import Account, DocumentCounter, Invoice, Order


def _require_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Row locks are only meaningful inside transaction.atomic()")


def account_lock(account_id: int) -> Account:
    _require_transaction()
    return Account.objects.select_for_update().get(pk=account_id)


def order_lock(order_id: int) -> Order:
    _require_transaction()
    return Order.objects.select_for_update().get(pk=order_id)


def invoice_lock(invoice_id: int) -> Invoice:
    _require_transaction()
    return Invoice.objects.select_for_update().get(pk=invoice_id)


def document_counter_increment(*, series: str, year: int, count: int = 1) -> int:
    """Add ``count`` to the counter (creating it at ``count``) and return the new value, in one
    statement; the numbers handed out are the ``count`` values ending at the returned one.

    The upsert takes the row lock and holds it until the transaction ends, so a value cannot be
    handed out twice and a rollback gives it back (PostgreSQL; on SQLite the transaction already
    holds the database's write lock). Concurrent first numbers of a series meet in ON CONFLICT.
    """
    _require_transaction()
    if count < 1:
        raise ValueError("count must be at least 1")
    table = DocumentCounter._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (series, year, last_sequence) VALUES (%s, %s, %s) "  # noqa: S608 - table name is ours
            "ON CONFLICT (series, year) DO UPDATE SET last_sequence = "
            f"{table}.last_sequence + EXCLUDED.last_sequence RETURNING last_sequence",
            [series, year, count],
        )
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])
