"""Turning a document's frozen data into PDF/A-3b bytes with Typst (UC4, D3).

A warm :class:`typst.Compiler` per template version is kept for the life of the process. The
input is JSON built only from the issued snapshot, the revision and fixed labels, and the PDF's
timestamp is the document's own, so rendering the same document twice gives the same bytes.
"""

from __future__ import annotations

import json
import threading
import unicodedata
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal

import typst
from django.conf import settings
from django.utils import timezone, translation

from remit.billing.models import CreditNote, Invoice, Order, Payment
from remit.core.i18n import (
    TYPST_LANGUAGES,
    country_name,
    format_day,
    format_money,
    format_percent,
    format_quantity,
    label,
    normalise_language,
)
from remit.documents.models import Document
from remit.documents.selectors import document_invoice_revision

# New documents are rendered with this set; an issued one always with its own (Document.
# template_version), so what an issued document prints never changes. v2: synthetic bold for
# CJK text (the CJK font has no bold face), and Japanese and Chinese addresses in their own
# order on documents in that language. v3 changes what is printed, not the layout (it uses the
# v2 files): a paid invoice says when and how it was paid, every zero-tax invoice says why
# (zero rated too), the payment box asks for a bank transfer only when the seller has bank
# details, and there is no logo unless one is configured.
CURRENT_TEMPLATE_VERSION = "3"
# The first set that prints Japanese and Chinese parties' addresses in local order.
LOCAL_ADDRESS_ORDER_SINCE = 2
# The first set with the v3 changes above.
PAYMENT_DETAILS_SINCE = 3
TEMPLATE_ROOT = Path(__file__).resolve().parent.parent / "templates" / "typst"
# Sets that print with an earlier set's Typst files (their difference is in the data).
LAYOUT_OF = {"3": "2"}
# What v1 and v2 documents print when REMIT_SELLER_LOGO is not set; v3 prints no logo then.
LEGACY_DEFAULT_LOGO = TEMPLATE_ROOT / "default-logo.svg"
PDF_STANDARD: Literal["a-3b"] = "a-3b"

_compilers: dict[str, typst.Compiler] = {}
_compilers_lock = threading.Lock()


class RenderError(RuntimeError):
    """Typst could not render a document (a template bug, never user input)."""


def font_dirs() -> list[str]:
    return [str(path) for path in settings.REMIT_FONT_DIRS]


def _compiler(template_version: str) -> typst.Compiler:
    layout = LAYOUT_OF.get(template_version, template_version)
    with _compilers_lock:
        compiler = _compilers.get(layout)
        if compiler is None:
            entry = TEMPLATE_ROOT / f"v{layout}" / "document.typ"
            if not entry.is_file():
                raise RenderError(f"No template set v{template_version}")
            compiler = typst.Compiler(
                str(entry),
                root=str(TEMPLATE_ROOT / f"v{layout}"),
                font_paths=font_dirs(),
                ignore_system_fonts=True,
            )
            _compilers[layout] = compiler
        return compiler


def _since(template_version: str, version: int) -> bool:
    return int(template_version) >= version


def logo_path(template_version: str) -> str:
    """The configured logo; when none is configured (unset, not empty), the seller's name is
    the brand, except on v1 and v2 documents, which were issued with Remit's own logo."""
    configured = settings.REMIT_SELLER_LOGO
    if configured is not None:
        return configured
    return "" if _since(template_version, PAYMENT_DETAILS_SINCE) else str(LEGACY_DEFAULT_LOGO)


@cache
def _logo_svg(path: str) -> str | None:
    return Path(path).read_text(encoding="utf-8") if path else None


@cache
def covered_codepoints() -> frozenset[int]:
    """Every character some configured font can draw (PDF/A refuses undrawable glyphs)."""
    from fontTools.ttLib import TTCollection, TTFont

    covered: set[int] = set()
    for directory in font_dirs():
        for path in sorted(Path(directory).glob("*")):
            suffix = path.suffix.lower()
            if suffix not in {".ttf", ".otf", ".ttc"}:
                continue
            fonts = TTCollection(str(path)).fonts if suffix == ".ttc" else [TTFont(str(path))]
            for font in fonts:
                covered.update(font.getBestCmap() or {})
    return frozenset(covered)


# Runs of this many characters without a break opportunity get one every LONG_RUN_STEP
# characters, so a 300-character token wraps instead of running off the page.
LONG_RUN = 24
LONG_RUN_STEP = 16
ZERO_WIDTH_SPACE = "\u200b"
REPLACEMENT = "\ufffd"


def printable(text: str) -> str:
    """Text as it can be typeset: characters no font has become U+FFFD, control characters
    (but line breaks) are dropped, and very long unbroken runs get invisible break points.
    The stored data keeps the original; only the picture of it changes."""
    if (
        text.isascii()
        and text.isprintable()
        and all(len(word) <= LONG_RUN for word in text.split())
    ):
        return text  # the common case: plain Latin text every font has
    covered = covered_codepoints()
    characters: list[str] = []
    run = 0
    for char in text:
        if char == "\n":
            characters.append(char)
            run = 0
            continue
        if char == "\t":
            char = " "
        category = unicodedata.category(char)
        if category in {"Cc", "Cs", "Co", "Cn"}:
            continue
        if category not in {"Zs", "Zl", "Zp", "Cf"} and ord(char) not in covered:
            char = REPLACEMENT
        if char.isspace():
            run = 0
        else:
            run += 1
            if run > LONG_RUN and run % LONG_RUN_STEP == 0:
                characters.append(ZERO_WIDTH_SPACE)
        characters.append(char)
    return "".join(characters)


def _printable_data(value: Any) -> Any:
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, list):
        return [_printable_data(item) for item in value]
    if isinstance(value, dict):
        return {key: _printable_data(item) for key, item in value.items()}
    return value


def render_pdf(*, template_version: str, data: dict[str, Any], timestamp: datetime) -> bytes:
    """PDF/A-3b bytes for ``data``; deterministic for the same inputs."""
    inputs = {"data": json.dumps(_printable_data(data), ensure_ascii=False, sort_keys=True)}
    logo = _logo_svg(logo_path(template_version))
    if logo:
        inputs["logo"] = logo
    compiler = _compiler(template_version)
    with _compilers_lock:  # one compilation at a time per process keeps memory flat
        try:
            pdf = compiler.compile(
                sys_inputs=inputs,
                pdf_standards=[PDF_STANDARD],
                timestamp=timestamp.replace(microsecond=0),
            )
        except typst.TypstError as error:
            raise RenderError(f"Typst failed: {error.message}") from error
    assert isinstance(pdf, bytes)
    return pdf


# --- building the data ----------------------------------------------------------------------


AddressOrder = Literal["western", "japanese", "chinese"]


def _address_order(party: dict[str, Any], language: str, *, template_version: str) -> AddressOrder:
    """How a party's address is written: in local order when the document is in the language
    of the party's country (a Japanese company on a Japanese document), else Western."""
    if _since(template_version, LOCAL_ADDRESS_ORDER_SINCE):
        country = party.get("country")
        if country == "JP" and language == "ja":
            return "japanese"
        if country == "CN" and language == "zh-hans":
            return "chinese"
    return "western"


def _is_wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in {"W", "F"}


def _address_run(*parts: str) -> str:
    """Parts of an East Asian address as one run: CJK parts are written without spaces
    (東京都千代田区丸の内), a space stays only next to Latin letters or digits
    (Tokyo Chiyoda-ku)."""
    text = ""
    for part in (part.strip() for part in parts):
        if not part:
            continue
        if text and not (_is_wide(text[-1]) and _is_wide(part[0])):
            text += " "
        text += part
    return text


def _western_address_lines(party: dict[str, Any], language: str) -> list[str]:
    city_line = " ".join(
        part for part in (party.get("postal_code", ""), party.get("city", "")) if part
    )
    if party.get("country") in {"US", "CA", "AU"}:
        city_line = ", ".join(
            part
            for part in (
                party.get("city", ""),
                " ".join(p for p in (party.get("region", ""), party.get("postal_code", "")) if p),
            )
            if part
        )
    elif party.get("region"):
        city_line = f"{city_line}, {party['region']}"
    lines = [party.get("address_line1", ""), party.get("address_line2", ""), city_line]
    if party.get("country"):
        lines.append(country_name(party["country"], language))
    return [line for line in lines if line]


def _address_lines(
    party: dict[str, Any], language: str, *, template_version: str, domestic: bool
) -> list[str]:
    """The address as printed. ``domestic``: seller and buyer are in the same country; local
    order then leaves the country out, as Japanese and Chinese domestic invoices do (Western
    order always names it, as v1 did)."""
    order = _address_order(party, language, template_version=template_version)
    if order == "western":
        return _western_address_lines(party, language)
    postal_code = party.get("postal_code", "")
    region_to_street = (
        party.get("region", ""),
        party.get("city", ""),
        party.get("address_line1", ""),
    )
    country = "" if domestic else country_name(party["country"], language)
    if order == "japanese":
        # 〒 postal code; prefecture, city and street as one run; the building on its own
        # line; a foreign document names the country last, under the address.
        lines = [
            f"〒{postal_code}" if postal_code else "",
            _address_run(*region_to_street),
            party.get("address_line2", ""),
            country,
        ]
    else:
        # Postal code first, then biggest to smallest: country, province, city, street.
        lines = [
            postal_code,
            _address_run(country, *region_to_street),
            party.get("address_line2", ""),
        ]
    return [line for line in lines if line]


def _seller_block(
    seller: dict[str, Any], language: str, *, template_version: str, domestic: bool
) -> dict[str, Any]:
    lines = _address_lines(seller, language, template_version=template_version, domestic=domestic)
    if seller.get("tax_id"):
        lines.append(f"{label('tax_id', language)}: {seller['tax_id']}")
    lines += [seller[key] for key in ("email", "phone", "website") if seller.get(key)]
    return {"name": seller.get("legal_name", ""), "lines": lines}


def _buyer_block(
    buyer: dict[str, Any], language: str, *, template_version: str, domestic: bool
) -> dict[str, Any]:
    lines = _address_lines(buyer, language, template_version=template_version, domestic=domestic)
    if buyer.get("tax_id"):
        lines.append(f"{label('tax_id', language)}: {buyer['tax_id']}")
    return {"name": buyer.get("legal_name", ""), "lines": lines}


def support_line(seller: dict[str, Any], language: str) -> str:
    """ "Questions about this document? Contact …" from the seller snapshot (X5); "" if none."""
    contact = " · ".join(
        value for value in (seller.get("support_email"), seller.get("support_phone")) if value
    )
    return label("questions", language, contact=contact) if contact else ""


def _footer(
    seller: dict[str, Any], language: str, *, template_version: str, domestic: bool
) -> tuple[str, str]:
    lines = _address_lines(seller, language, template_version=template_version, domestic=domestic)
    # Japanese and Chinese addresses have no commas between their parts.
    separator = (
        ", "
        if _address_order(seller, language, template_version=template_version) == "western"
        else " "
    )
    parts = [seller.get("legal_name", ""), separator.join(lines)]
    if seller.get("tax_id"):
        parts.append(f"{label('tax_id', language)} {seller['tax_id']}")
    return " · ".join(part for part in parts if part), support_line(seller, language)


# Why a tax line has no tax, by EN 16931 category. v1 and v2 named no reason for zero-rated
# sales (a country without a configured rate).
TAX_NOTES = {"AE": "note_AE", "E": "note_E", "O": "note_O"}
TAX_NOTES_SINCE_V3 = {**TAX_NOTES, "Z": "note_Z"}


def _lines_and_totals(
    document: Invoice | CreditNote, language: str, *, total_key: str, template_version: str
) -> dict[str, Any]:
    currency = document.currency
    lines = list(document.lines.all())
    show_discount = any(line.discount_minor for line in lines)
    columns = [
        "#",
        label("description", language),
        label("quantity", language),
        label("unit_price", language),
    ]
    if show_discount:
        columns.append(label("discount", language))
    columns += [label("tax_rate", language), label("amount", language)]
    tax_lines = list(document.tax_lines.all())
    totals = [
        [label("subtotal", language), format_money(document.subtotal_minor, currency, language)]
    ]
    for tax_line in tax_lines:
        totals.append(
            [
                label(
                    "tax_on",
                    language,
                    rate=format_percent(tax_line.rate, language),
                    amount=format_money(tax_line.taxable_minor, currency, language),
                ),
                format_money(tax_line.tax_minor, currency, language),
            ]
        )
    notes_keys = (
        TAX_NOTES_SINCE_V3 if _since(template_version, PAYMENT_DETAILS_SINCE) else TAX_NOTES
    )
    return {
        "show_discount": show_discount,
        "columns": columns,
        "lines": [
            {
                "position": str(line.position),
                "description": line.description,
                "quantity": format_quantity(line.quantity, language),
                "unit_price": format_money(line.unit_price_minor, currency, language),
                "discount": (
                    "-" + format_money(line.discount_minor, currency, language)
                    if line.discount_minor
                    else ""
                ),
                "tax_rate": format_percent(line.tax_rate, language),
                "amount": format_money(line.net_minor, currency, language),
            }
            for line in lines
        ],
        "totals": totals,
        "grand_total": [
            label(total_key, language),
            format_money(document.total_minor, currency, language),
        ],
        "tax_notes": [
            label(notes_keys[category], language)
            for category in sorted({t.category for t in tax_lines})
            if category in notes_keys
        ],
    }


def bank_transfer_possible(seller: dict[str, Any]) -> bool:
    """The seller snapshot has an account to pay into (an IBAN or an account number)."""
    return bool(seller.get("bank_iban") or seller.get("bank_account_number"))


def payment_instructions(invoice: Invoice, language: str) -> dict[str, Any]:
    """How to pay an outstanding invoice, with its number as the reference (P7): on the PDF and
    on the User Center's Pay page. A bank transfer is asked for only when the seller has bank
    details (``by_bank_transfer``); otherwise the customer is sent to pay online."""
    if not bank_transfer_possible(invoice.seller):
        return {
            "text": label("pay_online", language, reference=invoice.number),
            "rows": [[label("reference", language), invoice.number]],
            "by_bank_transfer": False,
        }
    return {**_bank_transfer_instructions(invoice, language), "by_bank_transfer": True}


def _bank_transfer_instructions(invoice: Invoice, language: str) -> dict[str, Any]:
    """The bank-transfer box as v1 and v2 print it (whatever the bank details)."""
    seller = invoice.seller
    rows = [
        [label("reference", language), invoice.number],
        *[
            [label(key, language), seller[field]]
            for key, field in (
                ("account_holder", "bank_account_holder"),
                ("bank", "bank_name"),
                ("account_number", "bank_account_number"),
                ("routing_number", "bank_routing_number"),
            )
            if seller.get(field)
        ],
    ]
    if seller.get("bank_iban"):
        rows.insert(2, ["IBAN", seller["bank_iban"]])
    if seller.get("bank_bic"):
        rows.insert(3, ["BIC", seller["bank_bic"]])
    return {"text": label("pay_by_transfer", language, reference=invoice.number), "rows": rows}


def _base(document: Document, seller: dict[str, Any], buyer: dict[str, Any]) -> dict[str, Any]:
    language = normalise_language(document.language)
    version = document.template_version
    domestic = bool(seller.get("country")) and seller.get("country") == buyer.get("country")
    footer, support = _footer(seller, language, template_version=version, domestic=domestic)
    return {
        "lang": TYPST_LANGUAGES[language],
        "number": document.number,
        "seller": _seller_block(seller, language, template_version=version, domestic=domestic),
        "buyer_label": label("bill_to", language),
        "buyer": _buyer_block(buyer, language, template_version=version, domestic=domestic),
        "footer": footer,
        "support": support,
        "page_label": label("page", language),
        "notes_label": label("notes", language),
        "notes": "",
        "intro": "",
        "stamp": "",
        "payment": None,
    }


def invoice_render_data(document: Document) -> dict[str, Any]:
    invoice = document.invoice
    assert invoice is not None
    assert document.invoice_revision is not None
    revision = document_invoice_revision(document)
    assert revision is not None
    language = normalise_language(document.language)
    version = document.template_version
    paid_at_issue = invoice.order.payment_method == Order.PaymentMethod.CARD
    payment_details = _since(version, PAYMENT_DETAILS_SINCE)
    meta = [
        [label("number", language), invoice.number],
        [label("issue_date", language), format_day(invoice.issue_date, language)],
    ]
    if not paid_at_issue:
        meta.append([label("due_date", language), format_day(invoice.due_date, language)])
    elif payment_details and invoice.paid_at is not None:
        # Paid by card before it was issued; later payments get a receipt of their own (an
        # issued invoice never changes).
        meta += _paid_meta(invoice.paid_at, Payment.Method.CARD, language)
    if revision.po_number:
        meta.append([label("po_number", language), revision.po_number])
    if revision.revision > 1:
        meta.append([label("revision", language), str(revision.revision)])
    data = _base(document, invoice.seller, invoice.buyer)
    data.update(_lines_and_totals(invoice, language, total_key="total", template_version=version))
    if paid_at_issue:
        payment = None
    elif payment_details:
        instructions = payment_instructions(invoice, language)
        payment = {"text": instructions["text"], "rows": instructions["rows"]}
    else:
        payment = _bank_transfer_instructions(invoice, language)
    data.update(
        title=label("invoice", language),
        meta=meta,
        notes=revision.notes,
        stamp=label("status_paid", language) if paid_at_issue else "",
        payment=payment,
    )
    return data


def _paid_meta(paid_at: datetime, method: str, language: str) -> list[list[str]]:
    """ "Paid on" and "Payment method" rows, the day in the site's time zone."""
    return [
        [label("paid_on", language), format_day(timezone.localtime(paid_at).date(), language)],
        [label("payment_method", language), label(f"method_{method}", language)],
    ]


def credit_note_render_data(document: Document) -> dict[str, Any]:
    credit_note = document.credit_note
    assert credit_note is not None
    language = normalise_language(document.language)
    data = _base(document, credit_note.seller, credit_note.buyer)
    data.update(
        _lines_and_totals(
            credit_note,
            language,
            total_key="total_credited",
            template_version=document.template_version,
        )
    )
    data.update(
        title=label("credit_note", language),
        meta=[
            [label("number", language), credit_note.number],
            [label("credit_note_date", language), format_day(credit_note.issue_date, language)],
            [label("invoice", language), credit_note.invoice.number],
        ],
        intro=label("credits_invoice", language, number=credit_note.invoice.number),
    )
    return data


def receipt_render_data(document: Document) -> dict[str, Any]:
    payment = document.payment
    invoice = document.invoice
    assert payment is not None
    assert invoice is not None
    language = normalise_language(document.language)
    amount = format_money(payment.amount_minor, payment.currency, language)
    data = _base(document, invoice.seller, invoice.buyer)
    data.update(
        _lines_and_totals(
            invoice,
            language,
            total_key="amount_paid",
            template_version=document.template_version,
        )
    )
    data.update(
        title=label("receipt", language),
        meta=[
            [label("invoice", language), invoice.number],
            *_paid_meta(payment.received_at, payment.method, language),
            [label("reference", language), payment.provider_reference],
        ],
        intro=label("receipt_text", language, amount=amount, number=invoice.number),
        stamp=label("status_paid", language),
    )
    return data


def document_render_data(document: Document) -> dict[str, Any]:
    builders = {
        Document.Kind.INVOICE: invoice_render_data,
        Document.Kind.CREDIT_NOTE: credit_note_render_data,
        Document.Kind.RECEIPT: receipt_render_data,
    }
    return builders[Document.Kind(document.kind)](document)


def document_render(document: Document) -> bytes:
    return render_pdf(
        template_version=document.template_version,
        data=document_render_data(document),
        timestamp=document.render_timestamp,
    )


# --- previews (issue 11): what an invoice will print, before it is issued --------------------


def invoice_preview_data(invoice: Invoice) -> dict[str, Any]:
    """The render data of ``invoice``'s current PDF, marked PREVIEW and without its number.

    Called inside a transaction that is rolled back (see ``remit.billing.services.previews``):
    the data is exactly what issuing would freeze, but the number is not one the customer keeps.
    """
    document = Document.objects.get(
        invoice=invoice, kind=Document.Kind.INVOICE, invoice_revision=invoice.revision
    )
    data = document_render_data(document)
    with translation.override(normalise_language(document.language)):
        pending = translation.gettext("number assigned when issued")
        watermark = translation.gettext("PREVIEW")

    def unnumbered(value: Any) -> Any:
        if isinstance(value, str):
            return value.replace(invoice.number, pending) if invoice.number else value
        if isinstance(value, list):
            return [unnumbered(item) for item in value]
        if isinstance(value, dict):
            return {key: unnumbered(item) for key, item in value.items()}
        return value

    data = unnumbered(data)
    data["number"] = ""
    data["watermark"] = watermark
    data["template_version"] = document.template_version
    return data


def invoice_preview_render(data: dict[str, Any]) -> bytes:
    """The PDF of :func:`invoice_preview_data`'s result: rendered, never stored."""
    data = dict(data)
    version = data.pop("template_version", CURRENT_TEMPLATE_VERSION)
    return render_pdf(template_version=version, data=data, timestamp=timezone.now())
