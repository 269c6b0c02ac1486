# Truceline — the two commands a newcomer needs are `make demo` and `make test`.
# Each creates .venv when missing and installs the project into it first.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_OUT ?= demo-out

.PHONY: install services demo test lint typecheck unit bench bench-peers prove clean help

help:
	@echo "make demo   - set up .venv and run the demo on the embedded store (SQLite, no server)"
	@echo "make test   - set up .venv and run lint, type checks and the whole test suite"
	@echo "make bench  - run the benchmarks in benchmarks/ (each beside its peer; prints ratios)"
	@echo "make services - install/start PostgreSQL + PostGIS on loopback for the server-store tests"
	@echo "make prove  - the long proofs: policy cases, crash cycles, 10,000 tamperings, fuzzing"

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

# The long versions of the proofs: 1,000,000 policy cases against the reference, 1,000 SIGKILL
# cycles of ingest per mode, the fault-injection and fuzz suites, 10,000 injected tamperings and a
# minute of fuzzing per parser. `make test` runs the short versions.
prove: install services
	TRUCELINE_POLICY_CASES=1000000 $(BIN)/pytest -q tests/unit/policy
	TRUCELINE_CRASH_CYCLES=1000 $(BIN)/pytest -q tests/integration/test_crash_safety.py
	$(BIN)/pytest -q tests/prove tests/fuzz
	$(BIN)/python tools/prove_tamper.py --faults 10000
	$(BIN)/python tools/prove_fuzz.py --seconds 60

clean:
	rm -rf $(VENV) $(PEERS) $(DEMO_OUT) .pytest_cache .mypy_cache .ruff_cache
