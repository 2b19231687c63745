"""Native streaming reader and writer for pcap and pcapng capture files.

``open_capture(path)`` detects pcap (µs and ns, both byte orders), pcapng (both byte
orders, several sections) and gzip-compressed variants of both, and returns a
:class:`CaptureReader`: iterate it for :class:`~pmipview.sources.records.Record` objects.
The file is never read into memory as a whole: records are read one by one from a
buffered file object (measured faster in pure Python than slicing big chunks).
This module opens and sniffs; the format code is in ``pcap.py`` and ``pcapng.py`` (mixed
into :class:`CaptureReader`, each with its writer), shared pieces in ``capcommon.py``.

Damage does not raise while iterating: a truncated record or a corrupt block ends the
iteration cleanly, everything before it has been yielded, and ``reader.problem`` says
where and why.  Files that cannot be opened, or are not captures at all, raise
:class:`~pmipview.sources.records.CaptureError` from ``open_capture``.

Conventions (decisions, mirrored in the tests):

* Frame numbers count like Wireshark 4.0: pcapng blocks that Wireshark shows as frames
  without being packets (systemd journal export, custom and sysdig event blocks) use a
  number but are not yielded (``reader.skipped_frames`` counts them).
* A Simple Packet Block has no timestamp (tshark shows none); its record gets the
  timestamp of the previous frame (0 when it is the first), so that time order holds,
  and a warning is added once.
* An absurd pcap snaplen (0 or more than 256 MiB) is only a warning: records are read on,
  as tshark does.  A record is corrupt when its captured length exceeds both the snaplen
  and 262144 (Wireshark's usual maximum), or 256 MiB.
"""


from __future__ import annotations

import contextlib
import gzip
import io
import os
import stat
import zlib
from collections.abc import Iterator
from typing import IO, Any, BinaryIO

from dissectors.speedups import compiled
from pmipview.sources.capcommon import (
    _BUFSIZE,
    _MAX_WARNINGS,
    MAX_RECORD,
    Interface,
    Section,
    _plural,
    _Read1,
    _seekable,
    _Unclosed,
)
from pmipview.sources.pcap import _PCAP_MAGIC, PcapReading, write_pcap
from pmipview.sources.pcapng import _PCAPNG_MAGIC, PcapngReading, write_pcapng
from pmipview.sources.records import CaptureError, ReadProblem, Record

_C = compiled("pmipview.sources._creader")
"""The compiled record loops (sources/_creader.pyx), or None: dissectors/speedups.py."""

__all__ = [
    "MAX_RECORD",
    "CaptureReader",
    "Interface",
    "Section",
    "open_capture",
    "write_pcap",
    "write_pcapng",
]

_GZIP_MAGIC = b"\x1f\x8b"
_OTHER_MAGIC = {
    b"\x34\xcd\xb2\xa1": "a modified (Kuznetzov) pcap file; convert it with editcap -F pcap",
    b"\xa1\xb2\xcd\x34": "a modified (Kuznetzov) pcap file; convert it with editcap -F pcap",
    b"\x28\xb5\x2f\xfd": "zstd-compressed; decompress it first (zstd -d)",
    b"\x04\x22\x4d\x18": "lz4-compressed; decompress it first (lz4 -d)",
    b"\xfd\x37\x7a\x58": "xz-compressed; decompress it first (xz -d)",
    b"BZh": "bzip2-compressed; decompress it first (bunzip2)",
}


def open_capture(source: str | os.PathLike[str] | BinaryIO, *,
                 pure: bool = False) -> CaptureReader:
    """Open a pcap / pcapng file (optionally gzip-compressed) for streaming reading.

    ``source`` is a path or a binary file object (which is then not closed by the reader).
    Raises :class:`CaptureError` when the file is missing, unreadable, empty, not a capture
    or has a broken file header.  ``pure`` reads with the pure-Python loops even when the
    compiled ones are built (the tests compare both).
    """
    return CaptureReader(source, pure=pure)




class CaptureReader(PcapReading, PcapngReading):
    """Iterate over the records of a capture file; see :func:`open_capture`.

    Iteration is single-pass.  While and after iterating: ``frames_read`` (frames read so
    far, numbered like Wireshark: records yielded plus ``skipped_frames``),
    ``problem`` (why reading stopped early, or None), ``warnings`` (non-fatal oddities),
    ``interfaces`` (all interfaces seen so far, global across pcapng sections),
    ``sections`` and ``section_comments``; ``bytes_read`` against ``size`` for progress.
    """

    def __init__(self, source: str | os.PathLike[str] | BinaryIO, *, pure: bool = False) -> None:
        # the record loop: compiled (sources/_creader.pyx) or pure (pcap.py, pcapng.py),
        # the same records and problems either way
        self.compiled = _C is not None and not pure
        self.name: str
        self.format = ""
        self.byte_order = "little"
        self.snaplen: int | None = None  # pcap only
        self.linktype: int | None = None  # pcap only
        self.interfaces: list[Interface] = []
        self.sections: list[Section] = []
        self.warnings: list[str] = []
        # packets the capturing side lost (pcapng interface statistics, isb_ifdrop +
        # isb_osdrop; dumpcap and tshark write them when a capture stops); None: not said
        self.dropped: int | None = None
        self._drops: dict[int, int] = {}
        self.problem: ReadProblem | None = None
        self.frames_read = 0
        self.skipped_frames = 0
        self.size: int | None = None
        self._owned: list[IO[bytes]] = []  # closed by close(), innermost last
        self._raw: IO[bytes]  # the file as on disk (compressed, for gzip)
        self._f: IO[bytes]  # the uncompressed stream
        self._gzip = False
        self._gen: Iterator[Record] | None = None  # the record loop, once started
        self._loop: str | None = None  # "pcap" or "pcapng" once opened; None when closed
        self._closed_at: int | None = None  # bytes_read when closed
        # pcapng section state
        self._bo = "<"
        self._ifs: list[tuple[int, int, int, int, int]] = []  # lt, mul, div, off_ns, gid
        self._spb_warned = False
        self._next_off = 0  # offset of the block after the first section header
        self._lookahead = False  # read the next block header with the current block
        try:
            self._open(source)
        except BaseException:
            self.close()
            raise

    # -- opening -------------------------------------------------------------------------

    def _open(self, source: str | os.PathLike[str] | BinaryIO) -> None:
        if isinstance(source, str | os.PathLike):
            self.name = os.fspath(source)
            if isinstance(self.name, bytes):  # pragma: no cover - bytes paths
                self.name = self.name.decode(errors="replace")
            raw = self._open_path(self.name)
        else:
            name = getattr(source, "name", "<stream>")
            self.name = f"<fd {name}>" if isinstance(name, int) else str(name)
            raw = source
            if isinstance(source, io.RawIOBase) or not (
                hasattr(source, "peek") or _seekable(source)
            ):  # short reads, or no way to sniff the magic: buffer it (and leave it open)
                raw = io.BufferedReader(_Unclosed(source), _BUFSIZE)  # type: ignore[assignment]
                self._owned.append(raw)
        self._raw = raw
        try:
            st = os.fstat(raw.fileno())
            self.size = st.st_size if stat.S_ISREG(st.st_mode) else None  # not for pipes
        except (OSError, AttributeError, ValueError, io.UnsupportedOperation):
            self.size = None
        if self.size == 0:
            raise CaptureError(f"empty file: {self.name}", self.name)

        magic = self._sniff(raw, 4, "")
        if magic.startswith(_GZIP_MAGIC):
            self._gzip = True
            gz = gzip.GzipFile(fileobj=raw, mode="rb")
            self._owned.append(gz)
            f: IO[bytes] = io.BufferedReader(_Read1(gz), _BUFSIZE)
            self._owned.append(f)
            magic = self._sniff(f, 4, " (after gzip decompression)")
        else:
            f = raw
        self._f = f

        if magic in _PCAP_MAGIC:
            self._open_pcap(magic)
        elif magic == _PCAPNG_MAGIC:
            self._open_pcapng()
        else:
            for prefix, what in _OTHER_MAGIC.items():
                if magic.startswith(prefix):
                    raise CaptureError(f"not supported: {self.name} is {what}", self.name)
            raise CaptureError(
                f"not a capture file (unknown magic 0x{magic.hex()}): {self.name}", self.name
            )
        if self._gzip:
            self.format += ".gz"

    def _open_path(self, path: str) -> IO[bytes]:
        try:
            f = open(path, "rb", buffering=_BUFSIZE)  # noqa: SIM115 - closed by close()
        except FileNotFoundError:
            raise CaptureError(f"no such file: {path}", path) from None
        except IsADirectoryError:
            raise CaptureError(f"is a directory, not a capture file: {path}", path) from None
        except PermissionError:
            raise CaptureError(f"permission denied: {path}", path) from None
        except OSError as e:
            raise CaptureError(f"cannot open {path}: {e.strerror or e}", path) from None
        self._owned.append(f)
        return f

    def _sniff(self, f: IO[bytes], n: int, where: str) -> bytes:
        """The first ``n`` bytes of ``f`` without consuming them."""
        try:
            head = b""
            peek = getattr(f, "peek", None)
            if peek is not None:
                head = peek(n)[:n]
            if len(head) < n and _seekable(f):
                pos = f.tell()
                head = f.read(n)
                f.seek(pos)
        except EOFError:
            raise CaptureError(f"truncated gzip file: {self.name}", self.name) from None
        except (OSError, zlib.error) as e:
            if self._gzip:
                raise CaptureError(f"corrupt gzip file ({e}): {self.name}", self.name) from None
            raise CaptureError(f"cannot read {self.name}: {e}", self.name) from None
        if not head:
            raise CaptureError(f"empty file{where}: {self.name}", self.name)
        if len(head) < n:
            raise CaptureError(
                f"not a capture file (only {_plural(len(head), 'byte')}{where}): {self.name}",
                self.name,
            )
        return head

    def _read_exact(self, n: int, what: str) -> bytes:
        try:
            data = self._f.read(n)
        except EOFError:
            data = b""
        except (OSError, zlib.error) as e:
            raise CaptureError(f"cannot read {what} of {self.name}: {e}", self.name) from None
        if len(data) < n:
            raise CaptureError(
                f"truncated {what} ({len(data)} of {n} bytes): {self.name}", self.name
            )
        return data

    def _warn(self, message: str) -> None:
        if len(self.warnings) < _MAX_WARNINGS:
            self.warnings.append(message)
        elif len(self.warnings) == _MAX_WARNINGS:
            self.warnings.append("further warnings suppressed")

    # -- common ---------------------------------------------------------------------------

    def __iter__(self) -> Iterator[Record]:
        if self._gen is None:
            if self._loop is None:
                return iter(())
            self._gen = self._records(None)
        return self._gen

    def prefiltered(self, summary: Any = None) -> tuple[Iterator[Record], Any] | None:
        """The compiled loop with the pre-filter inside: ``(records, counts)``, where
        ``records`` are only the frames ``dissectors.prefilter.classify`` lets through and
        ``counts`` (``_creader.Counts``) counts every frame read and those it dropped.
        With ``summary`` (a ``dissectors._csummary.Summary``), the frames it is sure of
        are counted there and are not records either (``packets.count_frames``).
        None when the loop is pure or iteration has started (``packets.scan`` then runs
        ``classify`` itself)."""
        if self._gen is not None or self._loop is None or not self.compiled:
            return None
        counts = _C.Counts()
        self._gen = self._records(counts, summary)
        return self._gen, counts

    def _records(self, counts: Any, summary: Any = None) -> Iterator[Record]:
        if self.compiled:
            loop = _C.iter_pcap if self._loop == "pcap" else _C.iter_pcapng
            return loop(self, counts, summary)
        return self._iter_pcap() if self._loop == "pcap" else self._iter_pcapng()

    def __enter__(self) -> CaptureReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the files this reader opened (not a file object passed in)."""
        if self._closed_at is None:
            self._closed_at = self.bytes_read
        gen, self._gen = self._gen, None
        self._loop = None
        if gen is not None:
            gen.close()  # type: ignore[attr-defined]
        while self._owned:
            with contextlib.suppress(Exception):  # closing is best effort
                self._owned.pop().close()

    @property
    def bytes_read(self) -> int:
        """Position in the file on disk (compressed, for gzip), for a progress bar.

        It runs ahead of the records yielded by up to the read buffer (256 KiB; for gzip,
        the decompressor's input buffer); 0 when the stream cannot tell.
        """
        if self._closed_at is not None:
            return self._closed_at
        try:
            return self._raw.tell()
        except (OSError, ValueError, AttributeError):
            return 0

    @property
    def section_comments(self) -> list[str]:
        """The comments of all pcapng sections, in file order."""
        return [c for s in self.sections for c in s.comments]

    def _fail(self, offset: int, reason: str, frame_no: int | None = None) -> None:
        self.problem = ReadProblem(offset, reason, frame_no)

    def _stream_error(self, exc: BaseException, offset: int, frame_no: int) -> None:
        if isinstance(exc, EOFError):
            reason = f"truncated gzip stream at (decompressed) offset {offset}"
        elif self._gzip:
            reason = f"corrupt gzip data near offset {offset}: {exc}"
        else:
            reason = f"read error at offset {offset}: {exc}"
        self._fail(offset, reason, frame_no)

