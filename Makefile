# Heartbeats evidence brief. `make help` lists the targets.
# The two set-up commands on a fresh Debian machine with Python 3.11: `make report` and `make test`.

PYTHON ?= python3.11
UV_VERSION := 0.13.8
TOOLS := .heartbeats-tools
UV := $(TOOLS)/bin/uv
VENV := .venv
HEARTBEATS := $(VENV)/bin/heartbeats
PARAMS ?= params/ferguson.yaml
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: model-docs help setup system-deps data processed report test lint lab serve clean-reports batch bench env-file

help: ## List the targets with a one-line description
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-14s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(STAMP): $(UV) uv.lock pyproject.toml
	$(UV) sync --locked --python $(PYTHON)
	$(VENV)/bin/python -m heartbeats_analysis.build.kernelspec >/dev/null
	@touch $(STAMP)

setup: $(STAMP) system-deps ## Create .venv from the lock, install the project and its Jupyter kernel, check the PDF browser

system-deps: ## Install Chromium and poppler-utils with apt when root; otherwise print the command
	@bash scripts/system-deps.sh

data: setup ## Fetch the raw data (from the HEARTBEATS_DATA_MIRROR folder if set) and verify every checksum
	$(HEARTBEATS) fetch
	$(HEARTBEATS) verify

processed: data ## Clean the raw data into validated tables in data/processed/
	$(HEARTBEATS) clean

report: data ## Build the Ferguson brief into reports/ferguson/ (HTML and PDF; with `heartbeats serve` running, the PDF follows)
	$(HEARTBEATS) build --params $(PARAMS)

test: processed ## Run the whole test suite
	$(VENV)/bin/python -m pytest

lint: $(STAMP) ## Check code style with ruff (lint rules and formatting, as configured in pyproject.toml)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

batch: data ## Build briefs for every agency with complete data, in parallel
	$(HEARTBEATS) batch

serve: data ## Keep kernels and the PDF browser warm; builds in other terminals use them (Ctrl-C stops)
	$(HEARTBEATS) serve

lab: setup ## Open JupyterLab with the project kernel
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks

bench: data ## Run the benchmarks and write benchmarks/RESULTS.md
	$(VENV)/bin/python benchmarks/run.py

model-docs: setup ## Rewrite the assumptions table in docs/model.md from the register
	$(VENV)/bin/python -c 'from heartbeats_analysis.model.report import update_docs; update_docs()'

env-file: setup ## Regenerate environment.yml from pyproject.toml
	$(VENV)/bin/python -m heartbeats_analysis.build.envfile --write

clean-reports: ## Delete built reports and processed tables (raw data is kept)
	rm -rf reports/*/ data/processed/*.csv data/processed/*.json
