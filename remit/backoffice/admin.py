"""The back office on the Django admin (issue 5). Staff find everything about an account from its
page; every change is a support action that calls a billing service (which checks the rules and
writes the audit trail). Issued documents, payments and the audit trail are read-only here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join

from remit.backoffice.actions import SupportAction, SupportActionsMixin
from remit.backoffice.forms import (
    AnswerForm,
    ApiKeyForm,
    ConfirmForm,
    LimitForm,
    PaymentForm,
    ReissueForm,
    TrialInvoicingForm,
    VoidForm,
)
from remit.billing.actors import Actor
from remit.billing.models import (
    Account,
    AuditEvent,
    BillingProfile,
    ChangeRequest,
    CreditNote,
    Invoice,
    Membership,
    Order,
    Payment,
    PurchaseOrderNumber,
)
from remit.billing.selectors.credits import credit_balance
from remit.billing.services.accounts import account_option_set
from remit.billing.services.change_requests import change_request_assign, change_request_close
from remit.billing.services.invoice_emails import invoice_email_resend
from remit.billing.services.invoices import invoice_reissue, invoice_void
from remit.billing.services.invoicing_rules import unpaid_invoice_limit
from remit.billing.services.payments import invoice_payment_record
from remit.core.errors import ChangeRequestNotAllowed, ValidationFailed
from remit.core.forms import form_errors_add
from remit.core.money import minor_to_decimal_string
from remit.core.signin import ThrottledSignInMixin
from remit.documents.http import document_pdf_response
from remit.documents.models import Document, EmailMessage
from remit.documents.services.archive import archive_verify
from remit.documents.services.emails import email_resend
from remit.integrations.models import ApiKey, StripeEvent, WebhookDelivery, WebhookEndpoint
from remit.integrations.services.api_keys import api_key_create, api_key_revoke
from remit.integrations.services.webhooks import webhook_redeliver


def money(amount_minor: int, currency: str) -> str:
    return f"{minor_to_decimal_string(amount_minor, currency)} {currency}"


class ReadOnlyMixin:
    """Viewable with the view permission; nobody adds, edits or deletes here."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    pass


class ReadOnlyInline(ReadOnlyMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False
    # Related rows a column shows, read with the rows (no query per row).
    list_select_related: tuple[str, ...] = ()

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related(*self.list_select_related)


def _admin_link(obj: Any, text: str) -> str:
    meta = obj._meta
    return format_html(
        '<a href="{}">{}</a>',
        reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk]),
        text,
    )


class MoneyColumns:
    @admin.display(description="Number")
    def number_link(self, obj: Any) -> str:
        return _admin_link(obj, obj.number)

    @admin.display(description="Total")
    def total(self, obj: Any) -> str:
        return money(obj.total_minor, obj.currency)

    @admin.display(description="Amount")
    def amount(self, obj: Any) -> str:
        return money(obj.amount_minor, obj.currency)


# --- account page ---------------------------------------------------------------------------

# The account page shows this many of the latest audit events; the rest are one link away.
LATEST_AUDIT_EVENTS = 20


class MembershipInline(ReadOnlyInline):
    model = Membership
    fields = ("user", "role", "created_at")
    readonly_fields = fields
    list_select_related = ("user",)


class BillingProfileInline(ReadOnlyInline):
    model = BillingProfile
    fields = ("legal_name", "address_line1", "city", "postal_code", "country", "tax_id")
    readonly_fields = fields


class PurchaseOrderNumberInline(ReadOnlyInline):
    model = PurchaseOrderNumber
    fields = ("value", "is_default")
    readonly_fields = fields


class OrderInline(MoneyColumns, ReadOnlyInline):
    model = Order
    fields = ("created_at", "description", "payment_method", "status", "total", "po_number")
    readonly_fields = fields


class InvoiceInline(MoneyColumns, ReadOnlyInline):
    model = Invoice
    fk_name = "account"
    fields = ("number_link", "issue_date", "due_date", "status", "total", "po_number")
    readonly_fields = fields


class CreditNoteInline(MoneyColumns, ReadOnlyInline):
    model = CreditNote
    fields = ("number_link", "issue_date", "invoice", "total", "reason_code")
    readonly_fields = fields
    list_select_related = ("invoice",)


class PaymentInline(MoneyColumns, ReadOnlyInline):
    model = Payment
    fields = ("received_at", "method", "provider", "provider_reference", "amount", "invoice")
    readonly_fields = fields
    list_select_related = ("invoice",)


def _trial_invoicing(account: Account, actor: Actor, data: dict[str, Any]) -> str:
    account_option_set(
        account=account,
        actor=actor,
        reason=data["reason"],
        invoicing_during_trial_enabled=data["enabled"],
        invoicing_during_trial_expires_at=data["expires_at"] if data["enabled"] else None,
    )
    state = "enabled" if data["enabled"] else "disabled"
    return f"Invoicing during the trial is {state} for {account}."


def _limit(account: Account, actor: Actor, data: dict[str, Any]) -> str:
    updated = account_option_set(
        account=account, actor=actor, reason=data["reason"], unpaid_invoice_limit=data["limit"]
    )
    return f"{updated} may now have {unpaid_invoice_limit(updated)} unpaid invoices."


@admin.register(Account)
class AccountAdmin(SupportActionsMixin, ReadOnlyAdmin):
    """One page per account with everything support needs (issue 5)."""

    list_display = ("name", "status", "currency", "external_id", "created_at")
    list_filter = ("status", "currency")
    search_fields = (
        "name",
        "external_id",
        "memberships__user__email",
        "billing_profile__legal_name",
        "invoices__number",
        "po_numbers__value",
    )
    readonly_fields = (
        "name",
        "status",
        "currency",
        "language",
        "external_id",
        "tax_exempt",
        "credits",
        "invoicing_during_trial",
        "unpaid_limit",
        "emails",
        "audit_trail",
    )
    fields = readonly_fields
    inlines = (
        MembershipInline,
        BillingProfileInline,
        PurchaseOrderNumberInline,
        OrderInline,
        InvoiceInline,
        CreditNoteInline,
        PaymentInline,
    )
    support_actions = (
        SupportAction(
            name="trial-invoicing",
            label="Invoicing during trial",
            permission="backoffice.manage_trial_invoicing",
            form=TrialInvoicingForm,
            perform=_trial_invoicing,
            available=lambda account: account.status == Account.Status.TRIAL,
            form_kwargs=lambda account: {
                "initial": {
                    "enabled": account.invoicing_during_trial_enabled,
                    "expires_at": account.invoicing_during_trial_expires_at,
                }
            },
            help_text="P3: a trial account can create invoices only while this is enabled.",
        ),
        SupportAction(
            name="limit",
            label="Unpaid-invoice limit",
            permission="backoffice.change_limits",
            form=LimitForm,
            perform=_limit,
            form_kwargs=lambda account: {"initial": {"limit": account.unpaid_invoice_limit}},
            help_text="P4: how many unpaid invoices this account may have at once.",
        ),
    )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Account], search_term: str
    ) -> tuple[QuerySet[Account], bool]:
        results, _ = super().get_search_results(request, queryset, search_term)
        return results.distinct(), False

    @admin.display(description="Credits")
    def credits(self, account: Account) -> str:
        balance = credit_balance(account=account)
        return f"{balance.balance:,} available, {balance.pending:,} pending"

    @admin.display(description="Invoicing during trial")
    def invoicing_during_trial(self, account: Account) -> str:
        if account.status != Account.Status.TRIAL:
            return "not a trial account"
        if not account.invoicing_during_trial_enabled:
            return "disabled"
        expiry = account.invoicing_during_trial_expires_at
        return f"enabled until {expiry:%Y-%m-%d %H:%M}" if expiry else "enabled"

    @admin.display(description="Emails (latest 20)")
    def emails(self, account: Account) -> str:
        latest = (
            EmailMessage.objects.filter(document__account=account)
            .select_related("document")
            .order_by("-created_at", "-id")[:20]
        )
        return (
            format_html_join(
                "",
                "<div>{} · {} · {} · {} → {}</div>",
                (
                    (
                        f"{email.created_at:%Y-%m-%d %H:%M}",
                        _admin_link(email.document, email.document.number),
                        email.get_kind_display(),
                        email.get_status_display(),
                        ", ".join(email.recipients) or "–",
                    )
                    for email in latest
                ),
            )
            or "–"
        )

    @admin.display(description=f"Audit trail (latest {LATEST_AUDIT_EVENTS})")
    def audit_trail(self, account: Account) -> str:
        latest = AuditEvent.objects.filter(account=account).order_by("-created_at", "-id")[
            :LATEST_AUDIT_EVENTS
        ]
        rows = format_html_join(
            "",
            "<div>{} · {} · {} · {}{}</div>",
            (
                (
                    f"{event.created_at:%Y-%m-%d %H:%M}",
                    event.actor_label,
                    event.action,
                    f"{event.subject_type} {event.subject_id}",
                    f" — {event.reason}" if event.reason else "",
                )
                for event in latest
            ),
        )
        everything = (
            reverse("admin:billing_auditevent_changelist") + f"?account__id__exact={account.pk}"
        )
        return format_html(
            '{}<div><a href="{}">All events of this account</a></div>', rows, everything
        )

    @admin.display(description="Unpaid-invoice limit")
    def unpaid_limit(self, account: Account) -> str:
        own = account.unpaid_invoice_limit
        return f"{unpaid_invoice_limit(account)}" + ("" if own is not None else " (default)")


# --- invoices, credit notes, payments ---------------------------------------------------------


def _void(invoice: Invoice, actor: Actor, data: dict[str, Any]) -> str:
    credit_note = invoice_void(
        invoice=invoice, actor=actor, reason_code=data["reason_code"], reason=data["reason"]
    )
    return f"Invoice {invoice.number} voided; credit note {credit_note.number} issued and emailed."


def _reissue(invoice: Invoice, actor: Actor, data: dict[str, Any]) -> str:
    replacement = invoice_reissue(
        invoice=invoice,
        actor=actor,
        reason=data["reason"],
        credits=data["credits"],
        plan_size=data["plan_size"],
        term_months=data["term_months"],
    )
    return (
        f"Invoice {invoice.number} voided and replaced by {replacement.number} "
        f"({money(replacement.total_minor, replacement.currency)})."
    )


def _record_payment(invoice: Invoice, actor: Actor, data: dict[str, Any]) -> str:
    invoice_payment_record(
        invoice=invoice,
        actor=actor,
        method=data["method"],
        provider="manual",
        provider_reference=data["reference"],
        amount_minor=data["amount"],
        currency=invoice.currency,
        received_at=PaymentForm.received_at_of(data),
    )
    return f"Payment recorded: invoice {invoice.number} is paid; the receipt is being emailed."


def _resend_invoice(invoice: Invoice, actor: Actor, data: dict[str, Any]) -> str:
    email = invoice_email_resend(invoice=invoice, actor=actor)
    return f"Invoice {invoice.number} is being emailed again to {', '.join(email.recipients)}."


def _invoice_summary(invoice: Invoice) -> str:
    return (
        f"Invoice {invoice.number} of {invoice.account}, issued {invoice.issue_date}, "
        f"{invoice.get_status_display().lower()}: {money(invoice.total_minor, invoice.currency)}."
    )


def _unpaid(invoice: Invoice) -> bool:
    return invoice.status == Invoice.Status.ISSUED


@admin.register(Invoice)
class InvoiceAdmin(SupportActionsMixin, ReadOnlyAdmin):
    list_display = ("number", "account", "issue_date", "due_date", "status", "total", "po_number")
    list_filter = ("status", "currency", "issue_date")
    search_fields = ("number", "po_number", "account__name")
    list_select_related = ("account",)
    date_hierarchy = "issue_date"
    exclude = ("seller", "buyer")
    readonly_fields = ("total", "parties", "documents", "audit_trail", "replaced")
    support_actions = (
        SupportAction(
            name="void",
            label="Void with credit note",
            permission="backoffice.void_invoices",
            form=VoidForm,
            perform=_void,
            available=_unpaid,
            describe=_invoice_summary,
            help_text="X2: a credit note with its own number cancels the invoice and is emailed.",
        ),
        SupportAction(
            name="reissue",
            label="Change credits or plan",
            permission="backoffice.void_invoices",
            form=ReissueForm,
            perform=_reissue,
            available=_unpaid,
            describe=_invoice_summary,
            help_text="X2: voids this invoice and issues a replacement linked to it.",
        ),
        SupportAction(
            name="payment",
            label="Record payment",
            permission="backoffice.record_payments",
            form=PaymentForm,
            perform=_record_payment,
            available=_unpaid,
            describe=_invoice_summary,
            form_kwargs=lambda invoice: {
                "currency": invoice.currency,
                "initial": {
                    "amount": minor_to_decimal_string(invoice.total_minor, invoice.currency)
                },
            },
            help_text=(
                "P7: a bank transfer of the invoice's full total. Partial and over-payments are "
                "refused: ask finance to settle the difference with the customer first."
            ),
        ),
        SupportAction(
            name="resend",
            label="Resend email",
            permission="backoffice.resend_emails",
            form=ConfirmForm,
            perform=_resend_invoice,
            describe=_invoice_summary,
            help_text="UC5: emails the current revision's PDF again to the invoice recipients.",
        ),
    )

    @admin.display(description="Total")
    def total(self, invoice: Invoice) -> str:
        return money(invoice.total_minor, invoice.currency)

    @admin.display(description="Seller and buyer (as issued)")
    def parties(self, invoice: Invoice) -> str:
        buyer, seller = invoice.buyer, invoice.seller
        return f"{seller.get('legal_name', '')} → {buyer.get('legal_name', '')}"

    @admin.display(description="Documents")
    def documents(self, invoice: Invoice) -> str:
        rows = Document.objects.filter(invoice=invoice, status=Document.Status.STORED).order_by(
            "created_at"
        )
        return (
            format_html_join(
                "",
                '<div><a href="{}">{} ({}, revision {})</a></div>',
                (
                    (
                        reverse("admin:documents_document_pdf", args=[d.pk]),
                        d.download_name,
                        d.get_kind_display(),
                        d.invoice_revision or "–",
                    )
                    for d in rows
                ),
            )
            or "–"
        )

    @admin.display(description="Audit trail")
    def audit_trail(self, invoice: Invoice) -> str:
        events = AuditEvent.objects.filter(subject_type="invoice", subject_id=str(invoice.pk))
        return (
            format_html_join(
                "",
                "<div>{} · {} · {} {}</div>",
                (
                    (f"{e.created_at:%Y-%m-%d %H:%M}", e.actor_label, e.action, e.reason)
                    for e in events.order_by("created_at", "id")
                ),
            )
            or "–"
        )

    @admin.display(description="Replacement")
    def replaced(self, invoice: Invoice) -> str:
        parts = []
        if invoice.replaces_id:
            parts.append(
                format_html(
                    'replaces <a href="{}">{}</a>',
                    reverse("admin:billing_invoice_change", args=[invoice.replaces_id]),
                    invoice.replaces.number if invoice.replaces else "",
                )
            )
        newer = Invoice.objects.filter(replaces=invoice).first()
        if newer is not None:
            parts.append(
                format_html(
                    'replaced by <a href="{}">{}</a>',
                    reverse("admin:billing_invoice_change", args=[newer.pk]),
                    newer.number,
                )
            )
        return format_html_join(" · ", "{}", ((part,) for part in parts)) or "–"


def _resend_document(document: Document, actor: Actor, data: dict[str, Any]) -> str:
    email = email_resend(document=document)
    return f"{document.number} is being emailed again to {', '.join(email.recipients)}."


@admin.register(CreditNote)
class CreditNoteAdmin(MoneyColumns, ReadOnlyAdmin):
    list_display = ("number", "account", "issue_date", "invoice", "total", "reason_code")
    search_fields = ("number", "invoice__number", "account__name")
    list_select_related = ("account", "invoice")
    exclude = ("seller", "buyer")


@admin.register(Payment)
class PaymentAdmin(MoneyColumns, ReadOnlyAdmin):
    list_display = ("received_at", "account", "invoice", "method", "provider", "amount")
    search_fields = ("provider_reference", "invoice__number", "account__name")
    list_filter = ("method", "provider")
    list_select_related = ("account", "invoice")


@admin.register(Document)
class DocumentAdmin(SupportActionsMixin, ReadOnlyAdmin):
    """Stored PDFs: download the archived bytes, resend their email (never re-rendered)."""

    list_display = ("number", "kind", "account", "status", "created_at")
    list_filter = ("kind", "status")
    search_fields = ("number", "account__name")
    list_select_related = ("account",)
    support_actions = (
        SupportAction(
            name="resend",
            label="Resend email",
            permission="backoffice.resend_emails",
            form=ConfirmForm,
            perform=_resend_document,
            available=lambda document: document.status == Document.Status.STORED,
            help_text="UC5/X2: sends this document's email again with the stored PDF.",
        ),
    )

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<int:document_id>/pdf/",
                self.admin_site.admin_view(self.pdf_view),
                name="documents_document_pdf",
            ),
            path(
                "verify-archive/",
                self.admin_site.admin_view(self.verify_view),
                name="documents_document_verify",
            ),
            *super().get_urls(),
        ]

    def pdf_view(self, request: HttpRequest, document_id: int) -> HttpResponseBase:
        if not self.has_view_permission(request):
            raise PermissionDenied
        document = get_object_or_404(Document, pk=document_id, status=Document.Status.STORED)
        return document_pdf_response(document)

    def verify_view(self, request: HttpRequest) -> HttpResponse:
        """D2: walk the hash chain and show the result."""
        if not request.user.has_perm("backoffice.verify_archive"):
            raise PermissionDenied
        result = archive_verify() if request.method == "POST" else None
        return TemplateResponse(
            request,
            "backoffice/verify_archive.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": "Archive verification",
                "result": result,
            },
        )


@admin.register(EmailMessage)
class EmailMessageAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "document", "kind", "status", "attempts", "sent_at")
    list_filter = ("kind", "status")
    search_fields = ("document__number", "recipients")


# --- change requests (X4) -------------------------------------------------------------------


def _answer(change_request: ChangeRequest, actor: Actor, data: dict[str, Any]) -> str:
    change_request_close(
        change_request=change_request,
        actor=actor,
        status=data["status"],
        response=data["response"],
    )
    return f"Change request {change_request.pk} answered; the customer sees it on the invoice."


def _change_request_summary(change_request: ChangeRequest) -> str:
    return (
        f"{change_request.get_kind_display()} requested for invoice "
        f"{change_request.invoice.number} ({change_request.account}) on "
        f"{change_request.created_at:%Y-%m-%d %H:%M}:\n{change_request.reason}"
    )


@admin.register(ChangeRequest)
class ChangeRequestAdmin(SupportActionsMixin, ReadOnlyAdmin):
    """The queue of customers' change requests: assign to yourself, answer, and act on the
    invoice through its own actions (void, change credits or plan)."""

    list_display = ("created_at", "invoice", "account", "kind", "status", "assigned_to")
    list_filter = ("status", "kind")
    search_fields = ("invoice__number", "account__name", "reason")
    list_select_related = ("invoice", "account", "assigned_to")
    readonly_fields = ("invoice_link",)
    actions = ["assign_to_me"]
    support_actions = (
        SupportAction(
            name="answer",
            label="Answer",
            permission="backoffice.answer_change_requests",
            form=AnswerForm,
            perform=_answer,
            available=lambda change_request: change_request.status == ChangeRequest.Status.OPEN,
            describe=_change_request_summary,
        ),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[ChangeRequest]:
        return super().get_queryset(request).order_by("status", "created_at")

    @admin.display(description="Invoice page")
    def invoice_link(self, change_request: ChangeRequest) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:billing_invoice_change", args=[change_request.invoice_id]),
            change_request.invoice.number,
        )

    def has_answer_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("backoffice.answer_change_requests")

    @admin.action(description="Assign to me", permissions=["answer"])
    def assign_to_me(self, request: HttpRequest, queryset: QuerySet[ChangeRequest]) -> None:
        actor = Actor.for_user(request.user)
        assigned = 0
        for change_request in queryset:
            try:
                change_request_assign(
                    change_request=change_request, actor=actor, assignee_id=request.user.pk
                )
                assigned += 1
            except ChangeRequestNotAllowed as error:
                self.message_user(request, error.message, messages.WARNING)
        self.message_user(request, f"{assigned} request(s) assigned to you.")


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "actor_label", "action", "subject_type", "subject_id", "account")
    list_filter = ("action", "actor_kind")
    search_fields = ("actor_label", "action", "subject_id", "account__name", "reason")
    date_hierarchy = "created_at"
    list_select_related = ("account",)


class StaffSignInForm(ThrottledSignInMixin, AdminAuthenticationForm):
    """Staff sign in with the same throttling as customers."""


admin.site.login_form = StaffSignInForm
admin.site.site_header = "Remit back office"
admin.site.site_title = "Remit back office"
admin.site.index_title = "Support and finance"


# --- API keys (I1) --------------------------------------------------------------------------------


def _revoke(api_key: ApiKey, actor: Actor, data: dict[str, Any]) -> str:
    api_key_revoke(api_key=api_key, actor=actor)
    return f"API key {api_key} revoked; requests with it are refused from now on."


@admin.register(ApiKey)
class ApiKeyAdmin(SupportActionsMixin, ReadOnlyAdmin):
    """Keys are created here and shown once; only their hash is stored."""

    list_display = ("name", "prefix", "scopes", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("name", "prefix", "scopes", "created_at", "last_used_at", "revoked_at")
    exclude = ("secret_sha256",)
    support_actions = (
        SupportAction(
            name="revoke",
            label="Revoke",
            permission="integrations.change_apikey",
            form=ConfirmForm,
            perform=_revoke,
            available=lambda api_key: api_key.revoked_at is None,
            help_text="Requests with this key are refused from now on. This cannot be undone.",
        ),
    )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("integrations.add_apikey")

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ApiKeyForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                created = api_key_create(
                    name=form.cleaned_data["name"],
                    scopes=form.cleaned_data["scopes"],
                    actor=Actor.for_user(request.user),
                )
            except ValidationFailed as error:
                form_errors_add(error, form)
            else:
                return TemplateResponse(
                    request,
                    "backoffice/api_key_created.html",
                    {
                        **self.admin_site.each_context(request),
                        "opts": self.model._meta,
                        "title": "API key created",
                        "api_key": created.api_key,
                        "token": created.token,
                    },
                )
        return TemplateResponse(
            request,
            "backoffice/support_action.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": "New API key",
                # What the shared action page shows of an action: its button and its help.
                "action": {
                    "label": "Create API key",
                    "help_text": "The key is shown once, on the next page; only its hash is kept.",
                },
                "summary": "",
                "form": form,
                "back": reverse("admin:integrations_apikey_changelist"),
            },
            status=400 if request.method == "POST" else 200,
        )


# --- webhooks (I3) ------------------------------------------------------------------------------


def _redeliver(delivery: WebhookDelivery, actor: Actor, data: dict[str, Any]) -> str:
    webhook_redeliver(delivery=delivery)
    return f"{delivery.event} is being sent again to {delivery.endpoint.url}."


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdmin):
    """Endpoints are registered through the API (the secret is shown once there)."""

    list_display = ("url", "event_types", "is_active", "created_at")
    exclude = ("secret",)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(SupportActionsMixin, ReadOnlyAdmin):
    """The delivery log: every event sent to every endpoint, with its last answer."""

    list_display = (
        "event",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "last_attempt_at",
        "next_attempt_at",
    )
    list_filter = ("status", "event__type")
    search_fields = ("event__event_id", "endpoint__url")
    list_select_related = ("event", "endpoint")
    support_actions = (
        SupportAction(
            name="redeliver",
            label="Send again",
            permission="integrations.change_webhookdelivery",
            form=ConfirmForm,
            perform=_redeliver,
            help_text="Sends the same event (same id) to the endpoint again now.",
        ),
    )


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    """Stripe's webhook inbox: every event once, with what Remit did (failed ones need a look)."""

    list_display = ("received_at", "type", "event_id", "deliveries", "outcome", "detail")
    list_filter = ("outcome", "type")
    search_fields = ("event_id", "detail")
