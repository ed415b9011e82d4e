# Two commands: `make run` (the product on its embedded default) and `make test` (the whole suite).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test install lint format bench clean services chromium

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## make run: set up and run the demo: emulators, web app, Celery worker and beat. Ctrl-C stops all.
run: install
	$(PY) scripts/run_demo.py

## make test: set up everything the suite needs, then pass it (SQLite, PostgreSQL, Redis, Chromium).
test: install chromium services
	$(PY) scripts/run_tests.py

chromium:
	@bash scripts/ensure_chromium.sh

services:
	@bash scripts/ensure_services.sh

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install
	$(PY) bench/emulators.py
	$(PY) bench/dashboard.py
	$(PY) bench/sync_contacts.py
	$(PY) bench/sync_all.py
	$(PY) bench/import_salesforce.py

clean:
	rm -rf var/ .pytest_cache
