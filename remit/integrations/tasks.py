"""Background tasks of the integrations: take ids, call one service, safe to run twice."""

from __future__ import annotations

from django_tasks import task

from remit.integrations.services.webhooks import webhook_deliver


@task(queue_name="webhooks")
def webhook_deliver_task(delivery_id: int) -> None:
    webhook_deliver(delivery_id=delivery_id)
