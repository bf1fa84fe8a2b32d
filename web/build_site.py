"""Build the static site into ``site/``: the pages, pinned Pyodide and viz.js, and our own wheel.

``make site`` runs this. It installs the npm packages pinned by ``web/package-lock.json``
(``npm ci``), builds micrograd_like's pure-Python wheel from this checkout, and assembles
``site/``: the pages and scripts of ``web/src/``, the Python glue of ``web/py/`` (run inside
Pyodide beside the unmodified wheel), only the Pyodide and viz.js files the pages load, and a
``manifest.json`` naming them. The result is plain static files: any web server (or
``make serve``) serves it, and nothing is fetched from anywhere else at run time. The new site
is built beside the old one and swapped in at the end, so a failed build leaves no half site.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

WEB = Path(__file__).resolve().parent
ROOT = WEB.parent
PACKAGE = ROOT / "micrograd_like"
# the files of each npm package the pages load, as glob patterns (the rest stays out)
NPM_FILES = {
    "pyodide": [
        "pyodide.js",
        "pyodide.asm.js",
        "pyodide.asm.wasm",
        "python_stdlib.zip",
        "pyodide-lock.json",
        "package.json",
    ],
    "@viz-js/viz": ["lib/viz-standalone.js", "package.json"],
    # Arimo has Helvetica's metrics, which viz.js lays text out with: boxes fit their text
    "@fontsource/arimo": [
        "400.css",
        "700.css",
        "files/*-400-normal.woff*",
        "files/*-700-normal.woff*",
        "LICENSE",
        "package.json",
    ],
}
# where each package's files go in the site
NPM_TARGET = {
    "pyodide": "pyodide",
    "@viz-js/viz": "vendor/viz",
    "@fontsource/arimo": "vendor/arimo",
}


class BuildError(Exception):
    """A problem the person building can fix; printed as one line, exit status 1."""


def source_digest() -> str:
    """A digest of everything the site is built from: pages, glue, lockfile and the package.

    The manifest records it, so a test can tell whether ``site/`` is stale.
    """
    h = hashlib.sha256()
    files = [
        *sorted((WEB / "src").rglob("*")),
        *sorted((WEB / "py").rglob("*.py")),
        WEB / "package-lock.json",
        WEB / "build_site.py",
        ROOT / "pyproject.toml",
        *sorted(PACKAGE.rglob("*.py")),
    ]
    for f in files:
        if f.is_file() and "__pycache__" not in f.parts:
            h.update(str(f.relative_to(ROOT)).encode())
            h.update(b"\0")
            h.update(f.read_bytes())
            h.update(b"\0")
    return h.hexdigest()[:16]


def _run(cmd: list[str], what: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> None:
    try:
        done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise BuildError(f"{what}: {cmd[0]!r} is not installed") from None
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise BuildError(f"{what} failed ({' '.join(cmd)}):\n{tail}")


def npm_install() -> Path:
    """Install the pinned npm packages into ``web/node_modules`` with ``npm ci``; return it."""
    npm = shutil.which("npm")
    if npm is None:
        raise BuildError(
            "npm is not installed: the site needs Node.js's npm to fetch the pinned Pyodide and "
            "viz.js (Debian: sudo apt-get install npm)"
        )
    _run(
        [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
        "npm ci (installing the versions pinned in web/package-lock.json)",
        cwd=WEB,
    )
    return WEB / "node_modules"


def build_wheel(dest: Path) -> Path:
    """Build micrograd_like's pure-Python wheel from this checkout into ``dest``; return it.

    With hatchling (the build backend) importable, the wheel is built in this environment;
    otherwise pip builds it in an isolated one (which fetches hatchling first).
    ``MICROGRAD_LIKE_PURE=1`` keeps the C accelerator out: Pyodide runs the pure engine.
    """
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dest)]
    if importlib.util.find_spec("hatchling") is not None:
        cmd.append("--no-build-isolation")
    env = {**os.environ, "MICROGRAD_LIKE_PURE": "1"}
    _run([*cmd, str(ROOT)], "building the micrograd_like wheel", env=env)
    wheels = sorted(dest.glob("micrograd_like-*-py3-none-any.whl"))
    if len(wheels) != 1:
        raise BuildError(f"building the wheel gave {[w.name for w in wheels]}, not one wheel")
    return wheels[0]


def _copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)


def _version(package_json: Path) -> str:
    version: str = json.loads(package_json.read_text(encoding="utf-8"))["version"]
    return version


def assemble(out: Path, modules: Path, wheel: Path) -> dict[str, object]:
    """Write the site into the empty folder ``out``; return its manifest."""
    for f in sorted((WEB / "src").rglob("*")):
        if f.is_file():
            _copy(f, out / f.relative_to(WEB / "src"))
    glue = []
    for f in sorted((WEB / "py").rglob("*.py")):
        rel = f.relative_to(WEB / "py").as_posix()
        _copy(f, out / "py" / rel)
        glue.append(rel)
    versions = {}
    for package, files in NPM_FILES.items():
        base = modules / package
        if not base.is_dir():
            raise BuildError(f"npm ci did not install {package} into {modules}")
        for pattern in files:
            found = sorted(base.glob(pattern))
            if not found:
                raise BuildError(f"npm package {package} has no {pattern}")
            for f in found:
                _copy(f, out / NPM_TARGET[package] / f.relative_to(base))
        versions[package] = _version(base / "package.json")
    _copy(wheel, out / "wheels" / wheel.name)
    manifest: dict[str, object] = {
        "wheel": f"wheels/{wheel.name}",
        "glue": glue,
        "versions": versions,
        "source": source_digest(),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return manifest


def build(out: Path) -> dict[str, object]:
    """Build the whole site into ``out`` (replacing what was there); return the manifest."""
    out = out.resolve()
    if out == ROOT or out in ROOT.parents:
        raise BuildError(f"refusing to build the site into {out}: pick a folder of its own")
    modules = npm_install()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".site-", dir=out.parent) as tmp:
        work = Path(tmp)
        wheel = build_wheel(work / "wheel")
        fresh = work / "site"
        fresh.mkdir()
        manifest = assemble(fresh, modules, wheel)
        old = work / "old"
        if out.exists():
            os.replace(out, old)
        os.replace(fresh, out)
    return manifest


def main(argv: list[str] | None = None) -> int:
    """Build the site; print what was built, or one line saying what went wrong."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "site", help="where (default: site/)")
    args = parser.parse_args(argv)
    try:
        manifest = build(args.out)
    except BuildError as err:
        print(f"make site: {err}", file=sys.stderr)
        return 1
    size = sum(f.stat().st_size for f in args.out.rglob("*") if f.is_file())
    versions = ", ".join(f"{k} {v}" for k, v in manifest["versions"].items())  # type: ignore[attr-defined]
    print(f"built {args.out} ({size / 1e6:.1f} MB): {manifest['wheel']}, {versions}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
