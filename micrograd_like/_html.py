"""HTML for notebooks and pages: figures that fit their width, escaping, and shared styles.

The CSS and JavaScript live as files in ``micrograd_like/web/``; this module reads them and
fills in the pieces. Everything a user wrote (labels, op symbols) reaches HTML only through
:func:`escape`, and data for scripts only through :func:`script_json`, which nothing in a
label can end early.
"""

from __future__ import annotations

import base64
import functools
import html
import json
from importlib import resources
from typing import Any

__all__ = ["escape", "figure_html", "script_json", "web_file"]


@functools.cache
def web_file(name: str) -> str:
    """The text of ``micrograd_like/web/<name>`` (CSS, JavaScript or an HTML template)."""
    return resources.files("micrograd_like").joinpath("web", name).read_text(encoding="utf-8")


def escape(text: str) -> str:
    """``text`` as HTML text or attribute value: ``& < > " '`` become character references."""
    return html.escape(text, quote=True)


def script_json(data: Any) -> str:
    """``data`` as JSON to put inside a ``<script>`` element: ``<``, ``>`` and ``&`` escaped,
    so no string in it can close the element or open a comment."""
    text = json.dumps(data, ensure_ascii=False)
    for ch, esc in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e")):
        text = text.replace(ch, esc)
    # U+2028 and U+2029 are line breaks in older JavaScript parsers; keep them escaped
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def figure_html(svg: str, png: bytes | None = None) -> str:
    """A diagram for a notebook: the inline SVG fitted to the output's width (hover shows the
    tooltips), in a box that scrolls when the diagram is wider than it may shrink."""
    del png  # the static copies travel as their own mime types
    return (
        f'<div class="mgl-figure"><style>{web_file("figure.css")}</style>'
        f'<div class="mgl-fig-view">{svg}</div></div>'
    )


def png_data_uri(png: bytes) -> str:
    """A ``data:`` URI for PNG bytes (for an ``<img>`` that needs no file beside the page)."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
