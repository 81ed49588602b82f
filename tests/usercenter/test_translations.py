"""D3 in the User Center: every string translated in every language, placeholders intact, and
every page renders in each language (CJK included) with its own words."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.conf import settings
from django.urls import reverse

from tests.billing.helpers import buy_credits_by_invoice
from tests.factories import MembershipFactory

LOCALE_DIR = Path(settings.BASE_DIR) / "remit" / "locale"
LANGUAGES = ["de", "fr", "es", "ja", "zh_Hans"]
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]")


def _catalogue(language: str):
    with (LOCALE_DIR / language / "LC_MESSAGES" / "django.po").open("rb") as handle:
        return read_po(handle)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated_with_the_same_placeholders(language):
    catalogue = _catalogue(language)
    problems = []
    for message in catalogue:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            problems.append(("untranslated", ids[0]))
            continue
        for string in strings:
            if sorted(PLACEHOLDER.findall(string)) != sorted(PLACEHOLDER.findall(ids[0])):
                problems.append(("placeholders", ids[0]))
    assert problems == []
    assert len(catalogue) > 150


def test_the_catalogues_cover_every_string_in_the_code(tmp_path):
    """makemessages over the code finds nothing the committed catalogues lack."""
    english = _catalogue("de")
    known = {m.id if isinstance(m.id, str) else m.id[0] for m in english if m.id}
    subprocess.run(
        [
            "xgettext",
            "--language=Python",
            "--keyword=_",
            "--keyword=gettext",
            "--keyword=gettext_lazy",
            "--from-code=UTF-8",
            "-o",
            str(tmp_path / "python.pot"),
            *[str(p) for p in (Path(settings.BASE_DIR) / "remit").rglob("*.py")],
        ],
        check=True,
    )
    with (tmp_path / "python.pot").open("rb") as handle:
        found = {m.id for m in read_po(handle) if m.id and isinstance(m.id, str)}
    assert sorted(found - known) == []


@pytest.fixture
def signed_in(client, account):
    user = MembershipFactory(account=account).user
    client.force_login(user)
    return client


PAGES = {
    "de": ("Bestellungen & Rechnungen", "Rechnung"),
    "fr": ("Commandes et factures", "facture"),
    "es": ("Pedidos y facturas", "factura"),
    "ja": ("注文と請求書", "請求書"),
    "zh-hans": ("订单与发票", "发票"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("language", sorted(PAGES))
def test_each_page_renders_in_the_language(signed_in, account, language):
    invoice = buy_credits_by_invoice(account, 100)
    signed_in.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    title, word = PAGES[language]
    for url in (
        reverse("usercenter:orders"),
        reverse("usercenter:buy"),
        reverse("usercenter:settings_billing"),
        reverse("usercenter:invoice_pay", args=[invoice.pk]),
    ):
        response = signed_in.get(url)
        body = response.content.decode()
        assert response.status_code == 200, url
        assert f'<html lang="{language}">' in body, url
        assert title in body, url
        assert word in body, url
        # No English UI text left in the main navigation and headings.
        assert "Orders &amp; Invoices" not in body, url
