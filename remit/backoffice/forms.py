"""Forms of the back office's support actions. Limits mirror the services, whose validation is
authoritative (their field errors are shown on these forms)."""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone

from remit.billing.models import Account, ChangeRequest, Membership, PlanSize
from remit.billing.services.accounts import MAX_UNPAID_INVOICE_LIMIT
from remit.billing.services.invoices import VOID_REASON_CODES
from remit.core.money import MoneyError, major_to_minor
from remit.integrations.models import ApiKey

REASON = {
    "max_length": 2000,
    "widget": forms.Textarea(attrs={"rows": 3}),
    "help_text": "Recorded in the audit trail.",
}


class AnswerForm(forms.Form):
    status = forms.ChoiceField(
        choices=[(ChangeRequest.Status.DONE, "Done"), (ChangeRequest.Status.DECLINED, "Declined")]
    )
    response = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Shown to the customer on the invoice's row.",
    )


class VoidForm(forms.Form):
    reason_code = forms.ChoiceField(
        choices=[(code, code.replace("_", " ").capitalize()) for code in VOID_REASON_CODES]
    )
    reason = forms.CharField(**REASON)  # type: ignore[arg-type]


class ReissueForm(forms.Form):
    credits = forms.IntegerField(
        required=False, min_value=1, help_text="New number of credits (credit purchases)."
    )
    plan_size = forms.ModelChoiceField(
        queryset=PlanSize.objects.filter(is_active=True).select_related("plan"),
        required=False,
        help_text="New plan size (subscriptions); empty keeps the current one.",
    )
    term_months = forms.TypedChoiceField(
        coerce=int,
        required=False,
        empty_value=None,
        choices=[
            ("", "Keep the current term"),
            (3, "3 months"),
            (6, "6 months"),
            (12, "12 months"),
        ],
    )
    reason = forms.CharField(**REASON)  # type: ignore[arg-type]


class PaymentForm(forms.Form):
    """A bank transfer (or other manual payment) of the invoice's full total. Partial and
    over-payments are refused by the service: an invoice is paid by exactly its total."""

    method = forms.ChoiceField(choices=[("bank_transfer", "Bank transfer"), ("other", "Other")])
    received_on = forms.DateField(
        initial=timezone.localdate, widget=forms.DateInput(attrs={"type": "date"})
    )
    amount = forms.DecimalField(max_digits=18, decimal_places=4, min_value=Decimal(0))
    reference = forms.CharField(
        max_length=255, help_text="The bank's reference of the transfer; recorded once."
    )

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.fields["amount"].help_text = f"In {currency}, the invoice's full total."

    def clean_amount(self) -> int:
        try:
            return major_to_minor(self.cleaned_data["amount"], self.currency)
        except MoneyError as error:
            raise forms.ValidationError(f"Not an amount in {self.currency}.") from error

    @staticmethod
    def received_at_of(data: dict[str, Any]) -> datetime:
        """Noon of the day the bank shows, in Remit's time zone."""
        return timezone.make_aware(datetime.combine(data["received_on"], time(12)))


class TrialInvoicingForm(forms.Form):
    enabled = forms.BooleanField(required=False, label="Invoicing during trial enabled")
    expires_at = forms.DateTimeField(
        required=False,
        help_text="Optional: invoicing switches off again at this time (YYYY-MM-DD HH:MM).",
    )
    reason = forms.CharField(**REASON)  # type: ignore[arg-type]


class LimitForm(forms.Form):
    limit = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=MAX_UNPAID_INVOICE_LIMIT,
        help_text="Unpaid invoices this account may have; empty uses the global default.",
    )
    reason = forms.CharField(**REASON)  # type: ignore[arg-type]


class ConfirmForm(forms.Form):
    """Actions without input (resend)."""


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="Which system uses it, e.g. 'billing backend'."
    )
    scopes = forms.MultipleChoiceField(
        choices=ApiKey.Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[ApiKey.Scope.READ, ApiKey.Scope.WRITE],
    )


TIME_ZONE_HELP = (
    "An IANA time zone name such as Europe/Berlin or America/New_York; empty uses the site's "
    "time zone."
)


class InviteForm(forms.Form):
    email = forms.EmailField(max_length=254, help_text="Gets an invitation email.")
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.MEMBER)


class TimeZoneForm(forms.Form):
    # Checked by the service (the one home of the rule); its message is shown on this field.
    time_zone = forms.CharField(max_length=64, required=False, help_text=TIME_ZONE_HELP)
    reason = forms.CharField(**{**REASON, "required": False})  # type: ignore[arg-type]


class AccountCreateForm(forms.Form):
    name = forms.CharField(max_length=200, help_text="The customer's company or full name.")
    currency = forms.CharField(
        max_length=3,
        initial=lambda: settings.REMIT_DEFAULT_CURRENCY,
        help_text="ISO 4217 code the account is billed in (USD, EUR, JPY); it never changes.",
    )
    language = forms.ChoiceField(
        choices=settings.LANGUAGES, initial="en", help_text="Of its documents and emails."
    )
    status = forms.ChoiceField(choices=Account.Status.choices, initial=Account.Status.TRIAL)
    external_id = forms.CharField(
        max_length=100, required=False, help_text="Your own system's id for this customer."
    )
    time_zone = forms.CharField(max_length=64, required=False, help_text=TIME_ZONE_HELP)
    owner_email = forms.EmailField(
        max_length=254,
        required=False,
        label="Owner's email",
        help_text="Optional: invited as the account's owner, with a link to choose a password.",
    )
