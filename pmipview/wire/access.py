"""The MAG's access side on real interfaces: DHCP with clients that have no address yet.

An MN that boots has no IPv4 address, so its DHCPDISCOVER is a broadcast from 0.0.0.0
and the MAG's OFFER must reach a MAC, not an IP (RFC 2131 §4.1).  Kernel UDP sockets
cannot do that, so the access interface gets a raw ``AF_PACKET`` socket:

- :class:`AccessTransport` reads Ethernet frames on the interface, hands DHCP requests
  (UDP to port 67) to the core as :class:`~pmipview.agents.base.Packet` with the frame's
  MAC addresses, and sends the core's DHCP replies as whole Ethernet frames built with
  :func:`dissectors.frame.build_frame` (broadcast or to ``chaddr``).  It also answers ARP
  for the MNs' default router (the MAG *is* the MN's router, RFC 5213 §6.8; every MAG of
  the domain should use the same access MAC, so the MN's ARP cache stays right after a
  handoff): without it an MN could not unicast its RENEWING REQUEST or RELEASE.  After
  each DHCPACK it also tells the client where its router is (an unsolicited ARP reply).
- :class:`RelayTransport` is the relay leg: a UDP socket on ``relay_address:67``
  (the giaddr) that sends the relayed requests to the DHCP server and gets its replies.
- :class:`LinkWatcher` follows the access interface's state through rtnetlink
  (``RTMGRP_LINK``) and ``/sys/class/net/IFACE/operstate``: a link that stays down for
  ``hold`` seconds (a handoff to another MAG gets that long to revoke the binding first)
  is reported lost, and the MAG de-registers the MNs it served there.

None of these hold protocol logic: what to answer is the core's (:mod:`pmipview.agents`).
"""

from __future__ import annotations

import contextlib
import errno
import socket
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from ipaddress import IPv4Address
from pathlib import Path

from dissectors.dhcp import DhcpMessage
from dissectors.dhcp_codes import DHCP_CLIENT_PORT, DHCP_SERVER_PORT, DhcpMessageType
from dissectors.frame import build_frame, decode_frame
from dissectors.link import Ethernet, EtherType, LinkType, normalize_mac, parse_mac
from pmipview.agents.base import BACKHAUL, Packet
from pmipview.wire.codec import Undecodable, decode_dhcp_datagram, encode_payload
from pmipview.wire.transport import (
    BATCH,
    RCVBUF,
    Datagram,
    Decoded,
    TransportError,
    encoded,
    open_error,
)

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SOL_PACKET = 263
PACKET_IGNORE_OUTGOING = 23
SYS_NET = Path("/sys/class/net")
BROADCAST_MAC = "ff:ff:ff:ff:ff:ff"


def interface_mac(iface: str, sys_net: Path = SYS_NET) -> str:
    """The MAC address of ``iface`` (from sysfs); TransportError when there is none."""
    try:
        text = (sys_net / iface / "address").read_text().strip()
    except OSError:
        raise TransportError(f"no interface {iface!r} (see `ip link`)") from None
    mac = normalize_mac(text)
    if mac is None:
        raise TransportError(f"interface {iface!r} has no Ethernet address ({text!r})")
    return mac


def link_is_up(iface: str, sys_net: Path = SYS_NET) -> bool:
    """True when ``iface`` exists and can carry frames (operstate up, or unknown with a
    carrier, as on some virtual devices)."""
    base = sys_net / iface
    try:
        state = (base / "operstate").read_text().strip()
    except OSError:
        return False
    if state == "up":
        return True
    if state == "unknown":
        try:
            return (base / "carrier").read_text().strip() == "1"
        except OSError:
            return False
    return False


@dataclass(slots=True)
class AccessCounters:
    frames: int = 0          # frames read from the interface (not our own)
    dhcp: int = 0            # DHCP requests given to the core
    ignored: int = 0         # frames that are neither DHCP to port 67 nor ARP for us
    arp_replies: int = 0
    arp_announcements: int = 0  # unsolicited replies for the router after a DHCPACK


class AccessTransport:
    """A raw packet socket on the MAG's access interface (DHCP in and out, ARP replies).

    ``routers()`` gives the IPv4 addresses to answer ARP for (the default routers of the
    MNs the MAG serves).  Needs root or CAP_NET_RAW.
    """

    send_errors = 0

    def __init__(self, iface: str, *, routers: Callable[[], Iterable[IPv4Address]] = tuple,
                 sys_net: Path = SYS_NET) -> None:
        self.iface = iface
        self.name = f"access {iface}"
        self.mac = interface_mac(iface, sys_net)
        self._mac_raw = parse_mac(self.mac)
        self.routers = routers
        self.counters = AccessCounters()
        try:
            self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        except PermissionError:
            raise TransportError(
                f"the access interface {iface} needs a raw packet socket (clients have no "
                "address yet): run as root or with CAP_NET_RAW") from None
        try:
            self.sock.bind((iface, ETH_P_ALL))
        except OSError as exc:
            self.sock.close()
            reason = "no such interface" if exc.errno == errno.ENODEV else exc.strerror
            raise TransportError(f"cannot open the access interface {iface}: {reason}") from None
        self.sock.setblocking(False)
        # a burst of small frames costs a few kB of buffer each: room for a flood, and
        # our own outgoing frames kept out of it (Linux >= 4.20)
        with contextlib.suppress(OSError):
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
        with contextlib.suppress(OSError):
            self.sock.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)

    def fileno(self) -> int:
        return self.sock.fileno()

    def close(self) -> None:
        self.sock.close()

    # -- receiving

    def receive(self, limit: int = BATCH) -> list[Decoded]:
        got: list[Decoded] = []
        for _ in range(limit):
            try:
                data, addr = self.sock.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:  # the interface went away: the link watcher reports it
                break
            if addr[2] == PACKET_OUTGOING:
                continue
            self.counters.frames += 1
            item = self._frame(data)
            if item is not None:
                got.append(item)
        return got

    def _frame(self, data: bytes) -> Decoded | None:
        if len(data) < 14:
            self.counters.ignored += 1
            return None
        ethertype = int.from_bytes(data[12:14], "big")
        if ethertype == EtherType.ARP:
            self._arp(data)
            return None
        if ethertype != EtherType.IPV4 or not _udp_to(data, DHCP_SERVER_PORT):
            self.counters.ignored += 1
            return None
        frame = decode_frame(LinkType.ETHERNET, data)
        link, ip, udp = frame.link, frame.ip, frame.udp
        if not isinstance(link, Ethernet) or ip is None or udp is None:
            self.counters.ignored += 1
            return None
        src, dst = ip.src, ip.dst
        payload = data[frame.offset_of("dhcp") or len(data):]
        datagram = Datagram(payload, src, dst, udp.sport, udp.dport)
        if frame.dhcp is None:
            reason = frame.malformed.reason if frame.malformed else "not DHCP"
            return datagram, Undecodable(f"malformed DHCP: {reason}", src, len(payload))
        self.counters.dhcp += 1
        return datagram, Packet(src, dst, frame.dhcp, self.iface, udp.sport, udp.dport,
                                link.src, link.dst)

    def _arp(self, data: bytes) -> None:
        """Answer an ARP request for one of the MNs' default routers (RFC 826)."""
        if len(data) < 42:
            return
        htype, ptype, hlen, plen, op = struct.unpack_from("!HHBBH", data, 14)
        if (htype, ptype, hlen, plen, op) != (1, 0x0800, 6, 4, 1):
            return
        sha, spa, tpa = data[22:28], data[28:32], data[38:42]
        target = IPv4Address(tpa)
        if spa == tpa or target not in set(self.routers()):
            return
        if self._arp_reply(sha, tpa, spa):
            self.counters.arp_replies += 1

    def _arp_reply(self, to_mac: bytes, router: bytes, to_ip: bytes) -> bool:
        reply = (to_mac + self._mac_raw + struct.pack("!H", EtherType.ARP)
                 + struct.pack("!HHBBH", 1, 0x0800, 6, 4, 2)
                 + self._mac_raw + router + to_mac + to_ip)
        try:
            self.sock.send(reply)
        except OSError:
            self.send_errors += 1
            return False
        return True

    def _announce(self, msg: DhcpMessage) -> None:
        """After a DHCPACK: an unsolicited ARP reply "router is at <our MAC>" to the client.

        A client that asked for its router before the MAG knew it (just after a handoff,
        while the PBU was in flight) holds a failed neighbour entry, and its next unicast
        (the RELEASE) would be dropped by its own kernel; the reply refreshes an entry it
        has and creates none it has not (Linux ``arp_accept`` 0)."""
        to_mac = normalize_mac(msg.chaddr) if msg.htype == 1 and msg.hlen == 6 else None
        if to_mac is None or msg.yiaddr == IPv4Address(0):
            return
        for router in msg.routers or ():
            if self._arp_reply(parse_mac(to_mac), router.packed, msg.yiaddr.packed):
                self.counters.arp_announcements += 1

    # -- sending

    def accepts(self, packet: Packet) -> bool:
        return packet.iface == self.iface and isinstance(packet.message, DhcpMessage)

    def send(self, packet: Packet) -> Datagram | None:
        mac_dst = normalize_mac(packet.mac_dst) or BROADCAST_MAC
        link = Ethernet(mac_dst, self.mac, EtherType.IPV4)
        sport = packet.sport or DHCP_SERVER_PORT
        dport = packet.dport or DHCP_CLIENT_PORT
        frame = build_frame(LinkType.ETHERNET, packet.src, packet.dst, packet.message,
                            sport=sport, dport=dport, link=link)
        try:
            self.sock.send(frame)
        except OSError:
            self.send_errors += 1
            return None
        msg = packet.message
        if isinstance(msg, DhcpMessage) and msg.message_type == DhcpMessageType.ACK:
            self._announce(msg)
        return Datagram(encode_payload(packet), packet.src, packet.dst, sport, dport)


def _udp_to(data: bytes, port: int) -> bool:
    """An IPv4/UDP frame to ``port`` (cheap look before decoding; no fragments)."""
    if len(data) < 34 or data[23] != 17:
        return False
    ihl = (data[14] & 0x0F) * 4
    off = 14 + ihl
    return len(data) >= off + 8 and int.from_bytes(data[off + 2:off + 4], "big") == port


class RelayTransport:
    """The relay leg (RFC 5844 §3.4.2): UDP ``relay_address:67`` ↔ the DHCP server."""

    send_errors = 0

    def __init__(self, address: IPv4Address, port: int = DHCP_SERVER_PORT,
                 iface: str = BACKHAUL) -> None:
        """``iface``: the name the decoded packets carry and that :meth:`accepts` answers
        for (the MAG probe listens on its LMA's address as the relay's server)."""
        self.name = f"dhcp relay {address}:{port}"
        self.local = address
        self.iface = iface
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self.sock.bind((str(address), port))
        except OSError as exc:
            self.sock.close()
            raise open_error("the DHCP relay", f"{address}:{port}", exc,
                             "is a DHCP server or relay running?") from None
        self.port = self.sock.getsockname()[1]
        self.sock.setblocking(False)

    def fileno(self) -> int:
        return self.sock.fileno()

    def close(self) -> None:
        self.sock.close()

    def receive(self, limit: int = BATCH) -> list[Decoded]:
        got: list[Decoded] = []
        for _ in range(limit):
            try:
                payload, peer = self.sock.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                continue
            src = IPv4Address(peer[0])
            d = Datagram(payload, src, self.local, peer[1], self.port)
            got.append((d, decode_dhcp_datagram(payload, src, self.local, peer[1],
                                                self.port, self.iface)))
        return got

    def accepts(self, packet: Packet) -> bool:
        return packet.iface == self.iface and isinstance(packet.message, DhcpMessage)

    def send(self, packet: Packet) -> Datagram | None:
        payload = encoded(packet)
        if payload is None:
            self.send_errors += 1
            return None
        dport = packet.dport or DHCP_SERVER_PORT
        try:
            self.sock.sendto(payload, (str(packet.dst), dport))
        except OSError:
            self.send_errors += 1
            return None
        return Datagram(payload, self.local, packet.dst, self.port, dport)


RTMGRP_LINK = 1


class LinkWatcher:
    """Reports ``on_change(iface, up)`` for the watched interfaces.

    Link-up is reported at once; link-down only after the link has stayed down ``hold``
    seconds (checked by :meth:`poll`, which the caller runs every tick).  rtnetlink wakes
    :meth:`on_readable`; the state itself is read from sysfs, so a message we cannot parse
    costs nothing.  Where netlink cannot be opened, :meth:`poll` reads sysfs each tick.
    """

    def __init__(self, ifaces: Iterable[str], on_change: Callable[[str, bool], None], *,
                 hold: float = 2.0, sys_net: Path = SYS_NET) -> None:
        self.on_change = on_change
        self.hold = hold
        self.sys_net = sys_net
        self.state = {i: link_is_up(i, sys_net) for i in ifaces}
        self._down_since: dict[str, float] = {}
        self.sock: socket.socket | None = None
        with contextlib.suppress(OSError, AttributeError):
            sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
            sock.bind((0, RTMGRP_LINK))
            sock.setblocking(False)
            self.sock = sock

    def fileno(self) -> int | None:
        return self.sock.fileno() if self.sock is not None else None

    def on_readable(self, now: float) -> None:
        assert self.sock is not None
        while True:
            try:
                self.sock.recv(65535)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                break
        self._check(now)

    def poll(self, now: float) -> None:
        if self.sock is None:
            self._check(now)
        for iface, since in list(self._down_since.items()):
            if now - since >= self.hold:
                del self._down_since[iface]
                self.on_change(iface, False)

    def _check(self, now: float) -> None:
        for iface, was in self.state.items():
            up = link_is_up(iface, self.sys_net)
            if up == was:
                continue
            self.state[iface] = up
            if up:
                if self._down_since.pop(iface, None) is None:
                    self.on_change(iface, True)
            else:
                self._down_since[iface] = now

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()


__all__ = ["AccessTransport", "LinkWatcher", "RelayTransport", "interface_mac", "link_is_up"]
