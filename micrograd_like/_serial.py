"""Pickling and copying Values: a graph of any depth round-trips, sharing and identity intact.

A pickled Value carries the graph it was computed from. Saved naively, each node would save its
parents inside itself, one nested call per level, and a graph deeper than a few hundred nodes
would exhaust the recursion limit. Instead the first node of a graph that ``pickle`` (or
``copy.deepcopy``) meets lists its ancestors, parents before children, ahead of its own fields;
each ancestor is then saved by itself with its parents already in the pickler's memo, so the
nesting stays constant at any depth. The memo also keeps sharing: a parameter used by many
nodes, or by a model pickled alongside, comes back as one object.

Ops pickle by their table name and params (ops.py); a node built micrograd-style holds a Python
closure as its rule, which cannot be pickled (a clear ``TypeError`` says so). Gradients and
labels travel with the nodes.
"""

from __future__ import annotations

import threading
from typing import Any

from micrograd_like.backprop import topological_order
from micrograd_like.engine import Value, _describe, _node, _parents, _set_parents, _track
from micrograd_like.ops import Op

__all__ = ["copy_value", "reduce_value"]


class _Pending(threading.local):
    # per thread: the inner nodes of the graph being saved whose own turn has not come yet
    nodes: dict[int, Value] | None = None


_pending = _Pending()


def reduce_value(v: Value) -> tuple[Any, ...]:
    """Return the ``__reduce_ex__`` tuple of ``v`` (see the module docstring)."""
    pending = _pending.nodes
    if pending is not None and pending.get(id(v)) is v:
        del pending[id(v)]
        return (_inner, (v._data, v._grad, v._label, v._fn, _parents(v)))
    if v._a is None:
        return (_leaf, (v._data, v._grad, v._label))
    order = topological_order(v)
    for u in order:
        if u._fn is not None and u._fn.closure is not None:
            raise TypeError(
                f"cannot pickle or deep-copy {_describe(v)}: its graph holds the "
                f"micrograd-style node {u._fn.symbol!r} {_describe(u)}, whose _backward "
                "closure is code the node holds; define the op with define_op to pickle it"
            )
    order.pop()  # v itself, saved by the tuple returned here
    _pending.nodes = {id(u): u for u in order if u._a is not None}
    return (_root, (order, _End(), v._data, v._grad, v._label, v._fn, _parents(v)))


def copy_value(v: Value) -> Value:
    """Return a shallow copy: a new node with ``v``'s data, grad, label, op and parents."""
    if v._a is None:
        return _leaf(v._data, v._grad, v._label)
    return _inner(v._data, v._grad, v._label, v._fn, _parents(v))


class _End:
    # saved after a graph's ancestors: by then each has been saved, so whatever is still
    # listed (an ancestor the memo already held) is forgotten rather than kept alive

    __slots__ = ()

    def __reduce__(self) -> tuple[Any, ...]:
        _pending.nodes = None
        return (_End, ())


def _leaf(data: float, grad: float | None, label: str) -> Value:
    v = _node(data, None, None, None)
    v._grad = grad
    v._label = label
    if label.__class__ is not str:
        _track(v)  # (see engine._track)
    return v


def _inner(
    data: float, grad: float | None, label: str, op: Op | None, parents: tuple[Value, ...]
) -> Value:
    v = _node(data, op, None, None)
    v._grad = grad
    v._label = label
    _set_parents(v, parents)
    if label.__class__ is not str or (op is not None and op.closure is not None):
        _track(v)  # (see engine._track)
    return v


def _root(
    ancestors: list[Value],
    end: _End,
    data: float,
    grad: float | None,
    label: str,
    op: Op | None,
    parents: tuple[Value, ...],
) -> Value:
    # the ancestors are already rebuilt (they came first); only the node itself is left
    return _inner(data, grad, label, op, parents)
