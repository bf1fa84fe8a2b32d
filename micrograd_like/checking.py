"""Gradient checking: every analytic derivative against finite differences, per input or per node.

Two entry points share one comparison:

* :func:`gradcheck` checks a function's gradient (and, with ``order=2``, its Hessian) at a
  point, like PyTorch's ``gradcheck`` and autograd's ``check_grads``;
* :func:`check_graph` checks d output / d node for every node of an existing graph, so a wrong
  derivative rule is pinned to the node that applies it.

The comparison of one derivative (``_derivative``): the central difference
``(f(x+h) - f(x-h)) / 2h`` (error ``h^2 f'''/6``) is compared with the analytic value within
``atol + rtol * |numeric|``. Before that, the one-sided slopes ``(f(x+h) - f(x)) / h`` and
``(f(x) - f(x-h)) / h`` are compared: at a smooth point they differ by ``h f''(x)``, which
shrinks with ``h``; at a kink (``relu`` or ``abs`` at 0) they differ by the jump in the
derivative, which does not. Only a gap that survives a ten times smaller step, well above
rounding noise, is a kink, and even then the analytic value must lie between the two slopes
(a subgradient), so a wrong derivative at a smooth point is never excused as a kink.
"""

from __future__ import annotations

import html
import inspect
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, NamedTuple, TypeVar

from micrograd_like._validate import a_value, count, real
from micrograd_like.engine import Value, gc_paused, grad_enabled, topological_order
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

OK = "ok"
MISMATCH = "mismatch"
KINK = "not differentiable here"
# the step is below the float resolution at the point, or rounding swamps the derivative
UNRESOLVED = "cannot be checked at this step"
# check_graph: a node between this one and the output has no forward to re-evaluate
UNCHECKABLE = "not checkable"
# verdicts that make a result falsy: the derivative is wrong, or could not be verified
FAILING = (MISMATCH, UNRESOLVED, UNCHECKABLE)
# each verdict's fill in tables and diagrams: light, with dark text, in light and dark themes
VERDICT_COLOURS = {
    OK: "#d3f9d8",
    MISMATCH: "#ffc9c9",
    KINK: "#ffe8cc",
    UNRESOLVED: "#e5dbff",
    UNCHECKABLE: "#e9ecef",
}

_DOMAIN_ERRORS = (ValueError, ZeroDivisionError, OverflowError)
# f(x), f(x+h), f(x-h) each carry a few ulps of rounding; a one-sided slope can therefore be
# off by about this times max|f| / h without any error in f
_ROUNDING = 8 * 2.0**-52
_SHRINK = 10.0  # the second, finer step is h / _SHRINK
# A pass may rest on rounding allowance beyond the tolerance only up to _LOOSEN times the
# tolerance or _RESOLUTION of the derivative, whichever is larger; past both the difference
# cannot tell a right derivative from a 50% wrong one
_LOOSEN = 10.0
_RESOLUTION = 0.01
_TABLE_ROWS = 100  # a longer table shows only the checks that are not ok

Phi = Callable[[float], float]


class GradcheckError(AssertionError):
    """Raised by ``raise_if_failed`` when an analytic derivative disagrees with finite differences.

    It is an ``AssertionError`` because a failed check is a failed assertion about the code
    under test: pytest reports it as a test failure with the full message, which lists every
    mismatch with its numerical and analytical value.
    """


@dataclass(frozen=True)
class _Tolerance:
    eps: float
    atol: float
    rtol: float

    def allowed(self, reference: float) -> float:
        return self.atol + self.rtol * abs(reference)

    def text(self) -> str:
        return f"eps={self.eps:g}, atol={self.atol:g}, rtol={self.rtol:g}"


def _tolerance(where: str, eps: object, atol: object, rtol: object) -> _Tolerance:
    return _Tolerance(
        real(eps, f"{where}: eps", above=0.0),
        real(atol, f"{where}: atol", at_least=0.0),
        real(rtol, f"{where}: rtol", at_least=0.0),
    )


@dataclass(frozen=True)
class Check:
    """One analytic derivative next to its finite-difference estimate, and the verdict.

    ``label`` names the derivative (``df/dx``, ``d²f/dx dy``). ``abs_err`` is
    ``|analytic - numeric|`` and ``rel_err`` is that over ``|numeric|``. ``verdict`` is
    :data:`OK`, :data:`MISMATCH`, :data:`KINK`, :data:`UNRESOLVED` or :data:`UNCHECKABLE`; for
    a kink ``one_sided`` holds the left and right slopes (``None`` otherwise) and ``numeric``
    is the central difference between them. ``allowed`` is the largest ``abs_err`` that
    passes: ``atol + rtol * |numeric|`` plus the rounding noise of the central difference
    itself (a few ulps of ``f`` over the step), so a check never demands more precision than
    finite differences can give. Where that noise exceeds ten times the tolerance and 1% of the
    derivative (a step near the float spacing at the point, ``eps=1e-16`` or ``|x| >= 1e10``
    with the default step), agreement proves nothing and the verdict is :data:`UNRESOLVED`
    ("cannot be checked at this step"); a step that vanishes (``x + eps == x``) gives it too,
    with ``numeric`` NaN. A disagreement beyond even that noise is still a mismatch.
    """

    label: str
    analytic: float
    numeric: float
    abs_err: float
    rel_err: float
    verdict: str
    one_sided: tuple[float, float] | None
    allowed: float


@dataclass(frozen=True)
class NodeCheck(Check):
    """The check of one graph node: ``analytic`` is d output / d ``node`` from the backward pass.

    ``position`` is the node's index in ``topological_order(output)`` (inputs first), which
    the printed table shows as ``#position``.
    """

    node: Value
    position: int


def _errors(analytic: float, numeric: float) -> tuple[float, float]:
    abs_err = abs(analytic - numeric)
    if numeric != 0.0:
        return abs_err, abs_err / abs(numeric)
    return abs_err, 0.0 if abs_err == 0.0 else math.inf


def _slopes(phi: Phi, x0: float, f0: float, h: float) -> tuple[float, float, float, float] | None:
    """Left and right slopes, the central difference, and the rounding noise of a slope.

    The steps are the ones the floats actually take: ``x0 + h`` rounds to a neighbour of
    ``x0``, so the step up is ``(x0 + h) - x0`` (exact) and the step down likewise; dividing
    by ``h`` instead would be wrong by up to a factor of two where ``h`` is near the float
    spacing at ``x0``. ``None`` if a step vanishes (``x0 + h == x0``).
    """
    up, down = (x0 + h) - x0, x0 - (x0 - h)
    if not (up > 0.0 and down > 0.0):
        return None
    fm, fp = phi(-down), phi(up)
    noise = _ROUNDING * max(abs(f0), abs(fm), abs(fp)) / min(up, down)
    return (f0 - fm) / down, (fp - f0) / up, (fp - fm) / (up + down), noise


class _Estimate(NamedTuple):
    numeric: float
    verdict: str
    sides: tuple[float, float] | None  # the one-sided slopes at a kink
    allowed: float  # the largest |analytic - numeric| that passes


def _derivative(analytic: float, phi: Phi, x0: float, f0: float, tol: _Tolerance) -> _Estimate:
    """Compare ``analytic`` with the finite-difference estimate of d phi / dt at t = 0.

    ``phi(t)`` is the function with one coordinate, ``x0`` at the point, moved by ``t``;
    ``f0 = phi(0)``.
    """
    coarse = _slopes(phi, x0, f0, tol.eps)
    if coarse is None:  # x0 + eps == x0: no difference can be formed at all
        return _Estimate(math.nan, UNRESOLVED, None, math.inf)
    left, right, numeric, noise = coarse
    gap = right - left
    fine = None
    if abs(gap) > tol.allowed(max(abs(left), abs(right))) + 2.0 * noise:
        # the slopes part: curvature (the gap is h f'' and shrinks with h), a kink within h
        # of the point (the finer step no longer sees it), or a kink at the point itself
        fine = _slopes(phi, x0, f0, tol.eps / _SHRINK)
    if fine is not None:
        left, right, numeric, noise = fine
        fine_gap = right - left
        if (
            abs(fine_gap) > tol.allowed(max(abs(left), abs(right))) + 2.0 * noise
            and fine_gap * gap > 0.0
            and abs(fine_gap) > 0.5 * abs(gap)
        ):
            # the jump stays as the step shrinks: not differentiable here. The analytic value
            # must still be a subgradient, between the one-sided slopes.
            lo, hi = min(left, right), max(left, right)
            inside = lo - tol.allowed(lo) <= analytic <= hi + tol.allowed(hi)
            allowed = tol.allowed(numeric) + 0.5 * noise
            return _Estimate(numeric, KINK if inside else MISMATCH, (left, right), allowed)
    estimate = _judge(analytic, numeric, noise, tol)
    if fine is not None and estimate.verdict == UNRESOLVED:
        # the finer step (taken to look for a kink) has ten times the rounding noise; with no
        # kink found, the ordinary step may still resolve the derivative
        estimate = _judge(analytic, coarse[2], coarse[3], tol)
    return estimate


def _judge(analytic: float, numeric: float, noise: float, tol: _Tolerance) -> _Estimate:
    """The verdict on ``analytic`` next to a central difference ``numeric`` at a smooth point."""
    # the central difference carries half a one-sided slope's rounding noise
    rounding = 0.5 * noise
    allowed = tol.allowed(numeric) + rounding
    if not abs(analytic - numeric) <= allowed:  # True for NaN
        return _Estimate(numeric, MISMATCH, None, allowed)
    # Agreement only counts if the difference resolves the derivative: where the step is near
    # the float spacing at the point (or f is huge next to its change), rounding alone could
    # excuse an error as large as the derivative. A pass that rests on far more rounding
    # allowance than the tolerance asked for and than _RESOLUTION of the derivative proves
    # nothing.
    if rounding > max(
        _LOOSEN * tol.allowed(numeric), _RESOLUTION * max(abs(numeric), abs(analytic))
    ):
        return _Estimate(numeric, UNRESOLVED, None, allowed)
    return _Estimate(numeric, OK, None, allowed)


def _num(x: float) -> str:
    return f"{x:.10g}"


def _err(x: float) -> str:
    return f"{x:.1e}"


def _verdict_text(c: Check) -> str:
    if c.one_sided is None:
        return c.verdict
    left, right = c.one_sided
    return f"{c.verdict} (slopes {_num(left)} | {_num(right)})"


C = TypeVar("C", bound=Check)


class _Report(Generic[C]):
    """What both results share: truthiness, mismatches, the table as text and HTML, raising."""

    checks: list[C]
    _tol: _Tolerance
    _columns: tuple[str, ...] = ("derivative",)
    _what = "derivative"

    def __bool__(self) -> bool:
        return not any(c.verdict in FAILING for c in self.checks)

    def mismatches(self) -> list[C]:
        """Every check whose analytic and numeric values disagree, in table order."""
        return [c for c in self.checks if c.verdict == MISMATCH]

    def kinks(self) -> list[C]:
        """Every check at a point where the function is not differentiable."""
        return [c for c in self.checks if c.verdict == KINK]

    def unverified(self) -> list[C]:
        """Every derivative finite differences could not verify, right or wrong, in table order.

        Their verdict is :data:`UNRESOLVED` (the step is below the float resolution at the
        point, or rounding noise is as large as the derivative: a larger ``eps`` may do) or
        :data:`UNCHECKABLE` (``check_graph``: a node on the way to the output has no forward to
        re-evaluate). Any of them makes the result falsy.
        """
        return [c for c in self.checks if c.verdict in (UNRESOLVED, UNCHECKABLE)]

    def _title(self) -> str:
        raise NotImplementedError

    def _cells(self, c: C) -> list[str]:
        return [c.label]

    def _notes(self) -> list[str]:
        return []

    def _mismatch_heading(self, c: C) -> str:
        return f"mismatch for {c.label}"

    def summary(self) -> str:
        """One line: passed or failed, how many derivatives, where, with which tolerances."""
        n = len(self.checks)
        order = (MISMATCH, UNRESOLVED, UNCHECKABLE, OK, KINK)
        counts = [(sum(c.verdict == v for c in self.checks), v) for v in order]
        head = "passed" if self else "FAILED" if self.mismatches() else "NOT VERIFIED"
        what = self._what + ("" if n == 1 else "s")
        tally = ", ".join(f"{k} {v}" for k, v in counts if k)
        return f"{self._title()} {head}: {n} {what}, {tally} ({self._tol.text()})"

    def _shown(self) -> list[C]:
        if len(self.checks) <= _TABLE_ROWS:
            return self.checks
        return [c for c in self.checks if c.verdict != OK]

    def _rows(self, shown: list[C]) -> list[list[str]]:
        return [
            [
                *self._cells(c),
                _num(c.analytic),
                _num(c.numeric),
                _err(c.abs_err),
                _err(c.rel_err),
                _verdict_text(c),
            ]
            for c in shown
        ]

    def _headers(self) -> list[str]:
        return [*self._columns, "analytic", "numeric", "abs err", "rel err", "verdict"]

    def __str__(self) -> str:
        shown = self._shown()
        rows, hidden = self._rows(shown), len(self.checks) - len(shown)
        table = [self._headers(), *rows]
        widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
        lines = [self.summary(), *self._notes()]
        lines += [
            "  ".join(s.ljust(w) for s, w in zip(r, widths, strict=True)).rstrip() for r in table
        ]
        if hidden:
            lines.append(f"... and {hidden} more with verdict ok")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.summary()}>"

    def _repr_html_(self) -> str:
        """The table as HTML for Jupyter, every cell escaped, each row coloured by its verdict."""
        esc = html.escape
        shown = self._shown()
        rows, hidden = self._rows(shown), len(self.checks) - len(shown)
        head = "".join(f"<th>{esc(h)}</th>" for h in self._headers())
        body = "".join(
            f'<tr style="background:{VERDICT_COLOURS[c.verdict]};color:#1f2328">'
            + "".join(f"<td>{esc(s)}</td>" for s in row)
            + "</tr>"
            for c, row in zip(shown, rows, strict=True)
        )
        notes = "".join(f"<p>{esc(n)}</p>" for n in self._notes())
        more = f"<p>... and {hidden} more with verdict ok</p>" if hidden else ""
        return (
            f"<div><p><b>{esc(self.summary())}</b></p>{notes}"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}</div>"
        )

    def _unverified_reason(self, c: C) -> str:
        if c.verdict == UNCHECKABLE:
            return "a node between it and the output has no forward to re-evaluate (see above)"
        if math.isnan(c.numeric):
            return (
                f"the step eps={self._tol.eps:g} is below the float resolution at the point "
                "(x + eps == x); use a larger eps, about 1e-6 times |x|"
            )
        return (
            f"rounding noise of the difference would excuse an error of {_err(c.allowed)}, "
            "ten times the tolerance and more than 1% of the derivative; the step is too "
            "small for the size of the numbers: use a larger eps, about 1e-6 times |x|"
        )

    def raise_if_failed(self) -> None:
        """Raise :class:`GradcheckError` listing every mismatch and every derivative that could
        not be verified; do nothing if the check passed."""
        if self:
            return
        lines = [self.summary(), *self._notes()]
        for c in self.unverified():
            lines.append(f"{c.label} {c.verdict}: {self._unverified_reason(c)}")
        for c in self.mismatches():
            lines.append(f"{self._mismatch_heading(c)}:")
            lines.append(f"  numerical:  {c.numeric!r}")
            lines.append(f"  analytical: {c.analytic!r}")
            if c.one_sided is not None:
                left, right = c.one_sided
                lines.append(
                    f"  (not differentiable here: one-sided slopes {left!r} and {right!r}, "
                    "and the analytical value is not between them)"
                )
            else:
                lines.append(
                    f"  (abs err {_err(c.abs_err)} > allowed {_err(c.allowed)}:"
                    " atol + rtol * |numerical| + rounding noise of the difference)"
                )
        raise GradcheckError("\n".join(lines))


# ----------------------------------------------------------------------------- gradcheck


class GradcheckResult(_Report[Check]):
    """What :func:`gradcheck` returns: truthy only if every derivative matched (kinks allowed).

    ``gradient`` holds one :class:`Check` per input; ``hessian`` (with ``order=2``) holds
    ``hessian[i][j]`` for d²f / dx_i dx_j, else ``None``; ``checks`` is all of them in table
    order. ``print(result)`` shows the table, Jupyter shows it as HTML, and
    :meth:`raise_if_failed` turns a failure into an error listing every mismatch.
    """

    def __init__(
        self,
        names: Sequence[str],
        point: Sequence[float],
        gradient: list[Check],
        hessian: list[list[Check]] | None,
        tolerance: _Tolerance,
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


def _with_context(where: str, run: Callable[[], Any], what: str) -> Any:
    # domain errors at a shifted point or in a backward pass become one clear ValueError
    try:
        return run()
    except _DOMAIN_ERRORS as err:
        raise ValueError(f"{where}: {what}: {type(err).__name__}: {err}") from err


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
        out = _with_context("gradcheck", lambda: self.f(*xs), f"f cannot be evaluated {where}")
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
        return list(_with_context("gradcheck", lambda: grad(out, xs), what))


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
    tighter tolerances (``rtol=1e-6``) to catch subtler mistakes. No ``.grad`` is touched.
    Returns a :class:`GradcheckResult`, truthy only if everything matched.
    """
    tol = _tolerance("gradcheck", eps, atol, rtol)
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
        first = _with_context(
            "gradcheck", lambda: grad(out, xs), "the backward pass fails at the point"
        )
        gradient = []
        for i in range(n):
            estimate = _derivative(first[i], partial(fn.value, i), point[i], out.data, tol)
            gradient.append(_make(f"df/d{names[i]}", first[i], estimate))
        hessian = _hessian(fn, xs, out, first, tol) if order == 2 else None
    return GradcheckResult(names, point, gradient, hessian, tol)


def _hessian(
    fn: _Function, xs: list[Value], out: Value, first: list[float], tol: _Tolerance
) -> list[list[Check]]:
    # analytic: grad of each first derivative's own graph; numeric: central differences of
    # the (already checked) first-order gradient along each input
    rows = _with_context(
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
            estimate = _derivative(analytic, phi, fn.point[j], first[i], tol)
            checks.append(_make(label, analytic, estimate))
        hessian.append(checks)
    return hessian


def _make(label: str, analytic: float, e: _Estimate) -> Check:
    return Check(
        label, analytic, e.numeric, *_errors(analytic, e.numeric), e.verdict, e.sides, e.allowed
    )


# ----------------------------------------------------------------------------- check_graph


# One node's re-evaluation: (position, forward, a, b, general). A unary or binary op without
# params reads w[a] (and w[b]; b < 0 for unary); any other op has general = (parents, params).
_Step = tuple[int, Callable[..., float], int, int, tuple[tuple[int, ...], tuple[float, ...]] | None]


class _Graph:
    """A graph flattened in topological order, re-evaluable downstream of any one node."""

    def __init__(self, order: list[Value]) -> None:
        self.order = order
        position = {v: k for k, v in enumerate(order)}
        self.base = [v.data for v in order]
        self.parents: list[tuple[int, ...]] = []
        self.steps: list[_Step | None] = []
        self.consumers: list[list[int]] = [[] for _ in order]
        # a node with an op but no forward (built micrograd-style, with an op string that
        # names no table op) cannot be re-evaluated, so nothing before it can be checked
        self.opaque = bytearray(len(order))
        for k, v in enumerate(order):
            parents = tuple(position[p] for p in v.parents)
            self.parents.append(parents)
            op = v.primitive
            if op is None:
                self.steps.append(None)
                continue
            for p in dict.fromkeys(parents):
                self.consumers[p].append(k)
            if op.forward is None:
                self.opaque[k] = 1
                self.steps.append(None)
            elif op.params or len(parents) > 2:
                self.steps.append((k, op.forward, 0, 0, (parents, op.params)))
            else:
                b = parents[1] if len(parents) == 2 else -1
                self.steps.append((k, op.forward, parents[0], b, None))

    def verify(self) -> None:
        """Check every node's data is finite and is what its op gives from its parents' data.

        A micrograd-style node computed its data with the user's own formula, which may differ
        from the table op its op string names by a few ulps (the engine matched them to 1e-9);
        ``base`` then takes the forward's values, so that every shifted re-evaluation is
        compared with the same arithmetic at the point.
        """
        w = self.base.copy()
        rebase = False
        for k, v in enumerate(self.order):
            if not math.isfinite(v.data):
                raise ValueError(f"check_graph: node {_name(v, k)} is {v.data!r}, not finite")
            step = self.steps[k]
            if step is None:
                continue
            try:
                again: object = self.run([step], w, k, 0.0)
            except ValueError as err:  # the inputs now lie outside the op's domain
                again = f"an error ({err.__cause__ or err})"
            if (
                v.primitive is not None
                and v.primitive.closure is not None
                and isinstance(again, float)
                and math.isclose(again, v.data, rel_tol=1e-9, abs_tol=1e-300)
            ):
                rebase = rebase or again != v.data
                w[k] = v.data  # later nodes are compared with what they were computed from
                continue
            if again != v.data:
                raise ValueError(
                    f"check_graph: node {_name(v, k)} holds {v.data!r} but its op gives "
                    f"{again!s} from its inputs; was a .data changed after the graph was "
                    "built? Rebuild the graph, then check it"
                )
        if rebase:
            self.rebase()

    def plan(self, k: int) -> tuple[list[_Step], int | None]:
        """The re-evaluation steps of every node that depends on node k, in topological order,
        and the first of them with no forward (``None`` if all have one: then k is checkable)."""
        consumers = self.consumers
        seen = bytearray(len(self.order))
        stack, found = [k], []
        while stack:
            for c in consumers[stack.pop()]:
                if not seen[c]:
                    seen[c] = 1
                    found.append(c)
                    stack.append(c)
        found.sort()
        opaque = self.opaque
        blocked = next((j for j in found if opaque[j]), None)
        steps = self.steps
        return [steps[j] for j in found if not opaque[j]], blocked  # type: ignore[misc]

    def rebase(self) -> None:
        """Recompute every node's base value with the ops' forwards, from the leaves."""
        w = self.base
        for step in self.steps:
            if step is not None:
                self.run([step], w, step[0], 0.0)

    def shifted(self, k: int, plan: list[_Step], t: float) -> float:
        """The output's value when node k is moved by t; ``plan`` is ``self.plan(k)``."""
        w = self.base.copy()
        w[k] += t
        return self.run(plan, w, k, t) if plan else w[k]

    def run(self, plan: list[_Step], w: list[float], k: int, t: float) -> float:
        """Recompute the nodes of ``plan`` in ``w``; return the last (errors say node k moved)."""
        j = k
        try:
            for j, fwd, a, b, general in plan:
                if general is not None:
                    w[j] = fwd(*[w[p] for p in general[0]], *general[1])
                elif b < 0:
                    w[j] = fwd(w[a])
                else:
                    w[j] = fwd(w[a], w[b])
        except _DOMAIN_ERRORS as err:
            raise ValueError(
                f"check_graph: moving node {_name(self.order[k], k)} by {t:+g} takes node "
                f"{_name(self.order[j], j)} out of its op's domain ({err}); use a smaller eps"
            ) from err
        out = float(w[j])
        if not math.isfinite(out):
            raise ValueError(
                f"check_graph: moving node {_name(self.order[k], k)} by {t:+g} makes node "
                f"{_name(self.order[j], j)} {out!r}; use a smaller eps"
            )
        return out

    def local(self, c: int, p: int, tol: _Tolerance) -> Check:
        """Check d node_c / d node_p from c's own rule against c's forward alone."""
        # a parent used twice (x * x) contributes through both slots
        rule = self.order[c].local_grads()
        analytic = math.fsum(d for q, d in zip(self.parents[c], rule, strict=True) if q == p)
        estimate = _derivative(
            analytic,
            partial(self.shifted, p, [self.steps[c]]),  # type: ignore[list-item]
            self.base[p],
            self.base[c],
            tol,
        )
        return _make(f"d#{c}/d#{p}", analytic, estimate)


def _name(v: Value, k: int) -> str:
    what = v.primitive.describe() if v.primitive is not None else "leaf"
    label = f" {v.label!r}" if v.label else ""
    return f"#{k}{label} ({what})"


class GraphCheckResult(_Report[NodeCheck]):
    """What :func:`check_graph` returns: a :class:`NodeCheck` for every node of the graph.

    ``nodes`` maps each node (by identity) to its check and ``checks`` lists them in
    topological order. Truthy iff no node mismatches (kinks allowed). :meth:`first_mismatch`
    names the node whose derivative rule is to blame. Printing, ``_repr_html_`` and
    :meth:`raise_if_failed` work as for :class:`GradcheckResult`.
    """

    _columns = ("node", "data")
    _what = "node gradient"

    def __init__(
        self,
        output: Value,
        checks: list[NodeCheck],
        blame: tuple[NodeCheck, NodeCheck, Check | None] | None,
        tolerance: _Tolerance,
        *,
        opaque: Sequence[NodeCheck] = (),
    ) -> None:
        self.output = output
        self.checks = checks
        self.nodes: dict[Value, NodeCheck] = {c.node: c for c in checks}
        self._tol = tolerance
        self._blame = blame
        self._opaque = tuple(opaque)

    def opaque(self) -> list[NodeCheck]:
        """The checks of the nodes with no forward to re-evaluate, which make every node before
        them :data:`UNCHECKABLE`.

        Such a node was built micrograd-style (``Value(f(x.data), (x,), 'f')`` with a
        ``_backward`` closure) under an op string that names no table op giving its data, so
        finite differences cannot pass through it. ``gradcheck`` of the function that builds
        the graph checks it (it re-runs the whole function); naming the op as the table does
        (``'tanh'``, ``'exp'``, ``'**2'``) lets ``check_graph`` check it node by node.
        """
        return list(self._opaque)

    def first_mismatch(self) -> NodeCheck | None:
        """Return the check of the node to blame for the first wrong gradient, or ``None``.

        The backward pass runs from the output towards the inputs, so a wrong derivative rule
        first shows up in the gradient of that op's *inputs*: the mismatching node closest to
        the output has only correct gradients downstream of it, and among the nodes it feeds,
        the one whose local derivative disagrees with a finite difference of its own forward
        is the culprit. This returns that culprit (its op is ``.node.primitive``; its own
        gradient agrees, the error enters on the way to its inputs), or the mismatching node
        itself if no single rule can be blamed.
        """
        return None if self._blame is None else self._blame[0]

    def _title(self) -> str:
        return f"check_graph of {_name(self.output, len(self.checks) - 1)}:"

    def _cells(self, c: NodeCheck) -> list[str]:
        return [_name(c.node, c.position), _num(c.node.data)]

    def _mismatch_heading(self, c: NodeCheck) -> str:
        return f"Gradient mismatch for d output / d {_name(c.node, c.position)}"

    def _notes(self) -> list[str]:
        notes = [
            f"node {_name(c.node, c.position)} was built with a _backward closure and has no "
            "forward to re-evaluate (its op string names no table op that gives its data), "
            "so the nodes before it are not checkable here: check the function that builds "
            "the graph with gradcheck, or spell the op as the table does"
            for c in self._opaque
        ]
        return notes + self._blame_notes()

    def _blame_notes(self) -> list[str]:
        if self._blame is None:
            return []
        culprit, victim, local = self._blame
        if local is None:
            return [
                f"first mismatch: node {_name(victim.node, victim.position)}; no single "
                "derivative rule of the nodes it feeds disagrees with its forward"
            ]
        op = culprit.node.primitive
        if op is not None and op.closure is not None:
            fix = f"Check the _backward closure of node #{culprit.position}."
        else:
            fix = f"Check the derivative of op {op.name if op else '?'!r}."
        return [
            f"first mismatch: node {_name(culprit.node, culprit.position)} is to blame: its "
            f"derivative rule gives d#{culprit.position}/d#{victim.position} = "
            f"{_num(local.analytic)}, finite differences of its forward give "
            f"{_num(local.numeric)}; the gradients of #{victim.position} and of everything "
            f"before it are wrong. {fix}"
        ]


def check_graph(
    output: Value,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    max_nodes: int | None = 5000,
) -> GraphCheckResult:
    """Check d ``output`` / d node for every node of ``output``'s graph against finite differences.

    The analytic value is what the engine's backward pass computes (``functional.grad``; no
    ``.grad`` is touched). The numeric value moves that one node's value by ``±eps`` and
    re-evaluates only the nodes downstream of it, in topological order, with their ops'
    forwards and params; nothing in the graph is modified. The verdicts follow
    :func:`gradcheck`. Each node costs a few re-evaluations of its downstream part, so time
    grows with nodes × depth; graphs over ``max_nodes`` nodes are refused (``None`` lifts the
    limit). Returns a :class:`GraphCheckResult`.
    """
    a_value(output, "check_graph: output")
    tol = _tolerance("check_graph", eps, atol, rtol)
    if max_nodes is not None:
        max_nodes = count(max_nodes, "check_graph: max_nodes", or_none=True, wrong_type=ValueError)
    order = topological_order(output)
    if max_nodes is not None and len(order) > max_nodes:
        raise ValueError(
            f"check_graph: the graph has {len(order)} nodes, more than max_nodes={max_nodes}; "
            "each node's check re-evaluates everything downstream of it, so the time grows "
            "with nodes x depth. Pass max_nodes=None (or a larger number) to check it anyway"
        )
    graph = _Graph(order)
    graph.verify()
    with gc_paused():
        analytic = _with_context(
            "check_graph", lambda: grad(output, order), "the backward pass fails"
        )
        checks: list[NodeCheck] = []
        blocking: set[int] = set()
        for k, v in enumerate(order):
            plan, blocked = graph.plan(k)
            label = f"d out/d#{k}"
            if blocked is not None:
                blocking.add(blocked)
                nan = math.nan
                checks.append(
                    NodeCheck(label, analytic[k], nan, nan, nan, UNCHECKABLE, None, nan, v, k)
                )
                continue
            phi = partial(graph.shifted, k, plan)
            e = _derivative(analytic[k], phi, graph.base[k], graph.base[-1], tol)
            errs = _errors(analytic[k], e.numeric)
            checks.append(
                NodeCheck(label, analytic[k], e.numeric, *errs, e.verdict, e.sides, e.allowed, v, k)
            )
        blame = _blame(graph, checks, tol)
    opaque = [checks[j] for j in sorted(blocking)]
    return GraphCheckResult(output, checks, blame, tol, opaque=opaque)


def _blame(
    graph: _Graph, checks: list[NodeCheck], tol: _Tolerance
) -> tuple[NodeCheck, NodeCheck, Check | None] | None:
    """(culprit, the mismatching node it feeds wrongly, the culprit's local check) or None."""
    bad = [c for c in checks if c.verdict == MISMATCH]
    if not bad:
        return None
    victim = bad[-1]  # closest to the output: every node after it is right
    for c in graph.consumers[victim.position]:
        if graph.opaque[c]:  # no forward to difference: its rule cannot be judged
            continue
        local = graph.local(c, victim.position, tol)
        if local.verdict == MISMATCH:
            return checks[c], victim, local
    return victim, victim, None
