"""Stage 3 of the pipeline: from a decoded packet, the typed signal correlation needs.

A signal carries only what the correlator uses, as plain values: who sent it where
(addresses and MACs), when, on which capture interface, and the message's fields that
identify a mobile node, pair a transaction or grade an outcome.  Building one costs a
few attribute reads; nothing here looks at other frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address

from dissectors.dhcp_codes import DHCP_SERVER_PORT, DhcpMessageType, DhcpOptionCode
from dissectors.dhcp_lite import DhcpLite
from dissectors.link import Ethernet
from dissectors.mh import BindingAck, BindingRevocation, BindingUpdate, Heartbeat
from dissectors.mh_codes import MessageKind
from dissectors.mh_options import (
    AccessTechnologyOpt,
    HandoffIndicatorOpt,
    HomeNetworkPrefix,
    IPv4DefaultRouter,
    IPv4DHCPSupportMode,
    IPv4HoAReply,
    IPv4HoARequest,
    MNIdentifier,
    MNLinkLayerId,
    RestartCounter,
    Timestamp,
)
from pmipview.packets import Packet

Address = IPv4Address | IPv6Address


@dataclass(slots=True)
class MobilitySignal:
    """A PBU, PBA, BRI, BRA, Heartbeat (or plain BU/BA) as correlation sees it."""

    frame: int
    time: float
    iface: int
    src: Address
    dst: Address
    mac_src: str | None
    kind: MessageKind
    seq: int
    proxy: bool
    lifetime: int | None = None     # seconds (BU/BA)
    status: int | None = None       # BA status, BRA status
    trigger: int | None = None      # BRI revocation trigger
    mn_id: str | None = None
    lli: str | None = None
    hi: int | None = None
    att: int | None = None
    hoa_request: IPv4Address | None = None
    hoa_reply: IPv4Address | None = None
    hoa_plen: int | None = None
    hoa_status: int | None = None
    hnps: tuple[str, ...] = ()
    default_router: IPv4Address | None = None
    dhcp_mode: str | None = None
    timestamp: float | None = None  # RFC 5213 Timestamp option, Unix seconds
    restart_counter: int | None = None
    udp: bool = False               # IPv4/UDP 5436 transport (else MH over IPv6)


@dataclass(slots=True)
class DhcpSignal:
    """A DHCP message as correlation sees it."""

    frame: int
    time: float
    iface: int
    src: IPv4Address
    dst: IPv4Address
    mac_src: str | None
    mac_dst: str | None
    type: int                       # DhcpMessageType value (0: plain BOOTP)
    type_name: str
    xid: int
    op: int                         # 1 request (client/relay -> server), 2 reply
    chaddr: str
    client_mac: str | None          # from option 61 type 1
    yiaddr: IPv4Address
    ciaddr: IPv4Address
    giaddr: IPv4Address
    requested_ip: IPv4Address | None
    server_id: IPv4Address | None
    remote_id: IPv4Address | None   # option 82 Agent Remote ID as an address (RFC 5844)
    hops: int
    dport: int = DHCP_SERVER_PORT   # UDP destination port

    @property
    def relay_leg(self) -> bool:
        """True for the relay <-> server leg: giaddr set and sent to UDP port 67 (relay to
        server, or server to relay, RFC 2131 §4.1).  A relay hands the server's reply to
        the MN with giaddr still set but to port 68: that is the client leg."""
        return int(self.giaddr) != 0 and self.dport == DHCP_SERVER_PORT

    @property
    def mn_macs(self) -> set[str]:
        macs = {self.chaddr} if self.chaddr else set()
        if self.client_mac:
            macs.add(self.client_mac)
        return macs


@dataclass(frozen=True, slots=True)
class MalformedSignal:
    frame: int
    time: float
    iface: int
    layer: str
    offset: int
    reason: str


Signal = MobilitySignal | DhcpSignal | MalformedSignal


def signal_of(p: Packet) -> Signal | None:
    """The signal of a decoded packet; None for frames that are not signaling."""
    f = p.frame
    t = p.ts_ns / 1e9
    if f.malformed is not None:
        m = f.malformed
        return MalformedSignal(p.frame_no, t, p.interface, m.layer, m.offset, m.reason)
    mac_src = f.link.src if isinstance(f.link, Ethernet) else None
    mh = f.mh
    if mh is not None and f.ip is not None:
        return _mobility(p, t, mac_src, mh)
    d = f.dhcp
    if type(d) is DhcpLite and f.ip is not None:
        mtype = d.message_type
        return DhcpSignal(
            p.frame_no, t, p.interface, f.ip.src, f.ip.dst, mac_src,  # type: ignore[arg-type]
            f.link.dst if isinstance(f.link, Ethernet) else None,
            int(mtype) if mtype is not None else 0,
            getattr(mtype, "name", str(mtype)) if mtype is not None else "BOOTP",
            d.xid, d.op, d.chaddr, d.client_mac, d.yiaddr, d.ciaddr, d.giaddr,
            d.requested_ip, d.server_id, d.remote_id, d.hops,
            f.udp.dport if f.udp is not None else DHCP_SERVER_PORT)
    if d is not None and f.ip is not None:
        by_code: dict[int, object] = {}
        for opt in d.options:
            by_code.setdefault(int(opt.code), opt)
        c = DhcpOptionCode
        mtype_opt, cid = by_code.get(c.MESSAGE_TYPE), by_code.get(c.CLIENT_ID)
        rai, req = by_code.get(c.RELAY_AGENT_INFO), by_code.get(c.REQUESTED_IP)
        sid = by_code.get(c.SERVER_ID)
        # a 53 of the wrong length is kept raw: no message type, as DhcpMessage says
        mtype = getattr(mtype_opt, "message_type", None)
        return DhcpSignal(
            p.frame_no, t, p.interface, f.ip.src, f.ip.dst, mac_src,  # type: ignore[arg-type]
            f.link.dst if isinstance(f.link, Ethernet) else None,
            int(mtype) if mtype is not None else 0,
            getattr(mtype, "name", str(mtype)) if mtype is not None else "BOOTP",
            d.xid, int(d.op), d.chaddr.lower() if d.htype == 1 else "",
            getattr(cid, "mac", None), d.yiaddr, d.ciaddr, d.giaddr,
            getattr(req, "address", None), getattr(sid, "address", None),
            getattr(rai, "remote_id_ipv4", None), d.hops,
            f.udp.dport if f.udp is not None else DHCP_SERVER_PORT)
    return None


def _options(mh: object) -> dict[type, object]:
    """One pass over a message's options: the first of each type (HNPs listed apart)."""
    first: dict[type, object] = {}
    hnps: list[str] = []
    for opt in getattr(mh, "options", ()):
        cls = type(opt)
        if cls is HomeNetworkPrefix:
            hnps.append(str(opt))
        elif cls not in first:
            first[cls] = opt
    first[list] = hnps
    return first


def _mobility(p: Packet, t: float, mac_src: str | None, mh: object) -> MobilitySignal | None:
    f = p.frame
    src, dst, udp = f.ip.src, f.ip.dst, f.udp is not None  # type: ignore[union-attr]
    o = _options(mh)
    hnps = tuple(o[list])  # type: ignore[arg-type]
    mnid = o.get(MNIdentifier)
    mn_id = mnid.text if mnid is not None else None  # type: ignore[attr-defined]
    req = o.get(IPv4HoARequest)
    hoa_request = req.address if req is not None else None  # type: ignore[attr-defined]
    if isinstance(mh, BindingUpdate | BindingAck):
        rep = o.get(IPv4HoAReply)
        lli, hi, att = o.get(MNLinkLayerId), o.get(HandoffIndicatorOpt), \
            o.get(AccessTechnologyOpt)
        ts, gw, dsm = o.get(Timestamp), o.get(IPv4DefaultRouter), o.get(IPv4DHCPSupportMode)
        bu = isinstance(mh, BindingUpdate)
        return MobilitySignal(
            p.frame_no, t, p.interface, src, dst, mac_src, mh.short, mh.seq,
            mh.proxy, mh.lifetime * 4,
            None if bu else int(mh.status), None, mn_id,
            lli.text if lli is not None else None,  # type: ignore[attr-defined]
            int(hi.hi) if hi is not None else None,  # type: ignore[attr-defined]
            int(att.att) if att is not None else None,  # type: ignore[attr-defined]
            hoa_request,
            rep.address if rep is not None else None,  # type: ignore[attr-defined]
            rep.prefix_len if rep is not None else (  # type: ignore[attr-defined]
                req.prefix_len if req is not None else None),  # type: ignore[attr-defined]
            int(rep.status) if rep is not None else None,  # type: ignore[attr-defined]
            hnps, gw.address if gw is not None else None,  # type: ignore[attr-defined]
            dsm.mode if dsm is not None else None,  # type: ignore[attr-defined]
            ts.seconds if ts is not None else None,  # type: ignore[attr-defined]
            None, udp)
    if isinstance(mh, BindingRevocation):
        return MobilitySignal(p.frame_no, t, p.interface, src, dst, mac_src, mh.short, mh.seq,
                              mh.proxy,
                              status=None if mh.indication else mh.code,
                              trigger=mh.code if mh.indication else None, mn_id=mn_id,
                              hoa_request=hoa_request, hnps=hnps, udp=udp)
    if isinstance(mh, Heartbeat):
        rc = o.get(RestartCounter)
        return MobilitySignal(p.frame_no, t, p.interface, src, dst, mac_src, mh.short, mh.seq,
                              True, restart_counter=rc.counter if rc is not None  # type: ignore[attr-defined]
                              else None, udp=udp)
    return None


__all__ = ["DhcpMessageType", "DhcpSignal", "MalformedSignal", "MobilitySignal", "Signal",
           "signal_of"]
