# Two commands matter on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000

.PHONY: demo test check lint typecheck bench bench-quick install install-test client

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

install: $(BIN)/python
	$(BIN)/pip install -q -e .

install-test: $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	bash scripts/install-test-deps.sh

# The chat demo on the embedded aiohttp server: http://127.0.0.1:$(PORT)/
demo: install
	$(BIN)/python -m realtime examples.chat.app:app --host 127.0.0.1 --port $(PORT)

# Everything CI runs: lint, types, then every test.
test: install-test lint typecheck
	$(BIN)/python -m pytest -q

lint: $(BIN)/python
	$(BIN)/ruff check .

typecheck: $(BIN)/python
	$(BIN)/mypy

client:
	cd client_js && npm ci --silent && npm run build

bench: install-test
	$(BIN)/python bench/run.py

bench-quick: install-test
	$(BIN)/python bench/run.py --quick
