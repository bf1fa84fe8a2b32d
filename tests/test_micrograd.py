"""micrograd's Value surface on the real engine: code written for micrograd runs unchanged.

Every pattern here is one micrograd code uses (its demo, its trace_graph notebook, the lecture's
manual step-through, the "write your own op" exercise, microgpt-style programs), written in this
project's own words. Each failed before issue 12: no ``_prev``, ``_op`` was an Op object,
``_backward`` did not exist, and a second positional argument was a label.
"""

from __future__ import annotations

import math
import pickle
import random
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from micrograd_like import Value, grad, trace_backward
from micrograd_like.backprop import topological_order

# ----------------------------------------------------------------------------- the constructor


def test_children_and_op_make_a_node_and_label_is_a_keyword() -> None:
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = Value(a.data * b.data, (a, b), "*", label="c")
    assert c.parents == (a, b) and c._prev == frozenset({a, b}) and c._op == "*"
    assert c.label == "c" and c.data == -6.0


def test_a_string_where_the_children_go_explains_the_keyword() -> None:
    with pytest.raises(TypeError, match=r"_children.*label by keyword: Value\(2\.0, label='x'\)"):
        Value(2.0, "x")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("children", "op", "error", "message"),
    [
        ((1.0,), "+", TypeError, "_children must hold Values, got float"),
        (Value(1.0), "+", TypeError, "_children must be a tuple of Values"),
        (3, "+", TypeError, "_children must be a tuple of Values"),
        ((), "+", ValueError, "given without _children"),
        ((Value(1.0),), 3, TypeError, "_op must be a str"),
    ],
)
def test_bad_children_and_ops_are_named(
    children: object, op: object, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        Value(1.0, children, op)  # type: ignore[arg-type]


def test_prev_is_read_only() -> None:
    x = Value(1.0)
    y = x + 1.0
    with pytest.raises(AttributeError):
        y._prev = frozenset()  # type: ignore[misc]
    assert x in y._prev and Value(1.0)._prev == frozenset()


@pytest.mark.parametrize(
    ("build", "spelled"),
    [
        (lambda a, b: a + b, "+"),
        (lambda a, b: a * b, "*"),
        (lambda a, b: a**2, "**2"),
        (lambda a, b: a**0.5, "**0.5"),
        (lambda a, b: (a / b).parents[1], "**-1"),  # micrograd's division: b ** -1
        (lambda a, b: a.relu(), "ReLU"),
        (lambda a, b: a.tanh(), "tanh"),
        (lambda a, b: a.exp(), "exp"),
        (lambda a, b: a, ""),
    ],
)
def test_op_is_spelled_as_micrograd_and_the_lecture_spell_it(
    build: Callable[[Value, Value], Value], spelled: str
) -> None:
    assert build(Value(1.5), Value(2.0))._op == spelled


# ----------------------------------------------------------------------------- graph walks


def _walk_prev(root: Value) -> tuple[set[Value], set[tuple[Value, Value]]]:
    # a graph walk through _prev, the way micrograd's diagram notebook collects nodes and edges
    nodes: set[Value] = set()
    edges: set[tuple[Value, Value]] = set()
    todo = [root]
    while todo:
        v = todo.pop()
        if v in nodes:
            continue
        nodes.add(v)
        for child in v._prev:
            edges.add((child, v))
            todo.append(child)
    return nodes, edges


def test_a_walk_through_prev_finds_the_whole_graph() -> None:
    x, y = Value(2.0, label="x"), Value(3.0, label="y")
    z = (x * y + x).relu() ** 2
    nodes, edges = _walk_prev(z)
    assert nodes == set(topological_order(z))
    assert len(edges) == sum(len(set(v.parents)) for v in nodes)
    assert {v._op for v in nodes} == {"", "*", "+", "ReLU", "**2"}


# ----------------------------------------------------------------------------- _backward


def _neuron() -> tuple[list[Value], Value]:
    # the lecture's two-input neuron, its bias chosen so that o is about 0.7071
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    n = x1 * w1 + x2 * w2 + b
    o = n.tanh()
    return [x1, x2, w1, w2, b], o


def test_stepping_backward_by_hand_with_backward_closures_matches_backward() -> None:
    leaves, o = _neuron()
    o.grad = 1.0
    for v in reversed(topological_order(o)):
        v._backward()  # one node at a time, from the output back
    by_hand = [v.grad for v in leaves]
    leaves2, o2 = _neuron()
    o2.backward()
    assert by_hand == [v.grad for v in leaves2]
    assert by_hand[2] == pytest.approx(1.0, abs=1e-6)  # do/dw1 = x1 (1 - o^2), about 1


def test_backward_closure_of_a_node_used_twice_adds_both_contributions() -> None:
    x = Value(3.0)
    y = x * x
    y.grad = 1.0
    y._backward()
    assert x.grad == 6.0


def test_backward_closure_of_a_leaf_does_nothing() -> None:
    x = Value(3.0)
    x.grad = 2.0
    x._backward()
    assert x.grad == 2.0


def _exp_micrograd_style(x: Value, wrong: bool = False) -> Value:
    out = Value(math.exp(x.data), (x,), "exp")

    def _backward() -> None:
        x.grad += (1.0 if wrong else out.data) * out.grad

    out._backward = _backward
    return out


def test_an_op_written_micrograd_style_takes_part_in_backward() -> None:
    x = Value(0.7, label="x")
    y = _exp_micrograd_style(x * 2.0) + x
    y.backward()
    assert x.grad == 2.0 * math.exp(1.4) + 1.0
    assert grad(y, [x]) == [x.grad]


def test_a_micrograd_style_node_is_traced_and_knows_its_local_gradients() -> None:
    x = Value(0.5, label="x")
    e = _exp_micrograd_style(x)
    assert e.primitive is not None and e.primitive.closure is not None
    assert e.local_grads() == [math.exp(0.5)]
    assert e._backward is e.primitive.closure  # the user's own function
    steps = trace_backward(e * 3.0)
    assert [s.node for s in steps] == [steps[0].node, steps[0].node, e]
    assert steps[-1].updates[0].contribution == 3.0 * math.exp(0.5)


def test_a_wrong_closure_gives_the_wrong_gradient_it_says() -> None:
    # the engine runs the user's rule as written (check_graph is what catches it)
    x = Value(0.5)
    _exp_micrograd_style(x, wrong=True).backward()
    assert x.grad == 1.0


def test_gradients_of_gradients_through_a_closure_are_refused_by_name() -> None:
    x = Value(0.5)
    y = _exp_micrograd_style(x) * x
    with pytest.raises(TypeError, match=r"micrograd-style node 'exp'.*no\s+derivative of its own"):
        grad(y, [x], create_graph=True)


def test_setting_backward_on_a_table_op_node_replaces_its_rule() -> None:
    x = Value(2.0)
    y = x * 3.0
    y._backward = lambda: None  # a node that passes nothing on
    assert y._op == "*"
    y.backward()
    assert x.grad == 0.0


def test_bad_backward_closures_are_named() -> None:
    with pytest.raises(TypeError, match="_backward must be a function"):
        (Value(1.0) + 1.0)._backward = 3  # type: ignore[assignment]
    with pytest.raises(ValueError, match="is a leaf"):
        Value(1.0)._backward = lambda: None
    x = Value(1.0)
    y = Value(2.0, (x,), "f")

    def bad() -> None:
        x._grad = "oops"  # type: ignore[assignment]  # past the property's check

    y._backward = bad
    with pytest.raises(TypeError, match=r"left the \.grad of its parent .* not a number"):
        y.backward()
    assert x.grad == 0.0  # put back, and nothing else changed


def test_a_closure_node_does_not_pickle() -> None:
    y = _exp_micrograd_style(Value(1.0)) + 1.0
    with pytest.raises(TypeError, match="micrograd-style node 'exp'"):
        pickle.dumps(y)


# ----------------------------------------------------------------------------- programs


def test_sum_of_a_generator_starts_from_zero_as_in_micrograd() -> None:
    xs = [Value(float(i)) for i in range(1, 4)]
    s = sum(x * x for x in xs)
    assert isinstance(s, Value) and s.data == 14.0
    s.backward()
    assert [x.grad for x in xs] == [2.0, 4.0, 6.0]
    assert (0 + xs[0]).parents[0] is xs[0]  # recorded as x + 0, as micrograd does


class Lean:
    """A closure-free scalar node, written for this test: children and local gradients are
    stored when the node is made, and backward sorts the graph recursively."""

    __slots__ = ("children", "data", "grad", "locals")

    def __init__(
        self, data: float, children: tuple[Lean, ...] = (), local: tuple[float, ...] = ()
    ) -> None:
        self.data, self.grad, self.children, self.locals = data, 0.0, children, local

    def __add__(self, other: Any) -> Lean:
        other = other if isinstance(other, Lean) else Lean(other)
        return Lean(self.data + other.data, (self, other), (1.0, 1.0))

    __radd__ = __add__

    def __mul__(self, other: Any) -> Lean:
        other = other if isinstance(other, Lean) else Lean(other)
        return Lean(self.data * other.data, (self, other), (other.data, self.data))

    __rmul__ = __mul__

    def __pow__(self, k: float) -> Lean:
        return Lean(self.data**k, (self,), (k * self.data ** (k - 1),))

    def __neg__(self) -> Lean:
        return self * -1.0

    def __sub__(self, other: Any) -> Lean:
        return self + (-other)

    def __truediv__(self, other: Any) -> Lean:
        return self * other**-1

    def exp(self) -> Lean:
        e = math.exp(self.data)
        return Lean(e, (self,), (e,))

    def log(self) -> Lean:
        return Lean(math.log(self.data), (self,), (1.0 / self.data,))

    def relu(self) -> Lean:
        return Lean(max(self.data, 0.0), (self,), (float(self.data > 0),))

    def backward(self) -> None:
        order: list[Lean] = []
        seen: set[int] = set()

        def visit(v: Lean) -> None:
            if id(v) not in seen:
                seen.add(id(v))
                for c in v.children:
                    visit(c)
                order.append(v)

        visit(self)
        self.grad = 1.0
        for v in reversed(order):
            for c, local in zip(v.children, v.locals, strict=True):
                c.grad += local * v.grad


def _tiny_language_model(make: Callable[[float], Any], seed: int) -> tuple[Any, list[Any]]:
    # a microgpt-shaped program in miniature: embeddings, a softmax over logits written with
    # exp/sum/division, a relu MLP, a cross-entropy with log, an RMS-style norm with **
    rng = random.Random(seed)
    vocab, dim = 5, 4
    emb = [[make(rng.gauss(0, 0.5)) for _ in range(dim)] for _ in range(vocab)]
    w1 = [[make(rng.gauss(0, 0.5)) for _ in range(dim)] for _ in range(dim)]
    w2 = [[make(rng.gauss(0, 0.5)) for _ in range(dim)] for _ in range(vocab)]
    params = [p for m in (emb, w1, w2) for row in m for p in row]
    losses = []
    for token, target in [(0, 1), (1, 2), (2, 4), (4, 3)]:
        x = emb[token]
        ms = sum(xi * xi for xi in x) / dim
        x = [xi * (ms + 1e-5) ** -0.5 for xi in x]
        h = [sum(w * xi for w, xi in zip(row, x, strict=True)).relu() for row in w1]
        logits = [sum(w * hi for w, hi in zip(row, h, strict=True)) for row in w2]
        exps = [lg.exp() for lg in logits]
        total = sum(exps)
        probs = [e / total for e in exps]
        losses.append(-probs[target].log())
    return sum(losses) * (1.0 / len(losses)), params


def test_a_microgpt_style_program_matches_a_lean_value() -> None:
    loss, params = _tiny_language_model(Value, 3)
    lean_loss, lean_params = _tiny_language_model(Lean, 3)
    assert loss.data == lean_loss.data  # the same forward arithmetic, bit for bit
    loss.backward()
    lean_loss.backward()
    for p, q in zip(params, lean_params, strict=True):
        # the same chain rule; a few rules round in another order (g * y x^(y-1)), so the
        # last bits may differ
        assert p.grad == pytest.approx(q.grad, rel=1e-12, abs=1e-15)


def _flat(xs: Iterable[Any]) -> list[float]:
    return [x.data for x in xs]


def test_micrograd_style_training_loop_runs_unchanged() -> None:
    # the loop shape of micrograd's demo: forward with plain operators, zero grads,
    # backward, p.data -= lr * p.grad
    rng = random.Random(0)
    w = [Value(rng.uniform(-1, 1)) for _ in range(3)]
    data = [((x, 1.0 - x), 1.0 if x > 0.5 else -1.0) for x in (0.1, 0.3, 0.7, 0.9)]
    first = last = 0.0
    for k in range(30):
        scores = [w[0] * a + w[1] * b + w[2] for (a, b), _ in data]
        losses = [(1 + -y * s).relu() for (_, y), s in zip(data, scores, strict=True)]
        loss = sum(losses) * (1.0 / len(losses))
        for p in w:
            p.grad = 0.0
        loss.backward()
        for p in w:
            p.data -= 0.5 * p.grad  # type: ignore[operator]
        first = loss.data if k == 0 else first
        last = loss.data
    assert last < first / 2
