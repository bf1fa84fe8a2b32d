"""The stepper: the forward and backward passes frame by frame, in Jupyter or as one web page."""

from __future__ import annotations

import contextlib
import html
import json
import os
import tempfile
import uuid
from collections import OrderedDict, deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from micrograd_like._validate import a_value, count
from micrograd_like.drawing import CUT_MARK, Diagram, draw_dot, render_svgs
from micrograd_like.engine import Value
from micrograd_like.stepping import (
    BackwardStep,
    ForwardStep,
    _num,
    gradients_at,
    node_names,
    trace_backward,
    trace_forward,
)

__all__ = ["MODES", "Frame", "Stepper", "StepperWidget"]

MODES = ("forward", "backward")
_MAX_LINES = 12  # equation lines a frame shows (an n-ary node writes one per input)
_UP = 2  # a window around a node reaches this many users up towards the root
_WINDOW = 30  # values a diagram of a large graph draws around the current node
_CACHE = 64  # diagrams the widget keeps rendered
_REPR_STEPS = 40  # steps per pass that repr() writes out
_INTERVAL_MS = 900  # Play's pace


@dataclass(frozen=True, slots=True)
class Frame:
    """What one step shows: the pass, the step, the node in focus, a title and the equation.

    ``index`` counts from 0 within the pass of ``count`` steps; ``equation`` is plain text
    (at most a dozen lines, then a count of the rest) and ``latex`` the same as LaTeX.
    ``note`` says when the diagram shows only a window of a large graph.
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

    The steps are :func:`~micrograd_like.stepping.trace_forward` and
    :func:`~micrograd_like.stepping.trace_backward`; nothing here changes any ``.grad``. In
    Jupyter a ``Stepper`` displays as a widget (Play, Previous, Next, a slider and a
    forward/backward toggle) showing the graph with the current node outlined, gradients only
    as far as the backward pass has got, and the step's equation. Without ipywidgets, or
    outside Jupyter, it shows a text walk-through (``print(stepper)``, :meth:`text`).
    :meth:`save_html` writes one self-contained page with the same frames. A graph with more
    than ``max_nodes`` values is drawn as a window of nearby values around the current node.
    """

    def __init__(self, root: Value, *, mode: str = "backward", max_nodes: int = 60) -> None:
        self.root = a_value(root, "Stepper: root")
        self.max_nodes = count(max_nodes, "Stepper: max_nodes", wrong_type=ValueError)
        self.forward: list[ForwardStep] = trace_forward(root)
        self.backward: list[BackwardStep] = trace_backward(root)
        self._names = node_names(root)
        self._users: dict[Value, Value] | None = None
        self._svgs: OrderedDict[tuple[str, int], str] = OrderedDict()
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

    # ------------------------------------------------------------------ frames

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

    def frame(self, mode: str | None = None, index: int | None = None) -> Frame:
        """Return the title and equation of a step (by default the current one).

        With only ``mode`` given, the step is the current one in the current pass and step 0
        in the other.
        """
        mode, index = self._where(mode, index)
        step: ForwardStep | BackwardStep
        if mode == "forward":
            step = self.forward[index]
            what = f"{step.name} ({step.op or 'leaf'})"
        else:
            step = self.backward[index]
            if step.is_seed:
                what = f"seed: {step.name}, the output, starts with gradient {_num(step.grad)}"
            else:
                what = (
                    f"{step.name} ({step.node.op}) passes its gradient {_num(step.grad)} "
                    "to its inputs"
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
        n = len(self._names)
        if n <= self.max_nodes:
            return ""
        return (
            f"The graph has {n} values, more than max_nodes={self.max_nodes}: each diagram "
            f"shows up to {min(self.max_nodes, _WINDOW)} values around the current node; "
            f"values marked {CUT_MARK} have inputs that are not drawn."
        )

    # ------------------------------------------------------------------ diagrams

    def _window(self, v: Value) -> list[Value]:
        """The values a diagram around ``v`` draws, in forward order (all of a small graph).

        From ``v`` up to ``_UP`` users towards the root, then breadth-first through inputs,
        starting with ``v``'s own, until ``_WINDOW`` values: every drawn value is then an
        input (or input of an input...) of the topmost one, so the window has one output.
        """
        if len(self._names) <= self.max_nodes:
            return list(self._names)
        if self._users is None:
            self._users = {}
            for u in self._names:
                for p in u.parents:
                    self._users.setdefault(p, u)
        size = min(self.max_nodes, _WINDOW)
        path = [v]
        while len(path) <= _UP and path[-1] in self._users:
            path.append(self._users[path[-1]])
        chosen = dict.fromkeys(path)
        queue = deque(path)
        while queue and len(chosen) < size:
            for p in queue.popleft().parents:
                if p not in chosen and len(chosen) < size:
                    chosen[p] = None
                    queue.append(p)
        return [u for u in self._names if u in chosen]

    def digraph(self, mode: str | None = None, index: int | None = None) -> Diagram:
        """Return the diagram of a step as a :class:`~micrograd_like.drawing.Diagram`.

        Its ``.source`` is the frame's DOT text, made without Graphviz (see :meth:`dot`).

        Values show the names the equations use; the current node is outlined; in the backward
        pass each value shows its gradient as it stands after this step (a dash where the pass
        has not reached it yet). A large graph is drawn as a window around the node, with
        ``⋯`` after the values whose inputs are left out.
        """
        mode, index = self._where(mode, index)
        node = self._steps(mode)[index].node
        window = self._window(node)
        grads = None
        if mode == "backward":
            found = gradients_at(self.backward, index)
            grads = {v: found[v] for v in window if v in found}
        return draw_dot(
            window[-1],
            highlight=[node],
            show_grad=mode == "backward",
            grads=grads,
            max_nodes=len(window),
            names={v: self._names[v] for v in window},
            nodes=window if len(window) < len(self._names) else None,
        )

    def dot(self, mode: str | None = None, index: int | None = None) -> str:
        """Return the DOT text of a step's diagram: no package or program is needed to make it
        (render it with Graphviz's ``dot``, or in a browser with a WebAssembly Graphviz)."""
        return self.digraph(mode, index).source

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
            f"Stepper({self._names[self.root]} = {_num(self.root.data)}: {len(self._names)} "
            f"values, {len(self.forward)} forward steps, {len(self.backward)} backward steps)"
        )
        return f"{head}\n{self.text(_REPR_STEPS)}"

    # ------------------------------------------------------------------ Jupyter

    def widget(self) -> StepperWidget:
        """Return the Jupyter widget for this stepper; ``ImportError`` without ipywidgets."""
        return StepperWidget(self)

    def _repr_html_(self) -> str:
        return self._page(fragment=True, max_frames=60)

    def _ipython_display_(self) -> None:
        from IPython import get_ipython
        from IPython.display import display

        if getattr(get_ipython(), "kernel", None) is None:  # a terminal: text is all there is
            print(repr(self))
            return
        try:
            shown: Any = self.widget()
        except ImportError:  # the page's own buttons and script instead of widgets
            shown = {"text/plain": repr(self), "text/html": self._repr_html_()}
        display(shown, raw=isinstance(shown, dict))  # type: ignore[no-untyped-call]

    # ------------------------------------------------------------------ the standalone page

    def save_html(self, path: str | os.PathLike[str], *, max_frames: int = 100) -> Path:
        """Write one self-contained HTML page that steps through both passes; return its path.

        The page has the diagrams as inline SVG and a few lines of JavaScript, loads nothing
        from the network, and works in any browser from a file: buttons, a slider, the arrow
        keys (Home/End for first/last, space to play). Diagrams are included for at most
        ``max_frames`` steps (shared by the two passes; the page says which); equations for all.
        The file is written to a temporary file beside it and moved into place, so a failure
        leaves nothing behind; a path that cannot be written raises an ``OSError`` naming it.
        """
        target = Path(os.fspath(path)).expanduser()
        max_frames = count(max_frames, "save_html: max_frames", least=0, wrong_type=ValueError)
        folder = target.parent.resolve()
        if target.is_dir():
            raise IsADirectoryError(f"save_html: {str(target)!r} is a directory, not a file")
        if not folder.is_dir():
            raise FileNotFoundError(
                f"save_html: cannot write {str(target)!r}: folder {str(folder)!r} does not exist"
            )
        page = self._page(fragment=False, max_frames=max_frames)
        try:
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
        except OSError as err:
            raise type(err)(f"save_html: cannot write {str(target)!r}: {err.strerror}") from err
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(page)
            os.chmod(tmp, 0o666 & ~_umask())  # as an ordinary new file, not mkstemp's 0600
            os.replace(tmp, target)
        except BaseException as err:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            if isinstance(err, OSError):
                raise type(err)(f"save_html: cannot write {str(target)!r}: {err}") from err
            raise
        return target

    def _page(self, *, fragment: bool, max_frames: int) -> str:
        """The stepper as HTML: a whole page, or a fragment for a notebook cell."""
        budget = {"forward": min(len(self.forward), max_frames // 2)}
        budget["backward"] = min(len(self.backward), max_frames - budget["forward"])
        budget["forward"] = min(len(self.forward), max_frames - budget["backward"])
        wanted = [(m, i) for m in MODES for i in range(budget[m])]
        notes = [self._note()] if self._note() else []
        try:
            svgs = render_svgs([self.digraph(m, i) for m, i in wanted])
        except (ImportError, RuntimeError, OSError, ValueError) as err:
            svgs, wanted = [], []
            notes.append(f"No diagrams: {err}")
        slot = {key: k for k, key in enumerate(wanted)}
        if any(budget[m] < len(self._steps(m)) for m in MODES) and svgs:
            notes.append(
                f"Diagrams are included for the first {budget['forward']} forward and "
                f"{budget['backward']} backward steps (max_frames={max_frames}); "
                "the equations of every step are here."
            )
        passes = {
            m: [
                {
                    "title": f.title,
                    "node": f.name,
                    "equation": f.equation,
                    "svg": slot.get((m, i)),
                }
                for i, f in enumerate(self.frame(m, i) for i in range(len(self._steps(m))))
            ]
            for m in MODES
        }
        data = {
            "start": self._mode,
            "passes": passes,
            "svgs": svgs,
            "missing": "No diagram for this step (see the note below); its equation is exact.",
        }
        payload = json.dumps(data, ensure_ascii=False)
        for ch, esc in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e")):
            payload = payload.replace(ch, esc)  # nothing in the data can end the <script>
        uid = f"mgl-{uuid.uuid4().hex[:12]}"
        name = html.escape(self._names[self.root])
        start = self.frame(self._mode, 0)  # drawn in the HTML too, for viewers without scripts
        body = _FRAGMENT.format(
            uid=uid,
            css=_CSS,
            title=html.escape(start.title),
            counter=f"step 1 of {start.count}",
            graph=svgs[slot[self._mode, 0]] if (self._mode, 0) in slot else "",
            equation=html.escape(start.equation),
            head=f"Stepping through <b>{name}</b> = {_num(self.root.data)} "
            f"· {len(self._names)} values",
            note="<br>".join(html.escape(n) for n in notes),
            data=payload,
            js=_JS,
            global_keys="true" if not fragment else "false",
        )
        if fragment:
            return body
        return _PAGE.format(title=f"Stepping through {name}", body=body)


def _pass(mode: object) -> str:
    if mode not in MODES:
        raise ValueError(f"Stepper: mode must be 'forward' or 'backward', got {mode!r}")
    return mode


def _umask() -> int:
    mask = os.umask(0)  # reading the umask means setting it; put it straight back
    os.umask(mask)
    return mask


class StepperWidget:
    """The Jupyter UI of a :class:`Stepper`: Play, Previous, Next, a slider and a pass toggle.

    Each frame shows the step's title, its diagram (drawn when first shown) and its equation
    typeset from LaTeX. The controls are attributes (``next``, ``previous``, ``slider``,
    ``toggle``, ``play``) and the shown content too (``title``, ``graph``, ``equation``), so
    code can drive it; ``box`` is the whole widget.
    """

    def __init__(self, stepper: Stepper) -> None:
        try:
            import ipywidgets as w
        except ImportError:
            raise ImportError(
                "Stepper.widget() needs ipywidgets (pip install ipywidgets); without it use "
                "print(stepper) for a text walk-through or stepper.save_html(path) for a page"
            ) from None
        self.stepper = stepper
        last = len(stepper.steps) - 1
        self.toggle = w.ToggleButtons(
            options=[("Forward pass", "forward"), ("Backward pass", "backward")],
            value=stepper.mode,
        )
        self.play = w.Play(value=stepper.index, min=0, max=last, interval=_INTERVAL_MS)
        self.previous = w.Button(description="Previous", icon="step-backward")
        self.next = w.Button(description="Next", icon="step-forward")
        self.slider = w.IntSlider(value=stepper.index, min=0, max=last, readout=False)
        self.counter = w.Label()
        self.title = w.HTML()
        self.graph = w.HTML()
        self.equation = w.HTMLMath()
        controls = w.HBox([self.play, self.previous, self.next, self.slider, self.counter])
        self.box = w.VBox([self.toggle, controls, self.title, self.graph, self.equation])
        w.link((self.play, "value"), (self.slider, "value"))
        self.slider.observe(self._on_index, names="value")
        self.toggle.observe(self._on_mode, names="value")
        self.previous.on_click(lambda _: self._go(-1))
        self.next.on_click(lambda _: self._go(1))
        self._show()

    def _go(self, delta: int) -> None:
        self.slider.value = max(0, min(self.slider.max, self.slider.value + delta))

    def _on_index(self, change: dict[str, Any]) -> None:
        self.stepper.index = change["new"]
        self._show()

    def _on_mode(self, change: dict[str, Any]) -> None:
        self.stepper.mode = change["new"]
        last = len(self.stepper.steps) - 1
        self.slider.value = 0  # first, so it is in range of the new pass
        self.slider.max = self.play.max = last
        self._show()

    def _show(self) -> None:
        s = self.stepper
        frame = s.frame()
        try:
            self.graph.value = f'<div style="overflow-x:auto">{s.svg()}</div>'
        except (ImportError, RuntimeError, OSError, ValueError) as err:
            self.graph.value = f"<p><i>No diagram: {html.escape(str(err))}</i></p>"
        self.title.value = f"<b>{html.escape(frame.title)}</b>" + (
            f"<br><small>{html.escape(frame.note)}</small>" if frame.note else ""
        )
        self.equation.value = f"$${frame.latex}$$"
        self.counter.value = f"step {frame.index + 1} of {frame.count}"
        self.previous.disabled = frame.index == 0
        self.next.disabled = frame.index == frame.count - 1

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.box)  # type: ignore[no-untyped-call]


_CSS = """
.mgl-stepper{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;
 max-width:1120px;margin:0 auto;padding:18px 20px;outline:none}
.mgl-head{font-size:18px;margin:0 0 12px}
.mgl-bar{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin-bottom:10px}
.mgl-stepper button{font:inherit;font-size:14px;padding:5px 12px;border:1px solid #d0d7de;
 border-radius:6px;background:#f6f8fa;color:#1f2328;cursor:pointer}
.mgl-stepper button:hover:not(:disabled){background:#eaeef2}
.mgl-stepper button[aria-pressed="true"]{background:#7c3aed;border-color:#7c3aed;color:#fff}
.mgl-stepper button:disabled{opacity:.4;cursor:default}
.mgl-passes{display:inline-flex;gap:0}
.mgl-passes button:first-child{border-radius:6px 0 0 6px}
.mgl-passes button:last-child{border-radius:0 6px 6px 0;margin-left:-1px}
.mgl-slider{flex:1 1 160px;accent-color:#7c3aed}
.mgl-counter{color:#57606a;font-variant-numeric:tabular-nums;min-width:100px}
.mgl-title{font-weight:600;margin:6px 0 8px}
.mgl-graph{border:1px solid #d0d7de;border-radius:8px;padding:10px;overflow:auto;
 background:#fff;text-align:center;min-height:80px}
.mgl-graph svg{max-width:100%;height:auto}
.mgl-equation{background:#f6f8fa;border:1px solid #eaeef2;border-radius:8px;padding:10px 14px;
 margin:10px 0;font:14px/1.6 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;
 white-space:pre-wrap;overflow-x:auto}
.mgl-note,.mgl-keys{color:#57606a;font-size:13px;margin:6px 0}
"""

_FRAGMENT = """<div class="mgl-stepper" id="{uid}" tabindex="0">
<style>{css}</style>
<div class="mgl-head">{head}</div>
<div class="mgl-bar">
<span class="mgl-passes"><button type="button" data-pass="forward">Forward pass</button\
><button type="button" data-pass="backward">Backward pass</button></span>
<button type="button" data-go="first" title="First step (Home)">« First</button>
<button type="button" data-go="prev" title="Previous step (←)">◀ Previous</button>
<button type="button" data-go="play" title="Play / pause (space)">▶ Play</button>
<button type="button" data-go="next" title="Next step (→)">Next ▶</button>
<button type="button" data-go="last" title="Last step (End)">Last »</button>
<input type="range" class="mgl-slider" min="0" max="0" value="0" aria-label="step">
<span class="mgl-counter">{counter}</span>
</div>
<div class="mgl-title">{title}</div>
<div class="mgl-graph">{graph}</div>
<pre class="mgl-equation">{equation}</pre>
<p class="mgl-note">{note}</p>
<p class="mgl-keys">Keys: ← → step, Home / End first / last, space play / pause, \
F / B forward / backward pass.</p>
<script type="application/json" class="mgl-data">{data}</script>
<script>{js}(document.getElementById("{uid}"), {global_keys});</script>
</div>"""

_JS = """(function (root, globalKeys) {
  var data = JSON.parse(root.querySelector(".mgl-data").textContent);
  var mode = data.start, index = 0, timer = null;
  function el(cls) { return root.querySelector("." + cls); }
  var graph = el("mgl-graph"), eq = el("mgl-equation"), title = el("mgl-title");
  var counter = el("mgl-counter"), slider = el("mgl-slider");
  function btn(sel) { return root.querySelector("button[" + sel + "]"); }
  function steps() { return data.passes[mode]; }
  function show() {
    var f = steps()[index], last = steps().length - 1;
    title.textContent = f.title;
    eq.textContent = f.equation;
    if (f.svg === null) {
      graph.innerHTML = "";
      var p = document.createElement("p");
      p.textContent = data.missing;
      graph.appendChild(p);
    } else {
      graph.innerHTML = data.svgs[f.svg];
    }
    slider.max = last;
    slider.value = index;
    counter.textContent = "step " + (index + 1) + " of " + (last + 1);
    root.dataset.mode = mode;
    root.dataset.index = index;
    root.dataset.node = f.node;
    btn('data-pass="forward"').setAttribute("aria-pressed", mode === "forward");
    btn('data-pass="backward"').setAttribute("aria-pressed", mode === "backward");
    btn('data-go="first"').disabled = btn('data-go="prev"').disabled = index === 0;
    btn('data-go="last"').disabled = btn('data-go="next"').disabled = index === last;
    btn('data-go="play"').textContent = timer ? "Pause" : "▶ Play";
  }
  function go(i) { index = Math.max(0, Math.min(steps().length - 1, i)); show(); }
  function stop() { clearInterval(timer); timer = null; show(); }
  function play() {
    if (timer) { stop(); return; }
    if (index === steps().length - 1) { index = 0; }
    timer = setInterval(function () {
      if (index >= steps().length - 1) { stop(); } else { go(index + 1); }
    }, INTERVAL);
    show();
  }
  function pass(m) { if (timer) { stop(); } mode = m; go(0); }
  var actions = {
    first: function () { go(0); }, prev: function () { go(index - 1); },
    next: function () { go(index + 1); }, last: function () { go(steps().length - 1); },
    play: play
  };
  root.addEventListener("click", function (e) {
    var b = e.target.closest("button");
    if (!b || !root.contains(b)) { return; }
    if (b.dataset.pass) { pass(b.dataset.pass); }
    if (b.dataset.go) { actions[b.dataset.go](); }
  });
  slider.addEventListener("input", function () { go(Number(slider.value)); });
  var keys = {
    ArrowRight: actions.next, ArrowDown: actions.next, ArrowLeft: actions.prev,
    ArrowUp: actions.prev, Home: actions.first, End: actions.last, " ": play,
    f: function () { pass("forward"); }, b: function () { pass("backward"); }
  };
  (globalKeys ? document : root).addEventListener("keydown", function (e) {
    var t = e.target, key = keys[e.key];
    if (!key || e.altKey || e.ctrlKey || e.metaKey || t === slider) { return; }
    if (t.tagName === "BUTTON" && (e.key === " " || e.key === "Enter")) { return; }
    e.preventDefault();
    key();
  });
  show();
})""".replace("INTERVAL", str(_INTERVAL_MS))

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
</head>
<body style="margin:0;background:#ffffff">
{body}
</body>
</html>
"""
