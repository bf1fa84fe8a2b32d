"""What a diagram or a trace shows of a graph: the engine's nodes, with fused neurons opened.

A :class:`GraphView` answers "what are this node's inputs, and which op made it" the way a
drawing or a step-through should show it. By default that is the engine's own graph. With
``expand=True`` each fused ``dot`` node (a neuron's ``w·x + b``, which ``nn`` computes as one
node) is opened into what it stands for: one product ``w.i * x.i`` per input, their sum, and
the sum plus the bias, which is the ``dot`` node itself. The products and the sum are new
``Value`` leaves made only for showing (they are not in the engine's graph and no pass sees
them); their numbers are what the ``dot`` op computes inside (the same rounded products, the
same exactly rounded sum), so the opened neuron adds up to the very same ``.data``.

Library composites (the losses: ``bce``, ``mse``, ``hinge``...) go the other way. The engine
records a loss as the dozens of nodes it is made of; by default a view *folds* each into one
node, ``bce(p.0, p.1, ...)``, whose inputs are the loss's arguments, so a diagram or a
step-through starts where the learner's own graph does. ``expand=True`` opens them as well.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator

from micrograd_like.engine import Value
from micrograd_like.ops import ADD, DOT, MUL, SUM, Op

__all__ = ["GraphView"]

_SHOWN_OPS: dict[str, Op] = {}


def _shown_op(name: str) -> Op:
    # the op a folded composite is shown as: its name, no rule of its own (a view only shows it)
    op = _SHOWN_OPS.get(name)
    if op is None:
        op = _SHOWN_OPS[name] = Op(name, -1, None, _no_rule)
    return op


def _no_rule(*args: float) -> tuple[float, ...]:
    raise TypeError("a folded composite is only shown; its nodes hold the rules")


class GraphView:
    """The graph of ``root`` as drawings and traces show it (see the module docstring).

    ``parents(v)`` and ``op(v)`` replace ``v.parents`` and ``v.primitive``; ``order()`` is the
    forward order (each node after its inputs, root last), ``roles(v)`` the names of ``v``'s
    inputs (``w.0``, ``x.0``, ``b`` for a neuron). ``opened[v]`` is, for an opened ``dot`` node,
    ``(sum, products)``; ``part_of[s]`` is the ``dot`` node a shown-only node belongs to.
    ``folded[v]`` is, for a folded composite, the composite's inputs (its shown parents).
    Nodes are opened and folded lazily, as a walk reaches them, so a view of a part costs
    that part.
    """

    def __init__(self, root: Value, *, expand: bool = False) -> None:
        self.root = root
        self.expand = expand
        self.opened: dict[Value, tuple[Value, list[Value]]] = {}
        self.part_of: dict[Value, Value] = {}
        self.folded: dict[Value, tuple[Value, ...]] = {}
        self._parents: dict[Value, tuple[Value, ...]] = {}
        self._ops: dict[Value, Op] = {}
        self._roles: dict[Value, list[str]] = {}

    def can_open(self, v: Value) -> bool:
        """Whether ``v`` is a ``dot`` node this view opens (its inputs all distinct values)."""
        if not self.expand or v.primitive is not DOT:
            return False
        ps = v.parents
        return len(ps) >= 3 and len({id(p) for p in ps}) == len(ps)

    def _open(self, v: Value) -> None:
        ps = v.parents
        k = (len(ps) - 1) // 2
        ws, xs, b = ps[:k], ps[k : 2 * k], ps[-1]
        products = []
        for i, (w, x) in enumerate(zip(ws, xs, strict=True)):
            p = Value(w.data * x.data)  # the dot op's own rounded product
            self._parents[p], self._ops[p] = (w, x), MUL
            self._roles[p] = [f"w.{i}", f"x.{i}"]
            products.append(p)
        s = Value(math.fsum(p.data for p in products))  # its exactly rounded sum
        self._parents[s], self._ops[s] = tuple(products), SUM
        self._roles[s] = [""] * k
        self._parents[v], self._ops[v] = (s, b), ADD
        self._roles[v] = ["", "b"]
        self.opened[v] = (s, products)
        for n in (s, *products):
            self.part_of[n] = v

    def composite(self, v: Value) -> tuple[str, tuple[Value, ...]] | None:
        """``(name, inputs)`` if ``v`` is a library composite's result this view folds."""
        op = v.primitive
        if self.expand or op is None:
            return None
        return op.composite

    def inside(self, v: Value) -> list[Value]:
        """The engine's nodes a folded composite ``v`` stands for: ``v`` and every node between
        it and its inputs (the inputs themselves excluded), ``v`` first."""
        stop = {id(x) for x in self.parents(v)}
        seen = {id(v)}
        found, todo = [v], [v]
        while todo:
            for p in todo.pop().parents:
                if id(p) not in seen and id(p) not in stop:
                    seen.add(id(p))
                    found.append(p)
                    todo.append(p)
        return found

    def parents(self, v: Value) -> tuple[Value, ...]:
        """The inputs shown for ``v``, in argument order."""
        found = self._parents.get(v)
        if found is not None:
            return found
        if self.can_open(v):
            self._open(v)
            return self._parents[v]
        composite = self.composite(v)
        if composite is not None:
            name, inputs = composite
            self._parents[v], self._ops[v] = inputs, _shown_op(name)
            self._roles[v] = [""] * len(inputs)
            self.folded[v] = inputs
            return inputs
        return v.parents

    def op(self, v: Value) -> Op | None:
        """The op shown as making ``v`` (``None`` for a leaf)."""
        self.parents(v)
        return self._ops.get(v, v.primitive)

    def roles(self, v: Value) -> list[str]:
        """Names of ``v``'s inputs for edge labels (``""`` where the order does not matter)."""
        n = len(self.parents(v))
        if v in self._roles:
            return self._roles[v]
        op = v.primitive
        if op is None:
            return []
        if op is DOT:  # inputs w.0 .. w.k-1, x.0 .. x.k-1, b, as nn names a neuron's weights
            k = (n - 1) // 2
            return [f"w.{i}" for i in range(k)] + [f"x.{i}" for i in range(k)] + ["b"]
        if n == 1 or op.name in ("add", "mul"):  # order cannot change the value
            return [""] * n
        return [str(i) for i in range(1, n + 1)]

    def order(self, within: Iterable[Value] | None = None) -> list[Value]:
        """Every node shown that ``root`` depends on, each after its inputs (root last).

        The engine's order walked through the view's parents (opened neurons, folded
        composites); with ``within``, only the nodes of
        ``within`` reached from ``root`` through them (the walk never leaves that part).
        """
        inside = None if within is None else {id(v) for v in within}
        order: list[Value] = []
        seen = {id(self.root)}
        stack: list[tuple[Value, Iterator[Value]]] = [(self.root, iter(self.parents(self.root)))]
        while stack:
            node, parents = stack[-1]
            for p in parents:
                if id(p) not in seen and (inside is None or id(p) in inside):
                    seen.add(id(p))
                    stack.append((p, iter(self.parents(p))))
                    break
            else:
                stack.pop()
                order.append(node)
        return order
