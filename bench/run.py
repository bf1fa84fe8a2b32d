"""Run every engine's workloads, check they agree, and write bench/RESULTS.md (`make bench`).

Usage: python bench/run.py [--quick] [--no-setup] [--only mgl,mg,...] [--render]
Exits 1 when two engines computed different results, 0 otherwise (an engine that cannot be
imported is skipped and said so in RESULTS.md).
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))  # run as a script: make `bench` importable

from bench import workloads  # noqa: E402
from bench.checks import check_all  # noqa: E402
from bench.report import LOAD_KEY, Config, render  # noqa: E402

COMPARE_PYTHON = BENCH / ".venv-compare" / "bin" / "python"
OUT = BENCH / "out"
NOTES = BENCH / "NOTES.md"  # the analysis of unmet targets, by hand, copied into RESULTS.md
JOB_TIMEOUT_S = 900
ENGINES = ("floats", "mgl", "mgl_pure", "lean", "mg", "torch_scalar", "torch_batched")
FULL = Config(
    chain_n=workloads.CHAIN_N,
    sizes=workloads.CHAIN_SIZES,
    deep_n=workloads.DEEP_N,
    mem_n=workloads.CHAIN_N,
    demo_steps=workloads.DEMO_STEPS,
)
QUICK = Config(chain_n=10_000, sizes=(1_000, 10_000), deep_n=100_000, mem_n=10_000, demo_steps=3)
# The quick jobs of micrograd_like and floats run this many times, interleaved, and each figure
# comes from the middle run: a burst of noise on a shared machine then moves no ratio by itself.
ROUNDS = 3
# the figure that ranks repeated runs of a task (the first one a result has)
RANK_BY = (
    "step_ms",
    "speedup",
    "total_ns_per_op",
    "fwd_ns_per_op",
    "wall_s",
    "traced_peak_mb",
    "traced_bytes_per_node",
)


@dataclass(frozen=True)
class Job:
    """One subprocess: an engine module, the Python to run it with, and its tasks."""

    engine: str
    python: str
    tasks: tuple[str, ...]


def plan(c: Config) -> list[Job]:
    """Every job of a run, in order; memory and deep-chain tasks get a process of their own."""
    here, compare = sys.executable, str(COMPARE_PYTHON)
    sizes = tuple(f"chain:{n}" for n in c.sizes)
    paused = tuple(f"chain_paused:{n}" for n in c.sizes)
    demo = f"mlp_demo:{c.demo_steps}"
    mlp = ("mlp_check", "mlp_step", "mlp_step_gcoff", demo)
    gpt = ("gpt_check", "gpt_step", "gpt_step_gcoff")
    repeated = [
        Job("floats", here, (f"chain:{c.chain_n}", "mlp_check", "mlp_step", demo)),
        Job("mgl", here, (*sizes, *paused, *mlp, "mlp_step_paused", "mlp_eval")),
        Job("mgl", here, (f"deep:{c.deep_n}",)),
        Job("mgl", here, (f"deep_paused:{c.deep_n}",)),
        # the microgpt-style step: micrograd_like against the lean Value, side by side
        Job("mgl", here, (*gpt, "gpt_step_paused")),
        Job("lean", here, gpt),
        # the same engine without its C accelerator (MICROGRAD_LIKE_PURE=1)
        Job("mgl_pure", here, (*gpt, f"chain:{c.chain_n}", "mlp_check", "mlp_step")),
        # the compiled replay, in a process of its own so its compile time starts cold
        Job("mgl", here, ("mlp_replay",)),
    ]
    return [
        *(job for _ in range(ROUNDS) for job in repeated),
        Job("mgl", here, (f"node_mem:{c.mem_n}",)),
        Job("mgl", here, (f"deep_traced:{c.deep_n}",)),
        Job(
            "mg",
            compare,
            (*sizes, f"chain_raised:{c.chain_n}", f"chain_raised_gcoff:{c.chain_n}", *mlp),
        ),
        Job("mg", compare, ("gpt_check", "gpt_step")),  # fails at the GPT's first exp
        Job("mg", compare, (f"node_mem:{c.mem_n}",)),
        Job("torch_scalar", compare, (*sizes, "mlp_check", "mlp_step", demo)),
        Job("torch_scalar", compare, (f"node_mem:{c.mem_n}",)),
        Job("torch_batched", compare, ("mlp_check", "mlp_step", demo)),
    ]


def run_job(job: Job) -> dict[str, Any]:
    """Run one job; a crash, time-out or missing Python becomes {"error": ...}."""
    if not Path(job.python).exists():
        return {"engine": job.engine, "error": f"no interpreter at {job.python}"}
    cmd = [job.python, "-m", "bench.harness", job.engine, *job.tasks]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        done = subprocess.run(
            cmd,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
            timeout=JOB_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {
            "engine": job.engine,
            "results": {t: {"error": f"timeout after {JOB_TIMEOUT_S} s"} for t in job.tasks},
        }
    try:
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        result = {
            "engine": job.engine,
            "results": {
                t: {"error": f"process exited {done.returncode} without results"} for t in job.tasks
            },
        }
    return result


def merge(runs: dict[str, Any], key: str, result: dict[str, Any]) -> None:
    """Fold one job's output into the per-engine record (repeated tasks collect a list)."""
    run = runs.setdefault(key, {"results": {}})
    if "results" not in result:
        run.setdefault("error", result.get("error", "no results"))
        return
    run.pop("error", None)
    for field in ("engine", "version", "info"):
        if field in result:
            run[field] = result[field]
    for spec, r in result["results"].items():
        run["results"].setdefault(spec, []).append(r)


def middle(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The run of a repeated task whose ranking figure is the median one (a failed run counts
    as the slowest); it carries `runs`, every run's figure, to show the spread."""
    if len(results) == 1:
        return results[0]
    field = next((f for f in RANK_BY if any(f in r for r in results)), None)
    if field is None:
        return results[0]
    ranked = sorted(results, key=lambda r: r.get(field, math.inf))
    return {**ranked[(len(ranked) - 1) // 2], "runs": [r.get(field) for r in results]}


def settle(runs: dict[str, Any]) -> None:
    """Replace each task's list of runs by its middle run."""
    for run in runs.values():
        run["results"] = {spec: middle(rs) for spec, rs in run.get("results", {}).items()}


def setup_compare() -> None:
    """Create or complete bench/.venv-compare (fast when it is already there)."""
    env = {**os.environ, "PYTHON": sys.executable}
    subprocess.run(["bash", str(BENCH / "setup_compare.sh")], env=env, check=False)


def _load() -> str:
    """The 1, 5 and 15 minute load averages, to show how busy the machine was."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def machine() -> dict[str, str]:
    """Where and how this run happened."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} cores (nproc), {cpu}, {platform.system()} "
        f"{platform.release()}",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
    }


def write(runs: dict[str, Any], config: Config, header: dict[str, str], output: Path) -> int:
    """Check the runs, save them to bench/out/results.json, write the report; the exit status."""
    findings = check_all(runs)
    OUT.mkdir(exist_ok=True)
    record = {"header": header, "config": asdict(config), "runs": runs}
    (OUT / "results.json").write_text(
        json.dumps({**record, "findings": [asdict(f) for f in findings]}, indent=1)
    )
    notes = NOTES.read_text() if NOTES.exists() else ""
    output.write_text(render(runs, config, findings, header, notes))
    print(f"bench: wrote {output}", file=sys.stderr)
    for f in findings:
        if not f.ok:
            level = "MISMATCH" if f.fatal else "warning"
            print(f"bench: {level}: {f.engine}: {f.what}: {f.detail}", file=sys.stderr)
    return 1 if any(f.fatal and not f.ok for f in findings) else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for trying the harness")
    parser.add_argument("--no-setup", action="store_true", help="do not touch bench/.venv-compare")
    parser.add_argument("--only", help="comma-separated engine modules: " + ",".join(ENGINES))
    parser.add_argument(
        "--render", action="store_true", help="only rewrite the report from bench/out/results.json"
    )
    parser.add_argument("--output", type=Path, default=BENCH / "RESULTS.md")
    args = parser.parse_args()

    if args.render:
        saved = json.loads((OUT / "results.json").read_text())
        config = Config(**{**saved["config"], "sizes": tuple(saved["config"]["sizes"])})
        return write(saved["runs"], config, saved["header"], args.output)

    config = QUICK if args.quick else FULL
    jobs = plan(config)
    if args.only:
        wanted = set(args.only.split(","))
        jobs = [j for j in jobs if j.engine in wanted]
    if not args.no_setup and any(j.python == str(COMPARE_PYTHON) for j in jobs):
        setup_compare()

    load_before = _load()
    start = time.perf_counter()
    runs: dict[str, Any] = {}
    for job in jobs:
        print(f"bench: {job.engine}: {' '.join(job.tasks)}", file=sys.stderr, flush=True)
        result = run_job(job)
        if "results" not in result:
            print(
                f"bench: {job.engine} skipped: {result.get('error')}", file=sys.stderr, flush=True
            )
        merge(runs, job.engine, result)
    settle(runs)
    wall = time.perf_counter() - start

    python = Path(sys.executable)
    if python.is_relative_to(ROOT):
        python = python.relative_to(ROOT)
    command = f"`{' '.join([str(python), 'bench/run.py', *sys.argv[1:]])}`"
    command += " (`make bench` runs `.venv/bin/python bench/run.py`)"
    header = {
        **machine(),
        "command": command,
        "wall time of the whole run": f"{wall:.0f} s",
        LOAD_KEY: f"{load_before} / {_load()}",
    }
    return write(runs, config, header, args.output)


if __name__ == "__main__":
    sys.exit(main())
