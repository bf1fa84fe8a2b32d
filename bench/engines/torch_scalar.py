"""PyTorch on 0-d float64 tensors, one tensor per scalar: the same graph micrograd builds."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

warnings.filterwarnings("ignore", message="Failed to initialize NumPy")
import torch  # noqa: E402 - after the warning filter

from bench import workloads  # noqa: E402
from bench.harness import Engine  # noqa: E402

DTYPE = torch.float64


def scalar(v: float, requires_grad: bool = False) -> torch.Tensor:
    """A 0-d float64 tensor."""
    return torch.tensor(v, dtype=DTYPE, requires_grad=requires_grad)


class TorchChain:
    """The chain on a 0-d tensor."""

    def __init__(self, n: int) -> None:
        self.x = scalar(workloads.CHAIN_START, requires_grad=True)
        self.out = workloads.build_chain(self.x, n)

    def backward(self) -> None:
        self.out.backward()  # type: ignore[no-untyped-call]

    def result(self) -> tuple[float, float]:
        grad = 0.0 if self.x.grad is None else self.x.grad.item()
        return self.out.item(), grad


class Neuron:
    """micrograd.nn.Neuron written with 0-d tensors."""

    def __init__(self, w: Sequence[float], b: float, nonlin: bool) -> None:
        self.w = [scalar(wi, requires_grad=True) for wi in w]
        self.b = scalar(b, requires_grad=True)
        self.nonlin = nonlin

    def __call__(self, x: Sequence[torch.Tensor]) -> torch.Tensor:
        act = sum((wi * xi for wi, xi in zip(self.w, x, strict=True)), self.b)
        return act.relu() if self.nonlin else act

    def parameters(self) -> list[torch.Tensor]:
        return [*self.w, self.b]


class TorchScalarMLP:
    """MLP(2, [16, 16, 1]) of scalar neurons; zero_grad sets grads to None as torch does."""

    def __init__(self, flat: list[float], steps: int) -> None:
        self.steps = steps
        self.xs, self.ys = workloads.make_moons()
        layers = workloads.split_params(flat)
        last = len(layers) - 1
        self.layers = [
            [Neuron(w, b, nonlin=i != last) for w, b in layer] for i, layer in enumerate(layers)
        ]
        self.params = [p for layer in self.layers for n in layer for p in n.parameters()]
        self._scores: list[float] = []

    def set_params(self, flat: list[float]) -> None:
        with torch.no_grad():
            for p, v in zip(self.params, flat, strict=True):
                p.fill_(v)

    def _model(self, x: Sequence[torch.Tensor]) -> torch.Tensor:
        h = list(x)
        for layer in self.layers:
            h = [n(h) for n in layer]
        return h[0]

    def forward(self) -> torch.Tensor:
        inputs = [[scalar(a) for a in x] for x in self.xs]
        scores = [self._model(x) for x in inputs]
        loss: torch.Tensor = workloads.demo_loss(scores, self.ys, self.params)
        self._scores = [s.item() for s in scores]
        return loss

    def loss_value(self, loss: torch.Tensor) -> float:
        return loss.item()

    def accuracy(self) -> float:
        return workloads.accuracy(self.ys, self._scores)

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def backward(self, loss: torch.Tensor) -> None:
        loss.backward()  # type: ignore[no-untyped-call]

    def update(self, k: int) -> None:
        lr = workloads.demo_lr(k, self.steps)
        with torch.no_grad():
            for p in self.params:
                if p.grad is not None:
                    p -= lr * p.grad

    def grads(self) -> list[float]:
        return [0.0 if p.grad is None else p.grad.item() for p in self.params]

    def graph_nodes(self, loss: torch.Tensor) -> int:
        """Autograd nodes reachable from the loss, leaves' AccumulateGrad included."""
        seen: set[int] = set()
        stack = [loss.grad_fn]
        while stack:
            fn = stack.pop()
            if fn is None or id(fn) in seen:
                continue
            seen.add(id(fn))
            stack.extend(next_fn for next_fn, _ in fn.next_functions)
        return len(seen)


def make_engine() -> Engine:
    """torch (0-d tensors): chain and MLP; its graph lives in C++, out of tracemalloc's sight."""
    return Engine(
        name="torch",
        version=torch.__version__,
        chain=TorchChain,
        model=TorchScalarMLP,
        info={"torch_threads": str(torch.get_num_threads())},
    )
