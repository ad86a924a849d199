# Two commands: `make run` (the whole stack with demo data) and `make test` (the full suite).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
export FLASK_APP := server.app:create_app
export PATH := $(BIN):$(PATH)

.PHONY: run test test-miniprogram install services chromium migrate env-example bench clean
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

# API :8000, RQ worker (--with-scheduler), the periodic-job process, WeChat sandbox :8090, and Redis
# when none answers at the configured URL. Ctrl-C stops them all.
run: install
	flask db upgrade
	flask demo load
	@procs="web worker cron sandbox"; \
	if ! python -m jobs.redis_check; then \
	  if command -v redis-server >/dev/null; then procs="redis $$procs"; \
	  else echo "Redis is not reachable and redis-server is not installed (set WUYE_REDIS_URL)"; exit 1; fi; \
	fi; \
	exec honcho start -f Procfile $$procs

# The whole suite: Python against this machine's PostgreSQL and Redis (started when down) -- the admin
# page in headless Chromium (installed from Debian's packages when missing) and the fault-injection tests
# included -- then the mini-program's tests in Node (skipped with a note where npm is missing).
test: install services chromium
	python -m pytest
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory test-miniprogram; \
	else echo "npm not found: mini-program tests skipped"; fi

miniprogram/node_modules/.installed: miniprogram/package-lock.json
	cd miniprogram && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

test-miniprogram: miniprogram/node_modules/.installed
	cd miniprogram && npm test --silent

services:
	@bash .ci/services.sh

chromium:
	@command -v chromium >/dev/null 2>&1 || { echo "installing Debian's chromium for the browser tests"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
	  chromium fonts-noto-cjk >/dev/null; }

migrate: install
	flask db upgrade

env-example: install
	flask config env-example > deploy/env.example

bench: install services
	python tests/bench/bench_api.py
	python tests/bench/bench_orders.py
	python tests/bench/bench_notices.py
	python tests/bench/bench_billing.py
	python tests/bench/bench_desk.py
	python tests/bench/bench_order_list.py

clean:
	rm -rf $(VENV) instance .pytest_cache miniprogram/node_modules
