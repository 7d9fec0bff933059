# PT2QE pricing pipeline — every target a person needs. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
DEMO := .pt2qe/demo_source
OFFERS ?= 20000

.DEFAULT_GOAL := help

.PHONY: help install run demo test test-fast lint bench ui clean clean-state lock

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# --compile-bytecode: every run starts several Python processes (Airflow, dbt, GX), and
# where PYTHONDONTWRITEBYTECODE is set (as on the CI machine) Python would otherwise
# compile their thousands of modules from source at each start (README, Speed).
$(VENV)/.installed: requirements.lock pyproject.toml Makefile | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python --no-deps -e .
	touch $@

install: $(VENV)/.installed ## create .venv and install the locked dependencies

lock: ## re-resolve requirements.lock from pyproject.toml (needs network to PyPI)
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

$(DEMO)/.done: $(VENV)/.installed
	$(BIN)/pt2qe demo-data $(DEMO) --offers $(OFFERS)
	touch $@

demo: $(DEMO)/.done ## generate the demo source folder (OFFERS=20000)

run: install demo ## install, start the embedded warehouse, run the DAG in full mode on the demo world
	$(BIN)/pt2qe run $(DEMO)

test: install ## the whole test suite (unit, dbt, DAG import, end to end)
	$(BIN)/python -m pytest -q

test-fast: install ## the tests that need no warehouse
	$(BIN)/python -m pytest -q -m "not e2e and not warehouse"

bench: install ## the seed-scale benchmark (2,345,678 offers; also 1/10 and 1/100): outputs/bench_*/report.json
	$(BIN)/pt2qe bench

PORT ?= 8080
ui: install ## the Airflow UI + REST API on the embedded stack (PORT=8080); prints the URL and login
	$(BIN)/pt2qe ui --port $(PORT)

lint: install ## ruff + sqlfluff
	$(BIN)/ruff check include plugins dags tests

clean: ## remove generated outputs and caches (keeps the warehouse)
	rm -rf outputs dbt_project/target dbt_project/logs .pytest_cache

clean-state: ## stop and delete the embedded warehouse and Airflow home
	-$(BIN)/pt2qe warehouse stop
	rm -rf .pt2qe
