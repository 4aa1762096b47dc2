# The two commands a new user needs are `make run` and `make test` (README).
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
export PATH := $(HOME)/.local/bin:$(PATH)

.PHONY: run test lint bench docs setup setup-test

setup:
	@scripts/setup.sh

setup-test:
	@scripts/setup.sh test

## Install, migrate, load the synthetic demo clinic and serve it on http://127.0.0.1:8000
run: setup
	@export FOLLICLE_MODE=demo; \
	$(BIN)/follicle migrate && $(BIN)/follicle demo && exec $(BIN)/follicle serve

## Lint, type-check and run the whole test suite (SQLite and a real PostgreSQL server)
test: setup-test lint
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

lint:
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

## Run the benchmarks in bench/ and record their results in bench/results/
bench: setup
	@shopt -s nullglob; files=(bench/bench_*.py); \
	if [ $${#files[@]} -eq 0 ]; then echo "no benchmarks yet"; fi; \
	for f in "$${files[@]}"; do echo "== $$f"; $(BIN)/python "$$f" || exit 1; done

## Regenerate docs/clinical-rules.md and docs/api.md from the code they describe
docs: setup
	$(BIN)/python -m follicle.clinic.rules_doc > docs/clinical-rules.md
	$(BIN)/python -m follicle.web.api.api_doc > docs/api.md
	$(BIN)/python -m follicle.services.exports > docs/data-dictionary.md
