"""Where a GPT training step's time goes, per phase, with the cycle collector on and off.

Usage: python bench/profile_gpt.py [--engine mgl|lean] [--rounds 3] [--cprofile]

Runs bench/gpt.py's first TIMED_STEPS steps from the initial weights and prints, per step,
the CPU time (``time.process_time``: a busy machine slows it less than the wall clock) of the
forward pass (building the graph), ``backward()``, the Adam update and dropping the graph,
once with the collector on and once off; for micrograd_like also how its backward pass
splits between ordering the graph and applying the chain rule. ``--cprofile`` adds the
functions that take the most time.
The figures in bench/NOTES.md come from this script.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import itertools
import pstats
import statistics
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import gpt


def _value_type(engine: str) -> Any:
    if engine == "lean":
        from bench.engines.lean import Value as Lean

        return Lean
    from micrograd_like import Value

    return Value


def phases(value_type: Any, gc_on: bool) -> list[float]:
    """Mean CPU ms per step of: forward, backward, Adam, freeing the graph."""
    words = gpt.make_words()
    model = gpt.Gpt(value_type, gpt.init_weights())
    opt = gpt.Adam(model.params)
    rows = []
    for k in range(gpt.TIMED_STEPS):
        gc.collect()
        if not gc_on:
            gc.disable()
        t = [time.process_time()]
        loss = model.loss(words[k])
        t.append(time.process_time())
        loss.backward()
        t.append(time.process_time())
        opt.step(k)
        t.append(time.process_time())
        del loss
        t.append(time.process_time())
        gc.enable()
        rows.append([b - a for a, b in itertools.pairwise(t)])
    return [statistics.mean(r[i] for r in rows) * 1e3 for i in range(4)]


def engine_passes() -> dict[str, float]:
    """Share of micrograd_like's backward() spent in each of its functions (cProfile's own
    time, on the first step's graph): the walk that orders the graph is in ``_run_pass``, the
    chain rule in ``_chain_floats``, adding each node's gradient to ``.grad`` in
    ``backward``."""
    from micrograd_like import Value

    model = gpt.Gpt(Value, gpt.init_weights())
    loss = model.loss(gpt.make_words()[0])
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(3):
        loss.backward()
    prof.disable()
    own: dict[str, float] = {}
    for (_, _, name), row in pstats.Stats(prof).stats.items():  # type: ignore[attr-defined]
        own[name] = own.get(name, 0.0) + row[2]
    total = sum(own.values())
    return {name: t / total for name, t in sorted(own.items(), key=lambda kv: -kv[1])[:4]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("mgl", "lean"), default="mgl")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cprofile", action="store_true")
    args = parser.parse_args()
    value_type = _value_type(args.engine)
    print(f"{args.engine}: CPU ms per step (forward, backward, adam, free the graph)")
    for _ in range(args.rounds):
        for gc_on in (True, False):
            f, b, a, d = phases(value_type, gc_on)
            print(
                f"  gc {'on ' if gc_on else 'off'}: forward {f:6.1f}  backward {b:6.1f}  "
                f"adam {a:4.1f}  free {d:5.1f}  = {f + b + a + d:6.1f}",
                flush=True,
            )
    if args.engine == "mgl":
        shares = ", ".join(f"{name} {share:.0%}" for name, share in engine_passes().items())
        print(f"  backward(), own time by function (cProfile): {shares}")
    if args.cprofile:
        prof = cProfile.Profile()
        prof.enable()
        phases(value_type, True)
        prof.disable()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(15)
        print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
