"""Tests of the reference MAG (pmipview.agents.mag), playing the LMA and the MN by hand.

Every message the MAG emits (and every message built here) must round-trip through the
codecs: ``run`` checks it on each call's outputs.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dissectors.dhcp import DhcpMessage, decode_dhcp, encode_dhcp
from dissectors.dhcp_codes import DhcpMessageType, DhcpOp, DhcpOptionCode
from dissectors.dhcp_options import (
    DhcpAddressOption,
    DhcpMessageTypeOption,
    DhcpRelayAgentInfoOption,
    RelayAgentSubOption,
)
from dissectors.mh import (
    BindingAck,
    BindingRevocation,
    BindingUpdate,
    Heartbeat,
    MobilityMessage,
    decode_mh,
    encode_mh,
)
from dissectors.mh_codes import BAFlag, BRFlag, BRType, BUFlag, HBFlag
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
    MobilityOption,
    RestartCounter,
    Timestamp,
)
from pmipview.agents.base import ANY4, BACKHAUL, BROADCAST4, Output, Packet, events, sends
from pmipview.agents.mag import MAG, MAGConfig, MNPolicy
from tests.strategies import any_message

T = DhcpMessageType
LMA4 = IPv4Address("192.0.2.1")
MAG4 = IPv4Address("192.0.2.10")
LMA6 = IPv6Address("2001:db8::1")
MAG6 = IPv6Address("2001:db8::10")
MAC = "02:00:00:00:00:01"
NAI = "mn1@example.net"
HOA = IPv4Address("10.10.0.5")
ROUTER = IPv4Address("10.10.0.1")
SID = IPv4Address("10.255.0.1")  # this MAG's (domain-wide) DHCP server id
OLD_SID = IPv4Address("10.255.0.2")  # a previous MAG's server id
RELAY = IPv4Address("10.10.0.254")
SERVER = IPv4Address("192.0.2.67")
PREFIX = IPv6Address("2001:db8:1:1::")
EPOCH = 1_700_000_000.0
IFACE = "wlan0"


# --------------------------------------------------------------------------- codec checks


def roundtrip(packet: Packet) -> None:
    """The message re-encodes and decodes to itself (DHCP: also without warnings)."""
    msg = packet.message
    if isinstance(msg, DhcpMessage):
        decoded, _ = decode_dhcp(encode_dhcp(msg))
        assert decoded == msg
        assert decoded.warnings == ()
        return
    if isinstance(packet.src, IPv6Address) and isinstance(packet.dst, IPv6Address):
        wire = encode_mh(msg, packet.src, packet.dst)
        decoded6, _ = decode_mh(wire, pseudo=packet.src.packed + packet.dst.packed)
        assert decoded6 == msg
        assert decoded6.wire is not None and decoded6.wire.checksum_ok
        return
    decoded4, _ = decode_mh(encode_mh(msg))
    assert decoded4 == msg


def run(outputs: list[Output]) -> list[Output]:
    for packet in sends(outputs):
        roundtrip(packet)
    for event in events(outputs, "dropped"):
        assert "internal error" not in event.detail["reason"], event
    return outputs


def kinds(outputs: list[Output]) -> list[str]:
    return [e.kind for e in events(outputs)]


def only_send(outputs: list[Output]) -> Packet:
    packets = sends(outputs)
    assert len(packets) == 1, outputs
    return packets[0]


# --------------------------------------------------------------------------- fixtures


def make(policy: MNPolicy | None = None, **kw: object) -> MAG:
    base: dict[str, object] = {
        "name": "mag1", "lma": LMA4, "ipv4": MAG4, "dhcp_server_id": SID, "epoch": EPOCH,
        "profiles": {MAC: policy or MNPolicy(NAI)},
    }
    base.update(kw)
    return MAG(MAGConfig(**base))  # type: ignore[arg-type]


def relay(order: str = "rfc5844", **kw: object) -> MAG:
    return make(dhcp_mode="relay", relay_address=RELAY, dhcp_server=SERVER, relay_order=order,
                **kw)


# --------------------------------------------------------------------------- the LMA by hand


def pba(pbu: BindingUpdate, status: int = 0, *, hoa: IPv4Address | None = HOA, plen: int = 24,
        hoa_status: int = 0, router: IPv4Address | None = ROUTER, lifetime: int | None = None,
        seq: int | None = None, mode_s: bool = True, src: IPv4Address = LMA4) -> Packet:
    """The PBA an LMA would answer ``pbu`` with (RFC 5213 §5.3.5, RFC 5844 §3.1.3)."""
    opts: list[MobilityOption] = []
    for opt in pbu.options:
        if isinstance(opt, HomeNetworkPrefix):
            opts.append(HomeNetworkPrefix(PREFIX, 64) if opt.prefix_len == 0 else opt)
        elif isinstance(opt, MNIdentifier | HandoffIndicatorOpt | AccessTechnologyOpt
                        | Timestamp | MNLinkLayerId):
            opts.append(opt)
    req = pbu.hoa_request
    if req is not None:
        address = hoa if hoa is not None and status < 128 and hoa_status < 128 else req.address
        opts.append(IPv4HoAReply(hoa_status, address, plen if hoa_status < 128 else 0))
        if status < 128 and hoa_status < 128 and router is not None:
            opts.append(IPv4DefaultRouter(router))
            opts.append(IPv4DHCPSupportMode(mode_s))
    units = pbu.lifetime if lifetime is None else lifetime // 4
    msg = BindingAck(status, pbu.seq if seq is None else seq, BAFlag.P,
                     units if status < 128 else 0, tuple(opts))
    packet = Packet(src=src, dst=MAG4, message=msg, sport=5436, dport=5436)
    roundtrip(packet)
    return packet


def pbu_of(outputs: list[Output]) -> BindingUpdate:
    msgs = [p.message for p in sends(outputs) if isinstance(p.message, BindingUpdate)]
    assert len(msgs) == 1, outputs
    return msgs[0]


def mh(msg: MobilityMessage) -> Packet:
    packet = Packet(src=LMA4, dst=MAG4, message=msg, sport=5436, dport=5436)
    roundtrip(packet)
    return packet


# --------------------------------------------------------------------------- the MN by hand


def client(mtype: DhcpMessageType, *, xid: int = 0x1234, ciaddr: IPv4Address = ANY4,
           requested: IPv4Address | None = None, server_id: IPv4Address | None = None,
           broadcast: bool = True, mac: str = MAC) -> DhcpMessage:
    opts: list = [DhcpMessageTypeOption(mtype)]
    if requested is not None:
        opts.append(DhcpAddressOption(DhcpOptionCode.REQUESTED_IP, requested))
    if server_id is not None:
        opts.append(DhcpAddressOption(DhcpOptionCode.SERVER_ID, server_id))
    return DhcpMessage(xid=xid, flags=0x8000 if broadcast else 0, ciaddr=ciaddr, chaddr=mac,
                       options=tuple(opts))


def from_mn(msg: DhcpMessage, dst: IPv4Address = BROADCAST4, iface: str = IFACE) -> Packet:
    src = msg.ciaddr
    packet = Packet(src=src, dst=dst, message=msg, iface=iface, sport=68, dport=67,
                    mac_src=msg.chaddr,
                    mac_dst="ff:ff:ff:ff:ff:ff" if dst == BROADCAST4 else "02:00:00:00:0a:01")
    roundtrip(packet)
    return packet


def server_reply(relayed: DhcpMessage, mtype: DhcpMessageType, yiaddr: IPv4Address = HOA,
                 mask: str = "255.255.255.0") -> Packet:
    """What the DHCP server at the LMA answers a relayed request with (option 82 echoed)."""
    opts: list = [DhcpMessageTypeOption(mtype),
                  DhcpAddressOption(DhcpOptionCode.SERVER_ID, SERVER)]
    if mtype != T.NAK:
        opts.append(DhcpAddressOption(DhcpOptionCode.SUBNET_MASK, IPv4Address(mask)))
    rai = relayed.relay_agent_info
    if rai is not None:
        opts.append(rai)
    msg = DhcpMessage(op=DhcpOp.BOOTREPLY, xid=relayed.xid, flags=relayed.flags,
                      yiaddr=yiaddr if mtype != T.NAK else ANY4, giaddr=relayed.giaddr,
                      chaddr=relayed.chaddr, options=tuple(opts))
    packet = Packet(src=SERVER, dst=relayed.giaddr, message=msg, iface=BACKHAUL, sport=67,
                    dport=67)
    roundtrip(packet)
    return packet


def dhcp_out(outputs: list[Output]) -> DhcpMessage:
    msg = only_send(outputs).message
    assert isinstance(msg, DhcpMessage)
    return msg


def attach_server(mag: MAG, now: float = 0.0) -> None:
    """Run a whole server-mode attachment up to BOUND."""
    pbu = pbu_of(run(mag.receive(now, from_mn(client(T.DISCOVER)))))
    run(mag.receive(now + 0.1, pba(pbu)))
    run(mag.receive(now + 0.2, from_mn(client(T.REQUEST, requested=HOA, server_id=SID))))


# =========================================================================== server mode


def test_server_attach_discover_held_then_offer_request_ack() -> None:
    mag = make()
    out = run(mag.receive(5.0, from_mn(client(T.DISCOVER))))
    assert kinds(out) == ["pbu-sent"]
    packet = only_send(out)
    assert (packet.src, packet.dst, packet.sport, packet.dport) == (MAG4, LMA4, 5436, 5436)
    assert packet.iface == BACKHAUL
    pbu = packet.message
    assert isinstance(pbu, BindingUpdate)
    assert pbu.flags == BUFlag.A | BUFlag.P
    assert pbu.lifetime_s == 3600
    assert pbu.mn_id == NAI
    assert pbu.handoff_indicator == 1
    assert pbu.option(AccessTechnologyOpt) == AccessTechnologyOpt(4)
    assert pbu.timestamp == Timestamp.at(EPOCH + 5.0)
    assert pbu.mn_lli == MAC
    assert pbu.hoa_request == IPv4HoARequest(ANY4, 0)
    assert pbu.hnps == []  # IPv4-only MN: no HNP
    snap = mag.bindings()[0]
    assert (snap.state, snap.dhcp_state, snap.dhcp_held) == ("pending", "held", "DISCOVER")

    out = run(mag.receive(5.2, pba(pbu)))
    assert kinds(out) == ["registered", "offer"]
    offer_packet = only_send(out)
    offer = offer_packet.message
    assert isinstance(offer, DhcpMessage)
    assert offer.message_type == T.OFFER and offer.op == DhcpOp.BOOTREPLY
    assert offer.yiaddr == HOA and offer.xid == 0x1234
    assert offer.subnet_mask == IPv4Address("255.255.255.0")
    assert offer.routers == (ROUTER,)
    assert offer.mtu == 1460
    assert offer.server_id == SID
    assert offer.lease_time == 3600
    assert offer.option(DhcpOptionCode.DNS) is None
    assert (offer_packet.src, offer_packet.dst) == (SID, BROADCAST4)
    assert (offer_packet.sport, offer_packet.dport, offer_packet.iface) == (67, 68, IFACE)

    out = run(mag.receive(5.4, from_mn(client(T.REQUEST, requested=HOA, server_id=SID))))
    assert kinds(out) == ["ack"]
    ack = dhcp_out(out)
    assert ack.message_type == T.ACK and ack.yiaddr == HOA and ack.routers == (ROUTER,)
    snap = mag.bindings()[0]
    assert (snap.state, snap.dhcp_state, snap.ipv4_hoa, snap.ipv4_prefix_len) == (
        "registered", "bound", HOA, 24)
    assert (snap.default_router, snap.lma_dhcp_mode, snap.lifetime) == (ROUTER, "server", 3600)


def test_server_link_up_registers_and_discover_waits_for_the_same_pba() -> None:
    mag = make(dns=(IPv4Address("9.9.9.9"),))
    pbu = pbu_of(run(mag.link_up(0.0, MAC, IFACE)))
    assert pbu.handoff_indicator == 1 and pbu.hoa_request == IPv4HoARequest(ANY4, 0)
    out = run(mag.receive(0.1, from_mn(client(T.DISCOVER))))
    assert out == []  # held: the PBU already in flight covers it
    out = run(mag.receive(0.2, pba(pbu)))
    offer = dhcp_out(out)
    assert offer.dns_servers == (IPv4Address("9.9.9.9"),)
    # A second DISCOVER (the MN retried) is answered at once.
    assert kinds(run(mag.receive(0.3, from_mn(client(T.DISCOVER, xid=9))))) == ["offer"]


def test_server_id_defaults_to_the_default_router_and_unicast_offer() -> None:
    mag = make(dhcp_server_id=None)
    pbu = pbu_of(run(mag.receive(0.0, from_mn(client(T.DISCOVER, broadcast=False)))))
    packet = only_send(run(mag.receive(0.1, pba(pbu))))
    offer = packet.message
    assert offer.server_id == ROUTER
    assert (packet.src, packet.dst, packet.mac_dst) == (ROUTER, HOA, MAC)


def test_selecting_request_for_another_address_is_naked() -> None:
    mag = make()
    attach_server(mag)
    out = run(mag.receive(1.0, from_mn(client(T.REQUEST, requested=IPv4Address("10.10.0.9"),
                                                   server_id=SID))))
    assert kinds(out) == ["nak"]
    nak_packet = only_send(out)
    assert nak_packet.message.message_type == T.NAK and nak_packet.dst == BROADCAST4
    assert nak_packet.message.server_id == SID


def test_ipv6_transport_and_ipv6_prefix_request() -> None:
    mag = make(MNPolicy(NAI, ipv6=True), lma=LMA6, ipv6=MAG6, ipv4=None)
    packet = only_send(run(mag.link_up(0.0, MAC, IFACE)))
    assert (packet.src, packet.dst, packet.sport, packet.dport) == (MAG6, LMA6, None, None)
    pbu = packet.message
    assert pbu.hnps == [HomeNetworkPrefix(IPv6Address(0), 0)]
    assert pbu.hoa_request == IPv4HoARequest(ANY4, 0)
    reply = Packet(src=LMA6, dst=MAG6, message=pba(pbu).message)
    roundtrip(reply)
    out = run(mag.receive(0.1, reply))
    assert kinds(out) == ["registered"]
    assert mag.bindings()[0].hnps == (f"{PREFIX}/64",)


# =========================================================================== relay mode


def test_relay_rfc5844_pbu_first_then_relayed_with_remote_id() -> None:
    mag = relay()
    pbu = pbu_of(run(mag.link_up(0.0, MAC, IFACE)))
    assert pbu.hoa_request == IPv4HoARequest(ANY4, 0)
    assert run(mag.receive(0.1, from_mn(client(T.DISCOVER)))) == []  # held for the PBA
    out = run(mag.receive(0.2, pba(pbu, mode_s=False)))
    assert kinds(out) == ["registered", "relayed"]
    up = only_send(out)
    assert (up.src, up.dst, up.sport, up.dport, up.iface) == (RELAY, SERVER, 67, 67, BACKHAUL)
    discover = up.message
    assert discover.message_type == T.DISCOVER
    assert (discover.giaddr, discover.hops) == (RELAY, 1)
    assert discover.options[-1].code == DhcpOptionCode.RELAY_AGENT_INFO  # added last
    rai = discover.relay_agent_info
    assert rai.circuit_id == IFACE.encode()
    assert rai.remote_id == HOA.packed and discover.remote_id_ipv4 == HOA

    out = run(mag.receive(0.3, server_reply(discover, T.OFFER)))
    assert kinds(out) == ["relayed"]
    down = only_send(out)
    offer = down.message
    assert offer.relay_agent_info is None and offer.yiaddr == HOA
    assert (down.src, down.dst, down.sport, down.dport, down.iface) == (
        RELAY, BROADCAST4, 67, 68, IFACE)

    out = run(mag.receive(0.4, from_mn(client(T.REQUEST, requested=HOA, server_id=SERVER))))
    request = dhcp_out(out)
    assert request.remote_id_ipv4 == HOA and request.giaddr == RELAY
    out = run(mag.receive(0.5, server_reply(request, T.ACK)))
    assert dhcp_out(out).message_type == T.ACK
    assert mag.bindings()[0].dhcp_state == "bound"


def test_relay_offer_with_another_address_is_dropped() -> None:
    mag = relay()
    pbu = pbu_of(run(mag.receive(0.0, from_mn(client(T.DISCOVER)))))
    discover = dhcp_out(run(mag.receive(0.1, pba(pbu))))
    out = run(mag.receive(0.2, server_reply(discover, T.OFFER, IPv4Address("10.10.0.99"))))
    assert sends(out) == []
    (event,) = events(out)
    assert event.kind == "offer-mismatch"
    assert event.detail["yiaddr"] == "10.10.0.99" and event.detail["hoa"] == str(HOA)


def test_relay_draft_order_dhcp_first_then_pbu_with_yiaddr() -> None:
    mag = relay("draft")
    assert run(mag.link_up(0.0, MAC, IFACE)) == []  # IPv4-only MN, no HoA known: wait
    out = run(mag.receive(0.1, from_mn(client(T.DISCOVER))))
    discover = dhcp_out(out)
    assert discover.giaddr == RELAY and discover.relay_agent_info.remote_id is None
    allocated = IPv4Address("10.20.0.7")
    out = run(mag.receive(0.2, server_reply(discover, T.OFFER, allocated, "255.255.0.0")))
    assert dhcp_out(out).yiaddr == allocated  # no HoA to check against yet
    request = dhcp_out(run(mag.receive(0.3, from_mn(
        client(T.REQUEST, requested=allocated, server_id=SERVER)))))
    out = run(mag.receive(0.4, server_reply(request, T.ACK, allocated, "255.255.0.0")))
    assert kinds(out) == ["relayed", "pbu-sent"]
    ack_packet, pbu_packet = sends(out)
    assert ack_packet.message.message_type == T.ACK and ack_packet.iface == IFACE
    pbu = pbu_packet.message
    assert pbu.hoa_request == IPv4HoARequest(allocated, 16)
    assert pbu.handoff_indicator == 1
    out = run(mag.receive(0.5, pba(pbu, hoa=allocated, plen=16, mode_s=False)))
    assert kinds(out) == ["registered"]
    assert mag.bindings()[0].ipv4_hoa == allocated


def test_relay_intercepts_unicast_renewal_and_release() -> None:
    mag = relay()
    pbu = pbu_of(run(mag.link_up(0.0, MAC, IFACE)))
    run(mag.receive(0.1, pba(pbu)))
    renew = client(T.REQUEST, ciaddr=HOA, broadcast=False)
    out = run(mag.receive(1.0, from_mn(renew, dst=SERVER)))
    assert kinds(out) == ["intercepted", "relayed"]
    assert dhcp_out(out).remote_id_ipv4 == HOA
    # A unicast REQUEST for another address is dropped (RFC 5844 §3.4.2).
    bad = client(T.REQUEST, ciaddr=IPv4Address("10.10.0.77"), broadcast=False)
    assert kinds(run(mag.receive(1.1, from_mn(bad, dst=SERVER)))) == ["dropped"]
    release = client(T.RELEASE, ciaddr=HOA, broadcast=False)
    out = run(mag.receive(2.0, from_mn(release, dst=SERVER)))
    assert kinds(out) == ["intercepted", "relayed", "pbu-sent"]
    dereg = pbu_of(out)
    assert dereg.lifetime == 0 and dereg.hoa_request == IPv4HoARequest(HOA, 24)


# =========================================================================== handover


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({}, 1), ({"handover": True}, 3), ({"previous_mag": "mag0"}, 3), ({"handover": None}, 4),
    ({"hi": 2}, 2),
])
def test_handoff_indicator_choice(kwargs: dict, expected: int) -> None:
    pbu = pbu_of(run(make().link_up(0.0, MAC, IFACE, **kwargs)))
    assert pbu.handoff_indicator == expected


def test_handover_pbu_hi3_with_known_hoa_and_init_reboot_ack() -> None:
    mag = make(MNPolicy(NAI, static_hoa=HOA, static_prefix_len=24))
    pbu = pbu_of(run(mag.link_up(0.0, MAC, IFACE, previous_mag="mag0")))
    assert pbu.handoff_indicator == 3
    assert pbu.hoa_request == IPv4HoARequest(HOA, 24)
    init_reboot = client(T.REQUEST, requested=HOA)
    assert run(mag.receive(0.05, from_mn(init_reboot))) == []  # held until the PBA
    out = run(mag.receive(0.1, pba(pbu)))
    assert kinds(out) == ["registered", "ack"]
    assert events(out, "ack")[0].detail["state"] == "init-reboot"
    assert dhcp_out(out).yiaddr == HOA


def test_handover_init_reboot_naked_when_the_pba_gives_another_address() -> None:
    mag = make()
    pbu = pbu_of(run(mag.link_up(0.0, MAC, IFACE, handover=True)))
    assert pbu.hoa_request == IPv4HoARequest(ANY4, 0)  # nothing known: ask
    run(mag.receive(0.05, from_mn(client(T.REQUEST, requested=IPv4Address("10.9.9.9")))))
    out = run(mag.receive(0.1, pba(pbu)))
    assert kinds(out) == ["registered", "nak"]
    assert dhcp_out(out).message_type == T.NAK


def test_handover_hoa_hint_from_the_caller() -> None:
    pbu = pbu_of(run(make().link_up(0.0, MAC, IFACE, handover=True, hoa=HOA)))
    assert pbu.hoa_request == IPv4HoARequest(HOA, 32)


@pytest.mark.parametrize("policy", ["same", "rebind"])
def test_unicast_renewal_to_a_previous_mags_server_id(policy: str) -> None:
    mag = make(server_id_policy=policy)
    attach_server(mag)
    renew = from_mn(client(T.REQUEST, ciaddr=HOA, broadcast=False), dst=OLD_SID)
    out = run(mag.receive(1800.0, renew))
    intercepted = events(out, "intercepted")[0]
    assert intercepted.detail["to"] == str(OLD_SID)
    if policy == "same":
        assert intercepted.detail["action"] == "answered"
        packet = only_send(out)
        ack = packet.message
        assert ack.message_type == T.ACK and ack.server_id == SID and ack.ciaddr == HOA
        assert (packet.dst, packet.mac_dst) == (HOA, MAC)
        return
    assert intercepted.detail["action"] == "ignored"
    assert sends(out) == []
    assert mag.bindings()[0].dhcp_state == "forced-rebinding"
    # T2: the client broadcasts a REBINDING REQUEST, which this MAG answers.
    out = run(mag.receive(3150.0, from_mn(client(T.REQUEST, ciaddr=HOA))))
    assert kinds(out) == ["ack"]
    assert events(out)[0].detail["state"] == "rebinding"
    assert dhcp_out(out).server_id == SID


def test_renewal_to_own_server_id() -> None:
    mag = make(server_id_policy="rebind")
    attach_server(mag)
    out = run(mag.receive(1800.0, from_mn(client(T.REQUEST, ciaddr=HOA, broadcast=False),
                                          dst=SID)))
    assert kinds(out) == ["ack"]
    wrong = client(T.REQUEST, ciaddr=IPv4Address("10.10.0.8"), broadcast=False)
    assert kinds(run(mag.receive(1801.0, from_mn(wrong, dst=SID)))) == ["nak"]


# =========================================================================== de-registration


def test_release_sends_selective_ipv4_deregistration() -> None:
    mag = make(MNPolicy(NAI, ipv6=True))
    pbu = pbu_of(run(mag.receive(0.0, from_mn(client(T.DISCOVER)))))
    assert pbu.hnps == [HomeNetworkPrefix(IPv6Address(0), 0)]
    run(mag.receive(0.1, pba(pbu)))
    run(mag.receive(0.2, from_mn(client(T.REQUEST, requested=HOA, server_id=SID))))
    release = from_mn(client(T.RELEASE, ciaddr=HOA, broadcast=False), dst=SID)
    out = run(mag.receive(10.0, release))
    assert kinds(out) == ["pbu-sent"]
    dereg = pbu_of(out)
    assert dereg.lifetime == 0
    assert dereg.handoff_indicator == 4
    assert dereg.hnps == []  # IPv6 stays
    assert dereg.hoa_request == IPv4HoARequest(HOA, 24)
    assert mag.bindings()[0].state == "deregistering"
    out = run(mag.receive(10.1, pba(dereg, lifetime=0)))
    assert kinds(out) == ["deregistered"]
    assert events(out)[0].detail["scope"] == "ipv4"
    snap = mag.bindings()[0]
    assert (snap.state, snap.ipv4_hoa, snap.hnps) == ("registered", None, (f"{PREFIX}/64",))


def test_release_of_another_address_is_dropped() -> None:
    mag = make()
    attach_server(mag)
    release = from_mn(client(T.RELEASE, ciaddr=IPv4Address("10.10.0.8")), dst=SID)
    assert kinds(run(mag.receive(1.0, release))) == ["dropped"]


def test_detach_deregisters() -> None:
    mag = make(MNPolicy(NAI, ipv6=True))
    attach_server(mag)
    out = run(mag.detach(50.0, MAC))
    dereg = pbu_of(out)
    assert dereg.lifetime == 0 and dereg.handoff_indicator == 4
    assert dereg.hnps == [HomeNetworkPrefix(PREFIX, 64)]
    assert dereg.hoa_request == IPv4HoARequest(HOA, 24)
    assert dereg.timestamp == Timestamp.at(EPOCH + 50.0)
    out = run(mag.receive(50.1, pba(dereg, lifetime=0)))
    assert kinds(out) == ["deregistered"]
    assert mag.bindings() == [] and mag.next_timer() is None


def test_link_down_without_binding_and_of_unknown_mn() -> None:
    mag = make(register_on_link_up=False)
    assert run(mag.link_up(0.0, MAC, IFACE)) == []
    out = run(mag.link_down(1.0, MAC))
    assert kinds(out) == ["deregistered"] and sends(out) == []
    assert kinds(run(mag.link_down(2.0, MAC))) == ["dropped"]


# =========================================================================== timers


def test_reregistration_timing_hi5() -> None:
    mag = make(lifetime=600, reregister_before=60)
    pbu = pbu_of(run(mag.link_up(0.0, MAC, IFACE)))
    assert pbu.lifetime_s == 600
    assert mag.next_timer() == 1.0  # retransmission deadline while pending
    run(mag.receive(0.5, pba(pbu)))
    assert mag.next_timer() == 0.5 + 540
    assert run(mag.timer(500.0)) == []
    out = run(mag.timer(540.5))
    refresh = pbu_of(out)
    assert refresh.handoff_indicator == 5
    assert refresh.hoa_request == IPv4HoARequest(HOA, 24)
    assert refresh.seq != pbu.seq
    # The LMA grants less than asked: re-register at half of the granted lifetime.
    out = run(mag.receive(541.0, pba(refresh, lifetime=100)))
    assert kinds(out) == ["refreshed"]
    assert mag.bindings()[0].lifetime == 100
    assert mag.next_timer() == 541.0 + 50


def test_retransmission_backoff_new_sequence_numbers_and_give_up() -> None:
    mag = make()
    pbu = pbu_of(run(mag.receive(0.0, from_mn(client(T.REQUEST, requested=HOA)))))
    seqs = [pbu.seq]
    assert mag.next_timer() == 1.0
    assert run(mag.timer(0.9)) == []
    for at, nxt in ((1.0, 3.0), (3.0, 7.0), (7.0, 15.0)):
        out = run(mag.timer(at))
        again = pbu_of(out)
        assert kinds(out) == ["retransmit"]
        assert events(out)[0].detail["previous"] == seqs[-1]
        assert again.seq == seqs[-1] + 1
        assert again.timestamp == Timestamp.at(EPOCH + at)
        assert again.hoa_request == pbu.hoa_request
        seqs.append(again.seq)
        assert mag.next_timer() == nxt
    # A late PBA for an abandoned sequence number is not taken.
    assert kinds(run(mag.receive(8.0, pba(pbu)))) == ["dropped"]
    out = run(mag.timer(15.0))
    assert kinds(out) == ["gave-up", "nak"]  # the held REQUEST is refused
    assert mag.bindings()[0].state == "idle"
    assert mag.next_timer() is None


def test_retransmitted_pbu_answered() -> None:
    mag = make()
    run(mag.receive(0.0, from_mn(client(T.DISCOVER))))
    again = pbu_of(run(mag.timer(1.0)))
    assert kinds(run(mag.receive(1.2, pba(again)))) == ["registered", "offer"]


def test_give_up_withholds_a_discover() -> None:
    mag = make(retransmit=(1.0,), max_retransmissions=1)
    run(mag.receive(0.0, from_mn(client(T.DISCOVER))))
    run(mag.timer(1.0))
    assert kinds(run(mag.timer(2.0))) == ["gave-up"]


# =========================================================================== rejections


def test_status_170_stops_ipv4_requests() -> None:
    mag = make()
    pbu = pbu_of(run(mag.receive(0.0, from_mn(client(T.DISCOVER)))))
    out = run(mag.receive(0.1, pba(pbu, 170, hoa_status=129)))
    assert kinds(out) == ["rejected", "no-ipv4-service"]
    rejected = events(out)[0].detail
    assert rejected["status"] == 170
    assert rejected["name"] == "NOT_AUTHORIZED_FOR_IPV4_MOBILITY_SERVICE"
    assert rejected["hoa_status"] == 129
    assert sends(out) == []  # no OFFER, no new PBU
    out = run(mag.receive(5.0, from_mn(client(T.DISCOVER))))
    assert kinds(out) == ["no-ipv4-service"] and sends(out) == []
    out = run(mag.receive(6.0, from_mn(client(T.REQUEST, requested=HOA))))
    assert kinds(out) == ["nak"]
    mag.allow_ipv4(NAI)
    assert kinds(run(mag.receive(7.0, from_mn(client(T.DISCOVER))))) == ["pbu-sent"]


def test_status_170_retries_ipv6_only() -> None:
    mag = make(MNPolicy(NAI, ipv6=True))
    pbu = pbu_of(run(mag.link_up(0.0, MAC, IFACE)))
    out = run(mag.receive(0.1, pba(pbu, 170)))
    assert kinds(out) == ["rejected", "no-ipv4-service", "pbu-sent"]
    retry = pbu_of(out)
    assert retry.hoa_request is None and len(retry.hnps) == 1
    assert retry.handoff_indicator == 1
    assert kinds(run(mag.receive(0.2, pba(retry)))) == ["registered"]
    assert mag.bindings()[0].ipv4_hoa is None


def test_status_171_retries_once_with_zero_address() -> None:
    mag = make(MNPolicy(NAI, static_hoa=IPv4Address("10.10.0.200"), static_prefix_len=24))
    pbu = pbu_of(run(mag.receive(0.0, from_mn(client(T.DISCOVER)))))
    assert pbu.hoa_request == IPv4HoARequest(IPv4Address("10.10.0.200"), 24)
    out = run(mag.receive(0.1, pba(pbu, 171, hoa_status=129)))
    assert kinds(out) == ["rejected", "pbu-sent"]
    retry = pbu_of(out)
    assert retry.hoa_request == IPv4HoARequest(ANY4, 0) and retry.seq == pbu.seq + 1
    assert kinds(run(mag.receive(0.2, pba(retry)))) == ["registered", "offer"]


def test_status_171_not_retried_twice() -> None:
    mag = make(MNPolicy(NAI, static_hoa=IPv4Address("10.10.0.200")))
    pbu = pbu_of(run(mag.receive(0.0, from_mn(client(T.REQUEST, requested=HOA)))))
    retry = pbu_of(run(mag.receive(0.1, pba(pbu, 171))))
    out = run(mag.receive(0.2, pba(retry, 171)))
    assert kinds(out) == ["rejected", "no-ipv4-service", "nak"]


def test_hoa_reply_132_in_an_accepted_pba() -> None:
    mag = make(MNPolicy(NAI, ipv6=True))
    pbu = pbu_of(run(mag.receive(0.0, from_mn(client(T.DISCOVER)))))
    out = run(mag.receive(0.1, pba(pbu, 0, hoa_status=132)))
    assert kinds(out) == ["registered", "rejected", "no-ipv4-service"]
    rejected = events(out, "rejected")[0].detail
    assert (rejected["status"], rejected["hoa_status"], rejected["scope"]) == (0, 132, "ipv4")
    assert rejected["hoa_status_name"] == "Dynamic IPv4 home address assignment not available"
    assert sends(out) == []  # MUST NOT offer
    snap = mag.bindings()[0]
    assert (snap.state, snap.ipv4_hoa, snap.ipv4_denied) == ("registered", None, True)
    out = run(mag.receive(1.0, from_mn(client(T.DISCOVER))))
    assert kinds(out) == ["no-ipv4-service"] and sends(out) == []


def test_rejected_pba_with_hoa_reply_failure() -> None:
    mag = make()
    pbu = pbu_of(run(mag.receive(0.0, from_mn(client(T.DISCOVER)))))
    out = run(mag.receive(0.1, pba(pbu, 130, hoa_status=132)))
    assert kinds(out) == ["rejected", "no-ipv4-service"]
    detail = events(out)[0].detail
    assert (detail["status"], detail["name"], detail["hoa_status"]) == (
        130, "Insufficient resources", 132)
    assert sends(out) == [] and mag.bindings()[0].state == "idle"
    # The MN's next DISCOVER tries again.
    assert kinds(run(mag.receive(4.0, from_mn(client(T.DISCOVER))))) == ["pbu-sent"]


def test_accepted_pba_without_default_router_gives_no_ipv4() -> None:
    mag = make()
    pbu = pbu_of(run(mag.receive(0.0, from_mn(client(T.DISCOVER)))))
    out = run(mag.receive(0.1, pba(pbu, router=None)))
    assert kinds(out) == ["rejected", "no-ipv4-service"] and sends(out) == []


# =========================================================================== BRI, heartbeat


def test_bri_answered_with_bra_and_binding_dropped() -> None:
    mag = make()
    attach_server(mag)
    bri = BindingRevocation(BRType.BRI, 2, 77, BRFlag.P, (MNIdentifier.nai(NAI),))
    out = run(mag.receive(9.0, mh(bri)))
    assert kinds(out) == ["revoked"]
    packet = only_send(out)
    bra = packet.message
    assert isinstance(bra, BindingRevocation)
    assert (bra.br_type, bra.code, bra.seq, bra.flags) == (BRType.BRA, 0, 77, BRFlag.P)
    assert (packet.dst, packet.sport, packet.dport) == (LMA4, 5436, 5436)
    assert events(out)[0].detail["trigger"] == 2
    assert mag.bindings() == [] and mag.next_timer() is None
    # Unknown MN: BRA "Binding Does NOT Exist".
    out = run(mag.receive(9.5, mh(bri)))
    assert only_send(out).message.code == 128 and kinds(out) == []


def test_bri_ipv4_only_revocation() -> None:
    mag = make(MNPolicy(NAI, ipv6=True))
    attach_server(mag)
    bri = BindingRevocation(BRType.BRI, 1, 5, BRFlag.P | BRFlag.V,
                            (MNIdentifier.nai(NAI), IPv4HoARequest(HOA, 24)))
    out = run(mag.receive(9.0, mh(bri)))
    assert events(out)[0].detail["scope"] == "ipv4"
    snap = mag.bindings()[0]
    assert (snap.state, snap.ipv4_hoa) == ("registered", None)


def test_heartbeat_response() -> None:
    mag = make(restart_counter=3)
    packet = only_send(run(mag.receive(1.0, mh(Heartbeat(0x01020304, 0)))))
    hb = packet.message
    assert isinstance(hb, Heartbeat) and hb.response and not hb.unsolicited
    assert hb.seq == 0x01020304 and hb.flags == HBFlag.R
    assert hb.option(RestartCounter) == RestartCounter(3)
    assert (packet.src, packet.dst, packet.sport, packet.dport) == (MAG4, LMA4, 5436, 5436)


# =========================================================================== robustness


def test_garbage_inputs_are_dropped() -> None:
    mag = make()
    pbu = pbu_of(run(mag.link_up(0.0, MAC, IFACE)))
    junk: list = [
        "not a packet",
        Packet(src=LMA4, dst=MAG4, message=b"junk"),  # type: ignore[arg-type]
        pba(pbu, seq=pbu.seq + 100),  # unexpected sequence
        pba(pbu, src=IPv4Address("192.0.2.99")),  # not our LMA
        mh(BindingUpdate(1, BUFlag.A | BUFlag.P, 10)),
        mh(Heartbeat(1, HBFlag.R)),
        mh(BindingRevocation(BRType.BRA, 0, 1)),
        from_mn(client(T.DISCOVER, mac="02:00:00:00:00:99")),  # no profile
        from_mn(DhcpMessage(chaddr=MAC)),  # BOOTP, no message type
        from_mn(client(T.INFORM, ciaddr=HOA)),
        Packet(src=SERVER, dst=RELAY, message=DhcpMessage(op=DhcpOp.BOOTREPLY, chaddr=MAC),
               iface=IFACE),
        Packet(src=SERVER, dst=MAG4, message=client(T.DISCOVER), iface=BACKHAUL),
        from_mn(client(T.REQUEST)),  # no ciaddr, no requested IP, no server id
    ]
    for i, item in enumerate(junk):
        out = run(mag.receive(0.1 + i / 100, item))
        assert kinds(out) == ["dropped"], (item, out)
        assert sends(out) == []
    assert kinds(run(mag.link_up(0.2, "not-a-mac", IFACE))) == ["dropped"]
    assert kinds(run(mag.link_up(0.2, "02:00:00:00:00:99", IFACE))) == ["dropped"]
    assert kinds(run(mag.link_down(0.2, "zz"))) == ["dropped"]
    # The pending registration is untouched.
    assert kinds(run(mag.receive(1.0 - 0.01, pba(pbu)))) == ["registered"]


def test_unknown_mac_uses_the_default_policy() -> None:
    mag = make(default_policy=MNPolicy("{mac}@guest.example"))
    pbu = pbu_of(run(mag.receive(0.0, from_mn(client(T.DISCOVER, mac="02:00:00:00:00:99")))))
    assert pbu.mn_id == "020000000099@guest.example"
    assert pbu.mn_lli == "02:00:00:00:00:99"


def test_pba_for_the_wrong_mn_is_dropped() -> None:
    mag = make()
    pbu = pbu_of(run(mag.link_up(0.0, MAC, IFACE)))
    other = BindingUpdate(pbu.seq, pbu.flags, pbu.lifetime,
                          (MNIdentifier.nai("other@example.net"),
                           *pbu.options[1:]))
    assert kinds(run(mag.receive(0.1, pba(other)))) == ["dropped"]


def test_status_135_resent_with_higher_sequence() -> None:
    mag = make()
    pbu = pbu_of(run(mag.link_up(0.0, MAC, IFACE)))
    out = run(mag.receive(0.1, pba(pbu, 135, seq=500)))
    assert kinds(out) == ["rejected", "pbu-sent"]
    assert pbu_of(out).seq == 501


def test_register_on_link_up_off_still_registers_ipv6_at_once() -> None:
    # A dual-stack MN's IPv6 service must not wait for DHCPv4: the prefix is registered on
    # link-up, the DISCOVER adds the IPv4 HoA (RFC 5844 §3.4.1, "registered IPv6 only").
    mag = make(MNPolicy(NAI, ipv6=True), register_on_link_up=False)
    pbu = pbu_of(run(mag.link_up(0.0, MAC, IFACE)))
    assert pbu.handoff_indicator == 1 and pbu.hoa_request is None
    assert [h.prefix_len for h in pbu.hnps] == [0]
    assert kinds(run(mag.receive(0.1, pba(pbu)))) == ["registered"]
    update = pbu_of(run(mag.receive(1.0, from_mn(client(T.DISCOVER)))))
    assert update.handoff_indicator == 5
    assert update.hnps == [HomeNetworkPrefix(PREFIX, 64)]
    assert update.hoa_request == IPv4HoARequest(ANY4, 0)
    out = run(mag.receive(1.1, pba(update)))
    offer = [p.message for p in sends(out) if isinstance(p.message, DhcpMessage)]
    assert [m.message_type for m in offer] == [T.OFFER] and offer[0].yiaddr == HOA
    # an IPv4-only MN still waits for its DISCOVER
    assert run(make(register_on_link_up=False).link_up(0.0, MAC, IFACE)) == []


def test_status_135_naming_our_own_sequence_is_still_retried() -> None:
    # After a MAG restart its counter starts again at 1, the LMA's last accepted number.
    mag = make()
    pbu = pbu_of(run(mag.link_up(0.0, MAC, IFACE)))
    out = run(mag.receive(0.1, pba(pbu, 135, seq=pbu.seq)))
    assert kinds(out) == ["rejected", "pbu-sent"]
    retry = pbu_of(out)
    assert retry.seq == pbu.seq + 1
    # retried once only: a second 135 for the retry is a plain rejection
    out = run(mag.receive(0.2, pba(retry, 135, seq=retry.seq)))
    assert "pbu-sent" not in kinds(out) and "rejected" in kinds(out)


def test_relay_reply_for_unknown_client_and_other_relay() -> None:
    mag = relay()
    reply = DhcpMessage(op=DhcpOp.BOOTREPLY, giaddr=RELAY, chaddr=MAC,
                        options=(DhcpMessageTypeOption(T.OFFER),))
    assert kinds(run(mag.receive(0.0, Packet(src=SERVER, dst=RELAY, message=reply,
                                             sport=67, dport=67)))) == ["dropped"]
    other = DhcpMessage(op=DhcpOp.BOOTREPLY, giaddr=IPv4Address("10.0.0.1"), chaddr=MAC,
                        options=(DhcpMessageTypeOption(T.OFFER),
                                 DhcpRelayAgentInfoOption((RelayAgentSubOption(1, b"x"),))))
    assert kinds(run(mag.receive(0.0, Packet(src=SERVER, dst=RELAY, message=other)))) == [
        "dropped"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(any_message, max_size=6), st.booleans())
def test_random_mobility_messages_never_raise(msgs: list, relay_mode: bool) -> None:
    mag = relay() if relay_mode else make(MNPolicy(NAI, ipv6=True))
    run(mag.link_up(0.0, MAC, IFACE))
    for i, msg in enumerate(msgs):
        out = run(mag.receive(0.1 + i, Packet(src=LMA4, dst=MAG4, message=msg)))
        assert all(o.kind != "dropped" or "reason" in o.detail for o in events(out))
        run(mag.timer(0.2 + i))


def test_refresh_superseded_by_release_is_resumed() -> None:
    mag = make(MNPolicy(NAI, ipv6=True), lifetime=600, reregister_before=60)
    attach_server(mag)
    refresh = pbu_of(run(mag.timer(541.0)))
    assert refresh.handoff_indicator == 5
    release = from_mn(client(T.RELEASE, ciaddr=HOA, broadcast=False), dst=SID)
    dereg = pbu_of(run(mag.receive(541.1, release)))
    assert kinds(run(mag.receive(541.2, pba(refresh)))) == ["dropped"]  # superseded
    run(mag.receive(541.3, pba(dereg, lifetime=0)))
    assert mag.next_timer() == 540.1  # the IPv6 binding still needs its refresh (overdue)
    again = pbu_of(run(mag.timer(541.4)))
    assert again.handoff_indicator == 5 and again.hoa_request is None
    assert again.hnps == [HomeNetworkPrefix(PREFIX, 64)]


def test_rejected_ipv4_addition_after_ipv6_registration() -> None:
    mag = make(MNPolicy(NAI, ipv6=True))
    pbu = pbu_of(run(mag.link_up(0.0, MAC, IFACE)))
    run(mag.receive(0.1, pba(pbu, 0, hoa_status=128)))  # IPv6 only, IPv4 refused
    mag.allow_ipv4(NAI)  # the operator fixes it
    update = pbu_of(run(mag.receive(1.0, from_mn(client(T.DISCOVER)))))
    assert update.handoff_indicator == 5 and update.hoa_request == IPv4HoARequest(ANY4, 0)
    assert update.hnps == [HomeNetworkPrefix(PREFIX, 64)]
    out = run(mag.receive(1.1, pba(update, 130, hoa_status=132)))
    assert kinds(out) == ["rejected", "no-ipv4-service"]
    snap = mag.bindings()[0]
    assert (snap.state, snap.hnps) == ("registered", (f"{PREFIX}/64",))


_ACTIONS = ("link_up", "link_down", "discover", "request", "renew", "release", "pba",
            "pba", "pba", "timer", "bri", "reply")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["server", "rfc5844", "draft"]), st.booleans(),
       st.lists(st.tuples(st.sampled_from(_ACTIONS), st.integers(0, 0xFFFF)), max_size=25))
def test_random_scenarios_never_raise(mode: str, ipv6: bool,
                                      steps: list[tuple[str, int]]) -> None:
    policy = MNPolicy(NAI, ipv6=ipv6)
    mag = make(policy, server_id_policy="rebind") if mode == "server" else relay(
        mode, profiles={MAC: policy})
    now = 0.0
    last_pbu: BindingUpdate | None = None
    last_up: DhcpMessage | None = None
    addrs = (HOA, IPv4Address("10.10.0.9"), ANY4)
    for action, n in steps:
        now += (n % 7) * 0.5
        addr = addrs[n % 3]
        if action == "link_up":
            out = mag.link_up(now, MAC, IFACE, handover=(True, False, None)[n % 3])
        elif action == "link_down":
            out = mag.link_down(now, MAC)
        elif action == "discover":
            out = mag.receive(now, from_mn(client(T.DISCOVER, xid=n)))
        elif action == "request":
            out = mag.receive(now, from_mn(client(T.REQUEST, requested=addr,
                                                  server_id=(SID, None)[n % 2])))
        elif action == "renew":
            dst = (SID, OLD_SID, SERVER, BROADCAST4)[n % 4]
            out = mag.receive(now, from_mn(client(T.REQUEST, ciaddr=HOA, broadcast=False), dst))
        elif action == "release":
            out = mag.receive(now, from_mn(client(T.RELEASE, ciaddr=addr), (SID, SERVER)[n % 2]))
        elif action == "pba" and last_pbu is not None:
            status = (0, 0, 0, 128, 130, 135, 170, 171, 172)[n % 9]
            out = mag.receive(now, pba(last_pbu, status, hoa_status=(0, 0, 132)[n % 3],
                                       lifetime=(None, 0, 40)[n % 3]))
        elif action == "bri":
            flags = (BRFlag.P, BRFlag.P | BRFlag.V, BRFlag.G)[n % 3]
            out = mag.receive(now, mh(BindingRevocation(BRType.BRI, 1, n, flags,
                                                        (MNIdentifier.nai(NAI),))))
        elif action == "reply" and last_up is not None and mode != "server":
            mtype = (T.OFFER, T.ACK, T.NAK)[n % 3]
            out = mag.receive(now, server_reply(last_up, mtype, addr if addr != ANY4 else HOA))
        else:
            nxt = mag.next_timer()
            now = max(now, nxt if nxt is not None else now)
            out = mag.timer(now)
        run(out)
        for packet in sends(out):
            if isinstance(packet.message, BindingUpdate):
                last_pbu = packet.message
            elif isinstance(packet.message, DhcpMessage) and packet.iface == BACKHAUL:
                last_up = packet.message
        nxt = mag.next_timer()
        assert nxt is None or nxt >= now - 60
        for snap in mag.bindings():
            assert snap.state in ("idle", "pending", "registered", "deregistering")


def test_register_on_link_up_off_defers_only_new_attachments() -> None:
    mag = make(register_on_link_up=False)
    assert run(mag.link_up(0.0, MAC, IFACE)) == []
    assert mag.bindings()[0].state == "idle"
    pbu = pbu_of(run(mag.receive(1.0, from_mn(client(T.DISCOVER)))))
    assert pbu.handoff_indicator == 1
    other = make(register_on_link_up=False)
    assert pbu_of(run(other.link_up(0.0, MAC, IFACE, handover=True))).handoff_indicator == 3
