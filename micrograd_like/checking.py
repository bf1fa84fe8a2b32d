"""Gradient checking: every analytic derivative against finite differences, per input or per node.

Two entry points share one comparison (:mod:`micrograd_like._differences`):

* :func:`gradcheck` checks a function's gradient (and, with ``order=2``, its Hessian) at a
  point, like PyTorch's ``gradcheck`` and autograd's ``check_grads``;
* :func:`check_graph` checks d output / d node for every node of an existing graph, so a wrong
  derivative rule is pinned to the node that applies it
  (:mod:`micrograd_like._graph_check`).

Their results print as tables and show as HTML in Jupyter (:mod:`micrograd_like._reports`).
Each derivative gets a verdict: :data:`OK`, :data:`MISMATCH`, :data:`KINK` (not
differentiable here, with the analytic value a subgradient), :data:`UNRESOLVED` (cannot be
checked at this step) or :data:`UNCHECKABLE` (a node after it has no forward); a result is
truthy only if none is a mismatch or could not be verified.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import Any

from micrograd_like._differences import (
    KINK,
    MISMATCH,
    OK,
    UNCHECKABLE,
    UNRESOLVED,
    VERDICT_COLOURS,
    Check,
    Tolerance,
    check_derivative,
    make_check,
    read_tolerance,
    with_context,
)
from micrograd_like._graph_check import GraphCheckResult, NodeCheck, check_graph
from micrograd_like._reports import GradcheckError, Report
from micrograd_like._validate import real
from micrograd_like.engine import Value, gc_paused, grad_enabled
from micrograd_like.functional import grad

__all__ = [
    "KINK",
    "MISMATCH",
    "OK",
    "UNCHECKABLE",
    "UNRESOLVED",
    "VERDICT_COLOURS",
    "Check",
    "GradcheckError",
    "GradcheckResult",
    "GraphCheckResult",
    "NodeCheck",
    "check_graph",
    "gradcheck",
]


class GradcheckResult(Report[Check]):
    """What :func:`gradcheck` returns: truthy only if every derivative matched (kinks allowed).

    ``gradient`` holds one :class:`Check` per input; ``hessian`` (with ``order=2``) holds
    ``hessian[i][j]`` for d²f / dx_i dx_j, else ``None``; ``checks`` is all of them in table
    order. ``print(result)`` shows the table, Jupyter shows it as HTML, and
    :meth:`raise_if_failed` turns a failure into an error listing every mismatch and every
    derivative that could not be verified (:meth:`unverified`).
    """

    def __init__(
        self,
        names: Sequence[str],
        point: Sequence[float],
        gradient: list[Check],
        hessian: list[list[Check]] | None,
        tolerance: Tolerance,
    ) -> None:
        self.names = tuple(names)
        self.point = tuple(point)
        self.gradient = gradient
        self.hessian = hessian
        self.order = 1 if hessian is None else 2
        self.checks = gradient + [c for row in hessian or [] for c in row]
        self._tol = tolerance

    def _title(self) -> str:
        at = ", ".join(f"{n}={x!r}" for n, x in zip(self.names, self.point, strict=True))
        return f"gradcheck (order {self.order}) at {at}:"

    def _mismatch_heading(self, c: Check) -> str:
        kind = "Jacobian" if any(c is g for g in self.gradient) else "Hessian"
        return f"{kind} mismatch for {c.label}"


def _point(where: str, inputs: object) -> list[float]:
    # any iterable of numbers (a list, a tuple, a numpy array), not a string or a mapping
    if isinstance(inputs, (str, bytes, Value, Mapping)) or not isinstance(inputs, Iterable):
        raise TypeError(f"{where}: inputs must be a sequence of numbers, got {inputs!r:.60}")
    point = []
    for i, x in enumerate(inputs):
        point.append(real(x.data if isinstance(x, Value) else x, f"{where}: inputs[{i}]"))
    if not point:
        raise ValueError(f"{where}: needs at least one input")
    return point


def _input_names(f: Callable[..., Any], n: int) -> list[str]:
    """The names of f's first n positional parameters (x0, x1, ... for *args); checks the count."""
    if not callable(f):
        raise TypeError(f"gradcheck: f must be callable, got {type(f).__name__}")
    try:
        sig = inspect.signature(f)
    except (TypeError, ValueError):  # some builtins have no signature: nothing to check
        return [f"x{i}" for i in range(n)]
    try:
        sig.bind(*range(n))
    except TypeError as err:
        raise TypeError(f"gradcheck: f{sig} cannot take the {n} given inputs: {err}") from None
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    names = [p.name for p in sig.parameters.values() if p.kind in kinds][:n]
    return names + [f"x{i}" for i in range(len(names), n)]


class _Function:
    """``f`` at a point and at shifted points, with every result checked."""

    def __init__(self, f: Callable[..., Any], names: list[str], point: list[float]) -> None:
        self.f, self.names, self.point = f, names, point

    def where(self, i: int, t: float) -> str:
        return "at the point" if not t else f"at {self.names[i]} = {self.point[i]!r} {t:+g}"

    def at(self, i: int, t: float) -> tuple[list[Value], Value]:
        xs = [Value(x, label=n) for n, x in zip(self.names, self.point, strict=True)]
        if t:
            xs[i] = Value(self.point[i] + t, label=self.names[i])
        where = self.where(i, t)
        out = with_context("gradcheck", lambda: self.f(*xs), f"f cannot be evaluated {where}")
        if not isinstance(out, Value):
            raise TypeError(
                f"gradcheck: f must return a Value, got {type(out).__name__} {out!r:.60} "
                "(build the result from the Value arguments)"
            )
        if not math.isfinite(out.data):
            raise ValueError(f"gradcheck: f is {out.data!r} {where}; it must be finite there")
        return xs, out

    def value(self, i: int, t: float) -> float:
        return self.at(i, t)[1].data

    def gradient(self, i: int, t: float) -> list[float]:
        xs, out = self.at(i, t)
        what = f"the backward pass fails {self.where(i, t)}"
        return list(with_context("gradcheck", lambda: grad(out, xs), what))


def gradcheck(
    f: Callable[..., Any],
    inputs: Iterable[float | Value],
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    order: int = 1,
) -> GradcheckResult:
    """Compare ``f``'s analytic derivatives at ``inputs`` with finite differences.

    ``inputs`` are numbers (a ``Value`` stands for its ``.data``); ``f`` takes one ``Value``
    per input and returns a ``Value``. Each df/dx_i from the backward pass is compared with
    the central difference ``(f(x+eps) - f(x-eps)) / 2eps`` and passes if
    ``|analytic - numeric| <= atol + rtol * |numeric|``. With ``order=2`` every second
    derivative d²f/dx_i dx_j from ``grad(..., create_graph=True)`` is also compared with the
    central difference of the first-order gradient. At a kink (``relu(x)`` at 0) the verdict
    is "not differentiable here" rather than a mismatch, provided the analytic value lies
    between the one-sided slopes. The defaults (PyTorch's) suit values and derivatives of
    order 1: eps = 1e-6 balances the ``eps^2 f'''/6`` truncation error against the
    ``1e-16 |f| / eps`` rounding error, and rtol = 1e-3 lets a 0.1% error pass, so give
    tighter tolerances (``rtol=1e-6``) to catch subtler mistakes. Where the step is below the
    float resolution at the point (``eps=1e-16``, or the default step at ``|x| >= 1e10``) the
    difference cannot resolve the derivative and the verdict is "cannot be checked at this
    step", never "ok": scale ``eps`` to the point. No ``.grad`` is touched. Returns a
    :class:`GradcheckResult`, truthy only if everything matched.
    """
    tol = read_tolerance("gradcheck", eps, atol, rtol)
    if isinstance(order, bool) or order not in (1, 2):
        raise ValueError(f"gradcheck: order must be 1 or 2, got {order!r}")
    point = _point("gradcheck", inputs)
    names = _input_names(f, len(point))
    if not grad_enabled():
        raise ValueError("gradcheck: called inside no_grad(), where no graph can be recorded")
    fn = _Function(f, names, point)
    n = len(point)
    with gc_paused():
        xs, out = fn.at(0, 0.0)
        first = with_context(
            "gradcheck", lambda: grad(out, xs), "the backward pass fails at the point"
        )
        gradient = []
        for i in range(n):
            estimate = check_derivative(first[i], partial(fn.value, i), point[i], out.data, tol)
            gradient.append(make_check(f"df/d{names[i]}", first[i], estimate))
        hessian = _hessian(fn, xs, out, first, tol) if order == 2 else None
    return GradcheckResult(names, point, gradient, hessian, tol)


def _hessian(
    fn: _Function, xs: list[Value], out: Value, first: list[float], tol: Tolerance
) -> list[list[Check]]:
    # analytic: grad of each first derivative's own graph; numeric: central differences of
    # the (already checked) first-order gradient along each input
    rows = with_context(
        "gradcheck",
        lambda: [grad(g, xs) for g in grad(out, xs, create_graph=True)],
        "the second-order backward pass fails at the point",
    )
    cache: dict[tuple[int, float], list[float]] = {}

    def shifted(j: int, t: float) -> list[float]:
        if (j, t) not in cache:
            cache[j, t] = fn.gradient(j, t)
        return cache[j, t]

    hessian = []
    for i, row in enumerate(rows):
        checks = []
        for j, analytic in enumerate(row):

            def phi(t: float, i: int = i, j: int = j) -> float:
                return shifted(j, t)[i]

            label = f"d²f/d{fn.names[i]} d{fn.names[j]}"
            estimate = check_derivative(analytic, phi, fn.point[j], first[i], tol)
            checks.append(make_check(label, analytic, estimate))
        hessian.append(checks)
    return hessian
