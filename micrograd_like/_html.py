"""HTML for notebooks and pages: figures that fit their width, escaping, and shared styles.

The CSS and JavaScript live as files in ``micrograd_like/web/``; this module reads them and
fills in the pieces. Everything a user wrote (labels, op symbols) reaches HTML only through
:func:`escape`, and data for scripts only through :func:`script_json`, which nothing in a
label can end early. Colours come from JupyterLab's CSS variables where it has them (so the
dark theme reads well), with light fallbacks everywhere else.
"""

from __future__ import annotations

import base64
import functools
import html
import json
import re
import uuid
from importlib import resources
from typing import Any

__all__ = [
    "escape",
    "figure_html",
    "mark_node",
    "script_json",
    "web_file",
]

_SVG_SIZE = re.compile(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"')


@functools.cache
def web_file(name: str) -> str:
    """The text of ``micrograd_like/web/<name>`` (CSS, JavaScript or an HTML template)."""
    return resources.files("micrograd_like").joinpath("web", name).read_text(encoding="utf-8")


def fill(template: str, **parts: str) -> str:
    """``template`` (a file of ``web/``) with each ``{{name}}`` replaced by ``parts[name]``."""
    text = web_file(template)
    for name, part in parts.items():
        text = text.replace("{{" + name + "}}", part)
    return text


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


def min_width(svg: str, scale: float = 0.75) -> str:
    """``svg`` with a CSS ``min-width`` of ``scale`` times its size: fitted to a narrow box
    without a script, it shrinks no further (11-point text stays at least 11 px) and the box
    scrolls instead."""
    found = _SVG_SIZE.match(svg)
    if found is None:
        return svg
    width = float(found.group(1)) * scale
    return svg.replace("<svg ", f'<svg style="min-width:{width:.0f}pt" ', 1)


def mark_node(svg: str, node_id: str) -> str:
    """``svg`` (from dot) with the box of DOT node ``node_id`` given the class ``mgl-here``,
    which the figure styles fill purple: how an overview shows the current node without a
    script."""
    pattern = re.compile(
        r'(<g id="[^"]*" class="node)("\s*>\s*<title>'
        + re.escape(html.escape(node_id))
        + "</title>)"
    )
    return pattern.sub(r"\1 mgl-here\2", svg, count=1)


def static_png(png: bytes | None, alt: str) -> str:
    """An ``<img>`` of the PNG for viewers that run no scripts or strip inline SVG (an
    untrusted notebook, a renderer that sanitizes HTML); the script removes it where it runs."""
    if png is None:
        return ""
    uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return f'<img class="mgl-static" src="{uri}" alt="{escape(alt)}">'


def figure_html(svg: str, png: bytes | None = None, *, alt: str = "graph diagram") -> str:
    """A diagram for a notebook: the inline SVG (so hovering shows full precision) fitted to
    the output's width, with zoom, pan and a 100% toggle.

    The SVG travels inside the script's data and is drawn by the script, so a viewer that
    runs no scripts shows the PNG ``<img>`` instead (and a sanitizer that strips SVG leaves
    no stray text behind).
    """
    uid = f"mgl-{uuid.uuid4().hex[:12]}"
    return (
        f'<div class="mgl-figure" id="{uid}"><style>{web_file("figure.css")}</style>'
        f'<div class="mgl-view" hidden></div>{static_png(png, alt)}'
        f'<script type="application/json" class="mgl-svg">'
        f"{script_json([min_width(svg), web_file('zoom.html')])}</script>"
        f"<script>{web_file('view.js')}\n(function (root) {{"
        ' var parts = JSON.parse(root.querySelector(".mgl-svg").textContent);'
        ' root.querySelector(".mgl-view").insertAdjacentHTML("beforebegin", parts[1]);'
        ' root.querySelector(".mgl-view").hidden = false;'
        ' root.querySelectorAll(".mgl-static").forEach(function (e) { e.remove(); });'
        " mglView(root).show(parts[0]);"
        f'}})(document.getElementById("{uid}"));</script></div>'
    )
