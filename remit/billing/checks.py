"""Startup checks: a misconfigured number format, tax override or minimum fails at boot with a
clear message, not at the first invoice."""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from remit.core.config import billing_settings
from remit.core.money import MoneyError, major_to_minor


@checks.register()
def billing_settings_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from remit.billing.services.numbering import number_format_fields
    from remit.billing.services.tax import tax_rates

    errors: list[checks.CheckMessage] = []
    config = billing_settings()
    for name, number_format in (
        ("REMIT_INVOICE_NUMBER_FORMAT", config.invoice_number_format),
        ("REMIT_CREDIT_NOTE_NUMBER_FORMAT", config.credit_note_number_format),
    ):
        try:
            number_format_fields(number_format)
        except ImproperlyConfigured as error:
            errors.append(checks.Error(f"{name}: {error}", id="remit.E001"))
    if config.invoice_number_format == config.credit_note_number_format:
        errors.append(
            checks.Error(
                "REMIT_INVOICE_NUMBER_FORMAT and REMIT_CREDIT_NOTE_NUMBER_FORMAT must differ",
                id="remit.E002",
            )
        )
    try:
        tax_rates()
    except ImproperlyConfigured as error:
        errors.append(checks.Error(str(error), id="remit.E003"))
    for currency, amount in config.credit_invoice_minimums.items():
        try:
            major_to_minor(amount, currency)
        except MoneyError as error:
            errors.append(checks.Error(f"REMIT_CREDIT_INVOICE_MINIMUMS: {error}", id="remit.E004"))
    if config.unpaid_invoice_limit < 0:
        errors.append(checks.Error("REMIT_UNPAID_INVOICE_LIMIT must be >= 0", id="remit.E005"))
    if config.payment_terms_days < 0:
        errors.append(checks.Error("REMIT_PAYMENT_TERMS_DAYS must be >= 0", id="remit.E006"))
    return errors


@checks.register()
def document_fonts_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Documents need Inter, DejaVu Sans and WenQuanYi Micro Hei (CJK); without them Typst falls
    back to fonts that show boxes instead of Chinese and Japanese text."""
    from pathlib import Path

    from django.conf import settings

    missing = [path for path in settings.REMIT_FONT_DIRS if not any(Path(path).glob("*.*"))]
    if missing:
        return [
            checks.Error(
                f"Font folders missing or empty: {', '.join(map(str, missing))}",
                hint="Run ./scripts/system-packages.sh (or make run / make test).",
                id="remit.E007",
            )
        ]
    return []
