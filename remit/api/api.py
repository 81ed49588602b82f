"""The REST API (I1), version 1, at /api/v1/ with its OpenAPI schema at /api/v1/openapi.json and
docs at /api/v1/docs. Operations resolve objects, call one service or selector and serialize;
every error has the shape {"code", "message", "details"}."""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import NinjaAPI, Query, Router, Schema, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from remit.api.auth import READ, STAFF, WRITE, RateLimited, ScopeMissing
from remit.api.pagination import page
from remit.api.schemas import (
    AccountIn,
    AccountOut,
    AccountPatch,
    BillingProfileIn,
    BillingProfileOut,
    CreditNoteOut,
    CreditsOut,
    Error,
    InvoiceOut,
    LedgerEntryOut,
    MemberIn,
    MemberOut,
    Money,
    OptionsIn,
    OrderIn,
    OrderOut,
    Out,
    PaymentIn,
    PaymentOut,
    PlatformOrderIn,
    PoNumberIn,
    PoNumberOut,
    PortalLinkIn,
    PortalLinkOut,
    RevisionOut,
    WebhookDeliveryOut,
    WebhookEndpointCreated,
    WebhookEndpointIn,
    WebhookEndpointOut,
)
from remit.billing.actors import Actor
from remit.billing.models import (
    Account,
    BillingProfile,
    CreditNote,
    Invoice,
    Membership,
    Order,
    Payment,
    PlanSize,
    PurchaseOrderNumber,
)
from remit.billing.selectors.accounts import user_get_by_email
from remit.billing.selectors.catalogue import plan_size_get
from remit.billing.selectors.credits import credit_balance, credit_entries
from remit.billing.selectors.invoices import invoice_list as invoice_list_select
from remit.billing.selectors.po_numbers import po_number_list as po_number_list_for
from remit.billing.services.accounts import (
    account_activate,
    account_create,
    account_option_set,
    account_update,
)
from remit.billing.services.billing_profiles import billing_profile_set
from remit.billing.services.invitations import account_member_invite
from remit.billing.services.invoices import invoice_for_order
from remit.billing.services.orders import order_place, order_record_from_platform
from remit.billing.services.payments import invoice_payment_record
from remit.billing.services.po_numbers import po_number_add
from remit.billing.services.portal_links import portal_link_create
from remit.billing.services.validation import BillingProfileInput
from remit.core.errors import DomainError, ValidationFailed
from remit.core.links import public_base_url, public_url
from remit.documents.http import document_pdf_response
from remit.documents.models import Document
from remit.documents.services.archive import invoice_document_ready
from remit.integrations.models import WebhookDelivery, WebhookEndpoint
from remit.integrations.services.webhooks import webhook_endpoint_create, webhook_redeliver

# A rule refused the request because of the input (422) or because of the current state (409).
UNPROCESSABLE = {
    "validation_error",
    "credit_invoice_below_minimum",
    "term_not_invoiceable",
    "payment_amount_mismatch",
    "price_not_available",
}
STATUS_BY_CODE = {"not_found": 404, **dict.fromkeys(UNPROCESSABLE, 422)}

api = NinjaAPI(
    title="Remit API",
    version="1",
    description=(
        "Drive Remit from your backend: accounts, billing profiles, orders, invoices, payments, "
        "credits, PO numbers and portal links. Authenticate with `Authorization: Bearer <key>`; "
        "every POST accepts an `Idempotency-Key`."
    ),
    urls_namespace="api",
    docs_url="/docs",
)


def error_response(
    request: HttpRequest,
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
) -> HttpResponse:
    return api.create_response(
        request, {"code": code, "message": message, "details": details or {}}, status=status
    )


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, error: DomainError) -> HttpResponse:
    return error_response(
        request, STATUS_BY_CODE.get(error.code, 409), error.code, error.message, error.details
    )


@api.exception_handler(NinjaValidationError)
def _invalid(request: HttpRequest, error: NinjaValidationError) -> HttpResponse:
    fields: dict[str, list[str]] = {}
    for item in error.errors:
        location = [str(part) for part in item.get("loc", ()) if part not in ("body", "payload")]
        fields.setdefault(".".join(location) or "body", []).append(str(item.get("msg", "")))
    return error_response(request, 422, "validation_error", "Invalid input.", {"fields": fields})


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
    response = error_response(
        request, 401, "unauthenticated", "Send a valid API key: Authorization: Bearer <key>."
    )
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(ScopeMissing)
def _forbidden(request: HttpRequest, error: ScopeMissing) -> HttpResponse:
    return error_response(
        request,
        403,
        "forbidden",
        f"This API key lacks the {error.scope!r} scope.",
        {"scope": error.scope},
    )


@api.exception_handler(RateLimited)
def _rate_limited(request: HttpRequest, error: RateLimited) -> HttpResponse:
    response = error_response(
        request, 429, "rate_limited", "Too many requests for this API key; slow down."
    )
    response["Retry-After"] = str(error.retry_after)
    return response


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, error: Http404) -> HttpResponse:
    return error_response(request, 404, "not_found", "Not found.")


def operation_not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """An address under /api/ that is no operation (a typo, an empty id) answers in the API's
    error shape, not with the site's HTML 404 page."""
    return error_response(
        request,
        404,
        "not_found",
        "No API operation at this address; the operations are listed at /api/v1/docs.",
    )


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
    code = {400: "bad_request", 405: "method_not_allowed"}.get(error.status_code, "http_error")
    return error_response(request, error.status_code, code, str(error))


def actor(request: HttpRequest) -> Actor:
    return Actor.api_key(request.api_key.name)  # type: ignore[attr-defined]


ERRORS: dict[int, type[Out]] = {
    400: Error,
    401: Error,
    403: Error,
    404: Error,
    409: Error,
    413: Error,
    422: Error,
    429: Error,
}


class Page(Out):
    next_cursor: str | None


class AccountPage(Page):
    items: list[AccountOut]


class OrderPage(Page):
    items: list[OrderOut]


class InvoicePage(Page):
    items: list[InvoiceOut]


class CreditNotePage(Page):
    items: list[CreditNoteOut]


class PageQuery(Schema):
    cursor: str | None = None
    limit: int = 50


# --- serializers ------------------------------------------------------------------------------


def account_out(account: Account) -> AccountOut:
    return AccountOut.model_validate(account, from_attributes=True)


def order_out(order: Order) -> OrderOut:
    """Lists select the invoice with the orders (``select_related("invoice")``)."""
    invoice = getattr(order, "invoice", None)
    return OrderOut(
        id=order.pk,
        account_id=order.account_id,
        kind=order.kind,
        source=order.source,
        payment_method=order.payment_method,
        status=order.status,
        free_trial=order.is_free_trial,
        description=order.description,
        credits=order.credits,
        term_months=order.term_months,
        period_start=order.period_start,
        period_end=order.period_end,
        net=Money.of(order.net_minor, order.currency),
        tax=Money.of(order.tax_minor, order.currency),
        total=Money.of(order.total_minor, order.currency),
        po_number=order.po_number,
        notes=order.notes,
        invoice_id=invoice.pk if invoice else None,
        created_at=order.created_at,
    )


@cache
def _pdf_url_template(name: str) -> str:
    return reverse(name, args=[_PDF_URL_PLACEHOLDER]).replace(str(_PDF_URL_PLACEHOLDER), "{}")


_PDF_URL_PLACEHOLDER = 918273645


def _pdf_url(name: str, pk: int) -> str:
    """``reverse(name, args=[pk])`` for a page of rows: the URL is resolved once per name."""
    return _pdf_url_template(name).format(pk)


def invoice_out(invoice: Invoice) -> InvoiceOut:
    return InvoiceOut(
        id=invoice.pk,
        account_id=invoice.account_id,
        order_id=invoice.order_id,
        number=invoice.number,
        status=invoice.status,
        revision=invoice.revision,
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        subtotal=Money.of(invoice.subtotal_minor, invoice.currency),
        tax=Money.of(invoice.tax_minor, invoice.currency),
        total=Money.of(invoice.total_minor, invoice.currency),
        po_number=invoice.po_number,
        notes=invoice.notes,
        paid_at=invoice.paid_at,
        voided_at=invoice.voided_at,
        replaces_id=invoice.replaces_id,
        pdf_url=_pdf_url("api:invoice_pdf", invoice.pk),
        created_at=invoice.created_at,
    )


def credit_note_out(credit_note: CreditNote) -> CreditNoteOut:
    """Lists select the document with the credit notes (``select_related("document")``)."""
    document = getattr(credit_note, "document", None)
    if document is not None and document.status != Document.Status.STORED:
        document = None
    return CreditNoteOut(
        id=credit_note.pk,
        account_id=credit_note.account_id,
        invoice_id=credit_note.invoice_id,
        number=credit_note.number,
        issue_date=credit_note.issue_date,
        total=Money.of(credit_note.total_minor, credit_note.currency),
        reason_code=credit_note.reason_code,
        reason=credit_note.reason,
        pdf_url=reverse("api:credit_note_pdf", args=[credit_note.pk]) if document else None,
    )


def payment_out(payment: Payment) -> PaymentOut:
    return PaymentOut(
        id=payment.pk,
        account_id=payment.account_id,
        order_id=payment.order_id,
        invoice_id=payment.invoice_id,
        method=payment.method,
        provider=payment.provider,
        provider_reference=payment.provider_reference,
        amount=Money.of(payment.amount_minor, payment.currency),
        received_at=payment.received_at,
    )


def _plan_size(plan_size_id: int | None) -> PlanSize | None:
    if plan_size_id is None:
        return None
    size = plan_size_get(plan_size_id=plan_size_id)
    if size is None:
        raise ValidationFailed({"plan_size_id": ["No such plan size."]})
    return size


# --- accounts -----------------------------------------------------------------------------------

accounts = Router(tags=["accounts"])


@accounts.get("", response={200: AccountPage, **ERRORS}, auth=READ, summary="List accounts")
def account_list(
    request: HttpRequest,
    paging: Query[PageQuery],
    external_id: str | None = None,
    status: str | None = None,
) -> dict[str, Any]:
    rows = Account.objects.all()
    if external_id:
        rows = rows.filter(external_id=external_id)
    if status:
        rows = rows.filter(status=status)
    return page(rows, cursor=paging.cursor, limit=paging.limit, serialize=account_out)


@accounts.post("", response={201: AccountOut, **ERRORS}, auth=WRITE, summary="Create an account")
def account_create_op(request: HttpRequest, payload: AccountIn) -> Status[AccountOut]:
    account = account_create(actor=actor(request), **payload.model_dump())
    return Status(201, account_out(account))


@accounts.get(
    "/{account_id}", response={200: AccountOut, **ERRORS}, auth=READ, summary="Get an account"
)
def account_get(request: HttpRequest, account_id: int) -> AccountOut:
    return account_out(get_object_or_404(Account, pk=account_id))


@accounts.patch(
    "/{account_id}", response={200: AccountOut, **ERRORS}, auth=WRITE, summary="Update an account"
)
def account_patch(request: HttpRequest, account_id: int, payload: AccountPatch) -> AccountOut:
    """Change name, status (trial / active), document language, external id or time zone; only
    the fields sent are changed."""
    account = get_object_or_404(Account, pk=account_id)
    fields = payload.model_dump(exclude_unset=True)
    return account_out(account_update(account=account, actor=actor(request), **fields))


@accounts.post(
    "/{account_id}/activate",
    response={200: AccountOut, **ERRORS},
    auth=WRITE,
    summary="Activate a trial account",
)
def account_activate_op(request: HttpRequest, account_id: int) -> AccountOut:
    account = get_object_or_404(Account, pk=account_id)
    return account_out(account_activate(account=account, actor=actor(request), reason="API"))


@accounts.put(
    "/{account_id}/options",
    response={200: AccountOut, **ERRORS},
    auth=STAFF,
    summary="Set support options (staff)",
)
def account_options(request: HttpRequest, account_id: int, payload: OptionsIn) -> AccountOut:
    """Support's switches: invoicing during trial (P3) and the unpaid-invoice limit (P4)."""
    account = get_object_or_404(Account, pk=account_id)
    changes: dict[str, Any] = {}
    if payload.invoicing_during_trial_enabled is not None:
        changes["invoicing_during_trial_enabled"] = payload.invoicing_during_trial_enabled
        changes["invoicing_during_trial_expires_at"] = payload.invoicing_during_trial_expires_at
    if payload.clear_unpaid_invoice_limit:
        changes["unpaid_invoice_limit"] = None
    elif payload.unpaid_invoice_limit is not None:
        changes["unpaid_invoice_limit"] = payload.unpaid_invoice_limit
    account = account_option_set(
        account=account,
        actor=actor(request),
        reason=payload.reason,
        **changes,
    )
    return account_out(account)


@accounts.post(
    "/{account_id}/members", response={201: MemberOut, **ERRORS}, auth=WRITE, summary="Add a member"
)
def member_add(request: HttpRequest, account_id: int, payload: MemberIn) -> Status[MemberOut]:
    """Add a member (a User Center login) by email and email them an invitation: a new user is
    created without a password and gets a link to choose one (someone who already has a
    password gets a sign-in link). Adding an existing member again is refused (422)."""
    account = get_object_or_404(Account, pk=account_id)
    membership = account_member_invite(
        account=account,
        email=payload.email,
        role=payload.role,
        actor=actor(request),
        site_url=public_base_url(request),
    )
    return Status(
        201, MemberOut(id=membership.pk, email=membership.user.email, role=membership.role)
    )


@accounts.get(
    "/{account_id}/members",
    response={200: list[MemberOut], **ERRORS},
    auth=READ,
    summary="List members",
)
def member_list(request: HttpRequest, account_id: int) -> list[MemberOut]:
    account = get_object_or_404(Account, pk=account_id)
    memberships = Membership.objects.filter(account=account).select_related("user")
    return [
        MemberOut(id=m.pk, email=m.user.email or m.user.get_username(), role=m.role)
        for m in memberships.order_by("pk")
    ]


@accounts.get(
    "/{account_id}/billing-profile",
    response={200: BillingProfileOut, **ERRORS},
    auth=READ,
    summary="Get the billing profile",
)
def billing_profile_get(request: HttpRequest, account_id: int) -> BillingProfile:
    return get_object_or_404(BillingProfile, account_id=account_id)


@accounts.put(
    "/{account_id}/billing-profile",
    response={200: BillingProfileOut, **ERRORS},
    auth=WRITE,
    summary="Set the billing profile",
)
def billing_profile_put(
    request: HttpRequest, account_id: int, payload: BillingProfileIn
) -> BillingProfile:
    account = get_object_or_404(Account, pk=account_id)
    data = payload.model_dump()
    data["invoice_recipient_emails"] = tuple(data["invoice_recipient_emails"])
    return billing_profile_set(
        account=account, data=BillingProfileInput(**data), actor=actor(request)
    )


@accounts.get(
    "/{account_id}/orders",
    response={200: OrderPage, **ERRORS},
    auth=READ,
    summary="List the account's orders",
)
def order_list(request: HttpRequest, account_id: int, paging: Query[PageQuery]) -> dict[str, Any]:
    account = get_object_or_404(Account, pk=account_id)
    return page(
        Order.objects.filter(account=account).select_related("invoice"),
        cursor=paging.cursor,
        limit=paging.limit,
        serialize=order_out,
    )


@accounts.post(
    "/{account_id}/orders", response={201: OrderOut, **ERRORS}, auth=WRITE, summary="Place an order"
)
def order_create(request: HttpRequest, account_id: int, payload: OrderIn) -> Status[OrderOut]:
    """Buy credits or a plan for the account: ``payment_method=invoice`` issues the invoice at
    once (P2–P4 apply); ``card`` waits for the payment platform."""
    account = get_object_or_404(Account, pk=account_id)
    order = order_place(
        account=account,
        actor=actor(request),
        kind=payload.kind,
        payment_method=payload.payment_method,
        source=Order.Source.API,
        credits=payload.credits,
        plan_size=_plan_size(payload.plan_size_id),
        term_months=payload.term_months,
        po_number=payload.po_number,
        notes=payload.notes,
    )
    return Status(201, order_out(order))


@accounts.post(
    "/{account_id}/platform-orders",
    response={201: OrderOut, **ERRORS},
    auth=WRITE,
    summary="Record a payment-platform order",
)
def platform_order_record(
    request: HttpRequest, account_id: int, payload: PlatformOrderIn
) -> Status[OrderOut]:
    """Record an order the payment platform charged (``source=payment_platform``); with
    ``free_trial`` it was also invoiced by the platform and never gets a Remit invoice (UC6).
    Idempotent on ``external_reference``."""
    account = get_object_or_404(Account, pk=account_id)
    order = order_record_from_platform(
        account=account,
        actor=actor(request),
        external_reference=payload.external_reference,
        kind=payload.kind,
        is_free_trial=payload.free_trial,
        provider=payload.provider,
        provider_reference=payload.provider_reference,
        amount_minor=payload.amount_minor,
        currency=payload.currency.upper(),
        received_at=payload.received_at,
        credits=payload.credits,
        plan_size=_plan_size(payload.plan_size_id),
        term_months=payload.term_months,
    )
    return Status(201, order_out(order))


@accounts.get(
    "/{account_id}/credits",
    response={200: CreditsOut, **ERRORS},
    auth=READ,
    summary="Credit balance and ledger",
)
def credits_get(request: HttpRequest, account_id: int) -> CreditsOut:
    account = get_object_or_404(Account, pk=account_id)
    balance = credit_balance(account=account)
    entries = credit_entries(account=account).order_by("-created_at", "-id")
    return CreditsOut(
        balance=balance.balance,
        pending=balance.pending,
        entries=[
            LedgerEntryOut.model_validate(entry, from_attributes=True) for entry in entries[:200]
        ],
    )


@accounts.get(
    "/{account_id}/po-numbers",
    response={200: list[PoNumberOut], **ERRORS},
    auth=READ,
    summary="List PO numbers (the default first)",
)
def po_number_list(request: HttpRequest, account_id: int) -> list[PurchaseOrderNumber]:
    return list(po_number_list_for(account=get_object_or_404(Account, pk=account_id)))


@accounts.post(
    "/{account_id}/po-numbers",
    response={201: PoNumberOut, **ERRORS},
    auth=WRITE,
    summary="Add a PO number",
)
def po_number_create(
    request: HttpRequest, account_id: int, payload: PoNumberIn
) -> Status[PoNumberOut]:
    account = get_object_or_404(Account, pk=account_id)
    change = po_number_add(
        account=account,
        actor=actor(request),
        value=payload.value,
        make_default=payload.make_default,
        apply_to_unpaid=payload.apply_to_unpaid,
    )
    return Status(
        201,
        PoNumberOut(
            id=change.po_number.pk,
            value=change.po_number.value,
            is_default=change.po_number.is_default,
            revised_invoice_ids=[invoice.pk for invoice in change.revised_invoices],
        ),
    )


@accounts.post(
    "/{account_id}/portal-links",
    response={201: PortalLinkOut, **ERRORS},
    auth=WRITE,
    summary="Create a one-time portal link",
)
def portal_link_create_op(
    request: HttpRequest, account_id: int, payload: PortalLinkIn
) -> Status[PortalLinkOut]:
    """A one-time URL that signs the member into the User Center (UC1)."""
    account = get_object_or_404(Account, pk=account_id)
    user = user_get_by_email(email=payload.email)
    if user is None:
        raise ValidationFailed({"email": ["The user is not a member of this account."]})
    created = portal_link_create(
        account=account,
        user=user,
        actor=actor(request),
        lifetime=timedelta(seconds=payload.lifetime_seconds),
        next_path=payload.next_path,
    )
    url = public_url(request, reverse("usercenter:portal_link", args=[created.token]))
    return Status(201, PortalLinkOut(url=url, expires_at=created.link.expires_at))


# --- orders, invoices, credit notes, payments ----------------------------------------------------

documents = Router(tags=["invoices"])


@documents.get(
    "/orders/{order_id}", response={200: OrderOut, **ERRORS}, auth=READ, summary="Get an order"
)
def order_get(request: HttpRequest, order_id: int) -> OrderOut:
    return order_out(get_object_or_404(Order, pk=order_id))


@documents.post(
    "/orders/{order_id}/invoice",
    response={200: InvoiceOut, **ERRORS},
    auth=WRITE,
    summary="Get or issue the order's invoice",
)
def order_invoice(request: HttpRequest, order_id: int) -> InvoiceOut:
    """The order's invoice, issuing it first for a paid card order (needs a billing profile)."""
    order = get_object_or_404(Order, pk=order_id)
    return invoice_out(invoice_for_order(order=order, actor=actor(request)))


@documents.get(
    "/invoices", response={200: InvoicePage, **ERRORS}, auth=READ, summary="List invoices"
)
def invoice_list(
    request: HttpRequest,
    paging: Query[PageQuery],
    account_id: int | None = None,
    status: str | None = None,
    number: str | None = None,
) -> dict[str, Any]:
    rows = invoice_list_select(account_id=account_id, status=status, number=number)
    return page(rows, cursor=paging.cursor, limit=paging.limit, serialize=invoice_out)


@documents.get(
    "/invoices/{invoice_id}",
    response={200: InvoiceOut, **ERRORS},
    auth=READ,
    summary="Get an invoice",
)
def invoice_get(request: HttpRequest, invoice_id: int) -> InvoiceOut:
    return invoice_out(get_object_or_404(Invoice, pk=invoice_id))


@documents.get(
    "/invoices/{invoice_id}/revisions",
    response={200: list[RevisionOut], **ERRORS},
    auth=READ,
    summary="List an invoice's revisions",
)
def invoice_revisions(request: HttpRequest, invoice_id: int) -> list[RevisionOut]:
    invoice = get_object_or_404(Invoice, pk=invoice_id)
    stored = {
        document.invoice_revision
        for document in Document.objects.filter(
            invoice=invoice, kind=Document.Kind.INVOICE, status=Document.Status.STORED
        )
    }
    base = reverse("api:invoice_pdf", args=[invoice.pk])
    return [
        RevisionOut(
            revision=revision.revision,
            po_number=revision.po_number,
            notes=revision.notes,
            reason=revision.reason,
            created_at=revision.created_at,
            pdf_url=f"{base}?revision={revision.revision}" if revision.revision in stored else None,
        )
        for revision in invoice.revisions.order_by("revision")
    ]


@documents.get(
    "/invoices/{invoice_id}/pdf",
    response={200: None, **ERRORS},
    auth=READ,
    url_name="invoice_pdf",
    openapi_extra={
        "responses": {200: {"description": "The stored PDF", "content": {"application/pdf": {}}}}
    },
    summary="Download an invoice PDF",
)
def invoice_pdf(
    request: HttpRequest, invoice_id: int, revision: int | None = None
) -> HttpResponseBase:
    """The archived bytes of the current revision (or of ``revision``), never a re-render."""
    invoice = get_object_or_404(Invoice, pk=invoice_id)
    if revision is None:
        document = invoice_document_ready(invoice=invoice)
    else:
        document = get_object_or_404(
            Document,
            invoice=invoice,
            kind=Document.Kind.INVOICE,
            invoice_revision=revision,
            status=Document.Status.STORED,
        )
    return document_pdf_response(document)


@documents.post(
    "/invoices/{invoice_id}/payments",
    response={201: PaymentOut, **ERRORS},
    auth=WRITE,
    summary="Record a payment",
)
def invoice_payment(
    request: HttpRequest, invoice_id: int, payload: PaymentIn
) -> Status[PaymentOut]:
    """Record money received for the invoice (its full total; partial and over-payments are
    refused with ``payment_amount_mismatch``). The same provider reference twice records once."""
    invoice = get_object_or_404(Invoice, pk=invoice_id)
    payment = invoice_payment_record(
        invoice=invoice,
        actor=actor(request),
        method=payload.method,
        provider=payload.provider,
        provider_reference=payload.provider_reference,
        amount_minor=payload.amount_minor,
        currency=payload.currency.upper(),
        received_at=payload.received_at,
    )
    return Status(201, payment_out(payment))


@documents.get(
    "/credit-notes",
    response={200: CreditNotePage, **ERRORS},
    auth=READ,
    summary="List credit notes",
)
def credit_note_list(
    request: HttpRequest, paging: Query[PageQuery], account_id: int | None = None
) -> dict[str, Any]:
    rows = CreditNote.objects.select_related("document")
    if account_id is not None:
        rows = rows.filter(account_id=account_id)
    return page(rows, cursor=paging.cursor, limit=paging.limit, serialize=credit_note_out)


@documents.get(
    "/credit-notes/{credit_note_id}",
    response={200: CreditNoteOut, **ERRORS},
    auth=READ,
    summary="Get a credit note",
)
def credit_note_get(request: HttpRequest, credit_note_id: int) -> CreditNoteOut:
    return credit_note_out(get_object_or_404(CreditNote, pk=credit_note_id))


@documents.get(
    "/credit-notes/{credit_note_id}/pdf",
    response={200: None, **ERRORS},
    auth=READ,
    url_name="credit_note_pdf",
    openapi_extra={
        "responses": {200: {"description": "The stored PDF", "content": {"application/pdf": {}}}}
    },
    summary="Download a credit note PDF",
)
def credit_note_pdf(request: HttpRequest, credit_note_id: int) -> HttpResponseBase:
    document = get_object_or_404(
        Document, credit_note_id=credit_note_id, status=Document.Status.STORED
    )
    return document_pdf_response(document)


@documents.get(
    "/payments/{payment_id}",
    response={200: PaymentOut, **ERRORS},
    auth=READ,
    summary="Get a payment",
)
def payment_get(request: HttpRequest, payment_id: int) -> PaymentOut:
    return payment_out(get_object_or_404(Payment, pk=payment_id))


# --- webhooks (I3) -------------------------------------------------------------------------------

webhooks = Router(tags=["webhooks"])


def delivery_out(delivery: WebhookDelivery) -> WebhookDeliveryOut:
    return WebhookDeliveryOut(
        id=delivery.pk,
        event_id=delivery.event.event_id,
        event_type=delivery.event.type,
        status=delivery.status,
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at,
        last_attempt_at=delivery.last_attempt_at,
        last_status_code=delivery.last_status_code,
        last_error=delivery.last_error,
        delivered_at=delivery.delivered_at,
    )


class DeliveryPage(Page):
    items: list[WebhookDeliveryOut]


@webhooks.get(
    "/webhook-endpoints",
    response={200: list[WebhookEndpointOut], **ERRORS},
    auth=READ,
    summary="List webhook endpoints",
)
def webhook_endpoint_list(request: HttpRequest) -> list[WebhookEndpoint]:
    return list(WebhookEndpoint.objects.all())


@webhooks.post(
    "/webhook-endpoints",
    response={201: WebhookEndpointCreated, **ERRORS},
    auth=WRITE,
    summary="Register a webhook endpoint",
)
def webhook_endpoint_create_op(
    request: HttpRequest, payload: WebhookEndpointIn
) -> Status[WebhookEndpointCreated]:
    created = webhook_endpoint_create(
        url=payload.url, event_types=payload.event_types, description=payload.description
    )
    endpoint = created.endpoint
    return Status(
        201,
        WebhookEndpointCreated(
            id=endpoint.pk,
            url=endpoint.url,
            event_types=endpoint.event_types,
            description=endpoint.description,
            is_active=endpoint.is_active,
            created_at=endpoint.created_at,
            secret=created.secret,
        ),
    )


@webhooks.get(
    "/webhook-endpoints/{endpoint_id}/deliveries",
    response={200: DeliveryPage, **ERRORS},
    auth=READ,
    summary="The delivery log of an endpoint",
)
def webhook_delivery_list(
    request: HttpRequest, endpoint_id: int, paging: Query[PageQuery], status: str | None = None
) -> dict[str, Any]:
    endpoint = get_object_or_404(WebhookEndpoint, pk=endpoint_id)
    rows = WebhookDelivery.objects.filter(endpoint=endpoint).select_related("event")
    if status:
        rows = rows.filter(status=status)
    return page(rows, cursor=paging.cursor, limit=paging.limit, serialize=delivery_out)


@webhooks.post(
    "/webhook-deliveries/{delivery_id}/redeliver",
    response={200: WebhookDeliveryOut, **ERRORS},
    auth=WRITE,
    summary="Send a delivery again",
)
def webhook_redeliver_op(request: HttpRequest, delivery_id: int) -> WebhookDeliveryOut:
    delivery = get_object_or_404(WebhookDelivery.objects.select_related("event"), pk=delivery_id)
    return delivery_out(webhook_redeliver(delivery=delivery))


api.add_router("/accounts", accounts)
api.add_router("", documents)
api.add_router("", webhooks)
