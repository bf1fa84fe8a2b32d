"""karpathy's micrograd 0.1.0 as users run it: micrograd.nn.MLP with the demo's loss."""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

from micrograd.engine import Value  # type: ignore[import-untyped]
from micrograd.nn import MLP  # type: ignore[import-untyped]

from bench import workloads
from bench.harness import Engine


class MicrogradChain(workloads.ScalarChain):
    """The chain on micrograd Values; backward is micrograd's recursive topological sort."""

    value_type = Value


def _graph_nodes(root: Value) -> int:
    """Nodes reachable from root through _prev, counted without recursion."""
    seen = {id(root)}
    stack = [root]
    while stack:
        for child in stack.pop()._prev:
            if id(child) not in seen:
                seen.add(id(child))
                stack.append(child)
    return len(seen)


class MicrogradMLP:
    """micrograd's own MLP(2, [16, 16, 1]); the forward is the demo notebook's loss()."""

    def __init__(self, flat: list[float], steps: int) -> None:
        self.steps = steps
        self.xs, self.ys = workloads.make_moons()
        self.model = MLP(workloads.MLP_SIZES[0], list(workloads.MLP_SIZES[1:]))
        self.params = self.model.parameters()
        self.set_params(flat)
        self._scores: list[float] = []

    def set_params(self, flat: list[float]) -> None:
        for p, v in zip(self.params, flat, strict=True):
            p.data = v

    def forward(self) -> Value:
        inputs = [list(map(Value, x)) for x in self.xs]
        scores = list(map(self.model, inputs))
        loss = workloads.demo_loss(scores, self.ys, self.model.parameters())
        self._scores = [s.data for s in scores]
        return loss

    def loss_value(self, loss: Value) -> float:
        return float(loss.data)

    def accuracy(self) -> float:
        return workloads.accuracy(self.ys, self._scores)

    def zero_grad(self) -> None:
        self.model.zero_grad()

    def backward(self, loss: Value) -> None:
        loss.backward()

    def update(self, k: int) -> None:
        lr = workloads.demo_lr(k, self.steps)
        for p in self.model.parameters():
            p.data -= lr * p.grad

    def grads(self) -> list[float]:
        return [float(p.grad) for p in self.params]

    def graph_nodes(self, loss: Any) -> int:
        return _graph_nodes(loss)


def make_engine() -> Engine:
    """micrograd: chain and MLP; nodes are Value objects."""
    return Engine(
        name="micrograd",
        version=version("micrograd"),
        chain=MicrogradChain,
        model=MicrogradMLP,
        node_type=Value,
        value_type=Value,  # runs the GPT only as far as its first exp (micrograd has none)
    )
