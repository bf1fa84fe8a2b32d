"""Collapsing a large graph for drawing: values grouped by op and depth, parameters by name."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from micrograd_like.drawing import _Painter
    from micrograd_like.engine import Value

__all__ = ["collapse"]


def collapse(
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
    params, view = painter.params, painter.view
    for v in order:
        # the inputs drawn: all of them, unless nodes= left some out
        ps = [p for p in view.parents(v) if p in level]
        lv = level[v] = 1 + max((level[p] for p in ps), default=-1)
        op = view.op(v)
        if op is None:
            continue
        what[v] = op.describe()
        for p in ps:
            if view.op(p) is None and first_use.get(p, lv + 1) > lv:
                first_use[p] = lv
                what[p] = f"{'parameter' if p in params else 'leaf'} -> {what[v]}"
    names = _name_groups([v for v in order if view.op(v) is None], target, painter.name)
    kinds: list[tuple[str, int, str]] = []  # (tag, level or -1 for any, what) per value
    for i, v in enumerate(order):
        if v in keep:
            kinds.append(("keep", -1, str(i)))
        elif view.op(v) is not None:
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
