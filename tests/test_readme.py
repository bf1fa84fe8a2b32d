"""Every Python code block of README.md runs as written.

A block runs on its own, in a fresh namespace, unless its first line says it continues the
block above (``# continues the block above``); then it runs in that block's namespace. The
blocks run in a temporary folder, so files they write do not land in the repository.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

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


# runs the blocks in a process of its own: a block may define ops in the op table, which must
# not leak into the rest of the test session
RUNNER = """
import json, sys
blocks = json.load(sys.stdin)
namespace = None
for line, code in blocks:
    if code.startswith(MARK):
        assert namespace is not None, f"README line {line}: nothing above to continue"
    else:
        namespace = {"__name__": "__readme__"}
    try:
        exec(compile(code, f"README.md line {line}", "exec"), namespace)
    except Exception as err:
        sys.exit(f"the README's block at line {line} fails: {err!r}")
print("all blocks ran")
""".replace("MARK", repr(CONTINUES))


def run_blocks(found: list[tuple[int, str]], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(README.parent)}
    return subprocess.run(
        [sys.executable, "-c", RUNNER],
        input=json.dumps(found),
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=600,
    )


@pytest.mark.slow
def test_every_python_block_runs_alone_or_after_the_block_it_continues(tmp_path: Path) -> None:
    require_tool("dot")
    done = run_blocks(blocks(README.read_text(encoding="utf-8")), tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.rstrip().endswith("all blocks ran")


def test_a_failing_block_is_reported(tmp_path: Path) -> None:
    # the runner must be able to fail: a block that needs one above it without saying so,
    # and a block that says it continues when there is nothing above
    alone = "```python\nx = 1\n```\n\n```python\nprint(x)\n```\n"
    done = run_blocks(blocks(alone), tmp_path)
    assert done.returncode != 0 and "line 5 fails: NameError" in done.stderr
    said = alone.replace("```python\nprint", f"```python\n{CONTINUES}\nprint")
    assert run_blocks(blocks(said), tmp_path).returncode == 0
    orphan = f"```python\n{CONTINUES}\nx = 1\n```\n"
    assert "nothing above to continue" in run_blocks(blocks(orphan), tmp_path).stderr
