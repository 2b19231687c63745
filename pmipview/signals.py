"""Stage 3 of the pipeline: from a decoded packet, the typed signal correlation needs.

A signal carries only what the correlator uses, as plain values: who sent it where
(addresses and MACs), when, on which capture interface, and the message's fields that
identify a mobile node, pair a transaction or grade an outcome.  Building one costs a
few attribute reads; nothing here looks at other frames.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields, make_dataclass
from ipaddress import IPv4Address, IPv6Address
from typing import Any

from dissectors import speedups
from dissectors.dhcp_codes import DHCP_SERVER_PORT, DhcpMessageType, DhcpOptionCode
from dissectors.dhcp_lite import DhcpLite
from dissectors.dhcp_options import (
    DhcpAddressOption,
    DhcpClientIdOption,
    DhcpMessageTypeOption,
    DhcpOption,
    DhcpRelayAgentInfoOption,
)
from dissectors.frame_lite import frame_fields as _frame_fields
from dissectors.link import Ethernet
from dissectors.mh import BindingAck, BindingRevocation, BindingUpdate, Heartbeat, MobilityMessage
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
from pmipview.packets import Packet, StatusKey, dhcp_kind, dhcp_status
from pmipview.sources.records import Record

Address = IPv4Address | IPv6Address


@dataclass(frozen=True, slots=True, kw_only=True)
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


@dataclass(frozen=True, slots=True, kw_only=True)
class DhcpSignal:
    """A DHCP message as correlation sees it."""

    frame: int
    time: float
    iface: int
    src: Address                    # IPv4 but for DHCPv4 carried over IPv6 (seen in fuzzing)
    dst: Address
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


@dataclass(frozen=True, slots=True, kw_only=True)
class MalformedSignal:
    frame: int
    time: float
    iface: int
    layer: str
    offset: int
    reason: str


Signal = MobilitySignal | DhcpSignal | MalformedSignal


def _mutable_twin(cls: type) -> type:
    """A plain slots dataclass with ``cls``'s fields, to build ``cls`` fast.

    A frozen dataclass's ``__init__`` stores each field with ``object.__setattr__``: a
    signal of 26 fields cost 3-4 us more to build than a mutable one, ~3.5 % of
    ``timeline``'s CPU time.  :func:`signal_of` builds the twin by keyword with its plain
    ``__init__``, then gives the object its frozen class (same slots, so the layout
    allows it): from there on every assignment raises ``FrozenInstanceError``."""
    spec = []
    for f in fields(cls):
        kw: dict[str, Any] = {}
        if f.default is not MISSING:
            kw["default"] = f.default
        if f.default_factory is not MISSING:
            kw["default_factory"] = f.default_factory
        spec.append((f.name, f.type, field(**kw)))
    return make_dataclass(f"_{cls.__name__}Builder", spec, slots=True, kw_only=True)


_MobilityBuilder = _mutable_twin(MobilitySignal)
_DhcpBuilder = _mutable_twin(DhcpSignal)


def signal_of(p: Packet) -> Signal | None:
    """The signal of a decoded packet; None for frames that are not signaling."""
    f = p.frame
    t = p.ts_ns / 1e9
    if f.malformed is not None:
        m = f.malformed
        return MalformedSignal(frame=p.frame_no, time=t, iface=p.interface, layer=m.layer,
                               offset=m.offset, reason=m.reason)
    link = f.link
    eth = link if isinstance(link, Ethernet) else None
    mac_src = eth.src if eth is not None else None
    ip = f.ip
    if ip is None:
        return None
    mh = f.mh
    if mh is not None:
        return _mobility(p, t, ip.src, ip.dst, mac_src, f.udp is not None, mh)
    d = f.dhcp
    if d is None:
        return None
    dport = f.udp.dport if f.udp is not None else DHCP_SERVER_PORT
    mac_dst = eth.dst if eth is not None else None
    if isinstance(d, DhcpLite):
        return _lite_dhcp(p.frame_no, t, p.interface, ip.src, ip.dst, mac_src, mac_dst, dport,
                          d)
    by_code: dict[int, DhcpOption] = {}
    for opt in d.options:
        by_code.setdefault(int(opt.code), opt)
    c = DhcpOptionCode
    mtype_opt, cid = by_code.get(c.MESSAGE_TYPE), by_code.get(c.CLIENT_ID)
    rai, req = by_code.get(c.RELAY_AGENT_INFO), by_code.get(c.REQUESTED_IP)
    sid = by_code.get(c.SERVER_ID)
    # a 53 of the wrong length is kept raw: no message type, as DhcpMessage says
    mt = mtype_opt.message_type if isinstance(mtype_opt, DhcpMessageTypeOption) else None
    sig = _DhcpBuilder(
        frame=p.frame_no, time=t, iface=p.interface, src=ip.src, dst=ip.dst,
        mac_src=mac_src, mac_dst=mac_dst,
        type=int(mt) if mt is not None else 0,
        type_name=getattr(mt, "name", str(mt)) if mt is not None else "BOOTP",
        xid=d.xid, op=int(d.op), chaddr=d.chaddr.lower() if d.htype == 1 else "",
        client_mac=cid.mac if isinstance(cid, DhcpClientIdOption) else None,
        yiaddr=d.yiaddr, ciaddr=d.ciaddr, giaddr=d.giaddr,
        requested_ip=req.address if isinstance(req, DhcpAddressOption) else None,
        server_id=sid.address if isinstance(sid, DhcpAddressOption) else None,
        remote_id=rai.remote_id_ipv4 if isinstance(rai, DhcpRelayAgentInfoOption) else None,
        hops=d.hops, dport=dport)
    sig.__class__ = DhcpSignal  # frozen from here on (see _mutable_twin)
    return sig


def _lite_dhcp(frame: int, t: float, iface: int, src: Address, dst: Address,
               mac_src: str | None, mac_dst: str | None, dport: int,
               d: DhcpLite) -> DhcpSignal:
    mtype = d.message_type
    sig = _DhcpBuilder(
        frame=frame, time=t, iface=iface, src=src, dst=dst, mac_src=mac_src, mac_dst=mac_dst,
        type=int(mtype) if mtype is not None else 0,
        type_name=getattr(mtype, "name", str(mtype)) if mtype is not None else "BOOTP",
        xid=d.xid, op=d.op, chaddr=d.chaddr, client_mac=d.client_mac, yiaddr=d.yiaddr,
        ciaddr=d.ciaddr, giaddr=d.giaddr, requested_ip=d.requested_ip,
        server_id=d.server_id, remote_id=d.remote_id, hops=d.hops, dport=dport)
    sig.__class__ = DhcpSignal  # frozen from here on (see _mutable_twin)
    return sig


_CFRAME_LITE = speedups.compiled("dissectors._cframe_lite")
#: dissectors.frame_lite.frame_fields, compiled when built (the same function)
frame_fields = _CFRAME_LITE.frame_fields if _CFRAME_LITE is not None else _frame_fields


def signal_of_record(rec: Record) -> tuple[Signal, str, StatusKey | None] | None:
    """The signal of a record straight from its bytes, with its kind and status, when
    ``frame_fields`` is sure it is a clean PBU, PBA, BRI, BRA, Heartbeat or DHCP message;
    else None (decode it: ``signal_of``).  The same signal as ``signal_of`` of the
    decoded packet (tests/dissectors/test_frame_lite.py); ``packets.scan``'s ``fast``."""
    f = frame_fields(rec.linktype, rec.data)
    if f is None:
        return None
    t = rec.ts_ns / 1e9
    kind = f[0]
    if kind is None:
        d = f[6]
        mtype = d.message_type
        return (_lite_dhcp(rec.frame_no, t, rec.interface, f[1], f[2], f[3], f[4], f[5], d),
                dhcp_kind(mtype), dhcp_status(mtype))
    sig = _MobilityBuilder(
        frame=rec.frame_no, time=t, iface=rec.interface, src=f[1], dst=f[2], mac_src=f[3],
        kind=kind, seq=f[5], proxy=f[6], lifetime=f[7], status=f[8], trigger=f[9],
        mn_id=f[10], lli=f[11], hi=f[12], att=f[13], hoa_request=f[14], hoa_reply=f[15],
        hoa_plen=f[16], hoa_status=f[17], hnps=f[18], default_router=f[19], dhcp_mode=f[20],
        timestamp=f[21], restart_counter=f[22], udp=f[4])
    sig.__class__ = MobilitySignal
    return sig, kind, f[23]


def _options(mh: MobilityMessage) -> tuple[dict[type, Any], tuple[str, ...]]:
    """One pass over a message's options: the first of each class (the value is an
    instance of its key) and the Home Network Prefixes, listed apart."""
    first: dict[type, Any] = {}
    hnps: list[str] = []
    for opt in getattr(mh, "options", ()):
        cls = type(opt)
        if cls is HomeNetworkPrefix:
            hnps.append(str(opt))
        elif cls not in first:
            first[cls] = opt
    return first, tuple(hnps)


def _mobility(p: Packet, t: float, src: Address, dst: Address, mac_src: str | None,
              udp: bool, mh: MobilityMessage) -> MobilitySignal | None:
    o, hnps = _options(mh)
    mnid = o.get(MNIdentifier)
    mn_id = mnid.text if mnid is not None else None
    req = o.get(IPv4HoARequest)
    hoa_request = req.address if req is not None else None
    if isinstance(mh, BindingUpdate | BindingAck):
        rep, lli, hi = o.get(IPv4HoAReply), o.get(MNLinkLayerId), o.get(HandoffIndicatorOpt)
        att, ts = o.get(AccessTechnologyOpt), o.get(Timestamp)
        gw, dsm = o.get(IPv4DefaultRouter), o.get(IPv4DHCPSupportMode)
        sig = _MobilityBuilder(
            frame=p.frame_no, time=t, iface=p.interface, src=src, dst=dst, mac_src=mac_src,
            kind=mh.short, seq=mh.seq, proxy=mh.proxy, lifetime=mh.lifetime * 4,
            status=int(mh.status) if isinstance(mh, BindingAck) else None,
            mn_id=mn_id, lli=lli.text if lli is not None else None,
            hi=int(hi.hi) if hi is not None else None,
            att=int(att.att) if att is not None else None,
            hoa_request=hoa_request,
            hoa_reply=rep.address if rep is not None else None,
            hoa_plen=rep.prefix_len if rep is not None else (
                req.prefix_len if req is not None else None),
            hoa_status=int(rep.status) if rep is not None else None,
            hnps=hnps, default_router=gw.address if gw is not None else None,
            dhcp_mode=dsm.mode if dsm is not None else None,
            timestamp=ts.seconds if ts is not None else None, udp=udp)
        sig.__class__ = MobilitySignal
        return sig
    if isinstance(mh, BindingRevocation):
        sig = _MobilityBuilder(
            frame=p.frame_no, time=t, iface=p.interface, src=src, dst=dst, mac_src=mac_src,
            kind=mh.short, seq=mh.seq, proxy=mh.proxy,
            status=None if mh.indication else mh.code,
            trigger=mh.code if mh.indication else None, mn_id=mn_id,
            hoa_request=hoa_request, hnps=hnps, udp=udp)
        sig.__class__ = MobilitySignal
        return sig
    if isinstance(mh, Heartbeat):
        rc = o.get(RestartCounter)
        sig = _MobilityBuilder(
            frame=p.frame_no, time=t, iface=p.interface, src=src, dst=dst, mac_src=mac_src,
            kind=mh.short, seq=mh.seq, proxy=True,
            restart_counter=rc.counter if rc is not None else None, udp=udp)
        sig.__class__ = MobilitySignal
        return sig
    return None


__all__ = ["DhcpMessageType", "DhcpSignal", "MalformedSignal", "MobilitySignal", "Signal",
           "signal_of", "signal_of_record"]
