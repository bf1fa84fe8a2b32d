"""Shared test set-up: hypothesis profiles and the rule that CI never skips for a missing tool."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

# "ci" keeps `make test` within its time budget on 2 cores; "dev" digs deeper; "thorough" for
# a long local run. Every property test runs under every profile, only the example count moves.
settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "dev", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("thorough", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def require_tool(name: str) -> str:
    """Return the path of an external program; skip without it locally, fail in CI.

    CI installs every tool the tests use (see ``.ci/system-deps.sh``), so a missing one there is
    a broken set-up, never a reason to skip.
    """
    path = shutil.which(name)
    if path is None:
        message = f"{name!r} is not installed; run `make system-deps` (or `make test`)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def require_module(name: str) -> object:
    """Import an optional Python package; skip without it locally, fail in CI."""
    try:
        return __import__(name)
    except ImportError:
        message = f"Python package {name!r} is not installed; run `make test`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


# Debian's Chromium as the browser tests start it: headless, in a fresh profile that makes no
# calls home (the machine has no network beyond its package registries)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's ``/usr/bin/chromium`` driven by Playwright (never a downloaded browser)."""
    require_tool("chromium")
    require_module("playwright")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()
