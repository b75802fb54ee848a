# Liuhen: `make run` starts everything (embedded default); `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Python's default: compiled modules are cached in __pycache__. Some shells set
# PYTHONDONTWRITEBYTECODE, and then every process of a run (migrate, the demo, each web worker,
# each test server, each `liuhen ingest`) compiled about 1,150 modules again: 1.5 s of CPU each.
unexport PYTHONDONTWRITEBYTECODE
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
SYSTEM_PACKAGES := fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 openssl poppler-utils
# clamav: the archive packages' virus scan (docs/keeping.md); without the bureau's signature files it
# can only say 未检测, so `make run` leaves it to the production install and the tests bring it.
TEST_SYSTEM_PACKAGES := redis-server chromium genisoimage libarchive-tools ffmpeg haproxy clamav

# The suite runs on a frozen clock (liuhen/core/testing.py); pytest-future runs it once more two
# years after that "today", so no test can depend on the day it runs.
FUTURE_NOW ?= 2028-12-03T10:00:00+08:00

.PHONY: run test lint check pytest-sqlite pytest-postgres pytest-future system-deps test-system-deps bench cluster clean

# The virtualenv and the project from pyproject.toml, installed with uv (a fresh machine's first
# `make run` spent 3 min 45 s in pip, issue 13 item 6). A machine without uv on its PATH gets it
# into the virtualenv first (one small wheel, a few seconds); if that fails, if uv's install
# fails, or with NO_UV=1, pip installs as before. `python -m venv` puts pip into the
# virtualenv either way, so `$(BIN)/pip install X` always works.
$(BIN)/.installed: pyproject.toml
	@set -e; \
	echo "$(PYTHON) -m venv $(VENV)"; $(PYTHON) -m venv $(VENV); \
	uv=""; if [ -z "$(NO_UV)" ]; then \
	  uv=$$(command -v uv || true); \
	  if [ -z "$$uv" ] && $(BIN)/pip install -q --disable-pip-version-check uv >/dev/null 2>&1; then uv=$(BIN)/uv; fi; \
	fi; \
	if [ -n "$$uv" ]; then \
	  echo "uv pip install -e .[test]"; \
	  $$uv pip install -q --python $(BIN)/python -e ".[test]" || { \
	    echo "uv failed: pip install -e .[test]"; $(BIN)/pip install -q -e ".[test]"; }; \
	else \
	  echo "pip install -e .[test]"; \
	  $(BIN)/pip install -q --upgrade pip; \
	  $(BIN)/pip install -q -e ".[test]"; \
	fi
	touch $@

system-deps:
	@missing=$$(for p in $(SYSTEM_PACKAGES) $(EXTRA_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else echo "请先安装系统软件包 / install first: sudo apt-get install $$missing"; exit 1; fi; fi

test-system-deps:
	@$(MAKE) --no-print-directory system-deps EXTRA_PACKAGES="$(TEST_SYSTEM_PACKAGES)"

run: system-deps $(BIN)/.installed
	$(BIN)/liuhen migrate -v0
	$(BIN)/liuhen demo --if-empty
	$(BIN)/liuhen serve

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/lint-imports  # the layers of docs/architecture.md ([tool.importlinter] in pyproject.toml)

check: $(BIN)/.installed
	DJANGO_SETTINGS_MODULE=liuhen.settings_test $(BIN)/liuhen check --fail-level WARNING
	DJANGO_SETTINGS_MODULE=liuhen.settings_test $(BIN)/liuhen makemigrations --check --dry-run

pytest-sqlite: $(BIN)/.installed
	LIUHEN_STRICT_SKIPS=1 $(BIN)/pytest -q $(PYTEST_ARGS)

pytest-postgres: $(BIN)/.installed
	LIUHEN_STRICT_SKIPS=1 LIUHEN_DATABASE_URL=$(PG_URL) LIUHEN_TEST_DATABASE_NAME=liuhen_test_$$$$ $(BIN)/pytest -q --create-db $(PYTEST_ARGS)

pytest-future: $(BIN)/.installed
	LIUHEN_STRICT_SKIPS=1 LIUHEN_TEST_NOW=$(FUTURE_NOW) $(BIN)/pytest -q $(PYTEST_ARGS)

test: test-system-deps lint check pytest-sqlite pytest-postgres pytest-future

# Two nodes as one on loopback (docs/scale-out.md): PostgreSQL, moto S3, Redis, two nodes behind a
# round-robin proxy, one worker; the URLs are printed, Ctrl+C stops it all.
cluster: test-system-deps $(BIN)/.installed
	PG_URL=$(PG_URL) $(BIN)/python bench/cluster.py

bench: $(BIN)/.installed
	for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) var
