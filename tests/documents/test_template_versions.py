"""Template set versions: an issued document re-renders byte-identically with the set it was
issued with, however the current set changes.

The hashes below were recorded with the code as it was before template set v2 existed. A
document issued as v1 today must still come out as exactly those bytes: a change to the v1
templates, to the data v1 documents are built from, to Typst or to the fonts fails here before
it breaks the hash of a stored document.
"""

from __future__ import annotations

import hashlib
import io
import unicodedata
from dataclasses import dataclass
from typing import Any

import pypdf
import pytest
import time_machine

from remit.billing.services.invoices import invoice_void
from remit.billing.services.validation import BillingProfileInput
from remit.documents.models import Document
from remit.documents.services import archive, rendering
from remit.documents.services.archive import document_open, document_store
from remit.documents.services.rendering import (
    CURRENT_TEMPLATE_VERSION,
    document_render,
    document_render_data,
    render_pdf,
)
from tests.billing.helpers import (
    ACTOR,
    buy_credits_by_card,
    buy_credits_by_invoice,
    pay_card_order,
    pay_invoice,
)
from tests.documents.helpers_pdf import pdf_text, squash
from tests.documents.test_rendering import assert_pdfa3b
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

ISSUED_AT = "2025-03-05 10:00Z"
TOKYO = BillingProfileInput(
    legal_name="株式会社東京データ",
    address_line1="丸の内一丁目1番1号",
    address_line2="東京ビル5階",
    city="千代田区",
    region="東京都",
    postal_code="100-0005",
    country="JP",
)
SHANGHAI = BillingProfileInput(
    legal_name="上海数据科技有限公司",
    address_line1="浦东新区世纪大道100号",
    city="上海市",
    postal_code="200120",
    country="CN",
)

# SHA-256 of the v1 PDFs of the documents issued below, recorded before v2 existed.
V1_SHA256 = {
    "ja_invoice": "092e68e414c8fa48c24b494d034646dcc509a2311e8fd2d2a1afecff6f6880b2",
    "ja_credit_note": "b0f7cbb69c94a067993bd29cab2bec9e2bde7256dffdea09064b264fb5784afd",
    "ja_receipt": "ad22db30175ac5e993da7de4727a0698689b95f780c8ce409d26d10f638e94d1",
    "zh_invoice": "51e537d43dfd93ec66b0027c4fa78de2a8b02a13273f3243c7f71f4c60a9e2ed",
}


def _issue_cjk_documents() -> dict[str, Document]:
    """A Japanese invoice, credit note and receipt and a Chinese invoice, issued at a fixed
    time through the real services and stored (rendered) with the current template set."""
    with time_machine.travel(ISSUED_AT, tick=False):
        japanese = AccountFactory(language="ja", currency="JPY")
        voided = buy_credits_by_invoice(japanese, credits=1234, billing_profile=TOKYO)
        paid = buy_credits_by_invoice(japanese, credits=200)
        credit_note = invoice_void(invoice=voided, actor=ACTOR, reason_code="duplicate", reason="x")
        payment = pay_invoice(paid, reference="BANK-1")
        chinese = AccountFactory(language="zh-hans", currency="USD")
        chinese_invoice = buy_credits_by_invoice(chinese, credits=1234, billing_profile=SHANGHAI)
        documents = {
            "ja_invoice": Document.objects.get(invoice=voided, kind=Document.Kind.INVOICE),
            "ja_credit_note": Document.objects.get(credit_note=credit_note),
            "ja_receipt": Document.objects.get(payment=payment),
            "zh_invoice": Document.objects.get(invoice=chinese_invoice, kind=Document.Kind.INVOICE),
        }
        return {key: document_store(document_id=d.pk) for key, d in documents.items()}


def test_v1_documents_render_to_the_bytes_recorded_before_v2(catalogue, monkeypatch):
    # Given documents issued while v1 was the current set
    monkeypatch.setattr(archive, "CURRENT_TEMPLATE_VERSION", "1")
    documents = _issue_cjk_documents()

    # Then they were stored as exactly the bytes v1 gave before v2 existed
    assert {key: d.template_version for key, d in documents.items()} == dict.fromkeys(
        V1_SHA256, "1"
    )
    assert {key: d.sha256 for key, d in documents.items()} == V1_SHA256
    # and re-render to them, also with fresh compilers.
    monkeypatch.setattr(rendering, "_compilers", {})
    for key, document in documents.items():
        content = document_open(document)
        assert hashlib.sha256(content).hexdigest() == V1_SHA256[key]
        assert document_render(document) == content, key
    # v1 keeps the Western address order on Japanese and Chinese documents.
    assert document_render_data(documents["ja_invoice"])["buyer"]["lines"] == [
        "丸の内一丁目1番1号",
        "東京ビル5階",
        "100-0005 千代田区, 東京都",
        "日本",
    ]
    assert document_render_data(documents["zh_invoice"])["buyer"]["lines"] == [
        "浦东新区世纪大道100号",
        "200120 上海市",
        "中国",
    ]


# SHA-256 of the v2 PDFs of the documents issued below, recorded before v3 existed (with the
# Remit logo v2 printed when no logo was configured, and no bank details).
V2_SHA256 = {
    "us_invoice": "6d0b720980c82b0d6bfcb08c15fa385957d4a51dc2bdd4225e38f3e0d6db87a0",
    "us_card_invoice": "d613f1f0cee3c386ea56ac46ee3bb150b49690325c71ad1f957ad948a73c8e57",
    "ja_invoice": "16c522cfcacb84a83fd6cfcfcf58e729e39d981e5d4717e7e03b3d2c121e645c",
}
NORTHWIND = BillingProfileInput(
    legal_name="Northwind Traders LLC",
    address_line1="500 Howard Street",
    city="San Francisco",
    region="CA",
    postal_code="94105",
    country="US",
)


def _issue_v2_documents() -> dict[str, Document]:
    """An American invoice to pay by transfer (zero rated, no bank details configured), one
    paid by card before it was issued, and a Japanese one (outside the scope of tax)."""
    with time_machine.travel(ISSUED_AT, tick=False):
        american = AccountFactory(name="Northwind Traders LLC")
        unpaid = buy_credits_by_invoice(american, credits=1234, billing_profile=NORTHWIND)
        card_order = buy_credits_by_card(american, credits=321)
        pay_card_order(card_order, reference="pi_v2")
        card_order.refresh_from_db()
        japanese = AccountFactory(name="Tokyo Data", language="ja", currency="JPY")
        japanese_invoice = buy_credits_by_invoice(japanese, credits=1234, billing_profile=TOKYO)
        documents = {
            "us_invoice": Document.objects.get(invoice=unpaid, kind=Document.Kind.INVOICE),
            "us_card_invoice": Document.objects.get(
                invoice=card_order.invoice, kind=Document.Kind.INVOICE
            ),
            "ja_invoice": Document.objects.get(
                invoice=japanese_invoice, kind=Document.Kind.INVOICE
            ),
        }
        return {key: document_store(document_id=d.pk) for key, d in documents.items()}


def test_v2_documents_render_to_the_bytes_recorded_before_v3(catalogue, monkeypatch):
    # Given documents issued while v2 was the current set
    monkeypatch.setattr(archive, "CURRENT_TEMPLATE_VERSION", "2")
    documents = _issue_v2_documents()

    # Then they were stored as exactly the bytes v2 gave before v3 existed
    assert {key: d.template_version for key, d in documents.items()} == dict.fromkeys(
        V2_SHA256, "2"
    )
    assert {key: d.sha256 for key, d in documents.items()} == V2_SHA256
    # and re-render to them, also with fresh compilers.
    monkeypatch.setattr(rendering, "_compilers", {})
    for key, document in documents.items():
        assert document_render(document) == document_open(document), key


# --- v2: addresses in local order -------------------------------------------------------------

TOKYO_SELLER = {
    "legal_name": "リミット株式会社",
    "address_line1": "渋谷二丁目24番12号",
    "address_line2": "",
    "city": "渋谷区",
    "region": "東京都",
    "postal_code": "150-0002",
    "country": "JP",
}
SHANGHAI_SELLER = {
    "legal_name": "瑞米特软件有限公司",
    "address_line1": "徐汇区漕溪北路88号",
    "address_line2": "",
    "city": "上海市",
    "region": "",
    "postal_code": "200030",
    "country": "CN",
}


def _issue(language: str, currency: str, profile: BillingProfileInput) -> Document:
    with time_machine.travel(ISSUED_AT, tick=False):
        account = AccountFactory(language=language, currency=currency)
        invoice = buy_credits_by_invoice(account, credits=1234, billing_profile=profile)
        document = Document.objects.get(invoice=invoice, kind=Document.Kind.INVOICE)
        return document_store(document_id=document.pk)


def _text_lines(pdf: bytes) -> list[str]:
    """The PDF's lines without spaces (pdftotext puts some between CJK and digits)."""
    return [squash(line) for line in pdf_text(pdf, layout=False).splitlines() if line.strip()]


def _squashed(lines: list[str]) -> list[str]:
    return [squash(line) for line in lines]


def test_a_japanese_buyer_on_a_japanese_document_has_its_address_in_japanese_order(catalogue):
    # Given a Japanese company billed by the (American) seller in Japanese
    document = _issue("ja", "JPY", TOKYO)

    # Then its address is 〒 and postal code, prefecture-city-street in one run, the building,
    # and (the document being cross-border) the country last; the seller's stays Western.
    data = document_render_data(document)
    assert document.template_version == CURRENT_TEMPLATE_VERSION
    assert data["buyer"]["lines"] == [
        "〒100-0005",
        "東京都千代田区丸の内一丁目1番1号",
        "東京ビル5階",
        "日本",
    ]
    assert data["seller"]["lines"] == [
        "1 Market Street",
        "San Francisco, CA 94105",
        "アメリカ合衆国",
        "billing@example.com",
    ]
    # and the PDF prints it in that order, under the buyer's name.
    lines = _text_lines(document_open(document))
    start = lines.index("株式会社東京データ")
    assert lines[start + 1 : start + 5] == _squashed(data["buyer"]["lines"])


def test_a_domestic_japanese_document_leaves_the_country_out(catalogue, settings):
    # Given a Japanese seller billing a Japanese company in Japanese
    settings.REMIT_SELLER = {**settings.REMIT_SELLER, **TOKYO_SELLER}
    document = _issue("ja", "JPY", TOKYO)

    # Then neither address names Japan, as Japanese domestic invoices do not
    data = document_render_data(document)
    assert data["buyer"]["lines"] == [
        "〒100-0005",
        "東京都千代田区丸の内一丁目1番1号",
        "東京ビル5階",
    ]
    assert data["seller"]["lines"] == [
        "〒150-0002",
        "東京都渋谷区渋谷二丁目24番12号",
        "billing@example.com",
    ]
    # and the footer writes the seller's address without commas.
    assert data["footer"] == "リミット株式会社 · 〒150-0002 東京都渋谷区渋谷二丁目24番12号"
    text = pdf_text(document_open(document))
    assert "日本" not in text
    assert squash("リミット株式会社 · 〒150-0002 東京都渋谷区渋谷二丁目24番12号") in squash(text)


def test_a_chinese_buyer_on_a_chinese_document_has_its_address_from_big_to_small(catalogue):
    # Given a Chinese company billed by the (American) seller in Chinese
    document = _issue("zh-hans", "USD", SHANGHAI)

    # Then its address is the postal code, then country, city and street in one run
    data = document_render_data(document)
    assert data["buyer"]["lines"] == ["200120", "中国上海市浦东新区世纪大道100号"]
    assert data["seller"]["lines"][:3] == ["1 Market Street", "San Francisco, CA 94105", "美国"]
    lines = _text_lines(document_open(document))
    start = lines.index("上海数据科技有限公司")
    assert lines[start + 1 : start + 3] == _squashed(data["buyer"]["lines"])


def test_a_domestic_chinese_document_leaves_the_country_out(catalogue, settings):
    settings.REMIT_SELLER = {**settings.REMIT_SELLER, **SHANGHAI_SELLER}
    document = _issue("zh-hans", "USD", SHANGHAI)

    data = document_render_data(document)
    assert data["buyer"]["lines"] == ["200120", "上海市浦东新区世纪大道100号"]
    assert data["seller"]["lines"] == ["200030", "上海市徐汇区漕溪北路88号", "billing@example.com"]
    assert data["footer"] == "瑞米特软件有限公司 · 200030 上海市徐汇区漕溪北路88号"


def test_local_order_is_only_for_a_document_in_the_partys_language(catalogue):
    # A Japanese company on an English document, and on a Chinese one: Western order.
    english = document_render_data(_issue("en", "USD", TOKYO))
    chinese = document_render_data(_issue("zh-hans", "USD", TOKYO))

    assert english["buyer"]["lines"] == [
        "丸の内一丁目1番1号",
        "東京ビル5階",
        "100-0005 千代田区, 東京都",
        "Japan",
    ]
    assert chinese["buyer"]["lines"] == [
        "丸の内一丁目1番1号",
        "東京ビル5階",
        "100-0005 千代田区, 東京都",
        "日本",
    ]


def test_a_japanese_address_typed_in_latin_letters_keeps_its_spaces(catalogue):
    romanised = BillingProfileInput(
        legal_name="Tokyo Data K.K.",
        address_line1="1-1 Marunouchi",
        city="Chiyoda-ku",
        region="Tokyo",
        postal_code="100-0005",
        country="JP",
    )
    data = document_render_data(_issue("ja", "JPY", romanised))
    assert data["buyer"]["lines"] == ["〒100-0005", "Tokyo Chiyoda-ku 1-1 Marunouchi", "日本"]


# --- v2: bold CJK -------------------------------------------------------------------------------

FILL = 0  # PDF text rendering modes
FILL_AND_STROKE = 2


@dataclass(frozen=True)
class TextRun:
    font: str
    rendering_mode: int
    text: str


def _text_runs(pdf: bytes) -> list[TextRun]:
    """Every piece of text on the first page with its font and text rendering mode (``Tr``):
    synthetic bold is text drawn with ``2 Tr``, filled and stroked."""
    page = pypdf.PdfReader(io.BytesIO(pdf)).pages[0]
    mode = [FILL]
    runs: list[TextRun] = []

    def operator(name: bytes, operands: list[Any], *_: Any) -> None:
        if name == b"Tr":
            mode[0] = int(operands[0])

    def text(value: str, _cm: Any, _tm: Any, font: Any, _size: Any) -> None:
        if value.strip():
            runs.append(TextRun(str(font["/BaseFont"]), mode[0], value))

    page.extract_text(visitor_operand_before=operator, visitor_text=text)
    return runs


def _cjk_text(runs: list[TextRun], mode: int) -> str:
    """The CJK characters drawn in ``mode``, in order."""
    return "".join(r.text for r in runs if "WenQuanYi" in r.font and r.rendering_mode == mode)


def _cjk_only(text: str) -> str:
    return "".join(char for char in text if unicodedata.east_asian_width(char) in {"W", "F"})


@pytest.mark.parametrize(
    ("language", "currency", "profile"),
    [("ja", "JPY", TOKYO), ("zh-hans", "USD", SHANGHAI)],
    ids=["ja", "zh-hans"],
)
def test_bold_cjk_text_is_emboldened_on_v2(catalogue, language, currency, profile):
    # Given a Japanese or Chinese invoice issued with v2
    document = _issue(language, currency, profile)
    pdf = document_open(document)
    data = document_render_data(document)
    runs = _text_runs(pdf)

    # Then the CJK characters of every bold text are stroked as well as filled
    bold = _cjk_text(runs, FILL_AND_STROKE)
    for text in (
        profile.legal_name,
        data["title"],
        *[column for column in data["columns"] if column != "#"],
        data["grand_total"][0],
    ):
        assert text in bold, text
    # while regular CJK text (addresses, labels) is only filled
    regular = _cjk_text(runs, FILL)
    address = _cjk_only(data["buyer"]["lines"][1])
    assert address in regular
    assert address not in bold
    assert data["buyer_label"] in regular
    # and Latin text keeps its real bold face, unstroked.
    assert {r.rendering_mode for r in runs if "Inter" in r.font} == {FILL}
    assert any("Inter-Bold" in r.font for r in runs)
    # The text stays extractable and the PDF stays PDF/A-3b.
    text = pdf_text(pdf)
    assert profile.legal_name in text
    assert data["title"] in text
    assert_pdfa3b(pdf, language=language, timestamp=document.render_timestamp)

    # v1 draws the same data without any stroke: that is what v2 changed.
    v1 = render_pdf(template_version="1", data=data, timestamp=document.render_timestamp)
    assert {r.rendering_mode for r in _text_runs(v1)} == {FILL}


def test_the_paid_stamp_of_a_japanese_receipt_is_bold(catalogue):
    with time_machine.travel(ISSUED_AT, tick=False):
        account = AccountFactory(language="ja", currency="JPY")
        payment = pay_invoice(buy_credits_by_invoice(account, credits=200, billing_profile=TOKYO))
        receipt = document_store(document_id=Document.objects.get(payment=payment).pk)
    bold = _cjk_text(_text_runs(document_open(receipt)), FILL_AND_STROKE)
    assert "支払済み" in bold
    assert "領収書" in bold
