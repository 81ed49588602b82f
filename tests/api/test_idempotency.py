"""Idempotent POSTs (I2): replay, different body, in flight, parallel replays over real HTTP."""

from __future__ import annotations

import datetime
import json
import urllib.error
import urllib.request

import pytest

from remit.billing.actors import Actor
from remit.billing.models import Account, Invoice, Order
from remit.integrations.models import IdempotencyRecord
from remit.integrations.services.api_keys import api_key_create
from tests.api.test_resources import PROFILE
from tests.concurrency import run_concurrently

pytestmark = pytest.mark.django_db


def test_the_same_key_and_body_replays_the_first_response(api, catalogue):
    body = {"name": "Acme", "external_id": "acme-1"}
    first = api.post("/accounts", body, headers={"Idempotency-Key": "create-acme"})
    second = api.post("/accounts", body, headers={"Idempotency-Key": "create-acme"})
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Account.objects.count() == 1


def test_an_idempotent_post_looks_its_api_key_up_once(api, catalogue):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from remit.integrations.models import ApiKey

    with CaptureQueriesContext(connection) as queries:
        response = api.post("/accounts", {"name": "Acme"}, headers={"Idempotency-Key": "once"})

    assert response.status_code == 201
    table = ApiKey._meta.db_table
    lookups = [q for q in queries.captured_queries if q["sql"].startswith(f'SELECT "{table}"')]
    assert len(lookups) == 1


def test_the_same_key_with_another_body_is_422(api, catalogue):
    api.post("/accounts", {"name": "Acme"}, headers={"Idempotency-Key": "k1"})
    other = api.post("/accounts", {"name": "Other"}, headers={"Idempotency-Key": "k1"})
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert Account.objects.count() == 1


def test_a_key_still_in_flight_is_409(api, catalogue):
    from remit.integrations.models import ApiKey
    from remit.integrations.services.idempotency import idempotency_claim, request_fingerprint

    body = json.dumps({"name": "Acme"}).encode()
    idempotency_claim(
        api_key=ApiKey.objects.get(),
        key="busy",
        fingerprint=request_fingerprint(method="POST", path="/api/v1/accounts", body=body),
    )
    response = api.post("/accounts", body.decode(), headers={"Idempotency-Key": "busy"})
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_request_in_flight"


def test_errors_are_replayed_too_and_keys_are_per_api_key(api, catalogue):
    refused = api.post("/accounts", {"name": ""}, headers={"Idempotency-Key": "bad"})
    again = api.post("/accounts", {"name": ""}, headers={"Idempotency-Key": "bad"})
    assert refused.status_code == again.status_code == 422
    assert again["Idempotent-Replayed"] == "true"
    from tests.api.conftest import make_client

    other_key = make_client("read", "write")
    fresh = other_key.post("/accounts", {"name": ""}, headers={"Idempotency-Key": "bad"})
    assert "Idempotent-Replayed" not in fresh


def test_records_older_than_a_day_may_be_reused(api, catalogue):
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    api.post("/accounts", {"name": "A"}, headers={"Idempotency-Key": "daily"})
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        later = api.post("/accounts", {"name": "B"}, headers={"Idempotency-Key": "daily"})
    assert later.status_code == 201
    assert Account.objects.count() == 2


def test_a_key_over_255_characters_is_refused(api):
    response = api.post("/accounts", {"name": "A"}, headers={"Idempotency-Key": "k" * 256})
    assert response.status_code == 400


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_parallel_replays_over_http_create_one_order_and_agree(live_server, catalogue):
    token = api_key_create(name="b", scopes=["read", "write"], actor=Actor.system()).token
    account = Account.objects.create(name="Acme", status="active", currency="USD")
    from remit.billing.models import BillingProfile

    BillingProfile.objects.create(account=account, **{**PROFILE, "invoice_recipient_emails": []})
    body = json.dumps({"kind": "credits", "credits": 100}).encode()
    url = f"{live_server.url}/api/v1/accounts/{account.pk}/orders"

    def post() -> tuple[int, str]:
        request = urllib.request.Request(  # noqa: S310 - the live server
            url,
            data=body,
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                "Idempotency-Key": "order-once",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    outcomes = run_concurrently([post] * 8)
    results = [o.value for o in outcomes]
    assert all(o.error is None for o in outcomes)
    statuses = sorted(status for status, _ in results)
    # Every request either ran or replayed the one response (201), or met it in flight (409).
    assert set(statuses) <= {201, 409}
    bodies = {text for status, text in results if status == 201}
    assert len(bodies) == 1
    assert Order.objects.count() == 1
    assert Invoice.objects.count() == 1
    # After the first finished, a retry replays it.
    status, text = post()
    assert (status, text) == (201, bodies.pop())
    assert IdempotencyRecord.objects.count() == 1


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_parallel_requests_over_http_never_exceed_the_rate_limit(live_server, settings):
    """Twelve requests at once against a limit of five: exactly five are answered."""
    import time_machine

    settings.REMIT_API_REQUESTS_PER_MINUTE = 5
    token = api_key_create(name="b", scopes=["read"], actor=Actor.system()).token

    def get() -> int:
        request = urllib.request.Request(  # noqa: S310 - the live server
            f"{live_server.url}/api/v1/accounts", headers={"Authorization": f"Bearer {token}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)

    # Ten seconds into a minute: all twelve fall in one window.
    with time_machine.travel(datetime.datetime(2026, 3, 2, 9, 0, 10, tzinfo=datetime.UTC)):
        outcomes = run_concurrently([get] * 12)
    assert all(o.error is None for o in outcomes)
    assert sorted(o.value for o in outcomes) == [200] * 5 + [429] * 7
