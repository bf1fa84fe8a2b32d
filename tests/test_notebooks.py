"""Tests for notebooks/: committed clean, honest about imports, and run top to bottom by a kernel.

Every ``notebooks/*.ipynb`` is picked up by itself. Each is executed in a real Jupyter kernel
(``python3``, the interpreter running the tests) in a temporary working directory, with
matplotlib's non-interactive ``Agg`` backend; any error in any cell fails the test, and so does
a failed ``assert`` in the notebook's final cell, where each notebook checks what it claims.
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import require_module, require_tool

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))
IDS = [p.name for p in PATHS]

# What a notebook may import: the package it teaches, plotting, widgets, two small stdlib
# modules, and torch (notebook 7 hands a model to PyTorch). Anything else would mean a
# notebook is doing work that belongs in the package.
ALLOWED_IMPORTS = {"micrograd_like", "matplotlib", "ipywidgets", "math", "random", "torch"}
CELL_TIMEOUT = 300  # seconds; a notebook takes well under a minute, this only stops a hang


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _code_cells(nb: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def _source(cell: dict[str, Any]) -> str:
    src = cell["source"]
    return src if isinstance(src, str) else "".join(src)


def _imports(source: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                names.add("." * node.level + (node.module or ""))
            else:
                names.add((node.module or "").split(".")[0])
    return names


def test_the_notebooks_are_there() -> None:
    assert len(PATHS) >= 6, f"expected the six teaching notebooks in {NOTEBOOKS}"
    numbers = [p.name.split("_")[0] for p in PATHS]
    assert all(n.isdigit() for n in numbers), f"notebooks are numbered in reading order: {IDS}"
    assert len(set(numbers)) == len(numbers), f"two notebooks share a number: {IDS}"


def _output_problems(nb: dict[str, Any]) -> list[str]:
    # outputs come from running, never from the repository: no outputs, no execution counts,
    # no saved widget state
    problems = [
        f"cell {i} has outputs or an execution count"
        for i, c in enumerate(nb["cells"])
        if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count") is not None)
    ]
    if "widgets" in nb.get("metadata", {}):
        problems.append("the metadata holds saved widget state")
    return problems


def _code_problems(nb: dict[str, Any]) -> list[str]:
    # a notebook demonstrates, the package implements: only allowed imports, no classes, and
    # a last code cell that asserts what the notebook claims
    problems, found = [], set()
    cells = _code_cells(nb)
    for i, cell in enumerate(cells):
        tree = ast.parse(_source(cell))  # every cell is plain Python, no magics
        found |= _imports(_source(cell))
        problems += [
            f"code cell {i} defines class {n.name}: library code goes in the package"
            for n in ast.walk(tree)
            if isinstance(n, ast.ClassDef)
        ]
    problems += [f"imports {name!r}" for name in sorted(found - ALLOWED_IMPORTS)]
    if "micrograd_like" not in found:
        problems.append("does not import micrograd_like")
    if not cells or not any(
        isinstance(n, ast.Assert) for n in ast.walk(ast.parse(_source(cells[-1])))
    ):
        problems.append("the last code cell asserts nothing")
    return problems


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_committed_without_outputs(path: Path) -> None:
    nbformat: Any = require_module("nbformat")
    nbformat.validate(nbformat.read(path, as_version=4))
    assert not _output_problems(_load(path)), f"{path.name}: {_output_problems(_load(path))}"


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_imports_only_the_package_and_checks_its_claims(path: Path) -> None:
    assert not _code_problems(_load(path)), f"{path.name}: {_code_problems(_load(path))}"


def test_the_static_checks_can_fail() -> None:
    # a notebook committed with an output, a numpy import, a class and no final assert
    nb = {
        "metadata": {"widgets": {}},
        "cells": [
            {"cell_type": "markdown", "source": "# 9. Bad"},
            {
                "cell_type": "code",
                "execution_count": 3,
                "outputs": [{"output_type": "stream", "name": "stdout", "text": "1"}],
                "source": ["import numpy as np\n", "from micrograd_like import Value\n"],
            },
            {
                "cell_type": "code",
                "execution_count": None,
                "outputs": [],
                "source": "class Net: ...",
            },
        ],
    }
    assert _output_problems(nb) == [
        "cell 1 has outputs or an execution count",
        "the metadata holds saved widget state",
    ]
    assert _code_problems(nb) == [
        "code cell 1 defines class Net: library code goes in the package",
        "imports 'numpy'",
        "the last code cell asserts nothing",
    ]


@pytest.fixture
def kernel_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # the kernel inherits this environment: matplotlib draws off-screen, and the package under
    # test is the one in this checkout
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("PYTHONPATH", str(NOTEBOOKS.parent))


def _execute(path: Path, cwd: Path) -> Any:
    nbformat: Any = require_module("nbformat")
    nbclient: Any = require_module("nbclient")
    require_module("ipykernel")
    require_tool("dot")  # the notebooks render graph diagrams
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(cwd)}},
    )
    client.execute()
    return nb


@pytest.mark.slow
@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_runs_top_to_bottom(path: Path, tmp_path: Path, kernel_env: None) -> None:
    # in a scratch directory, so nothing a notebook writes lands in the repo; any error, a
    # failed claim in the last cell included, raises CellExecutionError with the traceback
    _execute(path, tmp_path)


def test_a_false_claim_fails_the_run(tmp_path: Path, kernel_env: None) -> None:
    # the runner itself must be able to fail: a notebook whose final assert is false
    nbformat: Any = require_module("nbformat")
    nbclient: Any = require_module("nbclient")
    bad = tmp_path / "99_false_claim.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("from micrograd_like import Value\nx = Value(2.0)"),
        nbformat.v4.new_code_cell("(x * x).backward()\nassert x.grad == 5.0, x.grad"),
    ]
    nbformat.write(nb, bad)
    with pytest.raises(nbclient.exceptions.CellExecutionError, match="AssertionError"):
        _execute(bad, tmp_path)


def test_the_kernel_runs_in_this_environment(tmp_path: Path, kernel_env: None) -> None:
    # "python3" must resolve to the tests' own environment (the .venv), not another Python
    nbformat: Any = require_module("nbformat")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import sys\nprint(sys.prefix)")]
    path = tmp_path / "which.ipynb"
    nbformat.write(nb, path)
    out = _execute(path, tmp_path).cells[0].outputs[0]["text"].strip()
    assert out == sys.prefix
