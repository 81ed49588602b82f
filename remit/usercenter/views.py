"""User Center pages. Each view resolves the signed-in customer's account, calls one service or
selector, and turns typed domain errors into messages; every lookup is scoped to the account."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from remit.billing.actors import Actor
from remit.billing.models import Account, Invoice, Order, PurchaseOrderNumber
from remit.billing.selectors.accounts import account_for_user
from remit.billing.selectors.change_requests import (
    change_request_list_for_invoice,
    change_request_possible,
    change_requests_latest,
)
from remit.billing.selectors.credits import credit_balance
from remit.billing.selectors.invoices import invoice_detail_for_account
from remit.billing.selectors.orders import order_list_for_account, order_years_for_account
from remit.billing.selectors.po_numbers import po_number_list
from remit.billing.services.billing_profiles import billing_profile_set
from remit.billing.services.change_requests import change_request_create
from remit.billing.services.invoice_emails import document_email_resend, invoice_email_resend
from remit.billing.services.invoices import invoice_for_order
from remit.billing.services.po_numbers import (
    PurchaseOrderNumberChange,
    po_number_add,
    po_number_delete,
    po_number_update,
)
from remit.billing.services.portal_links import portal_link_consume
from remit.core.errors import (
    BillingProfileRequired,
    ChangeRequestNotAllowed,
    ChangeRequestOpen,
    OrderInvoicedByPaymentPlatform,
    OrderNotPaid,
    PortalLinkInvalid,
    PurchaseOrderNumberExists,
    ResendLimitReached,
    ValidationFailed,
)
from remit.core.forms import form_errors_add
from remit.core.links import public_base_url
from remit.core.logging import log_context_update
from remit.documents.http import (
    document_pdf_response,
    documents_csv_response,
    documents_zip_response,
)
from remit.documents.models import Document, EmailMessage
from remit.documents.selectors import (
    document_current_revision,
    document_list_for_invoice,
    document_years_for_account,
)
from remit.documents.services.archive import document_ready, invoice_document_ready
from remit.documents.services.rendering import document_render_data
from remit.usercenter.forms import BillingProfileForm, ChangeRequestForm, PurchaseOrderNumberForm
from remit.usercenter.templatetags.remit_format import document_title

ORDERS_PER_PAGE = 20
STATUS_FILTERS = ("paid", "unpaid", "void")

View = Callable[..., HttpResponseBase]


def account_required(view: View) -> View:
    """Signed in and member of an account; the account is passed to the view."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        account = account_for_user(request.user)
        if account is None:
            return render(request, "usercenter/no_account.html", status=403)
        log_context_update(account=account.pk)
        return view(request, account, *args, **kwargs)

    return wrapper


def support_context() -> dict[str, str]:
    return {
        "support_email": settings.REMIT_SUPPORT_EMAIL,
        "support_phone": settings.REMIT_SUPPORT_PHONE,
    }


def _filters(request: HttpRequest, years: list[int]) -> dict[str, Any]:
    status = request.GET.get("status", "")
    year_text = request.GET.get("year", "")
    year = int(year_text) if year_text.isdigit() and int(year_text) in years else None
    return {
        "status": status if status in STATUS_FILTERS else "",
        "year": year,
        "q": request.GET.get("q", "").strip()[:64],
    }


def _orders_page(
    request: HttpRequest,
    account: Account,
    *,
    gate_order: Order | None = None,
    gate_form: BillingProfileForm | None = None,
    status: int = 200,
) -> HttpResponse:
    years = order_years_for_account(account=account)
    filters = _filters(request, years)
    orders = order_list_for_account(
        account=account,
        status=filters["status"] or None,
        year=filters["year"],
        search=filters["q"],
    )
    page = Paginator(orders, ORDERS_PER_PAGE).get_page(request.GET.get("page"))
    requests = change_requests_latest(
        invoice_ids=[
            order.invoice.pk for order in page.object_list if getattr(order, "invoice", None)
        ]
    )
    rows = [
        (order, requests.get(order.invoice.pk) if getattr(order, "invoice", None) else None)
        for order in page.object_list
    ]
    ready = None
    ready_id = request.GET.get("ready", "")
    if ready_id.isdigit():
        ready = Document.objects.filter(
            account=account, pk=int(ready_id), status=Document.Status.STORED
        ).first()
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "usercenter/orders.html",
        {
            "account": account,
            "page": page,
            "rows": rows,
            "balance": credit_balance(account=account),
            "filters": filters,
            "years": years,
            "status_filters": STATUS_FILTERS,
            "export_years": document_years_for_account(account=account),
            "query_without_page": query.urlencode(),
            "gate_order": gate_order,
            "gate_form": gate_form,
            "ready_document": ready,
            **support_context(),
        },
        status=status,
    )


@account_required
def orders(request: HttpRequest, account: Account) -> HttpResponse:
    """Orders & Invoices (UC2, UC6)."""
    return _orders_page(request, account)


def _invoice_ready_redirect(invoice: Invoice) -> HttpResponse:
    document = invoice_document_ready(invoice=invoice)
    return redirect(f"{reverse('usercenter:orders')}?ready={document.pk}")


@account_required
@require_http_methods(["GET", "POST"])
def order_invoice(request: HttpRequest, account: Account, order_id: int) -> HttpResponse:
    """The *Invoice* button (UC3): the invoice of an order, behind the billing-information gate
    the first time. GET with a billing profile (or an existing invoice) goes straight to it."""
    order = get_object_or_404(Order, pk=order_id, account=account)
    actor = Actor.for_user(request.user)
    form = BillingProfileForm(request.POST) if request.method == "POST" else None
    try:
        if form is not None:
            if not form.is_valid():
                return _orders_page(request, account, gate_order=order, gate_form=form, status=400)
            invoice = invoice_for_order(order=order, actor=actor, billing_profile=form.to_input())
        else:
            invoice = invoice_for_order(order=order, actor=actor)
    except BillingProfileRequired:
        return _orders_page(request, account, gate_order=order, gate_form=BillingProfileForm())
    except ValidationFailed as error:
        assert form is not None
        form_errors_add(error, form)
        return _orders_page(request, account, gate_order=order, gate_form=form, status=400)
    except OrderInvoicedByPaymentPlatform:
        messages.info(
            request,
            _("This order was invoiced by the payment platform; the invoice was emailed to you."),
        )
        return redirect("usercenter:orders")
    except OrderNotPaid:
        messages.warning(
            request, _("This order has not been paid, so there is no invoice for it yet.")
        )
        return redirect("usercenter:orders")
    return _invoice_ready_redirect(invoice)


@account_required
def document_pdf(request: HttpRequest, account: Account, document_id: int) -> HttpResponseBase:
    """A stored PDF, exactly the archived bytes (UC4)."""
    document = get_object_or_404(Document, pk=document_id, account=account)
    document = document_ready(document=document)
    return document_pdf_response(document, inline=request.GET.get("inline") == "1")


def _print_page(request: HttpRequest, document: Document, invoice_id: int) -> HttpResponse:
    return render(
        request,
        "usercenter/invoice_print.html",
        {"data": document_render_data(document), "document": document, "invoice_id": invoice_id},
    )


@account_required
def invoice_print(request: HttpRequest, account: Account, invoice_id: int) -> HttpResponse:
    """A print-friendly HTML view of the invoice's current revision (Print → Save as PDF)."""
    invoice = get_object_or_404(Invoice, pk=invoice_id, account=account)
    return _print_page(request, invoice_document_ready(invoice=invoice), invoice.pk)


@account_required
def document_print(request: HttpRequest, account: Account, document_id: int) -> HttpResponse:
    """The print view of any document of the account: an earlier revision, a credit note, a
    payment receipt (UC4)."""
    document = get_object_or_404(
        Document.objects.select_related("credit_note"), pk=document_id, account=account
    )
    invoice_id = document.credit_note.invoice_id if document.credit_note else document.invoice_id
    assert invoice_id is not None
    return _print_page(request, document_ready(document=document), invoice_id)


def _invoice_page(
    request: HttpRequest,
    account: Account,
    invoice_id: int,
    *,
    change_form: ChangeRequestForm | None = None,
    status: int = 200,
) -> HttpResponse:
    invoice = invoice_detail_for_account(account=account, invoice_id=invoice_id)
    if invoice is None:
        raise Http404
    change_requests = change_request_list_for_invoice(invoice_id=invoice.pk)
    documents = document_list_for_invoice(invoice=invoice)
    return render(
        request,
        "usercenter/invoice_detail.html",
        {
            "account": account,
            "invoice": invoice,
            "order": invoice.order,
            "credit_note": getattr(invoice, "credit_note", None),
            "replaced_by": getattr(invoice, "replaced_by", None),
            "documents": documents,
            "current_document": document_current_revision(documents=documents, invoice=invoice),
            "change_requests": change_requests,
            "can_request_change": change_request_possible(
                invoice=invoice, requests=change_requests
            ),
            "change_form": change_form or ChangeRequestForm(),
            **support_context(),
        },
        status=status,
    )


@account_required
def invoice_detail(request: HttpRequest, account: Account, invoice_id: int) -> HttpResponse:
    """An invoice's page (UC2, UC4, X2, X4): its actions, and every document the account
    received about it: revisions, the credit note, payment receipts."""
    return _invoice_page(request, account, invoice_id)


@require_http_methods(["GET", "POST"])
def portal_link(request: HttpRequest, token: str) -> HttpResponse:
    """UC1: a one-time sign-in link. GET only shows a button (auto-pressed by the page's script),
    so link previewers and mail scanners that fetch URLs cannot use the link up; POST uses it."""
    if request.method == "GET":
        return render(request, "usercenter/portal_link.html", {"token": token})
    try:
        link = portal_link_consume(token=token)
    except PortalLinkInvalid:
        return render(request, "usercenter/portal_link_invalid.html", support_context(), status=410)
    login(request, link.user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect(link.next_path)


def _profile_initial(account: Account) -> dict[str, Any] | None:
    profile = getattr(account, "billing_profile", None)
    if profile is None:
        return None
    return {
        "legal_name": profile.legal_name,
        "address_line1": profile.address_line1,
        "address_line2": profile.address_line2,
        "city": profile.city,
        "postal_code": profile.postal_code,
        "region": profile.region,
        "country": profile.country,
        "tax_id": profile.tax_id,
        "invoice_recipient_emails": ", ".join(profile.invoice_recipient_emails),
    }


def _settings_page(
    request: HttpRequest,
    account: Account,
    *,
    profile_form: BillingProfileForm | None = None,
    po_form: PurchaseOrderNumberForm | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "usercenter/settings_billing.html",
        {
            "account": account,
            "profile_form": profile_form or BillingProfileForm(initial=_profile_initial(account)),
            "po_form": po_form or PurchaseOrderNumberForm(),
            "po_numbers": po_number_list(account=account),
            **support_context(),
        },
        status=status,
    )


def _error_text(error: ValidationFailed | PurchaseOrderNumberExists) -> str:
    if isinstance(error, ValidationFailed):
        return " ".join(message for messages in error.field_errors.values() for message in messages)
    return error.message


def _revised_message(request: HttpRequest, change: PurchaseOrderNumberChange) -> None:
    if change.revised_invoices:
        numbers = ", ".join(invoice.number for invoice in change.revised_invoices)
        messages.success(
            request,
            _("New revisions with PO number %(po)s were issued and emailed for: %(numbers)s.")
            % {"po": change.po_number.value, "numbers": numbers},
        )
    else:
        messages.success(request, _("PO number %(po)s saved.") % {"po": change.po_number.value})


@account_required
def settings_billing(request: HttpRequest, account: Account) -> HttpResponse:
    """Settings › Billing (UC3, X3): billing details and PO numbers."""
    return _settings_page(request, account)


@account_required
@require_http_methods(["POST"])
def settings_billing_profile(request: HttpRequest, account: Account) -> HttpResponse:
    form = BillingProfileForm(request.POST)
    if not form.is_valid():
        return _settings_page(request, account, profile_form=form, status=400)
    try:
        billing_profile_set(
            account=account, data=form.to_input(), actor=Actor.for_user(request.user)
        )
    except ValidationFailed as error:
        form_errors_add(error, form)
        return _settings_page(request, account, profile_form=form, status=400)
    messages.success(
        request, _("Billing details saved. They apply to invoices issued from now on.")
    )
    return redirect("usercenter:settings_billing")


@account_required
@require_http_methods(["POST"])
def settings_po_number_add(request: HttpRequest, account: Account) -> HttpResponse:
    form = PurchaseOrderNumberForm(request.POST)
    if not form.is_valid():
        return _settings_page(request, account, po_form=form, status=400)
    try:
        change = po_number_add(
            account=account,
            actor=Actor.for_user(request.user),
            value=form.cleaned_data["value"],
            make_default=form.cleaned_data["make_default"],
            apply_to_unpaid=form.cleaned_data["apply_to_unpaid"],
        )
    except (ValidationFailed, PurchaseOrderNumberExists) as error:
        form.add_error("value", _error_text(error))
        return _settings_page(request, account, po_form=form, status=400)
    _revised_message(request, change)
    return redirect("usercenter:settings_billing")


@account_required
@require_http_methods(["POST"])
def settings_po_number_change(request: HttpRequest, account: Account, po_id: int) -> HttpResponse:
    po = get_object_or_404(PurchaseOrderNumber, pk=po_id, account=account)
    actor = Actor.for_user(request.user)
    if request.POST.get("action") == "delete":
        po_number_delete(po_number=po, actor=actor)
        messages.success(request, _("PO number %(po)s removed.") % {"po": po.value})
        return redirect("usercenter:settings_billing")
    form = PurchaseOrderNumberForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter a PO number of at most 64 characters."))
        return redirect("usercenter:settings_billing")
    try:
        change = po_number_update(
            po_number=po,
            actor=actor,
            value=form.cleaned_data["value"],
            make_default=form.cleaned_data["make_default"],
            apply_to_unpaid=form.cleaned_data["apply_to_unpaid"],
        )
    except (ValidationFailed, PurchaseOrderNumberExists) as error:
        messages.error(request, _error_text(error))
        return redirect("usercenter:settings_billing")
    _revised_message(request, change)
    return redirect("usercenter:settings_billing")


@account_required
@require_http_methods(["POST"])
def invoice_change_request(request: HttpRequest, account: Account, invoice_id: int) -> HttpResponse:
    """Request a change (X4): lands in the back-office queue; its status shows on the row."""
    invoice = get_object_or_404(Invoice, pk=invoice_id, account=account)
    form = ChangeRequestForm(request.POST)
    if not form.is_valid():
        return _invoice_page(request, account, invoice.pk, change_form=form, status=400)
    try:
        change_request_create(
            invoice=invoice,
            actor=Actor.for_user(request.user),
            kind=form.cleaned_data["kind"],
            reason=form.cleaned_data["reason"],
        )
    except ValidationFailed as error:
        form_errors_add(error, form)
        return _invoice_page(request, account, invoice.pk, change_form=form, status=400)
    except (ChangeRequestOpen, ChangeRequestNotAllowed):
        messages.warning(
            request,
            _("Invoice %(number)s already has a request waiting for support, or is void.")
            % {"number": invoice.number},
        )
        return redirect("usercenter:invoice_detail", invoice.pk)
    messages.success(
        request,
        _("Your request for invoice %(number)s was sent to our support team.")
        % {"number": invoice.number},
    )
    return redirect("usercenter:invoice_detail", invoice.pk)


def _email_sent_message(request: HttpRequest, email: EmailMessage, number: str) -> None:
    if email.recipients:
        messages.success(
            request,
            _("%(number)s is being emailed to %(recipients)s.")
            % {"number": number, "recipients": ", ".join(email.recipients)},
        )
    else:
        messages.error(
            request,
            _("There is no address to email %(number)s to. Add one in Settings › Billing.")
            % {"number": number},
        )


def _resend_refused_message(request: HttpRequest, number: str) -> None:
    messages.warning(
        request,
        _("%(number)s was emailed several times in the last hour. Try again later.")
        % {"number": number},
    )


@account_required
@require_http_methods(["POST"])
def invoice_resend(request: HttpRequest, account: Account, invoice_id: int) -> HttpResponse:
    """Send the invoice's email again (UC5)."""
    invoice = get_object_or_404(Invoice, pk=invoice_id, account=account)
    number = _("Invoice %(number)s") % {"number": invoice.number}
    try:
        email = invoice_email_resend(invoice=invoice, actor=Actor.for_user(request.user))
    except ResendLimitReached:
        _resend_refused_message(request, number)
    else:
        _email_sent_message(request, email, number)
    return redirect("usercenter:invoice_detail", invoice.pk)


@account_required
@require_http_methods(["POST"])
def document_resend(request: HttpRequest, account: Account, document_id: int) -> HttpResponse:
    """Send a document's email again (UC5): an earlier revision, a credit note, a receipt."""
    document = get_object_or_404(
        Document.objects.select_related("credit_note"), pk=document_id, account=account
    )
    invoice_id = document.credit_note.invoice_id if document.credit_note else document.invoice_id
    number = document_title(document)
    try:
        email = document_email_resend(document=document, actor=Actor.for_user(request.user))
    except ResendLimitReached:
        _resend_refused_message(request, number)
    else:
        _email_sent_message(request, email, number)
    return redirect("usercenter:invoice_detail", invoice_id)


EXPORT_MAX_DAYS = 366 * 3


def _export_period(request: HttpRequest) -> tuple[date, date] | None:
    year = request.GET.get("year", "")
    if year.isdigit() and 2000 <= int(year) <= 2100:
        return date(int(year), 1, 1), date(int(year), 12, 31)
    try:
        start = date.fromisoformat(request.GET.get("start", ""))
        end = date.fromisoformat(request.GET.get("end", ""))
    except ValueError:
        return None
    if end < start or (end - start).days > EXPORT_MAX_DAYS:
        return None
    return start, end


@account_required
def documents_export(request: HttpRequest, account: Account, fmt: str) -> HttpResponseBase:
    """All documents of a year or date range as one ZIP, or the CSV for accounting (UC7)."""
    period = _export_period(request)
    if period is None:
        messages.error(
            request,
            _("Choose a year, or a start and end date at most three years apart."),
        )
        return redirect("usercenter:orders")
    start, end = period
    if fmt == "zip":
        return documents_zip_response(account=account, start=start, end=end)
    return documents_csv_response(account=account, start=start, end=end)


class PasswordResetView(auth_views.PasswordResetView):
    """Django's password reset, with the link built from REMIT_PUBLIC_URL (when set) instead of
    the request's Host header."""

    def form_valid(self, form: Any) -> HttpResponse:
        self.extra_email_context = {"base_url": public_base_url(self.request)}
        return super().form_valid(form)
