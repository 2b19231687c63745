"""The MAG's access side under the fuzz mutants (run inside a namespace by
tests/netns/test_mag_fuzz.py: ``python -m tests.netns.mag_fuzz ACCESS CLIENT N``).

An LMA core and a MAG core run on the sockets runtime in two threads of this process
(backhaul on loopback, UDP 5436), the MAG's access side on the veth ACCESS.  From the
peer CLIENT a raw socket sends N mutants of the corpus' DHCP messages (each wrapped in
valid Ethernet/IPv4/UDP headers to port 67, one in ten as the whole mutated frame),
and every 200 mutants a valid client's DISCOVER, which must get its OFFER with the HoA it
had before.  Prints one JSON object: what was sent, answered, counted."""

from __future__ import annotations

import contextlib
import json
import random
import select
import socket
import sys
import threading
import time
from ipaddress import IPv4Address, IPv4Network

from bench.corpus import signaling_frames
from bench.fuzz import Mutator
from dissectors.dhcp import DhcpMessage
from dissectors.frame import build_frame, decode_frame
from dissectors.ip import IPv4, encode_ipv4
from dissectors.link import Ethernet, EtherType, LinkType, encode_link
from dissectors.udp import IPPROTO_UDP, UDP, encode_udp
from pmipview.agents.base import sends
from pmipview.agents.dhcp_client import DhcpClient
from pmipview.agents.lma import LMA, LMAConfig, PoolOwner
from pmipview.agents.mag import MAG, MAGConfig, MNPolicy
from pmipview.agents.pool import AddressPool
from pmipview.wire.access import AccessTransport, interface_mac
from pmipview.wire.runtime import Runtime
from pmipview.wire.transport import Udp4Transport

ANY, BCAST = IPv4Address(0), IPv4Address("255.255.255.255")


def dhcp_mutants(n: int) -> list[tuple[bool, bytes]]:
    """(whole frame?, bytes): DHCP payload mutants, and whole mutated Ethernet frames."""
    mutator = Mutator(list(signaling_frames()), seed=7)
    rng = random.Random(7)
    n_sys = mutator.plan(n)
    out = []
    for i in range(n):
        seed, data = mutator.case(i, n_sys, rng)
        off = dict(seed.offsets).get("dhcp")
        if off is None:
            continue
        if seed.linktype == LinkType.ETHERNET and i % 10 == 0:
            out.append((True, data))
        else:
            out.append((False, data[off:]))
    return out


class Watch:
    """Counts the MAG core's own caught exceptions (``dropped``, internal error)."""

    def __init__(self) -> None:
        self.internal: list[str] = []

    def on_event(self, now: float, event) -> None:
        if str(event.detail.get("reason", "")).startswith("internal error"):
            self.internal.append(str(event.detail["reason"]))


def wrap(payload: bytes, mac: str) -> bytes:
    udp = encode_udp(UDP(68, 67), payload, ANY, BCAST)
    return encode_link(Ethernet("ff:ff:ff:ff:ff:ff", mac, EtherType.IPV4),
                       encode_ipv4(IPv4(ANY, BCAST, IPPROTO_UDP), udp))


def main() -> None:
    access, client_if, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    router = IPv4Address("10.70.0.1")
    pool = AddressPool(IPv4Network("10.70.0.0/16"), frozenset({router}))
    lma = LMA(LMAConfig(pool=pool, default_router=router))
    lma_rt = Runtime(lma, [Udp4Transport(IPv4Address("127.0.0.1"))])
    mag = MAG(MAGConfig(name="mag", lma=IPv4Address("127.0.0.1"),
                        ipv4=IPv4Address("127.0.0.2"), mac=interface_mac(access),
                        default_policy=MNPolicy("{mac}@fuzz.test")))
    acc = AccessTransport(access, routers=lambda: {router})
    watch = Watch()
    mag_rt = Runtime(mag, [acc, Udp4Transport(IPv4Address("127.0.0.2"))], observers=[watch])
    stop = threading.Event()
    threads = [threading.Thread(target=rt.run, kwargs={"until": stop.is_set, "tick": 0.1},
                                daemon=True) for rt in (lma_rt, mag_rt)]
    for t in threads:
        t.start()
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    sock.bind((client_if, 3))
    sock.setblocking(False)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    mutants = dhcp_mutants(n)
    hoas: dict[str, str] = {}
    answered = probes = 0
    try:
        for i, (whole, data) in enumerate(mutants):
            with contextlib.suppress(OSError):  # too short or long for the link: not sent
                sock.send(data if whole else wrap(data, "02:00:00:00:ff:ff"))
            if i % 200 == 0:
                probes += 1
                mac = f"02:00:00:00:01:{probes % 5:02x}"
                [d] = sends(DhcpClient(mac, client_if, rng=random.Random(probes)).start(0.0))
                sock.send(build_frame(LinkType.ETHERNET, d.src, d.dst, d.message, sport=68,
                                      dport=67, link=Ethernet("ff:ff:ff:ff:ff:ff", mac,
                                                              EtherType.IPV4)))
                got = offer_for(sock, d.message.xid, time.monotonic() + 10)
                if got is not None:
                    answered += 1
                    assert hoas.setdefault(mac, got) == got, (mac, got, hoas[mac])
    finally:
        stop.set()
        for t in threads:
            t.join(10)
        sock.close()
    pool.check()
    consistent = all(b.hoa is None or pool.owner_of(b.hoa) == PoolOwner(b.session, b.nai)
                     for b in lma.bindings())
    lma_hoa = {b.nai: b.hoa for b in lma.bindings()}
    agree = all(lma_hoa.get(b.nai) == b.ipv4_hoa for b in mag.bindings()
                if b.state == "registered")
    print(json.dumps({
        "mutants": len(mutants), "probes": probes, "answered": answered,
        "stopped": not any(t.is_alive() for t in threads),
        "mag_core_errors": mag_rt.counters.core_errors,
        "lma_core_errors": lma_rt.counters.core_errors,
        "internal_errors": watch.internal[:3],
        "undecodable": sum(mag_rt.counters.undecodable.values()),
        "delivered": mag_rt.counters.delivered, "frames": acc.counters.frames,
        "mag_entries": len(mag.bindings()), "lma_bindings": len(lma.bindings()),
        "pool_consistent": consistent, "mag_lma_agree": agree}), flush=True)
    mag_rt.close()
    lma_rt.close()


def offer_for(sock: socket.socket, xid: int, deadline: float) -> str | None:
    while time.monotonic() < deadline:
        ready, _, _ = select.select([sock], [], [], 0.1)
        if not ready:
            continue
        while True:
            try:
                data, addr = sock.recvfrom(65535)
            except BlockingIOError:
                break
            if addr[2] == 4:
                continue
            f = decode_frame(LinkType.ETHERNET, data)
            msg = f.dhcp
            if isinstance(msg, DhcpMessage) and msg.op == 2 and msg.xid == xid:
                return str(msg.yiaddr)
    return None


if __name__ == "__main__":
    main()
