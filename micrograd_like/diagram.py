"""A rendered-on-demand diagram: DOT text plus rendering by Graphviz's ``dot`` and Jupyter display.

:class:`Diagram` is what ``draw_dot`` returns; :func:`render_svgs` renders many diagrams for a
web page with one run of ``dot``.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from micrograd_like._files import a_path, write_atomically
from micrograd_like._validate import flag
from micrograd_like.dotwriter import render

if TYPE_CHECKING:
    from micrograd_like.engine import Value

__all__ = ["Diagram", "render_svgs"]

# what render_svgs strips from dot's SVG: the XML prolog and DOCTYPE before <svg>, comments,
# and namespace declarations (HTML puts inline <svg> in the SVG namespace by itself)
_SVG_HEAD = re.compile(r"\A.*?(?=<svg\b)", re.S)
_SVG_NOISE = re.compile(r"<!--.*?-->|\s+xmlns(?::xlink)?=\"[^\"]*\"", re.S)


def render_svgs(diagrams: Sequence[Diagram]) -> list[str]:
    """Render diagrams to SVG text for a web page, with one run of Graphviz's ``dot`` for all.

    Each result is the ``<svg>`` element alone (no XML prolog, comments or namespace
    declarations, which HTML does not need), ready to paste into a page; one process for many
    diagrams is much faster than one each. Without ``dot`` this raises :class:`DotNotFound`
    saying how to install it.
    """
    diagrams = list(diagrams)
    for i, d in enumerate(diagrams):
        if not isinstance(d, Diagram):
            raise TypeError(
                f"render_svgs: diagrams[{i}] must be a Diagram (what draw_dot returns), "
                f"got {d!r:.60}"
            )
    if not diagrams:
        return []
    out = render("\n".join(d.source for d in diagrams), "svg").decode("utf-8")
    return [_inline_svg(part) for part in out.split("</svg>")[: len(diagrams)]]


def _inline_svg(text: str) -> str:
    # dot's SVG document as an element for HTML: no prolog, comments or namespace declarations
    text = text if text.rstrip().endswith("</svg>") else text + "</svg>"
    return _SVG_NOISE.sub("", _SVG_HEAD.sub("", text)).strip()


class Diagram:
    """A graph diagram: its DOT text, and its rendering by Graphviz's ``dot`` on demand.

    ``source`` is the DOT text (made by our own code: no package or program needed).
    :meth:`pipe` renders it to bytes, :meth:`render` to a file and :meth:`svg` to an inline
    ``<svg>`` element; these need Graphviz's ``dot`` and raise :class:`DotNotFound` (with the
    install command) without it. In Jupyter a diagram shows inline, fitted to the output's
    width, with static copies (SVG, PNG) in the output so a saved notebook still shows it.
    """

    def __init__(
        self,
        source: str,
        *,
        format: str = "svg",
        title: str = "",
        values: int = 0,
        ids: Mapping[Value, str] | None = None,
    ) -> None:
        self.source = source
        self.format = format
        self.title = title
        self.values = values
        # the DOT node (or group box) that draws each value: how a page finds a value's box
        self.ids: Mapping[Value, str] = ids or {}

    def pipe(self, format: str | None = None, encoding: str | None = None) -> Any:
        """Return the diagram rendered by ``dot`` in ``format`` (default: ``self.format``).

        Bytes, or text decoded with ``encoding`` when one is given (``pipe("svg", "utf-8")``).
        """
        out = render(self.source, self.format if format is None else format)
        return out if encoding is None else out.decode(encoding)

    def render(
        self,
        filename: str | os.PathLike[str] | None = None,
        directory: str | os.PathLike[str] | None = None,
        *,
        format: str | None = None,
        outfile: str | os.PathLike[str] | None = None,
        cleanup: bool = False,
    ) -> str:
        """Write the rendered diagram to a file and return its path (as ``graphviz`` does).

        ``render(outfile="g.png")`` writes ``g.png`` (the format from the suffix unless
        ``format`` is given). ``render("g")`` writes the DOT text to ``g`` and the picture to
        ``g.<format>`` (``cleanup=True`` removes the DOT file again). The picture is written to
        a temporary file beside it and renamed, so a failure leaves no half-written file.
        """
        flag(cleanup, "Diagram.render: cleanup")
        if outfile is None and filename is None:
            raise TypeError("Diagram.render: give outfile= (or a filename for the DOT text)")
        folder = Path() if directory is None else a_path(directory, "Diagram.render: directory")
        dot_file = (
            None if filename is None else folder / a_path(filename, "Diagram.render: filename")
        )
        if outfile is not None:
            target = folder / a_path(outfile, "Diagram.render: outfile")
            fmt = format or target.suffix.lstrip(".").lower() or self.format
        else:
            fmt = format or self.format
            target = Path(f"{dot_file}.{fmt}")
        data = render(self.source, fmt)
        write_atomically(target, data, "Diagram.render")
        if dot_file is not None:
            if cleanup:
                dot_file.unlink(missing_ok=True)
            else:
                write_atomically(dot_file, self.source.encode("utf-8"), "Diagram.render")
        return os.fspath(target)

    def save(self, path: str | os.PathLike[str], format: str | None = None) -> Path:
        """Write the rendered diagram to ``path`` (format from its suffix) and return the path."""
        return Path(self.render(outfile=path, format=format))

    def svg(self) -> str:
        """Return the diagram as an inline ``<svg>`` element for a web page (needs ``dot``)."""
        return _inline_svg(self.pipe("svg", "utf-8"))

    def __repr__(self) -> str:
        return (
            f"<Diagram of {self.title} ({self.values} values): .source is its DOT text; "
            ".render(outfile='g.png') saves it; shown as a picture in Jupyter>"
        )

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None, **kwargs: Any
    ) -> dict[str, Any]:
        """What Jupyter shows: the diagram as HTML (inline SVG, so hover works), plus SVG and
        PNG copies and a line of text, so every viewer of a saved notebook finds a picture."""
        from micrograd_like._html import figure_html

        svg = self.svg()
        png = self.pipe("png")
        return {
            "text/plain": repr(self),
            "text/html": figure_html(svg, png, alt=f"graph of {self.title}"),
            "image/svg+xml": svg,
            "image/png": base64.b64encode(png).decode("ascii"),
        }
