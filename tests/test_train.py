"""Tests for micrograd_like.train: fit, evaluate, History and the decision-boundary plot."""

from __future__ import annotations

import gc
import math
from collections.abc import Callable
from typing import Any

import pytest
from conftest import require_module

from micrograd_like.data import make_moons, make_spirals, train_test_split
from micrograd_like.engine import Value, grad_enabled
from micrograd_like.losses import accuracy, hinge, l2_penalty, predictions
from micrograd_like.nn import MLP
from micrograd_like.optim import SGD, Adam, LinearDecay
from micrograd_like.train import LOSSES, History, decision_boundary, evaluate, fit


@pytest.fixture(scope="module")
def moons() -> tuple[list[list[float]], list[int]]:
    return make_moons(24, noise=0.1, seed=3, signed=True)


@pytest.fixture(scope="module")
def mpl() -> Any:
    matplotlib: Any = require_module("matplotlib")
    matplotlib.use("Agg")
    return matplotlib


def small(seed: int = 5, out: int = 1) -> MLP:
    return MLP(2, [6, out], rng=seed)


# ---------------------------------------------------------------------------- training


def test_full_batch_fit_is_micrographs_loop_exactly(moons: Any) -> None:
    # the demo recipe by hand (micrograd's notebook loop) must give the very same weights
    X, y = moons
    a, b = small(), small()
    h = fit(
        a,
        X,
        y,
        loss="hinge",
        optimizer=SGD(a.parameters(), lr=LinearDecay(1.0, 0.1, 8)),
        epochs=8,
        l2=1e-4,
        progress=False,
    )
    losses = []
    for k in range(8):
        total = hinge([b(x) for x in X], y) + l2_penalty(b.parameters(), 1e-4)
        b.zero_grad()
        total.backward()
        lr = 1.0 - 0.9 * k / 8
        for p in b.parameters():
            p.data -= lr * p.grad
        losses.append(total.data)
    assert a.state_dict() == b.state_dict()
    assert h.loss == losses
    assert h.steps == 8 and h.epochs == 8


@pytest.mark.parametrize(("batch_size", "steps"), [(None, 6), (5, 6 * 5), (1, 6 * 24)])
def test_full_mini_and_online_batches_decrease_the_loss(
    moons: Any, batch_size: int | None, steps: int
) -> None:
    X, y = moons
    model = small()
    before = evaluate(model, X, y, loss="hinge")["loss"]
    h = fit(
        model, X, y, loss="hinge", lr=0.05, epochs=6, batch_size=batch_size, seed=0, progress=False
    )
    assert h.steps == steps
    assert evaluate(model, X, y, loss="hinge")["loss"] < before
    assert h.loss[-1] < h.loss[0]


def test_a_batch_larger_than_the_data_is_full_batch(moons: Any) -> None:
    X, y = moons
    a, b = small(), small()
    fit(a, X, y, loss="hinge", epochs=3, batch_size=1000, progress=False)
    fit(b, X, y, loss="hinge", epochs=3, progress=False)
    assert a.state_dict() == b.state_dict()


def test_shuffling_is_seeded(moons: Any) -> None:
    X, y = moons

    def run(seed: int, shuffle: bool = True) -> dict[str, float]:
        m = small()
        fit(
            m,
            X,
            y,
            loss="hinge",
            epochs=2,
            batch_size=4,
            seed=seed,
            shuffle=shuffle,
            progress=False,
        )
        return m.state_dict()

    assert run(1) == run(1)
    assert run(1) != run(2)
    assert run(1, shuffle=False) == run(2, shuffle=False)


def test_steps_run_with_the_cycle_collector_paused_and_evaluation_without_graph(
    moons: Any,
) -> None:
    X, y = moons
    seen: list[tuple[bool, bool]] = []

    def spy(outs: list[list[Value]], targets: list[Any]) -> Value:
        seen.append((gc.isenabled(), grad_enabled()))
        return hinge(outs, targets)

    assert gc.isenabled()
    fit(small(), X, y, loss=spy, epochs=2, validation_data=(X[:4], y[:4]), progress=False)
    assert gc.isenabled()
    # the up-front check of both data sets, then per epoch: one training step, one validation
    assert seen == [(True, False), (True, False)] + [(False, True), (True, False)] * 2


def test_numpy_data_is_accepted(moons: Any) -> None:
    np: Any = require_module("numpy")
    X, y = moons
    a, b = small(), small()
    fit(a, np.array(X), np.array(y), loss="hinge", epochs=2, progress=False)
    fit(b, X, y, loss="hinge", epochs=2, progress=False)
    assert a.state_dict() == b.state_dict()
    assert evaluate(a, np.array(X), np.array(y), loss="hinge") == evaluate(a, X, y, loss="hinge")


def test_multiclass_cross_entropy_and_accuracy() -> None:
    X, y = make_spirals(30, classes=3, noise=0.05, seed=0)
    model = MLP(2, [12, 3], rng=1)
    h = fit(model, X, y, loss="cross_entropy", optimizer="adam", lr=0.05, epochs=20, progress=False)
    assert h.loss[-1] < h.loss[0]
    result = evaluate(model, X, y, loss="cross_entropy")
    outs = [model(x) for x in X]
    right = sum(max(range(3), key=lambda k: o[k].data) == t for o, t in zip(outs, y, strict=True))
    assert result["accuracy"] == right / len(X)


@pytest.mark.parametrize(
    ("loss", "labels", "out_activation"),
    [("bce_with_logits", "01", "linear"), ("bce", "01", "sigmoid"), ("hinge", "pm", "linear")],
)
def test_binary_losses_learn_moons(loss: str, labels: str, out_activation: str) -> None:
    X, y = make_moons(40, noise=0.05, seed=2, signed=labels == "pm")
    model = MLP(2, [8, 1], output_activation=out_activation, rng=3)
    fit(model, X, y, loss=loss, optimizer="adam", lr=0.05, epochs=40, progress=False)
    assert evaluate(model, X, y, loss=loss)["accuracy"] >= 0.85


@pytest.mark.parametrize(
    ("loss", "activation", "threshold"),
    [("bce_with_logits", "linear", 0.0), ("bce", "sigmoid", 0.5), ("hinge", "linear", 0.0)],
)
def test_accuracy_is_losses_accuracy_with_the_losss_labels(
    loss: str, activation: str, threshold: float
) -> None:
    signed = loss == "hinge"
    X, y = make_moons(24, noise=0.2, seed=1, signed=signed)
    model = MLP(2, [4, 1], output_activation=activation, rng=2)
    outs = [model(x) for x in X]
    labels = (-1, 1) if signed else (0, 1)
    want = accuracy(outs, y, labels=labels, threshold=threshold)
    assert 0.0 < want < 1.0  # an untrained model: some right, some wrong
    assert evaluate(model, X, y, loss=loss)["accuracy"] == want
    spec = LOSSES[loss]
    assert [spec.predict([o.data]) for o in outs] == predictions(  # type: ignore[misc]
        outs, labels=labels, threshold=threshold
    )


def test_mini_batch_accuracy_counts_every_hit_exactly(moons: Any) -> None:
    X, y = moons
    model = small()
    h = fit(model, X, y, loss="hinge", lr=0.05, epochs=3, batch_size=5, seed=0, progress=False)
    assert all(round(a * len(X)) / len(X) == a for a in h.accuracy)


def test_soft_labels_train_without_accuracy_unless_it_is_asked_for() -> None:
    X, y = make_moons(20, seed=0)
    soft = [0.9 if t else 0.1 for t in y]
    model = MLP(2, [4, 1], rng=0)
    h = fit(model, X, soft, loss="bce_with_logits", epochs=2, progress=False)
    assert h.accuracy == [] and len(h.loss) == 2
    assert "accuracy" not in evaluate(model, X, soft, loss="bce_with_logits")
    assert "accuracy" in evaluate(model, X, y, loss="bce_with_logits")
    _unchanged_after(
        lambda m: fit(
            m, X, soft, loss="bce_with_logits", metrics=["accuracy"], epochs=1, progress=False
        ),
        ValueError,
        "does not suit loss 'bce_with_logits'.*accuracy: label 0 must be 0 or 1, got 0.9",
    )


def test_regression_with_mse_has_no_accuracy() -> None:
    X = [[i / 10] for i in range(10)]
    y = [2 * x[0] + 1 for x in X]
    model = MLP(1, [1], rng=0)
    h = fit(model, X, y, loss="mse", lr=0.2, epochs=40, progress=False)
    assert h.accuracy == [] and "accuracy" not in evaluate(model, X, y, loss="mse")
    assert h.loss[-1] < 0.01 * h.loss[0]


def test_penalties_enter_the_reported_loss(moons: Any) -> None:
    X, y = moons
    model = small()
    plain = evaluate(model, X, y, loss="hinge")["loss"]
    l2 = evaluate(model, X, y, loss="hinge", l2=0.5)["loss"]
    l1 = evaluate(model, X, y, loss="hinge", l1=0.5)["loss"]
    ps = [p.data for p in model.parameters()]
    assert l2 - plain == pytest.approx(0.5 * sum(p * p for p in ps))
    assert l1 - plain == pytest.approx(0.5 * sum(abs(p) for p in ps))


def test_gradient_clipping_bounds_each_step(moons: Any) -> None:
    X, y = moons
    model = small()
    before = [p.data for p in model.parameters()]
    fit(model, X, y, loss="hinge", lr=1.0, epochs=1, clip_grad=1e-3, progress=False)
    moved = math.hypot(*(p.data - b for p, b in zip(model.parameters(), before, strict=True)))
    assert 0 < moved <= 1e-3 * (1 + 1e-9)


def test_metrics_can_be_switched_off(moons: Any) -> None:
    X, y = moons
    h = fit(small(), X, y, loss="hinge", epochs=2, metrics=(), progress=False)
    assert h.accuracy == [] and len(h.loss) == 2


def test_lr_history_follows_the_schedule(moons: Any) -> None:
    X, y = moons
    model = small()
    h = fit(
        model,
        X,
        y,
        loss="hinge",
        optimizer=SGD(model.parameters(), lr=LinearDecay(1.0, 0.1, 4)),
        epochs=4,
        progress=False,
    )
    assert h.lr == [1.0 - 0.9 * k / 4 for k in range(4)]


# ---------------------------------------------------------------------------- validation


def test_validation_split_holds_out_a_seeded_part(moons: Any) -> None:
    X, y = moons
    model = small()
    h = fit(model, X, y, loss="hinge", epochs=3, validation_split=0.25, seed=4, progress=False)
    _, Xv, _, yv = train_test_split(X, y, test_fraction=0.25, seed=4)
    assert len(h.val_loss) == len(h.val_accuracy) == 3
    assert h.val_loss[-1] == evaluate(model, Xv, yv, loss="hinge")["loss"]
    assert h.monitor == "val_loss"
    assert h.best_epoch == 1 + min(range(3), key=h.val_loss.__getitem__)


def test_validation_data_is_evaluated_each_epoch(moons: Any) -> None:
    X, y = moons
    Xv, yv = make_moons(10, noise=0.1, seed=9, signed=True)
    model = small()
    h = fit(model, X, y, loss="hinge", epochs=2, validation_data=(Xv, yv), progress=False)
    assert h.val_loss[-1] == evaluate(model, Xv, yv, loss="hinge")["loss"]
    assert h.val_accuracy[-1] == evaluate(model, Xv, yv, loss="hinge")["accuracy"]


def test_early_stopping_restores_the_best_weights_exactly() -> None:
    # a large step size on a few noisy points: the validation loss soon stops improving
    X, y = make_moons(30, noise=0.3, seed=0, signed=True)
    model = MLP(2, [16, 1], rng=0)
    states: list[dict[str, float]] = []

    def snapshot(h: History) -> None:
        states.append(model.state_dict())

    h = fit(
        model,
        X,
        y,
        loss="hinge",
        lr=2.0,
        epochs=60,
        validation_split=0.3,
        seed=1,
        patience=3,
        callbacks=[snapshot],
        progress=False,
    )
    assert h.stop_reason is not None and h.epochs < 60
    assert h.best_epoch is not None and h.best_epoch == h.epochs - 3
    assert h.val_loss[h.best_epoch - 1] == min(h.val_loss)
    assert h.restored_epoch == h.best_epoch
    assert model.state_dict() == states[h.best_epoch - 1]
    assert model.state_dict() != states[-1]  # the restore really changed the weights


def test_a_callback_returning_true_stops_and_every_callback_runs(moons: Any) -> None:
    X, y = moons
    calls: list[int] = []

    def stop_at_two(h: History) -> bool:
        return h.epochs == 2

    def count(h: History) -> str:
        calls.append(h.epochs)
        return "not True: does not stop"

    h = fit(small(), X, y, loss="hinge", epochs=10, callbacks=[stop_at_two, count], progress=False)
    assert h.epochs == 2 and calls == [1, 2]
    assert h.stop_reason == "a callback asked to stop"


def test_training_mode_during_steps_and_restored_after() -> None:
    X, y = make_moons(12, seed=0, signed=True)
    model = MLP(2, [6, 1], rng=0, dropout=0.5)
    modes: list[bool] = []

    def spy(outs: list[list[Value]], targets: list[Any]) -> Value:
        modes.append(model.training)
        return hinge(outs, targets)

    model.eval()
    fit(model, X, y, loss=spy, epochs=1, validation_data=(X, y), progress=False)
    # checks (eval), the step (train), validation (eval); fit leaves the model training
    assert modes == [False, False, True, False]
    assert model.training


# ---------------------------------------------------------------------------- progress


def test_progress_is_off_when_stderr_is_not_a_terminal(
    moons: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    require_module("tqdm")
    X, y = moons
    fit(small(), X, y, loss="hinge", epochs=2, progress="auto")
    fit(small(), X, y, loss="hinge", epochs=2, progress=False)
    assert capsys.readouterr().err == ""
    fit(small(), X, y, loss="hinge", epochs=2, progress=True)
    err = capsys.readouterr().err
    assert "2/2" in err and "loss" in err


# ---------------------------------------------------------------------------- bad input


X24, Y24 = make_moons(24, noise=0.1, seed=3, signed=True)
XV, _ = make_moons(6, seed=1, signed=True)
# each case: the arguments of fit that differ from a good call, the error, words of its message
BAD_FIT: dict[str, tuple[dict[str, Any], type, str]] = {
    "width": (
        {"X": [[*r, 0.0] for r in X24]},
        ValueError,
        "3 numbers per row but the model takes 2 inputs",
    ),
    "0/1 labels for hinge": ({"y": [(t + 1) // 2 for t in Y24]}, ValueError, "signed_labels"),
    "bad last label": ({"y": [*Y24[:-1], 3]}, ValueError, "label 23 must be -1 or \\+1"),
    "class ids, 1 output": (
        {"y": [abs(t) for t in Y24], "loss": "cross_entropy"},
        ValueError,
        "class id 0 is 1, outside 0..0",
    ),
    "validation labels": (
        {"validation_data": (XV, [0] * 6)},
        ValueError,
        "the validation data does not suit loss 'hinge'",
    ),
    "validation width": (
        {"validation_data": ([[1.0]], [1])},
        ValueError,
        "validation_data: X has 1",
    ),
    "empty X": ({"X": [], "y": []}, ValueError, "empty"),
    "length mismatch": ({"y": Y24[:-1]}, ValueError, "24 rows but y has 23"),
    "lr zero": ({"lr": 0.0}, ValueError, "lr must be > 0"),
    "lr negative": ({"lr": -1}, ValueError, "lr must be > 0"),
    "lr text": ({"lr": "big"}, TypeError, "lr must be a real number"),
    "epochs zero": ({"epochs": 0}, ValueError, "epochs must be at least 1, got 0"),
    "epochs float": ({"epochs": 2.5}, TypeError, "epochs must be an int"),
    "batch zero": ({"batch_size": 0}, ValueError, "batch_size must be at least 1"),
    "batch bool": ({"batch_size": True}, TypeError, "batch_size must be an int"),
    "split 1": ({"validation_split": 1.0}, ValueError, r"validation_split must be in \(0, 1\)"),
    "both validations": (
        {"validation_split": 0.5, "validation_data": (X24, Y24)},
        ValueError,
        "not both",
    ),
    "patience alone": ({"patience": 2}, ValueError, "patience .* needs validation"),
    "patience zero": (
        {"patience": 0, "validation_split": 0.2},
        ValueError,
        "patience must be at least 1",
    ),
    "unknown loss": ({"loss": "huber"}, ValueError, "unknown loss 'huber'"),
    "unknown optimizer": ({"optimizer": "lbfgs"}, ValueError, "unknown optimizer 'lbfgs'"),
    "unknown metric": ({"metrics": ["f1"]}, ValueError, "unknown metric 'f1'"),
    "accuracy for mse": (
        {"loss": "mse", "metrics": ["accuracy"]},
        ValueError,
        "accuracy needs a classification loss",
    ),
    "progress": ({"progress": "yes"}, ValueError, "progress must be"),
    "callback": ({"callbacks": [1]}, TypeError, "callbacks\\[0\\] is not callable"),
    "l2 negative": ({"l2": -1e-4}, ValueError, "l2 must be >= 0"),
    "clip zero": ({"clip_grad": 0.0}, ValueError, "clip_grad must be > 0"),
}


def _unchanged_after(call: Callable[[MLP], object], error: type, words: str) -> None:
    model = small()
    model.eval()
    before = model.state_dict()
    with pytest.raises(error, match=words):
        call(model)
    assert model.state_dict() == before
    assert all(p.grad == 0.0 for p in model.parameters())
    assert not model.training  # not even the mode was touched


@pytest.mark.parametrize("case", list(BAD_FIT))
def test_bad_input_raises_before_anything_changes(case: str) -> None:
    changes, error, words = BAD_FIT[case]
    args: dict[str, Any] = {"X": X24, "y": Y24, "loss": "hinge", "progress": False, **changes}
    X, y = args.pop("X"), args.pop("y")
    _unchanged_after(lambda m: fit(m, X, y, **args), error, words)


def test_an_optimizer_instance_takes_no_separate_lr() -> None:
    _unchanged_after(
        lambda m: fit(m, X24, Y24, loss="hinge", lr=0.1, optimizer=Adam(m.parameters())),
        ValueError,
        "own lr",
    )


def test_fit_needs_a_module() -> None:
    with pytest.raises(TypeError, match=r"must be a micrograd_like\.nn Module"):
        fit(lambda x: x, X24, Y24, loss="hinge")  # type: ignore[arg-type]


def test_the_bad_input_check_itself_can_fail(moons: Any) -> None:
    # a label error in the *last* row is still found before the first step: were the check
    # only done batch by batch, the first batches would already have changed the weights
    X, y = moons
    model = small()
    before = model.state_dict()
    with pytest.raises(ValueError, match="label 23"):
        fit(model, X, [*y[:-1], 0], loss="hinge", batch_size=4, shuffle=False, progress=False)
    assert model.state_dict() == before


def test_evaluate_rejects_bad_input(moons: Any) -> None:
    X, y = moons
    with pytest.raises(ValueError, match="unknown loss"):
        evaluate(small(), X, y, loss="nope")
    with pytest.raises(ValueError, match="label 0 must be -1 or \\+1"):
        evaluate(small(), X, [0] * len(y), loss="hinge")
    with pytest.raises(TypeError, match="Module"):
        evaluate(object(), X, y, loss="hinge")  # type: ignore[arg-type]


def test_every_named_loss_has_a_description() -> None:
    for name, spec in LOSSES.items():
        assert spec.name == name and spec.wants
        assert (spec.predict is None) == (name == "mse")
    assert LOSSES["cross_entropy"].predict([0.1, 0.5, 0.5]) == 1  # type: ignore[misc]
    assert LOSSES["hinge"].predict([0.0]) == -1  # type: ignore[misc]


# ---------------------------------------------------------------------------- History and plots


def test_history_repr_and_dict(moons: Any) -> None:
    X, y = moons
    h = fit(small(), X, y, loss="hinge", epochs=3, validation_split=0.25, seed=0, progress=False)
    text = repr(h)
    assert text.startswith("History: 3 epochs (3 steps)")
    for name in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert f"  {name} " in text
    assert f"at epoch {h.best_epoch}" in text
    assert set(h.as_dict()) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}


def test_history_plot_returns_a_figure(moons: Any, mpl: Any) -> None:
    from matplotlib.figure import Figure

    X, y = moons
    h = fit(small(), X, y, loss="hinge", epochs=3, validation_split=0.25, seed=0, progress=False)
    fig = h.plot()
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert labels == ["train loss", "validation loss", "best epoch"]
    assert fig._repr_png_().startswith(b"\x89PNG")  # what a notebook shows
    h2 = fit(MLP(2, [1], rng=0), X, [float(t) for t in y], loss="mse", epochs=2, progress=False)
    assert len(h2.plot().axes) == 1
    with pytest.raises(ValueError, match="no epochs"):
        History().plot()


def test_decision_boundary_binary_and_multiclass(moons: Any, mpl: Any) -> None:
    from matplotlib.figure import Figure

    X, y = moons
    model = small()
    fig = decision_boundary(model, X, y, resolution=12, title="moons")
    assert isinstance(fig, Figure) and fig.axes[0].get_title() == "moons"
    Xs, ys = make_spirals(15, classes=3, seed=0)
    fig = decision_boundary(MLP(2, [4, 3], rng=0), Xs, ys, resolution=12)
    legend = fig.axes[0].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["0", "1", "2"]
    # drawing into a given Axes returns that Axes' figure
    outer = Figure()
    ax = outer.add_subplot()
    assert decision_boundary(model, X, y, resolution=12, ax=ax) is outer


def test_decision_boundary_leaves_the_model_alone(moons: Any, mpl: Any) -> None:
    X, y = moons
    model = small()
    before = model.state_dict()
    decision_boundary(model, X, y, resolution=5)
    assert model.state_dict() == before and model.training
    assert all(p.grad == 0.0 for p in model.parameters())


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda m, X, y: decision_boundary(MLP(3, [1], rng=0), [[*r, 0.0] for r in X], y), "2-D"),
        (lambda m, X, y: decision_boundary(m, X, [0, 1, 2] * 8), "separates 2 labels"),
        (lambda m, X, y: decision_boundary(MLP(2, [3], rng=0), X, y), "y\\[0\\] is"),
        (lambda m, X, y: decision_boundary(m, X, y, resolution=1), "resolution"),
    ],
)
def test_decision_boundary_rejects_bad_input(moons: Any, call: Any, words: str, mpl: Any) -> None:
    X, y = moons
    with pytest.raises(ValueError, match=words):
        call(small(), X, y)
