"""The back office on the Django admin (issue 5). Every change goes through a billing service;
issued documents and the audit trail are read-only here."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from remit.billing.actors import Actor
from remit.billing.models import AuditEvent, ChangeRequest, Invoice
from remit.billing.services.change_requests import change_request_assign, change_request_close
from remit.core.errors import ChangeRequestNotAllowed, ValidationFailed


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewable by staff with the view permission; nobody adds, edits or deletes here."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "actor_label", "action", "subject_type", "subject_id", "account")
    list_filter = ("action", "actor_kind")
    search_fields = ("actor_label", "action", "subject_id", "account__name", "reason")
    date_hierarchy = "created_at"
    list_select_related = ("account",)


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ("number", "account", "issue_date", "status", "total_minor", "currency")
    list_filter = ("status", "currency")
    search_fields = ("number", "po_number", "account__name")
    list_select_related = ("account",)


class AnswerForm(forms.Form):
    status = forms.ChoiceField(
        choices=[(ChangeRequest.Status.DONE, "Done"), (ChangeRequest.Status.DECLINED, "Declined")]
    )
    response = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=2000,
        help_text="Shown to the customer on the invoice's row.",
    )


ANSWER_PERMISSION = "backoffice.answer_change_requests"


@admin.register(ChangeRequest)
class ChangeRequestAdmin(ReadOnlyAdmin):
    """X4: the queue of customers' change requests: assign to yourself, answer."""

    list_display = ("created_at", "invoice", "account", "kind", "status", "assigned_to")
    list_filter = ("status", "kind")
    search_fields = ("invoice__number", "account__name", "reason")
    list_select_related = ("invoice", "account", "assigned_to")
    actions = ["assign_to_me"]
    change_form_template = "backoffice/change_request.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[ChangeRequest]:
        return super().get_queryset(request).order_by("status", "created_at")

    def has_answer_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(ANSWER_PERMISSION)

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

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<int:pk>/answer/",
                self.admin_site.admin_view(self.answer_view),
                name="billing_changerequest_answer",
            ),
            *super().get_urls(),
        ]

    def answer_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        change_request = get_object_or_404(ChangeRequest, pk=pk)
        if not self.has_answer_permission(request):
            raise PermissionDenied
        form = AnswerForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                change_request_close(
                    change_request=change_request,
                    actor=Actor.for_user(request.user),
                    status=form.cleaned_data["status"],
                    response=form.cleaned_data["response"],
                )
            except ValidationFailed as error:
                for field, field_messages in error.field_errors.items():
                    for message in field_messages:
                        form.add_error(field if field in form.fields else None, message)
            except ChangeRequestNotAllowed as error:
                form.add_error(None, error.message)
            else:
                self.message_user(request, f"Change request {pk} answered.")
                return HttpResponseRedirect(reverse("admin:billing_changerequest_changelist"))
        return TemplateResponse(
            request,
            "backoffice/change_request_answer.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "change_request": change_request,
                "form": form,
                "title": f"Answer change request {pk}",
            },
            status=400 if request.method == "POST" else 200,
        )
