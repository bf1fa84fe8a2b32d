"""Issue 11's guarantees for modules, optimizers, training, data and the command line.

Each test here failed on the code before its fix: widths between modules, optimizers that do
not belong to the model, state that would be loaded half-checked, NaN scored as right, numpy
labels, unordered inputs, non-bool flags, module cycles and quadratic attribute assignment.
"""

from __future__ import annotations

import copy
import math
import pickle
from typing import Any

import numpy as np
import pytest

from micrograd_like.engine import Value, no_grad
from micrograd_like.losses import accuracy, predictions
from micrograd_like.nn import MLP, Dropout, Layer, Module, Neuron, Sequential
from micrograd_like.train import evaluate, fit

# ----------------------------------------------------------------------------- item 3: widths


def test_a_width_mismatch_inside_sequential_names_the_module_and_both_widths() -> None:
    model = Sequential(Layer(2, 3, rng=0), Layer(4, 1, rng=1))
    with pytest.raises(ValueError, match=r"Sequential\.1 \(Layer\): expected 4 inputs, got 3"):
        model([1.0, 2.0])
    with no_grad(), pytest.raises(ValueError, match=r"Sequential\.1 \(Layer\)"):
        model([1.0, 2.0])


def test_a_nested_mismatch_names_the_whole_path() -> None:
    inner = Sequential(Layer(2, 3, rng=0), Dropout(0.0), Layer(4, 1, rng=1))
    outer = Sequential(Layer(2, 2, rng=2), inner)
    with pytest.raises(ValueError, match=r"Sequential\.1 \(Sequential\)\.2 \(Layer\): expected 4"):
        outer([1.0, 2.0])


def test_a_layer_replaced_by_hand_in_an_mlp_is_checked() -> None:
    model = MLP(2, [3, 1], rng=0)
    model.layers[1] = Layer(5, 1, rng=0)
    with pytest.raises(ValueError, match=r"MLP\.1 \(Layer\): expected 5 inputs, got 3"):
        model([1.0, 2.0])
    with no_grad(), pytest.raises(ValueError, match=r"MLP\.1 \(Layer\)"):
        model([1.0, 2.0])
    with pytest.raises(ValueError, match=r"MLP\.1 \(Layer\)"):
        model.layer_outputs([1.0, 2.0])


def test_every_module_checks_its_own_width() -> None:
    for module, nin in ((Neuron(3, rng=0), 3), (Layer(3, 2, rng=0), 3), (MLP(3, [2], rng=0), 3)):
        name = type(module).__name__
        with pytest.raises(ValueError, match=rf"{name}: expected {nin} inputs, got 2"):
            module([1.0, 2.0])


def test_fit_refuses_a_model_whose_widths_do_not_chain() -> None:
    model = Sequential(Layer(2, 3, rng=0), Layer(4, 1, rng=1))
    before = model.state_dict()
    with pytest.raises(ValueError, match=r"fit: .*Sequential\.1 \(Layer\): expected 4 inputs"):
        fit(model, [[0.0, 1.0], [1.0, 0.0]], [1, -1], loss="hinge", epochs=2, progress=False)
    assert model.state_dict() == before


# ----------------------------------------------------------------------------- item 16: NaN


def test_accuracy_never_credits_nan() -> None:
    nan = float("nan")
    assert accuracy([nan, nan], [1, -1]) == 0.0
    assert accuracy([Value(nan), Value(2.0)], [-1, 1]) == 0.5
    assert accuracy([[nan, 0.0], [0.0, nan]], [0, 1], labels=None) == 0.0
    assert math.isnan(predictions([nan])[0])


def test_a_diverged_model_scores_zero_in_evaluate() -> None:
    model = MLP(2, [1], rng=0)
    model.layers[0].neurons[0].b.data = float("nan")
    X, y = [[0.0, 1.0], [1.0, 0.0]], [1, -1]
    assert evaluate(model, X, y, loss="hinge")["accuracy"] == 0.0


# ----------------------------------------------------------------------------- item 21: cycles


def test_a_module_cannot_contain_itself_and_stays_usable() -> None:
    m = MLP(2, [3, 1], rng=0)
    names = [n for n, _ in m.named_parameters()]
    with pytest.raises(ValueError, match=r"MLP\.child: .*cannot contain itself"):
        m.child = m
    assert "child" not in vars(m)
    assert [n for n, _ in m.named_parameters()] == names
    assert len(_as_list(m([1.0, 2.0]))) == 1  # a Value or a one-item list


def test_longer_cycles_are_refused_too() -> None:
    a, b, c = Sequential(Layer(1, 1, rng=0)), Sequential(Layer(1, 1, rng=1)), Module()
    a.next = b
    b.next = c
    with pytest.raises(ValueError, match=r"Module\.back: this Sequential contains the Module"):
        c.back = a
    with pytest.raises(ValueError, match="cannot contain itself"):
        c.items = [Layer(1, 1, rng=0), a]
    assert not hasattr(c, "back") and not hasattr(c, "items")
    # a loop made behind __setattr__'s back (a list changed in place) is named, not a crash
    b.layers.append(a)
    with pytest.raises(ValueError, match="module cycle"):
        a.parameters()
    assert len(a.modules()) == 7  # a, b, c and two layers with a neuron each, once each


class _CountingValue(Value):
    """A Value that counts how often its label is read or written."""

    __slots__ = ()
    touched = 0

    @property  # type: ignore[override]
    def label(self) -> str:
        _CountingValue.touched += 1
        return Value.label.fget(self)  # type: ignore[attr-defined,no-any-return]

    @label.setter
    def label(self, text: str) -> None:
        _CountingValue.touched += 1
        Value.label.fset(self, text)  # type: ignore[attr-defined]


def _label_work(n: int) -> int:
    m = Module()
    _CountingValue.touched = 0
    for i in range(n):
        setattr(m, f"p{i}", _CountingValue(float(i)))
    return _CountingValue.touched


def test_assigning_parameters_one_by_one_is_linear() -> None:
    small, large = _label_work(1000), _label_work(4000)
    assert large <= 6 * small  # linear gives 4x; the old relabel-everything gave 16x
    m = Module()
    for i in range(50):
        setattr(m, f"p{i}", Value(float(i)))
    assert all(p.label == n for n, p in m.named_parameters())


def test_a_shared_parameter_keeps_its_first_name() -> None:
    m = Module()
    w = Value(1.0)
    m.a = w
    m.b = w
    m.c = [Value(2.0), w]
    assert [n for n, _ in m.named_parameters()] == ["a", "c.0"]
    assert w.label == "a"
    assert all(p.label == n for n, p in m.named_parameters())


# ----------------------------------------------------------------------------- pickle, deepcopy


@pytest.mark.parametrize(
    "make",
    [
        lambda: MLP(2, [4, 4, 1], rng=0, dropout=0.25),
        lambda: Sequential(Layer(2, 3, "tanh", rng=0), Dropout(0.5, rng=1), Layer(3, 2, rng=2)),
        lambda: Neuron(3, "sigmoid", rng=0),
    ],
)
def test_models_pickle_and_deepcopy_round_trip(make: Any) -> None:
    model = make().eval()
    x = [0.5, -0.25, 0.75][: model.nin]
    want = [v.data for v in _as_list(model(x))]
    for copied in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        assert copied.state_dict() == model.state_dict()
        assert [p.label for p in copied.parameters()] == [p.label for p in model.parameters()]
        assert [v.data for v in _as_list(copied(x))] == want
        assert not set(map(id, copied.parameters())) & set(map(id, model.parameters()))


def _as_list(out: Any) -> list[Value]:
    return [out] if isinstance(out, Value) else list(out)


# ----------------------------------------------------------------------------- item 7: fit


def _xy() -> tuple[list[list[float]], list[int]]:
    return [[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [1, -1, 1]


def test_fit_refuses_an_optimizer_built_on_another_model() -> None:
    from micrograd_like.optim import SGD, Adam

    model, other = MLP(2, [3, 1], rng=0), MLP(2, [3, 1], rng=1)
    before = model.state_dict()
    with pytest.raises(ValueError, match=r"fit: optimizer .* holds 13 parameter\(s\) the model"):
        fit(model, *_xy(), loss="hinge", optimizer=SGD(other.parameters(), 0.1), progress=False)
    with pytest.raises(ValueError, match=r"misses 4 of the model's parameter\(s\) \(layers\.1"):
        part = model.layers[0].parameters()
        fit(model, *_xy(), loss="hinge", optimizer=Adam(part), progress=False)
    extra = Value(0.0)
    with pytest.raises(ValueError, match=r"lacks \(first: params\[13\]"):
        opt = SGD([*model.parameters(), extra], 0.1)
        fit(model, *_xy(), loss="hinge", optimizer=opt, progress=False)
    assert model.state_dict() == before
    # the same parameters in another order are fine
    opt = SGD(model.parameters()[::-1], 0.1)
    assert fit(model, *_xy(), loss="hinge", optimizer=opt, epochs=2, progress=False).epochs == 2


def test_fit_names_a_bad_callbacks_argument() -> None:
    model = MLP(2, [1], rng=0)
    with pytest.raises(TypeError, match="fit: callbacks must be a list"):
        fit(model, *_xy(), loss="hinge", callbacks=None, progress=False)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"fit: callbacks\[0\] is not callable"):
        fit(model, *_xy(), loss="hinge", callbacks=[1], progress=False)  # type: ignore[list-item]


# ----------------------------------------------------------------------------- item 18: data


def test_lists_of_numpy_scalar_labels_are_labels() -> None:
    from micrograd_like.data import as_rows, as_targets, train_test_split

    assert as_targets([np.int64(1), np.int32(-1)]) == [1, -1]
    assert all(type(t) is int for t in as_targets([np.int64(1), np.int8(0)]))
    assert as_targets([np.float64(0.5), np.float32(0.25)]) == [0.5, 0.25]
    assert as_targets(np.array([[1], [0]])) == [1, 0]
    assert as_rows([[np.float32(1.5), np.int64(2)]]) == [[1.5, 2.0]]
    with pytest.raises(TypeError, match=r"y\[0\] must be a real number, got bool"):
        as_targets([np.bool_(True)])
    model = MLP(2, [1], rng=0)
    X = [[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]
    y = [np.int64(t) for t in (1, -1, 1, -1)]
    assert fit(model, X, y, loss="hinge", epochs=2, progress=False).epochs == 2
    assert len(train_test_split(X, y, seed=0)[3]) == 1


@pytest.mark.parametrize("bad", [{1.0, 2.0}, {1.0: 0, 2.0: 1}, frozenset({1.0, 2.0})])
def test_sets_and_dicts_are_refused_wherever_data_enters(bad: Any) -> None:
    from micrograd_like.data import as_rows, as_targets

    with pytest.raises(TypeError, match="no order"):
        as_rows(bad)
    with pytest.raises(TypeError, match="no order"):
        as_rows([bad])
    with pytest.raises(TypeError, match="no order"):
        as_targets(bad)
    for module in (MLP(2, [1], rng=0), Layer(2, 2, rng=0), Neuron(2, rng=0)):
        with pytest.raises(TypeError, match=rf"{type(module).__name__}: .*no input order"):
            module(bad)
    with pytest.raises(TypeError, match=r"fit X: .*no order"):
        fit(MLP(2, [1], rng=0), bad, [1, -1], loss="hinge", progress=False)


@pytest.mark.parametrize("value", ["yes", 1, None, np.bool_(True)])
def test_flags_must_be_real_bools(value: Any) -> None:
    from micrograd_like.data import make_circles, make_moons, make_xor
    from micrograd_like.functional import grad
    from micrograd_like.optim import SGD, RMSProp
    from micrograd_like.views import GraphView

    x = Value(1.0)
    calls = [
        ("make_moons: signed", lambda: make_moons(4, signed=value)),
        ("make_circles: signed", lambda: make_circles(4, signed=value)),
        ("make_xor: signed", lambda: make_xor(4, signed=value)),
        ("create_graph", lambda: grad(x * x, [x], create_graph=value)),
        ("SGD: nesterov", lambda: SGD([x], 0.1, momentum=0.5, nesterov=value)),
        ("RMSProp: centered", lambda: RMSProp([x], centered=value)),
        ("fit: shuffle", lambda: fit(MLP(1, [1]), [[1.0]], [1], loss="mse", shuffle=value)),
        ("train: mode", lambda: MLP(1, [1]).train(value)),
        ("GraphView: expand", lambda: GraphView(x, expand=value)),
    ]
    for what, call in calls:
        with pytest.raises(TypeError, match=what):
            call()


# ----------------------------------------------------------------------------- item 19: messages


def test_huge_ints_are_value_errors_naming_the_argument() -> None:
    from micrograd_like.data import make_moons
    from micrograd_like.optim import SGD, clip_grad_norm

    huge = 10**400
    cases = [
        ("SGD: lr", lambda: SGD([Value(1.0)], lr=huge)),
        ("make_moons: noise", lambda: make_moons(4, noise=huge)),
        ("clip_grad_norm: max_norm", lambda: clip_grad_norm([Value(1.0)], huge)),
        ("Dropout: p", lambda: Dropout(huge)),
        ("MLP: input 1 is too large", lambda: MLP(2, [1], rng=0)([1.0, huge])),
        ("MLP: input 1 is too large for a float: <an int", lambda: MLP(2, [1])([1.0, 10**5000])),
    ]
    for what, call in cases:
        with pytest.raises(ValueError, match=what):
            call()
    # an int too long to print (over 4300 digits) is described, not printed
    with pytest.raises(ValueError, match=r"make_moons: n must be at least 1, got <an int of"):
        make_moons(-(10**5000))


def test_clip_grad_value_changes_nothing_when_an_item_is_bad() -> None:
    from micrograd_like.optim import clip_grad_value

    a, b = Value(1.0), Value(2.0)
    a.grad, b.grad = 5.0, -7.0
    with pytest.raises(TypeError, match=r"clip_grad_value: params\[2\] must be a Value"):
        clip_grad_value([a, b, "c"], 1.0)  # type: ignore[list-item]
    assert (a.grad, b.grad) == (5.0, -7.0)
    clip_grad_value([a, b], 1.0)
    assert (a.grad, b.grad) == (1.0, -1.0)


def test_a_string_divided_by_a_value_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        "abc" / Value(0.0)  # type: ignore[operator]


# ----------------------------------------------------------------------------- item 10: optim


def _stepped(make: Any) -> tuple[list[Value], Any]:
    ps = [Value(0.5), Value(-1.5)]
    opt = make(ps)
    for p, g in zip(ps, (0.25, -0.75), strict=True):
        p.grad = g
    opt.step()
    return ps, opt


SECOND_MOMENTS = [
    (lambda ps: __import__("micrograd_like.optim").optim.Adam(ps), "exp_avg_sq"),
    (lambda ps: __import__("micrograd_like.optim").optim.AdamW(ps), "exp_avg_sq"),
    (lambda ps: __import__("micrograd_like.optim").optim.RMSProp(ps), "square_avg"),
    (lambda ps: __import__("micrograd_like.optim").optim.Adagrad(ps), "sum"),
]


@pytest.mark.parametrize(("make", "buffer"), SECOND_MOMENTS)
def test_negative_second_moments_are_refused_on_load(make: Any, buffer: str) -> None:
    _ps, opt = _stepped(make)
    good = opt.state_dict()
    bad = copy.deepcopy(good)
    bad["state"][buffer][1] = -1e-3
    with pytest.raises(ValueError, match=rf"state\['state'\]\['{buffer}'\]\[1\] must be >= 0"):
        opt.load_state_dict(bad)
    assert opt.state_dict() == good
    opt.step()  # still steps normally
    assert opt.steps == 2


@pytest.mark.parametrize(
    ("mutate", "error", "match"),
    [
        (lambda s: s.update(steps=10**30), ValueError, r"steps'\] must be at most 2\*\*53"),
        (lambda s: s.update(steps=10**5000), ValueError, r"must be at most 2\*\*53, got <an int"),
        (lambda s: s.update(steps=-1), ValueError, "at least 0"),
        (lambda s: s.update(steps=True), ValueError, "must be an int"),
        (lambda s: s.update(steps=1.0), ValueError, "must be an int"),
        (lambda s: s["state"].update(exp_avg=[0.0]), ValueError, "must hold 2 numbers"),
        (lambda s: s["state"].update(exp_avg="ab"), TypeError, "must be a list of 2 numbers"),
        (lambda s: s["state"]["exp_avg"].__setitem__(0, math.inf), ValueError, "must be finite"),
        (lambda s: s["state"]["exp_avg"].__setitem__(0, 10**400), ValueError, "too large"),
        (lambda s: s["state"].update({"x" * 10**7: []}), ValueError, r"unexpected 'xxx.*\.\.\."),
        (lambda s: s.update({("k",) * 10**6: 1}), ValueError, r"unexpected \(.*\.\.\."),
        (lambda s: s.update(optimizer="y" * 10**7), ValueError, r"is 'yyy.*\.\.\., not 'Adam'"),
        (lambda s: s.update(state=[1]), TypeError, r"state\['state'\] must be a dict"),
    ],
)
def test_every_part_of_an_optimizer_state_is_checked(mutate: Any, error: Any, match: str) -> None:
    from micrograd_like.optim import Adam

    _ps, opt = _stepped(lambda ps: Adam(ps, lr=0.1))
    good = opt.state_dict()
    bad = copy.deepcopy(good)
    mutate(bad)
    with pytest.raises(error, match=match) as info:
        opt.load_state_dict(bad)
    assert len(str(info.value)) < 400
    assert opt.state_dict() == good


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSProp", "Adagrad"])
def test_a_step_that_would_overflow_changes_nothing(name: str) -> None:
    from micrograd_like import optim

    ps = [Value(1.0), Value(1e308)]
    opt = getattr(optim, name)(ps, lr=0.5 if name != "SGD" else 1e10)
    ps[0].grad, ps[1].grad = 1.0, -1e300
    before = (opt.state_dict(), [p.data for p in ps])
    with pytest.raises(ValueError, match=rf"{name}\.step: the update would make params\[1\]"):
        opt.step()
    assert (opt.state_dict(), [p.data for p in ps]) == before
    ps[1].grad = 0.0
    opt.step()
    assert opt.steps == 1 and ps[0].data < 1.0


# ----------------------------------------------------------------------------- item 20: CLI


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--points", "99999999999999999999"], "--points: must be at most 10000, got 9999"),
        (["--points", "1" + "0" * 5000], "--points: invalid positive int value: '1000"),
        (["--noise", "1e308"], "--noise: must be in [0, 10], got 1e+308"),
        (["--lr", "1e308"], "--lr: must be in (0, 100], got 1e+308"),
        (["--alpha", "1e308"], "--alpha: must be in [0, 10], got 1e+308"),
        (["--alpha", "nan"], "--alpha: must be finite, got nan"),
        (["--steps", "1000000000"], "--steps: must be at most 100000"),
        (["--seed", "-1"], "--seed: must be at least 0, got -1"),
        (["--seed", str(2**70)], "--seed: must be at most 9223372036854775807"),
        (["--sizes", "16,100000"], "--sizes: expected widths from 1 to 512"),
        (["--sizes", ",".join(["4"] * 11)], "--sizes: at most 10 hidden layers, got 11"),
    ],
)
def test_every_cli_option_is_bounded_with_one_line(
    args: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from micrograd_like.__main__ import build_parser

    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["demo", *args])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    last = err.strip().splitlines()[-1]
    assert words in last and len(last) < 300 and "Traceback" not in err


def test_a_huge_point_count_exits_with_status_2_at_once() -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "micrograd_like", "demo", "--points", "99999999999999999999"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "--points: must be at most 10000" in result.stderr


def test_a_diverging_demo_is_one_line(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    from micrograd_like.__main__ import main

    # L2 at alpha 10 with lr 100 multiplies every weight by about -2000 a step: overflow
    args = ["--lr", "100", "--alpha", "10", "--sizes", "4", "--points", "10", "--steps", "200"]
    args += ["--out", str(tmp_path), "-q"]
    assert main(["demo", *args]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("micrograd_like demo: error: training diverged")
    assert "smaller --lr" in err and len(err.splitlines()) == 1


def test_module_load_state_dict_shortens_a_huge_unexpected_key() -> None:
    model = MLP(2, [1], rng=0)
    state = model.state_dict()
    before = dict(state)
    state["k" * 10**7] = 1.0
    with pytest.raises(ValueError, match=r"unexpected 1 key\(s\): 'kkk.*\.\.\.") as info:
        model.load_state_dict(state)
    assert len(str(info.value)) < 300
    assert model.state_dict() == before


def test_an_impossible_width_is_refused_before_any_weight_is_made() -> None:
    for make, where in (
        (lambda: MLP(10**400, [1]), "MLP would have"),
        (lambda: MLP(2, [16, 10**9]), "MLP would have"),
        (lambda: Layer(10**5, 10**5), r"Layer\(100000, 100000\) would have"),
        (lambda: Neuron(10**12), r"Neuron\(nin=1000000000000\) would have"),
    ):
        with pytest.raises(ValueError, match=where):
            make()


def test_an_interrupt_while_the_update_lands_keeps_parameters_and_state_together(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from micrograd_like import optim
    from micrograd_like.engine import assign_data

    ps = [Value(1.0), Value(2.0)]
    opt = optim.Adam(ps, lr=0.1)
    ps[0].grad, ps[1].grad = 0.5, -0.5

    def assign_then_interrupt(leaves: Any, numbers: Any) -> None:
        assign_data(leaves, numbers)
        raise KeyboardInterrupt

    monkeypatch.setattr(optim, "assign_data", assign_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        opt.step()
    assert ps[0].data != 1.0 and opt.steps == 1 and opt.state["exp_avg"][0] != 0.0

    def interrupt_first(leaves: Any, numbers: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(optim, "assign_data", interrupt_first)
    before = ([p.data for p in ps], opt.state_dict())
    with pytest.raises(KeyboardInterrupt):
        opt.step()
    assert ([p.data for p in ps], opt.state_dict()) == before


def test_sizes_that_would_fill_the_memory_are_refused_at_once() -> None:
    from micrograd_like import data
    from micrograd_like.train import decision_boundary

    for name in ("make_moons", "make_circles", "make_xor", "make_spirals"):
        with pytest.raises(ValueError, match=rf"{name}: n must be at most 50,000,000, got 1"):
            getattr(data, name)(10**20)
    with pytest.raises(ValueError, match=r"make_blobs: n \* dim must be at most 100,000,000"):
        data.make_blobs(10**6, dim=1000)
    with pytest.raises(ValueError, match="decision_boundary: resolution must be at most 2,000"):
        decision_boundary(MLP(2, [1], rng=0), [[0.0, 0.0], [1.0, 1.0]], [0, 1], resolution=10**9)


def test_save_html_without_a_path_names_the_argument() -> None:
    from micrograd_like.stepper import Stepper

    with pytest.raises(TypeError, match=r"Stepper\.save_html: path must be"):
        Stepper(Value(1.0) * 2.0).save_html(None)  # type: ignore[arg-type]


def test_a_bad_loss_names_the_function() -> None:
    X, y = _xy()
    with pytest.raises(ValueError, match="fit: unknown loss 'huber'"):
        fit(MLP(2, [1], rng=0), X, y, loss="huber", progress=False)
    with pytest.raises(TypeError, match="evaluate: loss must be a name"):
        evaluate(MLP(2, [1], rng=0), X, y, loss=3)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [{1, 0}, {0: 1, 1: 0}])
def test_losses_and_accuracy_refuse_sets_and_dicts(bad: Any) -> None:
    from micrograd_like.losses import bce_with_logits, cross_entropy, hinge, mse

    rows = [[Value(1.0), Value(2.0)], [Value(3.0), Value(0.0)]]
    scores = [Value(0.5), Value(-0.5)]
    for call in (
        lambda: cross_entropy(rows, bad),
        lambda: accuracy(rows, bad, labels=None),
        lambda: hinge(scores, bad),
        lambda: bce_with_logits(scores, bad),
        lambda: mse(scores, bad),
        lambda: predictions(bad),
    ):
        with pytest.raises(TypeError, match="no order"):
            call()
    with pytest.raises(TypeError, match="example 0 must be a row of class logits"):
        cross_entropy([{Value(1.0), Value(2.0)}], [0])


def test_fit_shortens_huge_bad_values_in_its_messages() -> None:
    X, y = _xy()
    huge = "z" * 10**6
    for kwargs in ({"optimizer": huge}, {"metrics": [huge]}, {"progress": huge}):
        with pytest.raises(ValueError, match="zzz") as info:
            fit(MLP(2, [1], rng=0), X, y, loss="hinge", **kwargs)  # type: ignore[arg-type]
        assert len(str(info.value)) < 300


def test_schedules_refuse_lengths_beyond_2_to_the_53() -> None:
    from micrograd_like.optim import CosineDecay, LinearDecay, StepDecay

    for make, what in (
        (lambda: LinearDecay(1.0, 0.1, 10**400), "LinearDecay: steps"),
        (lambda: StepDecay(1.0, 2**54), "StepDecay: step_size"),
        (lambda: CosineDecay(1.0, 2**53 + 1), "CosineDecay: steps"),
    ):
        with pytest.raises(ValueError, match=rf"{what} must be at most 9,007,199,254,740,992"):
            make()
    assert LinearDecay(1.0, 0.5, 2**53)(2**52) == 0.75


def test_an_unprintable_int_in_the_wrong_place_is_described() -> None:
    from micrograd_like.losses import hinge
    from micrograd_like.optim import Adam

    huge = 10**5000  # Python refuses to write out more than 4300 digits
    with pytest.raises(TypeError, match=r"hinge: predictions must be a sequence, got int <an int"):
        hinge(huge, [1])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"Adam: betas must be a pair .*got <an int"):
        Adam([Value(1.0)], betas=huge)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"fit: callbacks must be a list .*got int <an int"):
        fit(MLP(2, [1], rng=0), *_xy(), loss="hinge", callbacks=huge)  # type: ignore[arg-type]


def test_nn_errors_name_the_module_and_the_argument() -> None:
    cases = [
        (lambda: Neuron(2, "bogus"), ValueError, "Neuron: unknown activation 'bogus'"),
        (lambda: Layer(2, 3, "bogus"), ValueError, "Layer: unknown activation 'bogus'"),
        (lambda: MLP(2, [3, 1], "bogus"), ValueError, "MLP: activation: unknown activation"),
        (lambda: MLP(2, [1], output_activation=3), TypeError, "MLP: output_activation: act"),
        (lambda: Layer(2, 3, rng="seed"), TypeError, "Layer: rng must be a random.Random"),
        (lambda: Dropout(0.5, rng=1.5), TypeError, "Dropout: rng must be"),
        (lambda: MLP(2, [1], rng=[1]), TypeError, "MLP: rng must be"),
        (lambda: Neuron(2, init="x" * 10**6), ValueError, r"Neuron: init must be one of .*\.\.\.$"),
    ]
    for make, error, match in cases:
        with pytest.raises(error, match=match):
            make()


def test_a_module_call_on_an_unprintable_int_names_the_module() -> None:
    with pytest.raises(TypeError, match=r"MLP: expected a sequence of inputs .*got int <an int"):
        MLP(2, [1], rng=0)(10**5000)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"MLP: nouts must be .*got <an int"):
        MLP(2, 10**5000)  # type: ignore[arg-type]


class _InterruptOnce(Value):
    """A Value whose next gradient assignment raises KeyboardInterrupt once, when armed."""

    __slots__ = ()
    armed = False

    @property  # type: ignore[override]
    def grad(self) -> float | None:
        return Value.grad.fget(self)  # type: ignore[attr-defined,no-any-return]

    @grad.setter
    def grad(self, g: float | None) -> None:
        if _InterruptOnce.armed:
            _InterruptOnce.armed = False
            raise KeyboardInterrupt
        Value.grad.fset(self, g)  # type: ignore[attr-defined]


@pytest.mark.parametrize("clip", ["norm", "value"])
def test_clipping_interrupted_midway_still_clips_every_gradient(clip: str) -> None:
    from micrograd_like.optim import clip_grad_norm, clip_grad_value

    ps = [Value(0.0), _InterruptOnce(0.0), Value(0.0)]
    for p, g in zip(ps, (30.0, -40.0, 0.0), strict=True):
        p.grad = g
    _InterruptOnce.armed = True
    with pytest.raises(KeyboardInterrupt):
        if clip == "norm":
            clip_grad_norm(ps, 5.0)
        else:
            clip_grad_value(ps, 1.0)
    want = [3.0, -4.0, 0.0] if clip == "norm" else [1.0, -1.0, 0.0]
    assert [p.grad for p in ps] == pytest.approx(want, rel=1e-6)


def test_forward_called_directly_checks_the_width_too() -> None:
    layer, neuron = Layer(2, 3, rng=0), Neuron(2, rng=0)
    three = [Value(1.0), Value(2.0), Value(3.0)]
    for module in (layer, neuron):
        name = type(module).__name__
        with pytest.raises(ValueError, match=rf"^{name}: expected 2 inputs, got 3$"):
            module.forward(three)
        with pytest.raises(ValueError, match=rf"^{name}: expected 2 inputs, got 1$"):
            module.forward_floats([1.0])

    # a module of the user's that calls a layer's forward gets the path from its container
    class Twice(Module):
        def __init__(self) -> None:
            self.nin = 2
            self.inner = Layer(3, 1, rng=0)

        def forward(self, xs: list[Value]) -> list[Value]:
            return self.inner.forward(xs)

    with pytest.raises(ValueError, match=r"^Sequential\.0 \(Twice\) > Layer: expected 3 inp"):
        Sequential(Twice())([1.0, 2.0])
    # the error pickles (as a plain ValueError with the same message)
    try:
        Sequential(Layer(2, 3, rng=0), Layer(4, 1, rng=0))([1.0, 2.0])
    except ValueError as err:
        again = pickle.loads(pickle.dumps(err))
        assert str(again) == str(err) == "Sequential.1 (Layer): expected 4 inputs, got 3"
