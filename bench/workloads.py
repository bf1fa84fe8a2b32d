"""The workloads every engine runs: the op chain, moons data, initial weights and demo loss."""

from __future__ import annotations

import hashlib
import itertools
import math
import operator
import random
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar, TypeVar

T = TypeVar("T")

# The chain: this cycle of (op, constant) repeated; x stays near its start and d out/d x near 1,
# so no engine meets overflow or subnormal floats. Every engine runs it through build_chain.
CHAIN_CYCLE: tuple[tuple[str, float], ...] = (
    ("mul", 1.0001),
    ("add", 0.5),
    ("mul", 0.9999),
    ("add", -0.5),
)
CHAIN_START = 1.0
CHAIN_N = 100_000
CHAIN_SIZES = (1_000, 10_000, 100_000, 1_000_000)
DEEP_N = 1_000_000

_BINARY: dict[str, Callable[[Any, float], Any]] = {"mul": operator.mul, "add": operator.add}

# The MLP and micrograd's demo (demo.ipynb): MLP(2, [16, 16, 1]) on 100 moons points,
# SVM max-margin loss plus L2, full-batch SGD with a decaying learning rate.
MLP_SIZES = (2, 16, 16, 1)
N_POINTS = 100
NOISE = 0.1
DATA_SEED = 1337
WEIGHT_SEED = 42
ALPHA = 1e-4
DEMO_STEPS = 100


def build_chain(x: T, n: int) -> T:
    """Apply n ops of the repeated CHAIN_CYCLE to x; n must be a multiple of its length."""
    if n % len(CHAIN_CYCLE):
        raise ValueError(f"chain length {n} is not a multiple of {len(CHAIN_CYCLE)}")
    ops = [(_BINARY[name], c) for name, c in CHAIN_CYCLE]
    for _ in range(n // len(ops)):
        for f, c in ops:
            x = f(x, c)
    return x


class ScalarChain:
    """The chain on a micrograd-style scalar (``.data``, ``.grad``, ``.backward()``).

    An engine subclasses it and sets ``value_type`` to its scalar class; the timed forward is
    the constructor, the backward and the result read are the same for every such engine.
    """

    value_type: ClassVar[type[Any]]

    def __init__(self, n: int) -> None:
        self.x = self.value_type(CHAIN_START)
        self.out = build_chain(self.x, n)

    def backward(self) -> None:
        self.out.backward()

    def result(self) -> tuple[float, float]:
        return self.out.data, self.x.grad


def chain_multipliers() -> list[float]:
    """The local derivative d out/d in of each op in one cycle: c for x*c, 1 for x+c."""
    return [c if name == "mul" else 1.0 for name, c in CHAIN_CYCLE]


def make_moons(
    n: int = N_POINTS, noise: float = NOISE, seed: int = DATA_SEED
) -> tuple[list[tuple[float, float]], list[float]]:
    """Two interleaving half circles plus gaussian noise (like sklearn's); labels -1 (upper), +1."""
    rng = random.Random(seed)
    n_upper = n // 2
    n_lower = n - n_upper
    points: list[tuple[float, float, float]] = []
    for i in range(n_upper):
        t = math.pi * i / (n_upper - 1)
        points.append((math.cos(t), math.sin(t), -1.0))
    for i in range(n_lower):
        t = math.pi * i / (n_lower - 1)
        points.append((1.0 - math.cos(t), 0.5 - math.sin(t), 1.0))
    rng.shuffle(points)
    xs = [(a + rng.gauss(0.0, noise), b + rng.gauss(0.0, noise)) for a, b, _ in points]
    ys = [label for _, _, label in points]
    return xs, ys


def layer_shapes(sizes: Sequence[int] = MLP_SIZES) -> list[tuple[int, int]]:
    """(inputs, neurons) of each layer; every layer but the last has ReLU, as in micrograd."""
    return list(itertools.pairwise(sizes))


def init_params(sizes: Sequence[int] = MLP_SIZES, seed: int = WEIGHT_SEED) -> list[float]:
    """Flat parameters in micrograd's order (layer, neuron, then w..., b): w ~ U(-1, 1), b = 0."""
    rng = random.Random(seed)
    flat: list[float] = []
    for nin, nout in layer_shapes(sizes):
        for _ in range(nout):
            flat.extend(rng.uniform(-1.0, 1.0) for _ in range(nin))
            flat.append(0.0)
    return flat


def split_params(
    flat: Sequence[T], sizes: Sequence[int] = MLP_SIZES
) -> list[list[tuple[list[T], T]]]:
    """Cut a flat parameter list into layers of neurons (weights, bias)."""
    layers: list[list[tuple[list[T], T]]] = []
    i = 0
    for nin, nout in layer_shapes(sizes):
        neurons: list[tuple[list[T], T]] = []
        for _ in range(nout):
            neurons.append((list(flat[i : i + nin]), flat[i + nin]))
            i += nin + 1
        layers.append(neurons)
    if i != len(flat):
        raise ValueError(f"expected {i} parameters for sizes {tuple(sizes)}, got {len(flat)}")
    return layers


def demo_loss(scores: Sequence[Any], ys: Sequence[float], params: Iterable[Any]) -> Any:
    """micrograd's demo loss for any scalar type: mean(relu(1 - y*score)) + ALPHA * sum(p*p)."""
    losses = [(1 + -yi * si).relu() for yi, si in zip(ys, scores, strict=True)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = ALPHA * sum(p * p for p in params)
    return data_loss + reg_loss


def accuracy(ys: Sequence[float], score_values: Sequence[float]) -> float:
    """Fraction of points whose score has the sign of their label."""
    hits = sum((yi > 0) == (si > 0) for yi, si in zip(ys, score_values, strict=True))
    return hits / len(ys)


def demo_lr(k: int, steps: int = DEMO_STEPS) -> float:
    """micrograd demo's learning rate at step k: from 1.0 down towards 0.1."""
    return 1.0 - 0.9 * k / steps


def inputs_digest() -> str:
    """A short hash of the data and initial weights, to show every engine started from the same."""
    xs, ys = make_moons()
    text = repr((xs, ys, init_params(), CHAIN_CYCLE, CHAIN_START))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
