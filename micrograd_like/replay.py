"""Compiled replay: trace a function's graph once, then run it as straight-line Python.

``step = compile(loss_fn, *example_args)`` calls ``loss_fn`` once on Values, records the graph
it builds and writes that graph's forward and backward pass out as one generated Python
function: one line per op, the chain rule node by node in the order ``backward()`` takes the
nodes, every float operation the engine's own (see :mod:`micrograd_like.rulegen`). Each call
``step(*args)`` then reads the arguments and the current ``.data`` of every Value the graph
captured (the parameters), runs that code and adds the gradients to their ``.grad``, exactly
as ``loss_fn(*args).backward()`` would, bit for bit, without building a graph.

What a replay cannot follow is a graph that changes with the data: a Python ``if`` on a
comparison of Values, or a number read from ``.data`` and used as a constant (``x -
max(v.data for v in xs)``), is frozen at its traced outcome. ``step.check(*args)`` traces
again with the engine and raises :class:`GraphChangedError` at the first difference.
"""

from __future__ import annotations

import builtins
import html
import inspect
import itertools
import linecache
import numbers
import time
from collections.abc import Callable, Sequence
from typing import Any

from micrograd_like.codegen import Node, Trace, Writer, trace_graph
from micrograd_like.engine import Value, gc_paused, grad_enabled
from micrograd_like.functional import grad as engine_grad
from micrograd_like.ops import FLOAT_MATH, Op

__all__ = ["Compiled", "GraphChangedError", "compile"]

_DOMAIN_ERRORS = (ValueError, ZeroDivisionError, OverflowError)
_COMMENT_NODES = 400  # graphs up to this many nodes get a comment per op by default
_HTML_LINES = 300  # the notebook display shows this many lines of a longer source
_counter = itertools.count(1)


class GraphChangedError(ValueError):
    """A later call's graph differs from the traced one, so a replay cannot stand for it."""


# ----------------------------------------------------------------------------- arguments

_Shape = Any  # None for one number; a list of the shapes of a list's or tuple's items


def _shape(x: object, path: str, flat: list[float], where: str) -> _Shape:
    # the example arguments: numbers or Values, in lists and tuples nested any way
    if isinstance(x, Value):
        flat.append(x.data)
        return None
    if isinstance(x, (list, tuple)):
        return [_shape(item, f"{path}[{i}]", flat, where) for i, item in enumerate(x)]
    flat.append(_number(x, path, where))
    return None


def _number(x: object, path: str, where: str) -> float:
    if x.__class__ is float:
        return x
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(
            f"{where}: {path} must be a number or a Value (or a list or tuple of them), "
            f"got {type(x).__name__} {x!r:.60}"
        )
    return float(x)


def _bind(
    shape: _Shape, x: object, path: str, flat: list[float], given: list[Value | None], where: str
) -> None:
    # a call's arguments against the traced shape; Values among them are kept for .grad
    if shape is None:
        if x.__class__ is Value:
            flat.append(x.data)
            given.append(x)
            return
        if isinstance(x, (list, tuple)):
            raise TypeError(
                f"{where}: {path} is a {type(x).__name__} of {len(x)}, but was a number when "
                "traced; a replay runs only the graph it traced (compile again for this shape)"
            )
        flat.append(_number(x, path, where))
        given.append(None)
        return
    if not isinstance(x, (list, tuple)):
        raise TypeError(
            f"{where}: {path} must be a list or tuple of {len(shape)}, got {type(x).__name__}"
        )
    if len(x) != len(shape):
        raise ValueError(
            f"{where}: {path} has {len(x)} items, but {len(shape)} when traced; a replay runs "
            "only the graph it traced (compile again for this shape)"
        )
    for i, (s, item) in enumerate(zip(shape, x, strict=True)):
        _bind(s, item, f"{path}[{i}]", flat, given, where)


def _build(shape: _Shape, leaves: Any) -> Any:
    # the example arguments again, with a fresh leaf for every number
    if shape is None:
        return next(leaves)
    return [_build(s, leaves) for s in shape]


def _arg_names(fn: Callable[..., Any], n: int) -> list[str]:
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        params = []
    names = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return [names[i] if i < len(names) else f"arg{i}" for i in range(n)]


def _paths(shape: _Shape, path: str) -> list[str]:
    if shape is None:
        return [path]
    return [p for i, s in enumerate(shape) for p in _paths(s, f"{path}[{i}]")]


# ----------------------------------------------------------------------------- the API


def _call_text(op: Op, inputs: Sequence[float]) -> str:
    # "log(-1.0)": the op with its operand values and params, as the engine's errors say it
    return f"{op.name}({', '.join([repr(x) for x in inputs] + [f'{p:g}' for p in op.params])})"


class Compiled:
    """A function's graph, traced once and written out as Python; made by :func:`compile`.

    Call it like the function: ``step(*args)`` runs the forward and backward pass, adds the
    gradients to ``.grad`` of every Value the graph captured and of every Value among the
    arguments (nothing is changed if the pass fails), and returns the output as a float.
    :meth:`forward` only evaluates; :meth:`value_and_grad` returns gradients instead of
    adding them; :meth:`check` traces again with the engine to confirm the graph is the same.
    ``print(step)`` shows the generated code (and Jupyter displays it).
    """

    def __init__(
        self,
        fn: Callable[..., Value],
        shape: list[_Shape],
        names: list[str],
        trace: Trace,
        comments: bool,
        trace_s: float,
    ) -> None:
        self._fn = fn
        self._shape = shape
        self._paths = [p for s, n in zip(shape, names, strict=True) for p in _paths(s, n)]
        self.name = getattr(fn, "__name__", "function")
        self._where = f"compiled {self.name}"
        self._trace = trace
        self._signature = [n.signature(trace.captured) for n in trace.nodes]
        self.captured: tuple[Value, ...] = tuple(trace.captured)
        t0 = time.perf_counter()
        writer = Writer(trace, self._paths, comments)
        writer.function("step", backward=True)
        self.source = "\n".join(writer.lines) + "\n"
        t1 = time.perf_counter()
        self._filename = f"<micrograd_like.compile #{next(_counter)}: {self.name}>"
        self._line_where: dict[str, list[tuple[str, int]]] = {}
        self._step = self._load(writer, "step")
        self._forward: Callable[..., float] | None = None
        self.timings = {
            "trace_s": trace_s,
            "generate_s": t1 - t0,
            "compile_s": time.perf_counter() - t1,
        }

    def _load(self, writer: Writer, name: str) -> Any:
        # the generated module, compiled, with its source registered for tracebacks and its
        # lines mapped to nodes for error messages
        source = "\n".join(writer.lines) + "\n"
        filename = self._filename if name == "step" else f"{self._filename[:-1]} {name}>"
        lines = source.splitlines(keepends=True)
        linecache.cache[filename] = (len(source), None, lines, filename)
        self._line_where[filename] = writer.where
        scope = dict(writer.helpers)
        exec(builtins.compile(source, filename, "exec"), scope)
        return scope[name]

    # ------------------------------------------------------------------ facts

    @property
    def nodes(self) -> int:
        """How many nodes the traced graph has (leaves included)."""
        return len(self._trace.nodes)

    @property
    def lines(self) -> int:
        """How many lines of Python the replay is."""
        return self.source.count("\n")

    def __repr__(self) -> str:
        t = self._trace
        ops = sum(1 for n in t.nodes if n.op is not None)
        return (
            f"<compiled {self.name}: {self.nodes:,} nodes ({ops:,} ops), {len(self._paths)} "
            f"inputs, {len(self.captured)} captured values, {self.lines:,} lines of Python>"
        )

    def __str__(self) -> str:
        return self.source

    def _repr_html_(self) -> str:
        lines = self.source.splitlines()
        shown = "\n".join(lines[:_HTML_LINES])
        more = len(lines) - _HTML_LINES
        note = f"\n# ... {more:,} more lines (print() shows them all)" if more > 0 else ""
        return (
            f"<div><b>{html.escape(repr(self))}</b>"
            f"<pre style='font-size: 90%'>{html.escape(shown + note)}</pre></div>"
        )

    # ------------------------------------------------------------------ running

    def _inputs(self, args: tuple[Any, ...]) -> tuple[list[float], list[Value | None]]:
        if len(args) != len(self._shape):
            raise TypeError(
                f"{self._where}: takes {len(self._shape)} argument(s) as traced, got {len(args)}"
            )
        flat: list[float] = []
        given: list[Value | None] = []
        for shape, x, path in zip(self._shape, args, _arg_names(self._fn, len(args)), strict=True):
            _bind(shape, x, path, flat, given, self._where)
        return flat, given

    def _run(
        self, args: tuple[Any, ...]
    ) -> tuple[float, tuple[float, ...], tuple[float, ...], list[Value | None]]:
        flat, given = self._inputs(args) if args or self._shape else ([], [])
        cap = [v.data for v in self.captured]
        try:
            out, gin, gcap = self._step(flat, cap)
        except _DOMAIN_ERRORS as err:
            raise self._explain(err) from None
        return out, gin, gcap, given

    def __call__(self, *args: Any) -> float:
        """Run forward and backward; add the gradients to ``.grad``; return the output.

        Every Value the graph captured (parameters) and every Value passed as an argument
        gets d output / d itself added to its ``.grad``, as ``fn(*args).backward()`` does;
        numbers passed as arguments get nothing. If a value is out of an op's domain the
        error names the op and its operands, and no ``.grad`` changes.
        """
        out, gin, gcap, given = self._run(args)
        for v, g in zip(self.captured, gcap, strict=True):
            old = v.grad
            v.grad = g if old is None else old + g
        for w, g in zip(given, gin, strict=True):
            if w is not None:
                old = w.grad
                w.grad = g if old is None else old + g
        return out

    def forward(self, *args: Any) -> float:
        """The output for these arguments and the captured values' current data, no gradients."""
        flat, _ = self._inputs(args) if args or self._shape else ([], [])
        if self._forward is None:
            writer = Writer(self._trace, self._paths, comments=False)
            writer.function("forward", backward=False)
            self._forward = self._load(writer, "forward")
        try:
            return self._forward(flat, [v.data for v in self.captured])
        except _DOMAIN_ERRORS as err:
            raise self._explain(err) from None

    def value_and_grad(
        self, *args: Any, wrt: Sequence[Value] | None = None
    ) -> tuple[float, list[float]]:
        """The output and its gradients, touching no ``.grad``.

        Without ``wrt``, the gradients are with respect to the arguments' numbers, in order
        (nested lists flattened). With ``wrt``, with respect to each of those Values: a
        captured value, or a Value passed as an argument in this call; one the output does
        not depend on gets 0.0, as in :func:`~micrograd_like.grad`.
        """
        out, gin, gcap, given = self._run(args)
        if wrt is None:
            return out, list(gin)
        if isinstance(wrt, Value) or not isinstance(wrt, Sequence):
            raise TypeError(f"{self._where}.value_and_grad: wrt must be a sequence of Values")
        slot = {id(v): g for v, g in zip(self.captured, gcap, strict=True)}
        slot.update((id(v), g) for v, g in zip(given, gin, strict=True) if v is not None)
        found = []
        for i, v in enumerate(wrt):
            if not isinstance(v, Value):
                raise TypeError(
                    f"{self._where}.value_and_grad: wrt[{i}] must be a Value, "
                    f"got {type(v).__name__}"
                )
            found.append(slot.get(id(v), 0.0))
        return out, found

    def benchmark(self, *args: Any, repeat: int = 5) -> dict[str, float]:
        """Time the engine and the replay on the same call, side by side; touches no ``.grad``.

        The engine builds the graph with the function and backpropagates it (``grad`` with
        respect to the captured values, the collector on as users run it); the replay runs
        :meth:`value_and_grad` for the same values. Returns the median milliseconds of
        ``repeat`` alternating runs of each (``engine_ms``, ``replay_ms``) and their ratio
        (``speedup``).
        """
        if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
            raise ValueError(f"{self._where}.benchmark: repeat must be a positive int")
        flat, _ = self._inputs(args)
        wrt = list(self.captured)
        engine: list[float] = []
        replay: list[float] = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            leaves = [Value(x) for x in flat]
            it = iter(leaves)
            out = self._fn(*[_build(s, it) for s in self._shape])
            engine_grad(out, [*leaves, *wrt])
            t1 = time.perf_counter()
            del out, leaves, it
            self.value_and_grad(*args, wrt=wrt)
            t2 = time.perf_counter()
            engine.append(t1 - t0)
            replay.append(t2 - t1)
        e, r = sorted(engine)[repeat // 2] * 1e3, sorted(replay)[repeat // 2] * 1e3
        return {"engine_ms": e, "replay_ms": r, "speedup": e / r}

    # ------------------------------------------------------------------ checking

    def check(self, *args: Any) -> None:
        """Trace the function again on these arguments and confirm the replay stands for it.

        Raises :class:`GraphChangedError` naming the first node that differs when the new
        graph is not the traced one (the function branches on the data, or turns ``.data``
        into a constant), and ``RuntimeError`` if the replay's output or gradients differ
        from ``backward()``'s by a single bit (which would be a bug in the replay).
        """
        flat, _ = self._inputs(args)
        leaves = [Value(x, label=p) for x, p in zip(flat, self._paths, strict=True)]
        it = iter(leaves)
        built = [_build(s, it) for s in self._shape]
        with gc_paused():
            out = self._fn(*built)
            trace = trace_graph(out, leaves, self._where)
        self._compare(trace)
        wrt = [*leaves, *self.captured]
        want = [out.data, *engine_grad(out, wrt)]
        value, gin, gcap = self._step(flat, [v.data for v in self.captured])
        got = [value, *gin, *gcap]
        bad = [i for i, (a, b) in enumerate(zip(got, want, strict=True)) if a.hex() != b.hex()]
        if bad:
            raise RuntimeError(
                f"{self._where}: the replay differs from backward() at {len(bad)} value(s) "
                f"(first: {got[bad[0]]!r} != {want[bad[0]]!r}); please report this bug"
            )

    def _compare(self, trace: Trace) -> None:
        new = [n.signature(trace.captured) for n in trace.nodes]
        hint = (
            "; the graph depends on the data (a Python branch on a comparison of Values, or a "
            "number taken from .data), which a replay cannot follow: call the function "
            "itself for such graphs, or compile per shape"
        )
        old_nodes = self._trace.nodes
        size = ""
        if len(new) != len(self._signature):
            size = f" (the graph has {len(new):,} nodes now, {len(self._signature):,} when traced)"
        for i, (a, b) in enumerate(zip(new, self._signature, strict=False)):
            if a != b:
                was, now = old_nodes[i], trace.nodes[i]
                name = f" ({was.name})" if was.kind != "const" else ""
                raise GraphChangedError(
                    f"{self._where}: node {i}{name} is {_describe(now, trace)} now, "
                    f"{_describe(was, self._trace)} when traced{size}{hint}"
                )
        if size:
            raise GraphChangedError(f"{self._where}: {size.strip(' ()')}{hint}")

    def _explain(self, err: Exception) -> Exception:
        # the engine's message for the node whose line raised: evaluate it again with the
        # op table, from the generated function's local values
        tb = err.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename not in self._line_where:
            tb = tb.tb_next
        if tb is None:
            return err
        phase, i = self._line_where[tb.tb_frame.f_code.co_filename][tb.tb_lineno - 1]
        if i < 0:
            return err
        local = tb.tb_frame.f_locals
        node = self._trace.nodes[i]
        op = node.the_op()
        inputs = [_value(self._trace.nodes[p], local) for p in node.parents]
        if op.forward is None:  # trace_graph refuses such nodes: never reached
            return err
        try:
            if phase == "forward":
                op.forward(*inputs, *op.params)
            else:
                g, out = local[f"d{node.name}"], local[node.name]
                op.derivative(FLOAT_MATH, g, out, *inputs, *op.params)
        except _DOMAIN_ERRORS as again:
            text = _call_text(op, inputs)
            if phase == "forward":
                return type(again)(f"{text}: {again}")
            return type(again)(
                f"backward through {text}: {again} (the local derivative is not finite here)"
            )
        return err


def _value(node: Node, local: dict[str, Any]) -> float:
    return node.value if node.kind == "const" else float(local[node.name])


def _describe(node: Node, trace: Trace) -> str:
    if node.kind == "const":
        return f"the constant {node.value!r}"
    if node.kind == "captured":
        return f"the captured {trace.captured[node.slot]!r}"
    if node.kind == "input":
        return f"input {node.slot}"
    return f"{node.the_op().describe()} of nodes {list(node.parents)}"


def compile(fn: Callable[..., Value], *example_args: Any, comments: bool | None = None) -> Compiled:
    """Trace ``fn(*example_args)`` once and return its graph as straight-line Python.

    ``fn`` takes numbers (or lists and tuples of them) and returns a Value; it may use any
    Values it can see (a model's parameters): those are *captured*, read at every call and
    given their gradients. Numbers that ``fn`` makes into Values are constants. The returned
    :class:`Compiled` runs forward and backward bit for bit like the engine; a later call
    must have the same argument shapes. ``comments`` (default: for graphs up to 400 nodes)
    writes each op's equation above its chain-rule lines.
    """
    if not callable(fn):
        raise TypeError(f"compile: fn must be callable, got {type(fn).__name__}")
    if not grad_enabled():
        raise RuntimeError("compile: cannot trace inside no_grad() (no graph would be recorded)")
    if comments is not None and not isinstance(comments, bool):
        raise TypeError(f"compile: comments must be a bool or None, got {comments!r}")
    where = f"compile {getattr(fn, '__name__', 'function')}"
    t0 = time.perf_counter()
    names = _arg_names(fn, len(example_args))
    flat: list[float] = []
    shape = [_shape(x, n, flat, where) for x, n in zip(example_args, names, strict=True)]
    paths = [p for s, n in zip(shape, names, strict=True) for p in _paths(s, n)]
    leaves = [Value(x, label=p) for x, p in zip(flat, paths, strict=True)]
    it = iter(leaves)
    built = [_build(s, it) for s in shape]
    with gc_paused():
        out = fn(*built)
        del built, it
        trace = trace_graph(out, leaves, where)
        del out
    if comments is None:
        comments = len(trace.nodes) <= _COMMENT_NODES
    return Compiled(fn, shape, names, trace, comments, time.perf_counter() - t0)
