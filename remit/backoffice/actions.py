"""Support actions on one object in the admin (X2): a button on the object's page, a form, one
service call. One view serves them all, so permission checks, error handling and messages are
written once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from remit.billing.actors import Actor
from remit.core.errors import DomainError, ValidationFailed
from remit.core.forms import form_errors_add
from remit.core.links import public_base_url


@dataclass(frozen=True)
class SupportAction:
    # URL segment and id, e.g. "void".
    name: str
    # The button's verb ("Void invoice"); a function of the object when it depends on its state
    # ("Enable invoicing" / "Disable invoicing").
    label: str | Callable[[Any], str]
    # "app_label.codename" the staff member needs.
    permission: str
    form: type[forms.Form]
    # Calls the service with the form's cleaned data (plus ``site_url``, the site's absolute
    # address); returns the success message. Raises DomainError to refuse.
    perform: Callable[[Any, Actor, dict[str, Any]], str]
    # Whether the button shows for this object (e.g. only unpaid invoices can be voided).
    available: Callable[[Any], bool] = lambda obj: True
    help_text: str = ""
    # A plain-text summary of the object shown above the form (escaped like any text).
    describe: Callable[[Any], str] = str
    # Builds the form's keyword arguments for this object (choices, initial values).
    form_kwargs: Callable[[Any], dict[str, Any]] = field(default=lambda obj: {})

    def label_for(self, obj: Any) -> str:
        return self.label(obj) if callable(self.label) else self.label


class SupportActionsMixin(admin.ModelAdmin):
    support_actions: tuple[SupportAction, ...] = ()
    change_form_template = "backoffice/change_form_with_actions.html"

    def _info(self) -> tuple[str, str]:
        return self.model._meta.app_label, self.model._meta.model_name or ""

    def get_urls(self) -> list[URLPattern]:
        app_label, model_name = self._info()
        return [
            path(
                "<path:object_id>/support/<str:action_name>/",
                self.admin_site.admin_view(self.support_action_view),
                name=f"{app_label}_{model_name}_support",
            ),
            *super().get_urls(),
        ]

    def support_actions_for(self, request: HttpRequest, obj: models.Model) -> list[SupportAction]:
        return [
            action
            for action in self.support_actions
            if request.user.has_perm(action.permission) and action.available(obj)
        ]

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> HttpResponse:
        app_label, model_name = self._info()
        context["support_buttons"] = (
            [
                (
                    action.label_for(obj),
                    reverse(f"admin:{app_label}_{model_name}_support", args=[obj.pk, action.name]),
                )
                for action in self.support_actions_for(request, obj)
            ]
            if obj is not None
            else []
        )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def support_action_view(
        self, request: HttpRequest, object_id: str, action_name: str
    ) -> HttpResponse:
        # A malformed id (``abc``) or an unknown action is a page that does not exist.
        try:
            pk = self.model._meta.pk.to_python(object_id)
        except ValidationError:
            raise Http404 from None
        obj = get_object_or_404(self.model, pk=pk)
        action = next((a for a in self.support_actions if a.name == action_name), None)
        if action is None:
            raise Http404
        if not request.user.has_perm(action.permission) or not self.has_view_permission(
            request, obj
        ):
            raise PermissionDenied
        app_label, model_name = self._info()
        back = reverse(f"admin:{app_label}_{model_name}_change", args=[obj.pk])
        data = request.POST if request.method == "POST" else None
        form = action.form(data, **action.form_kwargs(obj))
        status = 200
        if request.method == "POST":
            status = 400
            if not action.available(obj):
                form.add_error(None, "This action is not available any more for this object.")
            elif form.is_valid():
                try:
                    # The site's address, for links in emails (invitations).
                    given = {**form.cleaned_data, "site_url": public_base_url(request)}
                    message = action.perform(obj, Actor.for_user(request.user), given)
                except ValidationFailed as error:
                    form_errors_add(error, form)
                except DomainError as error:
                    form.add_error(None, error.message)
                else:
                    self.message_user(request, message, messages.SUCCESS)
                    return HttpResponseRedirect(back)
        return TemplateResponse(
            request,
            "backoffice/support_action.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "original": obj,
                "action": action,
                "action_label": action.label_for(obj),
                "summary": action.describe(obj),
                "form": form,
                "back": back,
                "title": f"{action.label_for(obj)}: {obj}",
            },
            status=status,
        )
