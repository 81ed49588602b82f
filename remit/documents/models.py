"""Stored documents (D2), their hash chain, and the email outbox (UC5)."""

from __future__ import annotations

import re

from django.db import models
from django.db.models import Q

from remit.billing.models.documents import ImmutableModel


class Document(ImmutableModel):
    """One rendered file: an invoice revision, a credit note or a payment receipt.

    Created *pending* in the transaction that issues the business document; a task renders it
    once, stores the bytes and their SHA-256 and links it into the archive chain. After that the
    row never changes and downloads serve exactly those bytes.
    """

    class Kind(models.TextChoices):
        INVOICE = "invoice", "Invoice"
        CREDIT_NOTE = "credit_note", "Credit note"
        RECEIPT = "receipt", "Payment receipt"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        STORED = "stored", "Stored"

    MUTABLE_FIELDS = frozenset(
        {"status", "file_name", "sha256", "size_bytes", "stored_at", "claim_token", "claimed_until"}
    )

    kind = models.CharField(max_length=20, choices=Kind.choices)
    account = models.ForeignKey(
        "billing.Account", on_delete=models.PROTECT, related_name="documents"
    )
    invoice = models.ForeignKey(
        "billing.Invoice", on_delete=models.PROTECT, null=True, blank=True, related_name="documents"
    )
    # The invoice revision this file shows (X3); NULL for credit notes and receipts.
    invoice_revision = models.PositiveSmallIntegerField(null=True, blank=True)
    credit_note = models.OneToOneField(
        "billing.CreditNote",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="document",
    )
    payment = models.OneToOneField(
        "billing.Payment", on_delete=models.PROTECT, null=True, blank=True, related_name="receipt"
    )
    # The number printed on the document (invoice or credit note number; receipt: invoice's).
    number = models.CharField(max_length=64)
    language = models.CharField(max_length=10)
    # The .typ template set it was (and will always be) rendered with.
    template_version = models.CharField(max_length=10)
    # The PDF's creation date, fixed at request time so a re-render is byte-identical.
    render_timestamp = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # Storage name of the PDF once stored; "" while pending.
    file_name = models.CharField(max_length=255, blank=True)
    # Hex SHA-256 of the stored bytes; "" while pending.
    sha256 = models.CharField(max_length=64, blank=True)
    size_bytes = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    stored_at = models.DateTimeField(null=True, blank=True)
    # A worker's claim on a pending document while it renders a batch: the worker's random
    # token, and when the claim lapses (a crashed worker's documents become claimable again).
    # Other workers skip claimed documents; downloads and the recovery sweep do not wait for
    # them (storing stays idempotent). Cleared when stored.
    claim_token = models.CharField(max_length=32, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "invoice_revision"],
                condition=Q(kind="invoice"),
                name="document_one_per_invoice_revision",
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="invoice", invoice__isnull=False, invoice_revision__isnull=False)
                    | Q(kind="credit_note", credit_note__isnull=False)
                    | Q(kind="receipt", payment__isnull=False, invoice__isnull=False)
                ),
                name="document_kind_references",
            ),
            models.CheckConstraint(
                condition=Q(status="pending") | (~Q(sha256="") & ~Q(file_name="")),
                name="document_stored_has_file_and_hash",
            ),
        ]
        indexes = [
            models.Index(fields=["account", "kind", "created_at"], name="document_account"),
            # The workers' queue: pending documents, oldest first, and a worker's claimed batch.
            models.Index(fields=["id"], condition=Q(status="pending"), name="document_pending"),
            models.Index(
                fields=["claim_token"], condition=Q(status="pending"), name="document_claimed"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"

    @property
    def download_name(self) -> str:
        """A safe file name: number formats may contain ``/`` (``FA/2026/00001``)."""
        suffix = f"-r{self.invoice_revision}" if (self.invoice_revision or 1) > 1 else ""
        prefix = "receipt-" if self.kind == self.Kind.RECEIPT else ""
        number = re.sub(r"[^\w.-]+", "-", self.number).strip(".-") or str(self.pk)
        return f"{prefix}{number}{suffix}.pdf"


class ArchiveEntry(ImmutableModel):
    """A link of the hash chain over every stored document (D2).

    ``entry_hash = SHA-256(previous entry_hash | document SHA-256 | canonical JSON of the
    document's key fields)``; changing a file, a document row, an invoice's key fields or an
    entry breaks the chain from that point, which ``remit_archive_verify`` reports.
    """

    # 1, 2, 3 ... in the order documents were stored; gapless.
    position = models.PositiveBigIntegerField(unique=True)
    document = models.OneToOneField(Document, on_delete=models.PROTECT, related_name="archive")
    previous_hash = models.CharField(max_length=64)
    document_sha256 = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position"]
        verbose_name_plural = "archive entries"

    def __str__(self) -> str:
        return f"#{self.position} {self.entry_hash[:12]}"


class EmailMessage(models.Model):
    """The outbox (UC5): one row per message to send, sent at most once successfully."""

    class Kind(models.TextChoices):
        INVOICE_ISSUED = "invoice_issued", "Invoice issued"
        INVOICE_REVISED = "invoice_revised", "Invoice revised"
        CREDIT_NOTE_ISSUED = "credit_note_issued", "Credit note issued"
        PAYMENT_RECEIPT = "payment_receipt", "Payment receipt"
        RESEND = "resend", "Resent on request"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    account = models.ForeignKey("billing.Account", on_delete=models.PROTECT, related_name="emails")
    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="emails")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    # Distinguishes resends of the same document; 0 for the original message.
    resend_number = models.PositiveIntegerField(default=0)
    # Addresses at the time of the event (billing profile recipients, else account members).
    recipients = models.JSONField(default=list)
    language = models.CharField(max_length=10)
    # Deterministic, so a receiver can drop a duplicate delivered after a crash mid-send.
    message_id = models.CharField(max_length=255, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # Earliest time of the next attempt (backoff); NULL once sent or failed for good.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["document", "kind", "resend_number"], name="email_once_per_event"
            ),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="email_due")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.document.number}"
