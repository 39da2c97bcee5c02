# Two commands do all the set-up on a fresh machine (each creates .venv first if needed):
#   make demo   install, then run the shipped campaigns on the embedded default (SQLite, local folders)
#   make test   install, then lint, type-check, check the import floors and run the whole test suite
#               (on every core: pytest-xdist)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench chaos rates load clean debian-packages

# The Debian packages first: a Python package (PyICU) is built against one of them.
$(STAMP): pyproject.toml | debian-packages
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Debian packages (fonts, a browser for the page tests…) listed in config/debian-packages.txt.
debian-packages:
	@bash tools/install-debian-packages

demo: $(STAMP) debian-packages
	$(BIN)/broadcaster demo

test: $(STAMP) debian-packages
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest -n auto

# Benchmarks and the chaos run (not part of the test suite; see bench/README.md).
$(VENV)/.bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $(VENV)/.bench

bench: $(VENV)/.bench
	$(BIN)/python -m bench $(ARGS)

chaos: $(VENV)/.bench
	$(BIN)/python -m bench.chaos $(ARGS)

rates: $(VENV)/.bench
	$(BIN)/python -m bench.rates $(ARGS)

load: $(VENV)/.bench
	$(BIN)/python -m bench.load $(ARGS)

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
