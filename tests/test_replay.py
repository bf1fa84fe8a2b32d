"""Tests for micrograd_like.replay (compile) and the code it generates (codegen, rulegen).

The replay must be the engine, bit for bit: every value and gradient is compared by its exact
bits (``float.hex``), never within a tolerance.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import given

import micrograd_like as mgl
from micrograd_like import Compiled, GraphChangedError, Value, grad, nn, no_grad, trace_backward
from micrograd_like.codegen import backward_order
from micrograd_like.losses import hinge, l2_penalty
from micrograd_like.ops import FLOAT_MATH, OPS, Op, get_op
from micrograd_like.optim import SGD
from micrograd_like.rulegen import forward_code, literal, rule_code
from micrograd_like.testing import (
    DOMAINS,
    Expression,
    expressions,
    kink_samples,
    op_samples,
    temporary_op,
)

BUILTIN_OPS = sorted(DOMAINS)
# values every spelling is checked at: both signs, zeros of both signs, tiny and huge, the
# infinities and NaN (each op's own samples and kinks are added to these)
SPECIAL = (-2.5, -1.0, -1e-300, -0.0, 0.0, 1e-300, 0.5, 1.0, 2.0, 700.0, math.inf, -math.inf)
SPECIAL_NAN = (*SPECIAL, math.nan)


def bits(xs: Sequence[float]) -> list[str]:
    return [float(x).hex() for x in xs]


def outcome(f: Callable[[], Any]) -> list[str]:
    """Exact bits of what f returns, or the name of the exception it raises."""
    try:
        out = f()
    except (ValueError, ZeroDivisionError, OverflowError, TypeError) as e:
        return [type(e).__name__]
    return bits(out if isinstance(out, (list, tuple)) else [out])


def engine_result(fn: Callable[..., Value], args: Sequence[float]) -> list[str]:
    """The output and d output / d argument of the engine itself, as bits."""
    leaves = [Value(x) for x in args]
    out = fn(*leaves)
    return bits([out.data, *grad(out, leaves)])


def replay_result(step: Compiled, args: Sequence[float]) -> list[str]:
    value, grads = step.value_and_grad(*args)
    return bits([value, *grads])


def variants(name: str) -> list[tuple[Op, int]]:
    """Each bound op of the test domain of op `name`, with its input counts."""
    op, dom = OPS[name], DOMAINS[name]
    counts = dom.sizes if op.arity == -1 else (op.arity,)
    return [(op.bind(*v.params) if v.params else op, n) for v in dom.variants for n in counts]


def points(name: str, n: int, rng: random.Random) -> list[tuple[float, ...]]:
    """The op's own samples and kinks, plus special values in every position."""
    found = [p for _, p in op_samples(name) + kink_samples(name) if len(p) == n]
    for x in SPECIAL_NAN:
        base = list(found[0]) if found else [1.0] * n
        for i in range(n):
            found.append(tuple(x if j == i else base[j] for j in range(n)))
    found += [tuple(rng.choice(SPECIAL) for _ in range(n)) for _ in range(10)]
    return found


# ----------------------------------------------------------------------------- the spellings


def _template_fn(text: str, n: int, helpers: dict[str, Any]) -> Callable[..., Any]:
    names = [f"a{i}" for i in range(n)]
    body = text.format(*names, g="g", o="o")
    scope = {"nan": math.nan, "inf": math.inf, **helpers}
    fn: Callable[..., Any] = eval(f"lambda g, o, {', '.join(names)}: ({body})", scope)
    return fn


@pytest.mark.parametrize("name", BUILTIN_OPS)
def test_every_builtin_rule_is_traced_to_text(name: str) -> None:
    # a change to a rule in ops.py that the symbolic trace cannot follow shows up here, not
    # as a silent fall back to calling the rule (slower, still exact)
    for op, n in variants(name):
        code = rule_code(op, n)
        assert code.templates is not None, f"{op.describe()}: {code.why_not}"


@pytest.mark.parametrize("name", BUILTIN_OPS)
def test_rule_text_is_the_table_rule_bit_for_bit(name: str) -> None:
    rng = random.Random(name)
    for op, n in variants(name):
        code = rule_code(op, n)
        assert code.templates is not None
        fns = [_template_fn(t, n, code.helpers) for t in code.templates]
        for point in points(name, n, rng):
            out = outcome(lambda op=op, point=point: op.forward(*point, *op.params))
            if len(out) != 1 or not out[0].startswith(("0x", "-0x", "nan", "inf", "-inf")):
                continue  # outside the forward's domain: no node, no rule
            o = float.fromhex(out[0])
            for g in (1.0, -0.75, 3.5, 1e-310, math.inf):
                want = outcome(
                    lambda op=op, g=g, o=o, point=point: op.derivative(
                        FLOAT_MATH, g, o, *point, *op.params
                    )
                )
                got = outcome(lambda g=g, o=o, point=point, fns=fns: [f(g, o, *point) for f in fns])
                assert got == want, (op.describe(), point, g, code.templates)


def _forward_text(op: Op, n: int) -> str | None:
    code = forward_code(op)
    if code is None:
        return None
    return code.template([f"{{{i}}}" for i in range(n)], op.params)


@pytest.mark.parametrize("name", BUILTIN_OPS)
def test_inline_forward_is_the_table_forward_bit_for_bit(name: str) -> None:
    rng = random.Random(name)
    for op, n in variants(name):
        text = _forward_text(op, n)
        if text is None:
            continue  # called, not spelled: nothing can drift
        helpers = forward_code(op).helpers  # type: ignore[union-attr]
        fn = _template_fn(text, n, helpers)
        for point in points(name, n, rng):
            want = outcome(lambda op=op, point=point: op.forward(*point, *op.params))
            got = outcome(lambda fn=fn, point=point: fn(0.0, 0.0, *point))
            assert got == want, (op.describe(), point, text)


def test_the_hot_ops_are_spelled_inline() -> None:
    for name, n in (("add", 2), ("mul", 2), ("neg", 1), ("exp", 1), ("log", 1), ("relu", 1)):
        assert _forward_text(get_op(name), n) is not None, name
    assert _forward_text(get_op("pow").bind(2.0), 1) == "{0} ** 2.0"
    assert _forward_text(get_op("pow").bind(-1.0), 1) == "{0} ** -1.0"
    assert _forward_text(get_op("pow").bind(0.5), 1) is None  # x ** 0.5 may be complex
    assert _forward_text(get_op("dot"), 5) == "fsum(({0} * {2}, {1} * {3},)) + {4}"
    assert _forward_text(get_op("dot"), 1) == "fsum(()) + {0}"


def test_a_wrong_spelling_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    # the check above must be able to fail: relu spelled with < instead of <= differs at -0.0
    from micrograd_like import rulegen

    wrong = rulegen.ForwardCode(lambda a, p: f"0.0 if {a[0]} < 0.0 else {a[0]}", {})
    monkeypatch.setitem(rulegen._TABLE_FORWARDS, "relu", wrong)
    fn = _template_fn(_forward_text(get_op("relu"), 1) or "", 1, {})
    assert outcome(lambda: fn(0.0, 0.0, -0.0)) != outcome(lambda: get_op("relu").forward(-0.0))


def test_literals_are_exact_and_safe_as_operands() -> None:
    for x in (0.1, -0.0, 1e-310, -2.5, 1e300, 3):
        text, _ = literal(x)
        assert float(eval(text)).hex() == float(x).hex()
    assert literal(-1.5) == ("-1.5", 8)
    assert literal(math.inf)[0] == "inf" and literal(math.nan)[0] == "nan"


# ----------------------------------------------------------------------------- bit for bit


@pytest.mark.parametrize("name", BUILTIN_OPS)
def test_every_op_replays_bit_for_bit(name: str) -> None:
    # each op between a captured scale (0 too: the zero-gradient skip) and its own samples,
    # kinks included
    for op, point in op_samples(name) + kink_samples(name):
        for scale in (1.0, -0.5, 0.0):
            c = Value(scale)

            def f(*xs: Value, op: Op = op, c: Value = c) -> Value:
                return Value.apply(op, *xs) * c

            step = mgl.compile(f, *point)
            assert replay_result(step, point) == engine_result(f, point), op.describe()


def _check_expression(expr: Expression) -> None:
    step = mgl.compile(expr, *expr.point)
    assert replay_result(step, expr.point) == engine_result(expr, expr.point), repr(expr)
    step.check(*expr.point)  # traces again and compares with backward(): raises on any bit


@pytest.mark.slow
@given(expressions(max_ops=8, kinks=True))
def test_random_expressions_replay_bit_for_bit(expr: Expression) -> None:
    _check_expression(expr)


@given(expressions(ops=["add", "mul", "relu", "exp", "log", "pow", "dot", "sum"], max_ops=10))
def test_random_expressions_of_the_hot_ops(expr: Expression) -> None:
    _check_expression(expr)


@given(expressions(max_ops=12))
def test_the_order_is_the_engines_backward_order(expr: Expression) -> None:
    # trace_backward follows backward()'s own pass: its steps after the seed are the nodes
    out = expr(*expr.point)
    assert [id(v) for v in backward_order(out)] == [id(s.node) for s in trace_backward(out)[1:]]


def _mlp_setup(seed: int) -> tuple[nn.MLP, list[tuple[float, float]], list[float]]:
    model = nn.MLP(2, [6, 5, 1], rng=seed)
    rng = random.Random(seed)
    xs = [(rng.uniform(-2, 2), rng.uniform(-2, 2)) for _ in range(12)]
    ys = [1.0 if a * b > 0 else -1.0 for a, b in xs]
    return model, xs, ys


def test_mlp_training_replays_the_engine_bit_for_bit() -> None:
    losses: dict[str, list[float]] = {}
    params: dict[str, list[str]] = {}
    for how in ("engine", "replay"):
        model, xs, ys = _mlp_setup(3)
        ps = model.parameters()

        def loss_fn(model: nn.MLP = model, xs: Any = xs, ys: Any = ys, ps: Any = ps) -> Value:
            return hinge([model.scalar(x) for x in xs], ys) + l2_penalty(ps, alpha=1e-3)

        opt = SGD(ps, lr=0.3)
        step = mgl.compile(loss_fn)
        assert len(step.captured) == len(ps)  # the data became constants
        seen = []
        for _ in range(4):
            opt.zero_grad()
            if how == "engine":
                loss = loss_fn()
                loss.backward()
                seen.append(loss.data)
            else:
                seen.append(step())
            opt.step()
        losses[how], params[how] = seen, bits([p.data for p in ps])
    assert bits(losses["replay"]) == bits(losses["engine"])
    assert params["replay"] == params["engine"]


def test_mlp_inputs_as_arguments() -> None:
    model, xs, ys = _mlp_setup(5)

    def loss_fn(points: list[tuple[float, float]]) -> Value:
        return hinge([model.scalar(x) for x in points], ys)

    step = mgl.compile(loss_fn, xs)
    other = [(b, -a) for a, b in xs]
    value, grads = step.value_and_grad(other)
    leaves = [[Value(a), Value(b)] for a, b in other]
    out = loss_fn(leaves)  # type: ignore[arg-type]
    want = grad(out, [v for pair in leaves for v in pair])
    assert bits([value, *grads]) == bits([out.data, *want])
    step.check(other)


# ----------------------------------------------------------------------------- semantics


def test_gradients_accumulate_like_backward() -> None:
    w = Value(1.5)
    step = mgl.compile(lambda x: (x * w).tanh() * w, 0.3)
    step(0.3)
    once = w.grad
    step(0.3)
    assert w.grad == 2 * once
    w2 = Value(1.5)
    ((Value(0.3) * w2).tanh() * w2).backward()
    assert w2.grad == once


def test_values_as_arguments_receive_gradients_numbers_do_not() -> None:
    w = Value(2.0)
    step = mgl.compile(lambda x, y: x * y * w, 1.0, 1.0)
    x = Value(3.0)
    assert step(x, 4.0) == 24.0
    assert (x.grad, w.grad) == (8.0, 12.0)


def test_captured_values_are_read_at_every_call_constants_are_literals() -> None:
    w = Value(2.0, label="w")
    step = mgl.compile(lambda x: x * w + 0.25, 1.0)
    assert step.captured == (w,)
    assert "x * w" in step.source and "+ 0.25" in step.source
    w.data = 5.0
    assert step.forward(2.0) == 10.25


def test_a_leaf_kept_anywhere_else_is_captured_not_frozen() -> None:
    kept: list[Value] = []

    def f(x: Value) -> Value:
        c = Value(3.0)  # made inside, but kept: someone may change it later
        kept.append(c)
        return x * c + x * Value(0.5)  # nobody else holds this one: a constant

    step = mgl.compile(f, 1.0)
    assert step.captured == (kept[0],)
    assert "* 0.5" in step.source
    kept[0].data = 4.0
    assert step.forward(2.0) == 9.0


def test_a_function_of_its_argument_only() -> None:
    step = mgl.compile(lambda x: x, 2.0)
    assert step.value_and_grad(7.0) == (7.0, [1.0])
    ignored = mgl.compile(lambda x, y: x * 2.0, 1.0, 1.0)
    assert ignored.value_and_grad(3.0, 9.0) == (6.0, [2.0, 0.0])


def test_value_and_grad_wrt_captured_values() -> None:
    a, b, unused = Value(2.0), Value(-1.0), Value(9.0)
    step = mgl.compile(lambda x: (a * x).exp() + b * b, 0.5)
    value, grads = step.value_and_grad(0.5, wrt=[b, a, unused])
    out = (a * Value(0.5)).exp() + b * b
    assert bits([value, *grads]) == bits([out.data, *grad(out, [b, a, unused])])
    assert a.grad == 0.0 and b.grad == 0.0  # untouched


def test_zero_gradients_pass_nothing_on_as_in_the_engine() -> None:
    # sqrt at 0 behind a relu that is off: the engine never evaluates its rule
    def f(x: Value) -> Value:
        return (x * 0.0).sqrt() * (x - 5.0).relu() + x

    step = mgl.compile(f, 1.0)
    assert replay_result(step, [1.0]) == engine_result(f, [1.0])


def test_readable_source_for_a_small_graph() -> None:
    w1, w2, b = Value(-3.0, label="w1"), Value(1.0, label="w2"), Value(6.88, label="b")

    def neuron(x1: Value, x2: Value) -> Value:
        n = x1 * w1 + x2 * w2 + b
        n.label = "n"
        o = n.tanh()
        o.label = "o"
        return o

    step = mgl.compile(neuron, 2.0, 0.0)
    src = str(step)
    lines = (
        "o = tanh(n)",
        "do = 1.0",
        "# o = tanh(n): do/dn = 1.0 - o * o",
        "dn = do * (1.0 - o * o)",
    )
    for line in lines:
        assert line in src, src
    assert src.index("# n = ") < src.index("db += dn")
    assert "<pre" in step._repr_html_() and "tanh(n)" in step._repr_html_()
    assert "5 ops" in repr(step)
    square = mgl.compile(lambda x: (x * x).log(), 2.0)
    assert "dt0/dx = x + x" in square.source  # an input used twice gets both terms
    big = mgl.compile(lambda x: sum((x * float(i)).relu() for i in range(300)), 1.0)
    assert "#" not in big.source  # no comments past 400 nodes unless asked


def test_untraceable_rules_are_called_and_still_exact() -> None:
    def rule(m: Any, g: float, out: float, x: float) -> tuple[float]:
        return (g * math.cos(x) * 3.0,)  # math.cos on a placeholder: cannot be traced

    with temporary_op("sin3", 1, lambda x: 3.0 * math.sin(x), rule) as op:
        assert rule_code(op, 1).templates is None
        step = mgl.compile(lambda x: op(x) * x, 0.7)
        assert "d_sin3(M, " in step.source
        assert replay_result(step, [0.7]) == engine_result(lambda x: op(x) * x, [0.7])


def test_a_rule_that_fools_the_trace_is_caught_and_called() -> None:
    def rule(m: Any, g: Any, out: Any, x: Any) -> tuple[Any]:
        # placeholders are not floats: traced, this is the wrong branch
        return (g * 2.0 * x if isinstance(x, float) else g * 0.0,)

    with temporary_op("sq", 1, lambda x: x * x, rule) as op:
        assert rule_code(op, 1).templates == ("{g} * 0.0",)
        step = mgl.compile(lambda x: op(x), 1.5)
        assert "d_sq(M, " in step.source
        assert step.value_and_grad(1.5) == (2.25, [3.0])


def test_names_never_collide() -> None:
    a, b = Value(1.0, label="tanh"), Value(2.0, label="da")
    c = Value(3.0, label="a")

    def f(x: Value) -> Value:
        t = (x * a).tanh()
        t.label = "a"
        return t * b * c

    step = mgl.compile(f, 0.5)
    assert replay_result(step, [0.5]) == engine_result(f, [0.5])


# ----------------------------------------------------------------------------- misuse


def test_compile_rejects_what_it_cannot_trace() -> None:
    with pytest.raises(TypeError, match="compile: fn must be callable"):
        mgl.compile(3.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="must return a Value, got float"):
        mgl.compile(lambda x: 2.0, 1.0)
    with pytest.raises(TypeError, match=r"x must be a number or a Value .* got str"):
        mgl.compile(lambda x: x, "a")
    with pytest.raises(TypeError, match=r"x\[1\] must be a number .* got bool"):
        mgl.compile(lambda x: x[0], [1.0, True])
    with no_grad(), pytest.raises(RuntimeError, match="inside no_grad"):
        mgl.compile(lambda x: x * 2.0, 1.0)
    with pytest.raises(TypeError, match="comments must be a bool"):
        mgl.compile(lambda x: x, 1.0, comments="yes")  # type: ignore[arg-type]


def test_calls_must_fit_the_traced_shape() -> None:
    step = mgl.compile(lambda xs, y: xs[0] * xs[1] + y, [1.0, 2.0], 3.0)
    with pytest.raises(TypeError, match="takes 2 argument"):
        step([1.0, 2.0])
    with pytest.raises(ValueError, match=r"xs has 3 items, but 2 when traced"):
        step([1.0, 2.0, 3.0], 1.0)
    with pytest.raises(TypeError, match=r"y is a list of 1, but was a number"):
        step([1.0, 2.0], [1.0])
    with pytest.raises(TypeError, match=r"xs must be a list or tuple of 2, got float"):
        step(1.0, 1.0)
    with pytest.raises(TypeError, match=r"xs\[0\] must be a number"):
        step(["a", 2.0], 1.0)
    with pytest.raises(TypeError, match=r"wrt\[0\] must be a Value"):
        step.value_and_grad([1.0, 2.0], 3.0, wrt=[1.0])  # type: ignore[list-item]
    assert step((4.0, 0.5), 1) == 3.0  # tuples, lists and ints fit


def test_a_failing_call_changes_no_gradient_and_says_what_failed() -> None:
    w = Value(1.0)
    step = mgl.compile(lambda x: (x * w).log() + w, 2.0)
    with pytest.raises(ValueError, match=r"^log\(-3.0\): log needs a positive number$"):
        step(-3.0)
    with pytest.raises(ValueError, match=r"^log\(-3.0\): log needs a positive number$"):
        step.forward(-3.0)
    assert w.grad == 0.0
    # and in the backward pass: sqrt at 0 with a gradient to pass on, as the engine says it
    root = mgl.compile(lambda x: (x * w).sqrt() + w, 2.0)
    with pytest.raises(ZeroDivisionError) as caught:
        root(0.0)
    with pytest.raises(ZeroDivisionError) as engine:
        ((Value(0.0) * w).sqrt() + w).backward()
    assert str(caught.value) == str(engine.value)
    assert "backward through sqrt(0.0)" in str(caught.value)
    assert w.grad == 0.0


def test_check_catches_a_branch_on_the_data() -> None:
    def f(x: Value) -> Value:
        return x * 2.0 if x > 0 else x.exp()

    step = mgl.compile(f, 1.0)
    step.check(3.0)  # the same branch: fine
    with pytest.raises(
        GraphChangedError, match=r"node 1 is exp of nodes \[0\] now, the constant 2.0 when"
    ):
        step.check(-1.0)


def test_check_catches_a_constant_taken_from_data() -> None:
    def softmax0(xs: list[Value]) -> Value:
        top = max(x.data for x in xs)
        exps = [(x - top).exp() for x in xs]
        return exps[0] / sum(exps)

    step = mgl.compile(softmax0, [1.0, 3.0])
    with pytest.raises(GraphChangedError, match=r"the constant -5.0 now, the constant -3.0"):
        step.check([1.0, 5.0])
    with pytest.raises(GraphChangedError, match=r"a number taken from \.data"):
        step.check([1.0, 5.0])


def test_check_catches_a_different_graph_size() -> None:
    def f(x: Value) -> Value:
        return x * 2.0 if x > 0 else (x * 2.0).exp() * 3.0

    with pytest.raises(GraphChangedError, match="the graph has 6 nodes now, 3 when traced"):
        mgl.compile(f, 1.0).check(-1.0)


def test_compiled_is_exported() -> None:
    assert mgl.compile is mgl.replay.compile
    assert issubclass(GraphChangedError, ValueError)
    assert random is not None and Compiled is mgl.Compiled


def test_benchmark_times_both_side_by_side_and_touches_no_grad() -> None:
    w = Value(0.5)
    step = mgl.compile(lambda x: (x * w).tanh() * w, 1.0)
    timing = step.benchmark(2.0, repeat=3)
    assert set(timing) == {"engine_ms", "replay_ms", "speedup"}
    assert all(v > 0 for v in timing.values())
    assert timing["speedup"] == timing["engine_ms"] / timing["replay_ms"]
    assert w.grad == 0.0
    with pytest.raises(ValueError, match="benchmark: repeat must be a positive int"):
        step.benchmark(2.0, repeat=0)
