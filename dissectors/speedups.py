"""Which hot paths run compiled: the one switch, and the one list of compiled modules.

Two kinds of compiled module, both built by ``pip install`` when a C compiler is there
(``setup.py``; a failed build only warns):

* ``TWINS``: hand-written Cython (``.pyx``) with a pure-Python twin of identical results,
  which the tests run against it: the record loops (``pmipview/sources/_creader.pyx``) and
  the pre-filter (``dissectors/_cprefilter.pyx``); the counting path of ``dissect
  --summary`` (``dissectors/_csummary.pyx``), whose twin is decoding every frame; and the
  IPv4/UDP transport's ``recvmmsg``/``sendmmsg`` (``pmipview/wire/_cmmsg.pyx``), whose
  twin loops ``recvfrom``/``sendto``.
  Callers ask :func:`compiled`.
* ``AS_IS``: pure-Python modules that Cython compiles as they are (annotations ignored):
  the same source either way, about a quarter less time per decoded frame; the
  correlator and its JSON writer, 7-13% less (docs/performance.md, wt/tlcorr).  Python
  imports the built ``.so`` before the ``.py``; the finder below sends the import to the
  ``.py`` when ``PMIPVIEW_PURE=1``, or when the ``.py`` is newer than its build (an edited
  module is never shadowed by a stale build).

``PMIPVIEW_PURE=1`` (read once, at the first import of ``dissectors``) forces every pure path.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from types import ModuleType

PURE = os.environ.get("PMIPVIEW_PURE", "") not in ("", "0")
"""True when ``PMIPVIEW_PURE`` asks for the pure-Python paths."""

ABI = 2
"""Bumped when a twin's interface changes: a build of another ABI is ignored."""

TWINS = {
    "dissectors._cframe_lite": "dissectors/_cframe_lite.pyx",
    "dissectors._cprefilter": "dissectors/_cprefilter.pyx",
    "dissectors._csummary": "dissectors/_csummary.pyx",
    "pmipview.sources._creader": "pmipview/sources/_creader.pyx",
    "pmipview.wire._cmmsg": "pmipview/wire/_cmmsg.pyx",
}
AS_IS = (
    "dissectors.addr",
    "dissectors.checksum",
    "dissectors.dhcp_lite",
    "dissectors.frame",
    "dissectors.ip",
    "dissectors.link",
    "dissectors.mh",
    "dissectors.mh_options",
    "dissectors.udp",
    "pmipview.packets",
    "pmipview.signals",
    "pmipview.correlate.dhcp",
    "pmipview.correlate.engine",
    "pmipview.correlate.handoffs",
    "pmipview.correlate.history",
    "pmipview.correlate.identity",
    "pmipview.correlate.model",
    "pmipview.correlate.nodes",
    "pmipview.correlate.revocation",
    "pmipview.correlate.timing",
    "pmipview.render.timeline_json",
)
_SLACK = 2.0  # seconds: a source written with its build (a wheel) is not "newer"


def _built(directory: str, leaf: str) -> str | None:
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = os.path.join(directory, leaf + suffix)
        if os.path.exists(path):
            return path
    return None


def _stale(built: str, source: str) -> bool:
    try:
        return os.path.getmtime(source) > os.path.getmtime(built) + _SLACK
    except OSError:
        return False


class _SourceWhenPure(importlib.abc.MetaPathFinder):
    """Import an AS_IS module from its ``.py`` when pure is asked for or its build is stale."""

    def find_spec(self, name: str, path=None, target=None):  # type: ignore[no-untyped-def]
        if name not in AS_IS or not path:
            return None
        leaf = name.rpartition(".")[2]
        for directory in path:
            source = os.path.join(directory, leaf + ".py")
            if not os.path.exists(source):
                continue
            built = _built(directory, leaf)
            if PURE or built is None or _stale(built, source):
                return importlib.util.spec_from_file_location(name, source)
            return None  # the build: the default finder takes it
        return None


if not any(isinstance(f, _SourceWhenPure) for f in sys.meta_path):
    sys.meta_path.insert(0, _SourceWhenPure())


def compiled(name: str) -> ModuleType | None:
    """The compiled twin ``name``, or None (pure forced, not built, stale or other ABI)."""
    if PURE:
        return None
    try:
        module = importlib.import_module(name)
    except ImportError:
        return None
    source = os.path.join(os.path.dirname(module.__file__ or ""),
                          os.path.basename(TWINS.get(name, "")))
    if module.__file__ and os.path.exists(source) and _stale(module.__file__, source):
        return None
    return module if getattr(module, "ABI", None) == ABI else None


def as_is_compiled() -> list[str]:
    """The AS_IS modules that run compiled in this process (imports them)."""
    out = []
    for name in AS_IS:
        module = importlib.import_module(name)
        if not (module.__file__ or "").endswith(".py"):
            out.append(name)
    return out


def describe() -> str:
    """Which path runs, for ``--version``: compiled (what) or pure Python (why)."""
    if PURE:
        return "pure Python (PMIPVIEW_PURE=1)"
    twins = [name for name in TWINS if compiled(name) is not None]
    as_is = as_is_compiled()
    if not twins and not as_is:
        return "pure Python (compiled hot path not built)"
    parts = []
    if len(twins) == len(TWINS):
        parts.append("reader, pre-filter, summary counter, signal fields, datagram batches")
    elif twins:
        parts.append(", ".join(twins))
    if as_is:
        parts.append(f"{len(as_is)} of {len(AS_IS)} decoder and correlator modules")
    return f"compiled (Cython: {'; '.join(parts)})"
