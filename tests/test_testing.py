"""Tests for the test helpers: op domains, sample points, random expressions, assertions."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import find, given
from hypothesis import strategies as st

from micrograd_like.checking import KINK, GradcheckError, gradcheck
from micrograd_like.engine import Value
from micrograd_like.ops import OPS, Op
from micrograd_like.testing import (
    DOMAINS,
    Domain,
    Expression,
    Variant,
    assert_gradients_match,
    domain,
    expressions,
    kink_samples,
    op_samples,
    temporary_op,
)


def _variant(op: Op) -> Variant:
    """The domain variant a bound op was drawn from (matched by its params)."""
    (variant,) = [v for v in DOMAINS[op.name].variants if v.params == op.params]
    return variant


def _inside(x: float, variant: Variant, position: int) -> bool:
    return any(lo <= x <= hi for lo, hi in variant.intervals(position))


# ----------------------------------------------------------------------------- the domain table


def test_domains_name_only_real_ops_and_fit_each_arity() -> None:
    for name, dom in DOMAINS.items():
        op = OPS[name]
        assert dom.variants, name
        for variant in dom.variants:
            assert len(variant.params) == len(op.bind(*variant.params).params)
            assert len(variant.args) == (1 if op.arity == -1 else op.arity), name
            for intervals in variant.args:
                assert all(lo < hi for lo, hi in intervals), name
            # kinks lie outside the allowed intervals: random graphs never sit on one
            assert not any(_inside(k, variant, 0) for k in variant.kinks), name
        assert (op.arity == -1) == bool(dom.sizes), name
    assert all(n % 2 == 1 for n in DOMAINS["dot"].sizes)  # w_1..w_n, x_1..x_n, b


def test_a_missing_domain_fails_loudly() -> None:
    with pytest.raises(KeyError, match=r"op 'nope' has no test domain.*DOMAINS"):
        domain("nope")
    custom = Domain((Variant((), (((0.0, 1.0),),)),))
    assert domain("nope", {"nope": custom}) is custom


@pytest.mark.parametrize("name", sorted(DOMAINS))
def test_op_samples_are_fixed_and_inside_the_domain(name: str) -> None:
    samples = op_samples(name, count=4)
    again = op_samples(name, count=4)
    assert [(op.describe(), p) for op, p in samples] == [(op.describe(), p) for op, p in again]
    dom = DOMAINS[name]
    sizes = dom.sizes or (OPS[name].arity,)
    assert len(samples) == 4 * len(dom.variants) * len(sizes)
    for op, point in samples:
        assert op.name == name
        variant = _variant(op)
        assert all(_inside(x, variant, i) for i, x in enumerate(point))
        assert math.isfinite(op(*point).data)


def test_kink_samples_sit_exactly_on_the_kinks() -> None:
    assert [(op.describe(), p) for op, p in kink_samples("relu")] == [("relu", (0.0,))]
    assert [p for _, p in kink_samples("clamp")] == [(-1.0,), (1.0,)]
    assert [op.describe() for op, _ in kink_samples("elu")] == ["elu(0.5)"]  # elu(1) is C1
    assert kink_samples("sin") == []
    with pytest.raises(KeyError, match="no test domain"):
        op_samples("nope")


# ----------------------------------------------------------------------------- expressions


def _applications(expr: Expression) -> list[tuple[Op, list[float]]]:
    """Every op application of ``expr`` at its point, with its input values."""
    seen: list[tuple[Op, list[float]]] = []

    def apply(op: Op, args: list[float]) -> float:
        seen.append((op, args))
        return float(op.forward(*args, *op.params))

    expr.evaluate(list(expr.point), apply, float)
    return seen


@given(expressions(max_ops=10, max_inputs=4))
def test_every_op_input_lies_in_its_domain_and_nothing_overflows(expr: Expression) -> None:
    for op, args in _applications(expr):
        if op.name in ("sum", "add"):
            continue  # defined everywhere; the final sum of unused results may exceed the bounds
        variant = _variant(op)
        assert all(_inside(x, variant, i) for i, x in enumerate(args)), (op, args)
    out = expr(*expr.point)
    assert abs(out.data) < 1e4
    assert 1 <= len(expr.point) <= 4


@given(expressions(["sin", "mul"], max_ops=4))
def test_expressions_use_only_the_chosen_ops(expr: Expression) -> None:
    assert expr.ops <= {"sin", "mul"}


def test_expressions_reuse_subexpressions_and_draw_nary_ops() -> None:
    def fans_out(expr: Expression) -> bool:
        uses = [k for s in expr.steps for k in s.args]
        return any(uses.count(k) > 1 and expr.steps[k].op is not None for k in uses)

    assert fans_out(find(expressions(), fans_out))

    def wide_dot(expr: Expression) -> bool:
        return any(s.op is not None and s.op.name == "dot" and len(s.args) >= 5 for s in expr.steps)

    assert wide_dot(find(expressions(["dot", "logsumexp", "sin"]), wide_dot))


def test_an_expression_is_callable_on_values_or_floats_and_prints_its_graph() -> None:
    expr = find(expressions(["sin", "mul"], max_inputs=2), lambda e: len(e.point) == 2)
    xs = [Value(x) for x in expr.point]
    assert expr(*xs).data == expr(*expr.point).data
    with pytest.raises(TypeError, match="expression takes 2 inputs, got 1"):
        expr(1.0)
    text = repr(expr)
    assert text.startswith("Expression(point=")
    assert " = sin(" in text or " = mul(" in text


def test_expressions_bad_arguments() -> None:
    with pytest.raises(ValueError, match="max_ops must be a positive int"):
        expressions(max_ops=0)
    with pytest.raises(ValueError, match="max_inputs must be a positive int"):
        expressions(max_inputs=True)
    with pytest.raises(ValueError, match="needs at least one op"):
        expressions([])


@given(st.data())
def test_unknown_ops_fail_when_drawn(data: st.DataObject) -> None:
    with pytest.raises(ValueError, match="no op named 'nope'"):
        data.draw(expressions(["nope"]))


@given(expressions(["relu", "abs", "clamp", "mul", "add"], kinks=True))
def test_kinks_when_asked_are_reported_and_never_fail(expr: Expression) -> None:
    assert_gradients_match(expr, expr.point)


def test_kinks_when_asked_do_occur() -> None:
    def has_kink(expr: Expression) -> bool:
        return any(c.verdict == KINK for c in gradcheck(expr, expr.point).checks)

    assert has_kink(find(expressions(["relu", "abs"], kinks=True), has_kink))


@given(st.data())
def test_a_custom_op_with_a_domain_gets_random_graphs(data: st.DataObject) -> None:
    cube_domain = Domain((Variant((), (((-2.0, 2.0),),)),))
    with temporary_op("cube", 1, lambda x: x**3, lambda m, g, out, x: (g * 3.0 * x * x,)):
        expr = data.draw(expressions(["cube", "sin"], domains={"cube": cube_domain}))
        assert_gradients_match(expr, expr.point, order=2)


@given(st.data())
def test_a_custom_op_without_a_domain_fails_loudly(data: st.DataObject) -> None:
    cube = temporary_op("cube", 1, lambda x: x**3, lambda m, g, out, x: (g * 3.0 * x * x,))
    with cube, pytest.raises(KeyError, match="op 'cube' has no test domain"):
        data.draw(expressions(["cube"]))


# ----------------------------------------------------------------------------- assertions


def test_assert_gradients_match_passes_or_raises_an_assertion_error() -> None:
    assert_gradients_match(lambda x, y: (x * y).sin(), [0.3, 2.0], order=2)

    def rule(m: Any, g: Any, out: Any, x: Any) -> tuple[Any]:
        return (g * 2.5 * x,)  # d/dx x^2 is 2x

    square = temporary_op("bad_square", 1, lambda x: x * x, rule)
    with square as sq, pytest.raises(GradcheckError, match="Jacobian mismatch for df/dx0") as info:
        assert_gradients_match(sq, [1.0])
    assert isinstance(info.value, AssertionError)
    assert_gradients_match(Value.relu, [0.0])  # a kink is reported, not failed


def test_temporary_op_is_removed_even_after_an_error() -> None:
    with pytest.raises(RuntimeError), temporary_op("tmp", 1, float, lambda m, g, out, x: (g,)):
        assert "tmp" in OPS
        raise RuntimeError
    assert "tmp" not in OPS
    with temporary_op("tmp", 1, float, lambda m, g, out, x: (g,)) as op:
        assert OPS["tmp"] is op
    with (
        pytest.raises(ValueError, match="already exists"),
        temporary_op("add", 2, float, lambda m, g, out, a, b: (g, g)),
    ):
        pass  # pragma: no cover
    assert "add" in OPS  # a failed definition removes nothing


@pytest.mark.parametrize(("x", "eps"), [(1e10, 1e-6), (1.5, 1e-16)])
def test_assert_gradients_match_refuses_a_step_below_the_float_resolution(
    x: float, eps: float
) -> None:
    def half(m: Any, g: Any, out: Any, x: Any) -> tuple[Any]:
        return (g * x,)  # d/dx x^2 is 2x: half of it

    with (
        temporary_op("half_square", 1, lambda x: x * x, half) as sq,
        pytest.raises(GradcheckError, match="cannot be checked at this step") as info,
    ):
        assert_gradients_match(lambda x: sq(x), [x], eps=eps)
    assert "larger eps" in str(info.value)
