"""A real headless Chromium for tests: Debian's ``chromium`` package driven by Playwright
(the Python package only: ``playwright install`` is never run, nothing is downloaded).

:func:`require_chromium` skips the calling test when the browser or the driver is
missing, except with ``CI=true`` where a missing prerequisite must fail the run (the
pattern of ``tests/tshark_util.require_tshark``).  :func:`browser` launches it with
flags that keep it off the network (no background services, no QUIC, no component
updates), so that any request a page makes is the page's own.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
#: Screenshots and other files a human may want to look at after a run (git-ignored).
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def chromium_path() -> str | None:
    """``$PMIPVIEW_CHROMIUM``, else ``chromium`` on the PATH, else Debian's path."""
    for candidate in (os.environ.get("PMIPVIEW_CHROMIUM"), shutil.which("chromium"),
                      "/usr/bin/chromium"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def _missing(why: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{why} (required when CI=true: the HTML report is tested in a real "
                    f"browser)")
    pytest.skip(f"{why}: browser tests of the HTML report skipped")


def require_chromium() -> str:
    """The chromium binary; skips the test when it or Playwright is missing (fails it
    when CI=true)."""
    path = chromium_path()
    if path is None:
        _missing("chromium not installed (apt-get install chromium, or make render-tools)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing("the playwright Python package is not installed (pip install -e '.[dev]')")
    return path  # type: ignore[return-value]


@contextmanager
def browser() -> Iterator[object]:
    """A launched headless Chromium (a Playwright ``Browser``), closed afterwards."""
    from playwright.sync_api import sync_playwright

    path = require_chromium()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()
