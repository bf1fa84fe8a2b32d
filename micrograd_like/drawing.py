"""Graph diagrams: ``draw_dot`` draws a value's computation graph as a :class:`Diagram`.

Every value is a box (label, data, grad) and every op a small node between its inputs and its
output, as in micrograd's notebook. Labels are data, never DOT: they go into HTML-like labels
through :func:`_text`, which escapes markup, Graphviz's backslash sequences and characters XML
cannot carry. A graph with more than ``max_nodes`` values is drawn collapsed: values are
grouped by depth and op (and leaves by the dotted names that ``nn`` gives parameters), and
each group is one box saying how many values it holds. ``nodes=`` draws a part of a graph
instead (a window around one node) without walking the rest of it, and
:func:`render_svgs` renders many diagrams for a web page with one run of ``dot``. The DOT
text is written by our own code (:mod:`~micrograd_like.dotwriter`), so building a diagram
needs no package and no program; only rendering it needs Graphviz's ``dot``.
"""

from __future__ import annotations

import html
import math
import numbers
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from micrograd_like._validate import a_value, count, flag, value_list
from micrograd_like.checking import (
    KINK,
    MISMATCH,
    OK,
    UNCHECKABLE,
    UNRESOLVED,
    VERDICT_COLOURS,
    GraphCheckResult,
    NodeCheck,
)
from micrograd_like.collapsing import collapse
from micrograd_like.diagram import Diagram, render_svgs
from micrograd_like.dotwriter import FORMATS, DotGraph, DotNotFound
from micrograd_like.engine import Value
from micrograd_like.ops import Op
from micrograd_like.views import GraphView

__all__ = [
    "CUT_MARK",
    "DEFAULT_MAX_NODES",
    "RANKDIRS",
    "Diagram",
    "DotNotFound",
    "draw_dot",
    "render_svgs",
]

RANKDIRS = ("LR", "TB", "BT", "RL")
DEFAULT_MAX_NODES = 250
LABEL_LIMIT = 64  # characters of a label shown before "…"

# the fill that shows each verdict of check_graph (None: the node was not checked)
VERDICT_FILL: dict[str | None, str] = {None: "#ffffff"}
VERDICT_FILL.update(VERDICT_COLOURS)
# a group of values takes the fill of the first of these verdicts among its members
_GROUP_PRECEDENCE = (MISMATCH, UNRESOLVED, UNCHECKABLE, KINK, OK)
# node kinds: (fill, border colour, border width)
KIND_STYLE = {
    "value": ("#ffffff", "#495057", "1"),
    "leaf": ("#f1f3f5", "#868e96", "1"),
    "parameter": ("#dbeafe", "#1d4ed8", "1.5"),
    "output": ("#fff3bf", "#e67700", "2"),
}
HIGHLIGHT = ("#7c3aed", "3")
CUT_MARK = "⋯"  # after the name of a value whose inputs a partial drawing leaves out
FONT = "Helvetica,Arial,sans-serif"

# C0 controls, DEL and C1 controls, noncharacters and lone surrogates cannot appear in the
# XML that Graphviz parses and writes: show C0 and DEL as their Unicode control pictures
# (U+2400 block), the rest as Python escapes. Newline is kept: it breaks the line.
_VISIBLE: dict[int, int | str] = {c: 0x2400 + c for c in range(0x20) if c != 0x0A}
_VISIBLE[0x7F] = 0x2421
_VISIBLE.update(
    (c, f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}")
    for c in [*range(0x80, 0xA0), 0xFFFE, 0xFFFF, *range(0xD800, 0xE000)]
)


def draw_dot(
    root: Value,
    *,
    rankdir: str = "LR",
    show_grad: bool = True,
    format: str = "svg",
    check: GraphCheckResult | None = None,
    highlight: Iterable[Value] | Value = (),
    max_nodes: int = DEFAULT_MAX_NODES,
    grads: Mapping[Value, float] | None = None,
    parameters: Iterable[Value] = (),
    names: Mapping[Value, str] | None = None,
    nodes: Iterable[Value] | None = None,
    expand: bool = False,
) -> Diagram:
    """Return a diagram of everything ``root`` depends on (shown inline in Jupyter).

    Each value is a box with its label (``names[node]`` instead when ``names`` has it), data
    and gradient (``grads[node]`` instead of ``.grad`` when ``grads`` is given, a dash for
    nodes missing from it or whose ``.grad`` is ``None``), to 4 significant digits; leaves,
    ``parameters`` and the output are coloured apart. Each op is a small node whose inputs keep
    argument order (edges of n-ary and non-commutative ops are labelled ``1..n``, or
    ``w.0..w.k-1, x.0..x.k-1, b`` for a neuron's ``dot``, as ``nn`` names its weights).
    ``expand=True`` opens each ``dot`` node into its products ``w.i * x.i``, their sum and the
    bias (see :class:`~micrograd_like.views.GraphView`); the new boxes show d root / d product,
    which equals the ``dot`` node's gradient. ``check`` (what ``check_graph`` returns) fills
    each value by its verdict and shows a mismatch's numbers; ``highlight`` outlines values and
    their ops; either adds a key. A graph of more than ``max_nodes`` values is drawn
    collapsed: values grouped by op and depth, parameters by dotted name, each group one box
    with its count and range of numbers, and a caption saying what is hidden (``ValueError``
    if even that cannot fit). ``nodes`` draws only a part: ``root`` and the values of ``nodes``
    it reaches through values of ``nodes`` (a value of ``nodes`` it does not reach is a
    ``ValueError``); the rest of the graph is not even walked, so a window of a huge graph
    draws fast. A drawn value with inputs left out is marked ``⋯`` (:data:`CUT_MARK`), and the
    key says so. The result is a :class:`Diagram`: ``.source`` is its DOT text (no program
    needed); save it with ``.render(outfile="g.png")`` or get the bytes with ``.pipe()``,
    which run Graphviz's ``dot`` in ``format`` by default and raise :class:`DotNotFound`
    (saying how to install it) without it.
    """
    a_value(root, "draw_dot: root")
    if rankdir not in RANKDIRS:
        raise ValueError(f"draw_dot: rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")
    flag(show_grad, "draw_dot: show_grad")
    flag(expand, "draw_dot: expand")
    count(max_nodes, "draw_dot: max_nodes", wrong_type=ValueError)
    if not isinstance(format, str) or format.lower() not in FORMATS:
        raise ValueError(
            f"draw_dot: format {format!r} is not one Graphviz renders; "
            f"use one of {', '.join(FORMATS)}"
        )
    if grads is not None and not show_grad:
        raise ValueError("draw_dot: grads were given but show_grad=False hides gradients")
    view = GraphView(root, expand=expand)
    order = view.order() if nodes is None else _part(view, _values(nodes, "nodes"))
    index = {v: i for i, v in enumerate(order)}
    marked = set(_values(highlight, "highlight"))
    for v in marked:
        if v not in index:
            where = "the graph of root" if nodes is None else "the part of the graph drawn"
            raise ValueError(f"draw_dot: highlighted node {v!r} is not in {where}")
    painter = _Painter(
        view=view,
        show_grad=show_grad,
        grads=_checked_mapping(grads, "grads", "number", _as_float),
        names=_opened_names(view, order, _checked_mapping(names, "names", "str", _as_str)),
        verdicts=_checked_verdicts(check),
        marked=marked,
        params=set(_values(parameters, "parameters")),
        cut=set() if nodes is None else _cut(view, order, index),
    )
    return painter.diagram(order, rankdir=rankdir, max_nodes=max_nodes, format=format.lower())


def draw_part(
    view: GraphView,
    order: list[Value],
    *,
    names: Mapping[Value, str],
    highlight: Iterable[Value] = (),
    show_grad: bool = True,
    grads: Mapping[Value, float] | None = None,
    known: set[Value] | None = None,
    max_nodes: int = DEFAULT_MAX_NODES,
    compact: bool = False,
) -> Diagram:
    """Draw any part of a view's graph, given in forward order (for the stepper; unchecked).

    Unlike ``draw_dot(nodes=...)`` the part may have several outputs (a node and all its
    consumers). ``known`` are the values whose data is shown (others show a dash: the forward
    pass has not computed them yet); ``None`` shows every value's data. ``compact`` boxes show
    names only (an overview of the whole graph).
    """
    index = {v: i for i, v in enumerate(order)}
    painter = _Painter(
        view=view,
        show_grad=show_grad,
        grads=dict(grads) if grads is not None else None,
        names=dict(names),
        verdicts=None,
        marked=set(highlight),
        params=set(),
        cut=_cut(view, order, index),
        known=known,
        compact=compact,
        key=False,  # the stepper explains its outline and marks in words
    )
    return painter.diagram(order, rankdir="LR", max_nodes=max_nodes, format="svg")


# sizes in CSS pixels of a diagram at 100% (1 pt = 4/3 px), measured from dot's layout of
# these styles: an average character of 11-point Helvetica, a box's padding, an op node and
# the gap between ranks (ranksep on both sides of the op node), a line of text, nodesep
_CHAR_PX, _BOX_PAD_PX, _OP_PX, _RANK_GAP_PX, _LINE_PX, _NODE_GAP_PX = 7.4, 14, 44, 67, 17, 19


def estimate_size(
    view: GraphView, order: list[Value], name: Callable[[Value], str], show_grad: bool
) -> tuple[float, float]:
    """Width and height in CSS pixels that dot's left-to-right layout of ``order`` takes at
    100%, estimated without running dot (each value's rank is its longest path from an input
    drawn; a rank is as wide as its widest box, as tall as its boxes stacked)."""
    level: dict[Value, int] = {}
    widths: dict[int, float] = {}
    heights: dict[int, float] = {}
    for v in order:
        lv = level[v] = 1 + max((level[p] for p in view.parents(v) if p in level), default=-1)
        texts = [name(v), f"data {_num(v.data)}"]
        if show_grad:
            texts.append(f"grad {_num(-abs(v.data))}")  # a gradient's typical width
        width = max(len(t) for t in texts) * _CHAR_PX + _BOX_PAD_PX
        widths[lv] = max(widths.get(lv, 0.0), width)
        heights[lv] = heights.get(lv, 0.0) + len(texts) * _LINE_PX + 8 + _NODE_GAP_PX
    if not widths:
        return 0.0, 0.0
    total = sum(widths.values()) + (len(widths) - 1) * (_OP_PX + _RANK_GAP_PX)
    return total, max(heights.values())


def _opened_names(
    view: GraphView, order: list[Value], names: dict[Value, str] | None
) -> dict[Value, str] | None:
    # the boxes an opened neuron adds are named as the traces name them (w1*x1, w1*x1+w2*x2)
    if not view.part_of:
        return names
    from micrograd_like.stepping import view_names

    derived = view_names(view)
    shown = {v: derived[v] for v in order if v in view.part_of}
    return {**shown, **(names or {})}


def _cut(view: GraphView, order: list[Value], index: dict[Value, int]) -> set[Value]:
    # the drawn values with an input that is not drawn
    return {v for v in order if any(p not in index for p in view.parents(v))}


def _part(view: GraphView, chosen: list[Value]) -> list[Value]:
    """Root and the values of ``chosen`` it reaches through them, each after its drawn inputs.

    ``topological_order`` stepping only into chosen values, so it costs the size of the part,
    not of the graph; a chosen value it cannot reach is an error.
    """
    order = view.order(within=chosen)
    seen = {id(v) for v in order}
    for i, v in enumerate(chosen):
        if id(v) not in seen:
            raise ValueError(
                f"draw_dot: nodes[{i}] ({v!r}) is not reached from root through nodes: each "
                "value drawn must be root or an input of another value drawn"
            )
    return order


# ----------------------------------------------------------------------------- validation


def _values(xs: Iterable[Value] | Value, what: str) -> list[Value]:
    return [xs] if isinstance(xs, Value) else value_list(xs, f"draw_dot: {what}")


def _as_float(x: object) -> float | None:
    return float(x) if isinstance(x, numbers.Real) and not isinstance(x, bool) else None


def _as_str(x: object) -> str | None:
    return x if isinstance(x, str) else None


def _checked_mapping(
    mapping: Mapping[Value, Any] | None, what: str, kind: str, convert: Callable[[object], Any]
) -> dict[Value, Any] | None:
    # grads (Value -> number, kept as floats) and names (Value -> str); convert gives None
    # for a value of the wrong kind
    if mapping is None:
        return None
    if not isinstance(mapping, Mapping):
        raise TypeError(
            f"draw_dot: {what} must be a mapping Value -> {kind}, got {type(mapping).__name__}"
        )
    out: dict[Value, Any] = {}
    for node, x in mapping.items():
        if not isinstance(node, Value):
            raise TypeError(f"draw_dot: {what} keys must be Values, got {type(node).__name__}")
        y = convert(x)
        if y is None:
            raise TypeError(f"draw_dot: {what}[{node!r}] must be a {kind}, got {x!r:.60}")
        out[node] = y
    return out


def _checked_verdicts(check: GraphCheckResult | None) -> dict[Value, NodeCheck] | None:
    if check is None:
        return None
    if not isinstance(check, GraphCheckResult):
        raise TypeError(
            f"draw_dot: check must be what check_graph returns, got {type(check).__name__}"
        )
    return check.nodes


# ----------------------------------------------------------------------------- text


def _text(s: str) -> str:
    """Return ``s`` as HTML-label markup that Graphviz shows as written, one line per ``\\n``."""
    if len(s) > LABEL_LIMIT:
        s = s[:LABEL_LIMIT] + "…"
    # html.escape guards the label's markup; doubling backslashes keeps Graphviz from
    # expanding \N, \G, \L... (it does so even inside HTML labels); Graphviz 2.43 rejects
    # text that starts with "]", so every "]" goes as a character reference
    return "<BR/>".join(
        html.escape(line.translate(_VISIBLE), quote=False)
        .replace("\\", "\\\\")
        .replace("]", "&#93;")
        for line in s.split("\n")
    )


def _num(x: float) -> str:
    # four significant digits; Python already spells nan, inf and -inf
    return f"{x:.4g}"


def _op_text(op: Op) -> str:
    """How an op node reads: its symbol, with parameters (``**2``, ``leaky_relu(0.01)``)."""
    if not op.params:
        return op.symbol
    args = ", ".join(f"{p:g}" for p in op.params)
    return f"{op.symbol}{args}" if op.symbol != op.name else f"{op.symbol}({args})"


def _table(cells: list[str], notes: list[str], rule: str) -> str:
    """An HTML-like label: the cells stacked (a narrow box), then one row per note, ruled."""
    rows = [f"<TR><TD>{c}</TD></TR>" for c in cells]
    rows += [f"<HR/><TR><TD>{n}</TD></TR>" for n in notes]
    return (
        f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2" COLOR="{rule}">'
        f"{''.join(rows)}</TABLE>>"
    )


# ----------------------------------------------------------------------------- drawing


# Graphviz attributes shared by every diagram and by each kind of node
GRAPH_ATTR = {"nodesep": "0.2", "ranksep": "0.35", "fontname": FONT, "fontsize": "11"}
NODE_ATTR = {"fontname": FONT, "fontsize": "11"}
# no text under 11 points: a diagram shown at 75% still has 11-pixel text (1 pt = 4/3 px)
EDGE_ATTR = {"fontname": FONT, "fontsize": "11", "fontcolor": "#6c757d", "color": "#495057",
             "arrowsize": "0.6"}  # fmt: skip
VALUE_ATTR = {"shape": "box", "style": "filled", "margin": "0", "height": "0", "width": "0"}
OP_ATTR = {"shape": "ellipse", "style": "filled", "fillcolor": "#f1f3f5", "fontsize": "12",
           "margin": "0.03,0.01", "height": "0.3", "width": "0.3"}  # fmt: skip
GROUP_ATTR = {"shape": "box3d", "style": "filled", "margin": "0.05"}


class _Painter:
    """Draws the nodes and edges of one ``draw_dot`` call; holds that call's options."""

    def __init__(
        self,
        *,
        view: GraphView,
        show_grad: bool,
        grads: dict[Value, float] | None,
        names: dict[Value, str] | None,
        verdicts: dict[Value, NodeCheck] | None,
        marked: set[Value],
        params: set[Value],
        cut: set[Value],
        known: set[Value] | None = None,
        compact: bool = False,
        key: bool = True,
    ) -> None:
        self.view = view
        self.compact = compact
        self.key = key
        self.root = view.root
        self.known = known
        self.show_grad = show_grad
        self.grads = grads
        self.names = names
        self.verdicts = verdicts
        self.marked = marked
        self.params = params
        self.cut = cut

    def name(self, v: Value) -> str:
        """The name shown for ``v``: ``names[v]`` if given, else its label."""
        if self.names is None:
            return v.label
        return self.names.get(v, v.label)

    def grad(self, v: Value) -> float | None:
        """The gradient shown for ``v``: ``grads[v]`` (``None`` if absent) or ``v.grad``.

        A box an opened neuron adds shows its ``dot`` node's gradient (d dot / d product = 1).
        """
        if self.grads is None:
            g: float | None = self.view.part_of.get(v, v).grad
            return g
        return self.grads.get(v)

    def kind(self, v: Value) -> str:
        """Which ``KIND_STYLE`` entry draws ``v``."""
        if v is self.root:
            return "output"
        if v in self.params:
            return "parameter"
        return "value" if self.view.op(v) is not None else "leaf"

    def diagram(self, order: list[Value], *, rankdir: str, max_nodes: int, format: str) -> Diagram:
        """The diagram of ``order``, collapsed into group boxes past ``max_nodes`` values."""
        groups = None
        if len(order) > max_nodes:
            groups = collapse(order, max_nodes, self.marked | {self.root}, self)
        self.ids: dict[Value, str] = {}
        graph = self.draw(order, groups, rankdir=rankdir, max_nodes=max_nodes)
        title = self.name(self.root) or "the output"
        return Diagram(graph.source, format=format, title=title, values=len(order), ids=self.ids)

    def draw(
        self,
        order: list[Value],
        groups: list[list[Value]] | None,
        *,
        rankdir: str,
        max_nodes: int,
    ) -> DotGraph:
        """Build the diagram: every value of ``order`` on its own, or in its group's box."""
        g = DotGraph(
            "micrograd_like",
            graph_attr={"rankdir": rankdir, **GRAPH_ATTR},
            node_attr=NODE_ATTR,
            edge_attr=EDGE_ATTR,
        )
        # the node each value's box is: its own (v<i>, with op node o<i>) or its group's (g<k>)
        index = {v: i for i, v in enumerate(order)}
        unit = {v: f"v{i}" for v, i in index.items()}
        for k, members in enumerate(groups or []):
            if len(members) > 1:
                self.group_node(g, f"g{k}", members)
                unit.update((v, f"g{k}") for v in members)
        self.ids = unit
        bundled: Counter[tuple[str, str]] = Counter()
        first_role: dict[tuple[str, str], str] = {}
        view = self.view
        for i, v in enumerate(order):
            single = unit[v] == f"v{i}"
            if single:
                self.value_node(g, f"v{i}", v)
            op = view.op(v)
            if op is None:
                continue
            if single:
                self.op_node(g, f"o{i}", v, op)
                g.edge(f"o{i}", f"v{i}")
            head = f"o{i}" if single else unit[v]
            for role, p in zip(view.roles(v), view.parents(v), strict=True):
                tail = unit.get(p)
                if tail is None:  # an input that nodes= left out
                    continue
                if single and tail == f"v{index[p]}":
                    g.edge(tail, head, label=role or None)
                else:  # edges into or out of a group box are drawn once, with their count
                    bundled[tail, head] += 1
                    first_role.setdefault((tail, head), role)
        for (tail, head), n in bundled.items():
            g.edge(tail, head, label=f"×{n}" if n > 1 else first_role[tail, head])
        if groups is not None:
            boxes = [m for m in groups if len(m) > 1]
            g.attr(
                label=f"collapsed: {sum(map(len, boxes)):,} of {len(order):,} values are hidden in "
                f"{len(boxes)} group boxes (max_nodes={max_nodes}); "
                "draw a part with draw_dot(node), or raise max_nodes",
                labelloc="t",
            )
        if self.key and (self.verdicts is not None or self.marked or self.cut):
            self.legend(g)
        return g

    def value_node(self, g: DotGraph, name: str, v: Value) -> None:
        """A value's box: label (if any), data, grad; its check's verdict and numbers."""
        fill, border, width = KIND_STYLE[self.kind(v)]
        title = self.name(v)
        if v in self.cut:
            title = f"{title} {CUT_MARK}" if title else CUT_MARK
        cells = [f"<B>{_text(str(title))}</B>"] if title else []
        if self.compact:
            label = _table(cells or ["·"], [], border)
            g.node(name, label, **VALUE_ATTR, fillcolor=fill, color=border, penwidth=width)
            return
        if self.known is None or v in self.known:
            cells.append(f"data {_num(v.data)}")
            tip = f"data = {v.data!r}"  # the tooltip (hover in SVG) has full precision
        else:  # the forward pass has not computed it yet
            cells.append("data —")
            tip = "not computed yet"
        if self.show_grad:
            grad = self.grad(v)
            cells.append("grad —" if grad is None else f"grad {_num(grad)}")
            tip += "" if grad is None else f"\\ngrad = {grad!r}"
        notes = []
        if self.verdicts is not None:
            result = self.verdicts.get(v)
            fill = VERDICT_FILL[None if result is None else result.verdict]
            if result is not None and result.verdict == MISMATCH:
                notes.append(f"analytic {_num(result.analytic)} ≠ numeric {_num(result.numeric)}")
            elif result is not None and result.verdict != OK:
                notes.append(result.verdict)
        if v in self.marked:
            border, width = HIGHLIGHT
        label = _table(cells, notes, border)
        g.node(name, label, **VALUE_ATTR, fillcolor=fill, color=border, penwidth=width, tooltip=tip)

    def op_node(self, g: DotGraph, name: str, v: Value, op: Op) -> None:
        """The small node of the op that made ``v``."""
        border, width = HIGHLIGHT if v in self.marked else ("#495057", "1")
        label = f"<{_text(_op_text(op))}>"
        tip = op.name.replace("\\", "\\\\")  # a name is data: no Graphviz escapes
        g.node(name, label, **OP_ATTR, color=border, penwidth=width, tooltip=tip)

    def group_node(self, g: DotGraph, name: str, members: list[Value]) -> None:
        """One box for many values: what they are, how many, and the range of their numbers."""
        n = len(members)
        op = self.view.op(members[0])
        if op is not None:
            kind, title = "value", f"{_op_text(op)} × {n}"
        else:
            kind = "parameter" if all(v in self.params for v in members) else "leaf"
            what = f"{n} {'parameters' if kind == 'parameter' else 'leaves'}"
            prefix = _common_prefix([self.name(v) for v in members])
            title = f"{prefix}.*  ({what})" if prefix else what
        fill, border, width = KIND_STYLE[kind]
        notes = [f"data {_span(v.data for v in members)}"]
        if self.show_grad:
            notes.append(f"grad {_span(self.grad(v) for v in members)}")
        if self.verdicts is not None:
            found = [self.verdicts.get(v) for v in members]
            counts = Counter(r.verdict for r in found if r is not None)
            fill = VERDICT_FILL[next((c for c in _GROUP_PRECEDENCE if counts[c]), None)]
            notes.append(", ".join(f"{counts[c]} {c}" for c in counts) or "not checked")
        label = _table([f"<B>{_text(title)}</B>"], notes, border)
        g.node(name, label, **GROUP_ATTR, fillcolor=fill, color=border, penwidth=width,
               tooltip=f"{n} values")  # fmt: skip

    def legend(self, g: DotGraph) -> None:
        """A key explaining check verdicts' colours, the highlight outline and the cut mark."""
        rows = []  # (swatch attributes, swatch text, meaning)
        if self.verdicts is not None:
            present = {r.verdict for r in self.verdicts.values()}
            rows += [
                (f'BGCOLOR="{VERDICT_FILL[c]}" BORDER="1" COLOR="#adb5bd"', " ", text)
                for c, text in (
                    (OK, "gradient matches finite differences"),
                    (MISMATCH, "gradient differs from finite differences"),
                    (KINK, "not differentiable here"),
                    (UNRESOLVED, "cannot be checked at this step (try a larger eps)"),
                    (UNCHECKABLE, "not checkable: a node after it has no forward"),
                    (None, "not checked"),
                )
                # the verdicts that say a check could not be made appear only when they occur
                if c not in (UNRESOLVED, UNCHECKABLE) or c in present
            ]
        if self.marked:
            rows.append((f'BORDER="3" COLOR="{HIGHLIGHT[0]}"', " ", "highlighted"))
        if self.cut:
            rows.append(('BORDER="0"', CUT_MARK, "inputs not drawn"))
        body = "".join(
            f'<TR><TD {attrs} WIDTH="18">{mark}</TD><TD ALIGN="LEFT">{text}</TD></TR>'
            for attrs, mark, text in rows
        )
        with g.subgraph(name="cluster_key") as key:
            key.attr(label="key", color="#adb5bd", fontsize="10", style="rounded")
            table = f'<<TABLE BORDER="0" CELLSPACING="3" CELLPADDING="2">{body}</TABLE>>'
            key.node("key", table, shape="plain", fontsize="10")


def _common_prefix(names: list[str]) -> str:
    """The longest dotted prefix all the names share (``""`` if none)."""
    prefix: list[str] | None = None
    for name in names:
        parts = name.split(".")[:-1]
        if prefix is None:
            prefix = parts
        k = 0
        while k < min(len(prefix), len(parts)) and prefix[k] == parts[k]:
            k += 1
        prefix = prefix[:k]
    return ".".join(prefix or [])


def _span(xs: Iterable[float | None]) -> str:
    # "min … max" of the known numbers (nan is shown if any is nan)
    known = [x for x in xs if x is not None]
    if not known:
        return "—"
    if any(math.isnan(x) for x in known):
        return "nan among them"
    lo, hi = min(known), max(known)
    return _num(lo) if lo == hi else f"{_num(lo)} … {_num(hi)}"
