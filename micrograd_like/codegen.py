"""A traced graph, and the straight-line Python source written for it (for the replay).

:func:`trace_graph` turns the graph a function built into a list of :class:`Node` records
(leaves classified as the function's inputs, captured Values or constants) and the order in
which ``backward()`` takes the inner nodes. :class:`Writer` writes the forward and backward
pass of that graph as one Python function, each op spelled by :mod:`micrograd_like.rulegen`.
"""

from __future__ import annotations

import builtins
import itertools
import keyword
import math
import platform
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from micrograd_like.backprop import backward_order
from micrograd_like.engine import Value, topological_order
from micrograd_like.ops import FLOAT_MATH, Op
from micrograd_like.rulegen import forward_code, literal, rule_code

__all__ = ["Node", "Trace", "Writer", "backward_order", "trace_graph"]


# ----------------------------------------------------------------------------- the graph


@dataclass
class Node:
    """One node of the traced graph, as the generated code and the error messages need it."""

    kind: str  # "input", "captured", "const" or "op"
    op: Op | None
    parents: tuple[int, ...]
    value: float  # at trace time (a constant's value for good)
    label: str
    slot: int = -1  # position among the inputs or the captured values
    name: str = ""  # a name in the generated code, or a constant's literal

    def the_op(self) -> Op:
        """The op that made this node (only inner nodes have one)."""
        if self.op is None:
            raise TypeError(f"node {self.name or self.label!r} is a leaf: it has no op")
        return self.op

    def signature(self, captured: Sequence[Value]) -> tuple[Any, ...]:
        """What must stay the same from one trace to the next."""
        if self.kind == "const":
            return ("const", self.value.hex())
        if self.kind == "captured":
            return ("captured", id(captured[self.slot]))
        if self.op is None:
            return (self.kind, self.slot)
        return ("op", self.op.name, self.op.params, self.parents)


def _edges(nodes: list[Value]) -> dict[int, int]:
    # how often each node is a parent (in a function of its own: no loop variable outlives
    # it, holding a reference that would be counted below)
    edges: dict[int, int] = {}
    for v in nodes:
        for p in v.parents:
            edges[id(p)] = edges.get(id(p), 0) + 1
    return edges


def _refcounts(values: list[Value]) -> list[int]:
    return [sys.getrefcount(v) for v in values]


def _private_leaves(nodes: list[Value]) -> set[int]:
    """Leaves that nothing outside the graph refers to: they can never change, so they are
    constants. (Reference counts are exact in CPython; elsewhere every leaf is captured.)"""
    if platform.python_implementation() != "CPython":
        return set()
    edges = _edges(nodes)
    # what a leaf held by nothing but a list counts, measured the same way as the nodes (so
    # the interpreter's own references while counting cancel out, whatever its version)
    base = _refcounts([Value(0.0)])[0]
    counts = _refcounts(nodes)
    return {
        id(v)
        for v, n in zip(nodes, counts, strict=True)
        if not v.parents and n - base == edges.get(id(v), 0)
    }


@dataclass
class Trace:
    nodes: list[Node]
    order: list[int]  # inner nodes in backward order
    captured: list[Value]
    inputs: list[int]  # node index of each input leaf, -1 if the output ignores it
    root: int


def trace_graph(out: Value, inputs: Sequence[Value], where: str) -> Trace:
    if not isinstance(out, Value):
        raise TypeError(f"{where}: the function must return a Value, got {type(out).__name__}")
    values = topological_order(out)
    private = _private_leaves(values)
    index = {id(v): i for i, v in enumerate(values)}
    input_slot = {id(v): k for k, v in enumerate(inputs)}
    nodes: list[Node] = []
    captured: list[Value] = []
    for v in values:
        parents = tuple(index[id(p)] for p in v.parents)
        op = v.primitive
        if parents and op is not None:
            if getattr(op, "closure", None) is not None or op.forward is None:
                raise TypeError(
                    f"{where}: node {v!r} was made by a micrograd-style closure ({op.name!r}); "
                    "a replay needs ops from the op table"
                )
            nodes.append(Node("op", op, parents, v.data, v.label))
        elif id(v) in input_slot:
            nodes.append(Node("input", None, (), v.data, v.label, input_slot[id(v)]))
        elif id(v) in private:
            nodes.append(Node("const", None, (), v.data, v.label))
        else:
            nodes.append(Node("captured", None, (), v.data, v.label, len(captured)))
            captured.append(v)
    order = [index[id(v)] for v in backward_order(out)]
    return Trace(nodes, order, captured, [index.get(id(v), -1) for v in inputs], index[id(out)])


# ----------------------------------------------------------------------------- code


_IDENT = re.compile(r"\W+")


def _identifier(label: str) -> str:
    text = _IDENT.sub("_", label).strip("_")
    return text if text.isidentifier() else ""


def _const_text(x: float) -> str:
    text, prec = literal(x)
    return text if prec == 10 else f"({text})"


class Writer:
    """Names, helpers and lines of one generated module."""

    def __init__(self, trace: Trace, input_paths: list[str], comments: bool) -> None:
        self.t = trace
        self.comments = comments
        self.helpers: dict[str, Any] = {"nan": math.nan, "inf": math.inf, "M": FLOAT_MATH}
        self.lines: list[str] = []
        self.where: list[tuple[str, int]] = []  # per line: ("forward"/"backward", node)
        self._rules: dict[int, tuple[list[str] | None, tuple[bool, ...], str]] = {}
        self._forwards: dict[int, Callable[[Sequence[str]], str]] = {}
        self._kinds: dict[tuple[Any, ...], Any] = {}
        for i, node in enumerate(trace.nodes):
            if node.op is not None:
                self._prepare(i, node)
        self._name_nodes(input_paths)

    def helper(self, name: str, obj: Any) -> str:
        """A module-level name for obj (``tanh``, or ``tanh_2`` if taken by another)."""
        candidate, k = name, 1
        while self.helpers.setdefault(candidate, obj) is not obj:
            k += 1
            candidate = f"{name}_{k}"
        return candidate

    def _prepare(self, i: int, node: Node) -> None:
        # node i's forward spelling and chain-rule text, made once per kind of node
        op = node.the_op()
        n = len(node.parents)
        key = (op.name, op.forward, op.derivative, op.params, n)
        known = self._kinds.get(key)
        if known is None:
            known = self._kinds[key] = (self._forward_of(op, n), self._rule_of(node))
        self._forwards[i], self._rules[i] = known

    def _forward_of(self, op: Op, n: int) -> Callable[[Sequence[str]], str]:
        code = forward_code(op)
        params = op.params
        if code is not None and code.template(["a"] * n, params) is not None:
            for name, fn in code.helpers.items():
                self.helper(name, fn)  # the templates use these names as they are
            template = code.template
            return lambda args: template(args, params) or ""
        fname = self.helper(op.name, op.forward)
        texts = [_const_text(p) for p in params]
        return lambda args: f"{fname}({', '.join([*args, *texts])})"

    def _rule_of(self, node: Node) -> tuple[list[str] | None, tuple[bool, ...], str]:
        op = node.the_op()
        n = len(node.parents)
        rule = rule_code(op, n)
        if rule.templates is not None and self._verified(node, rule.templates, rule.helpers):
            renames = {k: self.helper(k, fn) for k, fn in rule.helpers.items()}
            return [_rename(t, renames) for t in rule.templates], rule.risky, ""
        return None, (True,) * n, self.helper(f"d_{op.name}", op.derivative)

    def _verified(self, node: Node, templates: Sequence[str], helpers: dict[str, Any]) -> bool:
        # the traced text against the rule itself at this node's traced values, at two
        # upstream gradients: any difference (or a different error) and the rule is called
        op, n = node.the_op(), len(node.parents)
        args = [self.t.nodes[p].value for p in node.parents]
        names = [f"a{k}" for k in range(n)]
        body = ", ".join(t.format(*names, g="g", o="o") for t in templates)
        scope = {**helpers, "nan": math.nan, "inf": math.inf}
        fn = eval(f"lambda g, o, {', '.join(names)}: ({body},)", scope)
        for g in (1.0, -0.3):
            try:
                want = [
                    float(c).hex()
                    for c in op.derivative(FLOAT_MATH, g, node.value, *args, *op.params)
                ]
            except Exception as e:
                want = [type(e).__name__]
            try:
                got = [float(c).hex() for c in fn(g, node.value, *args)]
            except Exception as e:
                got = [type(e).__name__]
            if got != want:
                return False
        return True

    def _name_nodes(self, input_paths: list[str]) -> None:
        used = set(self.helpers) | set(keyword.kwlist) | set(dir(builtins))
        used |= {"step", "forward", "_in", "_cap", "_", "_l"}
        inner = 0
        for node in self.t.nodes:
            if node.kind == "const":
                node.name = _const_text(node.value)
                continue
            if node.kind == "input":
                base = _identifier(input_paths[node.slot]) or f"x{node.slot}"
            elif node.kind == "captured":
                base = _identifier(node.label) or f"p{node.slot}"
            else:
                base = _identifier(node.label) or f"t{inner}"
                inner += 1
            name = base
            for k in itertools.count(2):
                if name not in used and f"d{name}" not in used:
                    break
                name = f"{base}_{k}"
            used.update((name, f"d{name}"))
            node.name = name

    # ------------------------------------------------------------------ emitting

    def emit(self, text: str, phase: str = "", node: int = -1, depth: int = 1) -> None:
        self.lines.append("    " * depth + text)
        self.where.append((phase, node))

    def equation(self, i: int) -> str:
        """Node i's op as a reader writes it: ``t = a * b``, ``t = x ** 2``, ``t = tanh(n)``."""
        node = self.t.nodes[i]
        op = node.the_op()
        args = [self.t.nodes[p].name for p in node.parents]
        if len(args) == 2 and op.symbol in ("+", "*", "**") and not op.params:
            text = f"{args[0]} {op.symbol} {args[1]}"
        elif op.symbol == "-" and len(args) == 1:
            text = f"-{args[0]}"
        elif op.symbol == "**" and len(op.params) == 1:
            text = f"{args[0]} ** {op.params[0]:g}"
        else:
            shown = args if len(args) <= 8 else [*args[:7], f"... {len(args) - 7} more"]
            text = f"{op.describe()}({', '.join(shown)})"
        return f"{node.name} = {text}"

    def _locals(self, i: int) -> str:
        # ": do/dn = 1.0 - o * o", the local derivatives the chain rule multiplies by (for
        # up to four inputs that are not constants)
        t = self.t
        node = t.nodes[i]
        targets = [p for p in node.parents if t.nodes[p].kind != "const"]
        local = rule_code(node.the_op(), len(node.parents), local=True).templates
        if local is None or not targets or len(targets) > 4:
            return ""
        args = [t.nodes[p].name for p in node.parents]
        parts: dict[str, list[str]] = {}  # an input used twice (o * o) gets both terms
        for p, text in zip(node.parents, local, strict=True):
            if t.nodes[p].kind != "const":
                parts.setdefault(t.nodes[p].name, []).append(text.format(*args, o=node.name))
        return ": " + ", ".join(
            f"d{node.name}/d{name} = {' + '.join(terms)}" for name, terms in parts.items()
        )

    def function(self, name: str, backward: bool) -> None:
        t = self.t
        self.emit(f"def {name}(_in, _cap):", depth=0)
        ins = [t.nodes[k].name if k >= 0 else "_" for k in t.inputs]
        caps = [n.name for n in t.nodes if n.kind == "captured"]
        for what, names in (("_in", ins), ("_cap", caps)):
            if names:
                self.emit(f"{_tuple(names)} = {what}")
        if self.comments:
            self.emit("# forward: one line per op, each after its inputs")
        for i, node in enumerate(t.nodes):
            if node.op is not None:
                args = [t.nodes[p].name for p in node.parents]
                self.emit(f"{node.name} = {self._forwards[i](args)}", "forward", i)
        root = t.nodes[t.root]
        if not backward:
            self.emit(f"return {root.name}")
            return
        if self.comments:
            self.emit(
                f"# backward: d<name> is d{root.name}/d<name>; the chain rule node by node, in"
            )
            self.emit("# backward()'s order; a node whose gradient is exactly 0 passes nothing on")
        leaves = [n.name for n in t.nodes if n.kind in ("input", "captured")]
        for k in range(0, len(leaves), 12):
            self.emit(" = ".join(f"d{n}" for n in leaves[k : k + 12]) + " = 0.0")
        self.emit(f"d{root.name} {'=' if root.op is not None else '+='} 1.0")
        assigned: set[int] = set()
        for i in t.order:
            self._node_block(i, i == t.root, assigned)
        grads = [f"d{t.nodes[k].name}" if k >= 0 else "0.0" for k in t.inputs]
        self.emit(f"return {root.name}, {_tuple(grads)}, {_tuple([f'd{n}' for n in caps])}")

    def _node_block(self, i: int, unconditional: bool, assigned: set[int]) -> None:
        # the chain rule at node i: a contribution to each parent, in argument order, each
        # added to what the parent has (or, for its first one, assigned: no 0.0 + c)
        t = self.t
        node = t.nodes[i]
        op = node.the_op()
        texts, risky, fallback = self._rules[i]
        g = f"d{node.name}"
        args = [t.nodes[p].name for p in node.parents]
        body: list[str] = []
        if texts is None:
            params = "".join(f", {_const_text(p)}" for p in op.params)
            body.append(f"_l = {fallback}(M, {g}, {node.name}, {', '.join(args)}{params})")
            contributions = [f"_l[{k}]" for k in range(len(args))]
        else:
            contributions = [tx.format(*args, g=g, o=node.name) for tx in texts]
        first: list[str] = []
        for p, c, r in zip(node.parents, contributions, risky, strict=True):
            parent = t.nodes[p]
            if parent.kind == "const":
                if r:  # the engine computes it, and it may raise: so does the replay
                    body.append(f"_ = {c}")
            elif parent.kind != "op" or p in assigned:
                body.append(f"d{parent.name} += {c}")
            else:
                assigned.add(p)
                first.append(f"d{parent.name}")
                body.append(f"d{parent.name} = {c}")
        if not body:
            return
        if self.comments:
            self.emit(f"# {self.equation(i)}{self._locals(i)}", "backward", i)
        if not unconditional:
            self.emit(f"if {g}:", "backward", i)
        for line in body:
            self.emit(line, "backward", i, 1 if unconditional else 2)
        if first and not unconditional:
            self.emit("else:", "backward", i)
            for k in range(0, len(first), 12):
                self.emit(" = ".join(first[k : k + 12]) + " = 0.0", "backward", i, 2)


def _tuple(names: list[str]) -> str:
    return f"({names[0]},)" if len(names) == 1 else f"({', '.join(names)})"


def _rename(text: str, renames: dict[str, str]) -> str:
    for old, new in renames.items():
        if old != new:
            text = re.sub(rf"\b{re.escape(old)}\(", f"{new}(", text)
    return text
