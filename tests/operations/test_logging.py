"""Log lines as JSON with the request id, account and actor (O2)."""

from __future__ import annotations

import json
import logging

import pytest
from django.test import Client

from remit.core.logging import JsonFormatter
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def lines():
    """Every record of the access logger, formatted as production formats it."""
    records: list[str] = []
    formatter = JsonFormatter()

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(formatter.format(record))

    handler = Keep()
    logger = logging.getLogger("remit.access")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def test_each_request_gets_an_id_sent_back_and_one_access_line(client: Client, lines):
    response = client.get("/health")
    [line] = [json.loads(text) for text in lines]
    assert len(response["X-Request-ID"]) == 32
    assert line["request_id"] == response["X-Request-ID"]
    assert line["message"] == "GET /health 200"
    assert (line["method"], line["path"], line["route"], line["status"]) == (
        "GET",
        "/health",
        "health",
        200,
    )
    assert line["duration_ms"] >= 0
    assert line["level"] == "INFO"
    assert line["time"].endswith("+00:00")
    assert "actor" not in line


def test_a_callers_request_id_is_kept_and_a_malformed_one_replaced(client, lines):
    kept = client.get("/health", HTTP_X_REQUEST_ID="proxy-7f3a9c21")
    assert kept["X-Request-ID"] == "proxy-7f3a9c21"
    replaced = client.get("/health", HTTP_X_REQUEST_ID='evil"\n{"level":"ERROR"}')
    assert replaced["X-Request-ID"] != 'evil"\n{"level":"ERROR"}'
    assert [json.loads(text)["request_id"] for text in lines] == [
        "proxy-7f3a9c21",
        replaced["X-Request-ID"],
    ]


def test_a_signed_in_members_lines_name_the_account_and_actor(client, account, lines):
    membership = MembershipFactory(account=account)
    client.force_login(membership.user)
    client.get("/orders/")
    line = json.loads(lines[-1])
    assert line["account"] == account.pk
    assert line["actor"] == f"user:{membership.user.pk}"
    assert line["route"] == "orders/"


def test_an_api_request_names_the_key_and_the_account_of_its_path(client, account, lines):
    from remit.billing.actors import Actor
    from remit.integrations.services.api_keys import api_key_create

    created = api_key_create(name="backend", scopes=["read"], actor=Actor.system())
    client.get(f"/api/v1/accounts/{account.pk}", HTTP_AUTHORIZATION=f"Bearer {created.token}")
    line = json.loads(lines[-1])
    assert line["account"] == account.pk
    assert line["actor"] == f"api_key:{created.api_key.prefix}"
    assert line["status"] == 200


def test_user_text_in_a_message_cannot_forge_a_line():
    record = logging.LogRecord(
        "remit", logging.WARNING, __file__, 1, 'bad "%s"', ('x"\n{"level":"ERROR"}',), None
    )
    text = JsonFormatter().format(record)
    assert "\n" not in text
    assert json.loads(text)["message"] == 'bad "x"\n{"level":"ERROR"}"'
