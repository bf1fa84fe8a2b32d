"""The command line: ``python -m micrograd_like demo`` trains a small MLP and writes its pictures.

Subcommands are the :class:`Command` entries of :data:`COMMANDS`; ``demo`` is the first. Errors
a user can fix (a folder that cannot be written, a missing optional package or Graphviz
program, a bad option) print one clear line and give a non-zero exit status, not a traceback.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from micrograd_like._validate import brief, count, real
from micrograd_like.data import make_blobs, make_circles, make_moons, make_spirals, make_xor
from micrograd_like.engine import Value, no_grad, topological_order
from micrograd_like.functional import grad
from micrograd_like.nn import MLP
from micrograd_like.optim import SGD, LinearDecay
from micrograd_like.train import History, decision_boundary, evaluate, fit

__all__ = ["main"]

T = TypeVar("T")
PROG = "micrograd_like"
BINARY_SETS: dict[str, Callable[..., Any]] = {
    "moons": make_moons,
    "circles": make_circles,
    "xor": make_xor,
}
MULTICLASS_SETS = ("spirals", "blobs")  # 3 classes each
DEMO_LOSSES = ("hinge", "bce_with_logits", "cross_entropy")
FILES = {"boundary": "decision_boundary.png", "loss": "loss.png", "neuron": "neuron.svg"}
# every numeric option's range: wide enough for any demo, narrow enough that no value can
# exhaust memory or overflow a float (a scalar engine trains 10,000 points slowly already)
MAX_POINTS = 10_000
MAX_STEPS = 100_000
MAX_WIDTH = 512
MAX_LAYERS = 10
MAX_NOISE = 10.0
MAX_LR = 100.0
MAX_ALPHA = 10.0
MAX_SEED = 2**63 - 1


class CommandError(Exception):
    """A problem the user can fix; ``main`` prints its message and exits with status 1."""


# ---------------------------------------------------------------------------- demo


def _demo_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--dataset",
        choices=[*BINARY_SETS, *MULTICLASS_SETS],
        default="moons",
        help="toy dataset: 2-class moons, circles or xor; 3-class spirals or blobs",
    )
    p.add_argument(
        "--points",
        type=_points,
        default=100,
        help=f"number of data points, 1 to {MAX_POINTS}",
    )
    p.add_argument(
        "--noise",
        type=_noise,
        default=0.1,
        help="std of the gaussian noise on each coordinate (for blobs: each cluster's spread),"
        f" 0 to {MAX_NOISE:g}",
    )
    p.add_argument(
        "--sizes",
        type=_sizes,
        default="16,16",
        metavar="W,W,...",
        help=f"hidden layer widths (1 to {MAX_WIDTH} each, at most {MAX_LAYERS} layers); "
        "the output layer is added to suit the loss",
    )
    p.add_argument(
        "--steps", type=_steps, default=100, help=f"full-batch training steps, 1 to {MAX_STEPS}"
    )
    p.add_argument(
        "--lr",
        type=_lr,
        default=1.0,
        help="learning rate of the first step; it decays linearly to a tenth of that "
        f"(micrograd's 1.0 - 0.9 k / steps); above 0, at most {MAX_LR:g}",
    )
    p.add_argument(
        "--loss",
        choices=["auto", *DEMO_LOSSES],
        default="auto",
        help="loss; auto is hinge for 2 classes, cross_entropy for more",
    )
    p.add_argument(
        "--alpha",
        type=_alpha,
        default=1e-4,
        help=f"L2 penalty alpha * sum(p^2), 0 to {MAX_ALPHA:g}",
    )
    p.add_argument(
        "--seed",
        type=_seed,
        default=1337,
        help="seed for the data and the weights, 0 to 2**63 - 1",
    )
    p.add_argument(
        "--out", type=Path, default=Path("out"), help="folder for the pictures (made if missing)"
    )
    p.add_argument("-q", "--quiet", action="store_true", help="print only the result")


def _run_demo(args: argparse.Namespace) -> int:
    out: Path = args.out
    _writable(out)
    _require("matplotlib", "the plots")
    say = (lambda _: None) if args.quiet else print
    binary = args.dataset in BINARY_SETS
    loss = args.loss if args.loss != "auto" else "hinge" if binary else "cross_entropy"
    X, y, classes = _dataset(args, loss)
    width = classes if loss == "cross_entropy" else 1
    model = MLP(2, [*args.sizes, width], rng=args.seed)
    say(
        f"training MLP(2, {[*args.sizes, width]}) ({model.num_parameters()} parameters) on "
        f"{len(X)} {args.dataset} points: {loss} loss + {args.alpha:g} * L2, "
        f"SGD lr {args.lr:g} -> {args.lr / 10:g}, {args.steps} full-batch steps"
    )
    try:
        history = fit(
            model,
            X,
            y,
            loss=loss,
            optimizer=SGD(model.parameters(), lr=LinearDecay(args.lr, args.lr / 10, args.steps)),
            epochs=args.steps,
            l2=args.alpha,
            progress=False,
            callbacks=[] if args.quiet else [_reporter(args.steps)],
        )
    except ValueError as err:  # a step that would overflow: the options let training diverge
        raise CommandError(f"training diverged ({err}); try a smaller --lr or --alpha") from None
    final = evaluate(model, X, y, loss=loss, l2=args.alpha)
    right = round(final["accuracy"] * len(X))
    print(
        f"final accuracy {final['accuracy']:.1%} ({right}/{len(X)} points), "
        f"loss {final['loss']:.4f}, trained in {history.seconds:.2f} s"
    )
    title = f"{args.dataset}: accuracy {final['accuracy']:.0%} after {args.steps} steps"
    _save_figure(decision_boundary(model, X, y, title=title), out / FILES["boundary"])
    _save_figure(history.plot(), out / FILES["loss"])
    written = [out / FILES["boundary"], out / FILES["loss"]]
    failed = _draw_neuron(model, X, out / FILES["neuron"])
    if failed is None:
        written.append(out / FILES["neuron"])
    say("wrote " + ", ".join(str(p) for p in written))
    if failed is not None:
        raise CommandError(failed)
    return 0


def _dataset(args: argparse.Namespace, loss: str) -> tuple[list[list[float]], list[int], int]:
    # the points, their labels in the loss's convention, and the number of classes
    if args.dataset in BINARY_SETS:
        X, y = BINARY_SETS[args.dataset](
            args.points, noise=args.noise, seed=args.seed, signed=loss == "hinge"
        )
        return X, y, 2
    if loss != "cross_entropy":
        raise CommandError(
            f"--dataset {args.dataset} has 3 classes; it needs --loss cross_entropy, not {loss}"
        )
    if args.points < 3:
        raise CommandError(f"--dataset {args.dataset} needs at least 3 points, got {args.points}")
    if args.dataset == "spirals":
        X, y = make_spirals(args.points, classes=3, noise=args.noise, seed=args.seed)
    else:
        X, y = make_blobs(args.points, centers=3, std=args.noise, box=2.0, seed=args.seed)
    return X, y, 3


def _reporter(steps: int) -> Callable[[History], None]:
    # one line per tenth of the run (and the first and last step)
    every = max(1, steps // 10)

    def report(h: History) -> None:
        k = h.epochs
        if k == 1 or k % every == 0 or k == steps:
            acc = f", accuracy {h.accuracy[-1]:.3f}" if h.accuracy else ""
            print(f"step {k:>{len(str(steps))}}/{steps}: loss {h.loss[-1]:.4f}{acc}", flush=True)

    return report


def _draw_neuron(model: MLP, X: list[list[float]], path: Path) -> str | None:
    """Draw the first hidden neuron with its gradients on a point; return None once written.

    The point is the first one that makes the neuron fire (its ReLU passes a gradient), else
    the first point. The gradients come from :func:`~micrograd_like.functional.grad`, so no
    ``.grad`` changes. Returns a message instead of raising when Graphviz (the package or its
    ``dot`` program) is missing.
    """
    neuron = model.layers[0].neurons[0]
    with no_grad():
        point = next((x for x in X if neuron(x).data > 0.0), X[0])
    xs = [Value(c, label=f"x{i + 1}") for i, c in enumerate(point)]
    out = neuron(xs)
    out.label = "out"
    nodes = topological_order(out)
    grads = dict(zip(nodes, grad(out, nodes), strict=True))
    try:
        import graphviz

        from micrograd_like.drawing import draw_dot
    except ImportError as err:
        return f"{path.name} not written: {err}"
    diagram = draw_dot(out, grads=grads, parameters=neuron.parameters())
    try:
        svg = diagram.pipe(format="svg")
    except graphviz.ExecutableNotFound:
        return (
            f"{path.name} not written: Graphviz's `dot` program was not found on PATH "
            "(install it: `apt-get install graphviz`, `brew install graphviz`, or "
            "`make system-deps`)"
        )
    _write(path, svg)
    return None


# ---------------------------------------------------------------------------- helpers


def _writable(folder: Path) -> None:
    # make the folder and prove a file can be created in it, before any work is done
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise CommandError(
            f"cannot write to output folder {str(folder)!r}: {err.strerror or err}"
        ) from None


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as err:
        raise CommandError(f"cannot write {str(path)!r}: {err.strerror or err}") from None


def _save_figure(fig: Any, path: Path) -> None:
    try:
        fig.savefig(path, dpi=120)
    except OSError as err:
        raise CommandError(f"cannot write {str(path)!r}: {err.strerror or err}") from None


def _require(module: str, what: str) -> None:
    try:
        __import__(module)
    except ImportError:
        raise CommandError(
            f"{what} need the Python package {module!r}: pip install 'micrograd_like[train]'"
        ) from None


def _option(
    name: str, parse: Callable[[str], T], check: Callable[[T, str], T]
) -> Callable[[str], T]:
    """An argparse ``type``: ``parse`` the text, then ``check`` the number with its bounds.

    A text that does not parse gets argparse's "invalid <name> value" message; a number out
    of range gets the check's own message.
    """

    def convert(text: str) -> T:
        try:
            x = parse(text)
        except ValueError:  # argparse's own words, with a long text shortened
            raise argparse.ArgumentTypeError(f"invalid {name} value: {brief(text)}") from None
        try:
            return check(x, "")
        except (TypeError, ValueError) as err:
            raise argparse.ArgumentTypeError(str(err).strip()) from None

    convert.__name__ = name
    return convert


def _int_in(low: int, high: int) -> Callable[[int, str], int]:
    # a count check with an upper bound as well
    def check(x: int, what: str) -> int:
        n = count(x, what, least=low)
        if n > high:
            raise ValueError(f"{what} must be at most {high}, got {brief(n)}")
        return n

    return check


_points = _option("positive int", int, _int_in(1, MAX_POINTS))
_steps = _option("positive int", int, _int_in(1, MAX_STEPS))
_width = _option("positive int", int, _int_in(1, MAX_WIDTH))
_seed = _option("int", int, _int_in(0, MAX_SEED))
_lr = _option("positive number", float, partial(real, above=0.0, at_most=MAX_LR))
_noise = _option("non-negative number", float, partial(real, at_least=0.0, at_most=MAX_NOISE))
_alpha = _option("non-negative number", float, partial(real, at_least=0.0, at_most=MAX_ALPHA))


def _sizes(text: str) -> list[int]:
    parts = text.split(",")
    try:
        sizes = [_width(part) for part in parts]
    except (ValueError, argparse.ArgumentTypeError):
        raise argparse.ArgumentTypeError(
            f"expected widths from 1 to {MAX_WIDTH} separated by commas, like 16,16; "
            f"got {brief(text)}"
        ) from None
    if len(sizes) > MAX_LAYERS:
        raise argparse.ArgumentTypeError(f"at most {MAX_LAYERS} hidden layers, got {len(sizes)}")
    return sizes


# ---------------------------------------------------------------------------- entry point


@dataclass(frozen=True)
class Command:
    """A subcommand: its name, one-line help, longer description, options and runner."""

    name: str
    summary: str
    description: str
    arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


COMMANDS = [
    Command(
        "demo",
        "train an MLP on a toy dataset and write pictures",
        "Train MLP(2, [16, 16, 1]) on 100 two-moons points with micrograd's recipe (hinge "
        "loss + L2, full-batch SGD with a linearly decaying learning rate, 100 steps), print "
        "the progress and the final accuracy, and write to the output folder: "
        f"{FILES['boundary']} (the decision boundary), {FILES['loss']} (the loss curve) and "
        f"{FILES['neuron']} (the graph of one neuron; needs Graphviz's `dot`).",
        _demo_arguments,
        _run_demo,
    ),
]


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with one subparser per command."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="micrograd_like: a scalar autograd engine you can watch work.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        p = sub.add_parser(
            command.name,
            help=command.summary,
            description=command.description,
            formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        )
        command.arguments(p)
        p.set_defaults(run=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line (``argv`` defaults to ``sys.argv[1:]``); return the exit status."""
    args = build_parser().parse_args(argv)
    try:
        status: int = args.run(args)
    except CommandError as err:
        print(f"{PROG} {args.command}: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG} {args.command}: interrupted", file=sys.stderr)
        return 130
    return status


if __name__ == "__main__":
    sys.exit(main())
