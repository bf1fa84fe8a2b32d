"""Optimizers (SGD, RMSProp, Adagrad, Adam, AdamW), learning-rate schedules and gradient clipping.

The update rules follow PyTorch's ``torch.optim`` formulations exactly (they are checked
against it), on plain floats: ``step()`` reads each parameter's ``.grad`` and rewrites its
``.data`` in place, recording no graph. Per-parameter state (momentum, running averages) is
kept in float lists aligned with the parameter list.

Learning-rate schedules have one mechanism: ``lr`` is either a positive number or a callable
``schedule(k) -> float`` of the number ``k`` of steps already taken (0 for the first step).
:class:`LinearDecay`, :class:`StepDecay` and :class:`CosineDecay` are such callables; any
function works too (``lr=lambda k: 1.0 - 0.9 * k / 100`` is micrograd's demo).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

from micrograd_like._validate import count, flag, parameters, real
from micrograd_like.engine import Value, assign_data, data_of, fill_grad, grads_of

__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "CosineDecay",
    "LinearDecay",
    "Optimizer",
    "RMSProp",
    "StepDecay",
    "clip_grad_norm",
    "clip_grad_value",
]

LR = float | Callable[[int], float]


# ----------------------------------------------------------------------------- schedules


class LinearDecay:
    """``lr(k) = start + (end - start) * k / steps`` for ``k <= steps``, then ``end``.

    ``LinearDecay(1.0, 0.1, 100)`` is micrograd's demo schedule ``1.0 - 0.9 * k / 100``,
    bit for bit.
    """

    def __init__(self, start: float, end: float, steps: int) -> None:
        self.start = real(start, "LinearDecay: start", above=0.0)
        self.end = real(end, "LinearDecay: end", at_least=0.0)
        self.steps = count(steps, "LinearDecay: steps", wrong_type=ValueError)

    def __call__(self, k: int) -> float:
        return self.start + (self.end - self.start) * min(k, self.steps) / self.steps

    def __repr__(self) -> str:
        return f"LinearDecay(start={self.start!r}, end={self.end!r}, steps={self.steps})"


class StepDecay:
    """``lr(k) = lr * gamma ** (k // step_size)``: times ``gamma`` every ``step_size`` steps."""

    def __init__(self, lr: float, step_size: int, gamma: float = 0.1) -> None:
        self.lr = real(lr, "StepDecay: lr", above=0.0)
        self.step_size = count(step_size, "StepDecay: step_size", wrong_type=ValueError)
        self.gamma = real(gamma, "StepDecay: gamma", at_least=0.0)

    def __call__(self, k: int) -> float:
        return self.lr * self.gamma ** (k // self.step_size)

    def __repr__(self) -> str:
        return f"StepDecay(lr={self.lr!r}, step_size={self.step_size}, gamma={self.gamma!r})"


class CosineDecay:
    """``lr(k) = end + (start - end) * (1 + cos(pi * k / steps)) / 2``, ``end`` after ``steps``.

    Half a cosine from ``start`` down to ``end`` (PyTorch's ``CosineAnnealingLR`` without
    restarts, in closed form).
    """

    def __init__(self, start: float, steps: int, end: float = 0.0) -> None:
        self.start = real(start, "CosineDecay: start", above=0.0)
        self.steps = count(steps, "CosineDecay: steps", wrong_type=ValueError)
        self.end = real(end, "CosineDecay: end", at_least=0.0)

    def __call__(self, k: int) -> float:
        t = min(k, self.steps) / self.steps
        return self.end + (self.start - self.end) * (1.0 + math.cos(math.pi * t)) / 2.0

    def __repr__(self) -> str:
        return f"CosineDecay(start={self.start!r}, steps={self.steps}, end={self.end!r})"


# ----------------------------------------------------------------------------- clipping


def clip_grad_norm(params: Iterable[Value], max_norm: float) -> float:
    """Scale all gradients together to an L2 norm of at most ``max_norm``; return the norm before.

    As in PyTorch, the factor is ``max_norm / (norm + 1e-6)`` and is applied only when it is
    below 1. A non-finite norm (a NaN or infinite gradient) raises ``ValueError`` and changes
    nothing.
    """
    m = real(max_norm, "clip_grad_norm: max_norm", above=0.0)
    ps = parameters(params, "clip_grad_norm", allow_empty=True, unique=False)
    ps = [p for p in ps if p.grad is not None]  # None: no gradient yet
    norm = math.hypot(*(p.grad or 0.0 for p in ps))  # overflow-free sqrt(sum g^2)
    if not math.isfinite(norm):
        raise ValueError(f"clip_grad_norm: the gradient norm is {norm!r}; nothing was clipped")
    coef = m / (norm + 1e-6)
    if coef < 1.0:
        for p in ps:
            p.grad *= coef  # type: ignore[operator]
    return norm


def clip_grad_value(params: Iterable[Value], clip_value: float) -> None:
    """Clamp every gradient into ``[-clip_value, clip_value]`` (NaN gradients stay NaN)."""
    c = real(clip_value, "clip_grad_value: clip_value", above=0.0)
    for p in parameters(params, "clip_grad_value", allow_empty=True, unique=False):
        if p.grad is not None:
            p.grad = min(max(p.grad, -c), c)


# ----------------------------------------------------------------------------- optimizers


class Optimizer:
    """Shared machinery: parameters, learning rate or schedule, step count, state buffers.

    A subclass names its per-parameter float buffers in ``buffers`` and implements
    :meth:`_update`; ``step()`` checks the gradients, finds this step's learning rate and
    calls it. ``steps`` counts the steps taken. ``lr`` reads the rate the next step will use
    and can be set (to a number or a schedule).
    """

    buffers: ClassVar[tuple[str, ...]] = ()

    def __init__(self, params: Iterable[Value], lr: LR) -> None:
        name = type(self).__name__
        self.params = parameters(params, name)
        self._lr = _check_lr(lr, name)
        self.steps = 0
        self.state: dict[str, list[float]] = {b: [0.0] * len(self.params) for b in self.buffers}

    @property
    def lr(self) -> float:
        """The learning rate of the next step (the schedule evaluated at ``steps``)."""
        return _lr_at(self._lr, self.steps, type(self).__name__)

    @lr.setter
    def lr(self, value: LR) -> None:
        self._lr = _check_lr(value, type(self).__name__)

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to 0.0."""
        fill_grad(self.params, 0.0)

    def step(self) -> None:
        """Apply one update to every parameter's ``.data`` from its ``.grad``.

        A non-finite gradient or learning rate raises ``ValueError`` naming the parameter
        before anything is changed.
        """
        lr = self.lr
        for i, p in enumerate(self.params):
            if p.grad is not None and not math.isfinite(p.grad):
                raise ValueError(
                    f"{type(self).__name__}.step: params[{i}] ({p.label or 'unlabelled'}) "
                    f"has gradient {p.grad!r}; no parameter was changed"
                )
        self.steps += 1
        self._update(lr)

    def _update(self, lr: float) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state as plain JSON-safe data: step count and float buffers.

        Hyperparameters (lr or schedule, betas, ...) are not included: they come from the
        constructor, like the parameters themselves.
        """
        return {
            "optimizer": type(self).__name__,
            "steps": self.steps,
            "state": {b: list(v) for b, v in self.state.items()},
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a :meth:`state_dict`; all is checked first and nothing changes on an error."""
        name = type(self).__name__
        if not isinstance(state, Mapping):
            raise TypeError(f"{name}.load_state_dict: expected a dict, got {type(state).__name__}")
        if set(state) != {"optimizer", "steps", "state"}:
            raise ValueError(
                f"{name}.load_state_dict: keys must be optimizer, steps, state; got {sorted(state)}"
            )
        if state["optimizer"] != name:
            raise ValueError(
                f"{name}.load_state_dict: the state is of {state['optimizer']!r}, not {name!r}"
            )
        steps = count(
            state["steps"], f"{name}.load_state_dict: steps", least=0, wrong_type=ValueError
        )
        bufs = state["state"]
        if not isinstance(bufs, Mapping) or set(bufs) != set(self.buffers):
            raise ValueError(
                f"{name}.load_state_dict: state must hold the buffers {list(self.buffers)}"
            )
        new: dict[str, list[float]] = {}
        for b in self.buffers:
            v = bufs[b]
            if not isinstance(v, list) or len(v) != len(self.params):
                raise ValueError(
                    f"{name}.load_state_dict: buffer {b!r} must be a list of "
                    f"{len(self.params)} numbers"
                )
            new[b] = [real(x, f"{name}.load_state_dict: {b}[{i}]") for i, x in enumerate(v)]
        self.steps = steps
        self.state = new

    def __repr__(self) -> str:
        lr = self._lr if callable(self._lr) else repr(self._lr)
        return f"{type(self).__name__}({len(self.params)} parameters, lr={lr}, steps={self.steps})"


def _check_lr(lr: object, where: str) -> LR:
    if callable(lr):
        return lr
    return real(lr, f"{where}: lr", above=0.0)


def _lr_at(lr: LR, k: int, where: str) -> float:
    if not callable(lr):
        return lr
    return real(lr(k), f"{where}: the lr schedule at step {k}", at_least=0.0, wrong_type=ValueError)


class SGD(Optimizer):
    """Stochastic gradient descent with momentum, Nesterov momentum and L2 weight decay.

    PyTorch's formulation, per parameter ``p`` with gradient ``g`` at step ``t``::

        g = g + weight_decay * p
        b = g                                    (t = 1)
        b = momentum * b + (1 - dampening) * g   (t > 1)
        g = g + momentum * b  if nesterov  else  b      (when momentum != 0)
        p = p - lr * g
    """

    buffers = ("momentum",)

    def __init__(
        self,
        params: Iterable[Value],
        lr: LR,
        momentum: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        self.momentum = real(momentum, "SGD: momentum", at_least=0.0, below=1.0)
        self.dampening = real(dampening, "SGD: dampening", at_least=0.0, below=1.0)
        self.weight_decay = real(weight_decay, "SGD: weight_decay", at_least=0.0)
        self.nesterov = flag(nesterov, "SGD: nesterov")
        if self.nesterov and (self.momentum == 0.0 or self.dampening != 0.0):
            raise ValueError("SGD: nesterov needs momentum > 0 and dampening = 0")
        super().__init__(params, lr)

    def _update(self, lr: float) -> None:
        mu, damp, wd, first = self.momentum, self.dampening, self.weight_decay, self.steps == 1
        buf = self.state["momentum"]
        ps = self.params
        new = data_of(ps)
        for i, g in enumerate(grads_of(ps)):
            if g is None:
                continue  # no gradient yet: skipped, as torch.optim does
            if wd:
                g = g + wd * new[i]
            if mu:
                b = g if first else mu * buf[i] + (1.0 - damp) * g
                buf[i] = b
                g = g + mu * b if self.nesterov else b
            new[i] -= lr * g
        assign_data(ps, new)


class RMSProp(Optimizer):
    """RMSProp (PyTorch's ``RMSprop``), per parameter::

    g = g + weight_decay * p
    v = alpha * v + (1 - alpha) * g^2
    a = alpha * a + (1 - alpha) * g ;  d = sqrt(v - a^2) + eps   (centered)
    d = sqrt(v) + eps                                            (otherwise)
    b = momentum * b + g / d ;  p = p - lr * b                   (momentum > 0)
    p = p - lr * g / d                                           (otherwise)
    """

    buffers = ("square_avg", "grad_avg", "momentum")

    def __init__(
        self,
        params: Iterable[Value],
        lr: LR = 0.01,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ) -> None:
        self.alpha = real(alpha, "RMSProp: alpha", at_least=0.0, below=1.0)
        self.eps = real(eps, "RMSProp: eps", above=0.0)
        self.weight_decay = real(weight_decay, "RMSProp: weight_decay", at_least=0.0)
        self.momentum = real(momentum, "RMSProp: momentum", at_least=0.0, below=1.0)
        self.centered = flag(centered, "RMSProp: centered")
        super().__init__(params, lr)

    def _update(self, lr: float) -> None:
        al, eps, wd, mu = self.alpha, self.eps, self.weight_decay, self.momentum
        sq, ga, mb = self.state["square_avg"], self.state["grad_avg"], self.state["momentum"]
        for i, p in enumerate(self.params):
            g = p.grad
            if g is None:
                continue  # no gradient yet: skipped, as torch.optim does
            if wd:
                g = g + wd * p.data
            v = sq[i] = al * sq[i] + (1.0 - al) * g * g
            if self.centered:
                a = ga[i] = al * ga[i] + (1.0 - al) * g
                # v - a^2 >= 0 in exact arithmetic; rounding may leave a hair below 0
                d = math.sqrt(max(v - a * a, 0.0)) + eps
            else:
                d = math.sqrt(v) + eps
            if mu:
                b = mb[i] = mu * mb[i] + g / d
                p.data -= lr * b
            else:
                p.data -= lr * (g / d)


class Adagrad(Optimizer):
    """Adagrad (PyTorch's, without ``lr_decay``: use a schedule), per parameter::

    g = g + weight_decay * p
    s = s + g^2
    p = p - lr * g / (sqrt(s) + eps)
    """

    buffers = ("sum",)

    def __init__(
        self,
        params: Iterable[Value],
        lr: LR = 0.01,
        eps: float = 1e-10,
        weight_decay: float = 0.0,
    ) -> None:
        self.eps = real(eps, "Adagrad: eps", above=0.0)
        self.weight_decay = real(weight_decay, "Adagrad: weight_decay", at_least=0.0)
        super().__init__(params, lr)

    def _update(self, lr: float) -> None:
        eps, wd, acc = self.eps, self.weight_decay, self.state["sum"]
        for i, p in enumerate(self.params):
            g = p.grad
            if g is None:
                continue  # no gradient yet: skipped, as torch.optim does
            if wd:
                g = g + wd * p.data
            s = acc[i] = acc[i] + g * g
            p.data -= lr * (g / (math.sqrt(s) + eps))


class Adam(Optimizer):
    """Adam with bias correction (PyTorch's), per parameter at step ``t``::

    g = g + weight_decay * p                   (Adam: L2 decay through the gradient)
    p = p * (1 - lr * weight_decay)            (AdamW: decoupled decay, before the rest)
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g^2
    p = p - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
    """

    buffers = ("exp_avg", "exp_avg_sq")
    decoupled: ClassVar[bool] = False

    def __init__(
        self,
        params: Iterable[Value],
        lr: LR = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        name = type(self).__name__
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r:.60}")
        self.betas = (
            real(betas[0], f"{name}: beta1", at_least=0.0, below=1.0),
            real(betas[1], f"{name}: beta2", at_least=0.0, below=1.0),
        )
        self.eps = real(eps, f"{name}: eps", above=0.0)
        self.weight_decay = real(weight_decay, f"{name}: weight_decay", at_least=0.0)
        super().__init__(params, lr)

    def _update(self, lr: float) -> None:
        b1, b2 = self.betas
        eps, wd, t = self.eps, self.weight_decay, self.steps
        m, v = self.state["exp_avg"], self.state["exp_avg_sq"]
        step_size = lr / (1.0 - b1**t)
        bc2_sqrt = math.sqrt(1.0 - b2**t)
        decay = 1.0 - lr * wd
        for i, p in enumerate(self.params):
            g = p.grad
            if g is None:
                continue  # no gradient yet: skipped, as torch.optim does
            if wd:
                if self.decoupled:
                    p.data *= decay
                else:
                    g = g + wd * p.data
            mi = m[i] = b1 * m[i] + (1.0 - b1) * g
            vi = v[i] = b2 * v[i] + (1.0 - b2) * g * g
            p.data -= step_size * (mi / (math.sqrt(vi) / bc2_sqrt + eps))


class AdamW(Adam):
    """Adam with decoupled weight decay (PyTorch's ``AdamW``; default ``weight_decay=0.01``).

    The decay shrinks the parameter directly, ``p = p * (1 - lr * weight_decay)``, instead of
    going through the adaptive gradient scaling; see :class:`Adam` for the full update.
    """

    decoupled = True

    def __init__(
        self,
        params: Iterable[Value],
        lr: LR = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)
