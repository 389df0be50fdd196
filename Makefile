# Two commands for a newcomer: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test bench clean

$(BIN)/paastis: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

demo: $(BIN)/paastis
	$(BIN)/paastis demo

test: $(BIN)/paastis
	$(BIN)/ruff format --check --quiet .
	$(BIN)/ruff check --quiet .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(BIN)/paastis
	$(BIN)/python -m tests.bench $(BENCH_ARGS)

clean:
	rm -rf .venv .venv-* *.egg-info .pytest_cache
