"""The back office on the Django admin (issue 5). Staff find everything about an account from its
page; every change is a support action that calls a billing service (which checks the rules and
writes the audit trail). Issued documents, payments and the audit trail are read-only here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django_tasks_db.admin import DBTaskResultAdmin
from django_tasks_db.models import DBTaskResult

from remit.backoffice.actions import SupportAction, SupportActionsMixin
from remit.backoffice.display import (
    audit_action,
    audit_changes,
    audit_table,
    html_table,
    lines_html,
    money,
)
from remit.backoffice.forms import (
    AccountCreateForm,
    AnswerForm,
    ApiKeyForm,
    ConfirmForm,
    InviteForm,
    LimitForm,
    PaymentForm,
    ReissueForm,
    TimeZoneForm,
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
    InvoiceRevision,
    Membership,
    Order,
    Payment,
    PurchaseOrderNumber,
)
from remit.billing.selectors.credits import credit_balance
from remit.billing.services.accounts import account_create, account_option_set, account_update
from remit.billing.services.change_requests import change_request_assign, change_request_close
from remit.billing.services.invitations import account_member_invite
from remit.billing.services.invoice_emails import invoice_email_resend
from remit.billing.services.invoices import invoice_reissue, invoice_void
from remit.billing.services.invoicing_rules import unpaid_invoice_limit
from remit.billing.services.payments import invoice_payment_record
from remit.core.dates import zone
from remit.core.errors import ChangeRequestNotAllowed, ValidationFailed
from remit.core.forms import form_errors_add
from remit.core.links import public_base_url
from remit.core.money import minor_to_decimal_string
from remit.core.signin import ThrottledSignInMixin
from remit.documents.http import document_pdf_response
from remit.documents.models import Document, EmailMessage
from remit.documents.selectors import document_list_for_invoice
from remit.documents.services.archive import archive_verify
from remit.documents.services.emails import email_resend
from remit.integrations.models import ApiKey, StripeEvent, WebhookDelivery, WebhookEndpoint
from remit.integrations.services.api_keys import api_key_create, api_key_revoke
from remit.integrations.services.webhooks import webhook_redeliver


class ReadOnlyMixin:
    """Viewable with the view permission; nobody adds, edits or deletes here."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TitledChangeForm:
    """Change pages headed by what the object is called at work (``page_title``), never by
    its id; the object comes from the form Django renders, so it is not read again."""

    def page_title(self, obj: Any) -> str:
        return f"{capfirst(self.model._meta.verbose_name)} {obj}"  # type: ignore[attr-defined]

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> HttpResponse:
        if obj is not None:
            context.update(title=self.page_title(obj), subtitle=None)
        return super().render_change_form(  # type: ignore[misc]
            request, context, add, change, form_url, obj
        )


class ReadOnlyAdmin(TitledChangeForm, ReadOnlyMixin, admin.ModelAdmin):
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
    verbose_name = "member"
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
    list_select_related = ("account",)


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


def _trial_invoicing_label(account: Account) -> str:
    return "Disable invoicing" if account.invoicing_during_trial_enabled else "Enable invoicing"


def _invite(account: Account, actor: Actor, data: dict[str, Any]) -> str:
    membership = account_member_invite(
        account=account,
        email=data["email"],
        role=data["role"],
        actor=actor,
        site_url=data["site_url"],
    )
    return (
        f"{membership.user.get_username()} is now a member of {account} and is being sent an "
        "invitation with a link to choose a password."
    )


def _time_zone(account: Account, actor: Actor, data: dict[str, Any]) -> str:
    updated = account_update(
        account=account, actor=actor, time_zone=data["time_zone"], reason=data["reason"]
    )
    return f"Dates of {updated} are now shown in {_time_zone_text(updated)}."


def _time_zone_text(account: Account) -> str:
    return account.time_zone or f"the site's time zone ({zone()})"


def _limit(account: Account, actor: Actor, data: dict[str, Any]) -> str:
    updated = account_option_set(
        account=account, actor=actor, reason=data["reason"], unpaid_invoice_limit=data["limit"]
    )
    return f"{updated} may now have {unpaid_invoice_limit(updated)} unpaid invoices."


ACCOUNT_CREATE_HELP = (
    "The account starts empty; its billing details are asked of the customer at the first "
    "invoice. An owner email, if given, gets an invitation with a link to choose a password."
)


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
        "time_zone_text",
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
            name="invite",
            label="Invite a member",
            permission="backoffice.manage_accounts",
            form=InviteForm,
            perform=_invite,
            help_text=(
                "The member gets an email with a link to choose a password and sign in to the "
                "User Center; someone who already has a password gets a sign-in link."
            ),
        ),
        SupportAction(
            name="time-zone",
            label="Set time zone",
            permission="backoffice.manage_accounts",
            form=TimeZoneForm,
            perform=_time_zone,
            form_kwargs=lambda account: {"initial": {"time_zone": account.time_zone}},
            help_text="Orders and invoices of this account are dated in this time zone.",
        ),
        SupportAction(
            name="trial-invoicing",
            label=_trial_invoicing_label,
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
            help_text="A trial account can create invoices only while this is enabled.",
        ),
        SupportAction(
            name="limit",
            label="Change unpaid-invoice limit",
            permission="backoffice.change_limits",
            form=LimitForm,
            perform=_limit,
            form_kwargs=lambda account: {"initial": {"limit": account.unpaid_invoice_limit}},
            help_text="How many unpaid invoices this account may have at once.",
        ),
    )

    def page_title(self, account: Account) -> str:
        return f"{account.name} ({account.get_status_display().lower()} account)"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("backoffice.manage_accounts")

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """A new customer account and, optionally, its first member (invited by email)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = AccountCreateForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            actor = Actor.for_user(request.user)
            try:
                with transaction.atomic():
                    account = account_create(
                        name=data["name"],
                        currency=data["currency"],
                        language=data["language"],
                        status=data["status"],
                        external_id=data["external_id"] or None,
                        time_zone=data["time_zone"],
                        actor=actor,
                    )
                    if data["owner_email"]:
                        account_member_invite(
                            account=account,
                            email=data["owner_email"],
                            role=Membership.Role.OWNER,
                            actor=actor,
                            site_url=public_base_url(request),
                        )
            except ValidationFailed as error:
                form_errors_add(error, form)
            else:
                invited = (
                    f" {data['owner_email']} is being sent an invitation."
                    if data["owner_email"]
                    else ""
                )
                self.message_user(request, f"Account {account} created.{invited}", messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse("admin:billing_account_change", args=[account.pk])
                )
        return TemplateResponse(
            request,
            "backoffice/support_action.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": "New customer account",
                "action": {"help_text": ACCOUNT_CREATE_HELP},
                "action_label": "Create account",
                "summary": "",
                "form": form,
                "back": reverse("admin:billing_account_changelist"),
            },
            status=400 if request.method == "POST" else 200,
        )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Account], search_term: str
    ) -> tuple[QuerySet[Account], bool]:
        results, _ = super().get_search_results(request, queryset, search_term)
        return results.distinct(), False

    @admin.display(description="Time zone")
    def time_zone_text(self, account: Account) -> str:
        return _time_zone_text(account)

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
        everything = (
            reverse("admin:billing_auditevent_changelist") + f"?account__id__exact={account.pk}"
        )
        return format_html(
            '{}<div><a href="{}">All events of this account</a></div>',
            audit_table(latest, currency=account.currency),
            everything,
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


def _stored_documents(invoice: Invoice) -> list[Document]:
    """The invoice's stored files (revisions, credit note, receipts), as its User Center page
    lists them."""
    return [
        row.document
        for row in document_list_for_invoice(invoice=invoice)
        if row.document.status == Document.Status.STORED
    ]


@admin.register(Invoice)
class InvoiceAdmin(SupportActionsMixin, ReadOnlyAdmin):
    list_display = ("number", "account", "issue_date", "due_date", "status", "total", "po_number")
    list_filter = ("status", "currency", "issue_date")
    search_fields = ("number", "po_number", "account__name")
    list_select_related = ("account",)
    date_hierarchy = "issue_date"
    readonly_fields = (
        "number",
        "account",
        "status",
        "issue_date",
        "due_date",
        "po_number",
        "notes",
        "revision",
        "language",
        "subtotal",
        "tax",
        "total",
        "paid_at",
        "voided_at",
        "void_reason_code",
        "void_reason",
        "parties",
        "credit_note_link",
        "replaced",
        "revisions",
        "payments",
        "receipts",
        "change_requests",
        "documents",
        "audit_trail",
    )
    fields = readonly_fields
    support_actions = (
        SupportAction(
            name="void",
            label="Void invoice",
            permission="backoffice.void_invoices",
            form=VoidForm,
            perform=_void,
            available=_unpaid,
            describe=_invoice_summary,
            help_text="A credit note with its own number cancels the invoice and is emailed.",
        ),
        SupportAction(
            name="reissue",
            label="Change credits or plan",
            permission="backoffice.void_invoices",
            form=ReissueForm,
            perform=_reissue,
            available=_unpaid,
            describe=_invoice_summary,
            help_text="Voids this invoice and issues a replacement linked to it.",
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
                "A bank transfer of the invoice's full total. Partial and over-payments are "
                "refused: ask finance to settle the difference with the customer first."
            ),
        ),
        SupportAction(
            name="resend",
            label="Resend invoice email",
            permission="backoffice.resend_emails",
            form=ConfirmForm,
            perform=_resend_invoice,
            describe=_invoice_summary,
            help_text="Emails the current revision's PDF again to the invoice recipients.",
        ),
    )

    def page_title(self, invoice: Invoice) -> str:
        return f"Invoice {invoice.number} · {invoice.account.name}"

    @admin.display(description="Subtotal")
    def subtotal(self, invoice: Invoice) -> str:
        return money(invoice.subtotal_minor, invoice.currency)

    @admin.display(description="Tax")
    def tax(self, invoice: Invoice) -> str:
        return money(invoice.tax_minor, invoice.currency)

    @admin.display(description="Total")
    def total(self, invoice: Invoice) -> str:
        return money(invoice.total_minor, invoice.currency)

    @admin.display(description="Credit note")
    def credit_note_link(self, invoice: Invoice) -> str:
        credit_note = CreditNote.objects.filter(invoice=invoice).first()
        if credit_note is None:
            return "–"
        return format_html(
            "{} of {}, {}",
            _admin_link(credit_note, credit_note.number),
            credit_note.issue_date,
            money(credit_note.total_minor, credit_note.currency),
        )

    @admin.display(description="Revisions")
    def revisions(self, invoice: Invoice) -> str:
        files = {
            d.invoice_revision: d
            for d in _stored_documents(invoice)
            if d.kind == Document.Kind.INVOICE
        }
        return html_table(
            ("Revision", "Created", "PO number", "Notes", "Why", "PDF"),
            (
                (
                    revision.revision,
                    f"{revision.created_at:%Y-%m-%d %H:%M}",
                    revision.po_number or "–",
                    revision.notes or "–",
                    revision.reason or ("issued" if revision.revision == 1 else "–"),
                    _pdf_link(files.get(revision.revision)),
                )
                for revision in InvoiceRevision.objects.filter(invoice=invoice)
            ),
        )

    @admin.display(description="Payments")
    def payments(self, invoice: Invoice) -> str:
        return html_table(
            ("Received", "Method", "Reference", "Amount"),
            (
                (
                    f"{payment.received_at:%Y-%m-%d %H:%M}",
                    payment.get_method_display(),
                    _admin_link(payment, payment.provider_reference),
                    money(payment.amount_minor, payment.currency),
                )
                for payment in Payment.objects.filter(invoice=invoice).order_by("received_at")
            ),
        )

    @admin.display(description="Receipts")
    def receipts(self, invoice: Invoice) -> str:
        return html_table(
            ("Receipt", "Stored"),
            (
                (_pdf_link(document), f"{document.stored_at:%Y-%m-%d %H:%M}")
                for document in _stored_documents(invoice)
                if document.kind == Document.Kind.RECEIPT
            ),
        )

    @admin.display(description="Change requests")
    def change_requests(self, invoice: Invoice) -> str:
        return html_table(
            ("Requested", "Kind", "Status", "Reason"),
            (
                (
                    _admin_link(request, f"{request.created_at:%Y-%m-%d %H:%M}"),
                    request.get_kind_display(),
                    request.get_status_display(),
                    request.reason,
                )
                for request in ChangeRequest.objects.filter(invoice=invoice).order_by("created_at")
            ),
        )

    @admin.display(description="Seller and buyer (as issued)")
    def parties(self, invoice: Invoice) -> str:
        buyer, seller = invoice.buyer, invoice.seller
        return f"{seller.get('legal_name', '')} → {buyer.get('legal_name', '')}"

    @admin.display(description="Documents")
    def documents(self, invoice: Invoice) -> str:
        rows = _stored_documents(invoice)
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
        return audit_table(events.order_by("created_at", "id"), currency=invoice.currency)

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


def _pdf_link(document: Document | None) -> str:
    if document is None:
        return "–"
    return format_html(
        '<a href="{}">{}</a>',
        reverse("admin:documents_document_pdf", args=[document.pk]),
        document.download_name,
    )


def _resend_document(document: Document, actor: Actor, data: dict[str, Any]) -> str:
    email = email_resend(document=document)
    return f"{document.number} is being emailed again to {', '.join(email.recipients)}."


@admin.register(CreditNote)
class CreditNoteAdmin(MoneyColumns, ReadOnlyAdmin):
    list_display = ("number", "account", "issue_date", "invoice", "total", "reason_code")
    search_fields = ("number", "invoice__number", "account__name")
    list_select_related = ("account", "invoice")
    readonly_fields = (
        "number",
        "account",
        "invoice",
        "issue_date",
        "language",
        "subtotal",
        "tax",
        "total",
        "reason_code",
        "reason",
        "pdf",
    )
    fields = readonly_fields

    def page_title(self, credit_note: CreditNote) -> str:
        return f"Credit note {credit_note.number} · {credit_note.account.name}"

    @admin.display(description="Subtotal")
    def subtotal(self, credit_note: CreditNote) -> str:
        return money(credit_note.subtotal_minor, credit_note.currency)

    @admin.display(description="Tax")
    def tax(self, credit_note: CreditNote) -> str:
        return money(credit_note.tax_minor, credit_note.currency)

    @admin.display(description="PDF")
    def pdf(self, credit_note: CreditNote) -> str:
        return _pdf_link(
            Document.objects.filter(credit_note=credit_note, status=Document.Status.STORED).first()
        )


@admin.register(Payment)
class PaymentAdmin(MoneyColumns, ReadOnlyAdmin):
    list_display = ("received_at", "account", "invoice", "method", "provider", "amount")
    search_fields = ("provider_reference", "invoice__number", "account__name")
    list_filter = ("method", "provider")
    list_select_related = ("account", "invoice")
    readonly_fields = (
        "account",
        "invoice",
        "order",
        "amount",
        "method",
        "provider",
        "provider_reference",
        "received_at",
        "recorded_at",
        "recorded_by",
        "receipt_link",
    )
    fields = readonly_fields

    def page_title(self, payment: Payment) -> str:
        invoice = f" for invoice {payment.invoice.number}" if payment.invoice else ""
        return (
            f"Payment of {money(payment.amount_minor, payment.currency)}{invoice} · "
            f"{payment.account.name}"
        )

    @admin.display(description="Receipt")
    def receipt_link(self, payment: Payment) -> str:
        return _pdf_link(
            Document.objects.filter(payment=payment, status=Document.Status.STORED).first()
        )


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
            help_text="Sends this document's email again with the stored PDF.",
        ),
    )

    def page_title(self, document: Document) -> str:
        return f"{document} · {document.account.name}"

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
        """Walk the archive's hash chain and show the result."""
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
    list_select_related = ("document",)


# --- change requests (X4) -------------------------------------------------------------------


def _answer(change_request: ChangeRequest, actor: Actor, data: dict[str, Any]) -> str:
    change_request_close(
        change_request=change_request,
        actor=actor,
        status=data["status"],
        response=data["response"],
    )
    return f"{change_request} answered; the customer sees the answer on the invoice."


def _assign_to_me(change_request: ChangeRequest, actor: Actor, data: dict[str, Any]) -> str:
    change_request_assign(change_request=change_request, actor=actor, assignee_id=actor.user_id)
    return f"{change_request} is assigned to you."


def _open(change_request: ChangeRequest) -> bool:
    return change_request.status == ChangeRequest.Status.OPEN


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
    readonly_fields = (
        "invoice_link",
        "account",
        "kind",
        "status",
        "reason",
        "requested_by",
        "created_at",
        "assigned_to",
        "response",
        "closed_at",
        "closed_by",
    )
    fields = readonly_fields
    actions = ["assign_to_me"]
    support_actions = (
        SupportAction(
            name="assign",
            label="Assign to me",
            permission="backoffice.answer_change_requests",
            form=ConfirmForm,
            perform=_assign_to_me,
            available=_open,
            describe=_change_request_summary,
            help_text="You become the agent working on this request (recorded in the audit trail).",
        ),
        SupportAction(
            name="answer",
            label="Answer request",
            permission="backoffice.answer_change_requests",
            form=AnswerForm,
            perform=_answer,
            available=_open,
            describe=_change_request_summary,
        ),
    )

    def page_title(self, change_request: ChangeRequest) -> str:
        return f"{change_request} · {change_request.account.name}"

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
    readonly_fields = (
        "created_at",
        "actor_kind",
        "actor_label",
        "actor_user",
        "account",
        "action",
        "subject_type",
        "subject_id",
        "reason",
        "changes",
    )
    fields = readonly_fields

    def page_title(self, event: AuditEvent) -> str:
        return f"Audit event: {audit_action(event)} by {event.actor_label}"

    @admin.display(description="Old → new")
    def changes(self, event: AuditEvent) -> str:
        currency = event.account.currency if event.account else ""
        return lines_html(audit_changes(event, currency=currency))


class StaffSignInForm(ThrottledSignInMixin, AdminAuthenticationForm):
    """Staff sign in with their email (their user name) and the same throttling as
    customers."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "Email"
        self.fields["username"].widget.attrs["autocomplete"] = "email"


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
            label="Revoke key",
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
                    "help_text": "The key is shown once, on the next page; only its hash is kept.",
                },
                "action_label": "Create API key",
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


# --- background tasks -----------------------------------------------------------------------------

admin.site.unregister(DBTaskResult)


@admin.register(DBTaskResult)
class TaskResultAdmin(TitledChangeForm, DBTaskResultAdmin):
    """The task queue's results, titled by the task rather than by the row's id."""

    change_form_template = "backoffice/titled_change_form.html"

    def page_title(self, result: DBTaskResult) -> str:
        return (
            f"Task {result.task_name} ({result.get_status_display().lower()}, "
            f"queued {result.enqueued_at:%Y-%m-%d %H:%M})"
        )
