"""Tests for stepping (the traces) and the Stepper's widget and text walk-through."""

from __future__ import annotations

import base64
import html
import math
import random
import re
import sys
from typing import Any

import pytest
from conftest import require_module, require_tool
from hypothesis import given, settings
from hypothesis import strategies as st

from micrograd_like import backprop, stepping
from micrograd_like.backprop import StepRecord, topological_order
from micrograd_like.engine import Value
from micrograd_like.functional import dot, vsum
from micrograd_like.ops import Op
from micrograd_like.stepper import Stepper
from micrograd_like.stepping import (
    gradients_at,
    node_names,
    trace_backward,
    trace_forward,
)
from micrograd_like.testing import DOMAINS, expressions
from micrograd_like.views import GraphView

# --------------------------------------------------------------------------- random graphs


@st.composite
def graphs(draw: st.DrawFn) -> Value:
    """A random graph over every built-in op (shared strategy: reuse, fan-out, n-ary ops)."""
    expr = draw(expressions(ops=sorted(DOMAINS), max_ops=10))
    return expr(*[Value(p, label=f"x{i}") for i, p in enumerate(expr.point)])


def same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def replay_mismatches(root: Value) -> list[str]:
    """Everything in which the trace disagrees with a real backward() (leaves .grad set)."""
    order = topological_order(root)
    steps = trace_backward(root)
    problems = [f"{v!r} .grad changed by the trace" for v in order if v.grad != 0.0]
    root.backward()
    final = gradients_at(steps, len(steps) - 1)
    problems += [
        f"{node_names(root)[v]}: trace {final.get(v)!r} != backward {v.grad!r}"
        for v in order
        if v not in final or not same(final[v], v.grad)
    ]
    for step in steps[1:]:
        if not same(step.grad, final[step.node]):
            problems.append(f"step {step.index}: node gradient {step.grad} not final")
        for u in step.updates:
            if not same(u.after, u.before + u.contribution):
                problems.append(f"step {step.index}: {u.before} + {u.contribution} != {u.after}")
    return problems


# --------------------------------------------------------------------------- trace_backward


@given(graphs())
def test_trace_reproduces_backward_exactly(root: Value) -> None:
    assert replay_mismatches(root) == []


@given(graphs())
def test_step_count_is_seed_plus_each_non_leaf_once(root: Value) -> None:
    order = topological_order(root)
    steps = trace_backward(root)
    non_leaves = [v for v in order if v.parents]
    assert len(steps) == 1 + len(non_leaves)
    assert steps[0].is_seed and steps[0].node is root and steps[0].updates == ()
    assert {id(s.node) for s in steps[1:]} == {id(v) for v in non_leaves}
    assert [s.index for s in steps] == list(range(len(steps)))
    assert all(len(s.updates) == len(s.node.parents) for s in steps[1:])


def test_a_wrong_trace_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    # the replay check must be able to fail: perturb one contribution the engine reports
    real = backprop.run_pass

    def skewed(root: Value, seed: Any, **kw: Any) -> tuple[list[Value], list[Any]]:
        trace: list[StepRecord] = kw["trace"]
        result = real(root, seed, **kw)
        rec = trace[-1]
        rec.after[0] += 1.0
        return result

    monkeypatch.setattr(stepping, "run_pass", skewed)
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    assert replay_mismatches(a * b + a) != []


def test_trace_changes_no_grad_and_leaves_no_state() -> None:
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    a.grad = 0.5  # gradients already accumulated stay as they are
    L = (a * b).tanh() + a
    trace_backward(L)
    assert [a.grad, b.grad, L.grad] == [0.5, 0.0, 0.0]
    L.backward()  # a real pass afterwards is unaffected
    assert b.grad == pytest.approx(2.0 * (1 - math.tanh(-6.0) ** 2))


def test_hand_example_equations() -> None:
    a, b, d = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="d")
    c = a * b
    c.label = "c"
    L = c + d
    L.label = "L"
    steps = trace_backward(L)
    assert [s.name for s in steps] == ["L", "L", "c"]
    assert steps[0].equation == "dL/dL = 1.0000   (the seed: L with respect to itself)"
    assert steps[0].latex == r"\frac{\partial L}{\partial L} = 1.0000 \quad \text{(the seed)}"
    assert steps[2].grad == 1.0
    assert steps[2].equation.split("\n") == [
        "dL/da += dL/dc * dc/da = 1.0000 * -3.0000 = -3.0000   [dL/da: 0.0000 -> -3.0000]",
        "dL/db += dL/dc * dc/db = 1.0000 * 2.0000 = 2.0000   [dL/db: 0.0000 -> 2.0000]",
    ]
    first = steps[2].updates[0]
    assert (first.name, first.local, first.contribution, first.before, first.after) == (
        "a",
        -3.0,
        -3.0,
        0.0,
        -3.0,
    )
    assert first.latex == (
        r"\frac{\partial L}{\partial a} \mathrel{+}= \frac{\partial L}{\partial c} \cdot "
        r"\frac{\partial c}{\partial a} = 1.0000 \cdot (-3.0000) = -3.0000"
        r" \quad [0.0000 \to -3.0000]"
    )
    assert steps[2].latex.startswith(r"\begin{gathered}") and r" \\ " in steps[2].latex


def test_reused_node_gets_one_update_per_use() -> None:
    # x * x: the second addition starts where the first ended (the engine records per parent)
    x = Value(3.0, label="x")
    y = x * x
    y.label = "y"
    (step,) = trace_backward(y)[1:]
    assert [(u.name, u.contribution, u.before, u.after) for u in step.updates] == [
        ("x", 3.0, 0.0, 3.0),
        ("x", 3.0, 3.0, 6.0),
    ]
    assert "[dy/dx: 3.0000 -> 6.0000]" in step.equation


def test_fan_out_accumulates_across_steps() -> None:
    a = Value(1.5, label="a")
    b = a.tanh()
    b.label = "b"
    L = a * b
    L.label = "L"
    updates = [(s.name, u.name, u.before, u.after) for s in trace_backward(L) for u in s.updates]
    assert updates[0][:3] == ("L", "a", 0.0)  # a first gets b
    assert updates[2][:2] == ("b", "a") and updates[2][2] == updates[0][3]  # then adds to it


def test_nary_writes_one_line_per_parent_and_seed_scales() -> None:
    xs = [Value(float(i), label=f"x{i}") for i in range(1, 4)]
    s = vsum(xs)
    s.label = "s"
    steps = trace_backward(s, grad=2.5)
    assert steps[0].grad == 2.5 and steps[0].equation.startswith("ds/ds = 2.5000   (the seed")
    lines = steps[1].equation.split("\n")
    assert len(lines) == 3 and all(" = 2.5000 * 1.0000 = 2.5000" in line for line in lines)
    assert [line.split(" ")[0] for line in lines] == ["ds/dx1", "ds/dx2", "ds/dx3"]


def test_leaf_root_is_one_seed_step() -> None:
    x = Value(4.0, label="x")
    (step,) = trace_backward(x)
    assert step.is_seed and step.equation.startswith("dx/dx = 1.0000") and step.updates == ()
    (fstep,) = trace_forward(x)
    assert fstep.is_leaf and fstep.equation == "x = 4.0000" and fstep.inputs == ()
    assert gradients_at([step], 0) == {x: 1.0}


def test_generated_names_are_stable_and_labels_win() -> None:
    def build() -> Value:
        a = Value(2.0, label="a")
        return (a * 3.0).tanh() + a

    first, second = build(), build()
    assert list(node_names(first).values()) == list(node_names(second).values())
    # unlabelled values are named by what they are: a constant by its value, a result by
    # its op and inputs (never n27)
    assert list(node_names(first).values()) == ["a", "3", "a*3", "tanh(a*3)", "tanh(a*3)+a"]
    eqs = [s.equation for s in trace_backward(first)]
    assert eqs == [s.equation for s in trace_backward(second)]
    assert eqs[0].startswith("d(tanh(a*3)+a)/d(tanh(a*3)+a) = 1.0000")


def test_odd_labels_are_bracketed_in_text_and_escaped_in_latex() -> None:
    w = Value(2.0, label="w_1 {x}")
    y = w * w
    y.label = "y"
    step = trace_backward(y)[1]
    assert step.equation.startswith("dy/d(w_1 {x}) += dy/dy * dy/d(w_1 {x})")
    assert r"\partial \mathrm{w\_1\ \{x\}}" in step.updates[0].latex


def test_numbers_use_scientific_notation_outside_everyday_magnitudes() -> None:
    x = Value(1e-7, label="x")
    y = x * 1e9
    y.label = "y"
    step = trace_forward(y)[-1]
    assert step.equation == "y = x * 1e+09 = 1.0000e-07 * 1.0000e+09 = 100.0000"
    assert step.latex == (
        r"y = x \cdot \mathrm{1e+09} = 1.0000 \times 10^{-7} \cdot 1.0000 \times 10^{9} = 100.0000"
    )


def test_an_op_symbol_never_hides_a_param() -> None:
    # a custom unary op with a symbol and a param is written as a call, keeping the param
    shift = Op("shift", 1, lambda x, c: x + c, lambda m, g, out, x, c: (g,), symbol="⊕")
    y = Value.apply(shift.bind(2.0), Value(1.0, label="x"))
    assert trace_forward(y)[-1].equation == "shift(x;2) = shift(x; 2) = shift(1.0000; 2) = 3.0000"
    neg = Op("flip", 1, lambda x: -x, lambda m, g, out, x: (-g,), symbol="~")
    assert trace_forward(Value.apply(neg, Value(1.0, label="x")))[-1].equation.startswith("~x = ~x")


def test_gradients_at_shows_only_what_the_pass_reached() -> None:
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b
    L = c.tanh()
    steps = trace_backward(L)
    assert gradients_at(steps, 0) == {L: 1.0}
    assert set(gradients_at(steps, 1)) == {L, c}
    assert set(gradients_at(steps, 2)) == {L, c, a, b}
    with pytest.raises(IndexError, match=r"step 3 is out of range 0\.\.2"):
        gradients_at(steps, 3)


def test_trace_raises_like_backward_and_changes_nothing() -> None:
    x = Value(0.0, label="x")
    y = x.sqrt() + x
    with pytest.raises(ZeroDivisionError, match=r"sqrt\(0\.0\)"):
        y.backward()
    with pytest.raises(ZeroDivisionError, match=r"sqrt\(0\.0\)"):
        trace_backward(y)
    assert x.grad == 0.0
    (x + 1.0).backward()  # nothing of the failed passes is left over
    assert x.grad == 1.0


def test_deep_chain_needs_no_recursion() -> None:
    x = v = Value(0.1, label="x")
    for _ in range(5000):
        v = v.tanh()
    steps = trace_backward(v)
    assert len(steps) == 5001 and steps[-1].updates[0].parent is x
    assert len(trace_forward(v)) == 5001


@pytest.mark.parametrize("fn", [trace_backward, trace_forward, node_names, Stepper])
@pytest.mark.parametrize("bad", [3.0, "x", None, [Value(1.0)]])
def test_non_value_root_is_a_type_error(fn: Any, bad: object) -> None:
    with pytest.raises(TypeError, match=type(bad).__name__):
        fn(bad)


def test_bad_seed_is_rejected() -> None:
    with pytest.raises(TypeError, match="trace_backward grad"):
        trace_backward(Value(1.0), grad="1")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- trace_forward


@given(graphs())
@settings(max_examples=30)
def test_forward_is_the_evaluation_order(root: Value) -> None:
    steps = trace_forward(root)
    assert sorted(map(id, (s.node for s in steps))) == sorted(map(id, topological_order(root)))
    leaves = [i for i, s in enumerate(steps) if s.is_leaf]
    assert leaves == list(range(len(leaves)))  # from the inputs: every leaf comes first
    assert [s.node for s in trace_forward(root, skip_leaves=True)] == [
        s.node for s in steps if not s.is_leaf
    ]
    seen: set[int] = set()
    for s in steps:
        assert s.value == s.node.data and s.inputs == s.node.parents
        assert s.op == ("" if s.is_leaf else s.node.primitive.describe())  # type: ignore[union-attr]
        assert all(id(p) in seen for p in s.inputs)  # each input computed before it is used
        seen.add(id(s.node))


def test_forward_equations() -> None:
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b
    c.label = "c"
    d = (-c) ** 2
    d.label = "d"
    eqs = [s.equation for s in trace_forward(d.leaky_relu(0.1))]
    assert eqs[2] == "c = a * b = 2.0000 * -3.0000 = -6.0000"
    assert eqs[3] == "-c = -c = -(-6.0000) = 6.0000"
    assert eqs[4] == "d = (-c) ** 2 = 6.0000 ** 2 = 36.0000"
    assert eqs[5] == "leaky_relu(d;0.1) = leaky_relu(d; 0.1) = leaky_relu(36.0000; 0.1) = 36.0000"
    assert trace_forward(d)[4].latex == r"d = {\mathrm{-c}}^{2} = {6.0000}^{2} = 36.0000"


def test_forward_caps_long_argument_lists() -> None:
    s = vsum([Value(1.0) for _ in range(20)])
    eq = trace_forward(s)[-1].equation
    names = eq.split(" = ")[1]
    assert names.count(",") == 7 and names.endswith("1#7, … 13 more)")
    assert eq.startswith("sum#1 = sum(1, 1#2, ")  # a name never repeats another


# --------------------------------------------------------------------------- the Stepper


def example() -> tuple[Value, dict[str, Value]]:
    a, b, d, f = (
        Value(2.0, label="a"),
        Value(-3.0, label="b"),
        Value(10.0, label="d"),
        Value(-2.0, label="f"),
    )
    c = a * b
    c.label = "c"
    e = c + d
    e.label = "e"
    L = e * f
    L.label = "L"
    return L, {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f, "L": L}


def test_stepper_positions_and_frames() -> None:
    L, v = example()
    s = Stepper(L)
    assert (s.mode, s.index, len(s.forward), len(s.backward)) == ("backward", 0, 3, 4)
    assert len(Stepper(L, skip_leaves=False).forward) == 7
    assert s.frame().title.startswith("Backward step 1 of 4 · the seed: L, the output")
    assert s.next().name == "L" and s.next().name == "e" and s.next().name == "c"
    assert s.next().index == 3  # stays on the last step
    assert s.previous().node is v["e"]
    s.mode = "forward"
    assert s.index == 0 and s.frame().equation == "c = a * b = 2.0000 * -3.0000 = -6.0000"
    s.index = 2
    assert s.frame().equation == "L = e * f = 4.0000 * -2.0000 = -8.0000"
    assert s.frame("backward").index == 0 and s.frame("backward", 3).name == "c"
    with pytest.raises(IndexError, match=r"step 3 is out of range 0\.\.2"):
        s.index = 3
    with pytest.raises(ValueError, match="mode must be"):
        s.mode = "sideways"
    with pytest.raises(ValueError, match="max_nodes"):
        Stepper(L, max_nodes=0)


def test_stepper_text_walk_through() -> None:
    L, _ = example()
    s = Stepper(L)
    text = s.text()
    assert text == str(s) and text in repr(s)
    assert repr(s).startswith("Stepper(L = -8.0000: 7 values, 3 forward steps, 4 backward steps)")
    assert "    dL/da += dL/dc * dc/da = -2.0000 * -3.0000 = 6.0000" in text
    assert "Forward step 1 of 3 · c (mul) is computed from its inputs\n    c = a * b" in text
    assert "… 2 more steps" in s.text(max_steps=2)


def test_diagrams_show_trace_names_and_a_window_of_a_large_graph() -> None:
    x = Value(0.5, label="x")
    v = x
    for _ in range(30):
        v = v.tanh() + v
    s = Stepper(v, max_nodes=20)
    names = node_names(v)
    source = s.digraph("backward", 10).source
    step = s.backward[10]
    assert f"<B>{names[step.node]}</B>" in source or f"<B>{names[step.node]} ⋯</B>" in source
    assert source.count(" ⋯</B>") >= 1  # cut inputs marked (the stepper's note explains it)
    drawn = len(re.findall(r"^\tv\d+ \[", source, flags=re.M))
    assert 3 <= drawn <= 15  # the neighbourhood: inputs, consumers, the way to the output
    assert x.label == "x" and all(not u.label for u in topological_order(v) if u is not x)
    assert s.overview() is not None and "more than" not in s.frame().note
    small = Stepper(x.tanh() + x, max_nodes=1000)
    assert small.overview() is None and "⋯" not in small.dot("forward", 0)  # drawn whole


def test_stepper_changes_no_grad() -> None:
    require_tool("dot")
    L, v = example()
    s = Stepper(L)
    s.text()
    s.svg("backward", 3)
    assert all(x.grad == 0.0 for x in v.values())


def test_widget_steps_and_shows_the_frame() -> None:
    require_module("ipywidgets")
    require_tool("dot")
    L, _ = example()
    w = Stepper(L).widget()
    assert w.counter.value == "step 1 of 4" and w.previous.disabled and not w.next.disabled
    assert w.equation.value == r"$$\frac{\partial L}{\partial L} = 1.0000 \quad \text{(the seed)}$$"
    w.next.click()
    w.next.click()
    assert w.stepper.index == 2 and w.slider.value == 2 and w.play.value == 2
    assert "e (add) passes its gradient -2.0000" in w.title.value
    assert r"= -2.0000 \cdot 1.0000 = -2.0000" in w.equation.value
    assert "<svg" in w.graph.value and "#7c3aed" in w.graph.value  # the highlight colour
    svg = html.unescape(w.graph.value)  # dot writes "-" as "&#45;"
    assert "grad -2" in svg and "grad —" in svg  # a and b are not reached yet
    w.next.click()
    w.next.click()  # already at the end
    assert w.slider.value == 3 and w.next.disabled and "grad -4" in html.unescape(w.graph.value)
    w.toggle.value = "forward"
    assert (w.stepper.mode, w.slider.value, w.slider.max, w.play.max) == ("forward", 0, 2, 2)
    assert "c = a \\cdot b" in w.equation.value  # leaves are given: the first step is c
    svg = html.unescape(w.graph.value)
    assert ">grad " not in svg and svg.count("data —") == 2  # e and L are not computed yet
    w.play.value = 2  # Play drives the slider
    assert w.stepper.index == 2 and "L = e \\cdot f" in w.equation.value
    assert "data —" not in html.unescape(w.graph.value)
    w.previous.click()
    assert w.counter.value == "step 2 of 3"


def test_widget_on_a_leaf_and_on_a_large_graph() -> None:
    require_module("ipywidgets")
    require_tool("dot")
    w = Stepper(Value(3.0, label="x")).widget()
    assert w.slider.max == 0 and w.next.disabled and r"\partial x}{\partial x}" in w.equation.value
    v = Value(0.5, label="x")
    for _ in range(300):
        v = v.tanh() + v
    s = Stepper(v, max_nodes=20)
    w = s.widget()
    w.slider.value = 250
    assert "too many to read at once" in w.title.value
    main, overview = w.graph.value.split('class="mgl-overview"')
    assert main.count('class="node"') < 40  # a neighbourhood, not the 900-value graph
    assert overview.count('class="node mgl-here"') == 1  # the whole graph, node filled


def test_widget_without_graphviz_dot_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    require_module("ipywidgets")
    monkeypatch.setenv("PATH", "/nonexistent")
    L, _ = example()
    w = Stepper(L).widget()
    assert "No diagram" in w.graph.value and "dot" in w.graph.value
    assert r"\partial L}{\partial L} = 1.0000" in w.equation.value


def test_without_ipywidgets_the_widget_says_what_to_use(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import ipywidgets now fails
    L, _ = example()
    with pytest.raises(ImportError, match=r"needs ipywidgets.*print\(stepper\)"):
        Stepper(L).widget()


def test_the_notebook_output_is_the_player_with_static_copies() -> None:
    require_tool("dot")
    L, _ = example()
    s = Stepper(L)
    bundle = s._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html", "image/png", "image/svg+xml"}
    assert bundle["text/plain"] == repr(s) and "dL/da += dL/dc * dc/da" in bundle["text/plain"]
    assert "mgl-stepper" in bundle["text/html"] and "mgl-data" in bundle["text/html"]
    assert base64.b64decode(bundle["image/png"]).startswith(b"\x89PNG")
    assert bundle["image/svg+xml"].startswith("<svg") and "#7c3aed" in bundle["image/svg+xml"]
    assert 'class="mgl-static" src="data:image/png;base64,' in bundle["text/html"]


def test_in_a_real_kernel_it_displays_the_player_not_a_widget_model() -> None:
    # a widget's output is only a model id, which a saved notebook cannot show again
    # ("model not found"); the player carries its frames in the output itself
    nbformat = require_module("nbformat")
    require_module("nbclient")
    require_module("ipykernel")
    require_tool("dot")
    from nbclient import NotebookClient

    code = (
        "from micrograd_like.engine import Value\n"
        "from micrograd_like.stepper import Stepper\n"
        "a = Value(2.0, label='a'); L = a * a; L.label = 'L'\n"
        "Stepper(L)"
    )
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])  # type: ignore[attr-defined]
    NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    (output,) = nb.cells[0].outputs
    assert "application/vnd.jupyter.widget-view+json" not in output["data"]
    assert "mgl-stepper" in output["data"]["text/html"] and "image/png" in output["data"]
    assert "dL/da += dL/dL * dL/da" in output["data"]["text/plain"]


def test_trace_follows_backward_where_a_zero_gradient_meets_an_infinite_rule() -> None:
    # backward() skips a node whose gradient is exactly 0; the trace must do the same (and
    # show the infinite local derivative of sqrt at 0 as NaN) instead of raising
    x, y = Value(0.0, label="x"), Value(-1.0, label="y")
    out = x.sqrt() * y.relu()
    steps = trace_backward(out)
    out.backward()
    final = gradients_at(steps, len(steps) - 1)
    assert final[x] == x.grad == 0.0 and final[y] == y.grad == 0.0
    sqrt_step = next(s for s in steps if s.node.op == "sqrt")
    assert math.isnan(sqrt_step.updates[0].local)
    assert sqrt_step.updates[0].contribution == 0.0


def test_op_symbols_and_names_are_tex_escaped_like_labels() -> None:
    # a custom op's symbol and name are data too: no TeX command of theirs reaches MathJax
    evil = r"\href{javascript:alert(1)}{x}"
    binary = Op("my_op", 2, lambda a, b: a, lambda m, g, out, a, b: (g, 0.0), symbol=evil)
    unary = Op("u", 1, lambda a: a, lambda m, g, out, a: (g,), symbol=evil)
    call = Op("a{b}", 3, lambda a, b, c: a, lambda m, g, out, a, b, c: (g, 0.0, 0.0))
    x, y = Value(1.0, label="x"), Value(2.0, label="y")
    for out in (Value.apply(binary, x, y), Value.apply(unary, x), Value.apply(call, x, y, x)):
        latex = trace_forward(out)[-1].latex + trace_backward(out)[-1].latex
        assert r"\href" not in latex and not re.search(r"(?<!\\)\{javascript", latex)
        assert r"\backslash" in latex or r"a\{b\}" in latex


# --------------------------------------------------------------------------- opened neurons


def mlp_loss(seed: int) -> tuple[Value, list[Value]]:
    from micrograd_like.losses import mse
    from micrograd_like.nn import MLP

    model = MLP(3, [4, 4, 1], rng=seed)
    rng = random.Random(seed)
    xs = [[rng.uniform(-2, 2) for _ in range(3)] for _ in range(2)]
    loss = mse([model.scalar(x) for x in xs], [1.0, -1.0])
    return loss, model.parameters()


@given(st.integers(0, 10_000))
@settings(max_examples=20)
def test_opened_neurons_step_one_product_at_a_time_and_reproduce_backward(seed: int) -> None:
    loss, _ = mlp_loss(seed)
    fused, opened = trace_backward(loss), trace_backward(loss, expand=True)
    dots = [v for v in topological_order(loss) if v.op == "dot"]
    # each neuron of k inputs: its own step becomes out = sum + b, the sum, and k products;
    # and the loss, one folded step by default, opens into a step per node it is made of
    extra = sum(1 + (len(d.parents) - 1) // 2 for d in dots)
    inner = [n for n in GraphView(loss).inside(loss) if n.parents]
    assert len(inner) > 1
    assert len(opened) == len(fused) + extra + len(inner) - 1
    real = set(topological_order(loss))
    products = [s for s in opened if s.op == "mul" and s.node not in real]
    assert all(len(s.updates) == 2 for s in products)  # the chain rule per product: w and x
    assert [u.name.rsplit(".", 2)[-2] for s in products for u in s.updates[:1]] == ["w"] * len(
        products
    )
    loss.backward()
    final = gradients_at(opened, len(opened) - 1)
    for v in topological_order(loss):  # every real node: bit for bit what backward() gives
        assert same(final[v], v.grad), (v, final[v], v.grad)
    for step in opened[1:]:
        for u in step.updates:
            assert same(u.after, u.before + u.contribution)


def test_an_opened_neuron_reads_like_the_lecture() -> None:
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2, b = (
        Value(-3.0, label="w1"),
        Value(1.0, label="w2"),
        Value(6.8813735870195432, label="b"),
    )
    n = dot([w1, w2], [x1, x2], b)
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    steps = trace_backward(o, expand=True)
    assert [s.name for s in steps] == ["o", "o", "n", "w1*x1+w2*x2", "w1*x1", "w2*x2"]
    assert steps[4].equation.split("\n")[0] == (
        "do/dw1 += do/d(w1*x1) * d(w1*x1)/dw1 = 0.5000 * 2.0000 = 1.0000"
        "   [do/dw1: 0.0000 -> 1.0000]"
    )
    forward = [s.equation for s in trace_forward(o, expand=True, skip_leaves=True)]
    assert forward == [
        "w1*x1 = w1 * x1 = -3.0000 * 2.0000 = -6.0000",
        "w2*x2 = w2 * x2 = 1.0000 * 0.0000 = 0.0000",
        "w1*x1+w2*x2 = sum(w1*x1, w2*x2) = sum(-6.0000, 0.0000) = -6.0000",
        "n = w1*x1+w2*x2 + b = -6.0000 + 6.8814 = 0.8814",
        "o = tanh(n) = tanh(0.8814) = 0.7071",
    ]
    s = Stepper(o, expand=True)
    assert len(s.backward) == 6 and "w.0" in s.dot("backward", 4)  # edge roles agree


# ------------------------------------------------------------------------ folded composites


def small_model_loss() -> tuple[Value, list[Value], list[Value]]:
    from micrograd_like.losses import bce, l2_penalty

    w, b = Value(0.5, label="w"), Value(-0.25, label="b")
    preds = [(w * x + b).sigmoid() for x in (1.0, -2.0, 3.0)]
    for i, p in enumerate(preds):
        p.label = f"p{i}"
    loss = bce(preds, [1.0, 0.0, 0.5]) + l2_penalty([w, b], 0.01)
    loss.label = "L"
    return loss, [w, b], preds


def test_a_loss_is_one_forward_and_one_backward_step_by_default() -> None:
    loss, params, preds = small_model_loss()
    fwd = trace_forward(loss, skip_leaves=True)
    names = [s.name for s in fwd]
    assert "bce(p0,p1,p2)" in names and "l2_penalty(w,b)" in names
    step = next(s for s in fwd if s.name == "bce(p0,p1,p2)")
    assert step.equation.startswith("bce(p0,p1,p2) = bce(p0, p1, p2) = bce(")
    # nothing of the loss's inside is stepped: no log, no clamp
    assert not [s for s in fwd if s.op in ("log", "clamp")]
    back = trace_backward(loss)
    folded = next(s for s in back if s.name == "bce(p0,p1,p2)")
    assert [u.name for u in folded.updates] == ["p0", "p1", "p2"]
    # its local derivatives are d bce / d p_i, checked against the engine on the loss alone
    from micrograd_like.functional import grad

    inner = folded.node
    assert [u.local for u in folded.updates] == grad(inner, list(preds))
    # and every real node still ends with exactly backward()'s gradient
    loss.backward()
    final = gradients_at(back, len(back) - 1)
    for v in [*params, *preds]:
        assert same(final[v], v.grad), (v, final[v], v.grad)


def test_expand_opens_a_loss_into_the_nodes_it_is_made_of() -> None:
    loss, _, _ = small_model_loss()
    fwd = trace_forward(loss, expand=True, skip_leaves=True)
    assert [s for s in fwd if s.op == "log"]
    back = trace_backward(loss, expand=True)
    loss.backward()
    final = gradients_at(back, len(back) - 1)
    for v in topological_order(loss):
        assert same(final[v], v.grad), (v, final[v], v.grad)


def test_a_folded_loss_merges_what_its_inside_adds_to_a_shared_input() -> None:
    # a prediction used twice inside one loss (soft label: log p and log(1 - p)) gets one
    # update whose before/after span both additions the engine made
    from micrograd_like.losses import bce

    x = Value(0.3, label="x")
    p = x.sigmoid()
    p.label = "p"
    loss = bce([p], [0.25])
    back = trace_backward(loss)
    assert back[1].node is loss  # the step after the seed
    (u,) = back[1].updates
    loss.backward()
    assert u.name == "p" and same(u.after, p.grad) and u.before == 0.0
