# Remit: `make run` serves the whole product on SQLite with a worker and demo data;
# `make test` runs every check and the whole test suite on SQLite and on PostgreSQL.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | sha256sum | cut -c1-16)
# The PostgreSQL the test suite runs against (a test_remit database is created and dropped).
TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/remit
# Test processes per database run (pytest-xdist; each worker gets its own test database).
TEST_WORKERS ?= 2
# The secret key of the embedded product and of the tests (Remit refuses to start without one
# when debug is off); production sets REMIT_SECRET_KEY or its own REMIT_SECRET_KEY_FILE.
export REMIT_SECRET_KEY_FILE ?= $(CURDIR)/var/secret_key
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test setup lint test-sqlite test-postgres system-packages bench messages

system-packages:
	./scripts/system-packages.sh

$(STAMP): requirements.lock pyproject.toml | system-packages
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements.lock
	$(VENV)/bin/pip install -q --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

# Compiled translations (.mo) are built from the committed .po files, never committed.
messages: $(STAMP)
	$(PY) manage.py compilemessages --ignore=.venv -v0

setup: $(STAMP)

# The demo prints (fictitious) bank details on its invoices unless REMIT_BANK_* are set.
run: export REMIT_DEMO_BANK_DETAILS ?= true
# The demo's card payments go to Remit's test-mode page (no money moves).
run: export REMIT_PAYMENTS_TEST_MODE ?= true
run: export REMIT_PAYMENTS_TEST_MODE_ACKNOWLEDGED ?= true
run: $(STAMP) messages
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py createcachetable
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py remit_demo
	$(PY) manage.py remit_serve --host $(HOST) --port $(PORT)

lint: $(STAMP) messages
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy remit
	$(VENV)/bin/lint-imports
	$(PY) manage.py makemigrations --check --dry-run -v0
	$(PY) manage.py check

test-sqlite: $(STAMP) messages
	env -u DATABASE_URL $(PY) -m pytest -n $(TEST_WORKERS)

test-postgres: $(STAMP) messages
	DATABASE_URL=$(TEST_POSTGRES_URL) $(PY) -m pytest -n $(TEST_WORKERS)

test: lint test-sqlite test-postgres

bench: $(STAMP)
	$(PY) bench/documents.py
