"""micrograd_like: a scalar reverse-mode autograd engine you can watch work."""

from micrograd_like.engine import Value, gc_paused, grad_enabled, no_grad, topological_order
from micrograd_like.functional import dot, grad, logsumexp, vsum
from micrograd_like.ops import Op, define_op, get_op

__all__ = [
    "Op",
    "Value",
    "define_op",
    "dot",
    "gc_paused",
    "get_op",
    "grad",
    "grad_enabled",
    "logsumexp",
    "no_grad",
    "topological_order",
    "vsum",
]
__version__ = "0.1.0"
