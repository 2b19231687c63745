"""Stage 1 of the pipeline: where frames come from.

Every source yields :class:`~pmipview.sources.records.Record` (frame number, timestamp
in ns, link type, bytes, interface) and exposes ``problem`` (why reading stopped early),
``bytes_read``/``size`` for progress, and ``close()``.

- :func:`open_source` with a path: our native streaming pcap/pcapng(.gz) reader; a file
  it does not know (snoop, ERF, ...) is handed to tshark and streamed back as pcapng.
- :func:`open_source` with an interface: tshark captures live (see ``tshark.py``).
"""

from __future__ import annotations

import shutil

from pmipview.sources.capfile import CaptureReader, open_capture, write_pcap, write_pcapng
from pmipview.sources.records import CaptureError, ReadProblem, Record
from pmipview.sources.tshark import TsharkSource, converted, live

__all__ = ["CaptureError", "CaptureReader", "ReadProblem", "Record", "TsharkSource",
           "open_source", "write_pcap", "write_pcapng"]


def open_source(path: str | None = None, *, interface: str | None = None,
                bpf: str | None = None, count: int | None = None,
                duration: float | None = None) -> CaptureReader | TsharkSource:
    """Open a capture file or a live interface; CaptureError with a one-line reason."""
    if interface is not None:
        return live(interface, bpf, count, duration)
    assert path is not None
    try:
        return open_capture(path)
    except CaptureError as exc:
        if "not a capture file" in exc.message and shutil.which("tshark"):
            try:
                return converted(path)
            except CaptureError:
                pass
        raise
