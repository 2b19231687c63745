"""What the pcap and pcapng readers and writers share: link types, limits, the capture's
interfaces and sections, the stream wrappers and the precompiled structs."""

from __future__ import annotations

import gzip
import io
import os
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, BinaryIO, NamedTuple

from pmipview.sources.records import Record

MAX_RECORD = 256 * 1024 * 1024
"""No record or block may be larger than this (bytes); larger means corrupt."""
_STANDARD_MAX = 262144
"""Wireshark's usual maximum packet size; a pcap caplen up to this is never corrupt."""
_BUFSIZE = 1 << 18
"""Read buffer; 256 KiB measured as fast as 1 MiB (bench/read_rate.py)."""
_SKIP_CHUNK = 1 << 20
_MAX_WARNINGS = 100
_NS = 1_000_000_000


class Interface(NamedTuple):
    """A capture interface: pcapng IDB, or the single implicit interface of a pcap file.

    ``ts_resolution`` is in ticks per second (1_000_000 for µs, 1_000_000_000 for ns,
    ``2**k`` for binary resolutions).  ``snaplen`` 0 means "no limit" in pcapng.
    """

    linktype: int
    snaplen: int
    ts_resolution: int
    name: str | None


@dataclass(slots=True)
class Section:
    """A pcapng Section Header Block (the whole file, for pcap)."""

    offset: int
    byte_order: str  # "little" or "big"
    version: tuple[int, int]
    comments: list[str] = field(default_factory=list)
    hardware: str | None = None
    os: str | None = None
    application: str | None = None
    first_interface: int = 0  # global index of the section's first interface


class _Stop(Exception):
    """Raised inside the block handlers when reading must end; ``problem`` is already set."""


class _Read1(io.RawIOBase):
    """Raw-stream view of a GzipFile that returns what one decompression step yields.

    A BufferedReader straight over a GzipFile fills its buffer with ``GzipFile.read(n)``,
    which loops and loses everything it collected when a truncated stream raises EOFError;
    ``read1`` returns short reads instead, so only the truncated record itself is lost.
    """

    def __init__(self, f: gzip.GzipFile) -> None:
        super().__init__()
        self._f = f

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        data = self._f.read1(len(b))
        n = len(data)
        b[:n] = data
        return n


def _seekable(f: Any) -> bool:
    try:
        return bool(f.seekable())
    except (OSError, ValueError, AttributeError):
        return False


class _Unclosed(io.RawIOBase):
    """A stream passed in by the caller, as raw stream for our buffer (which must not close it)."""

    def __init__(self, f: Any) -> None:
        super().__init__()
        self._f = f

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int | None:
        readinto = getattr(self._f, "readinto", None)
        if readinto is not None:
            return readinto(b)
        data = self._f.read(len(b))
        b[: len(data)] = data
        return len(data)

    def fileno(self) -> int:
        return self._f.fileno()

    def seekable(self) -> bool:
        return _seekable(self._f)

    def seek(self, pos: int, whence: int = 0) -> int:
        return self._f.seek(pos, whence)

    def tell(self) -> int:
        return self._f.tell()


class _Structs:
    """Precompiled structs for one byte order."""

    __slots__ = ("epb", "hdr", "i64", "idb", "opb", "opt", "pcap", "tail", "u32")

    def __init__(self, bo: str) -> None:
        self.hdr = struct.Struct(bo + "II")
        self.epb = struct.Struct(bo + "IIIII")
        self.opb = struct.Struct(bo + "HHIIII")
        self.idb = struct.Struct(bo + "HHI")
        self.opt = struct.Struct(bo + "HH")
        self.tail = struct.Struct(bo + "III")
        self.u32 = struct.Struct(bo + "I")
        self.i64 = struct.Struct(bo + "q")
        self.pcap = struct.Struct(bo + "IIII")


_STRUCTS = {"<": _Structs("<"), ">": _Structs(">")}
_BO_NAME = {"<": "little", ">": "big"}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _text(raw: bytes) -> str:
    return raw.rstrip(b"\0").decode("utf-8", errors="replace")



def _open_out(dest: str | os.PathLike[str] | BinaryIO) -> tuple[BinaryIO, bool]:
    if isinstance(dest, str | os.PathLike):
        path = os.fspath(dest)
        if str(path).endswith(".gz"):
            return gzip.open(path, "wb"), True  # type: ignore[return-value]
        return open(path, "wb"), True
    return dest, False


def _first(records: Iterable[Record]) -> tuple[Record | None, Iterator[Record]]:
    it = iter(records)
    first = next(it, None)
    return first, (it if first is None else chain((first,), it))

