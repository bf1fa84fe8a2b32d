"""The stepper: the forward and backward passes frame by frame, in Jupyter or as one web page.

Each frame is a diagram and an equation. A graph small enough to read whole at the output's
width is drawn whole in every frame; a larger one is drawn as the neighbourhood of the current
node (its inputs, its consumers and the path towards the output) at a readable size, with an
overview of the whole graph beside it in which the current node is filled. The page and the
notebook output carry every frame (a self-contained HTML player, scripts optional), so a saved
or shared notebook can still be stepped; :class:`StepperWidget` is the kernel-driven version.
"""

from __future__ import annotations

import base64
import os
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from micrograd_like._files import a_path, write_atomically
from micrograd_like._html import escape, fill, mark_node, min_width, script_json, static_png
from micrograd_like._html import web_file as _web
from micrograd_like._validate import a_value, count, flag
from micrograd_like.drawing import CUT_MARK, Diagram, draw_part, estimate_size, render_svgs
from micrograd_like.engine import Value
from micrograd_like.stepper_widget import StepperWidget
from micrograd_like.stepping import (
    BackwardStep,
    ForwardStep,
    _num,
    backward_steps,
    forward_steps,
    gradients_at,
    view_names,
)
from micrograd_like.views import GraphView

__all__ = ["MODES", "Frame", "Stepper", "StepperWidget"]

MODES = ("forward", "backward")
_MAX_LINES = 12  # equation lines a frame shows (an n-ary node writes one per input)
# a frame's diagram at 100% stays within this many CSS pixels, so it fits a 1100-pixel-wide
# output at full size and an 825-pixel one at 75% (11-point text then is 11 px); estimates
# are within about 10% of dot's layout, hence the margin
_FIT_WIDTH, _FIT_HEIGHT, _MARGIN = 1100.0, 700.0, 1.1
_UP = 3  # a neighbourhood reaches at most this many consumers up towards the output
_FEW = 10  # of a node with many inputs (a sum of 1000 terms) or consumers, this many are drawn
_OVERVIEW_MAX = 250  # an overview of a larger graph is drawn collapsed
_CACHE = 64  # diagrams the widget keeps rendered
_REPR_STEPS = 40  # steps per pass that repr() writes out
_INTERVAL_MS = 900  # Play's pace
_NOTEBOOK_FRAMES = 120  # diagrams a notebook output carries (the page: max_frames)


@dataclass(frozen=True, slots=True)
class Frame:
    """What one step shows: the pass, the step, the node in focus, a title and the equation.

    ``index`` counts from 0 within the pass of ``count`` steps; ``equation`` is plain text
    (at most a dozen lines, then a count of the rest) and ``latex`` the same as LaTeX.
    ``note`` says when the diagram shows only the neighbourhood of the node.
    """

    mode: str
    index: int
    count: int
    node: Value
    name: str
    title: str
    equation: str
    latex: str
    note: str

    def text(self) -> str:
        """The frame as a few lines of plain text: the title, then the indented equation."""
        return self.title + "".join(f"\n    {line}" for line in self.equation.split("\n"))


class Stepper:
    """Step through the forward and backward passes of ``root``'s graph, one node at a time.

    The steps are those of :func:`~micrograd_like.stepping.trace_forward` and
    :func:`~micrograd_like.stepping.trace_backward`; nothing here changes any ``.grad``. The
    forward pass starts from the inputs and shows only values already computed; with
    ``skip_leaves`` (the default) inputs and parameters are given, not stepped through. The
    backward pass shows gradients only as far as it has got. ``expand=True`` opens each
    neuron (``dot``) into its products, sum and bias and steps through them one by one.

    In Jupyter a ``Stepper`` shows as a player (buttons, slider, keys) that needs no kernel:
    the output carries every frame, plus the current frame as a picture, so a saved,
    reopened or exported notebook still shows it. :meth:`widget` gives the ipywidgets
    version driven by the kernel (frames drawn on demand: for very large graphs).
    ``print(stepper)`` writes the walk-through as text; :meth:`save_html` writes one page.
    A graph too large to read whole at the output's width (or of more than ``max_nodes``
    values) is drawn as the neighbourhood of the current node, with an overview beside it.
    """

    def __init__(
        self,
        root: Value,
        *,
        mode: str = "backward",
        max_nodes: int = 60,
        expand: bool = False,
        skip_leaves: bool = True,
    ) -> None:
        self.root = a_value(root, "Stepper: root")
        self.max_nodes = count(max_nodes, "Stepper: max_nodes", wrong_type=ValueError)
        self.view = GraphView(root, expand=flag(expand, "Stepper: expand"))
        flag(skip_leaves, "Stepper: skip_leaves")
        self.backward: list[BackwardStep] = backward_steps(self.view)
        self.forward: list[ForwardStep] = forward_steps(self.view, skip_leaves=skip_leaves)
        if not self.forward:  # a lone leaf: its one step, even when skipping leaves
            self.forward = forward_steps(self.view, skip_leaves=False)
        self._order = self.view.order()
        self._names = view_names(self.view)
        self._stepped = {s.node for s in self.forward}
        self._users: dict[Value, list[Value]] | None = None
        self._whole: bool | None = None
        self._svgs: OrderedDict[tuple[str, int], str] = OrderedDict()
        self._overview: tuple[Diagram, str] | None = None
        self._mode = "backward"
        self._index = 0
        self.mode = mode

    # ------------------------------------------------------------------ position

    @property
    def mode(self) -> str:
        """The pass shown, ``"forward"`` or ``"backward"``; setting it goes to step 0."""
        return self._mode

    @mode.setter
    def mode(self, mode: str) -> None:
        self._mode, self._index = _pass(mode), 0

    @property
    def steps(self) -> Sequence[ForwardStep | BackwardStep]:
        """The steps of the current pass."""
        return self._steps(self._mode)

    @property
    def index(self) -> int:
        """The current step, from 0; ``IndexError`` for a step the pass does not have."""
        return self._index

    @index.setter
    def index(self, index: int) -> None:
        self._index = self._step(self._mode, index)

    def next(self) -> Frame:
        """Go one step on (staying on the last step) and return the frame there."""
        self._index = min(self._index + 1, len(self.steps) - 1)
        return self.frame()

    def previous(self) -> Frame:
        """Go one step back (staying on step 0) and return the frame there."""
        self._index = max(self._index - 1, 0)
        return self.frame()

    def _where(self, mode: str | None, index: int | None) -> tuple[str, int]:
        # the pass and step asked for: the current ones by default, step 0 of the other pass
        mode = self._mode if mode is None else _pass(mode)
        if index is None:
            index = self._index if mode == self._mode else 0
        return mode, self._step(mode, index)

    def _step(self, mode: str, index: object) -> int:
        n = len(self._steps(mode))
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < n:
            raise IndexError(f"Stepper: step {index!r} is out of range 0..{n - 1} ({mode})")
        return index

    def _steps(self, mode: str) -> Sequence[ForwardStep | BackwardStep]:
        return self.forward if mode == "forward" else self.backward

    # ------------------------------------------------------------------ frames

    def frame(self, mode: str | None = None, index: int | None = None) -> Frame:
        """Return the title and equation of a step (by default the current one).

        With only ``mode`` given, the step is the current one in the current pass and step 0
        in the other.
        """
        mode, index = self._where(mode, index)
        step: ForwardStep | BackwardStep
        if mode == "forward":
            step = self.forward[index]
            what = (
                f"{step.name} is an input, given as {_num(step.value)}"
                if step.is_leaf
                else f"{step.name} ({step.op}) is computed from its inputs"
            )
        else:
            step = self.backward[index]
            if step.is_seed:
                what = (
                    f"the seed: {step.name}, the output, has gradient {_num(step.grad)} with "
                    "respect to itself"
                )
            else:
                what = (
                    f"{step.name} ({step.op}) passes its gradient {_num(step.grad)} to its inputs"
                )
        lines = step.equation.split("\n")
        if len(lines) > _MAX_LINES:
            more = len(lines) - _MAX_LINES + 1
            lines[_MAX_LINES - 1 :] = [f"… and {more} more lines, one per input"]
        n = len(self._steps(mode))
        title = f"{mode.capitalize()} step {index + 1} of {n} · {what}"
        return Frame(
            mode, index, n, step.node, step.name, title, "\n".join(lines), step.latex, self._note()
        )

    def _note(self) -> str:
        if self._fits_whole():
            return ""
        return (
            f"The graph has {len(self._order)} values, too many to read at once: each diagram "
            f"shows the current node's neighbourhood (its inputs, its consumers and the way to "
            f"the output); values marked {CUT_MARK} have inputs that are not drawn. The "
            "overview below shows the whole graph."
        )

    # ------------------------------------------------------------------ diagrams

    def _size(self, part: list[Value], mode: str) -> tuple[float, float]:
        return estimate_size(self.view, part, self._names.__getitem__, mode == "backward")

    def _fits(self, part: list[Value], mode: str) -> bool:
        w, h = self._size(part, mode)
        return w * _MARGIN <= _FIT_WIDTH and h * _MARGIN <= _FIT_HEIGHT

    def _fits_whole(self) -> bool:
        if self._whole is None:
            self._whole = len(self._order) <= self.max_nodes and self._fits(self._order, "backward")
        return self._whole

    def _consumers(self) -> dict[Value, list[Value]]:
        if self._users is None:
            self._users = {}
            for u in self._order:
                for p in self.view.parents(u):
                    users = self._users.setdefault(p, [])
                    if not users or users[-1] is not u:
                        users.append(u)
        return self._users

    def _window(self, v: Value, mode: str) -> list[Value]:
        """The values a diagram of ``v``'s step draws, in forward order.

        All of a graph that fits. Otherwise ``v``, its inputs and its consumers, and the path
        from ``v`` towards the output (each step's other inputs too), as far as fits a
        readable diagram: up to ``_UP`` consumers, then fewer, then without the other inputs.
        """
        if self._fits_whole():
            return self._order
        users = self._consumers()

        def parents(u: Value) -> tuple[Value, ...]:
            return self.view.parents(u)[:_FEW]

        core = {v, *parents(v), *users.get(v, [])[:_FEW]}
        part: list[Value] = []
        for up, siblings in [(k, True) for k in range(_UP, 0, -1)] + [(1, False), (0, False)]:
            chosen = set(core)
            u = v
            for _ in range(up):
                if u not in users:
                    break
                u = users[u][0]
                chosen.add(u)
                if siblings:
                    chosen.update(parents(u))
            part = [n for n in self._order if n in chosen]
            if self._fits(part, mode):
                break
        return part

    def _known(self, mode: str, index: int) -> set[Value] | None:
        # the values the forward pass has computed by this step (every one going backward)
        if mode == "backward":
            return None
        done = {s.node for s in self.forward[: index + 1]}
        done.update(v for v in self._order if self.view.op(v) is None and v not in self._stepped)
        return done

    def digraph(self, mode: str | None = None, index: int | None = None) -> Diagram:
        """Return the diagram of a step as a :class:`~micrograd_like.drawing.Diagram`.

        Its ``.source`` is the frame's DOT text, made without Graphviz (see :meth:`dot`).
        Values show the names the equations use; the current node is outlined; in the backward
        pass each value shows its gradient as it stands after this step (a dash where the pass
        has not reached it yet), in the forward pass only the values computed so far. A large
        graph is drawn as the node's neighbourhood, with ``⋯`` after the values whose inputs
        are left out.
        """
        mode, index = self._where(mode, index)
        node = self._steps(mode)[index].node
        window = self._window(node, mode)
        grads = None
        if mode == "backward":
            found = gradients_at(self.backward, index)
            grads = {v: found[v] for v in window if v in found}
        return draw_part(
            self.view,
            window,
            names=self._names,
            highlight=[node],
            show_grad=mode == "backward",
            grads=grads,
            known=self._known(mode, index),
            max_nodes=max(len(window), 1),
        )

    def dot(self, mode: str | None = None, index: int | None = None) -> str:
        """Return the DOT text of a step's diagram: no package or program is needed to make it
        (render it with Graphviz's ``dot``, or in a browser with a WebAssembly Graphviz)."""
        return self.digraph(mode, index).source

    def focus(self, mode: str | None = None, index: int | None = None) -> str:
        """The DOT node name of the current value's box in a step's diagram (``v<i>``), by
        which a page finds the box to centre it."""
        mode, index = self._where(mode, index)
        node = self._steps(mode)[index].node
        return self.digraph(mode, index).ids[node]

    def overview(self) -> Diagram | None:
        """The whole graph, names only (collapsed past a few hundred values), drawn beside a
        neighbourhood; ``None`` when every frame draws the whole graph anyway."""
        if self._fits_whole():
            return None
        return self._overview_pair()[0]

    def _overview_pair(self) -> tuple[Diagram, str]:
        if self._overview is None:
            diagram = draw_part(
                self.view,
                self._order,
                names=self._names,
                show_grad=False,
                compact=True,
                max_nodes=_OVERVIEW_MAX,
            )
            self._overview = (diagram, "")
        return self._overview

    def _overview_svg(self) -> str:
        diagram, svg = self._overview_pair()
        if not svg:
            svg = diagram.svg()
            self._overview = (diagram, svg)
        return svg

    def svg(self, mode: str | None = None, index: int | None = None) -> str:
        """Return the diagram of a step as inline SVG text (needs Graphviz's ``dot``).

        Rendered on first use and kept for the next few dozen calls, so the widget draws only
        the frames someone looks at.
        """
        key = self._where(mode, index)
        if key not in self._svgs:
            (self._svgs[key],) = render_svgs([self.digraph(*key)])
            if len(self._svgs) > _CACHE:
                self._svgs.popitem(last=False)
        self._svgs.move_to_end(key)
        return self._svgs[key]

    def frame_html(self, mode: str | None = None, index: int | None = None) -> str:
        """A step's diagram as HTML without scripts (what the widget shows): the diagram
        fitted to the width, and the overview with the current node filled, if there is one."""
        mode, index = self._where(mode, index)
        main = f'<div class="mgl-view">{min_width(self.svg(mode, index))}</div>'
        over = ""
        if not self._fits_whole():
            node = self._steps(mode)[index].node
            marked = mark_node(self._overview_svg(), self._overview_pair()[0].ids[node])
            over = (
                '<div class="mgl-overview"><div class="mgl-overview-head">The whole graph '
                f"({len(self._order)} values); the current node is filled purple:</div>"
                f'<div class="mgl-ov">{marked}</div></div>'
            )
        return f'<div class="mgl-figure"><style>{_web("figure.css")}</style>{main}{over}</div>'

    # ------------------------------------------------------------------ text

    def text(self, max_steps: int | None = None) -> str:
        """Return the walk-through as plain text: every forward step, then every backward step.

        ``max_steps`` limits how many steps of each pass are written (the rest are counted).
        """
        out = []
        for mode, steps, about in (
            ("forward", self.forward, "each value after its inputs"),
            ("backward", self.backward, "the seed, then each non-leaf value once"),
        ):
            out.append(f"{mode.capitalize()} pass: {len(steps)} steps ({about})")
            shown = len(steps) if max_steps is None else min(max_steps, len(steps))
            out += [self.frame(mode, i).text() for i in range(shown)]
            if shown < len(steps):
                out.append(f"… {len(steps) - shown} more steps (stepper.text() lists them all)")
        return "\n".join(out)

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        head = (
            f"Stepper({self._names[self.root]} = {_num(self.root.data)}: {len(self._order)} "
            f"values, {len(self.forward)} forward steps, {len(self.backward)} backward steps)"
        )
        return f"{head}\n{self.text(_REPR_STEPS)}"

    # ------------------------------------------------------------------ Jupyter

    def widget(self) -> StepperWidget:
        """Return the Jupyter widget for this stepper; ``ImportError`` without ipywidgets."""
        return StepperWidget(self)

    def _repr_html_(self) -> str:
        return self._page(fragment=True, max_frames=_NOTEBOOK_FRAMES)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """What a notebook shows and keeps: the player (HTML with every frame), the current
        frame as SVG and PNG for viewers that run no scripts, and the text walk-through."""
        bundle: dict[str, Any] = {"text/plain": repr(self), "text/html": self._repr_html_()}
        try:
            diagram = self.digraph()
            bundle["image/png"] = base64.b64encode(diagram.pipe("png")).decode("ascii")
            bundle["image/svg+xml"] = self.svg()
        except (RuntimeError, OSError, ValueError):  # no dot: the player says so itself
            pass
        return bundle

    # ------------------------------------------------------------------ the standalone page

    def save_html(self, path: str | os.PathLike[str], *, max_frames: int = 100) -> Path:
        """Write one self-contained HTML page that steps through both passes; return its path.

        The page has the diagrams as inline SVG and a few lines of JavaScript, loads nothing
        from the network, and works in any browser from a file: buttons, a slider, the arrow
        keys (Home/End for first/last, space to play), zoom and pan. Diagrams are included for
        at most ``max_frames`` steps (shared by the two passes; the page says which);
        equations for all. The file is written atomically: to a temporary file beside it, then
        renamed into place, so an error or Ctrl-C leaves the old file (or none) and nothing
        half-written. An existing file keeps its permissions, a symlink keeps pointing to the
        file it names (that file is replaced), a new file gets the usual mode (``0o666`` less
        the umask, which is never changed). A path that cannot be written raises an
        ``OSError`` naming it.
        """
        target = a_path(path, "Stepper.save_html: path")
        where = "Stepper.save_html: max_frames"
        max_frames = count(max_frames, where, least=0, wrong_type=ValueError)
        if target.is_dir():
            raise IsADirectoryError(
                f"Stepper.save_html: {str(target)!r} is a directory, not a file"
            )
        page = self._page(fragment=False, max_frames=max_frames)
        return write_atomically(target, page.encode("utf-8"), "Stepper.save_html")

    def _page(self, *, fragment: bool, max_frames: int) -> str:
        """The stepper as HTML: a whole page, or a fragment for a notebook cell."""
        budget = {"forward": min(len(self.forward), max_frames // 2)}
        budget["backward"] = min(len(self.backward), max_frames - budget["forward"])
        budget["forward"] = min(len(self.forward), max_frames - budget["backward"])
        wanted = [(m, i) for m in MODES for i in range(budget[m])]
        notes = [self._note()] if self._note() else []
        overview = self.overview()
        diagrams = [self.digraph(m, i) for m, i in wanted]
        try:
            svgs = render_svgs(diagrams + ([overview] if overview is not None else []))
        except (RuntimeError, OSError, ValueError) as err:
            svgs, wanted, diagrams = [], [], []
            notes.append(f"No diagrams: {err}")
        over_svg = svgs.pop() if svgs and overview is not None else None
        slot = {key: k for k, key in enumerate(wanted)}
        if any(budget[m] < len(self._steps(m)) for m in MODES) and svgs:
            notes.append(
                f"Diagrams are included for the first {budget['forward']} forward and "
                f"{budget['backward']} backward steps (max_frames={max_frames}); "
                "the equations of every step are here."
            )
        passes = {}
        for m in MODES:
            frames = []
            for i in range(len(self._steps(m))):
                f = self.frame(m, i)
                k = slot.get((m, i))
                frames.append(
                    {
                        "title": f.title,
                        "node": f.name,
                        "equation": f.equation,
                        "svg": k,
                        "focus": None if k is None else diagrams[k].ids[f.node],
                        "over": None if overview is None else overview.ids[f.node],
                    }
                )
            passes[m] = frames
        data = {
            "start": self._mode,
            "passes": passes,
            "svgs": svgs,
            "overview": over_svg,
            "interval": _INTERVAL_MS,
            "controls": _web("stepper-controls.html"),
            "keys": "Keys: ← → step, Home / End first / last, space play / pause, "
            "F / B forward / backward pass, + / − zoom. Drag to pan.",
            "overviewHead": f"The whole graph ({len(self._order)} values); "
            "the current node is filled purple:",
            "zoom": _web("zoom.html"),
            "missing": "No diagram for this step (see the note below); its equation is exact.",
        }
        uid = f"mgl-{uuid.uuid4().hex[:12]}"
        name = escape(self._names[self.root])
        start = self.frame(self._mode, 0)  # drawn in the HTML too, for viewers without scripts
        first = slot.get((self._mode, 0))
        png = None
        if first is not None:  # for viewers that run no scripts or strip inline SVG
            try:
                png = diagrams[first].pipe("png")
            except (RuntimeError, OSError, ValueError):
                png = None
        body = fill(
            "stepper.html",
            uid=uid,
            css=_web("figure.css") + _web("stepper.css"),
            head=f"Stepping through <b>{name}</b> = {_num(self.root.data)} "
            f"· {len(self._order)} values",
            counter=f"step 1 of {start.count}",
            title=escape(start.title),
            equation=escape(start.equation),
            static=static_png(png, f"graph of {self._names[self.root]}, first step"),
            note="<br>".join(escape(n) for n in notes),
            data=script_json(data),
            viewjs=_web("view.js"),
            js=_web("stepper.js"),
            global_keys="true" if not fragment else "false",
        )
        if fragment:
            return body
        return fill("page.html", title=f"Stepping through {name}", body=body)


def _pass(mode: object) -> str:
    if mode not in MODES:
        raise ValueError(f"Stepper: mode must be 'forward' or 'backward', got {mode!r}")
    return mode
