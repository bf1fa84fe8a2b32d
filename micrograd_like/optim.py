"""Optimizers (SGD, RMSProp, Adagrad, Adam, AdamW), learning-rate schedules and gradient clipping.

The update rules follow PyTorch's ``torch.optim`` formulations exactly (they are checked
against it), on plain floats: ``step()`` reads each parameter's ``.grad`` and rewrites its
``.data`` in place, recording no graph. Per-parameter state (momentum, running averages) is
kept in float lists aligned with the parameter list.

Learning-rate schedules have one mechanism: ``lr`` is either a positive number or a callable
``schedule(k) -> float`` of the number ``k`` of steps already taken (0 for the first step).
:class:`LinearDecay`, :class:`StepDecay` and :class:`CosineDecay` are such callables; any
function works too (``lr=lambda k: 1.0 - 0.9 * k / 100`` is micrograd's demo). Step counts
(a schedule's length, an optimizer state's ``steps``) go up to ``MAX_STEPS = 2**53``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

from micrograd_like._validate import brief, count, flag, parameters, real
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
# the most steps a state may claim: beyond 2**53 a step count is no longer exact as a float
# (Adam's beta ** t), and no run takes that many scalar steps
MAX_STEPS = 2**53


# ----------------------------------------------------------------------------- schedules


class LinearDecay:
    """``lr(k) = start + (end - start) * k / steps`` for ``k <= steps``, then ``end``.

    ``LinearDecay(1.0, 0.1, 100)`` is micrograd's demo schedule ``1.0 - 0.9 * k / 100``,
    bit for bit.
    """

    def __init__(self, start: float, end: float, steps: int) -> None:
        self.start = real(start, "LinearDecay: start", above=0.0)
        self.end = real(end, "LinearDecay: end", at_least=0.0)
        self.steps = count(steps, "LinearDecay: steps", at_most=MAX_STEPS, wrong_type=ValueError)

    def __call__(self, k: int) -> float:
        return self.start + (self.end - self.start) * min(k, self.steps) / self.steps

    def __repr__(self) -> str:
        return f"LinearDecay(start={self.start!r}, end={self.end!r}, steps={self.steps})"


class StepDecay:
    """``lr(k) = lr * gamma ** (k // step_size)``: times ``gamma`` every ``step_size`` steps."""

    def __init__(self, lr: float, step_size: int, gamma: float = 0.1) -> None:
        self.lr = real(lr, "StepDecay: lr", above=0.0)
        self.step_size = count(
            step_size, "StepDecay: step_size", at_most=MAX_STEPS, wrong_type=ValueError
        )
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
        self.steps = count(steps, "CosineDecay: steps", at_most=MAX_STEPS, wrong_type=ValueError)
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
        _set_grads(ps, [(p.grad or 0.0) * coef for p in ps])
    return norm


def clip_grad_value(params: Iterable[Value], clip_value: float) -> None:
    """Clamp every gradient into ``[-clip_value, clip_value]`` (NaN gradients stay NaN)."""
    c = real(clip_value, "clip_grad_value: clip_value", above=0.0)
    ps = parameters(params, "clip_grad_value", allow_empty=True, unique=False)
    # every item is checked above, before the first gradient changes
    ps = [p for p in ps if p.grad is not None]  # None: no gradient yet
    _set_grads(ps, [min(max(p.grad or 0.0, -c), c) for p in ps])


def _set_grads(ps: list[Value], grads: list[float]) -> None:
    # all or nothing under interrupts: the new gradients are computed first, and a Ctrl-C
    # while they are written lets the writing finish (it only repeats assignments) first
    try:
        for p, g in zip(ps, grads, strict=True):
            p.grad = g
    except BaseException:
        while True:
            try:
                for p, g in zip(ps, grads, strict=True):
                    p.grad = g
                break
            except BaseException:
                continue
        raise


# ----------------------------------------------------------------------------- optimizers


class Optimizer:
    """Shared machinery: parameters, learning rate or schedule, step count, state buffers.

    A subclass names its per-parameter float buffers in ``buffers`` (those that can never be
    negative, such as running averages of squares, also in ``nonnegative``) and implements
    :meth:`_compute`, which works on copies; ``step()`` checks the gradients, computes the
    update, checks that every new parameter and buffer value is finite, and only then writes
    them all. ``steps`` counts the steps taken. ``lr`` reads the rate the next step will use
    and can be set (to a number or a schedule).
    """

    buffers: ClassVar[tuple[str, ...]] = ()
    nonnegative: ClassVar[tuple[str, ...]] = ()

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

        All or nothing: a non-finite gradient or learning rate, or an update that would make
        a parameter or a state buffer non-finite (too large a learning rate, a gradient whose
        square overflows), raises ``ValueError`` naming the parameter, and no parameter, buffer
        or step count changes.
        """
        name = type(self).__name__
        lr = self.lr
        ps = self.params
        grads = grads_of(ps)
        for i, g in enumerate(grads):
            if g is not None and not math.isfinite(g):
                raise ValueError(
                    f"{name}.step: params[{i}] ({ps[i].label or 'unlabelled'}) "
                    f"has gradient {g!r}; no parameter was changed"
                )
        data = data_of(ps)
        state = {b: list(v) for b, v in self.state.items()}
        self._compute(lr, self.steps + 1, data, grads, state)
        _all_finite(data, ps, f"{name}.step", "value")
        for b, v in state.items():
            _all_finite(v, ps, f"{name}.step", f"{b!r} state")
        try:
            assign_data(ps, data)  # all or nothing itself, and finishes even if interrupted
        finally:
            # the buffers and the count follow the parameters: committed exactly when the
            # new values are in (an interrupt during the assignment still lands them)
            if data_of(ps) == data:
                self.state = state
                self.steps += 1

    def _compute(
        self,
        lr: float,
        t: int,
        data: list[float],
        grads: list[float | None],
        state: dict[str, list[float]],
    ) -> None:
        """Write step ``t``'s new parameter values into ``data`` and buffers into ``state``.

        ``data``, ``grads`` and ``state`` are this step's copies (a ``None`` gradient means
        "no gradient yet": leave that parameter and its buffers alone); ``step()`` checks and
        commits them.
        """
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
        """Restore a :meth:`state_dict`; all is checked first and nothing changes on an error.

        ``state`` must hold exactly ``optimizer`` (this class's name), ``steps`` (an int from 0
        to ``MAX_STEPS``) and ``state``, a dict of exactly this optimizer's buffers, each a
        list of one finite number per parameter; running averages of squares (Adam's
        ``exp_avg_sq``, RMSProp's ``square_avg``, Adagrad's ``sum``) must be ``>= 0``. Messages
        show wrong keys and values shortened, however large they are.
        """
        where = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state, Mapping):
            raise TypeError(f"{where}: state must be a dict, got {type(state).__name__}")
        _exact_keys(state, ("optimizer", "steps", "state"), where, "state")
        kind = state["optimizer"]
        if kind != type(self).__name__:
            raise ValueError(
                f"{where}: state['optimizer'] is {brief(kind)}, not {type(self).__name__!r}"
            )
        steps = count(state["steps"], f"{where}: state['steps']", least=0, wrong_type=ValueError)
        if steps > MAX_STEPS:
            raise ValueError(f"{where}: state['steps'] must be at most 2**53, got {brief(steps)}")
        bufs = state["state"]
        if not isinstance(bufs, Mapping):
            raise TypeError(f"{where}: state['state'] must be a dict, got {type(bufs).__name__}")
        _exact_keys(bufs, self.buffers, where, "state['state']")
        new: dict[str, list[float]] = {}
        n = len(self.params)
        for b in self.buffers:
            v = bufs[b]
            what = f"{where}: state['state'][{b!r}]"
            if not isinstance(v, list | tuple):
                raise TypeError(f"{what} must be a list of {n} numbers, got {type(v).__name__}")
            if len(v) != n:
                raise ValueError(f"{what} must hold {n} numbers (one per parameter), got {len(v)}")
            low = 0.0 if b in self.nonnegative else None
            new[b] = [real(x, f"{what}[{i}]", at_least=low) for i, x in enumerate(v)]
        self.steps = steps
        self.state = new

    def __repr__(self) -> str:
        lr = self._lr if callable(self._lr) else repr(self._lr)
        return f"{type(self).__name__}({len(self.params)} parameters, lr={lr}, steps={self.steps})"


def _exact_keys(d: Mapping[Any, Any], keys: tuple[str, ...], where: str, what: str) -> None:
    # missing and unexpected keys, each shown shortened (a key may be megabytes long)
    missing = [k for k in keys if k not in d]
    unexpected = [brief(k, 40) for k in d if k not in keys]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(map(repr, missing))}")
        if unexpected:
            more = f" (and {len(unexpected) - 3} more)" if len(unexpected) > 3 else ""
            parts.append(f"unexpected {', '.join(unexpected[:3])}{more}")
        raise ValueError(
            f"{where}: {what} must have exactly the keys {', '.join(keys)}; {'; '.join(parts)}"
        )


def _all_finite(xs: list[float], ps: list[Value], where: str, what: str) -> None:
    # one C-speed sum finds whether any entry is NaN or infinite; only then look for which
    if math.isfinite(sum(xs)):
        return
    for i, x in enumerate(xs):
        if not math.isfinite(x):
            raise ValueError(
                f"{where}: the update would make params[{i}] ({ps[i].label or 'unlabelled'}) "
                f"{what} {x!r}; nothing was changed (lower the learning rate or clip the "
                "gradients)"
            )


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

    def _compute(
        self,
        lr: float,
        t: int,
        data: list[float],
        grads: list[float | None],
        state: dict[str, list[float]],
    ) -> None:
        mu, damp, wd, first = self.momentum, self.dampening, self.weight_decay, t == 1
        buf = state["momentum"]
        for i, g in enumerate(grads):
            if g is None:
                continue  # no gradient yet: skipped, as torch.optim does
            if wd:
                g = g + wd * data[i]
            if mu:
                b = g if first else mu * buf[i] + (1.0 - damp) * g
                buf[i] = b
                g = g + mu * b if self.nesterov else b
            data[i] -= lr * g


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
    nonnegative = ("square_avg",)

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

    def _compute(
        self,
        lr: float,
        t: int,
        data: list[float],
        grads: list[float | None],
        state: dict[str, list[float]],
    ) -> None:
        al, eps, wd, mu = self.alpha, self.eps, self.weight_decay, self.momentum
        sq, ga, mb = state["square_avg"], state["grad_avg"], state["momentum"]
        for i, g in enumerate(grads):
            if g is None:
                continue  # no gradient yet: skipped, as torch.optim does
            if wd:
                g = g + wd * data[i]
            v = sq[i] = al * sq[i] + (1.0 - al) * g * g
            if self.centered:
                a = ga[i] = al * ga[i] + (1.0 - al) * g
                # v - a^2 >= 0 in exact arithmetic; rounding may leave a hair below 0
                d = math.sqrt(max(v - a * a, 0.0)) + eps
            else:
                d = math.sqrt(v) + eps
            if mu:
                b = mb[i] = mu * mb[i] + g / d
                data[i] -= lr * b
            else:
                data[i] -= lr * (g / d)


class Adagrad(Optimizer):
    """Adagrad (PyTorch's, without ``lr_decay``: use a schedule), per parameter::

    g = g + weight_decay * p
    s = s + g^2
    p = p - lr * g / (sqrt(s) + eps)
    """

    buffers = ("sum",)
    nonnegative = ("sum",)

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

    def _compute(
        self,
        lr: float,
        t: int,
        data: list[float],
        grads: list[float | None],
        state: dict[str, list[float]],
    ) -> None:
        eps, wd, acc = self.eps, self.weight_decay, state["sum"]
        for i, g in enumerate(grads):
            if g is None:
                continue  # no gradient yet: skipped, as torch.optim does
            if wd:
                g = g + wd * data[i]
            s = acc[i] = acc[i] + g * g
            data[i] -= lr * (g / (math.sqrt(s) + eps))


class Adam(Optimizer):
    """Adam with bias correction (PyTorch's), per parameter at step ``t``::

    g = g + weight_decay * p                   (Adam: L2 decay through the gradient)
    p = p * (1 - lr * weight_decay)            (AdamW: decoupled decay, before the rest)
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g^2
    p = p - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
    """

    buffers = ("exp_avg", "exp_avg_sq")
    nonnegative = ("exp_avg_sq",)
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
            raise ValueError(f"{name}: betas must be a pair (beta1, beta2), got {brief(betas)}")
        self.betas = (
            real(betas[0], f"{name}: beta1", at_least=0.0, below=1.0),
            real(betas[1], f"{name}: beta2", at_least=0.0, below=1.0),
        )
        self.eps = real(eps, f"{name}: eps", above=0.0)
        self.weight_decay = real(weight_decay, f"{name}: weight_decay", at_least=0.0)
        super().__init__(params, lr)

    def _compute(
        self,
        lr: float,
        t: int,
        data: list[float],
        grads: list[float | None],
        state: dict[str, list[float]],
    ) -> None:
        b1, b2 = self.betas
        eps, wd = self.eps, self.weight_decay
        m, v = state["exp_avg"], state["exp_avg_sq"]
        step_size = lr / (1.0 - b1**t)
        bc2_sqrt = math.sqrt(1.0 - b2**t)
        decay = 1.0 - lr * wd
        for i, g in enumerate(grads):
            if g is None:
                continue  # no gradient yet: skipped, as torch.optim does
            if wd:
                if self.decoupled:
                    data[i] *= decay
                else:
                    g = g + wd * data[i]
            mi = m[i] = b1 * m[i] + (1.0 - b1) * g
            vi = v[i] = b2 * v[i] + (1.0 - b2) * g * g
            data[i] -= step_size * (mi / (math.sqrt(vi) / bc2_sqrt + eps))


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
