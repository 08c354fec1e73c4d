# Developer entry points. `make dev` then `make test` is all a fresh clone needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: dev test lint typecheck check clean

dev: $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[harness,docker,dev]'
	$(BIN)/python -m harness.emulators.ministack install

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

test:
	$(BIN)/ruff check pylon harness tests examples
	$(BIN)/mypy
	$(BIN)/pytest

lint:
	$(BIN)/ruff check pylon harness tests examples

typecheck:
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache *.egg-info
