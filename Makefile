# Two commands for a fresh machine with Python >= 3.11 and make: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,report]'
	touch $(STAMP)

install: $(STAMP)

## The main job on embedded defaults: shipped Tecator data, a preprocessing x PLS search with
## cross-validation, results in a local Lance workspace, the ranked table printed.
run: $(STAMP)
	$(BIN)/nirsframe demo --workspace nirsframe-workspace

## The test suite (slow tests excluded; `make test-slow` runs them).
test: $(STAMP)
	$(BIN)/python -m pytest

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy nirsframe kernels/nirskern

bench: $(STAMP)
	$(BIN)/python -m benchmarks --quick

clean:
	rm -rf $(VENV) nirsframe-workspace .pytest_cache .mypy_cache .ruff_cache
