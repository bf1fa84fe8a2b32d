"""Tests for gradient checking: gradcheck, check_graph, kinks, reports, bad input, custom ops."""

from __future__ import annotations

import math
import random
import re
from typing import Any

import pytest
from conftest import require_module
from hypothesis import assume, given

from micrograd_like.checking import (
    KINK,
    MISMATCH,
    OK,
    UNCHECKABLE,
    UNRESOLVED,
    VERDICT_COLOURS,
    GradcheckError,
    NodeCheck,
    check_graph,
    gradcheck,
)
from micrograd_like.engine import Value, no_grad, topological_order
from micrograd_like.functional import dot, grad, logsumexp, vsum
from micrograd_like.ops import OPS, define_op, get_op, undefine_op
from micrograd_like.testing import Expression, assert_gradients_match, expressions, temporary_op

TIGHT: dict[str, Any] = {"atol": 1e-8, "rtol": 1e-6}  # catches a rule off by one part in 2000


def _square(x: float) -> float:
    return x * x


def _wrong_square_rule(m: Any, g: Any, out: Any, x: Any) -> tuple[Any]:
    # d/dx x^2 = 2x, given on purpose as 2.001 x
    return (g * 2.001 * x,)


def _very_wrong_square_rule(m: Any, g: Any, out: Any, x: Any) -> tuple[Any]:
    # 2.01 x: off by 0.5%, beyond gradcheck's default rtol = 1e-3
    return (g * 2.01 * x,)


def _f(x: Value, y: Value) -> Value:
    return (x * y).tanh() + x.exp() * y


# ----------------------------------------------------------------------------- gradcheck


def test_a_correct_function_passes_with_a_row_per_input() -> None:
    result = gradcheck(_f, [0.5, -1.25])
    assert result and result.order == 1 and result.hessian is None
    assert [c.label for c in result.gradient] == ["df/dx", "df/dy"]
    assert all(c.verdict == OK for c in result.checks)
    x, y = 0.5, -1.25
    sech2 = 1 - math.tanh(x * y) ** 2
    assert result.gradient[0].analytic == pytest.approx(y * sech2 + math.exp(x) * y, rel=1e-12)
    assert result.gradient[1].numeric == pytest.approx(x * sech2 + math.exp(x), rel=1e-8)
    c = result.gradient[0]
    assert c.abs_err == abs(c.analytic - c.numeric) and c.rel_err == c.abs_err / abs(c.numeric)
    result.raise_if_failed()  # no error


def test_order_two_checks_every_second_derivative() -> None:
    result = gradcheck(_f, [0.5, -1.25], order=2)
    assert result and result.order == 2 and result.hessian is not None
    assert [[c.label for c in row] for row in result.hessian] == [
        ["d²f/dx dx", "d²f/dx dy"],
        ["d²f/dy dx", "d²f/dy dy"],
    ]
    assert len(result.checks) == 6
    assert result.hessian[0][1].analytic == pytest.approx(result.hessian[1][0].analytic)


def test_a_wrong_derivative_fails_and_the_error_lists_every_mismatch() -> None:
    with temporary_op("very_wrong_square", 1, _square, _very_wrong_square_rule) as sq:
        result = gradcheck(lambda x, y: sq(x) + sq(y) + x, [1.5, -2.0])
    assert not result
    assert [c.label for c in result.mismatches()] == ["df/dx", "df/dy"]
    assert result.gradient[0].numeric == pytest.approx(4.0)  # 2 * 1.5 + 1
    assert result.gradient[0].analytic == pytest.approx(2.01 * 1.5 + 1)
    with pytest.raises(GradcheckError) as info:
        result.raise_if_failed()
    message = str(info.value)
    assert isinstance(info.value, AssertionError)  # pytest shows it as a failed assertion
    assert "FAILED: 2 derivatives, 2 mismatch (eps=1e-06, atol=1e-05, rtol=0.001)" in message
    assert "Jacobian mismatch for df/dx" in message and "Jacobian mismatch for df/dy" in message
    # the steps are exact floats, so the central difference of a square may come out exact
    numerical = r"(3\.9999\d*|4\.0(000\d*)?)"
    assert re.search(rf"df/dx:\n  numerical:  {numerical}\n  analytical: 4\.015\n", message)
    assert "atol + rtol * |numerical|" in message


def test_a_small_error_needs_tight_tolerances() -> None:
    # one part in 2000 is inside the default rtol = 1e-3 but far outside 1e-6
    with temporary_op("wrong_square", 1, _square, _wrong_square_rule) as sq:
        assert gradcheck(sq, [1.5])
        assert not gradcheck(sq, [1.5], **TIGHT)


def test_order_two_catches_a_rule_that_breaks_the_gradient_of_the_gradient() -> None:
    # right to first order, but m.value() turns x into a constant in create_graph mode,
    # so the second derivative comes out 0 instead of 2
    def rule(m: Any, g: Any, out: Any, x: Any) -> tuple[Any]:
        return (g * 2.0 * m.value(x),)

    with temporary_op("flat_square", 1, _square, rule) as sq:
        assert gradcheck(sq, [1.5])
        result = gradcheck(sq, [1.5], order=2)
    assert not result
    assert result.gradient[0].verdict == OK
    (bad,) = result.mismatches()
    assert bad.label == "d²f/dx0 dx0" and bad.analytic == 0.0 and bad.numeric == pytest.approx(2)
    with pytest.raises(GradcheckError, match="Hessian mismatch for d²f/dx0 dx0"):
        result.raise_if_failed()


def test_inputs_may_be_values_and_names_come_from_the_signature() -> None:
    result = gradcheck(lambda weight, bias: weight * 3.0 + bias, [Value(2.0), 1])
    assert result.point == (2.0, 1.0) and result.names == ("weight", "bias")
    assert [c.label for c in result.gradient] == ["df/dweight", "df/dbias"]
    star = gradcheck(lambda *xs: vsum(xs), (1.0, 2.0, 3.0))
    assert star.names == ("x0", "x1", "x2")
    np: Any = require_module("numpy")
    assert gradcheck(lambda x, y: x * y, np.array([2.0, 3.0])).point == (2.0, 3.0)


def test_gradcheck_leaves_every_grad_and_value_alone() -> None:
    w = Value(0.7, label="w")
    w.grad = 5.0
    result = gradcheck(lambda x: (w * x).sin(), [0.3], order=2)
    assert result and w.grad == 5.0 and w.data == 0.7


# ----------------------------------------------------------------------------- kinks


@pytest.mark.parametrize(
    ("f", "slopes"),
    [
        (Value.relu, (0.0, 1.0)),
        (abs, (-1.0, 1.0)),
        (lambda x: abs(x) * 3 + x, (-2.0, 4.0)),
        (lambda x: x.clamp(-1.0, 1.0) + x * 0.0, (1.0, 0.0)),
        (lambda x: x.leaky_relu(0.2), (0.2, 1.0)),
    ],
)
def test_a_kink_is_reported_as_not_differentiable_not_as_a_mismatch(
    f: Any, slopes: tuple[float, float]
) -> None:
    point = 1.0 if slopes == (1.0, 0.0) else 0.0
    result = gradcheck(f, [point])
    (c,) = result.gradient
    assert result and c.verdict == KINK and result.kinks() == [c]
    assert c.one_sided == pytest.approx(slopes)
    assert KINK in str(result) and "slopes" in str(result)


def test_a_kink_of_the_first_derivative_shows_in_the_hessian() -> None:
    # elu(alpha = 1) is smooth to first order at 0, but its second derivative jumps 1 -> 0
    result = gradcheck(lambda x: x.elu(1.0), [0.0], order=2)
    assert result
    assert result.gradient[0].verdict == OK and result.hessian is not None
    assert result.hessian[0][0].verdict == KINK


def test_a_derivative_outside_the_one_sided_slopes_is_a_mismatch_even_at_a_kink() -> None:
    # |x| with "derivative" 5 at 0: no subgradient of |x| at 0 exceeds 1
    def rule(m: Any, g: Any, out: Any, x: Any) -> tuple[Any]:
        return (g * (5.0 if m.value(x) == 0.0 else math.copysign(1.0, m.value(x))),)

    with temporary_op("bad_abs", 1, abs, rule) as bad_abs:
        result = gradcheck(bad_abs, [0.0])
    (c,) = result.gradient
    assert not result and c.verdict == MISMATCH and c.one_sided == pytest.approx((-1.0, 1.0))
    with pytest.raises(GradcheckError, match="not between them"):
        result.raise_if_failed()


def test_a_wrong_derivative_at_a_smooth_steep_point_is_never_excused_as_a_kink() -> None:
    # sin(10^4 x) at x = pi/4 / 10^4: f'' = -7e7, so the one-sided slopes at eps = 1e-6
    # differ by 70, far beyond the tolerance, yet the gap shrinks tenfold with the step
    k, x0 = 1e4, math.pi / 4 / 1e4
    steep = gradcheck(lambda x: (x * k).sin(), [x0])
    assert steep and steep.gradient[0].verdict == OK

    def rule(m: Any, g: Any, out: Any, x: Any) -> tuple[Any]:
        return (g * 1.01 * k * m.cos(x * k),)  # 1% too large

    with temporary_op("fast_sin", 1, lambda x: math.sin(k * x), rule) as fast_sin:
        result = gradcheck(fast_sin, [x0])
    assert not result
    assert result.gradient[0].verdict == MISMATCH and result.gradient[0].one_sided is None


def test_a_kink_within_the_step_but_not_at_the_point_is_no_false_alarm() -> None:
    # relu at 3e-7: differentiable (slope 1); the step eps = 1e-6 straddles the kink, the
    # finer step eps / 10 does not
    result = gradcheck(Value.relu, [3e-7])
    assert result and result.gradient[0].verdict == OK
    assert result.gradient[0].numeric == pytest.approx(1.0)


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("eps", "words"),
    [
        (0.0, r"gradcheck: eps must be > 0, got 0\.0"),
        (-1e-6, r"gradcheck: eps must be > 0, got -1e-06"),
        (math.nan, "gradcheck: eps must be finite, got nan"),
        (math.inf, "gradcheck: eps must be finite, got inf"),
    ],
)
def test_eps_must_be_positive_and_finite(eps: float, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        gradcheck(Value.exp, [1.0], eps=eps)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"eps": "1e-6"}, TypeError, "eps must be a real number"),
        ({"eps": True}, TypeError, "eps must be a real number"),
        ({"atol": -1.0}, ValueError, r"atol must be >= 0, got -1\.0"),
        ({"rtol": math.inf}, ValueError, "rtol must be finite, got inf"),
        ({"order": 3}, ValueError, "order must be 1 or 2"),
        ({"order": True}, ValueError, "order must be 1 or 2"),
    ],
)
def test_bad_settings_are_named(kwargs: dict[str, Any], error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        gradcheck(Value.exp, [1.0], **kwargs)


@pytest.mark.parametrize(
    ("inputs", "error", "match"),
    [
        (1.0, TypeError, "inputs must be a sequence of numbers"),
        ("12", TypeError, "inputs must be a sequence of numbers"),
        ({1.0: 2.0}, TypeError, "inputs must be a sequence of numbers"),
        ([True], TypeError, r"inputs\[0\] must be a real number"),
        ([None], TypeError, r"inputs\[0\] must be a real number"),
        ([math.nan], ValueError, r"inputs\[0\] must be finite"),
        ([], ValueError, "needs at least one input"),
    ],
)
def test_bad_inputs_are_named(inputs: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        gradcheck(lambda *xs: vsum(xs), inputs)


def test_an_input_count_f_cannot_take_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"f\(x, y\) cannot take the 1 given inputs"):
        gradcheck(lambda x, y: x * y, [1.0])
    with pytest.raises(TypeError, match="cannot take the 3 given inputs"):
        gradcheck(lambda x, y: x * y, [1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="f must be callable"):
        gradcheck(3.0, [1.0])  # type: ignore[arg-type]


def test_f_must_return_a_finite_value() -> None:
    with pytest.raises(TypeError, match=r"f must return a Value, got float 2\.0"):
        gradcheck(lambda x: 2.0, [1.0])
    with pytest.raises(ValueError, match="f is nan at the point"):
        gradcheck(lambda x: x * math.nan, [1.0])
    with pytest.raises(ValueError, match="f is inf at the point"):
        gradcheck(lambda x: x * math.inf, [1.0])


def test_a_point_too_close_to_the_domain_edge_is_named() -> None:
    with pytest.raises(ValueError, match=r"f cannot be evaluated at x = 1e-07 -1e-06.*log"):
        gradcheck(lambda x: x.log(), [1e-7])
    with pytest.raises(ValueError, match="the backward pass fails at the point"):
        gradcheck(lambda x: x.sqrt(), [0.0], eps=1e-9)  # sqrt(-1e-9) fails first otherwise


def test_gradcheck_inside_no_grad_is_refused() -> None:
    with no_grad(), pytest.raises(ValueError, match="inside no_grad"):
        gradcheck(Value.exp, [1.0])


# ----------------------------------------------------------------------------- reports


def test_printed_report_is_a_table_with_a_summary() -> None:
    text = str(gradcheck(_f, [0.5, -1.25]))
    lines = text.splitlines()
    assert lines[0].startswith("gradcheck (order 1) at x=0.5, y=-1.25: passed: 2 derivatives, 2 ok")
    assert lines[1].split() == ["derivative", "analytic", "numeric", "abs", "err", "rel", "err",
                                "verdict"]  # fmt: skip
    assert lines[2].startswith("df/dx") and lines[2].endswith("ok")
    assert repr(gradcheck(_f, [0.5, -1.25])).startswith("<GradcheckResult: gradcheck")


def test_html_report_escapes_every_text_and_colours_rows() -> None:
    x = Value(0.5, label="<script>&x")
    out = (x * 2.0).tanh()
    page = check_graph(out)._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;&amp;x" in page
    assert page.count("<tr style=") == len(topological_order(out))
    assert page.startswith("<div>") and "<th>verdict</th>" in page
    with temporary_op("very_wrong_square", 1, _square, _very_wrong_square_rule) as sq:
        bad = gradcheck(sq, [1.5])._repr_html_()
    assert "#ffc9c9" in bad and "mismatch" in bad


def test_a_long_table_shows_only_its_mismatches_and_kinks() -> None:
    x = Value(0.0, label="x")
    out = vsum([x.relu()] + [Value(i / 1000) * x for i in range(150)])
    result = check_graph(out)
    text = str(result)
    assert result and len(result.kinks()) == 1
    assert "... and" in text and "more with verdict ok" in text
    assert len(text.splitlines()) < 10


# ----------------------------------------------------------------------------- check_graph


def _graph() -> tuple[Value, Value, Value]:
    x, y = Value(1.5, label="x"), Value(-0.5, label="y")
    h = (x * y + x).tanh()
    out = dot([h, x], [y, Value(2.0)], 0.25) + logsumexp([h, y * y]) + (x**2).sqrt()
    return x, y, out


def test_check_graph_covers_every_node_with_the_documented_interface() -> None:
    *_, out = _graph()
    result = check_graph(out)
    order = topological_order(out)
    assert result and result.first_mismatch() is None and result.mismatches() == []
    assert list(result.nodes) == order  # keyed by node identity, in topological order
    for k, node in enumerate(order):
        check = result.nodes[node]
        assert isinstance(check, NodeCheck) and check.node is node and check.position == k
        assert isinstance(check.analytic, float) and isinstance(check.numeric, float)
        assert isinstance(check.abs_err, float) and isinstance(check.rel_err, float)
        assert check.verdict in (OK, MISMATCH, KINK)
    assert (OK, MISMATCH, KINK) == ("ok", "mismatch", "not differentiable here")
    assert result.nodes[out].analytic == 1.0  # d out / d out


def test_check_graph_analytic_values_are_the_backward_pass_and_grads_stay_alone() -> None:
    x, y, out = _graph()
    x.grad = 7.0
    result = check_graph(out)
    assert x.grad == 7.0 and y.grad == 0.0 and x.data == 1.5
    x.grad = 0.0
    out.backward()
    for node in topological_order(out):
        assert result.nodes[node].analytic == node.grad


def test_check_graph_blames_exactly_the_node_with_a_wrong_rule() -> None:
    with temporary_op("wrong_square", 1, _square, _wrong_square_rule) as sq:
        x, y = Value(1.5, label="x"), Value(2.0, label="y")
        h = (x * y).tanh()
        s = sq(h)
        out = s + x.sin()
        result = check_graph(out, **TIGHT)
    assert not result
    culprit = result.first_mismatch()
    assert culprit is not None and culprit.node is s and culprit.node.op == "wrong_square"
    # the wrong rule corrupts the gradient of its input and of everything before it
    upstream = {id(v) for v in topological_order(h)}
    assert {id(c.node) for c in result.mismatches()} == upstream
    assert result.nodes[s].verdict == OK and result.nodes[out].verdict == OK
    with pytest.raises(GradcheckError) as info:
        result.raise_if_failed()
    message = str(info.value)
    assert "is to blame" in message and "'wrong_square'" in message
    assert message.count("Gradient mismatch for d output / d #") == len(upstream)


def test_check_graph_blames_the_wrong_consumer_among_several() -> None:
    with temporary_op("very_wrong_square", 1, _square, _very_wrong_square_rule) as sq:
        x = Value(0.8, label="x")
        a, b, c = x.sin(), sq(x), x.exp()
        out = vsum([a, b, c])
        result = check_graph(out)
    assert [check.node for check in result.mismatches()] == [x]
    culprit = result.first_mismatch()
    assert culprit is not None and culprit.node is b


@given(expressions(max_ops=8, max_inputs=3))
def test_check_graph_passes_every_correct_random_graph(expr: Expression) -> None:
    out = expr(*[Value(x) for x in expr.point])
    result = check_graph(out, **TIGHT)
    assert result, str(result)
    assert list(result.nodes) == topological_order(out)


def _identity_rule_off_by_a_tenth_percent(m: Any, g: Any, out: Any, x: Any) -> tuple[Any]:
    return (g * 1.001,)  # d/dx x = 1


@given(expressions(max_ops=8, max_inputs=3))
def test_check_graph_blames_a_wrong_op_anywhere_in_a_random_graph(expr: Expression) -> None:
    with temporary_op("wrong_identity", 1, float, _identity_rule_off_by_a_tenth_percent) as op:
        xs = [Value(x) for x in expr.point]
        wrapped = [op(x) for x in xs]  # every input goes through the wrong rule
        out = expr(*wrapped)
        # the rule errs by 0.001 * d out / d wrapped_i: skip graphs where that is too small
        assume(any(abs(g) > 1e-4 for g in grad(out, wrapped)))
        result = check_graph(out, **TIGHT)
    assert not result
    culprit = result.first_mismatch()
    assert culprit is not None and any(culprit.node is w for w in wrapped)
    assert culprit.node.op == "wrong_identity"
    assert {id(c.node) for c in result.mismatches()} <= {id(x) for x in xs}


def test_check_graph_reports_a_kink_at_a_node() -> None:
    x = Value(0.0, label="x")
    out = x.relu() * 2.0 + x * 3.0
    result = check_graph(out)
    assert result and result.nodes[x].verdict == KINK
    assert result.nodes[x].one_sided == pytest.approx((3.0, 5.0))


def test_check_graph_of_a_mid_sized_network() -> None:
    rng = random.Random(0)
    xs = [Value(rng.uniform(-1, 1)) for _ in range(6)]
    for width in (12, 12, 1):
        xs = [
            dot([Value(rng.uniform(-1, 1)) for _ in xs], xs, Value(0.1)).tanh()
            for _ in range(width)
        ]
    result = check_graph(xs[0], **TIGHT)
    assert result and len(result.nodes) == len(topological_order(xs[0]))


def test_check_graph_of_a_single_leaf() -> None:
    x = Value(2.0)
    result = check_graph(x)
    assert result and result.nodes[x].analytic == 1.0
    assert result.nodes[x].numeric == pytest.approx(1.0)


def test_check_graph_refuses_huge_graphs_unless_asked() -> None:
    x = Value(0.1)
    out = x
    for _ in range(60):
        out = out.sin()
    with pytest.raises(ValueError, match=r"61 nodes, more than max_nodes=50.*max_nodes=None"):
        check_graph(out, max_nodes=50)
    assert check_graph(out, max_nodes=None)
    for bad, words in (
        (0, "max_nodes must be at least 1 or None, got 0"),
        (-1, "max_nodes must be at least 1 or None, got -1"),
        (2.5, r"max_nodes must be an int or None, got float 2\.5"),
        (True, "max_nodes must be an int or None, got bool True"),
    ):
        with pytest.raises(ValueError, match=words):
            check_graph(out, max_nodes=bad)  # type: ignore[arg-type]


def test_check_graph_bad_input() -> None:
    with pytest.raises(TypeError, match="output must be a Value, got float"):
        check_graph(1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"check_graph: eps must be > 0, got 0\.0"):
        check_graph(Value(1.0), eps=0.0)
    x = Value(2.0, label="x")
    out, log = x * 3.0, x.log()
    x.data = 5.0  # the graph now disagrees with its leaves
    with pytest.raises(ValueError, match=r"holds 6\.0 but its op gives 15\.0.*Rebuild"):
        check_graph(out)
    x.data = -1.0
    with pytest.raises(ValueError, match=r"\(log\) holds .* gives an error \(log needs a posi"):
        check_graph(log)
    near = Value(1e-7, label="near")
    with pytest.raises(
        ValueError, match="moving node #0 'near' \\(leaf\\) by -1e-06 takes node #1 \\(log\\)"
    ):
        check_graph(near.log() + near.sqrt())
    with pytest.raises(ValueError, match="not finite"):
        check_graph(Value(math.inf) * 2.0)


# ----------------------------------------------------------------------------- steps too small


def _half_square_rule(m: Any, g: Any, out: Any, x: Any) -> tuple[Any]:
    # d/dx x^2 = 2x, given on purpose as x: half the true derivative
    return (g * x,)


@pytest.mark.parametrize(
    ("x", "eps"),
    [(1e10, 1e-6), (-3e12, 1e-6), (1.5, 1e-16), (0.01, 1e-16), (1e10, 1e-16)],
    ids=["big-x-default-eps", "bigger-negative-x", "eps-below-ulp", "tiny-eps", "both"],
)
def test_a_half_wrong_derivative_below_the_float_resolution_never_passes(
    x: float, eps: float
) -> None:
    with temporary_op("half_square", 1, _square, _half_square_rule) as sq:
        result = gradcheck(sq, [x], eps=eps)
        graph = check_graph(sq(Value(x)), eps=eps)
        with pytest.raises(GradcheckError, match=r"cannot be checked at this step|mismatch"):
            assert_gradients_match(sq, [x], eps=eps)
    assert not result and not graph
    assert result.checks[0].verdict in (UNRESOLVED, MISMATCH)
    assert graph.checks[0].verdict in (UNRESOLVED, MISMATCH)  # the leaf


def test_a_vanishing_step_is_its_own_verdict_with_no_numeric_value() -> None:
    with temporary_op("half_square", 1, _square, _half_square_rule) as sq:
        result = gradcheck(lambda x: sq(x), [1.5], eps=1e-16)  # 1.5 + 1e-16 == 1.5
    (check,) = result.checks
    assert check.verdict == UNRESOLVED == "cannot be checked at this step"
    assert math.isnan(check.numeric)
    assert result.unverified() == [check] and result.mismatches() == []
    assert "NOT VERIFIED: 1 derivative, 1 cannot be checked at this step" in result.summary()
    with pytest.raises(GradcheckError) as info:
        result.raise_if_failed()
    assert "df/dx cannot be checked at this step" in str(info.value)
    assert "below the float resolution" in str(info.value) and "larger eps" in str(info.value)


def test_a_correct_derivative_at_1e10_cannot_be_checked_with_the_default_step_either() -> None:
    # the difference cannot tell 2x from x there, so it vouches for neither; a step scaled
    # to the point can, and then the wrong rule is a mismatch
    result = gradcheck(lambda x: x * x, [1e10])
    assert not result and result.checks[0].verdict == UNRESOLVED
    assert "rounding noise" in _raised(result) and "larger eps" in _raised(result)
    assert gradcheck(lambda x: x * x, [1e10], eps=1e4)
    with temporary_op("half_square", 1, _square, _half_square_rule) as sq:
        assert gradcheck(sq, [1e10], eps=1e4).checks[0].verdict == MISMATCH


def test_second_derivatives_below_the_float_resolution_are_not_ok() -> None:
    result = gradcheck(lambda x, y: x * x * y, [1.5, 2.0], eps=1e-16, order=2)
    assert not result
    assert result.hessian is not None
    assert all(c.verdict == UNRESOLVED for row in result.hessian for c in row)


def test_huge_values_with_a_zero_derivative_are_not_passed_on_rounding_alone() -> None:
    # d/dy (1e12 + x) = 0 here, but so would any derivative below ~1e-2 look
    result = check_graph(Value(1e12) + Value(1.0, label="x") * 0.0)
    assert not result
    assert UNRESOLVED in {c.verdict for c in result.checks}


def test_a_large_ordinary_loss_with_dead_units_still_passes() -> None:
    # a loss of 2e4 hides derivatives below ~1e-6 from a step of 1e-6, well inside atol: the
    # zero derivative of the dead relu's input is checked, not excused or refused
    dead = Value(-0.5, label="dead")
    w = Value(1.5, label="w")
    loss = dead.relu() * 3.0 + (w * w) * 1e4
    result = check_graph(loss)
    assert result, str(result)
    assert result.nodes[dead].verdict == OK and result.nodes[dead].analytic == 0.0


def test_the_verdict_is_shown_in_the_table_and_coloured_in_html() -> None:
    with temporary_op("half_square", 1, _square, _half_square_rule) as sq:
        result = gradcheck(sq, [1e10])
    assert str(result).splitlines()[-1].endswith("cannot be checked at this step")
    page = result._repr_html_()
    assert f"background:{VERDICT_COLOURS[UNRESOLVED]}" in page
    assert "cannot be checked at this step" in page
    assert len(set(VERDICT_COLOURS.values())) == len(VERDICT_COLOURS)  # each its own colour


def test_ordinary_checks_are_unaffected_by_the_resolution_rule() -> None:
    # moderate values with tight tolerances: rounding allowance stays far below them
    assert gradcheck(_f, [0.5, -1.25], atol=1e-8, rtol=1e-6, order=2)
    assert check_graph(_f(Value(0.5), Value(-1.25)), atol=1e-8, rtol=1e-6)


def _raised(result: Any) -> str:
    with pytest.raises(GradcheckError) as info:
        result.raise_if_failed()
    return str(info.value)


# ------------------------------------------------------------------------ micrograd-style nodes


def _lecture_tanh(x: Value, wrong: bool = False) -> Value:
    # tanh written out as the lecture does, with a _backward closure; its formula differs from
    # math.tanh by an ulp at many points (x = 0.001 is one)
    e = math.exp(2 * x.data)
    out = Value((e - 1) / (e + 1), (x,), "tanh")

    def _backward() -> None:
        local = 0.5 if wrong else 1 - out.data**2  # d tanh = 1 - tanh^2
        x.grad += local * out.grad

    out._backward = _backward
    return out


def _scaled_sine(x: Value, wrong: bool = False) -> Value:
    # an op the table does not have under this name: 3 sin(x), with its closure
    out = Value(3 * math.sin(x.data), (x,), "3sin")

    def _backward() -> None:
        x.grad += (3 * math.sin(x.data) if wrong else 3 * math.cos(x.data)) * out.grad

    out._backward = _backward
    return out


@pytest.mark.parametrize("point", [0.001, 0.3, -1.7, 0.8813735870195432])
def test_check_graph_passes_a_correct_closure_node(point: float) -> None:
    x = Value(point, label="x")
    out = _lecture_tanh(x * 2.0) * x + x
    result = check_graph(out, **TIGHT)
    assert result, str(result)
    assert all(c.verdict == OK for c in result.checks)


def test_check_graph_catches_a_wrong_closure_and_blames_its_node() -> None:
    x = Value(0.3, label="x")
    t = _lecture_tanh(x * 2.0, wrong=True)
    out = t * x
    result = check_graph(out)
    assert not result
    assert x in [c.node for c in result.mismatches()]
    culprit = result.first_mismatch()
    assert culprit is not None and culprit.node is t
    message = str(result)
    assert "Check the _backward closure of node #" in message
    with pytest.raises(GradcheckError, match="closure"):
        result.raise_if_failed()


def test_a_closure_with_no_forward_makes_the_nodes_before_it_not_checkable() -> None:
    x = Value(0.5, label="x")
    s = _scaled_sine(x)
    out = s * Value(2.0, label="c")
    result = check_graph(out)
    # right or wrong, nothing before the node can be differenced through it: never "ok"
    assert not result
    assert result.nodes[x].verdict == UNCHECKABLE == "not checkable"
    assert math.isnan(result.nodes[x].numeric)
    assert [c.node for c in result.opaque()] == [s]
    assert result.unverified() == [result.nodes[x]] and not result.mismatches()
    assert {result.nodes[v].verdict for v in (s, out)} == {OK}
    assert "NOT VERIFIED" in result.summary() and "1 not checkable" in result.summary()
    assert "has no forward to re-evaluate" in str(result) and "gradcheck" in str(result)
    with pytest.raises(GradcheckError, match=r"d out/d#0 not checkable"):
        result.raise_if_failed()
    wrong = check_graph(_scaled_sine(Value(0.5), wrong=True) * 2.0)
    assert not wrong and wrong.checks[0].verdict == UNCHECKABLE


def test_gradcheck_checks_a_closure_with_no_forward_through_the_whole_function() -> None:
    assert gradcheck(lambda x: _scaled_sine(x) * x, [0.5], **TIGHT)
    result = gradcheck(lambda x: _scaled_sine(x, wrong=True) * x, [0.5])
    assert [c.label for c in result.mismatches()] == ["df/dx"]


def test_a_closure_off_the_path_of_a_node_leaves_its_check_alone() -> None:
    # x reaches the output through the closure and through a table op; y only through the
    # table op, so y is checked and x is not
    x, y = Value(0.5, label="x"), Value(1.5, label="y")
    out = _scaled_sine(x) + x * y
    result = check_graph(out)
    assert result.nodes[y].verdict == OK
    assert result.nodes[x].verdict == UNCHECKABLE


# ----------------------------------------------------------------------------- custom ops


def test_an_op_is_callable_and_then_usable_checkable_and_nameable() -> None:
    with temporary_op("cube", 1, lambda x: x**3, lambda m, g, out, x: (g * 3.0 * x * x,)) as cube:
        x = Value(2.0)
        y = cube(x) + cube(3)  # numbers become constant leaves
        assert y.data == 35.0 and y.parents[0].op == "cube" and get_op("cube") is cube
        y.backward()
        assert x.grad == 12.0
        assert gradcheck(cube, [1.3], order=2)
        assert check_graph(y)
        with pytest.raises(TypeError, match="cube: takes 1 input"):
            cube(x, x)
        with pytest.raises(TypeError, match="unsupported operand"):
            cube("2")  # type: ignore[arg-type]


def test_undefine_op_removes_only_custom_ops_and_keeps_graphs_working() -> None:
    op = define_op("temp_double", 1, lambda x: 2 * x, lambda m, g, out, x: (g * 2.0,))
    x = Value(1.5)
    y = op(x)
    assert undefine_op("temp_double") is op and "temp_double" not in OPS
    y.backward()  # the node still holds its op
    assert x.grad == 2.0
    again = define_op("temp_double", 1, lambda x: 2 * x, lambda m, g, out, x: (g * 2.0,))
    assert again is not op
    undefine_op("temp_double")
    with pytest.raises(ValueError, match="'add' is a built-in op"):
        undefine_op("add")
    with pytest.raises(KeyError, match="no custom op named 'nope'"):
        undefine_op("nope")
