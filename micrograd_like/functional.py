"""The functional API: ``grad`` (gradients of any order) and n-ary helpers over the op table."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal, overload

from micrograd_like.backprop import gradients
from micrograd_like.engine import Operand, Value, _apply, values
from micrograd_like.ops import DOT, LOGSUMEXP, SUM

__all__ = ["dot", "grad", "logsumexp", "softmax", "vsum"]


@overload
def grad(
    output: Value, inputs: Sequence[Value], create_graph: Literal[False] = False
) -> list[float]: ...
@overload
def grad(output: Value, inputs: Sequence[Value], create_graph: Literal[True]) -> list[Value]: ...
@overload
def grad(
    output: Value, inputs: Sequence[Value], create_graph: bool = False
) -> list[float] | list[Value]: ...


def grad(
    output: Value, inputs: Sequence[Value], create_graph: bool = False
) -> list[float] | list[Value]:
    """Return d output / d input for each of ``inputs``, leaving every ``.grad`` untouched.

    With ``create_graph=False`` the results are floats. With ``create_graph=True`` they are
    ``Value`` nodes whose own graphs are differentiable, so ``grad(grad(f, [x], True)[0],
    [x])`` is the second derivative, and so on for any order. An input that ``output`` does
    not depend on gets 0.0 (as a constant ``Value`` with ``create_graph=True``).
    """
    if not isinstance(output, Value):
        raise TypeError(f"grad: output must be a Value, got {type(output).__name__}")
    if isinstance(inputs, Value) or not isinstance(inputs, Sequence):
        raise TypeError("grad: inputs must be a sequence of Values, e.g. [x, y]")
    for i, x in enumerate(inputs):
        if not isinstance(x, Value):
            raise TypeError(f"grad: inputs[{i}] must be a Value, got {type(x).__name__}")
    if not isinstance(create_graph, bool):
        raise TypeError(f"grad: create_graph must be True or False, got {create_graph!r:.40}")
    found = gradients(output, inputs, 1.0, create_graph)
    if not create_graph:
        return found
    return [g if isinstance(g, Value) else Value(g) for g in found]


def vsum(terms: Iterable[Operand]) -> Value:
    """Sum of many values as one n-ary ``sum`` node (one node instead of n - 1 additions)."""
    xs = values(terms, "vsum")
    if not xs:
        raise ValueError("vsum: needs at least one term")
    return _apply(SUM, tuple(xs))


def dot(weights: Sequence[Operand], inputs: Sequence[Operand], bias: Operand = 0.0) -> Value:
    """A neuron's weighted sum ``sum_i w_i x_i + b`` as one ``dot`` node.

    The node's parents are ``w_1..w_n, x_1..x_n, b`` in that order; its derivative rule lives in
    the op table like every other op's.
    """
    ws, xs = values(weights, "dot"), values(inputs, "dot")
    if len(ws) != len(xs):
        raise ValueError(f"dot: {len(ws)} weights but {len(xs)} inputs")
    return _apply(DOT, (*ws, *xs, *values([bias], "dot")))


def logsumexp(terms: Iterable[Operand]) -> Value:
    """``log(sum_i e^x_i)`` as one stable node (no overflow for large x_i)."""
    xs = values(terms, "logsumexp")
    if not xs:
        raise ValueError("logsumexp: needs at least one term")
    return _apply(LOGSUMEXP, tuple(xs))


def softmax(terms: Iterable[Operand]) -> list[Value]:
    """Class probabilities ``e^x_i / sum_j e^x_j``, as differentiable Values.

    The largest logit is subtracted first (as a constant: softmax does not change when every
    logit moves together, so the gradient is the same), which keeps every exponent at or below
    0: large logits never overflow, and each probability is exact to a few ulps.
    """
    xs = values(terms, "softmax")
    if not xs:
        raise ValueError("softmax: needs at least one term")
    top = max(x.data for x in xs)
    exps = [(x - top).exp() for x in xs]
    total = vsum(exps)
    return [e / total for e in exps]
