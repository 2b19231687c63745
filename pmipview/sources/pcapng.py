"""The pcapng side of the capture reader (both byte orders, several sections and
interfaces) and the pcapng writer.

``PcapngReading`` is mixed into :class:`~pmipview.sources.capfile.CaptureReader`: it holds
the block loop and every block's parser; the reader holds the stream and the problem report.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

from dissectors.link import LinkType
from pmipview.sources.capcommon import (
    _BO_NAME,
    _NS,
    _SKIP_CHUNK,
    _STRUCTS,
    MAX_RECORD,
    Interface,
    Section,
    _first,
    _open_out,
    _plural,
    _seekable,
    _Stop,
    _text,
)
from pmipview.sources.records import CaptureError, Record, _RecordBuilder

_PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
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



class PcapngReading:
    """The pcapng methods of CaptureReader (state lives on the reader)."""

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
        self._loop = "pcapng"

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
