"""micrograd_like without its C accelerator (``MICROGRAD_LIKE_PURE=1``): the reference engine.

The same engine module as mgl.py, imported after the variable is set, so the figures show what
the accelerator adds and what a user without a compiler (or on Pyodide) gets.
"""

from __future__ import annotations

import os

os.environ["MICROGRAD_LIKE_PURE"] = "1"  # before micrograd_like is imported below

from bench.engines import mgl
from bench.harness import Engine


def make_engine() -> Engine:
    """micrograd_like's pure-Python engine: the GPT step, the MLP step and the chain."""
    engine = mgl.make_engine()
    return Engine(
        name="micrograd_like (pure Python)",
        version=engine.version,
        chain=engine.chain,
        model=engine.model,
        node_type=engine.node_type,
        live_nodes=engine.live_nodes,
        paused=engine.paused,
        value_type=engine.value_type,
        replay=engine.replay,
        info=engine.info,
    )
