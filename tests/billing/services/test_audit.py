"""The audit trail: events recorded in an ``audit_batch`` are written together when the block
ends (one insert, one read of the webhook endpoints), in order, and not at all if it raises."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from remit.billing.models import AuditEvent
from remit.billing.services.audit import audit_batch, audit_record
from remit.integrations.models import WebhookEndpoint, WebhookEvent
from remit.integrations.services.webhooks import webhook_endpoint_create
from tests.billing.helpers import ACTOR, buy_credits_by_invoice

pytestmark = pytest.mark.django_db


def _record(account, action: str) -> AuditEvent:
    return audit_record(actor=ACTOR, action=action, subject=account, account=account)


def _endpoint_reads(queries) -> int:
    table = WebhookEndpoint._meta.db_table
    return sum(1 for query in queries if f'FROM "{table}"' in query["sql"])


def test_events_of_a_batch_are_written_in_order_with_one_insert_when_it_ends(account):
    webhook_endpoint_create(url="https://hooks.example.com/remit", event_types=[])
    with transaction.atomic(), CaptureQueriesContext(connection) as queries, audit_batch():
        first = _record(account, "account.updated")
        second = _record(account, "invoice.issued")
        assert (first.pk, second.pk) == (None, None)
        assert not AuditEvent.objects.exists()
        with audit_batch():  # nested: written with the outer block
            third = _record(account, "order.created")
        assert not AuditEvent.objects.exists()

    inserts = [
        q
        for q in queries.captured_queries
        if q["sql"].startswith('INSERT INTO "billing_auditevent"')
    ]
    assert len(inserts) == 1
    assert _endpoint_reads(queries.captured_queries) == 1
    assert list(AuditEvent.objects.order_by("pk").values_list("pk", "action")) == [
        (first.pk, "account.updated"),
        (second.pk, "invoice.issued"),
        (third.pk, "order.created"),
    ]
    # Webhook events for the subscribed types only, in the order they happened.
    assert list(WebhookEvent.objects.order_by("pk").values_list("type", flat=True)) == [
        "invoice.issued",
        "order.created",
    ]


def test_a_batch_that_raises_writes_nothing(account):
    webhook_endpoint_create(url="https://hooks.example.com/remit", event_types=[])

    def change_that_fails() -> None:
        with transaction.atomic(), audit_batch():
            _record(account, "invoice.issued")
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError, match="the change failed"):
        change_that_fails()

    assert not AuditEvent.objects.exists()
    assert not WebhookEvent.objects.exists()
    # The next record outside any batch is written at once.
    event = _record(account, "account.updated")
    assert AuditEvent.objects.get().pk == event.pk


def test_issuing_an_invoice_writes_its_two_events_reading_the_endpoints_once(account):
    webhook_endpoint_create(url="https://hooks.example.com/remit", event_types=[])
    with CaptureQueriesContext(connection) as queries:
        invoice = buy_credits_by_invoice(account)

    assert _endpoint_reads(queries.captured_queries) == 1
    assert list(AuditEvent.objects.order_by("pk").values_list("action", "subject_id")) == [
        ("order.created", str(invoice.order_id)),
        ("invoice.issued", str(invoice.pk)),
    ]
    assert list(WebhookEvent.objects.order_by("pk").values_list("type", flat=True)) == [
        "order.created",
        "invoice.issued",
    ]


def test_a_nested_batch_that_raises_leaves_no_events_when_the_outer_one_carries_on(account):
    with transaction.atomic(), audit_batch():
        kept = _record(account, "account.updated")
        try:
            with transaction.atomic(), audit_batch():
                _record(account, "invoice.issued")
                raise RuntimeError("undone")
        except RuntimeError:
            pass
        also_kept = _record(account, "order.created")

    assert list(AuditEvent.objects.order_by("pk").values_list("pk", "action")) == [
        (kept.pk, "account.updated"),
        (also_kept.pk, "order.created"),
    ]
