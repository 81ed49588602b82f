from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from remit.billing.actors import Actor
from remit.integrations.services.api_keys import api_key_create


class ApiClient:
    """The API as the operator's backend sees it: JSON in and out, a Bearer key."""

    def __init__(self, token: str | None) -> None:
        self.client = Client(HTTP_HOST="127.0.0.1")
        self.token = token

    def _headers(self, extra: dict[str, str]) -> dict[str, str]:
        headers = {"HTTP_AUTHORIZATION": f"Bearer {self.token}"} if self.token else {}
        headers.update({f"HTTP_{k.upper().replace('-', '_')}": v for k, v in extra.items()})
        return headers

    def get(self, path: str, headers: dict[str, str] | None = None, **params: Any):
        return self.client.get(f"/api/v1{path}", params, **self._headers(headers or {}))

    def send(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None):
        data = body if isinstance(body, str | bytes) else json.dumps(body or {})
        return getattr(self.client, method)(
            f"/api/v1{path}",
            data=data,
            content_type="application/json",
            **self._headers(headers or {}),
        )

    def post(self, path: str, body: Any = None, headers: dict[str, str] | None = None):
        return self.send("post", path, body, headers)

    def put(self, path: str, body: Any = None, headers: dict[str, str] | None = None):
        return self.send("put", path, body, headers)


def make_client(*scopes: str) -> ApiClient:
    created = api_key_create(name="backend", scopes=list(scopes), actor=Actor.system())
    return ApiClient(created.token)


@pytest.fixture
def api(db) -> ApiClient:  # type: ignore[no-untyped-def]
    """A read + write key."""
    return make_client("read", "write")


@pytest.fixture
def staff_api(db) -> ApiClient:  # type: ignore[no-untyped-def]
    return make_client("read", "write", "staff")


# Members' invitations are sent by a task; the document tests' runner runs it.
from tests.documents.conftest import run_tasks  # noqa: E402, F401
