"""NUL characters, wherever user text enters (issue 13): one middleware refuses them with 400 —
in the API's error shape under /api/ — before any query reaches the database (PostgreSQL cannot
store NUL and answered 500). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from django.test import Client

from remit.billing.models import AuditEvent
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def _refused(response, where: str) -> None:
    assert response.status_code == 400
    assert response.json() == {
        "code": "bad_request",
        "message": f"The {where} contains a NUL character, which is not accepted.",
        "details": {},
    }


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/accounts", {"external_id": "a\x00b"}),
        ("/accounts", {"status": "\x00"}),
        ("/invoices", {"number": "INV\x00"}),
        ("/webhook-deliveries", {"status": "\x00failed"}),
    ],
)
def test_a_nul_in_a_query_filter_is_400(api, path, params):
    _refused(api.get(path, **params), "query string")


def test_a_nul_in_a_json_body_is_400_and_nothing_is_written(api, catalogue):
    account = AccountFactory()
    before = AuditEvent.objects.count()

    link = api.post(f"/accounts/{account.pk}/portal-links", {"email": "jane\u0000@acme.example"})
    order = api.post(
        f"/accounts/{account.pk}/platform-orders",
        {"external_reference": "in_\u0000", "kind": "credits", "credits": 5},
    )
    nested = api.post("/accounts", {"name": "Acme", "metadata": {"k\u0000": ["v"]}})

    _refused(link, "body")
    _refused(order, "body")
    _refused(nested, "body")
    assert AuditEvent.objects.count() == before


def test_text_that_only_looks_like_an_escape_is_accepted(api):
    # A backslash followed by "u0000" is six ordinary characters.
    response = api.post("/accounts", {"name": "Acme \\u0000 Ltd"})

    assert response.status_code == 201
    assert response.json()["name"] == "Acme \\u0000 Ltd"


def test_a_nul_in_the_user_centers_search_is_400(client: Client, db):
    response = client.get("/orders/", {"q": "INV\x00"})

    assert response.status_code == 400
    assert response.content.decode() == (
        "The query string contains a NUL character, which is not accepted."
    )
    assert response["Content-Type"].startswith("text/plain")
