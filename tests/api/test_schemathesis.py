"""schemathesis against the live OpenAPI schema (I1, "verified from outside"): generated requests
to every operation; no 5xx, responses match the schema, status codes are documented."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from remit.billing.actors import Actor
from remit.integrations.services.api_keys import api_key_create
from tests.billing.helpers import buy_credits_by_invoice
from tests.factories import AccountFactory, BillingProfileFactory, MembershipFactory

pytestmark = [pytest.mark.django_db(transaction=True)]

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    ]
)


def test_generated_requests_find_no_server_errors_or_schema_violations(
    live_server, catalogue, settings, tmp_path
):
    settings.REMIT_API_REQUESTS_PER_MINUTE = 100_000
    token = api_key_create(
        name="schemathesis", scopes=["read", "write", "staff"], actor=Actor.system()
    ).token
    account = AccountFactory()
    BillingProfileFactory(account=account)
    MembershipFactory(account=account)
    buy_credits_by_invoice(account, 100)
    report = tmp_path / "schemathesis.txt"
    result = subprocess.run(  # noqa: S603 - our own venv's schemathesis against the live server
        [
            str(Path(sys.executable).with_name("st")),
            "run",
            f"{live_server.url}/api/v1/openapi.json",
            "--header",
            f"Authorization: Bearer {token}",
            "--checks",
            CHECKS,
            "--max-examples",
            "10",
            "--phases",
            "examples,coverage,fuzzing",
            "--workers",
            "1",
            "--request-timeout",
            "30",
            "--generation-deterministic",
            "--suppress-health-check",
            "all",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "NO_COLOR": "1"},
    )
    report.write_text(result.stdout + result.stderr)
    assert result.returncode == 0, result.stdout[-6000:]
