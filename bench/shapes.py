"""The four capture shapes of issue 14, made fast and cached (``bench/out``, not in git).

    python bench/shapes.py                      # all four, BENCH_FRAMES=1000000 by default
    python bench/shapes.py --frames 200000 dhcp-noise

* ``mh-noise`` / ``dhcp-noise``: ``frames`` frames, 10% signaling, 90% unrelated traffic
  (bench/corpus.py's TCP, DNS, ICMP, ICMPv6, ARP);
* ``mh-sig`` / ``dhcp-sig``: the same signaling alone (``frames / 10`` frames), what an
  LMA-side capture or ``tcpdump 'udp port 5436 or ip6 proto 135 or port 67 or port 68'``
  gives.

The signaling is 1,000 MNs over 16 MAGs and 2 LMAs, each MN attaching, refreshing and
handing off.  MH-heavy: PBU/PBA (IPv6 and IPv4/UDP 5436 transport), refreshes, BRI/BRA at
handoff, heartbeats.  DHCP-heavy: half the signaling is DHCP, each exchange seen on both
relay legs (MN <-> MAG broadcast, MAG <-> server with giaddr and option 82), 15-25 options
a message, 802.1Q or QinQ tagged, next to the PBU/PBA of the same attach.  Every frame
is distinct (xid, sequence numbers, timestamps move), as in a real capture.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Iterator
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.corpus import unrelated_frame
from dissectors import mh_options as o
from dissectors.dhcp import BROADCAST_FLAG, DhcpMessage
from dissectors.dhcp_codes import DHCP_SERVER_PORT as SERVER
from dissectors.dhcp_codes import DhcpMessageType as T
from dissectors.dhcp_codes import DhcpOp
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
from dissectors.link import Ethernet, EtherType, LinkType, VlanTag
from dissectors.mh import BindingAck, BindingRevocation, BindingUpdate, Heartbeat
from dissectors.mh_codes import BAFlag, BRFlag, BRType, BUFlag, HBFlag
from pmipview.sources.capfile import write_pcap
from pmipview.sources.records import Record

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
SHAPES = ("mh-noise", "mh-sig", "dhcp-noise", "dhcp-sig")
MNS, MAGS, LMAS = 1000, 16, 2
ETH = LinkType.ETHERNET


def default_frames() -> int:
    return int(os.environ.get("BENCH_FRAMES", "1000000"))


def path_of(shape: str, frames: int) -> Path:
    return OUT / f"{shape}-{frames}.pcap"


class _Net:
    """Addresses of the MAGs, LMAs and MNs."""

    def __init__(self) -> None:
        self.mag6 = [IPv6Address(f"2001:db8:100::{i + 1:x}") for i in range(MAGS)]
        self.mag4 = [IPv4Address(f"192.0.2.{i + 1}") for i in range(MAGS)]
        self.lma6 = [IPv6Address(f"2001:db8:200::{i + 1:x}") for i in range(LMAS)]
        self.lma4 = [IPv4Address(f"198.51.100.{i + 1}") for i in range(LMAS)]
        self.server = IPv4Address("10.0.0.1")
        self.macs = [f"02:b0:00:{n >> 8 & 255:02x}:{n & 255:02x}:01" for n in range(MNS)]
        self.hoa = [IPv4Address(int(IPv4Address("10.0.4.0")) + n) for n in range(MNS)]


def _link(rng: random.Random, src: str, dst: str, qinq: bool) -> Ethernet:
    tags = (VlanTag(rng.randrange(1, 4000), tpid=0x88A8), VlanTag(rng.randrange(1, 4000))) \
        if qinq else (VlanTag(rng.randrange(1, 4000)),)
    return Ethernet(dst, src, EtherType.IPV4, tags)


def _pbu_pba(net: _Net, rng: random.Random, mn: int, mag: int, seq: int, hi: int,
             t: float) -> list[bytes]:
    lma = mn % LMAS
    nai = f"mn{mn + 1}@bench.example"
    opts = [o.MNIdentifier.nai(nai), o.HandoffIndicatorOpt(hi), o.AccessTechnologyOpt(4),
            o.MNLinkLayerId.mac(net.macs[mn]), o.Timestamp.at(t),
            o.HomeNetworkPrefix(IPv6Address(f"2001:db8:{mn + 0x1000:x}::"), 64),
            o.LinkLocalAddress(IPv6Address("fe80::1")), o.GREKey(mn + 1)]
    v4 = rng.random() < 0.5
    if v4:
        opts += [o.IPv4HoARequest(IPv4Address(0)), o.IPv4DHCPSupportMode(rng.random() < 0.5)]
    pbu = BindingUpdate(seq, BUFlag.A | BUFlag.H | BUFlag.L | BUFlag.P, 60, tuple(opts))
    rep = [o.MNIdentifier.nai(nai), o.HandoffIndicatorOpt(hi), o.AccessTechnologyOpt(4),
           o.MNLinkLayerId.mac(net.macs[mn]), o.Timestamp.at(t + 0.004),
           o.HomeNetworkPrefix(IPv6Address(f"2001:db8:{mn + 0x1000:x}::"), 64),
           o.GREKey(mn + 0x10001)]
    if v4:
        rep += [o.IPv4HoAReply(0, net.hoa[mn], 16), o.IPv4DefaultRouter(net.server)]
    pba = BindingAck(0, seq, BAFlag.P, 60, tuple(rep))
    if mag % 2 == 0:         # half the MAGs speak IPv6 transport
        s, d = net.mag6[mag], net.lma6[lma]
    else:                    # IPv4/UDP 5436
        s, d = net.mag4[mag], net.lma4[lma]
    return [build_frame(ETH, s, d, pbu), build_frame(ETH, d, s, pba)]


def _revocation(net: _Net, mn: int, old: int, seq: int) -> list[bytes]:
    lma = mn % LMAS
    nai = o.MNIdentifier.nai(f"mn{mn + 1}@bench.example")
    bri = BindingRevocation(BRType.BRI, 1, seq, BRFlag.P, (nai,))
    bra = BindingRevocation(BRType.BRA, 0, seq, BRFlag.P, (nai,))
    s, d = (net.lma6[lma], net.mag6[old]) if old % 2 == 0 else (net.lma4[lma], net.mag4[old])
    return [build_frame(ETH, s, d, bri), build_frame(ETH, d, s, bra)]


def _heartbeat(net: _Net, mag: int, lma: int, seq: int) -> list[bytes]:
    req = Heartbeat(seq, 0, (o.RestartCounter(3),))
    resp = Heartbeat(seq, HBFlag.R, (o.RestartCounter(5),))
    s, d = (net.mag6[mag], net.lma6[lma]) if mag % 2 == 0 else (net.mag4[mag], net.lma4[lma])
    return [build_frame(ETH, s, d, req), build_frame(ETH, d, s, resp)]


_PRL = DhcpParamRequestListOption((1, 3, 6, 15, 26, 28, 42, 51, 54, 58, 59, 119, 121))


def _dhcp_exchange(net: _Net, rng: random.Random, mn: int, mag: int, xid: int
                   ) -> list[bytes]:
    """DISCOVER, OFFER, REQUEST, ACK, each on the client leg and the relay leg."""
    mac, hoa, srv = net.macs[mn], net.hoa[mn], net.server
    gi = IPv4Address(f"10.0.{mag}.254")
    mag_mac = f"02:a0:00:00:00:{mag + 1:02x}"
    srv_mac = "02:c0:00:00:00:01"
    qinq = rng.random() < 0.4
    cid = DhcpClientIdOption.from_mac(mac)
    host = DhcpTextOption(12, f"mn{mn + 1}")
    vendor = DhcpRawOption(60, b"pmipview-bench 1.0")
    rai = DhcpRelayAgentInfoOption((
        RelayAgentSubOption(1, f"mag{mag + 1}/eth{mn % 4}".encode()),
        RelayAgentSubOption(2, hoa), RelayAgentSubOption(5, IPv4Address("10.0.0.0")),
        RelayAgentSubOption(11, srv)))
    common_req = (cid, host, vendor, _PRL, DhcpUIntOption(57, 1500),
                  DhcpRawOption(77, b"bench"), DhcpRawOption(81, b"\x00\x00\x00mn.example"),
                  DhcpRawOption(93, b"\x00\x00"), DhcpRawOption(94, b"\x01\x02\x01"),
                  DhcpRawOption(97, b"\x00" + bytes(range(16))),
                  DhcpRawOption(24, b"\x00\x00\x02\x58"),
                  DhcpRawOption(23, b"\x40"), DhcpRawOption(43, b"\x01\x04abcd"),
                  DhcpRawOption(145, b"\x01"))
    config = (DhcpAddressOption(54, srv), DhcpUIntOption(51, 600), DhcpUIntOption(58, 300),
              DhcpUIntOption(59, 525), DhcpAddressOption(1, "255.255.0.0"),
              DhcpAddressListOption(3, (srv,)),
              DhcpAddressListOption(6, (srv, IPv4Address("9.9.9.9"))),
              DhcpAddressListOption(42, (srv,)), DhcpAddressOption(28, "10.0.255.255"),
              DhcpUIntOption(26, 1500), DhcpTextOption(15, "bench.example"),
              DhcpRawOption(119, b"\x05bench\x07example\x00"),
              DhcpRawOption(121, b"\x18\x0a\x01\x00\x0a\x00\x00\x01"),
              DhcpRawOption(2, b"\x00\x00\x0e\x10"), DhcpRawOption(4, srv.packed),
              DhcpRawOption(44, srv.packed), DhcpRawOption(46, b"\x08"))

    def msg(op: int, mt: int, opts: tuple, **kw: object) -> DhcpMessage:
        return DhcpMessage(op=op, xid=xid, chaddr=mac,  # type: ignore[arg-type]
                           options=(DhcpMessageTypeOption(mt), *opts), **kw)

    n_req = rng.randrange(14, len(common_req) + 1)
    n_cfg = rng.randrange(14, len(config) + 1)
    discover = common_req[:n_req]
    request = (*common_req[:n_req - 2], DhcpAddressOption(50, hoa), DhcpAddressOption(54, srv))
    offer, ack = config[:n_cfg], config[:n_cfg]
    out: list[bytes] = []
    any4, bcast = IPv4Address(0), IPv4Address("255.255.255.255")
    for mt, opts, reply in ((T.DISCOVER, discover, False), (T.OFFER, offer, True),
                            (T.REQUEST, request, False), (T.ACK, ack, True)):
        kw: dict = {"yiaddr": hoa} if reply else {"flags": BROADCAST_FLAG}
        op = DhcpOp.BOOTREPLY if reply else DhcpOp.BOOTREQUEST
        client = msg(op, mt, opts, **kw)
        relayed = msg(op, mt, (*opts, rai), hops=1, giaddr=gi, **kw)
        if reply:   # server -> relay (67 -> 67), then relay -> MN (67 -> 68)
            out.append(build_frame(ETH, srv, gi, relayed, sport=SERVER, dport=SERVER,
                                   link=_link(rng, srv_mac, mag_mac, qinq)))
            out.append(build_frame(ETH, gi, bcast, client,
                                   link=_link(rng, mag_mac, "ff:ff:ff:ff:ff:ff", qinq)))
        else:       # MN -> broadcast (68 -> 67), then relay -> server (67 -> 67)
            out.append(build_frame(ETH, any4, bcast, client,
                                   link=_link(rng, mac, "ff:ff:ff:ff:ff:ff", qinq)))
            out.append(build_frame(ETH, gi, srv, relayed, sport=SERVER, dport=SERVER,
                                   link=_link(rng, mag_mac, srv_mac, qinq)))
    return out


def signaling(count: int, dhcp: bool, seed: int = 1) -> list[bytes]:
    """``count`` signaling frames (in time order) of 1,000 MNs."""
    rng = random.Random(seed)
    net = _Net()
    where = [rng.randrange(MAGS) for _ in range(MNS)]
    seqs = [rng.randrange(1000) for _ in range(MNS)]
    attached = [False] * MNS
    frames: list[bytes] = []
    t = 1_700_000_000.0
    xid = rng.getrandbits(32)
    hb_seq = 0
    while len(frames) < count:
        mn = rng.randrange(MNS)
        t += 0.01
        seqs[mn] = (seqs[mn] + 1) & 0xFFFF
        r = rng.random()
        if not attached[mn] or r < 0.3:   # attach or hand off
            old = where[mn]
            if attached[mn]:
                where[mn] = (old + rng.randrange(1, MAGS)) % MAGS
            if dhcp:
                xid = (xid + 1) & 0xFFFFFFFF
                frames += _dhcp_exchange(net, rng, mn, where[mn], xid)
            frames += _pbu_pba(net, rng, mn, where[mn], seqs[mn], 3 if attached[mn] else 1, t)
            if attached[mn]:
                frames += _revocation(net, mn, old, seqs[mn])
            attached[mn] = True
        elif dhcp and r < 0.5:            # renewal: REQUEST/ACK on both legs
            xid = (xid + 1) & 0xFFFFFFFF
            frames += _dhcp_exchange(net, rng, mn, where[mn], xid)[4:]
        elif r < 0.9:                      # refresh
            frames += _pbu_pba(net, rng, mn, where[mn], seqs[mn], 5, t)
        else:
            hb_seq = (hb_seq + 1) & 0xFFFF
            frames += _heartbeat(net, rng.randrange(MAGS), rng.randrange(LMAS), hb_seq)
    return frames[:count]


def records(shape: str, frames: int, seed: int = 1) -> Iterator[Record]:
    dhcp = shape.startswith("dhcp")
    noise = shape.endswith("noise")
    n_sig = frames // 10
    sig = signaling(n_sig, dhcp, seed)
    total = frames if noise else n_sig
    rng = random.Random(seed + 1)
    positions = set(rng.sample(range(total), n_sig)) if noise else None
    start = 1_700_000_000 * 10**9
    it = iter(sig)
    for i in range(total):
        data = next(it) if positions is None or i in positions else unrelated_frame(rng)
        yield Record(i + 1, start + i * 200_000, ETH, data, 0, len(data))


def make(shape: str, frames: int) -> Path:
    """The cached capture of ``shape`` with ``frames`` (its noise variant's) frames."""
    path = path_of(shape, frames)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        write_pcap(tmp, records(shape, frames))
        tmp.rename(path)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("shapes", nargs="*", help=f"any of {', '.join(SHAPES)} (default: all)")
    parser.add_argument("--frames", type=int, default=default_frames())
    args = parser.parse_args()
    bad = set(args.shapes) - set(SHAPES)
    if bad:
        parser.error(f"unknown shape {sorted(bad)[0]!r}; shapes: {', '.join(SHAPES)}")
    for shape in args.shapes or SHAPES:
        t0 = time.perf_counter()
        p = make(shape, args.frames)
        print(f"{p}: {p.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
