"""Write records as they arrive: ``--write FILE.pcapng``, optionally as a ring buffer.

A live view keeps what it saw.  Records are appended as enhanced packet blocks, in
batches, to a pcapng file whose section header and interface blocks are written first.
With ``ring_files`` (and ``ring_bytes``), like dumpcap's ``-b files:N -b filesize:KB``,
the output rotates to ``NAME_00001.pcapng``, ``NAME_00002.pcapng``... when a file
reaches ``ring_bytes``, and only the newest ``ring_files`` files are kept.
"""

from __future__ import annotations

import os
import struct
import time
from collections.abc import Sequence

from pmipview.sources.records import Record

_SHB, _IDB, _EPB = 0x0A0D0D0A, 0x00000001, 0x00000006
FLUSH_EVERY = 0.5  # seconds: what was seen is on disk soon, even at a low rate
_OPT_END, _OPT_COMMENT, _IF_NAME, _IF_TSRESOL, _SHB_APP = 0, 1, 2, 9, 4


def _opt(code: int, value: bytes) -> bytes:
    return struct.pack("<HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def block(btype: int, body: bytes) -> bytes:
    """One pcapng block (little-endian) around ``body``."""
    blen = 12 + len(body)
    return struct.pack("<II", btype, blen) + body + struct.pack("<I", blen)


def header(interfaces: Sequence[tuple[int, str | None]], application: str = "pmipview") -> bytes:
    """Section header and one interface block per ``(linktype, name)``, ns timestamps."""
    shb = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1) + _opt(_SHB_APP, application.encode()) \
        + _opt(_OPT_END, b"")
    out = block(_SHB, shb)
    for linktype, name in interfaces:
        opts = (_opt(_IF_NAME, name.encode()) if name else b"") + _opt(_IF_TSRESOL, b"\x09")
        out += block(_IDB, struct.pack("<HHI", linktype, 0, 0) + opts + _opt(_OPT_END, b""))
    return out


def packet(interface: int, ts_ns: int, data: bytes, orig_len: int = 0,
           comment: str | None = None) -> bytes:
    """One enhanced packet block with a nanosecond timestamp."""
    opts = _opt(_OPT_COMMENT, comment.encode()) + _opt(_OPT_END, b"") if comment else b""
    body = struct.pack("<IIIII", interface, ts_ns >> 32, ts_ns & 0xFFFFFFFF, len(data),
                       max(orig_len, len(data))) + data + b"\0" * (-len(data) % 4) + opts
    return block(_EPB, body)


class PcapngStream:
    """Append :class:`Record`s to ``path`` (or a ring of files named after it)."""

    def __init__(self, path: str, interfaces: Sequence[tuple[int, str | None]], *,
                 ring_files: int | None = None, ring_bytes: int | None = None) -> None:
        self.path = path
        self.interfaces = list(interfaces)
        self.ring_files = ring_files
        self.ring_bytes = ring_bytes
        self.written: list[str] = []
        self._parts: list[bytes] = []
        self._size = 0
        self._index = 0
        self.frames = 0
        self._flushed = time.monotonic()
        self._fh = self._next_file()

    def _name(self) -> str:
        if not self.ring_files:
            return self.path
        stem, ext = os.path.splitext(self.path)
        return f"{stem}_{self._index:05d}{ext or '.pcapng'}"

    def _next_file(self):
        self._index += 1
        name = self._name()
        fh = open(name, "wb")  # noqa: SIM115 - closed by close() or the next rotation
        head = header(self.interfaces)
        fh.write(head)
        self._size = len(head)
        self.written.append(name)
        if self.ring_files and len(self.written) > self.ring_files:
            old = self.written.pop(0)
            if os.path.exists(old):
                os.remove(old)
        return fh

    def write(self, rec: Record) -> None:
        data = packet(rec.interface, rec.ts_ns, rec.data, rec.orig_len, rec.comment)
        self._parts.append(data)
        self._size += len(data)
        self.frames += 1
        if self.ring_bytes and self._size >= self.ring_bytes:
            self.flush()
            self._fh.close()
            self._fh = self._next_file()
        elif len(self._parts) >= 1024 or time.monotonic() - self._flushed > FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        self._flushed = time.monotonic()
        if self._parts:
            self._fh.write(b"".join(self._parts))
            self._parts.clear()
        self._fh.flush()

    def close(self) -> None:
        self.flush()
        self._fh.close()
