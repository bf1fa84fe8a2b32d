"""Timing, memory probes and tasks shared by every engine; `python -m bench.harness ENGINE TASK...`.

Each engine module in bench/engines defines `make_engine() -> Engine`. This module runs the
named tasks on it and prints one JSON object {task: result} on stdout; progress goes to stderr.
A task that raises is reported as {"error": "..."} and the others still run.
"""

from __future__ import annotations

import gc
import importlib
import json
import math
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Protocol

from bench import gpt, workloads

Result = dict[str, Any]


class ChainRun(Protocol):
    """A recorded chain, built by Engine.chain(n) (the timed forward pass)."""

    def backward(self) -> None:
        """Backpropagate from the chain's output to its input."""

    def result(self) -> tuple[float, float]:
        """The chain's output value and d output / d input after backward."""


class Model(Protocol):
    """An engine's MLP on the moons data, loaded with given flat parameters."""

    def forward(self) -> Any:
        """Build the demo loss over the full batch; return the engine's loss object."""

    def loss_value(self, loss: Any) -> float:
        """The loss as a float."""

    def accuracy(self) -> float:
        """Accuracy of the scores computed by the last forward."""

    def zero_grad(self) -> None:
        """Reset every parameter's gradient."""

    def backward(self, loss: Any) -> None:
        """Backpropagate from the loss."""

    def update(self, k: int) -> None:
        """Step k's SGD update, p -= lr * p.grad with lr = workloads.demo_lr(k, steps)."""

    def set_params(self, flat: list[float]) -> None:
        """Overwrite the parameters (workloads.init_params order) and restart at step 0."""

    def grads(self) -> list[float]:
        """Gradients, in workloads.init_params order."""


@dataclass(frozen=True)
class Engine:
    """What an engine offers the tasks; features left None are reported as not available."""

    name: str
    version: str
    chain: Callable[[int], ChainRun] | None = None
    # (initial flat parameters, number of demo steps) -> the demo's model, loss and optimizer
    model: Callable[[list[float], int], Model] | None = None
    node_type: type | None = None  # counted with gc to get nodes per graph
    # the number of live nodes, for an engine whose nodes the collector does not track
    live_nodes: Callable[[], int] | None = None
    # the engine's own way to pause the cycle collector around graph building, if it has one
    paused: Callable[[], AbstractContextManager[None]] | None = None
    # a micrograd-style scalar class (``.data``, ``.grad``, ``.backward()``, ``exp``, ``log``,
    # ``relu``, arithmetic with numbers) to run bench/gpt.py's training step on
    value_type: Callable[[float], Any] | None = None
    # the engine's compiled replay of the MLP step, if it has one (bench/engines/mgl.py)
    replay: Callable[[list[float], int], Model] | None = None
    info: dict[str, str] = field(default_factory=dict)


def repeat(
    once: Callable[[], tuple[float, ...]],
    *,
    min_reps: int = 3,
    max_reps: int = 30,
    budget_s: float = 2.0,
    cap_s: float = 25.0,
    between: Callable[[], None] | None = None,
) -> list[tuple[float, ...]]:
    """Run `once` (which returns its timings) at least min_reps times unless that passes cap_s,
    then more while within budget_s, up to max_reps; `between` runs untimed before each rep."""
    runs: list[tuple[float, ...]] = []
    start = time.perf_counter()
    while len(runs) < max_reps:
        elapsed = time.perf_counter() - start
        if runs and elapsed >= budget_s and (len(runs) >= min_reps or elapsed >= cap_s):
            break
        if between is not None:
            between()
        runs.append(once())
    return runs


def rss_bytes() -> int:
    """Current resident set size of this process."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize()


def peak_rss_bytes() -> int:
    """Peak resident set size of this process so far (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def count_instances(cls: type) -> int:
    """How many live objects are instances of cls (every instance of a Python class is tracked)."""
    return sum(1 for o in gc.get_objects() if isinstance(o, cls))


def count_nodes(engine: Engine) -> int:
    """How many of the engine's nodes are alive: its own count if it keeps one (nodes the
    cycle collector does not track are not in gc.get_objects()), else count_instances."""
    if engine.live_nodes is not None:
        return engine.live_nodes()
    return count_instances(engine.node_type) if engine.node_type else 0


@contextmanager
def gc_disabled(off: bool) -> Iterator[None]:
    """Turn the cycle collector off inside the block when `off`, restoring its state after."""
    was_on = gc.isenabled()
    if off:
        gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _chain(engine: Engine) -> Callable[[int], ChainRun]:
    if engine.chain is None:
        raise NotImplementedError(f"{engine.name} has no chain")
    return engine.chain


def _pause(engine: Engine, paused: bool) -> Callable[[], AbstractContextManager[None]]:
    if not paused:
        return nullcontext
    if engine.paused is None:
        raise NotImplementedError(f"{engine.name} has no way to pause the collector")
    return engine.paused


def task_chain(
    engine: Engine, n: int, raised: bool = False, paused: bool = False, gc_off: bool = False
) -> Result:
    """Forward and backward time per op of an n-op chain (medians; the collector is on, and run
    between reps; with `paused`, the user's loop runs inside the engine's gc pause; with
    `gc_off`, inside gc.disable()). After a RecursionError in backward, only the forward is
    timed further."""
    chain = _chain(engine)
    pause = (lambda: gc_disabled(True)) if gc_off else _pause(engine, paused)
    old_limit = sys.getrecursionlimit()
    limit = max(old_limit, 2 * n + 10_000) if raised else old_limit
    backward_error: str | None = None
    last: list[ChainRun] = []

    def collect() -> None:
        last.clear()
        gc.collect()

    def once() -> tuple[float, ...]:
        nonlocal backward_error
        t0 = time.perf_counter()
        with pause():
            run = chain(n)
        t1 = time.perf_counter()
        if backward_error is None:
            try:
                with pause():
                    run.backward()
            except RecursionError as e:
                backward_error = f"RecursionError: {e}"
        t2 = time.perf_counter()
        last.append(run)
        return (t1 - t0, t2 - t1)

    sys.setrecursionlimit(limit)
    try:
        runs = repeat(once, cap_s=10.0, between=collect)
    finally:
        sys.setrecursionlimit(old_limit)
    out: Result = {
        "n": n,
        "reps": len(runs),
        "recursion_limit": limit,
        "fwd_ns_per_op": statistics.median([r[0] for r in runs]) / n * 1e9,
    }
    if backward_error is not None:
        out["backward_error"] = backward_error.split(":")[0]
        out["backward_error_message"] = backward_error
        return out
    value, grad = last[-1].result()
    out["bwd_ns_per_op"] = statistics.median([r[1] for r in runs]) / n * 1e9
    out["total_ns_per_op"] = statistics.median([r[0] + r[1] for r in runs]) / n * 1e9
    out["value"] = value
    out["grad"] = grad
    return out


def task_node_mem(engine: Engine, n: int) -> Result:
    """Memory held by an n-op chain graph: resident-set growth, then tracemalloc bytes per op and
    per node (a node is one live instance of the engine's node type). Run in a fresh process."""
    chain = _chain(engine)
    gc.collect()
    before = rss_bytes()
    run = chain(n)
    rss_delta = rss_bytes() - before
    del run
    gc.collect()
    out: Result = {"n": n, "rss_bytes_per_op": rss_delta / n}
    nodes_before = count_nodes(engine) if engine.node_type else 0
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    run = chain(n)
    traced = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    out["traced_bytes_per_op"] = traced / n
    if engine.node_type is not None:
        nodes = count_nodes(engine) - nodes_before
        out["nodes"] = nodes
        out["traced_bytes_per_node"] = traced / nodes
    del run
    return out


def task_deep(engine: Engine, n: int, paused: bool = False) -> Result:
    """Wall time and peak resident set of one n-deep chain forward+backward, in a fresh process
    (with `paused`, the user's code runs inside the engine's gc pause)."""
    chain = _chain(engine)
    pause = _pause(engine, paused)
    gc.collect()
    base = rss_bytes()
    t0 = time.perf_counter()
    with pause():
        run = chain(n)
    t1 = time.perf_counter()
    with pause():
        run.backward()
    t2 = time.perf_counter()
    value, grad = run.result()
    return {
        "n": n,
        "fwd_s": t1 - t0,
        "bwd_s": t2 - t1,
        "wall_s": t2 - t0,
        "peak_rss_mb": peak_rss_bytes() / 2**20,
        "baseline_rss_mb": base / 2**20,
        "value": value,
        "grad": grad,
    }


def task_deep_traced(engine: Engine, n: int) -> Result:
    """Peak traced Python memory of one n-deep chain forward+backward, in a fresh process."""
    chain = _chain(engine)
    gc.collect()
    tracemalloc.start()
    run = chain(n)
    run.backward()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del run
    return {"n": n, "traced_peak_mb": peak / 2**20}


def _model(engine: Engine, steps: int = workloads.DEMO_STEPS) -> Model:
    if engine.model is None:
        raise NotImplementedError(f"{engine.name} has no MLP")
    return engine.model(workloads.init_params(), steps)


def _collect() -> None:
    gc.collect()


def _step(model: Model, k: int) -> None:
    """Step k of micrograd's demo: forward, zero grads, backward, update."""
    loss = model.forward()
    model.zero_grad()
    model.backward(loss)
    model.update(k)


def task_mlp_check(engine: Engine) -> Result:
    """Loss, gradients and graph size at the initial weights, for the cross-engine check."""
    model = _model(engine)
    gc.collect()
    nodes_before = count_nodes(engine) if engine.node_type else 0
    loss = model.forward()
    nodes = None
    if engine.node_type is not None:
        # nodes created by forward, plus the parameters (leaves that existed before)
        nodes = count_nodes(engine) - nodes_before + len(workloads.init_params())
    graph_nodes = getattr(model, "graph_nodes", None)
    if graph_nodes is not None:
        nodes = graph_nodes(loss)
    return {**_loss_and_grads(model, loss), "graph_nodes": nodes}


def _loss_and_grads(model: Model, loss: Any) -> Result:
    """Backpropagate a model's loss from zero gradients; the loss, accuracy and gradients."""
    model.zero_grad()
    model.backward(loss)
    grads = model.grads()
    return {
        "inputs_digest": workloads.inputs_digest(),
        "loss": model.loss_value(loss),
        "accuracy": model.accuracy(),
        "grad_norm": math.sqrt(sum(g * g for g in grads)),
        "grads": grads,
    }


def task_mlp_step(engine: Engine, gc_off: bool = False, paused: bool = False) -> Result:
    """Median time of step 0 of the demo from the initial weights (reset between reps).
    With gc on, garbage is left for the collector exactly as in a user's training loop; with
    `paused` the whole step runs inside the engine's gc pause (as a user may write it)."""
    model = _model(engine)
    params = workloads.init_params()
    pause = _pause(engine, paused)

    def once() -> tuple[float, ...]:
        model.set_params(params)
        t0 = time.perf_counter()
        with pause():
            _step(model, 0)
        return (time.perf_counter() - t0,)

    gc.collect()
    _step(model, 0)  # warm-up
    with gc_disabled(gc_off):
        runs = repeat(
            once, min_reps=5, max_reps=40, budget_s=3.0, between=_collect if gc_off else None
        )
    gc.collect()
    times = [r[0] for r in runs]
    return {
        "reps": len(runs),
        "gc": "off" if gc_off else "paused" if paused else "on",
        "step_ms": statistics.median(times) * 1e3,
        "min_ms": min(times) * 1e3,
    }


def task_mlp_demo(engine: Engine, steps: int = workloads.DEMO_STEPS) -> Result:
    """Wall time of micrograd's demo run once in full: `steps` SGD steps from the initial weights
    with lr = 1 - 0.9 k/100; then the loss and accuracy at the final weights."""
    model = _model(engine, steps)
    gc.collect()
    t0 = time.perf_counter()
    for k in range(steps):
        _step(model, k)
    wall = time.perf_counter() - t0
    loss = model.forward()
    return {
        "steps": steps,
        "wall_s": wall,
        "final_loss": model.loss_value(loss),
        "final_accuracy": model.accuracy(),
    }


def task_mlp_eval(engine: Engine) -> Result:
    """Scores of the MLP on all points, recording a graph vs under no_grad (median of reps)."""
    model = _model(engine)
    evaluate = getattr(model, "evaluate", None)
    if evaluate is None:
        raise NotImplementedError(f"{engine.name} has no no_grad evaluation")
    out: Result = {}
    for record in (True, False):

        def once(record: bool = record) -> tuple[float, ...]:
            t0 = time.perf_counter()
            evaluate(record)
            return (time.perf_counter() - t0,)

        once()  # warm-up
        runs = repeat(once, min_reps=5, max_reps=50, budget_s=2.0)
        out["recording_ms" if record else "no_grad_ms"] = (
            statistics.median([r[0] for r in runs]) * 1e3
        )
    out["speedup"] = out["recording_ms"] / out["no_grad_ms"]
    return out


def _value_type(engine: Engine) -> Callable[[float], Any]:
    if engine.value_type is None:
        raise NotImplementedError(f"{engine.name} has no scalar class for the GPT")
    return engine.value_type


def task_gpt_check(engine: Engine, steps: int = gpt.TIMED_STEPS) -> Result:
    """The GPT's losses over the timed steps from the initial weights, the gradients of the
    first step and the number of nodes its forward made, for the cross-engine check."""
    value_type = _value_type(engine)
    words = gpt.make_words()
    model = gpt.Gpt(value_type, gpt.init_weights())
    opt = gpt.Adam(model.params)
    gc.collect()
    nodes_before = count_nodes(engine) if engine.node_type else 0
    loss = model.loss(words[0])
    nodes = count_nodes(engine) - nodes_before if engine.node_type else None
    loss.backward()
    grads = [float(p.grad) for p in model.params]
    losses = [float(loss.data)]
    del loss
    opt.step(0)
    for k in range(1, steps):
        losses.append(float(gpt.train_step(model, opt, words[k], k).data))
    return {
        "inputs_digest": gpt.inputs_digest(),
        "params": len(model.params),
        "graph_nodes": nodes,
        "losses": losses,
        "last_loss": losses[-1],
        "grads": grads,
        "words": words[:steps],
    }


def task_gpt_step(engine: Engine, gc_off: bool = False, paused: bool = False) -> Result:
    """Mean time per step of the GPT's first TIMED_STEPS training steps (one word each) from
    the initial weights, median over repetitions; each step is forward, backward and Adam,
    with the collector on as users run it (off, or the step inside the engine's pause)."""
    value_type = _value_type(engine)
    pause = _pause(engine, paused)
    words = gpt.make_words()
    init = gpt.init_weights()

    def once() -> tuple[float, ...]:
        model = gpt.Gpt(value_type, init)
        opt = gpt.Adam(model.params)
        total = cpu = 0.0
        for k in range(gpt.TIMED_STEPS):
            t0, c0 = time.perf_counter(), time.process_time()
            with pause():
                gpt.train_step(model, opt, words[k], k)
            total += time.perf_counter() - t0
            cpu += time.process_time() - c0
        return (total / gpt.TIMED_STEPS, cpu / gpt.TIMED_STEPS)

    gc.collect()
    once()  # warm-up
    with gc_disabled(gc_off):
        runs = repeat(once, min_reps=3, max_reps=15, budget_s=4.0, between=_collect)
    times = [r[0] for r in runs]
    return {
        "reps": len(runs),
        "gc": "off" if gc_off else "paused" if paused else "on",
        "steps": gpt.TIMED_STEPS,
        "step_ms": statistics.median(times) * 1e3,
        "min_ms": min(times) * 1e3,
        # CPU time of this process: what other work on a shared machine moves least
        "cpu_ms": statistics.median(r[1] for r in runs) * 1e3,
    }


def task_mlp_replay(engine: Engine) -> Result:
    """The demo's MLP step (forward, zero grads, backward, update) through the engine's
    compiled replay: compile time, median step time, and its step-0 loss and gradients."""
    if engine.replay is None:
        raise NotImplementedError(f"{engine.name} has no compiled replay")
    t0 = time.perf_counter()
    model = engine.replay(workloads.init_params(), workloads.DEMO_STEPS)
    setup_s = time.perf_counter() - t0
    out = {**_loss_and_grads(model, model.forward()), "setup_s": setup_s}
    out.update(getattr(model, "compile_info", {}))
    params = workloads.init_params()

    def once() -> tuple[float, ...]:
        model.set_params(params)
        t0 = time.perf_counter()
        _step(model, 0)
        return (time.perf_counter() - t0,)

    gc.collect()
    runs = repeat(once, min_reps=5, max_reps=200, budget_s=3.0)
    times = [r[0] for r in runs]
    out.update(reps=len(runs), step_ms=statistics.median(times) * 1e3, min_ms=min(times) * 1e3)
    return out


TASKS: dict[str, Callable[..., Result]] = {
    "chain": task_chain,
    "chain_raised": lambda e, n: task_chain(e, n, raised=True),
    "chain_paused": lambda e, n: task_chain(e, n, paused=True),
    "chain_raised_gcoff": lambda e, n: task_chain(e, n, raised=True, gc_off=True),
    "node_mem": task_node_mem,
    "deep": task_deep,
    "deep_paused": lambda e, n: task_deep(e, n, paused=True),
    "deep_traced": task_deep_traced,
    "mlp_check": task_mlp_check,
    "mlp_step": task_mlp_step,
    "mlp_step_gcoff": lambda e: task_mlp_step(e, gc_off=True),
    "mlp_step_paused": lambda e: task_mlp_step(e, paused=True),
    "mlp_demo": task_mlp_demo,
    "mlp_eval": task_mlp_eval,
    "mlp_replay": task_mlp_replay,
    "gpt_check": task_gpt_check,
    "gpt_step": task_gpt_step,
    "gpt_step_gcoff": lambda e: task_gpt_step(e, gc_off=True),
    "gpt_step_paused": lambda e: task_gpt_step(e, paused=True),
}


def run_task(engine: Engine, spec: str) -> Result:
    """Run one task spec, `name` or `name:int`; an exception becomes {"error": ...}."""
    name, _, arg = spec.partition(":")
    args = [int(arg)] if arg else []
    t0 = time.perf_counter()
    try:
        result = TASKS[name](engine, *args)
    except Exception as e:  # every failure is reported, not raised
        result = {"error": f"{type(e).__name__}: {e}"}
    took = time.perf_counter() - t0
    status = result.get("error", "ok")
    print(f"  [{engine.name}] {spec}: {status} ({took:.1f} s)", file=sys.stderr, flush=True)
    return result


def main(argv: list[str]) -> int:
    """`ENGINE TASK...`: import bench.engines.ENGINE, run the tasks, print JSON on stdout."""
    if len(argv) < 1:
        print("usage: python -m bench.harness ENGINE [TASK[:N]]...", file=sys.stderr)
        return 2
    module, specs = argv[0], argv[1:]
    try:
        engine: Engine = importlib.import_module(f"bench.engines.{module}").make_engine()
    except ImportError as e:
        print(json.dumps({"engine": module, "error": f"{type(e).__name__}: {e}"}))
        return 0
    results = {spec: run_task(engine, spec) for spec in specs}
    info = {"python": sys.version.split()[0], **engine.info}
    print(
        json.dumps(
            {"engine": engine.name, "version": engine.version, "info": info, "results": results}
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
