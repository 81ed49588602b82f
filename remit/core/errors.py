"""Typed domain errors.

Every business rule fails with a subclass of :class:`DomainError` that carries a stable ``code``
(what the API returns and the UI translates), a human message and structured ``details``.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    code: ClassVar[str] = "domain_error"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details or {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class ValidationFailed(DomainError):
    """Input did not pass validation; ``field_errors`` maps each field to its messages."""

    code = "validation_error"

    def __init__(self, field_errors: dict[str, list[str]]) -> None:
        fields = ", ".join(sorted(field_errors))
        super().__init__(f"Invalid input: {fields}", details={"fields": field_errors})
        self.field_errors = field_errors


class NotFound(DomainError):
    code = "not_found"


class BillingProfileRequired(DomainError):
    code = "billing_profile_required"


class InvoicingDuringTrialDisabled(DomainError):
    code = "invoicing_disabled_during_trial"


class CreditInvoiceBelowMinimum(DomainError):
    code = "credit_invoice_below_minimum"


class UnpaidInvoiceLimitReached(DomainError):
    code = "unpaid_invoice_limit_reached"


class TermNotInvoiceable(DomainError):
    code = "term_not_invoiceable"


class PriceNotAvailable(DomainError):
    code = "price_not_available"


class OrderInvoicedByPaymentPlatform(DomainError):
    code = "order_invoiced_by_payment_platform"


class OrderNotPaid(DomainError):
    code = "order_not_paid"


class OrderNotPayable(DomainError):
    code = "order_not_payable"


class InvoiceImmutable(DomainError):
    code = "invoice_immutable"


class InvoiceNotVoidable(DomainError):
    code = "invoice_not_voidable"


class InvoiceNotPayable(DomainError):
    code = "invoice_not_payable"


class InvoiceNotRevisable(DomainError):
    code = "invoice_not_revisable"


class PaymentAmountMismatch(DomainError):
    code = "payment_amount_mismatch"


class PaymentReferenceConflict(DomainError):
    code = "payment_reference_conflict"


class ExternalOrderConflict(DomainError):
    code = "external_order_conflict"


class PortalLinkInvalid(DomainError):
    """Unknown, expired or already used: deliberately one error, so nothing leaks."""

    code = "portal_link_invalid"


class PurchaseOrderNumberExists(DomainError):
    code = "po_number_exists"


class PaymentPlatformUnavailable(DomainError):
    """The payment platform could not be reached or refused the request; nothing was charged."""

    code = "payment_platform_unavailable"


class CardPaymentsUnavailable(DomainError):
    """No payment platform is configured (and the test-mode page is off): nothing can be paid
    by card; invoices are paid by bank transfer."""

    code = "card_payments_unavailable"


class CheckoutNotAvailable(DomainError):
    """Unknown, cancelled or already used checkout, or one for another provider."""

    code = "checkout_not_available"


class ChangeRequestOpen(DomainError):
    code = "change_request_open"


class ChangeRequestNotAllowed(DomainError):
    code = "change_request_not_allowed"


class ResendLimitReached(DomainError):
    code = "resend_limit_reached"


class WebhookSignatureInvalid(DomainError):
    code = "webhook_signature_invalid"
