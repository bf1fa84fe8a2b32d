"""The optional C accelerator: in use where it was built, the same results as the reference.

micrograd_like/_speedups.c does part of engine.py's and backprop.py's work in C; those modules
stay the reference (``MICROGRAD_LIKE_PURE=1`` runs them alone). These tests check that the
accelerator is what a default install runs, that both give the same results bit for bit
(tests/accel_probe.py, run once each way), and that the cycle collector still frees the one
kind of node that can be in a cycle (a micrograd-style node whose closure refers to it).
"""

from __future__ import annotations

import gc
import os
import shutil
import subprocess
import sys
import sysconfig
import weakref
from pathlib import Path

import pytest

from micrograd_like import Value, engine

ROOT = Path(__file__).resolve().parent.parent
PROBE = Path(__file__).resolve().parent / "accel_probe.py"

accelerated = pytest.mark.skipif(not engine.ACCELERATED, reason="runs without the accelerator")


def _run_probe(pure: bool) -> tuple[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MICROGRAD_LIKE_PURE": "1" if pure else ""}
    done = subprocess.run(
        [sys.executable, str(PROBE)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout, done.stderr


def test_a_build_with_a_compiler_runs_the_accelerator() -> None:
    # make test installs with `pip install -e .`, whose build hook compiles _speedups.c
    compiler = (sysconfig.get_config_var("LDSHARED") or "").split()[:1]
    headers = Path(sysconfig.get_paths()["include"], "Python.h")
    if os.environ.get("MICROGRAD_LIKE_PURE", "") not in ("", "0"):
        pytest.skip("MICROGRAD_LIKE_PURE is set: the reference engine runs alone")
    if not compiler or shutil.which(compiler[0]) is None or not headers.exists():
        pytest.skip("no C compiler or no Python headers: the pure engine is the install")
    assert engine.ACCELERATED, (
        "a C compiler is here but micrograd_like._speedups is not loaded: reinstall "
        "(pip install -e . or make test) or run `python hatch_build.py`"
    )
    from micrograd_like import _speedups  # type: ignore[attr-defined]

    assert Value.__mro__[1] is _speedups.Node
    assert type(Value(1.0) + Value(2.0)) is Value


def test_the_pure_engine_runs_when_asked() -> None:
    code = "from micrograd_like import engine, Value; print(engine.ACCELERATED, Value.__mro__)"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MICROGRAD_LIKE_PURE": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert out.startswith("False (<class 'micrograd_like.engine.Value'>, <class 'object'>)")


@pytest.mark.slow
def test_accelerated_and_pure_engines_agree_bit_for_bit() -> None:
    fast, fast_err = _run_probe(pure=False)
    pure, pure_err = _run_probe(pure=True)
    assert "accelerated: False" in pure_err
    if not engine.ACCELERATED:
        pytest.skip("no accelerator here: only the pure engine ran")
    assert "accelerated: True" in fast_err
    assert len(fast.splitlines()) > 50
    for a, b in zip(fast.splitlines(), pure.splitlines(), strict=True):
        assert a == b


@accelerated
def test_graph_nodes_are_not_tracked_by_the_collector() -> None:
    x, y = Value(2.0), Value(3.0, label="y")
    nodes = [x, y, x * y, x + y, 2.0 * x, x - 1, x / y, (x * y).exp(), -x, x**2]
    assert not any(gc.is_tracked(v) for v in nodes)


@accelerated
def test_nodes_that_can_be_in_a_cycle_are_tracked() -> None:
    class Name(str):
        pass

    x = Value(1.0)
    micrograd_style = Value(2.0, (x,), "f")  # its op's rule holds the node
    assert gc.is_tracked(micrograd_style)
    y = x * 2.0
    assert not gc.is_tracked(y)
    y._backward = lambda: None
    assert gc.is_tracked(y)
    labelled = x + 1.0
    labelled.label = Name("a str subclass may refer to anything")
    assert gc.is_tracked(labelled)
    assert gc.is_tracked(Value(1.0, label=Name("x")))


def test_a_micrograd_style_cycle_is_collected() -> None:
    # out -> its op -> the closure -> out: only the cycle collector frees it
    def build() -> weakref.ref[object]:
        a, b = Value(2.0), Value(3.0)
        out = Value(a.data * b.data, (a, b), "*")

        def _backward() -> None:
            a.grad += b.data * out.grad
            b.grad += a.data * out.grad

        out._backward = _backward
        (out * out).backward()
        assert (a.grad, b.grad) == (36.0, 24.0)
        return weakref.ref(_backward)

    ref = build()
    gc.collect()
    assert ref() is None


def test_a_deep_chain_is_freed_without_recursion() -> None:
    x = Value(1.0)
    v = x
    for _ in range(200_000):
        v = v * 1.0 + 0.0
    v.backward()
    assert x.grad == 1.0
    del v  # the nodes are freed one after another, not by 400,000 nested calls


@accelerated
def test_no_node_outlives_its_graph() -> None:
    # the accelerator counts the Values alive; every graph below is dropped again
    from micrograd_like import _speedups  # type: ignore[attr-defined]
    from micrograd_like.functional import dot, grad, vsum
    from micrograd_like.ops import OPS

    def programs() -> None:
        for op in OPS.values():
            n = 3 if op.arity == -1 else op.arity
            xs = [Value(0.5 + 0.25 * i) for i in range(n)]
            try:
                out = Value.apply(op, *xs)
            except TypeError:
                continue  # an op that needs params (pow's exponent): a**2 below
            (out * out + 1.5).backward()
            grad(out.exp(), xs, create_graph=True)
        a, b = Value(1.5), Value(-0.5)
        ys = [a * b, a + 1, 2 + a, 0.5 * a, a - b, 1 - a, a / b, -a, abs(b), a**2, abs(a) ** b]
        out = sum(ys) + vsum(ys) + dot(ys[:3], ys[3:6], 0.25)
        out.backward()
        bad = Value(0.0).sqrt() * a  # a failed pass
        with pytest.raises(ZeroDivisionError):
            bad.backward()

    programs()  # bound ops and other caches fill up first
    gc.collect()
    before = _speedups.live_nodes()
    programs()
    gc.collect()
    assert _speedups.live_nodes() == before
