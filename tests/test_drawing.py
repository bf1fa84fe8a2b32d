"""Tests for graph diagrams: structure, labels, colours and collapsing, in DOT and rendered SVG."""

from __future__ import annotations

import itertools
import math
import random
import re
import sys
import xml.etree.ElementTree as ET
from typing import Any

import graphviz
import pytest
from conftest import require_tool
from hypothesis import example, given
from hypothesis import strategies as st

from micrograd_like import dotwriter, views
from micrograd_like.checking import (
    KINK,
    MISMATCH,
    OK,
    UNCHECKABLE,
    UNRESOLVED,
    VERDICT_COLOURS,
    check_graph,
)
from micrograd_like.dotwriter import DotGraph, render
from micrograd_like.drawing import LABEL_LIMIT, Diagram, DotNotFound, draw_dot, render_svgs
from micrograd_like.engine import Value, topological_order
from micrograd_like.functional import dot, vsum
from micrograd_like.stepper import Stepper
from micrograd_like.testing import temporary_op

SVG = "{http://www.w3.org/2000/svg}"
XLINK = "http://www.w3.org/1999/xlink"
FILLS = {OK: "#d3f9d8", MISMATCH: "#ffc9c9", KINK: "#ffe8cc"}
PURPLE = "#7c3aed"


# ----------------------------------------------------------------------------- helpers


def dot_nodes(g: Any) -> list[str]:
    """Node names declared in the DOT source, in order (edges and attributes excluded)."""
    names = re.findall(r"^\t(\w+) \[", g.source, flags=re.M)
    return [n for n in names if n not in ("graph", "node", "edge")]


def dot_edges(g: Any) -> list[tuple[str, str, str]]:
    """(tail, head, label) of every edge in the DOT source, in order."""
    edges = re.findall(r"^\t(\w+) -> (\w+)(?: \[label=\"?([^\"\]]*)\"?\])?$", g.source, flags=re.M)
    return [(a, b, label) for a, b, label in edges]


def render_svg(g: Any) -> ET.Element:
    """Render through Graphviz's dot and parse: the SVG must be well-formed XML."""
    require_tool("dot")
    return ET.fromstring(g.pipe(format="svg", encoding="utf-8"))


def svg_nodes(svg: ET.Element) -> dict[str, ET.Element]:
    return {
        el.findtext(f"{SVG}title"): el for el in svg.iter(f"{SVG}g") if el.get("class") == "node"
    }


def svg_edges(svg: ET.Element) -> list[tuple[str, str]]:
    titles = [el.findtext(f"{SVG}title") for el in svg.iter(f"{SVG}g") if el.get("class") == "edge"]
    return [tuple(t.split("->")) for t in titles]  # type: ignore[misc]


def texts(el: ET.Element) -> list[str]:
    # Graphviz writes runs of spaces as " \xa0" so SVG keeps them; read NBSP as a space
    return [(t.text or "").replace("\xa0", " ") for t in el.iter(f"{SVG}text")]


def fill_and_stroke(el: ET.Element) -> tuple[str | None, str | None]:
    """Fill and outline colour of a node's shape (a box's polygon, an op's ellipse)."""
    shape = next(e for e in el.iter() if e.tag in (f"{SVG}polygon", f"{SVG}ellipse"))
    return shape.get("fill"), shape.get("stroke")


def node_named(svg: ET.Element, label: str) -> ET.Element:
    (found,) = [el for el in svg_nodes(svg).values() if texts(el)[:1] == [label]]
    return found


def neuron() -> tuple[Value, list[Value]]:
    """micrograd's example neuron, tanh(x1 w1 + x2 w2 + b), with its gradients."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    x2w2 = x2 * w2
    x2w2.label = "x2*w2"
    s = x1w1 + x2w2
    s.label = "x1*w1 + x2*w2"
    n = s + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.backward()
    return o, [w1, w2, b]


def mlp_loss(samples: int, sizes: tuple[int, ...] = (3, 16, 16, 1)) -> tuple[Value, list[Value]]:
    """An MLP-like loss graph of Values; parameters are named as nn names them (layers.0.w.1)."""
    rng = random.Random(0)
    layers = [
        [
            (
                [
                    Value(rng.uniform(-1, 1), label=f"layers.{i}.neurons.{j}.w.{k}")
                    for k in range(a)
                ],
                Value(0.0, label=f"layers.{i}.neurons.{j}.b"),
            )
            for j in range(b)
        ]
        for i, (a, b) in enumerate(itertools.pairwise(sizes))
    ]
    losses = []
    for _ in range(samples):
        h = [Value(rng.uniform(-1, 1)) for _ in range(sizes[0])]
        for layer in layers:
            h = [dot(ws, h, b).tanh() for ws, b in layer]
        losses.append((h[0] - rng.choice([-1.0, 1.0])) ** 2)
    loss = vsum(losses) / samples
    loss.label = "loss"
    loss.backward()
    return loss, [p for layer in layers for ws, b in layer for p in (*ws, b)]


@pytest.fixture(scope="module")
def big_mlp() -> tuple[Value, list[Value]]:
    loss, params = mlp_loss(280)
    assert len(topological_order(loss)) > 20_000
    return loss, params


# ----------------------------------------------------------------------------- structure


def test_neuron_nodes_edges_and_labels_in_dot_and_svg() -> None:
    o, params = neuron()
    g = draw_dot(o, parameters=params)
    assert isinstance(g, Diagram)
    names = dot_nodes(g)
    values = [n for n in names if n.startswith("v")]
    ops = [n for n in names if n.startswith("o")]
    assert (len(values), len(ops), len(names)) == (10, 5, 15)
    assert len(dot_edges(g)) == 5 + 9  # op -> its value, and 9 inputs into ops

    svg = render_svg(g)
    assert set(svg_nodes(svg)) == set(names)
    assert sorted(svg_edges(svg)) == sorted((a, b) for a, b, _ in dot_edges(g))
    assert texts(node_named(svg, "x1")) == ["x1", "data 2", "grad -1.5"]
    assert texts(node_named(svg, "w1")) == ["w1", "data -3", "grad 1"]
    assert texts(node_named(svg, "n")) == ["n", "data 0.8814", "grad 0.5"]
    assert texts(node_named(svg, "o")) == ["o", "data 0.7071", "grad 1"]
    op_texts = sorted(texts(svg_nodes(svg)[name])[0] for name in ops)
    assert op_texts == ["*", "*", "+", "+", "tanh"]
    # x1 and w1 feed one "*" node, whose output is the value labelled x1*w1
    by_label = {texts(el)[0]: name for name, el in svg_nodes(svg).items()}
    (mul,) = {b for a, b in svg_edges(svg) if a == by_label["x1"]}
    assert (by_label["w1"], mul) in svg_edges(svg)
    assert (mul, by_label["x1*w1"]) in svg_edges(svg)


def test_unlabelled_values_show_data_and_grad_only() -> None:
    x = Value(3.0)
    y = x * x
    y.backward()
    svg = render_svg(draw_dot(y))
    assert texts(svg_nodes(svg)["v0"]) == ["data 3", "grad 6"]
    assert texts(svg_nodes(svg)["v1"]) == ["data 9", "grad 1"]


def test_parents_keep_argument_order() -> None:
    ws = [Value(1.0, label="w1"), Value(2.0, label="w2")]
    xs = [Value(3.0, label="x1"), Value(4.0, label="x2")]
    b = Value(5.0, label="b")
    out = dot(ws, xs, b)
    g = draw_dot(out)
    names = {v.label: f"v{i}" for i, v in enumerate(topological_order(out))}
    into_op = [(a, label) for a, head, label in dot_edges(g) if head.startswith("o")]
    roles = ("w.0", "w.1", "x.0", "x.1", "b")  # as nn names a neuron's weights
    labels = ("w1", "w2", "x1", "x2", "b")
    assert into_op == [(names[r], role) for r, role in zip(labels, roles, strict=True)]
    # the rendered edges carry the same role labels
    svg = render_svg(g)
    edge_labels = [texts(el) for el in svg.iter(f"{SVG}g") if el.get("class") == "edge"]
    assert sorted(t[0] for t in edge_labels if t) == ["b", "w.0", "w.1", "x.0", "x.1"]


def test_non_commutative_and_nary_ops_number_their_inputs() -> None:
    x, y, z = Value(2.0, label="x"), Value(3.0, label="y"), Value(4.0, label="z")
    for out, order in ((x**y, ["x", "y"]), (vsum([z, x, y]), ["z", "x", "y"])):
        labels = {f"v{i}": v.label for i, v in enumerate(topological_order(out))}
        into_op = [
            (labels[a], label) for a, head, label in dot_edges(draw_dot(out)) if head[0] == "o"
        ]
        assert into_op == [(name, str(k)) for k, name in enumerate(order, 1)]


def test_a_value_used_twice_gets_two_edges() -> None:
    x = Value(3.0, label="x")
    into_op = [e for e in dot_edges(draw_dot(x * x)) if e[1] == "o1"]
    assert into_op == [("v0", "o1", ""), ("v0", "o1", "")]


@pytest.mark.parametrize(
    ("make", "shown"),
    [
        (lambda x: x**2, "**2"),
        (lambda x: 1 / x, "**-1"),
        (lambda x: x.leaky_relu(0.01), "leaky_relu(0.01)"),
        (lambda x: x.clamp(-1, 1), "clamp(-1, 1)"),
        (lambda x: -x, "-"),
        (lambda x: vsum([x, x]), "Σ"),
        (lambda x: dot([x], [x]), "w·x+b"),
        (lambda x: x.exp(), "exp"),
    ],
)
def test_op_nodes_show_symbol_and_params(make: Any, shown: str) -> None:
    out = make(Value(0.5))
    svg = render_svg(draw_dot(out))
    ops = [texts(el) for name, el in svg_nodes(svg).items() if name.startswith("o")]
    assert [shown] in ops


def test_custom_op_symbol_is_text_not_markup() -> None:
    with temporary_op(
        "drawing_test_weird", 1, lambda x: x, lambda m, g, out, x: (g,), symbol="<ψ>\\N&"
    ) as weird:
        svg = render_svg(draw_dot(Value.apply(weird, Value(1.0))))
    assert texts(svg_nodes(svg)["o1"]) == ["<ψ>\\N&"]


@pytest.mark.parametrize(
    ("x", "shown"),
    [
        (1 / 3, "0.3333"),
        (2.0, "2"),
        (-0.0, "-0"),
        (123456789.0, "1.235e+08"),
        (1e-20, "1e-20"),
        (math.nan, "nan"),
        (math.inf, "inf"),
        (-math.inf, "-inf"),
    ],
)
def test_numbers_are_short(x: float, shown: str) -> None:
    v = Value(x)
    v.grad = x
    assert texts(svg_nodes(render_svg(draw_dot(v)))["v0"]) == [f"data {shown}", f"grad {shown}"]


def test_leaves_parameters_output_and_inner_values_look_different() -> None:
    o, params = neuron()
    svg = render_svg(draw_dot(o, parameters=params))
    styles = {label: fill_and_stroke(node_named(svg, label)) for label in ("x1", "w1", "n", "o")}
    assert len(set(styles.values())) == 4
    assert styles["w1"] == fill_and_stroke(node_named(svg, "b"))  # both parameters
    assert styles["x1"] == fill_and_stroke(node_named(svg, "x2"))  # both plain leaves


def test_show_grad_false_hides_gradients() -> None:
    o, _ = neuron()
    svg = render_svg(draw_dot(o, show_grad=False))
    assert not [t for t in texts(svg) if t.startswith("grad")]
    assert texts(node_named(svg, "o")) == ["o", "data 0.7071"]


def test_grads_mapping_replaces_dot_grad_and_dashes_the_rest() -> None:
    o, _ = neuron()
    n = o.parents[0]
    o.grad = n.grad = 99.0
    svg = render_svg(draw_dot(o, grads={o: 1.0, n: 0.25}))
    assert texts(node_named(svg, "o"))[-1] == "grad 1"
    assert texts(node_named(svg, "n"))[-1] == "grad 0.25"
    assert texts(node_named(svg, "x1"))[-1] == "grad —"


def test_rankdir_and_format_reach_graphviz() -> None:
    o, _ = neuron()
    g = draw_dot(o, rankdir="TB", format="PNG")
    assert "rankdir=TB" in g.source
    assert g.format == "png"


def test_same_graph_draws_the_same_source() -> None:
    o, params = neuron()
    assert draw_dot(o, parameters=params).source == draw_dot(o, parameters=params).source


# ----------------------------------------------------------------------------- check and highlight


def test_check_verdicts_colour_nodes_with_numbers_and_a_key() -> None:
    x = Value(0.0, label="x")  # relu's kink
    w = Value(1.5, label="w")  # feeds the wrong rule
    # a deliberately wrong rule: d/dx x^2 given as 3x, which check_graph must flag
    with temporary_op(
        "drawing_test_bad_square", 1, lambda x: x * x, lambda m, g, out, x: (g * 3 * x,)
    ) as bad_square:
        out = x.relu() + bad_square(w)
    out.label = "out"
    result = check_graph(out)
    verdicts = {c.node.label: c.verdict for c in result.checks if c.node.label}
    assert verdicts == {"x": KINK, "w": MISMATCH, "out": OK}
    svg = render_svg(draw_dot(out, check=result))
    for v, check in result.nodes.items():
        name = f"v{topological_order(out).index(v)}"
        assert fill_and_stroke(svg_nodes(svg)[name])[0] == FILLS[check.verdict]
    w_check = result.nodes[w]
    assert texts(node_named(svg, "w"))[-1] == (
        f"analytic {w_check.analytic:.4g} ≠ numeric {w_check.numeric:.4g}"
    )
    assert texts(node_named(svg, "w"))[-1] == "analytic 4.5 ≠ numeric 3"
    assert texts(node_named(svg, "x"))[-1] == KINK
    assert "gradient differs from finite differences" in texts(svg_nodes(svg)["key"])
    assert "cluster_key" in draw_dot(out, check=result).source


def test_a_derivative_that_cannot_be_checked_has_its_own_fill_and_key_row() -> None:
    # at 1e10 the default step is near the float spacing: no difference resolves d(x*x)/dx
    x = Value(1e10, label="x")
    out = x * x
    out.label = "out"
    result = check_graph(out)
    assert result.nodes[x].verdict == UNRESOLVED
    svg = render_svg(draw_dot(out, check=result))
    box = node_named(svg, "x")
    assert fill_and_stroke(box)[0] == VERDICT_COLOURS[UNRESOLVED]
    assert texts(box)[-1] == UNRESOLVED
    assert any("cannot be checked at this step" in t for t in texts(svg_nodes(svg)["key"]))
    # a check where every derivative could be made keeps the shorter key
    ok = check_graph(Value(2.0) * Value(3.0))
    assert "cannot be checked" not in draw_dot(ok.output, check=ok).source


def _closure_node(x: Value, op: str, value: float, local: float) -> Value:
    # a node built micrograd-style: its data, and a closure with the local derivative given
    out = Value(value, (x,), op, label=f"{op} node")

    def _backward() -> None:
        x.grad += local * out.grad

    out._backward = _backward
    return out


def test_a_wrong_closure_and_an_uncheckable_one_are_coloured() -> None:
    x = Value(0.4, label="x")
    wrong = _closure_node(x, "exp", math.exp(0.4), 1.0)  # d exp = exp(x), not 1
    result = check_graph(wrong * 3.0)
    assert result.nodes[x].verdict == MISMATCH
    svg = render_svg(draw_dot(result.output, check=result))
    assert fill_and_stroke(node_named(svg, "x"))[0] == VERDICT_COLOURS[MISMATCH]

    y = Value(0.4, label="y")
    opaque = _closure_node(y, "twice", 0.8, 2.0)  # no table op named "twice"
    result = check_graph(opaque * 3.0)
    assert result.nodes[y].verdict == UNCHECKABLE
    svg = render_svg(draw_dot(result.output, check=result))
    box = node_named(svg, "y")
    assert fill_and_stroke(box)[0] == VERDICT_COLOURS[UNCHECKABLE]
    assert texts(box)[-1] == UNCHECKABLE
    assert any("not checkable" in t for t in texts(svg_nodes(svg)["key"]))


def test_no_key_without_check_or_highlight() -> None:
    o, _ = neuron()
    assert "key" not in dot_nodes(draw_dot(o))


def test_highlight_outlines_the_value_and_its_op() -> None:
    o, _ = neuron()
    n = o.parents[0]
    svg = render_svg(draw_dot(o, highlight=[n]))
    index = topological_order(o).index(n)
    assert fill_and_stroke(svg_nodes(svg)[f"v{index}"])[1] == PURPLE
    assert fill_and_stroke(svg_nodes(svg)[f"o{index}"])[1] == PURPLE
    assert fill_and_stroke(node_named(svg, "o"))[1] != PURPLE
    assert "highlighted" in texts(svg_nodes(svg)["key"])
    assert draw_dot(o, highlight=n).source == draw_dot(o, highlight=[n]).source


# ----------------------------------------------------------------------------- arguments


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (lambda r: {"rankdir": "XY"}, ValueError, "'XY'"),
        (lambda r: {"format": "gif2"}, ValueError, "'gif2'"),
        (lambda r: {"max_nodes": 0}, ValueError, "0"),
        (lambda r: {"max_nodes": True}, ValueError, "True"),
        (lambda r: {"max_nodes": 2.5}, ValueError, "2.5"),
        (lambda r: {"show_grad": "yes"}, TypeError, "'yes'"),
        (lambda r: {"highlight": [1.0]}, TypeError, r"highlight\[0\]"),
        (lambda r: {"highlight": [Value(1.0)]}, ValueError, "not in the graph"),
        (lambda r: {"parameters": 5}, TypeError, "parameters"),
        (lambda r: {"check": object()}, TypeError, "check_graph"),
        (lambda r: {"grads": [1.0]}, TypeError, "grads must be a mapping"),
        (lambda r: {"grads": {1.0: 1.0}}, TypeError, "keys must be Values"),
        (lambda r: {"grads": {r: True}}, TypeError, "True"),
        (lambda r: {"grads": {r: 1.0}, "show_grad": False}, ValueError, "show_grad=False"),
    ],
)
def test_bad_arguments_are_rejected_clearly(kwargs: Any, error: type, message: str) -> None:
    root = Value(1.0)
    with pytest.raises(error, match=message):
        draw_dot(root, **kwargs(root))


def test_root_must_be_a_value() -> None:
    with pytest.raises(TypeError, match="root must be a Value, got float"):
        draw_dot(1.0)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- labels are data


def shown_lines(label: str) -> list[str]:
    """What a label should read as in SVG, worked out independently of drawing.py.

    Over-long labels end in "…"; each "\\n" starts a new line (an empty line has no SVG text);
    control characters, which XML cannot carry, show as Unicode control pictures (C0, DEL) or
    Python escapes (C1, U+FFFE/U+FFFF, lone surrogates).
    """
    if len(label) > LABEL_LIMIT:
        label = label[:LABEL_LIMIT] + "…"
    lines = []
    for line in label.split("\n"):
        out = []
        for ch in line:
            c = ord(ch)
            if c < 0x20:
                out.append(chr(0x2400 + c))
            elif c == 0x7F:
                out.append("\u2421")
            elif 0x80 <= c < 0xA0:
                out.append(f"\\x{c:02x}")
            elif c in (0xFFFE, 0xFFFF) or 0xD800 <= c < 0xE000:
                out.append(f"\\u{c:04x}")
            else:
                out.append(ch)
        if out:
            lines.append("".join(out).replace("\xa0", " "))
    return lines


def label_texts(g: Any) -> list[str]:
    """The SVG texts of the single value node of ``g`` without its data and grad."""
    node_texts = texts(svg_nodes(render_svg(g))["v0"])
    assert node_texts[-2:] == ["data 1", "grad 0"]
    return node_texts[:-2]


@given(st.text(max_size=LABEL_LIMIT + 8))
@example('"]; evil [label="x')
@example("</TD></TR></TABLE>> ] [")
@example("a\\Nb\\G\\L\\\\")
@example("]")
@example("<B>bold</B> &amp; &#93; {x|y}")
@example("tab\there\r\nbell\x07 del\x7f c1\x85 \ufffe")
@example("  two  spaces  \n\n  ")
@example("漢字 😀 \u2028 \u200b")
def test_any_label_renders_verbatim_to_valid_svg(label: str) -> None:
    g = draw_dot(Value(1.0, label=label))
    assert dot_nodes(g) == ["v0"]
    assert label_texts(g) == shown_lines(label)


def test_lone_surrogate_and_long_labels() -> None:
    assert label_texts(draw_dot(Value(1.0, label="a\ud800b"))) == ["a\\ud800b"]
    long = "x" * (LABEL_LIMIT + 10)
    assert label_texts(draw_dot(Value(1.0, label=long))) == ["x" * LABEL_LIMIT + "…"]


def test_the_label_check_catches_an_unescaped_label() -> None:
    # a deliberately wrong drawing: the label pasted into an HTML label without escaping
    # loses its backslash sequence to Graphviz's \N (node name) substitution
    g = Diagram(
        "digraph { v0 [label=<<TABLE><TR><TD>a\\Nb</TD><TD>data 1</TD><TD>grad 0</TD></TR>"
        "</TABLE>>] }"
    )
    assert label_texts(g) != shown_lines("a\\Nb")


# ----------------------------------------------------------------------------- large graphs


def group_counts(svg: ET.Element) -> list[tuple[str, int]]:
    """(title, number of values) of every group box in the rendered diagram."""
    counts = []
    for name, el in svg_nodes(svg).items():
        if name.startswith("g"):
            title = texts(el)[0]
            found = re.search(r"× (\d+)$|^(\d+) (?:leaves|parameters)$|\((\d+) \w+\)$", title)
            assert found, title
            counts.append((title, int(next(n for n in found.groups() if n))))
    return counts


def test_large_mlp_graph_collapses_by_layer_and_says_so(big_mlp: tuple[Value, list[Value]]) -> None:
    loss, params = big_mlp
    total = len(topological_order(loss))
    g = draw_dot(loss, parameters=params)
    boxes = [n for n in dot_nodes(g) if n[0] in "vg"]
    assert len(boxes) <= 250 // 4
    svg = render_svg(g)
    counts = group_counts(svg)
    singles = [n for n in svg_nodes(svg) if n.startswith("v")]
    hidden = sum(n for _, n in counts)
    assert hidden + len(singles) == total  # every value is in exactly one box
    titles = [title for title, _ in counts]
    assert titles.count("tanh × 4480") == 2  # two hidden layers of 16 neurons x 280 samples
    assert titles.count("w·x+b × 280") == 1  # the output neuron
    assert "layers.0.neurons.*  (64 parameters)" in titles
    assert "layers.2.neurons.0.*  (17 parameters)" in titles
    caption = " ".join(t.text or "" for t in svg.findall(f"{SVG}g/{SVG}text"))
    assert f"collapsed: {hidden:,} of {total:,} values are hidden in {len(counts)} group" in caption
    assert texts(node_named(svg, "loss"))[0] == "loss"  # the output is always drawn itself


def test_collapsed_graph_keeps_highlighted_nodes(big_mlp: tuple[Value, list[Value]]) -> None:
    loss, _ = big_mlp
    inner = topological_order(loss)[500]
    g = draw_dot(loss, highlight=[inner])
    svg = render_svg(g)
    index = topological_order(loss).index(inner)
    assert fill_and_stroke(svg_nodes(svg)[f"v{index}"])[1] == PURPLE


def test_long_chain_collapses_into_bands_and_renders() -> None:
    y = Value(0.5, label="x")
    for _ in range(10_000):
        y = y * 1.0001 + 0.1
    total = len(topological_order(y))
    assert total > 20_000
    g = draw_dot(y, max_nodes=100)
    svg = render_svg(g)
    counts = group_counts(svg)
    singles = [n for n in svg_nodes(svg) if n.startswith("v")]
    assert len(counts) + len(singles) <= 100
    assert sum(n for _, n in counts) + len(singles) == total
    assert "collapsed" in g.source


def test_collapsed_groups_count_and_colour_check_verdicts() -> None:
    loss, _ = mlp_loss(4, sizes=(2, 3, 1))
    result = check_graph(loss)
    assert all(c.verdict == OK for c in result.checks)
    svg = render_svg(draw_dot(loss, check=result, max_nodes=20))
    groups = [el for name, el in svg_nodes(svg).items() if name.startswith("g")]
    assert groups
    for el in groups:
        count = next(n for title, n in group_counts(svg) if title == texts(el)[0])
        assert texts(el)[-1] == f"{count} ok"
        assert fill_and_stroke(el)[0] == FILLS[OK]


def test_collapsed_groups_take_the_fill_of_a_check_that_could_not_be_made() -> None:
    # x = 1e10 times 30 constants: the products' gradients (1) drown in the rounding of an
    # output of 4e12, so their group is "cannot be checked at this step", the constants' ok
    x = Value(1e10, label="x")
    out = vsum([x * Value(float(i)) for i in range(30)])
    result = check_graph(out)
    verdicts = {result.nodes[v].verdict for v in out.parents}
    assert verdicts == {UNRESOLVED}
    svg = render_svg(draw_dot(out, check=result, max_nodes=10))
    products = [
        el for name, el in svg_nodes(svg).items() if name.startswith("g") and "×" in texts(el)[0]
    ]
    assert products
    for el in products:
        assert fill_and_stroke(el)[0] == VERDICT_COLOURS[UNRESOLVED]
        assert "cannot be checked at this step" in texts(el)[-1]


def test_graph_of_exactly_max_nodes_is_drawn_in_full() -> None:
    o, _ = neuron()
    assert "collapsed" not in draw_dot(o, max_nodes=10).source
    assert "collapsed" in draw_dot(o, max_nodes=9).source


def test_refuses_when_even_collapsed_too_many_nodes_must_stay(
    big_mlp: tuple[Value, list[Value]],
) -> None:
    loss, _ = big_mlp
    with pytest.raises(ValueError, match=r"draw_dot\(node\) draws only what node depends on"):
        draw_dot(loss, highlight=topological_order(loss)[:50], max_nodes=20)


# ----------------------------------------------------------------------------- names and parts


def around(root: Value, size: int) -> list[Value]:
    """Root and the first ``size - 1`` values breadth-first through inputs: a part that hangs
    together from root, found without walking the rest of the graph."""
    chosen = {root: None}
    queue = [root]
    while queue and len(chosen) < size:
        for p in queue.pop(0).parents:
            if p not in chosen and len(chosen) < size:
                chosen[p] = None
                queue.append(p)
    return list(chosen)


def test_names_replace_labels_and_leave_the_graph_alone() -> None:
    o, _ = neuron()
    n = o.parents[0]
    x1 = next(v for v in topological_order(o) if v.label == "x1")
    unlabelled = Value(2.0) * 3.0
    svg = render_svg(draw_dot(o, names={x1: "input one", n: "n\nnew"}))
    assert texts(node_named(svg, "input one")) == ["input one", "data 2", "grad -1.5"]
    assert [t for t in texts(svg) if t in ("n", "new")] == ["n", "new"]  # two lines
    assert x1.label == "x1" and n.label == "n"  # only the drawing says otherwise
    assert texts(node_named(svg, "o"))[0] == "o"  # values missing from names keep labels
    svg = render_svg(draw_dot(unlabelled, names={unlabelled: "y"}))
    assert texts(svg_nodes(svg)["v2"])[0] == "y"


def test_names_also_title_collapsed_groups() -> None:
    loss, params = mlp_loss(4, sizes=(2, 3, 1))
    renamed = {p: p.label.replace("layers", "net") for p in params}
    svg = render_svg(draw_dot(loss, parameters=params, names=renamed, max_nodes=20))
    titles = [title for title, _ in group_counts(svg)]
    assert any(t.startswith("net.") for t in titles)
    assert not any(t.startswith("layers.") for t in titles)


def test_nodes_draw_a_part_and_mark_values_with_inputs_left_out() -> None:
    o, _ = neuron()
    n = o.parents[0]
    s, b = n.parents
    part = [o, n, s, b]  # x1*w1 and x2*w2, the inputs of s, are left out
    g = draw_dot(o, nodes=part, highlight=[n])
    svg = render_svg(g)
    boxes = [name for name in svg_nodes(svg) if name.startswith("v")]
    assert len(boxes) == 4 and len(dot_edges(g)) == 3 + 3  # 3 op nodes; n <- s, b; o <- n
    assert texts(node_named(svg, "x1*w1 + x2*w2 ⋯"))[1:] == ["data -6", "grad 0.5"]
    assert texts(node_named(svg, "n")) == ["n", "data 0.8814", "grad 0.5"]  # nothing cut
    assert "inputs not drawn" in texts(svg_nodes(svg)["key"])
    assert fill_and_stroke(node_named(svg, "o"))[0] == "#fff3bf"  # root is still the output
    # the whole graph as the part is the whole drawing, with nothing marked
    full = topological_order(o)
    assert draw_dot(o, nodes=reversed(full)).source == draw_dot(o).source


def test_the_cut_mark_check_can_fail() -> None:
    # drawing the same part without nodes= draws everything: no mark, and no key row
    o, _ = neuron()
    svg = render_svg(draw_dot(o))
    assert not [t for t in texts(svg) if "⋯" in t]


def test_a_part_of_a_huge_graph_is_drawn_without_walking_it(
    big_mlp: tuple[Value, list[Value]], monkeypatch: pytest.MonkeyPatch
) -> None:
    loss, _ = big_mlp
    part = around(loss, 40)

    walk = views.GraphView.order

    def refuse(self: views.GraphView, within: Any = None) -> list[Value]:
        # only a walk restricted to the part is allowed
        if within is None:
            raise AssertionError("draw_dot walked the whole graph")
        return walk(self, within=within)

    monkeypatch.setattr(views.GraphView, "order", refuse)
    g = draw_dot(loss, nodes=part, highlight=part[5], names={loss: "L"})
    assert len([n for n in dot_nodes(g) if n.startswith("v")]) == 40
    assert "collapsed" not in g.source and "⋯" in g.source


def test_a_large_part_collapses_like_a_graph() -> None:
    y = Value(0.5, label="x")
    for _ in range(3000):
        y = y * 1.0001 + 0.1
    part = around(y, 2000)
    g = draw_dot(y, nodes=part, max_nodes=50)
    svg = render_svg(g)
    singles = [n for n in svg_nodes(svg) if n.startswith("v")]
    assert sum(n for _, n in group_counts(svg)) + len(singles) == 2000
    assert "collapsed" in g.source


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (lambda o, v: {"nodes": [o, 1.0]}, TypeError, r"nodes\[1\] must be a Value"),
        (lambda o, v: {"nodes": 3}, TypeError, "nodes must be an iterable of Values"),
        (lambda o, v: {"nodes": [o, v["w1"]]}, ValueError, r"nodes\[1\] .* is not reached"),
        (lambda o, v: {"nodes": [o, Value(1.0)]}, ValueError, "is not reached from root"),
        (lambda o, v: {"nodes": [o], "highlight": [v["n"]]}, ValueError, "part of the graph"),
        (lambda o, v: {"names": ["o"]}, TypeError, "names must be a mapping Value -> str"),
        (lambda o, v: {"names": {"o": "x"}}, TypeError, "names keys must be Values"),
        (lambda o, v: {"names": {o: 3}}, TypeError, r"names\[.*\] must be a str, got 3"),
    ],
)
def test_bad_names_and_parts_are_rejected_clearly(kwargs: Any, error: type, message: str) -> None:
    o, _ = neuron()
    by_label = {v.label: v for v in topological_order(o)}
    with pytest.raises(error, match=message):
        draw_dot(o, **kwargs(o, by_label))


# ----------------------------------------------------------------------------- rendering


def test_render_svgs_renders_many_diagrams_for_a_page() -> None:
    require_tool("dot")
    o, _ = neuron()
    x = Value(1.0, label="x")
    svgs = render_svgs([draw_dot(o), draw_dot(x)])
    assert len(svgs) == 2
    for svg, boxes in zip(svgs, (10, 1), strict=True):
        assert svg.startswith("<svg") and svg.endswith("</svg>")
        assert "xmlns" not in svg and "<!--" not in svg and "<?xml" not in svg
        # HTML knows the xlink prefix; a strict XML parser has to be told
        root = ET.fromstring(svg.replace("<svg", f'<svg xmlns:xlink="{XLINK}"', 1))
        names = [el.findtext("title") for el in root.iter("g") if el.get("class") == "node"]
        assert len([n for n in names if n and n.startswith("v")]) == boxes
    assert render_svgs([]) == []
    with pytest.raises(TypeError, match=r"diagrams\[0\] must be a Diagram"):
        render_svgs(["digraph {}"])  # type: ignore[list-item]


def test_renders_png_and_pdf_files(tmp_path: Any) -> None:
    require_tool("dot")
    o, params = neuron()
    g = draw_dot(o, parameters=params, format="png")
    out = g.render(outfile=tmp_path / "neuron.png", cleanup=True)
    assert (tmp_path / "neuron.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert out.endswith("neuron.png")
    assert g.pipe(format="pdf").startswith(b"%PDF")


def test_without_dot_the_graph_is_built_and_rendering_says_how_to_install(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` anywhere on PATH
    o, _ = neuron()
    g = draw_dot(o)
    assert "digraph" in g.source
    hint = "sudo apt-get install graphviz"
    with pytest.raises(DotNotFound, match=hint):
        g.pipe(format="svg")
    with pytest.raises(DotNotFound, match=hint):
        g.render(outfile=tmp_path / "x.png")
    with pytest.raises(DotNotFound, match=hint):
        g._repr_mimebundle_()  # what Jupyter calls to show it inline
    with pytest.raises(DotNotFound, match=hint):
        render_svgs([g])
    # code written for the graphviz package still catches its own exception type
    with pytest.raises(graphviz.ExecutableNotFound, match=hint):
        g.pipe(format="svg")
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_dot_text_needs_neither_the_graphviz_package_nor_dot(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # what a browser (Pyodide) has: no graphviz package, no dot program
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setitem(sys.modules, "graphviz", None)  # import graphviz now fails
    monkeypatch.setattr(dotwriter, "_not_found_class", dotwriter._not_found_class.__wrapped__)
    o, params = neuron()
    source = draw_dot(o, parameters=params, highlight=[o]).source
    assert source.startswith("digraph micrograd_like {\n") and source.endswith("}\n")
    assert len(re.findall(r"^\tv\d+ \[", source, flags=re.M)) == 10
    with pytest.raises(DotNotFound, match="sudo apt-get install graphviz") as info:
        draw_dot(o).pipe()
    assert type(info.value) is DotNotFound
    steps = Stepper(o)
    assert "<B>o</B>" in steps.dot("backward", 0) and steps.frame("backward", 1).equation


def test_dot_text_is_what_graphviz_reads_and_renders_the_same(tmp_path: Any) -> None:
    # our DOT writer against dot itself: the same nodes, edges and texts as the reference
    # graphviz package writes for the same statements
    require_tool("dot")
    o, params = neuron()
    ours = draw_dot(o, parameters=params, highlight=[o.parents[0]])
    reference = graphviz.Source(ours.source)
    assert ET.tostring(render_svg(ours)) == ET.tostring(
        ET.fromstring(reference.pipe(format="svg", encoding="utf-8"))
    )
    assert DotGraph("g").source == "digraph g {\n}\n"
    odd = DotGraph("my graph")
    odd.node("a b", 'say "hi"', tooltip="back\\", color="#fff", width="0.3")
    odd.edge("node", "2x", label="<<B>x</B>>")
    assert odd.source.split("\n")[1:3] == [
        '\t"a b" [label="say \\"hi\\"" color="#fff" tooltip="back\\\\" width=0.3]',
        '\t"node" -> "2x" [label=<<B>x</B>>]',
    ]
    ET.fromstring(render(odd.source, "svg").decode())  # and dot accepts it


# ----------------------------------------------------------------------------- opened neurons


def fused_neuron() -> tuple[Value, list[Value]]:
    """tanh(w.0 x.0 + w.1 x.1 + b) as nn computes it: one dot node, named as nn names them."""
    ws = [Value(-3.0, label="w.0"), Value(1.5, label="w.1")]
    xs = [Value(2.0, label="x.0"), Value(0.5, label="x.1")]
    b = Value(6.8813735870195432, label="b")
    out = dot(ws, xs, b).tanh()
    out.label = "out"
    out.backward()
    return out, [*ws, b]


def test_expand_opens_a_neuron_into_products_sum_and_bias() -> None:
    out, params = fused_neuron()
    fused = draw_dot(out, parameters=params)
    opened = draw_dot(out, parameters=params, expand=True)
    count = {
        name: (
            len([n for n in dot_nodes(g) if n.startswith("v")]),
            len([n for n in dot_nodes(g) if n.startswith("o")]),
            len(dot_edges(g)),
        )
        for name, g in (("fused", fused), ("opened", opened))
    }
    # fused: 5 leaves, dot, tanh; 2 ops; 2 op->value + 5 + 1 inputs
    assert count["fused"] == (7, 2, 8)
    # opened: + 2 products and their sum; ops *, *, Σ, +, tanh; 5 op->value + 4 + 2 + 2 + 1
    assert count["opened"] == (10, 5, 14)
    roles = sorted(label for _, _, label in dot_edges(opened) if label)
    assert roles == ["b", "w.0", "w.1", "x.0", "x.1"]  # the names nn gives the weights
    svg = render_svg(opened)
    ops = sorted(texts(el)[0] for name, el in svg_nodes(svg).items() if name.startswith("o"))
    assert ops == ["*", "*", "+", "tanh", "Σ"]
    products = [t for el in svg_nodes(svg).values() for t in texts(el) if t == "data -6"]
    assert products  # w.0 * x.0 = -6, its own box
    dot_node = out.parents[0]
    # the shown-only boxes carry d out / d product = d out / d dot
    grads = [t for el in svg_nodes(svg).values() for t in texts(el) if t.startswith("grad ")]
    # dot, the sum, the two products, and b (d dot / d b = 1)
    assert grads.count(f"grad {dot_node.grad:.4g}") == 5


def test_expand_leaves_other_graphs_and_reused_inputs_alone() -> None:
    o, _ = neuron()  # no dot node: nothing to open
    assert draw_dot(o, expand=True).source == draw_dot(o).source
    x = Value(2.0, label="x")
    same = dot([x, x], [x, Value(1.0)])  # an input used twice stays fused (exact replay)
    assert "w·x+b" in draw_dot(same, expand=True).source
    with pytest.raises(TypeError, match="draw_dot: expand"):
        draw_dot(o, expand="yes")  # type: ignore[arg-type]


def test_render_writes_files_atomically_and_checks_its_arguments(tmp_path: Any) -> None:
    require_tool("dot")
    o, _ = neuron()
    g = draw_dot(o)
    assert g.render(tmp_path / "n", format="svg") == str(tmp_path / "n.svg")
    assert (tmp_path / "n").read_text().startswith("digraph")  # the DOT text beside it
    assert g.save(tmp_path / "n.png").read_bytes().startswith(b"\x89PNG")
    g.render(tmp_path / "m", cleanup=True)
    assert not (tmp_path / "m").exists() and (tmp_path / "m.svg").exists()
    with pytest.raises(TypeError, match=r"Diagram\.render: give outfile="):
        g.render()
    with pytest.raises(TypeError, match=r"Diagram\.render: outfile must be a str"):
        g.render(outfile=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="format 'gif2' is not one Graphviz renders"):
        g.save(tmp_path / "x.gif2")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.svg", "n", "n.png", "n.svg"]
    assert repr(g).startswith("<Diagram of o (10 values): .source is its DOT text")
