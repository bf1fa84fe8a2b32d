# The two commands of the README: `make demo` and `make test`. Both set up .venv themselves.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench system-deps clean site serve

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
	$(VENV)/bin/ruff check micrograd_like tests bench web
	$(VENV)/bin/ruff format --check micrograd_like tests bench web
	$(VENV)/bin/mypy
	$(VENV)/bin/mypy web/build_site.py web/serve.py web/measure.py web/py

test: $(STAMP) system-deps lint site
	$(PY) -m pytest -q

# The static site (playground and live training on Pyodide) in site/; `make serve` serves it on
# 127.0.0.1. Uses .venv's Python when there is one (it has the wheel's build backend), else python3.
SITE_PY = $$(test -x $(PY) && echo $(PY) || echo $(PYTHON))
PORT ?= 8000

site:
	@$(SITE_PY) web/build_site.py

serve:
	@$(SITE_PY) web/serve.py --port $(PORT)

bench: $(STAMP)
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis site web/node_modules
