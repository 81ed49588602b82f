from remit.billing.models.accounts import Account, BillingProfile, Membership, PurchaseOrderNumber
from remit.billing.models.audit import AuditEvent
from remit.billing.models.catalogue import CreditPrice, Plan, PlanPrice, PlanSize, Term
from remit.billing.models.change_requests import ChangeRequest
from remit.billing.models.documents import (
    CreditNote,
    CreditNoteLine,
    CreditNoteTaxLine,
    DocumentCounter,
    Invoice,
    InvoiceLine,
    InvoiceRevision,
    InvoiceTaxLine,
    TaxCategory,
)
from remit.billing.models.orders import Order
from remit.billing.models.payments import CheckoutSession, CreditLedgerEntry, Payment
from remit.billing.models.portal import PortalLink

__all__ = [
    "Account",
    "AuditEvent",
    "BillingProfile",
    "ChangeRequest",
    "CheckoutSession",
    "CreditLedgerEntry",
    "CreditNote",
    "CreditNoteLine",
    "CreditNoteTaxLine",
    "CreditPrice",
    "DocumentCounter",
    "Invoice",
    "InvoiceLine",
    "InvoiceRevision",
    "InvoiceTaxLine",
    "Membership",
    "Order",
    "Payment",
    "Plan",
    "PlanPrice",
    "PlanSize",
    "PortalLink",
    "PurchaseOrderNumber",
    "TaxCategory",
    "Term",
]
