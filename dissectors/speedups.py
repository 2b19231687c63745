"""Which hot paths run compiled: the one switch, read once at import.

The Cython modules (``dissectors/_cprefilter.pyx``, ``pmipview/sources/_creader.pyx``)
are built by ``pip install`` when a C compiler is there (``setup.py``); each has a pure
Python twin with identical results, which the tests run against it.  ``PMIPVIEW_PURE=1``
in the environment forces the pure twins; so does a missing or stale build.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

PURE = os.environ.get("PMIPVIEW_PURE", "") not in ("", "0")
"""True when ``PMIPVIEW_PURE`` asks for the pure-Python paths."""

ABI = 1
"""Bumped when a compiled module's interface changes: a build of another ABI is ignored."""


def compiled(name: str) -> ModuleType | None:
    """The compiled module ``name``, or None (pure forced, not built, or a stale build)."""
    if PURE:
        return None
    try:
        module = importlib.import_module(name)
    except ImportError:
        return None
    return module if getattr(module, "ABI", None) == ABI else None


def describe() -> str:
    """``compiled`` or ``pure Python`` (and why), for ``--version`` and ``--debug``."""
    if PURE:
        return "pure Python (PMIPVIEW_PURE=1)"
    mods = ("dissectors._cprefilter", "pmipview.sources._creader")
    missing = [m for m in mods if compiled(m) is None]
    if not missing:
        return "compiled (Cython: reader, pre-filter)"
    return "pure Python (compiled hot path not built)"
