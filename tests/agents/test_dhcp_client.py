"""DhcpClient core: RFC 2131 §4.4 states, driven against the DhcpServer core on a virtual clock."""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from ipaddress import IPv4Address, IPv4Network
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dissectors.dhcp import BROADCAST_FLAG, INFINITE_LEASE, DhcpMessage, decode_dhcp, encode_dhcp
from dissectors.dhcp_codes import DhcpMessageType, DhcpOp, DhcpOptionCode
from dissectors.dhcp_options import (
    DhcpAddressOption,
    DhcpClientIdOption,
    DhcpMessageTypeOption,
    DhcpUIntOption,
)
from dissectors.mh import Heartbeat
from pmipview.agents.base import ANY4, BROADCAST4, Event, Output, Packet, Send, events, sends
from pmipview.agents.dhcp_client import BROADCAST_MAC, ClientState, DhcpClient
from pmipview.agents.dhcp_server import DhcpServer
from pmipview.agents.pool import AddressPool
from tests.dissectors.test_dhcp import messages as any_messages

A = IPv4Address
T = DhcpMessageType
S = ClientState
MAC = "00:11:22:33:44:55"
MAC2 = "00:11:22:33:44:66"
SERVER_ID = A("10.10.0.1")
ROUTER = A("10.10.0.1")


def roundtrip(msg: DhcpMessage) -> None:
    """Every message a core emits must survive the codec unchanged."""
    assert decode_dhcp(encode_dhcp(msg))[0] == msg


def new_pool(network: str = "10.10.0.0/24") -> AddressPool:
    return AddressPool(IPv4Network(network), frozenset({ROUTER}))


def new_server(pool: AddressPool | None = None, **kwargs: object) -> DhcpServer:
    return DhcpServer(SERVER_ID, pool or new_pool(), router=ROUTER,
                      dns=(A("192.0.2.53"),), **kwargs)  # type: ignore[arg-type]


Core = DhcpClient | DhcpServer


@dataclass
class Net:
    """A tiny simulated link: every Send goes to the core(s) it is addressed to, at once."""

    server: DhcpServer | None
    clients: list[DhcpClient]
    now: float = 0.0
    silent: bool = False  # the server hears nothing
    log: list[tuple[float, Packet]] = field(default_factory=list)
    seen: list[tuple[float, Event]] = field(default_factory=list)

    def feed(self, outputs: Iterable[Output]) -> None:
        queue = deque(outputs)
        while queue:
            out = queue.popleft()
            if isinstance(out, Event):
                self.seen.append((self.now, out))
                continue
            packet = out.packet
            assert isinstance(packet.message, DhcpMessage)
            roundtrip(packet.message)
            self.log.append((self.now, packet))
            for core in self._targets(packet):
                queue.extend(core.receive(self.now, packet))

    def _targets(self, packet: Packet) -> list[Core]:
        if packet.dport == 67:
            return [] if self.silent or self.server is None else [self.server]
        if packet.mac_dst is None:
            return [c for c in self.clients if c.address == packet.dst]
        return [c for c in self.clients if packet.mac_dst in (BROADCAST_MAC, c.mac)]

    def cores(self) -> list[Core]:
        return [*self.clients, *([self.server] if self.server else [])]

    def advance(self, until: float) -> None:
        """Run every timer due up to ``until``, in time order, then set the clock there."""
        for _ in range(10_000):
            due = [t for c in self.cores() if (t := c.next_timer()) is not None]
            if not due or min(due) > until:
                break
            self.now = max(self.now, min(due))
            for core in self.cores():
                t = core.next_timer()
                if t is not None and t <= self.now:
                    self.feed(core.timer(self.now))
        else:
            raise AssertionError("timers do not advance")
        self.now = until

    def messages(self, kind: int | None = None) -> list[tuple[float, Packet]]:
        return [(t, p) for t, p in self.log
                if kind is None or p.message.message_type == kind]  # type: ignore[union-attr]

    def kinds(self) -> list[str]:
        return [e.kind for _, e in self.seen]

    def events(self, kind: str) -> list[tuple[float, Event]]:
        return [(t, e) for t, e in self.seen if e.kind == kind]


def bound_net(**server_kwargs: object) -> tuple[Net, DhcpClient, DhcpServer]:
    server = new_server(**server_kwargs)
    client = DhcpClient(MAC, "wlan0", hostname="mn1")
    net = Net(server, [client])
    net.feed(client.start(0.0))
    assert client.state == S.BOUND
    return net, client, server


def msg_of(packet: Packet) -> DhcpMessage:
    assert isinstance(packet.message, DhcpMessage)
    return packet.message


def codes(msg: DhcpMessage) -> list[int]:
    return [int(o.code) for o in msg.options]


# --------------------------------------------------------------------------- DORA


def test_dora_against_server() -> None:
    net, client, server = bound_net()
    (_, d), (_, o), (_, r), (_, a) = net.log
    discover, offer, request, ack = map(msg_of, (d, o, r, a))
    # DISCOVER: broadcast from 0.0.0.0, 68 -> 67, broadcast flag, no server id
    assert (d.src, d.dst, d.sport, d.dport) == (ANY4, BROADCAST4, 68, 67)
    assert (d.mac_src, d.mac_dst, d.iface) == (MAC, BROADCAST_MAC, "wlan0")
    assert discover.message_type == T.DISCOVER and discover.op == DhcpOp.BOOTREQUEST
    assert discover.broadcast and discover.ciaddr == ANY4 and discover.chaddr == MAC
    assert discover.server_id is None
    assert discover.client_id == DhcpClientIdOption.from_mac(MAC)
    assert discover.hostname == "mn1"
    assert offer.message_type == T.OFFER and offer.xid == discover.xid
    # REQUEST (SELECTING): broadcast, same xid, 50 = offered address, 54 = server id
    assert (r.src, r.dst, r.mac_dst) == (ANY4, BROADCAST4, BROADCAST_MAC)
    assert request.message_type == T.REQUEST and request.xid == discover.xid
    assert request.requested_ip == offer.yiaddr and request.server_id == SERVER_ID
    assert request.ciaddr == ANY4 and request.broadcast
    assert ack.message_type == T.ACK and ack.yiaddr == offer.yiaddr
    assert net.kinds() == ["offered", "offer", "acked", "bound"]
    bound = net.events("bound")[0][1]
    assert bound.mn == MAC
    assert bound.detail["address"] == A("10.10.0.2") == client.address
    assert bound.detail["server_id"] == SERVER_ID == client.server_id
    assert bound.detail["lease"] == 3600 == client.lease
    assert bound.detail["router"] == ROUTER and bound.detail["mtu"] == 1460
    assert bound.detail["subnet_mask"] == A("255.255.255.0") and not bound.detail["reboot"]
    assert (client.t1, client.t2, client.expiry) == (1800.0, 3150.0, 3600.0)
    assert client.next_timer() == 1800.0
    assert server.leases() == {next(iter(server.leases())): A("10.10.0.2")}


def test_t1_t2_from_options_and_defaults() -> None:
    client = DhcpClient(MAC, "wlan0")
    out = client.start(10.0)
    discover = msg_of(sends(out)[0])

    def reply(kind: T, *extra: object, xid: int = discover.xid) -> Packet:
        msg = DhcpMessage(op=DhcpOp.BOOTREPLY, xid=xid, yiaddr=A("10.0.0.9"), chaddr=MAC,
                          options=(DhcpMessageTypeOption(kind),
                                   DhcpAddressOption(DhcpOptionCode.SERVER_ID, SERVER_ID),
                                   *extra))  # type: ignore[arg-type]
        return Packet(SERVER_ID, BROADCAST4, msg, "wlan0", 67, 68)

    client.receive(11.0, reply(T.OFFER))
    client.receive(12.0, reply(T.ACK, DhcpUIntOption(DhcpOptionCode.LEASE_TIME, 100),
                               DhcpUIntOption(DhcpOptionCode.RENEWAL_TIME, 30),
                               DhcpUIntOption(DhcpOptionCode.REBINDING_TIME, 70)))
    # timed from the first message of the exchange (the DISCOVER at 10 s)
    assert (client.t1, client.t2, client.expiry) == (40.0, 80.0, 110.0)
    # inconsistent T1/T2 (T2 > lease) fall back to 0.5 / 0.875
    client.link_changed(20.0)
    client.receive(21.0, reply(T.ACK, DhcpUIntOption(DhcpOptionCode.LEASE_TIME, 100),
                               DhcpUIntOption(DhcpOptionCode.RENEWAL_TIME, 30),
                               DhcpUIntOption(DhcpOptionCode.REBINDING_TIME, 700),
                               xid=client.xid))
    assert (client.t1, client.t2, client.expiry) == (70.0, 107.5, 120.0)


def test_infinite_lease_has_no_timer() -> None:
    net, client, _ = bound_net(lease=INFINITE_LEASE)
    assert client.lease == INFINITE_LEASE and client.next_timer() is None
    ack = msg_of(net.messages(T.ACK)[0][1])
    assert DhcpOptionCode.RENEWAL_TIME not in codes(ack)


# --------------------------------------------------------------------------- RENEWING / REBINDING


def test_renewing_unicast_at_t1() -> None:
    net, client, _ = bound_net()
    net.advance(1800.0)
    (t, packet), = net.messages(T.REQUEST)[1:2]
    request = msg_of(packet)
    assert t == 1800.0
    assert (packet.src, packet.dst, packet.mac_dst) == (A("10.10.0.2"), SERVER_ID, None)
    assert request.ciaddr == A("10.10.0.2") and not request.broadcast
    assert request.requested_ip is None and request.server_id is None  # RFC 2131 Table 4
    (_, ack_packet), = net.messages(T.ACK)[1:]
    assert ack_packet.dst == A("10.10.0.2")  # ciaddr set: unicast (RFC 2131 §4.1)
    assert "renewed" in net.kinds() and client.state == S.BOUND
    assert (client.t1, client.t2, client.expiry) == (3600.0, 4950.0, 5400.0)
    assert net.events("acked")[-1][1].detail["phase"] == "renewing"


def test_silent_server_renewing_then_rebinding_then_expiry() -> None:
    net, client, _ = bound_net()
    net.silent = True
    net.advance(3599.0)
    renews = [(t, p) for t, p in net.messages(T.REQUEST)[1:] if p.dst == SERVER_ID]
    rebinds = [(t, p) for t, p in net.messages(T.REQUEST)[1:] if p.dst == BROADCAST4]
    # RFC 2131 §4.4.5: half the time left until T2 (then until expiry), at least 60 s
    assert [t for t, _ in renews] == [1800.0, 2475.0, 2812.5, 2981.25, 3065.625, 3125.625]
    assert [t for t, _ in rebinds] == [3150.0, 3375.0, 3487.5, 3547.5]
    for _, packet in rebinds:
        msg = msg_of(packet)
        assert packet.src == A("10.10.0.2") and packet.mac_dst == BROADCAST_MAC
        assert msg.ciaddr == A("10.10.0.2") and msg.requested_ip is None
        assert msg.server_id is None
    assert client.state == S.REBINDING and client.next_timer() == 3600.0
    net.advance(3600.0)
    assert net.events("expired")[0] == (3600.0, Event("expired", MAC,
                                                      {"address": A("10.10.0.2")}))
    assert client.state == S.SELECTING and client.address is None
    assert net.messages(T.DISCOVER)[-1][0] == 3600.0


def test_rebinding_answered_by_any_server() -> None:
    net, client, _ = bound_net()
    net.silent = True
    net.advance(3149.0)
    net.silent = False
    net.advance(3150.0)
    assert client.state == S.BOUND and net.kinds()[-1] == "rebound"
    assert net.events("acked")[-1][1].detail["phase"] == "rebinding"
    assert client.expiry == 3150.0 + 3600.0


# --------------------------------------------------------------------------- INIT-REBOOT


def test_init_reboot_after_link_change_acked() -> None:
    net, client, _ = bound_net()
    net.now = 100.0
    net.feed(client.link_changed(100.0))
    packet = net.messages(T.REQUEST)[-1][1]
    request = msg_of(packet)
    assert (packet.src, packet.dst) == (ANY4, BROADCAST4)
    assert request.ciaddr == ANY4 and request.requested_ip == A("10.10.0.2")
    assert request.server_id is None and request.broadcast
    assert client.state == S.BOUND and client.address == A("10.10.0.2")
    assert net.events("bound")[-1][1].detail["reboot"] is True
    assert net.events("acked")[-1][1].detail["phase"] == "init-reboot"
    assert client.expiry == 3700.0


def test_init_reboot_nak_when_server_lost_the_binding() -> None:
    net, client, _ = bound_net()
    net.server = new_server()  # another domain: no binding for this client
    net.server.pool.reserve(A("10.10.0.2"), "someone")
    net.now = 100.0
    net.feed(client.link_changed(100.0))
    nak = net.events("nak")[-1][1]
    assert nak.detail["state"] == "REBOOTING" and nak.detail["server_id"] == SERVER_ID
    assert client.state == S.INIT and client.address is None
    assert client.next_timer() == 101.0  # restart after a short delay
    net.advance(101.0)
    assert client.state == S.BOUND and client.address == A("10.10.0.3")


def test_start_with_expired_lease_discovers() -> None:
    net, client, _ = bound_net()
    net.silent = True
    out = client.link_changed(5000.0)
    assert [e.kind for e in events(out)] == ["expired"]
    assert msg_of(sends(out)[0]).message_type == T.DISCOVER


# --------------------------------------------------------------------------- retransmission


def test_retransmission_backoff_and_give_up() -> None:
    server = new_server()
    client = DhcpClient(MAC, "wlan0", rng=random.Random(7))
    net = Net(server, [client], silent=True)
    net.feed(client.start(0.0))
    net.advance(125.0)
    times = [t for t, _ in net.messages(T.DISCOVER)]
    assert len(times) == 5
    gaps = [b - a for a, b in pairwise(times)]
    for gap, base in zip(gaps, (4, 8, 16, 32), strict=True):
        assert base - 1 <= gap <= base + 1
    assert len(set(gaps)) == 4  # randomized
    xids = {msg_of(p).xid for _, p in net.messages(T.DISCOVER)}
    assert len(xids) == 1
    secs = [msg_of(p).secs for _, p in net.messages(T.DISCOVER)]
    assert secs == sorted(secs) and secs[0] == 0 and secs[-1] == int(times[-1])
    net.advance(times[-1] + 66.0)
    (t_gave_up, gave_up), = net.events("gave-up")
    assert 63 <= t_gave_up - times[-1] <= 65
    assert gave_up.detail == {"state": "SELECTING", "attempts": 5}
    assert client.state == S.INIT and client.next_timer() == t_gave_up + 60.0
    net.silent = False
    net.advance(t_gave_up + 60.0)
    assert client.state == S.BOUND
    assert msg_of(net.messages(T.DISCOVER)[-1][1]).xid not in xids


def test_retransmission_deterministic_by_default() -> None:
    def run() -> list[float]:
        net = Net(new_server(), [client := DhcpClient(MAC, "wlan0")], silent=True)
        net.feed(client.start(0.0))
        net.advance(60.0)
        return [t for t, _ in net.log]

    assert run() == run()


def test_custom_retransmit_schedule() -> None:
    client = DhcpClient(MAC, "wlan0", retransmit=(2,), max_attempts=3)
    net = Net(None, [client])
    net.feed(client.start(0.0))
    net.advance(20.0)
    times = [t for t, _ in net.messages(T.DISCOVER)]
    assert len(times) == 3 and all(1 <= b - a <= 3 for a, b in pairwise(times))
    assert len(net.events("gave-up")) == 1


def test_requesting_retransmits_then_gives_up() -> None:
    client = DhcpClient(MAC, "wlan0")
    discover = msg_of(sends(client.start(0.0))[0])
    offer = DhcpMessage(op=DhcpOp.BOOTREPLY, xid=discover.xid, yiaddr=A("10.10.0.7"),
                        chaddr=MAC, options=(
                            DhcpMessageTypeOption(T.OFFER),
                            DhcpAddressOption(DhcpOptionCode.SERVER_ID, SERVER_ID)))
    net = Net(None, [client], now=0.5)  # the server vanished after its OFFER
    net.feed(client.receive(0.5, Packet(SERVER_ID, BROADCAST4, offer, "wlan0", 67, 68)))
    assert client.state == S.REQUESTING
    net.advance(150.0)
    requests = net.messages(T.REQUEST)
    assert len(requests) == 5
    assert all(msg_of(p).xid == discover.xid for _, p in requests)
    assert net.events("gave-up")[0][1].detail["state"] == "REQUESTING"
    assert client.state == S.INIT


# --------------------------------------------------------------------------- NAK


def _offer_then(client: DhcpClient, kind: T, **fields: object) -> list[Output]:
    discover = msg_of(sends(client.start(0.0))[0])
    offer = DhcpMessage(op=DhcpOp.BOOTREPLY, xid=discover.xid, yiaddr=A("10.10.0.7"),
                        chaddr=MAC, options=(
                            DhcpMessageTypeOption(T.OFFER),
                            DhcpAddressOption(DhcpOptionCode.SERVER_ID, SERVER_ID)))
    client.receive(1.0, Packet(SERVER_ID, BROADCAST4, offer, "wlan0", 67, 68))
    reply = replace(offer, options=(DhcpMessageTypeOption(kind),
                                    DhcpAddressOption(DhcpOptionCode.SERVER_ID, SERVER_ID)),
                    **fields)  # type: ignore[arg-type]
    return client.receive(2.0, Packet(SERVER_ID, BROADCAST4, reply, "wlan0", 67, 68))


def test_nak_in_requesting_restarts() -> None:
    client = DhcpClient(MAC, "wlan0", restart_delay=3.0)
    out = _offer_then(client, T.NAK, yiaddr=ANY4)
    assert [e.kind for e in events(out)] == ["nak"] and not sends(out)
    assert client.state == S.INIT and client.next_timer() == 5.0
    out = client.timer(5.0)
    assert msg_of(sends(out)[0]).message_type == T.DISCOVER
    assert client.state == S.SELECTING


def test_nak_in_renewing() -> None:
    net, client, _ = bound_net()
    net.server = new_server()  # lost state: authoritative NAK to the renewal
    net.advance(1800.0)
    assert net.kinds()[-2:] == ["nak", "nak"]  # the server's, then the client's
    assert net.events("nak")[-1][1].detail["state"] == "RENEWING"
    assert client.state == S.INIT
    net.advance(1801.0)
    assert client.state == S.BOUND


def test_ack_without_lease_time_dropped() -> None:
    client = DhcpClient(MAC, "wlan0")
    out = _offer_then(client, T.ACK)
    assert [e.kind for e in events(out)] == ["dropped"]
    assert client.state == S.REQUESTING


# --------------------------------------------------------------------------- RELEASE / DECLINE


def test_release_frees_the_address() -> None:
    net, client, server = bound_net()
    net.now = 50.0
    net.feed(client.release(50.0))
    packet = net.log[-1][1]
    release = msg_of(packet)
    assert release.message_type == T.RELEASE
    assert (packet.src, packet.dst, packet.mac_dst) == (A("10.10.0.2"), SERVER_ID, None)
    assert release.ciaddr == A("10.10.0.2") and release.server_id == SERVER_ID
    assert net.kinds()[-2:] == ["released", "released"]
    assert server.pool.owner_of(A("10.10.0.2")) is None and not server.leases()
    assert client.state == S.INIT and client.address is None
    assert client.next_timer() is None
    assert client.link_changed(60.0) == [] and client.release(60.0) == []


def test_decline_then_new_address() -> None:
    net, client, server = bound_net()
    net.now = 1.0
    net.feed(client.decline(1.0))
    packet = net.log[-1][1]
    decline = msg_of(packet)
    assert decline.message_type == T.DECLINE and packet.dst == BROADCAST4
    assert decline.requested_ip == A("10.10.0.2") and decline.server_id == SERVER_ID
    assert decline.ciaddr == ANY4
    assert "declined" in net.kinds() and A("10.10.0.2") in server.declined
    assert client.state == S.INIT and client.next_timer() == 11.0
    net.advance(11.0)
    assert client.state == S.BOUND and client.address == A("10.10.0.3")
    assert client.decline(12.0)[0].packet.message.requested_ip == A("10.10.0.3")  # type: ignore


# --------------------------------------------------------------------------- dropped input


def test_xid_or_chaddr_mismatch_ignored() -> None:
    client = DhcpClient(MAC, "wlan0")
    discover = msg_of(sends(client.start(0.0))[0])
    offer = DhcpMessage(op=DhcpOp.BOOTREPLY, xid=discover.xid ^ 1, yiaddr=A("10.10.0.7"),
                        chaddr=MAC, options=(
                            DhcpMessageTypeOption(T.OFFER),
                            DhcpAddressOption(DhcpOptionCode.SERVER_ID, SERVER_ID)))
    for msg in (offer, replace(offer, xid=discover.xid, chaddr=MAC2)):
        out = client.receive(1.0, Packet(SERVER_ID, BROADCAST4, msg, "wlan0", 67, 68))
        assert [e.kind for e in out] == ["dropped"]  # type: ignore[union-attr]
    assert client.state == S.SELECTING
    # the right one is taken; a second OFFER (another server) is dropped in REQUESTING
    good = replace(offer, xid=discover.xid)
    assert sends(client.receive(1.0, Packet(SERVER_ID, BROADCAST4, good, "wlan0", 67, 68)))
    out = client.receive(1.1, Packet(SERVER_ID, BROADCAST4, good, "wlan0", 67, 68))
    assert [e.kind for e in out] == ["dropped"]  # type: ignore[union-attr]
    assert "not expected in REQUESTING" in out[0].detail["reason"]  # type: ignore[union-attr]


def test_two_clients_on_one_link_ignore_each_other() -> None:
    server = new_server()
    one, two = DhcpClient(MAC, "wlan0"), DhcpClient(MAC2, "wlan0", rng=random.Random(1))
    net = Net(server, [one, two])
    net.feed(one.start(0.0))
    net.feed(two.start(0.0))
    assert one.state == two.state == S.BOUND
    assert one.address != two.address
    # broadcast replies reached both; the other client dropped them by chaddr
    assert all("chaddr" in e.detail["reason"] for _, e in net.events("dropped"))


@pytest.mark.parametrize("message", [
    Heartbeat(seq=1),
    DhcpMessage(op=DhcpOp.BOOTREPLY, chaddr=MAC),  # BOOTP: no option 53
    DhcpMessage(op=DhcpOp.BOOTREQUEST, chaddr=MAC,
                options=(DhcpMessageTypeOption(T.DISCOVER),)),
    DhcpMessage(op=DhcpOp.BOOTREPLY, chaddr=MAC, options=(DhcpMessageTypeOption(99),)),
    DhcpMessage(op=DhcpOp.BOOTREPLY, chaddr=MAC,
                options=(DhcpMessageTypeOption(T.INFORM),)),
])
def test_garbage_dropped(message: object) -> None:
    client = DhcpClient(MAC, "wlan0")
    client.start(0.0)
    out = client.receive(1.0, Packet(SERVER_ID, BROADCAST4, message, "wlan0"))  # type: ignore
    assert [type(o) for o in out] == [Event] and out[0].kind == "dropped"  # type: ignore
    assert out[0].detail["reason"]  # type: ignore[union-attr]


@st.composite
def replies_for(draw: st.DrawFn, client: DhcpClient) -> DhcpMessage:
    """Random messages, often made to look like answers to ``client``."""
    msg = draw(any_messages())
    if draw(st.booleans()):
        mt = draw(st.sampled_from([T.OFFER, T.ACK, T.NAK, 0, 77]))
        msg = replace(msg, op=DhcpOp.BOOTREPLY, htype=1, hlen=6, chaddr=client.mac,
                      xid=client.xid if draw(st.booleans()) else msg.xid,
                      options=(DhcpMessageTypeOption(mt), *msg.options))
    return msg


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow],
          deadline=None)
@given(st.data())
def test_fuzz_never_raises(data: st.DataObject) -> None:
    client = DhcpClient(MAC, "wlan0")
    now = 0.0
    outs = list(client.start(now))
    for _ in range(data.draw(st.integers(1, 6))):
        now += data.draw(st.floats(0, 4000))
        outs += client.timer(now)
        msg = data.draw(replies_for(client))
        outs += client.receive(now, Packet(SERVER_ID, BROADCAST4, msg, "wlan0", 67, 68))
    for packet in sends(outs):
        roundtrip(msg_of(packet))
    assert all(isinstance(o, Send | Event) for o in outs)


# --------------------------------------------------------------------------- many clients


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.sampled_from(
    ["start", "link", "release", "decline", "wait", "silent"]),
    st.floats(0, 2500)), max_size=30))
def test_clients_never_share_an_address(steps: list[tuple[int, str, float]]) -> None:
    pool = new_pool("10.10.0.0/29")  # 5 usable addresses for 6 clients
    server = new_server(pool, lease=600)
    clients = [DhcpClient(f"00:11:22:33:44:{i:02x}", "wlan0", rng=random.Random(i))
               for i in range(6)]
    net = Net(server, clients)
    for index, action, delay in steps:
        client = clients[index]
        if action == "start":
            net.feed(client.start(net.now))
        elif action == "link":
            net.feed(client.link_changed(net.now))
        elif action == "release":
            net.feed(client.release(net.now))
        elif action == "decline":
            net.feed(client.decline(net.now))
        elif action == "silent":
            net.silent = not net.silent
        net.advance(net.now + delay)
        holding = [c.address for c in clients
                   if c.state in (S.BOUND, S.RENEWING, S.REBINDING)]
        assert len(holding) == len(set(holding))
        leased = list(server.leases().values())
        assert len(leased) == len(set(leased))
        for address in holding:
            assert address in leased
        pool.check()


def test_client_id_and_mac_forms() -> None:
    custom = DhcpClientIdOption.from_iaid_duid(1, b"\x00\x03\x00\x01" + bytes(6))
    client = DhcpClient("00-11-22-33-44-55".upper(), "eth0", client_id=custom)
    assert client.mac == MAC
    discover = msg_of(sends(client.start(0.0))[0])
    assert discover.client_id == custom
    assert discover.flags == BROADCAST_FLAG
    with pytest.raises(ValueError):
        DhcpClient("00:11", "eth0")
