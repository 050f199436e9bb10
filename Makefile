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

test: $(STAMP) test-servers
	$(BIN)/ruff check crossdock tests
	$(BIN)/mypy crossdock
	$(BIN)/lint-imports
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check crossdock tests
	$(BIN)/mypy crossdock
	$(BIN)/lint-imports
