"""The backward pass: one deterministic order, the chain rule over the op table, all or nothing.

``run_pass`` is the chain rule from a root: phase 1 walks the graph depth-first with an
explicit stack (any depth works at the default recursion limit) and lists the inner nodes, each
after every node it depends on; phase 2 takes them in the reverse order, so a node passes its
gradient on only once all its consumers have added theirs to it. ``backward()``, ``grad``,
traces (``trace_backward``) and ``backward_order`` share that one walk, so they agree bit for bit.

Guarantees
----------
* **All or nothing.** ``backward()`` computes every gradient in scratch slots first and adds
  them to ``.grad`` only when the whole pass succeeded. An error in a rule, or an interrupt
  (Ctrl-C) anywhere before the adding starts, changes no ``.grad``; an interrupt while adding
  lets the adding finish first, then propagates. No scratch state survives a pass to affect
  a later one: each pass marks the nodes it reaches with tokens of its own.
* **Threads.** Passes are serialised by one lock, so passes from several threads over shared
  nodes (a model's parameters) give exactly the gradients they would one after another.
  Starting a pass from inside a running one (from a derivative rule or a ``_backward``
  closure) is a ``RuntimeError``, not a deadlock.
* **The point of the graph.** A leaf whose ``.data`` changed after a node was built from it makes
  the pass raise before anything changes (see the engine's docstring).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import Any

from micrograd_like import engine as _engine
from micrograd_like.collector import call_paused
from micrograd_like.engine import (
    _DOMAIN_ERRORS,
    _NARY,
    VALUE_MATH,
    Value,
    _call_text,
    _describe,
    _parents,
    _settle,
    _with_context,
)
from micrograd_like.ops import FLOAT_MATH

__all__ = ["StepRecord", "backward_order", "gradients", "run_pass", "topological_order"]

_speedups = _engine._speedups  # the optional C accelerator (see engine), or None
_UNSET: Any = object()  # "no contribution yet" in a create_graph pass
# Passes take turns. The lock's own enter and exit run in C, so no interrupt can leave it held;
# it is re-entrant only so that a nested pass can be refused with a message, not a deadlock.
_lock = threading.RLock()


class StepRecord:
    """One node processed by the backward pass: what a ``trace`` collects (see stepping)."""

    __slots__ = ("after", "before", "contributions", "grad", "local", "node")

    def __init__(
        self,
        node: Value,
        grad: Any,
        local: list[Any],
        contributions: list[Any],
        before: list[Any],
        after: list[Any],
    ) -> None:
        self.node = node
        self.grad = grad
        self.local = local
        self.contributions = contributions
        self.before = before
        self.after = after


def _exclusive(fn: Any, *args: Any) -> Any:
    # run fn with the pass lock held and the cycle collector paused (both interrupt-safe:
    # the lock's enter/exit are C calls, and call_paused has no window)
    if _lock._is_owned():  # type: ignore[attr-defined]
        raise RuntimeError(
            "a backward pass was started from inside another one in the same thread (from a "
            "derivative rule or a _backward closure); call backward() or grad() after it ends"
        )
    with _lock:
        return call_paused(fn, *args)


def _walk(root: Value, seed: Any, zero: Any) -> tuple[list[Value], list[Value], Any, Any]:
    # Phase 1, depth-first over parents in argument order. Tokens of this pass mark the
    # nodes: `leaf` (a reached leaf), `seen` (a reached inner node, not walked yet), `walk`
    # (an inner node whose parents are being walked), `done` (listed in `order`, after all of
    # them); every reached node's _g holds its gradient so far. A node met again before it
    # was walked is pushed again (its older stack entry then finds it done). Tokens left by
    # earlier passes mean nothing to this one, so an interrupted pass needs no clean-up.
    # Returns every reached node (root first), the inner nodes in order, and the two tokens
    # that mark a reached node. Inner nodes built in more than one data epoch get the slow,
    # exact check of _check_point.
    leaf, seen, walk, done = object(), object(), object(), object()
    root._g = seed
    nodes = [root]
    order: list[Value] = []
    if root._a is None:
        root._s = leaf
        return nodes, order, leaf, done
    root._s = seen
    stack = [root]
    append, pop, push, emit = nodes.append, stack.pop, stack.append, order.append
    e0 = root._e
    mixed = False
    while stack:
        v = pop()
        s = v._s
        if s is walk:
            v._s = done
            if v._e is not e0:  # one int object per epoch: identity is equality here
                mixed = True
            emit(v)
            continue
        if s is done:
            continue
        v._s = walk
        push(v)
        a = v._a
        b = v._b
        # pushed last parent first, so the first parent is walked first
        for p in reversed(a) if b is _NARY else (a,) if b is None else (b, a):
            s = p._s
            if s is leaf or s is done:
                continue  # a leaf reached before, or a shared node already walked
            if s is seen:
                push(p)  # reached before, not walked yet: walk it from here
            elif s is not walk:
                p._g = zero
                append(p)
                if p._a is None:
                    p._s = leaf
                else:
                    p._s = seen
                    push(p)
    if mixed or root._e != _engine._epoch:
        _check_point(order)
    return nodes, order, leaf, done


def _check_point(order: list[Value]) -> None:
    # the slow, exact form of the data-epoch check: no parent changed after its consumer
    # was built from it (only a leaf's .data can change)
    for c in order:
        for p in _parents(c):
            if p._e > c._e:
                raise ValueError(
                    f"backward: the leaf {_describe(p)} had its .data changed after "
                    f"{_call_text(c._fn, _parents(c))} was built from it, so the graph mixes "
                    "the old point and the new one; build the graph again after changing .data"
                )


def _rule_error(v: Value, err: Exception) -> BaseException:
    # a built-in domain error says the derivative is not finite at this point; any other
    # exception from a rule is kept as it is, with a note naming the node
    where = f"backward through {_call_text(v._fn, _parents(v))}"
    if type(err) in _DOMAIN_ERRORS:
        return type(err)(f"{where}: {err} (the local derivative is not finite here)")
    return _with_context(err, where)


def _count_error(v: Value, got: Any, want: int) -> TypeError:
    op = v._fn
    try:
        n = str(len(got))
    except TypeError:
        n = f"a {type(got).__name__}"
    return TypeError(
        f"the derivative rule of {op.describe() if op else 'a leaf'} returned {n} "
        f"contribution(s) for {want} input(s); a rule returns one per input, in input order"
    )


def _chain_floats(order: list[Value]) -> None:
    # Phase 2 on floats, the fast first-order pass. A node whose gradient is exactly zero
    # passes nothing on: each contribution would be 0 * local = 0, and adding zero changes no
    # sum (a ReLU that is off, or a hinge term past its margin, costs nothing at all). The
    # accelerator runs this same loop in C, calling _chain_node for ops it has no rule for.
    for v in reversed(order):
        if v._g:
            _chain_node(v)


def _chain_node(v: Value) -> None:
    # One node of _chain_floats, whose gradient is not zero: its rule's contributions added
    # into its parents' scratch gradients. Unary and binary rules are called without
    # argument packing.
    m = FLOAT_MATH
    g = v._g
    a = v._a
    b = v._b
    op: Any = v._fn
    try:
        if b is _NARY:
            local = op.derivative(m, g, v._data, *[p._data for p in a], *op.params)
        else:
            params = op.params
            if b is None:
                (c,) = (
                    op.derivative(m, g, v._data, a._data, *params)
                    if params
                    else op.derivative(m, g, v._data, a._data)
                )
                a._g += c
            else:
                ca, cb = (
                    op.derivative(m, g, v._data, a._data, b._data, *params)
                    if params
                    else op.derivative(m, g, v._data, a._data, b._data)
                )
                a._g += ca
                b._g += cb
            return
        if len(local) != len(a):
            raise _count_error(v, local, len(a))
    except Exception as err:
        raise _diagnosed(v, g, err) from None
    for p, c in zip(a, local):  # noqa: B905 - lengths checked above
        p._g += c


def _diagnosed(v: Value, g: Any, err: Exception) -> BaseException:
    # What went wrong at v: the rule raised, or it returned the wrong number of
    # contributions (the fast pass above unpacks without asking). Rules are pure, so the
    # rule is simply called again to tell the two apart.
    op: Any = v._fn
    prev = _parents(v)
    if isinstance(err, TypeError) and "contribution" in str(err):
        return err
    try:
        r = op.derivative(FLOAT_MATH, g, v._data, *[p._data for p in prev], *op.params)
    except Exception as again:
        return _rule_error(v, again)
    try:
        n = len(r)
    except TypeError:
        return _count_error(v, r, len(prev))
    if n != len(prev):
        return _count_error(v, r, len(prev))
    return _rule_error(v, err)  # the rule is fine: the error came from adding its results


def _chain_general(order: list[Value], create_graph: bool, trace: list[StepRecord] | None) -> None:
    # Phase 2, general form: on Values for create_graph (the same rules then record the
    # gradient's own graph), and the route a trace takes, step by step, in the same order
    # as the float pass (so a trace reproduces backward() bit for bit)
    m: Any = VALUE_MATH if create_graph else FLOAT_MATH
    for v in reversed(order):
        op: Any = v._fn  # set for every inner node
        prev = _parents(v)
        g = v._g
        try:
            if create_graph:
                local = op.derivative(m, g, v, *prev, *op.params)
            elif g:
                local = op.derivative(m, g, v._data, *[p._data for p in prev], *op.params)
            else:
                # a zero gradient passes nothing on, exactly as in the float pass
                local = [0.0] * len(prev)
        except Exception as err:
            raise _rule_error(v, err) from None
        try:
            local = list(local)
        except TypeError:
            raise _count_error(v, local, len(prev)) from None
        if len(local) != len(prev):
            raise _count_error(v, local, len(prev))
        before: list[Any] = []
        after: list[Any] = []
        for p, c in zip(prev, local):  # noqa: B905 - lengths checked above
            old = p._g
            p._g = new = c if old is _UNSET else old + c
            if trace is not None:
                # per parent, so a parent used twice (x * x) shows both of its additions
                before.append(old)
                after.append(new)
        if trace is not None:
            trace.append(StepRecord(v, g, _local_or_nan(v), local, before, after))


def _local_or_nan(v: Value) -> list[float]:
    # the local derivatives a trace shows; NaN where one is not finite (sqrt at 0), which the
    # pass itself only meets when a nonzero gradient arrives there (and then raises)
    try:
        return v.local_grads()
    except _DOMAIN_ERRORS:
        return [float("nan")] * len(_parents(v))


# ---------------------------------------------------------------------------------- the passes


def backward(root: Value, seed: float) -> None:
    """Add d root / d node times ``seed`` to every reached node's ``.grad`` (``Value.backward``)."""
    _exclusive(_backward, root, seed)


def _backward(root: Value, seed: float) -> None:
    nodes, order, _, _ = _walk(root, seed, 0.0)
    _chain_floats(order)
    # Add each gradient to .grad and mark the node done, in one statement: its two stores
    # have no call, loop edge or function start between them, which is where CPython acts
    # on a signal or switches threads. So an interrupt lands between nodes, and the nodes not
    # yet marked are finished before it goes on. A .grad of None (no gradient yet) stops the
    # fast loop with a TypeError; the finishing loop counts it as zero.
    fin = object()
    try:
        if _speedups is not None:
            _speedups.finish(nodes, fin)  # the loop below in C, where no interrupt lands
        else:
            for v in nodes:
                v._grad, v._s = v._grad + v._g, fin
    except BaseException as err:
        # inline, not a call: a second interrupt can only restart the finishing loop
        while True:
            try:
                for v in nodes:
                    if v._s is not fin:
                        old = v._grad
                        v._grad, v._s = (v._g if old is None else old + v._g), fin
                break
            except BaseException:  # interrupted again: finish again
                continue
        if type(err) is not TypeError:
            raise


def gradients(root: Value, inputs: Iterable[Value], seed: Any, create_graph: bool) -> list[Any]:
    """Return d root / d input times ``seed`` for each input (0.0 where root does not depend
    on it), changing no ``.grad``: ``functional.grad``. With ``create_graph`` the results are
    ``Value`` nodes (or 0.0) whose own graphs are differentiable.
    """
    return _exclusive(_gradients, root, list(inputs), seed, create_graph)  # type: ignore[no-any-return]


def _gradients(root: Value, inputs: list[Value], seed: Any, create_graph: bool) -> list[Any]:
    nodes, order, leaf, done = _walk(root, seed, _UNSET if create_graph else 0.0)
    try:
        if create_graph:
            _chain_general(order, True, None)
        else:
            _chain_floats(order)
        found = []
        for x in inputs:
            s = x._s
            g = x._g if s is leaf or s is done else 0.0
            found.append(0.0 if g is _UNSET else g)
        return found
    finally:
        if create_graph:  # free the gradient graphs the scratch slots hold
            _settle(_clear, nodes)


def _clear(nodes: list[Value]) -> None:
    for v in nodes:
        v._g = None


def run_pass(
    root: Value, seed: Any, *, create_graph: bool = False, trace: list[StepRecord] | None = None
) -> tuple[list[Value], list[Any]]:
    """Run the chain rule from ``root``; return every reached node (root first) and its gradient.

    The two lists are in the same order; no ``.grad`` changes and no scratch state is left on
    the nodes. With ``create_graph`` the rules run on ``Value`` nodes and the gradients are
    themselves differentiable. With ``trace`` each processed node appends a
    :class:`StepRecord` (this is what ``trace_backward`` reads).
    """
    return _exclusive(_run_pass, root, seed, create_graph, trace)  # type: ignore[no-any-return]


def _run_pass(
    root: Value, seed: Any, create_graph: bool, trace: list[StepRecord] | None
) -> tuple[list[Value], list[Any]]:
    nodes, order, _, _ = _walk(root, seed, _UNSET if create_graph else 0.0)
    try:
        if create_graph or trace is not None:
            _chain_general(order, create_graph, trace)
        else:
            _chain_floats(order)
        return nodes, [0.0 if v._g is _UNSET else v._g for v in nodes]
    finally:
        if create_graph:
            _settle(_clear, nodes)


def backward_order(root: Value) -> list[Value]:
    """Return the inner nodes ``root`` depends on, in the order ``backward()`` takes them.

    ``root`` first (if it is not a leaf), then each node after all of its consumers: the chain
    rule's order. It is the order of the engine's own pass (shared by backward, grad and traces),
    so code that replays the pass (a compiled replay, a stepper) agrees with it bit for bit.
    """
    if not isinstance(root, Value):
        raise TypeError(f"backward_order: expected a Value, got {type(root).__name__}")
    order: list[Value] = _exclusive(lambda: _walk(root, 0.0, 0.0)[1])
    order.reverse()
    return order


def topological_order(root: Value, within: Iterable[Value] | None = None) -> list[Value]:
    """Return every node ``root`` depends on, each after all its parents (root last).

    Iterative depth-first search over parents in argument order, so the order is the same on
    every run and any depth works without recursion. This is the forward evaluation order.
    With ``within``, the search steps only into those nodes: the result is root and the nodes
    of ``within`` it reaches through them, at the cost of that part, not of the whole graph.
    """
    if not isinstance(root, Value):
        raise TypeError(f"topological_order: expected a Value, got {type(root).__name__}")
    inside = None if within is None else {id(v) for v in within}
    order: list[Value] = []
    seen = {id(root)}
    stack: list[tuple[Value, Iterator[Value]]] = [(root, iter(_parents(root)))]
    while stack:
        node, parents = stack[-1]
        for p in parents:
            if id(p) not in seen and (inside is None or id(p) in inside):
                seen.add(id(p))
                stack.append((p, iter(_parents(p))))
                break
        else:
            stack.pop()
            order.append(node)
    return order


# ------------------------------------------------------------------------- the accelerator


def _walk_accelerated(
    root: Value, seed: Any, zero: Any
) -> tuple[list[Value], list[Value], Any, Any]:
    # _walk with its loop in the accelerator: the same steps in the same order
    if root._a is None:
        return _walk_reference(root, seed, zero)
    leaf, seen, walk, done = object(), object(), object(), object()
    nodes, order, mixed = _speedups.walk(root, seed, zero, leaf, seen, walk, done)
    if mixed or root._e != _engine._epoch:
        _check_point(order)
    return nodes, order, leaf, done


def _chain_floats_accelerated(order: list[Value]) -> None:
    # _chain_floats with its loop in the accelerator; nodes other than add and mul go to
    # _chain_node, the loop's body
    _speedups.chain(order, _chain_node)


_walk_reference = _walk
_chain_floats_reference = _chain_floats
if _speedups is not None:
    _walk = _walk_accelerated
    _chain_floats = _chain_floats_accelerated
