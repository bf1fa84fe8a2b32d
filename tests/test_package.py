"""Tests for the package as installed: root exports, and the engine needing only the stdlib."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import micrograd_like

OPTIONAL = [
    "graphviz",
    "matplotlib",
    "tqdm",
    "ipywidgets",
    "IPython",
    "hypothesis",
    "numpy",
    "torch",
]


def test_every_root_export_exists() -> None:
    for name in micrograd_like.__all__:
        assert hasattr(micrograd_like, name), name


def test_core_works_without_any_optional_package() -> None:
    # a None entry in sys.modules makes `import name` fail, as if it were not installed
    code = textwrap.dedent(
        f"""
        import sys
        for name in {OPTIONAL!r}:
            sys.modules[name] = None
        import micrograd_like as m
        x = m.Value(2.0)
        (x * x).backward()
        assert x.grad == 4.0
        assert m.gradcheck(lambda a: a.tanh(), [0.3])
        m.fit(m.MLP(2, [3, 1], rng=0), [[0.0, 1.0]], [1.0], loss="mse", epochs=1,
              progress=False)
        # drawing writes DOT text itself: no graphviz package needed to make a diagram
        assert m.draw_dot(x * x).source.startswith("digraph")
        assert "digraph" in m.Stepper(x * x).dot("backward", 0)
        import micrograd_like.torch_bridge  # torch is imported only when a conversion runs
        print("ok")
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
