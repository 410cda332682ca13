# sendlib: the two commands a new user needs are `make report` and `make test`.
# Every target creates .venv and installs the package (with dev extras) the first time.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.sendlib-installed
QUARTER ?= latest
CONFIG ?= config/default.yaml
JOBS ?=
LAB_ARGS ?=

.PHONY: help install report test test-fast lint format lab validate kpis bench expectations synth notebooks-clean clean

help: ## List the targets
	@echo "sendlib: make <target>"
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-16s %s\n", $$1, $$2}'
	@echo "Variables: QUARTER=$(QUARTER) CONFIG=$(CONFIG) JOBS=<n>"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install sendlib with its dev extras

report: $(STAMP) ## Run the quarterly report (QUARTER=latest by default) into outputs/<quarter>/
	$(BIN)/sendlib report --quarter $(QUARTER) --config $(CONFIG) $(if $(JOBS),--jobs $(JOBS),)

test: $(STAMP) ## Run the whole test suite (what CI runs): unit, notebooks, end-to-end, browser
	$(BIN)/python -m pytest -q

test-fast: $(STAMP) ## Run the tests that execute no notebook, report or browser (tests/unit, on every core)
	$(BIN)/python -m pytest -q -n logical tests/unit

lint: $(STAMP) ## Check lint and formatting (ruff), as the test suite does
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP) ## Fix what ruff can fix and format the code
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

lab: $(STAMP) ## Open JupyterLab on the notebooks (sendlib kernel, ipywidgets for 08_dsg_scenario_explorer); LAB_ARGS=... passed on
	$(BIN)/python -m ipykernel install --sys-prefix --name sendlib --display-name "Python (sendlib)" >/dev/null
	$(BIN)/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root,) $(LAB_ARGS)

validate: $(STAMP) ## Run the data-quality gate on the configured data
	$(BIN)/sendlib validate --config $(CONFIG)

kpis: $(STAMP) ## Print the KPI table for QUARTER
	$(BIN)/sendlib kpis --quarter $(QUARTER) --config $(CONFIG)

bench: $(STAMP) ## Run the benchmarks and print their medians
	@for script in benchmarks/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

expectations: $(STAMP) ## Regenerate the Great Expectations project in expectations/ from the schema
	$(BIN)/python -m sendlib.quality build

synth: $(STAMP) ## Regenerate the shipped synthetic county in data/raw (default seed)
	$(BIN)/sendlib synth --out-dir data/raw

notebooks-clean: $(STAMP) ## Strip outputs from every notebook (run before committing)
	$(BIN)/python -m sendlib.report.notebook_tools strip notebooks/*.ipynb

clean: ## Remove the virtual environment and caches (not outputs/)
	rm -rf $(VENV) .pytest_cache build *.egg-info
