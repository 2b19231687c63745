"""The probe on real sockets: the I/O half of :class:`~pmipview.probe.driver.Driver`.

One transport of :mod:`pmipview.wire.transport` per MAG address (``mag0``, ``mag1``...),
plus, on MAG 0, the sockets some checks need: ``alt`` (the same address, another UDP
port: the reply-port check), ``5436`` (catches a reply wrongly sent to port 5436) and, over
IPv6, ``bad`` (a raw MH socket whose checksum the kernel leaves alone, so a wrong one
reaches the wire).  Every datagram goes to ``--pcap`` with its check's name as comment,
numbered as the verdicts number it.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from ipaddress import IPv4Address, IPv6Address

from dissectors.ip import IPProto, IPv6, encode_ipv6
from pmipview.agents.base import Address, Packet
from pmipview.probe.driver import Driver, Mn, Transmission
from pmipview.probe.mn import DhcpClientMn
from pmipview.wire.capture import CaptureWriter
from pmipview.wire.codec import encode_payload
from pmipview.wire.transport import (
    Datagram,
    MhTransport,
    TransportError,
    Udp4Transport,
)

Transport = Udp4Transport | MhTransport
MN_KEY = "\0mn"


def open_sockets(mags: list[Address]) -> dict[str, Transport]:
    """The MAG sockets; the extra ones of MAG 0 only when they can be opened."""
    socks: dict[str, Transport] = {}
    try:
        for i, addr in enumerate(mags):
            if isinstance(addr, IPv4Address):
                socks[f"mag{i}"] = Udp4Transport(addr, 0)
            else:
                socks[f"mag{i}"] = MhTransport(addr)
    except TransportError:
        close(socks)
        raise
    first = mags[0]
    extra: list[tuple[str, Callable[[], Transport]]] = []
    if isinstance(first, IPv4Address):
        extra = [("alt", lambda: Udp4Transport(first, 0)),
                 ("5436", lambda: Udp4Transport(first))]
    else:
        extra = [("bad", lambda: _unchecked(first))]
    for name, make in extra:
        with contextlib.suppress(TransportError, OSError):
            socks[f"mag0-{name}"] = make()
    return socks


def _unchecked(addr: IPv6Address) -> MhTransport:
    t = MhTransport(addr)
    try:  # Linux fills in the MH checksum (offset 4) unless told not to
        t.sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_CHECKSUM, -1)
    except OSError:
        t.close()
        raise
    return t


def extra_names(socks: dict[str, Transport]) -> frozenset[str]:
    return frozenset(n.split("-", 1)[1] for n in socks if n.startswith("mag0-"))


def close(socks: dict[str, Transport]) -> None:
    for t in socks.values():
        t.close()


def run(driver: Driver, socks: dict[str, Transport], capture: CaptureWriter | None = None,
        clock: Callable[[], float] = time.monotonic, mn: DhcpClientMn | None = None) -> None:
    """Run the driver until every check has a verdict (``mn``: the mobile node that the
    driver's :class:`Mn` steps act on, for the MAG probe)."""
    sel = selectors.DefaultSelector()
    for name, t in socks.items():
        sel.register(t.fileno(), selectors.EVENT_READ, name)
    recent: deque[bytes] = deque(maxlen=64)  # what we sent: loopback echoes on raw sockets
    mn_fd: list[int | None] = [None]

    def watch_mn() -> None:
        fd = mn.fileno() if mn is not None else None
        if fd != mn_fd[0]:
            if mn_fd[0] is not None:
                with contextlib.suppress(KeyError, ValueError):
                    sel.unregister(mn_fd[0])
            if fd is not None:
                sel.register(fd, selectors.EVENT_READ, MN_KEY)
            mn_fd[0] = fd

    def handle(outs: list) -> None:
        for tx in outs:
            if isinstance(tx, Mn):
                if mn is not None:
                    mn.do(tx)
                    watch_mn()
                continue
            _send(tx, socks, capture, clock(), recent)

    try:
        handle(driver.start(clock()))
        while not driver.done:
            due = driver.next_timer()
            timeout = 0.05 if due is None else max(0.0, due - clock())
            for key, _ in sel.select(timeout):
                name = key.data
                if name == MN_KEY:
                    for event in mn.read() if mn is not None else []:
                        handle(driver.mn_event(clock(), event))
                    watch_mn()
                    continue
                for d, packet in socks[name].receive():
                    if name.endswith("-bad"):
                        continue  # a copy of what the main raw socket reads too
                    if _echo(d, recent):
                        continue
                    if isinstance(packet, Packet):
                        packet = replace(packet, iface=name)
                    now = clock()
                    _frame, comment, outs = driver.receive(now, packet, name)
                    if capture is not None:
                        capture.on_receive(now, d, packet, comment)
                    handle(outs)
            now = clock()
            due = driver.next_timer()
            if due is None or now >= due:
                handle(driver.timer(now))
    finally:
        sel.close()
        if capture is not None:
            capture.flush()


def _key(payload: bytes) -> bytes:
    return payload[:4] + payload[6:]  # the checksum is the kernel's


def _echo(d: Datagram, recent: deque[bytes]) -> bool:
    if d.sport is not None:
        return False
    key = _key(d.payload)
    if key in recent:
        recent.remove(key)
        return True
    return False


def _send(tx: Transmission, socks: dict[str, Transport], capture: CaptureWriter | None,
          now: float, recent: deque[bytes]) -> None:
    packet = tx.packet
    t = socks.get(packet.iface)
    comment = tx.comment
    payload = tx.raw if tx.raw is not None else encode_payload(packet)
    d: Datagram | None = None
    if t is not None and tx.raw is not None:
        try:
            t.sock.sendto(tx.raw, (str(packet.dst), 0))
            d = Datagram(tx.raw, packet.src, packet.dst, None, None)
        except OSError as exc:
            comment += f" (send failed: {exc.strerror})"
    elif t is not None:
        d = t.send(packet)
        if d is None:
            comment += " (send failed)"
    else:
        comment += " (no such socket)"
    if isinstance(packet.dst, IPv6Address):
        recent.append(_key(payload))
    if capture is None:
        return
    if tx.raw is not None and isinstance(packet.src, IPv6Address):
        frame = encode_ipv6(IPv6(packet.src, packet.dst, IPProto.MH), tx.raw)
        capture.write_frame(now, frame, comment)
        return
    if d is None:
        sport = getattr(t, "port", None) if isinstance(packet.dst, IPv4Address) else None
        d = Datagram(payload, packet.src, packet.dst, sport, packet.dport)
    capture.on_send(now, d, packet, comment)
