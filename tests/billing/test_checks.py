from decimal import Decimal

import pytest

from remit.billing.checks import billing_settings_check


def test_the_default_configuration_passes():
    assert billing_settings_check() == []


@pytest.mark.parametrize(
    ("setting", "value", "error_id"),
    [
        ("REMIT_INVOICE_NUMBER_FORMAT", "INV-{year}", "remit.E001"),
        ("REMIT_CREDIT_NOTE_NUMBER_FORMAT", "INV-{year}-{number:06d}", "remit.E002"),
        ("REMIT_TAX_RATES", "DE=abc", "remit.E003"),
        ("REMIT_CREDIT_INVOICE_MINIMUMS", {"JPY": Decimal("0.5")}, "remit.E004"),
        ("REMIT_CREDIT_INVOICE_MINIMUMS", {"XYZ": Decimal(1)}, "remit.E004"),
        ("REMIT_UNPAID_INVOICE_LIMIT", -1, "remit.E005"),
        ("REMIT_PAYMENT_TERMS_DAYS", -5, "remit.E006"),
    ],
)
def test_each_misconfiguration_is_reported_at_startup(settings, setting, value, error_id):
    setattr(settings, setting, value)

    assert [error.id for error in billing_settings_check()] == [error_id]
