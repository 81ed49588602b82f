"""Background tasks: take ids, call exactly one service, safe to run twice."""

from __future__ import annotations

from django_tasks import task

from remit.documents.services.archive import documents_store_queued
from remit.documents.services.emails import email_send


@task(queue_name="documents")
def document_store_task(document_id: int) -> None:
    documents_store_queued(document_id=document_id)


@task(queue_name="emails")
def email_send_task(email_id: int) -> None:
    email_send(email_id=email_id)
