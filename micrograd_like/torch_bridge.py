"""Moving a network to PyTorch and back: ``model.to_torch()`` and ``MLP.from_torch(module)``.

A neuron, layer, MLP, Dropout or Sequential of them becomes a float64 ``torch.nn.Sequential``
of ``Linear`` layers, activation modules and ``Dropout``, with the same weights; the reverse
reads such a module (nested ``Sequential`` flattened) back. A ``Layer``'s neuron ``j`` is row
``j`` of the ``Linear``'s weight and entry ``j`` of its bias, so both sides compute
``act(W x + b)`` from the same numbers. PyTorch is optional (``pip install
'micrograd_like[torch]'``) and imported only when a conversion is asked for.
"""

from __future__ import annotations

import importlib
import itertools
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from micrograd_like.nn import MLP, Dropout, Layer, Module, Neuron, Sequential, make_rng
from micrograd_like.ops import Op, get_op

# torch objects are typed Any here, so that type checking this package never loads torch

__all__ = ["from_torch", "to_torch"]

# the activations with a torch.nn module of the same function: our op name -> (torch class
# name, the op's params as that class's keyword arguments)
_TO_TORCH: dict[str, tuple[str, tuple[str, ...]]] = {
    "relu": ("ReLU", ()),
    "tanh": ("Tanh", ()),
    "sigmoid": ("Sigmoid", ()),
    "silu": ("SiLU", ()),
    # torch's Softplus returns x itself above 20 (ours adds log1p(e^-x), below 2e-9 there)
    "softplus": ("Softplus", ()),
    "leaky_relu": ("LeakyReLU", ("negative_slope",)),
    "elu": ("ELU", ("alpha",)),
}


def _torch(where: str) -> ModuleType:
    # torch is an optional extra: a missing install is named with the way to get it
    try:
        return importlib.import_module("torch")
    except ImportError as err:
        raise ImportError(
            f"{where}: PyTorch is not installed; install it with "
            "pip install 'micrograd_like[torch]' (torch 2.13.0)"
        ) from err


# ----------------------------------------------------------------------------- to torch


def _activation(torch: ModuleType, op: Op | None, where: str) -> list[Any]:
    if op is None:
        return []
    spec = _TO_TORCH.get(op.name)
    if spec is None or get_op(op.name).forward is not op.forward:
        raise ValueError(
            f"{where}: the activation {op.describe()!r} has no torch.nn module; "
            f"supported: linear, {', '.join(_TO_TORCH)}"
        )
    cls, keywords = spec
    return [getattr(torch.nn, cls)(**dict(zip(keywords, op.params, strict=True)))]


def _linear(torch: ModuleType, neurons: list[Neuron]) -> Any:
    # neuron j is row j of the weight and entry j of the bias
    lin = torch.nn.Linear(neurons[0].nin, len(neurons), dtype=torch.float64)
    with torch.no_grad():
        lin.weight.copy_(
            torch.tensor([[w.data for w in n.w] for n in neurons], dtype=torch.float64)
        )
        lin.bias.copy_(torch.tensor([n.b.data for n in neurons], dtype=torch.float64))
    return lin


def _torch_parts(torch: ModuleType, module: Module, where: str) -> list[Any]:
    # the flat list of torch modules that computes what `module` computes
    if isinstance(module, Neuron):
        return [_linear(torch, [module]), *_activation(torch, module.act, where)]
    if isinstance(module, Layer):
        names = {"linear" if n.act is None else n.act.describe() for n in module.neurons}
        if len(names) != 1:
            raise ValueError(f"{where}: a Layer whose neurons differ in activation: {names}")
        return [_linear(torch, module.neurons), *_activation(torch, module.neurons[0].act, where)]
    if isinstance(module, Dropout):
        return [torch.nn.Dropout(module.p)]
    if isinstance(module, MLP):
        parts: list[Any] = []
        for layer in module.layers:
            if parts and module.dropout is not None:
                parts.append(torch.nn.Dropout(module.dropout.p))
            parts += _torch_parts(torch, layer, where)
        return parts
    if isinstance(module, Sequential):
        return [p for m in module.layers for p in _torch_parts(torch, m, where)]
    raise ValueError(
        f"{where}: {type(module).__name__} has no PyTorch counterpart here "
        "(Neuron, Layer, MLP, Dropout and Sequential do)"
    )


def to_torch(module: Module) -> Any:
    """Return a float64 ``torch.nn.Sequential`` computing what ``module`` computes.

    Each layer (or lone neuron) becomes a ``torch.nn.Linear`` holding its weights and biases,
    followed by its activation's module (``ReLU``, ``Tanh``, ``Sigmoid``, ``SiLU``,
    ``Softplus``, ``LeakyReLU``, ``ELU``; none for ``"linear"``); ``Dropout`` keeps its ``p``,
    and the training/evaluation mode is carried over. The copy shares no memory: training one
    side leaves the other alone. Raises ``ValueError`` naming any module or activation
    without a counterpart, ``ImportError`` when PyTorch is not installed.
    """
    where = f"{type(module).__name__}.to_torch"
    torch = _torch(where)
    if not isinstance(module, Module):
        raise TypeError(f"to_torch: expected a micrograd_like Module, got {type(module).__name__}")
    out = torch.nn.Sequential(*_torch_parts(torch, module, where))
    out.train(module.training)
    return out


# ----------------------------------------------------------------------------- from torch


@dataclass
class _Dense:
    # one torch Linear with the activation module that follows it (None: linear)
    weight: list[list[float]]
    bias: list[float]
    act: str | Op

    @property
    def nin(self) -> int:
        return len(self.weight[0])

    @property
    def nout(self) -> int:
        return len(self.weight)


def _flatten(torch: ModuleType, module: Any, where: str) -> list[Any]:
    if isinstance(module, torch.nn.Sequential):
        return [m for child in module for m in _flatten(torch, child, where)]
    return [module]


def _our_activation(torch: ModuleType, m: Any, where: str) -> str | Op | None:
    # the activation op of a torch activation module, or None when m is not one
    nn = torch.nn
    simple = {nn.ReLU: "relu", nn.Tanh: "tanh", nn.Sigmoid: "sigmoid", nn.SiLU: "silu"}
    for cls, name in simple.items():
        if type(m) is cls:
            return name
    if type(m) is nn.LeakyReLU:
        return get_op("leaky_relu").bind(m.negative_slope)
    if type(m) is nn.ELU:
        return get_op("elu").bind(m.alpha)
    if type(m) is nn.Softplus:
        if m.beta != 1 or m.threshold != 20:
            raise ValueError(
                f"{where}: Softplus(beta={m.beta}, threshold={m.threshold}) is not ours"
            )
        return "softplus"
    return None


def _parts(torch: ModuleType, module: Any, where: str) -> list[_Dense | float]:
    # torch modules -> dense layers and dropout probabilities (floats), in order
    parts: list[_Dense | float] = []
    for i, m in enumerate(_flatten(torch, module, where)):
        if isinstance(m, torch.nn.Identity):
            continue
        if type(m) is torch.nn.Linear:
            if m.bias is None:
                raise ValueError(f"{where}: module {i}, Linear without a bias, has no counterpart")
            weight = m.weight.detach().to(torch.float64).tolist()
            bias = m.bias.detach().to(torch.float64).tolist()
            parts.append(_Dense(weight, bias, "linear"))
            continue
        if type(m) is torch.nn.Dropout:
            parts.append(float(m.p))
            continue
        act = _our_activation(torch, m, where)
        if act is None:
            raise ValueError(
                f"{where}: module {i}, {type(m).__name__}, has no counterpart here (Linear, "
                "Dropout, Identity, ReLU, Tanh, Sigmoid, SiLU, Softplus, LeakyReLU, ELU do)"
            )
        last = parts[-1] if parts else None
        if not isinstance(last, _Dense) or last.act != "linear":
            raise ValueError(
                f"{where}: module {i}, {type(m).__name__}, must directly follow a Linear"
            )
        last.act = act
    if not any(isinstance(p, _Dense) for p in parts):
        raise ValueError(f"{where}: {type(module).__name__} holds no Linear layer")
    dense = [p for p in parts if isinstance(p, _Dense)]
    for a, b in itertools.pairwise(dense):
        if a.nout != b.nin:
            raise ValueError(
                f"{where}: a Linear with {a.nout} outputs feeds one with {b.nin} inputs"
            )
    return parts


def _fill(layer: Layer, dense: _Dense) -> None:
    for neuron, row, b in zip(layer.neurons, dense.weight, dense.bias, strict=True):
        for w, value in zip(neuron.w, row, strict=True):
            w.data = value
        neuron.b.data = b


def _as_mlp(parts: list[_Dense | float]) -> MLP | None:
    # the parts in MLP form (one activation on every hidden layer, the same dropout after
    # each of them and none after the last), or None
    dense = [p for p in parts if isinstance(p, _Dense)]
    drops = [p for p in parts if not isinstance(p, _Dense)]
    hidden = {repr(d.act) for d in dense[:-1]}
    if len(hidden) > 1 or len(set(drops)) > 1:
        return None
    p = drops[0] if drops else 0.0
    shape = [x if isinstance(x, float) else "dense" for x in parts]
    mlp_shape: list[str | float] = ["dense"]
    for _ in dense[1:]:
        mlp_shape += [p, "dense"] if p else ["dense"]
    if shape != mlp_shape:
        return None
    act = dense[0].act if len(dense) > 1 else "relu"
    model = MLP(
        dense[0].nin,
        [d.nout for d in dense],
        activation=act,
        output_activation=dense[-1].act,
        rng=0,
        dropout=p,
    )
    for layer, d in zip(model.layers, dense, strict=True):
        _fill(layer, d)
    if model.dropout is not None:
        model.dropout.rng = make_rng(None)  # masks from the global generator, as Dropout(p)
    return model


def from_torch(module: Any) -> Module:
    """Return our network computing what a torch ``Sequential`` (or ``Linear``) computes.

    The module is read as ``Linear`` layers, each optionally followed by one activation
    module, with ``Dropout`` and ``Identity`` anywhere (nested ``Sequential`` flattened); the
    weights are copied as float64. The result is an :class:`~micrograd_like.nn.MLP` when the
    shape is one (one hidden activation, one dropout probability after every hidden layer),
    otherwise a :class:`~micrograd_like.nn.Sequential` of layers and dropouts. Raises
    ``ValueError`` naming the first module without a counterpart here.
    """
    torch = _torch("from_torch")
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"from_torch: expected a torch.nn.Module, got {type(module).__name__}")
    parts = _parts(torch, module, "from_torch")
    out: Module | None = _as_mlp(parts)
    if out is None:
        mods: list[Module] = []
        for part in parts:
            if isinstance(part, _Dense):
                layer = Layer(part.nin, part.nout, part.act, rng=0)
                _fill(layer, part)
                mods.append(layer)
            else:
                mods.append(Dropout(part))
        out = Sequential(*mods)
    out.train(bool(module.training))
    return out


def mlp_from_torch(module: Any) -> MLP:
    """:func:`from_torch` for a module of MLP shape; ``ValueError`` when it is not one."""
    out = from_torch(module)
    if not isinstance(out, MLP):
        raise ValueError(
            "MLP.from_torch: the module is not an MLP (its hidden layers differ in activation "
            "or dropout); torch_bridge.from_torch reads it as a Sequential"
        )
    return out
