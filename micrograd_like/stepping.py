"""Step-by-step traces of the forward and backward passes, with the chain rule written out."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from micrograd_like._validate import a_value
from micrograd_like.engine import StepRecord, Value, _as_float, run_pass, topological_order
from micrograd_like.ops import Op

__all__ = [
    "BackwardStep",
    "ForwardStep",
    "ParentUpdate",
    "gradients_at",
    "node_names",
    "trace_backward",
    "trace_forward",
]

# an n-ary node (a sum of 1000 terms) lists this many inputs in its equation, then a count
_MAX_ARGS = 8
# names that read unambiguously right after a "d" (dL/dx1); others get parentheses: dL/d(w 1)
_PLAIN_NAME = re.compile(r"[A-Za-z_][\w']*\Z")
_TEX_ESCAPES = {
    "\\": r"\backslash ",
    "{": r"\{",
    "}": r"\}",
    "_": r"\_",
    "#": r"\#",
    "$": r"\$",
    "%": r"\%",
    "&": r"\&",
    "^": r"\wedge ",
    "~": r"\sim ",
    " ": r"\ ",
}
_TEX_SYMBOLS = {"*": r"\cdot", "Σ": r"\Sigma", "+": "+", "-": "-", "/": "/"}


@dataclass(frozen=True, slots=True)
class ForwardStep:
    """One node of the forward pass, in evaluation order: its op, inputs and computed value.

    ``name`` is the node's label, or a generated ``n<i>`` (see :func:`node_names`); ``op`` is
    the op as a user reads it (``"mul"``, ``"pow(2)"``, ``""`` for a leaf); ``equation`` and
    ``latex`` write the computation out with names and numbers, e.g.
    ``c = a * b = 2.0000 * -3.0000 = -6.0000``.
    """

    index: int
    node: Value
    name: str
    op: str
    inputs: tuple[Value, ...]
    value: float
    equation: str
    latex: str

    @property
    def is_leaf(self) -> bool:
        """Whether this node is an input or constant (no op made it)."""
        return not self.op


@dataclass(frozen=True, slots=True)
class ParentUpdate:
    """One chain-rule addition of a backward step: what one parent of the node receives.

    ``local`` is d node / d parent, ``contribution`` what the rule added to the parent's
    gradient (d root / d node times ``local``), ``before`` and ``after`` the parent's gradient
    around that addition. A parent used twice by one op (``x * x``) gets two updates.
    """

    parent: Value
    name: str
    local: float
    contribution: float
    before: float
    after: float
    equation: str
    latex: str


@dataclass(frozen=True, slots=True)
class BackwardStep:
    """One step of the backward pass: the seed (step 0) or one non-leaf node being processed.

    ``grad`` is d root / d node at that moment, which is final: the pass reaches a node only
    after every node that uses it. ``updates`` holds one :class:`ParentUpdate` per parent (empty
    for the seed). ``equation`` is the plain-text chain rule, one line per parent, and
    ``latex`` the same as one LaTeX math expression (no ``$`` delimiters).
    """

    index: int
    node: Value
    name: str
    grad: float
    updates: tuple[ParentUpdate, ...]
    equation: str
    latex: str

    @property
    def is_seed(self) -> bool:
        """Whether this is step 0, where the root's own gradient is set (d root / d root)."""
        return self.index == 0


def node_names(root: Value) -> dict[Value, str]:
    """Return the name the traces use for every node of ``root``'s graph.

    A node's label when it has one, otherwise ``n<i>`` where ``i`` is its position in
    :func:`~micrograd_like.engine.topological_order`, so names are the same on every run.
    """
    order = topological_order(a_value(root, "node_names: root"))
    return {v: v.label or f"n{i}" for i, v in enumerate(order)}


def _num(x: float, tex: bool = False) -> str:
    # four decimals for everyday magnitudes, scientific notation where those would mislead
    if math.isnan(x) or math.isinf(x):
        text = repr(x)
        return text.replace("inf", r"\infty").replace("nan", r"\mathrm{nan}") if tex else text
    if x == 0.0 or 0.01 <= abs(x) < 1e6:
        return f"{x:.4f}"
    mantissa, exp = f"{x:.4e}".split("e")
    return rf"{mantissa} \times 10^{{{int(exp)}}}" if tex else f"{mantissa}e{exp}"


def _paren(s: str) -> str:
    return f"({s})" if s.startswith("-") else s


def _tex(name: str) -> str:
    # a name as TeX: every character that means something to TeX escaped (labels are data)
    if len(name) == 1 and name.isascii() and name.isalpha():
        return name
    return r"\mathrm{" + _tex_chars(name) + "}"


def _tex_chars(text: str) -> str:
    return "".join(_TEX_ESCAPES.get(ch, ch) for ch in text)


def _tex_symbol(sym: str, binary: bool) -> str:
    # an op's symbol as TeX: the built-in ones as themselves, anything else as escaped text
    if sym in _TEX_SYMBOLS:
        return _TEX_SYMBOLS[sym]
    return (
        (r"\mathbin{\mathrm{" if binary else r"\mathrm{")
        + _tex_chars(sym)
        + ("}}" if binary else "}")
    )


def _call(op: Op, args: Sequence[str], tex: bool) -> str:
    """Write ``op`` applied to ``args`` (names or numbers): ``a * b``, ``-a``, ``tanh(a)``."""
    sym, params = op.symbol, [f"{p:g}" for p in op.params]
    # a symbol reads as an operator (a + b, -a, a ** 2) where it leaves no param out
    if sym != op.name and (op.arity == 2 or (op.arity == 1 and (sym == "**" or not params))):
        if sym == "**":  # x ** y, or x ** c with the exponent a param
            exp = args[1] if op.arity == 2 else params[0]
            return f"{{{_paren(args[0])}}}^{{{exp}}}" if tex else f"{_paren(args[0])} ** {exp}"
        if op.arity == 2:
            right = _paren(args[1]) if tex else args[1]
            return f"{args[0]} {_tex_symbol(sym, True) if tex else sym} {right}"
        return f"{_tex_symbol(sym, False) if tex else sym}{_paren(args[0])}"
    if len(args) > _MAX_ARGS:
        more = len(args) - _MAX_ARGS + 1
        args = [
            *args[: _MAX_ARGS - 1],
            rf"\ldots\ {more}\ \mathrm{{more}}" if tex else f"… {more} more",
        ]
    name = r"\operatorname{" + _tex_chars(op.name) + "}" if tex else op.name
    inner = ", ".join(args) + (f"; {', '.join(params)}" if params else "")
    return rf"{name}\left({inner}\right)" if tex else f"{name}({inner})"


def _forward_step(index: int, v: Value, names: dict[Value, str]) -> ForwardStep:
    name, op, inputs = names[v], v.primitive, v.parents
    text, latex = f"{name} = ", f"{_tex(name)} = "
    if op is not None:
        in_names = [names[p] for p in inputs]
        text += f"{_call(op, in_names, False)} = "
        text += f"{_call(op, [_num(p.data) for p in inputs], False)} = "
        latex += f"{_call(op, [_tex(n) for n in in_names], True)} = "
        latex += f"{_call(op, [_num(p.data, True) for p in inputs], True)} = "
    text, latex = text + _num(v.data), latex + _num(v.data, True)
    describe = "" if op is None else op.describe()
    return ForwardStep(index, v, name, describe, inputs, v.data, text, latex)


def trace_forward(root: Value) -> list[ForwardStep]:
    """Return the forward pass of ``root``'s graph: every node in evaluation order, root last.

    The order is :func:`~micrograd_like.engine.topological_order` (each node after its
    inputs); each step gives the node's op, inputs and value and writes the computation out.
    Nothing is recomputed: the values are the ones the graph recorded.
    """
    names = node_names(a_value(root, "trace_forward: root"))
    return [_forward_step(i, v, names) for i, v in enumerate(names)]


def _d(top: str, name: str, tex: bool) -> str:
    # the derivative symbol d top / d name
    if tex:
        return rf"\frac{{\partial {_tex(top)}}}{{\partial {_tex(name)}}}"
    return f"d{top if _PLAIN_NAME.match(top) else f'({top})'}/d" + (
        name if _PLAIN_NAME.match(name) else f"({name})"
    )


def _backward_step(index: int, rec: StepRecord, names: dict[Value, str], top: str) -> BackwardStep:
    v, name = rec.node, names[rec.node]
    updates = []
    for p, local, c, before, after in zip(
        rec.node.parents, rec.local, rec.contributions, rec.before, rec.after, strict=True
    ):
        pname = names[p]
        text = (
            f"{_d(top, pname, False)} += {_d(top, name, False)} * {_d(name, pname, False)}"
            f" = {_num(rec.grad)} * {_num(local)} = {_num(c)}"
            f"   [{_d(top, pname, False)}: {_num(before)} -> {_num(after)}]"
        )
        latex = (
            rf"{_d(top, pname, True)} \mathrel{{+}}= {_d(top, name, True)} \cdot "
            rf"{_d(name, pname, True)} = {_num(rec.grad, True)} \cdot "
            rf"{_paren(_num(local, True))} = {_num(c, True)}"
            rf" \quad [{_num(before, True)} \to {_num(after, True)}]"
        )
        updates.append(ParentUpdate(p, pname, local, c, before, after, text, latex))
    lines = [u.latex for u in updates]
    latex = (
        lines[0]
        if len(lines) == 1
        else r"\begin{gathered}" + r" \\ ".join(lines) + r"\end{gathered}"
    )
    return BackwardStep(
        index, v, name, rec.grad, tuple(updates), "\n".join(u.equation for u in updates), latex
    )


def trace_backward(root: Value, grad: float = 1.0) -> list[BackwardStep]:
    """Return the steps ``root.backward(grad)`` performs, without changing any ``.grad``.

    The steps come from the engine's own backward pass (``run_pass`` with a trace), so they
    are the real computation, in its order and with its exact numbers. Step 0 is the seed
    (d root / d root = ``grad``); then one step per non-leaf node, so a graph with ``k``
    non-leaf nodes gives ``k + 1`` steps and a lone leaf gives one. A local derivative that is
    not finite raises as ``backward()`` would.
    """
    root = a_value(root, "trace_backward: root")
    seed = _as_float(grad, "trace_backward grad")
    names = node_names(root)
    top = names[root]
    records: list[StepRecord] = []
    nodes = run_pass(root, seed, create_graph=False, trace=records)
    for v in nodes:
        v._g = None
    seed_text = f"{_d(top, top, False)} = {_num(seed)}"
    seed_tex = f"{_d(top, top, True)} = {_num(seed, True)}"
    steps = [BackwardStep(0, root, top, seed, (), seed_text, seed_tex)]
    steps += [_backward_step(i, rec, names, top) for i, rec in enumerate(records, 1)]
    return steps


def gradients_at(steps: Sequence[BackwardStep], index: int) -> dict[Value, float]:
    """Return each node's gradient as the backward pass stands after step ``index``.

    Nodes the pass has not reached yet are missing; a node still waiting for some of its
    users holds its partial sum. After the last step these are exactly the gradients
    ``backward()`` adds to ``.grad``.
    """
    if not 0 <= index < len(steps):
        raise IndexError(f"gradients_at: step {index!r} is out of range 0..{len(steps) - 1}")
    grads: dict[Value, float] = {}
    for step in steps[: index + 1]:
        if step.is_seed:
            grads[step.node] = step.grad
        for u in step.updates:
            grads[u.parent] = u.after
    return grads
