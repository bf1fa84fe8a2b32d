"""Argument checks shared by the modules: numbers, counts, flags, Values and lists of Values.

Every check takes ``what``, the caller and the argument as the user knows them
(``"SGD: momentum"``, ``"bce: target 3"``), and its error message reads
``"<what> must be <the requirement>, got <the value>"``. A value of the wrong type raises
``TypeError`` and a value out of range ``ValueError``; ``wrong_type=ValueError`` keeps the
one exception of an API that has always raised ``ValueError`` for any bad value. ``or_none``
says in the message that ``None`` is accepted too (the caller handles ``None`` itself).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable

from micrograd_like.engine import Value


def _shown(x: object) -> str:
    return f"{type(x).__name__} {brief(x)}"


def brief(x: object, limit: int = 60) -> str:
    """A short ``repr`` of ``x`` for a message: cut at ``limit`` characters, and a huge int
    described by its size (Python refuses to write out an int of more than 4300 digits)."""
    if isinstance(x, int) and x.bit_length() > 128:
        return f"<an int of {x.bit_length()} bits>"
    try:
        text = repr(x)
    except Exception:  # a repr that fails must not hide the real error
        return f"<{type(x).__name__} object>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _or_none(or_none: bool) -> str:
    return " or None" if or_none else ""


def _bounds(
    above: float | None, at_least: float | None, below: float | None, at_most: float | None
) -> str:
    # the requirement in words: "> 0", ">= 0", "in [0, 1)", "in (0, 0.5)", ...
    low = above if above is not None else at_least
    high = below if below is not None else at_most
    if low is not None and high is not None:
        left, right = "(" if above is not None else "[", ")" if below is not None else "]"
        return f"in {left}{low:g}, {high:g}{right}"
    if low is not None:
        return f"{'>' if above is not None else '>='} {low:g}"
    return f"{'<' if below is not None else '<='} {high:g}"


def real(
    x: object,
    what: str,
    *,
    above: float | None = None,
    at_least: float | None = None,
    below: float | None = None,
    at_most: float | None = None,
    or_none: bool = False,
    wrong_type: type[Exception] = TypeError,
) -> float:
    """Return ``x`` as a finite float, within the bounds given (each one optional).

    ``above``/``below`` are strict bounds, ``at_least``/``at_most`` inclusive ones. Booleans
    are not numbers here; NaN and infinities are rejected before the bounds are checked.
    """
    # float first: the common case then skips the slower abstract-class check
    if isinstance(x, bool) or not isinstance(x, (float, numbers.Real)):
        raise wrong_type(f"{what} must be a real number{_or_none(or_none)}, got {_shown(x)}")
    try:
        f = float(x)
    except OverflowError:  # an int beyond the float range
        raise ValueError(f"{what} must be finite, got {_shown(x)}, too large for a float") from None
    if not math.isfinite(f):
        raise ValueError(f"{what} must be finite, got {f!r}")
    if (
        (above is not None and not f > above)
        or (at_least is not None and not f >= at_least)
        or (below is not None and not f < below)
        or (at_most is not None and not f <= at_most)
    ):
        want = _bounds(above, at_least, below, at_most)
        raise ValueError(f"{what} must be {want}{_or_none(or_none)}, got {f!r}")
    return f


def count(
    x: object,
    what: str,
    *,
    least: int | None = 1,
    at_most: int | None = None,
    or_none: bool = False,
    wrong_type: type[Exception] = TypeError,
) -> int:
    """Return ``x`` as an int of at least ``least`` (any int for ``least=None``) and, if given,
    at most ``at_most``; no booleans."""
    if isinstance(x, bool) or not isinstance(x, numbers.Integral):
        raise wrong_type(f"{what} must be an int{_or_none(or_none)}, got {_shown(x)}")
    n = int(x)
    if least is not None and n < least:
        raise ValueError(f"{what} must be at least {least}{_or_none(or_none)}, got {brief(n)}")
    if at_most is not None and n > at_most:
        raise ValueError(f"{what} must be at most {at_most:,}{_or_none(or_none)}, got {brief(n)}")
    return n


def flag(x: object, what: str) -> bool:
    """Return ``x`` if it is a bool (``True``/``False``, not any truthy value); else TypeError."""
    if not isinstance(x, bool):
        raise TypeError(f"{what} must be a bool, got {_shown(x)}")
    return x


def a_value(x: object, what: str) -> Value:
    """Return ``x`` if it is a ``Value``; else TypeError naming what it is."""
    if not isinstance(x, Value):
        raise TypeError(f"{what} must be a Value, got {_shown(x)}")
    return x


def value_list(xs: object, what: str, *, unique: bool = False, such_as: str = "") -> list[Value]:
    """Return ``xs``, an iterable of Values (not a lone Value or a string), as a list.

    ``unique=True`` makes a Value listed twice an error; ``such_as`` names an example of
    what to pass, for the message.
    """
    if isinstance(xs, (Value, str, bytes)) or not isinstance(xs, Iterable):
        example = f" such as {such_as}" if such_as else ""
        raise TypeError(f"{what} must be an iterable of Values{example}, got {type(xs).__name__}")
    items = list(xs)
    seen: set[int] = set()
    for i, v in enumerate(items):
        if not isinstance(v, Value):
            a_value(v, f"{what}[{i}]")  # raises, naming the item
        if unique:
            if id(v) in seen:
                raise ValueError(f"{what}[{i}] ({v.label or v!r}) appears twice")
            seen.add(id(v))
    return items


def parameters(
    params: object, where: str, *, allow_empty: bool = False, unique: bool = True
) -> list[Value]:
    """Return ``params`` (an iterable of Values such as ``model.parameters()``) as a list.

    Unless allowed, an empty list and a Value listed twice are errors: an optimizer would
    update a repeated parameter twice per step.
    """
    ps = value_list(params, f"{where}: params", unique=unique, such_as="model.parameters()")
    if not ps and not allow_empty:
        raise ValueError(f"{where}: empty parameter list")
    return ps
