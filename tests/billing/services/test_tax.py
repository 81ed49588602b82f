"""Which tax applies to a sale: every rule of tax_decide, and REMIT_TAX_RATES overrides."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from remit.billing.services.tax import tax_decide

REVERSE_CHARGE_NOTE = (
    "Reverse charge: VAT to be accounted for by the recipient (Article 196, Directive 2006/112/EC)"
)
EXEMPT_NOTE = "Exempt from tax"
OUTSIDE_SCOPE_NOTE = "Not subject to tax in the seller's country (place of supply outside)"

DE_VAT_ID = "DE136695976"
FR_VAT_ID = "FR40303265045"


def decide(
    seller: str, buyer: str, tax_id: str = "", *, exempt: bool = False
) -> tuple[str, str, str]:
    """(category, rate as written, note); the rate string shows its two decimals."""
    decision = tax_decide(
        seller_country=seller,
        buyer_country=buyer,
        buyer_tax_id=tax_id,
        buyer_tax_exempt=exempt,
    )
    return str(decision.category), str(decision.rate), decision.note


@pytest.fixture(autouse=True)
def _no_rate_overrides(settings):
    settings.REMIT_TAX_RATES = ""


# --- rule 1: exempt -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seller", "buyer", "tax_id"),
    [
        ("DE", "DE", ""),
        ("DE", "FR", FR_VAT_ID),  # exemption wins over reverse charge
        ("US", "US", ""),
        ("DE", "US", ""),
    ],
)
def test_exempt_buyer_is_exempt(seller, buyer, tax_id):
    # given a buyer marked tax exempt
    # when the tax is decided
    # then it is exempt at 0.00 with the exemption note, whatever the countries
    assert decide(seller, buyer, tax_id, exempt=True) == ("E", "0.00", EXEMPT_NOTE)


# --- rule 2: EU B2B cross-border ----------------------------------------------------------


@pytest.mark.parametrize(
    ("seller", "buyer", "tax_id"),
    [("DE", "FR", FR_VAT_ID), ("FR", "DE", DE_VAT_ID), ("FI", "AT", "ATU13585627")],
)
def test_eu_business_in_another_member_state_is_reverse_charge(seller, buyer, tax_id):
    # given an EU seller and a buyer with a VAT id in another member state
    # when the tax is decided
    # then the recipient accounts for the VAT: AE at 0.00 with the Article 196 note
    assert decide(seller, buyer, tax_id) == ("AE", "0.00", REVERSE_CHARGE_NOTE)


def test_eu_domestic_business_is_not_reverse_charge():
    # given a German seller and a German buyer with a VAT id
    # when the tax is decided
    # then German VAT is charged: reverse charge needs a cross-border sale
    assert decide("DE", "DE", DE_VAT_ID) == ("S", "19.00", "")


# --- rule 3: domestic, and EU consumers ---------------------------------------------------


@pytest.mark.parametrize(
    ("seller", "buyer", "expected"),
    [
        ("DE", "DE", ("S", "19.00", "")),
        ("FR", "FR", ("S", "20.00", "")),
        ("FI", "FI", ("S", "25.50", "")),
        ("HU", "HU", ("S", "27.00", "")),
        ("LU", "LU", ("S", "17.00", "")),
        ("GB", "GB", ("S", "20.00", "")),
        ("CH", "CH", ("S", "8.10", "")),
        ("NO", "NO", ("S", "25.00", "")),
        ("US", "US", ("Z", "0.00", "")),  # no US rate configured
        ("JP", "JP", ("Z", "0.00", "")),
    ],
)
def test_domestic_sale_uses_the_country_standard_rate(seller, buyer, expected):
    # given a buyer in the seller's country, without a VAT id
    # when the tax is decided
    # then the country's standard rate applies with two decimals, or zero rating without one
    assert decide(seller, buyer) == expected


@pytest.mark.parametrize(
    ("seller", "buyer", "expected"),
    [
        ("DE", "FR", ("S", "20.00", "")),
        ("DE", "FI", ("S", "25.50", "")),
        ("FR", "DE", ("S", "19.00", "")),
        ("AT", "LU", ("S", "17.00", "")),
    ],
)
def test_eu_consumer_in_another_member_state_pays_the_buyer_country_rate(seller, buyer, expected):
    # given an EU seller and a consumer (no VAT id) in another member state
    # when the tax is decided
    # then the buyer country's standard rate applies
    assert decide(seller, buyer) == expected


# --- rule 4: everything else is outside the scope -----------------------------------------


@pytest.mark.parametrize(
    ("seller", "buyer", "tax_id"),
    [
        ("DE", "US", ""),
        ("DE", "US", "12-3456789"),
        ("DE", "GB", "GB123456789"),
        ("DE", "CH", ""),
        ("US", "DE", ""),  # non-EU seller, EU consumer
        ("US", "DE", DE_VAT_ID),  # non-EU seller, EU business
        ("GB", "DE", DE_VAT_ID),  # the UK is not an EU member state
        ("GB", "US", ""),
    ],
)
def test_other_sales_are_outside_the_scope(seller, buyer, tax_id):
    # given a sale that is neither domestic nor within the EU
    # when the tax is decided
    # then it is outside the scope of tax (O) at 0.00 with the place-of-supply note
    assert decide(seller, buyer, tax_id) == ("O", "0.00", OUTSIDE_SCOPE_NOTE)


# --- REMIT_TAX_RATES overrides ------------------------------------------------------------


def test_override_adds_a_rate_for_an_unlisted_country(settings):
    # given a US sales tax rate configured
    settings.REMIT_TAX_RATES = "US=7.25"
    # when a domestic US sale is decided
    # then the configured rate applies as a standard rate
    assert decide("US", "US") == ("S", "7.25", "")


def test_overrides_replace_built_in_rates_and_are_lenient_on_case_and_spaces(settings):
    # given several overrides, with lower case, spaces and a trailing comma
    settings.REMIT_TAX_RATES = " de = 16 , FR=5.5,"
    # when domestic and EU consumer sales are decided
    # then the overridden rates apply, with two decimals, and other countries keep theirs
    assert decide("DE", "DE") == ("S", "16.00", "")
    assert decide("DE", "FR") == ("S", "5.50", "")
    assert decide("DE", "AT") == ("S", "20.00", "")


def test_override_to_zero_makes_the_country_zero_rated(settings):
    # given Germany overridden to 0 %
    settings.REMIT_TAX_RATES = "DE=0"
    # when a German domestic sale is decided
    # then it is zero rated
    assert decide("DE", "DE") == ("Z", "0.00", "")


def test_overrides_do_not_change_reverse_charge_or_exports(settings):
    # given overrides for the buyer countries
    settings.REMIT_TAX_RATES = "FR=5.5,US=7.25"
    # when cross-border B2B and export sales are decided
    # then reverse charge and outside-scope still apply
    assert decide("DE", "FR", FR_VAT_ID) == ("AE", "0.00", REVERSE_CHARGE_NOTE)
    assert decide("DE", "US") == ("O", "0.00", OUTSIDE_SCOPE_NOTE)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("US=abc", "bad rate"),
        ("US", "bad rate"),
        ("US=", "bad rate"),
        ("US=7,25", "two-letter country"),  # a decimal comma splits into a second item
        ("US=100", "out of range"),
        ("US=250", "out of range"),
        ("US=-1", "out of range"),
        ("US=-0.01", "out of range"),
        ("US=Infinity", "out of range"),
        ("US=NaN", "REMIT_TAX_RATES"),
        ("US=sNaN", "REMIT_TAX_RATES"),
        ("=7", "REMIT_TAX_RATES"),
        ("USA=7", "REMIT_TAX_RATES"),
    ],
)
def test_bad_override_is_improperly_configured(settings, raw, message):
    # given a malformed REMIT_TAX_RATES
    settings.REMIT_TAX_RATES = raw
    # when a sale that needs the rate table is decided
    # then configuration is reported as broken
    with pytest.raises(ImproperlyConfigured, match=message):
        decide("US", "US")
