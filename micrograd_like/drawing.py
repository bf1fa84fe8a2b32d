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
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from micrograd_like._validate import a_value, count, flag, value_list
from micrograd_like.checking import KINK, MISMATCH, OK, GraphCheckResult, NodeCheck
from micrograd_like.dotwriter import FORMATS, DotGraph, DotNotFound, render
from micrograd_like.engine import Value, topological_order
from micrograd_like.ops import Op

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
VERDICT_FILL = {OK: "#d3f9d8", MISMATCH: "#ffc9c9", KINK: "#ffe8cc", None: "#ffffff"}
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
# what render_svgs strips from dot's SVG: the XML prolog and DOCTYPE before <svg>, comments,
# and namespace declarations (HTML puts inline <svg> in the SVG namespace by itself)
_SVG_HEAD = re.compile(r"\A.*?(?=<svg\b)", re.S)
_SVG_NOISE = re.compile(r"<!--.*?-->|\s+xmlns(?::xlink)?=\"[^\"]*\"", re.S)

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
) -> Diagram:
    """Return a diagram of everything ``root`` depends on (shown inline in Jupyter).

    Each value is a box with its label (``names[node]`` instead when ``names`` has it), data
    and gradient (``grads[node]`` instead of ``.grad`` when ``grads`` is given, a dash for
    nodes missing from it), to 4 significant digits; leaves, ``parameters`` and the output are
    coloured apart. Each op is a small node whose inputs keep argument order (edges of n-ary
    and non-commutative ops are labelled ``1..n``, or ``w1..wn, x1..xn, b`` for ``dot``).
    ``check`` (what ``check_graph`` returns) fills each value by its verdict and shows a
    mismatch's numbers; ``highlight`` outlines values and their ops; either adds a key. A
    graph of more than ``max_nodes`` values is drawn collapsed: values grouped by op and
    depth, parameters by dotted name, each group one box with its count and range of numbers,
    and a caption saying what is hidden (``ValueError`` if even that cannot fit).
    ``nodes`` draws only a part: ``root`` and the values of ``nodes`` it reaches through
    values of ``nodes`` (a value of ``nodes`` it does not reach is a ``ValueError``); the rest
    of the graph is not even walked, so a window of a huge graph draws fast. A drawn value
    with inputs left out is marked ``⋯`` (:data:`CUT_MARK`), and the key says so. The result
    is a :class:`Diagram`: ``.source`` is its DOT text (no program needed); save it with
    ``.render(outfile="g.png")`` or get the bytes with ``.pipe()``, which run Graphviz's
    ``dot`` in ``format`` by default and raise :class:`DotNotFound` (saying how to install it)
    without it.
    """
    a_value(root, "draw_dot: root")
    if rankdir not in RANKDIRS:
        raise ValueError(f"draw_dot: rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")
    flag(show_grad, "draw_dot: show_grad")
    count(max_nodes, "draw_dot: max_nodes", wrong_type=ValueError)
    if not isinstance(format, str) or format.lower() not in FORMATS:
        raise ValueError(
            f"draw_dot: format {format!r} is not one Graphviz renders; "
            f"use one of {', '.join(FORMATS)}"
        )
    if grads is not None and not show_grad:
        raise ValueError("draw_dot: grads were given but show_grad=False hides gradients")
    order = topological_order(root) if nodes is None else _part(root, _values(nodes, "nodes"))
    index = {v: i for i, v in enumerate(order)}
    marked = set(_values(highlight, "highlight"))
    for v in marked:
        if v not in index:
            where = "the graph of root" if nodes is None else "the part of the graph drawn"
            raise ValueError(f"draw_dot: highlighted node {v!r} is not in {where}")
    painter = _Painter(
        root=root,
        show_grad=show_grad,
        grads=_checked_mapping(grads, "grads", "number", _as_float),
        names=_checked_mapping(names, "names", "str", _as_str),
        verdicts=_checked_verdicts(check),
        marked=marked,
        params=set(_values(parameters, "parameters")),
        cut=set() if nodes is None else _cut(order, index),
    )
    groups = None
    if len(order) > max_nodes:
        groups = _collapse(order, max_nodes, marked | {root}, painter)
    graph = painter.draw(order, groups, rankdir=rankdir, max_nodes=max_nodes)
    return Diagram(graph.source, format=format.lower(), title=painter.name(root) or "the output",
                   values=len(order))  # fmt: skip


def _cut(order: list[Value], index: dict[Value, int]) -> set[Value]:
    # the drawn values with an input that is not drawn
    return {v for v in order if any(p not in index for p in v.parents)}


def _part(root: Value, chosen: list[Value]) -> list[Value]:
    """Root and the values of ``chosen`` it reaches through them, each after its drawn inputs.

    ``topological_order`` stepping only into chosen values, so it costs the size of the part,
    not of the graph; a chosen value it cannot reach is an error.
    """
    order = topological_order(root, within=chosen)
    seen = {id(v) for v in order}
    for i, v in enumerate(chosen):
        if id(v) not in seen:
            raise ValueError(
                f"draw_dot: nodes[{i}] ({v!r}) is not reached from root through nodes: each "
                "value drawn must be root or an input of another value drawn"
            )
    return order


def render_svgs(diagrams: Sequence[Diagram]) -> list[str]:
    """Render diagrams to SVG text for a web page, with one run of Graphviz's ``dot`` for all.

    Each result is the ``<svg>`` element alone (no XML prolog, comments or namespace
    declarations, which HTML does not need), ready to paste into a page; one process for many
    diagrams is much faster than one each. Without ``dot`` this raises :class:`DotNotFound`
    saying how to install it.
    """
    diagrams = list(diagrams)
    for i, d in enumerate(diagrams):
        if not isinstance(d, Diagram):
            raise TypeError(
                f"render_svgs: diagrams[{i}] must be a Diagram (what draw_dot returns), "
                f"got {d!r:.60}"
            )
    if not diagrams:
        return []
    out = render("\n".join(d.source for d in diagrams), "svg").decode("utf-8")
    return [_inline_svg(part) for part in out.split("</svg>")[: len(diagrams)]]


def _inline_svg(text: str) -> str:
    # dot's SVG document as an element for HTML: no prolog, comments or namespace declarations
    text = text if text.rstrip().endswith("</svg>") else text + "</svg>"
    return _SVG_NOISE.sub("", _SVG_HEAD.sub("", text)).strip()


class Diagram:
    """A graph diagram: its DOT text, and its rendering by Graphviz's ``dot`` on demand.

    ``source`` is the DOT text (made by our own code: no package or program needed).
    :meth:`pipe` renders it to bytes, :meth:`render` to a file and :meth:`svg` to an inline
    ``<svg>`` element; these need Graphviz's ``dot`` and raise :class:`DotNotFound` (with the
    install command) without it. In Jupyter a diagram shows inline, fitted to the output's
    width, with static copies (SVG, PNG) in the output so a saved notebook still shows it.
    """

    def __init__(self, source: str, *, format: str = "svg", title: str = "", values: int = 0):
        self.source = source
        self.format = format
        self.title = title
        self.values = values

    def pipe(self, format: str | None = None, encoding: str | None = None) -> Any:
        """Return the diagram rendered by ``dot`` in ``format`` (default: ``self.format``).

        Bytes, or text decoded with ``encoding`` when one is given (``pipe("svg", "utf-8")``).
        """
        out = render(self.source, self.format if format is None else format)
        return out if encoding is None else out.decode(encoding)

    def render(
        self,
        filename: str | os.PathLike[str] | None = None,
        directory: str | os.PathLike[str] | None = None,
        *,
        format: str | None = None,
        outfile: str | os.PathLike[str] | None = None,
        cleanup: bool = False,
    ) -> str:
        """Write the rendered diagram to a file and return its path (as ``graphviz`` does).

        ``render(outfile="g.png")`` writes ``g.png`` (the format from the suffix unless
        ``format`` is given). ``render("g")`` writes the DOT text to ``g`` and the picture to
        ``g.<format>`` (``cleanup=True`` removes the DOT file again). The picture is written to
        a temporary file beside it and renamed, so a failure leaves no half-written file.
        """
        from micrograd_like._files import write_atomically

        if outfile is None and filename is None:
            raise TypeError("Diagram.render: give outfile= (or a filename for the DOT text)")
        folder = Path(os.fspath(directory)) if directory is not None else Path()
        if outfile is not None:
            target = folder / os.fspath(outfile)
            fmt = format or target.suffix.lstrip(".").lower() or self.format
        else:
            fmt = format or self.format
            target = folder / f"{os.fspath(filename)}.{fmt}"  # type: ignore[arg-type]
        data = render(self.source, fmt)
        write_atomically(target, data, "Diagram.render")
        if filename is not None:
            dot_file = folder / os.fspath(filename)
            if cleanup:
                dot_file.unlink(missing_ok=True)
            else:
                write_atomically(dot_file, self.source.encode("utf-8"), "Diagram.render")
        return os.fspath(target)

    def save(self, path: str | os.PathLike[str], format: str | None = None) -> Path:
        """Write the rendered diagram to ``path`` (format from its suffix) and return the path."""
        return Path(self.render(outfile=path, format=format))

    def svg(self) -> str:
        """Return the diagram as an inline ``<svg>`` element for a web page (needs ``dot``)."""
        return _inline_svg(self.pipe("svg", "utf-8"))

    def __repr__(self) -> str:
        return (
            f"<Diagram of {self.title} ({self.values} values): .source is its DOT text; "
            ".render(outfile='g.png') saves it; shown as a picture in Jupyter>"
        )

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None, **kwargs: Any
    ) -> dict[str, Any]:
        """What Jupyter shows: the diagram as HTML (inline SVG, so hover works), plus SVG and
        PNG copies and a line of text, so every viewer of a saved notebook finds a picture."""
        from micrograd_like._html import figure_html

        svg = self.svg()
        png = self.pipe("png")
        import base64

        return {
            "text/plain": repr(self),
            "text/html": figure_html(svg, png),
            "image/svg+xml": svg,
            "image/png": base64.b64encode(png).decode("ascii"),
        }


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


def _roles(op: Op, n: int) -> list[str]:
    """Edge labels for an op's inputs, so argument order stays visible."""
    if op.name == "dot":  # inputs w_1..w_k, x_1..x_k, b
        k = (n - 1) // 2
        return [f"w{i}" for i in range(1, k + 1)] + [f"x{i}" for i in range(1, k + 1)] + ["b"]
    if n == 1 or op.name in ("add", "mul"):  # order cannot change the value
        return [""] * n
    return [str(i) for i in range(1, n + 1)]


def _table(cells: list[str], notes: list[str], rule: str) -> str:
    """An HTML-like label: one row of cells, then one full-width row per note, ruled."""
    row = "<VR/>".join(f"<TD>{c}</TD>" for c in cells)
    extra = "".join(f'<HR/><TR><TD COLSPAN="{len(cells)}">{n}</TD></TR>' for n in notes)
    return (
        f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="4" COLOR="{rule}">'
        f"<TR>{row}</TR>{extra}</TABLE>>"
    )


# ----------------------------------------------------------------------------- collapsing


def _collapse(
    order: list[Value], max_nodes: int, keep: set[Value], painter: _Painter
) -> list[list[Value]]:
    """Split ``order`` into groups drawn as one box each: few enough to read, never over max_nodes.

    A value's level is its longest distance from a leaf. Values of one op at one level form a
    group (in an MLP: all first-layer ``dot`` nodes, then all their ``tanh`` nodes, ...);
    leaves go with the op and level that first use them, or by their dotted name's prefix
    (``layers.0``). If that is still too many, levels are merged into bands of doubling width;
    if even one band needs more than ``max_nodes`` boxes, ``ValueError``. ``keep`` (the output
    and highlighted nodes) always stay single.
    """
    # a collapsed view should stay readable at a glance: a quarter of max_nodes, 16 at least
    target = min(max_nodes, max(16, max_nodes // 4))
    level: dict[Value, int] = {}
    what: dict[Value, str] = {}  # an op node's op; a leaf's role and the op first using it
    first_use: dict[Value, int] = {}
    params = painter.params
    for v in order:
        # the inputs drawn: all of them, unless nodes= left some out
        ps = [p for p in v.parents if p in level]
        lv = level[v] = 1 + max((level[p] for p in ps), default=-1)
        if not v.parents:
            continue
        what[v] = v.primitive.describe()  # type: ignore[union-attr]
        for p in ps:
            if not p.parents and first_use.get(p, lv + 1) > lv:
                first_use[p] = lv
                what[p] = f"{'parameter' if p in params else 'leaf'} -> {what[v]}"
    names = _name_groups([v for v in order if not v.parents], target, painter.name)
    kinds: list[tuple[str, int, str]] = []  # (tag, level or -1 for any, what) per value
    for i, v in enumerate(order):
        if v in keep:
            kinds.append(("keep", -1, str(i)))
        elif v.parents:
            kinds.append(("op", level[v], what[v]))
        elif v in names:
            kinds.append(("name", -1, names[v]))
        else:
            kinds.append(("leaf", first_use[v], what[v]))
    top = max(level.values())
    width = 1
    while True:
        groups: dict[tuple[str, int, str], list[Value]] = {}
        for v, (tag, lv, kind) in zip(order, kinds, strict=True):
            groups.setdefault((tag, lv // width if lv >= 0 else -1, kind), []).append(v)
        if len(groups) <= target or (width > top and len(groups) <= max_nodes):
            return list(groups.values())
        if width > top:
            raise ValueError(
                f"draw_dot: the graph has {len(order)} values and even collapsed it needs "
                f"{len(groups)} boxes, more than max_nodes={max_nodes} ({len(keep)} output and "
                "highlighted nodes are always drawn); raise max_nodes, or draw a part: "
                "draw_dot(node) draws only what node depends on"
            )
        width *= 2


def _name_groups(
    leaves: list[Value], budget: int, name: Callable[[Value], str]
) -> dict[Value, str]:
    """Group leaves with dotted names by a shared prefix (``layers.0`` of ``layers.0.w.3``).

    The prefix is the shortest one that splits the names into several groups, at most
    ``budget`` of them; no grouping if even the first name part makes too many groups.
    """
    parts = {v: n.split(".") for v in leaves if "." in (n := name(v))}
    best: dict[Value, str] = {}
    for depth in range(1, max((len(p) for p in parts.values()), default=1)):
        prefixes = {v: ".".join(p[: min(depth, len(p) - 1)]) for v, p in parts.items()}
        groups = len(set(prefixes.values()))
        if groups > budget:
            break
        best = prefixes
        if groups > 1:
            break
    return best


# ----------------------------------------------------------------------------- drawing


# Graphviz attributes shared by every diagram and by each kind of node
GRAPH_ATTR = {"nodesep": "0.2", "ranksep": "0.35", "fontname": FONT, "fontsize": "11"}
NODE_ATTR = {"fontname": FONT, "fontsize": "11"}
EDGE_ATTR = {"fontname": FONT, "fontsize": "9", "fontcolor": "#868e96", "color": "#495057",
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
        root: Value,
        show_grad: bool,
        grads: dict[Value, float] | None,
        names: dict[Value, str] | None,
        verdicts: dict[Value, NodeCheck] | None,
        marked: set[Value],
        params: set[Value],
        cut: set[Value],
    ) -> None:
        self.root = root
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
        """The gradient shown for ``v``: ``grads[v]`` (``None`` if absent) or ``v.grad``."""
        if self.grads is None:
            return v.grad
        return self.grads.get(v)

    def kind(self, v: Value) -> str:
        """Which ``KIND_STYLE`` entry draws ``v``."""
        if v is self.root:
            return "output"
        if v in self.params:
            return "parameter"
        return "value" if v.parents else "leaf"

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
        bundled: Counter[tuple[str, str]] = Counter()
        first_role: dict[tuple[str, str], str] = {}
        for i, v in enumerate(order):
            single = unit[v] == f"v{i}"
            if single:
                self.value_node(g, f"v{i}", v)
            op = v.primitive
            if op is None:
                continue
            if single:
                self.op_node(g, f"o{i}", v, op)
                g.edge(f"o{i}", f"v{i}")
            head = f"o{i}" if single else unit[v]
            for role, p in zip(_roles(op, len(v.parents)), v.parents, strict=True):
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
        if self.verdicts is not None or self.marked or self.cut:
            self.legend(g)
        return g

    def value_node(self, g: DotGraph, name: str, v: Value) -> None:
        """A value's box: label (if any), data, grad; its check's verdict and numbers."""
        fill, border, width = KIND_STYLE[self.kind(v)]
        title = self.name(v)
        if v in self.cut:
            title = f"{title} {CUT_MARK}" if title else CUT_MARK
        cells = [f"<B>{_text(str(title))}</B>"] if title else []
        cells.append(f"data {_num(v.data)}")
        tip = f"data = {v.data!r}"  # the tooltip (hover in SVG) has full precision
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
            elif result is not None and result.verdict == KINK:
                notes.append(KINK)
        if v in self.marked:
            border, width = HIGHLIGHT
        label = _table(cells, notes, border)
        g.node(name, label, **VALUE_ATTR, fillcolor=fill, color=border, penwidth=width, tooltip=tip)

    def op_node(self, g: DotGraph, name: str, v: Value, op: Op) -> None:
        """The small node of the op that made ``v``."""
        border, width = HIGHLIGHT if v in self.marked else ("#495057", "1")
        label = f"<{_text(_op_text(op))}>"
        g.node(name, label, **OP_ATTR, color=border, penwidth=width, tooltip=op.name)

    def group_node(self, g: DotGraph, name: str, members: list[Value]) -> None:
        """One box for many values: what they are, how many, and the range of their numbers."""
        n = len(members)
        op = members[0].primitive
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
            fill = VERDICT_FILL[next((c for c in (MISMATCH, KINK, OK) if counts[c]), None)]
            notes.append(", ".join(f"{counts[c]} {c}" for c in counts) or "not checked")
        label = _table([f"<B>{_text(title)}</B>"], notes, border)
        g.node(name, label, **GROUP_ATTR, fillcolor=fill, color=border, penwidth=width,
               tooltip=f"{n} values")  # fmt: skip

    def legend(self, g: DotGraph) -> None:
        """A key explaining check verdicts' colours, the highlight outline and the cut mark."""
        rows = []  # (swatch attributes, swatch text, meaning)
        if self.verdicts is not None:
            rows += [
                (f'BGCOLOR="{VERDICT_FILL[c]}" BORDER="1" COLOR="#adb5bd"', " ", text)
                for c, text in (
                    (OK, "gradient matches finite differences"),
                    (MISMATCH, "gradient differs from finite differences"),
                    (KINK, "not differentiable here"),
                    (None, "not checked"),
                )
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
