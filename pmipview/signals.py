"""Stage 3 of the pipeline: from a decoded packet, the typed signal correlation needs.

A signal carries only what the correlator uses, as plain values: who sent it where
(addresses and MACs), when, on which capture interface, and the message's fields that
identify a mobile node, pair a transaction or grade an outcome.  Building one costs a
few attribute reads; nothing here looks at other frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address

from dissectors.dhcp_codes import DhcpMessageType
from dissectors.link import Ethernet
from dissectors.mh import BindingAck, BindingRevocation, BindingUpdate, Heartbeat
from dissectors.mh_codes import BAFlag, BUFlag
from dissectors.mh_options import AccessTechnologyOpt
from pmipview.packets import Packet

Address = IPv4Address | IPv6Address


@dataclass(frozen=True, slots=True)
class MobilitySignal:
    """A PBU, PBA, BRI, BRA, Heartbeat (or plain BU/BA) as correlation sees it."""

    frame: int
    time: float
    iface: int
    src: Address
    dst: Address
    mac_src: str | None
    kind: str                       # PBU PBA BU BA BRI BRA HB-Req HB-Resp
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


@dataclass(frozen=True, slots=True)
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
    dport: int = 67                 # UDP destination port

    @property
    def relay_leg(self) -> bool:
        """True for the relay <-> server leg: giaddr set and sent to UDP port 67 (relay to
        server, or server to relay, RFC 2131 §4.1).  A relay hands the server's reply to
        the MN with giaddr still set but to port 68: that is the client leg."""
        return int(self.giaddr) != 0 and self.dport == 67

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
    if d is not None and f.ip is not None:
        mtype = d.message_type
        cid = d.client_id
        rai = d.relay_agent_info
        return DhcpSignal(
            p.frame_no, t, p.interface, f.ip.src, f.ip.dst, mac_src,  # type: ignore[arg-type]
            f.link.dst if isinstance(f.link, Ethernet) else None,
            int(mtype) if mtype is not None else 0,
            getattr(mtype, "name", str(mtype)) if mtype is not None else "BOOTP",
            d.xid, int(d.op), d.chaddr.lower() if d.htype == 1 else "",
            cid.mac if cid is not None else None, d.yiaddr, d.ciaddr, d.giaddr,
            d.requested_ip, d.server_id,
            rai.remote_id_ipv4 if rai is not None else None, d.hops,
            f.udp.dport if f.udp is not None else 67)
    return None


def _mobility(p: Packet, t: float, mac_src: str | None, mh: object) -> MobilitySignal | None:
    f = p.frame
    common = {"frame": p.frame_no, "time": t, "iface": p.interface, "src": f.ip.src,
              "dst": f.ip.dst, "mac_src": mac_src, "udp": f.udp is not None}
    if isinstance(mh, BindingUpdate | BindingAck):
        req, rep = mh.hoa_request, mh.hoa_reply
        att = mh.option(AccessTechnologyOpt)
        ts = mh.timestamp
        fields = {
            "seq": mh.seq, "lifetime": mh.lifetime_s, "mn_id": mh.mn_id, "lli": mh.mn_lli,
            "hi": mh.handoff_indicator, "att": att.att if att is not None else None,
            "hoa_request": req.address if req is not None else None,
            "hoa_reply": rep.address if rep is not None else None,
            "hoa_plen": rep.prefix_len if rep is not None else (
                req.prefix_len if req is not None else None),
            "hoa_status": int(rep.status) if rep is not None else None,
            "hnps": tuple(str(h) for h in mh.hnps),
            "default_router": mh.default_router, "dhcp_mode": mh.dhcp_mode,
            "timestamp": ts.seconds if ts is not None else None}
        if isinstance(mh, BindingUpdate):
            return MobilitySignal(kind=mh.short, proxy=bool(mh.flags & BUFlag.P), **common,
                                  **fields)
        return MobilitySignal(kind=mh.short, proxy=bool(mh.flags & BAFlag.P),
                              status=int(mh.status), **common, **fields)
    if isinstance(mh, BindingRevocation):
        req = mh.hoa_request
        return MobilitySignal(kind=mh.short, seq=mh.seq, proxy=bool(mh.flags & 0x8000),
                              status=None if mh.indication else mh.code,
                              trigger=mh.code if mh.indication else None, mn_id=mh.mn_id,
                              hoa_request=req.address if req is not None else None,
                              hnps=tuple(str(h) for h in mh.hnps), **common)
    if isinstance(mh, Heartbeat):
        from dissectors.mh_options import RestartCounter

        rc = mh.option(RestartCounter)
        return MobilitySignal(kind=mh.short, seq=mh.seq, proxy=True,
                              restart_counter=rc.counter if rc is not None else None,
                              **common)
    return None


__all__ = ["DhcpMessageType", "DhcpSignal", "MalformedSignal", "MobilitySignal", "Signal",
           "signal_of"]
