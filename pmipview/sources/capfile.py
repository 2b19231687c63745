"""Native streaming reader and writer for pcap and pcapng capture files.

``open_capture(path)`` detects pcap (µs and ns, both byte orders), pcapng (both byte
orders, several sections) and gzip-compressed variants of both, and returns a
:class:`CaptureReader`: iterate it for :class:`~pmipview.sources.records.Record` objects.
The file is never read into memory as a whole: records are read one by one from a
buffered file object (measured faster in pure Python than slicing big chunks).

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
import struct
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from typing import IO, Any, BinaryIO, NamedTuple

from dissectors.link import LinkType
from pmipview.sources.records import CaptureError, ReadProblem, Record, _RecordBuilder

__all__ = [
    "MAX_RECORD",
    "CaptureReader",
    "Interface",
    "Section",
    "open_capture",
    "write_pcap",
    "write_pcapng",
]


MAX_RECORD = 256 * 1024 * 1024
"""No record or block may be larger than this (bytes); larger means corrupt."""
_STANDARD_MAX = 262144
"""Wireshark's usual maximum packet size; a pcap caplen up to this is never corrupt."""
_BUFSIZE = 1 << 18
"""Read buffer; 256 KiB measured as fast as 1 MiB (bench/read_rate.py)."""
_SKIP_CHUNK = 1 << 20
_MAX_WARNINGS = 100
_NS = 1_000_000_000

_PCAP_MAGIC = {
    b"\xd4\xc3\xb2\xa1": ("<", False),
    b"\xa1\xb2\xc3\xd4": (">", False),
    b"\x4d\x3c\xb2\xa1": ("<", True),
    b"\xa1\xb2\x3c\x4d": (">", True),
}
_PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
_GZIP_MAGIC = b"\x1f\x8b"
_OTHER_MAGIC = {
    b"\x34\xcd\xb2\xa1": "a modified (Kuznetzov) pcap file; convert it with editcap -F pcap",
    b"\xa1\xb2\xcd\x34": "a modified (Kuznetzov) pcap file; convert it with editcap -F pcap",
    b"\x28\xb5\x2f\xfd": "zstd-compressed; decompress it first (zstd -d)",
    b"\x04\x22\x4d\x18": "lz4-compressed; decompress it first (lz4 -d)",
    b"\xfd\x37\x7a\x58": "xz-compressed; decompress it first (xz -d)",
    b"BZh": "bzip2-compressed; decompress it first (bunzip2)",
}

_BT_SHB = 0x0A0D0D0A
_BT_IDB = 1
_BT_OPB = 2
_BT_SPB = 3
_BT_EPB = 6
_BT_ISB = 5  # interface statistics: what the capturing side received and dropped
_ISB_IFDROP, _ISB_OSDROP = 5, 7
_BOM = 0x1A2B3C4D
_BLOCK_NAMES = {
    _BT_SHB: "section header block",
    _BT_IDB: "interface description block",
    _BT_OPB: "packet block",
    _BT_SPB: "simple packet block",
    4: "name resolution block",
    5: "interface statistics block",
    _BT_EPB: "enhanced packet block",
}
# Blocks Wireshark 4.0 numbers as frames although they hold no packet (checked with
# tshark 4.0.17): systemd journal export, sysdig events (with and without flags), custom
# blocks (copyable or not).
_NONPACKET_FRAME_BLOCKS = frozenset({9, 0x204, 0x208, 0x00000BAD, 0x40000BAD})

_OPT_ENDOFOPT = 0
_OPT_COMMENT = 1
_SHB_HARDWARE = 2
_SHB_OS = 3
_SHB_USERAPPL = 4
_IF_NAME = 2
_IF_DESCRIPTION = 3
_IF_TSRESOL = 9
_IF_TSOFFSET = 14


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


def open_capture(source: str | os.PathLike[str] | BinaryIO) -> CaptureReader:
    """Open a pcap / pcapng file (optionally gzip-compressed) for streaming reading.

    ``source`` is a path or a binary file object (which is then not closed by the reader).
    Raises :class:`CaptureError` when the file is missing, unreadable, empty, not a capture
    or has a broken file header.
    """
    return CaptureReader(source)


class CaptureReader:
    """Iterate over the records of a capture file; see :func:`open_capture`.

    Iteration is single-pass.  While and after iterating: ``frames_read`` (frames read so
    far, numbered like Wireshark: records yielded plus ``skipped_frames``),
    ``problem`` (why reading stopped early, or None), ``warnings`` (non-fatal oddities),
    ``interfaces`` (all interfaces seen so far, global across pcapng sections),
    ``sections`` and ``section_comments``; ``bytes_read`` against ``size`` for progress.
    """

    def __init__(self, source: str | os.PathLike[str] | BinaryIO) -> None:
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
        self._gen: Iterator[Record] | None = None
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

    def _open_pcap(self, magic: bytes) -> None:
        bo, nano = _PCAP_MAGIC[magic]
        hdr = self._read_exact(24, "pcap file header")
        _, major, minor, _zone, _sigfigs, snaplen, network = struct.unpack(bo + "IHHiIII", hdr)
        self.format = "pcap-ns" if nano else "pcap"
        self.byte_order = _BO_NAME[bo]
        self._bo = bo
        self._nano = nano
        self.snaplen = snaplen
        self.linktype = network & 0x03FFFFFF
        if (major, minor) != (2, 4):
            self._warn(f"unusual pcap version {major}.{minor} (expected 2.4)")
        if snaplen == 0 or snaplen > MAX_RECORD:
            self._warn(f"absurd snaplen {snaplen} in the pcap file header; ignored")
            self._limit = _STANDARD_MAX
        else:
            self._limit = max(snaplen, _STANDARD_MAX)
        self.interfaces.append(Interface(self.linktype, snaplen, _NS if nano else 1_000_000, None))
        self.sections.append(Section(0, self.byte_order, (major, minor)))
        self._gen = self._iter_pcap()

    def _open_pcapng(self) -> None:
        head = self._read_exact(8, "pcapng section header block")
        try:
            self._section(head, 0)
        except _Stop:
            assert self.problem is not None
            raise CaptureError(
                f"bad pcapng file header ({self.problem.reason}): {self.name}", self.name
            ) from None
        self.format = "pcapng"
        self.byte_order = _BO_NAME[self._bo]
        self._lookahead = _seekable(self._raw)  # a file, not a pipe
        self._gen = self._iter_pcapng()

    # -- common ---------------------------------------------------------------------------

    def __iter__(self) -> Iterator[Record]:
        if self._gen is None:
            return iter(())
        return self._gen

    def __enter__(self) -> CaptureReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the files this reader opened (not a file object passed in)."""
        if self._closed_at is None:
            self._closed_at = self.bytes_read
        gen, self._gen = self._gen, None
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

    # -- pcap -----------------------------------------------------------------------------

    def _iter_pcap(self) -> Iterator[Record]:
        read = self._f.read
        unpack = _STRUCTS[self._bo].pcap.unpack
        frac_ns = 1 if self._nano else 1000
        limit = self._limit
        lt = self.linktype
        builder = _RecordBuilder
        record = Record
        frame = 0
        off = 24
        try:
            while True:
                hdr = read(16)
                if len(hdr) != 16:
                    if hdr:
                        self._fail(
                            off,
                            f"truncated record header at offset {off}: "
                            f"need 16 bytes, have {len(hdr)}",
                            frame + 1,
                        )
                    return
                sec, frac, caplen, orig = unpack(hdr)
                if caplen > limit:
                    self._fail(
                        off,
                        f"corrupt record at offset {off}: captured length {caplen} "
                        f"exceeds the maximum {limit}",
                        frame + 1,
                    )
                    return
                data = read(caplen)
                if len(data) != caplen:
                    self._fail(
                        off,
                        f"truncated record at offset {off}: need {16 + caplen} bytes, "
                        f"have {16 + len(data)}",
                        frame + 1,
                    )
                    return
                frame += 1
                r = builder(frame, sec * _NS + frac * frac_ns, lt, data, 0, orig, None)
                r.__class__ = record
                self.frames_read = frame
                yield r
                off += 16 + caplen
        except (OSError, EOFError, zlib.error) as e:
            self._stream_error(e, off, frame + 1)

    # -- pcapng ---------------------------------------------------------------------------
    #
    # From a file, each enhanced packet block is fetched with the header of the next block
    # in a single read (measured ~15% faster than two); the next (type, length) come from
    # the same unpack as the trailing length.  Not from a pipe (live capture), where that
    # would hold each packet back until the next one arrives.  Pseudo block types: -1 "end
    # of file after the block" (length: bytes of a partial header), -2 "header not read".

    def _iter_pcapng(self) -> Iterator[Record]:
        read = self._f.read
        builder = _RecordBuilder
        record = Record
        frame = 0
        ts = 0
        off = self._next_off
        ahead = 0 if self._lookahead else -8  # read blen + ahead bytes after the header
        try:
            btype, blen = self._next_header(off)
            while True:
                # (re)bound at every section change: byte order and interfaces
                st = _STRUCTS[self._bo]
                tail_unpack = st.tail.unpack_from
                epb_unpack = st.epb.unpack_from
                ifs = self._ifs
                while True:
                    if btype == _BT_EPB:
                        if blen < 32 or blen & 3 or blen > MAX_RECORD:
                            self._bad_length(off, btype, blen, frame + 1)
                            return
                        body = read(blen + ahead)
                        if len(body) == blen:
                            trailer, nbtype, nblen = tail_unpack(body, blen - 12)
                        else:
                            trailer, nbtype, nblen = self._short_tail(body, blen, off, frame + 1)
                        if trailer != blen:
                            self._bad_trailer(off, btype, blen, trailer, frame + 1)
                            return
                        ifid, tsh, tsl, caplen, orig = epb_unpack(body)
                        end = 20 + caplen
                        if end > blen - 12:
                            self._fail(
                                off,
                                f"corrupt enhanced packet block at offset {off}: captured "
                                f"length {caplen} exceeds the block length {blen}",
                                frame + 1,
                            )
                            return
                        if ifid >= len(ifs):
                            self._no_interface(off, ifid, frame + 1)
                            return
                        lt, mul, div, tsoff, gid = ifs[ifid]
                        ts = ((tsh << 32) | tsl) * mul // div + tsoff
                        comment = None
                        if blen - 12 > ((end + 3) & ~3):
                            comment = self._comment(body, (end + 3) & ~3, blen - 12, off)
                        frame += 1
                        r = builder(frame, ts, lt, body[20:end], gid, orig, comment)
                        r.__class__ = record
                        self.frames_read = frame
                        yield r
                        off += blen
                        btype = nbtype
                        blen = nblen
                        continue
                    if btype < 0:
                        if btype == -2:  # not read ahead
                            btype, blen = self._next_header(off)
                            continue
                        if blen:  # the end, after a block read together with its successor
                            self._truncated_header(off, blen)
                        return
                    if btype == _BT_SHB:
                        off = self._section(st.hdr.pack(btype, blen), off)
                        btype, blen = self._next_header(off)
                        break
                    if btype in (_BT_SPB, _BT_OPB):
                        r = self._spb_opb(btype, blen, off, frame + 1, ts)
                        frame += 1
                        ts = r.ts_ns
                        self.frames_read = frame
                        yield r
                    else:
                        self._other_block(btype, blen, off)
                        if btype in _NONPACKET_FRAME_BLOCKS:
                            frame += 1
                            self.skipped_frames += 1
                            self.frames_read = frame
                    off += blen
                    btype, blen = self._next_header(off)
        except _Stop:
            return
        except (OSError, EOFError, zlib.error) as e:
            self._stream_error(e, off, frame + 1)

    def _next_header(self, off: int) -> tuple[int, int]:
        """The (type, length) of the block at ``off``; (-1, 0) at the end; or _Stop."""
        h = self._f.read(8)
        if len(h) == 8:
            return _STRUCTS[self._bo].hdr.unpack(h)
        if h:
            self._truncated_header(off, len(h))
            raise _Stop
        return -1, 0

    def _short_tail(self, body: bytes, blen: int, off: int, frame_no: int) -> tuple[int, int, int]:
        """Trailer and next header of a block read without (all of) the next header; or _Stop."""
        have = len(body) - (blen - 8)  # bytes of the next header
        if have < 0:
            self._truncated_block(off, _BT_EPB, blen, len(body), frame_no)
            raise _Stop
        (trailer,) = _STRUCTS[self._bo].u32.unpack_from(body, blen - 12)
        return trailer, -1 if self._lookahead else -2, have

    def _truncated_header(self, off: int, have: int) -> None:
        self._fail(off, f"truncated block header at offset {off}: need 8 bytes, have {have}")

    def _block_name(self, btype: int) -> str:
        return _BLOCK_NAMES.get(btype, f"block of type 0x{btype:08x}")

    def _bad_length(self, off: int, btype: int, blen: int, frame_no: int | None = None) -> None:
        self._fail(
            off,
            f"corrupt {self._block_name(btype)} at offset {off}: bad block length {blen}",
            frame_no,
        )

    def _truncated_block(
        self, off: int, btype: int, blen: int, have: int, frame_no: int | None = None
    ) -> None:
        self._fail(
            off,
            f"truncated {self._block_name(btype)} at offset {off}: need {blen} bytes, "
            f"have {8 + have}",
            frame_no,
        )

    def _bad_trailer(
        self, off: int, btype: int, blen: int, trailer: int, frame_no: int | None = None
    ) -> None:
        self._fail(
            off,
            f"corrupt {self._block_name(btype)} at offset {off}: trailing block length "
            f"{trailer} differs from leading {blen}",
            frame_no,
        )

    def _no_interface(self, off: int, ifid: int, frame_no: int) -> None:
        self._fail(
            off,
            f"corrupt packet block at offset {off}: interface {ifid} is not defined "
            f"(section has {_plural(len(self._ifs), 'interface')})",
            frame_no,
        )

    def _read_block(
        self, btype: int, blen: int, off: int, minimum: int, frame_no: int | None = None
    ) -> bytes:
        """The block body after the 8-byte header (trailer included), checked; or _Stop."""
        if blen < minimum or blen & 3 or blen > MAX_RECORD:
            self._bad_length(off, btype, blen, frame_no)
            raise _Stop
        body = self._f.read(blen - 8)
        if len(body) != blen - 8:
            self._truncated_block(off, btype, blen, len(body), frame_no)
            raise _Stop
        (trailer,) = _STRUCTS[self._bo].u32.unpack_from(body, blen - 12)
        if trailer != blen:
            self._bad_trailer(off, btype, blen, trailer, frame_no)
            raise _Stop
        return body

    def _options(self, buf: bytes, pos: int, end: int, off: int) -> list[tuple[int, bytes]]:
        """Parse the options in ``buf[pos:end]``; a malformed option list is a warning."""
        opt = _STRUCTS[self._bo].opt.unpack_from
        out: list[tuple[int, bytes]] = []
        while pos + 4 <= end:
            code, length = opt(buf, pos)
            if code == _OPT_ENDOFOPT:
                break
            pos += 4
            if pos + length > end:
                self._warn(f"malformed options in the block at offset {off}; ignored the rest")
                break
            out.append((code, buf[pos : pos + length]))
            pos += (length + 3) & ~3
        return out

    def _comment(self, buf: bytes, pos: int, end: int, off: int) -> str | None:
        comments = [_text(v) for c, v in self._options(buf, pos, end, off) if c == _OPT_COMMENT]
        return "\n".join(comments) if comments else None

    def _section(self, h: bytes, off: int) -> int:
        """Read a section header block whose first 8 bytes are ``h``; return next offset."""
        bom = self._f.read(4)
        if len(bom) != 4:
            self._fail(
                off,
                f"truncated section header block at offset {off}: need 12 bytes, "
                f"have {8 + len(bom)}",
            )
            raise _Stop
        if bom == b"\x4d\x3c\x2b\x1a":
            bo = "<"
        elif bom == b"\x1a\x2b\x3c\x4d":
            bo = ">"
        else:
            self._fail(
                off,
                f"corrupt section header block at offset {off}: bad byte-order magic 0x{bom.hex()}",
            )
            raise _Stop
        st = _STRUCTS[bo]
        (blen,) = st.u32.unpack_from(h, 4)
        if blen < 28 or blen & 3 or blen > MAX_RECORD:
            self._bad_length(off, _BT_SHB, blen)
            raise _Stop
        body = self._f.read(blen - 12)  # after the byte-order magic
        if len(body) != blen - 12:
            self._truncated_block(off, _BT_SHB, blen, 4 + len(body))
            raise _Stop
        (trailer,) = st.u32.unpack_from(body, len(body) - 4)
        if trailer != blen:
            self._bad_trailer(off, _BT_SHB, blen, trailer)
            raise _Stop
        major, minor = st.opt.unpack_from(body, 0)
        if major != 1:
            self._fail(
                off, f"unsupported pcapng version {major}.{minor} in the section at offset {off}"
            )
            raise _Stop
        self._bo = bo
        self._ifs = []
        section = Section(off, _BO_NAME[bo], (major, minor), first_interface=len(self.interfaces))
        # body: major, minor, section length (12 bytes), options, trailer
        for code, value in self._options(body, 12, len(body) - 4, off):
            if code == _OPT_COMMENT:
                section.comments.append(_text(value))
            elif code == _SHB_HARDWARE:
                section.hardware = _text(value)
            elif code == _SHB_OS:
                section.os = _text(value)
            elif code == _SHB_USERAPPL:
                section.application = _text(value)
        self.sections.append(section)
        self._next_off = off + blen
        return off + blen

    def _interface(self, body: bytes, off: int) -> None:
        st = _STRUCTS[self._bo]
        linktype, _reserved, snaplen = st.idb.unpack_from(body, 0)
        name = description = None
        tps = 1_000_000
        tsoff = 0
        for code, value in self._options(body, 8, len(body) - 4, off):
            if code == _IF_NAME:
                name = _text(value)
            elif code == _IF_DESCRIPTION:
                description = _text(value)
            elif code == _IF_TSRESOL and len(value) >= 1:
                v = value[0]
                tps = 1 << (v & 0x7F) if v & 0x80 else 10**v
            elif code == _IF_TSOFFSET and len(value) == 8:
                (tsoff,) = st.i64.unpack(value)
        if snaplen > MAX_RECORD:
            self._warn(f"absurd snaplen {snaplen} in the interface description at offset {off}")
        if _NS % tps == 0:
            mul, div = _NS // tps, 1
        else:
            mul, div = _NS, tps
        gid = len(self.interfaces)
        self.interfaces.append(Interface(linktype, snaplen, tps, name or description))
        self._ifs.append((linktype, mul, div, tsoff * _NS, gid))

    def _other_block(self, btype: int, blen: int, off: int) -> None:
        """Interface description blocks, and the skipping of blocks we do not use."""
        if btype == _BT_IDB:
            body = self._read_block(btype, blen, off, 20)
            self._interface(body, off)
            return
        if btype == _BT_ISB:
            body = self._read_block(btype, blen, off, 24)
            u32, u64 = ("<I", "<Q") if self._bo == "<" else (">I", ">Q")
            drops = [struct.unpack(u64, value)[0]
                     for code, value in self._options(body, 12, len(body) - 4, off)
                     if code in (_ISB_IFDROP, _ISB_OSDROP) and len(value) == 8]
            if drops:  # the counters are cumulative: the last block of an interface counts
                self._drops[struct.unpack_from(u32, body, 0)[0]] = sum(drops)
                self.dropped = sum(self._drops.values())
            return
        if blen < 12 or blen & 3 or blen > MAX_RECORD:
            self._bad_length(off, btype, blen)
            raise _Stop
        left = blen - 8
        last = b""
        while left > 0:
            piece = self._f.read(min(left, _SKIP_CHUNK))
            if not piece:
                self._truncated_block(off, btype, blen, blen - 8 - left)
                raise _Stop
            left -= len(piece)
            last = (last + piece)[-4:]
        (trailer,) = _STRUCTS[self._bo].u32.unpack(last)
        if trailer != blen:
            self._bad_trailer(off, btype, blen, trailer)
            raise _Stop

    def _spb_opb(self, btype: int, blen: int, off: int, frame_no: int, prev_ts: int) -> Record:
        """A simple packet block or an (obsolete) packet block as a record; or _Stop."""
        st = _STRUCTS[self._bo]
        if btype == _BT_SPB:
            body = self._read_block(btype, blen, off, 16, frame_no)
            if not self._ifs:
                self._no_interface(off, 0, frame_no)
                raise _Stop
            (orig,) = st.u32.unpack_from(body, 0)
            caplen = min(orig, blen - 16)
            lt, _mul, _div, _tsoff, gid = self._ifs[0]
            snaplen = self.interfaces[gid].snaplen
            if snaplen:
                caplen = min(caplen, snaplen)
            if not self._spb_warned:
                self._spb_warned = True
                self._warn(
                    f"frame {frame_no} and other simple packet blocks carry no timestamp; "
                    "they get the previous frame's time"
                )
            return Record(frame_no, prev_ts, lt, body[4 : 4 + caplen], gid, orig, None)
        body = self._read_block(btype, blen, off, 32, frame_no)
        ifid, _drops, tsh, tsl, caplen, orig = st.opb.unpack_from(body, 0)
        end = 20 + caplen
        if end > blen - 12:
            self._fail(
                off,
                f"corrupt packet block at offset {off}: captured length {caplen} exceeds "
                f"the block length {blen}",
                frame_no,
            )
            raise _Stop
        if ifid >= len(self._ifs):
            self._no_interface(off, ifid, frame_no)
            raise _Stop
        lt, mul, div, tsoff, gid = self._ifs[ifid]
        comment = None
        if blen - 12 > ((end + 3) & ~3):
            comment = self._comment(body, (end + 3) & ~3, blen - 12, off)
        ts = ((tsh << 32) | tsl) * mul // div + tsoff
        return Record(frame_no, ts, lt, body[20:end], gid, orig, comment)


# -- writing ---------------------------------------------------------------------------------


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


def write_pcap(
    dest: str | os.PathLike[str] | BinaryIO,
    records: Iterable[Record],
    linktype: int | None = None,
    nanosecond: bool = False,
    *,
    snaplen: int = _STANDARD_MAX,
    big_endian: bool = False,
) -> int:
    """Write ``records`` as a pcap file (µs, or ns with ``nanosecond``); return the count.

    ``dest`` is a path (``.gz`` means gzip-compressed) or a binary file object (left open).
    ``linktype`` defaults to that of the first record; every record must have it.
    ``orig_len`` 0 (unknown) is written as the captured length.
    """
    first, it = _first(records)
    if linktype is None:
        linktype = first.linktype if first is not None else LinkType.ETHERNET
    bo = ">" if big_endian else "<"
    magic = 0xA1B23C4D if nanosecond else 0xA1B2C3D4
    div = 1 if nanosecond else 1000
    rec_hdr = struct.Struct(bo + "IIII").pack
    f, owned = _open_out(dest)
    count = 0
    try:
        f.write(struct.pack(bo + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype))
        parts: list[bytes] = []
        for rec in it:
            if rec.linktype != linktype:
                raise ValueError(
                    f"frame {rec.frame_no}: link type {rec.linktype}, file has {linktype}"
                )
            data = rec.data
            caplen = len(data)
            if caplen > snaplen:
                raise ValueError(
                    f"frame {rec.frame_no}: {caplen} bytes exceed the snaplen {snaplen}"
                )
            sec, ns = divmod(rec.ts_ns, _NS)
            if not 0 <= sec <= 0xFFFFFFFF:
                raise ValueError(f"frame {rec.frame_no}: timestamp out of range for pcap")
            parts.append(rec_hdr(sec, ns // div, caplen, max(rec.orig_len, caplen)))
            parts.append(data)
            count += 1
            if len(parts) >= 8192:
                f.write(b"".join(parts))
                parts.clear()
        f.write(b"".join(parts))
    finally:
        if owned:
            f.close()
    return count


def _opt(bo: str, code: int, value: bytes) -> bytes:
    return struct.pack(bo + "HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def _block(bo: str, btype: int, body: bytes) -> bytes:
    blen = len(body) + 12
    return struct.pack(bo + "II", btype, blen) + body + struct.pack(bo + "I", blen)


def _tsresol_byte(tps: int) -> int | None:
    """The if_tsresol value for ``tps`` ticks per second; None for the default (µs)."""
    if tps == 1_000_000:
        return None
    for k in range(128):
        if tps == 10**k:
            return k
        if tps == 1 << k:
            return 0x80 | k
    raise ValueError(f"ts_resolution {tps} is neither a power of 10 nor of 2")


def write_pcapng(
    dest: str | os.PathLike[str] | BinaryIO,
    records: Iterable[Record],
    interfaces: Iterable[Any] | None = None,
    *,
    comment: str | None = None,
    application: str | None = "pmipview",
    big_endian: bool = False,
) -> int:
    """Write ``records`` as a pcapng file (one section, EPBs); return the count.

    ``interfaces`` are ``(linktype, name)`` or ``(linktype, name, ts_resolution)`` tuples
    (ticks per second, a power of 10 or 2; default 1_000_000) or :class:`Interface`
    objects; ``record.interface`` indexes them and ``record.linktype`` must match.
    Default: one interface with the first record's link type.  ``comment`` becomes the
    section comment, ``record.comment`` an ``opt_comment``.  ``dest`` as for write_pcap.
    """
    first, it = _first(records)
    if interfaces is None:
        interfaces = [(first.linktype if first is not None else LinkType.ETHERNET, None)]
    bo = ">" if big_endian else "<"
    ifaces: list[tuple[int, int]] = []  # linktype, ticks per second
    idbs = []
    for spec in interfaces:
        if isinstance(spec, Interface):
            lt, name, tps, snaplen = spec.linktype, spec.name, spec.ts_resolution, spec.snaplen
        else:
            lt, name, *more = spec
            tps = more[0] if more else 1_000_000
            snaplen = 0
        opts = b""
        if name:
            opts += _opt(bo, _IF_NAME, name.encode())
        tsresol = _tsresol_byte(tps)
        if tsresol is not None:
            opts += _opt(bo, _IF_TSRESOL, bytes([tsresol]))
        if opts:
            opts += _opt(bo, _OPT_ENDOFOPT, b"")
        idbs.append(_block(bo, _BT_IDB, struct.pack(bo + "HHI", lt, 0, snaplen) + opts))
        ifaces.append((lt, tps))
    shb_opts = b""
    if comment:
        shb_opts += _opt(bo, _OPT_COMMENT, comment.encode())
    if application:
        shb_opts += _opt(bo, _SHB_USERAPPL, application.encode())
    if shb_opts:
        shb_opts += _opt(bo, _OPT_ENDOFOPT, b"")
    shb = _block(bo, _BT_SHB, struct.pack(bo + "IHHq", _BOM, 1, 0, -1) + shb_opts)
    epb_hdr = struct.Struct(bo + "IIIIIII").pack
    u32 = struct.Struct(bo + "I").pack
    f, owned = _open_out(dest)
    count = 0
    try:
        f.write(shb + b"".join(idbs))
        parts: list[bytes] = []
        for rec in it:
            if not 0 <= rec.interface < len(ifaces):
                raise ValueError(f"frame {rec.frame_no}: no interface {rec.interface}")
            lt, tps = ifaces[rec.interface]
            if rec.linktype != lt:
                raise ValueError(
                    f"frame {rec.frame_no}: link type {rec.linktype}, "
                    f"interface {rec.interface} has {lt}"
                )
            data = rec.data
            caplen = len(data)
            ticks = rec.ts_ns * tps // _NS
            if not 0 <= ticks < 1 << 64:
                raise ValueError(f"frame {rec.frame_no}: timestamp out of range for pcapng")
            pad = -caplen % 4
            opts = b""
            if rec.comment:
                opts = _opt(bo, _OPT_COMMENT, rec.comment.encode()) + _opt(bo, _OPT_ENDOFOPT, b"")
            blen = 32 + caplen + pad + len(opts)
            parts.append(
                epb_hdr(
                    _BT_EPB,
                    blen,
                    rec.interface,
                    ticks >> 32,
                    ticks & 0xFFFFFFFF,
                    caplen,
                    max(rec.orig_len, caplen),
                )
            )
            parts.append(data)
            parts.append(b"\0" * pad + opts + u32(blen))
            count += 1
            if len(parts) >= 8192:
                f.write(b"".join(parts))
                parts.clear()
        f.write(b"".join(parts))
    finally:
        if owned:
            f.close()
    return count
