"""billing_profile_input_clean, po_number_clean and notes_clean: what customers may type."""

from __future__ import annotations

from dataclasses import replace

import pytest
from django.utils import translation

from remit.billing.services.tax import EU_MEMBER_STATES
from remit.billing.services.validation import (
    BillingProfileInput,
    FieldErrors,
    billing_profile_input_clean,
    notes_clean,
    po_number_clean,
)
from remit.core.errors import ValidationFailed
from remit.core.i18n import country_name

DE_CHECK_DIGIT = (
    "A VAT number from Germany is DE followed by 9 digits. "
    "The check digit of DE136695977 is wrong; check it for a typing error."
)
SINGLE_LINE_FIELDS = ("legal_name", "address_line1", "address_line2", "city", "postal_code")
LINE_BREAK_MESSAGE = "Line breaks and control characters are not allowed here."


def _input(**overrides: object) -> BillingProfileInput:
    """A valid German business profile; override what the test is about."""
    values: dict[str, object] = {
        "legal_name": "Beispiel GmbH",
        "address_line1": "Hauptstraße 1",
        "city": "Berlin",
        "postal_code": "10115",
        "country": "DE",
        "tax_id": "",
        "invoice_recipient_emails": ("ap@example.com",),
    }
    values.update(overrides)
    return BillingProfileInput(**values)  # type: ignore[arg-type]


def _field_errors(data: BillingProfileInput) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as excinfo:
        billing_profile_input_clean(data)
    return excinfo.value.field_errors


# --- required fields and lengths ------------------------------------------------------------


def test_every_required_field_missing_is_reported_under_its_own_name():
    # Given a profile where every required field is empty or blank
    data = _input(legal_name="", address_line1="   ", city="", postal_code="", country="")

    # When it is cleaned
    errors = _field_errors(data)

    # Then each required field has exactly the "required" message, and nothing else is reported
    assert errors == {
        "legal_name": ["This field is required."],
        "address_line1": ["This field is required."],
        "city": ["This field is required."],
        "postal_code": ["This field is required."],
        "country": ["This field is required."],
    }


@pytest.mark.parametrize("missing", ["legal_name", "address_line1", "city", "postal_code"])
def test_a_single_missing_required_field_is_the_only_error(missing):
    errors = _field_errors(_input(**{missing: ""}))

    assert errors == {missing: ["This field is required."]}


def test_optional_fields_may_be_empty():
    cleaned = billing_profile_input_clean(
        _input(address_line2="", region="", tax_id="", invoice_recipient_emails=())
    )

    assert cleaned.address_line2 == ""
    assert cleaned.region == ""
    assert cleaned.tax_id == ""
    assert cleaned.invoice_recipient_emails == ()


def test_legal_name_of_200_characters_is_accepted():
    name = "A" * 200

    cleaned = billing_profile_input_clean(_input(legal_name=name))

    assert cleaned.legal_name == name


def test_legal_name_of_201_characters_is_refused():
    errors = _field_errors(_input(legal_name="A" * 201))

    assert errors == {"legal_name": ["Use at most 200 characters (you used 201)."]}


@pytest.mark.parametrize(
    ("name", "limit"),
    [
        ("address_line1", 200),
        ("address_line2", 200),
        ("city", 100),
        ("postal_code", 20),
        ("region", 100),
        ("tax_id", 40),
    ],
)
def test_other_length_limits(name, limit):
    errors = _field_errors(_input(**{name: "1" * (limit + 1)}))

    assert errors == {name: [f"Use at most {limit} characters (you used {limit + 1})."]}


def test_surrounding_whitespace_is_stripped_before_the_length_check():
    cleaned = billing_profile_input_clean(_input(legal_name="  " + "A" * 200 + "  "))

    assert cleaned.legal_name == "A" * 200


# --- control characters and scripts ---------------------------------------------------------


@pytest.mark.parametrize("field_name", SINGLE_LINE_FIELDS)
@pytest.mark.parametrize("char", ["\x00", "\x1b", "\n", "\r", "\t"])
def test_control_characters_are_refused_in_single_line_fields(field_name, char):
    errors = _field_errors(_input(**{field_name: f"Line one{char}line two"}))

    assert errors == {field_name: [LINE_BREAK_MESSAGE]}


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\n"])
def test_control_characters_are_refused_in_region_and_tax_id(char):
    errors = _field_errors(_input(region=f"Berlin{char}Mitte", tax_id=f"DE136{char}695976"))

    assert errors == {"region": [LINE_BREAK_MESSAGE], "tax_id": [LINE_BREAK_MESSAGE]}


@pytest.mark.parametrize(
    ("legal_name", "address_line1", "city"),
    [
        # Arabic
        ("شركة المثال ذ.م.م", "شارع الملك فهد ١٢", "الرياض"),
        # Hebrew
        ('דוגמה בע"מ', "רחוב הרצל 5", "תל אביב"),
        # Chinese and Japanese
        ("示例科技有限公司", "東京都千代田区丸の内1-1", "北京市"),
    ],
)
def test_right_to_left_and_cjk_text_is_kept_unchanged(legal_name, address_line1, city):
    data = _input(legal_name=legal_name, address_line1=address_line1, city=city)

    cleaned = billing_profile_input_clean(data)

    assert cleaned == data
    assert (cleaned.legal_name, cleaned.address_line1, cleaned.city) == (
        legal_name,
        address_line1,
        city,
    )


# --- country and postal code -----------------------------------------------------------------


@pytest.mark.parametrize("typed", ["de", " De ", "DE"])
def test_country_is_normalised_to_upper_case(typed):
    cleaned = billing_profile_input_clean(_input(country=typed))

    assert cleaned.country == "DE"


@pytest.mark.parametrize("code", ["XX", "EU", "ZZ", "UN", "D", "DEU", "12"])
def test_unknown_or_non_country_codes_are_refused(code):
    errors = _field_errors(_input(country=code))

    assert errors == {"country": ["Choose a country from the list."]}


def test_postal_code_is_optional_in_hong_kong():
    cleaned = billing_profile_input_clean(
        _input(country="HK", city="Hong Kong", postal_code="", tax_id="")
    )

    assert cleaned.country == "HK"
    assert cleaned.postal_code == ""


def test_postal_code_is_required_in_germany():
    errors = _field_errors(_input(country="DE", postal_code=""))

    assert errors == {"postal_code": ["This field is required."]}


# --- tax and VAT ids ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "DE136695976",
        "de 136 695 976",
        "DE 136.695.976",
        "136695976",
    ],
)
def test_german_vat_id_is_normalised(typed):
    cleaned = billing_profile_input_clean(_input(country="DE", tax_id=typed))

    assert cleaned.tax_id == "DE136695976"


def test_german_vat_id_with_a_wrong_check_digit_is_refused():
    errors = _field_errors(_input(country="DE", tax_id="DE136695977"))

    assert errors == {"tax_id": [DE_CHECK_DIGIT]}


def test_french_vat_id_for_a_german_address_is_refused():
    # Given a valid French VAT number ("FR40303265045" is valid for FR)
    errors = _field_errors(_input(country="DE", tax_id="FR40303265045"))

    assert errors == {
        "tax_id": [
            "A VAT number from Germany is DE followed by 9 digits. "
            "FR40303265045 starts with FR, not DE."
        ]
    }


def test_greek_vat_id_with_the_el_prefix_is_accepted():
    cleaned = billing_profile_input_clean(
        _input(country="GR", city="Athina", postal_code="10431", tax_id="el 094 259 216")
    )

    assert cleaned.country == "GR"
    assert cleaned.tax_id == "EL094259216"


def test_greek_vat_id_with_the_gr_prefix_is_refused():
    errors = _field_errors(
        _input(country="GR", city="Athina", postal_code="10431", tax_id="GR094259216")
    )

    assert errors == {
        "tax_id": [
            "A VAT number from Greece is EL followed by 9 digits. "
            "GR094259216 starts with GR, not EL."
        ]
    }


def test_greek_vat_id_without_prefix_gets_the_el_prefix():
    cleaned = billing_profile_input_clean(
        _input(country="GR", city="Athina", postal_code="10431", tax_id="094259216")
    )

    assert cleaned.tax_id == "EL094259216"


@pytest.mark.parametrize("typed", ["XY123456789", "12"])
def test_eu_tax_id_with_an_unknown_prefix_is_a_field_error(typed):
    errors = _field_errors(_input(country="DE", tax_id=typed))

    assert list(errors) == ["tax_id"]


@pytest.mark.parametrize("typed", ["GB980780684", "gb 980 7806 84"])
def test_valid_uk_vat_id_is_accepted_and_compacted_by_stdnum(typed):
    cleaned = billing_profile_input_clean(
        _input(country="GB", city="London", postal_code="SW1A 1AA", tax_id=typed)
    )

    # stored with its GB prefix, as printed on invoices
    assert cleaned.country == "GB"
    assert cleaned.tax_id == "GB980780684"


def test_invalid_uk_vat_id_is_refused():
    errors = _field_errors(
        _input(country="GB", city="London", postal_code="SW1A 1AA", tax_id="GB980780685")
    )

    assert errors == {
        "tax_id": [
            "A VAT number from United Kingdom is GB followed by 9 or 12 digits. "
            "The check digit of GB980780685 is wrong; check it for a typing error."
        ]
    }


def test_swiss_uid_with_mwst_suffix_is_accepted_and_compacted():
    cleaned = billing_profile_input_clean(
        _input(country="CH", city="Zürich", postal_code="8001", tax_id="CHE-113.747.391 MWST")
    )

    assert cleaned.tax_id == "CHE113747391MWST"


def test_swiss_uid_without_vat_suffix_is_refused():
    errors = _field_errors(
        _input(country="CH", city="Zürich", postal_code="8001", tax_id="CHE-113.747.391")
    )

    assert errors == {
        "tax_id": [
            "A VAT number from Switzerland is CHE followed by 9 digits and MWST, TVA or IVA. "
            "CHE113747391 has too many or too few characters."
        ]
    }


# --- VAT messages: what is wrong and the form each EU country expects ---------------------------

# A wrongly typed number for every EU country (a check digit changed, or too short), with the
# form the message must give.
EU_VAT_FORMS = {
    "AT": ("ATU1234567", "ATU followed by 8 digits"),
    "BE": ("BE0123456789", "BE followed by 10 digits"),
    "BG": ("BG123456789", "BG followed by 9 or 10 digits"),
    "CY": ("CY1234567", "CY followed by 8 digits and a letter"),
    "CZ": ("CZ12345678", "CZ followed by 8 to 10 digits"),
    "DE": ("DE123456789", "DE followed by 9 digits"),
    "DK": ("DK1234567", "DK followed by 8 digits"),
    "EE": ("EE123456789", "EE followed by 9 digits"),
    "ES": ("ESX1234567X", "ES followed by a letter or digit, 7 digits and a letter or digit"),
    "FI": ("FI12345678", "FI followed by 8 digits"),
    "FR": ("FR12345678901", "FR followed by 2 letters or digits and 9 digits"),
    "GR": ("EL123456789", "EL followed by 9 digits"),
    "HR": ("HR1234567890", "HR followed by 11 digits"),
    "HU": ("HU12345678", "HU followed by 8 digits"),
    "IE": ("IE123456", "IE followed by 7 digits and 1 or 2 letters"),
    "IT": ("IT12345678901", "IT followed by 11 digits"),
    "LT": ("LT1234567890", "LT followed by 9 or 12 digits"),
    "LU": ("LU12345678", "LU followed by 8 digits"),
    "LV": ("LV1234567890", "LV followed by 11 digits"),
    "MT": ("MT12345678", "MT followed by 8 digits"),
    "NL": ("NL123456789B01", "NL followed by 9 digits, the letter B and 2 digits"),
    "PL": ("PL1234567890", "PL followed by 10 digits"),
    "PT": ("PT123456788", "PT followed by 9 digits"),
    "RO": ("RO12", "RO followed by 2 to 10 digits"),
    "SE": ("SE123456789001", "SE followed by 12 digits ending in 01"),
    "SI": ("SI12345678", "SI followed by 8 digits"),
    "SK": ("SK1234567890", "SK followed by 10 digits"),
}


def _eu_input(country: str, tax_id: str) -> BillingProfileInput:
    return _input(country=country, city="Capital", postal_code="1000", tax_id=tax_id)


def test_every_eu_country_has_its_vat_form_described():
    assert set(EU_VAT_FORMS) == EU_MEMBER_STATES


@pytest.mark.parametrize("country", sorted(EU_VAT_FORMS))
def test_a_wrong_eu_vat_number_is_refused_with_the_expected_form(country):
    # Given a wrongly typed VAT number of the country
    typed, form = EU_VAT_FORMS[country]

    # When it is checked
    [message] = _field_errors(_eu_input(country, typed))["tax_id"]

    # Then the message gives the country's form and what is wrong with this number
    name = country_name(country, "en")
    assert message.startswith(f"A VAT number from {name} is {form}. ")
    problem = message.removeprefix(f"A VAT number from {name} is {form}. ")
    assert problem in {
        f"The check digit of {typed} is wrong; check it for a typing error.",
        f"{typed} has too many or too few characters.",
        f"{typed} does not have this form.",
    }


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("DE123456789", "The check digit of DE123456789 is wrong; check it for a typing error."),
        ("de 1234 5678", "DE12345678 has too many or too few characters."),
        ("12345678A", "DE12345678A does not have this form."),
        ("XY123456789", "XY123456789 starts with XY, not DE."),
    ],
    ids=["check-digit", "length", "form", "prefix"],
)
def test_the_german_vat_message_says_what_is_wrong(typed, problem):
    errors = _field_errors(_input(country="DE", tax_id=typed))

    assert errors == {
        "tax_id": [f"A VAT number from Germany is DE followed by 9 digits. {problem}"]
    }


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "de",
            "Eine USt-IdNr. (Deutschland) besteht aus DE und 9 Ziffern. Die Prüfziffer von "
            "DE123456789 ist falsch; bitte prüfen Sie die Nummer auf Tippfehler.",
        ),
        (
            "fr",
            "Un numéro de TVA (Allemagne) s’écrit DE suivi de 9 chiffres. Le chiffre de "
            "contrôle de DE123456789 est faux ; vérifiez qu’il n’y a pas de faute de frappe.",
        ),
    ],
)
def test_the_vat_message_is_in_the_customers_language(language, expected):
    with translation.override(language):
        errors = _field_errors(_input(country="DE", tax_id="DE123456789"))

    assert errors == {"tax_id": [expected]}


def test_a_country_without_a_described_form_names_the_country():
    errors = _field_errors(
        _input(country="NO", city="Oslo", postal_code="0150", tax_id="NO 123 456 789 MVA")
    )

    assert errors == {"tax_id": ["This is not a valid tax ID for Norway."]}


def test_free_text_tax_id_is_accepted_for_a_country_without_a_validator():
    cleaned = billing_profile_input_clean(
        _input(country="US", city="New York", postal_code="10001", tax_id="12-3456789")
    )

    assert cleaned.tax_id == "12-3456789"


def test_free_text_tax_id_is_compacted_and_upper_cased():
    cleaned = billing_profile_input_clean(
        _input(country="US", city="New York", postal_code="10001", tax_id=" ab 12-34 ")
    )

    assert cleaned.tax_id == "AB12-34"


@pytest.mark.parametrize("typed", ["a b!c", "1", "A" * 33, "12_345"])
def test_free_text_tax_id_with_bad_characters_or_length_is_refused(typed):
    errors = _field_errors(_input(country="US", city="New York", postal_code="10001", tax_id=typed))

    assert errors == {"tax_id": ["Use 2–32 letters, digits, dashes, dots or slashes."]}


def test_tax_id_is_not_checked_when_the_country_is_invalid():
    errors = _field_errors(_input(country="XX", tax_id="DE136695977"))

    assert errors == {"country": ["Choose a country from the list."]}


# --- recipient emails --------------------------------------------------------------------------


def test_recipient_emails_are_stripped_deduplicated_and_domain_lower_cased():
    cleaned = billing_profile_input_clean(
        _input(
            invoice_recipient_emails=(
                "ap@Example.COM",
                " ap@example.com ",
                "",
                "Finance.Team@EXAMPLE.org",
                "ap@example.com",
            )
        )
    )

    # the local part keeps its case; only the domain is lower-cased
    assert cleaned.invoice_recipient_emails == ("ap@example.com", "Finance.Team@example.org")


def test_invalid_recipient_emails_are_named_in_the_messages():
    errors = _field_errors(
        _input(invoice_recipient_emails=("ok@example.com", "not-an-email", "a@b@c", "x@"))
    )

    assert errors == {
        "invoice_recipient_emails": [
            "not-an-email is not a valid email address.",
            "a@b@c is not a valid email address.",
            "x@ is not a valid email address.",
        ]
    }


def test_ten_recipients_are_accepted():
    emails = tuple(f"user{i}@example.com" for i in range(10))

    cleaned = billing_profile_input_clean(_input(invoice_recipient_emails=emails))

    assert cleaned.invoice_recipient_emails == emails


def test_more_than_ten_recipients_are_refused():
    emails = tuple(f"user{i}@example.com" for i in range(11))

    errors = _field_errors(_input(invoice_recipient_emails=emails))

    assert errors == {"invoice_recipient_emails": ["Add at most 10 recipients."]}


def test_all_errors_are_reported_at_once():
    errors = _field_errors(
        _input(
            legal_name="",
            city="C" * 101,
            country="de",
            tax_id="DE136695977",
            invoice_recipient_emails=("nope",),
        )
    )

    assert errors == {
        "legal_name": ["This field is required."],
        "city": ["Use at most 100 characters (you used 101)."],
        "tax_id": [DE_CHECK_DIGIT],
        "invoice_recipient_emails": ["nope is not a valid email address."],
    }


def test_cleaning_returns_a_new_value_and_leaves_the_input_unchanged():
    data = _input(country="de", tax_id="de 136 695 976", legal_name="  Beispiel GmbH ")
    original = replace(data)

    cleaned = billing_profile_input_clean(data)

    assert data == original
    assert cleaned == _input(country="DE", tax_id="DE136695976", legal_name="Beispiel GmbH")


# --- PO numbers and notes ---------------------------------------------------------------------


def test_po_number_of_64_characters_is_accepted():
    errors = FieldErrors()

    cleaned = po_number_clean(errors, "po_number", "  " + "P" * 64 + " ")

    assert cleaned == "P" * 64
    assert errors.errors == {}


def test_po_number_of_65_characters_is_refused():
    errors = FieldErrors()

    po_number_clean(errors, "po_number", "P" * 65)

    assert errors.errors == {"po_number": ["Use at most 64 characters (you used 65)."]}


@pytest.mark.parametrize("value", [None, "", "   "])
def test_po_number_is_optional(value):
    errors = FieldErrors()

    assert po_number_clean(errors, "po_number", value) == ""
    assert errors.errors == {}


@pytest.mark.parametrize("char", ["\n", "\x00", "\x1b"])
def test_po_number_refuses_line_breaks_and_control_characters(char):
    errors = FieldErrors()

    po_number_clean(errors, "po_number", f"PO{char}1")

    assert errors.errors == {"po_number": [LINE_BREAK_MESSAGE]}


def test_notes_of_2000_characters_are_accepted():
    errors = FieldErrors()

    assert notes_clean(errors, "notes", "n" * 2000) == "n" * 2000
    assert errors.errors == {}


def test_notes_of_2001_characters_are_refused():
    errors = FieldErrors()

    notes_clean(errors, "notes", "n" * 2001)

    assert errors.errors == {"notes": ["Use at most 2000 characters (you used 2001)."]}


def test_notes_keep_newlines_and_tabs_and_normalise_crlf():
    errors = FieldErrors()

    cleaned = notes_clean(errors, "notes", "Cost centre:\r\n\t4711\nAttn: AP ")

    assert cleaned == "Cost centre:\n\t4711\nAttn: AP"
    assert errors.errors == {}


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x7f"])
def test_notes_refuse_other_control_characters(char):
    errors = FieldErrors()

    notes_clean(errors, "notes", f"line one\nline{char} two")

    assert errors.errors == {"notes": ["Control characters are not allowed."]}


def test_errors_for_several_fields_are_collected_and_raised_together():
    errors = FieldErrors()
    po_number_clean(errors, "po_number", "P" * 65)
    notes_clean(errors, "notes", "bad\x00")

    with pytest.raises(ValidationFailed) as excinfo:
        errors.raise_if_any()

    assert excinfo.value.field_errors == {
        "po_number": ["Use at most 64 characters (you used 65)."],
        "notes": ["Control characters are not allowed."],
    }
    assert excinfo.value.code == "validation_error"
    assert excinfo.value.details == {"fields": excinfo.value.field_errors}


@pytest.mark.parametrize(
    "hostile",
    ["Evil\u202eCorp", "Line\u2028Break", "Para\u2029Break", "Iso\u2066late\u2069"],
)
def test_bidi_overrides_and_unicode_line_breaks_are_refused_in_single_line_fields(hostile):
    errors = _field_errors(_input(legal_name=hostile))

    assert list(errors) == ["legal_name"]


def test_blank_recipient_rows_do_not_count_towards_the_limit():
    emails = (*tuple(f"ap{i}@example.com" for i in range(10)), "", "  ")

    cleaned = billing_profile_input_clean(_input(invoice_recipient_emails=emails))

    assert len(cleaned.invoice_recipient_emails) == 10


def test_old_mac_line_endings_in_notes_become_newlines():
    errors = FieldErrors()

    assert notes_clean(errors, "notes", "first\rsecond\r\nthird") == "first\nsecond\nthird"
    assert errors.errors == {}
