"""A small DSL to script captures frame by frame for the correlation tests.

    s = Script()
    f1 = s.dhcp(0.000, "DISCOVER", 0x11, MN1, ZERO, BCAST)
    f2 = s.pbu(0.002, MAG1, LMA, 100, nai="mn1@example.net", mac=MN1)
    f3 = s.pba(0.009, MAG1, LMA, 100, nai="mn1@example.net", mac=MN1, hoa=HOA1)
    report = s.report()

Every method appends one frame and returns its 1-based frame number (frames are numbered
in the order they are scripted, which is the order they are written to the file; script
them out of time order to get an unsorted capture).  Times ``t`` are seconds after
:data:`T0`; :func:`at` gives the epoch float the report shows.  ``pbu``/``pba`` (and
``bri``/``bra``) take the MAG first and the LMA second whichever way the message goes.
Frames are built with the project's own encoders (``dissectors.frame.build_frame``).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, ip_address
from pathlib import Path

from dissectors import mh_options as o
from dissectors.dhcp import DhcpMessage
from dissectors.dhcp_codes import DhcpMessageType as T
from dissectors.dhcp_codes import DhcpOp, RelayAgentSubOptionCode
from dissectors.dhcp_options import (
    DhcpAddressListOption,
    DhcpAddressOption,
    DhcpClientIdOption,
    DhcpMessageTypeOption,
    DhcpRelayAgentInfoOption,
    DhcpUIntOption,
    RelayAgentSubOption,
)
from dissectors.frame import build_frame
from dissectors.ip import IPv4, encode_ipv4
from dissectors.link import Ethernet, EtherType, LinkType, encode_link
from dissectors.mh import BindingAck, BindingRevocation, BindingUpdate, Heartbeat
from dissectors.mh_codes import BAFlag, BRFlag, BRType, BUFlag, HBFlag, RevocationTrigger
from pmipview.correlate.model import Diagnostic, MobileNode, Report
from pmipview.packets import Tally
from pmipview.pipeline import correlate
from pmipview.sources.capfile import write_pcap, write_pcapng
from pmipview.sources.records import Record

T0 = 1_714_557_600  # 2024-05-01T10:00:00Z
T0_NS = T0 * 1_000_000_000

# a small network: two MAGs (IPv4 transport, and MAG2 also over IPv6), one LMA
MAG1, MAG2, MAG3, LMA = "192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.100"
MAG1_6, MAG2_6, LMA_6 = "2001:db8:1::1", "2001:db8:1::2", "2001:db8:1::100"
GW1, GW2 = "10.10.1.1", "10.10.2.1"        # DHCP server identifiers at MAG1 / MAG2
SERVER = "192.0.2.67"                      # a DHCP server behind relaying MAGs
HOA1, HOA2, HOA3 = "10.10.0.5", "10.10.0.6", "10.10.0.7"
MN1, MN2, MN3 = "02:11:22:33:44:01", "02:11:22:33:44:02", "02:11:22:33:44:03"
NAI1, NAI2, NAI3 = "mn1@example.net", "mn2@example.net", "mn3@example.net"
ZERO, BCAST = "0.0.0.0", "255.255.255.255"
BCAST_MAC = "ff:ff:ff:ff:ff:ff"

REQUESTS = {T.DISCOVER, T.REQUEST, T.DECLINE, T.RELEASE, T.INFORM}


def at(t: float) -> float:
    """The epoch time (float seconds, as the report shows it) of script time ``t``."""
    return (T0_NS + round(t * 1e6) * 1000) / 1e9


def node_mac(addr: str) -> str:
    """A stable, locally administered MAC for a node address."""
    packed = ip_address(addr).packed
    return "02:00:5e:" + packed[-3:].hex(":")


def _mtype(value: str | int) -> T:
    return T[value.upper()] if isinstance(value, str) else T(value)


@dataclass(frozen=True)
class Attach:
    """Frame numbers of a scripted attachment (server mode, DHCP at the MAG)."""

    discover: int
    pbu: int
    pba: int
    offer: int
    request: int
    ack: int


class Script:
    """Frames scripted one by one; ``records()``, ``report()``, ``write(path)``."""

    def __init__(self) -> None:
        self.frames: list[tuple[float, int, bytes]] = []  # (t, interface, frame bytes)

    # -- plumbing ---------------------------------------------------------------------

    def raw(self, t: float, data: bytes, iface: int = 0) -> int:
        self.frames.append((t, iface, data))
        return len(self.frames)

    def _frame(self, t: float, src: str, dst: str, message: object, iface: int,
               mac_src: str | None, mac_dst: str | None, truncate: int = 0,
               **ports: int) -> int:
        s, d = ip_address(src), ip_address(dst)
        ethertype = EtherType.IPV4 if s.version == 4 else EtherType.IPV6
        link = Ethernet(mac_dst or node_mac(dst), mac_src or node_mac(src), ethertype)
        data = build_frame(LinkType.ETHERNET, s, d, message, link=link, **ports)
        if truncate:
            data = data[:-truncate]
        return self.raw(t, data, iface)

    # -- PMIPv6 -----------------------------------------------------------------------

    @staticmethod
    def _identity(nai: str | None, mac: str | None, hi: int | None, att: int | None,
                  ts: float | None) -> list:
        opts: list = []
        if nai is not None:
            opts.append(o.MNIdentifier.nai(nai))
        if hi is not None:
            opts.append(o.HandoffIndicatorOpt(hi))
        if att is not None:
            opts.append(o.AccessTechnologyOpt(att))
        if ts is not None:
            opts.append(o.Timestamp.at(T0 + ts))
        if mac is not None:
            opts.append(o.MNLinkLayerId.mac(mac))
        return opts

    def pbu(self, t: float, mag: str, lma: str, seq: int, *, nai: str | None = None,
            mac: str | None = None, hi: int | None = 1, att: int | None = 4,
            hoa: str | None = ZERO, plen: int = 0, hnp: str | None = None,
            lifetime: int = 600, ts: float | bool | None = True, proxy: bool = True,
            iface: int = 0, truncate: int = 0, mac_src: str | None = None) -> int:
        """A PBU from ``mag`` to ``lma``.  ``hoa``: the IPv4 HoA Request (0.0.0.0 asks for
        one; None: no IPv4 HoA Request option).  ``ts``: True for a Timestamp of
        ``T0 + t``, a number for ``T0 + ts``, None for none.  ``truncate`` cuts that many
        bytes off the end of the frame (a malformed PBU)."""
        stamp = t if ts is True else (None if ts is False or ts is None else float(ts))
        opts = self._identity(nai, mac, hi, att, stamp)
        if hnp is not None:
            prefix, length = hnp.split("/")
            opts.append(o.HomeNetworkPrefix(IPv6Address(prefix), int(length)))
        if hoa is not None:
            opts.append(o.IPv4HoARequest(IPv4Address(hoa), plen))
        flags = BUFlag.A | (BUFlag.P if proxy else 0)
        msg = BindingUpdate(seq, BUFlag(flags), lifetime // 4, tuple(opts))
        return self._frame(t, mag, lma, msg, iface, mac_src, None, truncate)

    def pba(self, t: float, mag: str, lma: str, seq: int, *, nai: str | None = None,
            mac: str | None = None, hi: int | None = 1, att: int | None = 4,
            status: int = 0, hoa: str | None = None, plen: int = 24,
            hoa_status: int = 0, hnp: str | None = None, lifetime: int = 600,
            mode: str | None = "server", gw: str | None = None,
            ts: float | bool | None = True, proxy: bool = True, iface: int = 0,
            mac_src: str | None = None) -> int:
        """A PBA from ``lma`` to ``mag``.  ``hoa``: the address of the IPv4 HoA Reply
        (None: no reply option unless ``hoa_status`` is a failure, then 0.0.0.0);
        ``mode``: the IPv4 DHCP Support Mode option (server, relay or None)."""
        stamp = t if ts is True else (None if ts is False or ts is None else float(ts))
        opts = self._identity(nai, mac, hi, att, stamp)
        if hnp is not None:
            prefix, length = hnp.split("/")
            opts.append(o.HomeNetworkPrefix(IPv6Address(prefix), int(length)))
        if hoa is not None or hoa_status:
            opts.append(o.IPv4HoAReply(hoa_status, IPv4Address(hoa or ZERO),
                                       plen if hoa else 0))
        if status < 128 and hoa is not None and not hoa_status:
            if gw is not None:
                opts.append(o.IPv4DefaultRouter(IPv4Address(gw)))
            if mode is not None:
                opts.append(o.IPv4DHCPSupportMode(mode == "server"))
        msg = BindingAck(status, seq, BAFlag.P if proxy else BAFlag(0), lifetime // 4,
                         tuple(opts))
        return self._frame(t, lma, mag, msg, iface, mac_src, None)

    def bri(self, t: float, mag: str, lma: str, seq: int, *, nai: str | None = None,
            hoa: str | None = None, trigger: int = RevocationTrigger.ADMINISTRATIVE,
            iface: int = 0) -> int:
        """A Binding Revocation Indication from ``lma`` to ``mag``."""
        opts: list = []
        if nai is not None:
            opts.append(o.MNIdentifier.nai(nai))
        if hoa is not None:
            opts.append(o.IPv4HoARequest(IPv4Address(hoa), 24))
        msg = BindingRevocation(BRType.BRI, trigger, seq, BRFlag.P, tuple(opts))
        return self._frame(t, lma, mag, msg, iface, None, None)

    def bra(self, t: float, mag: str, lma: str, seq: int, *, status: int = 0,
            iface: int = 0) -> int:
        """A Binding Revocation Acknowledgement from ``mag`` to ``lma``."""
        msg = BindingRevocation(BRType.BRA, status, seq, BRFlag.P)
        return self._frame(t, mag, lma, msg, iface, None, None)

    def hb(self, t: float, src: str, dst: str, seq: int, *, response: bool = False,
           restart: int | None = None, iface: int = 0) -> int:
        """A Heartbeat request (or response) from ``src`` to ``dst``."""
        opts = (o.RestartCounter(restart),) if restart is not None else ()
        msg = Heartbeat(seq, HBFlag.R if response else 0, opts)
        return self._frame(t, src, dst, msg, iface, None, None)

    # -- DHCP -------------------------------------------------------------------------

    def dhcp(self, t: float, mtype: str | int, xid: int, mac: str, src: str, dst: str, *,
             yiaddr: str | None = None, ciaddr: str | None = None, giaddr: str | None = None,
             server_id: str | None = None, requested: str | None = None,
             remote_id: str | None = None, relay_leg: bool = False, hops: int | None = None,
             lease: int = 3600, client_id: bool = True, iface: int = 0,
             mac_src: str | None = None, mac_dst: str | None = None) -> int:
        """A DHCP message about the MN ``mac`` (its chaddr) from ``src`` to ``dst``.

        Client leg by default (requests 68 -> 67 from the MN's MAC, replies 67 -> 68 to
        it); ``relay_leg`` for the relay <-> server leg (67 -> 67, hops 1 on requests,
        option 82 with a circuit id and ``remote_id`` echoed in replies)."""
        kind = _mtype(mtype)
        request = kind in REQUESTS
        opts: list = [DhcpMessageTypeOption(kind)]
        if request:
            if client_id:
                opts.append(DhcpClientIdOption.from_mac(mac))
            if requested is not None:
                opts.append(DhcpAddressOption(50, IPv4Address(requested)))
            if server_id is not None:
                opts.append(DhcpAddressOption(54, IPv4Address(server_id)))
        else:
            if server_id is not None:
                opts.append(DhcpAddressOption(54, IPv4Address(server_id)))
            if kind != T.NAK:
                opts += [DhcpUIntOption(51, lease),
                         DhcpAddressOption(1, IPv4Address("255.255.255.0"))]
                if server_id is not None:
                    opts.append(DhcpAddressListOption(3, (IPv4Address(server_id),)))
        if relay_leg or remote_id is not None:
            subs = [RelayAgentSubOption(RelayAgentSubOptionCode.CIRCUIT_ID, b"ap1")]
            if remote_id is not None:
                subs.append(RelayAgentSubOption(RelayAgentSubOptionCode.REMOTE_ID,
                                                IPv4Address(remote_id)))
            opts.append(DhcpRelayAgentInfoOption(tuple(subs)))
        if hops is None:
            hops = 1 if relay_leg and request else 0
        msg = DhcpMessage(op=DhcpOp.BOOTREQUEST if request else DhcpOp.BOOTREPLY, xid=xid,
                          hops=hops, chaddr=mac, flags=0x8000 if dst == BCAST else 0,
                          ciaddr=IPv4Address(ciaddr or ZERO),
                          yiaddr=IPv4Address(yiaddr or ZERO),
                          giaddr=IPv4Address(giaddr or ZERO), options=tuple(opts))
        if mac_src is None:
            mac_src = mac if request and not relay_leg else node_mac(src)
        if mac_dst is None:
            if dst == BCAST:
                mac_dst = BCAST_MAC
            elif not request and not relay_leg:
                mac_dst = mac
            else:
                mac_dst = node_mac(dst)
        ports = {"sport": 67, "dport": 67} if relay_leg else {}
        return self._frame(t, src, dst, msg, iface, mac_src, mac_dst, **ports)

    # -- unrelated traffic --------------------------------------------------------------

    def noise(self, t: float, iface: int = 0) -> int:
        """An unrelated frame (a DNS query)."""
        src, dst = IPv4Address("10.20.0.7"), IPv4Address("10.20.0.53")
        n = len(self.frames)
        query = struct.pack("!HHHHHH", 0x1000 + n, 0x0100, 1, 0, 0, 0) + \
            b"\x03www\x07example\x03net\x00\x00\x01\x00\x01"
        udp = struct.pack("!HHHH", 40000 + n % 1000, 53, 8 + len(query), 0) + query
        link = Ethernet("02:aa:00:00:00:35", "02:aa:00:00:00:01", EtherType.IPV4)
        return self.raw(t, encode_link(link, encode_ipv4(IPv4(src, dst, 17), udp)), iface)

    # -- whole exchanges --------------------------------------------------------------

    def attach(self, t: float, mag: str, lma: str, seq: int, *, nai: str, mac: str,
               hoa: str, xid: int, server_id: str, hi: int = 1, lifetime: int = 600,
               rtt: float = 0.007) -> Attach:
        """An attachment in server mode (RFC 5844 §3.4.1): DISCOVER at ``t``, PBU at
        t+2 ms, PBA ``rtt`` later, then OFFER / REQUEST / ACK 1, 3 and 4 ms after it."""
        d = self.dhcp(t, "DISCOVER", xid, mac, ZERO, BCAST)
        sent = t + 0.002
        u = self.pbu(sent, mag, lma, seq, nai=nai, mac=mac, hi=hi, lifetime=lifetime)
        back = sent + rtt
        a = self.pba(back, mag, lma, seq, nai=nai, mac=mac, hi=hi, hoa=hoa,
                     lifetime=lifetime, gw=server_id)
        off = self.dhcp(back + 0.001, "OFFER", xid, mac, server_id, BCAST, yiaddr=hoa,
                        server_id=server_id, mac_src=node_mac(mag))
        req = self.dhcp(back + 0.003, "REQUEST", xid, mac, ZERO, BCAST, requested=hoa,
                        server_id=server_id)
        ack = self.dhcp(back + 0.004, "ACK", xid, mac, server_id, BCAST, yiaddr=hoa,
                        server_id=server_id, mac_src=node_mac(mag))
        return Attach(d, u, a, off, req, ack)

    # -- output -----------------------------------------------------------------------

    def records(self) -> list[Record]:
        return [Record(i + 1, T0_NS + round(t * 1e6) * 1000, LinkType.ETHERNET, data,
                       iface, len(data)) for i, (t, iface, data) in enumerate(self.frames)]

    def report(self, names: dict[str, str] | None = None) -> Report:
        """The correlated report of the scripted frames (the whole pipeline)."""
        return correlate(self.records(), Tally(), names)

    def write(self, path: str | Path) -> Path:
        """A pcap file (one interface) or a pcapng (more), frames in scripted order."""
        path = Path(path)
        ifaces = sorted({iface for _, iface, _ in self.frames})
        if path.suffix == ".pcap":
            assert ifaces in ([0], []), "a pcap file has one interface"
            write_pcap(path, self.records(), LinkType.ETHERNET)
        else:
            count = max(ifaces, default=0) + 1
            write_pcapng(path, self.records(),
                         [(LinkType.ETHERNET, f"cap{i}") for i in range(count)])
        return path


# -- reading a report ----------------------------------------------------------------------

def mn(report: Report, ident: str) -> MobileNode:
    """The one MN whose id, NAI, MAC or IPv4 HoA is ``ident``."""
    found = [m for m in report.mobile_nodes
             if ident == m.id or ident in m.nais or ident in m.macs or ident in m.ipv4_hoas]
    assert len(found) == 1, f"{ident}: {[m.id for m in report.mobile_nodes]}"
    return found[0]


def all_diagnostics(report: Report) -> list[Diagnostic]:
    return [*report.diagnostics, *(d for m in report.mobile_nodes for d in m.diagnostics)]


def diagnostics(report: Report, code: str) -> list[Diagnostic]:
    return sorted((d for d in all_diagnostics(report) if d.code == code),
                  key=lambda d: d.time)


def codes(report: Report) -> set[str]:
    return {d.code for d in all_diagnostics(report)}


def only(items: Iterable):
    items = list(items)
    assert len(items) == 1, items
    return items[0]
