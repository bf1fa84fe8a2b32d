"""Training: ``fit`` a model to data (batches, validation, early stopping), ``History``, plots.

One training step is micrograd's loop, made general: forward over a batch, the loss (plus an
optional L1/L2 penalty), ``zero_grad``, ``backward``, optional gradient clipping and the
optimizer's step (whose learning rate may follow a schedule). The whole step runs inside
:func:`~micrograd_like.engine.gc_paused` (graphs hold no cycles, so the cycle collector has
nothing to find and would only slow the build down); evaluation runs under
:func:`~micrograd_like.engine.no_grad` in the model's eval mode. Everything a user passes is
checked before the first step, so a bad argument raises and leaves the model as it was.

Losses are named (``"hinge"``, ``"bce_with_logits"``, ``"bce"``, ``"cross_entropy"``,
``"mse"``, see :data:`LOSSES`) or any callable ``loss(outputs, targets) -> Value`` where
``outputs`` holds the model's output list for each example of the batch.
"""

from __future__ import annotations

import functools
import io
import random
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, cast

from micrograd_like._validate import brief, count, flag, real
from micrograd_like.data import Target, as_rows, as_targets, train_test_split
from micrograd_like.engine import Value, gc_paused, no_grad
from micrograd_like.losses import (
    accuracy,
    bce,
    bce_with_logits,
    cross_entropy,
    hinge,
    l1_penalty,
    l2_penalty,
    mse,
    predictions,
)
from micrograd_like.nn import Module, _WidthError
from micrograd_like.optim import (
    LR,
    SGD,
    Adagrad,
    Adam,
    AdamW,
    Optimizer,
    RMSProp,
    clip_grad_norm,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "LOSSES",
    "OPTIMIZERS",
    "History",
    "LossSpec",
    "decision_boundary",
    "evaluate",
    "fit",
]

LossFn = Callable[[Any, Any], Value]
Callback = Callable[["History"], object]
Progress = bool | Literal["auto"]
Data = tuple[list[list[float]], list[Target]]


@dataclass(frozen=True)
class LossSpec:
    """A named loss: its function, what it wants, and how accuracy reads its outputs.

    A loss that classifies (``classifies=True``) is scored with
    :func:`~micrograd_like.losses.accuracy` using ``labels`` and ``threshold``: one score
    per example predicts ``labels[1]`` above ``threshold`` and ``labels[0]`` elsewhere, and
    ``labels=None`` reads rows of class logits against class ids. ``mse`` does not classify.
    """

    name: str
    fn: LossFn
    wants: str
    classifies: bool = False
    labels: tuple[int, int] | None = None
    threshold: float = 0.0

    @property
    def predict(self) -> Callable[[list[float]], float] | None:
        """How one example's output floats become a predicted label (``None``: no classes)."""
        if not self.classifies:
            return None
        return lambda row: predictions([row], labels=self.labels, threshold=self.threshold)[0]


LOSSES: dict[str, LossSpec] = {
    spec.name: spec
    for spec in (
        LossSpec("hinge", hinge, "one output, labels -1/+1", classifies=True, labels=(-1, 1)),
        LossSpec(
            "bce_with_logits",
            bce_with_logits,
            "one output (a logit), labels 0/1",
            classifies=True,
            labels=(0, 1),
        ),
        LossSpec(
            "bce",
            bce,
            "one output in (0, 1) (output_activation='sigmoid'), labels 0/1",
            classifies=True,
            labels=(0, 1),
            threshold=0.5,
        ),
        LossSpec(
            "cross_entropy", cross_entropy, "k outputs (logits), class ids 0..k-1", classifies=True
        ),
        LossSpec("mse", mse, "targets: numbers, or rows as wide as the outputs"),
    )
}

OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "adam": Adam,
    "adamw": AdamW,
    "rmsprop": RMSProp,
    "adagrad": Adagrad,
}
_DEFAULT_SGD_LR = 0.1


# ---------------------------------------------------------------------------- History


class History:
    """What :func:`fit` measured, epoch by epoch (epochs are numbered from 1).

    ``loss`` and ``accuracy`` are the training objective (data loss plus any penalty) and
    accuracy averaged over each epoch's batches, measured during the epoch, as Keras reports
    them; ``val_loss`` and ``val_accuracy`` are measured on the validation data after each
    epoch. A list stays empty when its quantity was not measured. ``best_epoch`` is the epoch
    with the lowest ``monitor`` (``"val_loss"`` when there is validation data, else
    ``"loss"``); ``stop_reason`` says why training ended before ``epochs`` (``None`` if it
    did not); ``restored_epoch`` is the epoch whose weights early stopping put back. ``lr``
    holds the learning rate of each epoch's first step, ``steps`` counts the optimizer steps
    and ``seconds`` the wall time of the whole fit.
    """

    def __init__(self, monitor: str = "loss") -> None:
        self.loss: list[float] = []
        self.accuracy: list[float] = []
        self.val_loss: list[float] = []
        self.val_accuracy: list[float] = []
        self.lr: list[float] = []
        self.monitor = monitor
        self.best_epoch: int | None = None
        self.stop_reason: str | None = None
        self.restored_epoch: int | None = None
        self.steps = 0
        self.seconds = 0.0

    @property
    def epochs(self) -> int:
        """The number of epochs run."""
        return len(self.loss)

    def as_dict(self) -> dict[str, list[float]]:
        """The measured per-epoch lists by name (``loss``, ``val_accuracy``, ``lr``, ...)."""
        named = {
            "loss": self.loss,
            "accuracy": self.accuracy,
            "val_loss": self.val_loss,
            "val_accuracy": self.val_accuracy,
            "lr": self.lr,
        }
        return {k: list(v) for k, v in named.items() if v}

    def _record(self, loss: float, acc: float | None, lr: float) -> None:
        self.loss.append(loss)
        if acc is not None:
            self.accuracy.append(acc)
        self.lr.append(lr)

    def _improved(self) -> bool:
        # did the latest epoch set a new best of the monitored loss? (ties keep the earlier)
        watched = self.val_loss if self.monitor == "val_loss" else self.loss
        if self.best_epoch is None or watched[-1] < watched[self.best_epoch - 1]:
            self.best_epoch = len(watched)
            return True
        return False

    def plot(self) -> Figure:
        """Return a matplotlib Figure of the loss (and accuracy) curves, train and validation.

        The best epoch is marked. Needs matplotlib (``pip install 'micrograd_like[train]'``);
        the Figure is not attached to pyplot, so it neither leaks nor shows twice: a notebook
        cell that returns it shows it, and ``fig.savefig("loss.png")`` saves it.
        """
        if not self.loss:
            raise ValueError("History.plot: no epochs were recorded, nothing to plot")
        panels = [("loss", self.loss, self.val_loss)]
        if self.accuracy or self.val_accuracy:
            panels.append(("accuracy", self.accuracy, self.val_accuracy))
        fig = _figure((4.8 * len(panels), 3.6))
        epochs = list(range(1, self.epochs + 1))
        for i, (name, train, val) in enumerate(panels):
            ax = fig.add_subplot(1, len(panels), i + 1)
            if train:
                ax.plot(epochs, train, label=f"train {name}")
            if val:
                ax.plot(epochs, val, label=f"validation {name}")
            if self.best_epoch is not None:
                ax.axvline(self.best_epoch, color="0.6", linestyle=":", label="best epoch")
            ax.set_xlabel("epoch")
            ax.set_ylabel(name)
            ax.grid(alpha=0.3)
            ax.legend()
        return fig

    def __repr__(self) -> str:
        head = f"History: {self.epochs} epochs ({self.steps} steps) in {self.seconds:.2f} s"
        lines = [head]
        for name, xs in self.as_dict().items():
            if name == "lr":
                continue
            line = f"  {name:<13}{xs[0]:.4f} -> {xs[-1]:.4f}"
            if name == self.monitor and self.best_epoch is not None:
                line += f"  (best {xs[self.best_epoch - 1]:.4f} at epoch {self.best_epoch})"
            lines.append(line)
        if self.stop_reason is not None:
            lines.append(f"  stopped at epoch {self.epochs}: {self.stop_reason}")
        if self.restored_epoch is not None:
            lines.append(f"  weights restored from epoch {self.restored_epoch}")
        return "\n".join(lines)


# ---------------------------------------------------------------------------- checks


def _loss_spec(loss: object, where: str) -> LossSpec:
    if isinstance(loss, str):
        if loss not in LOSSES:
            raise ValueError(
                f"{where}: unknown loss {brief(loss)}; choose one of {', '.join(LOSSES)}"
            )
        return LOSSES[loss]
    if callable(loss):
        return LossSpec(getattr(loss, "__name__", "custom loss"), loss, "")
    raise TypeError(
        f"{where}: loss must be a name ({', '.join(LOSSES)}) or a function, "
        f"got {type(loss).__name__}"
    )


def _model(model: object, where: str) -> Module:
    if not isinstance(model, Module):
        raise TypeError(
            f"{where}: model must be a micrograd_like.nn Module (an MLP, say), "
            f"got {type(model).__name__}"
        )
    return model


def _data(model: Module, X: object, y: object, what: str) -> tuple[list[list[float]], list[Target]]:
    # the one route by which data enters training: convert, match lengths and widths
    rows, targets = as_rows(X, f"{what} X"), as_targets(y, f"{what} y")
    if len(rows) != len(targets):
        raise ValueError(f"{what}: X has {len(rows)} rows but y has {len(targets)} labels")
    if model.nin is not None and len(rows[0]) != model.nin:
        raise ValueError(
            f"{what}: X has {len(rows[0])} numbers per row but the model takes {model.nin} inputs"
        )
    return rows, targets


def _optimizer(optimizer: object, lr: LR | None, model: Module) -> Optimizer:
    if isinstance(optimizer, Optimizer):
        if lr is not None:
            raise ValueError(
                "fit: lr is for a named optimizer; this optimizer instance has its own lr "
                f"({optimizer!r})"
            )
        _same_parameters(optimizer, model)
        return optimizer
    if isinstance(optimizer, str):
        cls = OPTIMIZERS.get(optimizer.lower())
        if cls is None:
            raise ValueError(
                f"fit: unknown optimizer {brief(optimizer)}; choose one of {', '.join(OPTIMIZERS)}"
                " or pass an optimizer instance"
            )
        factory: Any = cls  # every optimizer but SGD has a default lr
        if lr is None and cls is SGD:
            lr = _DEFAULT_SGD_LR
        made: Optimizer = factory(model.parameters(), *([] if lr is None else [lr]))
        return made
    raise TypeError(
        f"fit: optimizer must be a name or an Optimizer, got {type(optimizer).__name__}"
    )


def _same_parameters(optimizer: Optimizer, model: Module) -> None:
    # an optimizer built on another model (or on part of this one) would train the wrong
    # Values, or some not at all, without a word: its parameters must be exactly the model's
    named = model.named_parameters()
    ours = {id(p) for _, p in named}
    held = {id(p) for p in optimizer.params}
    extra = [i for i, p in enumerate(optimizer.params) if id(p) not in ours]
    missing = [name for name, p in named if id(p) not in held]
    if not extra and not missing:
        return
    parts = []
    if extra:
        first = optimizer.params[extra[0]]
        parts.append(
            f"it holds {len(extra)} parameter(s) the model lacks (first: params[{extra[0]}], "
            f"label {brief(first.label)})"
        )
    if missing:
        shown = ", ".join(missing[:3]) + (", ..." if len(missing) > 3 else "")
        parts.append(f"it misses {len(missing)} of the model's parameter(s) ({shown})")
    raise ValueError(
        f"fit: optimizer must be built on exactly model.parameters(); {'; '.join(parts)}"
    )


def _progress_bar(progress: object, total: int) -> Any:
    # a tqdm bar over epochs, or None; "auto" means on in a terminal or a Jupyter kernel
    if progress == "auto":
        on = _interactive()
    elif isinstance(progress, bool):
        on = progress
    else:
        raise ValueError(f"fit: progress must be True, False or 'auto', got {brief(progress)}")
    if not on:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        if progress is True:
            raise ImportError(
                "fit: progress=True needs tqdm: pip install 'micrograd_like[train]'"
            ) from None
        return None
    return tqdm(total=total, desc="fit", unit="epoch", leave=True)


def _interactive() -> bool:
    if sys.stderr is not None and sys.stderr.isatty():
        return True
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return type(shell).__name__ == "ZMQInteractiveShell"


def _scored(spec: LossSpec, targets: Iterable[Target]) -> bool:
    # accuracy by default: when the loss classifies and no target is a soft label (bce's 0.3)
    return spec.classifies and (spec.labels is None or all(t in spec.labels for t in targets))


def _metrics(metrics: Sequence[str] | None, spec: LossSpec, targets: Iterable[Target]) -> bool:
    # whether to measure accuracy: asked for, or by default (see _scored)
    if metrics is None:
        return _scored(spec, targets)
    names = [metrics] if isinstance(metrics, str) else list(metrics)
    for m in names:
        if m != "accuracy":
            raise ValueError(f"fit: unknown metric {brief(m)}; the one metric is 'accuracy'")
    if names and not spec.classifies:
        raise ValueError(f"fit: accuracy needs a classification loss; {spec.name!r} is not one")
    return bool(names)


def _split(
    model: Module,
    X: object,
    y: object,
    split: float | None,
    data: tuple[object, object] | None,
    seed: int | None,
) -> tuple[list[list[float]], list[Target], Data | None]:
    # training rows and targets, and the validation pair if any
    rows, targets = _data(model, X, y, "fit")
    if split is not None and data is not None:
        raise ValueError("fit: give validation_split or validation_data, not both")
    if data is not None:
        if not isinstance(data, tuple | list) or len(data) != 2:
            raise TypeError("fit: validation_data must be a pair (X_val, y_val)")
        return rows, targets, _data(model, data[0], data[1], "fit validation_data")
    if split is None:
        return rows, targets, None
    fraction = real(
        split, "fit: validation_split", above=0.0, below=1.0, or_none=True, wrong_type=ValueError
    )
    if len(rows) < 2:
        raise ValueError(f"fit: validation_split needs at least 2 examples, got {len(rows)}")
    Xt, Xv, yt, yv = train_test_split(rows, targets, test_fraction=fraction, seed=seed)
    return Xt, yt, (Xv, yv)


def _check_against_loss(
    model: Module,
    spec: LossSpec,
    rows: list[list[float]],
    targets: list[Target],
    what: str,
    scored: bool,
) -> None:
    # one evaluation pass (no graph, nothing changes) finds labels or output widths the loss
    # (or accuracy) cannot take, with the loss's own message naming the example
    try:
        _evaluate(model, rows, targets, spec, 0.0, 0.0, scored)
    except _WidthError as err:
        raise ValueError(f"fit: the model's module widths do not chain: {err}") from None
    except (TypeError, ValueError) as err:
        hint = ""
        if spec.name == "hinge" and all(t in (0, 1) for t in targets):
            hint = "; for 0/1 labels use micrograd_like.data.signed_labels(y)"
        wants = f" ({spec.wants})" if spec.wants else ""
        raise type(err)(
            f"fit: the {what} data does not suit loss {spec.name!r}{wants}: {err}{hint}"
        ) from None


def _summary(history: History) -> str:
    # "loss 0.1234, accuracy 0.950, val_loss ...": the latest epoch, for progress displays
    return ", ".join(f"{k} {v[-1]:.4g}" for k, v in history.as_dict().items() if k != "lr")


def _figure(figsize: tuple[float, float]) -> Figure:
    return _figure_class()(figsize=figsize, layout="constrained")


@functools.cache
def _figure_class() -> type[Figure]:
    # a Figure outside pyplot (no global state, nothing leaks, never shown twice) that Jupyter
    # still displays, as a PNG, when a cell returns it
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(
            "plotting needs matplotlib: pip install 'micrograd_like[train]'"
        ) from None

    class NotebookFigure(Figure):
        """A matplotlib ``Figure`` that shows itself as a PNG in Jupyter."""

        def _repr_png_(self) -> bytes:
            buffer = io.BytesIO()
            self.savefig(buffer, format="png")
            return buffer.getvalue()

    return NotebookFigure


# ---------------------------------------------------------------------------- evaluation


def _outputs(out: object) -> list[Value]:
    # a model returns a list of Values (one per output); a lone Value counts as one output
    return [out] if isinstance(out, Value) else list(cast("Iterable[Value]", out))


def _objective(
    spec: LossSpec,
    outs: list[list[Value]],
    targets: list[Target],
    params: list[Value],
    l1: float,
    l2: float,
) -> Value:
    # the loss plus the penalties, added as micrograd's demo adds data_loss + reg_loss
    value = spec.fn(outs, targets)
    if l1:
        value = value + l1_penalty(params, l1)
    if l2:
        value = value + l2_penalty(params, l2)
    return value


def _accuracy(spec: LossSpec, outs: list[list[Value]], targets: list[Target]) -> float:
    return accuracy(outs, targets, labels=spec.labels, threshold=spec.threshold)


def _evaluate(
    model: Module,
    rows: list[list[float]],
    targets: list[Target],
    spec: LossSpec,
    l1: float,
    l2: float,
    scored: bool,
) -> tuple[float, float | None]:
    # loss, and accuracy if scored, with no graph, in eval mode
    with _evaluating(model):
        outs = [_outputs(model(x)) for x in rows]
        value = _objective(spec, outs, targets, model.parameters(), l1, l2).data
        acc = _accuracy(spec, outs, targets) if scored else None
    return value, acc


@contextmanager
def _evaluating(model: Module) -> Iterator[None]:
    # no_grad and eval mode (dropout off) inside; the model's mode is put back afterwards
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            yield
    finally:
        model.train(was_training)


def evaluate(
    model: Module,
    X: object,
    y: object,
    *,
    loss: str | LossFn,
    l1: float = 0.0,
    l2: float = 0.0,
) -> dict[str, float]:
    """Return ``{"loss": ..., "accuracy": ...}`` of ``model`` on ``X, y`` (no graph, eval mode).

    ``loss`` is a name from :data:`LOSSES` or a function ``loss(outputs, targets)``; the L1/L2
    penalties are added as in :func:`fit`. ``accuracy`` (from
    :func:`~micrograd_like.losses.accuracy`) is present when the loss classifies (every named
    loss but ``mse``) and no target is a soft label. ``X`` and ``y`` may be lists or numpy
    arrays.
    """
    net = _model(model, "evaluate")
    spec = _loss_spec(loss, "evaluate")
    l1, l2 = real(l1, "evaluate: l1", at_least=0.0), real(l2, "evaluate: l2", at_least=0.0)
    rows, targets = _data(net, X, y, "evaluate")
    value, acc = _evaluate(net, rows, targets, spec, l1, l2, _scored(spec, targets))
    return {"loss": value} if acc is None else {"loss": value, "accuracy": acc}


# ---------------------------------------------------------------------------- fit


@dataclass(frozen=True)
class _Step:
    """One training step on a batch: what ``fit`` repeats."""

    model: Module
    optimizer: Optimizer
    spec: LossSpec
    params: list[Value]
    l1: float
    l2: float
    clip_grad: float | None
    count_hits: bool

    def __call__(self, xs: list[list[float]], ys: list[Target]) -> tuple[float, int]:
        """Forward, loss, zero_grad, backward, clip, update; return the loss and hits."""
        # The whole step, graph included, lives and dies inside the pause: a graph still alive
        # when collection resumes would be walked once by the collector, for nothing.
        with gc_paused():
            outs = [_outputs(self.model(x)) for x in xs]
            objective = _objective(self.spec, outs, ys, self.params, self.l1, self.l2)
            self.model.zero_grad()
            objective.backward()
            if self.clip_grad is not None:
                clip_grad_norm(self.params, self.clip_grad)
            self.optimizer.step()
            loss = objective.data
            # accuracy is hits / len(ys) to the last bit, so rounding gives back the exact count
            hits = round(_accuracy(self.spec, outs, ys) * len(ys)) if self.count_hits else 0
            del outs, objective
        return loss, hits


def fit(
    model: Module,
    X: object,
    y: object,
    *,
    loss: str | LossFn,
    optimizer: Optimizer | str = "sgd",
    lr: LR | None = None,
    epochs: int = 100,
    batch_size: int | None = None,
    shuffle: bool = True,
    seed: int | None = None,
    validation_split: float | None = None,
    validation_data: tuple[object, object] | None = None,
    patience: int | None = None,
    l1: float = 0.0,
    l2: float = 0.0,
    clip_grad: float | None = None,
    metrics: Sequence[str] | None = None,
    progress: Progress = "auto",
    callbacks: Sequence[Callback] = (),
) -> History:
    """Train ``model`` on ``X, y`` for ``epochs`` passes over the data; return the History.

    * ``loss``: a name from :data:`LOSSES` (``"hinge"`` wants labels ±1, the cross-entropies
      0/1 or class ids, see :func:`~micrograd_like.data.signed_labels`) or a function
      ``loss(outputs, targets) -> Value``; ``l1``/``l2`` add ``alpha * sum|p|`` /
      ``alpha * sum p^2`` over the model's parameters.
    * ``optimizer``: an :class:`~micrograd_like.optim.Optimizer` built on
      ``model.parameters()`` (its ``lr`` may be a schedule such as ``LinearDecay``), or a name
      from :data:`OPTIMIZERS` with ``lr`` (a number or schedule; SGD's default is 0.1).
    * ``batch_size``: ``None`` for full batch (one step per epoch), ``k`` for mini-batches of
      ``k`` (the last may be smaller), ``1`` for online learning; ``shuffle`` reorders the
      examples every epoch with a ``random.Random(seed)``, which also makes the split of
      ``validation_split`` (the fraction held out for validation).
    * ``validation_data=(X_val, y_val)`` instead of ``validation_split``; with either,
      ``patience=p`` stops after ``p`` epochs without a lower ``val_loss`` and loads the
      best epoch's weights back (``model.state_dict()`` snapshots).
    * ``clip_grad``: clip the gradients' overall L2 norm to this before each step.
    * ``metrics``: ``("accuracy",)`` by default when the loss classifies and no target is a
      soft label (see :func:`~micrograd_like.losses.accuracy`), ``()`` for none.
    * ``progress``: a tqdm bar, ``"auto"`` (on in a terminal or notebook), ``True`` or ``False``.
    * ``callbacks``: each is called as ``callback(history)`` after every epoch; returning
      ``True`` stops training.

    Every argument and the data are checked first (widths, label kinds for the loss through
    one evaluation pass, learning rate, counts); an error leaves the model unchanged.
    """
    net = _model(model, "fit")
    spec = _loss_spec(loss, "fit")
    l1, l2 = real(l1, "fit: l1", at_least=0.0), real(l2, "fit: l2", at_least=0.0)
    epochs = count(epochs, "fit: epochs")
    size = None if batch_size is None else count(batch_size, "fit: batch_size", or_none=True)
    if patience is not None:
        patience = count(patience, "fit: patience", or_none=True)
    flag(shuffle, "fit: shuffle")
    if clip_grad is not None:
        clip_grad = real(clip_grad, "fit: clip_grad", above=0.0, or_none=True)
    if isinstance(callbacks, (str, bytes)) or not isinstance(callbacks, Iterable):
        raise TypeError(
            "fit: callbacks must be a list of functions (() for none), "
            f"got {type(callbacks).__name__} {brief(callbacks, 40)}"
        )
    callbacks = list(callbacks)
    for i, cb in enumerate(callbacks):
        if not callable(cb):
            raise TypeError(f"fit: callbacks[{i}] is not callable: {brief(cb, 40)}")
    rows, targets, val = _split(net, X, y, validation_split, validation_data, seed)
    track_accuracy = _metrics(metrics, spec, targets + (val[1] if val is not None else []))
    if patience is not None and val is None:
        raise ValueError("fit: patience (early stopping) needs validation_split or validation_data")
    opt = _optimizer(optimizer, lr, net)
    _check_against_loss(net, spec, rows, targets, "training", track_accuracy)
    if val is not None:
        _check_against_loss(net, spec, val[0], val[1], "validation", track_accuracy)

    history = History("val_loss" if val is not None else "loss")
    bar = _progress_bar(progress, epochs)
    step = _Step(net, opt, spec, net.parameters(), l1, l2, clip_grad, track_accuracy)
    n = len(rows)
    size = n if size is None else min(size, n)
    order = list(range(n))
    rng = random.Random(seed)
    best_state: dict[str, float] | None = None
    waited = 0
    start = time.perf_counter()
    net.train()
    try:
        for _ in range(epochs):
            if shuffle and size < n:
                rng.shuffle(order)
            loss_sum = 0.0
            hits = 0
            lr_now = opt.lr
            for i in range(0, n, size):
                batch = order[i : i + size]
                value, right = step([rows[j] for j in batch], [targets[j] for j in batch])
                # weight len/n is exactly 1.0 for a full batch: its loss is recorded as is
                loss_sum += value * (len(batch) / n)
                hits += right
            history.steps += -(-n // size)
            history._record(loss_sum, hits / n if track_accuracy else None, lr_now)
            if val is not None:
                v_loss, v_acc = _evaluate(net, val[0], val[1], spec, l1, l2, track_accuracy)
                history.val_loss.append(v_loss)
                if v_acc is not None:
                    history.val_accuracy.append(v_acc)
            if history._improved():
                waited = 0
                if patience is not None:
                    best_state = net.state_dict()
            else:
                waited += 1
            history.seconds = time.perf_counter() - start
            if bar is not None:
                bar.set_postfix_str(_summary(history), refresh=False)
                bar.update(1)
            if patience is not None and waited >= patience:
                history.stop_reason = f"val_loss did not improve for {patience} epochs"
                break
            if any([cb(history) is True for cb in callbacks]):  # every callback runs
                history.stop_reason = "a callback asked to stop"
                break
    finally:
        if bar is not None:
            bar.close()
    if best_state is not None:
        net.load_state_dict(best_state)
        history.restored_epoch = history.best_epoch
    history.seconds = time.perf_counter() - start
    return history


# ---------------------------------------------------------------------------- plots


def decision_boundary(
    model: Module,
    X: object,
    y: object,
    *,
    threshold: float = 0.0,
    resolution: int = 80,
    margin: float = 0.5,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Plot the class a 2-input model predicts over the plane, with the labelled points on top.

    The model runs on a ``resolution`` x ``resolution`` grid (2 to 2000) covering the points plus
    ``margin`` on every side, with no graph and in eval mode. A one-output model predicts the
    higher of two labels where its score is above ``threshold`` (0 for a hinge or logit
    score, 0.5 for a sigmoid probability), the lower elsewhere; a k-output model predicts
    class id ``c`` where output ``c`` is the largest. Draws into ``ax`` if given; returns the
    Figure.
    """
    net = _model(model, "decision_boundary")
    rows, targets = _data(net, X, y, "decision_boundary")
    if len(rows[0]) != 2:
        raise ValueError(
            f"decision_boundary: needs 2-D points (2 numbers per row), got {len(rows[0])}"
        )
    cut = real(threshold, "decision_boundary: threshold")
    resolution = count(
        resolution, "decision_boundary: resolution", least=2, at_most=2000, wrong_type=ValueError
    )
    pad = real(margin, "decision_boundary: margin", at_least=0.0)
    (x0, x1), (y0, y1) = ((min(c) - pad, max(c) + pad) for c in zip(*rows, strict=True))
    gx = [x0 + (x1 - x0) * i / (resolution - 1) for i in range(resolution)]
    gy = [y0 + (y1 - y0) * j / (resolution - 1) for j in range(resolution)]
    with _evaluating(net):
        width = len(_outputs(net(rows[0])))
        grid = [[[v.data for v in _outputs(net([a, b]))] for a in gx] for b in gy]
    if any(isinstance(t, list) for t in targets):
        raise ValueError("decision_boundary: y must hold one label per point, not rows")
    labels: list[Any] = sorted(set(targets)) if width == 1 else list(range(width))
    if width == 1 and len(labels) > 2:
        raise ValueError(
            f"decision_boundary: a one-output model separates 2 labels, y has {len(labels)}"
        )
    for i, t in enumerate(targets):
        if t not in labels:
            raise ValueError(
                f"decision_boundary: y[{i}] is {t!r}; a {width}-output model takes labels {labels}"
            )
    fig = cast("Figure", ax.figure) if ax is not None else _figure((5.0, 4.2))
    axes = ax if ax is not None else fig.add_subplot()
    for k, label in enumerate(labels):
        # class k's region is where its margin over the other classes is positive; contouring
        # that margin at 0 draws smooth boundaries at any resolution
        lead = [[_lead(out, k, cut) for out in line] for line in grid]
        top = max(max(map(max, lead)), 0.0) + 1.0
        axes.contourf(gx, gy, lead, levels=[0.0, top], colors=[f"C{k % 10}"], alpha=0.25)
        pts = [r for r, t in zip(rows, targets, strict=True) if t == label]
        if pts:
            xs, ys = zip(*pts, strict=True)
            axes.scatter(
                xs, ys, s=18, color=f"C{k % 10}", edgecolors="k", linewidths=0.4, label=f"{label}"
            )
    axes.set_xlim(x0, x1)
    axes.set_ylim(y0, y1)
    axes.legend(title="label", loc="best", fontsize="small")
    if title is not None:
        axes.set_title(title)
    return fig


def _lead(out: list[float], k: int, cut: float) -> float:
    # how far class k is ahead: one output s gives s - cut for the upper class (k = 1) and
    # cut - s for the lower; k outputs give z_k - max of the others
    if len(out) == 1:
        return out[0] - cut if k else cut - out[0]
    return out[k] - max(z for j, z in enumerate(out) if j != k)
