"""``--pcap FILE``: a node's own traffic as pcapng, written while it runs.

An observer of the runtime.  Each datagram it sent or received becomes one enhanced
packet block on a LINKTYPE_RAW interface (the IP and UDP headers rebuilt around the
payload, the MH checksum as the kernel computed it), timestamped from the wall clock, so
``pmipview timeline FILE`` and tshark read it like any capture.  Undecodable input is
written too, with a comment saying why it was dropped.  Blocks go out in batches; the
file is complete after every flush (at most ``flush_every`` seconds behind).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import BinaryIO

from dissectors.link import LinkType
from pmipview.agents.base import Packet
from pmipview.sources.pcapng_stream import header
from pmipview.sources.pcapng_stream import packet as epb
from pmipview.wire.codec import Undecodable, as_frame
from pmipview.wire.transport import Datagram


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
        fh.write(header([(LinkType.RAW, name)]))
        fh.flush()

    def _frame(self, now: float, d: Datagram, comment: str | None = None) -> None:
        self.write_frame(now, as_frame(d.src, d.dst, d.payload, d.sport, d.dport), comment)

    def write_frame(self, now: float, data: bytes, comment: str | None = None) -> None:
        """One IP packet (LINKTYPE_RAW) as given, with an optional frame comment."""
        self._parts.append(epb(0, int((now + self._offset) * 1e9), data, comment=comment))
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

    def on_receive(self, now: float, d: Datagram, packet: Packet | Undecodable,
                   comment: str | None = None) -> None:
        reason = packet.reason if isinstance(packet, Undecodable) else None
        self._frame(now, d, comment or (f"dropped: {reason}" if reason else None))

    def on_send(self, now: float, d: Datagram, packet: Packet,
                comment: str | None = None) -> None:
        self._frame(now, d, comment)

    def on_tick(self, now: float) -> None:
        self.flush(now)

    def close(self) -> None:
        self.flush()
        self.fh.close()
