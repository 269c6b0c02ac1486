# Truceline — the two commands a newcomer needs are `make demo` and `make test`.
# Each creates .venv when missing and installs the project into it first.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_OUT ?= demo-out

.PHONY: install services demo test lint typecheck unit bench bench-peers prove prove-short clean help

help:
	@echo "make demo   - set up .venv and run the demo on the embedded store (SQLite, no server)"
	@echo "make test   - set up .venv and run lint, type checks and the whole test suite"
	@echo "make bench  - run the benchmarks in benchmarks/ (each beside its peer; prints ratios)"
	@echo "make services - install/start PostgreSQL + PostGIS on loopback for the server-store tests"
	@echo "make prove  - the long proofs: policy cases, crash cycles, 10,000 tamperings, fuzzing, load; one table"
	@echo "make prove-short - the same steps, short, with the same table (build/prove/summary.md)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,server]'
	@touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/truceline demo --no-serve --out $(DEMO_OUT)

lint: install
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

# PostgreSQL + PostGIS on loopback for the server-store tests, and headless Chromium + poppler for the
# report and dashboard tests (installed/started only if missing; TRUCELINE_SKIP_POSTGRES=1 skips all).
services:
	@if [ "$${TRUCELINE_SKIP_POSTGRES:-0}" != "1" ]; then bash tools/ensure_services.sh; fi

unit: install services
	$(BIN)/pytest -q

test: lint typecheck unit

# Each benchmark's peer lives in its own virtual environment, never in the project's: tick (the
# Hawkes fit), GeoPandas (zone checks) and xmlschema (CAP validation).
PEERS := .peers
bench-peers:
	@test -x $(PEERS)/tick/bin/python || { $(PYTHON) -m venv $(PEERS)/tick && $(PEERS)/tick/bin/pip install --quiet tick numpydoc six; }
	@test -x $(PEERS)/geopandas/bin/python || { $(PYTHON) -m venv $(PEERS)/geopandas && $(PEERS)/geopandas/bin/pip install --quiet geopandas; }
	@test -x $(PEERS)/xmlschema/bin/python || { $(PYTHON) -m venv $(PEERS)/xmlschema && $(PEERS)/xmlschema/bin/pip install --quiet xmlschema; }

bench: install bench-peers
	TICK_PYTHON=$(CURDIR)/$(PEERS)/tick/bin/python GEOPANDAS_PYTHON=$(CURDIR)/$(PEERS)/geopandas/bin/python \
	XMLSCHEMA_SITE='$(CURDIR)/$(PEERS)/xmlschema/lib/python3*/site-packages' $(BIN)/python benchmarks/run_all.py

# The long versions of the proofs (issue 12), each writing its figures to build/prove/<step>.json:
# 1,000,000 policy cases against the reference, 1,000 SIGKILL cycles of ingest per mode on the
# embedded store and of the worker in server mode, the commit-fault and fuzz suites, 10,000 injected
# tamperings, a minute of fuzzing per parser and engine, and 10 minutes of load at 5,000
# observations/s. A failing step does not stop the others; the last step prints one table of every
# figure (also in build/prove/summary.md) and fails if any step failed or an expected one wrote
# nothing (the server crash and load steps show "not run" while their tools are absent).
# `make test` runs the short versions; `make prove-short` runs them with the table.
PROVE_OUT := build/prove
PROVE_EXPECT := policy,crash,pytest_prove,tamper,fuzz
prove: install services
	@rm -rf $(PROVE_OUT) && mkdir -p $(PROVE_OUT)
	-$(BIN)/python -m tests.prove.policy_figures --cases 1000000 --json-out $(PROVE_OUT)/policy.json
	-$(BIN)/python tools/prove_crash.py --cycles 1000 --records 4000 --json-out $(PROVE_OUT)/crash.json
	-$(BIN)/python tools/prove_worker_crash.py --cycles 1000 --json-out $(PROVE_OUT)/worker_crash.json
	-TRUCELINE_PROVE_OUT=$(PROVE_OUT)/pytest_prove.json $(BIN)/pytest -q tests/prove tests/fuzz
	-$(BIN)/python tools/prove_tamper.py --faults 10000 --json-out $(PROVE_OUT)/tamper.json
	-$(BIN)/python tools/prove_pg_tamper.py --faults 1000 --json-out $(PROVE_OUT)/tamper_pg.json
	-$(BIN)/python tools/prove_fuzz.py --seconds 60 --json-out $(PROVE_OUT)/fuzz.json
	-$(BIN)/python benchmarks/load.py --mode api --rate 5000 --seconds 600 --json-out $(PROVE_OUT)/load_api.json
	-$(BIN)/python benchmarks/load.py --mode nats --rate 5000 --seconds 600 --json-out $(PROVE_OUT)/load_nats.json
	-$(BIN)/python benchmarks/load.py --mode api --rate 5000 --seconds 600 --alerts --json-out $(PROVE_OUT)/load_api_alerts.json
	-$(BIN)/python benchmarks/load.py --mode nats --rate 5000 --seconds 600 --alerts --json-out $(PROVE_OUT)/load_nats_alerts.json
	$(BIN)/python tools/prove_summary.py $(PROVE_OUT) --expect $(PROVE_EXPECT)

# The same steps, short (a few minutes): the table's shape and a smoke test of every tool.
prove-short: install services
	@rm -rf $(PROVE_OUT) && mkdir -p $(PROVE_OUT)
	-$(BIN)/python -m tests.prove.policy_figures --cases 20000 --json-out $(PROVE_OUT)/policy.json
	-$(BIN)/python tools/prove_crash.py --cycles 5 --records 4000 --json-out $(PROVE_OUT)/crash.json
	-$(BIN)/python tools/prove_worker_crash.py --cycles 5 --json-out $(PROVE_OUT)/worker_crash.json
	-TRUCELINE_PROVE_OUT=$(PROVE_OUT)/pytest_prove.json $(BIN)/pytest -q tests/prove tests/fuzz
	-$(BIN)/python tools/prove_tamper.py --faults 300 --json-out $(PROVE_OUT)/tamper.json
	-$(BIN)/python tools/prove_pg_tamper.py --faults 130 --json-out $(PROVE_OUT)/tamper_pg.json
	-$(BIN)/python tools/prove_fuzz.py --seconds 2 --json-out $(PROVE_OUT)/fuzz.json
	-$(BIN)/python benchmarks/load.py --mode api --rate 500 --seconds 10 --json-out $(PROVE_OUT)/load_api.json
	-$(BIN)/python benchmarks/load.py --mode nats --rate 500 --seconds 10 --json-out $(PROVE_OUT)/load_nats.json
	-$(BIN)/python benchmarks/load.py --mode api --rate 100 --seconds 120 --batch 20 --alerts --json-out $(PROVE_OUT)/load_api_alerts.json
	$(BIN)/python tools/prove_summary.py $(PROVE_OUT) --expect $(PROVE_EXPECT)

clean:
	rm -rf $(VENV) $(PEERS) $(DEMO_OUT) .pytest_cache .mypy_cache .ruff_cache
