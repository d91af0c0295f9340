# Two commands for a newcomer: `make demo` to see it, `make test` to prove it.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
PORT ?= 8000

# The test suite runs on the machine's real PostgreSQL and Redis.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/workbench
TEST_BROKER_URL ?= redis://127.0.0.1:6379/15
# The load benchmark's broker and cache (it flushes this Redis database).
LOAD_REDIS_URL ?= redis://127.0.0.1:6379/14

.PHONY: demo test lint typecheck check bench services chromium clean messages screenshots

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]' 2>&1 | grep -v "^WARNING: Location" || true
	$(PY) -c "import django, celery, pandas" # fail here if the install did not complete
	@touch $(STAMP)

venv: $(STAMP)

## make demo: migrate, load the demo workshops, run the web server and a Celery worker.
demo: $(STAMP)
	@mkdir -p var
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py demo
	DEBUG=1 PORT=$(PORT) $(BIN)/python scripts/run_demo.py

## make test: the whole suite on PostgreSQL + Redis + a real Celery worker + Chromium.
test: $(STAMP)
	@bash scripts/ensure_services.sh
	@bash scripts/ensure_chromium.sh
	@bash scripts/ensure_pdf_libs.sh
	@bash scripts/ensure_gettext.sh
	@bash scripts/ensure_axe.sh
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) \
	  $(BIN)/pytest $(PYTEST_ARGS)
	$(MAKE) --no-print-directory check

## make messages: refresh the translation catalogs (locale/*/LC_MESSAGES/django.po)
## from the code and templates, then compile them to the .mo files the app reads.
## tests/i18n/ runs the same makemessages and fails on any untranslated string.
MESSAGES_ARGS := -l es -l de --no-obsolete --add-location=file \
  --ignore=.venv --ignore=var --ignore=tests --ignore=docs --ignore=static \
  --ignore=scripts --ignore=node_modules --ignore='*.egg-info'
messages: $(STAMP)
	@bash scripts/ensure_gettext.sh
	DEBUG=1 $(PY) manage.py makemessages $(MESSAGES_ARGS)
	DEBUG=1 $(PY) manage.py compilemessages --ignore=.venv --ignore=var

## make screenshots: take the README's screenshots again (docs/screenshots/).
screenshots: $(STAMP)
	@bash scripts/ensure_services.sh
	@bash scripts/ensure_chromium.sh
	SCREENSHOTS=update DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) \
	  $(BIN)/pytest tests/browser/test_screenshots.py -p no:cacheprovider

## make check: ruff (lint + format) and mypy --strict.
check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DEBUG=1 $(BIN)/mypy workbench

## make bench: concurrent voting over HTTP against gunicorn + PostgreSQL, a
## 1,000-participant workshop with a Celery worker and Redis, the analysis of
## real conversations beside red-dwarf, and judge-run throughput against a local
## fake provider. Figures: docs/benchmarks.md.
bench: $(STAMP)
	@bash scripts/ensure_services.sh
	DATABASE_URL=$(TEST_DATABASE_URL)_bench $(PY) scripts/bench_voting.py
	DATABASE_URL=$(TEST_DATABASE_URL)_load REDIS_URL=$(LOAD_REDIS_URL) $(PY) scripts/bench_load.py
	$(PY) scripts/bench_analysis.py
	DATABASE_URL=$(TEST_DATABASE_URL)_bench_judge $(PY) scripts/bench_judge.py
	$(PY) scripts/bench_cards_pdf.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
