"""Tests for micrograd_like._validate: the argument checks every module shares."""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import pytest

from micrograd_like._validate import a_value, count, flag, parameters, real, value_list
from micrograd_like.engine import Value

# ----------------------------------------------------------------------------- real


def test_real_accepts_finite_reals_as_floats() -> None:
    assert real(2, "f: x") == 2.0 and type(real(2, "f: x")) is float
    assert real(Fraction(1, 4), "f: x") == 0.25
    assert real(-0.5, "f: x", at_least=-1.0, below=0.0) == -0.5
    assert real(0.0, "f: x", at_least=0.0, at_most=0.0) == 0.0  # inclusive bounds include


@pytest.mark.parametrize(
    ("x", "bounds", "error", "words"),
    [
        ("1", {}, TypeError, "f: x must be a real number, got str '1'"),
        (True, {}, TypeError, "f: x must be a real number, got bool True"),
        (None, {}, TypeError, "f: x must be a real number, got NoneType None"),
        (1j, {}, TypeError, r"f: x must be a real number, got complex 1j"),
        (math.nan, {}, ValueError, "f: x must be finite, got nan"),
        (-math.inf, {"above": 0.0}, ValueError, "f: x must be finite, got -inf"),
        (0.0, {"above": 0.0}, ValueError, r"f: x must be > 0, got 0\.0"),
        (-1, {"at_least": 0.0}, ValueError, r"f: x must be >= 0, got -1\.0"),
        (1.0, {"below": 1.0}, ValueError, r"f: x must be < 1, got 1\.0"),
        (2.0, {"at_most": 1.0}, ValueError, r"f: x must be <= 1, got 2\.0"),
        (1.0, {"at_least": 0.0, "below": 1.0}, ValueError, r"must be in \[0, 1\), got 1\.0"),
        (0.0, {"above": 0.0, "below": 0.5}, ValueError, r"must be in \(0, 0\.5\), got 0\.0"),
        (1.5, {"at_least": 0.0, "at_most": 1.0}, ValueError, r"must be in \[0, 1\], got 1\.5"),
        (0.0, {"above": 0.0, "or_none": True}, ValueError, "must be > 0 or None, got 0.0"),
        ("a", {"or_none": True}, TypeError, "must be a real number or None, got str"),
    ],
)
def test_real_names_the_requirement_and_the_value(
    x: object, bounds: dict[str, Any], error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words):
        real(x, "f: x", **bounds)


def test_wrong_type_keeps_an_apis_own_exception() -> None:
    with pytest.raises(ValueError, match="must be a real number, got str"):
        real("x", "f: x", wrong_type=ValueError)
    with pytest.raises(ValueError, match=r"must be an int, got float 2\.5"):
        count(2.5, "f: n", wrong_type=ValueError)
    with pytest.raises(ValueError, match="must be at least 1, got 0"):  # a range error stays
        count(0, "f: n", wrong_type=TypeError)


# ----------------------------------------------------------------------------- count, flag, Value


def test_count() -> None:
    assert count(3, "f: n") == 3
    assert count(-7, "f: seed", least=None) == -7
    assert count(0, "f: n", least=0) == 0
    with pytest.raises(ValueError, match="f: n must be at least 2, got 1"):
        count(1, "f: n", least=2)
    with pytest.raises(TypeError, match="f: n must be an int, got bool True"):
        count(True, "f: n")
    with pytest.raises(TypeError, match=r"f: seed must be an int or None, got float 1\.5"):
        count(1.5, "f: seed", least=None, or_none=True)


def test_flag_and_a_value() -> None:
    assert flag(False, "f: on") is False
    with pytest.raises(TypeError, match="f: on must be a bool, got int 1"):
        flag(1, "f: on")
    v = Value(1.0)
    assert a_value(v, "f: root") is v
    with pytest.raises(TypeError, match=r"f: root must be a Value, got float 1\.0"):
        a_value(1.0, "f: root")


# ----------------------------------------------------------------------------- lists of Values


def test_value_list() -> None:
    v = Value(1.0, label="v")
    assert value_list((v, v), "f: xs") == [v, v]
    assert value_list([], "f: xs") == []
    with pytest.raises(TypeError, match="f: xs must be an iterable of Values, got Value"):
        value_list(v, "f: xs")
    with pytest.raises(TypeError, match=r"f: xs\[1\] must be a Value, got str 'a'"):
        value_list([v, "a"], "f: xs")
    with pytest.raises(ValueError, match=r"f: xs\[1\] \('v'\) appears twice"):
        value_list([v, v], "f: xs", unique=True)


def test_parameters_returns_a_list() -> None:
    ps = [Value(1.0), Value(2.0)]
    assert parameters(iter(ps), "f") == ps
    assert parameters([], "f", allow_empty=True) == []
    assert parameters([ps[0], ps[0]], "f", unique=False) == [ps[0], ps[0]]


@pytest.mark.parametrize(
    ("make", "error", "words"),
    [
        (lambda ps: ps[0], TypeError, "f: params must be an iterable of Values .* got Value"),
        (lambda ps: "ab", TypeError, "params must be an iterable of Values .* got str"),
        (lambda ps: 3, TypeError, "params must be an iterable of Values .* got int"),
        (lambda ps: [], ValueError, "f: empty parameter list"),
        (lambda ps: [ps[0], 2.0], TypeError, r"f: params\[1\] must be a Value, got float 2\.0"),
        (lambda ps: [ps[0], ps[1], ps[0]], ValueError, r"f: params\[2\] \('w'\) appears twice"),
    ],
)
def test_parameters_rejects_bad_lists(
    make: Callable[[list[Value]], object], error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words):
        parameters(make([Value(1.0, label="w"), Value(2.0)]), "f")
