"""API schemas: money is ``{"amount_minor": int, "currency": "EUR", "amount": "12.50"}`` (a
decimal string, never a float); timestamps are ISO 8601 in UTC."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Field, Schema
from pydantic import BaseModel, ConfigDict

from remit.core.money import minor_to_decimal_string


class Out(BaseModel):
    """What the API answers. Built by Remit's own ``*_out`` functions, so a plain pydantic model:
    ninja's ``Schema`` reads every nested object again through its ``DjangoGetter`` when the
    response is validated, which cost half the CPU of a page of invoices."""

    model_config = ConfigDict(from_attributes=True)


class Money(Out):
    amount_minor: int
    currency: str
    amount: str

    @classmethod
    def of(cls, amount_minor: int, currency: str) -> Money:
        return cls(
            amount_minor=amount_minor,
            currency=currency,
            amount=minor_to_decimal_string(amount_minor, currency),
        )


class Error(Out):
    code: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class AccountIn(Schema):
    name: str = Field(max_length=200)
    currency: str | None = Field(default=None, max_length=3)
    language: str = Field(default="en", max_length=10)
    status: str = Field(default="trial", max_length=16)
    external_id: str | None = Field(default=None, max_length=100)
    tax_exempt: bool = False
    time_zone: str = Field(
        default="",
        max_length=64,
        description="IANA time zone the account's dates are shown in (e.g. Europe/Berlin); "
        "empty: the site's.",
    )


class AccountOut(Out):
    id: int
    name: str
    status: str
    currency: str
    language: str
    external_id: str | None
    tax_exempt: bool
    invoicing_during_trial_enabled: bool
    invoicing_during_trial_expires_at: datetime | None
    unpaid_invoice_limit: int | None
    time_zone: str
    created_at: datetime


class OptionsIn(Schema):
    reason: str = Field(max_length=2000)
    invoicing_during_trial_enabled: bool | None = None
    invoicing_during_trial_expires_at: datetime | None = None
    unpaid_invoice_limit: int | None = Field(default=None, ge=0, le=100)
    clear_unpaid_invoice_limit: bool = False


class MemberIn(Schema):
    email: str = Field(max_length=254)
    role: str = Field(default="member", max_length=16)


class MemberOut(Out):
    id: int
    email: str
    role: str


class BillingProfileIn(Schema):
    legal_name: str = Field(max_length=200)
    address_line1: str = Field(max_length=200)
    address_line2: str = Field(default="", max_length=200)
    city: str = Field(max_length=100)
    postal_code: str = Field(default="", max_length=20)
    region: str = Field(default="", max_length=100)
    country: str = Field(max_length=2)
    tax_id: str = Field(default="", max_length=40)
    invoice_recipient_emails: list[str] = Field(default_factory=list, max_length=10)


class BillingProfileOut(BillingProfileIn):
    pass


class OrderIn(Schema):
    kind: str = Field(description="credits or subscription", max_length=16)
    payment_method: str = Field(default="invoice", description="card or invoice", max_length=10)
    credits: int | None = Field(default=None, ge=1)
    plan_size_id: int | None = None
    term_months: int | None = Field(default=None, ge=1, le=36)
    po_number: str | None = Field(default=None, max_length=64)
    notes: str = Field(default="", max_length=2000)


class PlatformOrderIn(Schema):
    """An order the payment platform already charged (and, when ``free_trial``, invoiced)."""

    kind: str = Field(max_length=16)
    external_reference: str = Field(max_length=255)
    free_trial: bool = False
    provider: str = Field(default="stripe", max_length=30)
    provider_reference: str = Field(max_length=255)
    amount_minor: int = Field(ge=0)
    currency: str = Field(max_length=3)
    received_at: datetime
    credits: int | None = Field(default=None, ge=1)
    plan_size_id: int | None = None
    term_months: int | None = Field(default=None, ge=1, le=36)


class OrderOut(Out):
    id: int
    account_id: int
    kind: str
    source: str
    payment_method: str
    status: str
    free_trial: bool
    description: str
    credits: int
    term_months: int | None
    period_start: date | None
    period_end: date | None
    net: Money
    tax: Money
    total: Money
    po_number: str
    notes: str
    invoice_id: int | None
    created_at: datetime


class InvoiceOut(Out):
    id: int
    account_id: int
    order_id: int
    number: str
    status: str
    revision: int
    issue_date: date
    due_date: date
    subtotal: Money
    tax: Money
    total: Money
    po_number: str
    notes: str
    paid_at: datetime | None
    voided_at: datetime | None
    replaces_id: int | None
    pdf_url: str
    created_at: datetime


class RevisionOut(Out):
    revision: int
    po_number: str
    notes: str
    reason: str
    created_at: datetime
    pdf_url: str | None


class CreditNoteOut(Out):
    id: int
    account_id: int
    invoice_id: int
    number: str
    issue_date: date
    total: Money
    reason_code: str
    reason: str
    pdf_url: str | None


class PaymentIn(Schema):
    method: str = Field(default="bank_transfer", max_length=20)
    provider: str = Field(default="manual", max_length=30)
    provider_reference: str = Field(max_length=255)
    amount_minor: int = Field(ge=0)
    currency: str = Field(max_length=3)
    received_at: datetime


class PaymentOut(Out):
    id: int
    account_id: int
    order_id: int
    invoice_id: int | None
    method: str
    provider: str
    provider_reference: str
    amount: Money
    received_at: datetime


class LedgerEntryOut(Out):
    id: int
    order_id: int | None
    kind: str
    pending_delta: int
    balance_delta: int
    created_at: datetime


class CreditsOut(Out):
    balance: int
    pending: int
    entries: list[LedgerEntryOut]


class PoNumberIn(Schema):
    value: str = Field(max_length=64)
    make_default: bool = False
    apply_to_unpaid: bool = False


class PoNumberOut(Out):
    id: int
    value: str
    is_default: bool
    revised_invoice_ids: list[int] = Field(default_factory=list)


class PortalLinkIn(Schema):
    email: str = Field(max_length=254, description="A member of the account")
    next_path: str = Field(default="/orders/", max_length=200)
    lifetime_seconds: int = Field(default=300, ge=30, le=3600)


class PortalLinkOut(Out):
    url: str
    expires_at: datetime


class WebhookEndpointIn(Schema):
    url: str = Field(max_length=500)
    event_types: list[str] = Field(default_factory=list, max_length=20)
    description: str = Field(default="", max_length=200)


class WebhookEndpointOut(Out):
    id: int
    url: str
    event_types: list[str]
    description: str
    is_active: bool
    created_at: datetime


class WebhookEndpointCreated(WebhookEndpointOut):
    secret: str = Field(description="Shown once: verify the Remit-Signature header with it.")


class WebhookDeliveryOut(Out):
    id: int
    event_id: str
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str
    delivered_at: datetime | None


class AccountPatch(Schema):
    name: str | None = Field(default=None, max_length=200)
    status: str | None = Field(default=None, max_length=16, description="trial or active")
    language: str | None = Field(default=None, max_length=10)
    external_id: str | None = Field(default=None, max_length=100)
    time_zone: str | None = Field(
        default=None,
        max_length=64,
        description="IANA time zone name (e.g. Europe/Berlin); empty: the site's.",
    )
