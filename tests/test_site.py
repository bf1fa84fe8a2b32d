"""Tests for the static site (``make site``): its build, its Python glue, both pages in Chromium.

The pages are served on 127.0.0.1 by a server the tests start (``web/serve.py``, and plain
``python -m http.server`` for the fallbacks) and driven in Debian's headless Chromium; every
request a page makes is recorded and must stay on 127.0.0.1. Starting Pyodide takes seconds,
so the playground tests share one page, in the order of this file.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlparse

import pytest
from conftest import require_tool

from micrograd_like.data import make_moons
from micrograd_like.drawing import HIGHLIGHT, draw_dot, render_svgs
from micrograd_like.nn import MLP
from micrograd_like.ops import OPS, undefine_op
from micrograd_like.optim import SGD, LinearDecay
from micrograd_like.stepper import Stepper
from micrograd_like.train import fit

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
SITE = ROOT / "site"
EXAMPLES = sorted((WEB / "src" / "examples").glob("*.py"))
sys.path[:0] = [str(WEB), str(WEB / "py")]

import build_site  # noqa: E402
import serve  # noqa: E402
from mgl_site import api  # noqa: E402
from mgl_site.playground import Playground  # noqa: E402
from mgl_site.training import Config, Trainer  # noqa: E402

BOOT_MS = 240_000  # starting Pyodide: ~5 s on an idle machine, much more on a loaded one
RUN_MS = 120_000
# set to a folder (e.g. docs/images) to refresh the README's screenshots of both pages
SCREENSHOTS_ENV = "MICROGRAD_LIKE_SITE_SCREENSHOTS"
DONE = "['ok', 'error'].includes(document.body.dataset.status)"


def example_value(source: str) -> Any:
    """Run an example in CPython and return its last line's value (each ends with one)."""
    tree = ast.parse(source)
    namespace: dict[str, Any] = {}
    before = set(OPS)
    try:
        exec(compile(ast.Module(tree.body[:-1], []), "<example>", "exec"), namespace)
        last = tree.body[-1]
        if not isinstance(last, ast.Expr):
            raise ValueError("an example must end with the value it shows")
        return eval(compile(ast.Expression(last.value), "<example>", "eval"), namespace)
    finally:
        for name in set(OPS) - before:
            undefine_op(name)


def svg_node_count(value: Any) -> int:
    """Nodes of draw_dot's diagram of ``value`` as Graphviz's own ``dot`` renders it."""
    require_tool("dot")
    (svg,) = render_svgs([draw_dot(value)])
    return svg.count('class="node"')


# ----------------------------------------------------------------------------- the build


@pytest.fixture(scope="module")
def site() -> Path:
    """The built site, rebuilt here only if its sources changed since ``make site``."""
    manifest = SITE / "manifest.json"
    if manifest.is_file():
        built = json.loads(manifest.read_text(encoding="utf-8")).get("source")
        if built == build_site.source_digest():
            return SITE
    require_tool("npm")
    done = subprocess.run(
        [sys.executable, str(WEB / "build_site.py")], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        pytest.fail(f"make site failed:\n{done.stdout}{done.stderr}")
    return SITE


def test_site_holds_the_pinned_packages_and_this_checkout_s_wheel(site: Path) -> None:
    manifest = json.loads((site / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["versions"]["pyodide"] == "0.29.3"
    assert manifest["versions"]["@viz-js/viz"] == "3.11.0"
    lock = json.loads((WEB / "package-lock.json").read_text(encoding="utf-8"))["packages"]
    assert lock["node_modules/pyodide"]["version"] == "0.29.3"
    assert lock["node_modules/@viz-js/viz"]["version"] == "3.11.0"
    assert all(p.get("integrity", "sha512-").startswith("sha512-") for p in lock.values())
    # the same engine code as CPython runs: every module of the wheel is this checkout's file,
    # and the wheel is the pure one (the C accelerator's source and builds stay out)
    with zipfile.ZipFile(site / manifest["wheel"]) as wheel:
        modules = {n: wheel.read(n) for n in wheel.namelist() if n.startswith("micrograd_like/")}
    ours = {
        f"micrograd_like/{p.relative_to(ROOT / 'micrograd_like').as_posix()}": p.read_bytes()
        for p in (ROOT / "micrograd_like").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".c", ".so", ".pyd")
    }
    assert modules == ours
    assert manifest["wheel"].endswith("-py3-none-any.whl")
    # only what the pages load: no source maps, no node_modules, no second Pyodide build
    names = {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()}
    assert {"index.html", "train.html", "worker.js", "pyodide/pyodide.asm.wasm"} <= names
    assert not [n for n in names if n.endswith(".map") or "node_modules" in n]
    # the pages' own files name no other host: everything comes from the site itself
    for name in names:
        if name.endswith((".html", ".js", ".css", ".py")) and not name.startswith(
            ("pyodide/", "vendor/")
        ):
            text = (site / name).read_text(encoding="utf-8")
            assert "http://" not in text and "https://" not in text, name
    assert sum((site / n).stat().st_size for n in names) < 20_000_000


# ----------------------------------------------------------------------------- the glue, in CPython


def test_playground_shows_the_last_line_or_the_last_value_assigned() -> None:
    pg = Playground()
    printed: list[str] = []
    out = pg.run(
        "from micrograd_like import Value\na = Value(2.0, label='a')\nb = a * 3\n", printed.append
    )
    assert out["status"] == "ok" and out["result"] is None and out["shown"]["name"] == "b"
    out = pg.run(
        "from micrograd_like import Value\nx = Value(1.0)\nprint('hi')\nx.exp() + 1", printed.append
    )
    assert out["shown"]["name"] == "x.exp() + 1" and out["result"].startswith("Value(data=3.718")
    assert "".join(printed) == "hi\n"
    assert out["stepper"] == {"forward": 2, "backward": 3}  # leaves are skipped going forward
    assert out["diagram"]["dot"].startswith("digraph")
    # names bound inside a loop count; names inside functions do not
    code = (
        "from micrograd_like import Value\n"
        "def f():\n    hidden = Value(5.0)\n    return 1\n"
        "for k in range(3):\n    loss = Value(float(k)) * 2\n"
        "f()"
    )
    out = pg.run(code, printed.append)
    assert out["result"] == "1" and out["shown"]["name"] == "loss"
    out = pg.run("x = 1 + 1", printed.append)
    assert out["status"] == "ok" and out["shown"] is None and "No Value to draw" in out["why"]


def test_playground_errors_are_the_snippet_s_own_traceback() -> None:
    pg = Playground()
    out = pg.run("x = 1\n\ndef f():\n    return 1 / 0\n\nf()\n", lambda s: None)
    assert out["status"] == "error"
    lines = out["error"].splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert lines[1] == '  File "<playground>", line 6, in <module>'  # no frame of the glue
    assert "return 1 / 0" in out["error"] and lines[-1] == "ZeroDivisionError: division by zero"
    out = pg.run("x = (1,\n", lambda s: None)
    assert out["status"] == "error" and "SyntaxError" in out["error"] and "line 1" in out["error"]
    assert "Traceback" not in out["error"]


def test_playground_runs_start_from_the_op_table_as_it_was() -> None:
    pg = Playground()
    code = (EXAMPLES[0].parent / "custom_op.py").read_text(encoding="utf-8")
    assert pg.run(code, lambda s: None)["status"] == "ok" and "softsign" in OPS
    frame = pg.frame("forward", 1)  # the stepper still works: nodes hold their op
    assert "softsign" in frame["equation"]
    again = pg.run(code, lambda s: None)  # defining it again is fine: the last run's op is gone
    assert again["status"] == "ok" and again["checks"][0]["passed"]
    assert pg.run("1", lambda s: None)["status"] == "ok" and "softsign" not in OPS


def test_playground_frames_are_the_jupyter_stepper_s() -> None:
    pg = Playground()
    source = (WEB / "src" / "examples" / "network_2_2_1.py").read_text(encoding="utf-8")
    pg.run(source, lambda s: None)
    reference = Stepper(example_value(source))
    for mode in ("forward", "backward"):
        last = len(reference.forward if mode == "forward" else reference.backward) - 1
        for i in (0, min(5, last), last):
            mine, theirs = pg.frame(mode, i), reference.frame(mode, i)
            assert (mine["title"], mine["equation"], mine["node"]) == (
                theirs.title,
                theirs.equation,
                theirs.name,
            )
            assert mine["dot"] == reference.dot(mode, i)


def test_playground_large_graphs_are_drawn_collapsed_and_not_stepped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mgl_site import playground

    monkeypatch.setattr(playground, "MAX_STEPPED", 500)
    code = (
        "from micrograd_like import Value, vsum\n"
        "xs = [Value(float(i)) for i in range(600)]\n"
        "vsum(x * x for x in xs)"
    )
    out = Playground().run(code, lambda s: None)
    assert out["status"] == "ok" and out["diagram"]["collapsed"]
    assert "collapsed:" in out["diagram"]["dot"]
    assert "limited to 500" in out["stepper"]["error"]


def test_api_answers_bad_requests_with_an_error_and_json_safe_numbers() -> None:
    def ask(name: str, **args: Any) -> Any:
        return json.loads(api.call(name, json.dumps(args), lambda s: None))

    assert ask("nope") == {"error": "unknown request 'nope'"}
    assert (
        "Playground.frame: nothing to step through"
        in ask("frame", mode="forward", index=0)["error"]
    )
    bad = ask("train_reset", options={"dataset": "mnist"})
    assert bad["error"].startswith("ValueError: Config: dataset must be one of moons")
    assert (
        "hidden layer width must be from 1 to 64"
        in ask("train_reset", options={"hidden": "16,0"})["error"]
    )
    assert "lr must be a number" in ask("train_reset", options={"lr": "fast"})["error"]
    assert "unknown option(s) depth" in ask("train_reset", options={"depth": 3})["error"]
    out = ask("run", code="float('nan'), 1e400")
    assert out["result"] == "(nan, inf)"
    nan = json.loads(
        api.call(
            "run",
            json.dumps({"code": "from micrograd_like import Value\nValue(float('nan'))"}),
            lambda s: None,
        )
    )
    assert nan["status"] == "ok" and "nan" in nan["shown"]["repr"]


def test_trainer_steps_are_micrograd_s_demo() -> None:
    trainer = Trainer(Config())
    assert trainer.describe()["parameters"] == 337 and trainer.accuracy == 0.5
    losses, accuracies = [], []
    for _ in range(10):
        trainer.step()
        losses.append(trainer.loss)
        accuracies.append(trainer.accuracy)
    # fit on the same recipe (make demo's): the same numbers, bit for bit
    X, y = make_moons(100, noise=0.1, seed=1337, signed=True)
    model = MLP(2, [16, 16, 1], rng=1337)
    opt = SGD(model.parameters(), lr=LinearDecay(1.0, 0.1, 100))
    history = fit(model, X, y, loss="hinge", l2=1e-4, optimizer=opt, epochs=10, progress=False)
    assert losses == history.loss and accuracies == history.accuracy
    assert model.state_dict() == trainer.model.state_dict()
    state = trainer.state(boundary=8)
    assert len(state["boundary"]["cells"]) == 64 and len(state["weights"]) == 337
    assert state["neuron"]["dot"].startswith("digraph") and state["step"] == 10
    spirals = Trainer(
        Config.from_mapping(
            {"dataset": "spirals", "hidden": "8", "optimizer": "adam", "lr": "0.05"}
        )
    )
    spirals.step()
    cells = spirals.boundary(4)["cells"]
    assert all(c[0] in (0, 1, 2) and c[1] >= 0 for c in cells)


# ----------------------------------------------------------------------------- in Chromium


class Browsing:
    """A browser context whose every request is recorded, and the check that none left."""

    def __init__(self, browser: Any) -> None:
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000})
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.context.on("request", lambda r: self.requests.append(r.url))

    def page(self) -> Any:
        page = self.context.new_page()
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        return page

    def check_offline(self) -> None:
        """Every request went to 127.0.0.1 (or stayed in the page: data: URLs)."""
        away = [
            u
            for u in self.requests
            if urlparse(u).scheme != "data" and urlparse(u).hostname != "127.0.0.1"
        ]
        assert away == [] and self.requests, away
        assert self.errors == []


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[str]:
    """``web/serve.py``'s server (cross-origin isolated) on a free port of 127.0.0.1."""
    httpd = serve.make_server(site, 0, isolated=True, quiet=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def plain_server(site: Path) -> Iterator[str]:
    """``python -m http.server`` on 127.0.0.1, as anyone might serve the folder."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "http.server",
            str(port),
            "--bind",
            "127.0.0.1",
            "--directory",
            str(site),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if time.monotonic() > deadline:
                pytest.fail("python -m http.server did not start")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="module")
def visit(chromium: Any) -> Iterator[Browsing]:
    b = Browsing(chromium)
    yield b
    b.context.close()


@pytest.fixture(scope="module")
def playground(visit: Browsing, server: str) -> Any:
    """One playground page for the tests below (each runs its code through a #code= link)."""
    page = visit.page()
    page.goto(f"{server}/index.html")
    page.wait_for_function(DONE, timeout=BOOT_MS)
    assert page.evaluate("self.crossOriginIsolated") is True
    return page


def open_code(page: Any, base: str, code: str) -> str:
    """Open ``index.html#code=...`` and wait for the run to end; return its status."""
    page.evaluate("document.body.dataset.status = ''")
    page.goto(f"{base}/index.html#code={quote(code, safe='')}")
    page.wait_for_function(DONE, timeout=RUN_MS)
    status: str = page.evaluate("document.body.dataset.status")
    return status


def highlighted(page: Any) -> list[str]:
    """Names of the value boxes the stepper's diagram outlines as the current node."""
    names: list[str] = page.eval_on_selector_all(
        "#stepper .graph g.node",
        f"""gs => gs.filter(g => g.querySelector('[stroke="{HIGHLIGHT[0]}"]'))
                  .map(g => g.querySelector('text[font-weight="bold"]'))
                  .filter(t => t).map(t => t.textContent)""",
    )
    return names


def test_examples_open_from_links_and_draw_what_cpython_draws(
    playground: Any, server: str, visit: Browsing
) -> None:
    page = playground
    for path in EXAMPLES:
        source = path.read_text(encoding="utf-8")
        assert open_code(page, server, source) == "ok", page.inner_text("#output")
        assert page.input_value("#editor") == source
        drawn = page.locator("#diagram svg g.node").count()
        assert drawn == svg_node_count(example_value(source)), path.name
        assert page.locator("#stepper .graph svg").count() == 1
        if path.stem == "custom_op":  # its gradcheck, as a table
            assert "passed: 6 derivatives, 6 ok" in page.inner_text("#checks")
    visit.check_offline()


def test_stepping_moves_the_highlight_and_equation_as_in_jupyter(
    playground: Any, server: str, visit: Browsing
) -> None:
    page = playground
    source = (WEB / "src" / "examples" / "neuron.py").read_text(encoding="utf-8")
    assert open_code(page, server, source + "\n") == "ok"
    reference = Stepper(example_value(source))

    def shows(mode: str, i: int) -> None:
        frame = reference.frame(mode, i)
        page.wait_for_function(
            f"document.querySelector('#stepper').dataset.index === '{i}' && "
            f"document.querySelector('#stepper').dataset.mode === '{mode}'"
        )
        assert page.inner_text("#stepper .title") == frame.title
        assert page.inner_text("#stepper .equation") == frame.equation
        assert page.get_attribute("#stepper", "data-node") == frame.name
        assert highlighted(page) == [frame.name]
        assert page.inner_text("#stepper .counter") == f"step {i + 1} of {frame.count}"

    shows("backward", 0)
    for i in (1, 2, 3):
        page.click("#stepper [data-go=next]")
        shows("backward", i)
    assert highlighted(page) != [reference.frame("backward", 0).name]
    page.click("#stepper [data-go=prev]")
    shows("backward", 2)
    page.focus("#stepper")
    page.keyboard.press("F")  # upper case too
    shows("forward", 0)
    page.keyboard.press("End")
    shows("forward", len(reference.forward) - 1)
    page.keyboard.press("ArrowLeft")
    shows("forward", len(reference.forward) - 2)
    if os.environ.get(SCREENSHOTS_ENV):
        page.click("#stepper [data-pass=backward]")
        for _ in range(3):
            page.click("#stepper [data-go=next]")
        shows("backward", 3)
        page.evaluate("document.fonts.ready")
        page.screenshot(
            path=Path(os.environ[SCREENSHOTS_ENV]) / "site_playground.png", full_page=True
        )
    visit.check_offline()


def test_a_failing_snippet_shows_its_traceback_and_the_page_stays_usable(
    playground: Any, server: str, visit: Browsing
) -> None:
    page = playground
    code = "from micrograd_like import Value\nx = Value(0.0)\ny = x.log()  # log(0)\n"
    assert open_code(page, server, code) == "error"
    shown = page.inner_text("#output")
    assert 'File "<playground>", line 3' in shown and "y = x.log()" in shown
    assert "ValueError" in shown and "log" in shown
    assert page.locator("#output .err").is_visible()
    assert open_code(page, server, "def broken(:\n    pass") == "error"
    assert "SyntaxError" in page.inner_text("#output")
    assert open_code(page, server, "print('still here')") == "ok"
    assert page.inner_text("#output").strip() == "still here"
    visit.check_offline()


def test_a_graph_too_large_to_draw_is_shown_collapsed(
    playground: Any, server: str, visit: Browsing
) -> None:
    page = playground
    code = (
        "from micrograd_like import Value, vsum\n"
        "xs = [Value(i / 2000, label=f'x{i}') for i in range(2000)]\n"
        "out = vsum((x * 0.5).tanh() for x in xs)\n"
    )
    assert open_code(page, server, code) == "ok"
    assert "collapsed" in page.inner_text("#diagram-info")
    assert "8,001 values" in page.inner_text("#diagram-info")
    assert "values are hidden in" in page.text_content("#diagram svg")
    assert page.locator("#diagram svg g.node").count() < 260
    assert page.is_visible("#stepper .graph svg")  # stepped through in a window around a node
    assert "neighbourhood" in page.inner_text("#stepper .note")
    visit.check_offline()


def test_deep_graphs_are_freed_safely_and_a_crash_restarts_python(
    playground: Any, server: str, visit: Browsing
) -> None:
    page = playground
    chain = (
        "from micrograd_like import Value\nx = Value(0.5)\nfor i in range(20000):\n    x = x + 1\n"
    )
    assert open_code(page, server, chain) == "ok"
    # the next run frees that 40,001-value chain first, node by node
    assert open_code(page, server, "print('after the chain')") == "ok"
    assert page.inner_text("#output").strip() == "after the chain"
    # dropping such a chain inside a run is freed by Python all at once, which exhausts the
    # browser's stack: the worker is replaced and the page says so
    assert open_code(page, server, chain + "x = None\n") == "error"
    assert "Python crashed" in page.inner_text("#output")
    assert open_code(page, server, "print('a fresh Python')") == "ok"
    assert page.inner_text("#output").strip() == "a fresh Python"
    visit.check_offline()


def test_stop_interrupts_an_endless_loop(playground: Any, server: str, visit: Browsing) -> None:
    page = playground
    boot = page.evaluate("document.body.dataset.bootSeconds")
    # a run that prints just before: what the endless loop prints must still show at once
    assert open_code(page, server, "print(0)") == "ok"
    page.evaluate("document.body.dataset.status = ''")
    endless = quote("print(1)\nwhile True: pass", safe="")
    page.goto(f"{server}/index.html#code={endless}")
    page.wait_for_function("document.body.dataset.status === 'running'")
    page.wait_for_function("document.querySelector('#output').textContent.includes('1')")
    assert page.is_enabled("#stop") and page.is_disabled("#run")
    page.click("#stop")
    page.wait_for_function(DONE, timeout=10_000)
    assert page.evaluate("document.body.dataset.status") == "error"
    assert "KeyboardInterrupt: stopped by the Stop button" in page.inner_text("#output")
    assert "restarted" not in page.inner_text("#output")  # interrupted in place
    assert page.evaluate("document.body.dataset.bootSeconds") == boot
    assert open_code(page, server, "sum(range(10))") == "ok"
    assert "Out: 45" in page.inner_text("#output")
    visit.check_offline()


def test_share_puts_the_code_in_a_link_that_opens_and_runs_it(
    playground: Any, server: str, visit: Browsing
) -> None:
    page = playground
    assert open_code(page, server, "1 + 1") == "ok"
    code = "# shared\nfrom micrograd_like import Value\nv = Value(3.0, label='v') ** 2\n"
    code += "v.label = 'sq'\n"
    page.fill("#editor", code)
    page.click("#share")
    url = page.url
    assert url.startswith(f"{server}/index.html#code=")
    assert unquote(urlparse(url).fragment.removeprefix("code=")) == code
    other = visit.page()
    other.goto(url)
    other.wait_for_function(DONE, timeout=BOOT_MS)
    assert other.evaluate("document.body.dataset.status") == "ok"
    assert other.input_value("#editor") == code
    assert other.inner_text("#diagram-title") == "Diagram of v"
    assert "sq" in other.text_content("#diagram svg") and "Out:" not in other.inner_text("#output")
    other.close()
    visit.check_offline()


def test_plain_http_server_works_and_stop_restarts_python(chromium: Any, plain_server: str) -> None:
    visit = Browsing(chromium)
    page = visit.page()
    endless = quote("while True:\n    pass", safe="")
    page.goto(f"{plain_server}/index.html#code={endless}")
    page.wait_for_function("document.body.dataset.status === 'running'", timeout=BOOT_MS)
    assert page.evaluate("self.crossOriginIsolated") is False
    page.click("#stop")  # no SharedArrayBuffer here: the worker is replaced by a fresh one
    page.wait_for_function(DONE, timeout=10_000)
    assert page.evaluate("document.body.dataset.status") == "error"
    assert "Python was restarted" in page.inner_text("#output")
    source = EXAMPLES[0].read_text(encoding="utf-8")
    assert open_code(page, plain_server, source) == "ok"  # waits for the new Python
    assert page.locator("#diagram svg g.node").count() == svg_node_count(example_value(source))
    visit.check_offline()
    visit.context.close()


def test_training_reaches_full_accuracy_and_updates_live(chromium: Any, server: str) -> None:
    visit = Browsing(chromium)
    page = visit.page()
    page.goto(f"{server}/train.html")
    page.wait_for_function("document.body.dataset.state === 'paused'", timeout=BOOT_MS)
    assert page.evaluate("document.body.dataset.step") == "0"
    assert page.evaluate("document.body.dataset.accuracy") == "0.5"
    assert page.locator("#weights tbody tr").count() == 337
    page.click("#play")
    shots = []
    for at in (5, 40):
        page.wait_for_function(f"Number(document.body.dataset.step) >= {at}", timeout=RUN_MS)
        shots.append(
            (page.locator("#boundary").screenshot(), page.locator("#neuron-graph").screenshot())
        )
    assert shots[0][0] != shots[1][0]  # the decision boundary moved
    assert shots[0][1] != shots[1][1]  # the neuron's numbers changed
    page.wait_for_function(
        "document.body.dataset.state === 'paused' && document.body.dataset.step === '100'",
        timeout=4 * RUN_MS,
    )
    assert page.evaluate("document.body.dataset.accuracy") == "1"
    assert page.inner_text("#r-acc") == "100%"
    if os.environ.get(SCREENSHOTS_ENV):
        page.evaluate("document.fonts.ready")
        page.screenshot(
            path=Path(os.environ[SCREENSHOTS_ENV]) / "site_training.png", full_page=True
        )
    # a clicked point is forwarded through the neuron's graph
    before = page.inner_text("#neuron-info")
    page.locator("#boundary").scroll_into_view_if_needed()  # screenshots above may scroll
    box = page.locator("#boundary").bounding_box()
    page.mouse.click(box["x"] + 20, box["y"] + 20)
    page.wait_for_function(
        f"document.querySelector('#neuron-info').textContent !== {json.dumps(before)}",
        timeout=RUN_MS,
    )
    assert page.inner_text("#neuron-info").startswith("at (-")
    # bad settings are a message, and the page keeps working
    page.fill("#hidden", "16,0")
    page.click("#reset")
    page.wait_for_selector("#train-error:not([hidden])")
    assert "hidden layer width must be from 1 to 64" in page.inner_text("#train-error")
    page.fill("#hidden", "8")
    page.select_option("#dataset", "spirals")
    page.click("#reset")
    page.wait_for_selector("#train-error", state="hidden")
    page.wait_for_function("document.querySelectorAll('#weights tbody tr').length === 51")
    assert page.evaluate("document.body.dataset.step") == "0"  # MLP(2, [8, 3]): 8*3 + 3*9
    page.click("#step")
    page.wait_for_function("document.body.dataset.step === '1'")
    visit.check_offline()
    visit.context.close()
