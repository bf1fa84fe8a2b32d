"""Serve the built site (``site/``) on 127.0.0.1: ``make serve``, or ``python web/serve.py``.

Any static file server works for the site (``python -m http.server`` included). This one adds
two headers, ``Cross-Origin-Opener-Policy: same-origin`` and
``Cross-Origin-Embedder-Policy: require-corp``, which make the pages cross-origin isolated:
then the playground's Stop button interrupts running Python in place (a ``KeyboardInterrupt``)
instead of restarting it. ``--plain`` leaves them out, as most static hosts do.
"""

from __future__ import annotations

import argparse
import functools
import sys
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ISOLATION_HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
}


class SiteHandler(SimpleHTTPRequestHandler):
    """Static files with the right types for WebAssembly and the isolation headers."""

    isolated = True
    extensions_map = {  # noqa: RUF012 (http.server's own class attribute)
        **SimpleHTTPRequestHandler.extensions_map,
        ".wasm": "application/wasm",
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".py": "text/plain; charset=utf-8",
        ".json": "application/json",
    }

    def end_headers(self) -> None:
        if self.isolated:
            for name, value in ISOLATION_HEADERS.items():
                self.send_header(name, value)
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        if not getattr(self.server, "quiet", False):
            super().log_message(format, *args)


def make_server(
    directory: Path, port: int = 0, *, isolated: bool = True, quiet: bool = False
) -> ThreadingHTTPServer:
    """A server for ``directory`` on 127.0.0.1 (``port=0``: any free port), not yet started.

    ``isolated`` sends the cross-origin isolation headers; ``quiet`` logs no requests.
    """
    handler = type("Handler", (SiteHandler,), {"isolated": isolated})
    server = ThreadingHTTPServer(
        ("127.0.0.1", port), functools.partial(handler, directory=str(directory))
    )
    server.quiet = quiet  # type: ignore[attr-defined]
    return server


def main(argv: list[str] | None = None) -> int:
    """Serve until Ctrl-C; a missing site or a busy port is one line and exit status 1."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument("--dir", type=Path, default=ROOT / "site", help="folder (default site/)")
    parser.add_argument(
        "--plain", action="store_true", help="no cross-origin isolation headers (Stop restarts)"
    )
    args = parser.parse_args(argv)
    if not (args.dir / "index.html").is_file():
        print(f"make serve: {args.dir} has no site; run `make site` first", file=sys.stderr)
        return 1
    try:
        server = make_server(args.dir, args.port, isolated=not args.plain)
    except OSError as err:
        print(
            f"make serve: cannot listen on 127.0.0.1:{args.port}: {err.strerror}", file=sys.stderr
        )
        return 1
    port = server.server_address[1]
    print(f"serving {args.dir} at http://127.0.0.1:{port}/ (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
