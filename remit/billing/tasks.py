"""Background tasks of billing: take ids, call exactly one service."""

from __future__ import annotations

from django_tasks import task

from remit.billing.services.invitations import member_invitation_send


@task(queue_name="emails")
def member_invitation_send_task(membership_id: int, site_url: str) -> None:
    member_invitation_send(membership_id=membership_id, site_url=site_url)
