# ForYou CRM Connect — one entry point for people and CI.
#   make demo    run the product on embedded defaults (emulator + SQLite + the app's web build)
#   make test    every check and every test (lint, types, Python suites, mobile suites, browser e2e)
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# uv is the only tool the Python side needs; it is bootstrapped into .tools/ when missing.
UV_VERSION := 0.13.9
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)
export UV_PYTHON := 3.11
export UV_PYTHON_DOWNLOADS := never
RUN := $(UV) run --frozen
PY_PATHS := backend emulator bench scripts conftest.py

# PostgreSQL and Redis used by the tests (CI machines start both on these addresses).
export FORYOU_TEST_POSTGRES_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/test
export FORYOU_TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: help install install-python install-mobile fmt check check-mobile typecheck-tests test test-fast test-python test-mobile demo demo-reset bench clean

help:
	@echo "make install   install everything (Python workspace + mobile app)"
	@echo "make demo      run emulator + backend (SQLite) + the app's web build; state kept in data/demo/"
	@echo "make demo-reset  the same from scratch (forgets the demo's users, connections and secrets)"
	@echo "make test      lint, types and every test suite"
	@echo "make check     ruff + mypy --strict on the code and the tests (+ tsc for the app)"
	@echo "make test-fast make check + the unit tests (no processes, no database servers), < 1 min"
	@echo "make fmt       ruff format + ruff check --fix on the Python code"
	@echo "make typecheck-tests  mypy --strict on the test suites, bench/ and scripts/"
	@echo "make bench     run the benchmarks in bench/ and write bench/results/"

$(CURDIR)/.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

install: install-python install-mobile

install-python: $(if $(shell command -v uv 2>/dev/null),,$(CURDIR)/.tools/bin/uv)
	$(UV) sync --frozen

# The app installs only when it exists; its stamp follows the lock file.
install-mobile:
	@if [ -f mobile/package-lock.json ]; then $(MAKE) --no-print-directory mobile/node_modules/.installed; fi

mobile/node_modules/.installed: mobile/package-lock.json
	cd mobile && npm ci --no-audit --no-fund --loglevel=error
	touch $@

fmt: install-python
	$(RUN) ruff format $(PY_PATHS)
	$(RUN) ruff check --fix $(PY_PATHS)

check: install-python check-mobile typecheck-tests
	$(RUN) ruff check $(PY_PATHS)
	$(RUN) ruff format --check $(PY_PATHS)
	$(RUN) mypy backend/src emulator/src

# Each suite is its own import root (pytest's `pythonpath`) and both have a top-level `conftest`,
# so mypy checks one root at a time; every root is checked even when an earlier one fails.
typecheck-tests: install-python
	@status=0; \
	MYPYPATH=backend/tests $(RUN) mypy backend/tests || status=1; \
	MYPYPATH=emulator/tests $(RUN) mypy emulator/tests || status=1; \
	$(RUN) mypy bench scripts conftest.py || status=1; \
	exit $$status

# The app's type check runs wherever its dependencies are installed (`make install-mobile`).
check-mobile:
	@if [ -d mobile/node_modules ]; then cd mobile && npm run --silent typecheck; else echo "mobile: not installed, tsc skipped"; fi

# Under a minute on two cores: conftest.py marks `unit` the tests that start no process and use
# no database server, so new tests join or stay out of this run by themselves.
test-fast: check
	$(RUN) pytest -q -m unit -p no:cacheprovider

test-python: install-python
	$(RUN) pytest

test-mobile: install-mobile
	@if [ -f mobile/package.json ]; then cd mobile && npm run --silent test:all; else echo "mobile: no app yet"; fi

test: check test-python test-mobile

# Ports of the demo's parts; any of them can be moved: `make demo BACKEND_PORT=8100`.
BACKEND_PORT ?= 8000
EMULATOR_PORT ?= 8020
APP_PORT ?= 8081

# The demo keeps its state in data/demo/ between runs; RESET=1 (or `make demo-reset`) empties it first.
demo: install
	$(RUN) python -m scripts.demo --backend-port $(BACKEND_PORT) \
		--emulator-port $(EMULATOR_PORT) --app-port $(APP_PORT) $(if $(filter 1,$(RESET)),--reset)

demo-reset:
	$(MAKE) --no-print-directory demo RESET=1

bench: install-python
	$(RUN) python -m bench

clean:
	rm -rf .tools .venv .mypy_cache .ruff_cache .pytest_cache mobile/node_modules mobile/dist
