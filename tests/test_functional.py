"""Tests for the functional API: grad of any order and the n-ary helpers."""

from __future__ import annotations

import math

import pytest

from micrograd_like.engine import Value, no_grad
from micrograd_like.functional import dot, grad, logsumexp, softmax, vsum


def test_grad_returns_floats_and_leaves_dot_grad_alone() -> None:
    x, y = Value(2.0), Value(3.0)
    out = x * y + x
    gx, gy = grad(out, [x, y])
    assert (gx, gy) == (4.0, 2.0)
    assert x.grad == 0.0 and y.grad == 0.0 and out.grad == 0.0
    assert all(type(g) is float for g in (gx, gy))


def test_grad_of_unrelated_input_is_zero() -> None:
    x, z = Value(2.0), Value(5.0)
    assert grad(x * x, [z]) == [0.0]
    (gz,) = grad(x * x, [z], create_graph=True)
    assert isinstance(gz, Value) and gz.data == 0.0


def test_grad_of_the_input_itself() -> None:
    x = Value(2.0)
    assert grad(x, [x]) == [1.0]


def test_higher_orders_of_a_polynomial() -> None:
    x = Value(1.5)
    f = x**4
    d1 = grad(f, [x], create_graph=True)[0]
    d2 = grad(d1, [x], create_graph=True)[0]
    d3 = grad(d2, [x], create_graph=True)[0]
    d4 = grad(d3, [x], create_graph=True)[0]
    d5 = grad(d4, [x])[0]
    assert d1.data == pytest.approx(4 * 1.5**3)
    assert d2.data == pytest.approx(12 * 1.5**2)
    assert d3.data == pytest.approx(24 * 1.5)
    assert d4.data == pytest.approx(24)
    assert d5 == 0.0


def test_mixed_second_derivative() -> None:
    x, y = Value(0.4), Value(-0.7)
    f = (x * y).sin() + x * x * y
    dx = grad(f, [x], create_graph=True)[0]
    dxy = grad(dx, [y])[0]
    # d2/dxdy [sin(xy) + x^2 y] = cos(xy) - xy sin(xy) + 2x
    xy = 0.4 * -0.7
    assert dxy == pytest.approx(math.cos(xy) - xy * math.sin(xy) + 0.8, rel=1e-14)


def test_create_graph_second_derivative_of_each_smooth_method() -> None:
    x0 = 0.6
    second = {
        "exp": math.exp(x0),
        "log": -1 / x0**2,
        "sqrt": -0.25 * x0**-1.5,
        "sin": -math.sin(x0),
        "cos": -math.cos(x0),
        "tanh": -2 * math.tanh(x0) * (1 - math.tanh(x0) ** 2),
    }
    for name, expected in second.items():
        x = Value(x0)
        d1 = grad(getattr(x, name)(), [x], create_graph=True)[0]
        assert grad(d1, [x])[0] == pytest.approx(expected, rel=1e-13), name


def test_grad_bad_input() -> None:
    x = Value(1.0)
    with pytest.raises(TypeError, match="output must be a Value"):
        grad(1.0, [x])  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="sequence of Values"):
        grad(x * x, x)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match=r"inputs\[1\] must be a Value"):
        grad(x * x, [x, 2.0])  # type: ignore[list-item]


def test_vsum_dot_logsumexp_values_and_gradients() -> None:
    w = [Value(0.5), Value(-1.0)]
    xs = [Value(2.0), Value(3.0)]
    b = Value(0.25)
    out = dot(w, xs, b)
    assert out.op == "dot" and out.parents == (*w, *xs, b)
    assert out.data == 0.5 * 2 - 3 + 0.25
    assert grad(out, [*w, *xs, b]) == [2.0, 3.0, 0.5, -1.0, 1.0]

    s = vsum([*xs, 1])
    assert s.op == "sum" and s.data == 6.0 and grad(s, xs) == [1.0, 1.0]

    big = logsumexp([Value(1000.0), Value(1000.0)])
    assert big.data == pytest.approx(1000 + math.log(2))
    a = [Value(0.1), Value(-0.3), Value(2.0)]
    z = sum(math.exp(v.data) for v in a)
    assert grad(logsumexp(a), a) == pytest.approx([math.exp(v.data) / z for v in a], rel=1e-14)


def test_nary_helpers_bad_input() -> None:
    with pytest.raises(ValueError, match="vsum: needs at least one term"):
        vsum([])
    with pytest.raises(ValueError, match="logsumexp: needs at least one term"):
        logsumexp([])
    with pytest.raises(ValueError, match="2 weights but 1 inputs"):
        dot([1.0, 2.0], [3.0])
    with pytest.raises(TypeError, match=r"dot.*str"):
        dot(["a"], [1.0])


def test_nary_helpers_under_no_grad() -> None:
    with no_grad():
        out = dot([1.0, 2.0], [3.0, 4.0], 0.5)
    assert out.data == 11.5 and out.parents == ()


def test_softmax_is_stable_sums_to_one_and_differentiates() -> None:
    zs = [Value(1000.0), Value(1001.0), Value(999.0)]
    ps = softmax(zs)
    e = [math.exp(-1.0), 1.0, math.exp(-2.0)]
    assert [p.data for p in ps] == pytest.approx([x / sum(e) for x in e], rel=1e-14)
    assert math.fsum(p.data for p in ps) == pytest.approx(1.0, abs=1e-15)
    # d p_0 / d z_j = p_0 (delta_0j - p_j)
    p0 = ps[0].data
    expected = [p0 * ((j == 0) - ps[j].data) for j in range(3)]
    assert grad(ps[0], zs) == pytest.approx(expected, rel=1e-12, abs=1e-16)
    with pytest.raises(ValueError, match="softmax: needs at least one term"):
        softmax([])
