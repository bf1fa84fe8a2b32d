"""Tests for micrograd_like.nn: structure, names, state, init, calling, dropout, gradients."""

from __future__ import annotations

import json
import math
import random
import statistics
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micrograd_like.engine import Value, no_grad
from micrograd_like.functional import grad, vsum
from micrograd_like.nn import (
    MLP,
    Dropout,
    Layer,
    Module,
    Neuron,
    Sequential,
    activation_op,
    make_rng,
)
from micrograd_like.ops import DOT, get_op

# ----------------------------------------------------------------------------- structure


def test_parameter_counts() -> None:
    assert MLP(2, [16, 16, 1], rng=0).num_parameters() == 3 * 16 + 17 * 16 + 17 == 337
    assert MLP(3, [4, 4, 1], rng=0).num_parameters() == 41  # micrograd README's example
    assert Layer(5, 3, rng=0).num_parameters() == 18
    assert Neuron(7, rng=0).num_parameters() == 8
    assert Dropout(0.5).num_parameters() == 0


def test_names_order_and_labels() -> None:
    m = MLP(2, [3, 1], rng=0)
    names = [n for n, _ in m.named_parameters()]
    assert names[:4] == [
        "layers.0.neurons.0.w.0",
        "layers.0.neurons.0.w.1",
        "layers.0.neurons.0.b",
        "layers.0.neurons.1.w.0",
    ]
    assert names[-1] == "layers.1.neurons.0.b" and len(set(names)) == len(names) == 13
    assert "layers.0.neurons.2.w.1" in names
    assert all(p.label == n for n, p in m.named_parameters())
    assert m.parameters() == [p for _, p in m.named_parameters()]
    assert list(m.state_dict()) == names


def test_neuron_alone_and_micrograds_parameter_order() -> None:
    n = Neuron(3, rng=0)
    assert [p.label for p in n.parameters()] == ["w.0", "w.1", "w.2", "b"]
    assert n.parameters() == [*n.w, n.b]


def test_generic_children_in_a_custom_module() -> None:
    class Pair(Module):
        def __init__(self) -> None:
            self.scale = Value(2.0)
            self.blocks = [Layer(2, 2, rng=1), Layer(2, 1, rng=2)]
            self.head = Neuron(1, "linear", rng=3)
            self.notes = ["not", "modules"]  # ignored: not Values or Modules
            self.shared = self.head  # the same module twice: its parameters listed once

        def forward(self, xs: list[Value]) -> list[Value]:
            for b in self.blocks:
                xs = b.forward(xs)
            return [x * self.scale for x in self.head.forward(xs)]

    m = Pair()
    names = [n for n, _ in m.named_parameters()]
    assert names[0] == "scale" and names[1] == "blocks.0.neurons.0.w.0"
    assert names[-2:] == ["head.w.0", "head.b"] and len(names) == 1 + 6 + 3 + 2
    assert m.scale.label == "scale"
    # the default float path (forward on leaves) agrees with the graph path
    out = m([0.5, -1.0])[0].data
    with no_grad():
        assert m([0.5, -1.0])[0].data == out


def test_repr_is_readable() -> None:
    text = repr(MLP(2, [16, 16, 1], rng=0))
    assert text.splitlines()[0] == "MLP(2 -> 16 -> 16 -> 1; 337 parameters)"
    assert "  layers.0: Layer(2 -> 16, relu; 48 parameters)" in text
    assert "    neurons.0-15: 16 x Neuron(2, relu; 3 parameters)" in text
    assert "  layers.2: Layer(16 -> 1, linear; 17 parameters)" in text
    assert repr(Dropout(0.25)) == "Dropout(p=0.25; 0 parameters)"


def test_train_eval_propagate() -> None:
    m = MLP(2, [4, 1], rng=0, dropout=0.5)
    assert all(x.training for x in m.modules())
    assert m.eval() is m
    assert not any(x.training for x in m.modules())
    assert m.dropout is not None and not m.dropout.training
    m.train()
    assert all(x.training for x in m.modules())
    with pytest.raises(TypeError, match="mode must be a bool"):
        m.train(1)  # type: ignore[arg-type]


def test_zero_grad() -> None:
    m = MLP(2, [3, 1], rng=0)
    m.scalar([1.0, 2.0]).backward()
    assert any(p.grad != 0.0 for p in m.parameters())
    m.zero_grad()
    assert all(p.grad == 0.0 for p in m.parameters())


# ----------------------------------------------------------------------------- state


def test_state_dict_json_round_trip() -> None:
    a, b = MLP(3, [4, 2], rng=1), MLP(3, [4, 2], rng=2)
    x = [0.3, -0.2, 0.9]
    assert [v.data for v in a(x)] != [v.data for v in b(x)]
    b.load_state_dict(json.loads(json.dumps(a.state_dict())))
    assert [v.data for v in a(x)] == [v.data for v in b(x)]
    assert b.state_dict() == a.state_dict()


def test_load_state_dict_accepts_ints() -> None:
    n = Neuron(1, rng=0)
    n.load_state_dict({"w.0": 2, "b": -1})
    assert (n.w[0].data, n.b.data) == (2.0, -1.0) and isinstance(n.b.data, float)


def _last(state: dict[str, Any]) -> str:
    return list(state)[-1]


@pytest.mark.parametrize(
    ("mutate", "error", "match"),
    [
        (lambda s: s.pop(_last(s)), ValueError, "missing 1 key"),
        (lambda s: s.update(extra=1.0), ValueError, "unexpected 1 key.*'extra'"),
        (lambda s: s.update({_last(s) + "x": s.pop(_last(s))}), ValueError, "missing.*unexpected"),
        (lambda s: s.update({_last(s): "1.0"}), TypeError, "must be a real number"),
        (lambda s: s.update({_last(s): None}), TypeError, "must be a real number"),
        (lambda s: s.update({_last(s): True}), TypeError, "must be a real number"),
        (lambda s: s.update({_last(s): [1.0]}), TypeError, "must be a real number"),
        (lambda s: s.update({_last(s): math.nan}), ValueError, "must be finite"),
        (lambda s: s.update({_last(s): -math.inf}), ValueError, "must be finite"),
    ],
)
def test_bad_state_changes_nothing(
    mutate: Callable[[dict[str, Any]], object], error: type[Exception], match: str
) -> None:
    m = MLP(2, [3, 1], rng=0)
    before = m.state_dict()
    bad = {k: 7.0 for k in before}  # every valid entry differs: a partial load would show
    mutate(bad)
    with pytest.raises(error, match=match):
        m.load_state_dict(bad)
    assert m.state_dict() == before


def test_load_state_dict_needs_a_mapping() -> None:
    m = Neuron(2, rng=0)
    with pytest.raises(TypeError, match="expected a dict"):
        m.load_state_dict([1.0, 2.0, 3.0])  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- init


def test_uniform_init_is_micrograds_draw_order() -> None:
    # micrograd: for each layer, each neuron: nin weights uniform(-1, 1), bias 0
    rng = random.Random(42)
    expected: list[float] = []
    for nin, nout in [(2, 16), (16, 16), (16, 1)]:
        for _ in range(nout):
            expected.extend(rng.uniform(-1.0, 1.0) for _ in range(nin))
            expected.append(0.0)
    assert [p.data for p in MLP(2, [16, 16, 1], rng=42).parameters()] == expected


def _weights(layer: Layer) -> list[float]:
    return [w.data for n in layer.neurons for w in n.w]


@pytest.mark.parametrize(
    ("init", "nin", "nout", "bound", "variance"),
    [
        ("uniform", 100, 100, 1.0, 1.0 / 3.0),
        ("xavier", 200, 50, math.sqrt(6.0 / 250.0), 2.0 / 250.0),
        ("he", 200, 50, None, 2.0 / 200.0),
    ],
)
def test_init_statistics(
    init: Any, nin: int, nout: int, bound: float | None, variance: float
) -> None:
    layer = Layer(nin, nout, init=init, rng=7)
    ws = _weights(layer)
    assert len(ws) == 10_000
    if bound is not None:
        assert max(abs(w) for w in ws) <= bound
        assert max(abs(w) for w in ws) > 0.99 * bound
    assert abs(statistics.fmean(ws)) < 0.05 * math.sqrt(variance)
    assert statistics.pvariance(ws) == pytest.approx(variance, rel=0.05)
    assert all(n.b.data == 0.0 for n in layer.neurons)


def test_he_init_is_normal_not_uniform() -> None:
    ws = _weights(Layer(200, 50, init="he", rng=3))
    sd = math.sqrt(2.0 / 200)
    # a normal puts ~4.6% of its mass beyond 2 sd; a uniform of that variance puts none
    assert 0.03 < sum(abs(w) > 2 * sd for w in ws) / len(ws) < 0.06


def test_seeds_reproduce() -> None:
    a = MLP(2, [8, 1], init="he", rng=5).state_dict()
    assert MLP(2, [8, 1], init="he", rng=5).state_dict() == a
    assert MLP(2, [8, 1], init="he", rng=random.Random(5)).state_dict() == a
    assert MLP(2, [8, 1], init="he", rng=6).state_dict() != a


def test_rng_none_draws_from_the_global_generator_in_micrograds_order() -> None:
    random.seed(7)
    a = MLP(2, [4, 1]).state_dict()
    random.seed(7)
    assert MLP(2, [4, 1]).state_dict() == a == MLP(2, [4, 1], rng=random.Random(7)).state_dict()
    # micrograd's order: layer by layer, neuron by neuron, one uniform(-1, 1) per weight, and
    # the bias starts at 0 without a draw
    random.seed(7)
    draws = iter([random.uniform(-1, 1) for _ in range(2 * 4 + 4 * 1)])
    assert [v for k, v in a.items() if not k.endswith(".b")] == list(draws)
    assert {v for k, v in a.items() if k.endswith(".b")} == {0.0}
    state = random.getstate()
    MLP(2, [4, 1])
    assert random.getstate() != state  # drawing advances the global generator
    state = random.getstate()
    MLP(2, [4, 1], rng=3)
    assert random.getstate() == state  # an explicit rng leaves it alone
    with pytest.raises(TypeError, match="rng must be"):
        make_rng("seed")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="rng must be"):
        make_rng(True)


# ----------------------------------------------------------------------------- calling


def test_neuron_layer_mlp_return_types() -> None:
    x = [0.5, -0.5]
    assert isinstance(Neuron(2, rng=0)(x), Value)
    # one output is the Value itself, as micrograd returns it; outputs() is always a list
    out = Layer(2, 1, rng=0)(x)
    assert isinstance(out, Value) and Layer(2, 1, rng=0).outputs(x)[0].data == out.data
    wide = Layer(2, 3, rng=0)(x)
    assert isinstance(wide, list) and len(wide) == 3
    m = MLP(2, [3, 1], rng=0)
    assert isinstance(m(x), Value) and m.nout == 1
    assert m.scalar(x).data == m(x).data == m.outputs(x)[0].data
    assert isinstance(MLP(2, [3, 2], rng=0)(x), list)
    with no_grad():
        assert isinstance(m(x), Value) and m(x).data == m.scalar(x).data
    with pytest.raises(ValueError, match="has 2 outputs"):
        MLP(2, [2], rng=0).scalar(x)


@pytest.mark.parametrize(("nin", "nouts"), [(2, [1, 1]), (3, [4, 1, 2]), (1, [1, 1, 1])])
def test_width_one_hidden_layers(nin: int, nouts: list[int]) -> None:
    m = MLP(nin, nouts, rng=3)
    out = m.outputs([0.7] * nin)
    assert len(out) == nouts[-1]
    vsum(out).backward()
    assert all(math.isfinite(p.grad) for p in m.parameters())


def test_inputs_of_every_kind() -> None:
    m = MLP(3, [2], rng=0)
    want = [v.data for v in m([1.0, 2.0, 3.0])]
    assert [v.data for v in m((1, 2, 3))] == want
    assert [v.data for v in m(np.array([1.0, 2.0, 3.0]))] == want
    assert [v.data for v in m([Value(1.0), 2, np.float32(3.0)])] == want
    x = Value(1.0)
    m([x, 2.0, 3.0])[0].backward()
    assert x.grad != 0.0  # gradients flow into Value inputs


@pytest.mark.parametrize(
    ("x", "error", "match"),
    [
        ([1.0, 2.0], ValueError, "MLP: expected 3 inputs, got 2"),
        ([1.0] * 4, ValueError, "expected 3 inputs, got 4"),
        (np.ones((1, 3)), ValueError, "expected a 1-D input, got an array with ndim=2"),
        ("abc", TypeError, "expected a sequence of inputs"),
        (Value(1.0), ValueError, "MLP: expected 3 inputs, got a single Value"),
        (3.0, TypeError, "expected a sequence of inputs"),
        ([1.0, None, 2.0], TypeError, "MLP: input 1 must be a number or a Value, got NoneType"),
        ([1.0, 2.0, True], TypeError, "input 2 must be a number or a Value, got bool"),
    ],
)
def test_bad_inputs(x: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        MLP(3, [2], rng=0)(x)


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: Neuron(0), ValueError, "Neuron: nin must be at least 1, got 0"),
        (lambda: Neuron(2.0), ValueError, "Neuron: nin must be an int, got float 2.0"),
        (lambda: Layer(2, 0), ValueError, "Layer: nout must be at least 1, got 0"),
        (lambda: MLP(2, []), ValueError, "nouts must be a non-empty list"),
        (lambda: MLP(2, [3, 0]), ValueError, "each layer width"),
        (lambda: MLP(2, [3.0]), ValueError, "each layer width"),
        (lambda: Neuron(2, init="glorot"), ValueError, "init must be one of"),
        (lambda: Neuron(2, activation="swish"), ValueError, "unknown activation 'swish'"),
        (lambda: Neuron(2, activation="add"), ValueError, "must be a unary op"),
        (lambda: Neuron(2, activation="pow"), ValueError, "needs parameters"),
        (lambda: Neuron(2, activation=3), TypeError, "activation must be a name or an Op"),
        (lambda: Sequential(), ValueError, "at least one module"),
        (lambda: Sequential(Layer(2, 2), "x"), TypeError, "item 1 must be a Module"),
    ],
)
def test_bad_construction(make: Callable[[], object], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        make()


def test_activations() -> None:
    assert activation_op("linear") is None
    assert activation_op("tanh") is get_op("tanh")
    assert activation_op("leaky_relu").describe() == "leaky_relu(0.01)"  # type: ignore[union-attr]
    slope = get_op("leaky_relu").bind(0.2)
    n = Neuron(1, activation=slope, rng=0)
    n.load_state_dict({"w.0": 1.0, "b": 0.0})
    assert n([-1.0]).data == -0.2 and n([-1.0]).op == "leaky_relu"
    for name in ("relu", "tanh", "sigmoid", "softplus", "silu", "elu", "sin"):
        out = Neuron(2, activation=name, rng=0)([0.3, 0.4])
        assert out.op == name and out.parents[0].op == "dot"
    assert Neuron(2, activation="linear", rng=0)([0.3, 0.4]).op == "dot"


def test_graph_shape_is_one_dot_and_one_activation_per_neuron() -> None:
    n = Neuron(3, rng=0)
    x = [Value(1.0), Value(2.0), Value(3.0)]
    out = n(x)
    (s,) = out.parents
    assert s.primitive is DOT and s.parents == (*n.w, *x, n.b)


# ----------------------------------------------------------------------------- no_grad path

floats = st.floats(-1e3, 1e3, allow_nan=False)


@settings(deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    x=st.lists(floats, min_size=3, max_size=3),
    activation=st.sampled_from(["relu", "tanh", "sigmoid", "linear", "silu", "leaky_relu"]),
    init=st.sampled_from(["uniform", "xavier", "he"]),
)
def test_no_grad_path_is_bit_identical(
    seed: int, x: list[float], activation: str, init: Any
) -> None:
    m = MLP(3, [5, 1, 4], activation=activation, output_activation="tanh", init=init, rng=seed)
    recorded = [v.data for v in m(x)]
    with no_grad():
        out = m(x)
    assert [v.data for v in out] == recorded
    assert all(v.op == "" and v.parents == () for v in out)


@given(
    ws=st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=8),
    data=st.data(),
)
def test_float_neuron_is_dot_forward_exactly(ws: list[float], data: st.DataObject) -> None:
    # cancellation-heavy sums: the float path must still give DOT.forward's exact rounding
    xs = data.draw(st.lists(st.floats(-1e6, 1e6), min_size=len(ws), max_size=len(ws)))
    b = data.draw(st.floats(-1e6, 1e6))
    n = Neuron(len(ws), activation="linear", rng=0)
    n.load_state_dict({**{f"w.{i}": w for i, w in enumerate(ws)}, "b": b})
    with no_grad():
        assert n(xs).data == DOT.forward(*ws, *xs, b)


@settings(max_examples=30)
@given(ws=st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=8), data=st.data())
def test_recorded_neuron_is_the_dot_op_exactly(ws: list[float], data: st.DataObject) -> None:
    # the recording path computes the node's value without the op's argument packing: the
    # value, the op and the parents must be what Value.apply(DOT, ...) records
    xs = data.draw(st.lists(st.floats(-1e6, 1e6), min_size=len(ws), max_size=len(ws)))
    b = data.draw(st.floats(-1e6, 1e6))
    n = Neuron(len(ws), activation="tanh", rng=0)
    n.load_state_dict({**{f"w.{i}": w for i, w in enumerate(ws)}, "b": b})
    out = n(xs)
    (s,) = out.parents
    expected = Value.apply(DOT, *n.w, *s.parents[len(ws) : 2 * len(ws)], n.b)
    assert (out.op, s.op, s.data) == ("tanh", "dot", expected.data)
    assert s.parents == (*n.w, *s.parents[len(ws) : 2 * len(ws)], n.b)
    assert [p.data for p in s.parents[len(ws) : 2 * len(ws)]] == xs
    assert out.data == math.tanh(expected.data)


def test_forward_errors_name_the_op_on_both_paths() -> None:
    # inf - inf inside the dot is NaN, as for floats, recording or not
    n = Neuron(2, activation="relu", rng=0)
    n.load_state_dict({"w.0": 1e308, "w.1": 1e308, "b": 0.0})
    assert math.isnan(n([1e308, -1e308]).data)
    with no_grad():
        assert math.isnan(n([1e308, -1e308]).data)
    log = Neuron(1, activation="log", rng=0)
    log.load_state_dict({"w.0": 1.0, "b": 0.0})
    for grad_on in (True, False):
        with pytest.raises(ValueError, match=r"^log\(-2\.0\)"):
            if grad_on:
                log([-2.0])
            else:
                with no_grad():
                    log([-2.0])


def test_no_grad_path_catches_a_different_sum() -> None:
    # the test above is sharp: a naive left-to-right sum differs from DOT's fsum here
    ws, xs, b = [1e16, 1.0, -1e16], [1.0, 1.0, 1.0], 0.0
    assert sum(w * x for w, x in zip(ws, xs, strict=True)) + b != DOT.forward(*ws, *xs, b)


def test_sequential() -> None:
    s = Sequential(Layer(2, 3, "tanh", rng=0), Dropout(0.5, rng=1), Layer(3, 1, "linear", rng=2))
    assert s.nin == 2 and s.num_parameters() == 9 + 4
    assert s.named_parameters()[0][0] == "layers.0.neurons.0.w.0"
    s.eval()
    y = s([0.1, 0.2]).data  # one output: the Value itself
    with no_grad():
        assert s([0.1, 0.2]).data == y
    assert s.nout == 1 and Sequential(Layer(2, 3, rng=0), Dropout(0.5)).nout == 3
    with pytest.raises(ValueError, match="Sequential: expected 2 inputs, got 3"):
        s([1.0, 2.0, 3.0])


# ----------------------------------------------------------------------------- dropout


def test_dropout_eval_is_identity() -> None:
    d = Dropout(0.5, rng=0).eval()
    x = [Value(1.0), Value(2.0)]
    assert d(x) == x


def test_dropout_train_zeroes_and_scales() -> None:
    d = Dropout(0.25, rng=0)
    out = d([1.0] * 4000)
    kept = [v.data for v in out if v.data != 0.0]
    assert set(kept) == {1.0 / 0.75}
    assert len(kept) / 4000 == pytest.approx(0.75, abs=0.03)
    assert statistics.fmean(v.data for v in out) == pytest.approx(1.0, abs=0.05)


def test_dropout_reproducible_and_same_in_both_paths() -> None:
    x = [float(i) for i in range(1, 50)]
    graph = [v.data for v in Dropout(0.3, rng=9)(x)]
    with no_grad():
        floats_ = [v.data for v in Dropout(0.3, rng=9)(x)]
    assert graph == floats_
    assert graph != [v.data for v in Dropout(0.3, rng=10)(x)]


def test_dropout_gradient() -> None:
    d = Dropout(0.5, rng=2)
    xs = [Value(1.0) for _ in range(20)]
    vsum(d(xs)).backward()
    assert {x.grad for x in xs} == {0.0, 2.0}


def test_mlp_dropout_option() -> None:
    m = MLP(2, [32, 32, 1], rng=0, dropout=0.5)
    plain = MLP(2, [32, 32, 1], rng=0)
    assert [n for n, _ in m.named_parameters()] == [n for n, _ in plain.named_parameters()]
    x = [0.4, -0.3]
    assert m(x).data != plain(x).data
    m.eval()
    assert m(x).data == plain(x).data


@pytest.mark.parametrize(
    ("p", "problem"),
    [
        (-0.1, r"in \[0, 1\), got -0\.1"),
        (1.0, r"in \[0, 1\), got 1\.0"),
        (1.5, r"in \[0, 1\), got 1\.5"),
        (math.nan, "finite, got nan"),
        (True, "a real number, got bool True"),
        ("0.5", "a real number, got str '0.5'"),
    ],
)
def test_dropout_bad_p(p: Any, problem: str) -> None:
    with pytest.raises(ValueError, match=f"Dropout: p must be {problem}"):
        Dropout(p)
    with pytest.raises(ValueError, match=f"Dropout: p must be {problem}"):
        MLP(2, [2, 1], dropout=p)


# ----------------------------------------------------------------------------- gradients


def _loss(m: MLP, xs: list[list[float]], ys: list[float]) -> Value:
    return vsum([(m.scalar(x) - y) ** 2 for x, y in zip(xs, ys, strict=True)])


def _worst_fd_error(m: MLP, grads: list[float], h: float = 1e-6) -> float:
    """Largest |analytic - central difference| / max(1, |fd|) over all parameters."""
    xs = [[0.5, -1.0, 2.0], [1.5, 0.3, -0.7], [-0.2, 0.8, 0.1]]
    ys = [1.0, -1.0, 0.5]
    worst = 0.0
    with no_grad():
        for p, g in zip(m.parameters(), grads, strict=True):
            x0 = p.data
            p.data = x0 + h
            up = _loss(m, xs, ys).data
            p.data = x0 - h
            down = _loss(m, xs, ys).data
            p.data = x0
            fd = (up - down) / (2 * h)
            worst = max(worst, abs(g - fd) / max(1.0, abs(fd)))
    return worst


def test_mlp_gradients_match_finite_differences() -> None:
    m = MLP(3, [4, 4, 1], activation="tanh", init="xavier", rng=11)
    xs = [[0.5, -1.0, 2.0], [1.5, 0.3, -0.7], [-0.2, 0.8, 0.1]]
    grads = grad(_loss(m, xs, [1.0, -1.0, 0.5]), m.parameters())
    assert _worst_fd_error(m, grads) < 1e-7
    # and the check is sharp: one wrong gradient is caught
    grads[5] += 1e-4
    assert _worst_fd_error(m, grads) > 1e-5


def test_layer_outputs_end_with_the_model_output_and_carry_gradients() -> None:
    model = MLP(2, [3, 4, 1], activation="tanh", rng=5)
    outs = model.layer_outputs([0.5, -1.0])
    assert [len(o) for o in outs] == [3, 4, 1]
    assert outs[-1][0].data == model.scalar([0.5, -1.0]).data
    outs[-1][0].backward()
    assert any(v.grad != 0.0 for v in outs[0])  # the graph's own nodes
    with no_grad():
        plain = model.layer_outputs([0.5, -1.0])
    assert [[v.data for v in o] for o in plain] == [[v.data for v in o] for o in outs]
    assert all(v.parents == () for o in plain for v in o)
    with pytest.raises(ValueError, match=r"MLP\.layer_outputs"):
        model.layer_outputs([1.0])


def test_layer_outputs_apply_dropout_between_hidden_layers() -> None:
    model = MLP(2, [50, 1], dropout=0.5, rng=1)
    hidden = model.layer_outputs([1.0, 1.0])[0]
    assert any(v.data == 0.0 for v in hidden)  # train mode: some units dropped
    model.eval()
    with no_grad():
        assert model.layer_outputs([1.0, 1.0])[-1][0].data == model.scalar([1.0, 1.0]).data


def test_mean_abs_grad_per_layer() -> None:
    model = MLP(2, [3, 1], rng=2)
    for p in model.parameters():
        p.grad = -2.0
    model.layers[1].neurons[0].b.grad = 4.0
    assert model.layers[0].mean_abs_grad() == 2.0
    assert model.layers[1].mean_abs_grad() == (3 * 2.0 + 4.0) / 4  # 3 weights and a bias
    with pytest.raises(ValueError, match="has no parameters"):
        Dropout(0.1).mean_abs_grad()


# ----------------------------------------------------------------------------- micrograd's nn


def test_nonlin_is_micrograds_switch_between_relu_and_linear() -> None:
    x = [0.3, -0.8]
    assert Neuron(2, nonlin=True, rng=1).nonlin and Neuron(2, rng=1).act is not None
    linear = Neuron(2, nonlin=False, rng=1)
    assert not linear.nonlin and repr(linear).startswith("Neuron(2, linear")
    assert linear(x).data == Neuron(2, "linear", rng=1)(x).data
    layer = Layer(2, 3, nonlin=False, rng=1)
    assert all(not n.nonlin for n in layer.neurons)
    assert layer.outputs(x)[0].data == Layer(2, 3, "linear", rng=1).outputs(x)[0].data
    with pytest.raises(TypeError, match=r"Neuron: give activation='tanh' or nonlin=True"):
        Neuron(2, "tanh", nonlin=True)
    with pytest.raises(TypeError, match=r"Layer: nonlin must be a bool"):
        Layer(2, 3, nonlin=1)  # type: ignore[arg-type]


def test_a_width_one_layer_feeds_the_next_one() -> None:
    # micrograd's width-1 layer returns a bare value that its next layer cannot take
    first, second = Layer(2, 1, rng=0), Layer(1, 2, rng=1)
    h = first([0.5, 0.25])
    assert isinstance(h, Value)
    out = second(h)
    assert isinstance(out, list) and out[0].parents[0].parents[1] is h
    assert Neuron(1, rng=2)(h).data == Neuron(1, rng=2)([h]).data
    with pytest.raises(ValueError, match="Neuron: expected 3 inputs, got a single Value"):
        Neuron(3, rng=0)(h)
    m = MLP(2, [1, 1], rng=4)
    m([0.5, 0.25]).backward()
    assert all(math.isfinite(p.grad) for p in m.parameters())
