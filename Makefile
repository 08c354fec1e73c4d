# Developer entry points. `make dev` then `make test` is all a fresh clone needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: dev test lint typecheck check clean bench

dev: $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[harness,docker,dev]'
	$(BIN)/python -m harness.emulators.ministack install

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

test:
	$(BIN)/ruff check pylon harness tests examples bench devtools
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest

lint:
	$(BIN)/ruff check pylon harness tests examples bench devtools
	$(BIN)/lint-imports

typecheck:
	$(BIN)/mypy

# Run every benchmark and regenerate bench/RESULTS.md (minutes; run it on a quiet machine).
# Record the conditions: make bench BENCH_ARGS="--conditions 'quiet machine'"
bench:
	$(BIN)/python -m bench.run_all $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache *.egg-info
