# Developer entry points. `make dev` then `make test` is all a fresh clone needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: dev test lint typecheck check clean bench conformance localstack-lock soak

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

# The backend conformance suite on every emulator (the Docker ones need an engine and
# their images: see README "Backend conformance"); rewrites README.md's table from the run.
conformance:
	PYLON_CONFORMANCE_README=README.md $(BIN)/pytest tests/conformance -p no:cacheprovider

# The soak alone (make test runs it too): the fault scenario at $(SOAK_MESSAGES) inputs with
# memory sampled throughout; report, JSON and chart under $(SOAK_REPORTS).
SOAK_MESSAGES ?= 10000
SOAK_REPORTS ?= soak-report
soak:
	PYLON_SOAK_MESSAGES=$(SOAK_MESSAGES) PYLON_REPORT_DIR=$(SOAK_REPORTS) \
	  $(BIN)/pytest tests/soak -p no:cacheprovider

# Re-resolve LocalStack's hash-locked requirements (localstack/requirements.txt) for the
# image's Python 3.13, with the cutoff that keeps 2026.3.0's dependencies working.
localstack-lock:
	$(BIN)/uv pip compile localstack/requirements.in --python-version 3.13 \
	  --python-platform x86_64-manylinux_2_28 --exclude-newer 2026-03-24 \
	  --generate-hashes --no-header --quiet -o localstack/requirements.lock
	{ sed -n '1,4p' localstack/requirements.txt; cat localstack/requirements.lock; } > localstack/requirements.new
	mv localstack/requirements.new localstack/requirements.txt && rm localstack/requirements.lock

# Run every benchmark and regenerate bench/RESULTS.md (minutes; run it on a quiet machine).
# Record the conditions: make bench BENCH_ARGS="--conditions 'quiet machine'"
bench:
	$(BIN)/python -m bench.run_all $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache *.egg-info
