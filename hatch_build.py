"""Build hook: compile the optional C accelerator micrograd_like/_speedups.c into the wheel.

The accelerator is optional. Without a C compiler or Python's headers, or with
``MICROGRAD_LIKE_PURE=1`` set while building (``web/build_site.py`` does, for Pyodide), the
wheel is the pure-Python one and the engine runs its reference code. ``python hatch_build.py``
compiles it next to the sources (what an editable install does), for working in a checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
SOURCE = ROOT / "micrograd_like" / "_speedups.c"


def extension_name() -> str:
    """The file name CPython imports ``micrograd_like._speedups`` from on this platform."""
    return "_speedups" + str(sysconfig.get_config_var("EXT_SUFFIX") or ".so")


def compile_speedups(out: Path) -> None:
    """Compile and link _speedups.c into ``out`` with the compiler Python was built with.

    Raises ``RuntimeError`` (with the compiler's output) when that is not possible here.
    """
    ldshared = sysconfig.get_config_var("LDSHARED")
    include = sysconfig.get_paths()["include"]
    if sys.platform == "win32" or not ldshared:
        raise RuntimeError("compile_speedups: no Unix-style compiler configuration")
    if not (Path(include) / "Python.h").exists():
        raise RuntimeError(f"compile_speedups: no Python.h in {include} (python3-dev missing)")
    # -ffp-contract=off: no fused multiply-add, so every float operation rounds as Python's do
    flags = ["-O2", "-fPIC", "-ffp-contract=off", f"-I{include}"]
    cmd = [*ldshared.split(), *flags, str(SOURCE), "-o", str(out)]
    if shutil.which(cmd[0]) is None:
        raise RuntimeError(f"compile_speedups: no compiler {cmd[0]!r} on PATH")
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"compile_speedups: {' '.join(cmd)} failed:\n{done.stderr}")


def wanted() -> bool:
    """Whether to try compiling at all (not when MICROGRAD_LIKE_PURE asks for the pure wheel)."""
    return os.environ.get("MICROGRAD_LIKE_PURE", "") in ("", "0")


try:
    from hatchling.builders.hooks.plugin.interface import BuildHookInterface
except ImportError:  # run as a script without hatchling: only build_inplace is needed
    BuildHookInterface = object  # type: ignore[assignment,misc]


class SpeedupsHook(BuildHookInterface):  # type: ignore[misc,valid-type]
    """hatchling's hook: a platform wheel with the accelerator, or the pure wheel if it fails."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Compile the accelerator for a wheel; an editable install gets it next to the sources."""
        if self.target_name != "wheel" or not wanted():
            return
        name = extension_name()
        try:
            if version == "editable":
                compile_speedups(ROOT / "micrograd_like" / name)
                return
            tmp = Path(tempfile.mkdtemp(prefix="micrograd_like-build-"))
            compile_speedups(tmp / name)
        except (RuntimeError, OSError) as err:
            print(f"micrograd_like: building the pure-Python engine only ({err})", file=sys.stderr)
            return
        build_data["force_include"][str(tmp / name)] = f"micrograd_like/{name}"
        build_data["pure_python"] = False
        build_data["infer_tag"] = True


def build_inplace() -> Path:
    """Compile the accelerator next to the sources (as an editable install does); its path."""
    out = ROOT / "micrograd_like" / extension_name()
    compile_speedups(out)
    return out


if __name__ == "__main__":
    print(build_inplace())
