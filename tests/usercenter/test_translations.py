"""D3 in the User Center: every string translated in every language, placeholders intact, and
every page renders in each language (CJK included) with its own words."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.conf import settings
from django.urls import reverse

from tests.billing.helpers import buy_credits_by_invoice

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


def test_the_catalogues_cover_every_string_in_the_code_and_templates(tmp_path):
    """makemessages over a copy of the code and templates adds nothing untranslated."""
    copy = tmp_path / "remit"
    shutil.copytree(
        Path(settings.BASE_DIR) / "remit",
        copy,
        ignore=shutil.ignore_patterns("*.mo", "__pycache__"),
    )
    subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", "de", "--no-location", "-v0"],
        cwd=tmp_path,
        check=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "remit.settings"},
    )
    with (copy / "locale" / "de" / "LC_MESSAGES" / "django.po").open("rb") as handle:
        missing = [m.id for m in read_po(handle) if m.id and (m.fuzzy or not m.string)]
    assert missing == []


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
