"""micrograd_like under benchmark: plain Value arithmetic mirroring micrograd's nn module.

The Neuron/Layer/MLP here copy micrograd's structure (act = sum(w*x, b), ReLU on hidden
layers) so both engines build the same graph; swap them for micrograd_like.nn.MLP once it exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

import micrograd_like
from bench import workloads
from bench.harness import Engine
from micrograd_like import Value


class MglChain:
    """The chain on micrograd_like Values."""

    def __init__(self, n: int) -> None:
        self.x = Value(workloads.CHAIN_START)
        self.out = workloads.build_chain(self.x, n)

    def backward(self) -> None:
        self.out.backward()

    def result(self) -> tuple[float, float]:
        return self.out.data, self.x.grad


class Neuron:
    """sum(w_i * x_i) + b, then ReLU unless linear: micrograd.nn.Neuron in micrograd_like Values."""

    def __init__(self, w: Sequence[float], b: float, nonlin: bool) -> None:
        self.w = [Value(wi) for wi in w]
        self.b = Value(b)
        self.nonlin = nonlin

    def __call__(self, x: Sequence[Value]) -> Value:
        act = sum((wi * xi for wi, xi in zip(self.w, x, strict=True)), self.b)
        return act.relu() if self.nonlin else act

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]


class MLP:
    """Layers of Neurons; returns the single output of the last layer, as micrograd's MLP does."""

    def __init__(self, flat: Sequence[float]) -> None:
        layers = workloads.split_params(list(flat))
        last = len(layers) - 1
        self.layers = [
            [Neuron(w, b, nonlin=i != last) for w, b in layer] for i, layer in enumerate(layers)
        ]

    def __call__(self, x: Sequence[Value]) -> Value:
        h = list(x)
        for layer in self.layers:
            h = [n(h) for n in layer]
        return h[0]

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for n in layer for p in n.parameters()]


class MglMLP:
    """The demo on micrograd_like: same loss, same steps as micrograd's notebook."""

    def __init__(self, flat: list[float]) -> None:
        self.xs, self.ys = workloads.make_moons()
        self.model = MLP(flat)
        self.params = self.model.parameters()
        self._scores: list[float] = []

    def set_params(self, flat: list[float]) -> None:
        for p, v in zip(self.params, flat, strict=True):
            p.data = v

    def _scores_of(self) -> list[Value]:
        inputs = [[Value(a) for a in x] for x in self.xs]
        return [self.model(x) for x in inputs]

    def forward(self) -> Value:
        scores = self._scores_of()
        loss: Value = workloads.demo_loss(scores, self.ys, self.model.parameters())
        self._scores = [s.data for s in scores]
        return loss

    def loss_value(self, loss: Value) -> float:
        return float(loss.data)

    def accuracy(self) -> float:
        return workloads.accuracy(self.ys, self._scores)

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = 0.0

    def backward(self, loss: Value) -> None:
        loss.backward()

    def sgd(self, lr: float) -> None:
        for p in self.params:
            p.data -= lr * p.grad

    def grads(self) -> list[float]:
        return [float(p.grad) for p in self.params]

    def evaluate(self, record: bool) -> None:
        """Scores of every point, recording the graph or under no_grad."""
        if record:
            self._scores_of()
        else:
            with micrograd_like.no_grad():
                self._scores_of()


def _version() -> str:
    try:
        return version("micrograd_like")
    except PackageNotFoundError:
        return str(getattr(micrograd_like, "__version__", "source tree"))


def make_engine() -> Engine:
    """micrograd_like: chain, MLP and no_grad evaluation; nodes are Value objects."""
    return Engine(
        name="micrograd_like",
        version=_version(),
        chain=MglChain,
        model=MglMLP,
        node_type=Value,
    )
