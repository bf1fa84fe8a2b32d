"""The engine: the scalar ``Value`` node, graph recording, ``no_grad`` and the backward pass.

Every node records its parents (an ordered tuple) and the op that made it; the op's entry in
:mod:`micrograd_like.ops` is the node's local-gradient rule. Nodes hold no reference to
themselves (no closure over the output), so graphs are freed by reference counting alone and
Python's cycle collector never has to untangle them.

Gradient semantics
------------------
``out.backward()`` computes d out / d node for every node ``out`` depends on, in a pass-local
buffer, and only when the whole pass has succeeded *adds* it to each node's ``.grad`` (leaves
and intermediate nodes alike). Calling ``backward()`` twice on the same graph therefore gives
exactly twice the gradients, never a compounding error; call ``zero_grad`` (or set
``.grad = 0.0``) between steps. If the pass fails (an infinite derivative, say), no ``.grad``
changes.

A node whose gradient comes out exactly zero (a ReLU that is off, a hinge term past its
margin) passes nothing on: every contribution it would make is 0 times a local derivative,
and adding zero changes no sum, so the float pass skips it, exactly. The one visible effect:
an undefined local derivative behind such a node (``sqrt`` at 0 times a ReLU that is off)
is never evaluated, so it gives 0 instead of an error or NaN, the answer the graph's
function has around that point. A trace (``trace_backward``) skips it too; a
``create_graph`` pass evaluates every rule.
"""

from __future__ import annotations

import gc
import math
import numbers
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, TypeAlias

from micrograd_like.ops import (
    ABS,
    ADD,
    CLAMP,
    COS,
    ELU,
    EXP,
    FLOAT_MATH,
    LEAKY_RELU,
    LOG,
    MUL,
    NEG,
    POW,
    POW_CONST,
    RELU,
    SIGMOID,
    SILU,
    SIN,
    SOFTPLUS,
    SQRT,
    TANH,
    Op,
)

__all__ = ["Number", "Value", "gc_paused", "grad_enabled", "no_grad", "topological_order"]

Number: TypeAlias = int | float
Operand: TypeAlias = "Value | int | float"

_grad_enabled = True
_new = object.__new__
_DOMAIN_ERRORS = (ValueError, ZeroDivisionError, OverflowError)
# Parents live in two slots instead of a tuple (one object, not two, per node for memory and
# for the cycle collector): a unary node has ``_a`` set, a binary one ``_a`` and ``_b``, and an
# n-ary one keeps its parents' tuple in ``_a`` with ``_b`` set to this marker.
_NARY: Any = object()


def _as_float(x: object, where: str) -> float:
    """Convert a real number to float; reject ``bool``, ``None``, strings, containers."""
    if x.__class__ is float:
        return x
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(
            f"{where}: expected a real number (int or float), got {type(x).__name__} {x!r:.60}"
        )
    return float(x)


def _node(data: float, op: Op | None, a: Any, b: Any) -> Value:
    # the one internal constructor: no validation, data is already a float
    v = _new(Value)
    v.data = data
    v.grad = 0.0
    v.label = ""
    v._op = op
    v._a = a
    v._b = b
    v._g = None
    v._n = 0
    return v


def _record(data: float, op: Op, a: Any, b: Any = None) -> Value:
    # a node with its graph, or a bare leaf under no_grad
    if _grad_enabled:
        return _node(data, op, a, b)
    return _node(data, None, None, None)


def _parents(v: Value) -> tuple[Value, ...]:
    a, b = v._a, v._b
    if a is None:
        return ()
    if b is _NARY:
        return a  # type: ignore[no-any-return]
    return (a,) if b is None else (a, b)


def _call_text(op: Op | None, inputs: Sequence[Value]) -> str:
    # "pow(0.0, -1)": the op with its operand values and params, for error messages
    if op is None:
        return "leaf"
    args = [repr(v.data) for v in inputs] + [f"{p:g}" for p in op.params]
    return f"{op.name}({', '.join(args)})"


def _domain_error(op: Op, inputs: Sequence[Value], err: Exception) -> Exception:
    return type(err)(f"{_call_text(op, inputs)}: {err}")


def _apply(op: Op, inputs: tuple[Value, ...]) -> Value:
    n = len(inputs)
    try:
        if n == 1 and not op.params:
            data = op.forward(inputs[0].data)  # the common case, without argument packing
        else:
            data = op.forward(*[v.data for v in inputs], *op.params)
    except _DOMAIN_ERRORS as err:
        raise _domain_error(op, inputs, err) from None
    if n == 1:
        return _record(float(data), op, inputs[0])
    if n == 2 and op.arity == 2:
        return _record(float(data), op, inputs[0], inputs[1])
    return _record(float(data), op, inputs, _NARY)


_bound: dict[tuple[Op, tuple[float, ...]], Op] = {}


def _bind(op: Op, *params: float) -> Op:
    # bound ops are cached so ``x ** 2`` everywhere shares one Op object
    key = (op, params)
    b = _bound.get(key)
    if b is None:
        if len(_bound) > 4096:
            _bound.clear()
        b = _bound[key] = op.bind(*params)
    return b


class Value:
    """A scalar that remembers how it was computed, so gradients can flow back through it.

    ``Value(data, label="")`` makes a leaf. Arithmetic with other values or plain numbers
    (``+ - * / **``, unary ``-``, ``abs``, reflected forms) and the methods below make new
    nodes recording their op and parents. ``.grad`` stays ``0.0`` until a ``backward()``.
    ``==`` and ``hash`` are identity, so values can be dict keys and set members; ``<``,
    ``<=``, ``>``, ``>=`` compare ``.data`` and return plain ``bool``. ``bool`` is rejected as
    data and as an operand: ``True + x`` is almost always a bug, write ``1.0``.
    """

    __slots__ = ("_a", "_b", "_g", "_n", "_op", "data", "grad", "label")
    __array_ufunc__ = None  # numpy scalars defer to our reflected operators

    data: float
    grad: float
    label: str
    _op: Op | None
    _a: Any
    _b: Any
    _g: Any
    _n: int

    def __init__(self, data: Number, label: str = "") -> None:
        if not isinstance(label, str):
            raise TypeError(f"Value: label must be a str, got {type(label).__name__}")
        self.data = _as_float(data, "Value")
        self.grad = 0.0
        self.label = label
        self._op = None
        self._a = None
        self._b = None
        self._g = None
        self._n = 0

    # ------------------------------------------------------------------ introspection

    @property
    def op(self) -> str:
        """Name of the op that made this node, ``""`` for a leaf (``"pow"`` for ``x ** 2``)."""
        return "" if self._op is None else self._op.name

    @property
    def primitive(self) -> Op | None:
        """The op-table entry (with bound params) that made this node; ``None`` for a leaf."""
        return self._op

    @property
    def parents(self) -> tuple[Value, ...]:
        """The inputs of the op that made this node, in argument order (empty for a leaf)."""
        return _parents(self)

    def local_grads(self) -> list[float]:
        """Return d self / d parent for each parent, from the op table's rule (``[]`` for a leaf).

        This is the node's local-gradient rule applied to its recorded inputs with an upstream
        gradient of 1: exactly the numbers the chain rule multiplies by in ``backward()``.
        """
        op = self._op
        if op is None:
            return []
        return list(
            op.derivative(FLOAT_MATH, 1.0, self.data, *[p.data for p in _parents(self)], *op.params)
        )

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        op = f", op={self.op!r}" if self._op is not None else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{op}{label})"

    def __float__(self) -> float:
        return self.data

    def __format__(self, spec: str) -> str:
        return format(self.data, spec) if spec else repr(self)

    def __lt__(self, other: Operand) -> bool:
        return self.data < _data(other, "<")

    def __le__(self, other: Operand) -> bool:
        return self.data <= _data(other, "<=")

    def __gt__(self, other: Operand) -> bool:
        return self.data > _data(other, ">")

    def __ge__(self, other: Operand) -> bool:
        return self.data >= _data(other, ">=")

    # ------------------------------------------------------------------ primitives

    def __add__(self, other: Operand) -> Value:
        if other.__class__ is not Value:
            other = _lift(other, "+")
        return _record(self.data + other.data, ADD, self, other)

    def __mul__(self, other: Operand) -> Value:
        if other.__class__ is not Value:
            other = _lift(other, "*")
        return _record(self.data * other.data, MUL, self, other)

    def __neg__(self) -> Value:
        return _record(-self.data, NEG, self)

    def __pow__(self, other: Operand) -> Value:
        if other.__class__ is Value:
            return _apply(POW, (self, other))
        return _apply(_bind(POW_CONST, _as_float(other, "**")), (self,))

    def __abs__(self) -> Value:
        return _record(abs(self.data), ABS, self)

    def exp(self) -> Value:
        """e ** self."""
        return _apply(EXP, (self,))

    def log(self) -> Value:
        """Natural logarithm; ``ValueError`` for a non-positive value."""
        return _apply(LOG, (self,))

    def sqrt(self) -> Value:
        """Square root; ``ValueError`` for a negative value."""
        return _apply(SQRT, (self,))

    def sin(self) -> Value:
        """Sine (radians)."""
        return _apply(SIN, (self,))

    def cos(self) -> Value:
        """Cosine (radians)."""
        return _apply(COS, (self,))

    def tanh(self) -> Value:
        """Hyperbolic tangent, exact and overflow-free for any |x|."""
        return _apply(TANH, (self,))

    def sigmoid(self) -> Value:
        """Logistic function 1 / (1 + e^-x), overflow-free for any |x|."""
        return _apply(SIGMOID, (self,))

    def relu(self) -> Value:
        """max(x, 0); its derivative at the kink x = 0 is taken as 0."""
        return _apply(RELU, (self,))

    def leaky_relu(self, slope: float = 0.01) -> Value:
        """x for x > 0, else ``slope * x``."""
        return _apply(_bind(LEAKY_RELU, _as_float(slope, "leaky_relu slope")), (self,))

    def elu(self, alpha: float = 1.0) -> Value:
        """x for x > 0, else ``alpha * (e^x - 1)``."""
        return _apply(_bind(ELU, _as_float(alpha, "elu alpha")), (self,))

    def softplus(self) -> Value:
        """log(1 + e^x), a smooth relu, computed without overflow."""
        return _apply(SOFTPLUS, (self,))

    def silu(self) -> Value:
        """x * sigmoid(x) (also called swish)."""
        return _apply(SILU, (self,))

    def clamp(self, low: float, high: float) -> Value:
        """``min(max(x, low), high)``; the gradient is 0 where a bound holds the value."""
        lo, hi = _as_float(low, "clamp low"), _as_float(high, "clamp high")
        if not lo <= hi:
            raise ValueError(f"clamp: low must be <= high, got low={lo!r}, high={hi!r}")
        return _apply(_bind(CLAMP, lo, hi), (self,))

    @staticmethod
    def apply(op: Op, *inputs: Operand) -> Value:
        """Apply any op-table entry (built-in or made with ``define_op``) to values or numbers.

        This is how a custom primitive is used: ``Value.apply(my_op, x, y)``. The number of
        inputs must match the op's arity (any number for an n-ary op, at least one).
        """
        if not isinstance(op, Op):
            raise TypeError(f"Value.apply: expected an Op, got {type(op).__name__}")
        n = len(inputs)
        if (op.arity == -1 and n == 0) or (op.arity != -1 and n != op.arity):
            want = "at least 1" if op.arity == -1 else str(op.arity)
            raise TypeError(f"{op.describe()}: takes {want} input(s), got {n}")
        return _apply(op, tuple(_lift(x, op.name) for x in inputs))

    # ------------------------------------------------------------------ sugar

    def __radd__(self, other: Operand) -> Value:
        return _lift(other, "+") + self

    def __sub__(self, other: Operand) -> Value:
        if other.__class__ is Value:
            return self + -other
        # a number: x - c is x + (-c) exactly (negation rounds nothing), one node fewer
        c = _lift(other, "-")  # a fresh constant leaf
        c.data = -c.data
        return self + c

    def __rsub__(self, other: Operand) -> Value:
        return _lift(other, "-") + -self

    def __rmul__(self, other: Operand) -> Value:
        return _lift(other, "*") * self

    def __truediv__(self, other: Operand) -> Value:
        other = _lift(other, "/")
        if other.data == 0.0:
            raise ZeroDivisionError(f"/: division by zero ({self.data!r} / {other.data!r})")
        return self * other**-1.0

    def __rtruediv__(self, other: Operand) -> Value:
        if self.data == 0.0:
            raise ZeroDivisionError(f"/: division by zero ({other!r} / {self.data!r})")
        return _lift(other, "/") * self**-1.0

    def __rpow__(self, other: Operand) -> Value:
        return _lift(other, "**") ** self

    def __pos__(self) -> Value:
        return self

    # ------------------------------------------------------------------ gradients

    def backward(self, grad: float = 1.0) -> None:
        """Add d self / d node, times ``grad``, to the ``.grad`` of every node self depends on.

        Gradients accumulate: two calls give exactly twice the gradients (see the module
        docstring). A node with no graph just adds ``grad`` to its own ``.grad``. If a local
        derivative on a path that carries gradient is undefined (``sqrt`` at 0, say) the error
        names the op and the value and no ``.grad`` is changed.
        """
        seed = _as_float(grad, "backward grad")
        nodes = run_pass(self, seed, create_graph=False)
        for v in nodes:
            v.grad += v._g
            v._g = None


def _lift(x: object, op: str) -> Value:
    """Return ``x`` as a Value: numbers become constant leaves, anything else is a TypeError."""
    if x.__class__ is Value:
        return x
    if x.__class__ is float:  # the common case, before the slower ABC check below
        return _node(x, None, None, None)
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(
            f"unsupported operand for {op}: Value and {type(x).__name__} {x!r:.60}"
            " (use a Value, int or float)"
        )
    return _node(float(x), None, None, None)


def _data(x: object, op: str) -> float:
    return x.data if x.__class__ is Value else _as_float(x, op)


class _ValueMath:
    """The math namespace for rules evaluated on ``Value`` nodes (``create_graph=True``)."""

    exp = staticmethod(Value.exp)
    log = staticmethod(Value.log)
    sin = staticmethod(Value.sin)
    cos = staticmethod(Value.cos)
    tanh = staticmethod(Value.tanh)
    sqrt = staticmethod(Value.sqrt)
    sigmoid = staticmethod(Value.sigmoid)

    @staticmethod
    def value(x: Value | float) -> float:
        """The plain float behind ``x``, for branches (relu's step) that have no derivative."""
        return x.data if isinstance(x, Value) else x


VALUE_MATH = _ValueMath()

_UNSET: Any = object()  # "no contribution yet" in a create_graph pass


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


def run_pass(
    root: Value,
    seed: Any,
    *,
    create_graph: bool,
    trace: list[StepRecord] | None = None,
) -> list[Value]:
    """Run the chain rule from ``root``; leave d root / d node in each reached node's ``_g``.

    Returns every node reached (root first). The caller reads ``_g`` and must reset it to
    ``None`` (``backward`` adds it to ``.grad``; ``grad`` returns it). Iterative throughout:
    phase 1 walks the graph depth-first with an explicit stack and lists the inner nodes, each
    after every node it depends on; phase 2 takes them in the reverse order, so a node passes
    its gradient on only once all its consumers have added theirs to it, and any depth works
    at the default recursion limit. Both passes below take that one order, so a trace
    reproduces ``backward()`` bit for bit. With ``create_graph`` the rules run on ``Value``
    nodes and the gradients are themselves differentiable. With ``trace`` each processed node
    appends a :class:`StepRecord` (this is what ``trace_backward`` reads).
    """
    with gc_paused():
        return _run_pass(root, seed, create_graph, trace)


def _run_pass(
    root: Value, seed: Any, create_graph: bool, trace: list[StepRecord] | None
) -> list[Value]:
    # Phase 1, depth-first over parents in argument order. Every reached node gets _g = zero
    # and goes into `nodes`. An inner node's _n is 1 while its parents are walked and 2 once it
    # is in `order`, after all of them; a node met again before it was walked is pushed again
    # (its older stack entry then finds _n == 2 and is dropped). Leaves are never pushed and
    # keep _n == 0; phase 2 resets each inner node's _n as it takes the node.
    zero: Any = _UNSET if create_graph else 0.0
    root._g = seed
    nodes = [root]
    order: list[Value] = []
    stack = [root]
    append, pop, push, emit = nodes.append, stack.pop, stack.append, order.append
    try:
        while stack:
            v = pop()
            n = v._n
            if n:
                if n == 1:
                    v._n = 2
                    emit(v)
                continue
            a = v._a
            if a is None:
                continue  # the root is a leaf
            v._n = 1
            push(v)
            b = v._b
            # pushed last parent first, so the first parent is walked first
            for p in reversed(a) if b is _NARY else (a,) if b is None else (b, a):
                if p._g is None:
                    p._g = zero
                    append(p)
                    if p._a is not None:
                        push(p)
                elif not p._n and p._a is not None:
                    push(p)
        if create_graph or trace is not None:
            _chain_general(order, create_graph, trace)
        else:
            _chain_floats(order)
    except BaseException:
        # an error in a rule, or an interrupt in either phase: leave no node marked
        for v in nodes:
            v._g = None
            v._n = 0
        raise
    if create_graph:
        for v in nodes:
            if v._g is _UNSET:
                v._g = 0.0
    return nodes


def _backward_error(v: Value, err: Exception) -> Exception:
    return type(err)(
        f"backward through {_call_text(v._op, _parents(v))}: {err}"
        " (the local derivative is not finite here)"
    )


def _chain_floats(order: list[Value]) -> None:
    # phase 2 on floats, the fast first-order pass. A node whose gradient is exactly zero
    # passes nothing on: each contribution would be 0 * local = 0, and adding zero changes no
    # sum (a ReLU that is off, or a hinge term past its margin, costs nothing at all). Unary
    # and binary rules are called without argument packing.
    m = FLOAT_MATH
    for v in reversed(order):
        v._n = 0
        g = v._g
        if not g:
            continue
        a = v._a
        b = v._b
        op: Any = v._op  # set whenever _a is
        try:
            if b is _NARY:
                local = op.derivative(m, g, v.data, *[p.data for p in a], *op.params)
            else:
                params = op.params
                if b is None:
                    (c,) = (
                        op.derivative(m, g, v.data, a.data, *params)
                        if params
                        else op.derivative(m, g, v.data, a.data)
                    )
                    a._g += c
                else:
                    ca, cb = (
                        op.derivative(m, g, v.data, a.data, b.data, *params)
                        if params
                        else op.derivative(m, g, v.data, a.data, b.data)
                    )
                    a._g += ca
                    b._g += cb
                continue
        except _DOMAIN_ERRORS as err:
            raise _backward_error(v, err) from None
        for p, c in zip(a, local, strict=True):
            p._g += c


def _chain_general(order: list[Value], create_graph: bool, trace: list[StepRecord] | None) -> None:
    # phase 2, general form: on Values for create_graph (the same rules then record the
    # gradient's own graph), and the route a trace takes, step by step, in the same order
    # as the float pass (so a trace reproduces backward() bit for bit)
    m: Any = VALUE_MATH if create_graph else FLOAT_MATH
    for v in reversed(order):
        v._n = 0
        op: Any = v._op  # set for every inner node
        prev = _parents(v)
        g = v._g
        try:
            if create_graph:
                local = op.derivative(m, g, v, *prev, *op.params)
            elif g:
                local = op.derivative(m, g, v.data, *[p.data for p in prev], *op.params)
            else:
                # a zero gradient passes nothing on, exactly as in the float pass
                local = [0.0] * len(prev)
        except _DOMAIN_ERRORS as err:
            raise _backward_error(v, err) from None
        before: list[Any] = []
        after: list[Any] = []
        for p, c in zip(prev, local, strict=True):
            old = p._g
            p._g = new = c if old is _UNSET else old + c
            if trace is not None:
                # per parent, so a parent used twice (x * x) shows both of its additions
                before.append(old)
                after.append(new)
        if trace is not None:
            trace.append(StepRecord(v, g, _local_or_nan(v), list(local), before, after))


def _local_or_nan(v: Value) -> list[float]:
    # the local derivatives a trace shows; NaN where one is not finite (sqrt at 0), which the
    # pass itself only meets when a nonzero gradient arrives there (and then raises)
    try:
        return v.local_grads()
    except _DOMAIN_ERRORS:
        return [math.nan] * len(_parents(v))


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


class _GcPause:
    # The context manager gc_paused() returns: one shared object, no state of its own (the
    # user's setting and the nesting depth are module globals) and static __enter__/__exit__.
    # So `with gc_paused():` allocates nothing the collector counts (a bound __exit__ or a
    # generator would), and no collection can start between the call and the pause.

    __slots__ = ()

    @staticmethod
    def __enter__() -> None:
        global _gc_depth, _gc_was_enabled
        if not _gc_depth:
            _gc_was_enabled = gc.isenabled()
        gc.disable()
        _gc_depth += 1

    @staticmethod
    def __exit__(*exc: object) -> None:
        global _gc_depth
        _gc_depth -= 1
        if not _gc_depth and _gc_was_enabled:
            gc.enable()


_gc_depth = 0
_gc_was_enabled = False
_GC_PAUSE = _GcPause()


def gc_paused() -> AbstractContextManager[None]:
    """Pause Python's cyclic garbage collector inside the block, then restore the user's setting.

    Graph nodes hold no reference cycles, so reference counting frees them and the cycle
    collector has nothing to find in them; yet while a large graph grows, the collector keeps
    re-walking every live node (two thirds of the time of building a 10^5-node chain). The
    engine pauses it inside its own calls (``backward()``, an ``nn`` module call); wrap your
    own graph-building loops in it for the same speed. A graph that dies inside the block is
    never walked at all; one still alive when the block ends is walked once, by the next
    collection: so a whole training step, ending with its graph dropped, is the best unit.
    Blocks nest (and may overlap across threads): the collector is restored when the outermost
    one ends, to exactly the state it had when that one began. Entering costs well under a
    microsecond and allocates nothing.
    """
    return _GC_PAUSE


@contextmanager
def no_grad() -> Iterator[None]:
    """Inside this block operations build no graph: results are plain leaves, cheaper to make.

    Use it for evaluation, for parameter updates and anywhere gradients are not wanted. The
    switch is process-wide (not per thread); the previous setting is restored on exit, also on
    an exception, and blocks nest.
    """
    global _grad_enabled
    previous = _grad_enabled
    _grad_enabled = False
    try:
        yield
    finally:
        _grad_enabled = previous


def grad_enabled() -> bool:
    """Return whether operations currently record a graph (``False`` inside ``no_grad``)."""
    return _grad_enabled


def values(xs: Iterable[Operand], where: str = "values") -> list[Value]:
    """Return ``xs`` as a list of Values, lifting numbers to leaves; TypeError otherwise."""
    return [_lift(x, where) for x in xs]
