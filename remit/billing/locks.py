"""Row locks, all in one place (Saleor's rule).

Every service that changes an account's invoices takes the account lock first, then any
order/invoice lock, and the document counter last, so locks are always taken in the same order
and cannot deadlock. On PostgreSQL these are ``SELECT ... FOR UPDATE``; on SQLite they are plain
reads, and the serialisation comes from ``BEGIN IMMEDIATE`` (``transaction_mode``), which gives
the transaction the database's single write lock before its first read.
"""

from __future__ import annotations

from django.db import transaction

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


def document_counter_lock(*, series: str, year: int) -> DocumentCounter:
    _require_transaction()
    counter, _created = DocumentCounter.objects.select_for_update().get_or_create(
        series=series, year=year
    )
    return counter
