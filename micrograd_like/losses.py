"""Loss functions (MSE, cross-entropies, SVM hinge), parameter penalties, predictions, accuracy.

Every loss is the mean over the batch of one term per example (per element for ``mse``),
summed by a single n-ary ``sum`` node (:func:`~micrograd_like.functional.vsum`) and scaled by
``1 / n``. Predictions may be Values or plain numbers; a one-item list (what a one-output
``MLP`` returns) counts as its item. Targets are plain numbers. Wrong inputs raise
``TypeError``/``ValueError`` naming the loss, the example and the value.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeGuard

from micrograd_like._validate import count, parameters, real
from micrograd_like.engine import Value, mark_composite, values
from micrograd_like.functional import dot, logsumexp, vsum

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
    "predictions",
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


def _mean(terms: list[Value], name: str, inputs: list[Value]) -> Value:
    # the loss's value, marked as the result of the composite `name` applied to `inputs`, so
    # a diagram or a step-through can show the whole loss as one node (or open it)
    return mark_composite(vsum(terms) * (1.0 / len(terms)), name, inputs)


def mse(preds: Sequence[Score], targets: Sequence[Any]) -> Value:
    """Mean squared error ``mean((p - t)^2)`` over every element.

    Each prediction is a scalar (or one-item row) with a number target, or a row with a row
    target of the same length (multi-output regression); the mean runs over all elements.
    """
    ps, ts = _pairs(preds, targets, "mse")
    terms: list[Value] = []
    inputs: list[Value] = []
    for i, (p, t) in enumerate(zip(ps, ts, strict=True)):
        if _is_row(p) and _is_row(t):
            prow, trow = values(p, "mse"), list(t)
            if len(prow) != len(trow):
                raise ValueError(
                    f"mse: example {i} has {len(prow)} predictions but {len(trow)} targets"
                )
            pairs = [(pv, real(tv, f"mse: target {i}")) for pv, tv in zip(prow, trow, strict=True)]
        else:
            pairs = [(_scalar(p, i, "mse"), real(t, f"mse: target {i}"))]
        inputs.extend(pv for pv, _ in pairs)
        terms.extend((pv + -tv) ** 2 for pv, tv in pairs)
    return _mean(terms, "mse", inputs)


def bce(probs: Sequence[Score], targets: Sequence[float], eps: float = BCE_EPS) -> Value:
    """Binary cross-entropy on probabilities: ``-mean(t log p + (1 - t) log(1 - p))``.

    Each probability is first clamped to ``[eps, 1 - eps]`` (``eps = 1e-12`` by default, so a
    term is at most about 27.6 and never infinite; the gradient is 0 where the clamp holds).
    Targets are numbers in ``[0, 1]`` (soft labels allowed). For raw scores prefer
    :func:`bce_with_logits`, which is exact at any magnitude.
    """
    eps = real(eps, "bce: eps", above=0.0, below=0.5, wrong_type=ValueError)
    ps, ts = _pairs(probs, targets, "bce")
    terms: list[Value] = []
    inputs: list[Value] = []
    for i, (p, t) in enumerate(zip(ps, ts, strict=True)):
        y = _unit_target(t, i, "bce")
        inputs.append(_scalar(p, i, "bce"))
        q = inputs[-1].clamp(eps, 1.0 - eps)
        # a hard label keeps only its own log term (fewer nodes, same value)
        if y == 1.0:
            terms.append(-q.log())
        elif y == 0.0:
            terms.append(-(1.0 - q).log())
        else:
            terms.append(-(y * q.log() + (1.0 - y) * (1.0 - q).log()))
    return _mean(terms, "bce", inputs)


def bce_with_logits(logits: Sequence[Score], targets: Sequence[float]) -> Value:
    """Binary cross-entropy on logits: ``mean(softplus(z) - t z)``.

    This equals ``bce(sigmoid(z), t)`` without ever forming the probability: ``softplus`` is
    one stable op, so the loss and its gradient ``sigmoid(z) - t`` are exact even at
    ``|z| = 1000``. Targets are numbers in ``[0, 1]``.
    """
    zs, ts = _pairs(logits, targets, "bce_with_logits")
    terms = []
    inputs: list[Value] = []
    for i, (z, t) in enumerate(zip(zs, ts, strict=True)):
        y = _unit_target(t, i, "bce_with_logits")
        zv = _scalar(z, i, "bce_with_logits")
        inputs.append(zv)
        terms.append(zv.softplus() if y == 0.0 else zv.softplus() - zv * y)
    return _mean(terms, "bce_with_logits", inputs)


def _unit_target(t: object, i: int, where: str) -> float:
    return real(t, f"{where}: target {i}", at_least=0.0, at_most=1.0)


def _class_id(c: object, i: int, k: int, where: str) -> int:
    n = count(c, f"{where}: class id {i}", least=None)
    if not 0 <= n < k:
        raise ValueError(f"{where}: class id {i} is {n}, outside 0..{k - 1}")
    return n


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
    inputs: list[Value] = []
    for r, c in zip(rows, cs, strict=True):
        zs = values(r, where)
        inputs.extend(zs)
        terms.append(logsumexp(zs) - zs[c])
    return _mean(terms, where, inputs)


def hinge(scores: Sequence[Score], labels: Sequence[float]) -> Value:
    """SVM max-margin loss ``mean(relu(1 - y s))`` with labels ``y`` of exactly -1 or +1.

    This is micrograd's demo loss: a point costs nothing once its score has the right sign
    with a margin of at least 1.
    """
    ss, ys = _pairs(scores, labels, "hinge")
    terms = []
    inputs: list[Value] = []
    for i, (s, t) in enumerate(zip(ss, ys, strict=True)):
        y = real(t, f"hinge: target {i}")
        if y not in (-1.0, 1.0):
            raise ValueError(f"hinge: label {i} must be -1 or +1, got {t!r}")
        inputs.append(_scalar(s, i, "hinge"))
        terms.append((inputs[-1] * -y + 1.0).relu())
    return _mean(terms, "hinge", inputs)


def l2_penalty(params: Iterable[Value], alpha: float = 1.0) -> Value:
    """``alpha * sum(p * p)``, with no 1/2 factor (micrograd's demo uses ``alpha = 1e-4``).

    Its gradient is ``2 alpha p``. (``weight_decay=wd`` in :mod:`~micrograd_like.optim` adds
    ``wd p`` to the gradient instead, which is this penalty with ``alpha = wd / 2``.)
    """
    a = real(alpha, "l2_penalty: alpha", at_least=0.0, wrong_type=ValueError)
    ps = parameters(params, "l2_penalty", unique=False)
    # sum p * p as one dot node (p against itself): the same rounded products, summed by the
    # same fsum, and the same 2 g p per parameter as separate products would give, bit for bit
    return mark_composite(dot(ps, ps) * a, "l2_penalty", ps)


def l1_penalty(params: Iterable[Value], alpha: float = 1.0) -> Value:
    """``alpha * sum(|p|)``; its gradient is ``alpha * sign(p)`` (0 at p = 0)."""
    a = real(alpha, "l1_penalty: alpha", at_least=0.0, wrong_type=ValueError)
    ps = parameters(params, "l1_penalty", unique=False)
    return mark_composite(vsum([abs(p) for p in ps]) * a, "l1_penalty", ps)


def _label_pair(labels: object, where: str) -> tuple[float, float] | None:
    # None (class ids), or two different numbers: (below the threshold, above it)
    if labels is None:
        return None
    if isinstance(labels, (str, bytes)) or not isinstance(labels, Sequence) or len(labels) != 2:
        raise TypeError(
            f"{where}: labels must be a pair (below, above) or None, got {labels!r:.60}"
        )
    low, high = labels
    if real(low, f"{where}: labels[0]") == real(high, f"{where}: labels[1]"):
        raise ValueError(f"{where}: labels must be two different labels, got {labels!r:.60}")
    return low, high


def _either(pair: tuple[float, float]) -> str:
    # "-1 or +1", "0 or 1": signs shown where a label is negative
    spec = "+g" if min(pair) < 0 else "g"
    return " or ".join(format(x, spec) for x in pair)


def _predict(
    outs: list[Any], labels: tuple[float, float] | None, threshold: float, where: str
) -> tuple[list[float], int]:
    """Each example's predicted label, and the number of classes (0 for one score each)."""
    if labels is None or any(_is_row(o) and len(list(o)) > 1 for o in outs):
        rows = _rows(outs, where)
        preds: list[float] = []
        for r in rows:
            zs = [v.data for v in values(r, where)]
            preds.append(zs.index(max(zs)))  # the first largest logit
        return preds, len(rows[0])
    low, high = labels
    return [high if _scalar(o, i, where).data > threshold else low for i, o in enumerate(outs)], 0


def predictions(
    outputs: Sequence[Score],
    *,
    labels: Sequence[float] | None = (-1, 1),
    threshold: float = 0.0,
) -> list[float]:
    """Return the label each example's output predicts (see :func:`accuracy` for the rules)."""
    where = "predictions"
    pair = _label_pair(labels, where)
    cut = real(threshold, f"{where}: threshold")
    return _predict(_items(outputs, "outputs", where), pair, cut, where)[0]


def accuracy(
    outputs: Sequence[Score],
    targets: Sequence[Any],
    *,
    labels: Sequence[float] | None = (-1, 1),
    threshold: float = 0.0,
) -> float:
    """Fraction of examples predicted right, as a plain float in ``[0, 1]``.

    Two kinds, told apart by the outputs. One score per example (a Value, number or one-item
    row) predicts ``labels[1]`` where it is above ``threshold`` and ``labels[0]`` elsewhere;
    every target must be one of the two labels. The default, labels -1/+1 at threshold 0,
    reads hinge scores as micrograd's demo does (a score of 0 predicts -1); use
    ``labels=(0, 1)`` for logits (threshold 0) and for sigmoid probabilities
    (``threshold=0.5``). Rows of class logits (rows of at least two, or rows of any width
    with ``labels=None``) are read against int class ids: the prediction is the first
    largest logit.
    """
    where = "accuracy"
    pair = _label_pair(labels, where)
    cut = real(threshold, f"{where}: threshold")
    outs, ts = _pairs(outputs, targets, where)
    preds, k = _predict(outs, pair, cut, where)
    if pair is None or k:  # rows of class logits
        wanted = [float(_class_id(c, i, k, where)) for i, c in enumerate(ts)]
    else:
        wanted = [_binary_label(t, i, pair, where) for i, t in enumerate(ts)]
    return sum(p == t for p, t in zip(preds, wanted, strict=True)) / len(preds)


def _binary_label(t: object, i: int, pair: tuple[float, float], where: str) -> float:
    y = real(t, f"{where}: label {i}")
    if y not in pair:
        raise ValueError(f"{where}: label {i} must be {_either(pair)}, got {t!r}")
    return y
