#!/usr/bin/env bash
# Regenerate the two locks from pyproject.toml with uv (`pip install uv` if it is missing):
#   requirements.lock          everything, with the dev extra (what `make setup` installs)
#   requirements-runtime.lock  what a production install needs, pinned to the same versions
# Pass --upgrade to move the pins to the newest releases the bounds in pyproject.toml allow.
set -euo pipefail
cd "$(dirname "$0")/.."
uv pip compile pyproject.toml --extra dev --python-version 3.11 "$@" \
  --custom-compile-command "scripts/lock.sh" -o requirements.lock
uv pip compile pyproject.toml --python-version 3.11 -c requirements.lock \
  --custom-compile-command "scripts/lock.sh" -o requirements-runtime.lock
