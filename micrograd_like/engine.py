"""The engine: the scalar ``Value`` node, graph recording, grad mode and micrograd's node surface.

Every node records its parents (an ordered tuple) and the op that made it; the op's entry in
:mod:`micrograd_like.ops` is the node's local-gradient rule, and :mod:`micrograd_like.backprop`
runs the chain rule over the graph. Nodes hold no reference to themselves (no closure over the
output), so graphs are freed by reference counting alone and Python's cycle collector never has
to untangle them (nodes built micrograd-style, with a ``_backward`` closure, are the exception,
exactly as in micrograd).

Gradient semantics
------------------
``out.backward()`` computes d out / d node for every node ``out`` depends on and, only once the
whole pass has succeeded, *adds* it to each node's ``.grad`` (leaves and intermediate nodes
alike). Calling ``backward()`` twice therefore gives exactly twice the gradients; call
``zero_grad`` (or set ``.grad = 0.0``) between steps. ``.grad = None`` means "no gradient yet"
and counts as zero. Either every ``.grad`` changes or none does: a failed pass (an infinite
derivative, say) and an interrupted one (Ctrl-C) leave them all as they were, or, interrupted
while adding, finish adding first.

A node whose gradient comes out exactly zero (a ReLU that is off, a hinge term past its
margin) passes nothing on: every contribution it would make is 0 times a local derivative,
and adding zero changes no sum, so the float pass skips it, exactly. The one visible effect:
an undefined local derivative behind such a node (``sqrt`` at 0 times a ReLU that is off)
is never evaluated, so it gives 0 instead of an error or NaN, the answer the graph's
function has around that point. A trace (``trace_backward``) skips it too; a
``create_graph`` pass evaluates every rule.

The point a graph stands for
----------------------------
A graph holds the numbers it was built from. Changing a leaf's ``.data`` afterwards and then
calling ``backward()`` (or ``grad``) on that old graph raises ``ValueError`` naming the leaf, as
PyTorch's version counters do: the gradient would mix the old point and the new one. Rebuild
the graph after changing ``.data`` (a training loop does). A computed node's ``.data`` cannot be
set at all: it is its op applied to its inputs.
"""

from __future__ import annotations

import math
import numbers
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from contextlib import ContextDecorator
from typing import TYPE_CHECKING, Any, TypeAlias

from micrograd_like.collector import call_paused, gc_paused
from micrograd_like.ops import (
    ABS,
    ADD,
    CLAMP,
    COS,
    DOT,
    ELU,
    EXP,
    FLOAT_MATH,
    LEAKY_RELU,
    LOG,
    MUL,
    NEG,
    OPS,
    POW,
    POW_CONST,
    RELU,
    SIGMOID,
    SILU,
    SIN,
    SOFTPLUS,
    SQRT,
    SUM,
    TANH,
    Op,
    _dot_forward,
)

__all__ = [
    "Number",
    "Value",
    "assign_data",
    "call_paused",
    "data_of",
    "fill_grad",
    "gc_paused",
    "grad_enabled",
    "grads_of",
    "mark_composite",
    "neuron",
    "neuron_value",
    "no_grad",
    "record_nary",
    "record_unary",
    "topological_order",
]

Number: TypeAlias = int | float
Operand: TypeAlias = "Value | int | float"


def _load_speedups() -> Any:
    # The optional C accelerator (_speedups.c, built by hatch_build.py when a compiler is
    # there): the same engine, faster. This module stays the reference and the fallback;
    # MICROGRAD_LIKE_PURE=1 runs it without the accelerator.
    if os.environ.get("MICROGRAD_LIKE_PURE", "") not in ("", "0"):
        return None
    try:
        from micrograd_like import _speedups  # type: ignore[attr-defined]
    except ImportError:
        return None
    return _speedups if getattr(_speedups, "API", None) == 1 else None


_speedups = _load_speedups()
ACCELERATED = _speedups is not None
_new = object.__new__
_DOMAIN_ERRORS = (ValueError, ZeroDivisionError, OverflowError)
# Parents live in two slots instead of a tuple (one object, not two, per node for memory and
# for the cycle collector): a unary node has ``_a`` set, a binary one ``_a`` and ``_b``, and an
# n-ary one keeps its parents' tuple in ``_a`` with ``_b`` set to this marker.
_NARY: Any = object()

# The data epoch: one counter for the whole process, advanced by every assignment to a leaf's
# ``.data``. Each node records the epoch it was made in (``_e``), and an assignment stamps the
# leaf with the new epoch, so "this leaf changed after that node was built from it" is
# ``leaf._e > node._e`` (see backprop: a graph built in one epoch needs no further look).
_epoch = 0


# ---------------------------------------------------------------------------------- grad mode


class _ThreadMode(threading.local):
    # per thread: how many no_grad blocks this thread has open
    off = 0


_mode = _ThreadMode()
# how many no_grad blocks are open in all threads together: while it is 0 (the common case)
# recording needs no per-thread look-up at all
_off_blocks = 0


class _NoGrad(ContextDecorator):
    # what no_grad() returns: a context manager (and decorator) with no state of its own

    __slots__ = ()

    def __enter__(self) -> None:
        global _off_blocks
        _mode.off += 1
        _off_blocks += 1

    def __exit__(self, *exc: object) -> None:
        global _off_blocks
        _off_blocks -= 1
        _mode.off -= 1


_NO_GRAD = _NoGrad()


def no_grad() -> _NoGrad:
    """Inside this block operations build no graph: results are plain leaves, cheaper to make.

    Use it for evaluation, for parameter updates and anywhere gradients are not wanted. Like
    PyTorch's, the mode is per thread: a ``no_grad`` block in one thread does not stop another
    thread from recording. Blocks nest, the previous mode comes back on exit (also on an
    exception), and ``@no_grad()`` works as a decorator.
    """
    return _NO_GRAD


def grad_enabled() -> bool:
    """Return whether operations in this thread record a graph (``False`` inside ``no_grad``)."""
    return not (_off_blocks and _mode.off)


# ---------------------------------------------------------------------------------- nodes


def _as_float(x: object, where: str) -> float:
    """Convert a real number to float; reject ``bool``, ``None``, strings, containers."""
    if x.__class__ is float:
        return x
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(
            f"{where}: expected a real number (int or float), got {type(x).__name__} {x!r:.60}"
        )
    try:
        return float(x)
    except OverflowError:
        raise ValueError(f"{where}: {x!r:.40} is too large for a float") from None


def _node(data: float, op: Op | None, a: Any, b: Any) -> Value:
    # the one internal constructor: no validation, data is already a float
    v = _new(Value)
    v._data = data
    v._grad = 0.0
    v._label = ""
    v._fn = op
    v._a = a
    v._b = b
    v._g = None
    v._s = None
    v._e = _epoch
    return v


def _untracked(v: Value) -> None:
    # what _track does without the accelerator: every node is the collector's already
    return None


# With the accelerator, nodes are made untracked by the cycle collector (they cannot be in a
# cycle: a node refers to older nodes, floats, strings and ops). A node that can be (one whose
# op holds a micrograd-style closure, or whose label is a str subclass) is handed to _track.
_track: Callable[[Value], None] = _untracked if _speedups is None else _speedups.track


def _record(data: float, op: Op, a: Any, b: Any = None) -> Value:
    # a node with its graph, or a bare leaf under no_grad in this thread
    if _off_blocks and _mode.off:
        return _node(data, None, None, None)
    return _node(data, op, a, b)


def record_unary(data: float, op: Op, x: Value) -> Value:
    """Record ``op(x)`` whose forward value the caller already computed (no check of ``data``).

    For layers that compute many nodes' values in one loop (nn's fused neuron): ``data`` must
    be ``op``'s float forward of ``x.data`` (and params). Under ``no_grad`` the result is a bare
    leaf, as for any op.
    """
    if _off_blocks and _mode.off:
        return _node(data, None, None, None)
    return _node(data, op, x, None)


def record_nary(data: float, op: Op, parents: tuple[Value, ...]) -> Value:
    """Record an n-ary ``op`` (``arity == -1``) over ``parents``, its forward value precomputed.

    The n-ary form of :func:`record_unary`: ``data`` is not checked against the op.
    """
    if _off_blocks and _mode.off:
        return _node(data, None, None, None)
    return _node(data, op, parents, _NARY)


def neuron(w: list[Value], b: Value, act: Op | None, xs: Sequence[Value], xd: list[float]) -> Value:
    """Record one neuron, ``act(dot(w, xs, b))``, as a ``dot`` node and an activation node.

    Both values are computed here by the op table's own forwards in one go (``xd`` is the
    inputs' data, read once per layer by the caller), which is what makes nn's forward pass
    cheap; the nodes are the same as ``act(dot(w, xs, b))`` would record, bit for bit.
    """
    parents = (*w, *xs, b)
    try:
        s = _dot_forward([v._data for v in w], xd, b._data)
        if act is not None:
            out = float(act.forward(s, *act.params) if act.params else act.forward(s))  # type: ignore[misc]
    except _DOMAIN_ERRORS:
        # the general route raises the same error, naming the op and its operands
        node = _apply(DOT, parents)
        return node if act is None else _apply(act, (node,))
    if _off_blocks and _mode.off:
        return _node(out if act is not None else s, None, None, None)
    node = _node(s, DOT, parents, _NARY)
    return node if act is None else _node(out, act, node, None)


def neuron_value(w: list[Value], b: Value, act: Op | None, xd: list[float]) -> float:
    """The value :func:`neuron` records, on plain floats (bit-identical), recording nothing."""
    try:
        s = _dot_forward([v._data for v in w], xd, b._data)
        if act is None:
            return s
        return float(act.forward(s, *act.params) if act.params else act.forward(s))  # type: ignore[misc]
    except _DOMAIN_ERRORS:
        return neuron(w, b, act, [_node(x, None, None, None) for x in xd], xd)._data


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
    args = [repr(v._data) for v in inputs] + [f"{p:g}" for p in op.params]
    return f"{op.name}({', '.join(args)})"


def _with_context(err: BaseException, where: str) -> BaseException:
    # Name the op in an error raised by its forward or rule. The built-in domain errors are
    # rebuilt with the context first in the message; any other exception (a subclass such as
    # json.JSONDecodeError from a custom op, with its own fields) is kept as it is, with a note.
    if type(err) in _DOMAIN_ERRORS:
        new = type(err)(f"{where}: {err}")
        new.__cause__ = err.__cause__
        return new
    err.add_note(f"raised in {where}")
    return err


def _apply(op: Op, inputs: tuple[Value, ...]) -> Value:
    n = len(inputs)
    try:
        if n == 1 and not op.params:
            data = op.forward(inputs[0]._data)  # type: ignore[misc]  # the common case, unpacked
        else:
            data = op.forward(*[v._data for v in inputs], *op.params)  # type: ignore[misc]
    except _DOMAIN_ERRORS as err:
        raise _with_context(err, _call_text(op, inputs)) from None
    try:
        data = float(data)
    except (TypeError, ValueError):
        raise TypeError(
            f"{op.describe()}: forward returned {type(data).__name__} {data!r:.60}, not a number"
        ) from None
    if n == 1:
        return _record(data, op, inputs[0])
    if n == 2 and op.arity == 2:
        return _record(data, op, inputs[0], inputs[1])
    return _record(data, op, inputs, _NARY)


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


def _no_number(what: str) -> Callable[..., Any]:
    # implicit conversions (float(v), math.sin(v), int(v), round(v), ...) would drop the graph
    def refuse(self: Value, *args: object) -> Any:
        raise TypeError(
            f"{what} of a Value would drop its graph and its gradient: use Value"
            f".data for the number ({self._data!r}), or the Value's own method to differentiate "
            "through it (x.sin(), x.exp(), x.log(), x.tanh(), ...)"
        )

    refuse.__name__ = f"__{what.split('(')[0]}__"
    return refuse


# with the accelerator, Value's base holds the node slots in C, untracked by the collector
if TYPE_CHECKING or _speedups is None:  # noqa: SIM108 - mypy needs the if to see the base
    _Node = object
else:
    _Node = _speedups.Node


class Value(_Node):
    """A scalar that remembers how it was computed, so gradients can flow back through it.

    ``Value(data, label="x")`` makes a leaf. Arithmetic with other values or plain numbers
    (``+ - * / **``, unary ``-``, ``abs``, reflected forms) and the methods below make new
    nodes recording their op and parents. ``.grad`` stays ``0.0`` until a ``backward()``.
    ``==`` and ``hash`` are identity, so values can be dict keys and set members; ``<``,
    ``<=``, ``>``, ``>=`` compare ``.data`` and return plain ``bool``. ``bool`` is rejected as
    data and as an operand: ``True + x`` is almost always a bug, write ``1.0``. ``float(v)``
    and ``math.sin(v)`` are refused too (they would silently drop the graph): use ``v.data``
    or ``v.sin()``.

    micrograd's constructor works as written there: ``Value(data, _children, _op, label=...)``
    records a node with those parents whose local-gradient rule is the closure you assign to
    ``out._backward`` (see :attr:`_backward`); ``v._prev`` and ``v._op`` read as in micrograd.
    """

    # with the accelerator the slots are its Node's (the same names)
    __slots__ = (
        ("_a", "_b", "_data", "_e", "_fn", "_g", "_grad", "_label", "_s") if _Node is object else ()
    )
    __array_ufunc__ = None  # numpy scalars defer to our reflected operators

    _data: float
    _grad: float | None
    _label: str
    _fn: Op | None
    _a: Any
    _b: Any
    _g: Any
    _s: Any
    _e: int

    def __init__(
        self,
        data: Number,
        _children: Iterable[Value] = (),
        _op: str = "",
        label: str = "",
    ) -> None:
        plain = _children.__class__ is tuple and not _children and not _op
        if not (plain and label.__class__ is str):
            _check_arguments(data, _children, _op, label)
        self._data = data if data.__class__ is float else _as_float(data, "Value")
        self._grad = 0.0
        self._label = label
        self._fn = None
        self._a = None
        self._b = None
        self._g = None
        self._s = None
        self._e = _epoch
        if label.__class__ is not str:
            _track(self)
        if not plain and grad_enabled():  # under no_grad, as for every op: a leaf
            parents = _children_of(_children)
            if parents:
                _set_parents(self, parents)
                self._fn = _closure_op(self, _op, None)
                _track(self)  # its op's rule holds the node: a cycle

    # ------------------------------------------------------------------ the numbers

    @property
    def data(self) -> float:
        """The number this value holds (a float). Only a leaf's can be changed (see above)."""
        return self._data

    @data.setter
    def data(self, x: Number) -> None:
        global _epoch
        if self._a is not None:
            raise AttributeError(
                f"cannot set .data of {_describe(self)}: it is computed by {self._fn.name} from "  # type: ignore[union-attr]
                "its inputs; change a leaf's .data and build the graph again, or make a new "
                "leaf from the number: Value(x.data)"
            )
        f = x if x.__class__ is float else _as_float(x, "Value.data")
        _epoch += 1
        self._e = _epoch
        self._data = f

    @property
    def grad(self) -> float | None:
        """d root / d self, summed over every ``backward()`` since it was last reset.

        ``0.0`` for a new value; ``None`` is accepted too and means "no gradient yet" (PyTorch's
        convention): ``backward()`` counts it as zero.
        """
        return self._grad

    @grad.setter
    def grad(self, g: Number | None) -> None:
        if g is None or g.__class__ is float:
            self._grad = g
        else:
            self._grad = _as_float(g, "Value.grad (a number, or None for no gradient yet)")

    @property
    def label(self) -> str:
        """A name shown in diagrams, traces and messages (``""`` for none)."""
        return self._label

    @label.setter
    def label(self, text: str) -> None:
        if not isinstance(text, str):
            raise TypeError(f"Value.label must be a str, got {type(text).__name__} {text!r:.40}")
        if text.__class__ is not str:
            _track(self)  # a str subclass may refer to anything
        self._label = text

    # ------------------------------------------------------------------ introspection

    @property
    def op(self) -> str:
        """Name of the op that made this node, ``""`` for a leaf (``"pow"`` for ``x ** 2``)."""
        return "" if self._fn is None else self._fn.name

    @property
    def primitive(self) -> Op | None:
        """The op-table entry (with bound params) that made this node; ``None`` for a leaf."""
        return self._fn

    @property
    def parents(self) -> tuple[Value, ...]:
        """The inputs of the op that made this node, in argument order (empty for a leaf)."""
        return _parents(self)

    @property
    def _prev(self) -> frozenset[Value]:
        """micrograd's name for the parents: the set of values this one was computed from."""
        return frozenset(_parents(self))

    @property
    def _op(self) -> str:
        """micrograd's op string (``'+'``, ``'*'``, ``'**2'``, ``'ReLU'``); ``''`` for a leaf."""
        return micrograd_spelling(self._fn)

    @property
    def _backward(self) -> Callable[[], None]:
        """micrograd's local-gradient step: add ``self.grad`` times each local derivative to each
        parent's ``.grad``.

        Calling ``v._backward()`` node by node, from the output back, is the manual
        step-through of micrograd's lecture; it uses the same rule (and the same arithmetic) as
        ``backward()``. Assign a closure to build an op micrograd-style: ``out = Value(f(x.data),
        (x,), 'f')`` then ``out._backward = fn``, where ``fn()`` reads ``out.grad`` and adds
        into ``x.grad``. ``backward()``, traces, diagrams and ``check_graph`` then use ``fn`` as
        that node's rule. A float closure has no derivative of its own, so
        ``grad(create_graph=True)`` through such a node raises.
        """
        op = self._fn
        if op is not None and op.closure is not None:
            return op.closure
        return _LocalStep(self)

    @_backward.setter
    def _backward(self, fn: Callable[[], Any]) -> None:
        if not callable(fn):
            raise TypeError(f"_backward must be a function of no arguments, got {fn!r:.40}")
        if self._a is None:
            raise ValueError(
                f"cannot set _backward of {_describe(self)}: it is a leaf, with no parents to "
                "pass a gradient on to; build the node as Value(data, (parents...), 'op')"
            )
        self._fn = _closure_op(self, micrograd_spelling(self._fn), fn)
        _track(self)  # the closure may refer to the node: a cycle the collector must free

    def local_grads(self) -> list[float]:
        """Return d self / d parent for each parent, from the op table's rule (``[]`` for a leaf).

        This is the node's local-gradient rule applied to its recorded inputs with an upstream
        gradient of 1: exactly the numbers the chain rule multiplies by in ``backward()``.
        """
        op = self._fn
        if op is None:
            return []
        return list(
            op.derivative(
                FLOAT_MATH, 1.0, self._data, *[p._data for p in _parents(self)], *op.params
            )
        )

    def __repr__(self) -> str:
        label = f", label={self._label!r}" if self._label else ""
        op = f", op={self.op!r}" if self._fn is not None else ""
        return f"Value(data={self._data!r}, grad={self._grad!r}{op}{label})"

    __float__ = _no_number("float()")
    __int__ = _no_number("int()")
    __index__ = _no_number("use as an integer")
    __complex__ = _no_number("complex()")
    __round__ = _no_number("round()")
    __trunc__ = _no_number("math.trunc()")
    __floor__ = _no_number("math.floor()")
    __ceil__ = _no_number("math.ceil()")

    def __format__(self, spec: str) -> str:
        return format(self._data, spec) if spec else repr(self)

    def __lt__(self, other: Operand) -> bool:
        return self._data < _data(other, "<")

    def __le__(self, other: Operand) -> bool:
        return self._data <= _data(other, "<=")

    def __gt__(self, other: Operand) -> bool:
        return self._data > _data(other, ">")

    def __ge__(self, other: Operand) -> bool:
        return self._data >= _data(other, ">=")

    # ------------------------------------------------------------------ primitives

    def __add__(self, other: Operand) -> Value:
        if other.__class__ is not Value:
            other = _lift(other, "+")
        return _record(self._data + other._data, ADD, self, other)

    def __mul__(self, other: Operand) -> Value:
        if other.__class__ is not Value:
            other = _lift(other, "*")
        return _record(self._data * other._data, MUL, self, other)

    def __neg__(self) -> Value:
        return _record(-self._data, NEG, self)

    def __pow__(self, other: Operand) -> Value:
        if other.__class__ is Value:
            return _apply(POW, (self, other))
        return _apply(_bind(POW_CONST, _as_float(other, "**")), (self,))

    def __abs__(self) -> Value:
        return _record(abs(self._data), ABS, self)

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
        inputs must fit the op's arity rule (exactly ``arity``; for an n-ary op at least one,
        and what its ``accepts`` allows: ``dot`` takes an odd number).
        """
        if not isinstance(op, Op):
            raise TypeError(f"Value.apply: expected an Op, got {type(op).__name__}")
        if op.closure is not None:
            raise TypeError(f"Value.apply: {op.symbol!r} is the op of one micrograd-style node")
        op.check_arity(len(inputs))
        return _apply(op, tuple(_lift(x, op.name) for x in inputs))

    # ------------------------------------------------------------------ sugar

    def __radd__(self, other: Operand) -> Value:
        return self + _lift(other, "+")  # as micrograd: 0 + x records x + 0 (sum() starts at 0)

    def __sub__(self, other: Operand) -> Value:
        if other.__class__ is Value:
            return self + -other
        # a number: x - c is x + (-c) exactly (negation rounds nothing), one node fewer
        c = _lift(other, "-")  # a fresh constant leaf
        c._data = -c._data
        return self + c

    def __rsub__(self, other: Operand) -> Value:
        return _lift(other, "-") + -self

    def __rmul__(self, other: Operand) -> Value:
        return self * _lift(other, "*")  # as micrograd: 2 * x records x * 2

    def __truediv__(self, other: Operand) -> Value:
        other = _lift(other, "/")
        if other._data == 0.0:
            raise ZeroDivisionError(f"/: division by zero ({self._data!r} / {other._data!r})")
        return self * other**-1.0

    def __rtruediv__(self, other: Operand) -> Value:
        lifted = _lift(other, "/")  # the operand's type first: 'abc' / Value(0) is a TypeError
        if self._data == 0.0:
            raise ZeroDivisionError(f"/: division by zero ({other!r} / {self._data!r})")
        return lifted * self**-1.0

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
        names the op and the value and no ``.grad`` is changed; the same if a leaf's ``.data``
        changed after the graph was built from it. Safe to call from several threads at once.
        """
        seed = _as_float(grad, "backward grad")
        _backprop.backward(self, seed)

    # ------------------------------------------------------------------ pickling

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        return _serial.reduce_value(self)

    def __copy__(self) -> Value:
        return _serial.copy_value(self)


if _speedups is not None:
    # The accelerator records Value + Value, Value * Value and the same with a float itself
    # (the reflected forms too); anything else it hands to these methods, which stay the
    # reference. Without them in Value's own dict, Python calls its C slots directly.
    _speedups.setup(
        Value,
        globals(),
        _NARY,
        ADD,
        MUL,
        NEG,
        EXP,
        LOG,
        RELU,
        DOT,
        SUM,
        Value.__add__,
        Value.__radd__,
        Value.__mul__,
        Value.__rmul__,
    )
    for _name in ("__add__", "__radd__", "__mul__", "__rmul__"):
        delattr(Value, _name)
    _node = _speedups.node


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
    return _node(_as_float(x, op), None, None, None)


def _data(x: object, op: str) -> float:
    return x._data if x.__class__ is Value else _as_float(x, op)


def data_of(values: Iterable[Value]) -> list[float]:
    """Return the ``.data`` of each value, as a list of floats (fast: no property call each)."""
    return [v._data for v in values]


def grads_of(values: Iterable[Value]) -> list[float | None]:
    """Return the ``.grad`` of each value, as a list (fast: no property call each)."""
    return [v._grad for v in values]


def assign_data(leaves: Sequence[Value], numbers: Sequence[float]) -> None:
    """Set ``leaves[i].data = numbers[i]`` for every i, all or nothing (an optimizer's update).

    Every number is checked (a real number, not bool) and every value must be a leaf before
    anything changes; an interrupt while assigning lets the assignment finish first. One call
    costs far less than a property assignment per parameter.
    """
    vs = list(leaves)
    xs = [x if x.__class__ is float else _as_float(x, "assign_data") for x in numbers]
    if len(vs) != len(xs):
        raise ValueError(f"assign_data: {len(vs)} values but {len(xs)} numbers")
    for v in vs:
        if v.__class__ is not Value:
            raise TypeError(f"assign_data: expected Values, got {type(v).__name__}")
        if v._a is not None:
            raise AttributeError(f"assign_data: {_describe(v)} is computed, not a leaf")
    global _epoch
    _epoch += 1
    e = _epoch
    try:
        for v, x in zip(vs, xs, strict=True):
            v._data = x
            v._e = e
    except BaseException:
        while True:  # inline: a second interrupt only restarts the (repeatable) assignment
            try:
                for v, x in zip(vs, xs, strict=True):
                    v._data = x
                    v._e = e
                break
            except BaseException:
                continue
        raise


def fill_grad(values: Iterable[Value], g: float | None = 0.0) -> None:
    """Set every value's ``.grad`` to ``g`` (``0.0``, or ``None`` for "no gradient yet"), all or
    nothing: the ``zero_grad`` of optimizers and modules, in one call."""
    if g is not None:
        g = _as_float(g, "fill_grad")
    vs = list(values)
    for v in vs:
        if v.__class__ is not Value:
            raise TypeError(f"fill_grad: expected Values, got {type(v).__name__}")
    try:
        for v in vs:
            v._grad = g
    except BaseException:
        while True:  # inline: a second interrupt only restarts the (repeatable) assignment
            try:
                for v in vs:
                    v._grad = g
                break
            except BaseException:
                continue
        raise


def mark_composite(out: Value, name: str, inputs: Iterable[object]) -> Value:
    """Mark ``out``, just made by a library composite (a loss), as that composite's result.

    ``name`` is what diagrams and step-throughs call the composite (``bce``) and ``inputs`` the
    arguments it was applied to (the Values among them are kept, in order, once each). Nothing
    a pass computes changes: ``out``'s op is replaced by an identical op carrying the mark, so
    a view can show the composite as one node with those inputs, or open it. Returns ``out``;
    a leaf (a composite of constants) and a value made with recording off are left unmarked.
    """
    op = out._fn
    if op is None or op.composite is not None:
        return out
    seen: set[int] = set()
    kept: list[Value] = []
    for x in inputs:
        if isinstance(x, Value) and id(x) not in seen:
            seen.add(id(x))
            kept.append(x)
    out._fn = op.as_composite(name, tuple(kept))
    return out


def _describe(v: Value) -> str:
    # how messages name a node: its label if it has one, and what it holds
    name = f"{v._label!r} " if v._label else ""
    return f"{name}(Value(data={v._data!r}))"


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
        return x._data if isinstance(x, Value) else x


VALUE_MATH = _ValueMath()


def values(xs: Iterable[Operand], where: str = "values") -> list[Value]:
    """Return ``xs`` as a list of Values, lifting numbers to leaves; TypeError otherwise."""
    if isinstance(xs, (set, frozenset, dict)):
        raise TypeError(
            f"{where}: expected a list or tuple of values, got a {type(xs).__name__} "
            "(its order is arbitrary: the result would depend on it)"
        )
    try:
        items = iter(xs)
    except TypeError:
        raise TypeError(
            f"{where}: expected a list or tuple of values, got {type(xs).__name__}"
        ) from None
    return [_lift(x, where) for x in items]


# ------------------------------------------------------------------------- micrograd's surface


def micrograd_spelling(op: Op | None) -> str:
    """Return how micrograd (and its lecture) writes ``op``: ``'+'``, ``'*'``, ``'ReLU'``.

    ``''`` for a leaf.

    ``''`` for a leaf; ops micrograd does not have keep their own symbol (``'tanh'``,
    ``'exp'``, ``'Σ'``); a micrograd-style node keeps the string it was built with.
    """
    if op is None:
        return ""
    if op.closure is not None:
        return op.symbol
    if op is RELU:
        return "ReLU"
    if op.name == "pow" and op.params:
        c = op.params[0]
        return f"**{int(c) if c.is_integer() and abs(c) < 2**53 else c}"
    return op.symbol


def _check_arguments(data: object, children: object, op: object, label: object) -> None:
    # the arguments of Value(...) beyond a plain leaf's: micrograd's _children and _op
    if isinstance(children, (str, bytes)):
        raise TypeError(
            f"Value: the second argument is _children (the values this one is computed "
            f"from, as in micrograd), got the string {children!r:.40}; give a label by "
            f"keyword: Value({data!r:.20}, label={children!r:.40})"
        )
    if not isinstance(op, str):
        raise TypeError(f"Value: _op must be a str such as '+' or 'exp', got {op!r:.40}")
    if not isinstance(label, str):
        raise TypeError(f"Value: label must be a str, got {type(label).__name__}")
    if op and not _children_of(children):
        raise ValueError(f"Value: _op {op!r} given without _children: a leaf has no op")


def _children_of(children: object) -> tuple[Value, ...]:
    # micrograd's _children: any iterable of Values; a value listed twice is one parent
    if isinstance(children, Value) or not isinstance(children, Iterable):
        raise TypeError(
            f"Value: _children must be a tuple of Values (the parents), got "
            f"{type(children).__name__}"
        )
    parents = tuple(dict.fromkeys(children))
    for p in parents:
        if not isinstance(p, Value):
            raise TypeError(f"Value: _children must hold Values, got {type(p).__name__} {p!r:.40}")
    return parents


def _set_parents(v: Value, parents: tuple[Value, ...]) -> None:
    if len(parents) == 1:
        v._a, v._b = parents[0], None
    elif len(parents) == 2:
        v._a, v._b = parents
    else:
        v._a, v._b = parents, _NARY


def _noop() -> None:
    # micrograd's default _backward: a node that passes nothing on
    return None


def _closure_op(node: Value, spelling: str, fn: Callable[[], Any] | None) -> Op:
    # The op of a micrograd-style node: the user's closure is its rule. Its float forward is
    # known when the op string names a table op that gives the node's data back (the lecture's
    # own tanh formula agrees with math.tanh to a few ulps), so check_graph can check it.
    parents = _parents(node)
    forward = _forward_named(spelling, [p._data for p in parents], node._data)
    closure = fn if fn is not None else _noop
    return Op(
        spelling or "closure",
        len(parents),
        forward,
        _ClosureRule(node, closure),
        symbol=spelling or "closure",
        closure=closure,
    )


def _forward_named(spelling: str, inputs: list[float], data: float) -> Callable[..., float] | None:
    op: Op | None = None
    if spelling.startswith("**") and len(inputs) == 1:
        try:
            op = POW_CONST.bind(float(spelling[2:]))
        except ValueError:
            op = None
    elif spelling in ("ReLU", "relu") and len(inputs) == 1:
        op = RELU
    else:
        for candidate in OPS.values():
            if spelling in (candidate.name, candidate.symbol) and candidate.arity == len(inputs):
                op = candidate
                break
    if op is None or op.forward is None:
        return None
    base, params = op.forward, op.params
    try:
        agrees = math.isclose(base(*inputs, *params), data, rel_tol=1e-9, abs_tol=1e-300)
    except (ArithmeticError, ValueError, TypeError):
        return None
    if not agrees:
        return None
    return (lambda *xs: base(*xs, *params)) if params else base


class _ClosureRule:
    # The derivative rule of a micrograd-style node: run the user's closure with the node's
    # .grad set to the upstream gradient and each parent's .grad at 0, read what it added,
    # and put every .grad back as it was. The pass holds its lock, so no other pass sees the
    # temporary values.

    __slots__ = ("fn", "node")

    def __init__(self, node: Value, fn: Callable[[], Any]) -> None:
        self.node = node
        self.fn = fn

    def __call__(self, m: Any, g: Any, out: Any, *inputs: Any) -> list[Any]:
        node = self.node
        if m is not FLOAT_MATH:
            raise TypeError(
                f"grad(create_graph=True) through the micrograd-style node {node._fn.symbol!r} "  # type: ignore[union-attr]
                f"{_describe(node)}: its _backward closure works on floats and has no "
                "derivative of its own; build it from micrograd_like's ops (or define_op) to "
                "take gradients of gradients"
            )
        parents = _parents(node)
        saved = [(v, v._grad) for v in (node, *parents)]
        try:
            node._grad = g
            for p in parents:
                p._grad = 0.0
            self.fn()
            added = [p._grad for p in parents]
        finally:
            # put every .grad back, inline so that a second interrupt only restarts this
            while True:
                try:
                    for v, old in saved:
                        v._grad = old
                    break
                except BaseException:
                    continue
        for p, c in zip(parents, added, strict=True):
            if c.__class__ is not float:
                raise TypeError(
                    f"_backward of {node._fn.symbol!r} {_describe(node)} left the .grad of "  # type: ignore[union-attr]
                    f"its parent {_describe(p)} as {c!r:.40}, not a number"
                )
        return added


def _settle(fn: Callable[..., None], *args: Any) -> None:
    """Run ``fn(*args)``, an idempotent clean-up, to completion even if interrupted meanwhile.

    A ``KeyboardInterrupt`` (or any exception) raised while it runs makes it run again from the
    start, up to 100 times; the first such exception is raised once the clean-up is complete.
    """
    pending: BaseException | None = None
    for _ in range(100):
        try:
            fn(*args)
            break
        except BaseException as err:
            pending = pending or err
    if pending is not None:
        raise pending


class _LocalStep:
    # what v._backward returns for a node made by a table op: micrograd's closure, computed
    # from the op's rule (the node is held here, never by the node itself)

    __slots__ = ("node",)

    def __init__(self, node: Value) -> None:
        self.node = node

    def __call__(self) -> None:
        node = self.node
        op = node._fn
        if op is None:
            return  # a leaf passes nothing on
        parents = _parents(node)
        g = 0.0 if node._grad is None else node._grad
        try:
            added = op.derivative(
                FLOAT_MATH, g, node._data, *[p._data for p in parents], *op.params
            )
        except _DOMAIN_ERRORS as err:
            raise _with_context(err, f"_backward of {_call_text(op, parents)}") from None
        for p, c in zip(parents, added, strict=True):
            p._grad = c if p._grad is None else p._grad + c  # x * x: x gets both additions

    def __repr__(self) -> str:
        return f"<_backward of {_describe(self.node)}>"


# the backward pass and pickling live in their own modules of the engine's layer; they use the
# names above, so they are imported once those exist
from micrograd_like import _serial  # noqa: E402
from micrograd_like import backprop as _backprop  # noqa: E402
from micrograd_like.backprop import topological_order  # noqa: E402
