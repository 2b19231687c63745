"""Run the sans-IO cores of a scenario on a virtual clock over a simulated network.

Every packet a core sends is encoded to a real Ethernet frame with the project's codecs
(:func:`dissectors.frame.build_frame`), delayed by its link (delay, jitter, loss and the
scenario's faults), captured at the scenario's capture points, and decoded again at the
receiver with :func:`dissectors.frame.decode_frame` — so a simulation exercises the
whole wire path.  The same seed gives the same capture, byte for byte.

Topology: each MAG has a backhaul link to the LMA node (which also hosts the DHCP server
of relay scenarios) and an access link to every MN interface attached to it.  A capture
point is a node: it records every frame it sends or receives, on its own pcapng
interface (named after the node), timestamped when the frame leaves or arrives there.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from ipaddress import IPv4Address, IPv6Address
from typing import Any

from dissectors import mh_options as o
from dissectors.dhcp import DhcpMessage
from dissectors.frame import build_frame, decode_frame
from dissectors.link import Ethernet, EtherType, LinkType
from dissectors.mh import BindingUpdate
from pmipview.agents.base import BACKHAUL, Event, Output, Packet, Send
from pmipview.agents.dhcp_client import DhcpClient
from pmipview.agents.dhcp_server import DhcpServer
from pmipview.agents.lma import LMA, LMAConfig, Profile
from pmipview.agents.mag import MAG, MAGConfig, MNPolicy
from pmipview.agents.pool import AddressPool
from pmipview.sim.scenario import FaultSpec, LinkSpec, Scenario
from pmipview.sources.records import Record

BROADCAST_MAC = "ff:ff:ff:ff:ff:ff"


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """An event of a core, with when and where it happened."""

    time: float      # seconds since the start of the scenario
    node: str
    event: Event

    def __str__(self) -> str:
        return f"{self.time:10.4f}  {self.node:<8} {self.event}"


@dataclass(slots=True)
class Result:
    records: list[Record]
    interfaces: list[tuple[int, str]]
    events: list[LoggedEvent]
    delivered: int = 0
    lost: int = 0


@dataclass(slots=True)
class _Attachment:
    mn: str
    mac: str
    mag: str
    iface: str


@dataclass(slots=True)
class _Node:
    name: str
    mac: str
    cores: dict[str, Any] = field(default_factory=dict)  # role -> core
    timer_at: dict[str, float] = field(default_factory=dict)


class Simulation:
    """Build the cores of ``scenario`` and run it: ``run()`` returns the capture."""

    def __init__(self, scenario: Scenario) -> None:
        self.sc = scenario
        self.rng = random.Random(scenario.seed)
        self.now = 0.0
        self._queue: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = 0
        self.events: list[LoggedEvent] = []
        self.records: list[tuple[float, int, int, bytes]] = []  # (t, order, iface, frame)
        self.capture_index = {name: i for i, name in enumerate(scenario.capture)}
        self.attached: dict[str, _Attachment] = {}  # MN MAC -> where it is
        self.delivered = self.lost = 0
        self._build()

    # -- building ---------------------------------------------------------------------

    def _build(self) -> None:
        sc, lma = self.sc, self.sc.lma
        pool = AddressPool(lma.pool, frozenset({lma.default_router}))
        profiles = {}
        for nai, p in lma.profiles.items():
            mode = p.get("dhcp_mode", "server")
            profiles[nai] = Profile(ipv4=p.get("ipv4", True), ipv6=p.get("ipv6", True),
                                    static_hoa=IPv4Address(p["static_hoa"])
                                    if p.get("static_hoa") else None,
                                    dhcp_mode=None if mode == "none" else mode,
                                    allowed=p.get("allowed", True))
        for m in sc.mns:
            if m.nai not in profiles and m.static_hoa is not None:
                profiles[m.nai] = Profile(static_hoa=m.static_hoa,
                                          dhcp_mode=self._lma_mode())
        default = Profile(dhcp_mode=self._lma_mode()) if lma.accept_unknown else None
        lma_core = LMA(LMAConfig(
            pool=pool, default_router=lma.default_router, ipv6=lma.ipv6, ipv4=lma.ipv4,
            hnp_pool=lma.hnp_pool, profiles=profiles, default_profile=default,
            max_lifetime=lma.max_lifetime, revoke_on_handoff=lma.revoke_on_handoff,
            timestamp_window=lma.timestamp_window, clock_offset=sc.start_unix,
            exhausted_reply_status=lma.exhausted_reply_status,
            adopt_foreign_hoa=lma.adopt_foreign_hoa,
            heartbeat_interval=lma.heartbeat_interval, heartbeat_misses=lma.heartbeat_misses,
            restart_counter=lma.restart_counter))
        self.lma = _Node(lma.name, lma.mac, {"lma": lma_core})
        if lma.dhcp_server is not None:
            self.lma.cores["dhcp"] = DhcpServer(lma.dhcp_server, pool,
                                                router=lma.default_router,
                                                lease=lma.dhcp_lease)
        self.lma_addrs = {a for a in (lma.ipv4, lma.ipv6, lma.dhcp_server) if a is not None}
        self.mags: dict[str, _Node] = {}
        self.mag_specs = {m.name: m for m in sc.mags}
        for m in sc.mags:
            policies = {mac: MNPolicy(mn.nai, ipv4=mn.ipv4, ipv6=mn.ipv6,
                                      static_hoa=mn.static_hoa, att=mn.att)
                        for mn in sc.mns for mac in mn.macs}
            cfg = MAGConfig(
                name=m.name, lma=lma.ipv4 if m.transport == "ipv4" else lma.ipv6,
                ipv4=m.ipv4, ipv6=m.ipv6, mac=m.mac, dhcp_mode=m.dhcp,
                dhcp_server_id=m.server_id, relay_address=m.relay_address,
                dhcp_server=lma.dhcp_server, relay_order=m.relay_order,
                server_id_policy=m.server_id_policy, lifetime=m.lifetime,
                reregister_before=m.reregister_before, retransmit=m.retransmit,
                max_retransmissions=m.max_retransmissions, att=m.att, profiles=policies,
                lease=m.lease, restart_counter=m.restart_counter,
                epoch=sc.start_unix, register_on_link_up=m.dhcp == "relay")
            self.mags[m.name] = _Node(m.name, m.mac, {"mag": MAG(cfg)})
        self.mag_by_addr = {a: n for n, m in self.mag_specs.items()
                            for a in (m.ipv4, m.ipv6, m.relay_address) if a is not None}
        self.mns: dict[str, _Node] = {}
        self.mn_of_mac: dict[str, str] = {}
        for i, mn in enumerate(sc.mns):
            node = _Node(mn.name, mn.macs[0])
            for j, mac in enumerate(mn.macs):
                node.cores[mac] = DhcpClient(mac, f"if{j}",
                                             rng=random.Random(sc.seed * 1000 + i * 10 + j))
                self.mn_of_mac[mac] = mn.name
            self.mns[mn.name] = node

    def _lma_mode(self) -> str | None:
        modes = {m.dhcp for m in self.sc.mags}
        return modes.pop() if len(modes) == 1 else None

    # -- the clock ----------------------------------------------------------------------

    def at(self, t: float, action: Callable[[], None]) -> None:
        self._seq += 1
        heapq.heappush(self._queue, (t, self._seq, action))

    def run(self) -> Result:
        for ev in self.sc.events:
            self.at(ev.at, lambda ev=ev: self._scenario_event(ev))
        for node in (self.lma, *self.mags.values()):
            self._arm(node)
        while self._queue:
            t, _, action = heapq.heappop(self._queue)
            if t > self.sc.duration:
                break
            self.now = t
            action()
        self.records.sort(key=lambda r: (r[0], r[1]))
        start_ns = round(self.sc.start_unix * 1e9)
        records = [Record(i + 1, start_ns + round(t * 1e9), LinkType.ETHERNET, data, iface,
                          len(data)) for i, (t, _, iface, data) in enumerate(self.records)]
        interfaces = [(LinkType.ETHERNET, name) for name in self.sc.capture]
        return Result(records, interfaces, self.events, self.delivered, self.lost)

    # -- cores --------------------------------------------------------------------------

    def _handle(self, node: _Node, role: str, outputs: list[Output]) -> None:
        for out in outputs:
            if isinstance(out, Send):
                self._transmit(node, out.packet)
            else:
                self.events.append(LoggedEvent(self.now, node.name, out))
        self._arm(node, role)

    def _arm(self, node: _Node, role: str | None = None) -> None:
        """Schedule the core's next timer (once per distinct deadline)."""
        for r in (role,) if role is not None else tuple(node.cores):
            core = node.cores[r]
            t = core.next_timer()
            if t is None or node.timer_at.get(r) == t:
                continue
            node.timer_at[r] = t
            self.at(max(t, self.now), lambda node=node, r=r, t=t: self._fire(node, r, t))

    def _fire(self, node: _Node, role: str, t: float) -> None:
        if node.timer_at.get(role) != t:
            return  # superseded by a newer deadline
        del node.timer_at[role]
        core = node.cores[role]
        due = core.next_timer()
        if due is not None and due <= self.now + 1e-9:
            self._handle(node, role, core.timer(self.now))
        else:
            self._arm(node, role)

    def _scenario_event(self, ev: Any) -> None:
        if ev.action == "restart":
            self._restart(ev.mag)
            return
        mn = self.sc.mns[[m.name for m in self.sc.mns].index(ev.mn)]
        if ev.action == "revoke":
            self._handle(self.lma, "lma", self.lma.cores["lma"].revoke(self.now, mn.nai))
            return
        mac = ev.mac or mn.macs[0]
        client = self.mns[mn.name].cores[mac]
        current = self.attached.get(mac)
        if ev.action in ("attach", "handoff"):
            mag = self.mags[ev.mag]
            handover = ev.action == "handoff" or (current is not None
                                                  and current.mag != ev.mag)
            self.attached[mac] = _Attachment(mn.name, mac, ev.mag, ev.iface)
            self._handle(mag, "mag", mag.cores["mag"].link_up(
                self.now, mac, ev.iface, ev.hi, handover=handover,
                previous_mag=current.mag if current else None))
            # the MN's DHCP client notices the link shortly after the MAG does; a
            # DNAv4-capable MN that kept its lease sees the same default router and
            # leaves DHCP alone (RFC 5844 §3.4.1)
            first = client.state.name == "INIT" and client.address is None
            if mn.dnav4 and not first and client.address is not None:
                return
            self.at(self.now + 0.05, lambda: self._handle(
                self.mns[mn.name], mac,
                client.start(self.now) if first else client.link_changed(self.now)))
        elif ev.action == "release":
            self._handle(self.mns[mn.name], mac, client.release(self.now))
        elif ev.action == "renew":
            self._handle(self.mns[mn.name], mac, client.link_changed(self.now))
        elif ev.action == "detach" and current is not None:
            mag = self.mags[current.mag]
            self._handle(mag, "mag", mag.cores["mag"].detach(self.now, mac))
            del self.attached[mac]

    def _restart(self, name: str) -> None:
        """The MAG reboots: all its state is lost, its Restart Counter goes up by one."""
        node = self.mags[name]
        old: MAG = node.cores["mag"]
        cfg = replace(old.config, restart_counter=old.config.restart_counter + 1)
        node.cores["mag"] = MAG(cfg)
        node.timer_at.pop("mag", None)
        self.events.append(LoggedEvent(self.now, name, Event(
            "restarted", None, {"restart_counter": cfg.restart_counter})))

    # -- the network --------------------------------------------------------------------

    def _transmit(self, sender: _Node, packet: Packet) -> None:
        """Encode once, capture at the sender, deliver to each receiver over its link."""
        packet = self._mutate(sender, packet)
        targets = self._route(sender, packet)
        mac_dst = packet.mac_dst
        if mac_dst is None:
            if packet.dst == IPv4Address("255.255.255.255"):
                mac_dst = BROADCAST_MAC
            elif targets:
                mac_dst = targets[0][0].mac
            else:  # nobody on the other side (yet): the next hop on the backhaul
                mac_dst = self.lma.mac if sender is not self.lma else BROADCAST_MAC
        ethertype = EtherType.IPV6 if isinstance(packet.src, IPv6Address) else EtherType.IPV4
        frame = build_frame(LinkType.ETHERNET, packet.src, packet.dst, packet.message,
                            sport=packet.sport, dport=packet.dport,
                            link=Ethernet(mac_dst, packet.mac_src or sender.mac, ethertype))
        self._capture(sender.name, self.now, frame)
        for receiver, iface, link_name in targets:
            spec = self._link(link_name)
            if spec.loss and self.rng.random() < spec.loss:
                self.lost += 1
                continue
            delay = spec.delay + (self.rng.uniform(-spec.jitter, spec.jitter)
                                  if spec.jitter else 0.0)
            self.at(self.now + max(delay, 1e-6),
                    lambda r=receiver, i=iface: self._arrive(r, i, frame))

    def _link(self, name: str) -> LinkSpec:
        kind = "backhaul" if name.endswith("-" + self.lma.name) else "access"
        spec = self.sc.links.get(name, self.sc.links[kind])
        for f in self.sc.faults:
            if f.start <= self.now < f.end and self._fault_matches(f, name):
                spec = LinkSpec(spec.delay if f.delay is None else f.delay, spec.jitter,
                                max(spec.loss, f.loss))
        return spec

    @staticmethod
    def _fault_matches(f: FaultSpec, name: str) -> bool:
        return f.link in ("*", name) or set(f.link.split("-")) == set(name.split("-"))

    def _route(self, sender: _Node, p: Packet) -> list[tuple[_Node, str, str]]:
        """Who receives ``p`` from ``sender``: (node, its interface, link name)."""
        if sender is self.lma:
            mag = self.mag_by_addr.get(p.dst)
            return [(self.mags[mag], BACKHAUL, f"{mag}-{self.lma.name}")] if mag else []
        if sender.name in self.mags:
            if p.iface == BACKHAUL:
                if p.dst in self.lma_addrs:
                    return [(self.lma, BACKHAUL, f"{sender.name}-{self.lma.name}")]
                return []
            out = []
            for att in self.attached.values():
                if att.mag == sender.name and att.iface == p.iface and (
                        p.mac_dst in (None, BROADCAST_MAC, att.mac)):
                    out.append((self.mns[att.mn], att.mac, f"{sender.name}-{att.mn}"))
            return out
        # an MN: to the MAG its interface is attached to
        mac = p.mac_src or sender.mac
        att = self.attached.get(mac)
        if att is None:
            return []
        return [(self.mags[att.mag], att.iface, f"{att.mag}-{att.mn}")]

    def _capture(self, node: str, t: float, frame: bytes) -> None:
        idx = self.capture_index.get(node)
        if idx is not None:
            self._seq += 1
            self.records.append((t, self._seq, idx, frame))

    def _arrive(self, receiver: _Node, iface: str, frame: bytes) -> None:
        self._capture(receiver.name, self.now, frame)
        decoded = decode_frame(LinkType.ETHERNET, frame)
        message = decoded.mh if decoded.mh is not None else decoded.dhcp
        if decoded.malformed is not None or message is None or decoded.ip is None:
            self.events.append(LoggedEvent(self.now, receiver.name, Event(
                "undecodable", None, {"reason": str(decoded.malformed)})))
            return
        self.delivered += 1
        eth = decoded.link
        packet = Packet(decoded.ip.src, decoded.ip.dst, message,
                        iface if receiver.name in self.mags else BACKHAUL,
                        decoded.udp.sport if decoded.udp else None,
                        decoded.udp.dport if decoded.udp else None,
                        eth.src if isinstance(eth, Ethernet) else None,
                        eth.dst if isinstance(eth, Ethernet) else None)
        if receiver is self.lma:
            role = "dhcp" if isinstance(message, DhcpMessage) else "lma"
            if role not in receiver.cores:
                return
        elif receiver.name in self.mags:
            role = "mag"
        else:
            role = iface  # the MN interface's MAC names its DHCP client
            packet = replace(packet, iface=receiver.cores[role].iface)
        self._handle(receiver, role, receiver.cores[role].receive(self.now, packet))

    def _mutate(self, sender: _Node, p: Packet) -> Packet:
        """Fault injection: the scenario's ``mutate`` list on a MAG's PBUs."""
        spec = self.mag_specs.get(sender.name)
        if spec is None or not spec.mutate or not isinstance(p.message, BindingUpdate):
            return p
        opts = tuple(p.message.options)
        for m in spec.mutate:
            if m == "duplicate-hoa-request":
                opts += tuple(x for x in opts if isinstance(x, o.IPv4HoARequest))
            drop = {"drop-mn-id": o.MNIdentifier, "drop-handoff-indicator":
                    o.HandoffIndicatorOpt, "drop-att": o.AccessTechnologyOpt,
                    "drop-hoa-request": o.IPv4HoARequest}.get(m)
            if drop is not None:
                opts = tuple(x for x in opts if not isinstance(x, drop))
        return replace(p, message=replace(p.message, options=opts, wire=None))


def run(scenario: Scenario) -> Result:
    return Simulation(scenario).run()


def capture_comment(scenario: Scenario) -> str:
    """The pcapng section comment of a simulated capture (names the scenario and seed)."""
    return f"pmipview simulate {scenario.name} (seed {scenario.seed})"
