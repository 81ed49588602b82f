"""User Center forms: server-side validation; business rules stay in the services."""

from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from remit.billing.services.quotes import MAX_CREDITS_PER_ORDER
from remit.billing.services.validation import (
    MAX_RECIPIENTS,
    NOTES_MAX_LENGTH,
    PO_NUMBER_MAX_LENGTH,
    BillingProfileInput,
    billing_profile_input_clean,
    country_codes,
)
from remit.core.errors import ValidationFailed
from remit.core.signin import ThrottledSignInMixin


class SignInForm(ThrottledSignInMixin, AuthenticationForm):
    """Email + password; repeated failures for an email or from an address pause sign-in."""

    username = forms.EmailField(
        label=_("Email"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("That email and password do not match an account."),
    }


def _country_choices() -> list[tuple[str, Any]]:
    from babel import Locale
    from django.utils.translation import get_language

    from remit.core.i18n import BABEL_LOCALES, normalise_language

    names = Locale.parse(BABEL_LOCALES[normalise_language(get_language() or "en")]).territories
    countries = sorted(
        ((code, str(names.get(code, code))) for code in country_codes()), key=lambda c: c[1]
    )
    return [("", _("Choose a country")), *countries]


class BillingProfileForm(forms.Form):
    """The billing-information dialog (UC3) and Settings › Billing. Limits mirror the service;
    the service's own validation is authoritative and its messages are shown per field."""

    legal_name = forms.CharField(label=_("Legal name"), max_length=200)
    address_line1 = forms.CharField(label=_("Address"), max_length=200)
    address_line2 = forms.CharField(label=_("Address line 2"), max_length=200, required=False)
    city = forms.CharField(label=_("City"), max_length=100)
    postal_code = forms.CharField(
        label=_("Postal code"),
        max_length=20,
        required=False,
        help_text=_("Required in countries that use postal codes."),
    )
    region = forms.CharField(label=_("State / region"), max_length=100, required=False)
    country = forms.ChoiceField(label=_("Country"), choices=_country_choices)
    tax_id = forms.CharField(label=_("Tax / VAT ID"), max_length=40, required=False)
    invoice_recipient_emails = forms.CharField(
        label=_("Send invoices to"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "email", "inputmode": "email"}),
        max_length=2600,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Translated per request (a lazy string with % would freeze the first language).
        self.fields["invoice_recipient_emails"].help_text = gettext(
            "Up to %(count)s addresses, separated by commas."
        ) % {"count": MAX_RECIPIENTS}

    def clean(self) -> dict[str, Any]:
        """Run the service's validation on what was typed, so every problem (a VAT ID that does
        not fit the country as well as a missing name) is reported in one round."""
        cleaned = super().clean() or {}
        try:
            billing_profile_input_clean(
                self._input_from(
                    {name: self.data.get(self.add_prefix(name)) for name in self.fields}
                )
            )
        except ValidationFailed as error:
            for field, field_messages in error.field_errors.items():
                if field in self.fields and field not in self.errors:
                    for message in field_messages:
                        self.add_error(field, message)
        return cleaned

    def to_input(self) -> BillingProfileInput:
        return self._input_from(self.cleaned_data)

    @staticmethod
    def _input_from(data: Any) -> BillingProfileInput:
        emails = tuple(
            part.strip()
            for part in (data.get("invoice_recipient_emails") or "").split(",")
            if part.strip()
        )
        return BillingProfileInput(
            legal_name=data.get("legal_name") or "",
            address_line1=data.get("address_line1") or "",
            address_line2=data.get("address_line2") or "",
            city=data.get("city") or "",
            postal_code=data.get("postal_code") or "",
            region=data.get("region") or "",
            country=data.get("country") or "",
            tax_id=data.get("tax_id") or "",
            invoice_recipient_emails=emails,
        )


class PurchaseOrderNumberForm(forms.Form):
    """Add or edit a PO number (X3)."""

    value = forms.CharField(label=_("PO number"), max_length=64)
    make_default = forms.BooleanField(label=_("Use as default for new invoices"), required=False)
    apply_to_unpaid = forms.BooleanField(
        label=_("Apply this PO number to any unpaid invoices"), required=False
    )


class PurchaseForm(forms.Form):
    """What buying credits and buying a plan share (P1, P5): *Create an Invoice* with its PO
    number and notes, and the form's idempotency token (one order per rendered form)."""

    create_invoice = forms.BooleanField(label=_("Create an Invoice"), required=False)
    po_number = forms.CharField(
        label=_("PO number"),
        max_length=PO_NUMBER_MAX_LENGTH,
        required=False,
        help_text=_("Optional. Type one or pick one of your PO numbers."),
    )
    notes = forms.CharField(
        label=_("Additional notes"),
        max_length=NOTES_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Optional. Printed on the invoice."),
    )
    idempotency_key = forms.CharField(
        widget=forms.HiddenInput,
        max_length=64,
        min_length=16,
        error_messages={
            "required": _("This form expired. Reload the page and try again."),
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("idempotency_key", secrets.token_urlsafe(24))
        super().__init__(*args, **kwargs)

    @property
    def idempotency_value(self) -> str:
        """The key to render: the submitted one, or a new one if it was refused."""
        if self.is_bound and not self.errors.get("idempotency_key"):
            return str(self.data.get(self.add_prefix("idempotency_key"), ""))
        if self.is_bound:
            return secrets.token_urlsafe(24)
        return str(self.initial["idempotency_key"])


class CreditPurchaseForm(PurchaseForm):
    credits = forms.IntegerField(
        label=_("Credits"),
        min_value=1,
        max_value=MAX_CREDITS_PER_ORDER,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "step": 1}),
    )
    field_order = ["credits", "create_invoice", "po_number", "notes"]


class PlanPurchaseForm(PurchaseForm):
    plan_size = forms.TypedChoiceField(label=_("Plan size"), coerce=int)
    term_months = forms.TypedChoiceField(label=_("Term"), coerce=int, widget=forms.RadioSelect)
    field_order = ["plan_size", "term_months", "create_invoice", "po_number", "notes"]

    def __init__(
        self,
        *args: Any,
        plan_choices: list[tuple[int, str]],
        term_choices: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        size_field = self.fields["plan_size"]
        term_field = self.fields["term_months"]
        assert isinstance(size_field, forms.TypedChoiceField)
        assert isinstance(term_field, forms.TypedChoiceField)
        size_field.choices = plan_choices
        term_field.choices = term_choices
        if plan_choices and "plan_size" not in self.initial:
            self.initial["plan_size"] = plan_choices[0][0]
        if term_choices and "term_months" not in self.initial:
            self.initial["term_months"] = term_choices[0][0]


class ChangeRequestForm(forms.Form):
    """Request a change (X4)."""

    kind = forms.ChoiceField(
        label=_("What do you need?"),
        choices=[("change", _("A change to this invoice")), ("void", _("Void this invoice"))],
    )
    reason = forms.CharField(
        label=_("Tell us what should change and why"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
