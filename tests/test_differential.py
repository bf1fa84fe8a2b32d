"""Differential tests: random programs over every op, three ways through the engine and in torch.

Each program is a random expression graph (``micrograd_like.testing.expressions``: every op of
the table, intermediate results reused, constants among the leaves, every op input inside its
domain and away from kinks). Our three routes to the gradient, ``backward()``, ``grad()`` and
the steps of ``trace_backward``, must agree bit for bit on every node; PyTorch in float64 must
agree with them to 1e-12 relative, for first derivatives and for second derivatives taken with
``grad(create_graph=True)`` (``torch.autograd.grad(create_graph=True)`` on torch's side).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from conftest import require_module
from hypothesis import given, settings

from micrograd_like.engine import Value, topological_order
from micrograd_like.functional import grad
from micrograd_like.ops import OPS, Op
from micrograd_like.stepping import gradients_at, trace_backward
from micrograd_like.testing import Expression, Step, expressions, op_samples

torch: Any = require_module("torch")
F = torch.nn.functional

# 1e-12 relative, with an absolute floor of 1e-12 times the largest number of the program
# (see _scale)
REL = 1e-12

# How many random programs: a multiple of the hypothesis profile's count (ci: 60), so that
# the CI profile runs both property tests in well under 30 s on a shared 2-core machine
ROUTES_EXAMPLES = settings.default.max_examples * 5
TORCH_EXAMPLES = settings.default.max_examples * 3


def _sum(*xs: Any) -> Any:
    return torch.stack(list(xs)).sum()


def _dot(*xs: Any) -> Any:
    # inputs w_1..w_n, x_1..x_n, b
    n = (len(xs) - 1) // 2
    return _sum(*[xs[i] * xs[n + i] for i in range(n)]) + xs[-1] if n else xs[-1]


def _vpow(a: Any, b: Any) -> Any:
    # a ** b for a > 0 (vpow's test domain) as exp(b log a): torch's own pow masks its
    # derivative where b == 0 and so loses d²/da db = a^(b-1) (1 + b log a) there (1 at a = 1)
    return torch.exp(b * torch.log(a))


# every op of the table, in PyTorch: (inputs..., params...) -> tensor
TORCH_OPS: dict[str, Callable[..., Any]] = {
    "add": lambda a, b: a + b,
    "mul": lambda a, b: a * b,
    "neg": lambda a: -a,
    "pow": lambda a, p: a**p,
    "vpow": _vpow,
    "exp": torch.exp,
    "log": torch.log,
    "sqrt": torch.sqrt,
    "sin": torch.sin,
    "cos": torch.cos,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "softplus": F.softplus,
    "relu": torch.relu,
    "leaky_relu": F.leaky_relu,
    "elu": F.elu,
    "silu": F.silu,
    "abs": torch.abs,
    "clamp": torch.clamp,
    "sum": _sum,
    "dot": _dot,
    "logsumexp": lambda *xs: torch.logsumexp(torch.stack(list(xs)), 0),
}


def _torch_apply(op: Op, args: list[Any]) -> Any:
    return TORCH_OPS[op.name](*args, *op.params)


def _torch_leaf(x: float, requires_grad: bool = False) -> Any:
    return torch.tensor(x, dtype=torch.float64, requires_grad=requires_grad)


def _close(ours: float, theirs: float, scale: float) -> bool:
    return math.isclose(ours, theirs, rel_tol=REL, abs_tol=REL * scale)


def _assert_close(what: str, ours: Sequence[float], theirs: Sequence[float], scale: float) -> None:
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        assert _close(a, b, scale), f"{what}[{i}]: ours {a!r}, torch {b!r} (scale {scale:g})"


def _scale(out: Value) -> float:
    """The size of the largest number met on the way: the floor of every comparison.

    Where a result is a near-cancellation of larger terms (``|log 0.5| + log 0.5``), two correct
    float evaluations in different orders differ by ulps of those terms, not of the result.
    """
    order = topological_order(out)
    sizes = [abs(v.data) for v in order] + [abs(g) for g in grad(out, order)]
    return max([1.0, *sizes])


def _three_routes(expr: Expression) -> None:
    xs = [Value(x, label=f"x{i}") for i, x in enumerate(expr.point)]
    out = expr(*xs)
    order = topological_order(out)
    by_grad = grad(out, order)
    steps = trace_backward(out)
    by_trace = gradients_at(steps, len(steps) - 1)
    out.backward()
    by_backward = [v.grad for v in order]
    # bit for bit: the same floats, not merely close ones (repr keeps -0.0 apart from 0.0)
    assert [repr(g) for g in by_backward] == [repr(g) for g in by_grad], expr
    assert [repr(by_trace[v]) for v in order] == [repr(g) for g in by_grad], expr


def _against_torch(expr: Expression) -> None:
    n = len(expr.point)
    xs = [Value(x) for x in expr.point]
    out = expr(*xs)
    first = grad(out, xs, create_graph=True)
    second = [[float(h) for h in grad(g, xs)] for g in first]

    ts = [_torch_leaf(x, requires_grad=True) for x in expr.point]
    t_out = expr.evaluate(ts, _torch_apply, _torch_leaf)
    value = float(t_out.detach())
    scale = _scale(out)
    assert _close(out.data, value, scale), (expr, out.data, value)
    t_first = torch.autograd.grad(t_out, ts, create_graph=True, allow_unused=True)
    t_first = [torch.zeros((), dtype=torch.float64) if g is None else g for g in t_first]
    _assert_close("gradient", [g.data for g in first], [float(g.detach()) for g in t_first], scale)
    for i, g in enumerate(t_first):
        if not g.requires_grad:  # a constant first derivative: its gradient is zero
            row = [0.0] * n
        else:
            found = torch.autograd.grad(g, ts, retain_graph=True, allow_unused=True)
            row = [0.0 if h is None else float(h) for h in found]
        _assert_close(f"hessian[{i}]", second[i], row, scale)


@pytest.mark.slow
@settings(max_examples=ROUTES_EXAMPLES)
@given(expressions(max_ops=8, max_inputs=3))
def test_backward_grad_and_trace_agree_bit_for_bit(expr: Expression) -> None:
    _three_routes(expr)


@pytest.mark.slow
@settings(max_examples=TORCH_EXAMPLES)
@given(expressions(max_ops=8, max_inputs=3))
def test_first_and_second_derivatives_agree_with_pytorch(expr: Expression) -> None:
    _against_torch(expr)


def test_every_op_of_the_table_has_a_pytorch_counterpart() -> None:
    # a new op must be added here too, or the differential tests would never draw it
    assert sorted(TORCH_OPS) == sorted(OPS)


@pytest.mark.parametrize("name", sorted(OPS))
def test_each_op_alone_agrees_with_pytorch_at_its_sample_points(name: str) -> None:
    # every op and every variant of its params, deterministically (hypothesis may not draw all)
    for op, point in op_samples(name):
        expr = _single(op, point)
        _three_routes(expr)
        _against_torch(expr)


def _single(op: Op, point: tuple[float, ...]) -> Expression:
    # the op applied to one argument per input
    steps = [Step(None, input=i, value=x) for i, x in enumerate(point)]
    steps.append(Step(op, tuple(range(len(point)))))
    return Expression(steps, point)
