"""Neural-network modules: Module, Neuron, Layer, MLP, Dropout and Sequential.

A :class:`Module` finds its parameters by looking at its own attributes in definition order:
a ``Value`` attribute is a parameter, a ``Module`` attribute is a child, and a list or tuple
made only of Values and Modules contributes each item under its index. That one rule names
every parameter (``layers.0.neurons.3.w.1``, ``layers.0.neurons.3.b``), orders
``parameters()``, and drives ``state_dict``, ``train``/``eval`` and ``repr``; no class writes
naming code of its own. Each parameter's ``.label`` is kept equal to its name, so graph
diagrams show where a weight lives.

Calling a module records a graph (one ``dot`` node per neuron for ``sum_i w_i x_i + b``, one
node for its activation) unless gradients are off: under :func:`~micrograd_like.engine.no_grad`
the forward pass runs on plain floats with the same op-table arithmetic (bit-identical results)
and only the outputs become ``Value`` leaves.

Randomness: ``rng`` is a ``random.Random``, an ``int`` seed, or ``None`` for Python's global
:mod:`random` generator, as micrograd uses it: after ``random.seed(1337)``,
``MLP(2, [16, 16, 1])`` draws micrograd's very weights, in micrograd's order. Pass ``rng=`` to
keep a model's weights independent of everything else that draws from the global generator.

Calling a module returns a list of Values, except that a neuron, layer, MLP or Sequential with
one output returns that ``Value`` itself, as micrograd's ``Layer`` does (so ``model(x)`` is a
score); :meth:`Module.outputs` always gives the list and :meth:`MLP.scalar` always the Value.
"""

from __future__ import annotations

import itertools
import math
import numbers
import random
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal

from micrograd_like._validate import count, flag, real
from micrograd_like.engine import (
    Value,
    data_of,
    gc_paused,
    grad_enabled,
    neuron,
    neuron_value,
)
from micrograd_like.ops import Op, get_op

__all__ = ["MLP", "Dropout", "Layer", "Module", "Neuron", "Sequential", "activation_op", "make_rng"]

Activation = str | Op
Init = Literal["uniform", "xavier", "he"]
Rng = random.Random | int | None
Input = Sequence[Value | float] | Any  # also a numpy 1-D array

INITS = ("uniform", "xavier", "he")
# defaults of the parametric activations, the same as Value.leaky_relu() and Value.elu()
_DEFAULT_PARAMS: dict[str, tuple[float, ...]] = {"leaky_relu": (0.01,), "elu": (1.0,)}
_DOMAIN_ERRORS = (ValueError, ZeroDivisionError, OverflowError)


def make_rng(rng: Rng) -> random.Random:
    """Return ``rng`` as a ``random.Random``: itself, seeded from an int, or the global one.

    ``None`` gives the generator behind the :mod:`random` module's functions (what
    ``random.seed`` seeds and ``random.uniform`` draws from), so micrograd-style code that calls
    ``random.seed(1337)`` first gets micrograd's weights; drawing from it advances it.
    """
    if isinstance(rng, random.Random):
        return rng
    if rng is None:
        return random._inst  # the module's functions are its bound methods
    if isinstance(rng, bool) or not isinstance(rng, numbers.Integral):
        raise TypeError(
            "rng must be a random.Random, an int seed or None, "
            f"got {type(rng).__name__} {rng!r:.60}"
        )
    return random.Random(int(rng))


def activation_op(activation: Activation) -> Op | None:
    """Resolve an activation to its unary op (``None`` for ``"linear"``).

    A name is any unary op of the table that needs no parameter (``relu``, ``tanh``,
    ``sigmoid``, ``softplus``, ``silu``, ``abs``, ``sin``, ...; a ``define_op`` primitive too),
    plus ``leaky_relu`` (slope 0.01) and ``elu`` (alpha 1.0) with ``Value``'s defaults. An
    ``Op`` of arity 1 is used as given, so ``get_op("leaky_relu").bind(0.2)`` picks the slope.
    """
    if isinstance(activation, str):
        if activation == "linear":
            return None
        try:
            op = get_op(activation)
        except KeyError as err:
            raise ValueError(f"unknown activation {activation!r}: {err.args[0]}") from None
        if activation in _DEFAULT_PARAMS:
            op = op.bind(*_DEFAULT_PARAMS[activation])
    elif isinstance(activation, Op):
        op = activation
    else:
        raise TypeError(
            "activation must be a name or an Op, "
            f"got {type(activation).__name__} {activation!r:.60}"
        )
    if op.arity != 1:
        raise ValueError(
            f"activation {op.describe()!r} must be a unary op, it has arity {op.arity}"
        )
    try:
        if op.forward is None:
            raise TypeError("no forward function")
        op.forward(0.5, *op.params)
    except TypeError:
        raise ValueError(
            f"activation {op.describe()!r} needs parameters: pass get_op({op.name!r}).bind(...)"
        ) from None
    except _DOMAIN_ERRORS:
        pass  # outside its domain at 0.5 (log of a shifted input, say): still a usable op
    return op


def _nonlin(activation: Activation, nonlin: bool | None, where: str) -> Activation:
    # micrograd's switch: nonlin=True is a ReLU neuron, nonlin=False a linear one
    if nonlin is None:
        return activation
    flag(nonlin, f"{where}: nonlin")
    if activation != "relu":
        raise TypeError(
            f"{where}: give activation={activation!r} or nonlin={nonlin!r}, not both "
            "(nonlin=True is activation='relu', nonlin=False is activation='linear')"
        )
    return "relu" if nonlin else "linear"


def _count(x: object, what: str) -> int:
    # layer widths: a wrong type is a ValueError too, as it always was here
    return count(x, what, wrong_type=ValueError)


def _inputs(x: Input, nin: int | None, where: str) -> list[Value]:
    # one validation route for every module call: a flat sequence (or 1-D array) of numbers
    # or Values, of the module's input width; a lone Value (what a width-1 layer returns) is
    # one input, so a width-1 layer feeds the next one
    if isinstance(x, Value):
        if nin not in (None, 1):
            raise ValueError(f"{where}: expected {nin} inputs, got a single Value")
        x = [x]
    if isinstance(x, (str, bytes)) or not isinstance(x, Iterable):
        raise TypeError(
            f"{where}: expected a sequence of inputs (list, tuple or 1-D array), "
            f"got {type(x).__name__} {x!r:.60}"
        )
    ndim = getattr(x, "ndim", 1)
    if ndim != 1:
        raise ValueError(f"{where}: expected a 1-D input, got an array with ndim={ndim}")
    xs = list(x)
    if nin is not None and len(xs) != nin:
        raise ValueError(f"{where}: expected {nin} inputs, got {len(xs)}")
    for i, v in enumerate(xs):
        if v.__class__ is not Value:
            if isinstance(v, bool) or not isinstance(v, numbers.Real):
                raise TypeError(
                    f"{where}: input {i} must be a number or a Value, "
                    f"got {type(v).__name__} {v!r:.60}"
                )
            xs[i] = Value(float(v))
    return xs


class Module:
    """Base of every network piece: parameters, names, modes, state and calling.

    Subclasses set attributes (Values, Modules, lists of them) and implement :meth:`forward`
    on a list of Values; :meth:`forward_floats` is an optional float-only fast path used under
    ``no_grad`` (the default runs :meth:`forward` on leaves). Calling ``module(x)`` validates
    ``x`` against ``nin`` (``None`` accepts any width) and returns a list of Values, or the
    Value itself when ``nout`` is 1.
    """

    training: bool = True
    nin: int | None = None
    nout: int | None = None  # the output width where the module fixes it; None: as its input

    def __setattr__(self, name: str, value: object) -> None:
        object.__setattr__(self, name, value)
        if isinstance(value, (Value, Module, list, tuple)):
            # keep every parameter's label equal to its dotted name
            for pname, p in self.named_parameters():
                p.label = pname

    # ------------------------------------------------------------------ structure

    def _members(self) -> Iterator[tuple[str, int | None, Value | Module]]:
        # (attribute, index in a list or None, member) in definition order
        for attr, obj in vars(self).items():
            if isinstance(obj, (Value, Module)):
                yield attr, None, obj
            elif (
                isinstance(obj, (list, tuple))
                and obj
                and all(isinstance(o, (Value, Module)) for o in obj)
            ):
                for i, o in enumerate(obj):
                    yield attr, i, o

    def named_parameters(self) -> list[tuple[str, Value]]:
        """Every parameter with its dotted name, in definition order; shared ones listed once."""
        out: list[tuple[str, Value]] = []
        seen: set[int] = set()
        for attr, i, obj in self._members():
            name = attr if i is None else f"{attr}.{i}"
            pairs = [(name, obj)] if isinstance(obj, Value) else obj.named_parameters()
            for pname, p in pairs:
                if id(p) not in seen:
                    seen.add(id(p))
                    out.append((pname if isinstance(obj, Value) else f"{name}.{pname}", p))
        return out

    def parameters(self) -> list[Value]:
        """Every parameter, in the stable order of :meth:`named_parameters`."""
        return [p for _, p in self.named_parameters()]

    def num_parameters(self) -> int:
        """The number of scalar parameters (each ``Value`` counts one)."""
        return len(self.named_parameters())

    def mean_abs_grad(self) -> float:
        """The mean of ``|p.grad|`` over this module's parameters: how strongly it is learning.

        Comparing it across the layers of a network after a ``backward()`` shows vanishing or
        exploding gradients (``[layer.mean_abs_grad() for layer in model.layers]``).
        """
        ps = self.parameters()
        if not ps:
            raise ValueError(f"mean_abs_grad: {type(self).__name__} has no parameters")
        return math.fsum(abs(p.grad or 0.0) for p in ps) / len(ps)

    def modules(self) -> list[Module]:
        """This module and every module below it, parents before children, each once."""
        out: list[Module] = [self]
        seen = {id(self)}
        for _, _, obj in self._members():
            if isinstance(obj, Module):
                for m in obj.modules():
                    if id(m) not in seen:
                        seen.add(id(m))
                        out.append(m)
        return out

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to 0.0 (gradients accumulate across ``backward``)."""
        for p in self.parameters():
            p.grad = 0.0

    def train(self, mode: bool = True) -> Module:
        """Set training mode (``Dropout`` active) on this module and all below; return self."""
        flag(mode, "train: mode")
        for m in self.modules():
            m.training = mode
        return self

    def eval(self) -> Module:
        """Set evaluation mode (``Dropout`` is the identity) on this module and all below."""
        return self.train(False)

    # ------------------------------------------------------------------ state

    def state_dict(self) -> dict[str, float]:
        """The parameters as plain JSON-safe data: ``{dotted name: float}`` in stable order."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, object]) -> None:
        """Set every parameter from ``state`` (as made by :meth:`state_dict`, e.g. via JSON).

        The whole of ``state`` is checked first: it must name exactly this module's parameters
        (missing and unexpected keys are both listed) with finite real numbers. On any error
        nothing is changed.
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"load_state_dict: expected a dict, got {type(state).__name__}")
        named = self.named_parameters()
        names = [n for n, _ in named]
        missing = [n for n in names if n not in state]
        known = set(names)
        unexpected = [repr(k) for k in state if k not in known]
        if missing or unexpected:
            parts = []
            if missing:
                parts.append(f"missing {len(missing)} key(s): {', '.join(missing[:5])}")
            if unexpected:
                parts.append(f"unexpected {len(unexpected)} key(s): {', '.join(unexpected[:5])}")
            more = " (and more)" if max(len(missing), len(unexpected)) > 5 else ""
            raise ValueError(
                f"load_state_dict: {type(self).__name__} has {len(names)} parameters; "
                f"{'; '.join(parts)}{more}"
            )
        new = [real(state[name], f"load_state_dict: {name!r}") for name in names]
        for (_, p), f in zip(named, new, strict=True):
            p.data = f

    # ------------------------------------------------------------------ calling

    def forward(self, xs: list[Value]) -> list[Value]:
        """Map input Values to output Values, recording the graph. Subclasses implement it."""
        raise NotImplementedError(f"{type(self).__name__} does not implement forward")

    def forward_floats(self, xs: list[float]) -> list[float]:
        """The same map on plain floats, for ``no_grad``; by default :meth:`forward` on leaves."""
        return [v.data for v in self.forward([Value(x) for x in xs])]

    def outputs(self, x: Input) -> list[Value]:
        """Apply the module to one input vector and return its outputs as a list, at any width."""
        with gc_paused():  # a graph is growing: spare the cycle collector the walk
            xs = _inputs(x, self.nin, type(self).__name__)
            if not grad_enabled():
                return [Value(f) for f in self.forward_floats([v.data for v in xs])]
            return self.forward(xs)

    def __call__(self, x: Input) -> Value | list[Value]:
        """Apply the module to one input vector: its outputs as a list of Values, or, when the
        module has one output (``nout == 1``), that Value itself, as micrograd's layers return.
        """
        outs = self.outputs(x)
        return outs[0] if self.nout == 1 else outs

    def to_torch(self) -> Any:
        """This network as a float64 ``torch.nn.Sequential`` with the same weights (see
        :func:`micrograd_like.torch_bridge.to_torch`; needs the ``torch`` extra)."""
        from micrograd_like.torch_bridge import to_torch

        return to_torch(self)

    # ------------------------------------------------------------------ display

    def extra_repr(self) -> str:
        """The module's own settings for ``repr`` (``"2 -> 16, relu"``); empty by default."""
        return ""

    def __repr__(self) -> str:
        n = self.num_parameters()
        extra = self.extra_repr()
        head = f"{type(self).__name__}({extra}{'; ' if extra else ''}{n} parameters)"
        lines = [head]
        # children, with runs of equal items of one list collapsed: "neurons.0-15: 16 x ..."
        runs: list[tuple[str, int | None, int | None, str]] = []
        for attr, i, obj in self._members():
            if not isinstance(obj, Module):
                continue
            text = repr(obj)
            if runs and i is not None and runs[-1][0] == attr and runs[-1][3] == text:
                runs[-1] = (attr, runs[-1][1], i, text)
            else:
                runs.append((attr, i, i, text))
        for attr, first, last, text in runs:
            if first is None:
                label = attr
            elif first == last:
                label = f"{attr}.{first}"
            else:
                count = (last or 0) - first + 1
                label, text = f"{attr}.{first}-{last}", f"{count} x {text}"
            body = text.replace("\n", "\n  ")
            lines.append(f"  {label}: {body}")
        return "\n".join(lines)


class Neuron(Module):
    """One neuron: ``activation(sum_i w_i x_i + b)``, recorded as one ``dot`` node and one op.

    ``init`` picks the weights (the bias starts at 0 for every scheme):

    * ``"uniform"``: ``w ~ U(-1, 1)``, as in micrograd;
    * ``"xavier"``: Glorot uniform, ``w ~ U(-a, a)`` with ``a = sqrt(6 / (fan_in + fan_out))``,
      variance ``2 / (fan_in + fan_out)``; ``fan_in = nin`` and ``fan_out`` is the width of
      the layer the neuron belongs to (``Layer`` passes it; 1 for a lone neuron);
    * ``"he"``: He/Kaiming normal, ``w ~ N(0, 2 / fan_in)`` (``rng.gauss``).

    micrograd's ``nonlin=True`` / ``nonlin=False`` is accepted for ``activation="relu"`` /
    ``"linear"``. Weights are drawn in order from ``rng`` (see :func:`make_rng`; by default the
    global generator, one ``uniform(-1, 1)`` per weight as micrograd draws them). Calling a
    neuron returns one ``Value``; in a :class:`Sequential` its :meth:`forward` gives a one-item
    list.
    """

    nout = 1

    def __init__(
        self,
        nin: int,
        activation: Activation = "relu",
        init: Init = "uniform",
        rng: Rng = None,
        *,
        fan_out: int = 1,
        nonlin: bool | None = None,
    ) -> None:
        self.nin = _count(nin, "Neuron: nin")
        fan_out = _count(fan_out, "Neuron: fan_out")
        self.act = activation_op(_nonlin(activation, nonlin, "Neuron"))
        if init not in INITS:
            raise ValueError(f"Neuron: init must be one of {', '.join(INITS)}, got {init!r}")
        self.init: Init = init
        r = make_rng(rng)
        if init == "uniform":
            ws = [r.uniform(-1.0, 1.0) for _ in range(self.nin)]
        elif init == "xavier":
            a = math.sqrt(6.0 / (self.nin + fan_out))
            ws = [r.uniform(-a, a) for _ in range(self.nin)]
        else:
            sd = math.sqrt(2.0 / self.nin)
            ws = [r.gauss(0.0, sd) for _ in range(self.nin)]
        self.w = [Value(wi) for wi in ws]
        self.b = Value(0.0)

    def _graph(self, xs: Sequence[Value], xd: list[float]) -> Value:
        # the dot node and the activation node (xd: the inputs' data, read once per layer)
        return neuron(self.w, self.b, self.act, xs, xd)

    def _float(self, xs: list[float]) -> float:
        # the arithmetic of _graph on the same floats (bit-identical values)
        return neuron_value(self.w, self.b, self.act, xs)

    def forward(self, xs: list[Value]) -> list[Value]:
        """``[activation(w · xs + b)]`` with its graph."""
        return [self._graph(xs, data_of(xs))]

    def forward_floats(self, xs: list[float]) -> list[float]:
        """``[activation(w · xs + b)]`` on plain floats (bit-identical to :meth:`forward`)."""
        return [self._float(xs)]

    def __call__(self, x: Input) -> Value:
        """Apply the neuron to one input vector and return its single output Value."""
        return self.outputs(x)[0]

    @property
    def nonlin(self) -> bool:
        """Whether the neuron has an activation (micrograd's flag; False for ``"linear"``)."""
        return self.act is not None

    def extra_repr(self) -> str:
        """Input width and activation."""
        return f"{self.nin}, {_act_name(self.act)}"


def _act_name(op: Op | None) -> str:
    return "linear" if op is None else op.describe()


class Layer(Module):
    """``nout`` independent neurons on the same ``nin`` inputs.

    Calling it returns the list of the neurons' outputs, or the lone Value of a width-1 layer,
    as in micrograd. Unlike micrograd, a width-1 layer can still feed another layer (a lone
    Value is taken as one input), so a one-neuron hidden layer works. ``nonlin`` is micrograd's
    switch (see :class:`Neuron`). All neurons draw their weights from one ``rng`` in order.
    """

    nout: int

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: Activation = "relu",
        init: Init = "uniform",
        rng: Rng = None,
        *,
        nonlin: bool | None = None,
    ) -> None:
        self.nin = _count(nin, "Layer: nin")
        self.nout = _count(nout, "Layer: nout")
        activation = _nonlin(activation, nonlin, "Layer")
        r = make_rng(rng)
        self.neurons = [
            Neuron(self.nin, activation, init, r, fan_out=self.nout) for _ in range(self.nout)
        ]

    def forward(self, xs: list[Value]) -> list[Value]:
        """Each neuron's output, in order, with their graphs."""
        xd = data_of(xs)
        return [n._graph(xs, xd) for n in self.neurons]

    def forward_floats(self, xs: list[float]) -> list[float]:
        """Each neuron's output on plain floats."""
        return [n._float(xs) for n in self.neurons]

    def extra_repr(self) -> str:
        """Widths and activation."""
        return f"{self.nin} -> {self.nout}, {_act_name(self.neurons[0].act)}"


class Dropout(Module):
    """Inverted dropout: in training mode each input is zeroed with probability ``p`` and the
    survivors are scaled by ``1 / (1 - p)``, so the expected output equals the input; in
    evaluation mode (``.eval()``) it is the identity. Draws come from ``rng`` (one
    ``rng.random()`` per input per call, in order). Has no parameters; any width.
    """

    p: float
    rng: random.Random

    def __init__(self, p: float = 0.5, rng: Rng = None) -> None:
        self.p = real(p, "Dropout: p", at_least=0.0, below=1.0, wrong_type=ValueError)
        self.rng = make_rng(rng)

    def _keep(self, n: int) -> list[bool] | None:
        # None means "pass everything through unchanged"
        if not self.training or self.p == 0.0:
            return None
        rand, p = self.rng.random, self.p
        return [rand() >= p for _ in range(n)]

    def forward(self, xs: list[Value]) -> list[Value]:
        """Dropped inputs become constant 0.0 leaves, kept ones ``x * 1/(1-p)`` nodes."""
        keep = self._keep(len(xs))
        if keep is None:
            return xs
        scale = 1.0 / (1.0 - self.p)
        return [x * scale if k else Value(0.0) for x, k in zip(xs, keep, strict=True)]

    def forward_floats(self, xs: list[float]) -> list[float]:
        """The same on plain floats (the same draws and products)."""
        keep = self._keep(len(xs))
        if keep is None:
            return xs
        scale = 1.0 / (1.0 - self.p)
        return [x * scale if k else 0.0 for x, k in zip(xs, keep, strict=True)]

    def extra_repr(self) -> str:
        """The drop probability."""
        return f"p={self.p:g}"


class Sequential(Module):
    """Modules applied one after another (``Sequential(Layer(2, 8), Dropout(0.1), Layer(8, 1))``).

    Parameters are named ``layers.<i>.…`` by position. The input width is the first module's.
    """

    def __init__(self, *modules: Module) -> None:
        if not modules:
            raise ValueError("Sequential: needs at least one module")
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(f"Sequential: item {i} must be a Module, got {type(m).__name__}")
        self.nin = modules[0].nin
        self.layers = list(modules)
        # the output width: the last module's, looking past Dropout (which keeps the width)
        for m in reversed(modules):
            if not isinstance(m, Dropout):
                self.nout = m.nout
                break

    def forward(self, xs: list[Value]) -> list[Value]:
        """Each module's forward on the previous one's outputs."""
        for m in self.layers:
            xs = m.forward(xs)
        return xs

    def forward_floats(self, xs: list[float]) -> list[float]:
        """The same chain on plain floats."""
        for m in self.layers:
            xs = m.forward_floats(xs)
        return xs


class MLP(Module):
    """A multi-layer perceptron: ``Layer(nin, nouts[0])``, ``Layer(nouts[0], nouts[1])``, ...

    Hidden layers use ``activation``, the last one ``output_activation`` (linear by default, as
    in micrograd). With ``dropout=p > 0`` one :class:`Dropout` follows every hidden layer (not
    the output); parameter names do not depend on it. Every weight is drawn from one ``rng``
    in order (layer, neuron, input), so ``MLP(2, [16, 16, 1], rng=42)`` draws exactly the
    weights of micrograd's ``Neuron`` loop under ``random.Random(42)`` with ``init="uniform"``.

    Calling the MLP returns the list of its outputs, or the Value itself for one output, as
    micrograd's ``MLP`` does (so ``model(x)`` is a score); :meth:`outputs` always returns the
    list and :meth:`scalar` the single Value of a one-output network. Without ``rng`` the
    weights come from the global generator, so ``random.seed(1337)`` then
    ``MLP(2, [16, 16, 1])`` gives micrograd's demo model weight for weight.
    """

    nout: int

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: Activation = "relu",
        output_activation: Activation = "linear",
        init: Init = "uniform",
        rng: Rng = None,
        dropout: float = 0.0,
    ) -> None:
        self.nin = _count(nin, "MLP: nin")
        if isinstance(nouts, (str, bytes)) or not isinstance(nouts, Sequence) or not nouts:
            raise ValueError(f"MLP: nouts must be a non-empty list of layer widths, got {nouts!r}")
        sizes = [self.nin, *(_count(n, "MLP: each layer width") for n in nouts)]
        r = make_rng(rng)
        last = len(sizes) - 2
        self.layers = [
            Layer(a, b, output_activation if i == last else activation, init, r)
            for i, (a, b) in enumerate(itertools.pairwise(sizes))
        ]
        self.dropout = Dropout(dropout, r) if dropout else None
        self.nout = self.layers[-1].nout

    def forward(self, xs: list[Value]) -> list[Value]:
        """The layers in turn (with dropout after each hidden one), recording the graph."""
        last = self.layers[-1]
        for layer in self.layers:
            xs = layer.forward(xs)
            if self.dropout is not None and layer is not last:
                xs = self.dropout.forward(xs)
        return xs

    def forward_floats(self, xs: list[float]) -> list[float]:
        """The same on plain floats."""
        last = self.layers[-1]
        for layer in self.layers:
            xs = layer.forward_floats(xs)
            if self.dropout is not None and layer is not last:
                xs = self.dropout.forward_floats(xs)
        return xs

    def layer_outputs(self, x: Input) -> list[list[Value]]:
        """Every layer's outputs for one input, first layer first (the last is ``model(x)``).

        Hidden outputs are taken after dropout where it applies, exactly as the next layer
        sees them. Under ``no_grad`` they are plain-valued leaves; otherwise they are the
        graph's own nodes, so their ``.grad`` is filled by a later ``backward()``.
        """
        with gc_paused():
            xs = _inputs(x, self.nin, "MLP.layer_outputs")
            outs: list[list[Value]] = []
            for i, layer in enumerate(self.layers):
                xs = layer.outputs(xs)
                if self.dropout is not None and i < len(self.layers) - 1:
                    xs = self.dropout.outputs(xs)
                outs.append(xs)
            return outs

    def scalar(self, x: Input) -> Value:
        """The single output of a one-output MLP as a Value (micrograd's ``model(x)``)."""
        out = self.outputs(x)
        if len(out) != 1:
            raise ValueError(f"MLP.scalar: the network has {len(out)} outputs, not 1")
        return out[0]

    @classmethod
    def from_torch(cls, module: Any) -> MLP:
        """The MLP computing what a torch ``Sequential`` of ``Linear`` layers and activations
        computes, weights copied (see :func:`micrograd_like.torch_bridge.from_torch`)."""
        from micrograd_like.torch_bridge import mlp_from_torch

        return mlp_from_torch(module)

    def extra_repr(self) -> str:
        """The layer widths."""
        return " -> ".join(str(n) for n in [self.nin, *(la.nout for la in self.layers)])
