"""The op table: every primitive's name, float forward and local derivative, in one place.

A derivative rule is written once, in the engine's own arithmetic, and serves two passes:

* the fast first-order pass calls it with ``m = FLOAT_MATH`` and plain floats, so
  ``g * (1 - out * out)`` is float arithmetic;
* ``create_graph=True`` calls it with ``m = VALUE_MATH`` (defined by the engine) and ``Value``
  nodes, so the same expression records a differentiable graph of the gradient itself.

A rule receives ``(m, g, out, *inputs, *params)``: the math namespace, the upstream gradient,
the op's output and its inputs, and returns one contribution per input, in input order.
Functions a rule needs beyond ``+ - * / **`` (``exp``, ``cos``, ``sigmoid``, ...) come from
``m`` so they dispatch to floats or to graph-recording ops. ``m.value(x)`` gives the plain
float of either kind, for branches such as ``relu``'s step.

Subtraction, division and reflected operators are not here: they are sugar over these
primitives (``a - b`` is ``a + (-b)``, ``a / b`` is ``a * b ** -1``).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from micrograd_like.engine import Operand, Value

__all__ = ["FLOAT_MATH", "OPS", "Op", "define_op", "exact_sum", "get_op", "undefine_op"]

Forward = Callable[..., float]
Derivative = Callable[..., Sequence[Any]]


class Op:
    """One primitive: its name, arity, float forward and local-derivative rule.

    ``arity`` is the number of ``Value`` inputs, or ``-1`` for an n-ary op (``sum``, ``dot``);
    ``accepts`` optionally narrows an n-ary op's input counts (``dot`` takes an odd number:
    ``w_1..w_n, x_1..x_n, b``) and ``accepts_text`` says which in words.
    ``params`` are plain floats fixed when the op is applied (the exponent of ``x ** 2``, the
    slope of ``leaky_relu``); ``forward`` and ``derivative`` receive them after the inputs.
    ``symbol`` is how diagrams and equations show the op (``+`` for ``add``). An ``Op`` with
    params is made from its table entry by :meth:`bind`, so every node of one kind shares the
    single definition. ``closure`` is set only on the op of a node built micrograd-style
    (``Value(data, (x,), "f")`` with ``_backward`` set): the user's float closure, which then
    is the node's whole derivative rule, and ``forward`` is ``None`` unless the op string names
    a table op that reproduces the node's data.
    """

    __slots__ = (
        "accepts",
        "accepts_text",
        "arity",
        "closure",
        "composite",
        "derivative",
        "forward",
        "name",
        "params",
        "symbol",
    )

    def __init__(
        self,
        name: str,
        arity: int,
        forward: Forward | None,
        derivative: Derivative,
        *,
        symbol: str | None = None,
        params: tuple[float, ...] = (),
        accepts: Callable[[int], bool] | None = None,
        accepts_text: str = "",
        closure: Callable[[], Any] | None = None,
    ) -> None:
        self.name = name
        self.arity = arity
        self.forward = forward
        self.derivative = derivative
        self.symbol = symbol if symbol is not None else name
        self.params = params
        self.accepts = accepts
        self.accepts_text = accepts_text
        self.closure = closure
        self.composite: tuple[str, tuple[Any, ...]] | None = None

    def bind(self, *params: float) -> Op:
        """Return this op with its constant parameters fixed (``pow.bind(2.0)`` is ``x ** 2``).

        The bound op shares the name, forward and derivative of the table entry; only the
        parameters differ, so a diagram still says ``pow`` and a check still finds one rule.
        """
        return self._with(params=tuple(float(p) for p in params), closure=None, composite=None)

    def as_composite(self, name: str, inputs: tuple[Any, ...]) -> Op:
        """Return this op marked as the last op of a library composite (a loss, say).

        The copy computes exactly what this op computes (same forward, same rule, same params);
        ``composite`` records ``(name, inputs)``: the composite's name (``bce``) and the Values
        it was applied to, so diagrams and step-throughs can show the whole composite as one
        node with those inputs, or open it. No pass reads the mark. A pickled node keeps its op
        and loses the mark.
        """
        return self._with(composite=(name, inputs))

    def _with(self, **changes: Any) -> Op:
        # a copy of this op with some slots changed (no __init__, no table lookup)
        op = Op.__new__(Op)
        for slot in Op.__slots__:
            setattr(op, slot, changes[slot] if slot in changes else getattr(self, slot))
        return op

    def describe(self) -> str:
        """Return the op as a user reads it, with its params: ``pow(2)``, ``leaky_relu(0.01)``."""
        if not self.params:
            return self.name
        return f"{self.name}({', '.join(f'{p:g}' for p in self.params)})"

    def check_arity(self, n: int) -> None:
        """Raise ``TypeError`` naming the op unless it takes ``n`` inputs (its arity rule)."""
        if self.arity == -1:
            ok = n >= 1 and (self.accepts is None or self.accepts(n))
            want = self.accepts_text or "at least 1"
        else:
            ok, want = n == self.arity, str(self.arity)
        if not ok:
            raise TypeError(f"{self.describe()}: takes {want} input(s), got {n}")

    def __call__(self, *inputs: Operand) -> Value:
        """Apply the op to values or numbers: ``square(x)`` is ``Value.apply(square, x)``.

        This makes a ``define_op`` primitive read like a built-in function. The arity is
        checked and numbers become constant leaves, exactly as in :meth:`Value.apply`.
        """
        # The engine imports this module, so it is looked up when an op is called (by then
        # it is loaded: the package imports it), never at import time: no import cycle.
        from micrograd_like.engine import Value

        return Value.apply(self, *inputs)

    def __reduce__(self) -> tuple[Any, ...]:
        # an op pickles by its table name (and params): the rule itself is code, found again
        # in the table when the pickle is loaded (a custom op must be defined by then)
        if self.closure is not None:
            raise TypeError(
                f"cannot pickle the op {self.symbol!r} of a micrograd-style node: its _backward "
                "closure is code held by the node; define the op with define_op to pickle it"
            )
        if OPS.get(self.name) is None:
            raise TypeError(
                f"cannot pickle op {self.name!r}: it is not in the op table (was it undefined?)"
            )
        return (_table_op, (self.name, self.params))

    def __repr__(self) -> str:
        return f"Op({self.describe()!r}, arity={self.arity})"


def _table_op(name: str, params: tuple[float, ...]) -> Op:
    # how a pickled op comes back: its table entry, bound again to its params
    op = get_op(name)
    return op.bind(*params) if params else op


class FloatMath:
    """The math namespace for rules evaluated on plain floats (the fast first-order pass)."""

    exp = staticmethod(math.exp)
    log = staticmethod(math.log)
    sin = staticmethod(math.sin)
    cos = staticmethod(math.cos)
    tanh = staticmethod(math.tanh)
    sqrt = staticmethod(math.sqrt)

    @staticmethod
    def sigmoid(x: float) -> float:
        """Logistic function, evaluated without overflow for any finite ``x``."""
        return _sigmoid(x)

    @staticmethod
    def value(x: float) -> float:
        """The plain float of ``x`` (already a float here)."""
        return x


FLOAT_MATH = FloatMath()


# ----------------------------------------------------------------------------- float forwards


def _sigmoid(x: float) -> float:
    # 1 / (1 + e^-x), split by sign so exp never overflows
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _softplus(x: float) -> float:
    # log(1 + e^x) = max(x, 0) + log1p(e^-|x|), exact for large |x|
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def _pow(x: float, y: float) -> float:
    if x == 0.0 and y < 0.0:
        raise ZeroDivisionError("0.0 cannot be raised to a negative power")
    r = x**y
    if isinstance(r, complex):
        raise ValueError("a negative base needs an integer exponent")
    return float(r)


def _log(x: float) -> float:
    if x <= 0.0:
        raise ValueError("log needs a positive number")
    return math.log(x)


def _sqrt(x: float) -> float:
    if x < 0.0:
        raise ValueError("sqrt needs a non-negative number")
    return math.sqrt(x)


def exact_sum(xs: Sequence[float]) -> float:
    """Return the sum of ``xs`` as the ``sum`` op computes it: exact, rounded once (``fsum``).

    Where ``fsum`` refuses (``inf + -inf``, or a partial sum beyond the float range) the answer
    is what adding the floats one by one gives (NaN, or an infinity), the float rules.
    """
    try:
        return math.fsum(xs)
    except (ValueError, OverflowError):
        total = 0.0
        for x in xs:
            total += x
        return total


def _dot(*xs: float) -> float:
    # xs = w_1..w_n, x_1..x_n, b
    n = len(xs) // 2
    return _dot_forward(xs[:n], xs[n : 2 * n], xs[-1])


def _dot_forward(ws: Sequence[float], xs: Sequence[float], b: float) -> float:
    # sum_i w_i x_i + b: the rounded products summed exactly, rounded once (fsum), then + b.
    # The dot op's forward on its inputs split in three; nn calls it directly, unpacked.
    try:
        return math.fsum(map(operator.mul, ws, xs)) + b
    except (ValueError, OverflowError):  # inf - inf, or overflow: as floats do (see exact_sum)
        return exact_sum([w * x for w, x in zip(ws, xs, strict=True)]) + b


def _logsumexp(*xs: float) -> float:
    # log sum e^x_i = top + log sum e^(x_i - top): every exponent <= 0, so nothing overflows
    if any(x != x for x in xs):
        return math.nan  # max() would drop a NaN depending on where it stands
    top = max(xs)
    if math.isinf(top):
        return top  # +inf dominates; all -inf is log 0
    return top + math.log(math.fsum([math.exp(x - top) for x in xs]))


# ----------------------------------------------------------------------------- derivative rules
# Each returns one contribution per input. ``out`` may be reused instead of recomputing.


def _d_dot(m: Any, g: Any, out: Any, *xs: Any) -> list[Any]:
    # d/dw_i = x_i, d/dx_i = w_i, d/db = 1
    n = len(xs) // 2
    local = [g * x for x in xs[n:-1] + xs[:n]]
    local.append(g)
    return local


def _d_pow(m: Any, g: Any, out: Any, x: Any, y: Any) -> tuple[Any, Any]:
    # d/dx x^y = y x^(y-1): 0 at y = 0, where x^0 is constant (also at x = 0, where the
    # formula would divide by zero; only there is the constant 0 used, so away from it the
    # formula's own derivative in y, x^(y-1), is kept for gradients of gradients);
    # d/dy x^y = x^y log x  (x > 0; 0 at x = 0; undefined for x < 0)
    base = m.value(x)
    dy = g * out * m.log(x) if base > 0.0 else 0.0 if base == 0.0 else math.nan
    dx = 0.0 if base == 0.0 and m.value(y) == 0.0 else g * y * x ** (y - 1.0)
    return dx, dy


def _d_pow_const(m: Any, g: Any, out: Any, x: Any, c: float) -> tuple[Any]:
    # d/dx x^c = c x^(c-1); x^0 is constant, so its derivative is 0 everywhere (x = 0 too).
    # Rounded as micrograd rounds it: (c x^(c-1)) g, so the same code gives the same bits.
    return (g * (c * x ** (c - 1.0)) if c != 0.0 else 0.0,)


def _d_silu(m: Any, g: Any, out: Any, x: Any) -> tuple[Any]:
    # silu x = x s(x);  d/dx = s + x s (1 - s)
    s = m.sigmoid(x)
    return (g * (s * (1.0 + x * (1.0 - s))),)


OPS: dict[str, Op] = {}


def define_op(
    name: str,
    arity: int,
    forward: Forward,
    derivative: Derivative,
    *,
    symbol: str | None = None,
    accepts: Callable[[int], bool] | None = None,
    accepts_text: str = "",
) -> Op:
    """Register a new primitive and return it; apply it by calling it: ``op(x, y)``.

    ``forward`` maps input floats (then any params) to a float and raises ``ValueError`` or
    ``ZeroDivisionError`` outside its domain; ``derivative(m, g, out, *inputs, *params)``
    returns one gradient contribution per input, written with ``+ - * / **`` and ``m``'s
    functions so it also works for gradients of gradients. The name must be new: redefining
    an op would silently change every graph that uses it. ``symbol`` (a str) is how diagrams
    show it; an n-ary op (``arity=-1``) may narrow the input counts it takes with ``accepts``
    (a predicate on the count) and say which in ``accepts_text``.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"define_op: op name must be an identifier, got {name!r}")
    if name in OPS:
        raise ValueError(f"define_op: an op named {name!r} already exists")
    if not isinstance(arity, int) or isinstance(arity, bool) or (arity < 1 and arity != -1):
        raise ValueError(f"define_op: arity must be a positive int or -1 (n-ary), got {arity!r}")
    if not callable(forward) or not callable(derivative):
        raise TypeError(f"define_op: forward and derivative of {name!r} must be callable")
    if symbol is not None and (not isinstance(symbol, str) or not symbol):
        raise TypeError(
            f"define_op: symbol of {name!r} must be a non-empty str, got {symbol!r:.60}"
        )
    if accepts is not None and (arity != -1 or not callable(accepts)):
        raise TypeError(f"define_op: accepts of {name!r} must be a callable, for an n-ary op only")
    if not isinstance(accepts_text, str):
        raise TypeError(f"define_op: accepts_text of {name!r} must be a str")
    op = Op(
        name, arity, forward, derivative, symbol=symbol, accepts=accepts, accepts_text=accepts_text
    )
    OPS[name] = op
    return op


def undefine_op(name: str) -> Op:
    """Remove the custom op called ``name`` from the table and return it; built-ins stay.

    Graphs that already use the op keep working (each node holds its ``Op``), only look-ups
    by name stop finding it: ``get_op``, and checks and test strategies that iterate over
    ``OPS``. This is for throwaway definitions, such as a test's deliberately wrong rule or
    a notebook cell run twice, so they neither leak into later code nor block redefinition.
    """
    if name in _BUILTIN:
        raise ValueError(f"undefine_op: {name!r} is a built-in op and cannot be removed")
    if name not in OPS:
        raise KeyError(f"undefine_op: no custom op named {name!r}")
    return OPS.pop(name)


def get_op(name: str) -> Op:
    """Return the table entry called ``name``; ``KeyError`` lists the known ops otherwise."""
    try:
        return OPS[name]
    except KeyError:
        raise KeyError(f"no op named {name!r}; known ops: {', '.join(sorted(OPS))}") from None


# ----------------------------------------------------------------------------- the table

ADD = define_op("add", 2, float.__add__, lambda m, g, out, a, b: (g, g), symbol="+")
MUL = define_op("mul", 2, float.__mul__, lambda m, g, out, a, b: (g * b, g * a), symbol="*")
NEG = define_op("neg", 1, float.__neg__, lambda m, g, out, a: (-g,), symbol="-")
# x ** c for a constant c (a param): d/dx = c x^(c-1)
POW_CONST = define_op("pow", 1, _pow, _d_pow_const, symbol="**")
# x ** y with a Value exponent: gradients for both sides
POW = define_op("vpow", 2, _pow, _d_pow, symbol="**")
# d/dx e^x = e^x
EXP = define_op("exp", 1, math.exp, lambda m, g, out, x: (g * out,))
# d/dx log x = 1/x
LOG = define_op("log", 1, _log, lambda m, g, out, x: (g / x,))
# d/dx sqrt x = 1 / (2 sqrt x)
SQRT = define_op("sqrt", 1, _sqrt, lambda m, g, out, x: (g * 0.5 / out,))
# d/dx sin x = cos x
SIN = define_op("sin", 1, math.sin, lambda m, g, out, x: (g * m.cos(x),))
# d/dx cos x = -sin x
COS = define_op("cos", 1, math.cos, lambda m, g, out, x: (-g * m.sin(x),))
# d/dx tanh x = 1 - tanh^2 x
TANH = define_op("tanh", 1, math.tanh, lambda m, g, out, x: (g * (1.0 - out * out),))
# d/dx sigmoid x = s (1 - s)
SIGMOID = define_op("sigmoid", 1, _sigmoid, lambda m, g, out, x: (g * out * (1.0 - out),))
# d/dx softplus x = sigmoid x
SOFTPLUS = define_op("softplus", 1, _softplus, lambda m, g, out, x: (g * m.sigmoid(x),))
# d/dx relu x = 1 for x > 0, else 0 (the subgradient 0 at the kink)
RELU = define_op(
    "relu",
    1,
    lambda x: 0.0 if x <= 0.0 else x,  # NaN passes through, as for floats
    lambda m, g, out, x: (g * (1.0 if m.value(x) > 0.0 else 0.0),),
)
# d/dx leaky_relu(x; s) = 1 for x > 0, else s
LEAKY_RELU = define_op(
    "leaky_relu",
    1,
    lambda x, s: x if x > 0.0 else s * x,
    lambda m, g, out, x, s: (g * (1.0 if m.value(x) > 0.0 else s),),
)
# d/dx elu(x; a) = 1 for x > 0, else a e^x = out + a
ELU = define_op(
    "elu",
    1,
    lambda x, a: x if x > 0.0 else a * math.expm1(x),
    lambda m, g, out, x, a: (g * (1.0 if m.value(x) > 0.0 else out + a),),
)
# silu x = x sigmoid x
SILU = define_op("silu", 1, lambda x: x * _sigmoid(x), _d_silu)
# d/dx |x| = sign x (0 at the kink)
ABS = define_op(
    "abs",
    1,
    abs,
    lambda m, g, out, x: (g * (1.0 if m.value(x) > 0.0 else -1.0 if m.value(x) < 0.0 else 0.0),),
)
# clamp(x; lo, hi): d/dx = 1 strictly inside [lo, hi], 0 where the bound holds the value
CLAMP = define_op(
    "clamp",
    1,
    lambda x, lo, hi: min(max(x, lo), hi),
    lambda m, g, out, x, lo, hi: (g * (1.0 if lo < m.value(x) < hi else 0.0),),
)
# n-ary sum: every input gets g
SUM = define_op(
    "sum", -1, lambda *xs: exact_sum(xs), lambda m, g, out, *xs: [g] * len(xs), symbol="Σ"
)
# a neuron's weighted sum, inputs (w_1..w_n, x_1..x_n, b): sum_i w_i x_i + b
DOT = define_op(
    "dot",
    -1,
    _dot,
    _d_dot,
    symbol="w·x+b",
    accepts=lambda n: n % 2 == 1,
    accepts_text="an odd number (w_1..w_n, x_1..x_n, b) of",
)
# log-sum-exp, stable: d/dx_i = softmax_i = e^(x_i - out)
LOGSUMEXP = define_op(
    "logsumexp", -1, _logsumexp, lambda m, g, out, *xs: [g * m.exp(x - out) for x in xs]
)

# the ops above are the engine's own; undefine_op removes only ops defined after this point
_BUILTIN = frozenset(OPS)
