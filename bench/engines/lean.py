"""A lean micrograd-style Value, the reference a fast engine must beat on learners' own code.

No closures: each node stores its parents and the local derivative towards each of them when
it is made, and backward() multiplies them by the upstream gradient. ``__slots__`` keeps nodes
small. The topological sort is the short recursive one that such code uses, so the recursion
limit is raised here as every script built on it must do; Python's cycle collector stays on.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from typing import Any

from bench.harness import Engine

# The deepest path through one training step of bench/gpt.py is a few thousand nodes.
sys.setrecursionlimit(max(sys.getrecursionlimit(), 20_000))


class Value:
    """A scalar node: data, grad, its parents and d self / d parent for each of them."""

    __slots__ = ("_local", "_parents", "data", "grad")

    def __init__(
        self, data: float, parents: Sequence[Value] = (), local: Sequence[float] = ()
    ) -> None:
        self.data = data
        self.grad = 0.0
        self._parents = parents
        self._local = local

    def __add__(self, other: Any) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data + other.data, (self, other), (1.0, 1.0))

    def __mul__(self, other: Any) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data))

    def __pow__(self, k: float) -> Value:
        # d/dx x^k = k x^(k-1), for a constant exponent k
        return Value(self.data**k, (self,), (k * self.data ** (k - 1),))

    def exp(self) -> Value:
        e = math.exp(self.data)
        return Value(e, (self,), (e,))

    def log(self) -> Value:
        return Value(math.log(self.data), (self,), (1.0 / self.data,))

    def relu(self) -> Value:
        on = self.data > 0.0
        return Value(self.data if on else 0.0, (self,), (1.0 if on else 0.0,))

    def __neg__(self) -> Value:
        return self * -1.0

    def __radd__(self, other: Any) -> Value:
        return self + other

    def __sub__(self, other: Any) -> Value:
        return self + -other

    def __rsub__(self, other: Any) -> Value:
        return -self + other

    def __rmul__(self, other: Any) -> Value:
        return self * other

    def __truediv__(self, other: Any) -> Value:
        return self * other**-1.0

    def __rtruediv__(self, other: Any) -> Value:
        return self**-1.0 * other

    def backward(self) -> None:
        """Fill .grad of every node this one depends on (adding to what is there)."""
        order: list[Value] = []
        seen: set[Value] = set()

        def visit(v: Value) -> None:
            if v not in seen:
                seen.add(v)
                for p in v._parents:
                    visit(p)
                order.append(v)

        visit(self)
        self.grad = 1.0
        for v in reversed(order):
            for p, d in zip(v._parents, v._local, strict=True):
                p.grad += d * v.grad


def make_engine() -> Engine:
    """The lean Value: the microgpt-style training step only."""
    return Engine(
        name="lean Value",
        version="closure-free, __slots__, recursive sort (bench/engines/lean.py)",
        node_type=Value,
        value_type=Value,
        info={"recursion_limit": str(sys.getrecursionlimit())},
    )
