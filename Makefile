# The two commands of the README: `make demo` and `make test`. Both install into .venv when needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test lint install test-servers

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/crossdock demo

# Real servers the suite needs (PostgreSQL binaries; the tests start their own server from them).
test-servers:
	@bash scripts/ensure-test-servers.sh

# Prints how long it took: `$(shell date +%s)` is expanded when the recipe starts (make expands
# all the lines of a recipe before running the first).
test: $(STAMP) test-servers
	$(BIN)/ruff check crossdock tests
	$(BIN)/mypy crossdock
	$(BIN)/lint-imports
	$(BIN)/pytest -q; status=$$?; \
	  echo "make test: $$(( $$(date +%s) - $(shell date +%s) )) s in all"; exit $$status

lint: $(STAMP)
	$(BIN)/ruff check crossdock tests
	$(BIN)/mypy crossdock
	$(BIN)/lint-imports

# The fast part of the suite while you work: no server, no subprocess (the `integration` marker,
# set by tests/conftest.py), after the same lint and type checks.
.PHONY: check
check: $(STAMP)
	$(BIN)/ruff check crossdock tests
	$(BIN)/mypy crossdock
	$(BIN)/lint-imports
	$(BIN)/pytest -q -m "not integration"
