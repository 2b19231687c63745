"""Build samples/tour.pcap, a hand-scripted tour of every signaling kind (deterministic).

    python samples/make_tour.py            # rewrite samples/tour.pcap
    python samples/make_tour.py --check    # exit 1 if the committed file differs

The simulated samples (samples/*.pcapng) come from the reference agents instead
(samples/build.py); this one is scripted frame by frame so that its frame numbers and
contents are fixed points for the CLI tests and the README.

tour.pcap — RFC 5844 §3.4.1 (DHCP server at the MAG), IPv4 transport
(UDP 5436), captured on one Ethernet segment that sees the access links and the backhaul:

  mn1@example.net attaches at MAG1 (DISCOVER → PBU HoA 0.0.0.0 → PBA 10.10.0.5/24 →
  OFFER/REQUEST/ACK), MAG1 and the LMA exchange Heartbeats, MAG1 re-registers, mn1 moves
  to MAG2 (PBU HI=3 over IPv6 transport, same HoA; the LMA revokes MAG1's binding with a
  BRI/BRA; the MN's INIT-REBOOT REQUEST is ACKed by MAG2 with the same server identifier),
  mn2@example.net is refused IPv4 service (PBA 170, HoA Reply 129), a PBU of mn3 is never
  answered (retransmitted, then given up), and mn1 detaches (RELEASE → PBU lifetime 0).
  Unrelated traffic (DNS, TCP, ARP) stands between them, as in a real capture.
"""

from __future__ import annotations

import argparse
import struct
import sys
from collections.abc import Iterator
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dissectors import mh_options as o
from dissectors.dhcp import DhcpMessage
from dissectors.dhcp_codes import DhcpMessageType as T
from dissectors.dhcp_codes import DhcpOp
from dissectors.dhcp_options import (
    DhcpAddressListOption,
    DhcpAddressOption,
    DhcpClientIdOption,
    DhcpMessageTypeOption,
    DhcpParamRequestListOption,
    DhcpUIntOption,
)
from dissectors.frame import build_frame
from dissectors.ip import IPv4, encode_ipv4
from dissectors.link import Ethernet, EtherType, LinkType, encode_link
from dissectors.mh import BindingAck, BindingRevocation, BindingUpdate, Heartbeat
from dissectors.mh_codes import BAStatus, BRFlag, BRType, BUFlag, HoAReplyStatus, RevocationTrigger
from pmipview.sources.capfile import write_pcap
from pmipview.sources.records import Record

HERE = Path(__file__).resolve().parent
T0 = 1_714_557_600  # 2024-05-01T10:00:00Z

MAG1, MAG2, LMA = IPv4Address("192.0.2.1"), IPv4Address("192.0.2.2"), IPv4Address("192.0.2.100")
MAG2_6, LMA_6 = IPv6Address("2001:db8:1::2"), IPv6Address("2001:db8:1::100")
GW = IPv4Address("10.10.0.1")  # MN default router = DHCP server id on every MAG
HOA = IPv4Address("10.10.0.5")
MAC = {"mag1": "02:00:5e:00:00:01", "mag2": "02:00:5e:00:00:02", "lma": "02:00:5e:00:00:64",
       "mn1": "02:11:22:33:44:01", "mn2": "02:11:22:33:44:02", "mn3": "02:11:22:33:44:03",
       "bcast": "ff:ff:ff:ff:ff:ff", "host": "02:aa:00:00:00:01", "dns": "02:aa:00:00:00:35"}
ZERO = IPv4Address(0)
BCAST = IPv4Address("255.255.255.255")


def eth(src: str, dst: str, ethertype: int = EtherType.IPV4) -> Ethernet:
    return Ethernet(MAC[dst], MAC[src], ethertype)


def pmip_options(nai: str, mac: str, hi: int, ts: float) -> tuple:
    return (o.MNIdentifier.nai(nai), o.HandoffIndicatorOpt(hi), o.AccessTechnologyOpt(4),
            o.Timestamp.at(ts), o.MNLinkLayerId.mac(MAC[mac]))


def pbu(seq: int, nai: str, mac: str, hi: int, ts: float, hoa: IPv4Address = ZERO,
        plen: int = 0, lifetime_s: int = 600) -> BindingUpdate:
    return BindingUpdate(seq, BUFlag.A | BUFlag.P, lifetime_s // 4,
                         (*pmip_options(nai, mac, hi, ts), o.IPv4HoARequest(hoa, plen)))


def pba(seq: int, nai: str, mac: str, hi: int, ts: float, lifetime_s: int = 600,
        status: int = BAStatus.ACCEPTED, reply: int = HoAReplyStatus.SUCCESS,
        hoa: IPv4Address = HOA, plen: int = 24) -> BindingAck:
    opts = (*pmip_options(nai, mac, hi, ts), o.IPv4HoAReply(reply, hoa, plen))
    if status < 128:
        opts += (o.IPv4DefaultRouter(GW), o.IPv4DHCPSupportMode(True))
    return BindingAck(status, seq, lifetime=lifetime_s // 4, options=opts)


def dhcp(mtype: int, xid: int, mac: str, **kw) -> DhcpMessage:
    reply = mtype in (T.OFFER, T.ACK, T.NAK)
    opts: list = [DhcpMessageTypeOption(mtype)]
    if reply:
        opts.append(DhcpAddressOption(54, GW))
        if mtype != T.NAK:
            opts += [DhcpUIntOption(51, 3600), DhcpAddressOption(1, IPv4Address("255.255.255.0")),
                     DhcpAddressListOption(3, (GW,)), DhcpUIntOption(26, 1460),
                     DhcpAddressListOption(6, (IPv4Address("10.10.0.53"),))]
    else:
        opts.append(DhcpClientIdOption.from_mac(MAC[mac]))
        if "requested" in kw:
            opts.append(DhcpAddressOption(50, kw.pop("requested")))
        if "server" in kw:
            opts.append(DhcpAddressOption(54, kw.pop("server")))
        if mtype in (T.DISCOVER, T.REQUEST):
            opts.append(DhcpParamRequestListOption((1, 3, 6, 26, 51, 54)))
    return DhcpMessage(op=DhcpOp.BOOTREPLY if reply else DhcpOp.BOOTREQUEST, xid=xid,
                       chaddr=MAC[mac], flags=0x8000 if not reply or mtype == T.NAK else 0,
                       options=tuple(opts), **kw)


def noise(i: int) -> bytes:
    """An unrelated frame: DNS query, TCP segment or ARP request."""
    src, dst = IPv4Address("10.20.0.7"), IPv4Address("10.20.0.53")
    kind = i % 3
    if kind == 0:
        query = struct.pack("!HHHHHH", 0x1000 + i, 0x0100, 1, 0, 0, 0) + \
            b"\x03www\x07example\x03net\x00\x00\x01\x00\x01"
        udp = struct.pack("!HHHH", 40000 + i, 53, 8 + len(query), 0) + query
        return encode_link(eth("host", "dns"), encode_ipv4(IPv4(src, dst, 17), udp))
    if kind == 1:
        tcp = struct.pack("!HHIIBBHHH", 443, 50000 + i, i * 1000, 1, 0x50, 0x10, 512, 0, 0)
        return encode_link(eth("dns", "host"), encode_ipv4(IPv4(dst, src, 6), tcp))
    arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, bytes.fromhex("02aa00000001"),
                      src.packed, bytes(6), dst.packed)
    return encode_link(eth("host", "bcast", EtherType.ARP), arp)


def attach_server_at_mag() -> Iterator[tuple[float, bytes]]:
    """(seconds from T0, frame bytes) in time order."""
    v4 = LinkType.ETHERNET
    n = 0

    def f(t: float, src, dst, msg, link: Ethernet, **kw) -> tuple[float, bytes]:
        return t, build_frame(v4, src, dst, msg, link=link, **kw)

    # -- mn1 attaches at MAG1 (DHCP server at the MAG) ---------------------------------
    yield f(0.000, ZERO, BCAST, dhcp(T.DISCOVER, 0x3903F326, "mn1"), eth("mn1", "bcast"))
    yield f(0.0021, MAG1, LMA, pbu(31148, "mn1@example.net", "mn1", 1, T0 + 0.0021),
            eth("mag1", "lma"))
    yield f(0.0094, LMA, MAG1, pba(31148, "mn1@example.net", "mn1", 1, T0 + 0.0021),
            eth("lma", "mag1"))
    yield f(0.0112, GW, BCAST, dhcp(T.OFFER, 0x3903F326, "mn1", yiaddr=HOA), eth("mag1", "bcast"))
    yield f(0.0135, ZERO, BCAST, dhcp(T.REQUEST, 0x3903F326, "mn1", requested=HOA, server=GW),
            eth("mn1", "bcast"))
    yield f(0.0149, GW, BCAST, dhcp(T.ACK, 0x3903F326, "mn1", yiaddr=HOA), eth("mag1", "bcast"))
    for i in range(4):
        n += 1
        yield 0.5 + i * 0.25, noise(n)
    # -- heartbeat MAG1 <-> LMA --------------------------------------------------------
    yield f(30.0, MAG1, LMA, Heartbeat(1, 0), eth("mag1", "lma"))
    yield f(30.0031, LMA, MAG1, Heartbeat(1, 1, (o.RestartCounter(3),)), eth("lma", "mag1"))
    for i in range(3):
        n += 1
        yield 31 + i, noise(n)
    # -- MAG1 re-registers (HI=5, the HoA it holds) -------------------------------------
    yield f(300.0, MAG1, LMA, pbu(31149, "mn1@example.net", "mn1", 5, T0 + 300, HOA, 24),
            eth("mag1", "lma"))
    yield f(300.0068, LMA, MAG1, pba(31149, "mn1@example.net", "mn1", 5, T0 + 300),
            eth("lma", "mag1"))
    # -- handoff to MAG2 (IPv6 transport), revocation of MAG1's binding -----------------
    yield f(412.0, MAG2_6, LMA_6, pbu(907, "mn1@example.net", "mn1", 3, T0 + 412, HOA, 24),
            eth("mag2", "lma", EtherType.IPV6))
    yield f(412.0083, LMA_6, MAG2_6, pba(907, "mn1@example.net", "mn1", 3, T0 + 412),
            eth("lma", "mag2", EtherType.IPV6))
    bri = BindingRevocation(BRType.BRI, RevocationTrigger.INTER_MAG_SAME_ACCESS, 4711,
                            BRFlag.P, (o.MNIdentifier.nai("mn1@example.net"),
                                       o.IPv4HoARequest(HOA, 24)))
    yield f(412.0090, LMA, MAG1, bri, eth("lma", "mag1"))
    bra = BindingRevocation(BRType.BRA, 0, 4711, BRFlag.P)
    yield f(412.0121, MAG1, LMA, bra, eth("mag1", "lma"))
    yield f(412.2, ZERO, BCAST, dhcp(T.REQUEST, 0x5A17C0DE, "mn1", requested=HOA),
            eth("mn1", "bcast"))
    yield f(412.2013, GW, BCAST, dhcp(T.ACK, 0x5A17C0DE, "mn1", yiaddr=HOA), eth("mag2", "bcast"))
    for i in range(3):
        n += 1
        yield 413 + i, noise(n)
    # -- mn2 is not authorised for IPv4 -------------------------------------------------
    yield f(500.0, ZERO, BCAST, dhcp(T.DISCOVER, 0x0BADF00D, "mn2"), eth("mn2", "bcast"))
    yield f(500.0019, MAG1, LMA, pbu(31150, "mn2@example.net", "mn2", 1, T0 + 500),
            eth("mag1", "lma"))
    yield f(500.0077, LMA, MAG1, pba(31150, "mn2@example.net", "mn2", 1, T0 + 500, 0,
                                     BAStatus.NOT_AUTHORIZED_FOR_IPV4_MOBILITY_SERVICE,
                                     HoAReplyStatus.ADMINISTRATIVELY_PROHIBITED, ZERO, 0),
            eth("lma", "mag1"))
    # -- mn3: a PBU that is never answered (retransmitted with new sequence numbers) ----
    for k, (dt, seq) in enumerate(((0.0, 31151), (1.0, 31152), (3.0, 31153))):
        yield f(520.0 + dt, MAG1, LMA, pbu(seq, "mn3@example.net", "mn3", 1, T0 + 520 + dt),
                eth("mag1", "lma"))
        if k == 0:
            n += 1
            yield 520.5, noise(n)
    # -- mn1 detaches at MAG2 -----------------------------------------------------------
    yield f(600.0, HOA, GW, dhcp(T.RELEASE, 0x77E1A5E1, "mn1", ciaddr=HOA, server=GW),
            eth("mn1", "mag2"))
    yield f(600.0017, MAG2_6, LMA_6, pbu(908, "mn1@example.net", "mn1", 4, T0 + 600, HOA, 24,
                                         lifetime_s=0), eth("mag2", "lma", EtherType.IPV6))
    yield f(600.0069, LMA_6, MAG2_6, pba(908, "mn1@example.net", "mn1", 4, T0 + 600, 0),
            eth("lma", "mag2", EtherType.IPV6))


SAMPLES = {"tour.pcap": attach_server_at_mag}


def records(name: str) -> list[Record]:
    frames = sorted(SAMPLES[name](), key=lambda tf: tf[0])
    return [Record(i + 1, T0 * 1_000_000_000 + round(t * 1e6) * 1000, LinkType.ETHERNET, data,
                   0, len(data)) for i, (t, data) in enumerate(frames)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="compare with the committed files instead of writing")
    args = parser.parse_args()
    import io

    status = 0
    for name in SAMPLES:
        buf = io.BytesIO()
        write_pcap(buf, records(name), LinkType.ETHERNET)
        path = HERE / name
        if args.check:
            if not path.exists() or path.read_bytes() != buf.getvalue():
                print(f"{path} differs from what make_tour.py builds", file=sys.stderr)
                status = 1
        else:
            path.write_bytes(buf.getvalue())
            print(f"wrote {path} ({len(records(name))} frames)")
    return status


if __name__ == "__main__":
    sys.exit(main())
