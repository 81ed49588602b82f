"""User Center forms: server-side validation; business rules stay in the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from remit.billing.services.validation import (
    MAX_RECIPIENTS,
    BillingProfileInput,
    billing_profile_input_clean,
    country_codes,
)
from remit.core.errors import ValidationFailed
from remit.core.throttle import throttle_blocked, throttle_clear, throttle_failure

SIGN_IN_SCOPE = "sign-in"


class SignInForm(AuthenticationForm):
    """Email + password; repeated failures for an email or from an address pause sign-in."""

    username = forms.EmailField(
        label=_("Email"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("That email and password do not match an account."),
        "throttled": _("Too many failed attempts. Wait a few minutes, or reset your password."),
    }

    def _identities(self) -> list[str]:
        email = (self.data.get("username") or "").strip().lower()
        address = self.request.META.get("REMOTE_ADDR", "") if self.request else ""
        return [f"email:{email}", f"address:{address}"]

    def clean(self) -> dict[str, Any]:
        identities = self._identities()
        if throttle_blocked(
            scope=SIGN_IN_SCOPE, identities=identities, limit=settings.REMIT_LOGIN_ATTEMPTS
        ):
            raise ValidationError(self.error_messages["throttled"], code="throttled")
        try:
            cleaned = super().clean()
        except ValidationError:
            throttle_failure(
                scope=SIGN_IN_SCOPE,
                identities=identities,
                window_seconds=settings.REMIT_LOGIN_LOCKOUT_SECONDS,
            )
            raise
        throttle_clear(scope=SIGN_IN_SCOPE, identities=identities[:1])
        return cleaned


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
    postal_code = forms.CharField(label=_("Postal code"), max_length=20, required=False)
    region = forms.CharField(label=_("State / region"), max_length=100, required=False)
    country = forms.ChoiceField(label=_("Country"), choices=_country_choices)
    tax_id = forms.CharField(label=_("Tax / VAT ID"), max_length=40, required=False)
    invoice_recipient_emails = forms.CharField(
        label=_("Send invoices to"),
        required=False,
        help_text=_("Up to %(count)s addresses, separated by commas.") % {"count": MAX_RECIPIENTS},
        widget=forms.TextInput(attrs={"autocomplete": "email", "inputmode": "email"}),
        max_length=2600,
    )

    def clean(self) -> dict[str, Any]:
        """Run the service's validation on what was typed, so every problem (a VAT ID that does
        not fit the country as well as a missing name) is reported in one round."""
        cleaned = super().clean() or {}
        try:
            billing_profile_input_clean(self._input_from(self.data))
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

    def add_service_errors(self, error: ValidationFailed) -> None:
        for field, messages in error.field_errors.items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)


class PurchaseOrderNumberForm(forms.Form):
    """Add or edit a PO number (X3)."""

    value = forms.CharField(label=_("PO number"), max_length=64)
    make_default = forms.BooleanField(label=_("Use as default for new invoices"), required=False)
    apply_to_unpaid = forms.BooleanField(
        label=_("Apply this PO number to any unpaid invoices"), required=False
    )
