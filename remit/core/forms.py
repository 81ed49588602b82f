"""Showing a service's validation errors on Django forms (User Center and back office alike)."""

from __future__ import annotations

from django import forms

from remit.core.errors import ValidationFailed


def form_errors_add(error: ValidationFailed, form: forms.Form, *more: forms.Form) -> None:
    """Put each of the service's field errors on the first of the forms that has the field; an
    error for a field none of them has is shown as a non-field error of ``form``."""
    for field, messages in error.field_errors.items():
        target = next((f for f in (form, *more) if field in f.fields), None)
        for message in messages:
            if target is None:
                form.add_error(None, message)
            else:
                target.add_error(field, message)
