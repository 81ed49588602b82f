"""End-to-end tests of the User Center in a real Chromium (Playwright, sync API) against
pytest-django's ``live_server``.

One browser serves every test of this package; each test gets a fresh context (cookies, downloads)
and writes a full-page screenshot of every page or state it visits to
``artifacts/browser/<test-name>/<NN>-<step>.png`` so a person can look at them.

Playwright's sync API keeps an asyncio loop running in the main thread while it is started, and
Django refuses ORM calls from such a thread (``SynchronousOnlyOperation``). The tests set up data
and check results through the ORM in that same thread, so ``DJANGO_ALLOW_ASYNC_UNSAFE`` is set for
exactly as long as Playwright runs: the browser fixture is package-scoped, so Playwright stops (and
the variable is restored) after the last browser test, before the rest of the suite runs.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Locator,
    Page,
    sync_playwright,
)

from remit.billing.models import Account, Invoice
from remit.documents.models import Document
from remit.documents.services.archive import document_open
from tests.factories import MembershipFactory

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-dev-shm-usage"]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
ARTIFACTS = Path(settings.BASE_DIR) / "artifacts" / "browser"
PASSWORD = "correct horse battery staple"
# Chromium logs every 4xx answer to a navigation; the pages that refuse a form answer 400 or 409
# on purpose, so those lines are not errors of the page.
EXPECTED_CONSOLE = re.compile(
    r"Failed to load resource: the server responded with a status of 40[09]\b"
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: end-to-end test in a real Chromium against the live server"
    )


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    """Stored PDFs go to a private folder, not to var/media."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@dataclass
class Shots:
    """Numbered full-page screenshots of one test."""

    folder: Path
    taken: list[Path] = field(default_factory=list)

    def __call__(self, page: Page, step: str) -> Path:
        path = self.folder / f"{len(self.taken) + 1:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        return path


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Shots:
    folder = ARTIFACTS / re.sub(r"[^\w.-]+", "-", request.node.name).strip("-")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return Shots(folder)


@dataclass
class PageProblems:
    """What the browser complained about: script errors, CSP violations, failed requests."""

    messages: list[str] = field(default_factory=list)

    def console(self, message: ConsoleMessage) -> None:
        if message.type != "error" or EXPECTED_CONSOLE.search(message.text):
            return
        self.messages.append(f"console: {message.text} ({message.location.get('url')})")


def _context(browser: Browser, viewport: dict[str, int]) -> Iterator[BrowserContext]:
    context = browser.new_context(accept_downloads=True, viewport=viewport, locale="en-US")
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    yield from _context(browser, DESKTOP)


@pytest.fixture
def phone_context(browser: Browser) -> Iterator[BrowserContext]:
    yield from _context(browser, PHONE)


def _watched_page(context: BrowserContext, problems: PageProblems) -> Page:
    page = context.new_page()
    page.on("console", problems.console)
    page.on("pageerror", lambda error: problems.messages.append(f"pageerror: {error}"))
    return page


@pytest.fixture
def page_problems() -> Iterator[PageProblems]:
    problems = PageProblems()
    yield problems
    assert problems.messages == [], "the browser reported problems"


@pytest.fixture
def page(context: BrowserContext, page_problems: PageProblems) -> Page:
    return _watched_page(context, page_problems)


@pytest.fixture
def phone_page(phone_context: BrowserContext, page_problems: PageProblems) -> Page:
    return _watched_page(phone_context, page_problems)


@pytest.fixture
def url(live_server) -> Callable[[str], str]:  # type: ignore[no-untyped-def]
    return lambda path: f"{live_server.url}{path}"


@pytest.fixture
def member(catalogue):  # type: ignore[no-untyped-def]
    """A member of a new account: ``member(account)`` returns the user (password PASSWORD)."""
    return lambda account: MembershipFactory(account=account).user


def sign_in_cookie(context: BrowserContext, base_url: str, user) -> None:  # type: ignore[no-untyped-def]
    """Sign the browser in without the form (the sign-in journey itself is tested once)."""
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base_url}])


@pytest.fixture
def signed_in(context: BrowserContext, live_server, member):  # type: ignore[no-untyped-def]
    """``signed_in(account)``: a member of the account, signed in in the desktop context."""

    def sign_in(account: Account):  # type: ignore[no-untyped-def]
        user = member(account)
        sign_in_cookie(context, live_server.url, user)
        return user

    return sign_in


def nav_link(page: Page, name: str) -> Locator:
    """A link of the header's main navigation."""
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True)


def stored_invoice_pdf(invoice: Invoice) -> tuple[str, bytes]:
    """Download name and archived bytes of the invoice's current revision."""
    invoice.refresh_from_db()
    document = Document.objects.get(
        invoice=invoice, kind=Document.Kind.INVOICE, invoice_revision=invoice.revision
    )
    return document.download_name, document_open(document)
