"""DOT text written by our own code, and its rendering by Graphviz's ``dot`` program.

:class:`DotGraph` builds a ``digraph`` statement by statement (graph, node and edge
attributes, nodes, edges, clusters) and gives its text as ``.source``. It needs no package and
no program, so diagrams can be built anywhere, even in a browser (where a WebAssembly Graphviz
renders the text). :func:`render` turns DOT text into SVG, PNG, PDF, ... by running ``dot``;
without it, :class:`DotNotFound` says how to install it.

Names and attribute values are quoted as DOT needs: an ``<...>`` value is an HTML-like label
and is written as it is (its markup must already be escaped, see ``drawing._text``); any other
value is written bare when it is a plain identifier or number, else double-quoted with its
quotes escaped. Plain values may use Graphviz's own escapes (``\\n`` in a tooltip); user text
never goes into one (labels are data, written only through HTML-like labels).
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

__all__ = ["FORMATS", "DotGraph", "DotNotFound", "render"]

# the output formats every Graphviz build writes (dot -T...); others depend on plug-ins
FORMATS = ("svg", "png", "pdf", "jpg", "jpeg", "gif", "ps", "eps", "json", "dot", "plain", "xdot")
INSTALL_HINT = (
    "Graphviz's `dot` program is needed to render diagrams; install it with "
    "`sudo apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` (macOS) or "
    "`conda install -c conda-forge graphviz`, then make sure `dot` is on your PATH"
)
_ID = re.compile(r"[A-Za-z_\x80-\uffff][\w\x80-\uffff]*\Z|-?(?:\.\d+|\d+(?:\.\d*)?)\Z")
_KEYWORDS = {"node", "edge", "graph", "digraph", "subgraph", "strict"}
_UNESCAPED_QUOTE = re.compile(r'(?<!\\)(?:\\\\)*"')


def quote(value: str) -> str:
    """Return ``value`` as a DOT identifier: bare, an HTML-like label, or double-quoted."""
    if value.startswith("<") and value.endswith(">"):
        return value
    if _ID.match(value) and value.lower() not in _KEYWORDS:
        return value
    quoted = _UNESCAPED_QUOTE.sub(lambda m: m.group(0)[:-1] + '\\"', value)
    if (len(quoted) - len(quoted.rstrip("\\"))) % 2:
        quoted += "\\"  # a lone backslash at the end would escape the closing quote
    return f'"{quoted}"'


def _attrs(attrs: Mapping[str, str | None]) -> str:
    # label first (it is what a reader looks for), the rest sorted, so the text is stable
    items = sorted((k, v) for k, v in attrs.items() if v is not None and k != "label")
    label = attrs.get("label")
    if label is not None:
        items.insert(0, ("label", label))
    return " ".join(f"{quote(k)}={quote(v)}" for k, v in items)


class DotGraph:
    """A Graphviz ``digraph`` built statement by statement; ``.source`` is its DOT text.

    ``node``, ``edge`` and ``attr`` add statements in order; ``subgraph(name)`` is a context
    manager whose statements go into a nested ``subgraph`` (a ``cluster_...`` name draws a
    box around them). Values are strings (``None`` leaves an attribute out).
    """

    def __init__(
        self,
        name: str = "G",
        *,
        graph_attr: Mapping[str, str] | None = None,
        node_attr: Mapping[str, str] | None = None,
        edge_attr: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self._lines: list[str] = []
        self._depth = 1
        for kind, attrs in (("graph", graph_attr), ("node", node_attr), ("edge", edge_attr)):
            if attrs:
                self._add(f"{kind} [{_attrs(attrs)}]")

    def _add(self, line: str) -> None:
        self._lines.append("\t" * self._depth + line)

    def node(self, name: str, label: str | None = None, **attrs: str | None) -> None:
        """Add a node statement (``label`` may be an HTML-like ``<...>`` label)."""
        body = _attrs({"label": label, **attrs})
        self._add(f"{quote(name)} [{body}]" if body else quote(name))

    def edge(self, tail: str, head: str, label: str | None = None, **attrs: str | None) -> None:
        """Add an edge statement ``tail -> head``."""
        body = _attrs({"label": label, **attrs})
        self._add(f"{quote(tail)} -> {quote(head)}" + (f" [{body}]" if body else ""))

    def attr(self, **attrs: str | None) -> None:
        """Set attributes of the graph (or of the current subgraph)."""
        self._add(_attrs(attrs))

    @contextmanager
    def subgraph(self, name: str) -> Iterator[DotGraph]:
        """Write the statements made inside the ``with`` block into ``subgraph name { ... }``."""
        self._add(f"subgraph {quote(name)} {{")
        self._depth += 1
        try:
            yield self
        finally:
            self._depth -= 1
            self._add("}")

    @property
    def source(self) -> str:
        """The DOT text of the graph."""
        return "\n".join([f"digraph {quote(self.name)} {{", *self._lines, "}"]) + "\n"


class DotNotFound(RuntimeError):
    """Graphviz's ``dot`` program is not installed (or not on ``PATH``); the message says how.

    Where the ``graphviz`` Python package is installed, the error raised is also a
    ``graphviz.ExecutableNotFound``, so code written for that package catches it as before.
    """

    def __init__(self, message: str) -> None:
        RuntimeError.__init__(self, message)


@functools.cache
def _not_found_class() -> type[DotNotFound]:
    try:
        import graphviz
    except ImportError:
        return DotNotFound
    return type("DotNotFound", (DotNotFound, graphviz.ExecutableNotFound), {})


def dot_program() -> str:
    """Return the path of Graphviz's ``dot`` program; :class:`DotNotFound` without it."""
    path = shutil.which("dot")
    if path is None:
        raise _not_found_class()(f"failed to execute 'dot': not found on PATH. {INSTALL_HINT}")
    return path


def render(source: str, format: str = "svg") -> bytes:
    """Render DOT text to ``format`` (``"svg"``, ``"png"``, ``"pdf"``, ...) with ``dot``.

    Raises :class:`DotNotFound` without the program, ``ValueError`` for a format not in
    :data:`FORMATS`, and ``RuntimeError`` with Graphviz's own message if it rejects the text.
    """
    if not isinstance(source, str):
        raise TypeError(f"render: source must be DOT text (a str), got {type(source).__name__}")
    if not isinstance(format, str) or format.lower() not in FORMATS:
        raise ValueError(
            f"render: format {format!r} is not one Graphviz renders; use one of "
            f"{', '.join(FORMATS)}"
        )
    program = dot_program()
    try:
        done = subprocess.run(
            [program, f"-T{format.lower()}"],
            input=source.encode("utf-8"),
            capture_output=True,
            check=False,
        )
    except FileNotFoundError:  # removed between which() and run()
        raise _not_found_class()(f"failed to execute 'dot'. {INSTALL_HINT}") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip()
        raise RuntimeError(f"Graphviz's dot failed (exit status {done.returncode}): {message}")
    return done.stdout
