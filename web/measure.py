"""Measure the built site in Debian's Chromium: start-up, first result, 100 training steps, size.

Usage (after ``make site``, in the dev environment, which has Playwright):
``.venv/bin/python web/measure.py``. It serves ``site/`` on 127.0.0.1, opens the playground
(time until Python is up, and until the first example has run and is drawn) and the training
page (Play until step 100: the wall time in the browser), and runs the same 100 steps with
the same glue in this CPython process, side by side, for the ratio. The machine's load average
is printed too: on a shared machine every figure moves with it.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

WEB = Path(__file__).resolve().parent
ROOT = WEB.parent
sys.path[:0] = [str(WEB), str(WEB / "py"), str(ROOT / "tests")]

from conftest import CHROMIUM_ARGS  # type: ignore[import-not-found]  # noqa: E402
from mgl_site.training import Config, Trainer  # noqa: E402
from serve import make_server  # noqa: E402

TIMEOUT_MS = 600_000


def cpython_steps(n: int) -> float:
    """Seconds for ``n`` steps plus each step's state (neuron graph, weights) in CPython."""
    trainer = Trainer(Config())
    start = time.perf_counter()
    for _ in range(n):
        trainer.step()
        trainer.state(graph=True)
    return time.perf_counter() - start


def main() -> int:
    """Print the figures; exit status 1 if the site is not built."""
    site = ROOT / "site"
    if not (site / "index.html").is_file():
        print("measure: no site/; run `make site` first", file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    server = make_server(site, 0, isolated=True, quiet=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{base}/index.html")
        page.wait_for_function("document.body.dataset.status === 'ok'", timeout=TIMEOUT_MS)
        boot = float(page.evaluate("document.body.dataset.bootSeconds"))
        first = float(page.evaluate("document.body.dataset.firstResult"))
        print(f"playground: Python up in {boot:.1f} s, first result {first:.1f} s after opening")
        print(f"  start-up phases (s): {page.evaluate('document.body.dataset.bootPhases')}")
        page.goto(f"{base}/train.html")
        page.wait_for_function("document.body.dataset.state === 'paused'", timeout=TIMEOUT_MS)
        page.click("#play")
        page.wait_for_function(
            "document.body.dataset.state === 'paused' && document.body.dataset.step === '100'",
            timeout=TIMEOUT_MS,
        )
        browser_s = float(page.evaluate("document.body.dataset.playSeconds"))
        accuracy = page.evaluate("document.body.dataset.accuracy")
        browser.close()
    server.shutdown()
    cpython_s = cpython_steps(100)
    print(
        f"training: 100 steps in the browser {browser_s:.1f} s (accuracy {accuracy}), "
        f"in CPython {cpython_s:.1f} s (the same steps and states, no drawing): "
        f"{browser_s / cpython_s:.1f}x"
    )
    size = sum(f.stat().st_size for f in site.rglob("*") if f.is_file())
    print(f"site/: {size / 1e6:.1f} MB in {sum(1 for f in site.rglob('*') if f.is_file())} files")
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
