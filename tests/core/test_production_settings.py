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


def _python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("REMIT_SECRET_KEY")}
    return subprocess.run(  # noqa: S603 - our interpreter, fixed code
        [sys.executable, "-c", code],
        env={**clean, "DJANGO_SETTINGS_MODULE": "remit.settings", **env},
        capture_output=True,
        text=True,
        check=False,
    )


READ_KEY = (
    "import django; from django.conf import settings; django.setup(); print(settings.SECRET_KEY)"
)


def test_without_a_secret_key_remit_refuses_to_start_when_debug_is_off(tmp_path):
    result = _python(READ_KEY, REMIT_VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "Set REMIT_SECRET_KEY (or REMIT_SECRET_KEY_FILE" in result.stderr
    assert not (tmp_path / "secret_key").exists()


def test_a_secret_key_file_is_created_once_private_and_shared_by_every_process(tmp_path):
    path = tmp_path / "keys" / "secret"
    first = _python(READ_KEY, REMIT_SECRET_KEY_FILE=str(path))
    second = _python(READ_KEY, REMIT_SECRET_KEY_FILE=str(path))
    assert first.returncode == 0, first.stderr
    key = first.stdout.strip()
    assert len(key) >= 50
    assert second.stdout.strip() == key == path.read_text()
    assert path.stat().st_mode & 0o777 == 0o600
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


def test_the_key_itself_wins_and_debug_may_run_without_one(tmp_path):
    given = _python(READ_KEY, REMIT_SECRET_KEY="k" * 60, REMIT_SECRET_KEY_FILE=str(tmp_path / "f"))
    assert given.stdout.strip() == "k" * 60
    assert not (tmp_path / "f").exists()
    debug = _python(READ_KEY, REMIT_DEBUG="true", REMIT_VAR_DIR=str(tmp_path))
    assert debug.returncode == 0, debug.stderr
    assert debug.stdout.strip() == (tmp_path / "secret_key").read_text()


def test_database_connections_persist_with_health_checks_by_default():
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        "d = settings.DATABASES['default']; print(json.dumps([d['CONN_MAX_AGE'], "
        "d['CONN_HEALTH_CHECKS']]))"
    )
    assert json.loads(_python(code, REMIT_SECRET_KEY="k" * 60).stdout) == [600, True]
    configured = _python(code, REMIT_SECRET_KEY="k" * 60, REMIT_DB_CONN_MAX_AGE="0")
    assert json.loads(configured.stdout) == [0, True]


READ_TEST_MODE = (
    "import django; from django.conf import settings; django.setup(); "
    "print(settings.REMIT_PAYMENTS_TEST_MODE)"
)


def test_the_test_mode_payment_page_is_off_by_default_and_needs_an_acknowledgement():
    key = {"REMIT_SECRET_KEY": "k" * 60}
    assert _python(READ_TEST_MODE, **key).stdout.strip() == "False"
    refused = _python(READ_TEST_MODE, **key, REMIT_PAYMENTS_TEST_MODE="true")
    assert refused.returncode != 0
    assert "REMIT_PAYMENTS_TEST_MODE_ACKNOWLEDGED=true" in refused.stderr
    acknowledged = _python(
        READ_TEST_MODE,
        **key,
        REMIT_PAYMENTS_TEST_MODE="true",
        REMIT_PAYMENTS_TEST_MODE_ACKNOWLEDGED="true",
    )
    assert acknowledged.stdout.strip() == "True"
    debug = _python(READ_TEST_MODE, **key, REMIT_PAYMENTS_TEST_MODE="true", REMIT_DEBUG="true")
    assert debug.stdout.strip() == "True"
