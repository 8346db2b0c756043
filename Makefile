# Quick start: `make run` (set up, land demo data, run the whole pipeline) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MANIFEST := dbt_project/target/manifest.json
DBT_SOURCES := $(shell find dbt_project -path dbt_project/target -prune -o \( -name '*.sql' -o -name '*.yml' -o -name '*.csv' \) -print)
export DAGSTER_HOME := $(CURDIR)/.dagster
# No usage statistics from dbt, Great Expectations or Dagster: the lake runs on air-gapped servers.
export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := false
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

PG_INITDB := $(firstword $(wildcard /usr/lib/postgresql/*/bin/initdb))

.PHONY: help setup run test test-services ui serve lint manifest clean clean-lake lock bench bench-ingest demo catalog-site
help:
	@echo "make run     set up .venv, land demo data if landing/ is empty, run ingest → dbt → checks → publish"
	@echo "            (SELECT='+key:\"published/fct_green_loan_balance_monthly\"' runs one mart's lineage only)"
	@echo "make test    set up .venv and run the whole test suite"
	@echo "make ui      Dagster UI on http://127.0.0.1:3000"
	@echo "make serve   the one screen, the data API and the Data Docs on http://127.0.0.1:8000 (PORT=…)"
	@echo "make bench   benchmark (not a test): the whole pipeline from empty and one new month, against DuckDB alone"
	@echo "            and plain pandas (BENCH_SCALE=0.1 by default; 1 is the city); results in benchmarks/"
	@echo "make bench-ingest  one city-scale month of loans ingested, results in bench/results.md"
	@echo "make demo    (re)generate demo data into landing/ (SCALE=0.01 MONTHS=2019-01:2025-12 by default)"
	@echo "make catalog-site  the data catalog as static HTML (lakehouse/catalog_site/index.html), browsable offline"
	@echo "make lint    ruff"
	@echo "make clean   remove the lake, landing/ and Dagster's run history (keeps .venv)"

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] < (3, 13) else "Python 3.11 or 3.12 is required")'
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || { echo "Python's venv module is missing: apt-get install python3-venv" >&2; exit 1; }
	@$(BIN)/python -m pip --version >/dev/null 2>&1 || { rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); }
	@echo "installing the pinned dependencies into $(VENV) (a few minutes on a fresh machine) …"
	# PIP_CONSTRAINT also pins what pip builds with (setuptools), not only what it installs
	PIP_CONSTRAINT=$(CURDIR)/requirements.lock $(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	$(BIN)/python -m pipelines.lake.extensions
	@touch $@

setup: $(STAMP) $(MANIFEST)

# The dbt manifest is prepared at build time, so Dagster never parses dbt while runs are going on; it is
# compiled (against an empty in-memory stand-in for the lake) so the catalog reads every model's SQL.
$(MANIFEST): $(STAMP) $(DBT_SOURCES)
	LAKEHOUSE_DBT_TARGET=compile $(BIN)/lakehouse dbt compile --select 'resource_type:model' --indirect-selection empty --quiet
	@touch $@

manifest: $(MANIFEST)

# Demo data: SCALE 1 is the whole city (1.2 million loans a month); MONTHS as FIRST:LAST.
SCALE ?= 0.01
MONTHS ?= 2019-01:2025-12
SELECT ?=
export SCALE MONTHS SELECT

run: setup
	$(BIN)/python -m pipelines.run

demo: setup
	$(BIN)/python -m pipelines.demo --scale $(SCALE) --months $(MONTHS)

# The catalog is rebuilt with every pipeline run; this rebuilds it from the lake as it is and writes the site.
catalog-site: setup
	$(BIN)/lakehouse catalog build
	$(BIN)/lakehouse catalog site

BENCH_SCALE ?= 0.1
bench: setup
	$(BIN)/python -m bench.pipeline --scale $(BENCH_SCALE)

bench-ingest: setup
	$(BIN)/python bench/ingest_city_month.py

# One worker per core, each taking whole test files (module fixtures such as the end-to-end lake are built once).
test: setup test-services
	$(BIN)/python -m pytest -n auto --dist loadfile

# The tests start their own PostgreSQL cluster (tests/services.py), so they need the server binaries; the one
# screen's test loads the page in Debian's headless Chromium (never a browser downloaded at test time).
test-services:
	@if ! command -v chromium >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing Debian's chromium for the one screen's browser test"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
		else \
			echo "warning: tests/test_dashboard.py needs chromium: sudo apt-get install chromium" >&2; \
		fi; \
	fi
ifeq ($(PG_INITDB),)
	@if [ "$$(id -u)" = 0 ]; then \
		echo "installing PostgreSQL server binaries (Debian package postgresql) for the tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	else \
		echo "warning: tests/test_server_storage.py needs PostgreSQL server binaries: sudo apt-get install postgresql" >&2; \
	fi
endif

ui: setup
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

PORT ?= 8000
serve: setup
	$(BIN)/lakehouse serve --host 127.0.0.1 --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check .

# Re-pin every transitive dependency after changing pyproject.toml's direct pins.
lock: $(STAMP)
	$(BIN)/python -m pip freeze --all --exclude-editable | grep -v '^pip==' > requirements.lock

clean-lake:
	rm -rf lakehouse

clean: clean-lake
	rm -rf landing dbt_project/target dbt_project/logs
	find .dagster -mindepth 1 ! -name dagster.yaml -exec rm -rf {} +
