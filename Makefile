# Two entry points: `make run` and `make test`. Both create or refresh .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint venv clean

# Reinstall whenever the dependency declaration changes.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

run: venv
	$(BIN)/newsetl run --input seeds --warehouse warehouse

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/newsetl schema-doc --check
	$(BIN)/newsetl settings-doc --check

test: lint
	$(BIN)/pytest -q

clean:
	rm -rf $(VENV) .prefect .mypy_cache .ruff_cache .pytest_cache
