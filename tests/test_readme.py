"""Every Python code block of README.md runs as written.

A block runs on its own, in a fresh namespace, unless its first line says it continues the
block above (``# continues the block above``); then it runs in that block's namespace. The
blocks run in a temporary folder, so files they write do not land in the repository.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
from conftest import require_tool

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCK = re.compile(r"^( *)```python\n(.*?)^\1```", re.S | re.M)
CONTINUES = "# continues the block above"


def blocks(text: str) -> list[tuple[int, str]]:
    """(line number, code) of every ```python block, dedented."""
    return [
        (text.count("\n", 0, m.start()) + 1, textwrap.dedent(m.group(2)))
        for m in BLOCK.finditer(text)
    ]


def test_the_readme_has_python_blocks_and_the_finder_finds_them() -> None:
    found = blocks("text\n```python\nx = 1\n```\n  ```python\n  y = 2\n  ```\n```text\nz\n```\n")
    assert found == [(2, "x = 1\n"), (5, "y = 2\n")]
    assert len(blocks(README.read_text(encoding="utf-8"))) >= 10


@pytest.mark.slow
def test_every_python_block_runs_alone_or_after_the_block_it_continues(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_tool("dot")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict[str, Any] | None = None
    for line, code in blocks(README.read_text(encoding="utf-8")):
        if code.startswith(CONTINUES):
            assert namespace is not None, f"README line {line}: nothing above to continue"
        else:
            namespace = {"__name__": "__readme__"}
        try:
            exec(compile(code, f"README.md line {line}", "exec"), namespace)
        except Exception as err:
            raise AssertionError(f"the README's block at line {line} fails: {err!r}") from err


def test_a_failing_block_is_reported() -> None:
    # the runner must be able to fail: a block that continues nothing, one that raises
    bad = "```python\nprint(undefined_name)\n```\n"
    ((line, code),) = blocks(bad)
    with pytest.raises(NameError):
        exec(compile(code, f"line {line}", "exec"), {})
