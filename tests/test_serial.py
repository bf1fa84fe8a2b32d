"""Pickling and copying Values and ops: graphs of any depth round-trip with their sharing intact."""

from __future__ import annotations

import copy
import math
import pickle
import sys

import pytest

from micrograd_like import Value, define_op, get_op, grad, undefine_op
from micrograd_like.backprop import topological_order
from micrograd_like.functional import dot, vsum
from micrograd_like.testing import temporary_op


def _same_graph(a: Value, b: Value) -> None:
    # the same numbers, ops and shape, and none of the original objects
    ga, gb = topological_order(a), topological_order(b)
    assert len(ga) == len(gb)
    index_a = {v: i for i, v in enumerate(ga)}
    index_b = {v: i for i, v in enumerate(gb)}
    for u, v in zip(ga, gb, strict=True):
        assert u is not v
        assert (u.data, u.grad, u.label, u.op) == (v.data, v.grad, v.label, v.op)
        assert (u.primitive and u.primitive.params) == (v.primitive and v.primitive.params)
        assert [index_a[p] for p in u.parents] == [index_b[p] for p in v.parents]


def _example() -> tuple[list[Value], Value]:
    x, y = Value(0.5, label="x"), Value(-2.0, label="y")
    h = (x * y + 1.0).tanh()
    out = vsum([h**2, dot([x, y], [h, h], 0.25), (x / y).leaky_relu(0.1), x.clamp(0.0, 1.0)])
    out.label = "out"
    return [x, y], out


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_a_graph_pickles_and_its_gradients_come_back_the_same(protocol: int) -> None:
    leaves, out = _example()
    out.backward()
    back = pickle.loads(pickle.dumps(out, protocol=protocol))
    _same_graph(out, back)
    new_leaves = [v for v in topological_order(back) if v.label in ("x", "y")]
    assert grad(back, new_leaves) == grad(out, leaves)


def test_deepcopy_and_copy() -> None:
    _, out = _example()
    _same_graph(out, copy.deepcopy(out))
    shallow = copy.copy(out)
    assert shallow is not out and shallow.parents == out.parents and shallow.data == out.data


def test_leaves_shared_between_pickled_objects_stay_shared() -> None:
    w = Value(1.5, label="w")
    a, b = w * 2.0, w + 1.0
    a2, b2, w2 = pickle.loads(pickle.dumps((a, b, w)))
    assert a2.parents[0] is w2 and b2.parents[0] is w2
    c2, d2 = pickle.loads(pickle.dumps((a + b, a)))  # an inner node pickled again on its own
    assert c2.parents[0] is d2


@pytest.mark.parametrize("depth", [5_000, 100_000])
def test_deep_graphs_pickle_and_deepcopy_at_the_default_recursion_limit(depth: int) -> None:
    assert sys.getrecursionlimit() <= 1000 * 10  # no raised limit helps here
    x = v = Value(0.1, label="x")
    for i in range(depth):
        v = v * 1.0001 + 0.5 if i % 2 else (v - 0.5) * 0.9999
    back = pickle.loads(pickle.dumps(v))
    assert back.data == v.data
    assert grad(back, [topological_order(back)[0]]) == grad(v, [x])
    if depth <= 5_000:
        assert copy.deepcopy(v).data == v.data


def test_ops_pickle_by_name_and_params() -> None:
    for op in (get_op("add"), get_op("pow").bind(2.5), get_op("clamp").bind(-1.0, 1.0)):
        back = pickle.loads(pickle.dumps(op))
        assert (back.name, back.params, back.derivative) == (op.name, op.params, op.derivative)


def test_a_custom_op_pickles_while_it_is_defined() -> None:
    with temporary_op("cube", 1, lambda x: x**3, lambda m, g, out, x: (3 * g * x * x,)) as cube:
        y = cube(Value(2.0))
        data = pickle.dumps(y)
        assert pickle.loads(data).data == 8.0
    with pytest.raises(KeyError, match="no op named 'cube'"):
        pickle.loads(data)
    op = define_op("cube", 1, lambda x: x**3, lambda m, g, out, x: (3 * g * x * x,))
    try:
        assert pickle.loads(data).primitive is op
    finally:
        undefine_op("cube")


def test_values_under_no_grad_and_gradient_states_round_trip() -> None:
    x = Value(math.pi, label="π")
    x.grad = None
    back = pickle.loads(pickle.dumps(x))
    assert back.grad is None and back.label == "π" and back.data == math.pi
