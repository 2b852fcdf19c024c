# Two entry points: `make run` (set up + run the embedded default) and `make test` (set up + test).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test test-slow setup setup-test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.setup: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.setup-test: pyproject.toml $(VENV)/.setup
	$(BIN)/pip install -q -e '.[test]'
	bash scripts/install-toolchains.sh
	touch $@

setup: $(VENV)/.setup
setup-test: $(VENV)/.setup-test

## run: set up and mine the Python standard library into verified tasks (runs/stdlib-mine)
run: setup
	$(BIN)/codefoundry run

## test: set up and run the linter and the test suite (slow end-to-end checks excluded)
test: setup-test
	$(BIN)/ruff check src tests bench
	$(BIN)/pytest -q -m "not slow"

## test-slow: the slower end-to-end checks, bounded
test-slow: setup-test
	$(BIN)/pytest -q -m slow || [ $$? -eq 5 ]

bench: setup-test
	$(BIN)/python bench/mine.py

clean:
	rm -rf $(VENV) runs
