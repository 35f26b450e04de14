# Sanji — the two commands of the README, plus the checks they run.
#   make demo   set up everything and serve the Hohhot demo on SQLite (http://127.0.0.1:$${SANJI_PORT:-8000})
#   make test   install test dependencies and run the whole suite (lint, types, layers, migrations,
#               pytest on SQLite and on PostgreSQL, browser tests)
#   make bench  benchmarks (kept out of make test), written to bench/results.json

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
export SANJI_DATA_DIR ?= $(CURDIR)/var

.PHONY: demo test bench install install-dev assets lint typecheck layers migrations-check \
        test-sqlite test-postgres browsers clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Front-end packages come from the npm registry at build time and are served by WhiteNoise.
sanji/static/vendor/.built: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p sanji/static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js node_modules/echarts/dist/echarts.min.js sanji/static/vendor/
	touch $@

assets: sanji/static/vendor/.built

demo: install assets
	$(BIN)/sanji demo

# Debian's Chromium for the Playwright browser tests (Playwright's own browser download cannot work here).
browsers:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install-dev
	$(BIN)/mypy sanji bench

layers: install-dev
	$(BIN)/lint-imports

migrations-check: install-dev
	SANJI_DATA_DIR=$$(mktemp -d) $(BIN)/sanji makemigrations --check --dry-run

test-sqlite: install-dev assets browsers
	env -u DATABASE_URL SANJI_DATA_DIR=$$(mktemp -d) $(BIN)/pytest -q

test-postgres: install-dev assets browsers
	DATABASE_URL=$(PG_URL) SANJI_DATA_DIR=$$(mktemp -d) $(BIN)/pytest -q

test: lint typecheck layers migrations-check test-sqlite test-postgres

bench: install-dev assets
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) node_modules sanji/static/vendor
