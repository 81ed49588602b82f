from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from remit.billing.models import CreditPrice, PlanPrice, PlanSize, Term


@dataclass(frozen=True)
class PlanOffer:
    plan_size: PlanSize
    monthly_price_minor: int


def catalogue_currencies() -> set[str]:
    """Every currency the catalogue prices credits or a plan in."""
    return set(CreditPrice.objects.values_list("currency", flat=True)) | set(
        PlanPrice.objects.values_list("currency", flat=True)
    )


def credit_unit_price_minor(*, currency: str) -> int | None:
    price = CreditPrice.objects.filter(currency=currency).first()
    return None if price is None else price.unit_price_minor


def plan_offers(*, currency: str) -> list[PlanOffer]:
    """Active plan sizes sold in ``currency``, in catalogue order."""
    prices = (
        PlanPrice.objects.filter(
            currency=currency, plan_size__is_active=True, plan_size__plan__is_active=True
        )
        .select_related("plan_size__plan")
        .order_by("plan_size__plan__position", "plan_size__position", "plan_size__pk")
    )
    return [PlanOffer(price.plan_size, price.monthly_price_minor) for price in prices]


@dataclass(frozen=True)
class TermOffer:
    months: int
    discount_percent: Decimal
    invoice_allowed: bool


def term_offers() -> list[TermOffer]:
    return [
        TermOffer(term.months, term.discount_percent, term.invoice_allowed)
        for term in Term.objects.filter(is_active=True).order_by("months")
    ]


def plan_size_get(*, plan_size_id: int) -> PlanSize | None:
    return PlanSize.objects.select_related("plan").filter(pk=plan_size_id).first()
