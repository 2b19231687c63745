"""Sockets for mobility signaling: IPv4/UDP 5436 and IPv6 Mobility Header (raw, proto 135).

A transport moves bytes and addresses only.  It reads every datagram that is waiting
(non-blocking, up to a batch), sends what it is given, and says which outgoing packets
are its own (:meth:`accepts`); decoding and encoding are :mod:`pmipview.wire.codec`'s,
what to answer is the core's.  Socket errors never escape as tracebacks: opening fails
with :class:`TransportError` (one line for the user), sending counts the failure.
"""

from __future__ import annotations

import contextlib
import errno
import socket
import struct
import sys
import time
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, ip_address
from typing import Any

from dissectors.ip import IPProto
from dissectors.mh_codes import PMIP6_CNTL_PORT, MHType
from dissectors.speedups import compiled
from pmipview.agents.base import BACKHAUL, Address, Packet
from pmipview.agents.lma_wire import read_pbu
from pmipview.wire.codec import Undecodable, decode_mh_datagram, encode_payload

RCVBUF = 32 << 20  # room for a burst of load while the core is busy (capped by rmem_max)
BATCH = 1024       # datagrams read per readiness event before the loop looks at timers
# SO_TIMESTAMP (Linux; the socket module does not name it): the kernel's arrival time of
# each datagram as ancillary data, for shedding the PBUs that waited too long.
_SO_TIMESTAMP = 29 if sys.platform.startswith("linux") else None
_TIMEVAL = struct.Struct("@ll")
# IP_PKTINFO: the socket module names it from Python 3.12 on (Linux: 8)
_IP_PKTINFO: int = getattr(socket, "IP_PKTINFO", 8)
_BU = int(MHType.BU)  # a (Proxy) Binding Update: what shedding drops
_CMMSG = compiled("pmipview.wire._cmmsg")  # recvmmsg/sendmmsg for Udp4Transport, or None


class TransportError(Exception):
    """A transport cannot be opened; the message is one line for the user."""


@dataclass(frozen=True, slots=True)
class Datagram:
    """What a socket gave or was given: the payload and its addressing."""

    payload: bytes
    src: Address
    dst: Address
    sport: int | None
    dport: int | None
    peer: Any = None   # the source as the socket named it (the fast path's key)


Decoded = tuple[Datagram, Packet | Undecodable]


def open_error(what: str, address: object, exc: OSError,
               busy: str = "is another LMA or MAG running?") -> TransportError:
    """A socket that cannot be bound, as one line that says what to do about it."""
    reason = exc.strerror or str(exc)
    if exc.errno == errno.EADDRINUSE:
        reason = f"address already in use ({busy})"
    elif exc.errno == errno.EADDRNOTAVAIL:
        reason = "no such local address (add it to an interface, or pick another)"
    elif exc.errno == errno.EACCES:
        reason = "a port below 1024 needs root or CAP_NET_BIND_SERVICE"
    return TransportError(f"cannot open {what} on {address}: {reason}")


class _Socketed:
    """What both signaling transports share: ``receive_raw`` (with shedding),
    ``decode``, ``reply`` (raw bytes back to a peer, for the fast path)."""

    name = ""
    sock: socket.socket
    local: Address
    send_errors = 0
    shed = 0                   # PBUs dropped unread because they waited > shed_after
    shed_after: float | None = None
    _wild = False
    _behind = True             # the last read found a queue: look at arrival times
    _queue: list[tuple[bytes | bytearray, Any, bytes | None]] | None = None  # held sends

    def fileno(self) -> int:
        return self.sock.fileno()

    def close(self) -> None:
        self.sock.close()

    def _tune(self) -> None:
        self.sock.setblocking(False)
        with contextlib.suppress(OSError):  # capped by net.core.rmem_max: still fine
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)

    def shed_older_than(self, seconds: float | None) -> None:
        """Drop, unanswered and counted in ``shed``, each PBU that waited longer than
        ``seconds`` in the socket buffer (its MAG has retransmitted it by then: answering
        the old copy only adds to an overload).  The kernel stamps every datagram; the
        queue is FIFO, so only the head of each batch is looked at until one is fresh."""
        if seconds is not None and _SO_TIMESTAMP is not None:
            try:
                self.sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMP, 1)
            except OSError:
                return
        self.shed_after = seconds

    def _peer_address(self, peer: Any) -> Address:
        raise NotImplementedError

    def _read(self, stamped: bool) -> tuple[bytes, Any, Address, float | None]:
        """One datagram: payload, peer, local address it was sent to, arrival time."""
        sock = self.sock
        if not (stamped or self._wild):
            payload, peer = sock.recvfrom(65535)
            return payload, peer, self.local, None
        payload, anc, _flags, peer = sock.recvmsg(65535, 128)
        dst, at = self.local, None
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMP and len(data) >= 16:
                sec, usec = _TIMEVAL.unpack_from(data)
                at = sec + usec / 1e6
            else:
                dst = self._pktinfo(level, kind, data) or dst
        return payload, peer, dst, at

    def _pktinfo(self, level: int, kind: int, data: bytes) -> Address | None:
        return None

    def receive_raw(self, limit: int = BATCH) -> list[tuple[bytes, Any, Address]]:
        """Up to ``limit`` waiting datagrams as (payload, peer, local address), oldest
        first, after shedding (see :meth:`shed_older_than`).  Arrival times are read
        (``recvmsg``, its ancillary data, a clock) only while the LMA is behind: when the
        previous read found more than one datagram waiting.  One datagram per wakeup means
        no queue, and nothing in it can have waited long; a backlog shows as a batch, and
        from the next read on its old PBUs are shed."""
        got: list[tuple[bytes, Any, Address]] = []
        shed_after = self.shed_after
        stamped = shed_after is not None and self._behind
        shed = self.shed
        read = self._read
        for _ in range(limit):
            try:
                payload, peer, dst, at = read(stamped)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:  # ICMP errors surface here on Linux (ECONNREFUSED): not ours
                continue
            if stamped and at is not None:
                if (time.time() - at > shed_after  # type: ignore[operator]
                        and len(payload) > 2 and payload[2] == _BU):
                    self.shed += 1
                    continue
                stamped = False   # fresh: everything behind it in the queue is fresher
            got.append((payload, peer, dst))
        self._behind = len(got) > 1 or self.shed != shed
        return got

    def receive(self, limit: int = BATCH) -> list[Decoded]:
        decode = self.decode
        return [decode(p, peer, dst) for p, peer, dst in self.receive_raw(limit)]

    def decode(self, payload: bytes, peer: Any, dst: Address) -> Decoded:
        raise NotImplementedError

    def packet(self, payload: bytes, peer: Any, dst: Address) -> Packet | Undecodable:
        """What :meth:`decode` gives, without the :class:`Datagram` (nothing observes it)."""
        return self.decode(payload, peer, dst)[1]

    def reply(self, payload: bytes | bytearray, peer: Any) -> bool:
        """Send raw bytes back to ``peer`` from the bound address (the fast path); between
        :meth:`begin_batch` and :meth:`flush`, held (True: its failure counts at the flush)."""
        if self._queue is not None:
            self._queue.append((payload, peer, None))
            return True
        if self._send_one(payload, peer, None):
            return True
        self.send_errors += 1
        return False

    def begin_batch(self) -> None:
        """Hold what :meth:`reply` and :meth:`send` are given until :meth:`flush` (the
        answers to one read, sent together: one ``sendmmsg`` when compiled)."""
        self._queue = []

    def flush(self) -> int:
        """Send what was held, in order; how many failed (counted in ``send_errors``)."""
        queue, self._queue = self._queue, None
        if not queue:
            return 0
        failed = self._send_queued(queue)
        self.send_errors += failed
        return failed

    def _send_queued(self, items: list[tuple[bytes | bytearray, Any, bytes | None]]) -> int:
        """Each (payload, address, source) in order, one syscall each; how many failed
        (the pure twin of ``_cmmsg.Batches.send``)."""
        send = self._send_one
        return sum(not send(payload, address, src) for payload, address, src in items)

    def _send_one(self, payload: bytes | bytearray, address: Any, src: bytes | None) -> bool:
        """``payload`` to ``address``; from the local address ``src`` (4 bytes, IPv4 only:
        ``IP_PKTINFO``) when given.  False when the socket refused it (EAGAIN, ENOBUFS...)."""
        try:
            if src is None:
                self.sock.sendto(payload, address)
            else:
                info = struct.pack("@i4s4s", 0, src, b"\0" * 4)
                self.sock.sendmsg([payload], [(socket.IPPROTO_IP, _IP_PKTINFO, info)],
                                  0, address)
        except OSError:
            return False
        return True


class Udp4Transport(_Socketed):
    """PMIPv6 over IPv4/UDP (RFC 5844 §4): bound to ``address:port``; replies from it.

    ``port`` 0 asks the kernel for an ephemeral port (a MAG or a load generator may send
    from any port; the LMA answers to the request's source port).
    """

    def __init__(self, address: IPv4Address, port: int = PMIP6_CNTL_PORT) -> None:
        self.name = f"udp4 {address}:{port}"
        self.local = address
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self.sock.bind((str(address), port))
        except OSError as exc:
            self.sock.close()
            raise open_error("UDP", f"{address}:{port}", exc) from None
        self.port = self.sock.getsockname()[1]
        self.name = f"udp4 {address}:{self.port}"
        self._tune()
        self._wild = address == IPv4Address(0)
        if self._wild:
            self.sock.setsockopt(socket.IPPROTO_IP, _IP_PKTINFO, 1)
        self._batches = None if _CMMSG is None else _CMMSG.Batches(_BU)

    _dst_of = IPv4Address  # the compiled reads: IP_PKTINFO's 4 bytes -> the local address

    def receive_raw(self, limit: int = BATCH) -> list[tuple[bytes, Any, Address]]:
        if self._batches is None:
            return super().receive_raw(limit)
        return self._batches.receive(self, limit)  # type: ignore[no-any-return]

    def _send_queued(self, items: list[tuple[bytes | bytearray, Any, bytes | None]]) -> int:
        if self._batches is None:
            return super()._send_queued(items)
        return self._batches.send(self, items)  # type: ignore[no-any-return]

    def close(self) -> None:
        self._batches = None
        super().close()

    def decode(self, payload: bytes, peer: Any, dst: Address) -> Decoded:
        src = _v4_of(peer[0])
        d = Datagram(payload, src, dst, peer[1], self.port, peer)
        return d, decode_mh_datagram(payload, src, dst, peer[1], self.port)

    def packet(self, payload: bytes, peer: Any, dst: Address) -> Packet | Undecodable:
        src = _v4_of(peer[0])
        # the common PBU shapes without the full decoder (the same Packet: lma_wire)
        return (read_pbu(payload, src, dst, peer[1], self.port)
                or decode_mh_datagram(payload, src, dst, peer[1], self.port))

    def _pktinfo(self, level: int, kind: int, data: bytes) -> Address | None:
        return _pktinfo4([(level, kind, data)])

    def accepts(self, packet: Packet) -> bool:
        return (isinstance(packet.dst, IPv4Address) and packet.iface == BACKHAUL
                and packet.dport is not None)

    def deliver(self, packet: Packet) -> bytes | None:
        """Send ``packet`` (or hold it, see :meth:`begin_batch`): its payload, or None
        when it could not be encoded or sent (counted in ``send_errors``).  What
        :meth:`send` does without building the :class:`Datagram` nobody looks at."""
        payload = encoded(packet)
        if payload is None:
            self.send_errors += 1
            return None
        address = (_text_of(packet.dst), packet.dport or PMIP6_CNTL_PORT)
        source = (packet.src.packed if self._wild and packet.src != IPv4Address(0)
                  else None)
        if self._queue is not None:
            self._queue.append((payload, address, source))
        elif not self._send_one(payload, address, source):
            self.send_errors += 1
            return None
        return payload

    def send(self, packet: Packet) -> Datagram | None:
        payload = self.deliver(packet)
        if payload is None:
            return None
        src = packet.src if self._wild else self.local
        return Datagram(payload, src, packet.dst, self.port, packet.dport or PMIP6_CNTL_PORT)


_CACHE_MAX = 4096   # peers remembered (MAG addresses: a handful; spoofed floods: bounded)
_V4_OF: dict[str, IPv4Address] = {}
_TEXT_OF: dict[Address, str] = {}


def _v4_of(host: str) -> IPv4Address:
    """``IPv4Address(host)`` for a peer seen before without parsing the text again (3 µs
    a datagram on the LMA's hot path)."""
    addr = _V4_OF.get(host)
    if addr is None:
        if len(_V4_OF) >= _CACHE_MAX:
            _V4_OF.clear()
        addr = _V4_OF[host] = IPv4Address(host)
    return addr


def _text_of(addr: Address) -> str:
    text = _TEXT_OF.get(addr)
    if text is None:
        if len(_TEXT_OF) >= _CACHE_MAX:
            _TEXT_OF.clear()
        text = _TEXT_OF[addr] = str(addr)
    return text


def encoded(packet: Packet) -> bytes | None:
    """The payload, or None when the message cannot be encoded (a PBA that echoes a
    2 kB PBU's options runs past the 2,048-byte Mobility Header limit): counted as a send
    error by the caller, never raised into the loop."""
    try:
        return encode_payload(packet)
    except (ValueError, OverflowError, struct.error):
        return None


def _pktinfo4(ancillary: list[tuple[int, int, bytes]]) -> IPv4Address | None:
    for level, kind, data in ancillary:
        if level == socket.IPPROTO_IP and kind == _IP_PKTINFO and len(data) >= 12:
            return IPv4Address(data[8:12])
    return None


class MhTransport(_Socketed):
    """PMIPv6 over IPv6 (RFC 5213): a raw IPPROTO_MH socket bound to ``address``.

    Linux computes and verifies the MH checksum on such sockets (checksum offset 4), so a
    datagram with a bad checksum never reaches us, as RFC 6275 §9.2 wants.  Needs root or
    CAP_NET_RAW.
    """

    def __init__(self, address: IPv6Address) -> None:
        self.name = f"ipv6 mh {address}"
        self.local = address
        try:
            self.sock = socket.socket(socket.AF_INET6, socket.SOCK_RAW, IPProto.MH)
        except PermissionError:
            raise TransportError(
                "the IPv6 transport needs a raw IPPROTO_MH socket: run as root or with "
                "CAP_NET_RAW, or use --transport udp4") from None
        except OSError as exc:
            raise open_error("a raw Mobility Header socket", address, exc) from None
        try:
            self.sock.bind((str(address), 0))
        except OSError as exc:
            self.sock.close()
            raise open_error("a raw Mobility Header socket", address, exc) from None
        self._tune()
        self._wild = address == IPv6Address(0)
        if self._wild:
            self.sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)

    def _read(self, stamped: bool) -> tuple[bytes, Any, Address, float | None]:
        return super()._read(True)  # recvmsg always: the source's scope comes with it

    def decode(self, payload: bytes, peer: Any, dst: Address) -> Decoded:
        src = IPv6Address(peer[0].split("%")[0])
        d = Datagram(payload, src, dst, None, None, peer)
        return d, decode_mh_datagram(payload, src, dst, None, None)

    def _pktinfo(self, level: int, kind: int, data: bytes) -> Address | None:
        return _pktinfo6([(level, kind, data)])

    def accepts(self, packet: Packet) -> bool:
        return (isinstance(packet.dst, IPv6Address) and packet.iface == BACKHAUL
                and packet.dport is None)

    def deliver(self, packet: Packet) -> bytes | None:
        """As :meth:`Udp4Transport.deliver`."""
        payload = encoded(packet)
        if payload is None:
            self.send_errors += 1
            return None
        address = (str(packet.dst), 0)
        if self._queue is not None:
            self._queue.append((payload, address, None))
        elif not self._send_one(payload, address, None):
            self.send_errors += 1
            return None
        return payload

    def send(self, packet: Packet) -> Datagram | None:
        payload = self.deliver(packet)
        if payload is None:
            return None
        src = packet.src if self._wild else self.local
        return Datagram(payload, src, packet.dst, None, None)


def _pktinfo6(ancillary: list[tuple[int, int, bytes]]) -> IPv6Address | None:
    for level, kind, data in ancillary:
        if level == socket.IPPROTO_IPV6 and kind == socket.IPV6_PKTINFO and len(data) >= 16:
            return IPv6Address(data[:16])
    return None


def open_signaling(transport: str, address: str, port: int = PMIP6_CNTL_PORT
                   ) -> Udp4Transport | MhTransport:
    """The transport named on the command line (``udp4`` or ``ipv6``) bound to ``address``."""
    try:
        addr = ip_address(address)
    except ValueError:
        raise TransportError(f"{address!r} is not an IP address") from None
    if transport == "udp4":
        if not isinstance(addr, IPv4Address):
            raise TransportError(f"--transport udp4 needs an IPv4 address, got {address}")
        return Udp4Transport(addr, port)
    if transport == "ipv6":
        if not isinstance(addr, IPv6Address):
            raise TransportError(f"--transport ipv6 needs an IPv6 address, got {address}")
        return MhTransport(addr)
    raise TransportError(f"unknown transport {transport!r}: use udp4 or ipv6")

