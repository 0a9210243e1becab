# plughost: `make run` serves the demo, `make test` runs lint + every test. See README.md.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint fmt bench install clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/plughost migrate
	$(BIN)/plughost serve

lint: $(STAMP)
	$(BIN)/ruff check host workers admin plugins tests bench
	$(BIN)/ruff format --check host workers admin plugins tests bench
	$(BIN)/mypy
	PYTHONPATH=plugins $(BIN)/lint-imports

fmt: $(STAMP)
	$(BIN)/ruff check --fix host workers admin plugins tests bench
	$(BIN)/ruff format host workers admin plugins tests bench

test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
