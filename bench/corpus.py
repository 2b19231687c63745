"""Frames shared by the benchmarks and the fuzzer: valid signaling and unrelated traffic.

* :func:`signaling_frames` — every mobility message type (PBU/BU, PBA/BA, BE, Heartbeat,
  BRI/BRA, an unknown MH type) with most mobility options, over IPv6 (next header 135)
  and over IPv4/UDP 5436, in several link types (Ethernet, 802.1ad QinQ, Linux SLL and
  SLL2, raw, BSD null), with IPv6 extension headers and IPv4 options, and DHCP
  (DISCOVER/OFFER/REQUEST/ACK/NAK/DECLINE/RELEASE/INFORM, relayed with option 82, an
  overloaded ``file``/``sname``, plain BOOTP).  All of them are encoded by the project's
  own encoders (:func:`dissectors.frame.build_frame`), so they decode clean.
* :func:`unrelated_frame` / :func:`unrelated_frames` — traffic that must be dropped by
  the pre-filter: TCP over IPv4 and IPv6, DNS over UDP 53, ICMP, ICMPv6 (including
  Neighbor Solicitation, ICMPv6 type 135 — not to be confused with next header 135), ARP;
  built with plain ``struct``.
* :func:`mixed` — ``n`` frames, ``signaling_ratio`` of them signaling, the rest unrelated;
  deterministic for a seed.

Every function returns ``(linktype, frame bytes)`` pairs.
"""

from __future__ import annotations

import random
import struct
from functools import cache
from ipaddress import IPv4Address, IPv6Address

from dissectors import mh_options as o
from dissectors.checksum import inet_checksum, pseudo_header
from dissectors.dhcp import BROADCAST_FLAG, DhcpMessage, decode_dhcp
from dissectors.dhcp_codes import DHCP_SERVER_PORT, DhcpMessageType, DhcpOp
from dissectors.dhcp_options import (
    DhcpAddressListOption,
    DhcpAddressOption,
    DhcpClientIdOption,
    DhcpMessageTypeOption,
    DhcpParamRequestListOption,
    DhcpRawOption,
    DhcpRelayAgentInfoOption,
    DhcpTextOption,
    DhcpUIntOption,
    RelayAgentSubOption,
)
from dissectors.frame import build_frame
from dissectors.ip import IPv4, IPv6, IPv6ExtHeader
from dissectors.link import Ethernet, EtherType, LinkType, VlanTag, encode_link, link_for
from dissectors.mh import (
    BindingAck,
    BindingError,
    BindingRevocation,
    BindingUpdate,
    Heartbeat,
    MobilityMessage,
    UnknownMH,
)
from dissectors.mh_codes import BAFlag, BAStatus, BRFlag, BRType, BUFlag, HandoffIndicator, HBFlag

Frame = tuple[int, bytes]

#: Link types the corpus is built in (pcap LINKTYPE_* values).
LINKTYPES = (LinkType.ETHERNET, LinkType.LINUX_SLL, LinkType.LINUX_SLL2, LinkType.RAW,
             LinkType.NULL)

MAG6, LMA6 = IPv6Address("2001:db8:100::1"), IPv6Address("2001:db8:200::1")
MAG4, LMA4 = IPv4Address("192.0.2.1"), IPv4Address("198.51.100.1")
SERVER4, CLIENT4 = IPv4Address("10.10.0.1"), IPv4Address("10.10.0.5")
RELAY4 = IPv4Address("10.10.0.254")
ANY4, BCAST4 = IPv4Address(0), IPv4Address("255.255.255.255")
MAC = "02:00:00:00:00:0a"


# --------------------------------------------------------------------- mobility messages


def _pmip_options() -> dict[str, o.MobilityOption]:
    v4 = IPv4Address
    v6 = IPv6Address
    return {
        "mnid": o.MNIdentifier.nai("mn1@example.com"),
        "hi": o.HandoffIndicatorOpt(HandoffIndicator.NEW_INTERFACE),
        "hi_rereg": o.HandoffIndicatorOpt(HandoffIndicator.NOT_CHANGED),
        "att": o.AccessTechnologyOpt(3),
        "hnp": o.HomeNetworkPrefix(v6("2001:db8:1::"), 64),
        "hnp_any": o.HomeNetworkPrefix(v6(0), 0),
        "mnlli": o.MNLinkLayerId.mac(MAC),
        "lla": o.LinkLocalAddress(v6("fe80::1")),
        "ts": o.Timestamp.at(1_700_000_000.5),
        "gre": o.GREKey(0x00012345),
        "gre_nokey": o.GREKey(None),
        "hoa_req": o.IPv4HoARequest(v4(0)),
        "hoa_req_static": o.IPv4HoARequest(v4("10.10.0.5"), 24),
        "hoa_rep": o.IPv4HoAReply(0, v4("10.10.0.5"), 24),
        "hoa_rep_fail": o.IPv4HoAReply(132, v4(0), 0),
        "gw": o.IPv4DefaultRouter(v4("10.10.0.1")),
        "dsm": o.IPv4DHCPSupportMode(True),
        "dsm_relay": o.IPv4DHCPSupportMode(False),
        "v4ha": o.IPv4HomeAddress(v4("10.10.0.5"), 24, True),
        "v4ack": o.IPv4AddressAck(0, v4("10.10.0.5"), 24),
        "natd": o.NATDetection(True, 110),
        "v4coa": o.IPv4CareOfAddress(MAG4),
        "bid4": o.BindingIdentifier(1, 0, False, 0, MAG4),
        "bid6": o.BindingIdentifier(2, 0, True, 0, MAG6),
        "bid": o.BindingIdentifier(3),
        "ss": o.ServiceSelection(b"internet"),
        "vsm": o.VendorSpecific(10415, 1, b"\x01\x02\x03"),
        "lma6": o.LMAAddress(LMA6),
        "lma4": o.LMAAddress(LMA4),
        "bra": o.BindingRefreshAdvice(60),
        "acoa": o.AlternateCoA(v6("2001:db8:100::2")),
        "ni": o.NonceIndices(1, 2),
        "bad": o.BindingAuthData(bytes(range(12))),
        "rc": o.RestartCounter(7),
        "unknown": o.UnknownOption(200, b"xyz"),
    }


def mobility_messages() -> list[MobilityMessage]:
    """Every message type we decode, each with a different set of options."""
    x = _pmip_options()
    pbu = BindingUpdate(
        1, BUFlag.A | BUFlag.P, 150,
        (x["mnid"], x["hi"], x["att"], x["hnp_any"], x["mnlli"], x["lla"], x["ts"], x["gre"],
         x["hoa_req"], x["dsm"], x["ss"]))
    pbu_v4 = BindingUpdate(
        2, BUFlag.A | BUFlag.P | BUFlag.T, 150,
        (x["mnid"], x["hi_rereg"], x["att"], x["hnp"], x["ts"], x["hoa_req_static"],
         x["v4coa"], x["bid4"], x["natd"], x["vsm"]))
    return [
        pbu,
        pbu_v4,
        BindingUpdate(3, BUFlag.A | BUFlag.P, 0, (x["mnid"], x["hi_rereg"], x["hnp"],
                                                  x["ts"])),  # de-registration
        BindingUpdate(4, BUFlag.A | BUFlag.H | BUFlag.K, 60,
                      (x["ni"], x["bad"], x["acoa"], x["bid6"], x["bid"], x["v4ha"])),
        BindingAck(0, 1, BAFlag.P, 150,
                   (x["mnid"], x["hi"], x["att"], x["hnp"], x["mnlli"], x["lla"], x["ts"],
                    x["gre"], x["hoa_rep"], x["gw"], x["dsm_relay"], x["bra"])),
        BindingAck(BAStatus.NOT_AUTHORIZED_FOR_IPV4_MOBILITY_SERVICE, 2, BAFlag.P, 0,
                   (x["mnid"], x["hoa_rep_fail"], x["gre_nokey"], x["v4ack"], x["lma6"],
                    x["lma4"], x["unknown"])),
        BindingAck(BAStatus.SEQUENCE_OUT_OF_WINDOW, 7, BAFlag.K | BAFlag.R, 0, ()),
        BindingError(2, IPv6Address("2001:db8:1::5"), 0, ()),
        BindingError(1, IPv6Address("2001:db8:1::6"), 0, (x["mnid"],)),
        Heartbeat(10, 0, (x["rc"],)),
        Heartbeat(10, HBFlag.R, (x["rc"],)),
        Heartbeat(11, HBFlag.U, ()),
        BindingRevocation(BRType.BRI, 1, 20, BRFlag.P | BRFlag.G,
                          (x["mnid"], x["hnp"], x["hoa_rep"], x["bid"])),
        BindingRevocation(BRType.BRA, 0, 20, BRFlag.P, (x["mnid"],)),
        UnknownMH(mh_type=0, raw=b"\0\0"),  # Binding Refresh Request
        UnknownMH(mh_type=200, raw=bytes(range(10))),
    ]


# --------------------------------------------------------------------------- DHCP


def _overloaded_ack() -> DhcpMessage:
    """An ACK whose options continue in ``file`` and ``sname`` (option 52 = 3)."""
    header = (bytes([2, 1, 6, 0]) + struct.pack("!IHH", 0x0BAD_F00D, 0, 0)
              + bytes(4) + CLIENT4.packed + SERVER4.packed + bytes(4)
              + bytes.fromhex("02000000000a") + bytes(10))
    sname = (bytes([6, 8]) + SERVER4.packed + IPv4Address("8.8.8.8").packed
             + bytes([15, 11]) + b"example.net" + b"\xff").ljust(64, b"\0")
    file = (bytes([51, 4]) + struct.pack("!I", 3600) + bytes([1, 4]) + bytes([255, 255, 255, 0])
            + bytes([3, 4]) + SERVER4.packed + b"\xff").ljust(128, b"\0")
    options = (bytes([53, 1, 5, 52, 1, 3, 54, 4]) + SERVER4.packed + b"\xff"
               + bytes(20))
    raw = header + sname + file + struct.pack("!I", 0x63825363) + options
    return decode_dhcp(raw)[0]


def dhcp_messages() -> list[tuple[DhcpMessage, IPv4Address, IPv4Address, int | None, int | None]]:
    """(message, src, dst, sport, dport) for every message kind of an IPv4 attach."""
    t = DhcpMessageType
    xid = 0x3903F326
    cid = DhcpClientIdOption.from_mac(MAC)
    prl = DhcpParamRequestListOption((1, 3, 6, 15, 26, 42, 51, 54))
    server = DhcpAddressOption(54, SERVER4)
    lease = (DhcpUIntOption(51, 3600), DhcpUIntOption(58, 1800), DhcpUIntOption(59, 3150))
    config = (DhcpAddressOption(1, "255.255.255.0"), DhcpAddressListOption(3, (SERVER4,)),
              DhcpAddressListOption(6, (SERVER4, IPv4Address("8.8.8.8"))),
              DhcpAddressListOption(42, (SERVER4,)), DhcpAddressOption(28, "10.10.0.255"),
              DhcpUIntOption(26, 1500), DhcpTextOption(15, "example.net"))
    rai = DhcpRelayAgentInfoOption((
        RelayAgentSubOption(1, b"mag1/eth1"), RelayAgentSubOption(2, CLIENT4),
        RelayAgentSubOption(5, IPv4Address("10.10.0.0")), RelayAgentSubOption(11, SERVER4),
        RelayAgentSubOption(12, b"\x01\x02\x03\x04"), RelayAgentSubOption(99, b"?")))

    def msg(op: int, mt: int, *opts: object, **kw: object) -> DhcpMessage:
        return DhcpMessage(op=op, xid=xid, chaddr=MAC,  # type: ignore[arg-type]
                           options=(DhcpMessageTypeOption(mt), *opts), **kw)

    rq, rp = DhcpOp.BOOTREQUEST, DhcpOp.BOOTREPLY
    discover = msg(rq, t.DISCOVER, cid, prl, DhcpUIntOption(57, 1500),
                   DhcpTextOption(12, "mn1"), DhcpRawOption(60, b"pmipview"), flags=BROADCAST_FLAG)
    offer = msg(rp, t.OFFER, server, *lease, *config, yiaddr=CLIENT4, siaddr=SERVER4)
    request = msg(rq, t.REQUEST, cid, DhcpAddressOption(50, CLIENT4), server, prl)
    ack = msg(rp, t.ACK, server, *lease, *config, yiaddr=CLIENT4)
    nak = msg(rp, t.NAK, server, DhcpTextOption(56, "address not available"),
              flags=BROADCAST_FLAG)
    decline = msg(rq, t.DECLINE, DhcpAddressOption(50, CLIENT4), server)
    release = msg(rq, t.RELEASE, server, ciaddr=CLIENT4)
    inform = msg(rq, t.INFORM, prl, ciaddr=CLIENT4)
    relayed_discover = msg(rq, t.DISCOVER, cid, prl, rai, hops=1, giaddr=RELAY4)
    relayed_ack = msg(rp, t.ACK, server, *lease, *config, rai, hops=1, giaddr=RELAY4,
                      yiaddr=CLIENT4)
    rfc4361 = msg(rq, t.REQUEST, DhcpClientIdOption.from_iaid_duid(7, b"\0\3\0\1" + b"\2" * 6),
                  DhcpAddressOption(50, CLIENT4))
    bootp = DhcpMessage(op=DhcpOp.BOOTREPLY, xid=1, yiaddr=CLIENT4, chaddr=MAC, sname=b"boot",
                        file=b"pxelinux.0")
    return [
        (discover, ANY4, BCAST4, None, None),
        (offer, SERVER4, BCAST4, None, None),
        (request, ANY4, BCAST4, None, None),
        (ack, SERVER4, CLIENT4, None, None),
        (nak, SERVER4, BCAST4, None, None),
        (decline, ANY4, BCAST4, None, None),
        (release, CLIENT4, SERVER4, None, None),
        (inform, CLIENT4, SERVER4, None, None),
        (relayed_discover, RELAY4, SERVER4, DHCP_SERVER_PORT, DHCP_SERVER_PORT),
        (relayed_ack, SERVER4, RELAY4, DHCP_SERVER_PORT, DHCP_SERVER_PORT),
        (rfc4361, ANY4, BCAST4, None, None),
        (_overloaded_ack(), SERVER4, CLIENT4, None, None),
        (bootp, SERVER4, CLIENT4, None, None),
    ]


# ------------------------------------------------------------------ signaling frames


@cache
def _signaling_frames() -> tuple[Frame, ...]:
    frames: list[Frame] = []
    messages = mobility_messages()
    for lt in LINKTYPES:
        for m in messages:
            frames.append((lt, build_frame(lt, MAG6, LMA6, m)))   # IPv6, next header 135
            frames.append((lt, build_frame(lt, MAG4, LMA4, m)))   # IPv4/UDP 5436
        for d, src, dst, sport, dport in dhcp_messages():
            frames.append((lt, build_frame(lt, src, dst, d, sport=sport, dport=dport)))
    eth = LinkType.ETHERNET
    pbu, pba = messages[0], messages[4]
    # Ethernet with QinQ tags, over both transports.
    qinq6 = Ethernet("02:00:00:00:00:02", "02:00:00:00:00:01", EtherType.IPV6,
                     (VlanTag(10, 3, tpid=0x88A8), VlanTag(20)))
    qinq4 = Ethernet("02:00:00:00:00:02", "02:00:00:00:00:01", EtherType.IPV4, (VlanTag(30),))
    frames.append((eth, build_frame(eth, MAG6, LMA6, pbu, link=qinq6)))
    frames.append((eth, build_frame(eth, MAG4, LMA4, pba, link=qinq4)))
    # IPv6 extension headers before the MH: Hop-by-Hop (PadN), Destination Options (PadN).
    hbh = IPv6ExtHeader(0, b"\x00" + b"\x01\x04" + bytes(4))
    dst_opts = IPv6ExtHeader(60, b"\x01" + b"\x01\x0c" + bytes(12))
    ip6 = IPv6(MAG6, LMA6, 135, ext_headers=(hbh, dst_opts))
    frames.append((eth, build_frame(eth, MAG6, LMA6, pbu, ip=ip6)))
    frames.append((eth, build_frame(eth, MAG6, LMA6, pba, ip=ip6)))
    # MH over UDP 5436 over IPv6 (allowed by RFC 5844 for NAT traversal), with an ext header.
    frames.append((eth, build_frame(eth, MAG6, LMA6, pbu, sport=5436, dport=5436)))
    frames.append((eth, build_frame(eth, MAG6, LMA6, pba, sport=5436, dport=5436,
                                    ip=IPv6(MAG6, LMA6, 17, ext_headers=(hbh,)))))
    # IPv4 with options (NOPs and a Router Alert) before UDP 5436 and before DHCP.
    ip4 = IPv4(MAG4, LMA4, 17, options=b"\x94\x04\x00\x00\x01\x01\x01\x00")
    frames.append((eth, build_frame(eth, MAG4, LMA4, pbu, ip=ip4)))
    d, src, dst, _, _ = dhcp_messages()[0]
    frames.append((eth, build_frame(eth, src, dst, d,
                                    ip=IPv4(src, dst, 17, options=b"\x94\x04\x00\x00"))))
    # Linux cooked v1 with the loopback framing, BSD loopback (LINKTYPE_LOOP).
    frames.append((LinkType.LOOP, build_frame(LinkType.LOOP, MAG6, LMA6, pbu)))
    frames.append((LinkType.LOOP, build_frame(LinkType.LOOP, MAG4, LMA4, pba)))
    return tuple(frames)


def signaling_frames(linktypes: tuple[int, ...] | None = None) -> list[Frame]:
    """Valid MH and DHCP frames (about 160); only the given link types when given."""
    frames = _signaling_frames()
    if linktypes is None:
        return list(frames)
    return [f for f in frames if f[0] in linktypes]


# ------------------------------------------------------------------ unrelated traffic

_SERVER_PORTS = (80, 443, 22, 8080, 993, 3306, 5432, 6379, 25, 179)
_IPV4_HDR = struct.Struct("!BBHHHBBH4s4s")
_TCP_HDR = struct.Struct("!HHIIBBHHH")


def _ephemeral(rng: random.Random) -> int:
    return rng.randint(32768, 60999)


def _addr4(rng: random.Random) -> bytes:
    return bytes([10, rng.randint(0, 255), rng.randint(0, 255), rng.randint(1, 254)])


def _addr6(rng: random.Random) -> bytes:
    return bytes.fromhex("20010db8") + rng.randbytes(12)


def _ipv4(rng: random.Random, proto: int, payload: bytes, src: bytes, dst: bytes) -> bytes:
    head = _IPV4_HDR.pack(0x45, 0, 20 + len(payload), rng.getrandbits(16), 0x4000,
                          rng.choice((64, 128, 255, 63)), proto, 0, src, dst)
    csum = inet_checksum(head)
    return head[:10] + struct.pack("!H", csum) + head[12:] + payload


def _ipv6(rng: random.Random, nh: int, payload: bytes, src: bytes, dst: bytes) -> bytes:
    return struct.pack("!IHBB", 6 << 28 | rng.getrandbits(20), len(payload), nh, 64) \
        + src + dst + payload


def _l4_checksum(src: bytes, dst: bytes, proto: int, segment: bytes, at: int) -> bytes:
    """``segment`` with the IPv4/IPv6 pseudo-header checksum written at ``at``."""
    a = IPv4Address(src) if len(src) == 4 else IPv6Address(src)
    b = IPv4Address(dst) if len(dst) == 4 else IPv6Address(dst)
    padded = segment + b"\0" if len(segment) % 2 else segment
    csum = inet_checksum(pseudo_header(a, b, proto, len(segment)), padded)
    return segment[:at] + struct.pack("!H", csum) + segment[at + 2:]


def _tcp(rng: random.Random) -> tuple[int, int, bytes]:
    """(sport, dport, segment) of a TCP segment: a SYN, an ACK or a data segment."""
    client = rng.random() < 0.5
    server_port = rng.choice(_SERVER_PORTS)
    sport, dport = (_ephemeral(rng), server_port) if client else (server_port, _ephemeral(rng))
    kind = rng.random()
    options = b""
    if kind < 0.1:  # SYN with MSS, SACK-permitted, window scale
        flags, payload = 0x02, b""
        options = b"\x02\x04\x05\xb4\x04\x02\x01\x03\x03\x07"
        options += b"\0" * (-len(options) % 4)
    elif kind < 0.45:  # pure ACK
        flags, payload = 0x10, b""
    else:  # data
        flags = 0x18
        payload = rng.randbytes(rng.choice((rng.randint(1, 200), 1448, 1448, 536)))
    hdr = _TCP_HDR.pack(sport, dport, rng.getrandbits(32), rng.getrandbits(32),
                        (5 + len(options) // 4) << 4, flags, rng.randint(500, 65535), 0, 0)
    return sport, dport, hdr + options + payload


def _dns(rng: random.Random) -> tuple[int, int, bytes]:
    """(sport, dport, DNS message) of a query or a response."""
    labels = [rng.choice((b"www", b"mail", b"api", b"cdn", b"ns1")),
              rng.choice((b"example", b"mobile", b"operator", b"corp")),
              rng.choice((b"com", b"net", b"org"))]
    qname = b"".join(bytes([len(x)]) + x for x in labels) + b"\0"
    qtype = rng.choice((1, 28, 1, 1, 33))
    question = qname + struct.pack("!HH", qtype, 1)
    client = _ephemeral(rng)
    ident = rng.getrandbits(16)
    if rng.random() < 0.5:
        return client, 53, struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 0) + question
    answers = b""
    count = rng.randint(1, 4)
    for _ in range(count):
        rdata = rng.randbytes(16 if qtype == 28 else 4)
        answers += struct.pack("!HHHIH", 0xC00C, qtype if qtype != 33 else 1, 1,
                               rng.randint(30, 86400), len(rdata)) + rdata
    return 53, client, struct.pack("!HHHHHH", ident, 0x8180, 1, count, 0, 0) + question \
        + answers


def _udp(src: bytes, dst: bytes, sport: int, dport: int, payload: bytes) -> bytes:
    seg = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    return _l4_checksum(src, dst, 17, seg, 6)


def _wrap(rng: random.Random, linktype: int, ethertype: int, packet: bytes) -> bytes:
    if linktype == LinkType.ETHERNET:
        return b"\x02" + rng.randbytes(5) + b"\x02" + rng.randbytes(5) \
            + struct.pack("!H", ethertype) + packet
    return encode_link(link_for(linktype, ethertype), packet)


#: Kinds of unrelated traffic and their share of :func:`unrelated_frames`.
UNRELATED_KINDS: dict[str, float] = {
    "tcp4": 0.45, "dns4": 0.12, "icmp4": 0.08, "arp": 0.08, "tcp6": 0.15, "icmp6": 0.08,
    "dns6": 0.04,
}


def unrelated_frame(rng: random.Random, linktype: int = LinkType.ETHERNET,
                    kind: str | None = None) -> bytes:
    """One frame of traffic that cannot carry PMIPv6 or DHCP signaling."""
    if kind is None:
        kind = rng.choices(list(UNRELATED_KINDS), list(UNRELATED_KINDS.values()))[0]
    if kind == "arp" and linktype not in (LinkType.ETHERNET, LinkType.LINUX_SLL,
                                          LinkType.LINUX_SLL2):
        kind = "icmp4"  # no EtherType to carry ARP in raw/null framing
    v6 = kind.endswith("6")
    src, dst = (_addr6(rng), _addr6(rng)) if v6 else (_addr4(rng), _addr4(rng))
    if kind in ("tcp4", "tcp6"):
        _, _, seg = _tcp(rng)
        seg = _l4_checksum(src, dst, 6, seg, 16)
        proto = 6
    elif kind in ("dns4", "dns6"):
        sport, dport, msg = _dns(rng)
        seg = _udp(src, dst, sport, dport, msg)
        proto = 17
    elif kind == "icmp4":
        body = struct.pack("!BBHHH", rng.choice((8, 0)), 0, 0, rng.getrandbits(16),
                           rng.getrandbits(16)) + rng.randbytes(56)
        seg = body[:2] + struct.pack("!H", inet_checksum(body)) + body[4:]
        proto = 1
    elif kind == "icmp6":
        if rng.random() < 0.4:  # Neighbor Solicitation: ICMPv6 type 135
            body = struct.pack("!BBHI", 135, 0, 0, 0) + _addr6(rng) \
                + b"\x01\x01\x02" + rng.randbytes(5)
        else:  # echo request / reply
            body = struct.pack("!BBHHH", rng.choice((128, 129)), 0, 0, rng.getrandbits(16),
                               rng.getrandbits(16)) + rng.randbytes(56)
        seg = _l4_checksum(src, dst, 58, body, 2)
        proto = 58
    elif kind == "arp":
        arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, rng.choice((1, 2))) \
            + b"\x02" + rng.randbytes(5) + _addr4(rng) + bytes(6) + _addr4(rng)
        if rng.random() < 0.5:
            arp += bytes(18)  # padded to the 60-byte Ethernet minimum
        return _wrap(rng, linktype, EtherType.ARP, arp)
    else:
        raise ValueError(f"unknown kind of unrelated traffic: {kind}")
    if v6:
        return _wrap(rng, linktype, EtherType.IPV6, _ipv6(rng, proto, seg, src, dst))
    return _wrap(rng, linktype, EtherType.IPV4, _ipv4(rng, proto, seg, src, dst))


def unrelated_frames(n: int, seed: int = 0,
                     linktypes: tuple[int, ...] = (LinkType.ETHERNET,)) -> list[Frame]:
    """``n`` unrelated frames, link types drawn from ``linktypes``; deterministic."""
    rng = random.Random(seed)
    out: list[Frame] = []
    for _ in range(n):
        lt = linktypes[0] if len(linktypes) == 1 else rng.choice(linktypes)
        out.append((lt, unrelated_frame(rng, lt)))
    return out


def mixed(n: int, signaling_ratio: float = 0.1, seed: int = 0,
          linktypes: tuple[int, ...] = (LinkType.ETHERNET,)) -> list[Frame]:
    """``n`` frames in random order: ``round(n * signaling_ratio)`` signaling frames drawn
    from :func:`signaling_frames` (of ``linktypes``), the rest unrelated traffic.

    Every frame is a distinct ``bytes`` object, as a capture reader would hand them out.
    Deterministic for a given ``seed``.
    """
    if not 0.0 <= signaling_ratio <= 1.0:
        raise ValueError("signaling_ratio must be within [0, 1]")
    rng = random.Random(seed)
    pool = signaling_frames(linktypes)
    if not pool and signaling_ratio > 0:
        raise ValueError(f"no signaling frames for link types {linktypes}")
    k = round(n * signaling_ratio)
    sig_positions = set(rng.sample(range(n), k))
    out: list[Frame] = []
    for i in range(n):
        if i in sig_positions:
            lt, data = pool[rng.randrange(len(pool))]
            out.append((lt, bytes(bytearray(data))))
        else:
            lt = linktypes[0] if len(linktypes) == 1 else rng.choice(linktypes)
            out.append((lt, unrelated_frame(rng, lt)))
    return out
