"""Tests for the command line (micrograd_like/__main__.py): help, the demo, and its errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import require_module, require_tool

from micrograd_like.__main__ import build_parser, main

PNG = b"\x89PNG\r\n\x1a\n"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m micrograd_like ARGS`` in a fresh interpreter (the venv's, running pytest)."""
    return subprocess.run(
        [sys.executable, "-m", "micrograd_like", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )


def test_help_lists_the_commands_and_the_demo_options() -> None:
    top = run("--help")
    assert top.returncode == 0 and "demo" in top.stdout
    demo = run("demo", "--help")
    assert demo.returncode == 0
    for option in ("--dataset", "--sizes", "--steps", "--seed", "--out", "--loss", "--lr"):
        assert option in demo.stdout
    assert "--quiet" in demo.stdout and "moons" in demo.stdout


def test_a_command_is_required() -> None:
    result = run()
    assert result.returncode == 2 and "COMMAND" in result.stderr


def test_a_short_demo_writes_the_three_files(tmp_path: Path) -> None:
    require_module("matplotlib")
    require_module("graphviz")
    require_tool("dot")
    out = tmp_path / "out"
    result = run("demo", "--steps", "5", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "step 5/5" in result.stdout and "final accuracy" in result.stdout
    assert (out / "decision_boundary.png").read_bytes().startswith(PNG)
    assert (out / "loss.png").read_bytes().startswith(PNG)
    svg = (out / "neuron.svg").read_text()
    assert "<svg" in svg and "relu" in svg
    assert result.stderr == ""


def test_quiet_prints_only_the_result(tmp_path: Path) -> None:
    require_module("matplotlib")
    require_tool("dot")
    result = run("demo", "--steps", "3", "--points", "20", "--out", str(tmp_path), "-q")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("final accuracy") and result.stdout.count("\n") == 1


def test_a_missing_dot_program_is_a_clear_message(tmp_path: Path) -> None:
    require_module("matplotlib")
    env = {**os.environ, "PATH": str(tmp_path / "no-such-bin")}
    result = run("demo", "--steps", "2", "--points", "20", "--out", str(tmp_path), env=env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "Graphviz's `dot` program was not found" in result.stderr
    assert (tmp_path / "loss.png").exists() and not (tmp_path / "neuron.svg").exists()


def test_an_unwritable_output_folder_fails_before_training(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = run("demo", "--out", str(blocker / "out"))
    assert result.returncode == 1
    assert "cannot write to output folder" in result.stderr and "Traceback" not in result.stderr
    assert "final accuracy" not in result.stdout  # nothing was trained


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--steps", "0"], "argument --steps: must be at least 1, got 0"),
        (["--sizes", "16,x"], "widths from 1 to 512 separated by commas"),
        (["--lr", "-1"], "argument --lr: must be in (0, 100], got -1.0"),
        (["--lr", "inf"], "argument --lr: must be finite, got inf"),
        (["--steps", "x"], "argument --steps: invalid positive int value: 'x'"),
        (["--dataset", "mnist"], "invalid choice"),
    ],
)
def test_bad_options_are_rejected_by_the_parser(
    args: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["demo", *args])
    assert exit_info.value.code == 2 and words in capsys.readouterr().err


def test_a_multiclass_dataset_needs_cross_entropy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["demo", "--dataset", "spirals", "--loss", "hinge", "--out", str(tmp_path)])
    assert status == 1
    assert "needs --loss cross_entropy" in capsys.readouterr().err


def test_a_multiclass_demo_runs_in_process(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    require_module("matplotlib")
    require_tool("dot")
    args = ["--dataset", "spirals", "--points", "30", "--steps", "3", "--out", str(tmp_path)]
    status = main(["demo", *args, "-q"])
    assert status == 0
    assert "final accuracy" in capsys.readouterr().out
    assert (tmp_path / "decision_boundary.png").exists()


@pytest.mark.slow
def test_the_default_demo_reaches_full_accuracy(tmp_path: Path) -> None:
    # what `make demo` runs: micrograd's demo, which ends at 100% training accuracy
    require_module("matplotlib")
    require_tool("dot")
    result = run("demo", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "step 100/100" in result.stdout
    assert "final accuracy 100.0% (100/100 points)" in result.stdout
    for name in ("decision_boundary.png", "loss.png", "neuron.svg"):
        assert (tmp_path / name).stat().st_size > 0
