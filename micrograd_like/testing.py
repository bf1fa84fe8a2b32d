"""Test helpers for gradients: each op's domain, random expression graphs, and assertions.

Needs ``hypothesis`` (the ``test`` extra). Reuse it in your own tests::

    from hypothesis import given
    from micrograd_like.testing import assert_gradients_match, expressions

    @given(expressions(ops=["mul", "tanh", "my_op"], domains={"my_op": my_domain}))
    def test_my_op(expr):
        assert_gradients_match(expr, expr.point, order=2)
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from hypothesis import strategies as st

from micrograd_like.checking import gradcheck
from micrograd_like.engine import Value
from micrograd_like.ops import OPS, Derivative, Forward, Op, define_op, undefine_op

__all__ = [
    "DOMAINS",
    "Domain",
    "Expression",
    "Step",
    "Variant",
    "assert_gradients_match",
    "domain",
    "expressions",
    "kink_samples",
    "op_samples",
    "temporary_op",
]

Interval = tuple[float, float]
T = TypeVar("T")


@dataclass(frozen=True)
class Variant:
    """One way to apply an op in tests: its params and where each of its inputs may lie.

    ``args[i]`` is a union of closed intervals for input ``i`` (an n-ary op gives one entry,
    used for every input). The intervals keep each input where the op is defined, smooth and
    well conditioned, with margins far wider than any finite-difference step. ``kinks`` are
    values of the first input where the op is not differentiable (``relu`` at 0).
    """

    params: tuple[float, ...]
    args: tuple[tuple[Interval, ...], ...]
    kinks: tuple[float, ...] = ()

    def intervals(self, position: int) -> tuple[Interval, ...]:
        """The allowed intervals of input ``position``."""
        return self.args[min(position, len(self.args) - 1)]


@dataclass(frozen=True)
class Domain:
    """Where an op may be evaluated in gradient tests: its variants (params) and input counts.

    ``sizes`` lists the input counts to try for an n-ary op (``arity == -1``); it is ignored
    for a fixed arity.
    """

    variants: tuple[Variant, ...]
    sizes: tuple[int, ...] = ()


def _one(*args: tuple[Interval, ...], kinks: tuple[float, ...] = ()) -> Domain:
    return Domain((Variant((), args, kinks),))


# Bounds keep every value and derivative moderate (|x| <= 5, e^3 = 20, 1/x^2 <= 16), so no
# expression overflows and central differences with eps = 1e-6 are accurate to ~1e-9.
_LINEAR = ((-5.0, 5.0),)
_MODERATE = ((-3.0, 3.0),)
_WIDE = ((-6.0, 6.0),)
# log, sqrt and real powers: positive and away from 0, where derivatives blow up
_POSITIVE = ((0.25, 4.0),)
# 1/x and friends: either sign, away from the pole at 0
_NONZERO = ((-4.0, -0.25), (0.25, 4.0))
# relu, abs, ...: either side of the kink at 0, never within 0.1 of it
_OFF_KINK = ((-4.0, -0.1), (0.1, 4.0))

DOMAINS: dict[str, Domain] = {
    "add": _one(_LINEAR, _LINEAR),
    "mul": _one(_LINEAR, _LINEAR),
    "neg": _one(_LINEAR),
    "pow": Domain(
        (
            Variant((2.0,), (_LINEAR,)),
            Variant((3.0,), (_MODERATE,)),
            Variant((-1.0,), (_NONZERO,)),
            Variant((-2.0,), (_NONZERO,)),
            Variant((0.5,), (_POSITIVE,)),
            Variant((-1.5,), (_POSITIVE,)),
            Variant((2.5,), (_POSITIVE,)),
        )
    ),
    "vpow": _one(_POSITIVE, ((-2.5, 2.5),)),
    "exp": _one(_MODERATE),
    "log": _one(_POSITIVE),
    "sqrt": _one(_POSITIVE),
    "sin": _one(_WIDE),
    "cos": _one(_WIDE),
    "tanh": _one(_MODERATE),
    "sigmoid": _one(_WIDE),
    "softplus": _one(_WIDE),
    "relu": _one(_OFF_KINK, kinks=(0.0,)),
    "leaky_relu": Domain(
        (Variant((0.01,), (_OFF_KINK,), (0.0,)), Variant((0.2,), (_OFF_KINK,), (0.0,)))
    ),
    # elu with alpha = 1 has a continuous first derivative at 0 but a jump in the second
    "elu": Domain((Variant((1.0,), (_OFF_KINK,)), Variant((0.5,), (_OFF_KINK,), (0.0,)))),
    "silu": _one(_WIDE),
    "abs": _one(_OFF_KINK, kinks=(0.0,)),
    "clamp": Domain(
        (Variant((-1.0, 1.0), (((-3.0, -1.1), (-0.9, 0.9), (1.1, 3.0)),), kinks=(-1.0, 1.0)),)
    ),
    "sum": Domain((Variant((), (_LINEAR,)),), sizes=(1, 2, 3, 5)),
    # inputs w_1..w_n, x_1..x_n, b: always an odd count
    "dot": Domain((Variant((), (_LINEAR,)),), sizes=(1, 3, 5, 7)),
    "logsumexp": Domain((Variant((), (_WIDE,)),), sizes=(1, 2, 4)),
}


def domain(name: str, domains: Mapping[str, Domain] | None = None) -> Domain:
    """Return the test domain of op ``name`` from ``domains`` or :data:`DOMAINS`.

    An op without one cannot be tested, so this fails loudly (``KeyError``) instead of
    letting a new op slip past the gradient suite untested.
    """
    table = DOMAINS if domains is None else {**DOMAINS, **domains}
    try:
        return table[name]
    except KeyError:
        raise KeyError(
            f"op {name!r} has no test domain: add a Domain for it to micrograd_like.testing."
            "DOMAINS (built-in ops) or pass domains={...} (custom ops), giving the intervals "
            "where it is defined and smooth"
        ) from None


def _counts(op: Op, dom: Domain) -> tuple[int, ...]:
    if op.arity != -1:
        return (op.arity,)
    if not dom.sizes:
        raise ValueError(f"the test domain of n-ary op {op.name!r} needs sizes (input counts)")
    return dom.sizes


def op_samples(name: str, count: int = 3) -> list[tuple[Op, tuple[float, ...]]]:
    """Return ``(bound op, point)`` pairs covering op ``name``'s domain, for parametrized tests.

    For each variant (params) and input count, ``count`` points are drawn uniformly from the
    allowed intervals with a generator seeded by the op's name, so the points are the same on
    every run and every machine. Unknown ops raise ``KeyError`` (see :func:`domain`).
    """
    dom, op = domain(name), OPS[name]
    rng = random.Random(f"micrograd_like.testing/{name}")
    samples = []
    for variant in dom.variants:
        bound = op.bind(*variant.params) if variant.params else op
        for n in _counts(op, dom):
            for _ in range(count):
                point = tuple(
                    round(rng.uniform(*rng.choice(variant.intervals(i))), 4) for i in range(n)
                )
                samples.append((bound, point))
    return samples


def kink_samples(name: str) -> list[tuple[Op, tuple[float, ...]]]:
    """Return ``(bound op, point)`` pairs with the first input exactly at one of the op's kinks."""
    dom, op = domain(name), OPS[name]
    samples = []
    for variant in dom.variants:
        # any other inputs sit at the middle of their first interval
        others = tuple(sum(variant.intervals(i)[0]) / 2 for i in range(1, max(op.arity, 1)))
        bound = op.bind(*variant.params) if variant.params else op
        samples += [(bound, (kink, *others)) for kink in variant.kinks]
    return samples


# ----------------------------------------------------------------------------- expressions


@dataclass(frozen=True)
class Step:
    """One node of an :class:`Expression`: an op applied to earlier steps, or a leaf."""

    op: Op | None  # None for a leaf
    args: tuple[int, ...] = ()  # earlier steps this op reads
    input: int = -1  # a leaf: which argument of the expression, or -1 for a constant
    value: float = 0.0  # a leaf: its value at the expression's point (the constant itself)


class Expression:
    """A random expression graph: call it on ``Value``s (or floats) to build it, at ``.point``.

    ``expr(*xs)`` returns the output ``Value``; ``expr.point`` is where it was drawn, with
    every op's inputs inside its test domain; :meth:`evaluate` runs the same graph with any
    other arithmetic (an independent high-precision reference, say). Leaves are either
    arguments (``x0``, ``x1``, ...) or constants; an argument may feed several ops.
    """

    def __init__(self, steps: Sequence[Step], point: Sequence[float]) -> None:
        self.steps = tuple(steps)
        self.point = tuple(point)

    @property
    def ops(self) -> frozenset[str]:
        """The names of the ops the expression uses."""
        return frozenset(s.op.name for s in self.steps if s.op is not None)

    def evaluate(
        self,
        inputs: Sequence[T],
        apply: Callable[[Op, list[T]], T],
        constant: Callable[[float], T],
    ) -> T:
        """Evaluate the graph with other arithmetic and return its output.

        ``inputs`` stand for the arguments, ``apply(op, args)`` computes one op (its params are
        ``op.params``) and ``constant(c)`` makes a constant leaf: with mpmath functions this is
        an independent high-precision reference for the same expression.
        """
        if len(inputs) != len(self.point):
            raise TypeError(f"expression takes {len(self.point)} inputs, got {len(inputs)}")
        vals: list[T] = []
        for s in self.steps:
            if s.op is not None:
                vals.append(apply(s.op, [vals[i] for i in s.args]))
            elif s.input >= 0:
                vals.append(inputs[s.input])
            else:
                vals.append(constant(s.value))
        return vals[-1]

    def __call__(self, *xs: Value | float) -> Value:
        leaves = [x if isinstance(x, Value) else Value(x) for x in xs]
        return self.evaluate(leaves, lambda op, args: Value.apply(op, *args), Value)

    def __repr__(self) -> str:
        names: list[str] = []
        lines = [f"Expression(point={self.point!r}):"]
        for k, s in enumerate(self.steps):
            if s.op is None:
                names.append(f"x{s.input}" if s.input >= 0 else repr(s.value))
                continue
            names.append(f"t{k}")
            lines.append(f"  t{k} = {s.op.describe()}({', '.join(names[i] for i in s.args)})")
        return "\n".join(lines)


def _inside(x: float, intervals: tuple[Interval, ...]) -> bool:
    return any(lo <= x <= hi for lo, hi in intervals)


def expressions(
    ops: Iterable[str] | None = None,
    *,
    max_ops: int = 6,
    max_inputs: int = 3,
    kinks: bool = False,
    domains: Mapping[str, Domain] | None = None,
) -> st.SearchStrategy[Expression]:
    """A hypothesis strategy for random expression graphs over ``ops`` (default: every op).

    Each drawn :class:`Expression` applies up to ``max_ops`` ops to up to ``max_inputs``
    arguments and constants. Every op input lies inside the op's domain at the drawn point
    (log and sqrt see positive values away from 0, no relu or abs sits on its kink, nothing
    overflows): an input is an earlier result that already fits (reuse, so subexpressions fan
    out) or a new leaf drawn inside the domain. Results no op used are summed into the output
    (with ``sum`` or ``add`` if among ``ops``). With ``kinks=True`` ops with kinks sometimes get
    a new argument placed exactly on a kink. Custom ops need ``domains={name: Domain(...)}``.
    """
    names = None if ops is None else list(ops)
    if names is not None and not names:
        raise ValueError("expressions: needs at least one op")
    for what, n in (("max_ops", max_ops), ("max_inputs", max_inputs)):
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"expressions: {what} must be a positive int, got {n!r}")
    # ops are looked up when drawing, so ops defined later count and a missing domain fails
    # the test that draws, not the collection of the whole test module
    return _expression(names, {**DOMAINS, **(domains or {})}, max_ops, max_inputs, kinks)


def _choices(names: list[str] | None, table: Mapping[str, Domain]) -> list[tuple[Op, Domain]]:
    choices = []
    for name in sorted(OPS) if names is None else names:
        if name not in OPS:
            raise ValueError(f"expressions: no op named {name!r}; known ops: {sorted(OPS)}")
        choices.append((OPS[name], domain(name, table)))
    return choices


@st.composite
def _expression(
    draw: Callable[[st.SearchStrategy[Any]], Any],
    names: list[str] | None,
    table: Mapping[str, Domain],
    max_ops: int,
    max_inputs: int,
    kinks: bool,
) -> Expression:
    choices = _choices(names, table)
    steps: list[Step] = []
    values: list[float] = []
    point: list[float] = []

    def leaf(x: float) -> int:
        # the first leaf is always an argument; later ones until max_inputs, at random
        if len(point) < max_inputs and (not point or draw(st.booleans())):
            steps.append(Step(None, input=len(point), value=x))
            point.append(x)
        else:
            steps.append(Step(None, value=x))
        values.append(x)
        return len(steps) - 1

    def argument(intervals: tuple[Interval, ...]) -> int:
        fits = [k for k, v in enumerate(values) if _inside(v, intervals)]
        if fits and draw(st.booleans()):
            return int(draw(st.sampled_from(fits)))
        lo, hi = draw(st.sampled_from(intervals))
        return leaf(draw(st.floats(lo, hi)))

    def add_op(op: Op, args: list[int]) -> None:
        steps.append(Step(op, tuple(args)))
        values.append(float(op.forward(*[values[k] for k in args], *op.params)))  # type: ignore[misc]

    for _ in range(draw(st.integers(1, max_ops))):
        op, dom = draw(st.sampled_from(choices))
        variant = draw(st.sampled_from(dom.variants))
        args = []
        for i in range(draw(st.sampled_from(_counts(op, dom)))):
            if kinks and i == 0 and variant.kinks and draw(st.booleans()):
                args.append(leaf(draw(st.sampled_from(variant.kinks))))
            else:
                args.append(argument(variant.intervals(i)))
        add_op(op.bind(*variant.params) if variant.params else op, args)

    used = {k for s in steps for k in s.args}
    sinks = [k for k, s in enumerate(steps) if s.op is not None and k not in used]
    available = {op.name: op for op, _ in choices}
    if len(sinks) > 1 and "sum" in available:
        add_op(available["sum"], sinks)
    elif len(sinks) > 1 and "add" in available:
        total = sinks[0]
        for k in sinks[1:]:
            add_op(available["add"], [total, k])
            total = len(steps) - 1
    # otherwise the output is the last op (always a sink); other sinks do not reach it
    return Expression(steps, point)


# ----------------------------------------------------------------------------- assertions


def assert_gradients_match(
    f: Callable[..., Any],
    inputs: Iterable[float | Value],
    *,
    order: int = 1,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> None:
    """Assert that ``f``'s derivatives at ``inputs`` match finite differences (pytest-friendly).

    Runs :func:`~micrograd_like.checking.gradcheck` with these settings and raises its
    ``GradcheckError`` (an ``AssertionError``) listing every mismatch, and every derivative
    the step cannot resolve ("cannot be checked at this step": below the float resolution at
    the point; use a larger ``eps``). Points where ``f`` is not differentiable are reported by
    gradcheck but do not fail the assertion.
    """
    gradcheck(f, inputs, eps=eps, atol=atol, rtol=rtol, order=order).raise_if_failed()


@contextmanager
def temporary_op(
    name: str,
    arity: int,
    forward: Forward,
    derivative: Derivative,
    *,
    symbol: str | None = None,
) -> Iterator[Op]:
    """Define a custom op for the duration of a ``with`` block, then remove it from the table.

    For tests (a deliberately wrong rule, say): the op never leaks into code that iterates
    over ``OPS``, such as the gradient suite parametrized over every op, and the same name can
    be defined again by the next test. Arguments are those of ``define_op``.
    """
    op = define_op(name, arity, forward, derivative, symbol=symbol)
    try:
        yield op
    finally:
        undefine_op(name)
