"""Real parallel HTTP requests against the live server: double submits of Create Invoice, the
last free unpaid-invoice slot, and double clicks on Pay — on SQLite and PostgreSQL alike."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request

import pytest
from django.conf import settings
from django.test import Client

from remit.billing.models import CheckoutSession, Invoice, Order, Payment
from tests.billing.helpers import buy_credits_by_invoice
from tests.concurrency import run_concurrently
from tests.factories import MembershipFactory

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """One signed-in customer: a session cookie and a CSRF token, over plain HTTP."""

    def __init__(self, base_url: str, user) -> None:
        self.base_url = base_url
        client = Client()
        client.force_login(user)
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect
        )
        self.session_cookie = client.cookies[settings.SESSION_COOKIE_NAME].value

    def _request(self, path: str, data: dict[str, str] | None = None) -> tuple[int, str, str]:
        request = urllib.request.Request(  # noqa: S310 - the live server's http URL
            self.base_url + path,
            data=urllib.parse.urlencode(data).encode() if data is not None else None,
            headers={
                "Cookie": f"{settings.SESSION_COOKIE_NAME}={self.session_cookie}"
                + "".join(f"; {c.name}={c.value}" for c in self.jar),
                "Referer": self.base_url + path,
            },
        )
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.read().decode(), ""
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(), error.headers.get("Location", "")

    def get(self, path: str) -> str:
        status, body, _ = self._request(path)
        assert status == 200, (path, status)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        if token:
            self.csrf = token.group(1)
        return body

    def post(self, path: str, data: dict[str, str]) -> tuple[int, str]:
        status, _, location = self._request(path, {**data, "csrfmiddlewaretoken": self.csrf})
        return status, location


def _invoice_form(body: str) -> dict[str, str]:
    key = re.search(r'name="credits-idempotency_key" value="([^"]+)"', body).group(1)
    return {
        "credits-credits": "100",
        "credits-create_invoice": "on",
        "credits-idempotency_key": key,
        "credits-billing-legal_name": "Acme Corp",
        "credits-billing-address_line1": "1 Main St",
        "credits-billing-city": "Springfield",
        "credits-billing-postal_code": "12345",
        "credits-billing-country": "US",
    }


@pytest.fixture
def browser(live_server, account):
    return Browser(live_server.url, MembershipFactory(account=account).user)


def test_eight_parallel_submits_of_one_form_create_one_invoice(browser, account):
    form = _invoice_form(browser.get("/buy/"))
    outcomes = run_concurrently([lambda: browser.post("/buy/credits/", form)] * 8)
    assert [o.error for o in outcomes] == [None] * 8
    assert {o.value[0] for o in outcomes} == {302}
    assert len({o.value[1] for o in outcomes}) == 1  # every click lands on the same invoice
    assert Order.objects.filter(account=account).count() == 1
    assert Invoice.objects.filter(account=account).count() == 1


def test_parallel_different_forms_take_the_last_free_slot_once(browser, account):
    buy_credits_by_invoice(account, 100)
    buy_credits_by_invoice(account, 100)
    forms = [_invoice_form(browser.get("/buy/")) for _ in range(6)]
    outcomes = run_concurrently(
        [lambda form=form: browser.post("/buy/credits/", form) for form in forms]
    )
    statuses = sorted(o.value[0] for o in outcomes)
    assert statuses == [302] + [303] * 5  # the refusals redirect to the page (PRG)
    assert Invoice.objects.filter(account=account, status=Invoice.Status.ISSUED).count() == 3


def test_parallel_clicks_on_pay_record_one_payment(browser, account):
    invoice = buy_credits_by_invoice(account, 100)
    browser.get(f"/invoices/{invoice.pk}/pay/")
    starts = run_concurrently([lambda: browser.post(f"/invoices/{invoice.pk}/pay/", {})] * 4)
    assert len({o.value[1] for o in starts}) == 1  # one checkout, reused
    assert CheckoutSession.objects.count() == 1
    token = CheckoutSession.objects.get().token
    browser.get(f"/checkout/{token}/test/")
    pays = run_concurrently(
        [lambda: browser.post(f"/checkout/{token}/test/", {"action": "pay"})] * 6
    )
    assert {o.value[0] for o in pays} == {302}
    assert Payment.objects.count() == 1
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
