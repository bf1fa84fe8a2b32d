"""Print what the engine computes on a fixed set of programs, one line per result, exactly.

tests/test_accel.py runs this file twice, with the C accelerator and with
``MICROGRAD_LIKE_PURE=1``, and requires the two outputs to be identical: every float is
printed with ``repr`` (all its bits), every error with its type and message. The programs
cover the engine (every table op, numbers on either side, no_grad), backward and grad
(create_graph, accumulation, a failed pass), a micrograd-style closure node, traces, the
compiled replay, pickling, an nn step and two steps of bench/gpt.py's GPT.
"""

from __future__ import annotations

import copy
import math
import pickle
import random
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from micrograd_like import (
    MLP,
    Value,
    compile,
    dot,
    engine,
    grad,
    no_grad,
    trace_backward,
    vsum,
)
from micrograd_like.losses import hinge
from micrograd_like.ops import OPS


def show(name: str, thing: Any) -> None:
    """One result line: floats by repr, Values by data and grad, lists element by element."""
    print(f"{name}: {text(thing)}")


def text(x: Any) -> str:
    """The exact text of a result (see show)."""
    if isinstance(x, Value):
        return f"V({x.data!r}, {x.grad!r}, {x.op})"
    if isinstance(x, (list, tuple)):
        return "[" + ", ".join(text(y) for y in x) + "]"
    return repr(x)


def attempt(name: str, fn: Callable[[], Any]) -> None:
    """Show fn()'s result, or the error it raised (type and message)."""
    try:
        show(name, fn())
    except Exception as err:
        print(f"{name}: {type(err).__name__}: {err}")


def every_op() -> None:
    rng = random.Random(5)
    for name, op in sorted(OPS.items()):
        n = 3 if op.arity == -1 else op.arity
        xs = [Value(rng.uniform(0.2, 2.0), label=f"x{i}") for i in range(n)]
        attempt(f"op {name}", lambda op=op, xs=xs: _forward_backward(op, xs))


def _forward_backward(op: Any, xs: list[Value]) -> list[Any]:
    out = Value.apply(op, *xs)
    (out * out + 1.5).backward()
    return [out, *xs, grad(out * 2.0, xs), grad(out.exp(), xs, create_graph=True)]


def kinks() -> None:
    # every one-input op at both signs, zero, the float extremes and NaN: forward and backward
    points = [-1.5, -0.0, 0.0, 2.0, 1e-310, 1e308, -1e308, math.inf, -math.inf, math.nan]
    for name, op in sorted(OPS.items()):
        if op.arity != 1:
            continue
        for x0 in points:
            attempt(f"kink {name}({x0!r})", lambda op=op, x0=x0: _one(op, x0))


def _one(op: Any, x0: float) -> list[Any]:
    x = Value(x0)
    y = Value.apply(op, x)
    (y * 3.0 + x).backward()
    return [y, x]


def arithmetic() -> None:
    a, b = Value(1.25), Value(-0.5)
    cases: dict[str, Callable[[], Any]] = {
        "a+b": lambda: a + b,
        "a*b": lambda: a * b,
        "a+2": lambda: a + 2,
        "a+2**70": lambda: a + 2**70 + 1,
        "a*-0": lambda: (a * 0) * -1,
        "int sum": lambda: sum([a, b], 0) * sum([b], 10**5),
        "2+a": lambda: 2 + a,
        "a+0.1": lambda: a + 0.1,
        "0.1+a": lambda: 0.1 + a,
        "a*3": lambda: a * 3,
        "0.3*a": lambda: 0.3 * a,
        "a-b": lambda: a - b,
        "1-a": lambda: 1 - a,
        "a/b": lambda: a / b,
        "3/a": lambda: 3 / a,
        "a**b": lambda: abs(a) ** b,
        "a**2": lambda: a**2,
        "sum": lambda: sum([a, b, a * b]),
        "vsum": lambda: vsum([a, b, a * b]),
        "a+True": lambda: a + True,
        "a*'x'": lambda: a * "x",
        "None+a": lambda: None + a,  # type: ignore[operator]
        "a/0": lambda: a / 0.0,
        "big": lambda: a + 10**400,
        "nan": lambda: (a + math.nan) * b,
        "inf": lambda: (a * math.inf) + b,
        "x*x": lambda: _square_grad(),
        "dot81": _big_dot,
    }
    for name, fn in cases.items():
        attempt(f"arith {name}", fn)
    with no_grad():
        c = a * b + 1.0
    show("no_grad", [c, c.op, c.parents])


def _big_dot() -> list[Any]:
    # 81 inputs (more than the accelerator's stack buffer), one weight used twice
    ws = [Value(0.01 * i - 0.2) for i in range(40)]
    xs = [Value(1.0 / (i + 1)) for i in range(39)] + [ws[3]]
    out = dot(ws, xs, 0.5)
    (out * out).backward()
    return [out, ws, xs]


def _square_grad() -> list[Any]:
    x = Value(3.0)
    y = x * x + x
    y.backward()
    y.backward()
    return [y, x]


def passes() -> None:
    x, y = Value(0.0, label="x"), Value(2.0, label="y")
    y.grad = 5.0
    attempt("failed pass", lambda: (x.sqrt() * y).backward())
    show("after failed pass", [x, y])
    z = Value(1.0)
    z.grad = None
    w = (z * 3.0).relu() + z
    w.backward()
    show("grad None", [z, w])
    p = Value(2.0)
    q = p * 3.0
    p.data = 5.0
    attempt("stale graph", lambda: q.backward())
    g = grad((p * p).exp(), [p], create_graph=True)[0]
    show("second order", [g, grad(g, [p])])


def closure_node() -> None:
    x = Value(0.5)
    h = x * 2.0
    k = Value(math.exp(h.data), (h,), "exp")

    def k_backward() -> None:
        h.grad += k.data * k.grad

    k._backward = k_backward
    out = k * x + h
    out.backward()
    show("closure", [out, k, h, x])
    show("closure trace", [(s.grad, s.equation) for s in trace_backward(out)])


def replay_and_pickle() -> None:
    rng = random.Random(3)
    model = MLP(2, [4, 1], rng=1)
    xs = [[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(6)]
    ys = [1.0 if i % 2 else -1.0 for i in range(6)]

    def loss() -> Value:
        return hinge([model.scalar(x) for x in xs], ys)

    step = compile(loss)
    show("replay", [step(), [p.grad for p in model.parameters()]])
    for p in model.parameters():
        p.grad = 0.0
    out = loss()
    out.backward()
    show("mlp", [out, [p.grad for p in model.parameters()]])
    again = pickle.loads(pickle.dumps(out))
    show("pickle", [again, [v.data for v in again.parents]])
    show("copy", [copy.copy(out), copy.deepcopy(out)])


def gpt() -> None:
    from bench import gpt as g

    model = g.Gpt(Value, g.init_weights())
    opt = g.Adam(model.params)
    words = g.make_words()
    for k in range(2):
        loss = g.train_step(model, opt, words[k], k)
        show(f"gpt step {k}", [loss.data, [p.data for p in model.params[::97]]])


if __name__ == "__main__":
    print(f"accelerated: {engine.ACCELERATED}", file=sys.stderr)
    every_op()
    kinks()
    arithmetic()
    passes()
    closure_node()
    replay_and_pickle()
    gpt()
