"""The playground: run a snippet, then draw and step through the graph of the value it made.

A run executes the code in a fresh namespace, the way a notebook cell runs: a last line that
is an expression is evaluated and its value shown. The value drawn is that last line's value
if it is a ``Value``, otherwise the ``Value`` most recently assigned to a name at the top
level. Gradient checks (what ``gradcheck`` and ``check_graph`` return) left in names or on
the last line are shown as their tables. Errors come back as a traceback of the snippet's own
lines, never as a failure of the page.
"""

from __future__ import annotations

import ast
import builtins
import linecache
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import redirect_stderr, redirect_stdout
from typing import Any

from micrograd_like import Module, Stepper, Value, draw_dot, topological_order, undefine_op
from micrograd_like.checking import GradcheckResult, GraphCheckResult
from micrograd_like.drawing import DEFAULT_MAX_NODES
from micrograd_like.ops import OPS

__all__ = ["FILENAME", "MAX_STEPPED", "Playground"]

FILENAME = "<playground>"
# stepping traces both passes of the whole graph up front: past this many values the page
# shows the (collapsed) diagram only
MAX_STEPPED = 10_000
_REPR_LIMIT = 4_000  # characters of the last line's repr shown
# code whose names are not the snippet's top-level names
_OWN_SCOPE = (
    ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda,
    ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp,
)  # fmt: skip

Write = Callable[[str], object]


class _Stream:
    """A text stream that hands everything written to a function (the page's output pane)."""

    def __init__(self, write: Write) -> None:
        self._write = write

    def write(self, text: str) -> int:
        self._write(text)
        return len(text)

    def flush(self) -> None:
        """Nothing to flush: every write is handed on at once."""

    def isatty(self) -> bool:
        """Not a terminal (progress bars and colours stay off)."""
        return False


class Playground:
    """Runs snippets one after another and keeps the stepper of the last value drawn."""

    def __init__(self) -> None:
        self.stepper: Stepper | None = None
        self._defined: list[str] = []  # custom ops the last run added to the op table
        self._namespace: dict[str, Any] = {}  # the last run's names, kept until the next run

    def run(self, code: str, write: Write) -> dict[str, Any]:
        """Run ``code``; stream its output to ``write``; return what the page shows as a dict.

        ``status`` is ``"ok"`` or ``"error"`` (then ``error`` holds the traceback). ``result``
        is the repr of a last-line expression's value (``None`` if there is none or it is
        ``None``); ``shown`` names the value drawn and ``diagram`` holds its DOT text (or why
        there is none); ``stepper`` gives the step counts of both passes; ``checks`` the
        gradient-check tables as HTML.
        """
        if not isinstance(code, str):
            raise TypeError(f"Playground.run: code must be a str, got {type(code).__name__}")
        start = time.perf_counter()
        self._release()
        self._forget_ops()
        linecache.cache[FILENAME] = (len(code), None, code.splitlines(True), FILENAME)
        out: dict[str, Any] = {
            "status": "ok",
            "error": None,
            "result": None,
            "shown": None,
            "diagram": None,
            "stepper": None,
            "checks": [],
            "why": None,
        }
        before = set(OPS)
        namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
        self._namespace = namespace
        stream = _Stream(write)
        try:
            with redirect_stdout(stream), redirect_stderr(stream):
                tree = ast.parse(code, FILENAME)
                value = _execute(tree, namespace)
        except BaseException as err:  # the snippet's own errors, Ctrl-C (Stop) included
            out["status"] = "error"
            out["error"] = _traceback(err)
            out["seconds"] = time.perf_counter() - start
            return out
        finally:
            self._defined = [name for name in OPS if name not in before]
        if value is not None:
            text = repr(value)
            if len(text) > _REPR_LIMIT:
                text = f"{text[:_REPR_LIMIT]}… ({len(text):,} characters)"
            out["result"] = text
        checks = _checks(tree, namespace, value)
        out["checks"] = [
            {"name": name, "passed": bool(r), "summary": r.summary(), "html": r._repr_html_()}
            for name, r in checks
        ]
        picked = _pick(tree, namespace, value, code)
        if picked is None:
            out["why"] = (
                "No Value to draw: end the code with a Value (for example the loss), or assign "
                "one to a name."
            )
        else:
            node, name = picked
            graph_checks = [r for _, r in checks if isinstance(r, GraphCheckResult)]
            out.update(self._show(node, name, namespace, graph_checks))
        out["seconds"] = time.perf_counter() - start
        return out

    def _show(
        self, node: Value, name: str, namespace: dict[str, Any], checks: list[GraphCheckResult]
    ) -> dict[str, Any]:
        # the diagram of ``node`` (collapsed past draw_dot's max_nodes) and its stepper
        size = len(topological_order(node))
        params = [p for m in namespace.values() if isinstance(m, Module) for p in m.parameters()]
        check = next((r for r in reversed(checks) if r.output is node), None)
        shown = {"name": name, "repr": repr(node), "values": size}
        diagram: dict[str, Any]
        try:
            dot = draw_dot(node, parameters=params, check=check).source
            diagram = {"dot": dot, "values": size, "collapsed": size > DEFAULT_MAX_NODES}
        except ValueError as err:  # too large even collapsed
            diagram = {"error": str(err), "values": size}
        stepper: dict[str, Any]
        if size <= MAX_STEPPED:
            self.stepper = Stepper(node)
            stepper = {"forward": len(self.stepper.forward), "backward": len(self.stepper.backward)}
        else:
            stepper = {
                "error": f"The graph has {size:,} values; stepping through it here is limited "
                f"to {MAX_STEPPED:,}. Step through a part: pick an inner value."
            }
        return {"shown": shown, "diagram": diagram, "stepper": stepper}

    def frame(self, mode: str, index: int) -> dict[str, Any]:
        """One step of the stepper of the last value drawn: title, equation and its diagram.

        The same ``Frame`` as the Jupyter stepper shows (``Stepper.frame``), with the DOT text
        of ``Stepper.digraph`` for the same step.
        """
        if self.stepper is None:
            raise RuntimeError("Playground.frame: nothing to step through; run code first")
        f = self.stepper.frame(mode, index)
        return {
            "mode": f.mode,
            "index": f.index,
            "count": f.count,
            "node": f.name,
            "title": f.title,
            "equation": f.equation,
            "latex": f.latex,
            "note": f.note,
            "dot": self.stepper.dot(mode, index),
        }

    def _release(self) -> None:
        """Drop the last run's names and stepper, freeing their graphs one node at a time.

        Freeing a deep graph all at once (a chain of thousands of ops) makes CPython free
        node after node recursively in C; in a browser that recursion runs out of stack and
        kills Pyodide. Holding every node in a list in forward order and emptying the list
        from the end frees each node after all its users, so no free recurses.
        """
        roots = list(_values_in(self._namespace.values()))
        if self.stepper is not None:
            roots.append(self.stepper.root)
        self._namespace, self.stepper = {}, None
        order = _forward_order(roots)
        del roots  # now only ``order`` holds the nodes (no loop variable keeps one alive)
        while order:
            order.pop()

    def _forget_ops(self) -> None:
        # each run starts from the op table as it was: drop the custom ops the last run defined
        for name in self._defined:
            if name in OPS:
                undefine_op(name)
        self._defined = []


def _forward_order(roots: list[Value]) -> list[Value]:
    """Every node of the roots' graphs once, each after all its inputs."""
    order: list[Value] = []
    seen: set[int] = set()
    for root in roots:  # one forward order per root, each node where it first appears
        for v in topological_order(root):
            if id(v) not in seen:
                seen.add(id(v))
                order.append(v)
    return order


def _values_in(items: Iterable[Any]) -> Iterator[Value]:
    """The Values among ``items`` and inside the lists, tuples, sets and dicts among them."""
    for x in items:
        if isinstance(x, Value):
            yield x
        elif isinstance(x, (list, tuple, set, frozenset)):
            yield from (v for v in x if isinstance(v, Value))
        elif isinstance(x, dict):
            yield from (v for v in x.values() if isinstance(v, Value))


def _execute(tree: ast.Module, namespace: dict[str, Any]) -> Any:
    """Run the statements; return the last line's value if it is an expression, else None."""
    body = tree.body
    if not body or not isinstance(body[-1], ast.Expr):
        exec(compile(tree, FILENAME, "exec"), namespace)
        return None
    exec(compile(ast.Module(body=body[:-1], type_ignores=[]), FILENAME, "exec"), namespace)
    return eval(compile(ast.Expression(body[-1].value), FILENAME, "eval"), namespace)


def _traceback(err: BaseException) -> str:
    """The error as Python prints it, from the snippet's first frame on (no glue frames)."""
    if isinstance(err, KeyboardInterrupt):
        return "KeyboardInterrupt: stopped by the Stop button"
    tb = err.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != FILENAME:
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(err), err, tb)).rstrip()


def _assigned(stmt: ast.stmt) -> list[str]:
    """The names a top-level statement binds, in source order, loops and ``with`` included.

    ``a, b = ...`` gives ``a``, ``b``; assignments inside ``for``, ``while``, ``if``,
    ``with`` and ``try`` count (a training loop's ``loss = ...``), those inside functions
    and classes do not (their names are not the snippet's).
    """
    names: list[str] = []
    todo: list[ast.AST] = [stmt]
    while todo:
        node = todo.pop(0)
        if isinstance(node, _OWN_SCOPE):
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.append(node.id)
        todo[:0] = ast.iter_child_nodes(node)
    return names


def _pick(
    tree: ast.Module, namespace: dict[str, Any], value: Any, code: str
) -> tuple[Value, str] | None:
    """The value to draw and how to call it: the last line's, else the last one assigned."""
    last = tree.body[-1] if tree.body else None
    if isinstance(value, Value) and isinstance(last, ast.Expr):
        return value, ast.get_source_segment(code, last.value) or "the last line"
    for stmt in reversed(tree.body):
        for name in reversed(_assigned(stmt)):
            if isinstance(namespace.get(name), Value):
                return namespace[name], name
    return None


def _checks(tree: ast.Module, namespace: dict[str, Any], value: Any) -> list[tuple[str, Any]]:
    """Gradient-check results held by top-level names (in order), then the last line's."""
    kinds = (GradcheckResult, GraphCheckResult)
    found: list[tuple[str, Any]] = []
    seen: set[int] = set()
    for stmt in tree.body:
        for name in _assigned(stmt):
            r = namespace.get(name)
            if isinstance(r, kinds) and id(r) not in seen:
                seen.add(id(r))
                found.append((name, r))
    if isinstance(value, kinds) and id(value) not in seen:
        found.append(("the last line", value))
    return found
