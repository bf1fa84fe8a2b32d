"""Step-by-step traces of the forward and backward passes, with the chain rule written out.

Both passes can be shown on the graph as built or with each fused neuron (``dot``) opened
into its products, sum and bias (``expand=True``, see :mod:`~micrograd_like.views`); the
backward trace then steps through one product at a time and still reproduces ``backward()``
bit for bit, because every number in it is the engine's own.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from micrograd_like._validate import a_value, flag
from micrograd_like.backprop import StepRecord, gradients, run_pass
from micrograd_like.engine import Value, _as_float
from micrograd_like.ops import Op
from micrograd_like.views import GraphView

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
# a generated name says what the value is (a*b, tanh(n)) while it stays this short
_MAX_DERIVED = 18
# a name with an operator in it is put in parentheses inside another name: (a+b)*c
_COMPOUND = re.compile(r"^-|.[-+*/ ]")
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

    ``name`` is the node's label, or a generated name (see :func:`node_names`); ``op`` is
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
    op: str = ""  # the op that made the node, as a user reads it ("" for the seed)

    @property
    def is_seed(self) -> bool:
        """Whether this is step 0, where the root's own gradient is set (d root / d root)."""
        return self.index == 0


def node_names(root: Value, *, expand: bool = False) -> dict[Value, str]:
    """Return the name the traces use for every node of ``root``'s graph, in forward order.

    A node's label when it has one. Otherwise a name that says what the value is: a constant
    reads as its number (``3``), an op's result as the op applied to its inputs' names
    (``a*b``, ``tanh(n)``, ``(a+b)**2``) while that stays short, else the op's name and a
    count (``tanh#3``); a neuron's opened products read ``w.0*x.0`` when the weight and input
    names are long. A generated name never repeats another name (``#2`` is added). Names
    depend only on the graph, so they are the same on every run. ``expand`` names the nodes
    of opened neurons too (see :class:`~micrograd_like.views.GraphView`).
    """
    view = GraphView(a_value(root, "node_names: root"), expand=flag(expand, "node_names: expand"))
    return view_names(view)


def _operand(op: Op, name: str) -> str:
    # an input's name inside a generated name, in parentheses only where precedence needs
    # them: a*b+c, (a+b)*c, (a*b)**2, tanh(a+b)
    if not _COMPOUND.search(name) or not _operator_form(op):
        return name
    inner_sum = name.startswith("-") or "+" in name or "-" in name[1:]
    if op.symbol == "+" and not name.startswith("-"):
        return name
    if op.symbol == "*" and not inner_sum:
        return name
    return f"({name})"


def _operator_form(op: Op) -> bool:
    # whether _call writes op as an operator (a + b, -a, a ** 2) rather than a call
    sym = op.symbol
    return sym != op.name and (op.arity == 2 or (op.arity == 1 and (sym == "**" or not op.params)))


def _names(view: GraphView, order: list[Value]) -> dict[Value, str]:
    names: dict[Value, str] = {}
    taken = {v.label for v in order if v.label}
    per_op: Counter[str] = Counter()
    for v in order:
        if v.label:
            names[v] = v.label
            continue
        op = view.op(v)
        if op is None:
            base = f"{v.data:g}"  # a constant (or an unnamed input) reads as its value
        else:
            args = [_operand(op, names[p]) for p in view.parents(v)]
            if op.name == "sum":  # a sum reads as one: a+b+c
                base = "+".join(f"({n})" if n.startswith("-") else n for n in args)
            else:
                base = _call(op, args, False).replace(" ", "")
            if len(base) > _MAX_DERIVED or "…" in base:
                roles = view.roles(v)
                if v in view.part_of and op.name == "mul":
                    base = f"{roles[0]}*{roles[1]}"
                elif v in view.part_of:
                    base = "Σw*x"
                else:  # an opened neuron keeps the name of the op it is (dot)
                    kind = (v.primitive or op).name
                    per_op[kind] += 1
                    base = f"{kind}#{per_op[kind]}"
        name, k = base, 1
        while name in taken:
            k += 1
            name = f"{base}#{k}"
        taken.add(name)
        names[v] = name
    return names


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
    if _operator_form(op):
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


def _forward_step(index: int, v: Value, view: GraphView, names: dict[Value, str]) -> ForwardStep:
    name, op, inputs = names[v], view.op(v), view.parents(v)
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


def forward_order(view: GraphView, order: list[Value]) -> list[Value]:
    """``order`` as the forward pass evaluates it from the inputs: level by level.

    A node's level is its longest distance from a leaf; the leaves (level 0) come first, then
    each node once all its inputs are known, keeping the given order within a level.
    """
    level: dict[Value, int] = {}
    for v in order:
        level[v] = 1 + max((level[p] for p in view.parents(v) if p in level), default=-1)
    return sorted(order, key=level.__getitem__)


def trace_forward(
    root: Value, *, expand: bool = False, skip_leaves: bool = False
) -> list[ForwardStep]:
    """Return the forward pass of ``root``'s graph: every node in evaluation order, root last.

    The order starts from the inputs and goes level by level (see :func:`forward_order`):
    each node comes after all its inputs. Each step gives the node's op, inputs and value and
    writes the computation out; nothing is recomputed (the values are the ones the graph
    recorded). ``skip_leaves`` leaves out the leaves (inputs, parameters, constants), whose
    values are given rather than computed; ``expand`` opens each neuron (``dot``) into its
    products, sum and bias.
    """
    root = a_value(root, "trace_forward: root")
    view = GraphView(root, expand=flag(expand, "trace_forward: expand"))
    return forward_steps(view, skip_leaves=flag(skip_leaves, "trace_forward: skip_leaves"))


def forward_steps(view: GraphView, *, skip_leaves: bool) -> list[ForwardStep]:
    """:func:`trace_forward` on a given view (so a caller shares its shown-only nodes)."""
    order = view.order()
    names = _names(view, order)
    shown = [v for v in forward_order(view, order) if not (skip_leaves and view.op(v) is None)]
    return [_forward_step(i, v, view, names) for i, v in enumerate(shown)]


def _d(top: str, name: str, tex: bool) -> str:
    # the derivative symbol d top / d name
    if tex:
        return rf"\frac{{\partial {_tex(top)}}}{{\partial {_tex(name)}}}"
    return f"d{top if _PLAIN_NAME.match(top) else f'({top})'}/d" + (
        name if _PLAIN_NAME.match(name) else f"({name})"
    )


@dataclass(frozen=True, slots=True)
class _Record:
    # one node's step as shown: the engine's StepRecord, or a part of an opened neuron's
    node: Value
    parents: tuple[Value, ...]
    grad: float
    local: list[float]
    contributions: list[float]
    before: list[float]
    after: list[float]


def _shown_records(view: GraphView, records: list[StepRecord]) -> Iterator[_Record]:
    """The engine's records as the view shows them: an opened neuron's one record becomes
    ``out = sum + b``, ``sum = Σ products`` and one record per product ``w.i * x.i``.

    Every number a real node receives is the engine's own (its contribution, before and
    after); a shown-only product or sum receives ``0.0 + g``, the same addition the engine
    makes for a node's first contribution, so the opened steps add up bit for bit.

    A folded composite (a loss) becomes one record: the engine's records of its inner nodes
    are merged into one update per input, whose local derivative is d loss / d input (a pass
    over the loss alone), whose contribution is what the inner nodes added, in the engine's
    order, and whose before and after are the input's gradient before the first of those
    additions and after the last.
    """
    inner: set[int] = set()  # the nodes of folded composites, shown only as their result
    where: dict[int, int] = {}  # a node's record's index, made once a composite is met
    for rec in records:
        v = rec.node
        if id(v) in inner:
            continue
        view.parents(v)  # opens v if it is a neuron the view opens, folds it if a composite
        if v in view.folded:
            if not where:
                where = {id(r.node): i for i, r in enumerate(records)}
            nodes = view.inside(v)
            inner.update(id(n) for n in nodes)
            found = sorted(where[id(n)] for n in nodes if id(n) in where)
            yield _folded(v, view.folded[v], rec.grad, [records[i] for i in found])
            continue
        if v not in view.opened:
            yield _Record(
                v, v.parents, rec.grad, rec.local, rec.contributions, rec.before, rec.after
            )
            continue
        s, products = view.opened[v]
        k, g = len(products), rec.grad
        b = 2 * k
        ps = v.parents
        yield _Record(v, (s, ps[b]), g, [1.0, rec.local[b]], [g, rec.contributions[b]],
                      [0.0, rec.before[b]], [0.0 + g, rec.after[b]])  # fmt: skip
        gs = 0.0 + g
        yield _Record(s, tuple(products), gs, [1.0] * k, [gs] * k, [0.0] * k, [0.0 + gs] * k)
        for i, p in enumerate(products):
            j = (i, k + i)
            yield _Record(p, (ps[i], ps[k + i]), 0.0 + gs,
                          [rec.local[n] for n in j], [rec.contributions[n] for n in j],
                          [rec.before[n] for n in j], [rec.after[n] for n in j])  # fmt: skip


def _folded(v: Value, inputs: tuple[Value, ...], g: float, inside: list[StepRecord]) -> _Record:
    # one record for a folded composite v from its inner nodes' records (engine order): per
    # input, the sum of what they added to it and its gradient before the first and after
    # the last of those additions
    at = {id(x): i for i, x in enumerate(inputs)}
    n = len(inputs)
    contributions, befores, afters = [0.0] * n, [0.0] * n, [0.0] * n
    reached = [False] * n
    for r in inside:
        for p, c, before, after in zip(
            r.node.parents, r.contributions, r.before, r.after, strict=True
        ):
            i = at.get(id(p))
            if i is not None:
                if not reached[i]:
                    reached[i], befores[i] = True, before
                contributions[i] += c
                afters[i] = after
    local = gradients(v, inputs, 1.0, False)
    return _Record(v, inputs, g, local, contributions, befores, afters)


def _backward_step(
    index: int, rec: _Record, view: GraphView, names: dict[Value, str], top: str
) -> BackwardStep:
    v, name = rec.node, names[rec.node]
    updates = []
    for p, local, c, before, after in zip(
        rec.parents, rec.local, rec.contributions, rec.before, rec.after, strict=True
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
    op = view.op(v)
    return BackwardStep(
        index,
        v,
        name,
        rec.grad,
        tuple(updates),
        "\n".join(u.equation for u in updates),
        latex,
        "" if op is None else op.describe(),
    )


def trace_backward(root: Value, grad: float = 1.0, *, expand: bool = False) -> list[BackwardStep]:
    """Return the steps ``root.backward(grad)`` performs, without changing any ``.grad``.

    The steps come from the engine's own backward pass (``run_pass`` with a trace), so they
    are the real computation, in its order and with its exact numbers. Step 0 is the seed
    (d root / d root = ``grad``); then one step per non-leaf node, so a graph with ``k``
    non-leaf nodes gives ``k + 1`` steps and a lone leaf gives one. ``expand`` opens each
    neuron (``dot``) into its own steps: the bias and the sum, the sum to its products, then
    each product ``w.i * x.i`` to its weight and input (the chain rule per product), with the
    same numbers reaching the real nodes. A local derivative that is not finite raises as
    ``backward()`` would.
    """
    root = a_value(root, "trace_backward: root")
    seed = _as_float(grad, "trace_backward grad")
    return backward_steps(GraphView(root, expand=flag(expand, "trace_backward: expand")), seed)


def backward_steps(view: GraphView, seed: float = 1.0) -> list[BackwardStep]:
    """:func:`trace_backward` on a given view (so a caller shares its shown-only nodes)."""
    root = view.root
    records: list[StepRecord] = []
    run_pass(root, seed, create_graph=False, trace=records)
    shown = list(_shown_records(view, records))  # opens the neurons the pass went through
    names = _names(view, view.order())
    top = names[root]
    seed_text = f"{_d(top, top, False)} = {_num(seed)}   (the seed: {top} with respect to itself)"
    seed_tex = rf"{_d(top, top, True)} = {_num(seed, True)} \quad \text{{(the seed)}}"
    steps = [BackwardStep(0, root, top, seed, (), seed_text, seed_tex)]
    steps += [_backward_step(i, rec, view, names, top) for i, rec in enumerate(shown, 1)]
    return steps


def view_names(view: GraphView) -> dict[Value, str]:
    """:func:`node_names` on a given view, in its forward order."""
    return _names(view, view.order())


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
