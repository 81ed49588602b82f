"""Production mode (REMIT_SECURE_COOKIES behind HTTPS): cookies are secure and HSTS is on; the
embedded default keeps them off so http://127.0.0.1 works."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

SETTINGS = [
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SECURE_HSTS_SECONDS",
    "SESSION_COOKIE_AGE",
]


def _settings(**env: str) -> dict:
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        f"print(json.dumps({{name: getattr(settings, name) for name in {SETTINGS!r}}}))"
    )
    result = subprocess.run(  # noqa: S603 - our interpreter, fixed code
        [sys.executable, "-c", code],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "remit.settings", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    ("env", "secure"),
    [({}, False), ({"REMIT_SECURE_COOKIES": "true"}, True)],
)
def test_secure_cookies_and_hsts_follow_the_production_switch(env, secure):
    values = _settings(**env)
    assert values["SESSION_COOKIE_SECURE"] is secure
    assert values["CSRF_COOKIE_SECURE"] is secure
    assert values["SESSION_COOKIE_HTTPONLY"] is True
    assert (values["SECURE_HSTS_SECONDS"] > 0) is secure
    assert values["SESSION_COOKIE_AGE"] == 8 * 3600
