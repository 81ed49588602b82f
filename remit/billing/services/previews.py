"""Previews of the invoice a purchase or the billing-information gate would issue (issue 11).

An issued invoice never changes, so the customer sees exactly what will be frozen before it is:
the issuing services run as they would, inside a transaction that is then rolled back. Nothing
is stored, no number is used up (the counter row is rolled back too) and nothing is emailed
(the email is queued on commit, and there is no commit).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction

from remit.billing.actors import Actor
from remit.billing.models import Account, Invoice, Order, PlanSize
from remit.billing.services.invoices import invoice_for_order
from remit.billing.services.orders import order_place
from remit.billing.services.validation import BillingProfileInput
from remit.documents.services.rendering import invoice_preview_data


class _Discard(Exception):
    """Raised to roll the preview's transaction back."""


def _rolled_back(issue: Callable[[], Invoice]) -> dict[str, Any]:
    preview: list[dict[str, Any]] = []
    try:
        with transaction.atomic():
            preview.append(invoice_preview_data(issue()))
            raise _Discard
    except _Discard:
        pass
    return preview[0]


def order_invoice_preview(
    *,
    account: Account,
    actor: Actor,
    kind: str,
    credits: int | None = None,
    plan_size: PlanSize | None = None,
    term_months: int | None = None,
    billing_profile: BillingProfileInput | None = None,
    po_number: str | None = None,
    notes: str = "",
) -> dict[str, Any]:
    """The render data of the invoice *Create Invoice* would issue now, with every rule of
    :func:`order_place` applied (its domain errors are raised as they would be)."""

    def issue() -> Invoice:
        order = order_place(
            account=account,
            actor=actor,
            kind=kind,
            payment_method=Order.PaymentMethod.INVOICE,
            credits=credits,
            plan_size=plan_size,
            term_months=term_months,
            billing_profile=billing_profile,
            po_number=po_number,
            notes=notes,
        )
        return order.invoice

    return _rolled_back(issue)


def gate_invoice_preview(
    *, order: Order, actor: Actor, billing_profile: BillingProfileInput
) -> dict[str, Any]:
    """The render data of the invoice the billing-information gate would issue for ``order``."""
    return _rolled_back(
        lambda: invoice_for_order(order=order, actor=actor, billing_profile=billing_profile)
    )
