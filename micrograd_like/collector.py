"""Pausing Python's cycle collector while graphs are built and walked: gc_paused, call_paused.

Graph nodes hold no reference cycles, so reference counting frees every graph and the cycle
collector has nothing to find in them; yet while a large graph grows, the collector keeps
re-walking every live node. Pausing it around graph work is pure speed.

One pause count is shared by all threads: the collector is disabled while any pause is open and
the user's setting (enabled or not, read when the first pause opened) comes back when the last
one closes, whichever thread opened it. Each state change is ordered so that an exception, a
``KeyboardInterrupt`` included, can land between any two steps without leaving the collector
disabled. In CPython a pending signal is acted on only at calls, function starts and loop
back-edges, never between the plain loads and stores that update the count; ``call_paused``
places every call inside its ``try`` and therefore has no window at all. A ``with
gc_paused():`` block has one: its ``__exit__`` is a Python function, and a Ctrl-C that arrives
in the few instructions between the end of the block and the start of ``__exit__`` skips it (as
with any pure-Python context manager). The library's own pauses (``backward()``, ``nn`` calls,
``fit``) all go through ``call_paused``.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import ParamSpec, TypeVar

__all__ = ["call_paused", "gc_paused"]

P = ParamSpec("P")
R = TypeVar("R")

_pauses = 0  # open pauses, in all threads together
_restore = False  # the collector was enabled when the first open pause began


def call_paused(fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """Return ``fn(*args, **kwargs)``, run with Python's cycle collector paused.

    The same pause as ``with gc_paused():``, without its window: whatever interrupts ``fn`` or
    this function itself (an exception, a ``KeyboardInterrupt`` at any point), the pause count
    and the collector's setting are restored. This is how the library pauses around its own
    work; use it for a whole training step of your own (``call_paused(step, batch)``).
    """
    global _pauses, _restore
    entered = False
    try:
        if not _pauses:
            _restore = gc.isenabled()
        _pauses += 1
        entered = True  # no call, loop or function start between these two stores
        gc.disable()
        return fn(*args, **kwargs)
    finally:
        if entered:
            _pauses -= 1
            if not _pauses and _restore:
                gc.enable()


class _GcPause:
    # The context manager gc_paused() returns: one shared object with no state of its own
    # (the count and the user's setting are module globals) and static __enter__/__exit__,
    # so entering allocates nothing the collector counts and no collection can start at the
    # edge of a pause.

    __slots__ = ()

    @staticmethod
    def __enter__() -> None:
        global _pauses, _restore
        entered = False
        try:
            if not _pauses:
                _restore = gc.isenabled()
            _pauses += 1
            entered = True
            gc.disable()
        except BaseException:
            # interrupted after counting itself: the with-block never starts and __exit__
            # never runs, so undo here
            if entered:
                _pauses -= 1
                if not _pauses and _restore:
                    gc.enable()
            raise

    @staticmethod
    def __exit__(*exc: object) -> None:
        global _pauses
        _pauses -= 1
        if not _pauses and _restore:
            gc.enable()


_GC_PAUSE = _GcPause()


def gc_paused() -> AbstractContextManager[None]:
    """Pause Python's cyclic garbage collector inside the block, then restore the user's setting.

    Graph nodes hold no reference cycles, so reference counting frees them and the cycle
    collector has nothing to find in them; yet while a large graph grows, the collector keeps
    re-walking every live node (two thirds of the time of building a 10^5-node chain). The
    engine pauses it inside its own calls (``backward()``, an ``nn`` module call); wrap your
    own graph-building loops in it for the same speed. A graph that dies inside the block is
    never walked at all; one still alive when the block ends is walked once, by the next
    collection: so a whole training step, ending with its graph dropped, is the best unit.
    Blocks nest and may overlap across threads: the collector is restored when the last open
    block ends, to the state it had when the first began. Entering allocates nothing. See the
    module docstring for interrupts (``call_paused`` is the window-free form).
    """
    return _GC_PAUSE


def pauses_open() -> int:
    """Return how many pauses are open right now, in all threads (0 outside any)."""
    return _pauses
