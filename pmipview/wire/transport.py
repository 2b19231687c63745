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
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, ip_address

from dissectors.ip import IPProto
from dissectors.mh_codes import PMIP6_CNTL_PORT
from pmipview.agents.base import BACKHAUL, Address, Packet
from pmipview.wire.codec import Undecodable, decode_mh_datagram, encode_payload

RCVBUF = 8 << 20   # room for a burst of load while the core is busy
BATCH = 256        # datagrams read per readiness event before the loop looks at timers


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
    name = ""
    sock: socket.socket
    local: Address
    send_errors = 0

    def fileno(self) -> int:
        return self.sock.fileno()

    def close(self) -> None:
        self.sock.close()

    def _tune(self) -> None:
        self.sock.setblocking(False)
        with contextlib.suppress(OSError):  # capped by net.core.rmem_max: still fine
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)


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
            self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_PKTINFO, 1)

    def receive(self, limit: int = BATCH) -> list[Decoded]:
        got: list[Decoded] = []
        sock, local, port = self.sock, self.local, self.port
        for _ in range(limit):
            try:
                if self._wild:
                    payload, anc, _flags, peer = sock.recvmsg(65535, 64)
                    dst = _pktinfo4(anc) or local
                else:
                    payload, peer = sock.recvfrom(65535)
                    dst = local
            except (BlockingIOError, InterruptedError):
                break
            except OSError:  # ICMP errors surface here on Linux (ECONNREFUSED): not ours
                continue
            src = IPv4Address(peer[0])
            d = Datagram(payload, src, dst, peer[1], port)
            got.append((d, decode_mh_datagram(payload, src, dst, peer[1], port)))
        return got

    def accepts(self, packet: Packet) -> bool:
        return (isinstance(packet.dst, IPv4Address) and packet.iface == BACKHAUL
                and packet.dport is not None)

    def send(self, packet: Packet) -> Datagram | None:
        payload = encoded(packet)
        if payload is None:
            self.send_errors += 1
            return None
        dport = packet.dport or PMIP6_CNTL_PORT
        try:
            if self._wild and packet.src != IPv4Address(0):
                info = struct.pack("@i4s4s", 0, packet.src.packed, b"\0" * 4)
                self.sock.sendmsg([payload], [(socket.IPPROTO_IP, socket.IP_PKTINFO, info)],
                                  0, (str(packet.dst), dport))
            else:
                self.sock.sendto(payload, (str(packet.dst), dport))
        except OSError:
            self.send_errors += 1
            return None
        src = packet.src if self._wild else self.local
        return Datagram(payload, src, packet.dst, self.port, dport)


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
        if level == socket.IPPROTO_IP and kind == socket.IP_PKTINFO and len(data) >= 12:
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

    def receive(self, limit: int = BATCH) -> list[Decoded]:
        got: list[Decoded] = []
        for _ in range(limit):
            try:
                payload, anc, _flags, peer = self.sock.recvmsg(65535, 64)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                continue
            src = IPv6Address(peer[0].split("%")[0])
            dst = _pktinfo6(anc) or self.local
            d = Datagram(payload, src, dst, None, None)
            got.append((d, decode_mh_datagram(payload, src, dst, None, None)))
        return got

    def accepts(self, packet: Packet) -> bool:
        return (isinstance(packet.dst, IPv6Address) and packet.iface == BACKHAUL
                and packet.dport is None)

    def send(self, packet: Packet) -> Datagram | None:
        payload = encoded(packet)
        if payload is None:
            self.send_errors += 1
            return None
        try:
            self.sock.sendto(payload, (str(packet.dst), 0))
        except OSError:
            self.send_errors += 1
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

