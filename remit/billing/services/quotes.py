"""Pricing a purchase from the catalogue, and creating the order that records the price."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils import timezone

from remit.billing.actors import Actor
from remit.billing.models import (
    Account,
    BillingProfile,
    CreditPrice,
    Order,
    PlanPrice,
    PlanSize,
    Term,
)
from remit.billing.services.audit import audit_record
from remit.billing.services.pricing import LineAmounts, document_amounts, line_amounts
from remit.billing.services.tax import TaxDecision, tax_decide
from remit.core.config import billing_settings
from remit.core.dates import period_end
from remit.core.errors import PriceNotAvailable, TermNotInvoiceable, ValidationFailed
from remit.core.i18n import format_quantity, label

MAX_CREDITS_PER_ORDER = 1_000_000_000


@dataclass(frozen=True)
class Quote:
    kind: str
    currency: str
    description: str
    quantity: int
    unit_price_minor: int
    discount_percent: Decimal
    credits: int
    plan_size: PlanSize | None = None
    term_months: int | None = None
    period_start: date | None = None
    period_end: date | None = None

    @property
    def net_minor(self) -> int:
        return self.priced(TaxDecision("O", Decimal(0), "")).net_minor

    def priced(self, tax: TaxDecision) -> LineAmounts:
        return line_amounts(
            description=self.description,
            quantity=self.quantity,
            unit_price_minor=self.unit_price_minor,
            discount_percent=self.discount_percent,
            tax_category=tax.category,
            tax_rate=tax.rate,
        )


def quote_credits(*, currency: str, credits: int, language: str = "en") -> Quote:
    if not isinstance(credits, int) or isinstance(credits, bool) or credits <= 0:
        raise ValidationFailed({"credits": ["Enter a whole number of credits greater than 0."]})
    if credits > MAX_CREDITS_PER_ORDER:
        raise ValidationFailed(
            {"credits": [f"Buy at most {MAX_CREDITS_PER_ORDER:,} credits in one order."]}
        )
    price = CreditPrice.objects.filter(currency=currency).first()
    if price is None:
        raise PriceNotAvailable(
            f"Credits are not sold in {currency}.", details={"currency": currency}
        )
    return Quote(
        kind=Order.Kind.CREDITS,
        currency=currency,
        description=label("line_credits", language, count=format_quantity(credits, language)),
        quantity=credits,
        unit_price_minor=price.unit_price_minor,
        discount_percent=Decimal(0),
        credits=credits,
    )


def quote_plan(
    *,
    currency: str,
    plan_size: PlanSize,
    term_months: int,
    payment_method: str,
    period_start: date | None = None,
    language: str = "en",
) -> Quote:
    if not plan_size.is_active or not plan_size.plan.is_active:
        raise ValidationFailed({"plan_size": ["This plan size is no longer sold."]})
    term = Term.objects.filter(months=term_months, is_active=True).first()
    if term is None:
        raise ValidationFailed({"term_months": ["Choose one of the offered terms."]})
    if payment_method == Order.PaymentMethod.INVOICE and not term.invoice_allowed:
        allowed = list(
            Term.objects.filter(is_active=True, invoice_allowed=True).values_list(
                "months", flat=True
            )
        )
        raise TermNotInvoiceable(
            f"A {term_months}-month term cannot be paid by invoice.",
            details={"term_months": term_months, "invoice_terms": allowed},
        )
    price = PlanPrice.objects.filter(plan_size=plan_size, currency=currency).first()
    if price is None:
        raise PriceNotAvailable(
            f"{plan_size} is not sold in {currency}.", details={"currency": currency}
        )
    start = period_start or timezone.localdate()
    end = period_end(start, term_months)
    return Quote(
        kind=Order.Kind.SUBSCRIPTION,
        currency=currency,
        description=label(
            "line_plan_one_month" if term_months == 1 else "line_plan",
            language,
            plan=plan_size.plan.name,
            size=plan_size.name,
            months=str(term_months),
            start=start.isoformat(),
            end=end.isoformat(),
        ),
        quantity=term_months,
        unit_price_minor=price.monthly_price_minor,
        discount_percent=term.discount_percent,
        credits=plan_size.monthly_credits * term_months,
        plan_size=plan_size,
        term_months=term_months,
        period_start=start,
        period_end=end,
    )


def tax_decision_for(*, account: Account, profile: BillingProfile | None) -> TaxDecision:
    """Tax for a sale to ``account``; without a billing profile the sale is treated as
    domestic to the seller (the payment platform collects the address for card sales)."""
    seller_country = billing_settings().seller["country"]
    return tax_decide(
        seller_country=seller_country,
        buyer_country=profile.country if profile else seller_country,
        buyer_tax_id=profile.tax_id if profile else "",
        buyer_tax_exempt=account.tax_exempt,
    )


def order_create(
    *,
    account: Account,
    quote: Quote,
    tax: TaxDecision,
    payment_method: str,
    source: str,
    status: str,
    actor: Actor,
    po_number: str = "",
    notes: str = "",
    replaces: Order | None = None,
    idempotency_key: str | None = None,
) -> Order:
    """Write the order with its price; call inside the transaction holding the account lock."""
    amounts = document_amounts([quote.priced(tax)], tax_notes={tax.category: tax.note})
    line = amounts.lines[0]
    order = Order.objects.create(
        account=account,
        kind=quote.kind,
        source=source,
        payment_method=payment_method,
        status=status,
        currency=quote.currency,
        credits=quote.credits,
        plan_size=quote.plan_size,
        term_months=quote.term_months,
        period_start=quote.period_start,
        period_end=quote.period_end,
        description=quote.description,
        quantity=line.quantity,
        unit_price_minor=line.unit_price_minor,
        discount_minor=line.discount_minor,
        net_minor=line.net_minor,
        tax_category=tax.category,
        tax_rate=tax.rate,
        tax_note=tax.note,
        tax_minor=amounts.tax_minor,
        total_minor=amounts.total_minor,
        po_number=po_number,
        notes=notes,
        replaces=replaces,
        idempotency_key=idempotency_key,
    )
    audit_record(
        actor=actor,
        action="order.created",
        subject=order,
        account=account,
        new_values={
            "kind": order.kind,
            "payment_method": order.payment_method,
            "total_minor": order.total_minor,
            "currency": order.currency,
            "replaces": replaces.pk if replaces else None,
        },
    )
    return order
