"""Loss functions (MSE, cross-entropies, SVM hinge), parameter penalties and accuracy.

Every loss is the mean over the batch of one term per example (per element for ``mse``),
summed by a single n-ary ``sum`` node (:func:`~micrograd_like.functional.vsum`) and scaled by
``1 / n``. Predictions may be Values or plain numbers; a one-item list (what a one-output
``MLP`` returns) counts as its item. Targets are plain numbers. Wrong inputs raise
``TypeError``/``ValueError`` naming the loss, the example and the value.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import Any, TypeGuard

from micrograd_like.engine import Value, values
from micrograd_like.functional import logsumexp, vsum

__all__ = [
    "BCE_EPS",
    "accuracy",
    "bce",
    "bce_with_logits",
    "cross_entropy",
    "hinge",
    "l1_penalty",
    "l2_penalty",
    "mse",
]

Score = Value | float | Sequence[Value | float]
BCE_EPS = 1e-12


def _items(xs: object, what: str, where: str) -> list[Any]:
    # a non-empty sequence (list, tuple, 1-D array), never a string or a lone Value
    if isinstance(xs, (Value, str, bytes)) or not isinstance(xs, Iterable):
        raise TypeError(f"{where}: {what} must be a sequence, got {type(xs).__name__} {xs!r:.60}")
    items = list(xs)
    if not items:
        raise ValueError(f"{where}: empty batch (no {what})")
    return items


def _pairs(preds: object, targets: object, where: str) -> tuple[list[Any], list[Any]]:
    ps = _items(preds, "predictions", where)
    ts = _items(targets, "targets", where)
    if len(ps) != len(ts):
        raise ValueError(f"{where}: {len(ps)} predictions but {len(ts)} targets")
    return ps, ts


def _is_row(x: object) -> TypeGuard[Iterable[Any]]:
    return not isinstance(x, (Value, str, bytes)) and isinstance(x, Iterable)


def _scalar(x: Any, i: int, where: str) -> Value:
    # one score per example: a Value, a number, or a one-item row of either
    if _is_row(x):
        row = list(x)
        if len(row) != 1:
            raise ValueError(
                f"{where}: example {i} must be one score, got a row of {len(row)} values"
            )
        x = row[0]
    return values([x], where)[0]


def _number(t: object, i: int, where: str) -> float:
    if isinstance(t, bool) or not isinstance(t, numbers.Real):
        raise TypeError(f"{where}: target {i} must be a number, got {type(t).__name__} {t!r:.60}")
    f = float(t)
    if not math.isfinite(f):
        raise ValueError(f"{where}: target {i} must be finite, got {f!r}")
    return f


def _mean(terms: list[Value]) -> Value:
    return vsum(terms) * (1.0 / len(terms))


def mse(preds: Sequence[Score], targets: Sequence[Any]) -> Value:
    """Mean squared error ``mean((p - t)^2)`` over every element.

    Each prediction is a scalar (or one-item row) with a number target, or a row with a row
    target of the same length (multi-output regression); the mean runs over all elements.
    """
    ps, ts = _pairs(preds, targets, "mse")
    terms: list[Value] = []
    for i, (p, t) in enumerate(zip(ps, ts, strict=True)):
        if _is_row(p) and _is_row(t):
            prow, trow = values(p, "mse"), list(t)
            if len(prow) != len(trow):
                raise ValueError(
                    f"mse: example {i} has {len(prow)} predictions but {len(trow)} targets"
                )
            pairs = [(pv, _number(tv, i, "mse")) for pv, tv in zip(prow, trow, strict=True)]
        else:
            pairs = [(_scalar(p, i, "mse"), _number(t, i, "mse"))]
        terms.extend((pv + -tv) ** 2 for pv, tv in pairs)
    return _mean(terms)


def bce(probs: Sequence[Score], targets: Sequence[float], eps: float = BCE_EPS) -> Value:
    """Binary cross-entropy on probabilities: ``-mean(t log p + (1 - t) log(1 - p))``.

    Each probability is first clamped to ``[eps, 1 - eps]`` (``eps = 1e-12`` by default, so a
    term is at most about 27.6 and never infinite; the gradient is 0 where the clamp holds).
    Targets are numbers in ``[0, 1]`` (soft labels allowed). For raw scores prefer
    :func:`bce_with_logits`, which is exact at any magnitude.
    """
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not 0.0 < eps < 0.5:
        raise ValueError(f"bce: eps must be a number in (0, 0.5), got {eps!r:.60}")
    ps, ts = _pairs(probs, targets, "bce")
    terms: list[Value] = []
    for i, (p, t) in enumerate(zip(ps, ts, strict=True)):
        y = _unit_target(t, i, "bce")
        q = _scalar(p, i, "bce").clamp(eps, 1.0 - eps)
        # a hard label keeps only its own log term (fewer nodes, same value)
        if y == 1.0:
            terms.append(-q.log())
        elif y == 0.0:
            terms.append(-(1.0 - q).log())
        else:
            terms.append(-(y * q.log() + (1.0 - y) * (1.0 - q).log()))
    return _mean(terms)


def bce_with_logits(logits: Sequence[Score], targets: Sequence[float]) -> Value:
    """Binary cross-entropy on logits: ``mean(softplus(z) - t z)``.

    This equals ``bce(sigmoid(z), t)`` without ever forming the probability: ``softplus`` is
    one stable op, so the loss and its gradient ``sigmoid(z) - t`` are exact even at
    ``|z| = 1000``. Targets are numbers in ``[0, 1]``.
    """
    zs, ts = _pairs(logits, targets, "bce_with_logits")
    terms = []
    for i, (z, t) in enumerate(zip(zs, ts, strict=True)):
        y = _unit_target(t, i, "bce_with_logits")
        zv = _scalar(z, i, "bce_with_logits")
        terms.append(zv.softplus() if y == 0.0 else zv.softplus() - zv * y)
    return _mean(terms)


def _unit_target(t: object, i: int, where: str) -> float:
    y = _number(t, i, where)
    if not 0.0 <= y <= 1.0:
        raise ValueError(f"{where}: target {i} must be in [0, 1], got {y!r}")
    return y


def _class_id(c: object, i: int, k: int, where: str) -> int:
    if isinstance(c, bool) or not isinstance(c, numbers.Integral):
        raise TypeError(f"{where}: class id {i} must be an int, got {type(c).__name__} {c!r:.60}")
    if not 0 <= int(c) < k:
        raise ValueError(f"{where}: class id {i} is {int(c)}, outside 0..{k - 1}")
    return int(c)


def _rows(logits: object, where: str) -> list[list[Any]]:
    rows = _items(logits, "logit rows", where)
    out: list[list[Any]] = []
    for i, r in enumerate(rows):
        if not _is_row(r):
            raise TypeError(f"{where}: example {i} must be a row of class logits, got {r!r:.60}")
        out.append(list(r))
    k = len(out[0])
    for i, r in enumerate(out):
        if len(r) != k or not r:
            raise ValueError(f"{where}: example {i} has {len(r)} logits, example 0 has {k}")
    return out


def cross_entropy(logits: Sequence[Sequence[Any]], class_ids: Sequence[int]) -> Value:
    """Softmax cross-entropy: ``mean(logsumexp(z) - z[c])`` over rows of class logits.

    ``logits`` is one row of ``k`` logits per example (Values or numbers), ``class_ids`` one
    int in ``0..k-1`` per example. ``logsumexp`` is one stable node, so huge logits neither
    overflow nor lose the answer; the gradient of a row is ``softmax(z) - onehot(c)``.
    """
    where = "cross_entropy"
    rows = _rows(logits, where)
    ids = _items(class_ids, "class ids", where)
    if len(rows) != len(ids):
        raise ValueError(f"{where}: {len(rows)} logit rows but {len(ids)} class ids")
    k = len(rows[0])
    cs = [_class_id(c, i, k, where) for i, c in enumerate(ids)]
    terms = []
    for r, c in zip(rows, cs, strict=True):
        zs = values(r, where)
        terms.append(logsumexp(zs) - zs[c])
    return _mean(terms)


def hinge(scores: Sequence[Score], labels: Sequence[float]) -> Value:
    """SVM max-margin loss ``mean(relu(1 - y s))`` with labels ``y`` of exactly -1 or +1.

    This is micrograd's demo loss: a point costs nothing once its score has the right sign
    with a margin of at least 1.
    """
    ss, ys = _pairs(scores, labels, "hinge")
    terms = []
    for i, (s, t) in enumerate(zip(ss, ys, strict=True)):
        y = _number(t, i, "hinge")
        if y not in (-1.0, 1.0):
            raise ValueError(f"hinge: label {i} must be -1 or +1, got {t!r}")
        terms.append((_scalar(s, i, "hinge") * -y + 1.0).relu())
    return _mean(terms)


def _penalty_params(params: Iterable[Value], where: str) -> list[Value]:
    if isinstance(params, Value) or not isinstance(params, Iterable):
        raise TypeError(
            f"{where}: expected an iterable of parameter Values (model.parameters()), "
            f"got {type(params).__name__}"
        )
    ps = list(params)
    for i, p in enumerate(ps):
        if not isinstance(p, Value):
            raise TypeError(f"{where}: parameter {i} must be a Value, got {type(p).__name__}")
    if not ps:
        raise ValueError(f"{where}: no parameters")
    return ps


def _alpha(alpha: float, where: str) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not alpha >= 0.0:
        raise ValueError(f"{where}: alpha must be a number >= 0, got {alpha!r:.60}")
    if not math.isfinite(alpha):
        raise ValueError(f"{where}: alpha must be finite, got {alpha!r}")
    return float(alpha)


def l2_penalty(params: Iterable[Value], alpha: float = 1.0) -> Value:
    """``alpha * sum(p * p)``, with no 1/2 factor (micrograd's demo uses ``alpha = 1e-4``).

    Its gradient is ``2 alpha p``. (``weight_decay=wd`` in :mod:`~micrograd_like.optim` adds
    ``wd p`` to the gradient instead, which is this penalty with ``alpha = wd / 2``.)
    """
    a = _alpha(alpha, "l2_penalty")
    return vsum([p * p for p in _penalty_params(params, "l2_penalty")]) * a


def l1_penalty(params: Iterable[Value], alpha: float = 1.0) -> Value:
    """``alpha * sum(|p|)``; its gradient is ``alpha * sign(p)`` (0 at p = 0)."""
    a = _alpha(alpha, "l1_penalty")
    return vsum([abs(p) for p in _penalty_params(params, "l1_penalty")]) * a


def accuracy(outputs: Sequence[Score], targets: Sequence[Any]) -> float:
    """Fraction of examples predicted right, as a plain float in ``[0, 1]``.

    Two kinds, told apart by the outputs: one score per example (a Value, number or one-item
    row) against labels ±1, where a score ``> 0`` predicts +1 (0 predicts -1, as in micrograd's
    demo); or rows of at least two class logits against int class ids, where the prediction is
    the first largest logit.
    """
    where = "accuracy"
    outs, ts = _pairs(outputs, targets, where)
    if any(_is_row(o) and len(list(o)) > 1 for o in outs):
        rows = _rows(outs, where)
        k = len(rows[0])
        cs = [_class_id(c, i, k, where) for i, c in enumerate(ts)]
        hits = 0
        for r, c in zip(rows, cs, strict=True):
            zs = [v.data for v in values(r, where)]
            hits += zs.index(max(zs)) == c
        return hits / len(rows)
    hits = 0
    for i, (o, t) in enumerate(zip(outs, ts, strict=True)):
        y = _number(t, i, where)
        if y not in (-1.0, 1.0):
            raise ValueError(f"{where}: label {i} must be -1 or +1, got {t!r}")
        hits += (_scalar(o, i, where).data > 0.0) == (y > 0.0)
    return hits / len(outs)
