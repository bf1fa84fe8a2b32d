"""micrograd_like: a scalar reverse-mode autograd engine you can watch work.

The names here are the everyday API; each lives in a module named for what it holds:
``engine`` (Value, backward), ``ops`` (the op table), ``functional`` (grad and n-ary ops),
``checking`` (gradcheck, check_graph), ``replay`` (compile: a graph as straight-line
Python), ``drawing`` (draw_dot), ``stepping``/``stepper``
(trace_backward, Stepper), ``nn``, ``losses``, ``optim``, ``data`` and ``train`` (fit).
Optional packages (graphviz, matplotlib, tqdm, ipywidgets) are imported only when a feature
that needs them is used, so ``import micrograd_like`` needs nothing beyond the standard library.
"""

from micrograd_like import data, losses, nn, optim
from micrograd_like.checking import check_graph, gradcheck
from micrograd_like.data import (
    make_blobs,
    make_circles,
    make_moons,
    make_spirals,
    make_xor,
    train_test_split,
)
from micrograd_like.drawing import draw_dot
from micrograd_like.engine import Value, gc_paused, grad_enabled, no_grad, topological_order
from micrograd_like.functional import dot, grad, logsumexp, softmax, vsum
from micrograd_like.nn import MLP, Dropout, Layer, Module, Neuron, Sequential
from micrograd_like.ops import Op, define_op, get_op, undefine_op
from micrograd_like.replay import Compiled, GraphChangedError, compile
from micrograd_like.stepper import Stepper
from micrograd_like.stepping import trace_backward, trace_forward
from micrograd_like.train import History, decision_boundary, evaluate, fit

__all__ = [
    "MLP",
    "Compiled",
    "Dropout",
    "GraphChangedError",
    "History",
    "Layer",
    "Module",
    "Neuron",
    "Op",
    "Sequential",
    "Stepper",
    "Value",
    "check_graph",
    "compile",
    "data",
    "decision_boundary",
    "define_op",
    "dot",
    "draw_dot",
    "evaluate",
    "fit",
    "gc_paused",
    "get_op",
    "grad",
    "grad_enabled",
    "gradcheck",
    "logsumexp",
    "losses",
    "make_blobs",
    "make_circles",
    "make_moons",
    "make_spirals",
    "make_xor",
    "nn",
    "no_grad",
    "optim",
    "softmax",
    "topological_order",
    "trace_backward",
    "trace_forward",
    "train_test_split",
    "undefine_op",
    "vsum",
]
__version__ = "0.1.0"
