"""Issue 3, PDF rendering: PDF/A-3b, byte-identical re-renders, six languages with Babel formats,
CJK with a real CJK font, pagination with repeated table headers, long notes, and user text that
is always printed literally.

Documents are issued through the real services and stored with ``document_store``; the text is
read back with poppler's ``pdftotext`` (which crops anything outside the page, so clipped text
is missing from it) and the fonts with ``pdffonts``.
"""

from __future__ import annotations

import copy
import hashlib
import re
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from remit.billing.models import Account, Invoice
from remit.billing.services.billing_profiles import billing_profile_set
from remit.billing.services.invoices import invoice_void
from remit.billing.services.po_numbers import po_number_add
from remit.billing.services.validation import NOTES_MAX_LENGTH, BillingProfileInput
from remit.core.i18n import TYPST_LANGUAGES, format_day, format_money, label
from remit.documents.models import Document
from remit.documents.services import rendering
from remit.documents.services.archive import archive_verify, document_open, document_store
from remit.documents.services.rendering import (
    CURRENT_TEMPLATE_VERSION,
    document_render,
    document_render_data,
    render_pdf,
)
from tests.billing.helpers import ACTOR, buy_credits_by_invoice, pay_invoice
from tests.documents.helpers_pdf import (
    normalise,
    pdf_catalog,
    pdf_fonts,
    pdf_page_size,
    pdf_pages,
    pdf_text,
    pdf_xmp,
    squash,
    xmp_value,
)
from tests.factories import AccountFactory, BillingProfileFactory

pytestmark = pytest.mark.django_db

ISSUED_AT = "2025-03-05 10:00Z"
A4 = (595.3, 841.9)


# --- building documents -----------------------------------------------------------------------


@dataclass(frozen=True)
class LanguageCase:
    language: str
    currency: str
    profile: BillingProfileInput
    country_name: str
    # Hard-coded, so that a change in labels or in Babel's formats is noticed.
    invoice_title: str
    credit_note_title: str
    receipt_title: str
    total: str  # 1,234 credits (USD/EUR 1.00 each, JPY 100 each)
    issue_date: str  # 5 March 2025
    due_date: str  # 30 days later

    def __str__(self) -> str:
        return self.language


LANGUAGE_CASES = [
    LanguageCase(
        language="en",
        currency="USD",
        profile=BillingProfileInput(
            legal_name="Northwind Traders LLC",
            address_line1="500 Howard Street",
            city="San Francisco",
            region="CA",
            postal_code="94105",
            country="US",
        ),
        country_name="United States",
        invoice_title="Invoice",
        credit_note_title="Credit note",
        receipt_title="Payment receipt",
        total="$1,234.00",
        issue_date="March 5, 2025",
        due_date="April 4, 2025",
    ),
    LanguageCase(
        language="de",
        currency="EUR",
        profile=BillingProfileInput(
            legal_name="Müller & Söhne Datentechnik GmbH",
            address_line1="Friedrichstraße 123",
            city="Berlin",
            postal_code="10117",
            country="DE",
        ),
        country_name="Deutschland",
        invoice_title="Rechnung",
        credit_note_title="Gutschrift",
        receipt_title="Zahlungsbestätigung",
        total="1.234,00\xa0€",
        issue_date="5. März 2025",
        due_date="4. April 2025",
    ),
    LanguageCase(
        language="fr",
        currency="EUR",
        profile=BillingProfileInput(
            legal_name="Société Française des Données SARL",
            address_line1="12 rue de la Paix",
            city="Paris",
            postal_code="75002",
            country="FR",
        ),
        country_name="France",
        invoice_title="Facture",
        credit_note_title="Avoir",
        receipt_title="Reçu de paiement",
        total="1\u202f234,00\xa0€",
        issue_date="5 mars 2025",
        due_date="4 avril 2025",
    ),
    LanguageCase(
        language="es",
        currency="EUR",
        profile=BillingProfileInput(
            legal_name="Datos Ibéricos S.L.",
            address_line1="Calle de Alcalá 45",
            city="Madrid",
            postal_code="28014",
            country="ES",
        ),
        country_name="España",
        invoice_title="Factura",
        credit_note_title="Factura rectificativa",
        receipt_title="Recibo de pago",
        total="1.234,00\xa0€",
        issue_date="5 de marzo de 2025",
        due_date="4 de abril de 2025",
    ),
    LanguageCase(
        language="ja",
        currency="JPY",
        profile=BillingProfileInput(
            legal_name="株式会社東京データ",
            address_line1="丸の内一丁目1番1号",
            city="千代田区",
            region="東京都",
            postal_code="100-0005",
            country="JP",
        ),
        country_name="日本",
        invoice_title="請求書",
        credit_note_title="クレジットノート",
        receipt_title="領収書",
        total="￥123,400",
        issue_date="2025年3月5日",
        due_date="2025年4月4日",
    ),
    LanguageCase(
        language="zh-hans",
        currency="USD",
        profile=BillingProfileInput(
            legal_name="上海数据科技有限公司",
            address_line1="浦东新区世纪大道100号",
            city="上海市",
            postal_code="200120",
            country="CN",
        ),
        country_name="中国",
        invoice_title="发票",
        credit_note_title="贷项通知单",
        receipt_title="付款收据",
        total="US$1,234.00",
        issue_date="2025年3月5日",
        due_date="2025年4月4日",
    ),
]
CJK_LANGUAGES = {"ja", "zh-hans"}
CREDITS = 1234


def _account(case: LanguageCase) -> Account:
    return AccountFactory(language=case.language, currency=case.currency)


def _invoice_document(invoice: Invoice, revision: int = 1) -> Document:
    return Document.objects.get(
        invoice=invoice, invoice_revision=revision, kind=Document.Kind.INVOICE
    )


def _store(document: Document) -> tuple[Document, bytes]:
    stored = document_store(document_id=document.pk)
    return stored, document_open(stored)


def _contains(text: str, expected: str) -> bool:
    """``expected`` is in ``text``, ignoring whitespace (pdftotext puts spaces between CJK
    and Latin runs and breaks sentences where the PDF wraps them)."""
    return squash(expected) in squash(text)


def assert_pdfa3b(pdf: bytes, *, language: str, timestamp: datetime) -> None:
    assert pdf.startswith(b"%PDF-")
    assert b"%%EOF" in pdf[-64:]
    xmp = pdf_xmp(pdf)
    assert xmp_value(xmp, "pdfaid:part") == "3"
    assert xmp_value(xmp, "pdfaid:conformance") == "B"
    assert xmp_value(xmp, "dc:language") == TYPST_LANGUAGES[language]
    assert xmp_value(xmp, "xmp:CreateDate") == timestamp.replace(microsecond=0).isoformat()
    catalog = pdf_catalog(pdf)
    [intent] = [intent.get_object() for intent in catalog["/OutputIntents"]]
    assert intent["/S"] == "/GTS_PDFA1"
    assert "/DestOutputProfile" in intent
    assert b"/Encrypt" not in pdf
    assert b"/JavaScript" not in pdf
    fonts = pdf_fonts(pdf)
    assert fonts
    assert all(font.embedded and font.unicode for font in fonts), fonts
    assert pdf_page_size(pdf) == A4


# --- six languages ----------------------------------------------------------------------------


@pytest.mark.parametrize("case", LANGUAGE_CASES, ids=str)
def test_an_invoice_is_in_the_account_language_with_babel_formats(catalogue, case, settings):
    settings.REMIT_SELLER = {**settings.REMIT_SELLER, "bank_iban": "DE89370400440532013000"}
    with time_machine.travel(ISSUED_AT, tick=False):
        account = _account(case)
        invoice = buy_credits_by_invoice(account, credits=CREDITS, billing_profile=case.profile)
        document, pdf = _store(_invoice_document(invoice))
    language = case.language
    text = pdf_text(pdf)

    assert document.language == language
    assert_pdfa3b(pdf, language=language, timestamp=document.render_timestamp)

    # The title, and every label an invoice paid by transfer shows.
    assert label("invoice", language) == case.invoice_title
    # (on the seller's line: there is no logo above it by default)
    assert re.search(rf"^\S.*\s{re.escape(case.invoice_title)}$", text, re.MULTILINE), text
    for key in (
        "number", "issue_date", "due_date", "description", "quantity", "unit_price",
        "tax_rate", "amount", "subtotal", "total", "reference",
    ):  # fmt: skip
        assert _contains(text, label(key, language)), key
    assert _contains(text, label("bill_to", language).upper())
    assert _contains(text, label("pay_by_transfer", language, reference=invoice.number))
    assert _contains(text, label("questions", language, contact="support@example.com"))
    assert _contains(text, f"{label('page', language)} 1 / 1")
    assert invoice.number in text

    # Babel formats of the account's language and currency.
    total = format_money(invoice.total_minor, case.currency, language)
    assert total == case.total
    assert normalise(total) in normalise(text)
    assert _contains(text, f"{label('total', language)} {total}")
    assert format_day(invoice.issue_date, language) == case.issue_date
    assert format_day(invoice.due_date, language) == case.due_date
    assert _contains(text, case.issue_date)
    assert _contains(text, case.due_date)

    # The buyer, as typed, with the country named in the document's language.
    assert case.profile.legal_name in text
    assert _contains(text, case.profile.city)
    assert _contains(text, case.profile.address_line1)
    assert case.country_name in text

    families = {re.sub(r"^[A-Z]{6}\+", "", font.name).split("-")[0] for font in pdf_fonts(pdf)}
    assert "Inter" in families
    assert families <= {"Inter", "DejaVuSans", "WenQuanYiMicroHei"}, families
    if language in CJK_LANGUAGES:
        assert "WenQuanYiMicroHei" in families
        assert case.invoice_title in text
        assert label("bill_to", language) in text


@pytest.mark.parametrize("case", LANGUAGE_CASES, ids=str)
def test_credit_notes_and_receipts_are_in_the_account_language(catalogue, case):
    language = case.language
    with time_machine.travel(ISSUED_AT, tick=False):
        account = _account(case)
        to_void = buy_credits_by_invoice(account, credits=CREDITS, billing_profile=case.profile)
        to_pay = buy_credits_by_invoice(account, credits=CREDITS)
        credit_note = invoice_void(
            invoice=to_void, actor=ACTOR, reason_code="customer_request", reason="Ordered twice"
        )
        payment = pay_invoice(to_pay, reference="BANK-4711")
        cn_document, cn_pdf = _store(Document.objects.get(credit_note=credit_note))
        receipt_document, receipt_pdf = _store(Document.objects.get(payment=payment))

    cn_text = pdf_text(cn_pdf)
    assert label("credit_note", language) == case.credit_note_title
    assert _contains(cn_text, case.credit_note_title)
    assert credit_note.number in cn_text
    assert _contains(cn_text, label("credits_invoice", language, number=to_void.number))
    total = format_money(credit_note.total_minor, case.currency, language)
    assert _contains(cn_text, f"{label('total_credited', language)} {total}")
    assert case.profile.legal_name in cn_text
    assert_pdfa3b(cn_pdf, language=language, timestamp=cn_document.render_timestamp)

    receipt_text = pdf_text(receipt_pdf)
    assert label("receipt", language) == case.receipt_title
    assert _contains(receipt_text, case.receipt_title)
    assert _contains(receipt_text, label("status_paid", language))
    amount = format_money(payment.amount_minor, case.currency, language)
    assert amount == case.total
    assert _contains(
        receipt_text, label("receipt_text", language, amount=amount, number=to_pay.number)
    )
    assert _contains(receipt_text, label("paid_on", language))
    assert _contains(receipt_text, case.issue_date)
    assert _contains(receipt_text, label("method_bank_transfer", language))
    assert "BANK-4711" in receipt_text
    assert_pdfa3b(receipt_pdf, language=language, timestamp=receipt_document.render_timestamp)

    if language in CJK_LANGUAGES:
        for pdf in (cn_pdf, receipt_pdf):
            assert any("WenQuanYi" in font.name for font in pdf_fonts(pdf))


def test_german_and_japanese_titles_are_the_expected_words(catalogue):
    """The issue names these words; a relabelling must be a conscious decision."""
    assert [label(key, "de") for key in ("invoice", "credit_note", "receipt")] == [
        "Rechnung",
        "Gutschrift",
        "Zahlungsbestätigung",
    ]
    assert [label(key, "ja") for key in ("invoice", "credit_note", "receipt")] == [
        "請求書",
        "クレジットノート",
        "領収書",
    ]


# --- determinism ------------------------------------------------------------------------------


def test_every_stored_document_re_renders_to_the_same_bytes(account, monkeypatch):
    to_pay = buy_credits_by_invoice(account, notes="Thank you for your order.")
    to_void = buy_credits_by_invoice(account)
    revision_1, _ = _store(_invoice_document(to_pay))
    change = po_number_add(account=account, actor=ACTOR, value="PO-7781", apply_to_unpaid=True)
    assert {invoice.pk for invoice in change.revised_invoices} == {to_pay.pk, to_void.pk}
    revision_2, revision_2_pdf = _store(_invoice_document(to_pay, revision=2))
    receipt, _ = _store(Document.objects.get(payment=pay_invoice(to_pay)))
    credit_note = invoice_void(
        invoice=to_void, actor=ACTOR, reason_code="duplicate", reason="Issued twice"
    )
    credit_note_document, _ = _store(Document.objects.get(credit_note=credit_note))
    # Later changes to the account's profile must not leak into issued documents.
    billing_profile_set(
        account=account,
        data=BillingProfileInput(
            legal_name="Renamed Holding Inc.",
            address_line1="2 Other Street",
            city="Austin",
            region="TX",
            postal_code="73301",
            country="US",
        ),
        actor=ACTOR,
    )

    documents = [revision_1, revision_2, receipt, credit_note_document]
    stored = {}
    for document in documents:
        document = Document.objects.get(pk=document.pk)
        content = document_open(document)
        assert hashlib.sha256(content).hexdigest() == document.sha256
        assert len(content) == document.size_bytes
        first = document_render(document)
        assert first == content, document
        assert document_render(document) == first, document
        stored[document.pk] = content
    assert len(set(stored.values())) == len(documents)

    # Neither the wall clock nor a fresh Typst compiler changes the bytes.
    monkeypatch.setattr(rendering, "_compilers", {})
    with time_machine.travel(timezone.now() + timedelta(days=400)):
        for document in Document.objects.filter(pk__in=stored):
            assert document_render(document) == stored[document.pk], document

    text_1 = pdf_text(stored[revision_1.pk])
    text_2 = pdf_text(revision_2_pdf)
    assert "PO-7781" not in text_1
    assert "PO-7781" in text_2
    assert re.search(r"Revision\s+2", text_2)
    assert "Renamed Holding" not in "".join(pdf_text(content) for content in stored.values())
    assert archive_verify().intact


def test_two_renders_of_the_same_data_are_identical(account):
    document = _invoice_document(buy_credits_by_invoice(account))
    data = document_render_data(document)
    first = render_pdf(
        template_version=CURRENT_TEMPLATE_VERSION, data=data, timestamp=document.render_timestamp
    )
    second = render_pdf(
        template_version=CURRENT_TEMPLATE_VERSION, data=data, timestamp=document.render_timestamp
    )
    assert first == second
    later = render_pdf(
        template_version=CURRENT_TEMPLATE_VERSION,
        data=data,
        timestamp=document.render_timestamp + timedelta(seconds=1),
    )
    assert later != first  # the timestamp is the only clock the PDF carries


# --- hostile text -----------------------------------------------------------------------------

MARKUP = [
    "#strong[x]",
    "*bold*",
    "_emph_",
    "$x^2$",
    '#import "x"',
    '#read("/etc/passwd")',
    "#{1 + 1}",
    "#set page(width: 1cm)",
    "@label",
    "<ref>",
    "`raw`",
    "= Heading",
    "// comment",
    "\\ backslash",
    "<script>alert(1)</script>",
    "<b>bold</b> &amp; &lt;",
    '"); #panic("boom',
]
ARABIC = "شركة البيانات"
HEBREW = "חברת נתונים"


def _hostile_data(document: Document) -> dict[str, Any]:
    data = copy.deepcopy(document_render_data(document))
    line = data["lines"][0]
    data["lines"] = [
        dict(line, position=str(position), description=text)
        for position, text in enumerate([*MARKUP, ARABIC, HEBREW], start=1)
    ]
    data["buyer"]["name"] = "#strong[x] <script>alert(1)</script>"
    data["buyer"]["lines"] = ['#read("/etc/passwd")', ARABIC, HEBREW, *data["buyer"]["lines"]]
    data["notes"] = "\n".join([*MARKUP, ARABIC, HEBREW])
    data["meta"].append(["PO", "$x^2$ #strong[x]"])
    return data


def test_markup_and_html_in_user_fields_are_printed_literally(account):
    document = _invoice_document(buy_credits_by_invoice(account))
    data = _hostile_data(document)
    pdf = render_pdf(
        template_version=CURRENT_TEMPLATE_VERSION, data=data, timestamp=document.render_timestamp
    )
    text = normalise(pdf_text(pdf))

    for sample in MARKUP:
        # In the line table and in the notes at least.
        assert text.count(normalise(sample)) >= 2, sample
    assert text.count("#strong[x]") >= 4  # lines, notes, buyer name, meta row
    assert "<script>alert(1)</script>" in text
    assert '#read("/etc/passwd")' in text
    assert "root:" not in text
    assert "boom" in text
    assert pdf_page_size(pdf) == A4  # `#set page(width: 1cm)` did nothing
    assert_pdfa3b(pdf, language="en", timestamp=document.render_timestamp)


def test_right_to_left_text_is_extracted(account):
    document = _invoice_document(buy_credits_by_invoice(account))
    pdf = render_pdf(
        template_version=CURRENT_TEMPLATE_VERSION,
        data=_hostile_data(document),
        timestamp=document.render_timestamp,
    )
    text = pdf_text(pdf)
    # Description, buyer lines and notes; pdftotext keeps the logical order of each RTL run.
    assert text.count(ARABIC) >= 3
    assert text.count(HEBREW) >= 3
    assert any("DejaVuSans" in font.name for font in pdf_fonts(pdf))


def test_hostile_text_typed_by_a_customer_is_printed_literally(catalogue):
    """The same through the real services: billing profile, PO number and order notes."""
    account = AccountFactory(language="en")
    profile = BillingProfileInput(
        legal_name=f"<script>alert(1)</script> #strong[x] {ARABIC}",
        address_line1='#read("/etc/passwd")',
        address_line2=HEBREW,
        city="$x^2$",
        postal_code="@label",
        country="US",
    )
    invoice = buy_credits_by_invoice(
        account, billing_profile=profile, po_number="#{1 + 1}", notes="\n".join(MARKUP)
    )
    document, pdf = _store(_invoice_document(invoice))
    text = normalise(pdf_text(pdf))
    for sample in MARKUP:
        assert normalise(sample) in text, sample
    assert "<script>alert(1)</script> #strong[x]" in text
    assert ARABIC in text
    assert HEBREW in text
    assert text.count("#{1 + 1}") >= 1
    assert "root:" not in text
    assert_pdfa3b(pdf, language="en", timestamp=document.render_timestamp)


@pytest.mark.parametrize("character", ["\x00", "\t", "\n", "\x7f", "\u200b", "\ufeff"], ids=repr)
def test_harmless_control_characters_do_not_break_rendering(account, character):
    document = _invoice_document(buy_credits_by_invoice(account))
    data = document_render_data(document)
    data["buyer"]["name"] = f"Before{character}After"
    data["lines"][0]["description"] = f"Left{character}Right"
    data["notes"] = f"Start{character}End"
    pdf = render_pdf(
        template_version=CURRENT_TEMPLATE_VERSION, data=data, timestamp=document.render_timestamp
    )
    text = pdf_text(pdf)
    for first, second in (("Before", "After"), ("Left", "Right"), ("Start", "End")):
        assert first in text
        assert second in text


@pytest.mark.parametrize("character", ["\x1b[31m", "\x07"], ids=repr)
def test_control_characters_without_glyphs_do_not_break_rendering(account, character):
    document = _invoice_document(buy_credits_by_invoice(account))
    data = document_render_data(document)
    data["notes"] = f"red{character}text"
    pdf = render_pdf(
        template_version=CURRENT_TEMPLATE_VERSION, data=data, timestamp=document.render_timestamp
    )
    assert "red" in pdf_text(pdf)


@pytest.mark.parametrize(
    ("language", "name", "printed"),
    [
        ("en", "บริษัท ข้อมูล จำกัด", "บริษัท ข้อมูล จำกัด"),  # Thai: Garuda
        # A CJK Extension B character no configured font has is printed as U+FFFD instead of
        # stopping the document; the stored snapshot keeps the real name.
        ("ja", "株式会社𠮷野家データ", "株式会社\ufffd野家データ"),
        ("en", "Unicorn 🦄 Ltd", "Unicorn \ufffd Ltd"),
    ],
    ids=["thai", "cjk-extension-b", "emoji"],
)
def test_buyer_names_in_any_script_a_customer_can_type_are_rendered(
    catalogue, language, name, printed
):
    account = AccountFactory(language=language, currency="USD")
    profile = BillingProfileInput(
        legal_name=name, address_line1="1-1", city="Tokyo", postal_code="100-0005", country="JP"
    )
    invoice = buy_credits_by_invoice(account, billing_profile=profile)  # validation accepts it
    document, pdf = _store(_invoice_document(invoice))
    assert document.status == Document.Status.STORED
    assert printed in pdf_text(pdf)
    assert invoice.buyer["legal_name"] == name


# --- pagination and long text -----------------------------------------------------------------

LINE_COUNT = 200


@pytest.mark.parametrize("language", ["en", "ja"])
def test_two_hundred_lines_paginate_with_a_repeated_table_header(catalogue, language):
    account = AccountFactory(language=language)
    BillingProfileFactory(account=account)
    document = _invoice_document(buy_credits_by_invoice(account))
    data = document_render_data(document)
    line = data["lines"][0]
    data["lines"] = [
        dict(line, position=str(n), description=f"Service item L{n:03d} monthly")
        for n in range(1, LINE_COUNT + 1)
    ]
    pdf = render_pdf(
        template_version=CURRENT_TEMPLATE_VERSION, data=data, timestamp=document.render_timestamp
    )

    pages = pdf_pages(pdf)
    assert pages > 1
    header = normalise(" ".join(data["columns"]))
    running_header = data["title"] + " " + data["number"]
    found: list[str] = []
    for page in range(1, pages + 1):
        text = pdf_text(pdf, page=page)
        items = re.findall(r"L(\d{3}) monthly", text)
        found += items
        if items:  # every page the table reaches starts with its header row
            page_lines = [normalise(row) for row in text.splitlines()]
            header_at = next(
                (i for i, row in enumerate(page_lines) if squash(row) == squash(header)), None
            )
            assert header_at is not None, f"no table header on page {page}"
            first_item = next(i for i, row in enumerate(page_lines) if " monthly" in row)
            assert header_at < first_item
        if page > 1:
            assert _contains(text, running_header), page
            assert _contains(text, data["seller"]["name"]), page
        assert _contains(text, f"{data['page_label']} {page} / {pages}"), page
    assert sorted(found) == [f"{n:03d}" for n in range(1, LINE_COUNT + 1)]
    assert _contains(pdf_text(pdf, page=pages), " ".join(data["grand_total"]))
    assert_pdfa3b(pdf, language=language, timestamp=document.render_timestamp)


def _words(length: int) -> str:
    """Distinct words, at most ``length`` characters in all."""
    words: list[str] = []
    n = 0
    while len(" ".join([*words, f"w{n:04d}x"])) <= length:
        words.append(f"w{n:04d}x")
        n += 1
    return " ".join(words)


def test_notes_of_2000_characters_wrap_and_are_printed_whole(account):
    notes = _words(NOTES_MAX_LENGTH - 40) + "\nSecond paragraph.\nThird line, the end."
    assert NOTES_MAX_LENGTH - 60 < len(notes) <= NOTES_MAX_LENGTH
    invoice = buy_credits_by_invoice(account, notes=notes)
    document, pdf = _store(_invoice_document(invoice))
    text = pdf_text(pdf)
    for word in notes.split():
        assert word in text, word
    lines = [row.strip() for row in text.splitlines()]
    assert "Second paragraph." in lines  # the customer's line breaks are kept
    assert "Third line, the end." in lines
    assert_pdfa3b(pdf, language="en", timestamp=document.render_timestamp)


def test_an_unbroken_300_character_token_in_notes_is_wrapped(account):
    token = ((string.ascii_uppercase + string.digits) * 9)[:300]
    notes = _words(NOTES_MAX_LENGTH - 301) + " " + token
    assert len(notes) <= NOTES_MAX_LENGTH
    invoice = buy_credits_by_invoice(account, notes=notes)
    _, pdf = _store(_invoice_document(invoice))
    text = pdf_text(pdf)
    for word in notes.split()[:-1]:
        assert word in text, word
    shown = max(re.findall("[A-Z0-9]{20,}", text), key=len, default="")
    assert token in squash(text), f"only {len(shown)} of {len(token)} characters are shown"


def test_an_unbroken_legal_name_of_the_maximum_length_is_wrapped(catalogue):
    account = AccountFactory()
    name = ("Northwindtradersholdingsinternational" * 6)[:200]
    profile = BillingProfileInput(
        legal_name=name, address_line1="1 Main Street", city="Austin", postal_code="73301",
        region="TX", country="US",
    )  # fmt: skip
    invoice = buy_credits_by_invoice(account, billing_profile=profile)
    _, pdf = _store(_invoice_document(invoice))
    assert name in squash(pdf_text(pdf))
