"""Stage 1 of the pipeline: where frames come from.

Every source yields :class:`~pmipview.sources.records.Record` (frame number, timestamp
in ns, link type, bytes, interface) and exposes ``problem`` (why reading stopped early),
``bytes_read``/``size`` for progress, and ``close()``.

- :func:`open_source` with a path: our native streaming pcap/pcapng(.gz) reader; a file
  it does not know (snoop, ERF, ...) is handed to tshark and streamed back as pcapng.
- :func:`open_source` with an interface: dumpcap captures to a file that we follow while it
  grows (``follow.py``); without dumpcap, tshark's pipe (``tshark.py``).
- ``-`` reads a pcap or pcapng stream from standard input (``tcpdump -w - | ...``).
- several paths are merged by time into one source (``merge.py``).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pmipview.sources.capfile import CaptureReader, open_capture, write_pcap, write_pcapng
from pmipview.sources.records import CaptureError, ReadProblem, Record

if TYPE_CHECKING:
    from pmipview.sources.follow import DumpcapSource
    from pmipview.sources.merge import MergedSource
    from pmipview.sources.tshark import TsharkSource

# Imported when first used: reading one pcap/pcapng file (every `pmipview FILE` command,
# the quick lanes of pmipview/quick.py) needs none of them, and follow.py alone brings
# subprocess, threading, signal and tempfile (~8 ms of start-up, issue 14).
_LAZY = {"DumpcapSource": "follow", "MergedSource": "merge", "TsharkSource": "tshark"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"pmipview.sources.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["STDIN", "CaptureError", "CaptureReader", "DumpcapSource", "MergedSource",
           "ReadProblem", "Record",
           "TsharkSource", "open_source", "write_pcap", "write_pcapng"]


STDIN = "-"


def _clock_offsets(paths: list[str]) -> list:
    """One extra read of each file: the clock offset of each against the first."""
    from pmipview.sources.clock import offsets

    readers: list = []
    try:
        for p in paths:
            readers.append(open_source(p))
        return offsets(readers, paths)
    finally:
        for r in readers:
            r.close()


def open_source(path: str | Sequence[str] | None = None, *, interface: str | None = None,
                bpf: str | None = None, count: int | None = None,
                duration: float | None = None, clock_correction: bool = True,
                write: str | None = None, ring_files: int | None = None,
                ring_kb: int | None = None,
                ) -> CaptureReader | TsharkSource | DumpcapSource | MergedSource:
    """Open a capture file (``-``: standard input), several files merged by time, or a
    live interface (kept in ``write``, a ring of ``ring_files`` of ``ring_kb`` when
    given); CaptureError with a one-line reason."""
    if interface is not None:
        from pmipview.sources.follow import live

        return live(interface, bpf, count, duration, write=write, ring_files=ring_files,
                    ring_kb=ring_kb)
    assert path is not None
    if not isinstance(path, str):
        paths = list(path)
        if len(paths) == 1:
            return open_source(paths[0])
        from pmipview.sources.merge import MergedSource

        if paths.count(STDIN) > 1:
            raise CaptureError("standard input (-) can be read only once")
        opened: list[CaptureReader | TsharkSource | DumpcapSource] = []
        try:
            for p in paths:
                src = open_source(p)
                assert not isinstance(src, MergedSource)
                opened.append(src)
            clock = _clock_offsets(paths) if clock_correction and STDIN not in paths else []
        except BaseException:
            for src in opened:
                src.close()
            raise
        return MergedSource(opened, paths, clock)
    if path == STDIN:
        reader = open_capture(sys.stdin.buffer)
        reader.name = "standard input"
        return reader
    try:
        return open_capture(path)
    except CaptureError as exc:
        import shutil

        if "not a capture file" in exc.message and shutil.which("tshark"):
            from pmipview.sources.tshark import converted

            try:
                return converted(path)
            except CaptureError:
                pass
        raise
