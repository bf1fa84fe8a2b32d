"""PyTorch as it is meant to be used: the MLP and loss on whole float64 matrices (context only)."""

from __future__ import annotations

import warnings

warnings.filterwarnings("ignore", message="Failed to initialize NumPy")
import torch  # noqa: E402 - after the warning filter

from bench import workloads  # noqa: E402
from bench.harness import Engine  # noqa: E402

DTYPE = torch.float64


class TorchBatchedMLP:
    """One weight matrix and bias vector per layer; parameters keep micrograd's flat order."""

    def __init__(self, flat: list[float], steps: int) -> None:
        self.steps = steps
        xs, self.ys = workloads.make_moons()
        self.x = torch.tensor(xs, dtype=DTYPE)
        self.y = torch.tensor(self.ys, dtype=DTYPE)
        self.shapes = workloads.layer_shapes()
        self.weights = [
            torch.zeros(nout, nin, dtype=DTYPE, requires_grad=True) for nin, nout in self.shapes
        ]
        self.biases = [
            torch.zeros(nout, dtype=DTYPE, requires_grad=True) for _, nout in self.shapes
        ]
        self.set_params(flat)
        self._scores: list[float] = []

    def set_params(self, flat: list[float]) -> None:
        with torch.no_grad():
            for layer, w, b in zip(
                workloads.split_params(flat), self.weights, self.biases, strict=True
            ):
                w.copy_(torch.tensor([wn for wn, _ in layer], dtype=DTYPE))
                b.copy_(torch.tensor([bn for _, bn in layer], dtype=DTYPE))

    def forward(self) -> torch.Tensor:
        h = self.x
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = h @ w.T + b
            if i != last:
                h = h.relu()
        scores = h[:, 0]
        data_loss = (1 - self.y * scores).relu().mean()
        reg_loss = workloads.ALPHA * sum((p * p).sum() for p in (*self.weights, *self.biases))
        self._scores = scores.tolist()
        return data_loss + reg_loss

    def loss_value(self, loss: torch.Tensor) -> float:
        return loss.item()

    def accuracy(self) -> float:
        return workloads.accuracy(self.ys, self._scores)

    def zero_grad(self) -> None:
        for p in (*self.weights, *self.biases):
            p.grad = None

    def backward(self, loss: torch.Tensor) -> None:
        loss.backward()  # type: ignore[no-untyped-call]

    def update(self, k: int) -> None:
        lr = workloads.demo_lr(k, self.steps)
        with torch.no_grad():
            for p in (*self.weights, *self.biases):
                if p.grad is not None:
                    p -= lr * p.grad

    def grads(self) -> list[float]:
        flat: list[float] = []
        for w, b in zip(self.weights, self.biases, strict=True):
            gw = torch.zeros_like(w) if w.grad is None else w.grad
            gb = torch.zeros_like(b) if b.grad is None else b.grad
            for row, bias in zip(gw.tolist(), gb.tolist(), strict=True):
                flat.extend(row)
                flat.append(bias)
        return flat


def make_engine() -> Engine:
    """torch (batched): the MLP only."""
    return Engine(
        name="torch-batched",
        version=torch.__version__,
        model=TorchBatchedMLP,
        info={"torch_threads": str(torch.get_num_threads())},
    )
