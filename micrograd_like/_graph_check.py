"""check_graph: d output / d node for every node of a graph, against the graph's own forwards.

Each node's value is moved by a small step and only the nodes downstream of it are
re-evaluated, with their ops' forwards and params, so a wrong derivative rule is pinned to the
node that applies it (see :meth:`GraphCheckResult.first_mismatch`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from micrograd_like._differences import (
    DOMAIN_ERRORS,
    MISMATCH,
    UNCHECKABLE,
    Check,
    Tolerance,
    abs_rel_errors,
    check_derivative,
    make_check,
    read_tolerance,
    with_context,
)
from micrograd_like._reports import Report, fmt_num
from micrograd_like._validate import a_value, count
from micrograd_like.engine import Value, gc_paused, topological_order
from micrograd_like.functional import grad

__all__ = ["GraphCheckResult", "NodeCheck", "check_graph"]


@dataclass(frozen=True)
class NodeCheck(Check):
    """The check of one graph node: ``analytic`` is d output / d ``node`` from the backward pass.

    ``position`` is the node's index in ``topological_order(output)`` (inputs first), which
    the printed table shows as ``#position``. A node with verdict :data:`UNCHECKABLE` has no
    finite difference: ``numeric``, ``abs_err``, ``rel_err`` and ``allowed`` are NaN.
    """

    node: Value
    position: int


# One node's re-evaluation: (position, forward, a, b, general). A unary or binary op without
# params reads w[a] (and w[b]; b < 0 for unary); any other op has general = (parents, params).
_Step = tuple[int, Callable[..., float], int, int, tuple[tuple[int, ...], tuple[float, ...]] | None]


class _Graph:
    """A graph flattened in topological order, re-evaluable downstream of any one node."""

    def __init__(self, order: list[Value]) -> None:
        self.order = order
        position = {v: k for k, v in enumerate(order)}
        self.base = [v.data for v in order]
        self.parents: list[tuple[int, ...]] = []
        self.steps: list[_Step | None] = []
        self.consumers: list[list[int]] = [[] for _ in order]
        # a node with an op but no forward (built micrograd-style, with an op string that
        # names no table op) cannot be re-evaluated, so nothing before it can be checked
        self.opaque = bytearray(len(order))
        for k, v in enumerate(order):
            parents = tuple(position[p] for p in v.parents)
            self.parents.append(parents)
            op = v.primitive
            if op is None:
                self.steps.append(None)
                continue
            for p in dict.fromkeys(parents):
                self.consumers[p].append(k)
            if op.forward is None:
                self.opaque[k] = 1
                self.steps.append(None)
            elif op.params or len(parents) > 2:
                self.steps.append((k, op.forward, 0, 0, (parents, op.params)))
            else:
                b = parents[1] if len(parents) == 2 else -1
                self.steps.append((k, op.forward, parents[0], b, None))

    def verify(self) -> None:
        """Check every node's data is finite and is what its op gives from its parents' data.

        A micrograd-style node computed its data with the user's own formula, which may differ
        from the table op its op string names by a few ulps (the engine matched them to 1e-9);
        ``base`` then takes the forward's values, so that every shifted re-evaluation is
        compared with the same arithmetic at the point.
        """
        w = self.base.copy()
        rebase = False
        for k, v in enumerate(self.order):
            if not math.isfinite(v.data):
                raise ValueError(f"check_graph: node {_name(v, k)} is {v.data!r}, not finite")
            step = self.steps[k]
            if step is None:
                continue
            try:
                again: object = self.run([step], w, k, 0.0)
            except ValueError as err:  # the inputs now lie outside the op's domain
                again = f"an error ({err.__cause__ or err})"
            if (
                v.primitive is not None
                and v.primitive.closure is not None
                and isinstance(again, float)
                and math.isclose(again, v.data, rel_tol=1e-9, abs_tol=1e-300)
            ):
                rebase = rebase or again != v.data
                w[k] = v.data  # later nodes are compared with what they were computed from
                continue
            if again != v.data:
                raise ValueError(
                    f"check_graph: node {_name(v, k)} holds {v.data!r} but its op gives "
                    f"{again!s} from its inputs; was a .data changed after the graph was "
                    "built? Rebuild the graph, then check it"
                )
        if rebase:
            self.rebase()

    def plan(self, k: int) -> tuple[list[_Step], int | None]:
        """The re-evaluation steps of every node that depends on node k, in topological order,
        and the first of them with no forward (``None`` if all have one: then k is checkable)."""
        consumers = self.consumers
        seen = bytearray(len(self.order))
        stack, found = [k], []
        while stack:
            for c in consumers[stack.pop()]:
                if not seen[c]:
                    seen[c] = 1
                    found.append(c)
                    stack.append(c)
        found.sort()
        opaque = self.opaque
        blocked = next((j for j in found if opaque[j]), None)
        steps = self.steps
        return [steps[j] for j in found if not opaque[j]], blocked  # type: ignore[misc]

    def rebase(self) -> None:
        """Recompute every node's base value with the ops' forwards, from the leaves."""
        w = self.base
        for step in self.steps:
            if step is not None:
                self.run([step], w, step[0], 0.0)

    def shifted(self, k: int, plan: list[_Step], t: float) -> float:
        """The output's value when node k is moved by t; ``plan`` is ``self.plan(k)``."""
        w = self.base.copy()
        w[k] += t
        return self.run(plan, w, k, t) if plan else w[k]

    def run(self, plan: list[_Step], w: list[float], k: int, t: float) -> float:
        """Recompute the nodes of ``plan`` in ``w``; return the last (errors say node k moved)."""
        j = k
        try:
            for j, fwd, a, b, general in plan:
                if general is not None:
                    w[j] = fwd(*[w[p] for p in general[0]], *general[1])
                elif b < 0:
                    w[j] = fwd(w[a])
                else:
                    w[j] = fwd(w[a], w[b])
        except DOMAIN_ERRORS as err:
            raise ValueError(
                f"check_graph: moving node {_name(self.order[k], k)} by {t:+g} takes node "
                f"{_name(self.order[j], j)} out of its op's domain ({err}); use a smaller eps"
            ) from err
        out = float(w[j])
        if not math.isfinite(out):
            raise ValueError(
                f"check_graph: moving node {_name(self.order[k], k)} by {t:+g} makes node "
                f"{_name(self.order[j], j)} {out!r}; use a smaller eps"
            )
        return out

    def local(self, c: int, p: int, tol: Tolerance) -> Check:
        """Check d node_c / d node_p from c's own rule against c's forward alone."""
        # a parent used twice (x * x) contributes through both slots
        rule = self.order[c].local_grads()
        analytic = math.fsum(d for q, d in zip(self.parents[c], rule, strict=True) if q == p)
        estimate = check_derivative(
            analytic,
            partial(self.shifted, p, [self.steps[c]]),  # type: ignore[list-item]
            self.base[p],
            self.base[c],
            tol,
        )
        return make_check(f"d#{c}/d#{p}", analytic, estimate)


def _name(v: Value, k: int) -> str:
    what = v.primitive.describe() if v.primitive is not None else "leaf"
    label = f" {v.label!r}" if v.label else ""
    return f"#{k}{label} ({what})"


class GraphCheckResult(Report[NodeCheck]):
    """What :func:`check_graph` returns: a :class:`NodeCheck` for every node of the graph.

    ``nodes`` maps each node (by identity) to its check and ``checks`` lists them in
    topological order. Truthy iff every node matched (kinks allowed): no mismatch and nothing
    unverified. :meth:`first_mismatch` names the node whose derivative rule is to blame.
    Printing, ``_repr_html_`` and :meth:`raise_if_failed` work as for
    :class:`GradcheckResult`.
    """

    _columns = ("node", "data")
    _what = "node gradient"

    def __init__(
        self,
        output: Value,
        checks: list[NodeCheck],
        blame: tuple[NodeCheck, NodeCheck, Check | None] | None,
        tolerance: Tolerance,
        *,
        opaque: Sequence[NodeCheck] = (),
    ) -> None:
        self.output = output
        self.checks = checks
        self.nodes: dict[Value, NodeCheck] = {c.node: c for c in checks}
        self._tol = tolerance
        self._blame = blame
        self._opaque = tuple(opaque)

    def opaque(self) -> list[NodeCheck]:
        """The checks of the nodes with no forward to re-evaluate, which make every node before
        them :data:`UNCHECKABLE`.

        Such a node was built micrograd-style (``Value(f(x.data), (x,), 'f')`` with a
        ``_backward`` closure) under an op string that names no table op giving its data, so
        finite differences cannot pass through it. ``gradcheck`` of the function that builds
        the graph checks it (it re-runs the whole function); naming the op as the table does
        (``'tanh'``, ``'exp'``, ``'**2'``) lets ``check_graph`` check it node by node.
        """
        return list(self._opaque)

    def first_mismatch(self) -> NodeCheck | None:
        """Return the check of the node to blame for the first wrong gradient, or ``None``.

        The backward pass runs from the output towards the inputs, so a wrong derivative rule
        first shows up in the gradient of that op's *inputs*: the mismatching node closest to
        the output has only correct gradients downstream of it, and among the nodes it feeds,
        the one whose local derivative disagrees with a finite difference of its own forward
        is the culprit. This returns that culprit (its op is ``.node.primitive``; its own
        gradient agrees, the error enters on the way to its inputs), or the mismatching node
        itself if no single rule can be blamed.
        """
        return None if self._blame is None else self._blame[0]

    def _title(self) -> str:
        return f"check_graph of {_name(self.output, len(self.checks) - 1)}:"

    def _cells(self, c: NodeCheck) -> list[str]:
        return [_name(c.node, c.position), fmt_num(c.node.data)]

    def _mismatch_heading(self, c: NodeCheck) -> str:
        return f"Gradient mismatch for d output / d {_name(c.node, c.position)}"

    def _notes(self) -> list[str]:
        notes = [
            f"node {_name(c.node, c.position)} was built with a _backward closure and has no "
            "forward to re-evaluate (its op string names no table op that gives its data), "
            "so the nodes before it are not checkable here: check the function that builds "
            "the graph with gradcheck, or spell the op as the table does"
            for c in self._opaque
        ]
        return notes + self._blame_notes()

    def _blame_notes(self) -> list[str]:
        if self._blame is None:
            return []
        culprit, victim, local = self._blame
        if local is None:
            return [
                f"first mismatch: node {_name(victim.node, victim.position)}; no single "
                "derivative rule of the nodes it feeds disagrees with its forward"
            ]
        op = culprit.node.primitive
        if op is not None and op.closure is not None:
            fix = f"Check the _backward closure of node #{culprit.position}."
        else:
            fix = f"Check the derivative of op {op.name if op else '?'!r}."
        return [
            f"first mismatch: node {_name(culprit.node, culprit.position)} is to blame: its "
            f"derivative rule gives d#{culprit.position}/d#{victim.position} = "
            f"{fmt_num(local.analytic)}, finite differences of its forward give "
            f"{fmt_num(local.numeric)}; the gradients of #{victim.position} and of everything "
            f"before it are wrong. {fix}"
        ]


def check_graph(
    output: Value,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    max_nodes: int | None = 5000,
) -> GraphCheckResult:
    """Check d ``output`` / d node for every node of ``output``'s graph against finite differences.

    The analytic value is what the engine's backward pass computes (``functional.grad``; no
    ``.grad`` is touched). The numeric value moves that one node's value by ``±eps`` and
    re-evaluates only the nodes downstream of it, in topological order, with their ops'
    forwards and params; nothing in the graph is modified. The verdicts follow
    :func:`gradcheck`. A node built micrograd-style (``Value(f(x.data), (x,), 'f')`` with a
    ``_backward`` closure) is checked like any other when its op string names a table op that
    gives its data (``'tanh'``, ``'exp'``, ``'**2'``), so a wrong closure is a mismatch blamed
    on it; otherwise it has no forward, and every node whose way to the output passes through
    it is :data:`UNCHECKABLE` (the result is falsy; :meth:`GraphCheckResult.opaque` names the
    blocking nodes). Each node costs a few re-evaluations of its downstream part, so time
    grows with nodes × depth; graphs over ``max_nodes`` nodes are refused (``None`` lifts the
    limit). Returns a :class:`GraphCheckResult`.
    """
    a_value(output, "check_graph: output")
    tol = read_tolerance("check_graph", eps, atol, rtol)
    if max_nodes is not None:
        max_nodes = count(max_nodes, "check_graph: max_nodes", or_none=True, wrong_type=ValueError)
    order = topological_order(output)
    if max_nodes is not None and len(order) > max_nodes:
        raise ValueError(
            f"check_graph: the graph has {len(order)} nodes, more than max_nodes={max_nodes}; "
            "each node's check re-evaluates everything downstream of it, so the time grows "
            "with nodes x depth. Pass max_nodes=None (or a larger number) to check it anyway"
        )
    graph = _Graph(order)
    graph.verify()
    with gc_paused():
        analytic = with_context(
            "check_graph", lambda: grad(output, order), "the backward pass fails"
        )
        checks: list[NodeCheck] = []
        blocking: set[int] = set()
        for k, v in enumerate(order):
            plan, blocked = graph.plan(k)
            label = f"d out/d#{k}"
            if blocked is not None:
                blocking.add(blocked)
                nan = math.nan
                checks.append(
                    NodeCheck(label, analytic[k], nan, nan, nan, UNCHECKABLE, None, nan, v, k)
                )
                continue
            phi = partial(graph.shifted, k, plan)
            e = check_derivative(analytic[k], phi, graph.base[k], graph.base[-1], tol)
            errs = abs_rel_errors(analytic[k], e.numeric)
            checks.append(
                NodeCheck(label, analytic[k], e.numeric, *errs, e.verdict, e.sides, e.allowed, v, k)
            )
        blame = _blame(graph, checks, tol)
    opaque = [checks[j] for j in sorted(blocking)]
    return GraphCheckResult(output, checks, blame, tol, opaque=opaque)


def _blame(
    graph: _Graph, checks: list[NodeCheck], tol: Tolerance
) -> tuple[NodeCheck, NodeCheck, Check | None] | None:
    """(culprit, the mismatching node it feeds wrongly, the culprit's local check) or None."""
    bad = [c for c in checks if c.verdict == MISMATCH]
    if not bad:
        return None
    victim = bad[-1]  # closest to the output: every node after it is right
    for c in graph.consumers[victim.position]:
        if graph.opaque[c]:  # no forward to difference: its rule cannot be judged
            continue
        local = graph.local(c, victim.position, tol)
        if local.verdict == MISMATCH:
            return checks[c], victim, local
    return victim, victim, None
