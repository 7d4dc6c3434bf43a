# Two commands matter on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000

.PHONY: wheels demo test test-pure test-compiled check lint typecheck bench bench-quick install install-test client compiled fuzz

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

install: $(BIN)/python
	$(BIN)/pip install -q -e .

install-test: $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	bash scripts/install-test-deps.sh

# The demos on the embedded aiohttp server: http://127.0.0.1:$(PORT)/
# They run the package as users install it (`pip install .`: the compiled
# build where a C compiler exists), from its own venv, so that the tests'
# editable install stays pure Python. The console script, not `python -m`:
# that would put the checkout's sources ahead of the installed package.
DEMO_VENV := .venv-demo
demo:
	test -x $(DEMO_VENV)/bin/python || $(PYTHON) -m venv $(DEMO_VENV)
	$(DEMO_VENV)/bin/pip install -q .
	$(DEMO_VENV)/bin/realtime --version
	$(DEMO_VENV)/bin/realtime examples.app:app --host 127.0.0.1 --port $(PORT)

# Everything CI runs: lint, types, then every test twice: on the pure-Python
# package, then on the mypyc-compiled build (they must behave the same).
test: install-test lint typecheck test-pure test-compiled

test-pure:
	$(BIN)/python -m pytest -q

# pytest's own script, not `python -m`: that would put the checkout's pure
# package ahead of PYTHONPATH. A test checks that the compiled build is the one imported.
# The compiled run leaves out what does not depend on which build serves: the
# JavaScript client's build, the wheel builds (they make their own), and the
# demo apps (they run on the public API the rest of the suite covers on this
# build too); the pure run has them all.
COMPILED_SKIP := --ignore=tests/test_client_build.py --ignore=tests/test_packaging.py \
  --ignore=tests/demos --ignore=tests/browser/test_desk.py --ignore=tests/browser/test_webim.py \
  --ignore=tests/browser/test_chat.py --ignore=tests/cluster/test_desk_workers.py \
  --ignore=tests/cluster/test_demo_workers.py --ignore=tests/cluster/test_webim_workers.py
test-compiled: compiled
	REALTIME_EXPECT_COMPILED=1 PYTHONPATH=$(CURDIR)/$(COMPILED) $(BIN)/pytest -q -p no:cacheprovider $(COMPILED_SKIP)

# The package with its hot modules compiled by mypyc (setup.py), in $(COMPILED).
COMPILED := build/compiled
# All of build/ goes first: setuptools keeps earlier builds' extension modules
# there, and a stale one (of a module now pure, or of an older group) would be
# installed too and shadow the new.
compiled: install-test
	rm -rf build
	REALTIME_COMPILE=1 $(BIN)/pip install -q --no-deps --no-build-isolation --target $(COMPILED) .

# A longer coverage-guided hunt than the one `make test` runs: each target of
# tests/fuzz/atheris_targets.py for FUZZ_SECONDS, from the committed corpus.
# New inputs land in build/fuzz/TARGET; crashes in build/fuzz/ (crash-*).
FUZZ_SECONDS ?= 300
FUZZ_TARGETS := engineio socketio frames head
fuzz: install-test
	@for target in $(FUZZ_TARGETS); do \
	  mkdir -p build/fuzz/$$target; \
	  echo "fuzzing $$target for $(FUZZ_SECONDS) s"; \
	  $(BIN)/python tests/fuzz/atheris_targets.py $$target -max_total_time=$(FUZZ_SECONDS) \
	    -artifact_prefix=build/fuzz/ build/fuzz/$$target tests/fuzz/corpus/$$target || exit 1; \
	done

lint: $(BIN)/python
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(BIN)/python
	$(BIN)/mypy

client:
	cd client_js && npm ci --silent && npm run build

bench: compiled
	$(BIN)/python bench/run.py

bench-quick: compiled
	$(BIN)/python bench/run.py --quick

# An sdist and a compiled wheel per CPython found (3.10-3.13), each checked
# to import its compiled build (scripts/build-wheels.sh).
wheels:
	bash scripts/build-wheels.sh
