"""Issued documents: invoices, their revisions, credit notes, and the counters that number them.

Issued documents are immutable (X1). Only the fields named in ``MUTABLE_FIELDS`` may change after
the row is created (payment and void status, and — through a recorded revision — the PO number
and notes); saving any other change, deleting, or bulk-updating a frozen field raises
:class:`~remit.core.errors.InvoiceImmutable`. Lines and tax lines can never change.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models
from django.db.models import F, Q

from remit.core.errors import InvoiceImmutable


class TaxCategory(models.TextChoices):
    """UNCL5305 codes as used by EN 16931 (D4, D5)."""

    STANDARD = "S", "Standard rate"
    ZERO = "Z", "Zero rated"
    EXEMPT = "E", "Exempt from tax"
    REVERSE_CHARGE = "AE", "Reverse charge"
    OUTSIDE_SCOPE = "O", "Outside the scope of tax"


class ImmutableQuerySet(models.QuerySet):
    """Bulk writes that would bypass the model's immutability checks are refused."""

    def delete(self) -> tuple[int, dict[str, int]]:
        raise InvoiceImmutable(f"{self.model.__name__} rows are never deleted")

    def update(self, **kwargs: Any) -> int:
        mutable: frozenset[str] = getattr(self.model, "MUTABLE_FIELDS", frozenset())
        frozen = sorted(set(kwargs) - mutable)
        if frozen:
            raise InvoiceImmutable(
                f"{self.model.__name__} fields {', '.join(frozen)} cannot change after issue"
            )
        return super().update(**kwargs)


class ImmutableModel(models.Model):
    """Rows that are written once; only ``MUTABLE_FIELDS`` may be saved again."""

    MUTABLE_FIELDS: ClassVar[frozenset[str]] = frozenset()

    objects = ImmutableQuerySet.as_manager()

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any) -> Any:
        instance = super().from_db(db, field_names, values)
        instance._loaded_values = dict(zip(field_names, values, strict=True))
        return instance

    def _frozen_changes(self) -> list[str]:
        loaded: dict[str, Any] | None = getattr(self, "_loaded_values", None)
        if loaded is None:
            return []
        changed = []
        for field in self._meta.concrete_fields:
            if field.attname in self.MUTABLE_FIELDS or field.attname not in loaded:
                continue
            if getattr(self, field.attname) != loaded[field.attname]:
                changed.append(field.attname)
        return changed

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            if not self.MUTABLE_FIELDS:
                raise InvoiceImmutable(f"{type(self).__name__} rows cannot change once written")
            changed = self._frozen_changes()
            if changed or not hasattr(self, "_loaded_values"):
                raise InvoiceImmutable(
                    f"{type(self).__name__} fields {', '.join(changed) or '(unknown)'} "
                    "cannot change after issue"
                )
            update_fields = kwargs.get("update_fields")
            if update_fields is not None and set(update_fields) - self.MUTABLE_FIELDS:
                raise InvoiceImmutable("Only mutable fields may be saved after issue")
        super().save(*args, **kwargs)
        self._loaded_values = {
            f.attname: getattr(self, f.attname) for f in self._meta.concrete_fields
        }

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise InvoiceImmutable(f"{type(self).__name__} rows are never deleted")


class DocumentCounter(models.Model):
    """The last number handed out in a series and year (D1).

    Numbers are taken by incrementing this row inside the issuing transaction while holding
    its lock, so a rolled-back issue also rolls back its number: no gaps, no duplicates.
    """

    series = models.CharField(max_length=20)
    year = models.PositiveSmallIntegerField()
    # The sequence of the most recently issued document; the next one is last_sequence + 1.
    last_sequence = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["series", "year"], name="document_counter_unique"),
        ]


class IssuedDocument(ImmutableModel):
    """What invoices and credit notes share: a number, parties frozen at issue, totals."""

    account = models.ForeignKey("billing.Account", on_delete=models.PROTECT, related_name="+")
    series = models.CharField(max_length=20)
    year = models.PositiveSmallIntegerField()
    # Position in the series for ``year``; 1, 2, 3 ... with no gaps.
    sequence = models.PositiveIntegerField()
    # The formatted number, e.g. INV-2026-000123.
    number = models.CharField(max_length=64, unique=True)
    issue_date = models.DateField()
    currency = models.CharField(max_length=3)
    # Language the document is rendered in (D3).
    language = models.CharField(max_length=10)
    # Sum of line nets, sum of tax lines, and their sum; minor units of ``currency``, >= 0.
    subtotal_minor = models.BigIntegerField()
    tax_minor = models.BigIntegerField()
    total_minor = models.BigIntegerField()
    # D2: the seller and buyer exactly as they were at issue; never re-read from settings or
    # the billing profile.
    seller = models.JSONField()
    buyer = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        constraints = [
            models.UniqueConstraint(
                fields=["series", "year", "sequence"], name="%(class)s_sequence_unique"
            ),
            models.CheckConstraint(
                condition=Q(total_minor=F("subtotal_minor") + F("tax_minor")),
                name="%(class)s_total_is_subtotal_plus_tax",
            ),
            models.CheckConstraint(
                condition=Q(subtotal_minor__gte=0) & Q(tax_minor__gte=0),
                name="%(class)s_amounts_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class Invoice(IssuedDocument):
    class Status(models.TextChoices):
        ISSUED = "issued", "Unpaid"
        PAID = "paid", "Paid"
        VOID = "void", "Void"

    MUTABLE_FIELDS = frozenset(
        {
            "status",
            "paid_at",
            "voided_at",
            "void_reason_code",
            "void_reason",
            "po_number",
            "notes",
            "revision",
        }
    )

    account = models.ForeignKey(
        "billing.Account", on_delete=models.PROTECT, related_name="invoices"
    )
    # One invoice per order; a changed order is a new order with a replacement invoice.
    order = models.OneToOneField("billing.Order", on_delete=models.PROTECT, related_name="invoice")
    status = models.CharField(max_length=10, choices=Status.choices)
    due_date = models.DateField()
    # X3: the PO number and notes of the current revision; earlier ones live in revisions.
    po_number = models.CharField("PO number", max_length=64, blank=True)
    notes = models.TextField(blank=True)
    # 1 at issue, +1 for each revision (same number and amounts, new PO/notes).
    revision = models.PositiveSmallIntegerField(default=1)
    # X2: the voided invoice this one replaces.
    replaces = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="replaced_by"
    )
    paid_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason_code = models.CharField(max_length=40, blank=True)
    void_reason = models.TextField(blank=True)

    class Meta(IssuedDocument.Meta):
        ordering = ["-issue_date", "-sequence"]
        indexes = [models.Index(fields=["account", "status"], name="invoice_account_status")]


class InvoiceRevision(ImmutableModel):
    """Each revision an invoice has had (X3), revision 1 being the original issue."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="revisions")
    revision = models.PositiveSmallIntegerField()
    po_number = models.CharField("PO number", max_length=64, blank=True)
    notes = models.TextField(blank=True)
    reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["invoice", "revision"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "revision"], name="invoice_revision_unique"),
        ]


class CreditNote(IssuedDocument):
    """Cancels an invoice in full (X2); numbered in its own series."""

    account = models.ForeignKey(
        "billing.Account", on_delete=models.PROTECT, related_name="credit_notes"
    )
    invoice = models.OneToOneField(Invoice, on_delete=models.PROTECT, related_name="credit_note")
    reason_code = models.CharField(max_length=40)
    reason = models.TextField(blank=True)

    class Meta(IssuedDocument.Meta):
        ordering = ["-issue_date", "-sequence"]


class DocumentLine(ImmutableModel):
    position = models.PositiveSmallIntegerField()
    description = models.CharField(max_length=300)
    quantity = models.PositiveBigIntegerField()
    # Minor units; net = quantity x unit price - discount.
    unit_price_minor = models.BigIntegerField()
    discount_minor = models.BigIntegerField(default=0)
    net_minor = models.BigIntegerField()
    tax_category = models.CharField(max_length=2, choices=TaxCategory.choices)
    # Percent, e.g. 19.00.
    tax_rate = models.DecimalField(max_digits=5, decimal_places=2)

    class Meta:
        abstract = True
        ordering = ["position"]
        constraints = [
            models.CheckConstraint(
                condition=Q(net_minor=F("quantity") * F("unit_price_minor") - F("discount_minor")),
                name="%(class)s_net_is_quantity_times_price_less_discount",
            ),
        ]


class DocumentTaxLine(ImmutableModel):
    """Tax per category and rate: tax = taxable x rate, rounded once (EN 16931 BG-23)."""

    category = models.CharField(max_length=2, choices=TaxCategory.choices)
    rate = models.DecimalField(max_digits=5, decimal_places=2)
    taxable_minor = models.BigIntegerField()
    tax_minor = models.BigIntegerField()
    # Why no or reduced tax applies (exemption or reverse-charge wording); "" for standard.
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        abstract = True
        ordering = ["category", "rate"]


class InvoiceLine(DocumentLine):
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines")

    class Meta(DocumentLine.Meta):
        constraints = [
            *DocumentLine.Meta.constraints,
            models.UniqueConstraint(fields=["invoice", "position"], name="invoice_line_position"),
        ]


class InvoiceTaxLine(DocumentTaxLine):
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="tax_lines")


class CreditNoteLine(DocumentLine):
    credit_note = models.ForeignKey(CreditNote, on_delete=models.PROTECT, related_name="lines")

    class Meta(DocumentLine.Meta):
        constraints = [
            *DocumentLine.Meta.constraints,
            models.UniqueConstraint(
                fields=["credit_note", "position"], name="credit_note_line_position"
            ),
        ]


class CreditNoteTaxLine(DocumentTaxLine):
    credit_note = models.ForeignKey(CreditNote, on_delete=models.PROTECT, related_name="tax_lines")
