"""The engine's gradients: every op and random graphs, against finite differences and mpmath.

Tolerances, and why
-------------------
* ``FD`` (engine vs central finite differences, eps = 1e-6): ``atol = rtol = 1e-6``. The
  central difference errs by ``eps^2 |f'''| / 6`` (truncation, ~1e-12 here) plus
  ``~1e-16 |f| / eps`` (rounding, ~1e-8 for the |f| <= 100 that the test domains allow);
  measured worst over 5000 random graphs: 1.7e-8 * (1 + |numeric|). 1e-6 keeps a x50 margin
  and is still a thousand times tighter than gradcheck's defaults, so a rule off by 0.05%
  (``2.001 * x`` for ``2 * x``) fails.
* ``MP_TOL`` (engine vs mpmath at 50 digits): ``|analytic - exact| <= 1e-11 * max(1, |exact|)``.
  mpmath's derivative is exact to far beyond double precision, so the difference is the
  engine's own float rounding; measured worst: 4.3e-15 (second derivatives of 12-op graphs).
  1e-11 is ~40 bits of agreement out of 52, a x2000 margin for rounding that grows with depth
  and cancellation; any wrong rule is off by far more.
* ``EXACT`` (engine vs closed-form derivative, both in floats): ``rel 1e-12, abs 1e-14``: the
  two compute the same formula in a few float operations, so they differ by a few ulps.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from mpmath import mp

from micrograd_like.checking import KINK, GradcheckError, gradcheck
from micrograd_like.engine import Value
from micrograd_like.functional import dot, grad, logsumexp, vsum
from micrograd_like.ops import OPS, Op
from micrograd_like.testing import (
    Expression,
    assert_gradients_match,
    domain,
    expressions,
    kink_samples,
    op_samples,
    temporary_op,
)

FD: dict[str, Any] = {"eps": 1e-6, "atol": 1e-6, "rtol": 1e-6}
MP_DIGITS = 50
MP_TOL = 1e-11
EXACT = {"rel_tol": 1e-12, "abs_tol": 1e-14}

ALL_OPS = sorted(OPS)  # collected once: a newly added op is picked up by every test below


# ----------------------------------------------------------------------------- mpmath reference
# An independent forward for each op, from mpmath's own functions and the textbook definition
# (not our float forwards, which use stable rearrangements such as log1p for softplus).


def _mp_sigmoid(x: Any) -> Any:
    return 1 / (1 + mp.exp(-x))


def _mp_dot(*xs: Any) -> Any:
    n = len(xs) // 2
    return mp.fsum(w * x for w, x in zip(xs[:n], xs[n : 2 * n], strict=True)) + xs[-1]


REFERENCE: dict[str, Callable[..., Any]] = {
    "add": lambda a, b: a + b,
    "mul": lambda a, b: a * b,
    "neg": lambda a: -a,
    "pow": lambda x, c: mp.power(x, c),
    "vpow": lambda x, y: mp.power(x, y),
    "exp": mp.exp,
    "log": mp.log,
    "sqrt": mp.sqrt,
    "sin": mp.sin,
    "cos": mp.cos,
    "tanh": mp.tanh,
    "sigmoid": _mp_sigmoid,
    "softplus": lambda x: mp.log(1 + mp.exp(x)),
    "relu": lambda x: x if x > 0 else mp.zero,
    "leaky_relu": lambda x, s: x if x > 0 else s * x,
    "elu": lambda x, a: x if x > 0 else a * (mp.exp(x) - 1),
    "silu": lambda x: x * _mp_sigmoid(x),
    "abs": mp.fabs,
    "clamp": lambda x, lo, hi: min(max(x, lo), hi),
    "sum": lambda *xs: mp.fsum(xs),
    "dot": _mp_dot,
    "logsumexp": lambda *xs: mp.log(mp.fsum(mp.exp(x) for x in xs)),
}


def reference(op: Op) -> Callable[..., Any]:
    """The mpmath forward of ``op`` (params bound); a KeyError names an op without one."""
    try:
        forward = REFERENCE[op.name]
    except KeyError:
        raise KeyError(
            f"op {op.name!r} has no mpmath reference: add one to REFERENCE in {__file__}"
        ) from None
    params = [mp.mpf(p) for p in op.params]
    return lambda *xs: forward(*xs, *params)


def expression_reference(expr: Expression) -> Callable[..., Any]:
    """The whole expression evaluated with the mpmath reference of every op."""

    def f(*xs: Any) -> Any:
        return expr.evaluate(list(xs), lambda op, args: reference(op)(*args), mp.mpf)

    return f


def engine_derivatives(
    f: Callable[..., Value], point: Sequence[float], order: int
) -> tuple[list[float], list[list[float]]]:
    """The engine's gradient and (order 2) Hessian of ``f`` at ``point``."""
    xs = [Value(x) for x in point]
    out = f(*xs)
    first = grad(out, xs)
    second = [grad(g, xs) for g in grad(out, xs, create_graph=True)] if order == 2 else []
    return first, second


def assert_matches_mpmath(
    f: Callable[..., Value], ref: Callable[..., Any], point: Sequence[float], order: int
) -> None:
    """Every first (and second) partial derivative of ``f`` equals mpmath.diff of ``ref``."""
    first, second = engine_derivatives(f, point, order)
    n = len(point)
    with mp.workdps(MP_DIGITS):
        x = [mp.mpf(p) for p in point]

        def check(analytic: float, counts: list[int], what: str) -> None:
            exact = mp.diff(ref, x, tuple(counts))
            if not abs(analytic - exact) <= MP_TOL * max(1, abs(exact)):
                raise AssertionError(
                    f"{what} at {tuple(point)}: engine {analytic!r}, mpmath {mp.nstr(exact, 20)}"
                )

        for i in range(n):
            check(first[i], [int(k == i) for k in range(n)], f"d/dx{i}")
        for i in range(n if second else 0):
            for j in range(i, n):
                counts = [int(k == i) + int(k == j) for k in range(n)]
                check(second[i][j], counts, f"d²/dx{i} dx{j}")
                check(second[j][i], counts, f"d²/dx{j} dx{i}")


# ----------------------------------------------------------------------------- every op


@pytest.mark.parametrize("name", ALL_OPS)
def test_every_op_has_a_test_domain_and_a_reference(name: str) -> None:
    domain(name)  # KeyError: add the op to micrograd_like.testing.DOMAINS
    reference(OPS[name])  # KeyError: add the op to REFERENCE above
    assert op_samples(name)


@pytest.mark.parametrize("name", ALL_OPS)
def test_every_op_matches_finite_differences_to_second_order(name: str) -> None:
    for op, point in op_samples(name):
        assert_gradients_match(op, point, order=2, **FD)


@pytest.mark.parametrize("name", ALL_OPS)
def test_every_op_matches_mpmath_to_second_order(name: str) -> None:
    for op, point in op_samples(name):
        assert_matches_mpmath(op, reference(op), point, order=2)


@pytest.mark.parametrize("name", ALL_OPS)
def test_kinks_of_every_op_are_reported_not_failed(name: str) -> None:
    for op, point in kink_samples(name):
        result = gradcheck(op, point)
        assert result, str(result)
        assert result.gradient[0].verdict == KINK


# ----------------------------------------------------------------------------- closed forms


def _s(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


# name: (f, f', f'') in closed form, at a few points inside the op's domain
Derivative = Callable[[float], float]
CLOSED_FORMS: dict[str, tuple[Callable[[Value], Value], Derivative, Derivative]] = {
    "sin": (Value.sin, math.cos, lambda x: -math.sin(x)),
    "cos": (Value.cos, lambda x: -math.sin(x), lambda x: -math.cos(x)),
    "exp": (Value.exp, math.exp, math.exp),
    "log": (Value.log, lambda x: 1 / x, lambda x: -1 / x**2),
    "sqrt": (Value.sqrt, lambda x: 0.5 / math.sqrt(x), lambda x: -0.25 * x**-1.5),
    "tanh": (
        Value.tanh,
        lambda x: 1 - math.tanh(x) ** 2,
        lambda x: -2 * math.tanh(x) * (1 - math.tanh(x) ** 2),
    ),
    "sigmoid": (
        Value.sigmoid,
        lambda x: _s(x) * (1 - _s(x)),
        lambda x: _s(x) * (1 - _s(x)) * (1 - 2 * _s(x)),
    ),
    # softplus' = sigmoid, softplus'' = sigmoid'
    "softplus": (Value.softplus, _s, lambda x: _s(x) * (1 - _s(x))),
    "silu": (
        Value.silu,
        lambda x: _s(x) * (1 + x * (1 - _s(x))),
        lambda x: _s(x) * (1 - _s(x)) * (2 + x * (1 - 2 * _s(x))),
    ),
    "relu": (Value.relu, lambda x: float(x > 0), lambda x: 0.0),
    "leaky_relu": (
        lambda v: v.leaky_relu(0.1),
        lambda x: 1.0 if x > 0 else 0.1,
        lambda x: 0.0,
    ),
    "elu": (
        lambda v: v.elu(0.5),
        lambda x: 1.0 if x > 0 else 0.5 * math.exp(x),
        lambda x: 0.0 if x > 0 else 0.5 * math.exp(x),
    ),
    "abs": (abs, lambda x: math.copysign(1.0, x), lambda x: 0.0),
    "neg": (lambda v: -v, lambda x: -1.0, lambda x: 0.0),
    "clamp": (lambda v: v.clamp(-1.0, 1.0), lambda x: float(abs(x) < 1), lambda x: 0.0),
    "pow(3)": (lambda v: v**3, lambda x: 3 * x**2, lambda x: 6 * x),
    "pow(-1)": (lambda v: v**-1, lambda x: -(x**-2), lambda x: 2 * x**-3),
    "pow(0.5)": (lambda v: v**0.5, lambda x: 0.5 * x**-0.5, lambda x: -0.25 * x**-1.5),
}
POINTS = (-2.5, -0.7, 0.3, 1.9)  # positive ones only where the op needs them
POSITIVE_ONLY = {"log", "sqrt", "pow(0.5)"}


@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
def test_first_and_second_derivatives_equal_their_closed_forms(name: str) -> None:
    f, d1, d2 = CLOSED_FORMS[name]
    for x in POINTS:
        if name in POSITIVE_ONLY:
            x = abs(x)
        (g,), ((h,),) = engine_derivatives(f, [x], order=2)
        assert math.isclose(g, d1(x), **EXACT), (x, g, d1(x))
        assert math.isclose(h, d2(x), **EXACT), (x, h, d2(x))


@pytest.mark.parametrize(("x", "y"), [(0.7, 2.5), (2.0, -1.5), (3.3, 0.4)])
def test_vpow_gradients_for_base_and_exponent(x: float, y: float) -> None:
    (gx, gy), ((hxx, hxy), (hyx, hyy)) = engine_derivatives(lambda a, b: a**b, [x, y], 2)
    log = math.log(x)
    assert math.isclose(gx, y * x ** (y - 1), **EXACT)  # d/dx x^y = y x^(y-1)
    assert math.isclose(gy, x**y * log, **EXACT)  # d/dy x^y = x^y log x
    assert math.isclose(hxx, y * (y - 1) * x ** (y - 2), **EXACT)
    assert math.isclose(hyy, x**y * log**2, **EXACT)
    # d²/dx dy x^y = x^(y-1) (1 + y log x), by either route
    assert math.isclose(hxy, x ** (y - 1) * (1 + y * log), **EXACT)
    assert math.isclose(hyx, hxy, **EXACT)


def test_vpow_exponent_gradient_at_zero_base_is_zero() -> None:
    # 0^y = 0 for y > 0 whatever y is, so d/dy = 0 (log 0 never evaluated)
    assert engine_derivatives(lambda a, b: a**b, [0.0, 2.0], 1)[0] == [0.0, 0.0]


def test_pow_with_constant_exponent_matches_vpow() -> None:
    for x, c in [(1.7, 3.0), (0.4, -2.0), (2.2, 0.5)]:
        const = engine_derivatives(lambda a, c=c: a**c, [x], 2)
        variable = engine_derivatives(lambda a, b: a**b, [x, c], 2)
        assert math.isclose(const[0][0], variable[0][0], **EXACT)
        assert math.isclose(const[1][0][0], variable[1][0][0], **EXACT)


def test_sum_dot_and_logsumexp_closed_forms() -> None:
    ws, xs, b = [0.5, -1.25, 2.0], [1.5, 0.25, -0.75], 0.3
    g = engine_derivatives(lambda *v: dot(v[:3], v[3:6], v[6]), [*ws, *xs, b], 2)
    assert g[0] == [*xs, *ws, 1.0]  # d/dw_i = x_i, d/dx_i = w_i, d/db = 1
    # d²/dw_i dx_j = [i == j], everything else 0
    assert g[1] == [[float(abs(i - j) == 3 and max(i, j) < 6) for j in range(7)] for i in range(7)]

    terms = [0.5, -1.0, 2.0, 0.0]
    s = engine_derivatives(lambda *v: vsum(v), terms, 2)
    assert s == ([1.0] * 4, [[0.0] * 4 for _ in range(4)])

    first, second = engine_derivatives(lambda *v: logsumexp(v), terms, 2)
    total = math.fsum(math.exp(t) for t in terms)
    softmax = [math.exp(t) / total for t in terms]
    for i in range(4):
        assert math.isclose(first[i], softmax[i], **EXACT)  # d/dx_i = softmax_i
        for j in range(4):
            # d²/dx_i dx_j = softmax_i [i == j] - softmax_i softmax_j
            want = softmax[i] * (i == j) - softmax[i] * softmax[j]
            assert math.isclose(second[i][j], want, **EXACT)


# ----------------------------------------------------------------------------- random graphs


@given(expressions(max_ops=12, max_inputs=4))
def test_random_graphs_first_order_match_finite_differences_and_mpmath(expr: Expression) -> None:
    assert_gradients_match(expr, expr.point, order=1, **FD)
    assert_matches_mpmath(expr, expression_reference(expr), expr.point, order=1)


@given(expressions(max_ops=12, max_inputs=4))
def test_random_graphs_second_order_match_finite_differences_and_mpmath(
    expr: Expression,
) -> None:
    assert_gradients_match(expr, expr.point, order=2, **FD)
    assert_matches_mpmath(expr, expression_reference(expr), expr.point, order=2)


# ----------------------------------------------------------------------------- the checks can fail


def _square(x: float) -> float:
    return x * x


# d/dx x^2 = 2x, given on purpose as 2.001 x: one part in 2000
def _wrong_rule(m: Any, g: Any, out: Any, x: Any) -> tuple[Any]:
    return (g * 2.001 * x,)


def test_a_wrong_derivative_is_caught_by_finite_differences_and_mpmath() -> None:
    with temporary_op("wrong_square", 1, _square, _wrong_rule) as op:
        result = gradcheck(op, [1.5], **FD)
        assert not result and result.gradient[0].numeric == pytest.approx(3.0)
        with pytest.raises(GradcheckError, match="numerical"):
            result.raise_if_failed()
        with pytest.raises(AssertionError, match="mpmath"):
            assert_matches_mpmath(op, lambda x: x * x, [1.5], order=1)


@given(st.data())
def test_a_wrong_derivative_is_caught_on_top_of_every_random_graph(data: st.DataObject) -> None:
    expr = data.draw(expressions(max_ops=6, max_inputs=3))
    xs = [Value(x) for x in expr.point]
    out = expr(*xs)
    # the rule errs by 0.001 * out * d out/dx_i; skip graphs where that is below the tolerance
    assume(max(abs(out.data * g) for g in grad(out, xs)) > 0.01)
    ref = expression_reference(expr)
    with temporary_op("wrong_square", 1, _square, _wrong_rule) as op:
        with pytest.raises(GradcheckError):
            assert_gradients_match(lambda *v: op(expr(*v)), expr.point, **FD)
        with pytest.raises(AssertionError, match="mpmath"):
            assert_matches_mpmath(lambda *v: op(expr(*v)), lambda *v: ref(*v) ** 2, expr.point, 1)
