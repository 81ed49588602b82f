"""The production install: the runtime lock holds no development tools and agrees with the full
lock, and the built wheel carries every template, static file and catalogue the product reads."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==(\S+)$", re.MULTILINE)
DEV_ONLY = {"pytest", "pytest-django", "pytest-xdist", "playwright", "schemathesis", "weasyprint"}


def _pins(lock: str) -> dict[str, str]:
    return {name.lower(): version for name, version in PIN.findall((ROOT / lock).read_text())}


def test_the_runtime_lock_pins_the_same_versions_without_development_tools():
    runtime, full = _pins("requirements-runtime.lock"), _pins("requirements.lock")
    assert runtime, "the runtime lock pins nothing"
    assert not DEV_ONLY & runtime.keys()
    assert {name: full.get(name) for name in runtime} == runtime
    assert {"django", "django-ninja", "typst", "psycopg"} <= runtime.keys()


def test_the_wheel_carries_every_file_the_package_reads(tmp_path):
    # built from a copy, so the checkout gets no build/ folder
    source = tmp_path / "source"
    shutil.copytree(ROOT / "remit", source / "remit", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run(  # noqa: S603 - pip of our own venv, building our own project
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("remit-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    data = [
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "remit").rglob("*")
        if path.is_file() and path.suffix not in {".py", ".pyc"}
    ]
    assert any(path.endswith(".typ") for path in data)
    assert [path for path in data if path not in shipped] == []
