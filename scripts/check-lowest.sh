#!/usr/bin/env bash
# Check the lower bounds in pyproject.toml: install the lowest version every direct dependency
# allows (uv's lowest-direct resolution) into a scratch venv and run the suite on SQLite there
# (without the browser tests, whose Chromium comes from Debian). Needs uv (`pip install uv`).
# Not part of `make test` (it installs a second environment); run it when a bound changes.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${LOWEST_VENV:-/tmp/remit-lowest}"
uv pip compile pyproject.toml --extra dev --python-version 3.11 --resolution lowest-direct \
  -q -o "$venv.txt"
test -x "$venv/bin/python" || uv venv -q -p python3.11 "$venv"
VIRTUAL_ENV="$venv" uv pip install -q -r "$venv.txt"
VIRTUAL_ENV="$venv" uv pip install -q --no-deps -e .
grep -E "^(django|django-ninja|stripe|typst|psycopg|pypdf|schemathesis)==" "$venv.txt"
env -u DATABASE_URL "$venv/bin/python" -m pytest -q -n 2 -p no:cacheprovider \
  --ignore=tests/browser --ignore=tests/core/test_packaging.py
