"""What the Web Worker calls: one handler per request, JSON text in and JSON text out.

``call(name, args_json, write)`` runs the handler ``name`` with the decoded arguments and
returns its answer as JSON; text the code prints goes to ``write`` as it is printed. A bad
request (an unknown handler, a bad option) comes back as ``{"error": message}``, never as a
JavaScript exception. Numbers JSON cannot carry (nan, inf) travel as the strings ``"nan"``,
``"inf"`` and ``"-inf"``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from mgl_site.playground import Playground
from mgl_site.training import Config, Trainer

__all__ = ["call"]

Write = Callable[[str], object]
Handler = Callable[[dict[str, Any], Write], Any]

_playground = Playground()
_trainer: Trainer | None = None


def _run(args: dict[str, Any], write: Write) -> Any:
    return _playground.run(args["code"], write)


def _frame(args: dict[str, Any], write: Write) -> Any:
    return _playground.frame(args["mode"], args["index"])


def _train_reset(args: dict[str, Any], write: Write) -> Any:
    global _trainer
    trainer = Trainer(Config.from_mapping(args.get("options", {})))
    _trainer = trainer
    return {"run": trainer.describe(), "state": trainer.state(boundary=args.get("boundary", 0))}


def _training() -> Trainer:
    if _trainer is None:
        raise RuntimeError("training has not been set up (train_reset first)")
    return _trainer


def _train_step(args: dict[str, Any], write: Write) -> Any:
    trainer = _training()
    for _ in range(int(args.get("steps", 1))):
        trainer.step()
    return trainer.state(boundary=args.get("boundary", 0), graph=args.get("graph", True))


def _train_select(args: dict[str, Any], write: Write) -> Any:
    trainer = _training()
    trainer.select(neuron=args.get("neuron"), point=args.get("point"))
    return {"neuron": trainer.neuron_graph()}


HANDLERS: dict[str, Handler] = {
    "run": _run,
    "frame": _frame,
    "train_reset": _train_reset,
    "train_step": _train_step,
    "train_select": _train_select,
}


def _plain(x: Any) -> Any:
    # nan and inf as strings; everything else as JSON has it
    if isinstance(x, float) and not math.isfinite(x):
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    return x


def call(name: str, args_json: str, write: Write) -> str:
    """Run handler ``name`` on the JSON arguments; return its answer (or the error) as JSON."""
    handler = HANDLERS.get(name)
    if handler is None:
        return json.dumps({"error": f"unknown request {name!r}"})
    try:
        answer = handler(json.loads(args_json), write)
    except (ValueError, TypeError, KeyError, IndexError, RuntimeError) as err:
        return json.dumps({"error": f"{type(err).__name__}: {err}"})
    return json.dumps(_plain(answer), allow_nan=False)
