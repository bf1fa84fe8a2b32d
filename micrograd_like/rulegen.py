"""Python source for each op's forward and derivative rule, generated from the op table.

The compiled replay (:mod:`micrograd_like.replay`) writes a graph's forward and backward pass
out as straight-line Python. It takes each op's code from the op table itself, so the two can
never disagree:

* **Derivative rules are traced symbolically.** A rule is written in the engine's own
  arithmetic (``g * (1.0 - out * out)``), so calling it with placeholder objects that record
  every operation yields its text, with the float operations in exactly the order the rule
  performs them. A branch (``1.0 if m.value(x) > 0.0 else 0.0``) is followed both ways and
  becomes a conditional expression. A rule that does anything else (calls ``math`` directly,
  inspects types, branches too often) is not inlined: the generated code calls the rule
  itself, as ``backward()`` does.
* **Forwards** of the built-in ops that are one float operation (``+``, ``*``, ``exp``, ...)
  are spelled inline; the others are called. Every inline spelling is tested against the
  table's forward (``tests/test_replay.py``), at both signs, kinks, zeros, infinities and NaN.

Either way the generated code does the same float operations as the engine, in the same
order, so a replay is bit-identical to ``backward()``.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from micrograd_like.ops import FLOAT_MATH, Op, exact_sum, get_op

__all__ = ["ForwardCode", "RuleCode", "forward_code", "literal", "rule_code"]

# Operator precedence, Python's, lowest first: where an operand needs parentheses.
_COND, _CMP, _ADD, _MUL, _UNARY, _POW, _ATOM = 1, 5, 6, 7, 8, 9, 10
_MAX_PATHS = 16  # a rule with more branches than this is called, not inlined
_MAX_TEXT = 4000  # nor one whose text grows past this (shared subexpressions repeat)


def literal(x: float | int) -> tuple[str, int]:
    """Python source for a number, exact (repr round-trips) and its precedence; names the
    special values (``inf``, ``nan``, bound by the generated module)."""
    if isinstance(x, float):
        if math.isnan(x):
            return "nan", _ATOM
        if math.isinf(x):
            return ("inf", _ATOM) if x > 0 else ("-inf", _UNARY)
        text = repr(x)
    else:
        text = repr(int(x))
    return (text, _UNARY) if text.startswith("-") else (text, _ATOM)


class _NotSymbolic(Exception):
    """The rule did something a symbolic trace cannot follow."""


class _Sym:
    """An expression built by a rule on placeholders: its source text and precedence.

    ``risky`` says whether evaluating it can raise (a division, a power or a call can; ``+``,
    ``-``, ``*`` and comparisons of floats never do).
    """

    __slots__ = ("prec", "risky", "text")

    def __init__(self, text: str, prec: int = _ATOM, risky: bool = False) -> None:
        self.text = text
        self.prec = prec
        self.risky = risky

    # arithmetic, as the float operations the rule performs ------------------------------

    def _bin(self, other: object, op: str, prec: int, reflected: bool, risky: bool) -> _Sym:
        o = _operand(other)
        left, right = (o, self) if reflected else (self, o)
        if op == "*" and "1.0" in (left.text, right.text):
            # x * 1.0 is x itself, bit for bit, for every float (relu's step, abs's sign)
            return right if left.text == "1.0" else left
        if op == "**":
            # right-associative, and binds tighter than a unary minus on its left
            lt = _paren(left, left.prec <= _POW)
            rt = _paren(right, right.prec < _UNARY)
        else:
            lt = _paren(left, left.prec < prec)
            rt = _paren(right, right.prec <= prec)  # keeps a + (b + c) in its order
        return _Sym(f"{lt} {op} {rt}", prec, risky or left.risky or right.risky)

    def __add__(self, o: object) -> _Sym:
        return self._bin(o, "+", _ADD, False, False)

    def __radd__(self, o: object) -> _Sym:
        return self._bin(o, "+", _ADD, True, False)

    def __sub__(self, o: object) -> _Sym:
        return self._bin(o, "-", _ADD, False, False)

    def __rsub__(self, o: object) -> _Sym:
        return self._bin(o, "-", _ADD, True, False)

    def __mul__(self, o: object) -> _Sym:
        return self._bin(o, "*", _MUL, False, False)

    def __rmul__(self, o: object) -> _Sym:
        return self._bin(o, "*", _MUL, True, False)

    def __truediv__(self, o: object) -> _Sym:
        return self._bin(o, "/", _MUL, False, True)

    def __rtruediv__(self, o: object) -> _Sym:
        return self._bin(o, "/", _MUL, True, True)

    def __pow__(self, o: object) -> _Sym:
        return self._bin(o, "**", _POW, False, True)

    def __rpow__(self, o: object) -> _Sym:
        return self._bin(o, "**", _POW, True, True)

    def __neg__(self) -> _Sym:
        return _Sym(f"-{_paren(self, self.prec < _UNARY)}", _UNARY, self.risky)

    def __pos__(self) -> _Sym:
        return _Sym(f"+{_paren(self, self.prec < _UNARY)}", _UNARY, self.risky)

    def __abs__(self) -> _Sym:
        return _Sym(f"abs({self.text})", _ATOM, self.risky)

    # comparisons: a condition whose outcome the explorer chooses --------------------------

    def _cmp(self, other: object, op: str) -> _Cond:
        o = _operand(other)
        return _Cond(
            f"{_paren(self, self.prec <= _CMP)} {op} {_paren(o, o.prec <= _CMP)}",
            self.risky or o.risky,
        )

    def __lt__(self, o: object) -> _Cond:
        return self._cmp(o, "<")

    def __le__(self, o: object) -> _Cond:
        return self._cmp(o, "<=")

    def __gt__(self, o: object) -> _Cond:
        return self._cmp(o, ">")

    def __ge__(self, o: object) -> _Cond:
        return self._cmp(o, ">=")

    def __eq__(self, o: object) -> _Cond:  # type: ignore[override]
        return self._cmp(o, "==")

    def __ne__(self, o: object) -> _Cond:  # type: ignore[override]
        return self._cmp(o, "!=")

    __hash__ = None  # type: ignore[assignment]

    # anything that needs the number itself cannot be traced -----------------------------

    def __bool__(self) -> bool:
        raise _NotSymbolic("truth value of a placeholder")

    def __float__(self) -> float:
        raise _NotSymbolic("float() of a placeholder")

    def __index__(self) -> int:
        raise _NotSymbolic("a placeholder used as an int")


class _Cond:
    """A comparison; ``bool()`` of it asks the current explorer which way to go."""

    __slots__ = ("risky", "text")

    def __init__(self, text: str, risky: bool) -> None:
        self.text = text
        self.risky = risky

    def __bool__(self) -> bool:
        explorer = _state.explorer
        if explorer is None:
            raise _NotSymbolic("a condition outside a traced rule")
        return explorer.decide(self.text, self.risky)


def _operand(x: object) -> _Sym:
    if isinstance(x, _Sym):
        return x
    if isinstance(x, (float, int)) and not isinstance(x, bool):
        return _Sym(*literal(x))
    raise _NotSymbolic(f"operand of type {type(x).__name__}")


def _paren(s: _Sym, needed: bool) -> str:
    return f"({s.text})" if needed else s.text


class _Explorer:
    """Chooses branch outcomes: those of ``prefix`` first, then True, recording the path."""

    def __init__(self, prefix: list[bool], risky: set[str]) -> None:
        self.prefix = prefix
        self.path: list[tuple[str, bool]] = []
        self.risky = risky  # conditions whose evaluation may raise

    def decide(self, text: str, risky: bool) -> bool:
        if risky:
            self.risky.add(text)
        i = len(self.path)
        choice = self.prefix[i] if i < len(self.prefix) else True
        self.path.append((text, choice))
        if len(self.path) > _MAX_PATHS:
            raise _NotSymbolic("too many branches")
        return choice


class _State(threading.local):
    explorer: _Explorer | None = None


_state = _State()


class _SymMath:
    """The ``m`` a traced rule receives: each function becomes a call in the text."""

    def __init__(self) -> None:
        self.used: dict[str, Callable[..., Any]] = {}

    def value(self, x: Any) -> Any:
        # FLOAT_MATH.value is the identity on floats, so the placeholder itself
        return x

    def __getattr__(self, name: str) -> Callable[..., _Sym]:
        fn = getattr(FLOAT_MATH, name, None)
        if fn is None or name.startswith("_"):
            raise AttributeError(name)
        self.used[f"m_{name}"] = fn

        def call(*args: Any) -> _Sym:
            texts = ", ".join(_operand(a).text for a in args)
            return _Sym(f"m_{name}({texts})", _ATOM, True)

        return call


# ----------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class RuleCode:
    """An op's derivative rule as text: one ``str.format`` template per input.

    Fields: ``{g}`` the node's gradient, ``{o}`` its value, ``{0}``, ``{1}``, ... its inputs
    (each an atom: a name or a parenthesized literal). ``risky[i]`` says whether template i
    can raise; ``helpers`` are the functions the text calls (``m_cos`` ...). ``templates`` is
    None when the rule could not be traced: the replay then calls ``op.derivative``.
    """

    templates: tuple[str, ...] | None
    risky: tuple[bool, ...]
    helpers: dict[str, Callable[..., Any]]
    why_not: str = ""


_Tree = Any  # ("leaf", outputs) | ("if", text, true_tree, false_tree)


def _run(
    op: Op, n: int, m: _SymMath, prefix: list[bool], risky: set[str], g: str
) -> tuple[list[tuple[str, bool]], Any]:
    explorer = _Explorer(prefix, risky)
    _state.explorer = explorer
    try:
        inputs = [_Sym(f"{{{i}}}") for i in range(n)]
        out = op.derivative(m, _Sym(g), _Sym("{o}"), *inputs, *op.params)
    finally:
        _state.explorer = None
    return explorer.path, out


def _explore(op: Op, n: int, m: _SymMath, risky: set[str], g: str) -> _Tree:
    # every path through the rule's branches, as a decision tree
    runs: list[tuple[list[tuple[str, bool]], Any]] = []
    todo: list[list[bool]] = [[]]
    while todo:
        prefix = todo.pop()
        path, out = _run(op, n, m, prefix, risky, g)
        runs.append((path, out))
        todo.extend([c for _, c in path[:i]] + [False] for i in range(len(prefix), len(path)))
        if len(runs) > _MAX_PATHS:
            raise _NotSymbolic("too many paths")
    return _tree(runs, 0)


def _tree(runs: list[tuple[list[tuple[str, bool]], Any]], depth: int) -> _Tree:
    ends = [r for r in runs if len(r[0]) == depth]
    if ends:
        if len(runs) != 1:
            raise _NotSymbolic("a path ends where another branches")
        return ("leaf", ends[0][1])
    text = runs[0][0][depth][0]
    if any(p[depth][0] != text for p, _ in runs):
        raise _NotSymbolic("paths disagree on a condition")
    yes = [r for r in runs if r[0][depth][1]]
    no = [r for r in runs if not r[0][depth][1]]
    return ("if", text, _tree(yes, depth + 1), _tree(no, depth + 1))


def _render(tree: _Tree, i: int, n: int, risky: set[str]) -> _Sym:
    if tree[0] == "leaf":
        outs = tree[1]
        if isinstance(outs, (str, bytes)) or not isinstance(outs, Sequence) or len(outs) != n:
            raise _NotSymbolic("the rule did not return one value per input")
        return _operand(outs[i])
    _, cond, yes, no = tree
    a, b = _render(yes, i, n, risky), _render(no, i, n, risky)
    if a.text == b.text:
        return a  # comparisons have no effects: a branch that changes nothing goes
    return _Sym(
        f"{_paren(a, a.prec <= _COND)} if {cond} else {_paren(b, b.prec < _COND)}",
        _COND,
        a.risky or b.risky or cond in risky,
    )


_rule_cache: dict[tuple[Any, ...], RuleCode] = {}
_rule_lock = threading.Lock()


def rule_code(op: Op, n: int, *, local: bool = False) -> RuleCode:
    """The derivative rule of ``op`` applied to ``n`` inputs, as text (cached per op kind).

    With ``local`` the upstream gradient is 1.0, so each text is the local derivative d out /
    d input itself (``1.0 - {o} * {o}`` for tanh): for comments a reader follows, not code
    to run (``g * 1.0`` is simplified away, which is exact, but nothing else is).
    """
    key = (op.name, op.forward, op.derivative, op.params, n, local)
    with _rule_lock:
        found = _rule_cache.get(key)
        if found is None:
            found = _rule_cache[key] = _trace_rule(op, n, "1.0" if local else "{g}")
        return found


def _trace_rule(op: Op, n: int, g: str) -> RuleCode:
    m = _SymMath()
    risky: set[str] = set()
    try:
        tree = _explore(op, n, m, risky, g)
        syms = [_render(tree, i, n, risky) for i in range(n)]
    except _NotSymbolic as e:
        return RuleCode(None, (True,) * n, {}, str(e))
    except Exception as e:  # a rule written for floats only: call it instead
        return RuleCode(None, (True,) * n, {}, f"{type(e).__name__}: {e}")
    if any(len(s.text) > _MAX_TEXT for s in syms):
        return RuleCode(None, (True,) * n, {}, "text too long")
    return RuleCode(tuple(s.text for s in syms), tuple(s.risky for s in syms), m.used)


# ----------------------------------------------------------------------------- forwards


@dataclass(frozen=True)
class ForwardCode:
    """How to spell one node's forward: a template over its inputs, or None (call it)."""

    template: Callable[[Sequence[str], tuple[float, ...]], str | None]
    helpers: dict[str, Callable[..., Any]]


def _infix(op: str) -> ForwardCode:
    return ForwardCode(lambda a, p: f"{a[0]} {op} {a[1]}", {})


def _call(name: str, fn: Callable[..., Any]) -> ForwardCode:
    return ForwardCode(lambda a, p: f"{name}({a[0]})", {name: fn})


def _pow_text(a: Sequence[str], p: tuple[float, ...]) -> str | None:
    # x ** c for a whole number c is never complex, and 0 ** -c raises the same
    # ZeroDivisionError as the table's forward; other exponents call the forward itself
    c = p[0]
    if not (math.isfinite(c) and c == int(c)):
        return None
    return f"{a[0]} ** {literal(c)[0]}"


def _dot_text(a: Sequence[str], p: tuple[float, ...]) -> str:
    # inputs w_1..w_n, x_1..x_n, b: the rounded products summed exactly, then + b
    k = len(a) // 2
    products = "".join(f"{w} * {x}, " for w, x in zip(a[:k], a[k : 2 * k], strict=True))
    return f"fsum(({products.rstrip()})) + {a[-1]}"


# C functions whose inline spelling is the very same float operation, keyed by identity: a
# change of an op's forward in the table simply stops matching here.
_BUILTIN_FORWARDS: dict[Any, ForwardCode] = {
    float.__add__: _infix("+"),
    float.__mul__: _infix("*"),
    float.__neg__: ForwardCode(lambda a, p: f"-{a[0]}", {}),
    abs: ForwardCode(lambda a, p: f"abs({a[0]})", {}),
    math.exp: _call("exp", math.exp),
    math.sin: _call("sin", math.sin),
    math.cos: _call("cos", math.cos),
    math.tanh: _call("tanh", math.tanh),
}
# Table forwards written in Python, spelled inline for speed, keyed by the op's name and
# used only for that table entry's own forward. tests/test_replay.py checks each spelling
# against the table at both signs, kinks, zeros, infinities and NaN.
_TABLE_FORWARDS: dict[str, ForwardCode] = {
    # log and sqrt raise ValueError exactly where the table's forward does (the message is
    # the table's: a failing node is evaluated again by the table to report it)
    "log": _call("log", math.log),
    "sqrt": _call("sqrt", math.sqrt),
    "pow": ForwardCode(_pow_text, {}),
    "relu": ForwardCode(lambda a, p: f"0.0 if {a[0]} <= 0.0 else {a[0]}", {}),
    "sum": ForwardCode(lambda a, p: f"fsum(({', '.join(a)},))", {"fsum": exact_sum}),
    "dot": ForwardCode(_dot_text, {"fsum": exact_sum}),
}


def forward_code(op: Op) -> ForwardCode | None:
    """The inline spelling of ``op``'s forward, or None when the replay must call it."""
    found = _BUILTIN_FORWARDS.get(op.forward)
    if found is not None:
        return found
    spelled = _TABLE_FORWARDS.get(op.name)
    if spelled is not None:
        try:
            if get_op(op.name).forward is op.forward:
                return spelled
        except KeyError:
            return None
    return None
