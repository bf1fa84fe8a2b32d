"""Live training: micrograd's demo one step at a time, and what the page draws after each step.

A :class:`Trainer` holds a dataset, an ``MLP`` and an optimizer chosen on the page. Each
:meth:`Trainer.step` is one full-batch step of micrograd's recipe (forward over every point,
hinge loss plus L2 for two classes or cross-entropy for three, ``zero_grad``, ``backward``,
the optimizer's step); :meth:`Trainer.state` reports that step's loss and accuracy, the
predictions over a grid (the decision boundary), the table of weights and gradients, and the
graph of one first-layer neuron with one point forwarded through it.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from micrograd_like import MLP, Value, draw_dot, gc_paused, grad, topological_order
from micrograd_like.data import make_circles, make_moons, make_spirals, make_xor, signed_labels
from micrograd_like.losses import accuracy, cross_entropy, hinge, l2_penalty
from micrograd_like.optim import SGD, Adam, LinearDecay, Optimizer
from micrograd_like.train import evaluate

__all__ = ["DATASETS", "OPTIMIZERS", "Config", "Trainer"]

DATASETS = ("moons", "circles", "spirals", "xor")
OPTIMIZERS = ("sgd", "momentum", "adam")
MAX_WIDTH = 64  # neurons per hidden layer
MAX_LAYERS = 4  # hidden layers
MAX_POINTS = 400
MARGIN = 0.5  # the boundary's grid covers the points plus this on every side


@dataclass(frozen=True)
class Config:
    """What the page lets you choose; the defaults are micrograd's demo.

    ``optimizer`` is ``"sgd"`` (micrograd's: the learning rate decays linearly from ``lr`` to
    ``lr / 10`` over ``decay_steps``), ``"momentum"`` (SGD with momentum 0.9, constant rate)
    or ``"adam"``. ``spirals`` has three classes (cross-entropy, three outputs); the others
    two (hinge loss on labels -1/+1, one output), each plus ``l2 * sum(p^2)``.
    """

    dataset: str = "moons"
    points: int = 100
    noise: float = 0.1
    hidden: tuple[int, ...] = (16, 16)
    lr: float = 1.0
    optimizer: str = "sgd"
    decay_steps: int = 100
    l2: float = 1e-4
    seed: int = 1337

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any]) -> Config:
        """A config from the page's options (missing ones take the defaults), each checked.

        A bad option is a ``ValueError`` naming it and what it takes.
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ValueError(f"Config: unknown option(s) {', '.join(unknown)}")
        merged = {**{f.name: getattr(cls(), f.name) for f in fields(cls)}, **options}
        dataset, optimizer = merged["dataset"], merged["optimizer"]
        if dataset not in DATASETS:
            raise ValueError(
                f"Config: dataset must be one of {', '.join(DATASETS)}, got {dataset!r}"
            )
        if optimizer not in OPTIMIZERS:
            raise ValueError(
                f"Config: optimizer must be one of {', '.join(OPTIMIZERS)}, got {optimizer!r}"
            )
        hidden = merged["hidden"]
        if isinstance(hidden, str):
            hidden = [h for h in hidden.replace(" ", "").split(",") if h]
        try:
            widths = tuple(_whole(h, "hidden layer width", 1, MAX_WIDTH) for h in hidden)
        except TypeError:
            raise ValueError(
                f"Config: hidden must be a list of layer widths, got {hidden!r}"
            ) from None
        if not 1 <= len(widths) <= MAX_LAYERS:
            raise ValueError(f"Config: 1 to {MAX_LAYERS} hidden layers, got {len(widths)}")
        return cls(
            dataset=dataset,
            points=_whole(merged["points"], "points", 10, MAX_POINTS),
            noise=_real(merged["noise"], "noise", 0.0, 1.0),
            hidden=widths,
            lr=_real(merged["lr"], "lr", 1e-6, 10.0),
            optimizer=optimizer,
            decay_steps=_whole(merged["decay_steps"], "decay_steps", 1, 100_000),
            l2=_real(merged["l2"], "l2", 0.0, 1.0),
            seed=_whole(merged["seed"], "seed", 0, 2**31 - 1),
        )


def _whole(x: object, what: str, low: int, high: int) -> int:
    if isinstance(x, str) and x.strip().lstrip("-").isdigit():
        x = int(x)
    if isinstance(x, bool) or not isinstance(x, int):
        raise ValueError(f"Config: {what} must be a whole number, got {x!r:.40}")
    if not low <= x <= high:
        raise ValueError(f"Config: {what} must be from {low} to {high}, got {x}")
    return x


def _real(x: object, what: str, low: float, high: float) -> float:
    if isinstance(x, str):
        try:
            x = float(x)
        except ValueError:
            raise ValueError(f"Config: {what} must be a number, got {x!r:.40}") from None
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or not math.isfinite(x):
        raise ValueError(f"Config: {what} must be a finite number, got {x!r:.40}")
    y = float(x)
    if not low <= y <= high:
        raise ValueError(f"Config: {what} must be from {low:g} to {high:g}, got {y:g}")
    return y


class Trainer:
    """One training run: the data, the model, the optimizer, and the point shown in the graph."""

    def __init__(self, config: Config) -> None:
        self.config = config
        c = config
        if c.dataset == "spirals":
            X, y = make_spirals(c.points, classes=3, noise=c.noise, seed=c.seed)
            self.classes = 3
        else:
            make = {"moons": make_moons, "circles": make_circles, "xor": make_xor}[c.dataset]
            X, labels = make(c.points, noise=c.noise, seed=c.seed)
            y = signed_labels(labels)
            self.classes = 2
        self.X: list[list[float]] = X
        self.y: list[int] = y
        outputs = 3 if self.classes == 3 else 1
        self.model = MLP(2, [*c.hidden, outputs], rng=c.seed)
        named = self.model.named_parameters()
        self.names = [name for name, _ in named]
        self.params = [p for _, p in named]
        self.optimizer: Optimizer
        if c.optimizer == "sgd":
            self.optimizer = SGD(self.params, lr=LinearDecay(c.lr, c.lr / 10, c.decay_steps))
        elif c.optimizer == "momentum":
            self.optimizer = SGD(self.params, lr=c.lr, momentum=0.9)
        else:
            self.optimizer = Adam(self.params, lr=c.lr)
        self.loss_name = "cross_entropy" if self.classes == 3 else "hinge"
        self.steps = 0
        # step 0 reports the untrained model; each step then its own forward pass
        first = evaluate(self.model, X, y, loss=self.loss_name, l2=c.l2)
        self.loss: float = first["loss"]
        self.accuracy: float = first["accuracy"]
        # the neuron drawn at first: the first one active on some point, so gradients flow
        first_layer = self.model.layers[0].neurons
        self.neuron = next(
            (k for k, n in enumerate(first_layer) if any(n.forward_floats(x)[0] > 0 for x in X)),
            0,
        )
        self.point: list[float] = self._firing_point()
        self.point_chosen = False  # a clicked point stays; otherwise one the neuron fires on
        xs, ys = zip(*X, strict=True)
        self.bounds = (
            (min(xs) - MARGIN, max(xs) + MARGIN),
            (min(ys) - MARGIN, max(ys) + MARGIN),
        )

    def step(self) -> None:
        """One full-batch step of micrograd's recipe; its whole graph lives in ``gc_paused``.

        The loss (L2 included) and accuracy of the step's own forward pass, before the
        update, become :attr:`loss` and :attr:`accuracy`, as in micrograd's demo and ``fit``.
        """
        with gc_paused():
            if self.classes == 3:
                outs: list[Any] = [self.model(x) for x in self.X]
                loss = cross_entropy(outs, self.y)
                acc = accuracy(outs, self.y, labels=None)
            else:
                outs = [self.model.scalar(x) for x in self.X]
                loss = hinge(outs, self.y)
                acc = accuracy(outs, self.y)
            loss = loss + l2_penalty(self.params, alpha=self.config.l2)
            self.model.zero_grad()
            loss.backward()
            self.optimizer.step()
            self.loss, self.accuracy = loss.data, acc
            del loss, outs
        self.steps += 1

    def boundary(self, resolution: int) -> dict[str, Any]:
        """The model's prediction over a ``resolution`` squared grid covering the points.

        For two classes each cell holds the score (its sign is the class); for three, the
        class id and its lead over the runner-up, ``[class, lead]``. Rows run bottom to top.
        """
        (x0, x1), (y0, y1) = self.bounds
        n = resolution
        forward = self.model.forward_floats
        cells: list[Any] = []
        for j in range(n):
            b = y0 + (y1 - y0) * (j + 0.5) / n
            for i in range(n):
                out = forward([x0 + (x1 - x0) * (i + 0.5) / n, b])
                if self.classes == 3:
                    k = max(range(3), key=out.__getitem__)
                    cells.append([k, out[k] - max(z for c, z in enumerate(out) if c != k)])
                else:
                    cells.append(out[0])
        return {"resolution": n, "x": [x0, x1], "y": [y0, y1], "cells": cells}

    def select(self, neuron: int | None = None, point: list[float] | None = None) -> None:
        """Choose the first-layer neuron drawn and the point forwarded through it."""
        width = len(self.model.layers[0].neurons)
        if point is not None:
            if not isinstance(point, list) or len(point) != 2:
                raise ValueError(f"Trainer.select: point must be [x, y], got {point!r:.60}")
            self.point = [_real(c, "point coordinate", -1e6, 1e6) for c in point]
            self.point_chosen = True
        if neuron is not None:
            self.neuron = _whole(neuron, "neuron", 0, width - 1)
            if not self.point_chosen:
                self.point = self._firing_point()

    def _firing_point(self) -> list[float]:
        # the first data point on which the chosen neuron is active (else the first point), so
        # its graph starts with gradients flowing through it
        neuron = self.model.layers[0].neurons[self.neuron]
        found = next((x for x in self.X if neuron.forward_floats(x)[0] > 0.0), self.X[0])
        return list(found)

    def neuron_graph(self) -> dict[str, Any]:
        """The chosen neuron's graph with the chosen point forwarded through the whole network.

        Values show their data for that point; gradients are d score / d value, the network's
        output for the point (for three classes, the predicted class's logit), computed with
        ``grad`` so no ``.grad`` changes.
        """
        x = [Value(self.point[0], label="x1"), Value(self.point[1], label="x2")]
        outs = self.model.layer_outputs(x)
        act = outs[0][self.neuron]
        scores = outs[-1]
        k = max(range(len(scores)), key=lambda i: scores[i].data)
        score = scores[k]
        part = topological_order(act)
        grads = dict(zip(part, grad(score, part), strict=True))
        neuron = self.model.layers[0].neurons[self.neuron]
        # short names (w.0, w.1, b: the ends of the table's names), z for w·x+b, a for relu(z)
        names = {p: name for name, p in neuron.named_parameters()}
        names[act] = "a"
        if act.parents:
            names[act.parents[0]] = "z"
        diagram = draw_dot(act, grads=grads, parameters=neuron.parameters(), names=names)
        if self.classes == 3:
            predicted: int = k
        else:
            predicted = 1 if score.data > 0 else -1
        return {
            "dot": diagram.source,
            "neuron": f"layers.0.neurons.{self.neuron}",
            "point": self.point,
            "activation": act.data,
            "score": score.data,
            "predicted": predicted,
            "values": len(part),
        }

    def weights(self) -> list[list[Any]]:
        """``[data, grad]`` of every parameter, in the order of :attr:`names` (grad may be None)."""
        return [[p.data, p.grad] for p in self.params]

    def state(self, *, boundary: int = 0, graph: bool = True) -> dict[str, Any]:
        """What the page shows after a step; ``boundary`` is the grid resolution (0: none)."""
        out: dict[str, Any] = {
            "step": self.steps,
            "lr": self.optimizer.lr,
            "loss": self.loss,
            "accuracy": self.accuracy,
        }
        out["weights"] = self.weights()
        if boundary:
            out["boundary"] = self.boundary(boundary)
        if graph:
            out["neuron"] = self.neuron_graph()
        return out

    def describe(self) -> dict[str, Any]:
        """The run as the page sets it up: data, classes, model and optimizer."""
        return {
            "X": self.X,
            "y": self.y,
            "classes": self.classes,
            "model": repr(self.model).split("\n")[0],
            "parameters": len(self.params),
            "names": self.names,
            "loss": self.loss_name,
            "optimizer": self.config.optimizer,
            "width": len(self.model.layers[0].neurons),
            "neuron": self.neuron,
            "bounds": self.bounds,
        }
