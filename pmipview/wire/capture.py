"""``--pcap FILE``: a node's own traffic as pcapng, written while it runs.

An observer of the runtime.  Each datagram it sent or received becomes one enhanced
packet block on a LINKTYPE_RAW interface (the IP and UDP headers rebuilt around the
payload, the MH checksum as the kernel computed it), timestamped from the wall clock, so
``pmipview timeline FILE`` and tshark read it like any capture.  Undecodable input is
written too, with a comment saying why it was dropped.  Blocks go out in batches; the
file is complete after every flush (at most ``flush_every`` seconds behind).
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable
from typing import BinaryIO

from dissectors.link import LinkType
from pmipview.agents.base import Packet
from pmipview.wire.codec import Undecodable, as_frame
from pmipview.wire.transport import Datagram

_SHB, _IDB, _EPB = 0x0A0D0D0A, 0x00000001, 0x00000006
_OPT_COMMENT, _OPT_END, _IF_NAME, _IF_TSRESOL, _SHB_APP = 1, 0, 2, 9, 4


def _opt(code: int, value: bytes) -> bytes:
    return struct.pack("<HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def _block(btype: int, body: bytes) -> bytes:
    blen = 12 + len(body)
    return struct.pack("<II", btype, blen) + body + struct.pack("<I", blen)


class CaptureWriter:
    """Appends pcapng blocks to ``fh``; ``name`` labels the single interface."""

    def __init__(self, fh: BinaryIO, name: str, *, flush_every: float = 1.0,
                 wall: Callable[[], float] = time.time,
                 mono: Callable[[], float] = time.monotonic) -> None:
        self.fh = fh
        self.frames = 0
        self._parts: list[bytes] = []
        self._offset = wall() - mono()
        self._flush_every = flush_every
        self._last_flush = mono()
        shb = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1) + _opt(_SHB_APP, b"pmipview") \
            + _opt(_OPT_END, b"")
        idb = struct.pack("<HHI", LinkType.RAW, 0, 0) + _opt(_IF_NAME, name.encode()) \
            + _opt(_IF_TSRESOL, bytes([9])) + _opt(_OPT_END, b"")
        fh.write(_block(_SHB, shb) + _block(_IDB, idb))
        fh.flush()

    def _frame(self, now: float, d: Datagram, comment: str | None = None) -> None:
        data = as_frame(d.src, d.dst, d.payload, d.sport, d.dport)
        ticks = int((now + self._offset) * 1e9)
        opts = _opt(_OPT_COMMENT, comment.encode()) + _opt(_OPT_END, b"") if comment else b""
        body = struct.pack("<IIIII", 0, ticks >> 32, ticks & 0xFFFFFFFF, len(data),
                           len(data)) + data + b"\0" * (-len(data) % 4) + opts
        self._parts.append(_block(_EPB, body))
        self.frames += 1
        if now - self._last_flush >= self._flush_every or len(self._parts) >= 4096:
            self.flush(now)

    def flush(self, now: float | None = None) -> None:
        if self._parts:
            self.fh.write(b"".join(self._parts))
            self._parts.clear()
        self.fh.flush()
        if now is not None:
            self._last_flush = now

    # -- observer interface ----------------------------------------------------------

    def on_receive(self, now: float, d: Datagram, packet: Packet | Undecodable) -> None:
        reason = packet.reason if isinstance(packet, Undecodable) else None
        self._frame(now, d, f"dropped: {reason}" if reason else None)

    def on_send(self, now: float, d: Datagram, packet: Packet) -> None:
        self._frame(now, d)

    def on_tick(self, now: float) -> None:
        self.flush(now)

    def close(self) -> None:
        self.flush()
        self.fh.close()
