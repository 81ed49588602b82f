from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q


class Plan(models.Model):
    """A subscription product, sold in sizes (P5)."""

    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.name


class PlanSize(models.Model):
    """One size of a plan, e.g. "50,000 emails a month"."""

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="sizes")
    code = models.SlugField(max_length=50)
    name = models.CharField(max_length=100)
    # Credits granted with each month of this size (0 when the plan is not credit based).
    monthly_credits = models.PositiveBigIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["plan", "position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "code"], name="plan_size_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.plan.name} {self.name}"


class PlanPrice(models.Model):
    """The monthly price of a plan size in one currency (net of tax)."""

    plan_size = models.ForeignKey(PlanSize, on_delete=models.PROTECT, related_name="prices")
    currency = models.CharField(max_length=3)
    # Minor units of ``currency`` per month, > 0.
    monthly_price_minor = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["plan_size", "currency"], name="plan_price_unique"),
            models.CheckConstraint(
                condition=Q(monthly_price_minor__gt=0), name="plan_price_positive"
            ),
        ]


class Term(models.Model):
    """A commitment length for plans (1, 3, 6 or 12 months) and its discount."""

    months = models.PositiveSmallIntegerField(unique=True)
    # Percent taken off the undiscounted price, 0 <= discount < 100, two decimals.
    discount_percent = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal(0))
    # P5: whether this term may be bought with "Create an Invoice" (3, 6, 12 by default).
    invoice_allowed = models.BooleanField(default=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["months"]
        constraints = [
            models.CheckConstraint(condition=Q(months__in=[1, 3, 6, 12]), name="term_months"),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0) & Q(discount_percent__lt=100),
                name="term_discount_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.months} months"


class CreditPrice(models.Model):
    """What one credit costs in a currency (net of tax)."""

    currency = models.CharField(max_length=3, unique=True)
    # Minor units of ``currency`` per credit, > 0.
    unit_price_minor = models.BigIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(unit_price_minor__gt=0), name="credit_price_positive"
            ),
        ]
