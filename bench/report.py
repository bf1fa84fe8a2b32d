"""RESULTS.md from the collected runs: measurements side by side, targets, correctness, method."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.checks import Finding, find

COLUMNS = ("mgl", "mgl_pure", "lean", "mg", "torch_scalar", "floats", "torch_batched")
TITLES = {
    "mgl": "micrograd_like",
    "mgl_pure": "micrograd_like, pure Python ⁴",
    "lean": "lean Value",
    "mg": "micrograd",
    "torch_scalar": "torch (0-d tensors)",
    "floats": "floats (by hand)",
    "torch_batched": "torch (batched, context)",
}


@dataclass(frozen=True)
class Config:
    """The sizes this run used (smaller with --quick)."""

    chain_n: int
    sizes: tuple[int, ...]
    deep_n: int
    mem_n: int
    demo_steps: int


def _num(x: float, digits: int = 3) -> str:
    """A number with `digits` significant figures and thousands separators."""
    if x == 0 or abs(x) >= 10 ** (digits - 1):
        return f"{x:,.0f}"
    return f"{x:,.{max(0, digits - 1 - int(f'{abs(x):e}'.split('e')[1]))}f}"


def _pow10(n: int) -> str:
    exp = len(str(n)) - 1
    return f"10^{exp}" if n == 10**exp else f"{n:,}"


class Runs:
    """Read access to the collected results of every engine."""

    def __init__(self, runs: dict[str, Any]) -> None:
        self.runs = runs

    def result(self, key: str, task: str) -> Any:
        """The result dict of a task (spec `task` or `task:N` exactly), or None."""
        run = self.runs.get(key, {})
        return run.get("results", {}).get(task) if ":" in task else find(run, task)

    def get(self, key: str, task: str, field: str) -> float | None:
        r = self.result(key, task)
        if isinstance(r, dict) and isinstance(r.get(field), (int, float)):
            return float(r[field])
        return None

    def cell(self, key: str, task: str, field: str, fmt: Callable[[float], str] = _num) -> str:
        """A table cell: the number, the error's name, or a dash when not measured."""
        run = self.runs.get(key)
        if run is None or "error" in run:
            return "—"
        r = self.result(key, task)
        if r is None:
            return "—"
        if "error" in r:
            return str(r["error"]).split(":")[0]
        if field in ("bwd_ns_per_op", "total_ns_per_op") and "backward_error" in r:
            return str(r["backward_error"])
        v = self.get(key, task, field)
        return "—" if v is None else fmt(v)


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b is not None and b > 0 else None


def _met(ok: bool | None) -> str:
    return "n/a" if ok is None else ("yes" if ok else "**NO**")


def _measurements(r: Runs, c: Config) -> list[str]:
    n = _pow10(c.chain_n)
    cols = [k for k in COLUMNS if k in r.runs and "error" not in r.runs[k]]
    lines = [
        "| measurement | " + " | ".join(TITLES[k] for k in cols) + " |",
        "|---" * (len(cols) + 1) + "|",
    ]

    def row(
        label: str,
        task: str,
        field: str,
        fmt: Callable[[float], str] = _num,
        tasks: dict[str, str] | None = None,
        override: dict[str, str] | None = None,
    ) -> None:
        # `tasks` measures some columns with another task (micrograd's chain with gc off)
        cells = [
            (override or {}).get(k) or r.cell(k, (tasks or {}).get(k, task), field, fmt)
            for k in cols
        ]
        if any(x != "—" for x in cells):
            lines.append(f"| {label} | " + " | ".join(cells) + " |")

    mg_bwd = r.get("mg", f"chain_raised:{c.chain_n}", "bwd_ns_per_op")
    mg_note = {}
    if mg_bwd is not None:
        default = r.cell("mg", f"chain:{c.chain_n}", "bwd_ns_per_op")
        mg_note["mg"] = f"{_num(mg_bwd)} ¹" + (
            f" ({default} at the default limit)" if default != _num(mg_bwd) else ""
        )
    off = {"mg": f"chain_raised_gcoff:{c.chain_n}"}
    row(f"chain {n}: forward, ns/op", f"chain:{c.chain_n}", "fwd_ns_per_op")
    row(
        f"chain {n}: forward, gc paused ², ns/op",
        f"chain_paused:{c.chain_n}",
        "fwd_ns_per_op",
        tasks=off,
    )
    row(f"chain {n}: backward, ns/op", f"chain:{c.chain_n}", "bwd_ns_per_op", override=mg_note)
    row(
        f"chain {n}: backward, gc paused ², ns/op",
        f"chain_paused:{c.chain_n}",
        "bwd_ns_per_op",
        tasks=off,
    )
    for size in c.sizes:
        row(f"chain {_pow10(size)}: forward+backward, ns/op", f"chain:{size}", "total_ns_per_op")
    for size in c.sizes:
        row(
            f"chain {_pow10(size)}: forward+backward, gc paused ², ns/op",
            f"chain_paused:{size}",
            "total_ns_per_op",
        )
    d = _pow10(c.deep_n)
    for task, how in (("deep", ""), ("deep_paused", ", gc paused ²")):
        row(
            f"chain {d} in a fresh process: forward+backward{how}, s",
            f"{task}:{c.deep_n}",
            "wall_s",
            lambda v: f"{v:.2f}",
        )
        row(
            f"chain {d}: peak RSS of that process{how}, MB",
            f"{task}:{c.deep_n}",
            "peak_rss_mb",
            lambda v: f"{v:,.0f}",
        )
    row(
        f"chain {d}: peak tracemalloc, MB",
        f"deep_traced:{c.deep_n}",
        "traced_peak_mb",
        lambda v: f"{v:,.0f}",
    )
    m = _pow10(c.mem_n)
    row(
        f"graph memory (chain {m}), tracemalloc bytes/node",
        f"node_mem:{c.mem_n}",
        "traced_bytes_per_node",
    )
    row(
        f"graph memory (chain {m}), nodes per op",
        f"node_mem:{c.mem_n}",
        "nodes",
        lambda v: f"{v / c.mem_n:.2f}",
    )
    row(
        f"graph memory (chain {m}), tracemalloc bytes/op",
        f"node_mem:{c.mem_n}",
        "traced_bytes_per_op",
        override={"torch_scalar": "n/a ³"},
    )
    row(f"graph memory (chain {m}), RSS growth bytes/op", f"node_mem:{c.mem_n}", "rss_bytes_per_op")
    row("MLP: graph nodes of one loss", "mlp_check", "graph_nodes")
    row("MLP step (forward, zero_grad, backward, update), gc on, ms", "mlp_step", "step_ms")
    row("MLP step, the whole step in gc_paused() ², ms", "mlp_step_paused", "step_ms")
    row("MLP step, gc off (extra info), ms", "mlp_step_gcoff", "step_ms")
    row(
        f"demo: {c.demo_steps} steps, run once in full, s",
        "mlp_demo",
        "wall_s",
        lambda v: f"{v:.2f}",
    )
    row(
        f"demo: accuracy after {c.demo_steps} steps",
        "mlp_demo",
        "final_accuracy",
        lambda v: f"{v:.0%}",
    )
    row("MLP evaluation of 100 points, recording, ms", "mlp_eval", "recording_ms")
    row("MLP evaluation of 100 points, no_grad, ms", "mlp_eval", "no_grad_ms")
    row(
        "MLP step through the compiled replay (`micrograd_like.compile`), ms",
        "mlp_replay",
        "step_ms",
    )
    row(
        "compiled replay: trace, generate and compile the step once, s",
        "mlp_replay",
        "compile_s",
        lambda v: f"{v:.2f}",
    )
    row("compiled replay: lines of generated Python", "mlp_replay", "lines", lambda v: f"{v:,.0f}")
    row("GPT step (microgpt-style, one word), gc on, ms", "gpt_step", "step_ms")
    row("GPT step, the whole step in gc_paused() ², ms", "gpt_step_paused", "step_ms")
    row("GPT step, gc off (extra info), ms", "gpt_step_gcoff", "step_ms")
    row("GPT: nodes made by the first step's forward", "gpt_check", "graph_nodes")
    row("GPT: parameters", "gpt_check", "params", lambda v: f"{v:,.0f}")
    row(
        "GPT: loss after the timed steps",
        "gpt_check",
        "last_loss",
        lambda v: f"{v:.12f}",
    )
    row("step-0 loss", "mlp_check", "loss", lambda v: f"{v:.12f}")
    row("step-0 gradient norm", "mlp_check", "grad_norm", lambda v: f"{v:.12f}")
    return lines


Row = tuple[str, str, str]  # target, measured, met?


def _speedup(
    label: str, other: str, factor: float, mine: float | None, theirs: float | None, unit: str
) -> Row:
    """A row: micrograd_like is at least `factor` times faster than `other`."""
    ratio = _ratio(theirs, mine)
    if ratio is None or mine is None or theirs is None:
        return label, "—", _met(None)
    text = (
        f"{ratio:.1f}× ({TITLES[other]} {_num(theirs)} {unit}, micrograd_like {_num(mine)} {unit})"
    )
    return label, text, _met(ratio >= factor)


def _bound(label: str, value: float | None, text: str, ok: Callable[[float], bool]) -> Row:
    """A row: a measured value and whether it is within its bound."""
    return (label, "—", _met(None)) if value is None else (label, text, _met(ok(value)))


def _both(label: str, on: Row, paused: Row) -> Row:
    """One target measured twice: as users run it (gc on) and inside gc_paused()."""
    if paused[1] == "—":
        return label, on[1], on[2]
    text = f"gc on: {on[1]}<br>in gc_paused(): {paused[1]}"
    if on[2] == "yes":
        met = "yes"
    elif paused[2] == "yes":
        met = "only in gc_paused()" if on[2] != "n/a" else "yes, in gc_paused()"
    else:
        met = on[2] if on[2] != "n/a" else paused[2]
    return label, text, met


def _also_gc_off(row: Row, mine: float | None, mg_off: float | None) -> Row:
    """A gc_paused() comparison with micrograd as its users run it (gc on), plus, for
    fairness, the ratio against micrograd with its collector off too."""
    ratio = _ratio(mg_off, mine)
    if ratio is None or mg_off is None:
        return row
    return row[0], f"{row[1]}; {ratio:.1f}× micrograd with gc off ({_num(mg_off)} ns/op)", row[2]


def _targets(r: Runs, c: Config) -> list[str]:
    n, lo, hi, deep, mem = c.chain_n, min(c.sizes), max(c.sizes), c.deep_n, c.mem_n
    step = r.get("mgl", "mlp_step", "step_ms")
    floats = r.get("floats", "mlp_step", "step_ms")
    slower = _ratio(step, floats)
    per_node = r.get("mgl", f"node_mem:{mem}", "traced_bytes_per_node")
    per_op = r.get("mgl", f"node_mem:{mem}", "traced_bytes_per_op") or 0.0
    mg_node = r.get("mg", f"node_mem:{mem}", "traced_bytes_per_node")
    no_grad = r.get("mgl", "mlp_eval", "speedup")
    demo_s = r.get("mgl", "mlp_demo", "wall_s")
    acc = r.get("mgl", "mlp_demo", "final_accuracy") or 0.0
    mg_fwd = r.get("mg", f"chain:{n}", "fwd_ns_per_op")
    mg_bwd = r.get("mg", f"chain_raised:{n}", "bwd_ns_per_op")
    lean = r.get("lean", "gpt_step", "step_ms")
    mine = r.get("mgl", "gpt_step", "step_ms")
    gpt_ratio = _ratio(lean, mine)
    pure = r.get("mgl_pure", "gpt_step", "step_ms")
    pure_note = "" if pure is None else f"; pure Python {_ratio(lean, pure) or 0:.1f}×"
    replay = r.get("mgl", "mlp_replay", "step_ms")
    replay_ratio = _ratio(replay, floats)

    def chain(task: str, field: str) -> float | None:
        return r.get("mgl", f"{task}:{n}", field)

    def flat(task: str) -> Row:
        cost_lo = r.get("mgl", f"{task}:{lo}", "total_ns_per_op")
        cost_hi = r.get("mgl", f"{task}:{hi}", "total_ns_per_op")
        ratio = _ratio(cost_hi, cost_lo)
        text = f"{ratio or 0:.2f}× ({_num(cost_hi or 0)} vs {_num(cost_lo or 0)} ns/op)"
        return _bound("", ratio, text, lambda v: v <= 1.5)

    def deep_run(task: str, field: str, unit: str, bound: float) -> Row:
        value = r.get("mgl", f"{task}:{deep}", field)
        return _bound("", value, f"{value or 0:,.2f} {unit}", lambda v: v < bound)

    rows = [
        _speedup(
            "MLP step ≥40× faster than micrograd",
            "mg",
            40,
            step,
            r.get("mg", "mlp_step", "step_ms"),
            "ms",
        ),
        _speedup(
            "MLP step ≥20× faster than torch (0-d)",
            "torch_scalar",
            20,
            step,
            r.get("torch_scalar", "mlp_step", "step_ms"),
            "ms",
        ),
        _bound(
            "MLP step within 4× of floats",
            slower,
            f"{slower or 0:.1f}× the floats step ({_num(floats or 0)} ms, "
            f"micrograd_like {_num(step or 0)} ms)",
            lambda v: v <= 4,
        ),
        _both(
            f"chain {_pow10(n)} forward ≥10× faster than micrograd",
            _speedup("", "mg", 10, chain("chain", "fwd_ns_per_op"), mg_fwd, "ns/op"),
            _also_gc_off(
                _speedup("", "mg", 10, chain("chain_paused", "fwd_ns_per_op"), mg_fwd, "ns/op"),
                chain("chain_paused", "fwd_ns_per_op"),
                r.get("mg", f"chain_raised_gcoff:{n}", "fwd_ns_per_op"),
            ),
        ),
        _both(
            f"chain {_pow10(n)} backward ≥2× faster than micrograd ¹",
            _speedup("", "mg", 2, chain("chain", "bwd_ns_per_op"), mg_bwd, "ns/op"),
            _also_gc_off(
                _speedup("", "mg", 2, chain("chain_paused", "bwd_ns_per_op"), mg_bwd, "ns/op"),
                chain("chain_paused", "bwd_ns_per_op"),
                r.get("mg", f"chain_raised_gcoff:{n}", "bwd_ns_per_op"),
            ),
        ),
        _both(
            f"per-op cost flat: {_pow10(hi)} within 1.5× of {_pow10(lo)}",
            flat("chain"),
            flat("chain_paused"),
        ),
        _both(
            f"chain {_pow10(deep)} forward+backward < 3 s",
            deep_run("deep", "wall_s", "s", 3),
            deep_run("deep_paused", "wall_s", "s", 3),
        ),
        _both(
            f"chain {_pow10(deep)} peak memory < 600 MB",
            deep_run("deep", "peak_rss_mb", "MB peak RSS", 600),
            deep_run("deep_paused", "peak_rss_mb", "MB peak RSS", 600),
        ),
        _bound(
            "≤200 bytes per node",
            per_node,
            f"{per_node or 0:,.0f} B/node ({per_op:,.0f} B/op; micrograd "
            + ("—" if mg_node is None else f"{mg_node:,.0f}")
            + " B/node)",
            lambda v: v <= 200,
        ),
        _bound(
            "no_grad evaluation ≥3× faster than recording",
            no_grad,
            f"{no_grad or 0:.1f}× (recording {_num(r.get('mgl', 'mlp_eval', 'recording_ms') or 0)}"
            f" ms, no_grad {_num(r.get('mgl', 'mlp_eval', 'no_grad_ms') or 0)} ms)",
            lambda v: v >= 3,
        ),
        _bound(
            f"{c.demo_steps} demo steps reach 100% accuracy in < 5 s",
            demo_s,
            f"{demo_s or 0:.2f} s, {acc:.0%}",
            lambda v: v < 5 and acc == 1.0,
        ),
        _bound(
            "GPT step (microgpt-style) ≥5× faster than the lean Value (stretch 10×), gc on",
            gpt_ratio,
            f"{gpt_ratio or 0:.1f}× (lean Value {_num(lean or 0)} ms, micrograd_like "
            f"{_num(mine or 0)} ms{pure_note})",
            lambda v: v >= 5,
        ),
        _bound(
            "MLP step through the compiled replay at or below floats",
            replay_ratio,
            f"{replay_ratio or 0:.2f}× the floats step ({_num(floats or 0)} ms, replay "
            f"{_num(replay or 0)} ms; engine {_num(step or 0)} ms)",
            lambda v: v <= 1,
        ),
    ]
    lines = ["| target | measured | met? |", "|---|---|---|"]
    lines += [f"| {label} | {text} | {met} |" for label, text, met in rows]
    return lines


def _correctness(findings: list[Finding]) -> list[str]:
    if not findings:
        return ["No two engines finished the same workload, so nothing was compared."]
    lines = ["| engine | compared | result | agrees? |", "|---|---|---|---|"]
    for f in findings:
        verdict = "yes" if f.ok else ("**NO**" if f.fatal else "no (warning)")
        lines.append(f"| {TITLES.get(f.engine, f.engine)} | {f.what} | {f.detail} | {verdict} |")
    return lines


def _engines(r: Runs) -> list[str]:
    lines = []
    for key in COLUMNS:
        run = r.runs.get(key)
        if run is None:
            continue
        if "error" in run:
            lines.append(f"- {TITLES[key]}: **not run**: {run['error']}")
            continue
        info = ", ".join(f"{k} {v}" for k, v in run.get("info", {}).items())
        lines.append(f"- {TITLES[key]}: {run.get('version', '?')} ({info})")
        errors = [
            f"`{s}`: {v['error']}"
            for s, v in run.get("results", {}).items()
            if isinstance(v, dict) and "error" in v
        ]
        lines.extend(f"  - failed {e}" for e in errors)
    return lines


LOAD_KEY = "load average (1, 5, 15 min) before / after the run"


def _busy(header: dict[str, str]) -> str:
    """A warning when other work kept the machine's cores busy during the run."""
    try:
        cores = int(header.get("machine", "").split()[0])
        loads = [float(x) for x in header.get(LOAD_KEY, "").replace("/", ",").split(",")]
    except (ValueError, IndexError):
        return ""
    if not loads or max(loads) <= cores:
        return ""
    return (
        f"**The machine was busy during this run (load average up to {max(loads):.1f} on "
        f"{cores} cores): every absolute time is inflated by the other work, and a target "
        "with an absolute bound (seconds, or against a fixed figure) may read NO for that "
        "alone. Ratios measured side by side (interleaved runs) stay comparable.**"
    )


def render(
    runs: dict[str, Any],
    config: Config,
    findings: list[Finding],
    header: dict[str, str],
    notes: str = "",
) -> str:
    """The whole RESULTS.md; `notes` (bench/NOTES.md, written by hand) follows the targets."""
    r = Runs(runs)
    failed = [f for f in findings if f.fatal and not f.ok]
    out = ["# Benchmark results", ""]
    if failed:
        out += [
            "**CORRECTNESS CHECK FAILED: the engines disagree (see Correctness); the timings "
            "below compare different computations.**",
            "",
        ]
    out += [f"- {k}: {v}" for k, v in header.items()]
    busy = _busy(header)
    if busy:
        out += ["", busy]
    out += ["", "## Engines", "", *_engines(r)]
    out += ["", "## Targets for micrograd_like", "", *TARGETS_INTRO, "", *_targets(r, config)]
    if notes.strip():
        out += ["", notes.strip()]
    out += ["", "## Measurements (medians)", "", *_measurements(r, config)]
    out += ["", *FOOTNOTES]
    out += [
        "",
        "## Correctness",
        "",
        "All engines start from the same data and weights (digest in `bench/out/results.json`); "
        "the MLP's step-0 loss and every gradient must agree within 1e-9.",
        "",
        *_correctness(findings),
    ]
    out += ["", "## Method", "", *METHOD, ""]
    return "\n".join(out)


TARGETS_INTRO = [
    '"gc on" is how users run code: Python\'s cycle collector left on, nothing paused by hand. '
    "The engine pauses the collector by itself only inside its own calls (`backward()`, an "
    "`nn` module call), so the MLP rows are all gc-on figures. Where a user's own loop builds "
    "the graph (the chain), the row also shows the same code inside `with gc_paused():`, and "
    '"only in gc_paused()" marks a target that holds there but not with gc on.',
]

FOOTNOTES = [
    "¹ micrograd's backward sorts the graph recursively, so at Python's default recursion "
    "limit (1000) it raises RecursionError on any chain of 1,000 ops or more. Its backward "
    "cost is measured with `sys.setrecursionlimit(2n + 10000)`, the only way a micrograd "
    "user gets an answer at all.",
    "",
    "² gc paused: micrograd_like runs the user's code (the chain loop and the `backward()` "
    "call, or the whole training step) inside `with gc_paused():`; micrograd, which has no "
    "such helper, inside `gc.disable()` ... `gc.enable()`.",
    "",
    "³ torch keeps its graph in C++ memory, which tracemalloc does not see: see the RSS row.",
    "",
    "⁴ The same engine with `MICROGRAD_LIKE_PURE=1`: its reference Python code alone, without "
    "the optional C accelerator (`micrograd_like/_speedups.c`) that a compiler-equipped "
    "install builds; what Pyodide and an install without a compiler run.",
    "",
    "The GPT rows leave micrograd out: micrograd 0.1.0's Value has no `exp` and no `log`, so "
    "the program stops at its first softmax (the AttributeError in its cells), and adding "
    "them would no longer be micrograd as its users have it. torch is not run on it.",
]


METHOD = [
    "- `bench/run.py` runs every engine in its own subprocess (`python -m bench.harness ENGINE "
    "TASK...`): micrograd and torch in `bench/.venv-compare` (made by `bench/setup_compare.sh`), "
    "micrograd_like and floats in the project's Python. Memory tasks and the deep chain each get "
    "a fresh process. Engines run one after another, never side by side.",
    "- Times are `time.perf_counter` medians over repetitions: at least 3 (5 for MLP steps) and "
    "more while within a 2–3 s budget; a single run that takes over 20 s is not repeated. The "
    "micrograd_like and floats jobs (the deep chains too) run three times, interleaved, and "
    "each of their figures comes from the middle one of its three runs (all three are in "
    "`bench/out/results.json` under `runs`), so one burst of noise on a shared machine moves "
    "no ratio by itself; micrograd and torch, whose demos take minutes, run once.",
    "- The chain (`bench/workloads.py`) is the cycle x·1.0001, x+0.5, x·0.9999, x−0.5 with "
    "Python-float constants, applied by the same function on every engine, from x = 1.0; "
    "ns/op divides by the number of ops. The collector is run between repetitions, outside the "
    "timing, and left on during it.",
    "- The MLP is micrograd's demo: MLP(2, [16, 16, 1]) with ReLU hidden layers and a linear "
    "output, 100 moons points (two half circles, gaussian noise 0.1, `random.Random(1337)`), "
    "weights U(−1, 1) from `random.Random(42)`, biases 0, loss mean(relu(1 − y·score)) + "
    "1e-4·Σp², SGD with lr = 1 − 0.9·k/100. Each engine runs it the way its users write it: "
    "micrograd its own `micrograd.nn.MLP` and the demo notebook's loss; micrograd_like the "
    "README recipe (`nn.MLP(2, [16, 16, 1], rng=42)`, `model.scalar(x)` per point, "
    "`losses.hinge(scores, ys) + losses.l2_penalty(params, alpha=1e-4)`, "
    "`optim.SGD(params, lr=LinearDecay(1.0, 0.1, 100))`, `opt.zero_grad()`, `loss.backward()`, "
    "`opt.step()`), whose graph has one n-ary `dot` node per neuron (hence far fewer nodes); "
    "torch (0-d) micrograd's Neuron structure on 0-d tensors; floats a hand-written forward "
    "and backward that skips zero gradients. A timed step is forward, zero grads, backward, "
    "update, from the initial weights each time, with the cycle collector on and garbage left "
    "to it as in a training loop (gc off: collected between steps, untimed).",
    "- The demo is run once in full on every engine, micrograd included, not extrapolated; its "
    "accuracy is measured at the final weights.",
    "- Bytes per node: tracemalloc growth while building the chain, divided by the live "
    "instances of the engine's node class (micrograd and micrograd_like wrap each constant in a "
    "node, so a chain op makes 2). Deep-chain memory is the peak RSS (`ru_maxrss`) of a fresh "
    "process that builds and backpropagates the chain.",
    "- torch (batched) is the same MLP on whole matrices, for context only: it is not what a "
    "scalar engine competes with.",
    "- The GPT (`bench/gpt.py`) is a microgpt-style character model written as a learner writes "
    "it, with plain operators on whatever scalar class it is given: token and position "
    "embeddings (width 16), one attention layer with 4 heads, RMS norm, a ReLU MLP (64 hidden), "
    "softmax cross-entropy and Adam; 4,192 parameters, N(0, 0.08²) from `random.Random(7)`; "
    "made-up words from `random.Random(2024)`. A step trains on one word (forward over its "
    "positions with a growing key/value list, `loss.backward()`, Adam). The time is the mean "
    "over the first 6 words' steps from the initial weights, median over repetitions, the "
    "collector on. The lean Value (`bench/engines/lean.py`) is the closure-free reference: "
    "`__slots__`, parents and local derivatives stored at forward time, a recursive "
    "topological sort (recursion limit raised). The check compares every engine's losses "
    "and step-0 gradients with the lean Value's.",
    "- The compiled replay (`micrograd_like.compile`) traces the demo's loss once and runs "
    "each step's forward and backward as generated straight-line Python; its time includes "
    "writing the gradients to `.grad`, and the SGD update on the model's Values. Its step-0 "
    "loss and every gradient must equal the engine's bit for bit.",
    "- The machine's load average is recorded before and after the run (header): other work on "
    "the machine slows all engines, not their ratios, but it adds noise.",
]
