"""Seeded toy datasets (moons, circles, XOR, spirals, blobs), a seeded split, input checks.

Every generator returns plain Python lists: ``X`` is a list of rows (each a list of floats) and
``y`` a list of labels, one per row. Label conventions:

* binary sets (:func:`make_moons`, :func:`make_circles`, :func:`make_xor`) use ``{0, 1}``;
  pass ``signed=True`` (or call :func:`signed_labels`) for ``{-1, +1}``, which the hinge
  (max-margin) loss wants;
* multi-class sets (:func:`make_spirals`, :func:`make_blobs`) use class ids ``0 .. k-1``.

The same seed gives the same data on every run and platform (Python's ``random.Random``).
A generator makes at most :data:`MAX_NUMBERS` numbers (``n`` up to 5e7 2-D points), so a
mistyped size fails at once instead of filling the memory.
Wherever a user hands data to the library, lists or numpy arrays are accepted: :func:`as_rows`
and :func:`as_targets` are the one place that converts and checks them (numpy is never imported;
an array is read through its ``tolist()``).
"""

from __future__ import annotations

import math
import numbers
import random
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any

from micrograd_like._validate import brief, count, flag, real

__all__ = [
    "Target",
    "as_rows",
    "as_targets",
    "make_blobs",
    "make_circles",
    "make_moons",
    "make_spirals",
    "make_xor",
    "signed_labels",
    "train_test_split",
]

# one label (class id, ±1, or a regression target) or one row of targets for several outputs
Target = int | float | list[float]
Dataset = tuple[list[list[float]], list[int]]
# the most numbers a generator makes (n points times their dimension): about 4 GB of floats in
# lists, far more than a scalar engine trains on; a larger n is a typo, refused at once
MAX_NUMBERS = 10**8


# ---------------------------------------------------------------------------- input checks


def _listed(data: object, name: str) -> list[Any]:
    # numpy arrays (and anything array-like) become nested lists through tolist()
    if hasattr(data, "tolist") and not isinstance(data, list | tuple):
        data = data.tolist()
    if isinstance(data, str | bytes) or not isinstance(data, Sequence):
        unordered = (
            "; a set or dict has no order" if isinstance(data, AbstractSet | Mapping) else ""
        )
        raise TypeError(
            f"{name}: expected a list (or numpy array), got {type(data).__name__}{unordered}"
        )
    if len(data) == 0:
        raise ValueError(f"{name}: the dataset is empty")
    return list(data)


def as_rows(X: object, name: str = "X") -> list[list[float]]:
    """Return inputs as a non-empty list of equally long rows of floats, or raise naming the fault.

    Accepts a list (or tuple) of rows, each a sequence of real numbers, or a 2-D numpy array.
    A flat list of numbers is rejected rather than guessed at (is ``[1, 2]`` one point or two?):
    write ``[[x] for x in xs]`` for one feature per point. Booleans, NaN and infinities are
    rejected, so a bad value fails here and not deep inside a training step.
    """
    rows = _listed(X, name)
    width = -1
    out: list[list[float]] = []
    for i, row in enumerate(rows):
        if hasattr(row, "tolist") and not isinstance(row, list | tuple):
            row = row.tolist()
        if isinstance(row, AbstractSet | Mapping):
            raise TypeError(
                f"{name}: row {i} is a {type(row).__name__}, which has no order; "
                "give each row as a list of numbers"
            )
        if isinstance(row, str | bytes) or not isinstance(row, Sequence):
            raise ValueError(
                f"{name}: row {i} is {type(row).__name__} {brief(row, 40)}, expected a list of"
                f" numbers ({name} must be 2-D: one row per point; write [[x] for x in xs]"
                " for one number per point)"
            )
        if width == -1:
            width = len(row)
            if width == 0:
                raise ValueError(f"{name}: row 0 is empty; each row needs at least one number")
        elif len(row) != width:
            raise ValueError(f"{name}: row {i} has {len(row)} numbers but row 0 has {width}")
        out.append([real(x, f"{name}[{i}][{j}]") for j, x in enumerate(row)])
    return out


def as_targets(y: object, name: str = "y") -> list[Target]:
    """Return labels or targets as a non-empty list: numbers, or equally long rows of floats.

    Integer labels stay ``int`` (class ids, ``0/1``, ``±1``); other numbers become ``float``.
    Rows (a 2-D list or array) are targets for a model with several outputs; a column array
    of shape ``(n, 1)`` is flattened to ``n`` numbers. Accepts lists, tuples and numpy arrays.
    """
    items = _listed(y, name)
    if any(_is_row(t) for t in items):
        rows = as_rows(items, name)
        if len(rows[0]) > 1:
            return list(rows)
        items = [row[0] for row in items]  # a column: (n, 1) -> n labels
    return [_label(t, f"{name}[{i}]") for i, t in enumerate(items)]


def _is_row(t: object) -> bool:
    # a list, tuple or array of targets; a numpy scalar (np.int64(1)) has tolist() too, but
    # no dimensions: it is one label
    if isinstance(t, list | tuple):
        return True
    return hasattr(t, "tolist") and getattr(t, "ndim", 1) != 0


def _label(t: object, where: str) -> int | float:
    # integer labels stay int (class ids); anything else must be a finite real
    if isinstance(t, numbers.Integral) and not isinstance(t, bool):
        return int(t)
    return real(t, where)


def _seeded(seed: int | None, where: str) -> random.Random:
    if seed is not None:
        seed = count(seed, f"{where}: seed", least=None, or_none=True)
    return random.Random(seed)


def signed_labels(y: Sequence[int]) -> list[int]:
    """Map binary labels ``{0, 1}`` to ``{-1, +1}`` (0 -> -1), the form the hinge loss expects."""
    out = []
    for i, t in enumerate(as_targets(y)):
        if t not in (0, 1):
            raise ValueError(f"signed_labels: y[{i}] is {t!r}, expected 0 or 1")
        out.append(2 * int(t) - 1)
    return out


# ---------------------------------------------------------------------------- generators


def _finish(
    points: list[tuple[list[float], int]], noise: float, rng: random.Random, signed: bool
) -> Dataset:
    # shuffle first, then jitter every coordinate by N(0, noise^2), as sklearn does
    rng.shuffle(points)
    X = [[c + rng.gauss(0.0, noise) for c in p] if noise else list(p) for p, _ in points]
    y = [t for _, t in points]
    return X, signed_labels(y) if signed else y


def _shares(n: int, k: int) -> list[int]:
    # n points dealt out to k groups as evenly as possible, the first ones getting the extra
    return [n // k + (j < n % k) for j in range(k)]


def _arc(m: int, i: int) -> float:
    # the i-th of m evenly spaced angles from 0 to pi inclusive (numpy's linspace(0, pi, m))
    return math.pi * i / (m - 1) if m > 1 else 0.0


def make_moons(
    n: int = 100, *, noise: float = 0.0, seed: int | None = None, signed: bool = False
) -> Dataset:
    """Two interleaving half circles, like sklearn's ``make_moons``: ``n`` points in 2-D.

    The upper moon (label 0) is ``(cos t, sin t)`` and the lower one (label 1) is
    ``(1 - cos t, 0.5 - sin t)`` for ``t`` evenly spaced over ``[0, pi]``; ``n // 2`` points go
    to the upper moon. The points are shuffled and each coordinate gets gaussian noise of
    standard deviation ``noise``. ``signed=True`` gives labels -1 / +1 instead of 0 / 1.
    """
    n = count(n, "make_moons: n", at_most=MAX_NUMBERS // 2)
    flag(signed, "make_moons: signed")
    noise = real(noise, "make_moons: noise", at_least=0.0)
    rng = _seeded(seed, "make_moons")
    upper, lower = n // 2, n - n // 2
    points = [([math.cos(_arc(upper, i)), math.sin(_arc(upper, i))], 0) for i in range(upper)]
    points += [
        ([1.0 - math.cos(_arc(lower, i)), 0.5 - math.sin(_arc(lower, i))], 1) for i in range(lower)
    ]
    return _finish(points, noise, rng, signed)


def make_circles(
    n: int = 100,
    *,
    noise: float = 0.0,
    factor: float = 0.5,
    seed: int | None = None,
    signed: bool = False,
) -> Dataset:
    """A small circle inside a large one, like sklearn's ``make_circles``: ``n`` points in 2-D.

    The outer circle (radius 1, label 0) gets ``n // 2`` points, the inner one (radius
    ``factor``, label 1) the rest, each evenly spaced in angle; then shuffle and gaussian noise
    of standard deviation ``noise``. ``0 < factor < 1``. ``signed=True`` gives -1 / +1.
    """
    n = count(n, "make_circles: n", at_most=MAX_NUMBERS // 2)
    flag(signed, "make_circles: signed")
    noise = real(noise, "make_circles: noise", at_least=0.0)
    factor = real(factor, "make_circles: factor", above=0.0, below=1.0)
    rng = _seeded(seed, "make_circles")
    points: list[tuple[list[float], int]] = []
    for label, (m, r) in enumerate(((n // 2, 1.0), (n - n // 2, factor))):
        for i in range(m):
            t = 2.0 * math.pi * i / m
            points.append(([r * math.cos(t), r * math.sin(t)], label))
    return _finish(points, noise, rng, signed)


def make_xor(
    n: int = 100, *, noise: float = 0.0, seed: int | None = None, signed: bool = False
) -> Dataset:
    """The XOR problem: ``n`` points uniform in the square ``[-1, 1]^2``, label 1 where x*y < 0.

    Quadrants with coordinates of the same sign are class 0, opposite signs class 1: no single
    line separates them. Labels come from the clean points; gaussian noise of standard
    deviation ``noise`` is added afterwards. ``signed=True`` gives -1 / +1.
    """
    n = count(n, "make_xor: n", at_most=MAX_NUMBERS // 2)
    flag(signed, "make_xor: signed")
    noise = real(noise, "make_xor: noise", at_least=0.0)
    rng = _seeded(seed, "make_xor")
    points: list[tuple[list[float], int]] = []
    for _ in range(n):
        a, b = rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0)
        points.append(([a, b], int(a * b < 0)))
    return _finish(points, noise, rng, signed)


def make_spirals(
    n: int = 100, *, classes: int = 3, noise: float = 0.0, seed: int | None = None
) -> Dataset:
    """``classes`` interleaved spiral arms in 2-D (the CS231n spiral), labels ``0 .. classes-1``.

    Arm ``j`` has points at radius ``r`` from 0 to 1 and angle ``4 r + 2 pi j / classes`` (a
    bit over half a turn each), so the arms wind around each other; the ``n`` points are shared
    out as evenly as possible (``n >= classes``), shuffled, and jittered by gaussian noise of
    standard deviation ``noise``.
    """
    n = count(n, "make_spirals: n", at_most=MAX_NUMBERS // 2)
    classes = count(classes, "make_spirals: classes", least=2)
    if n < classes:
        raise ValueError(f"make_spirals: n must be at least classes={classes}, got {n}")
    noise = real(noise, "make_spirals: noise", at_least=0.0)
    rng = _seeded(seed, "make_spirals")
    points: list[tuple[list[float], int]] = []
    for j, m in enumerate(_shares(n, classes)):
        for i in range(m):
            r = i / (m - 1) if m > 1 else 1.0
            t = 4.0 * r + 2.0 * math.pi * j / classes
            points.append(([r * math.cos(t), r * math.sin(t)], j))
    return _finish(points, noise, rng, False)


def make_blobs(
    n: int = 100,
    *,
    centers: int = 3,
    dim: int = 2,
    std: float = 1.0,
    box: float = 10.0,
    seed: int | None = None,
) -> Dataset:
    """``centers`` gaussian clusters, like sklearn's ``make_blobs``: labels ``0 .. centers-1``.

    Each cluster's center is drawn uniformly from ``[-box, box]^dim``; its points (``n`` shared
    out as evenly as possible, ``n >= centers``) are the center plus gaussian noise of standard
    deviation ``std`` in every coordinate. Shuffled.
    """
    n = count(n, "make_blobs: n")
    centers = count(centers, "make_blobs: centers")
    dim = count(dim, "make_blobs: dim")
    if (n + centers) * dim > MAX_NUMBERS:
        raise ValueError(
            f"make_blobs: n * dim must be at most {MAX_NUMBERS:,} numbers, got n={brief(n)}, "
            f"dim={brief(dim)}"
        )
    if n < centers:
        raise ValueError(f"make_blobs: n must be at least centers={centers}, got {n}")
    std = real(std, "make_blobs: std", at_least=0.0)
    box = real(box, "make_blobs: box", above=0.0)
    rng = _seeded(seed, "make_blobs")
    middles = [[rng.uniform(-box, box) for _ in range(dim)] for _ in range(centers)]
    points = [(list(middles[j]), j) for j, m in enumerate(_shares(n, centers)) for _ in range(m)]
    return _finish(points, std, rng, False)


def train_test_split(
    X: object, y: object, *, test_fraction: float = 0.25, seed: int | None = None
) -> tuple[list[list[float]], list[list[float]], list[Target], list[Target]]:
    """Shuffle with ``seed`` and split into ``(X_train, X_test, y_train, y_test)``.

    ``test_fraction`` (strictly between 0 and 1) of the points, rounded and kept between 1 and
    ``n - 1``, go to the test part, so both parts are non-empty; at least two points are
    needed. ``X`` and ``y`` may be lists or numpy arrays and must have the same length.
    """
    rows, targets = as_rows(X), as_targets(y)
    if len(rows) != len(targets):
        raise ValueError(f"train_test_split: X has {len(rows)} rows but y has {len(targets)}")
    fraction = real(test_fraction, "train_test_split: test_fraction", above=0.0, below=1.0)
    n = len(rows)
    if n < 2:
        raise ValueError(f"train_test_split: needs at least 2 points to split, got {n}")
    n_test = min(n - 1, max(1, round(n * fraction)))
    order = list(range(n))
    _seeded(seed, "train_test_split").shuffle(order)
    test, train = order[:n_test], order[n_test:]
    return (
        [rows[i] for i in train],
        [rows[i] for i in test],
        [targets[i] for i in train],
        [targets[i] for i in test],
    )
