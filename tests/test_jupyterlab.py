"""What learners see in JupyterLab (headless Chromium), and in notebooks saved and shared.

A JupyterLab server is started by these tests on 127.0.0.1 with a random token, in a
temporary root folder with its own settings (no news, the theme chosen per test), and driven
through its own command registry. The tests run notebook 1 and step its Stepper; reopen a
notebook saved with outputs, untrusted, to see what survives; export one with nbconvert; and
measure the contrast of tables and the stepper in the dark theme.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import CHROMIUM_ARGS, require_module, require_tool

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_1 = ROOT / "notebooks" / "01_value_and_backward.ipynb"
# set to a folder (e.g. docs) to refresh the README's screenshots from these tests
SCREENSHOT_ENV = "MICROGRAD_LIKE_SCREENSHOTS"
DARK = "JupyterLab Dark"

pytestmark = pytest.mark.slow


# --------------------------------------------------------------------------- the server


class Lab:
    """A JupyterLab server of our own: its URL, token, root folder and process."""

    def __init__(self, root: Path, theme: str) -> None:
        self.root = root
        self.token = secrets.token_hex(16)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        settings = root.parent / "lab-settings"
        for plugin, values in {
            "@jupyterlab/apputils-extension/notification": {
                "fetchNews": "false",
                "checkForUpdates": False,
            },
            "@jupyterlab/apputils-extension/themes": {"theme": theme},
        }.items():
            folder, name = plugin.rsplit("/", 1)
            (settings / folder).mkdir(parents=True, exist_ok=True)
            (settings / folder / f"{name}.jupyterlab-settings").write_text(json.dumps(values))
        env = {
            **os.environ,
            "JUPYTERLAB_SETTINGS_DIR": str(settings),
            "JUPYTERLAB_WORKSPACES_DIR": str(root.parent / "lab-workspaces"),
            "JUPYTER_CONFIG_DIR": str(root.parent / "jupyter-config"),
            "JUPYTER_RUNTIME_DIR": str(root.parent / "jupyter-runtime"),
            "PYTHONPATH": str(ROOT),
            "MPLBACKEND": "Agg",
        }
        self.log = (root.parent / "lab.log").open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyterlab",
                "--no-browser",
                "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.port={self.port}",
                f"--IdentityProvider.token={self.token}",
                f"--ServerApp.root_dir={root}",
                "--LabApp.expose_app_in_browser=True",
                "--ServerApp.open_browser=False",
                *(["--allow-root"] if os.geteuid() == 0 else []),
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{self.url('api/status')}", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"JupyterLab did not start: {self.tail()}")
            time.sleep(0.3)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}?token={self.token}"

    def tail(self) -> str:
        self.log.flush()
        return (self.root.parent / "lab.log").read_text()[-3000:]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def start_lab(tmp_path: Path, theme: str = "JupyterLab Light") -> Lab:
    require_module("jupyterlab")
    require_module("playwright")
    require_tool("chromium")
    require_tool("dot")
    root = tmp_path / "root"
    root.mkdir()
    return Lab(root, theme)


@pytest.fixture
def browser() -> Iterator[Any]:
    require_module("playwright")
    require_tool("chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


def open_notebook(browser: Any, lab: Lab, name: str, width: int = 1280) -> Any:
    page = browser.new_page(viewport={"width": width, "height": 900})
    outside: list[str] = []
    page.on(
        "request",
        lambda r: (
            None
            if r.url.startswith(("http://127.0.0.1", "data:", "blob:"))
            else outside.append(r.url)
        ),
    )
    page.outside = outside  # every request the page made that left 127.0.0.1
    page.goto(lab.url(f"lab/tree/{name}"))
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    page.wait_for_function("window.jupyterapp !== undefined", timeout=60_000)
    return page


def run_all(page: Any, done_text: str, timeout_s: float = 180) -> None:
    """Run every cell of the open notebook once its kernel is idle; wait for ``done_text``."""
    page.wait_for_function(
        """() => { const w = window.jupyterapp.shell.currentWidget;
                   const k = w && w.sessionContext && w.sessionContext.session
                             && w.sessionContext.session.kernel;
                   return k && k.status === 'idle' && w.content.widgets.length > 1; }""",
        timeout=90_000,
    )
    # not awaited: the command's promise settles only when every cell has run
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    page.wait_for_function(
        """t => [...document.querySelectorAll('.jp-Notebook .jp-OutputArea-output')]
                 .some(o => o.innerText.includes(t))""",
        arg=done_text,
        timeout=timeout_s * 1000,
    )
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    assert "Error" not in " ".join(errors.all_inner_texts())


def shot(page: Any, name: str, element: Any = None) -> Path:
    """Save a screenshot to the test's folder, and to the README's folder when asked."""
    folder = Path(os.environ.get(SCREENSHOT_ENV, "")) if os.environ.get(SCREENSHOT_ENV) else None
    data = (element or page).screenshot()
    assert data.startswith(b"\x89PNG")
    path = Path(os.environ.get("PYTEST_SHOTS", "/tmp")) / name
    path.write_bytes(data)
    if folder is not None:
        (folder / name).write_bytes(data)
    return path


def box(locator: Any) -> dict[str, float]:
    b = locator.bounding_box()
    assert b is not None, "not rendered"
    return dict(b)


def intersect(a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
    x, y = max(a["x"], b["x"]), max(a["y"], b["y"])
    right = min(a["x"] + a["width"], b["x"] + b["width"])
    bottom = min(a["y"] + a["height"], b["y"] + b["height"])
    return {"x": x, "y": y, "width": max(0.0, right - x), "height": max(0.0, bottom - y)}


def inside(inner: dict[str, float], outer: dict[str, float], slack: float = 1.0) -> bool:
    return (
        inner["x"] >= outer["x"] - slack
        and inner["y"] >= outer["y"] - slack
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + slack
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + slack
    )


# --------------------------------------------------------------------------- notebook 1


def test_notebook_1_steps_in_jupyterlab_with_node_and_controls_in_view(
    browser: Any, tmp_path: Path
) -> None:
    lab = start_lab(tmp_path)
    try:
        shutil.copy(NOTEBOOK_1, lab.root / NOTEBOOK_1.name)
        page = open_notebook(browser, lab, NOTEBOOK_1.name)
        run_all(page, "all claims hold")
        stepper = page.locator(".jp-OutputArea-output .mgl-stepper").first
        stepper.scroll_into_view_if_needed()
        output = page.locator(".jp-OutputArea-output", has=page.locator(".mgl-stepper")).first
        equation = stepper.locator(".mgl-equation")
        before = equation.inner_text()
        for _ in range(4):
            stepper.locator("button[data-go=next]").click()
        page.wait_for_timeout(300)
        after = equation.inner_text()
        assert (
            after != before
            and stepper.locator(".mgl-counter").inner_text()
            == "step 5 of " + (stepper.locator(".mgl-counter").inner_text().rsplit(" ", 1)[-1])
        )
        # the highlighted node and the controls are inside the output area and the window
        view = box(stepper.locator(".mgl-view"))
        visible = intersect(box(output), box(page.locator(".jp-WindowedPanel-outer").first))
        focus = stepper.get_attribute("data-focus")
        node = stepper.locator(".mgl-view g.node", has=page.locator(f"title:text-is('{focus}')"))
        window = {"x": 0, "y": 0, "width": 1280, "height": 900}
        for part in (box(node), box(stepper.locator("button[data-go=next]")), box(equation)):
            assert inside(part, visible) and inside(part, window), (part, visible)
        assert inside(box(node), view)  # centred in the diagram's own scrolling box
        text_px = page.evaluate(  # dot's font sizes are in the SVG's units: points
            """g => Math.min(...[...g.querySelectorAll('text')].map(
                   t => parseFloat(t.getAttribute('font-size')) * t.getScreenCTM().a))""",
            node.element_handle(),
        )
        assert text_px >= 11 * 0.95, text_px
        shot(page, "stepper_jupyterlab.png")
        # keys: space plays after a click (it does not press the clicked button again)
        stepper.locator("button[data-go=prev]").click()
        page.keyboard.press(" ")
        page.wait_for_timeout(200)
        assert stepper.locator("button[data-go=play]").inner_text().endswith("Pause")
        page.keyboard.press(" ")
        page.close()
    finally:
        lab.stop()


# --------------------------------------------------------------------------- saved and shared

SHARED_CELLS = [
    "from micrograd_like import Stepper, Value, draw_dot, gradcheck\n"
    "x1, x2 = Value(2.0, label='x1'), Value(0.0, label='x2')\n"
    "w1, w2 = Value(-3.0, label='w1'), Value(1.0, label='w2')\n"
    "b = Value(6.8813735870195432, label='b')\n"
    "n = x1 * w1 + x2 * w2 + b\n"
    "n.label = 'n'\n"
    "o = n.tanh()\n"
    "o.label = 'o'\n"
    "o.backward()\n"
    "draw_dot(o)",
    "draw_dot(o, expand=True, show_grad=False)",
    "Stepper(o)",
    "gradcheck(lambda a, b: (a * b).tanh(), [0.5, -0.3])",
]


def saved_notebook(folder: Path) -> Path:
    """A notebook run by a kernel and saved with its outputs (not signed: untrusted)."""
    nbformat: Any = require_module("nbformat")
    nbclient: Any = require_module("nbclient")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in SHARED_CELLS])
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    path = folder / "saved.ipynb"
    nbformat.write(nb, path)
    return path


def pictures(page: Any) -> list[int]:
    """Per output area of the page: the widest picture shown in it (img or svg), in pixels."""
    widths: list[int] = page.evaluate(
        """() => [...document.querySelectorAll('.jp-OutputArea-output, .jp-RenderedHTML')]
             .filter(o => o.querySelector('.mgl-figure'))
             .map(o => Math.max(0, ...[...o.querySelectorAll('img, .mgl-view > svg')]
                 .filter(e => e.tagName !== 'IMG' || e.naturalWidth > 0)
                 .map(e => e.getBoundingClientRect().width)))"""
    )
    return widths


def test_a_saved_notebook_reopened_untrusted_still_shows_diagrams_and_the_stepper(
    browser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    lab = start_lab(tmp_path)
    try:
        saved_notebook(lab.root)
        page = open_notebook(browser, lab, "saved.ipynb")
        page.wait_for_selector(".jp-OutputArea-output img.mgl-static", timeout=60_000)
        page.wait_for_timeout(1000)
        # trust is off: JupyterLab sanitized the HTML and ran none of its scripts
        assert page.locator(".mgl-stepper[data-index]").count() == 0
        assert page.locator(".jp-OutputArea-output script").count() == 0
        widths = pictures(page)
        assert len(widths) == 3 and min(widths) > 200, widths  # two diagrams, the stepper
        text = " ".join(page.locator(".jp-OutputArea-output").all_inner_texts())
        assert "Error displaying widget" not in text and "<micrograd_like" not in text
        assert "do/do = 1.0000" in text and "scripts do not run here" in text
        assert "microgradlike" not in text.replace("_", "")  # no stray SVG text
        assert page.outside == []  # nothing fetched from outside 127.0.0.1
        shot(page, "untrusted_notebook.png")
        page.close()
    finally:
        lab.stop()


def test_a_notebook_exported_by_nbconvert_shows_diagrams_and_steps(
    browser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_module("nbconvert")
    require_tool("dot")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    path = saved_notebook(tmp_path)
    subprocess.run(
        [sys.executable, "-m", "nbconvert", "--to", "html", str(path)],
        check=True,
        capture_output=True,
    )
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.with_suffix(".html").as_uri())
    stepper = page.locator(".mgl-stepper")
    stepper.wait_for()
    assert page.locator(".mgl-figure .mgl-view > svg").count() == 3  # drawn by the scripts
    assert page.locator("img.mgl-static").count() == 0
    counter = stepper.locator(".mgl-counter")
    assert counter.inner_text() == "step 1 of 6"
    stepper.locator("button[data-go=next]").click()
    assert counter.inner_text() == "step 2 of 6"
    assert stepper.locator(".mgl-equation").inner_text().startswith("do/dn += ")
    assert errors == []
    page.close()


# --------------------------------------------------------------------------- dark theme


def contrast(page: Any, selector: str) -> list[float]:
    """WCAG contrast ratio of each matching element's text against its effective background."""
    ratios: list[float] = page.evaluate(
        """sel => {
          const rgb = s => s.match(/[\\d.]+/g).map(Number);
          const lum = c => { const [r, g, b] = c.slice(0, 3).map(v => {
              v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
            return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
          const bg = e => { for (; e; e = e.parentElement) {
              const c = rgb(getComputedStyle(e).backgroundColor);
              if (c.length < 4 || c[3] > 0) { return c; } } return [255, 255, 255]; };
          return [...document.querySelectorAll(sel)].filter(e => e.innerText.trim()).map(e => {
            const a = lum(rgb(getComputedStyle(e).color)), b = lum(bg(e));
            return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05); });
        }""",
        selector,
    )
    return ratios


def test_tables_and_the_stepper_read_well_in_the_dark_theme(
    browser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    lab = start_lab(tmp_path, theme=DARK)
    try:
        nbformat: Any = require_module("nbformat")
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in SHARED_CELLS])
        nb.cells.append(nbformat.v4.new_code_cell("print('done')"))
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
        nbformat.write(nb, lab.root / "dark.ipynb")
        page = open_notebook(browser, lab, "dark.ipynb")
        run_all(page, "done")
        page.wait_for_selector(".mgl-stepper[data-index]")
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background != "rgb(255, 255, 255)"  # the dark theme is on
        selectors = [
            ".jp-OutputArea-output table td",
            ".jp-OutputArea-output table th",
            ".mgl-stepper .mgl-title",
            ".mgl-stepper .mgl-equation",
            ".mgl-stepper .mgl-counter",
            ".mgl-stepper .mgl-keys",
            ".mgl-stepper button",
            ".mgl-stepper .mgl-head",
        ]
        for selector in selectors:
            ratios = contrast(page, selector)
            assert ratios and min(ratios) >= 4.5, (selector, ratios)
        # the selected pass button keeps its label readable when hovered
        selected = page.locator(".mgl-stepper button[aria-pressed=true]")
        selected.hover()
        assert min(contrast(page, ".mgl-stepper button[aria-pressed=true]")) >= 4.5
        page.locator(".jp-OutputArea-output table").first.scroll_into_view_if_needed()
        shot(page, "dark_theme.png")
        page.close()
    finally:
        lab.stop()
