"""Tests for micrograd_like.optim: hand-computed updates, PyTorch agreement, schedules, clipping."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from conftest import require_module

from micrograd_like.engine import Value
from micrograd_like.functional import grad
from micrograd_like.losses import accuracy, hinge, l2_penalty
from micrograd_like.nn import MLP
from micrograd_like.optim import (
    SGD,
    Adagrad,
    Adam,
    AdamW,
    CosineDecay,
    LinearDecay,
    Optimizer,
    RMSProp,
    StepDecay,
    clip_grad_norm,
    clip_grad_value,
)

REL = 1e-12


def run_hand(make: Callable[[list[Value]], Optimizer], grads: Sequence[float]) -> list[float]:
    """One parameter starting at 1.0; feed it the given gradients; return p after each step."""
    p = Value(1.0)
    opt = make([p])
    out = []
    for g in grads:
        p.grad = g
        opt.step()
        out.append(p.data)
    return out


# ----------------------------------------------------------------------------- hand-computed
# p0 = 1, g1 = 0.5, g2 = -0.25 throughout; the expected numbers are the published update
# equations worked through by hand, not the implementation's code.


def test_sgd_plain() -> None:
    assert run_hand(lambda ps: SGD(ps, lr=0.1), [0.5, -0.25]) == pytest.approx(
        [0.95, 0.975], rel=REL
    )


def test_sgd_momentum() -> None:
    # b1 = g1 = 0.5, p1 = 1 - 0.1*0.5 = 0.95; b2 = 0.9*0.5 - 0.25 = 0.2, p2 = 0.95 - 0.02
    got = run_hand(lambda ps: SGD(ps, lr=0.1, momentum=0.9), [0.5, -0.25])
    assert got == pytest.approx([0.95, 0.93], rel=REL)


def test_sgd_momentum_dampening() -> None:
    # b1 = g1 = 0.5 (no dampening on the first step); b2 = 0.9*0.5 + 0.5*(-0.25) = 0.325
    got = run_hand(lambda ps: SGD(ps, lr=0.1, momentum=0.9, dampening=0.5), [0.5, -0.25])
    assert got == pytest.approx([0.95, 0.95 - 0.0325], rel=REL)


def test_sgd_nesterov() -> None:
    # step 1: b = 0.5, g = 0.5 + 0.9*0.5 = 0.95, p = 1 - 0.095 = 0.905
    # step 2: b = 0.45 - 0.25 = 0.2, g = -0.25 + 0.18 = -0.07, p = 0.905 + 0.007 = 0.912
    got = run_hand(lambda ps: SGD(ps, lr=0.1, momentum=0.9, nesterov=True), [0.5, -0.25])
    assert got == pytest.approx([0.905, 0.912], rel=REL)


def test_sgd_weight_decay() -> None:
    # g = 0.5 + 0.1*1 = 0.6, p = 1 - 0.06 = 0.94; g = -0.25 + 0.094 = -0.156, p = 0.94 + 0.0156
    got = run_hand(lambda ps: SGD(ps, lr=0.1, weight_decay=0.1), [0.5, -0.25])
    assert got == pytest.approx([0.94, 0.9556], rel=REL)


def test_rmsprop() -> None:
    # v1 = 0.1*0.25 = 0.025, p1 = 1 - 0.01*0.5/(sqrt(0.025) + 1e-8)
    # v2 = 0.9*0.025 + 0.1*0.0625 = 0.02875, p2 = p1 + 0.01*0.25/(sqrt(0.02875) + 1e-8)
    p1 = 1 - 0.01 * 0.5 / (math.sqrt(0.025) + 1e-8)
    p2 = p1 + 0.01 * 0.25 / (math.sqrt(0.02875) + 1e-8)
    got = run_hand(lambda ps: RMSProp(ps, lr=0.01, alpha=0.9), [0.5, -0.25])
    assert got == pytest.approx([p1, p2], rel=REL)


def test_rmsprop_centered_momentum() -> None:
    # v1 = 0.025, a1 = 0.05, d1 = sqrt(0.025 - 0.0025) = 0.15 (+eps), b1 = 0.5/d1
    # v2 = 0.02875, a2 = 0.045 - 0.025 = 0.02, d2 = sqrt(0.02875 - 0.0004), b2 = 0.5 b1 - 0.25/d2
    d1 = 0.15 + 1e-8
    b1 = 0.5 / d1
    d2 = math.sqrt(0.02835) + 1e-8
    b2 = 0.5 * b1 - 0.25 / d2
    got = run_hand(
        lambda ps: RMSProp(ps, lr=0.01, alpha=0.9, momentum=0.5, centered=True), [0.5, -0.25]
    )
    assert got == pytest.approx([1 - 0.01 * b1, 1 - 0.01 * b1 - 0.01 * b2], rel=REL)


def test_adagrad() -> None:
    # s1 = 0.25, p1 = 1 - 0.1*0.5/(0.5 + 1e-10); s2 = 0.3125, p2 = p1 + 0.1*0.25/sqrt(0.3125)
    p1 = 1 - 0.1 * 0.5 / (0.5 + 1e-10)
    p2 = p1 + 0.1 * 0.25 / (math.sqrt(0.3125) + 1e-10)
    assert run_hand(lambda ps: Adagrad(ps, lr=0.1), [0.5, -0.25]) == pytest.approx(
        [p1, p2], rel=REL
    )


def _adam_two_steps(p0: float) -> list[float]:
    # m1 = 0.05, v1 = 0.00025: m^ = 0.5, v^ = 0.25, p1 = p0 - 0.1*0.5/(0.5 + 1e-8)
    # m2 = 0.045 - 0.025 = 0.02, v2 = 0.00024975 + 0.0000625 = 0.00031225
    # m^ = 0.02/0.19, v^ = 0.00031225/0.001999
    p1 = p0 - 0.1 * 0.5 / (0.5 + 1e-8)
    p2 = p1 - 0.1 * (0.02 / 0.19) / (math.sqrt(0.00031225 / 0.001999) + 1e-8)
    return [p1, p2]


def test_adam() -> None:
    got = run_hand(lambda ps: Adam(ps, lr=0.1), [0.5, -0.25])
    assert got == pytest.approx(_adam_two_steps(1.0), rel=REL)


def test_adam_l2_weight_decay_goes_through_the_gradient() -> None:
    # g1 = 0.5 + 0.1*1 = 0.6: m^ = 0.6, v^ = 0.36, p1 = 1 - 0.1*0.6/(0.6 + 1e-8)
    got = run_hand(lambda ps: Adam(ps, lr=0.1, weight_decay=0.1), [0.5])
    assert got == pytest.approx([1 - 0.1 * 0.6 / (0.6 + 1e-8)], rel=REL)


def test_adamw_decoupled_decay() -> None:
    # p is first shrunk by (1 - lr*wd) = 0.99, then the plain Adam step
    got = run_hand(lambda ps: AdamW(ps, lr=0.1, weight_decay=0.1), [0.5])
    assert got == pytest.approx([0.99 - 0.1 * 0.5 / (0.5 + 1e-8)], rel=REL)


def test_a_wrong_update_is_caught() -> None:
    # the hand numbers are sharp enough to catch a missing bias correction
    class NoBiasCorrection(Adam):
        def _compute(
            self,
            lr: float,
            t: int,
            data: list[float],
            grads: list[float | None],
            state: dict[str, list[float]],
        ) -> None:
            (g,) = grads
            assert g is not None
            m, v = state["exp_avg"], state["exp_avg_sq"]
            m[0] = 0.9 * m[0] + 0.1 * g
            v[0] = 0.999 * v[0] + 0.001 * g**2
            data[0] -= lr * m[0] / (math.sqrt(v[0]) + self.eps)

    got = run_hand(lambda ps: NoBiasCorrection(ps, lr=0.1), [0.5, -0.25])
    assert got != pytest.approx(_adam_two_steps(1.0), rel=1e-6)


# ----------------------------------------------------------------------------- vs PyTorch

START = [0.3, -0.8, 1.2, 0.05]


def objective(p: Sequence[Any]) -> Any:
    """A small non-convex function written with operations Value and torch tensors share."""
    a, b, c, d = p
    return (a * b).tanh() + (c - 1.5) ** 2 * 0.7 + (a * c + d).exp() * 0.2 + (b + d) ** 4 * 0.1


CONFIGS: list[tuple[str, dict[str, Any]]] = [
    ("SGD", {"lr": 0.05}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    ("RMSProp", {"lr": 0.01}),
    ("RMSProp", {"lr": 0.01, "alpha": 0.9, "momentum": 0.5, "weight_decay": 0.05}),
    ("RMSProp", {"lr": 0.01, "centered": True, "momentum": 0.3}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.02, "eps": 1e-6}),
    ("Adam", {"lr": 0.05}),
    ("Adam", {"lr": 0.05, "betas": (0.8, 0.99), "weight_decay": 0.1}),
    ("AdamW", {"lr": 0.05}),
    ("AdamW", {"lr": 0.05, "betas": (0.5, 0.9), "eps": 1e-6, "weight_decay": 0.3}),
]
OURS: dict[str, type[Optimizer]] = {
    "SGD": SGD,
    "RMSProp": RMSProp,
    "Adagrad": Adagrad,
    "Adam": Adam,
    "AdamW": AdamW,
}
TORCH_NAMES = {"RMSProp": "RMSprop"}


@pytest.mark.parametrize(("name", "kwargs"), CONFIGS, ids=[f"{n}-{k}" for n, k in CONFIGS])
def test_matches_pytorch(name: str, kwargs: dict[str, Any]) -> None:
    torch: Any = require_module("torch")
    ps = [Value(x) for x in START]
    opt = OURS[name](ps, **kwargs)
    tp = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in START]
    topt = getattr(torch.optim, TORCH_NAMES.get(name, name))(tp, **kwargs)
    for _ in range(8):
        opt.zero_grad()
        objective(ps).backward()
        opt.step()
        topt.zero_grad()
        objective(tp).backward()
        topt.step()
        for mine, theirs in zip(ps, tp, strict=True):
            assert mine.data == pytest.approx(theirs.item(), rel=REL, abs=1e-14)


def test_clip_grad_norm_matches_pytorch() -> None:
    torch: Any = require_module("torch")
    grads = [3.0, -4.0, 12.0]
    ps = [Value(1.0) for _ in grads]
    tp = [torch.tensor(1.0, dtype=torch.float64, requires_grad=True) for _ in grads]
    for p, t, g in zip(ps, tp, grads, strict=True):
        p.grad = g
        t.grad = torch.tensor(g, dtype=torch.float64)
    norm = clip_grad_norm(ps, 2.0)
    tnorm = torch.nn.utils.clip_grad_norm_(tp, 2.0)
    assert norm == pytest.approx(tnorm.item(), rel=REL) == 13.0
    for p, t in zip(ps, tp, strict=True):
        assert p.grad == pytest.approx(t.grad.item(), rel=REL)


# ----------------------------------------------------------------------------- training


def test_adam_minimises_a_quadratic() -> None:
    ps = [Value(3.0), Value(-2.0)]
    opt = Adam(ps, lr=0.1)
    for _ in range(300):
        opt.zero_grad()
        ((ps[0] - 1.0) ** 2 + (ps[1] + 0.5) ** 2).backward()
        opt.step()
    assert [p.data for p in ps] == pytest.approx([1.0, -0.5], abs=1e-3)


def test_a_small_network_learns_xor_with_micrograds_recipe() -> None:
    # MLP + hinge + L2 + SGD with the demo's linear decay, as in micrograd's demo notebook
    xs = [[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]] * 2
    ys = [-1.0, 1.0, 1.0, -1.0] * 2
    model = MLP(2, [8, 8, 1], rng=4)
    opt = SGD(model.parameters(), lr=LinearDecay(0.5, 0.05, 60))
    first = None
    for _ in range(60):
        scores = [model.scalar(x) for x in xs]
        loss = hinge(scores, ys) + l2_penalty(model.parameters(), alpha=1e-4)
        first = loss.data if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.data < 0.1 * first
    assert accuracy([model.scalar(x) for x in xs], ys) == 1.0


def test_step_records_no_graph_and_uses_grad_only() -> None:
    p = Value(2.0)
    loss = p * p
    (g,) = grad(loss, [p])
    p.grad = g
    SGD([p], lr=0.25).step()
    assert p.data == 1.0 and p.op == "" and p.parents == ()


# ----------------------------------------------------------------------------- schedules


def test_linear_decay_is_micrograds_schedule_bit_for_bit() -> None:
    sched = LinearDecay(1.0, 0.1, 100)
    assert [sched(k) for k in range(100)] == [1.0 - 0.9 * k / 100 for k in range(100)]
    assert sched(100) == sched(250) == pytest.approx(0.1)


def test_step_and_cosine_decay() -> None:
    s = StepDecay(0.5, step_size=3, gamma=0.1)
    assert [s(k) for k in range(7)] == pytest.approx([0.5] * 3 + [0.05] * 3 + [0.005])
    c = CosineDecay(1.0, steps=4, end=0.2)
    half = 0.2 + 0.8 * (1 + math.cos(math.pi / 4)) / 2
    assert [c(k) for k in (0, 1, 2, 4, 9)] == pytest.approx([1.0, half, 0.6, 0.2, 0.2], rel=REL)


def test_optimizer_follows_its_schedule() -> None:
    p = Value(0.0)
    opt = SGD([p], lr=LinearDecay(1.0, 0.1, 10))
    seen = []
    for _ in range(3):
        seen.append(opt.lr)
        p.grad = 1.0
        opt.step()
    assert seen == pytest.approx([1.0, 0.91, 0.82], rel=REL) and opt.steps == 3
    assert p.data == pytest.approx(-(1.0 + 0.91 + 0.82), rel=REL)
    opt.lr = 0.5  # a number replaces the schedule
    assert opt.lr == 0.5
    opt.lr = lambda k: 0.1 * k
    assert opt.lr == pytest.approx(0.3)


def test_bad_schedule_value_changes_nothing() -> None:
    p = Value(1.0)
    opt = SGD([p], lr=lambda k: -1.0)
    p.grad = 1.0
    with pytest.raises(ValueError, match=r"lr schedule at step 0 must be >= 0, got -1\.0"):
        opt.step()
    assert p.data == 1.0 and opt.steps == 0


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: LinearDecay(0.0, 0.1, 10), "start"),
        (lambda: LinearDecay(1.0, -0.1, 10), "end"),
        (lambda: LinearDecay(1.0, 0.1, 0), "steps"),
        (lambda: StepDecay(1.0, 2.5), "step_size"),
        (lambda: StepDecay(1.0, 2, gamma=-1.0), "gamma"),
        (lambda: CosineDecay(float("nan"), 10), "start"),
    ],
)
def test_bad_schedules(make: Callable[[], object], match: str) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        make()


# ----------------------------------------------------------------------------- clipping


def test_clip_grad_norm_scales_only_when_needed() -> None:
    ps = [Value(0.0), Value(0.0)]
    ps[0].grad, ps[1].grad = 3.0, 4.0
    assert clip_grad_norm(ps, 10.0) == 5.0
    assert [p.grad for p in ps] == [3.0, 4.0]
    assert clip_grad_norm(ps, 1.0) == 5.0
    coef = 1.0 / (5.0 + 1e-6)
    assert [p.grad for p in ps] == pytest.approx([3.0 * coef, 4.0 * coef], rel=REL)


def test_clip_grad_norm_no_overflow_and_nonfinite_rejected() -> None:
    ps = [Value(0.0), Value(0.0)]
    ps[0].grad, ps[1].grad = 1e200, 1e200
    assert clip_grad_norm(ps, 1.0) == pytest.approx(math.sqrt(2) * 1e200, rel=REL)
    ps[0].grad = math.nan
    before = [p.grad for p in ps]
    with pytest.raises(ValueError, match="gradient norm is nan"):
        clip_grad_norm(ps, 1.0)
    assert [p.grad for p in ps][1] == before[1]


def test_clip_grad_value() -> None:
    ps = [Value(0.0) for _ in range(3)]
    for p, g in zip(ps, [-5.0, 0.3, 2.0], strict=True):
        p.grad = g
    clip_grad_value(ps, 1.0)
    assert [p.grad for p in ps] == [-1.0, 0.3, 1.0]
    with pytest.raises(ValueError, match="clip_value"):
        clip_grad_value(ps, 0.0)


# ----------------------------------------------------------------------------- state


def test_state_dict_round_trip_continues_identically() -> None:
    def fresh() -> tuple[list[Value], Adam]:
        ps = [Value(x) for x in START]
        return ps, Adam(ps, lr=0.05)

    def step(ps: list[Value], opt: Adam) -> None:
        opt.zero_grad()
        objective(ps).backward()
        opt.step()

    a_ps, a = fresh()
    for _ in range(3):
        step(a_ps, a)
    saved = json.loads(json.dumps(a.state_dict()))
    b_ps, b = fresh()
    for bp, ap in zip(b_ps, a_ps, strict=True):
        bp.data = ap.data
    b.load_state_dict(saved)
    assert b.steps == 3
    for _ in range(2):
        step(a_ps, a)
        step(b_ps, b)
    assert [p.data for p in b_ps] == [p.data for p in a_ps]


@pytest.mark.parametrize(
    "mutate",
    [
        lambda s: s.update(optimizer="SGD"),
        lambda s: s.update(steps=-1),
        lambda s: s.update(steps=2.0),
        lambda s: s.pop("steps"),
        lambda s: s.update(extra=1),
        lambda s: s["state"].pop("exp_avg"),
        lambda s: s["state"].update(momentum=[0.0] * 4),
        lambda s: s["state"].update(exp_avg=[0.0] * 3),
        lambda s: s["state"]["exp_avg_sq"].__setitem__(3, "x"),
        lambda s: s["state"]["exp_avg_sq"].__setitem__(3, math.nan),
        lambda s: s["state"]["exp_avg_sq"].__setitem__(3, True),
    ],
)
def test_bad_state_changes_nothing(mutate: Callable[[dict[str, Any]], object]) -> None:
    ps = [Value(x) for x in START]
    opt = Adam(ps, lr=0.05)
    objective(ps).backward()
    opt.step()
    good = opt.state_dict()
    bad = json.loads(json.dumps(good))
    bad["state"]["exp_avg"] = [9.0] * 4  # would show if assigned before the error
    mutate(bad)
    with pytest.raises((ValueError, TypeError)):
        opt.load_state_dict(bad)
    assert opt.state_dict() == good
    with pytest.raises(TypeError):
        opt.load_state_dict([1, 2])  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda ps: SGD(ps, lr=0.0), ValueError, "lr must be > 0"),
        (lambda ps: SGD(ps, lr=-0.1), ValueError, "lr must be > 0"),
        (lambda ps: SGD(ps, lr=math.inf), ValueError, "lr must be finite"),
        (lambda ps: SGD(ps, lr="0.1"), TypeError, "lr must be a real number"),
        (lambda ps: SGD(ps, lr=True), TypeError, "lr must be a real number"),
        (lambda ps: SGD(ps, lr=0.1, momentum=-0.1), ValueError, "momentum"),
        (lambda ps: SGD(ps, lr=0.1, weight_decay=-1e-3), ValueError, "weight_decay"),
        (lambda ps: SGD(ps, lr=0.1, nesterov=True), ValueError, "nesterov"),
        (lambda ps: Adam(ps, betas=(1.0, 0.999)), ValueError, "beta1"),
        (lambda ps: Adam(ps, betas=(0.9, -0.1)), ValueError, "beta2"),
        (lambda ps: Adam(ps, betas=(0.9,)), ValueError, "betas"),
        (lambda ps: AdamW(ps, weight_decay=-0.01), ValueError, "weight_decay"),
        (lambda ps: Adam(ps, eps=0.0), ValueError, "eps"),
        (lambda ps: RMSProp(ps, alpha=1.0), ValueError, "alpha"),
        (lambda ps: Adagrad(ps, weight_decay=math.nan), ValueError, "weight_decay"),
        (lambda ps: SGD([], lr=0.1), ValueError, "empty parameter list"),
        (lambda ps: SGD([ps[0], ps[0]], lr=0.1), ValueError, "appears twice"),
        (lambda ps: SGD([ps[0], 1.0], lr=0.1), TypeError, r"params\[1\] must be a Value"),
        (lambda ps: SGD(ps[0], lr=0.1), TypeError, "iterable of Values"),
    ],
)
def test_bad_hyperparameters(
    make: Callable[[list[Value]], object], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        make([Value(1.0), Value(2.0)])


def test_nonfinite_gradient_changes_nothing() -> None:
    ps = [Value(1.0), Value(2.0)]
    opt = Adam(ps, lr=0.1)
    ps[0].grad, ps[1].grad = 1.0, math.inf
    with pytest.raises(ValueError, match=r"params\[1\].*gradient inf"):
        opt.step()
    assert [p.data for p in ps] == [1.0, 2.0] and opt.steps == 0
    assert opt.state_dict()["state"]["exp_avg"] == [0.0, 0.0]


def test_zero_grad_and_repr() -> None:
    ps = [Value(1.0), Value(2.0)]
    opt = SGD(ps, lr=0.1)
    ps[0].grad = 5.0
    opt.zero_grad()
    assert [p.grad for p in ps] == [0.0, 0.0]
    assert repr(opt) == "SGD(2 parameters, lr=0.1, steps=0)"
