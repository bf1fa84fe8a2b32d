"""Tests for Stepper.save_html: the page's content, atomic writing, and stepping it in Chromium."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any

import pytest
from conftest import require_module, require_tool

from micrograd_like.engine import Value
from micrograd_like.functional import vsum
from micrograd_like.stepper import Stepper
from micrograd_like.testing import temporary_op

# set to a path (e.g. docs/images/stepper_page.png) to refresh the README's screenshot
SCREENSHOT_ENV = "MICROGRAD_LIKE_SCREENSHOT"


def neuron() -> Value:
    """micrograd's neuron: o = tanh(x1 w1 + x2 w2 + b), every value labelled."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1, x2w2 = x1 * w1, x2 * w2
    x1w1.label, x2w2.label = "x1w1", "x2w2"
    s = x1w1 + x2w2
    s.label = "x1w1 + x2w2"
    n = s + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o


def page_data(text: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" class="mgl-data">(.*?)</script>', text)
    assert found is not None
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def wide_graph(n: int) -> Value:
    """A graph of about ``n`` values: a sum over a long chain with fan-out."""
    v = Value(0.3, label="x")
    terms = []
    for i in range(n // 3):
        v = (v * 0.9).tanh() if i % 2 else v + 0.1
        terms.append(v)
    return vsum(terms)


# --------------------------------------------------------------------------- the page's content


def test_page_is_self_contained_and_has_every_step(tmp_path: Path) -> None:
    require_tool("dot")
    o = neuron()
    out = Stepper(o).save_html(tmp_path / "neuron.html")
    assert out == tmp_path / "neuron.html"
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert "http" not in text and "<link" not in text  # no network:
    assert re.findall(r' src="([a-z]+:)', text) == ["data:"]  # one picture, in the file
    data = page_data(text)
    assert [len(data["passes"][m]) for m in ("forward", "backward")] == [5, 6]  # leaves given
    assert len(data["svgs"]) == 11 and all(s.startswith("<svg") for s in data["svgs"])
    assert data["overview"] is None  # ten values: every frame draws the whole graph
    eqs = [f["equation"] for f in data["passes"]["backward"]]
    assert eqs[0] == "do/do = 1.0000   (the seed: o with respect to itself)"
    assert eqs[1].startswith("do/dn += do/do * do/dn = 1.0000 * 0.5000 = 0.5000")
    assert all(x.grad == 0.0 for x in (o, *o.parents))  # saving changes no gradient
    # the first frame is in the HTML itself, for viewers that run no scripts
    assert (
        '<pre class="mgl-equation">do/do = 1.0000   (the seed: o with respect to itself)</pre>'
        in text
    )
    assert '<img class="mgl-static" src="data:image/png;base64,' in text


def test_labels_cannot_break_out_of_the_page(tmp_path: Path) -> None:
    require_tool("dot")
    x = Value(1.0, label="</script><script>alert(1)</script>")
    y = x * 2.0
    text = Stepper(y, skip_leaves=False).save_html(tmp_path / "odd.html").read_text("utf-8")
    assert "<script>alert" not in text
    assert page_data(text)["passes"]["forward"][0]["node"] == x.label


def test_large_graph_is_capped_windowed_and_says_so(tmp_path: Path) -> None:
    require_tool("dot")
    root = wide_graph(5000)
    s = Stepper(root, max_nodes=40)
    assert len(s.forward) > 2000  # every step is available
    text = s.save_html(tmp_path / "big.html", max_frames=12).read_text(encoding="utf-8")
    data = page_data(text)
    assert len(data["svgs"]) == 12
    assert [len(data["passes"][m]) for m in ("forward", "backward")] == [
        len(s.forward),
        len(s.backward),
    ]
    assert data["passes"]["backward"][6]["svg"] is None  # past its 6 diagrams
    assert "first 6 forward and 6 backward steps (max_frames=12)" in text
    assert "too many to read at once" in text
    assert max(svg.count('class="node"') for svg in data["svgs"]) <= 2 * 15 + 2  # a window
    assert data["overview"].count('class="node"') < 200  # the whole graph, collapsed


def test_without_dot_the_page_still_steps_through_equations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    text = Stepper(neuron()).save_html(tmp_path / "plain.html").read_text(encoding="utf-8")
    data = page_data(text)
    assert data["svgs"] == [] and "No diagrams:" in text and "dot" in text
    assert data["passes"]["backward"][0]["equation"].startswith("do/do = 1.0000")


def test_a_leaf_alone_is_a_one_step_page(tmp_path: Path) -> None:
    require_tool("dot")
    data = page_data(Stepper(Value(2.0, label="x")).save_html(tmp_path / "x.html").read_text())
    assert [f["equation"] for f in data["passes"]["backward"]] == [
        "dx/dx = 1.0000   (the seed: x with respect to itself)"
    ]
    assert [f["equation"] for f in data["passes"]["forward"]] == ["x = 2.0000"]


# --------------------------------------------------------------------------- writing the file


def test_file_mode_follows_the_umask_without_touching_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = os.umask(0o027)
    try:
        # reading the umask means setting it, which races with other threads: never do it
        def no_umask(mask: int) -> int:
            raise AssertionError("save_html changed the process umask")

        monkeypatch.setattr(os, "umask", no_umask)
        out = Stepper(Value(1.0)).save_html(tmp_path / "p.html", max_frames=0)
        monkeypatch.undo()
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o640


def test_an_existing_file_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "p.html"
    target.write_text("old")
    target.chmod(0o604)
    Stepper(Value(1.0)).save_html(target, max_frames=0)
    assert stat.S_IMODE(target.stat().st_mode) == 0o604
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_a_symlink_is_written_through_and_kept(tmp_path: Path) -> None:
    real = tmp_path / "real" / "page.html"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "link.html"
    link.symlink_to(real)
    assert Stepper(Value(1.0)).save_html(link, max_frames=0) == link
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    dangling = tmp_path / "new.html"
    dangling.symlink_to(real.parent / "made.html")
    Stepper(Value(1.0)).save_html(dangling, max_frames=0)
    assert dangling.is_symlink() and (real.parent / "made.html").is_file()
    assert sorted(p.name for p in real.parent.iterdir()) == ["made.html", "page.html"]


def test_missing_folder_and_directory_are_clear_errors(tmp_path: Path) -> None:
    s = Stepper(Value(1.0))
    missing = tmp_path / "nope" / "p.html"
    with pytest.raises(FileNotFoundError, match=re.escape(f"cannot write {str(missing)!r}")):
        s.save_html(missing)
    with pytest.raises(IsADirectoryError, match=re.escape(str(tmp_path))):
        s.save_html(tmp_path)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match=r"Stepper\.save_html: max_frames"):
        s.save_html(tmp_path / "p.html", max_frames=-1)


@pytest.mark.parametrize(
    ("path", "error", "message"),
    [
        (None, TypeError, "Stepper.save_html: path must be a str or os.PathLike .* got None"),
        (3, TypeError, "Stepper.save_html: path must be a str or os.PathLike .* got 3"),
        (b"p.html", TypeError, "Stepper.save_html: path must be a str"),
        ("", ValueError, "Stepper.save_html: path must name a file"),
        ("a\0b", ValueError, "Stepper.save_html: path cannot contain a NUL"),
    ],
)
def test_bad_paths_name_the_function_and_argument(
    path: Any, error: type[Exception], message: str, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(error, match=message):
        Stepper(Value(1.0)).save_html(path)
    assert list(tmp_path.iterdir()) == []


def test_unwritable_folder_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_open = os.open

    def refuse(path: Any, *args: Any, **kwargs: Any) -> Any:
        if str(path).startswith(str(tmp_path)):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    target = tmp_path / "p.html"
    with pytest.raises(PermissionError, match=f"cannot write {re.escape(repr(str(target)))}"):
        Stepper(Value(1.0)).save_html(target, max_frames=0)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), KeyboardInterrupt()])
@pytest.mark.parametrize("where", ["fsync", "replace"])
def test_a_failed_or_interrupted_write_leaves_nothing_partial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: BaseException, where: str
) -> None:
    target = tmp_path / "p.html"
    target.write_text("the old page")

    def broken(*args: Any) -> None:
        raise error

    monkeypatch.setattr(os, where, broken)
    with pytest.raises(type(error)):
        Stepper(Value(1.0)).save_html(target, max_frames=0)
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == ["p.html"]  # no temporary file left
    assert target.read_text() == "the old page"  # the old file is untouched


# --------------------------------------------------------------------------- in a real browser


@pytest.fixture(scope="module")
def browser(chromium: Any) -> Any:
    """The shared Chromium of conftest, under the name these tests use."""
    return chromium


def highlighted(page: Any) -> list[str]:
    """Names of the value boxes drawn with the highlight outline."""
    names: list[str] = page.eval_on_selector_all(
        ".mgl-view g.node",
        """gs => gs.filter(g => g.querySelector('[stroke="#7c3aed"]'))
                  .map(g => g.querySelector('text[font-weight="bold"]'))
                  .filter(t => t).map(t => t.textContent)""",
    )
    return names


def test_the_page_steps_in_chromium(browser: Any, tmp_path: Path) -> None:
    require_tool("dot")
    out = Stepper(neuron()).save_html(tmp_path / "neuron.html")
    page = browser.new_page(viewport={"width": 1100, "height": 480})
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(out.as_uri())

    def state() -> tuple[str, str, str]:
        return (
            page.inner_text(".mgl-counter"),
            page.inner_text(".mgl-title"),
            page.inner_text(".mgl-equation"),
        )

    counter, title, equation = state()
    assert counter == "step 1 of 6" and "seed: o" in title and equation.startswith("do/do = 1.0000")
    assert highlighted(page) == ["o"]
    assert page.is_disabled("button[data-go=prev]")
    for _ in range(3):
        page.click("button[data-go=next]")
    counter, title, equation = state()
    assert counter == "step 4 of 6" and "x1w1 + x2w2 (add) passes its gradient 0.5000" in title
    assert equation.split("\n")[0].startswith("do/dx1w1 += do/d(x1w1 + x2w2) * ")
    assert highlighted(page) == ["x1w1 + x2w2"]
    if os.environ.get(SCREENSHOT_ENV):
        page.screenshot(path=os.environ[SCREENSHOT_ENV], full_page=True)
    shot = page.screenshot(full_page=True)
    assert shot.startswith(b"\x89PNG") and len(shot) > 10_000
    page.keyboard.press("ArrowRight")  # the pass takes the last input pushed first
    assert state()[0] == "step 5 of 6" and highlighted(page) == ["x2w2"]
    page.keyboard.press("ArrowRight")
    counter, _, equation = state()
    assert counter == "step 6 of 6" and highlighted(page) == ["x1w1"]
    assert "do/dx1 += do/dx1w1 * dx1w1/dx1 = 0.5000 * -3.0000 = -1.5000" in equation
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    assert state()[0] == "step 3 of 6" and highlighted(page) == ["n"]
    page.keyboard.press("End")
    assert state()[0] == "step 6 of 6" and page.is_disabled("button[data-go=next]")
    page.click("button[data-pass=forward]")
    counter, title, equation = state()
    assert counter == "step 1 of 5" and highlighted(page) == ["x1w1"]
    assert equation == "x1w1 = x1 * w1 = 2.0000 * -3.0000 = -6.0000"  # from the inputs
    assert page.locator(".mgl-view text", has_text="data —").count() == 4  # not computed yet
    assert page.get_attribute("button[data-pass=forward]", "aria-pressed") == "true"
    page.keyboard.press("End")
    assert state()[2] == "o = tanh(n) = tanh(0.8814) = 0.7071" and highlighted(page) == ["o"]
    page.keyboard.press("B")  # back to the backward pass, at its start (either case)
    assert state()[0] == "step 1 of 6"
    page.keyboard.press("F")
    assert state()[0] == "step 1 of 5"
    assert errors == [] and requests == [out.as_uri()]  # nothing loaded but the file itself
    page.close()


def test_notebook_fragments_on_one_page_step_independently(browser: Any, tmp_path: Path) -> None:
    require_tool("dot")
    first, second = Stepper(neuron()), Stepper(Value(1.0, label="x") * 2.0)
    page_file = tmp_path / "notebook.html"
    page_file.write_text(
        f"<!DOCTYPE html><html><body>{first._repr_html_()}{second._repr_html_()}</body></html>",
        encoding="utf-8",
    )
    page = browser.new_page()
    page.goto(page_file.as_uri())
    one, two = page.locator(".mgl-stepper").all()
    two.locator("button[data-go=next]").click()
    assert two.locator(".mgl-counter").inner_text() == "step 2 of 2"
    assert one.locator(".mgl-counter").inner_text() == "step 1 of 6"
    page.keyboard.press("ArrowRight")  # a notebook's keys go to the focused stepper only
    assert one.locator(".mgl-counter").inner_text() == "step 1 of 6"
    one.focus()
    page.keyboard.press("ArrowRight")
    assert one.locator(".mgl-counter").inner_text() == "step 2 of 6"
    page.close()


def test_a_capped_page_says_why_a_step_has_no_diagram(browser: Any, tmp_path: Path) -> None:
    require_tool("dot")
    out = Stepper(neuron()).save_html(tmp_path / "capped.html", max_frames=4)
    page = browser.new_page()
    page.goto(out.as_uri())
    page.keyboard.press("ArrowRight")
    assert page.locator(".mgl-view svg").count() == 1
    page.keyboard.press("ArrowRight")
    assert page.locator(".mgl-view svg").count() == 0
    assert "No diagram for this step" in page.inner_text(".mgl-view")
    assert "first 2 forward and 2 backward steps" in page.inner_text(".mgl-note")
    assert page.inner_text(".mgl-equation").startswith("do/d(x1w1 + x2w2) += ")
    page.close()


# --------------------------------------------------------------------------- labels are data

HOSTILE = [
    "<img/src='x'/onerror='window.pwned=1'>",
    "</script><script>window.pwned=1</script>",
    r"\href{javascript:window.pwned=1}{click}",
    "<svg/onload='window.pwned=1'>",
    "]]><script>window.pwned=1</script><!--",
    "$$\\unicode{<img src=x onerror=window.pwned=1>}$$ &lt;b&gt;",
]
EVIL_SYMBOL = "<img src=x onerror=window.pwned=1>"


def hostile_graph() -> Value:
    """A graph whose labels and op symbol are script and markup pasted from the web."""
    xs = [Value(float(i + 1), label=label) for i, label in enumerate(HOSTILE)]
    with temporary_op("evil", 2, lambda a, b: a * b, lambda m, g, out, a, b: (g * b, g * a),
                      symbol=EVIL_SYMBOL) as evil:  # fmt: skip
        out = evil(vsum(xs), xs[0]).tanh()
    out.label = HOSTILE[1]
    return out


def no_script_ran(page: Any) -> None:
    page.wait_for_timeout(300)  # let any image error or load event fire
    assert page.evaluate("window.pwned") is None


def test_a_widgets_html_runs_no_script_from_labels(browser: Any, tmp_path: Path) -> None:
    # what the Jupyter widget views do with these values: HTML and HTMLMath set innerHTML
    require_module("ipywidgets")
    require_tool("dot")
    w = hostile_graph_stepper().widget()
    shown = []
    for mode in ("forward", "backward"):
        w.toggle.value = mode
        for i in range(w.slider.max + 1):
            w.slider.value = i
            shown += [w.title.value, w.graph.value, w.equation.value]
    assert any("\\mathrm{" in s for s in shown)
    page_file = tmp_path / "widget.html"
    page_file.write_text("<!DOCTYPE html><html><body></body></html>", encoding="utf-8")
    page = browser.new_page()
    page.goto(page_file.as_uri())
    page.evaluate(
        """values => { for (const v of values) {
             const d = document.createElement('div'); d.innerHTML = v;
             document.body.appendChild(d); } }""",
        shown,
    )
    no_script_ran(page)
    text = page.inner_text("body")
    assert HOSTILE[0] in text or "onerror" in text  # the label is shown as text
    page.close()


def hostile_graph_stepper() -> Stepper:
    return Stepper(hostile_graph())


def test_the_page_and_notebook_fragment_run_no_script_from_labels(
    browser: Any, tmp_path: Path
) -> None:
    require_tool("dot")
    s = hostile_graph_stepper()
    out = s.save_html(tmp_path / "hostile.html")
    fragment = tmp_path / "fragment.html"
    fragment.write_text(f"<!DOCTYPE html><html><body>{s._repr_html_()}</body></html>")
    for path in (out, fragment):
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
        page.goto(path.as_uri())
        page.locator(".mgl-stepper").first.focus()
        for key in ["End", "f", "End", "b"]:
            for _ in range(3):
                page.keyboard.press("ArrowRight")
            page.keyboard.press(key)
        no_script_ran(page)
        assert errors == []
        assert HOSTILE[1] in page.inner_text(".mgl-stepper")  # shown as text
        page.close()


# --------------------------------------------------------------------------- fit and follow


def mlp_loss() -> Value:
    """An MLP(2, [4, 4, 1]) with a squared-error loss on one point: 62 values."""
    from micrograd_like.losses import mse
    from micrograd_like.nn import MLP

    model = MLP(2, [4, 4, 1], rng=0)
    loss = mse([model.scalar([0.5, -0.3])], [1.0])
    loss.label = "loss"
    return loss


def near_text_px(page: Any) -> list[float]:
    """On-screen font sizes (px) of the texts of the current node's box and its neighbours'.

    dot writes font sizes in points of the SVG's own units; the screen matrix turns them into
    pixels as shown (1 pt = 4/3 px at 100%, times the zoom).
    """
    heights: list[float] = page.evaluate(
        """() => {
          const root = document.querySelector('.mgl-stepper'), id = root.dataset.focus;
          const view = root.querySelector('.mgl-view');
          const node = [...view.querySelectorAll('g.node')]
              .find(g => g.querySelector('title').textContent === id);
          const r = node.getBoundingClientRect();
          const near = [...view.querySelectorAll('g.node')].filter(g => {
              const b = g.getBoundingClientRect();
              return Math.abs(b.x - r.x) < 400 && Math.abs(b.y - r.y) < 300; });
          return near.flatMap(g => [...g.querySelectorAll('text')])
                     .map(t => parseFloat(t.getAttribute('font-size')) * t.getScreenCTM().a);
        }"""
    )
    return heights


@pytest.mark.parametrize("width", [1280, 800])
def test_a_larger_graph_is_readable_and_the_current_node_in_view(
    browser: Any, tmp_path: Path, width: int
) -> None:
    require_tool("dot")
    out = Stepper(mlp_loss()).save_html(tmp_path / "mlp.html")
    page = browser.new_page(viewport={"width": width, "height": 800})
    page.goto(out.as_uri())
    for mode, presses in (("backward", [5, 10, 10]), ("forward", [3, 12])):
        page.keyboard.press(mode[0])
        for n in presses:
            for _ in range(n):
                page.keyboard.press("ArrowRight")
            page.wait_for_timeout(100)
            sizes = near_text_px(page)
            assert sizes and min(sizes) >= 11 * 0.99, (mode, sizes)
            focus = page.get_attribute(".mgl-stepper", "data-focus")
            node = page.locator(".mgl-view g.node", has=page.locator(f"title:text-is('{focus}')"))
            box, view = node.bounding_box(), page.locator(".mgl-view").bounding_box()
            assert box is not None and view is not None
            assert (
                view["x"] - 1 <= box["x"]
                and box["x"] + box["width"] <= view["x"] + view["width"] + 1
            ), (box, view)
            assert box["y"] >= 0 and box["y"] + box["height"] <= 800  # in the window too
            for part in (".mgl-equation", "button[data-go=next]"):
                b = page.locator(part).bounding_box()
                assert b is not None and b["y"] >= 0 and b["y"] + b["height"] <= 800, part
    assert page.locator(".mgl-ov g.node.mgl-here").count() == 1  # the overview marks it
    page.screenshot(path=str(tmp_path / f"mlp_{width}.png"))
    page.close()


def test_hovering_a_diagram_node_in_a_notebook_shows_its_full_precision(
    browser: Any, tmp_path: Path
) -> None:
    # the diagram a notebook shows is inline SVG: the mouse over a value's box reaches a link
    # whose title (the browser's tooltip) holds every digit of data and grad
    from micrograd_like.drawing import draw_dot

    x = Value(0.1234567890123, label="x")
    y = (x * 3.0).tanh()
    y.label = "y"
    y.backward()
    page_file = tmp_path / "diagram.html"
    shown = draw_dot(y)._repr_mimebundle_()["text/html"]
    page_file.write_text(f"<!doctype html><html><body>{shown}</body></html>")
    page = browser.new_page(viewport={"width": 1000, "height": 600})
    page.goto(page_file.as_uri())
    node = page.locator("svg g.node", has=page.locator("text:text-is('x')")).first
    box = node.bounding_box()
    assert box is not None
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    tip = page.evaluate(
        """([x, y]) => {
            const a = document.elementFromPoint(x, y).closest("a");
            return a && (a.getAttribute("xlink:title") || a.getAttribute("title"));
        }""",
        [cx, cy],
    )
    assert tip is not None and repr(x.data) in tip and repr(x.grad) in tip, tip
    page.close()
