# The two commands of the README: `make demo` and `make test`. Both set up .venv themselves.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench system-deps clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Debian's graphviz (the `dot` binary) and chromium (for the standalone stepping page test)
system-deps:
	@bash .ci/system-deps.sh

demo: $(STAMP) system-deps
	$(PY) -m micrograd_like demo

lint: $(STAMP)
	$(VENV)/bin/ruff check micrograd_like tests bench
	$(VENV)/bin/ruff format --check micrograd_like tests bench
	$(VENV)/bin/mypy

test: $(STAMP) system-deps lint
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
