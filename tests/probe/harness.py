"""The probe's driver against an LMA core in-process, on a virtual clock.

Every message crosses the codec both ways (encode → decode, the MH checksum computed and
verified over IPv6), so what the core sees is what a socket would give it; a datagram with
a bad checksum is dropped as the kernel drops it.  Deterministic and fast: no socket, no
sleep, so it is the place to show each check FAILs against a core broken on purpose.
"""

from __future__ import annotations

import heapq
from ipaddress import IPv4Address, IPv4Network, IPv6Address

from dissectors.mh import encode_mh
from dissectors.mh_codes import PMIP6_CNTL_PORT
from pmipview.agents.base import Packet, Send
from pmipview.agents.lma import LMA, LMAConfig
from pmipview.agents.pool import AddressPool
from pmipview.probe import build_driver
from pmipview.probe.catalog import CATALOG, select
from pmipview.probe.driver import Driver, Result, Timing
from pmipview.probe.profile import ProbeProfile, profile_from
from pmipview.wire.codec import decode_mh_datagram, encode_payload

TARGET4, TARGET6 = IPv4Address("192.0.2.1"), IPv6Address("2001:db8::1")
MAGS4 = [IPv4Address("198.51.100.1"), IPv4Address("198.51.100.2")]
MAGS6 = [IPv6Address("2001:db8:1::1")]
ROUTER = IPv4Address("10.0.0.1")
EPOCH = 1_700_000_000.0
FAST = Timing(initial=0.5, tries=3, silence=1.0)
PORTS = {"mag0": 40000, "mag1": 40001, "mag0-alt": 41000, "mag0-5436": PMIP6_CNTL_PORT}
PROFILE = profile_from({"pool": "10.0.0.0/24", "default_router": "10.0.0.1",
                        "dhcp_mode": "server", "max_lifetime": 3600, "revocation": True})


def make_lma(cls: type[LMA] = LMA, **kw) -> LMA:
    kw.setdefault("pool", AddressPool(IPv4Network("10.0.0.0/24"), frozenset({ROUTER})))
    return cls(LMAConfig(default_router=ROUTER, clock_offset=EPOCH, **kw))


def run(core: LMA, *, profile: ProbeProfile = PROFILE, only: list[str] | None = None,
        ipv6: bool = False, mags: int = 2, timing: Timing = FAST,
        sockets: frozenset[str] | None = None, delay: float = 0.001) -> dict[str, Result]:
    cases = select(only) if only else list(CATALOG)
    target = TARGET6 if ipv6 else TARGET4
    addrs = (MAGS6 if ipv6 else MAGS4)[:mags]
    if sockets is None:
        sockets = frozenset({"bad"}) if ipv6 else frozenset({"alt", "5436"})
    driver = build_driver(target, addrs, profile, cases, timing=timing, sockets=sockets,
                          wall_offset=EPOCH)
    Loop(core, driver, delay).run()
    return {r.case.id: r for r in driver.results}


class Loop:
    """Moves datagrams between the driver and the core with 1 ms of delay."""

    def __init__(self, core: LMA, driver: Driver, delay: float = 0.001) -> None:
        self.core, self.driver, self.delay = core, driver, delay
        self.now = 0.0
        self._heap: list[tuple[float, int, str, object]] = []
        self._n = 0
        self.to_core: list[Packet] = []

    def _push(self, at: float, where: str, item: object) -> None:
        self._n += 1
        heapq.heappush(self._heap, (at, self._n, where, item))

    def run(self, limit: float = 3600.0) -> None:
        self._from_probe(self.driver.start(self.now))
        while not self.driver.done:
            times = [t for t in (self.driver.next_timer(), self.core.next_timer())
                     if t is not None]
            if self._heap:
                times.append(self._heap[0][0])
            assert times, "nothing to wait for but the driver is not done"
            self.now = max(self.now, min(times))
            assert self.now < limit, "the probe did not finish"
            while self._heap and self._heap[0][0] <= self.now:
                _, _, where, item = heapq.heappop(self._heap)
                if where == "core":
                    self._to_core(item)  # type: ignore[arg-type]
                else:
                    sock, packet = item  # type: ignore[misc]
                    self._from_probe(self.driver.receive(self.now, packet, sock)[2])
            if (t := self.core.next_timer()) is not None and t <= self.now:
                self._from_core(self.core.timer(self.now))
            if (t := self.driver.next_timer()) is not None and t <= self.now:
                self._from_probe(self.driver.timer(self.now))

    def _from_probe(self, outs) -> None:
        for tx in outs:
            p = tx.packet
            sport = PORTS.get(p.iface) if isinstance(p.dst, IPv4Address) else None
            if isinstance(p.dst, IPv6Address):
                payload = tx.raw if tx.raw is not None else encode_mh(p.message, p.src, p.dst)
            else:
                payload = encode_payload(p)
            got = decode_mh_datagram(payload, p.src, p.dst, sport, p.dport)
            if isinstance(got, Packet):
                self._push(self.now + self.delay, "core", got)

    def _to_core(self, packet: Packet) -> None:
        self.to_core.append(packet)
        self._from_core(self.core.receive(self.now, packet))

    def _from_core(self, outs) -> None:
        for o in outs:
            if not isinstance(o, Send):
                continue
            p = o.packet
            if isinstance(p.dst, IPv4Address):
                if p.dst not in MAGS4:
                    continue
                mag = MAGS4.index(p.dst)
                names = [n for n, port in PORTS.items() if port == p.dport
                         and n.split("-")[0] == f"mag{mag}"]
                if not names:
                    continue  # a port no socket listens on: lost
                name = names[0]
                payload = encode_mh(p.message)
            else:
                name = f"mag{MAGS6.index(p.dst)}"
                payload = encode_mh(p.message, p.src, p.dst)
            got = decode_mh_datagram(payload, p.src, p.dst, p.sport, p.dport)
            self._push(self.now + 0.001, "probe", (name, got))
