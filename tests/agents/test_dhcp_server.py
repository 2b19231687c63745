"""DhcpServer core: RFC 2131 §4.3 answers, §4.1 reply addressing, RFC 3046 relaying and the
RFC 5844 Remote-ID allocation hint over the pool shared with the LMA."""

from __future__ import annotations

from dataclasses import replace
from ipaddress import IPv4Address

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dissectors.dhcp import BROADCAST_FLAG, DhcpMessage
from dissectors.dhcp_codes import DhcpMessageType, DhcpOp, DhcpOptionCode
from dissectors.dhcp_options import (
    DhcpAddressOption,
    DhcpClientIdOption,
    DhcpMessageTypeOption,
    DhcpOption,
    DhcpRawOption,
    DhcpRelayAgentInfoOption,
    RelayAgentSubOption,
)
from dissectors.mh import Heartbeat
from pmipview.agents.base import ANY4, BROADCAST4, Event, Output, Packet, Send, events, sends
from pmipview.agents.dhcp_client import BROADCAST_MAC
from pmipview.agents.dhcp_server import DeclinedAddress, DhcpClientKey, DhcpServer
from pmipview.agents.pool import AddressPool
from tests.agents.test_dhcp_client import ROUTER, SERVER_ID, new_pool, new_server, roundtrip
from tests.dissectors.test_dhcp import messages as any_messages

A = IPv4Address
T = DhcpMessageType
C = DhcpOptionCode
MAC = "00:11:22:33:44:55"
MAC2 = "00:11:22:33:44:66"
RELAY = A("10.10.0.254")
CIRCUIT = RelayAgentSubOption(1, b"wlan0")


def dhcp(kind: int, *options: DhcpOption, mac: str = MAC, xid: int = 0x1234,
         **fields: object) -> DhcpMessage:
    return DhcpMessage(op=DhcpOp.BOOTREQUEST, xid=xid, chaddr=mac,
                       options=(DhcpMessageTypeOption(kind),
                                DhcpClientIdOption.from_mac(mac), *options),
                       **fields)  # type: ignore[arg-type]


def from_client(msg: DhcpMessage, src: IPv4Address = ANY4,
                dst: IPv4Address = BROADCAST4) -> Packet:
    return Packet(src, dst, msg, "lma0", 68, 67, msg.chaddr, None)


def relayed(msg: DhcpMessage, hint: IPv4Address | bytes | None = None) -> Packet:
    subs = [CIRCUIT] + ([RelayAgentSubOption(2, hint)] if hint is not None else [])
    msg = replace(msg, giaddr=RELAY, hops=1,
                  options=(*msg.options, DhcpRelayAgentInfoOption(tuple(subs))))
    return Packet(RELAY, SERVER_ID, msg, "backhaul", 67, 67)


def server_id(addr: IPv4Address = SERVER_ID) -> DhcpAddressOption:
    return DhcpAddressOption(C.SERVER_ID, addr)


def requested(addr: IPv4Address) -> DhcpAddressOption:
    return DhcpAddressOption(C.REQUESTED_IP, addr)


def only_send(out: list[Output]) -> Packet:
    (packet,) = sends(out)
    assert isinstance(packet.message, DhcpMessage)
    roundtrip(packet.message)
    return packet


def kinds(out: list[Output]) -> list[str]:
    return [e.kind for e in events(out)]


def reply(out: list[Output]) -> DhcpMessage:
    msg = only_send(out).message
    assert isinstance(msg, DhcpMessage)
    return msg


def lease(server: DhcpServer, mac: str = MAC, address: IPv4Address | None = None,
          now: float = 0.0) -> IPv4Address:
    """DISCOVER + SELECTING REQUEST; returns the ACKed address."""
    offer = reply(server.receive(now, from_client(dhcp(T.DISCOVER, mac=mac))))
    addr = address or offer.yiaddr
    ack = reply(server.receive(now, from_client(
        dhcp(T.REQUEST, requested(addr), server_id(), mac=mac))))
    assert ack.message_type == T.ACK
    return ack.yiaddr


# --------------------------------------------------------------------------- OFFER


def test_offer_options_exact() -> None:
    server = new_server(mtu=1400, lease=7200)
    out = server.receive(0.0, from_client(dhcp(T.DISCOVER, flags=BROADCAST_FLAG)))
    offer = reply(out)
    assert offer.op == DhcpOp.BOOTREPLY and offer.message_type == T.OFFER
    assert offer.xid == 0x1234 and offer.chaddr == MAC and offer.broadcast
    assert offer.yiaddr == A("10.10.0.2") and offer.ciaddr == ANY4 and offer.giaddr == ANY4
    assert [int(o.code) for o in offer.options] == [53, 54, 51, 58, 59, 1, 3, 6, 26, 61]
    # RFC 5844 §3.4.1: Subnet Mask, Router and Interface MTU MUST be in the OFFER
    assert offer.server_id == SERVER_ID
    assert offer.subnet_mask == A("255.255.255.0")
    assert offer.routers == (ROUTER,)
    assert offer.dns_servers == (A("192.0.2.53"),)
    assert offer.mtu == 1400 and offer.lease_time == 7200
    assert offer.option(C.RENEWAL_TIME).value == 3600  # type: ignore[union-attr]
    assert offer.option(C.REBINDING_TIME).value == 6300  # type: ignore[union-attr]
    assert offer.client_id == DhcpClientIdOption.from_mac(MAC)  # RFC 6842 echo
    assert kinds(out) == ["offered"]
    assert events(out)[0].detail["source"] == "pool"
    key = DhcpClientKey.of(offer)
    assert server.pool.owner_of(A("10.10.0.2")) == key  # held while offered
    assert server.binding_of(key).leased is False  # type: ignore[union-attr]


def test_offer_without_dns() -> None:
    server = DhcpServer(SERVER_ID, new_pool(), router=ROUTER)
    offer = reply(server.receive(0.0, from_client(dhcp(T.DISCOVER))))
    assert [int(o.code) for o in offer.options] == [53, 54, 51, 58, 59, 1, 3, 26, 61]


# --------------------------------------------------------------------------- reply addressing


def test_reply_to_broadcast_flag() -> None:
    server = new_server()
    packet = only_send(server.receive(0.0, from_client(dhcp(T.DISCOVER, flags=BROADCAST_FLAG))))
    assert (packet.src, packet.dst, packet.sport, packet.dport) == (SERVER_ID, BROADCAST4, 67, 68)
    assert packet.mac_dst == BROADCAST_MAC and packet.iface == "lma0"


def test_reply_unicast_to_yiaddr_and_chaddr() -> None:
    server = new_server()
    packet = only_send(server.receive(0.0, from_client(dhcp(T.DISCOVER))))
    assert (packet.dst, packet.mac_dst, packet.dport) == (A("10.10.0.2"), MAC, 68)


def test_renewing_ack_unicast_to_ciaddr() -> None:
    server = new_server()
    addr = lease(server)
    out = server.receive(100.0, from_client(dhcp(T.REQUEST, ciaddr=addr), addr, SERVER_ID))
    packet = only_send(out)
    ack = reply(out)
    assert (packet.dst, packet.mac_dst) == (addr, None)
    assert ack.message_type == T.ACK and ack.ciaddr == addr and ack.yiaddr == addr
    assert events(out)[0].detail["phase"] == "renewing"


def test_nak_broadcast_when_not_relayed() -> None:
    server = new_server()
    out = server.receive(0.0, from_client(dhcp(T.REQUEST, requested(A("10.10.0.9")))))
    packet = only_send(out)
    nak = reply(out)
    assert nak.message_type == T.NAK and (packet.dst, packet.mac_dst) == (BROADCAST4,
                                                                          BROADCAST_MAC)
    assert nak.yiaddr == ANY4 and nak.server_id == SERVER_ID and nak.message_text
    assert [int(o.code) for o in nak.options] == [53, 54, 56, 61]
    assert kinds(out) == ["nak"] and events(out)[0].detail["phase"] == "init-reboot"


# --------------------------------------------------------------------------- relay + hint


def test_relayed_discover_with_remote_id_hint() -> None:
    pool = new_pool()
    session = ("session", 1)  # the LMA's owner key for the MN's mobility session
    hoa = A("10.10.0.77")
    assert pool.reserve(hoa, session)
    server = new_server(pool)
    incoming = relayed(dhcp(T.DISCOVER), hint=hoa)
    out = server.receive(0.0, incoming)
    packet = only_send(out)
    offer = reply(out)
    assert offer.yiaddr == hoa
    assert (packet.src, packet.dst, packet.sport, packet.dport) == (SERVER_ID, RELAY, 67, 67)
    assert packet.mac_dst is None and packet.iface == "backhaul"
    assert offer.giaddr == RELAY and offer.hops == 0
    assert offer.option(C.RELAY_AGENT_INFO) == incoming.message.option(C.RELAY_AGENT_INFO)
    assert offer.options[-1].code == C.RELAY_AGENT_INFO  # echoed as the last option
    assert events(out)[0].detail == {"address": hoa, "source": "hint", "relay": RELAY,
                                     "xid": 0x1234}
    assert pool.owner_of(hoa) == session  # not taken from the mobility session
    ack = reply(server.receive(1.0, relayed(
        dhcp(T.REQUEST, requested(hoa), server_id()), hint=hoa)))
    assert ack.message_type == T.ACK and ack.yiaddr == hoa
    assert pool.owner_of(hoa) == session
    # RELEASE ends the lease but leaves the address with the session
    out = server.receive(2.0, from_client(dhcp(T.RELEASE, server_id(), ciaddr=hoa),
                                          hoa, SERVER_ID))
    assert kinds(out) == ["released"] and pool.owner_of(hoa) == session
    pool.check()


def test_relayed_nak_sets_broadcast_flag() -> None:
    server = new_server()
    out = server.receive(0.0, relayed(dhcp(T.REQUEST, requested(A("10.10.0.9")))))
    packet = only_send(out)
    nak = reply(out)
    assert nak.message_type == T.NAK and nak.broadcast
    assert (packet.dst, packet.dport) == (RELAY, 67)
    assert nak.option(C.RELAY_AGENT_INFO) is not None


def test_hint_owned_by_another_dhcp_client_is_refused() -> None:
    server = new_server()
    taken = lease(server, MAC2)
    offer = reply(server.receive(0.0, relayed(dhcp(T.DISCOVER), hint=taken)))
    assert offer.yiaddr != taken


@pytest.mark.parametrize("hint", [A("192.0.2.1"), b"\x01\x02\x03", ROUTER])
def test_unusable_hint_ignored(hint: IPv4Address | bytes) -> None:
    server = new_server()
    out = server.receive(0.0, relayed(dhcp(T.DISCOVER), hint=hint))
    assert reply(out).yiaddr == A("10.10.0.2")
    assert events(out)[0].detail["source"] == "pool"


def test_hint_not_honoured_without_relay() -> None:
    server = new_server()
    rai = DhcpRelayAgentInfoOption((RelayAgentSubOption(2, A("10.10.0.50")),))
    offer = reply(server.receive(0.0, from_client(dhcp(T.DISCOVER, rai))))
    assert offer.yiaddr == A("10.10.0.2")
    assert offer.option(C.RELAY_AGENT_INFO) == rai  # still echoed (RFC 3046)


def test_raw_option_82_echoed_unchanged() -> None:
    server = new_server()
    raw = DhcpRawOption(C.RELAY_AGENT_INFO, b"\x01\x05ab")  # truncated sub-option
    msg = replace(dhcp(T.DISCOVER), giaddr=RELAY, options=(*dhcp(T.DISCOVER).options, raw))
    offer = reply(server.receive(0.0, Packet(RELAY, SERVER_ID, msg, "backhaul", 67, 67)))
    assert offer.option(C.RELAY_AGENT_INFO) == raw


def test_hint_revokes_a_stale_lease() -> None:
    """MN 1's session ended; the LMA gave the address to MN 2's session: the hint wins."""
    pool = new_pool()
    hoa = A("10.10.0.77")
    pool.reserve(hoa, ("session", 1))
    server = new_server(pool)
    server.receive(0.0, relayed(dhcp(T.DISCOVER), hint=hoa))
    server.receive(0.0, relayed(dhcp(T.REQUEST, requested(hoa), server_id()), hint=hoa))
    pool.release(("session", 1))
    pool.reserve(hoa, ("session", 2))
    out = server.receive(10.0, relayed(dhcp(T.DISCOVER, mac=MAC2), hint=hoa))
    assert kinds(out) == ["lease-revoked", "offered"]
    assert events(out)[0].mn == MAC and reply(out).yiaddr == hoa
    # MN 1 renewing now is refused
    out = server.receive(11.0, from_client(dhcp(T.REQUEST, ciaddr=hoa), hoa, SERVER_ID))
    assert reply(out).message_type == T.NAK


def test_pool_allocation_revokes_stale_hint_lease() -> None:
    pool = new_pool("10.10.0.0/30")  # a single usable address: 10.10.0.2
    hoa = A("10.10.0.2")
    pool.reserve(hoa, ("session", 1))
    server = DhcpServer(SERVER_ID, pool, router=A("10.10.0.1"))
    server.receive(0.0, relayed(dhcp(T.DISCOVER), hint=hoa))
    server.receive(0.0, relayed(dhcp(T.REQUEST, requested(hoa), server_id()), hint=hoa))
    pool.release(("session", 1))  # session gone, the DHCP lease lingers
    out = server.receive(5.0, from_client(dhcp(T.DISCOVER, mac=MAC2)))
    assert kinds(out) == ["lease-revoked", "offered"] and reply(out).yiaddr == hoa
    pool.check()


def test_relayed_request_for_another_address_than_the_hint_is_nakked() -> None:
    server = new_server()
    old = lease(server)
    out = server.receive(50.0, relayed(dhcp(T.REQUEST, requested(old)), hint=A("10.10.0.99")))
    nak = reply(out)
    assert nak.message_type == T.NAK and "10.10.0.99" in (nak.message_text or "")


def test_transfer_to_session_keeps_the_lease() -> None:
    """Draft -02 order: DHCP first, then the LMA adopts the address (pool.transfer)."""
    server = new_server()
    addr = lease(server)
    key = next(iter(server.leases()))
    server.pool.transfer(key, ("session", 9))
    out = server.receive(100.0, from_client(dhcp(T.REQUEST, ciaddr=addr), addr, SERVER_ID))
    assert reply(out).message_type == T.ACK
    server.receive(101.0, from_client(dhcp(T.RELEASE, server_id(), ciaddr=addr), addr,
                                      SERVER_ID))
    assert server.pool.owner_of(addr) == ("session", 9)


# --------------------------------------------------------------------------- REQUEST


def test_selecting_another_server_forgets_the_offer() -> None:
    server = new_server()
    offer = reply(server.receive(0.0, from_client(dhcp(T.DISCOVER))))
    out = server.receive(1.0, from_client(
        dhcp(T.REQUEST, requested(A("192.0.2.9")), server_id(A("192.0.2.1")))))
    assert kinds(out) == ["offer-withdrawn"] and not sends(out)
    assert server.pool.owner_of(offer.yiaddr) is None and not server.bindings


def test_selecting_after_offer_expired_still_acked_when_free() -> None:
    server = new_server(offer_hold=10.0)
    offer = reply(server.receive(0.0, from_client(dhcp(T.DISCOVER))))
    assert server.next_timer() == 10.0
    assert kinds(server.timer(10.0)) == ["offer-expired"]
    assert server.pool.owner_of(offer.yiaddr) is None
    out = server.receive(20.0, from_client(dhcp(T.REQUEST, requested(offer.yiaddr), server_id())))
    assert reply(out).message_type == T.ACK


def test_selecting_for_a_taken_address_nakked() -> None:
    server = new_server()
    taken = lease(server, MAC2)
    out = server.receive(0.0, from_client(dhcp(T.REQUEST, requested(taken), server_id())))
    assert reply(out).message_type == T.NAK


def test_init_reboot() -> None:
    server = new_server()
    addr = lease(server)
    ack = reply(server.receive(10.0, from_client(dhcp(T.REQUEST, requested(addr)))))
    assert ack.message_type == T.ACK and ack.yiaddr == addr
    other = A("10.10.0.40")
    nak = reply(server.receive(11.0, from_client(dhcp(T.REQUEST, requested(other)))))
    assert nak.message_type == T.NAK
    # no binding at all: authoritative NAK ...
    nak = reply(server.receive(12.0, from_client(dhcp(T.REQUEST, requested(other), mac=MAC2))))
    assert nak.message_type == T.NAK
    # ... or silence when not authoritative (RFC 2131 §4.3.2)
    quiet = new_server(authoritative=False)
    out = quiet.receive(0.0, from_client(dhcp(T.REQUEST, requested(other))))
    assert not sends(out) and kinds(out) == ["dropped"]


def test_init_reboot_vouched_by_hint() -> None:
    pool = new_pool()
    hoa = A("10.10.0.77")
    pool.reserve(hoa, ("session", 3))
    server = new_server(pool)  # e.g. restarted: no binding
    out = server.receive(0.0, relayed(dhcp(T.REQUEST, requested(hoa)), hint=hoa))
    assert reply(out).message_type == T.ACK and kinds(out) == ["acked"]
    assert pool.owner_of(hoa) == ("session", 3)


def test_hint_moves_a_client_to_its_new_home_address() -> None:
    server = new_server()
    old = lease(server)
    hoa = A("10.10.0.77")
    server.pool.reserve(hoa, ("session", 4))
    out = server.receive(5.0, relayed(dhcp(T.REQUEST, requested(hoa)), hint=hoa))
    assert reply(out).message_type == T.ACK and reply(out).yiaddr == hoa
    assert server.pool.owner_of(old) is None  # the old pool address went back
    assert list(server.leases().values()) == [hoa]
    server.pool.check()


def test_renewing_someone_elses_address_nakked() -> None:
    server = new_server()
    theirs = lease(server, MAC2)
    mine = lease(server)
    out = server.receive(5.0, from_client(dhcp(T.REQUEST, ciaddr=theirs), mine, SERVER_ID))
    assert reply(out).message_type == T.NAK


def test_rfc5844_style_renewal_with_option_50_accepted() -> None:
    server = new_server()
    addr = lease(server)
    out = server.receive(5.0, from_client(dhcp(T.REQUEST, requested(addr), ciaddr=addr),
                                          addr, SERVER_ID))
    assert reply(out).message_type == T.ACK
    assert events(out)[0].detail["phase"] == "renewing"


def test_rebinding_phase() -> None:
    server = new_server()
    addr = lease(server)
    out = server.receive(5.0, from_client(dhcp(T.REQUEST, ciaddr=addr), addr, BROADCAST4))
    assert events(out)[0].detail["phase"] == "rebinding"
    assert only_send(out).dst == addr


def test_request_without_address_dropped() -> None:
    server = new_server()
    out = server.receive(0.0, from_client(dhcp(T.REQUEST)))
    assert kinds(out) == ["dropped"] and not sends(out)
    out = server.receive(0.0, from_client(dhcp(T.REQUEST, server_id())))
    assert kinds(out) == ["dropped"]


# --------------------------------------------------------------------------- choice of address


def test_requested_address_in_discover() -> None:
    server = new_server()
    assert reply(server.receive(0.0, from_client(
        dhcp(T.DISCOVER, requested(A("10.10.0.50")))))).yiaddr == A("10.10.0.50")
    server.pool.reserve(A("10.10.0.60"), ("session", 1))
    offer = reply(server.receive(0.0, from_client(
        dhcp(T.DISCOVER, requested(A("10.10.0.60")), mac=MAC2))))
    assert offer.yiaddr == A("10.10.0.2")


def test_existing_lease_offered_again() -> None:
    server = new_server()
    addr = lease(server)
    out = server.receive(5.0, from_client(dhcp(T.DISCOVER)))
    assert reply(out).yiaddr == addr and events(out)[0].detail["source"] == "lease"
    assert server.binding_of(next(iter(server.leases()))).leased  # type: ignore[union-attr]


def test_chaddr_key_without_client_id() -> None:
    server = new_server()
    msg = DhcpMessage(op=DhcpOp.BOOTREQUEST, xid=1, chaddr=MAC,
                      options=(DhcpMessageTypeOption(T.DISCOVER),))
    offer = reply(server.receive(0.0, from_client(msg)))
    assert offer.client_id is None
    assert server.pool.owner_of(offer.yiaddr) == DhcpClientKey(f"hw:1:{MAC}")


def test_two_clients_distinct_and_exhaustion() -> None:
    pool = new_pool("10.10.0.0/29")
    server = new_server(pool)
    got = {lease(server, f"00:11:22:33:44:{i:02x}") for i in range(5)}
    assert len(got) == 5
    out = server.receive(0.0, from_client(dhcp(T.DISCOVER, mac="00:11:22:33:44:99")))
    assert kinds(out) == ["dropped"] and "pool" in events(out)[0].detail["reason"]
    pool.check()


# ------------------------------------------------------------------ DECLINE / RELEASE / INFORM


def test_release_frees_the_address() -> None:
    server = new_server()
    addr = lease(server)
    out = server.receive(5.0, from_client(dhcp(T.RELEASE, server_id(), ciaddr=addr), addr,
                                          SERVER_ID))
    assert kinds(out) == ["released"] and not sends(out)
    assert server.pool.owner_of(addr) is None and not server.leases()
    out = server.receive(6.0, from_client(dhcp(T.RELEASE, server_id(), ciaddr=addr), addr,
                                          SERVER_ID))
    assert kinds(out) == ["dropped"]


def test_release_for_another_server_dropped() -> None:
    server = new_server()
    addr = lease(server)
    out = server.receive(5.0, from_client(
        dhcp(T.RELEASE, server_id(A("192.0.2.1")), ciaddr=addr), addr, A("192.0.2.1")))
    assert kinds(out) == ["dropped"] and server.leases()


def test_decline_marks_the_address_unusable() -> None:
    server = new_server()
    addr = lease(server)
    out = server.receive(1.0, from_client(dhcp(T.DECLINE, requested(addr), server_id())))
    assert kinds(out) == ["declined"] and not sends(out)
    assert events(out)[0].detail == {"address": addr, "fenced": True}
    assert addr in server.declined
    assert server.pool.owner_of(addr) == DeclinedAddress(addr)
    assert server.pool.allocate("lma-session") != addr  # the LMA skips it too
    offer = reply(server.receive(12.0, from_client(dhcp(T.DISCOVER, requested(addr)))))
    assert offer.yiaddr not in (addr, A("10.10.0.3"))  # .3 went to the LMA just above
    # an unknown decline is dropped
    out = server.receive(13.0, from_client(dhcp(T.DECLINE, requested(A("10.10.0.9")),
                                                server_id(), mac=MAC2)))
    assert kinds(out) == ["dropped"]


def test_inform_acked_without_yiaddr() -> None:
    server = new_server()
    client = A("10.10.0.200")
    out = server.receive(0.0, from_client(dhcp(T.INFORM, ciaddr=client), client, SERVER_ID))
    packet = only_send(out)
    ack = reply(out)
    assert ack.message_type == T.ACK and ack.yiaddr == ANY4 and ack.ciaddr == client
    assert packet.dst == client
    assert ack.lease_time is None and ack.mtu == 1460 and ack.routers == (ROUTER,)
    assert kinds(out) == ["acked"] and events(out)[0].detail["phase"] == "inform"


# --------------------------------------------------------------------------- timers


def test_lease_expiry() -> None:
    server = new_server(lease=100)
    addr = lease(server, now=5.0)
    assert server.next_timer() == 105.0
    assert server.timer(104.0) == []
    out = server.timer(105.0)
    assert out == [Event("lease-expired", MAC, {"address": addr})]
    assert server.pool.owner_of(addr) is None and server.next_timer() is None


def test_renewal_moves_expiry() -> None:
    server = new_server(lease=100)
    addr = lease(server)
    server.receive(50.0, from_client(dhcp(T.REQUEST, ciaddr=addr), addr, SERVER_ID))
    assert server.next_timer() == 150.0  # the stale 100.0 entry is skipped
    assert server.timer(100.0) == []


def test_expiry_applied_before_a_late_message() -> None:
    server = new_server(lease=100)
    addr = lease(server)
    out = server.receive(500.0, from_client(dhcp(T.REQUEST, ciaddr=addr), addr, SERVER_ID))
    assert kinds(out) == ["lease-expired", "nak"]


# --------------------------------------------------------------------------- garbage


@pytest.mark.parametrize("message", [
    Heartbeat(seq=1),
    DhcpMessage(op=DhcpOp.BOOTREQUEST, chaddr=MAC),  # plain BOOTP
    DhcpMessage(op=DhcpOp.BOOTREPLY, chaddr=MAC, options=(DhcpMessageTypeOption(T.OFFER),)),
    DhcpMessage(op=DhcpOp.BOOTREQUEST, chaddr=MAC, options=(DhcpMessageTypeOption(T.ACK),)),
    DhcpMessage(op=DhcpOp.BOOTREQUEST, chaddr=MAC, options=(DhcpMessageTypeOption(200),)),
    DhcpMessage(op=7, chaddr=MAC, options=(DhcpMessageTypeOption(T.DISCOVER),)),
    DhcpMessage(op=DhcpOp.BOOTREQUEST, chaddr="zz", options=(DhcpMessageTypeOption(1),)),
    DhcpMessage(op=DhcpOp.BOOTREQUEST, chaddr="0011", options=(DhcpMessageTypeOption(1),)),
    DhcpMessage(op=DhcpOp.BOOTREQUEST, chaddr=MAC, xid=-1,
                options=(DhcpMessageTypeOption(1),)),
])
def test_garbage_dropped(message: object) -> None:
    server = new_server()
    out = server.receive(0.0, Packet(ANY4, BROADCAST4, message, "lma0", 68, 67))  # type: ignore
    assert kinds(out) == ["dropped"] and not sends(out)
    assert events(out)[0].detail["reason"]


@st.composite
def requests(draw: st.DrawFn) -> DhcpMessage:
    """Random messages, often shaped as client requests, some relayed with a hint."""
    msg = draw(any_messages())
    if draw(st.booleans()):
        mt = draw(st.sampled_from([1, 3, 4, 7, 8, 2, 0]))
        msg = replace(msg, op=DhcpOp.BOOTREQUEST,
                      options=(DhcpMessageTypeOption(mt), *msg.options))
        if draw(st.booleans()):
            msg = replace(msg, ciaddr=A(draw(st.sampled_from(["0.0.0.0", "10.10.0.2",
                                                               "10.10.0.3"]))))
    return msg


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(st.tuples(requests(), st.floats(0, 200), st.booleans()), min_size=1,
                max_size=8))
def test_fuzz_never_raises(items: list[tuple[DhcpMessage, float, bool]]) -> None:
    pool = new_pool("10.10.0.0/28")
    pool.reserve(A("10.10.0.3"), ("session", 1))
    server = new_server(pool, lease=120)
    now = 0.0
    outs: list[Output] = []
    for msg, delay, broadcast in items:
        now += delay
        outs += server.timer(now)
        outs += server.receive(now, Packet(ANY4, BROADCAST4 if broadcast else SERVER_ID, msg,
                                           "lma0", 68, 67))
    for out in outs:
        assert isinstance(out, Send | Event)
        if isinstance(out, Send):
            assert isinstance(out.packet.message, DhcpMessage)
            roundtrip(out.packet.message)
    leased = list(server.leases().values())
    assert len(leased) == len(set(leased))
    pool.check()


def test_constructor_validation() -> None:
    with pytest.raises(ValueError):
        DhcpServer(SERVER_ID, new_pool(), router=ROUTER, lease=0)
    with pytest.raises(ValueError):
        DhcpServer(SERVER_ID, new_pool(), router=ROUTER, mtu=20)


def test_pool_is_shared_state() -> None:
    pool = AddressPool(new_pool().network, frozenset({ROUTER}))
    server = new_server(pool)
    addr = lease(server)
    assert pool.owner_of(addr) == next(iter(server.leases()))
    assert isinstance(pool.owner_of(addr), DhcpClientKey)
