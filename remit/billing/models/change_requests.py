from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from remit.billing.models.accounts import Account
from remit.billing.models.documents import Invoice


class ChangeRequest(models.Model):
    """A customer's request to change or void an issued invoice (X4). It waits in the back-office
    queue; its status is shown on the invoice's row in the User Center. An invoice has at most one
    open request at a time."""

    class Kind(models.TextChoices):
        CHANGE = "change", "Change"
        VOID = "void", "Void"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        DECLINED = "declined", "Declined"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="change_requests")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="change_requests")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    reason = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    # Support's answer, shown to the customer once the request is closed.
    response = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The support agent working on it (the queue's "assigned to"); NULL while unassigned.
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"], name="change_request_queue")]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice"],
                condition=Q(status="open"),
                name="change_request_one_open_per_invoice",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} request for invoice {self.invoice.number}"
