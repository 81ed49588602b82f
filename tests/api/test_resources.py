"""The REST API's resources (I1): each operation through the real HTTP stack, with the error
shape and status codes of the domain's typed errors."""

from __future__ import annotations

import pytest
from django.test import Client

from remit.billing.models import AuditEvent, Invoice, Membership, Order, Payment
from remit.documents.services.archive import document_open, invoice_document_ready
from tests.api.conftest import ApiClient, make_client
from tests.billing.helpers import buy_credits_by_invoice, table_counts
from tests.factories import AccountFactory, BillingProfileFactory, MembershipFactory

pytestmark = pytest.mark.django_db

PROFILE = {
    "legal_name": "Acme Analytics Ltd",
    "address_line1": "1 Market Street",
    "city": "London",
    "postal_code": "SW1A 1AA",
    "country": "GB",
    "invoice_recipient_emails": ["ap@acme.example"],
}


def _account(api: ApiClient, **extra) -> dict:
    response = api.post("/accounts", {"name": "Acme Analytics", "currency": "USD", **extra})
    assert response.status_code == 201, response.json()
    return response.json()


# --- authentication, scopes -------------------------------------------------------------------


def test_no_key_or_a_bad_key_is_401_with_the_error_shape(db):
    for client in (ApiClient(None), ApiClient("rk_nope_nope"), ApiClient("garbage")):
        response = client.get("/accounts")
        assert response.status_code == 401
        assert response.json()["code"] == "unauthenticated"
        assert response["WWW-Authenticate"] == "Bearer"


def test_a_read_key_cannot_write_and_a_revoked_key_is_refused(db, catalogue):
    from remit.billing.actors import Actor
    from remit.integrations.models import ApiKey
    from remit.integrations.services.api_keys import api_key_revoke

    reader = make_client("read")
    assert reader.get("/accounts").status_code == 200
    response = reader.post("/accounts", {"name": "X"})
    assert response.status_code == 403
    assert response.json() == {
        "code": "forbidden",
        "message": "This API key lacks the 'write' scope.",
        "details": {"scope": "write"},
    }
    api_key_revoke(api_key=ApiKey.objects.get(), actor=Actor.system())
    assert reader.get("/accounts").status_code == 401


def test_only_staff_keys_change_account_options(api, staff_api, catalogue):
    account = _account(api, status="trial")
    body = {"reason": "Pilot", "invoicing_during_trial_enabled": True}
    assert api.put(f"/accounts/{account['id']}/options", body).status_code == 403
    response = staff_api.put(f"/accounts/{account['id']}/options", body)
    assert response.status_code == 200
    assert response.json()["invoicing_during_trial_enabled"] is True
    limit = staff_api.put(
        f"/accounts/{account['id']}/options", {"reason": "Big", "unpaid_invoice_limit": 7}
    )
    assert limit.json()["unpaid_invoice_limit"] == 7
    cleared = staff_api.put(
        f"/accounts/{account['id']}/options", {"reason": "Back", "clear_unpaid_invoice_limit": True}
    )
    assert cleared.json()["unpaid_invoice_limit"] is None


def test_the_rate_limit_answers_429_with_retry_after(api, settings):
    settings.REMIT_API_REQUESTS_PER_MINUTE = 3
    statuses = [api.get("/accounts").status_code for _ in range(5)]
    assert statuses[:3] == [200, 200, 200]
    response = api.get("/accounts")
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    assert 1 <= int(response["Retry-After"]) <= 60


def test_the_rate_limit_costs_one_statement_per_request_without_redis(api):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from remit.integrations.models import ApiRequestCount

    api.get("/accounts")  # the key's last use is written at most once a minute
    with CaptureQueriesContext(connection) as queries:
        assert api.get("/accounts").status_code == 200
    counting = [q["sql"] for q in queries if "integrations_apirequestcount" in q["sql"]]
    assert len(counting) == 1
    assert counting[0].startswith("INSERT")
    assert ApiRequestCount.objects.get().count == 2


@pytest.fixture
def redis_cache(settings, worker_id):
    """Django's Redis cache on the local Redis, a database of this test's own per xdist worker;
    flushed before and after."""
    import redis

    number = 10 + (int(worker_id[2:]) if worker_id.startswith("gw") else 0)
    url = f"redis://127.0.0.1:6379/{number}"
    redis.Redis.from_url(url).flushdb()
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    }
    yield redis.Redis.from_url(url)
    redis.Redis.from_url(url).flushdb()


def test_with_a_redis_cache_the_rate_is_counted_in_redis_and_still_limits(
    api, settings, redis_cache
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from remit.integrations.models import ApiRequestCount

    settings.REMIT_API_REQUESTS_PER_MINUTE = 3
    with CaptureQueriesContext(connection) as queries:
        statuses = [api.get("/accounts").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert not any("apirequestcount" in q["sql"] for q in queries)
    assert not ApiRequestCount.objects.exists()
    [key] = redis_cache.keys("*api-rate*")
    assert 0 < redis_cache.ttl(key) <= 120


# --- accounts, members, billing profiles ----------------------------------------------------------


def test_accounts_are_created_listed_with_cursors_and_fetched(api, catalogue):
    created = [_account(api, external_id=f"cust_{n}") for n in range(5)]
    first = api.get("/accounts", limit=2).json()
    assert [a["id"] for a in first["items"]] == [created[4]["id"], created[3]["id"]]
    second = api.get("/accounts", limit=2, cursor=first["next_cursor"]).json()
    assert [a["id"] for a in second["items"]] == [created[2]["id"], created[1]["id"]]
    last = api.get("/accounts", limit=2, cursor=second["next_cursor"]).json()
    assert last["next_cursor"] is None
    assert api.get("/accounts", external_id="cust_3").json()["items"][0]["id"] == created[3]["id"]
    one = api.get(f"/accounts/{created[0]['id']}").json()
    assert one["external_id"] == "cust_0"
    assert one["created_at"].endswith("Z") or "+00:00" in one["created_at"]
    assert api.get("/accounts/999999").status_code == 404
    assert api.get("/accounts", cursor="bogus").json()["code"] == "validation_error"


def test_account_input_errors_are_422_per_field(api, catalogue):
    response = api.post("/accounts", {"name": "", "currency": "ABC", "language": "tlh"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert set(body["details"]["fields"]) == {"name", "currency", "language"}
    missing = api.post("/accounts", {})
    assert missing.status_code == 422
    assert "name" in missing.json()["details"]["fields"]
    assert api.post("/accounts", "{not json").status_code in (400, 422)
    # An external id another account has is a field error, not a server error.
    _account(api, external_id="cust_taken")
    taken = api.post("/accounts", {"name": "Copy", "external_id": "cust_taken"})
    assert taken.status_code == 422
    assert taken.json()["details"]["fields"] == {
        "external_id": ["Another account has this external id."]
    }


def test_members_billing_profile_and_portal_link(api, catalogue, client):
    account = _account(api)
    member = api.post(f"/accounts/{account['id']}/members", {"email": "Jane@Acme.example"})
    assert member.status_code == 201
    assert member.json()["email"] == "jane@acme.example"
    listed = api.get(f"/accounts/{account['id']}/members").json()
    assert [(m["email"], m["role"]) for m in listed] == [("jane@acme.example", "member")]
    put = api.put(f"/accounts/{account['id']}/billing-profile", PROFILE)
    assert put.status_code == 200
    assert api.get(f"/accounts/{account['id']}/billing-profile").json()["city"] == "London"
    bad = api.put(f"/accounts/{account['id']}/billing-profile", {**PROFILE, "tax_id": "DE1"})
    assert bad.status_code == 422
    assert "tax_id" in bad.json()["details"]["fields"]

    link = api.post(f"/accounts/{account['id']}/portal-links", {"email": "jane@acme.example"})
    assert link.status_code == 201
    url = link.json()["url"]
    assert "/portal/" in url
    path = url.split("127.0.0.1", 1)[1]
    used = client.post(path, HTTP_HOST="127.0.0.1")
    assert used.status_code == 302
    stranger = api.post(f"/accounts/{account['id']}/portal-links", {"email": "x@y.example"})
    assert stranger.status_code == 422


# --- orders, invoices, payments ---------------------------------------------------------------


def test_an_invoice_order_issues_its_invoice_and_the_pdf_is_the_stored_bytes(api, catalogue):
    account = _account(api, status="active")
    api.put(f"/accounts/{account['id']}/billing-profile", PROFILE)
    response = api.post(
        f"/accounts/{account['id']}/orders",
        {"kind": "credits", "credits": 150, "po_number": "PO-9", "notes": "Q4"},
    )
    assert response.status_code == 201, response.json()
    order = response.json()
    assert order["total"] == {"amount_minor": 15000, "currency": "USD", "amount": "150.00"}
    assert order["source"] == "api"
    invoice = api.get(f"/invoices/{order['invoice_id']}").json()
    assert invoice["po_number"] == "PO-9"
    assert invoice["total"]["amount"] == "150.00"
    pdf = api.get(f"/invoices/{invoice['id']}/pdf")
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    document = invoice_document_ready(invoice=Invoice.objects.get(pk=invoice["id"]))
    assert b"".join(pdf.streaming_content) == document_open(document)
    listed = api.get("/invoices", account_id=account["id"], status="issued").json()
    assert [i["number"] for i in listed["items"]] == [invoice["number"]]
    revisions = api.get(f"/invoices/{invoice['id']}/revisions").json()
    assert revisions[0]["revision"] == 1


def test_rule_failures_carry_their_codes_and_details(api, staff_api, catalogue):
    account = _account(api, status="active")
    api.put(f"/accounts/{account['id']}/billing-profile", PROFILE)
    orders = f"/accounts/{account['id']}/orders"

    below = api.post(orders, {"kind": "credits", "credits": 99})
    assert below.status_code == 422
    assert below.json()["code"] == "credit_invoice_below_minimum"
    assert below.json()["details"]["minimum"] == "100.00"

    ids = [
        api.post(orders, {"kind": "credits", "credits": 100}).json()["invoice_id"] for _ in range(3)
    ]
    before = table_counts()
    limit = api.post(orders, {"kind": "credits", "credits": 100})
    assert limit.status_code == 409
    assert limit.json()["code"] == "unpaid_invoice_limit_reached"
    assert sorted(i["id"] for i in limit.json()["details"]["invoices"]) == sorted(ids)
    assert table_counts() == before

    trial = _account(api, status="trial")
    api.put(f"/accounts/{trial['id']}/billing-profile", PROFILE)
    refused = api.post(f"/accounts/{trial['id']}/orders", {"kind": "credits", "credits": 100})
    assert refused.json()["code"] == "invoicing_disabled_during_trial"

    no_profile = _account(api, status="active")
    missing = api.post(f"/accounts/{no_profile['id']}/orders", {"kind": "credits", "credits": 100})
    assert missing.status_code == 409
    assert missing.json()["code"] == "billing_profile_required"


def test_payments_are_recorded_once_and_partial_payments_refused(api, catalogue):
    account = _account(api, status="active")
    api.put(f"/accounts/{account['id']}/billing-profile", PROFILE)
    invoice_id = api.post(
        f"/accounts/{account['id']}/orders", {"kind": "credits", "credits": 200}
    ).json()["invoice_id"]
    body = {
        "provider_reference": "BANK-1",
        "amount_minor": 20000,
        "currency": "usd",
        "received_at": "2026-11-20T10:00:00Z",
    }
    partial = api.post(f"/invoices/{invoice_id}/payments", {**body, "amount_minor": 100})
    assert partial.status_code == 422
    assert partial.json()["code"] == "payment_amount_mismatch"
    first = api.post(f"/invoices/{invoice_id}/payments", body)
    again = api.post(f"/invoices/{invoice_id}/payments", body)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert Payment.objects.count() == 1
    assert api.get(f"/invoices/{invoice_id}").json()["status"] == "paid"
    credits = api.get(f"/accounts/{account['id']}/credits").json()
    assert (credits["balance"], credits["pending"]) == (200, 0)
    assert {e["kind"] for e in credits["entries"]} == {"purchase_pending", "purchase_granted"}


def test_platform_orders_are_recorded_once_and_free_trial_ones_get_no_invoice(api, catalogue):
    account = _account(api)
    body = {
        "kind": "credits",
        "credits": 50,
        "external_reference": "in_123",
        "free_trial": True,
        "provider_reference": "pi_123",
        "amount_minor": 5000,
        "currency": "USD",
        "received_at": "2026-11-20T10:00:00Z",
    }
    first = api.post(f"/accounts/{account['id']}/platform-orders", body)
    again = api.post(f"/accounts/{account['id']}/platform-orders", body)
    assert first.status_code == 201, first.json()
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["free_trial"] is True
    assert first.json()["invoice_id"] is None
    assert first.json()["status"] == "paid"
    invoice = api.post(f"/orders/{first.json()['id']}/invoice")
    assert invoice.status_code == 409
    assert invoice.json()["code"] == "order_invoiced_by_payment_platform"
    assert Order.objects.count() == 1


def test_a_paid_card_order_gets_its_invoice_on_request(api, catalogue):
    account = AccountFactory()
    order_body = {
        "kind": "credits",
        "credits": 30,
        "external_reference": "in_card",
        "provider_reference": "pi_card",
        "amount_minor": 3000,
        "currency": "USD",
        "received_at": "2026-11-20T10:00:00Z",
    }
    order = api.post(f"/accounts/{account.pk}/platform-orders", order_body).json()
    refused = api.post(f"/orders/{order['id']}/invoice")
    assert refused.json()["code"] == "billing_profile_required"
    BillingProfileFactory(account=account)
    issued = api.post(f"/orders/{order['id']}/invoice")
    assert issued.status_code == 200
    assert issued.json()["status"] == "paid"


def test_credit_notes_po_numbers_and_audit_actor(api, catalogue):
    from remit.billing.services.invoices import invoice_void
    from tests.billing.helpers import ACTOR

    account = AccountFactory(status="active")
    BillingProfileFactory(account=account)
    MembershipFactory(account=account)
    invoice = buy_credits_by_invoice(account, 100)
    po = api.post(
        f"/accounts/{account.pk}/po-numbers", {"value": "PO-NEW", "apply_to_unpaid": True}
    )
    assert po.status_code == 201
    assert po.json()["revised_invoice_ids"] == [invoice.pk]
    assert [p["value"] for p in api.get(f"/accounts/{account.pk}/po-numbers").json()] == ["PO-NEW"]
    duplicate = api.post(f"/accounts/{account.pk}/po-numbers", {"value": "PO-NEW"})
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "po_number_exists"
    credit_note = invoice_void(invoice=invoice, actor=ACTOR, reason_code="duplicate", reason="x")
    listed = api.get("/credit-notes", account_id=account.pk).json()["items"]
    assert [c["number"] for c in listed] == [credit_note.number]
    event = AuditEvent.objects.get(action="po_number.added")
    assert (event.actor_kind, event.actor_label) == ("api_key", "backend")
    api.post(f"/accounts/{account.pk}/po-numbers", {"value": "PO-ZZZ", "make_default": True})
    listed_po = api.get(f"/accounts/{account.pk}/po-numbers").json()
    assert [(p["value"], p["is_default"]) for p in listed_po] == [  # the default first
        ("PO-ZZZ", True),
        ("PO-NEW", False),
    ]


def test_the_openapi_schema_and_docs_are_served(db):
    schema = ApiClient(None).get("/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/accounts/{account_id}/orders" in paths
    assert "/api/v1/invoices/{invoice_id}/pdf" in paths
    docs = ApiClient(None).get("/docs")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content


def test_bodies_over_the_limit_are_413(api, settings):
    settings.REMIT_API_MAX_BODY_BYTES = 1000
    response = api.post("/accounts", {"name": "x" * 2000})
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


def test_an_account_is_updated_field_by_field_and_audited(api, catalogue):
    account = _account(api, external_id="cust_a")
    _account(api, external_id="cust_b")
    response = api.send("patch", f"/accounts/{account['id']}", {"language": "de"})
    assert response.status_code == 200
    assert (response.json()["language"], response.json()["name"]) == ("de", "Acme Analytics")
    clash = api.send("patch", f"/accounts/{account['id']}", {"external_id": "cust_b"})
    assert clash.status_code == 422
    assert "external_id" in clash.json()["details"]["fields"]
    bad = api.send("patch", f"/accounts/{account['id']}", {"language": "xx", "name": ""})
    assert set(bad.json()["details"]["fields"]) == {"language", "name"}
    event = AuditEvent.objects.get(action="account.updated")
    assert event.new_values == {"language": "de"}
    active = api.send("patch", f"/accounts/{account['id']}", {"status": "active"})
    assert active.json()["status"] == "active"
    back = api.send("patch", f"/accounts/{account['id']}", {"status": "trial"})
    assert back.json()["status"] == "trial"
    assert api.send("patch", f"/accounts/{account['id']}", {"status": "x"}).status_code == 422


def test_lists_take_a_fixed_number_of_queries_whatever_the_rows(api, catalogue):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from remit.billing.services.invoices import invoice_void
    from tests.billing.helpers import ACTOR

    account = AccountFactory(status="active")
    BillingProfileFactory(account=account)

    def data_queries(path: str) -> int:
        """Queries of the data itself (not the key check and rate counter, which vary)."""
        with CaptureQueriesContext(connection) as queries:
            assert api.get(path).status_code == 200
        return sum(
            1
            for query in queries.captured_queries
            if "billing_" in query["sql"] or "documents_" in query["sql"]
        )

    def counts() -> tuple[int, int]:
        return data_queries(f"/accounts/{account.pk}/orders"), data_queries("/credit-notes")

    def void_one() -> None:
        invoice = buy_credits_by_invoice(account, 100)
        invoice_void(invoice=invoice, actor=ACTOR, reason_code="duplicate", reason="x")

    void_one()
    few = counts()
    for _ in range(4):
        void_one()
    assert counts() == few


def test_a_member_with_a_bad_email_or_role_is_refused_and_no_user_is_made(api, catalogue):
    from django.contrib.auth import get_user_model

    account = AccountFactory()
    users = get_user_model().objects.count()
    bad = api.post(f"/accounts/{account.pk}/members", {"email": "not-an-email", "role": "boss"})
    assert bad.status_code == 422
    assert set(bad.json()["details"]["fields"]) == {"email", "role"}
    assert get_user_model().objects.count() == users
    assert not Membership.objects.filter(account=account).exists()


@pytest.mark.parametrize(
    "path", ["/api/v1/nothing", "/api/v1/accounts/", "/api/v2/accounts", "/api/"]
)
def test_an_address_that_is_no_operation_is_a_json_404(db, path):
    response = Client().get(path, HTTP_AUTHORIZATION="Bearer whatever")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {
        "code": "not_found",
        "message": "No API operation at this address; the operations are listed at /api/v1/docs.",
        "details": {},
    }


def test_without_a_payment_platform_a_card_order_is_refused_and_nothing_is_written(
    api, catalogue, settings
):
    settings.REMIT_PAYMENTS_TEST_MODE = False
    account = AccountFactory()
    BillingProfileFactory(account=account)
    before = table_counts()
    refused = api.post(
        f"/accounts/{account.pk}/orders",
        {"kind": "credits", "credits": 30, "payment_method": "card"},
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "card_payments_unavailable"
    assert table_counts() == before
    invoiced = api.post(
        f"/accounts/{account.pk}/orders",
        {"kind": "credits", "credits": 150, "payment_method": "invoice"},
    )
    assert invoiced.status_code == 201


@pytest.mark.parametrize("body", ["null", "123", "[]", '"text"'])
def test_a_json_body_that_is_not_an_object_is_refused(api, catalogue, body):
    """Regression (issue 13 item 9): these were 200 with no change."""
    account = _account(api)
    response = api.send("patch", f"/accounts/{account['id']}", body)
    assert response.status_code == 422
    assert response.json() == {
        "code": "validation_error",
        "message": "Invalid input.",
        "details": {"fields": {"body": ["Send a JSON object."]}},
    }
    assert api.post("/accounts", body).status_code == 422


@pytest.mark.parametrize("currency", ["XXX", "XAU", "CLF", "CHF"])
def test_an_account_currency_must_be_one_the_catalogue_prices(api, catalogue, currency):
    """Regression (issue 13 item 9): XXX, XAU and CLF were accepted."""
    response = api.post("/accounts", {"name": "Acme", "currency": currency})
    assert response.status_code == 422
    assert response.json()["details"]["fields"]["currency"] == [
        f"Nothing is sold in {currency}; use one of: EUR, JPY, USD."
    ]
    assert api.post("/accounts", {"name": "Acme", "currency": "EUR"}).status_code == 201


@pytest.mark.parametrize("name", ["\u200b\u200b", " \u2060 ", "\ufeff"])
def test_a_name_of_only_invisible_characters_is_refused(api, catalogue, name):
    response = api.post("/accounts", {"name": name})
    assert response.status_code == 422
    assert response.json()["details"]["fields"]["name"] == ["This field is required."]
