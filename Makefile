# The two commands of the README: `make demo` and `make test`. Both set up .venv themselves.
# `make demo` installs only what the demo needs (the package, matplotlib, Graphviz's `dot`);
# `make test` installs everything (torch, JupyterLab, Playwright, chromium) into the same
# .venv, on top: the demo's install never removes or downgrades what the tests installed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.installed-demo

.PHONY: demo test lint bench system-deps demo-system-deps clean site serve

$(STAMP): pyproject.toml hatch_build.py micrograd_like/_speedups.c
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP) $(DEMO_STAMP)

$(DEMO_STAMP): pyproject.toml hatch_build.py micrograd_like/_speedups.c
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e '.[demo]'
	touch $(DEMO_STAMP)

# Debian's graphviz (the `dot` binary) and chromium (for the browser tests)
system-deps:
	@bash .ci/system-deps.sh dot chromium npm

demo-system-deps:
	@bash .ci/system-deps.sh dot

demo: $(DEMO_STAMP) demo-system-deps
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
