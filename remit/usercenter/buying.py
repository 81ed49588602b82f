"""Buying credits and plans (P1–P6) and paying online (P1, P7) in the User Center.

The views turn forms into one call of ``order_place`` or ``checkout_*`` and every typed domain
error into a message the customer can act on; the rules themselves live in the services.
"""

from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.contrib import messages
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
    QueryDict,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from remit.billing.actors import Actor
from remit.billing.models import Account, CheckoutSession, Invoice, Order
from remit.billing.selectors.catalogue import (
    PlanOffer,
    TermOffer,
    credit_unit_price_minor,
    plan_offers,
    plan_size_get,
    term_offers,
)
from remit.billing.selectors.checkouts import checkout_get_for_account
from remit.billing.selectors.credits import credit_balance
from remit.billing.selectors.invoices import invoice_unpaid_list
from remit.billing.selectors.po_numbers import po_number_list
from remit.billing.services.checkout import (
    CheckoutUrls,
    checkout_cancel,
    checkout_return,
    checkout_start,
    checkout_test_pay,
)
from remit.billing.services.invoicing_rules import (
    credit_invoice_minimum_minor,
    invoicing_during_trial_allowed,
)
from remit.billing.services.orders import order_place
from remit.billing.services.payment_platform import card_payments_available, payment_test_mode
from remit.billing.services.previews import gate_invoice_preview, order_invoice_preview
from remit.billing.services.quotes import quote_credits, quote_plan
from remit.core.config import billing_settings
from remit.core.errors import (
    CardPaymentsUnavailable,
    CheckoutNotAvailable,
    CreditInvoiceBelowMinimum,
    DomainError,
    InvoiceNotPayable,
    InvoicingDuringTrialDisabled,
    OrderInvoicedByPaymentPlatform,
    OrderNotPaid,
    OrderNotPayable,
    PaymentAmountMismatch,
    PaymentPlatformUnavailable,
    PriceNotAvailable,
    TermNotInvoiceable,
    UnpaidInvoiceLimitReached,
    ValidationFailed,
)
from remit.core.forms import form_errors_add
from remit.core.i18n import format_money, format_percent, format_quantity
from remit.core.links import public_url
from remit.documents.services.rendering import (
    bank_transfer_possible,
    invoice_preview_render,
    payment_instructions,
)
from remit.usercenter.forms import (
    BillingProfileForm,
    CreditPurchaseForm,
    PlanPurchaseForm,
    PurchaseForm,
)
from remit.usercenter.views import (
    _invoice_ready_redirect,
    _profile_initial,
    account_required,
    support_context,
)

PURCHASE_KINDS = ("credits", "plan")


def _language() -> str:
    return get_language() or "en"


def _plan_choices(account: Account, offers: list[PlanOffer]) -> list[tuple[int, str]]:
    language = _language()
    return [
        (
            offer.plan_size.pk,
            _("%(plan)s %(size)s — %(price)s a month")
            % {
                "plan": offer.plan_size.plan.name,
                "size": offer.plan_size.name,
                "price": format_money(offer.monthly_price_minor, account.currency, language),
            },
        )
        for offer in offers
    ]


def _term_choices(terms: list[TermOffer]) -> list[tuple[int, str]]:
    choices = []
    for term in terms:
        text = _("%(months)s months") % {"months": term.months}
        if term.months == 1:
            text = _("1 month")
        if term.discount_percent:
            text += " · " + _("save %(percent)s") % {
                "percent": format_percent(term.discount_percent, _language())
            }
        if not term.invoice_allowed:
            text += " · " + _("card only")
        choices.append((term.months, text))
    return choices


def _plan_form(
    account: Account,
    data: Any = None,
    *,
    offers: list[PlanOffer] | None = None,
    terms: list[TermOffer] | None = None,
    default_po: str | None = None,
) -> PlanPurchaseForm:
    """The plan form; ``offers``, ``terms`` and ``default_po`` when the caller has read them."""
    offers = plan_offers(currency=account.currency) if offers is None else offers
    terms = term_offers() if terms is None else terms
    # The shortest term that can also be invoiced, so the total shows at once and ticking
    # Create an Invoice needs no other change.
    invoiceable = [term.months for term in terms if term.invoice_allowed]
    initial: dict[str, Any] = {
        "po_number": _default_po(account) if default_po is None else default_po
    }
    if invoiceable:
        initial["term_months"] = invoiceable[0]
    return PlanPurchaseForm(
        data,
        prefix="plan",
        plan_choices=_plan_choices(account, offers),
        term_choices=_term_choices(terms),
        initial=initial,
    )


def _default_po(account: Account) -> str:
    default = po_number_list(account=account).filter(is_default=True).first()
    return default.value if default else ""


def _buy_page(
    request: HttpRequest,
    account: Account,
    *,
    credit_form: CreditPurchaseForm | None = None,
    plan_form: PlanPurchaseForm | None = None,
    billing_form: BillingProfileForm | None = None,
    active: str = "credits",
    problem: dict[str, Any] | None = None,
    dialog: str = "",
    status: int = 200,
) -> HttpResponse:
    unit_price = credit_unit_price_minor(currency=account.currency)
    language = _language()
    minimum = credit_invoice_minimum_minor(account.currency)
    offers = plan_offers(currency=account.currency)
    terms = term_offers()
    default_po = _default_po(account)
    profile_initial = _profile_initial(account)
    return render(
        request,
        "usercenter/buy.html",
        {
            "account": account,
            "active": active,
            "credit_form": credit_form
            or CreditPurchaseForm(prefix="credits", initial={"po_number": default_po}),
            "plan_form": plan_form
            or _plan_form(account, offers=offers, terms=terms, default_po=default_po),
            "credit_billing_form": billing_form
            if billing_form is not None and active == "credits"
            else BillingProfileForm(prefix="credits-billing", initial=profile_initial),
            "plan_billing_form": billing_form
            if billing_form is not None and active == "plan"
            else BillingProfileForm(prefix="plan-billing", initial=profile_initial),
            "unit_price_minor": unit_price,
            "unit_price": format_money(unit_price, account.currency, language)
            if unit_price is not None
            else None,
            "minimum": format_money(minimum, account.currency, language) if minimum else "",
            "plan_prices": {offer.plan_size.pk: offer.monthly_price_minor for offer in offers},
            "terms": {term.months: str(term.discount_percent) for term in terms},
            "balance": credit_balance(account=account),
            "pending_invoices": invoice_unpaid_list(account=account).select_related("order"),
            "po_numbers": po_number_list(account=account),
            "problem": problem,
            "dialog": dialog,
            "summary": _summary(account, credit_form if active == "credits" else plan_form)
            if dialog
            else None,
            "test_mode": payment_test_mode(),
            "card_payments": card_payments_available(),
            "bank_transfer": bank_transfer_possible(billing_settings().seller),
            "card_only_terms": [term.months for term in terms if not term.invoice_allowed],
            "trial_without_invoicing": not invoicing_during_trial_allowed(account),
            **support_context(),
        },
        status=status,
    )


_STATE_SESSION_KEY = "usercenter_buy_state"


def _summary(account: Account, form: PurchaseForm | None) -> dict[str, str] | None:
    """The order summary the no-JavaScript dialog shows (with JavaScript the page fills it in):
    what was chosen and its total before tax, from the same quote the order will use."""
    if form is None or not form.is_bound or not form.is_valid():
        return None
    data = form.cleaned_data
    language = _language()
    try:
        if isinstance(form, PlanPurchaseForm):
            choices = dict(form.fields["plan_size"].choices)  # type: ignore[attr-defined]
            terms = dict(form.fields["term_months"].choices)  # type: ignore[attr-defined]
            plan_size = plan_size_get(plan_size_id=data["plan_size"])
            if plan_size is None:
                return None
            quote = quote_plan(
                currency=account.currency,
                plan_size=plan_size,
                term_months=data["term_months"],
                payment_method=Order.PaymentMethod.CARD,
                language=account.language,
            )
            return {
                "plan": str(choices.get(data["plan_size"], "")),
                "term": str(terms.get(data["term_months"], "")),
                "total": format_money(quote.net_minor, account.currency, language),
            }
        quote = quote_credits(
            currency=account.currency, credits=data["credits"], language=account.language
        )
    except DomainError:
        return None
    return {
        "credits": format_quantity(data["credits"], language),
        "total": format_money(quote.net_minor, account.currency, language),
    }


def _state_redirect(
    request: HttpRequest,
    kind: str,
    *,
    forms: tuple[PurchaseForm, BillingProfileForm | None] | None = None,
    problem: dict[str, Any] | None = None,
) -> HttpResponse:
    """Post/redirect/get: what was typed, the errors the services added (``forms``, given only
    when they passed their own validation) and the refusal are kept in the session and shown by
    the buy page's GET, so reloading it never resubmits and the message stays."""
    form, billing_form = forms or (None, None)
    token = secrets.token_urlsafe(9)
    request.session[_STATE_SESSION_KEY] = {
        "token": token,
        "kind": kind,
        "data": {
            key: request.POST.getlist(key)
            for key in request.POST
            if key not in ("csrfmiddlewaretoken", "step")
        },
        "errors": form.errors.get_json_data() if form is not None else {},
        "billing_errors": billing_form.errors.get_json_data() if billing_form is not None else {},
        "problem": {"code": problem["code"], "text": problem["text"]} if problem else None,
    }
    # 303: the browser follows with a GET, so reloading the page never posts again.
    return HttpResponseRedirect(
        f"{reverse('usercenter:buy')}?tab={kind}&state={token}#{kind}", status=303
    )


def _errors_restore(form: forms.Form, errors: dict[str, list[dict[str, str]]]) -> None:
    for field, field_errors in errors.items():
        for error in field_errors:
            form.add_error(None if field == "__all__" else field, error["message"])


def _selection_only(form: PurchaseForm) -> bool:
    """True if every error of ``form`` is on what is chosen on the page (credits, plan, term):
    those are corrected on the page; every other one in the dialog."""
    return all(field in ("credits", "plan_size", "term_months") for field in form.errors)


@account_required
def buy(request: HttpRequest, account: Account) -> HttpResponse:
    """Buy credits (P1) and monthly plans (P5). ``?state=`` shows the dialog again after a
    submit (the no-JavaScript confirm step, or a refused purchase)."""
    active = request.GET.get("tab", "credits")
    active = active if active in PURCHASE_KINDS else "credits"
    state = request.session.get(_STATE_SESSION_KEY)
    if not state or state.get("token") != request.GET.get("state"):
        return _buy_page(request, account, active=active)
    kind = state["kind"]
    data = QueryDict(mutable=True)
    for key, values in state["data"].items():
        data.setlist(key, values)
    form: CreditPurchaseForm | PlanPurchaseForm = (
        CreditPurchaseForm(data, prefix="credits")
        if kind == "credits"
        else _plan_form(account, data)
    )
    form.is_valid()
    billing_form = None
    if data.get(f"{form.prefix}-create_invoice") in ("on", "true", "1"):
        billing_form = BillingProfileForm(data, prefix=f"{form.prefix}-billing")
        billing_form.is_valid()
    _errors_restore(form, state["errors"])
    if billing_form is not None:
        _errors_restore(billing_form, state["billing_errors"])
    problem = state["problem"]
    if problem and problem["code"] == UnpaidInvoiceLimitReached.code:
        problem = {**problem, "invoices": invoice_unpaid_list(account=account)}
    billing_invalid = billing_form is not None and bool(billing_form.errors)
    opens_dialog = bool(problem) or billing_invalid or not _selection_only(form)
    return _buy_page(
        request,
        account,
        active=kind,
        problem=problem,
        dialog=kind if opens_dialog or not form.errors else "",
        billing_form=billing_form,
        **{"credit_form" if kind == "credits" else "plan_form": form},  # type: ignore[arg-type]
    )


def checkout_urls(request: HttpRequest) -> CheckoutUrls:
    placeholder = "TOKEN-PLACEHOLDER"

    def absolute(name: str) -> str:
        return public_url(request, reverse(name, args=[placeholder])).replace(
            placeholder, "{token}"
        )

    return CheckoutUrls(
        return_url=absolute("usercenter:checkout_return"),
        cancel_url=absolute("usercenter:checkout_cancel"),
        test_page_url=absolute("usercenter:checkout_test"),
    )


def _problem(error: DomainError, account: Account) -> dict[str, Any]:
    """A rule that refused the purchase, as something the page can explain (P3, P4)."""
    by_card = card_payments_available()
    if isinstance(error, InvoicingDuringTrialDisabled):
        return {
            "code": error.code,
            "text": _(
                "Invoices are not available during your free trial. Contact support to enable "
                "invoicing for your account, or pay by card."
            )
            if by_card
            else _(
                "Invoices are not available during your free trial. Contact support to enable "
                "invoicing for your account."
            ),
        }
    if isinstance(error, CardPaymentsUnavailable):
        return {"code": error.code, "text": card_payments_unavailable_text()}
    if isinstance(error, UnpaidInvoiceLimitReached):
        invoices = invoice_unpaid_list(account=account)
        return {
            "code": error.code,
            "text": (
                _(
                    "You have %(count)s unpaid invoices. Pay one of them before creating "
                    "another invoice, or pay this purchase by card."
                )
                if by_card
                else _(
                    "You have %(count)s unpaid invoices. Pay one of them before creating "
                    "another invoice."
                )
            )
            % {"count": len(error.details["invoices"])},
            "invoices": invoices,
        }
    if isinstance(error, PaymentPlatformUnavailable):
        return {
            "code": error.code,
            "text": _(
                "We could not reach the payment platform, so nothing was charged. "
                "Please try again in a moment."
            ),
        }
    if isinstance(error, PriceNotAvailable):
        return {
            "code": error.code,
            "text": _("This is not sold in %(currency)s. Contact support.")
            % {"currency": account.currency},
        }
    return {"code": error.code, "text": str(error.message)}


def card_payments_unavailable_text() -> str:
    return _("Card payments are not available: create an invoice and pay it by bank transfer.")


def _minimum_text(error: CreditInvoiceBelowMinimum) -> str:
    language = _language()
    text = (
        _(
            "An invoice for credits needs at least %(minimum)s of credits (you chose "
            "%(amount)s). Buy more credits, or pay by card."
        )
        if card_payments_available()
        else _(
            "An invoice for credits needs at least %(minimum)s of credits (you chose "
            "%(amount)s). Buy more credits."
        )
    )
    return text % {
        "minimum": format_money(
            error.details["minimum_minor"], error.details["currency"], language
        ),
        "amount": format_money(
            error.details["requested_minor"], error.details["currency"], language
        ),
    }


def _purchase_forms(
    request: HttpRequest, account: Account, kind: str
) -> tuple[CreditPurchaseForm | PlanPurchaseForm, BillingProfileForm | None]:
    """The purchase form and, with *Create an Invoice* ticked, its billing-address form."""
    if kind not in PURCHASE_KINDS:
        raise Http404
    form: CreditPurchaseForm | PlanPurchaseForm = (
        CreditPurchaseForm(request.POST, prefix="credits")
        if kind == "credits"
        else _plan_form(account, request.POST)
    )
    by_invoice = request.POST.get(f"{form.prefix}-create_invoice") in ("on", "true", "1")
    billing_form = (
        BillingProfileForm(request.POST, prefix=f"{form.prefix}-billing") if by_invoice else None
    )
    return form, billing_form


@account_required
@require_POST
def buy_submit(request: HttpRequest, account: Account, kind: str) -> HttpResponseBase:
    """Place the order: by card → the payment platform; with *Create an Invoice* → the invoice is
    issued, emailed and listed, and offered for download.

    ``step=review`` (*Buy Monthly* or *Continue* without JavaScript) places nothing: it shows the
    page again with the dialog open. Every refusal redirects to the page (post/redirect/get)."""
    form, billing_form = _purchase_forms(request, account, kind)
    if request.POST.get("step") == "review":
        return _state_redirect(request, kind)
    forms_valid = form.is_valid()
    if billing_form is not None and not billing_form.is_valid():
        forms_valid = False
    if not forms_valid:
        return _state_redirect(request, kind)
    data = form.cleaned_data
    actor = Actor.for_user(request.user)

    def refused(problem: dict[str, Any] | None = None) -> HttpResponse:
        return _state_redirect(request, kind, forms=(form, billing_form), problem=problem)

    try:
        order = order_place(
            account=account,
            actor=actor,
            kind=Order.Kind.CREDITS if kind == "credits" else Order.Kind.SUBSCRIPTION,
            payment_method=Order.PaymentMethod.INVOICE
            if billing_form is not None
            else Order.PaymentMethod.CARD,
            credits=data.get("credits"),
            plan_size=plan_size_get(plan_size_id=data["plan_size"]) if kind == "plan" else None,
            term_months=data.get("term_months"),
            billing_profile=billing_form.to_input() if billing_form is not None else None,
            po_number=data["po_number"] if billing_form is not None else "",
            notes=data["notes"] if billing_form is not None else "",
            idempotency_key=data["idempotency_key"],
        )
        if order.payment_method == Order.PaymentMethod.INVOICE:
            invoice = order.invoice
            messages.success(request, _invoice_created_text(order))
            return _invoice_ready_redirect(invoice)
        if order.status == Order.Status.PAID:
            messages.info(request, _("This purchase is already paid."))
            return redirect("usercenter:orders")
        session = checkout_start(
            order=order,
            actor=actor,
            urls=checkout_urls(request),
            customer_email=request.user.email,  # type: ignore[union-attr]
        )
    except ValidationFailed as error:
        form_errors_add(error, form, *([billing_form] if billing_form is not None else []))
        return refused()
    except CreditInvoiceBelowMinimum as error:
        form.add_error("credits", _minimum_text(error))
        return refused()
    except TermNotInvoiceable:
        form.add_error("term_months", _term_not_invoiceable_text())
        return refused()
    except (
        InvoicingDuringTrialDisabled,
        UnpaidInvoiceLimitReached,
        PaymentPlatformUnavailable,
        CardPaymentsUnavailable,
        PriceNotAvailable,
    ) as error:
        return refused(_problem(error, account))
    return redirect(session.url)


def _invoice_created_text(order: Order) -> str:
    if order.kind == Order.Kind.CREDITS:
        return _(
            "Invoice %(number)s was created and emailed. Your %(credits)s credits are "
            "pending until it is paid."
        ) % {
            "number": order.invoice.number,
            "credits": format_quantity(order.credits, _language()),
        }
    # A plan is not credits (P5): name its size and period instead.
    return _("Invoice %(number)s for %(plan)s was created and emailed.") % {
        "number": order.invoice.number,
        "plan": order.description,
    }


def _term_not_invoiceable_text() -> str:
    return _("This term can only be paid by card. Choose 3, 6 or 12 months to get an invoice.")


def _form_messages(*forms_: forms.Form | None) -> list[str]:
    """Every error of ``forms_`` as "Label: message", for the preview's explanation."""
    texts = []
    for form in forms_:
        if form is None:
            continue
        for field, errors in form.errors.items():
            name = form.fields[field].label if field in form.fields else ""
            texts += [f"{name}: {error}" if name else str(error) for error in errors]
    return texts


def _preview_response(
    request: HttpRequest,
    fmt: str,
    *,
    data: dict[str, Any] | None = None,
    problems: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The preview as an HTML fragment (the dialog fetches it as the customer types) or as the
    real PDF marked PREVIEW; never stored, numbered or emailed. ``problems``: why there is none."""
    if data is not None and fmt == "pdf":
        response = HttpResponse(invoice_preview_render(data), content_type="application/pdf")
        response["Content-Disposition"] = 'inline; filename="invoice-preview.pdf"'
    else:
        response = render(
            request,
            "usercenter/includes/invoice_preview.html"
            if fmt == "html"
            else "usercenter/invoice_preview_problem.html",
            {"data": data, "problems": problems, **support_context()},
            status=status,
        )
    response["Cache-Control"] = "no-store"
    return response


@account_required
@require_POST
def buy_preview(request: HttpRequest, account: Account, kind: str, fmt: str) -> HttpResponse:
    """Preview of the invoice *Create Invoice* would issue with what the dialog holds now."""
    form, billing_form = _purchase_forms(request, account, kind)
    if billing_form is None:
        billing_form = BillingProfileForm(request.POST, prefix=f"{form.prefix}-billing")
    valid = form.is_valid()
    if not billing_form.is_valid() or not valid:
        return _preview_response(
            request, fmt, problems=_form_messages(form, billing_form), status=400
        )
    data = form.cleaned_data
    try:
        preview = order_invoice_preview(
            account=account,
            actor=Actor.for_user(request.user),
            kind=Order.Kind.CREDITS if kind == "credits" else Order.Kind.SUBSCRIPTION,
            credits=data.get("credits"),
            plan_size=plan_size_get(plan_size_id=data["plan_size"]) if kind == "plan" else None,
            term_months=data.get("term_months"),
            billing_profile=billing_form.to_input(),
            po_number=data["po_number"],
            notes=data["notes"],
        )
    except ValidationFailed as error:
        form_errors_add(error, form, billing_form)
        problems = _form_messages(form, billing_form)
        return _preview_response(request, fmt, problems=problems, status=400)
    except CreditInvoiceBelowMinimum as error:
        return _preview_response(request, fmt, problems=[_minimum_text(error)], status=409)
    except TermNotInvoiceable:
        return _preview_response(request, fmt, problems=[_term_not_invoiceable_text()], status=409)
    except (
        InvoicingDuringTrialDisabled,
        UnpaidInvoiceLimitReached,
        PriceNotAvailable,
    ) as error:
        return _preview_response(
            request, fmt, problems=[_problem(error, account)["text"]], status=409
        )
    return _preview_response(request, fmt, data=preview)


@account_required
@require_POST
def gate_preview(request: HttpRequest, account: Account, order_id: int, fmt: str) -> HttpResponse:
    """Preview of the invoice the billing-information gate would issue for this order."""
    order = get_object_or_404(Order, pk=order_id, account=account)
    form = BillingProfileForm(request.POST)
    if not form.is_valid():
        return _preview_response(request, fmt, problems=_form_messages(form), status=400)
    try:
        preview = gate_invoice_preview(
            order=order, actor=Actor.for_user(request.user), billing_profile=form.to_input()
        )
    except ValidationFailed as error:
        form_errors_add(error, form)
        return _preview_response(request, fmt, problems=_form_messages(form), status=400)
    except (OrderInvoicedByPaymentPlatform, OrderNotPaid) as error:
        return _preview_response(request, fmt, problems=[str(error.message)], status=409)
    return _preview_response(request, fmt, data=preview)


@account_required
@require_http_methods(["GET", "POST"])
def invoice_pay(request: HttpRequest, account: Account, invoice_id: int) -> HttpResponseBase:
    """Pay an outstanding invoice (P7): online through the payment platform, or by bank transfer
    with the invoice number as reference (finance records it)."""
    invoice = get_object_or_404(
        Invoice.objects.select_related("order"), pk=invoice_id, account=account
    )
    if request.method == "POST":
        try:
            session = checkout_start(
                order=invoice.order,
                invoice=invoice,
                actor=Actor.for_user(request.user),
                urls=checkout_urls(request),
                customer_email=request.user.email,  # type: ignore[union-attr]
            )
        except (InvoiceNotPayable, OrderNotPayable):
            messages.info(
                request,
                _("Invoice %(number)s is already paid or void.") % {"number": invoice.number},
            )
            return redirect("usercenter:orders")
        except (PaymentPlatformUnavailable, CardPaymentsUnavailable) as error:
            messages.error(request, _problem(error, account)["text"])
            return redirect("usercenter:invoice_pay", invoice.pk)
        return redirect(session.url)
    return render(
        request,
        "usercenter/pay.html",
        {
            "invoice": invoice,
            "instructions": payment_instructions(invoice, _language()),
            "test_mode": payment_test_mode(),
            "card_payments": card_payments_available(),
            **support_context(),
        },
    )


def _checkout_or_404(account: Account, token: str) -> CheckoutSession:
    session = checkout_get_for_account(account=account, token=token)
    if session is None:
        raise Http404
    return session


@account_required
@require_http_methods(["GET", "POST"])
def checkout_test(request: HttpRequest, account: Account, token: str) -> HttpResponseBase:
    """The test-mode payment page: exists only while no payment platform key is configured."""
    session = _checkout_or_404(account, token)
    if not payment_test_mode() or session.provider != "test":
        raise Http404
    if request.method == "POST":
        if request.POST.get("action") == "cancel":
            checkout_cancel(session=session, actor=Actor.for_user(request.user))
            return redirect("usercenter:checkout_cancel", token)
        try:
            checkout_test_pay(session=session, actor=Actor.for_user(request.user))
        except CheckoutNotAvailable:
            messages.error(
                request, _("This payment was cancelled. Start it again from your orders.")
            )
            return redirect("usercenter:orders")
        except (InvoiceNotPayable, OrderNotPayable):
            messages.info(request, _("This was already paid or is void; nothing was charged."))
            return redirect("usercenter:orders")
        return redirect("usercenter:checkout_return", token)
    return render(
        request, "usercenter/checkout_test.html", {"session": session, **support_context()}
    )


@account_required
def checkout_return_view(request: HttpRequest, account: Account, token: str) -> HttpResponseBase:
    """Back from the payment platform: record the payment if it is paid."""
    session = _checkout_or_404(account, token)
    try:
        payment = checkout_return(session=session, actor=Actor.for_user(request.user))
    except PaymentPlatformUnavailable:
        payment = None
    except (PaymentAmountMismatch, InvoiceNotPayable, OrderNotPayable):
        messages.error(
            request,
            _("Your payment needs a look from our team; we will contact you. Nothing more to do."),
        )
        return redirect("usercenter:orders")
    if payment is None:
        return render(
            request,
            "usercenter/checkout_waiting.html",
            {"session": session, **support_context()},
            status=202,
        )
    if session.invoice is not None:
        messages.success(
            request,
            _("Thank you! Invoice %(number)s is paid.") % {"number": session.invoice.number},
        )
        return redirect("usercenter:orders")
    messages.success(
        request, _("Thank you! Your payment was received and your purchase is active.")
    )
    # A card purchase by an account with billing details got its paid invoice: offer it.
    invoice = getattr(session.order, "invoice", None)
    if invoice is not None:
        return _invoice_ready_redirect(invoice)
    return redirect("usercenter:orders")


@account_required
def checkout_cancel_view(request: HttpRequest, account: Account, token: str) -> HttpResponseBase:
    session = _checkout_or_404(account, token)
    checkout_cancel(session=session, actor=Actor.for_user(request.user))
    messages.info(request, _("Payment cancelled. Nothing was charged."))
    if session.invoice_id is not None:
        return redirect("usercenter:invoice_pay", session.invoice_id)
    return redirect("usercenter:buy")
