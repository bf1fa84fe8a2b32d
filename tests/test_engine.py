"""Tests for the engine: Value arithmetic, graph recording, backward semantics and bad input."""

from __future__ import annotations

import gc
import math
import sys

import pytest

from micrograd_like.engine import Value, gc_paused, grad_enabled, no_grad, topological_order
from micrograd_like.ops import OPS


def leaves_and_grads(*vs: Value) -> list[float]:
    return [v.grad for v in vs]


# --------------------------------------------------------------------------- construction


def test_leaf_defaults() -> None:
    x = Value(3, label="x")
    assert x.data == 3.0 and type(x.data) is float
    assert x.grad == 0.0 and x.label == "x" and x.op == "" and x.parents == ()
    assert x.primitive is None and x.local_grads() == []


@pytest.mark.parametrize("bad", [None, "1.0", [1.0], (1.0,), {}, 1j, object()])
def test_value_rejects_non_numbers(bad: object) -> None:
    with pytest.raises(TypeError, match=f"Value: expected a real number.*{type(bad).__name__}"):
        Value(bad)  # type: ignore[arg-type]


def test_bool_is_rejected_as_data_and_operand() -> None:
    with pytest.raises(TypeError, match="bool"):
        Value(True)
    with pytest.raises(TypeError, match=r"\+.*bool"):
        Value(1.0) + True
    with pytest.raises(TypeError, match=r"\*.*bool"):
        False * Value(1.0)


def test_label_must_be_str() -> None:
    with pytest.raises(TypeError, match="label must be a str"):
        Value(1.0, label=3)  # type: ignore[arg-type]


def test_numpy_scalars_are_numbers() -> None:
    np = pytest.importorskip("numpy")
    x = Value(np.float64(2.5))
    assert x.data == 2.5 and type(x.data) is float
    y = np.float64(2.0) * x  # numpy defers to Value's reflected operator
    assert isinstance(y, Value) and y.data == 5.0
    assert Value(np.int64(3)).data == 3.0


def test_nodes_have_slots_not_dicts() -> None:
    x = Value(1.0)
    assert not hasattr(x, "__dict__")
    with pytest.raises(AttributeError):
        x.anything = 1  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- arithmetic


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (lambda x: x + 2, 5.0),
        (lambda x: 2 + x, 5.0),
        (lambda x: x - 2, 1.0),
        (lambda x: 2 - x, -1.0),
        (lambda x: x * 2, 6.0),
        (lambda x: 2 * x, 6.0),
        (lambda x: x / 2, 1.5),
        (lambda x: 3 / x, 1.0),
        (lambda x: x**2, 9.0),
        (lambda x: 2**x, 8.0),
        (lambda x: x ** Value(2.0), 9.0),
        (lambda x: -x, -3.0),
        (lambda x: +x, 3.0),
        (lambda x: abs(-x), 3.0),
    ],
)
def test_operators_match_float_arithmetic(expr, expected: float) -> None:  # type: ignore[no-untyped-def]
    out = expr(Value(3.0))
    assert isinstance(out, Value)
    assert out.data == pytest.approx(expected, rel=1e-15)


def test_methods_match_math() -> None:
    x = 0.7
    cases = {
        "exp": math.exp(x),
        "log": math.log(x),
        "sqrt": math.sqrt(x),
        "sin": math.sin(x),
        "cos": math.cos(x),
        "tanh": math.tanh(x),
        "sigmoid": 1 / (1 + math.exp(-x)),
        "relu": x,
        "softplus": math.log1p(math.exp(x)),
        "silu": x / (1 + math.exp(-x)),
        "elu": x,
        "leaky_relu": x,
    }
    for name, expected in cases.items():
        out = getattr(Value(x), name)()
        assert out.op == name
        assert out.data == pytest.approx(expected, rel=1e-15), name
    assert Value(-2.0).leaky_relu(0.1).data == pytest.approx(-0.2)
    assert Value(-2.0).elu(0.5).data == pytest.approx(0.5 * math.expm1(-2.0))
    assert Value(5.0).clamp(0.0, 1.0).data == 1.0


def test_records_op_and_ordered_parents() -> None:
    a, b = Value(2.0, label="a"), Value(5.0, label="b")
    c = b * a
    assert c.op == "mul" and c.parents == (b, a)
    d = a**3
    assert d.op == "pow" and d.parents == (a,) and d.primitive is not None
    assert d.primitive.params == (3.0,)
    e = a ** Value(2.0)
    assert e.op == "vpow" and e.parents[0] is a


def test_sugar_builds_only_primitives() -> None:
    a, b = Value(2.0), Value(5.0)
    names = {v.op for v in topological_order(a / b - 3 / a + 2**b)}
    assert names <= set(OPS) | {""}
    assert "sub" not in names and "div" not in names


def test_comparisons_use_data_and_equality_is_identity() -> None:
    a, b = Value(1.0), Value(1.0)
    assert a < 2 and a <= b and b >= a and not a > b
    assert a != b and a == a
    assert len({a, b}) == 2
    assert f"{Value(1.23456):.2f}" == "1.23"
    assert "op='add'" in repr(a + b)


def test_stable_activations_at_extremes() -> None:
    for x in (-1000.0, 1000.0, -1e308, 1e308):
        for name in ("tanh", "sigmoid", "softplus", "silu"):
            v = Value(x)
            out = getattr(v, name)()
            assert not math.isnan(out.data), (name, x)
            out.backward()
            assert math.isfinite(v.grad), (name, x)
    assert Value(1000.0).sigmoid().data == 1.0 and Value(-1000.0).sigmoid().data == 0.0
    assert Value(1000.0).softplus().data == 1000.0


def test_nan_and_inf_propagate_like_floats() -> None:
    nan, inf = math.nan, math.inf
    assert math.isnan((Value(nan) + 1).data)
    assert math.isnan(Value(nan).relu().data)
    assert math.isnan(Value(nan).exp().data)
    assert math.isnan(Value(nan).log().data)
    assert (Value(inf) * 2).data == inf
    assert Value(inf).tanh().data == 1.0
    assert math.isnan((Value(inf) - Value(inf)).data)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("make", "error", "pattern"),
    [
        (lambda: Value(0.0).log(), ValueError, r"log\(0\.0\)"),
        (lambda: Value(-2.0).log(), ValueError, r"log\(-2\.0\)"),
        (lambda: Value(-1.0).sqrt(), ValueError, r"sqrt\(-1\.0\)"),
        (lambda: Value(0.0) ** -1, ZeroDivisionError, r"pow\(0\.0, -1\)"),
        (lambda: Value(0.0) ** Value(-2.0), ZeroDivisionError, r"vpow\(0\.0, -2\.0\)"),
        (lambda: Value(-8.0) ** (1 / 3), ValueError, r"pow\(-8\.0, 0\.333"),
        (lambda: Value(1.0) / 0, ZeroDivisionError, r"division by zero \(1\.0 / 0\.0\)"),
        (lambda: 1 / Value(0.0), ZeroDivisionError, r"division by zero \(1 / 0\.0\)"),
        (lambda: Value(1000.0).exp(), OverflowError, r"exp\(1000\.0\)"),
        (lambda: Value(1.0).clamp(2.0, 1.0), ValueError, "low must be <= high"),
    ],
)
def test_domain_errors_name_op_and_operand(make, error: type, pattern: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error, match=pattern):
        make()


@pytest.mark.parametrize("op", ["+", "-", "*", "/", "**"])
@pytest.mark.parametrize("bad", ["a", None, [1.0]])
def test_bad_operands_name_op_and_type(op: str, bad: object) -> None:
    x = Value(2.0)
    expr = {
        "+": lambda: x + bad,
        "-": lambda: x - bad,
        "*": lambda: x * bad,
        "/": lambda: x / bad,
        "**": lambda: x**bad,
    }[op]
    with pytest.raises(TypeError, match=type(bad).__name__):
        expr()


def test_failed_backward_changes_no_grad_and_engine_recovers() -> None:
    x = Value(0.0, label="x")
    y = Value(2.0, label="y")
    out = x.sqrt() * y  # d sqrt / dx is infinite at 0
    with pytest.raises(ZeroDivisionError, match=r"backward through sqrt\(0\.0\)"):
        out.backward()
    assert x.grad == 0.0 and y.grad == 0.0 and out.grad == 0.0
    # the pass-local state was reset: a later, valid backward is exact
    out2 = y * y
    out2.backward()
    assert y.grad == 4.0


def test_backward_seed_must_be_a_number() -> None:
    x = Value(1.0)
    with pytest.raises(TypeError, match="backward grad"):
        x.backward("1")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- backward semantics


def test_backward_on_leaf_sets_the_seed() -> None:
    x = Value(4.0)
    x.backward()
    assert x.grad == 1.0
    x.backward(2.5)
    assert x.grad == 3.5


def test_reused_nodes_accumulate() -> None:
    a = Value(-4.0)
    b = a + a
    c = b * b
    c.backward()
    # c = (2a)^2 -> dc/da = 8a
    assert a.grad == -32.0 and b.grad == -16.0


def test_fan_out_through_shared_subexpressions() -> None:
    x = Value(1.5)
    s = x.sin()
    out = s * s + s.exp() * x
    out.backward()
    sx, cx = math.sin(1.5), math.cos(1.5)
    expected = 2 * sx * cx + math.exp(sx) * cx * 1.5 + math.exp(sx)
    assert x.grad == pytest.approx(expected, rel=1e-14)


def test_backward_twice_gives_exactly_twice() -> None:
    a, b = Value(0.3), Value(-1.2)
    h = (a * b).tanh()
    out = h * h + a.exp() - b / a
    everything = topological_order(out)
    out.backward()
    first = [v.grad for v in everything]
    out.backward()
    assert [v.grad for v in everything] == [2 * g for g in first]


def test_seed_scales_gradients() -> None:
    x = Value(0.8)
    out = x.tanh() * x
    out.backward(3.0)
    g3 = x.grad
    x.grad = 0.0
    out.backward()
    assert g3 == pytest.approx(3 * x.grad, rel=1e-15)


def test_million_deep_chain_at_default_recursion_limit() -> None:
    limit = sys.getrecursionlimit()
    a = Value(1.0000001)
    x = Value(1.0)
    with gc_paused():
        for _ in range(1_000_000):
            x = x * a
    x.backward()
    assert sys.getrecursionlimit() == limit
    # x = a^n -> dx/da = n a^(n-1)
    n = 1_000_000
    assert a.grad == pytest.approx(n * 1.0000001 ** (n - 1), rel=1e-9)
    assert len(topological_order(x)) == n + 2
    del x


def test_graph_has_no_reference_cycles() -> None:
    gc.collect()
    with gc_paused():
        x = Value(0.5)
        out = x
        for _ in range(1000):
            out = (out * x).tanh() + x
        out.backward()
        del out, x
        # everything was freed by reference counting: the collector finds nothing
        assert gc.collect() == 0


# --------------------------------------------------------------------------- no_grad and gc_paused


def test_no_grad_builds_no_graph_and_restores() -> None:
    x = Value(2.0)
    assert grad_enabled()
    with no_grad():
        assert not grad_enabled()
        y = (x * x).exp()
        with no_grad():
            z = x + 1
        assert not grad_enabled()
    assert grad_enabled()
    assert y.parents == () and y.op == "" and z.parents == ()
    assert y.data == pytest.approx(math.exp(4.0))
    with pytest.raises(RuntimeError), no_grad():
        raise RuntimeError("boom")
    assert grad_enabled()


@pytest.mark.parametrize("enabled", [True, False])
def test_gc_paused_restores_the_collector_state(enabled: bool) -> None:
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        with gc_paused():
            assert not gc.isenabled()
            with gc_paused():
                assert not gc.isenabled()
            assert not gc.isenabled()
        assert gc.isenabled() is enabled
        with pytest.raises(KeyError), gc_paused():
            raise KeyError("x")
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()


def test_entering_gc_paused_starts_no_collection() -> None:
    # With a threshold of 1, any two allocations the collector counts start a collection.
    # Entering the pause must allocate none (a generator-based context manager allocates
    # three), or a collection could start right before the pause and walk every young node.
    starts: list[str] = []

    def watch(phase: str, info: dict[str, int]) -> None:
        starts.append(phase)

    threshold, was = gc.get_threshold(), gc.isenabled()
    gc.enable()
    gc.collect()
    gc.callbacks.append(watch)
    gc.set_threshold(1)
    try:
        with gc_paused():
            pass
        seen = len(starts)
    finally:
        gc.set_threshold(*threshold)
        gc.callbacks.remove(watch)
        gc.enable() if was else gc.disable()
    assert seen == 0


# --------------------------------------------------------------------------- zero gradients


def test_zero_gradient_branch_passes_nothing_on() -> None:
    # relu(-1) is off, so d out / d sqrt(x) is exactly 0 and the rule of sqrt at 0 (infinite)
    # is never evaluated: x gets 0, as out = sqrt(x) * 0 is flat around x = 0
    x, y = Value(0.0, label="x"), Value(-1.0, label="y")
    out = x.sqrt() * y.relu()
    out.backward()
    assert (x.grad, y.grad, out.grad) == (0.0, 0.0, 1.0)
    # with gradient flowing the same rule is evaluated, and fails, as before
    with pytest.raises(ZeroDivisionError, match=r"sqrt\(0\.0\)"):
        (x.sqrt() * Value(2.0)).backward()


def test_skipping_zero_gradients_changes_no_sum() -> None:
    # a node fed by a ReLU that is off and by live paths: the live sum is exact, bit for bit
    a = Value(0.3, label="a")
    off = (a * -4.0).relu()  # 0, and its gradient to a is 0
    out = a * 0.1 + off * 7.0 + (a * a).tanh() + off
    out.backward()
    t = math.tanh(0.09)
    assert a.grad == 0.1 + (1.0 - t * t) * 0.3 + (1.0 - t * t) * 0.3 + 0.0


# --------------------------------------------------------------------------- graph walking


def test_topological_order_parents_first_and_deterministic() -> None:
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    c = a * b
    d = c + a
    e = d * c
    order = topological_order(e)
    assert order[-1] is e and len(order) == 5
    pos = {id(v): i for i, v in enumerate(order)}
    for v in order:
        for p in v.parents:
            assert pos[id(p)] < pos[id(v)]
    assert [v.label for v in order[:2]] == ["a", "b"]
    assert topological_order(e) == order
    with pytest.raises(TypeError, match="expected a Value"):
        topological_order(3.0)  # type: ignore[arg-type]


def test_local_grads_are_the_chain_rule_factors() -> None:
    a, b = Value(2.0), Value(-3.0)
    assert (a * b).local_grads() == [-3.0, 2.0]
    assert (a + b).local_grads() == [1.0, 1.0]
    assert a.tanh().local_grads() == [pytest.approx(1 - math.tanh(2.0) ** 2)]


def test_subtracting_a_number_adds_its_negation_exactly() -> None:
    x = Value(0.1)
    out = x - 0.3
    assert out.op == "add" and out.parents[0] is x and out.parents[1].data == -0.3
    assert out.data == 0.1 - 0.3  # x + (-c) rounds exactly as x - c
    out.backward()
    assert x.grad == 1.0
    assert (x - Value(0.3)).parents[1].op == "neg"  # a Value is negated as a node


def test_topological_order_within_a_part() -> None:
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    c = a * b
    d = c.exp()
    e = d + c
    assert topological_order(e, within=[d, c]) == [c, d, e]  # a, b are outside the part
    assert topological_order(e, within=[d]) == [d, e]  # c only through d: left out
    assert topological_order(e, within=[]) == [e]


# --------------------------------------------------------------------------- issue 11: engine items


@pytest.mark.parametrize(
    ("convert", "what"),
    [
        (float, r"float\(\)"),
        (int, r"int\(\)"),
        (round, r"round\(\)"),
        (math.sin, r"float\(\)"),
        (math.exp, r"float\(\)"),
        (math.floor, r"math\.floor\(\)"),
        (math.trunc, r"math\.trunc\(\)"),
        (lambda v: [1, 2, 3][v], "use as an integer"),
    ],
)
def test_implicit_conversion_to_a_number_is_refused(convert, what: str) -> None:  # type: ignore[no-untyped-def]
    b = Value(2.0)
    with pytest.raises(TypeError, match=f"{what}.*drop its graph.*\\.data.*x\\.sin\\(\\)"):
        convert(3 * b)


def test_dot_needs_an_odd_number_of_inputs() -> None:
    from micrograd_like.ops import get_op

    a, b, c = Value(2.0), Value(3.0), Value(1.0)
    with pytest.raises(TypeError, match=r"dot: takes an odd number .* got 2"):
        get_op("dot")(a, b)
    assert get_op("dot")(a, b, c).data == 7.0
    with pytest.raises(TypeError, match="got 0"):
        get_op("dot")()


@pytest.mark.parametrize("exponent", [0, 0.0])
def test_zeroth_power_at_zero_has_derivative_zero(exponent: float) -> None:
    x = Value(0.0)
    (x**exponent).backward()
    assert x.grad == 0.0
    y = Value(0.0)
    e = Value(float(exponent))
    (y**e).backward()
    assert y.grad == 0.0 and e.grad == 0.0


def test_zeroth_power_keeps_its_second_derivative_in_the_exponent() -> None:
    from micrograd_like.functional import grad

    x, y = Value(1.0), Value(0.0)
    dx = grad(x**y, [x], create_graph=True)[0]
    assert dx.data == 0.0 and grad(dx, [y]) == [1.0]  # d/dy (y x^(y-1)) = 1 at (1, 0)


def test_a_custom_ops_own_exception_is_kept_with_a_note() -> None:
    import json

    from micrograd_like.testing import temporary_op

    def forward(x: float) -> float:
        return json.loads("{bad")  # type: ignore[no-any-return]

    with (
        temporary_op("parse", 1, forward, lambda m, g, out, x: (g,)) as parse,
        pytest.raises(json.JSONDecodeError) as info,
    ):
        parse(Value(1.0))
    assert info.value.pos == 1  # the original exception, fields intact
    assert "parse(1.0)" in "".join(info.value.__notes__)


def test_a_rule_with_the_wrong_number_of_contributions_says_so() -> None:
    from micrograd_like.functional import grad, vsum
    from micrograd_like.testing import temporary_op

    with temporary_op("two_out", 1, lambda x: x, lambda m, g, out, x: (g, g)) as bad:
        x = Value(1.0)
        with pytest.raises(TypeError, match=r"rule of two_out returned 2 contribution\(s\) for 1"):
            bad(x).backward()
        with pytest.raises(TypeError, match="returned 2 contribution"):
            grad(bad(x), [x], create_graph=True)
    with (
        temporary_op("nary_bad", -1, lambda *xs: sum(xs), lambda m, g, out, *xs: [g]) as nb,
        pytest.raises(TypeError, match=r"returned 1 contribution\(s\) for 3"),
    ):
        vsum([nb(x, x, x)]).backward()
    assert x.grad == 0.0


def test_define_op_checks_its_symbol() -> None:
    from micrograd_like.ops import define_op

    with pytest.raises(TypeError, match="symbol of 'sq' must be a non-empty str"):
        define_op("sq", 1, lambda x: x * x, lambda m, g, out, x: (2 * g * x,), symbol=3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="symbol"):
        define_op("sq", 1, lambda x: x * x, lambda m, g, out, x: (2 * g * x,), symbol="")


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: vsum_([math.inf, -math.inf]), math.nan),
        (lambda: vsum_([1e308, 1e308, -1e308]), math.inf),
        (lambda: vsum_([-1e308, -1e308]), -math.inf),
        (lambda: dot_([math.inf, 1.0], [1.0, 1.0], -math.inf), math.nan),
        (lambda: dot_([1e308, 1e308], [2.0, 2.0], 0.0), math.inf),
        (lambda: dot_([math.inf, -math.inf], [1.0, 1.0], 0.0), math.nan),
        (lambda: lse_([math.inf, -math.inf]), math.inf),
        (lambda: lse_([-math.inf, -math.inf]), -math.inf),
        (lambda: lse_([1.0, math.nan]), math.nan),
        (lambda: lse_([math.nan, 1.0]), math.nan),
    ],
)
def test_nary_ops_follow_the_float_rules(make, expected: float) -> None:  # type: ignore[no-untyped-def]
    got = make().data
    assert (math.isnan(got) and math.isnan(expected)) or got == expected


def vsum_(xs: list[float]) -> Value:
    from micrograd_like.functional import vsum

    return vsum(xs)


def dot_(ws: list[float], xs: list[float], b: float) -> Value:
    from micrograd_like.functional import dot

    return dot(ws, xs, b)


def lse_(xs: list[float]) -> Value:
    from micrograd_like.functional import logsumexp

    return logsumexp(xs)


def test_strict_flags_and_unordered_inputs() -> None:
    from micrograd_like.functional import grad, vsum

    x = Value(1.0)
    with pytest.raises(TypeError, match="create_graph must be True or False"):
        grad(x * x, [x], create_graph="yes")  # type: ignore[call-overload]
    for unordered in ({x, Value(2.0)}, {x: 1}):
        with pytest.raises(TypeError, match="order is arbitrary"):
            vsum(unordered)  # type: ignore[arg-type]


def test_operand_errors_come_before_division_by_zero() -> None:
    with pytest.raises(TypeError, match="str"):
        "abc" / Value(0.0)  # type: ignore[operator]
    with pytest.raises(ZeroDivisionError):
        1 / Value(0.0)


def test_huge_ints_are_a_clear_error_not_an_overflow() -> None:
    with pytest.raises(ValueError, match=r"Value: .* too large for a float"):
        Value(10**400)
    with pytest.raises(ValueError, match=r"\*: .* too large"):
        Value(1.0) * 10**400
    with pytest.raises(ValueError, match=r"\*\*: .* too large"):
        Value(1.0) ** 10**400
