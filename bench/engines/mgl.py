"""micrograd_like as users write it: nn.MLP, losses.hinge + l2_penalty, optim.SGD + LinearDecay.

The demo step is the README recipe, line for line: scores from ``model.scalar``, the hinge loss
plus the L2 penalty, ``opt.zero_grad()``, ``loss.backward()``, ``opt.step()``. The chain is the
same user code as every other engine's (``x * c`` and ``x + c`` on a Value).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version

import micrograd_like
from bench import workloads
from bench.harness import Engine
from micrograd_like.engine import Value, gc_paused, no_grad
from micrograd_like.losses import accuracy, hinge, l2_penalty
from micrograd_like.nn import MLP
from micrograd_like.optim import SGD, LinearDecay


class MglChain(workloads.ScalarChain):
    """The chain on micrograd_like Values."""

    value_type = Value


class MglMLP:
    """micrograd's demo on micrograd_like's own modules, loss and optimizer."""

    def __init__(self, flat: list[float], steps: int) -> None:
        self.xs, self.ys = workloads.make_moons()
        # MLP(2, [16, 16, 1], rng=42) draws exactly workloads.init_params(); set_params
        # writes the given weights anyway, so the bench does not rest on that
        self.model = MLP(workloads.MLP_SIZES[0], list(workloads.MLP_SIZES[1:]), rng=42)
        self.params = self.model.parameters()
        self.steps = steps
        self.set_params(flat)
        self._scores: list[float] = []

    def set_params(self, flat: list[float]) -> None:
        names = [name for name, _ in self.model.named_parameters()]
        self.model.load_state_dict(dict(zip(names, flat, strict=True)))
        # LinearDecay(1.0, 0.1, steps) is the demo's lr 1 - 0.9 k / steps, bit for bit
        self.opt = SGD(self.params, lr=LinearDecay(1.0, 0.1, self.steps))

    def _score(self) -> list[Value]:
        return [self.model.scalar(x) for x in self.xs]

    def forward(self) -> Value:
        scores = self._score()
        loss = hinge(scores, self.ys) + l2_penalty(self.params, alpha=workloads.ALPHA)
        self._scores = [s.data for s in scores]
        return loss

    def loss_value(self, loss: Value) -> float:
        return loss.data

    def accuracy(self) -> float:
        return accuracy(self._scores, self.ys)

    def zero_grad(self) -> None:
        self.opt.zero_grad()

    def backward(self, loss: Value) -> None:
        loss.backward()

    def update(self, k: int) -> None:
        if self.opt.steps != k:
            raise RuntimeError(f"the optimizer is at step {self.opt.steps}, the demo at {k}")
        self.opt.step()  # lr from its LinearDecay schedule

    def grads(self) -> list[float]:
        return [p.grad for p in self.params]

    def evaluate(self, record: bool) -> None:
        """Scores of every point, recording the graph or under no_grad."""
        if record:
            self._score()
        else:
            with no_grad():
                self._score()


class MglReplayMLP(MglMLP):
    """The same model, loss and optimizer, with the step's forward and backward replayed.

    The loss function is traced once (``micrograd_like.compile``); every step then runs the
    generated code, which reads the parameters' current values and adds their gradients to
    ``.grad``, and the SGD update is the optimizer's own.
    """

    def __init__(self, flat: list[float], steps: int) -> None:
        super().__init__(flat, steps)
        self.step = micrograd_like.compile(self.loss)
        self.compile_info = {"lines": self.step.lines, **self.step.timings}
        self._value = math.nan

    def loss(self) -> Value:
        """The demo loss, as MglMLP.forward builds it."""
        return hinge(self._score(), self.ys) + l2_penalty(self.params, alpha=workloads.ALPHA)

    def forward(self) -> None:
        # the replay runs forward and backward in one go, in backward() below
        return None

    def backward(self, loss: None) -> None:
        self._value = self.step()

    def loss_value(self, loss: None) -> float:
        return self._value

    def accuracy(self) -> float:
        with no_grad():
            return accuracy([s.data for s in self._score()], self.ys)


def _version() -> str:
    try:
        return version("micrograd_like")
    except PackageNotFoundError:
        return str(getattr(micrograd_like, "__version__", "source tree"))


def _live_nodes() -> Callable[[], int] | None:
    # with the C accelerator nodes are not tracked by the collector; it counts them itself
    speedups = micrograd_like.engine._speedups
    return None if speedups is None else speedups.live_nodes


def make_engine() -> Engine:
    """micrograd_like: chain, MLP and no_grad evaluation; nodes are Value objects."""
    return Engine(
        name="micrograd_like",
        version=_version(),
        chain=MglChain,
        model=MglMLP,
        node_type=Value,
        live_nodes=_live_nodes(),
        paused=gc_paused,
        value_type=Value,
        replay=MglReplayMLP,
        info={
            "source": micrograd_like.__file__.rsplit("/", 2)[0],
            "accelerator": "C (_speedups)" if micrograd_like.engine.ACCELERATED else "none",
        },
    )
