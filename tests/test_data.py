"""Tests for micrograd_like.data: generators, the split, and input conversion."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from conftest import require_module

from micrograd_like.data import (
    as_rows,
    as_targets,
    make_blobs,
    make_circles,
    make_moons,
    make_spirals,
    make_xor,
    signed_labels,
    train_test_split,
)

GENERATORS: dict[str, Callable[..., Any]] = {
    "moons": make_moons,
    "circles": make_circles,
    "xor": make_xor,
    "spirals": make_spirals,
    "blobs": make_blobs,
}
BINARY = ["moons", "circles", "xor"]


@pytest.mark.parametrize("name", GENERATORS)
@pytest.mark.parametrize("n", [3, 7, 100])
def test_shapes_and_plain_types(name: str, n: int) -> None:
    X, y = GENERATORS[name](n, seed=0)
    assert len(X) == len(y) == n
    assert all(type(row) is list and len(row) == 2 for row in X)
    assert all(type(c) is float and math.isfinite(c) for row in X for c in row)
    assert all(type(t) is int for t in y)


@pytest.mark.parametrize("make", [make_moons, make_circles, make_xor])
def test_a_single_point_is_a_dataset(make: Callable[..., Any]) -> None:
    X, y = make(1, noise=0.1, seed=0)
    assert len(X) == len(y) == 1 and len(X[0]) == 2


@pytest.mark.parametrize("name", GENERATORS)
def test_same_seed_same_data_other_seed_other_data(name: str) -> None:
    make = GENERATORS[name]
    noise = {"blobs": {}}.get(name, {"noise": 0.1})
    assert make(30, seed=3, **noise) == make(30, seed=3, **noise)
    assert make(30, seed=3, **noise)[0] != make(30, seed=4, **noise)[0]


@pytest.mark.parametrize("name", BINARY)
def test_binary_labels_and_signed_option(name: str) -> None:
    X, y = GENERATORS[name](50, noise=0.05, seed=1)
    Xs, ys = GENERATORS[name](50, noise=0.05, seed=1, signed=True)
    assert set(y) == {0, 1}
    assert Xs == X
    assert ys == [2 * t - 1 for t in y] == signed_labels(y)


def test_multiclass_labels_are_class_ids_evenly_shared() -> None:
    _, y = make_spirals(10, classes=3, seed=0)
    assert Counter(y) == {0: 4, 1: 3, 2: 3}
    _, y = make_blobs(9, centers=3, seed=0)
    assert Counter(y) == {0: 3, 1: 3, 2: 3}


def test_moons_geometry_without_noise() -> None:
    # upper moon on the unit circle's top half, lower moon its mirror shifted to (1, 0.5)
    X, y = make_moons(40, seed=0)
    assert Counter(y) == {0: 20, 1: 20}
    for (a, b), t in zip(X, y, strict=True):
        if t == 0:
            assert a * a + b * b == pytest.approx(1.0) and b >= -1e-12
        else:
            assert (a - 1) ** 2 + (b - 0.5) ** 2 == pytest.approx(1.0) and b <= 0.5 + 1e-12


def test_circles_radii_and_xor_quadrants() -> None:
    X, y = make_circles(20, factor=0.3, seed=0)
    for (a, b), t in zip(X, y, strict=True):
        assert math.hypot(a, b) == pytest.approx(0.3 if t else 1.0)
    X, y = make_xor(200, seed=0)
    assert all(t == (a * b < 0) for (a, b), t in zip(X, y, strict=True))
    assert all(-1 <= c <= 1 for row in X for c in row)


def test_noise_moves_points_by_about_its_scale() -> None:
    clean, _ = make_moons(400, seed=5)
    noisy, _ = make_moons(400, noise=0.1, seed=5)
    # same shuffle (the rng draws the shuffle before the noise), so rows pair up
    deltas = [
        n - c for rn, rc in zip(noisy, clean, strict=True) for n, c in zip(rn, rc, strict=True)
    ]
    std = math.sqrt(sum(d * d for d in deltas) / len(deltas))
    assert 0.08 < std < 0.12


def test_blobs_dimension_and_spread() -> None:
    X, y = make_blobs(300, centers=2, dim=3, std=0.5, seed=2)
    assert all(len(row) == 3 for row in X)
    for label in (0, 1):
        pts = [row for row, t in zip(X, y, strict=True) if t == label]
        mean = [sum(col) / len(pts) for col in zip(*pts, strict=True)]
        var = sum((c - m) ** 2 for row in pts for c, m in zip(row, mean, strict=True)) / (
            3 * len(pts)
        )
        assert math.sqrt(var) == pytest.approx(0.5, rel=0.15)


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: make_moons(0), ValueError, "n must be at least 1, got 0"),
        (lambda: make_moons(2.5), TypeError, "n must be an int"),
        (lambda: make_moons(True), TypeError, "n must be an int"),
        (lambda: make_moons(10, noise=-0.1), ValueError, "noise must be >= 0"),
        (lambda: make_xor(10, noise=float("nan")), ValueError, "finite"),
        (lambda: make_circles(10, factor=1.0), ValueError, "factor"),
        (lambda: make_spirals(2, classes=3), ValueError, "at least classes=3"),
        (lambda: make_spirals(10, classes=1), ValueError, "classes must be at least 2"),
        (lambda: make_blobs(10, std=-1), ValueError, "std must be >= 0"),
        (lambda: make_blobs(10, box=0), ValueError, "box must be > 0"),
        (lambda: make_moons(10, seed=1.5), TypeError, "seed must be an int"),
    ],
)
def test_bad_generator_arguments(call: Callable[[], Any], error: type, words: str) -> None:
    with pytest.raises(error, match=words):
        call()


def test_split_partitions_the_data_deterministically() -> None:
    X, y = make_moons(20, seed=0)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_fraction=0.25, seed=7)
    assert (len(Xtr), len(Xte), len(ytr), len(yte)) == (15, 5, 15, 5)
    pairs = sorted(zip(map(tuple, X), y, strict=True))
    assert sorted(zip(map(tuple, Xtr + Xte), ytr + yte, strict=True)) == pairs
    assert train_test_split(X, y, test_fraction=0.25, seed=7) == (Xtr, Xte, ytr, yte)
    assert train_test_split(X, y, test_fraction=0.25, seed=8)[1] != Xte


def test_split_keeps_both_parts_non_empty() -> None:
    Xtr, Xte, _, _ = train_test_split([[1.0], [2.0], [3.0]], [0, 1, 0], test_fraction=0.01)
    assert (len(Xtr), len(Xte)) == (2, 1)
    Xtr, Xte, _, _ = train_test_split([[1.0], [2.0], [3.0]], [0, 1, 0], test_fraction=0.99)
    assert (len(Xtr), len(Xte)) == (1, 2)


@pytest.mark.parametrize(
    ("X", "y", "kw", "words"),
    [
        ([[1.0], [2.0]], [0], {}, "X has 2 rows but y has 1"),
        ([[1.0], [2.0]], [0, 1], {"test_fraction": 0.0}, r"test_fraction must be in \(0, 1\)"),
        ([[1.0], [2.0]], [0, 1], {"test_fraction": 1.0}, r"test_fraction must be in \(0, 1\)"),
        ([[1.0]], [0], {}, "at least 2 points"),
        ([], [], {}, "empty"),
    ],
)
def test_split_rejects_bad_input(X: Any, y: Any, kw: dict[str, Any], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        train_test_split(X, y, **kw)


def test_numpy_arrays_are_accepted_everywhere() -> None:
    np: Any = require_module("numpy")
    X, y = make_moons(10, seed=0)
    a, b = np.array(X), np.array(y)
    assert as_rows(a) == X
    assert as_targets(b) == y and all(type(t) is int for t in as_targets(b))
    assert as_targets(b.reshape(-1, 1)) == y
    assert signed_labels(b) == signed_labels(y)
    assert train_test_split(a, b, seed=1) == train_test_split(X, y, seed=1)
    assert as_rows([np.array([1.0, 2.0]), (3, np.float32(4.5))]) == [[1.0, 2.0], [3.0, 4.5]]


def test_as_rows_and_as_targets_convert_plain_lists() -> None:
    assert as_rows(((1, 2), [3.5, 4])) == [[1.0, 2.0], [3.5, 4.0]]
    assert as_targets((1, 0, 2)) == [1, 0, 2]
    assert as_targets([0.5, 2]) == [0.5, 2]
    assert as_targets([[1, 2], [3, 4]]) == [[1.0, 2.0], [3.0, 4.0]]


@pytest.mark.parametrize(
    ("data", "error", "words"),
    [
        ([], ValueError, "X: the dataset is empty"),
        ("abc", TypeError, "expected a list"),
        (None, TypeError, "expected a list"),
        ([1.0, 2.0], ValueError, "X must be 2-D"),
        ([[1.0, 2.0], [3.0]], ValueError, "row 1 has 1 numbers but row 0 has 2"),
        ([[]], ValueError, "row 0 is empty"),
        ([[1.0, True]], TypeError, "bool"),
        ([[1.0, "2"]], TypeError, "str"),
        ([[1.0, math.inf]], ValueError, "finite"),
    ],
)
def test_as_rows_rejects_bad_shapes_and_values(data: Any, error: type, words: str) -> None:
    with pytest.raises(error, match=words):
        as_rows(data)


@pytest.mark.parametrize(
    ("data", "error", "words"),
    [
        ([], ValueError, "y: the dataset is empty"),
        ([True, False], TypeError, r"y\[0\].*bool"),
        ([0, "1"], TypeError, r"y\[1\].*str"),
        ([0, [1]], ValueError, "y must be 2-D"),
        ([0.0, math.nan], ValueError, "finite"),
    ],
)
def test_as_targets_rejects_bad_labels(data: Any, error: type, words: str) -> None:
    with pytest.raises(error, match=words):
        as_targets(data)


def test_signed_labels_rejects_non_binary() -> None:
    assert signed_labels([0, 1, 1]) == [-1, 1, 1]
    with pytest.raises(ValueError, match=r"y\[1\] is 2, expected 0 or 1"):
        signed_labels([0, 2])
    with pytest.raises(ValueError, match="expected 0 or 1"):
        signed_labels([-1, 1])  # already signed: mapping again would be a silent bug
