"""The pcap side of the capture reader (µs and ns, both byte orders) and the pcap writer.

``PcapReading`` is mixed into :class:`~pmipview.sources.capfile.CaptureReader`: it holds
the file header and the record loop; the reader holds the stream and the problem report.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from dissectors.link import LinkType
from pmipview.sources.capcommon import (
    _BO_NAME,
    _NS,
    _STANDARD_MAX,
    _STRUCTS,
    MAX_RECORD,
    Interface,
    Section,
    _first,
    _open_out,
)
from pmipview.sources.records import Record, _RecordBuilder

_PCAP_MAGIC = {
    b"\xd4\xc3\xb2\xa1": ("<", False),
    b"\xa1\xb2\xc3\xd4": (">", False),
    b"\x4d\x3c\xb2\xa1": ("<", True),
    b"\xa1\xb2\x3c\x4d": (">", True),
}


class PcapReading:
    """The pcap methods of CaptureReader (state lives on the reader)."""

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
        self._loop = "pcap"

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

