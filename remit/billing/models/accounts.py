from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from remit.core.dates import validate_time_zone


class Account(models.Model):
    """A customer of the operator: a company or person that buys the service."""

    class Status(models.TextChoices):
        TRIAL = "trial", "Free trial"
        ACTIVE = "active", "Active"

    name = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.TRIAL)
    # The operator's own id for this customer (API lookups); unique when set.
    external_id = models.CharField(
        "external ID", max_length=100, null=True, blank=True, unique=True
    )
    # ISO 4217 code the account is billed in; every order of the account uses it.
    currency = models.CharField(max_length=3, default="USD")
    # BCP 47 language of documents and emails for this account (D3), one of settings.LANGUAGES.
    language = models.CharField(max_length=10, default="en")
    # P3: support may allow invoices while on trial; until the expiry if one is set.
    invoicing_during_trial_enabled = models.BooleanField(default=False)
    invoicing_during_trial_expires_at = models.DateTimeField(null=True, blank=True)
    # P4: per-account override of REMIT_UNPAID_INVOICE_LIMIT; NULL means the global default.
    unpaid_invoice_limit = models.PositiveSmallIntegerField(null=True, blank=True)
    # D4: the customer is exempt from tax (certificate on file); taxes are not charged.
    tax_exempt = models.BooleanField(default=False)
    # IANA name of the zone the account's dates are shown in (UC2); empty: REMIT_TIME_ZONE.
    time_zone = models.CharField(
        max_length=64, blank=True, default="", validators=[validate_time_zone]
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="account_currency_iso4217"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user (Django auth) who acts for an account in the User Center."""

    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        MEMBER = "member", "Member"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)
    # When the invitation email went out (set once, so a task that runs twice sends it once);
    # NULL for members added without one or whose invitation is still queued.
    invitation_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "user"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user.get_username()} ({self.get_role_display()})"


class BillingProfile(models.Model):
    """Who invoices are addressed to (UC3). Issued invoices keep their own snapshot, so editing
    this row changes only invoices issued afterwards."""

    account = models.OneToOneField(
        Account, on_delete=models.CASCADE, related_name="billing_profile"
    )
    legal_name = models.CharField(max_length=200)
    address_line1 = models.CharField("address line 1", max_length=200)
    address_line2 = models.CharField("address line 2", max_length=200, blank=True)
    city = models.CharField(max_length=100)
    postal_code = models.CharField(max_length=20)
    region = models.CharField(max_length=100, blank=True)
    # ISO 3166-1 alpha-2, upper case.
    country = models.CharField(max_length=2)
    # Normalised (compact) tax/VAT id, valid for ``country`` when a validator exists; "" if none.
    tax_id = models.CharField("tax ID", max_length=32, blank=True)
    # Where invoice emails go; an empty list means the account's members.
    invoice_recipient_emails = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(country__regex=r"^[A-Z]{2}$"), name="billing_profile_country_alpha2"
            ),
        ]

    def __str__(self) -> str:
        return self.legal_name


class PurchaseOrderNumber(models.Model):
    """A PO number the customer uses (X3); at most one per account is the default."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="po_numbers")
    value = models.CharField(max_length=64)
    is_default = models.BooleanField("default", default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["value"]
        constraints = [
            models.UniqueConstraint(fields=["account", "value"], name="po_number_unique"),
            models.UniqueConstraint(
                fields=["account"], condition=Q(is_default=True), name="po_number_one_default"
            ),
        ]

    def __str__(self) -> str:
        return self.value
