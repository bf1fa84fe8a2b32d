"""Tests for micrograd_like.losses: values by hand, gradients, extremes, bad input."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from micrograd_like.engine import Value
from micrograd_like.functional import grad, vsum
from micrograd_like.losses import (
    BCE_EPS,
    accuracy,
    bce,
    bce_with_logits,
    cross_entropy,
    hinge,
    l1_penalty,
    l2_penalty,
    mse,
    predictions,
)

REL = 1e-12


def vals(*xs: float) -> list[Value]:
    return [Value(x) for x in xs]


# ----------------------------------------------------------------------------- values


def test_mse() -> None:
    # ((-0.5)^2 + 0^2 + 1^2) / 3
    assert mse(vals(1.0, 2.0, 3.0), [1.5, 2, 2]).data == pytest.approx(1.25 / 3, rel=REL)
    # rows: mean over all four elements
    rows = mse([vals(1.0, 2.0), vals(0.0, 0.0)], [[1.0, 0.0], [1.0, -1.0]])
    assert rows.data == pytest.approx((0 + 4 + 1 + 1) / 4, rel=REL)
    # one-item rows (a one-output MLP's result) count as scalars; numbers are fine too
    assert mse([[Value(2.0)], 1.0], [0.0, 0.0]).data == 2.5


def test_mse_gradient() -> None:
    ps = vals(1.0, 2.0, 3.0)
    # d/dp_i mean((p - t)^2) = 2 (p_i - t_i) / n
    assert grad(mse(ps, [1.5, 2.0, 2.0]), ps) == pytest.approx([-1 / 3, 0.0, 2 / 3], rel=REL)


def test_bce() -> None:
    got = bce(vals(0.9, 0.2), [1, 0]).data
    assert got == pytest.approx(-(math.log(0.9) + math.log(0.8)) / 2, rel=REL)
    soft = bce(vals(0.6), [0.3]).data
    assert soft == pytest.approx(-(0.3 * math.log(0.6) + 0.7 * math.log(0.4)), rel=REL)


def test_bce_clamps_at_the_extremes() -> None:
    assert bce(vals(0.0), [1.0]).data == pytest.approx(-math.log(BCE_EPS), rel=REL)
    assert bce(vals(1.0), [0.0]).data == pytest.approx(-math.log(BCE_EPS), rel=1e-4)
    assert bce(vals(1.0, 0.0), [1, 0]).data == pytest.approx(BCE_EPS, rel=1e-3)
    assert bce(vals(0.0), [1.0], eps=1e-3).data == pytest.approx(-math.log(1e-3), rel=REL)
    p = Value(0.0)
    assert grad(bce([p], [1.0]), [p]) == [0.0]  # the clamp holds: no gradient


def test_bce_gradient() -> None:
    p = Value(0.25)
    # d/dp -(y log p + (1-y) log(1-p)) = -y/p + (1-y)/(1-p)
    assert grad(bce([p], [0.4]), [p])[0] == pytest.approx(-0.4 / 0.25 + 0.6 / 0.75, rel=REL)


def test_bce_with_logits() -> None:
    assert bce_with_logits(vals(0.0), [1]).data == pytest.approx(math.log(2), rel=REL)
    z = 0.7
    p = 1 / (1 + math.exp(-z))
    want = -(0.3 * math.log(p) + 0.7 * math.log(1 - p))
    assert bce_with_logits(vals(z), [0.3]).data == pytest.approx(want, rel=REL)


def test_bce_with_logits_is_stable_at_1000() -> None:
    assert bce_with_logits(vals(1000.0), [0.0]).data == 1000.0
    assert bce_with_logits(vals(1000.0), [1.0]).data == 0.0
    assert bce_with_logits(vals(-1000.0), [1.0]).data == 1000.0
    assert bce_with_logits(vals(-1000.0), [0.0]).data == 0.0
    zs = vals(1000.0, -1000.0)
    # d/dz = (sigmoid(z) - y) / n
    assert grad(bce_with_logits(zs, [0.0, 0.0]), zs) == [0.5, 0.0]
    assert grad(bce_with_logits(zs, [1.0, 1.0]), zs) == [0.0, -0.5]


# |z| <= 12: beyond that 1 - sigmoid(z) itself loses digits, the reason bce_with_logits exists
@given(
    z=st.floats(-12, 12, allow_nan=False),
    y=st.floats(0, 1, allow_nan=False),
)
def test_bce_with_logits_equals_bce_of_sigmoid(z: float, y: float) -> None:
    p = Value(z).sigmoid()
    if BCE_EPS < p.data < 1 - BCE_EPS:
        want = bce([p], [y]).data
        assert bce_with_logits([z], [y]).data == pytest.approx(want, rel=1e-8, abs=1e-12)


def test_cross_entropy() -> None:
    want = math.log(math.e + math.e**2 + math.e**3) - 3
    assert cross_entropy([vals(1.0, 2.0, 3.0)], [2]).data == pytest.approx(want, rel=REL)
    two = cross_entropy([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]], [2, 1]).data
    assert two == pytest.approx((want + math.log(3)) / 2, rel=REL)


def test_cross_entropy_is_stable_and_its_gradient_is_softmax_minus_onehot() -> None:
    assert cross_entropy([[1000.0, 0.0, -1000.0]], [0]).data == 0.0
    assert cross_entropy([[1000.0, 0.0, -1000.0]], [1]).data == 1000.0
    zs = vals(1.0, 2.0, 3.0)
    total = math.e + math.e**2 + math.e**3
    soft = [math.e / total, math.e**2 / total, math.e**3 / total]
    assert grad(cross_entropy([zs], [0]), zs) == pytest.approx(
        [soft[0] - 1, soft[1], soft[2]], rel=REL
    )


def test_hinge_is_micrograds_demo_loss() -> None:
    scores, ys = vals(0.5, -2.0, 3.0, 1.5), [1, 1, -1.0, 1]
    # relu(1 - 0.5) + relu(1 + 2) + relu(1 + 3) + relu(1 - 1.5) = 0.5 + 3 + 4 + 0
    assert hinge(scores, ys).data == 7.5 / 4
    micrograd = sum((1 + -y * s).relu() for y, s in zip(ys, scores, strict=True)) * (1.0 / 4)
    assert hinge(scores, ys).data == micrograd.data  # type: ignore[union-attr]
    # d/ds = -y/n where the margin is violated, else 0
    assert grad(hinge(scores, ys), scores) == [-0.25, -0.25, 0.25, 0.0]


def test_penalties() -> None:
    ps = vals(1.0, -2.0, 0.5)
    assert l2_penalty(ps, alpha=1e-4).data == pytest.approx(1e-4 * 5.25, rel=REL)
    assert l2_penalty(ps).data == 5.25
    assert grad(l2_penalty(ps, 0.5), ps) == [1.0, -2.0, 0.5]  # 2 alpha p
    assert l1_penalty(ps, alpha=2.0).data == 7.0
    assert grad(l1_penalty(ps, 2.0), ps) == [2.0, -2.0, 2.0]
    assert l2_penalty(p for p in ps).data == 5.25  # any iterable


def test_loss_is_one_sum_node_scaled() -> None:
    loss = hinge(vals(0.5, -2.0, 3.0), [1, 1, -1])
    total, scale = loss.parents
    assert loss.op == "mul" and total.op == "sum" and len(total.parents) == 3
    assert scale.data == 1.0 / 3


def test_accuracy() -> None:
    assert accuracy(vals(0.5, -2.0, 3.0, 0.0), [1, -1, 1, 1]) == 0.75
    assert accuracy([0.0], [-1]) == 1.0  # a zero score predicts -1, as in micrograd's demo
    assert accuracy([[Value(0.3)], [Value(-0.3)]], [1, 1]) == 0.5  # one-item rows
    rows = [[0.1, 2.0, 0.3], [5.0, 5.0, 1.0], [0.0, 0.0, 9.0]]
    assert accuracy(rows, [1, 0, 0]) == pytest.approx(2 / 3)  # ties go to the first
    assert accuracy([vals(0.2, 0.1)], [0]) == 1.0


def test_accuracy_of_logits_and_probabilities_with_0_1_labels() -> None:
    logits = [0.3, -0.2, 0.0, 2.0]
    assert accuracy(logits, [1, 0, 0, 0], labels=(0, 1)) == 0.75  # a logit of 0 predicts 0
    probs = vals(0.7, 0.4, 0.5, 0.51)
    assert accuracy(probs, [1, 0, 0, 1], labels=(0, 1), threshold=0.5) == 1.0
    assert accuracy(probs, [1, 0, 0, 1], labels=(0, 1)) == 0.5  # threshold 0 is wrong here
    assert accuracy([[0.9]], [1.0], labels=(0, 1), threshold=0.5) == 1.0  # 1.0 counts as 1


def test_predictions_follow_the_same_rules() -> None:
    assert predictions([0.5, 0.0, -1.0]) == [1, -1, -1]
    assert predictions([[0.6], [0.4]], labels=(0, 1), threshold=0.5) == [1, 0]
    assert predictions([[0.1, 2.0, 0.3], [5.0, 5.0, 1.0]]) == [1, 0]  # ties go to the first
    # labels=None reads every row as class logits, even rows of one
    assert predictions([[3.0], [-3.0]], labels=None) == [0, 0]
    assert accuracy([[3.0], [-3.0]], [0, 0], labels=None) == 1.0


# ----------------------------------------------------------------------------- bad input

CASES: list[tuple[Callable[[], object], type[Exception], str]] = [
    (lambda: hinge([1.0, 2.0], [1, 0]), ValueError, "hinge: label 1 must be -1 or \\+1, got 0"),
    (lambda: hinge([1.0], [2.0]), ValueError, "label 0 must be -1 or \\+1"),
    (lambda: hinge([1.0], [True]), TypeError, "target 0 must be a real number, got bool"),
    (lambda: hinge([1.0], ["1"]), TypeError, "must be a real number, got str"),
    (lambda: hinge([[1.0, 2.0]], [1]), ValueError, "example 0 must be one score, got a row of 2"),
    (lambda: hinge([1.0, 2.0], [1]), ValueError, "hinge: 2 predictions but 1 targets"),
    (lambda: hinge([], []), ValueError, "hinge: empty batch"),
    (lambda: hinge("ab", [1, 1]), TypeError, "predictions must be a sequence"),
    (lambda: hinge(Value(1.0), [1]), TypeError, "predictions must be a sequence"),
    (lambda: hinge([None], [1]), TypeError, "NoneType"),
    (lambda: bce([0.5], [1.5]), ValueError, "bce: target 0 must be in \\[0, 1\\], got 1.5"),
    (lambda: bce([0.5], [-0.1]), ValueError, "must be in \\[0, 1\\]"),
    (lambda: bce([0.5], [math.nan]), ValueError, "target 0 must be finite"),
    (lambda: bce([0.5], [1], eps=0.0), ValueError, r"eps must be in \(0, 0\.5\), got 0\.0"),
    (lambda: bce_with_logits([0.5], [2]), ValueError, "bce_with_logits: target 0 must be in"),
    (lambda: cross_entropy([[1.0, 2.0]], [2]), ValueError, "class id 0 is 2, outside 0..1"),
    (lambda: cross_entropy([[1.0, 2.0]], [-1]), ValueError, "outside 0..1"),
    (lambda: cross_entropy([[1.0, 2.0]], [1.0]), TypeError, "class id 0 must be an int, got float"),
    (lambda: cross_entropy([[1.0, 2.0]], [True]), TypeError, "must be an int, got bool"),
    (lambda: cross_entropy([[1.0, 2.0], [1.0]], [0, 0]), ValueError, "example 1 has 1 logits"),
    (lambda: cross_entropy([[1.0, 2.0]], [0, 1]), ValueError, "1 logit rows but 2 class ids"),
    (lambda: cross_entropy([1.0, 2.0], [0, 1]), TypeError, "must be a row of class logits"),
    (lambda: cross_entropy([], []), ValueError, "empty batch"),
    (lambda: mse([[1.0, 2.0]], [[1.0]]), ValueError, "example 0 has 2 predictions but 1"),
    (lambda: mse([1.0], [[1.0, 2.0]]), TypeError, "target 0 must be a real number, got list"),
    (lambda: mse([1.0], [math.inf]), ValueError, "must be finite"),
    (lambda: l2_penalty([]), ValueError, "l2_penalty: empty parameter list"),
    (lambda: l2_penalty([1.0]), TypeError, r"params\[0\] must be a Value"),
    (lambda: l2_penalty(Value(1.0)), TypeError, "params must be an iterable of Values"),
    (lambda: l1_penalty([Value(1.0)], alpha=-1.0), ValueError, "alpha must be >= 0"),
    (lambda: l1_penalty([Value(1.0)], alpha=math.inf), ValueError, "alpha must be finite"),
    (lambda: accuracy([1.0], [0]), ValueError, "accuracy: label 0 must be -1 or \\+1"),
    (lambda: accuracy([[1.0, 2.0]], [2]), ValueError, "class id 0 is 2"),
    (lambda: accuracy([1.0, 2.0], [1]), ValueError, "2 predictions but 1 targets"),
    (lambda: accuracy([1.0], [-1], labels=(0, 1)), ValueError, "label 0 must be 0 or 1, got -1"),
    (lambda: accuracy([1.0], [0.3], labels=(0, 1)), ValueError, "label 0 must be 0 or 1, got 0.3"),
    (lambda: accuracy([1.0], ["1"], labels=(0, 1)), TypeError, "label 0 must be a real number"),
    (lambda: accuracy([1.0], [1], labels=(1, 1)), ValueError, "labels must be two different"),
    (lambda: accuracy([1.0], [1], labels=(0, 1, 2)), TypeError, r"labels must be a pair"),
    (lambda: accuracy([1.0], [1], labels="01"), TypeError, r"labels must be a pair"),
    (lambda: accuracy([1.0], [1], labels=(0, "1")), TypeError, r"labels\[1\] must be a real"),
    (lambda: accuracy([1.0], [1], threshold=math.nan), ValueError, "threshold must be finite"),
    (lambda: accuracy([[1.0]], [1], labels=None), ValueError, "class id 0 is 1, outside 0..0"),
    (lambda: predictions([1.0], threshold="0"), TypeError, "predictions: threshold must be a"),
    (lambda: predictions([]), ValueError, "predictions: empty batch"),
]


@pytest.mark.parametrize(("call", "error", "match"), CASES)
def test_bad_input(call: Callable[[], Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        call()


def test_l2_penalty_is_exactly_the_sum_of_squares() -> None:
    # one dot node, bit for bit what separate products and a sum give (value and gradients)
    rng = random.Random(3)
    ps = [Value(rng.uniform(-2.0, 2.0)) for _ in range(200)]
    penalty = l2_penalty(ps, alpha=1e-4)
    reference = vsum([p * p for p in ps]) * 1e-4
    assert penalty.data == reference.data
    assert grad(penalty, ps) == grad(reference, ps)
