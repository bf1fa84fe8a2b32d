"""The Jupyter widget of a Stepper: Play, Previous, Next, a slider and a pass toggle.

Driven by the kernel, it draws each frame only when it is shown, so it suits graphs whose
frames are too many to carry in a notebook's output. A plain ``Stepper`` in a cell shows the
self-contained player instead, which survives saving and sharing.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from micrograd_like.stepper import Stepper

__all__ = ["StepperWidget"]

_INTERVAL_MS = 900  # Play's pace


class StepperWidget:
    """The Jupyter UI of a :class:`~micrograd_like.stepper.Stepper`.

    Each frame shows the step's title, its equation typeset from LaTeX (labels escaped for
    TeX and for HTML: labels are data), and its diagram fitted to the width (a large graph's
    neighbourhood, with an overview). The controls come first and the equation before the
    diagram, so both stay in view whatever the graph's size. The controls are attributes
    (``next``, ``previous``, ``slider``, ``toggle``, ``play``) and the shown content too
    (``title``, ``graph``, ``equation``), so code can drive it; ``box`` is the whole widget.
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
        self.graph = w.HTML(layout=w.Layout(width="100%"))
        self.equation = w.HTMLMath()
        controls = w.HBox([self.play, self.previous, self.next, self.slider, self.counter])
        self.box = w.VBox(
            [self.toggle, controls, self.title, self.equation, self.graph],
            layout=w.Layout(width="100%"),
        )
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
            self.graph.value = s.frame_html()
        except (ImportError, RuntimeError, OSError, ValueError) as err:
            self.graph.value = f"<p><i>No diagram: {html.escape(str(err))}</i></p>"
        self.title.value = f"<b>{html.escape(frame.title)}</b>" + (
            f"<br><small>{html.escape(frame.note)}</small>" if frame.note else ""
        )
        # HTMLMath sets innerHTML: the TeX (labels already TeX-escaped) must be HTML-escaped too
        self.equation.value = f"$${html.escape(frame.latex)}$$"
        self.counter.value = f"step {frame.index + 1} of {frame.count}"
        self.previous.disabled = frame.index == 0
        self.next.disabled = frame.index == frame.count - 1

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.box)  # type: ignore[no-untyped-call]
