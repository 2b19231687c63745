"""The reference LMA (pmipview.agents.lma): every PBA status path, attach over both
transports, re-registration, handoff with revocation, multihoming, de-registration,
expiry, heartbeat, garbage input, and a property test over random event interleavings.

Every packet the LMA emits goes through :func:`roundtrip` (encode_mh → decode_mh).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dissectors.dhcp import DhcpMessage
from dissectors.mh import (
    BindingAck,
    BindingError,
    BindingRevocation,
    BindingUpdate,
    Heartbeat,
    UnknownMH,
    decode_mh,
    encode_mh,
)
from dissectors.mh_codes import (
    PMIP6_CNTL_PORT,
    BAFlag,
    BAStatus,
    BEStatus,
    BRAStatus,
    BRFlag,
    BRType,
    BUFlag,
    HBFlag,
    HoAReplyStatus,
    RevocationTrigger,
)
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
    UnknownOption,
)
from pmipview.agents.base import BACKHAUL, Event, Output, Packet, Send, events, sends
from pmipview.agents.lma import LMA, LMAConfig, PoolOwner, Profile
from pmipview.agents.pool import AddressPool
from tests.strategies import any_message

LMAA6 = IPv6Address("2001:db8:ffff::1")
LMAA4 = IPv4Address("192.0.2.1")
MAG1_6, MAG2_6 = IPv6Address("2001:db8:1::1"), IPv6Address("2001:db8:2::1")
MAG1_4, MAG2_4 = IPv4Address("198.51.100.1"), IPv4Address("198.51.100.2")
ROUTER = IPv4Address("10.0.0.1")
HNP_POOL = IPv6Network("2001:db8:100::/48")
NAI, NAI2 = "mn1@example.com", "mn2@example.com"
MAC1, MAC2, MAC3 = "02:00:00:00:00:01", "02:00:00:00:00:02", "02:00:00:00:00:03"
ZERO_HNP = HomeNetworkPrefix(IPv6Address(0), 0)
DYNAMIC = IPv4HoARequest(IPv4Address(0), 0)
EPOCH = 1_700_000_000.0


# --- harness -------------------------------------------------------------------------------
def roundtrip(packet: Packet) -> None:
    """The message survives encode_mh/decode_mh on the packet's transport, unchanged."""
    msg = packet.message
    if packet.dst.version == 6:
        assert packet.src.version == 6
        assert packet.sport is None and packet.dport is None
        raw = encode_mh(msg, packet.src, packet.dst)
        back, end = decode_mh(raw, 0, None, packet.src.packed + packet.dst.packed)
        assert back.wire is not None and back.wire.checksum_ok is True
    else:
        assert packet.src.version == 4
        assert packet.sport == PMIP6_CNTL_PORT and packet.dport is not None
        raw = encode_mh(msg)
        back, end = decode_mh(raw)
    assert end == len(raw)
    assert back == msg
    assert back.wire is not None and not back.wire.warnings


def check(out: list[Output]) -> list[Output]:
    for item in out:
        assert isinstance(item, Send | Event)
        if isinstance(item, Send):
            roundtrip(item.packet)
        else:
            assert item.detail.get("reason") != "internal error", item
    return out


def feed(lma: LMA, now: float, packet: Packet) -> list[Output]:
    return check(lma.receive(now, packet))


def tick(lma: LMA, now: float) -> list[Output]:
    return check(lma.timer(now))


def make_lma(**kw) -> LMA:
    kw.setdefault("pool", AddressPool(IPv4Network("10.0.0.0/24"), frozenset({ROUTER})))
    kw.setdefault("hnp_pool", HNP_POOL)
    return LMA(LMAConfig(default_router=ROUTER, ipv6=LMAA6, ipv4=LMAA4, **kw))


def pbu(nai: str | None = NAI, *, seq: int = 1, lifetime: int = 150, hi: int | None = 1,
        att: int | None = 4, lli: str | None = MAC1,
        hnps: tuple[HomeNetworkPrefix, ...] = (ZERO_HNP,),
        v4: tuple[IPv4HoARequest, ...] = (DYNAMIC,), ts: float | None = None,
        flags: BUFlag = BUFlag.A | BUFlag.P,
        extra: tuple[MobilityOption, ...] = ()) -> BindingUpdate:
    opts: list[MobilityOption] = []
    if nai is not None:
        opts.append(MNIdentifier.nai(nai))
    opts += hnps
    if hi is not None:
        opts.append(HandoffIndicatorOpt(hi))
    if att is not None:
        opts.append(AccessTechnologyOpt(att))
    if lli is not None:
        opts.append(MNLinkLayerId.mac(lli))
    if ts is not None:
        opts.append(Timestamp.at(ts))
    opts += v4
    opts += extra
    return BindingUpdate(seq, flags, lifetime, tuple(opts))


def over6(msg, mag: IPv6Address = MAG1_6) -> Packet:
    return Packet(mag, LMAA6, msg)


def over4(msg, mag: IPv4Address = MAG1_4, sport: int = PMIP6_CNTL_PORT) -> Packet:
    return Packet(mag, LMAA4, msg, sport=sport, dport=PMIP6_CNTL_PORT)


def the_pba(out: list[Output]) -> tuple[Packet, BindingAck]:
    acks = [p for p in sends(out) if isinstance(p.message, BindingAck)]
    assert len(acks) == 1, out
    return acks[0], acks[0].message


def the_bri(out: list[Output]) -> tuple[Packet, BindingRevocation]:
    bris = [p for p in sends(out) if isinstance(p.message, BindingRevocation)]
    assert len(bris) == 1, out
    return bris[0], bris[0].message


def one_event(out: list[Output], kind: str) -> Event:
    found = events(out, kind)
    assert len(found) == 1, out
    return found[0]


def hnp_of(net: str) -> HomeNetworkPrefix:
    n = IPv6Network(net)
    return HomeNetworkPrefix(n.network_address, n.prefixlen)


def attach(lma: LMA, now: float = 0.0, **kw) -> BindingAck:
    mag = kw.pop("mag", MAG1_6)
    packet = over6(pbu(**kw), mag) if mag.version == 6 else over4(pbu(**kw), mag)
    _, ba = the_pba(feed(lma, now, packet))
    assert ba.status == BAStatus.ACCEPTED, ba
    return ba


# --- accepted initial attach ------------------------------------------------------------
def test_attach_over_ipv6_dual_stack_builds_the_full_pba():
    lma = make_lma(max_lifetime=400, profiles={NAI: Profile(dhcp_mode="server")})
    lla = UnknownOption(99, b"\x01\x02")  # an unknown option is not echoed
    out = feed(lma, 10.0, over6(pbu(seq=7, lifetime=150, ts=EPOCH, extra=(lla,))))
    pkt, ba = the_pba(out)
    assert (pkt.src, pkt.dst, pkt.iface, pkt.sport, pkt.dport) == (
        LMAA6, MAG1_6, BACKHAUL, None, None)
    assert ba.status == BAStatus.ACCEPTED and ba.flags == BAFlag.P
    assert ba.seq == 7 and ba.lifetime == 100  # min(600 s, 400 s) in 4 s units
    assert ba.options == (
        MNIdentifier.nai(NAI),
        HomeNetworkPrefix(IPv6Address("2001:db8:100::"), 64),
        HandoffIndicatorOpt(1),
        AccessTechnologyOpt(4),
        MNLinkLayerId.mac(MAC1),
        Timestamp.at(EPOCH),
        IPv4HoAReply(HoAReplyStatus.SUCCESS, IPv4Address("10.0.0.2"), 24),
        IPv4DefaultRouter(ROUTER),
        IPv4DHCPSupportMode(True),
    )
    ev = one_event(out, "registered")
    assert ev.mn == NAI
    assert ev.detail == {"session": 1, "mag": MAG1_6, "transport": "ipv6",
                         "hoa": IPv4Address("10.0.0.2"),
                         "hnps": (IPv6Network("2001:db8:100::/64"),), "lifetime": 400}
    (b,) = lma.bindings()
    assert (b.nai, b.lli, b.att, b.hi, b.proxy_coa, b.mag, b.transport, b.lmaa) == (
        NAI, MAC1, 4, 1, MAG1_6, MAG1_6, "ipv6", LMAA6)
    assert (b.hoa, b.prefix_len, b.default_router) == (IPv4Address("10.0.0.2"), 24, ROUTER)
    assert b.hnps == (IPv6Network("2001:db8:100::/64"),)
    assert (b.lifetime, b.expires, b.last_seq, b.created, b.updated) == (400, 410.0, 7, 10, 10)
    assert b.last_timestamp == Timestamp.at(EPOCH).value
    assert lma.binding_for(NAI) == b and lma.binding_for(NAI2) is None
    assert lma.config.pool.owner_of(b.hoa) == PoolOwner(1, NAI)
    assert lma.next_timer() == 410.0


@pytest.mark.parametrize(("mode", "expect"), [
    ("relay", (IPv4DHCPSupportMode(False),)), (None, ()), ("server", (IPv4DHCPSupportMode(True),)),
])
@pytest.mark.parametrize("sport", [PMIP6_CNTL_PORT, 40000])
def test_attach_over_ipv4_udp_replies_to_source_address_and_port(mode, expect, sport):
    lma = make_lma(profiles={NAI: Profile(ipv6=False, dhcp_mode=mode)})
    out = feed(lma, 0.0, over4(pbu(hnps=(), lli=None), sport=sport))
    pkt, ba = the_pba(out)
    assert (pkt.src, pkt.dst, pkt.sport, pkt.dport) == (LMAA4, MAG1_4, PMIP6_CNTL_PORT, sport)
    assert ba.status == 0 and ba.lifetime == 150
    assert not ba.hnps  # no HNP in the PBA when the PBU had none (RFC 5844 §3.1.2.6)
    assert ba.options == (
        MNIdentifier.nai(NAI), HandoffIndicatorOpt(1), AccessTechnologyOpt(4),
        IPv4HoAReply(0, IPv4Address("10.0.0.2"), 24), IPv4DefaultRouter(ROUTER), *expect)
    (b,) = lma.bindings()
    assert (b.proxy_coa, b.transport, b.lmaa, b.hnps, b.lli) == (
        MAG1_4, "ipv4", LMAA4, (), None)


def test_protocol_doc_test_vector_pbu_gets_the_documented_pba():
    """protocol.md §8: that PBU, answered by an LMA with that profile, is that PBA."""
    pbu_hex = ("3b07050000000001820000960810016d6e31406578616d706c652e636f6d1702000118020004"
               "010200001b0800006553f1008000240600000000000001020000")
    pba_hex = ("3b08060000000020000100960810016d6e31406578616d706c652e636f6d1702000118020004"
               "010200001b0800006553f1008000250600600a0a0005260600000a0a000127020001")
    msg, _ = decode_mh(bytes.fromhex(pbu_hex))
    router = IPv4Address("10.10.0.1")
    lma = LMA(LMAConfig(pool=AddressPool(IPv4Network("10.10.0.0/24"), frozenset({router})),
                        default_router=router, max_lifetime=3600, profiles={
                            "mn1@example.com": Profile(ipv6=False,
                                                       static_hoa=IPv4Address("10.10.0.5"))}))
    _, ba = the_pba(feed(lma, 0.0, over4(msg)))
    assert encode_mh(ba).hex() == pba_hex


# --- rejections ---------------------------------------------------------------------------
R128, R129 = HoAReplyStatus.FAILURE_REASON_UNSPECIFIED, HoAReplyStatus.ADMINISTRATIVELY_PROHIBITED
OTHER_V4 = IPv4HoARequest(IPv4Address("172.16.0.9"), 24)

REJECTIONS = {
    "160 no MN-ID": ({"nai": None}, {}, 160, [R128]),
    "160 malformed MN-ID": ({"nai": None, "extra": (UnknownOption(8, b"\x01"),)}, {}, 160,
                            [R128]),
    "161 no HI": ({"hi": None}, {}, 161, [R128]),
    "161 malformed HI": ({"hi": None, "extra": (UnknownOption(23, b"\x05"),)}, {}, 161, [R128]),
    "162 no ATT": ({"att": None}, {}, 162, [R128]),
    "162 malformed ATT": ({"att": None, "extra": (UnknownOption(24, b"\x00\x04\x00"),)}, {},
                          162, [R128]),
    "158 neither HNP nor IPv4": ({"hnps": (), "v4": ()}, {}, 158, []),
    "158 malformed IPv4 request only": ({"hnps": (), "v4": (),
                                         "extra": (UnknownOption(36, b"\x00"),)}, {}, 158, []),
    "173 two IPv4 requests": ({"v4": (DYNAMIC, DYNAMIC)}, {}, 173, [R128, R128]),
    "153 unknown MN": ({}, {"default_profile": None}, 153, [R128]),
    "152 not enabled": ({}, {"profiles": {NAI: Profile(allowed=False)}}, 152, [R128]),
    "172 no IPv6 in profile": ({}, {"profiles": {NAI: Profile(ipv6=False)}}, 172, [R128]),
    "172 no IPv6 routed": ({}, {"hnp_pool": None}, 172, [R128]),
    "170 no IPv4 in profile": ({}, {"profiles": {NAI: Profile(ipv4=False)}}, 170, [R129]),
    "171 address not anchored here": ({"v4": (OTHER_V4,)}, {}, 171, [R129]),
    "171 the default router": ({"v4": (IPv4HoARequest(ROUTER, 24),)}, {}, 171, [R129]),
    "171 not the static address": (
        {"v4": (IPv4HoARequest(IPv4Address("10.0.0.60"), 24),)},
        {"profiles": {NAI: Profile(static_hoa=IPv4Address("10.0.0.50"))}}, 171, [R129]),
    "171 another MN's static address": (
        {"v4": (IPv4HoARequest(IPv4Address("10.0.0.50"), 24),)},
        {"profiles": {NAI2: Profile(static_hoa=IPv4Address("10.0.0.50"))}}, 171, [R129]),
    "155 prefix outside the pool": ({"hnps": (hnp_of("2001:db8:999::/64"),)}, {}, 155, [R128]),
    "155 prefix length above 128": ({"hnps": (HomeNetworkPrefix(LMAA6, 200),)}, {}, 155,
                                    [R128]),
}


@pytest.mark.parametrize("case", list(REJECTIONS), ids=list(REJECTIONS))
@pytest.mark.parametrize("transport", ["ipv6", "ipv4"])
def test_rejection_status_paths(case, transport):
    pbu_kw, cfg_kw, status, replies = REJECTIONS[case]
    lma = make_lma(**cfg_kw)
    msg = pbu(seq=42, **pbu_kw)
    packet = over6(msg) if transport == "ipv6" else over4(msg, sport=41000)
    out = feed(lma, 5.0, packet)
    pkt, ba = the_pba(out)
    assert pkt.dst == packet.src and pkt.src == packet.dst
    assert (ba.status, ba.seq, ba.lifetime, ba.flags) == (status, 42, 0, BAFlag.P)
    assert ba.mn_id == msg.mn_id  # echoed when present
    assert ba.handoff_indicator == msg.handoff_indicator
    assert ba.hnps == msg.hnps
    got = ba.all_options(IPv4HoAReply)
    assert [r.status for r in got] == replies
    assert [(r.address, r.prefix_len) for r in got] == [
        (q.address, q.prefix_len) for q in msg.all_options(IPv4HoARequest)]
    assert ba.default_router is None and ba.dhcp_mode is None
    ev = one_event(out, "rejected")
    assert ev.detail["status"] == status and ev.detail["status_name"] == BAStatus(status).label
    assert lma.bindings() == []
    assert lma.config.pool.free() == 253


def test_171_address_held_by_another_mobile_node():
    lma = make_lma()
    taken = attach(lma, nai=NAI2, lli=MAC2).hoa_reply.address
    out = feed(lma, 1.0, over6(pbu(v4=(IPv4HoARequest(taken, 24),))))
    _, ba = the_pba(out)
    assert ba.status == BAStatus.NOT_AUTHORIZED_FOR_IPV4_HOME_ADDRESS
    assert ba.hoa_reply == IPv4HoAReply(R129, taken, 24)
    assert len(lma.bindings()) == 1


def test_specific_free_address_in_the_pool_is_granted():
    lma = make_lma()
    want = IPv4Address("10.0.0.77")
    ba = attach(lma, v4=(IPv4HoARequest(want, 24),))
    assert ba.hoa_reply == IPv4HoAReply(0, want, 24)


@pytest.mark.parametrize("adopt", [False, True])
def test_address_of_a_dhcp_client_in_the_shared_pool(adopt):
    lma = make_lma(adopt_foreign_hoa=adopt)
    pool, addr = lma.config.pool, IPv4Address("10.0.0.9")
    assert pool.reserve(addr, "dhcp-client-1")
    out = feed(lma, 0.0, over6(pbu(v4=(IPv4HoARequest(addr, 24),))))
    _, ba = the_pba(out)
    if adopt:  # draft -02 order: DHCP first, then the PBU names the address
        assert ba.status == 0 and ba.hoa_reply.address == addr
        assert pool.owner_of(addr) == PoolOwner(1, NAI)
    else:
        assert ba.status == BAStatus.NOT_AUTHORIZED_FOR_IPV4_HOME_ADDRESS
        assert pool.owner_of(addr) == "dhcp-client-1"
    pool.check()


@pytest.mark.parametrize("reply", [R128, HoAReplyStatus.DYNAMIC_ASSIGNMENT_NOT_AVAILABLE])
def test_130_when_the_ipv4_pool_is_exhausted(reply):
    pool = AddressPool(IPv4Network("10.0.0.0/30"), frozenset({ROUTER}))  # one address left
    kw = {} if reply == R128 else {"exhausted_reply_status": reply}
    lma = make_lma(pool=pool, **kw)
    attach(lma)
    out = feed(lma, 1.0, over6(pbu(NAI2, lli=MAC2)))
    _, ba = the_pba(out)
    assert ba.status == BAStatus.INSUFFICIENT_RESOURCES
    assert ba.hoa_reply == IPv4HoAReply(reply, IPv4Address(0), 0)
    assert len(lma.bindings()) == 1 and pool.free() == 0
    pool.check()


def test_130_when_the_prefix_pool_is_exhausted_and_nothing_leaks():
    lma = make_lma(hnp_pool=IPv6Network("2001:db8:100::/64"))
    attach(lma)
    _, ba = the_pba(feed(lma, 1.0, over6(pbu(NAI2, lli=MAC2))))
    assert ba.status == BAStatus.INSUFFICIENT_RESOURCES
    assert lma.config.pool.free() == 252  # the IPv4 address planned for NAI2 was not taken


def test_159_when_the_prefix_set_differs_from_the_binding():
    lma = make_lma()
    attach(lma)
    out = feed(lma, 1.0, over6(pbu(seq=2, hi=5, hnps=(hnp_of("2001:db8:100:5::/64"),))))
    assert the_pba(out)[1].status == BAStatus.BCE_PBU_PREFIX_SET_DO_NOT_MATCH


def test_155_when_the_prefix_belongs_to_another_mobile_node():
    lma = make_lma()
    attach(lma, nai=NAI2, lli=MAC2)
    other = lma.binding_for(NAI2).hnps[0]
    out = feed(lma, 1.0, over6(pbu(hnps=(hnp_of(str(other)),))))
    assert the_pba(out)[1].status == BAStatus.NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX


def test_plain_bu_without_p_flag_is_refused_as_home_registration():
    lma = make_lma()
    out = feed(lma, 0.0, over6(pbu(flags=BUFlag.A | BUFlag.H)))
    _, ba = the_pba(out)
    assert ba.status == BAStatus.HOME_REGISTRATION_NOT_SUPPORTED
    assert not ba.proxy and ba.options == ()
    assert lma.bindings() == []


def test_accepted_pbu_without_a_flag_gets_no_pba():
    lma = make_lma()
    out = feed(lma, 0.0, over6(pbu(flags=BUFlag.P)))
    assert sends(out) == [] and len(events(out, "registered")) == 1
    assert len(lma.bindings()) == 1
    # ...but a rejection is still answered
    out = feed(lma, 0.0, over6(pbu(flags=BUFlag.P, att=None)))
    assert the_pba(out)[1].status == BAStatus.MISSING_ACCESS_TECH_TYPE_OPTION


# --- ordering: sequence numbers and timestamps -------------------------------------------
def test_135_sequence_not_greater_than_last_accepted():
    lma = make_lma()
    attach(lma, seq=10)
    for seq in (10, 9, 10 + 0x8000):
        out = feed(lma, 1.0, over6(pbu(seq=seq, hi=5)))
        _, ba = the_pba(out)
        assert ba.status == BAStatus.SEQUENCE_OUT_OF_WINDOW
        assert ba.seq == 10  # the last accepted sequence number (RFC 6275 §9.5.1)
    attach(lma, 2.0, seq=11, hi=5)
    assert lma.binding_for(NAI).last_seq == 11


def test_sequence_wraps_modulo_2_16():
    lma = make_lma()
    attach(lma, seq=0xFFFF)
    attach(lma, 1.0, seq=0, hi=5)
    attach(lma, 2.0, seq=1, hi=5)


def test_sequence_check_can_be_disabled():
    lma = make_lma(sequence_window=False)
    attach(lma, seq=10)
    attach(lma, 1.0, seq=3, hi=5)


def test_sequence_numbers_of_another_mag_are_not_compared():
    lma = make_lma()
    attach(lma, seq=500)
    ba = attach(lma, 1.0, seq=1, hi=3, mag=MAG2_6)
    assert lma.binding_for(NAI).proxy_coa == MAG2_6 and ba.seq == 1


def test_156_timestamp_outside_the_window():
    lma = make_lma(timestamp_window=2.0, clock_offset=EPOCH)
    out = feed(lma, 100.0, over6(pbu(ts=EPOCH + 100.0 + 5.0)))
    _, ba = the_pba(out)
    assert ba.status == BAStatus.TIMESTAMP_MISMATCH
    assert ba.timestamp == Timestamp.at(EPOCH + 100.0)  # the LMA's own time (RFC 5213 §5.5)
    attach(lma, 100.0, ts=EPOCH + 101.5)


def test_157_timestamp_lower_than_previously_accepted():
    lma = make_lma(timestamp_window=10.0, clock_offset=EPOCH)
    attach(lma, 50.0, seq=1, ts=EPOCH + 50.0)
    out = feed(lma, 51.0, over6(pbu(seq=2, hi=5, ts=EPOCH + 49.0)))
    _, ba = the_pba(out)
    assert ba.status == BAStatus.TIMESTAMP_LOWER_THAN_PREV_ACCEPTED
    assert ba.timestamp == Timestamp.at(EPOCH + 51.0)
    # a stale PBU from another MAG does not steal the session either
    out = feed(lma, 51.0, over6(pbu(seq=9, hi=3, ts=EPOCH + 49.0), MAG2_6))
    assert the_pba(out)[1].status == BAStatus.TIMESTAMP_LOWER_THAN_PREV_ACCEPTED
    assert lma.binding_for(NAI).proxy_coa == MAG1_6
    # with timestamps in use the sequence number is ignored (RFC 5213 §5.5)
    attach(lma, 52.0, seq=1, hi=5, ts=EPOCH + 52.0)


def test_timestamps_are_not_checked_without_a_window():
    lma = make_lma()
    attach(lma, 0.0, ts=12345.0)
    attach(lma, 1.0, seq=2, hi=5, ts=1.0)


# --- re-registration ------------------------------------------------------------------------
def test_reregistration_extends_the_same_session():
    lma = make_lma(max_lifetime=1000)
    first = attach(lma, 0.0, seq=1, lifetime=100)
    out = feed(lma, 300.0, over6(pbu(seq=2, hi=5, lifetime=5000, hnps=(ZERO_HNP,))))
    _, ba = the_pba(out)
    assert ba.status == 0 and ba.lifetime == 250  # capped at max_lifetime
    assert ba.hoa_reply == first.hoa_reply and ba.hnps == first.hnps
    ev = one_event(out, "refreshed")
    assert ev.detail["session"] == 1 and ev.detail["lifetime"] == 1000
    (b,) = lma.bindings()
    assert (b.expires, b.hi, b.last_seq, b.created, b.updated) == (1300.0, 5, 2, 0.0, 300.0)
    assert lma.config.pool.free() == 252


def test_reregistration_with_the_assigned_addresses_and_min_lifetime():
    lma = make_lma(min_lifetime=60)
    first = attach(lma, lifetime=2)
    assert first.lifetime == 15  # raised to min_lifetime
    hoa = first.hoa_reply.address
    ba = attach(lma, 1.0, seq=2, hi=5, lli=MAC1, hnps=first.hnps,
                v4=(IPv4HoARequest(hoa, 24),))
    assert ba.hoa_reply.address == hoa and ba.hnps == first.hnps
    assert len(lma.bindings()) == 1


def test_reregistration_adds_ipv4_to_an_ipv6_only_session():
    lma = make_lma()
    first = attach(lma, v4=())
    assert first.hoa_reply is None and first.default_router is None
    assert lma.binding_for(NAI).hoa is None
    ba = attach(lma, 1.0, seq=2, hi=5)
    assert ba.hoa_reply.address == IPv4Address("10.0.0.2") and ba.hnps == first.hnps
    assert lma.binding_for(NAI).hoa == IPv4Address("10.0.0.2")


def test_retransmitted_initial_pbu_without_lli_updates_the_same_session():
    lma = make_lma()
    attach(lma, lli=None)
    attach(lma, 1.0, seq=2, lli=None)
    assert len(lma.bindings()) == 1


def test_static_address_and_prefix_from_the_profile():
    static, prefix = IPv4Address("10.0.0.200"), IPv6Network("2001:db8:77::/64")
    lma = make_lma(profiles={NAI: Profile(static_hoa=static, hnp=prefix)})
    ba = attach(lma)
    assert ba.hoa_reply.address == static and ba.hnps == [hnp_of(str(prefix))]
    # the static address and prefix are never handed to anybody else
    other = attach(lma, nai=NAI2, lli=MAC2)
    assert other.hoa_reply.address != static and other.hnps != ba.hnps


# --- handoff and revocation -------------------------------------------------------------------
def handed_over(lma: LMA, **kw) -> list[Output]:
    attach(lma, 0.0, seq=1)
    return feed(lma, 5.0, over6(pbu(seq=1, hi=3, **kw), MAG2_6))


def test_inter_mag_handoff_moves_the_session_and_revokes_the_old_mag():
    lma = make_lma()
    out = handed_over(lma)
    first = lma.binding_for(NAI)
    pkt, ba = the_pba(out)
    assert pkt.dst == MAG2_6 and ba.status == 0
    assert ba.hoa_reply.address == IPv4Address("10.0.0.2")
    assert ba.hnps == [hnp_of("2001:db8:100::/64")]
    bri_pkt, bri = the_bri(out)
    assert (bri_pkt.src, bri_pkt.dst, bri_pkt.iface) == (LMAA6, MAG1_6, BACKHAUL)
    assert bri.br_type == BRType.BRI and bri.code == RevocationTrigger.INTER_MAG_SAME_ACCESS
    assert bri.flags == BRFlag.P  # dual-stack binding: no V flag
    assert bri.options == (MNIdentifier.nai(NAI), hnp_of("2001:db8:100::/64"),
                           IPv4HoARequest(IPv4Address("10.0.0.2"), 24))
    ev = one_event(out, "handoff")
    assert (ev.detail["from"], ev.detail["to"], ev.detail["hi"]) == (MAG1_6, MAG2_6, 3)
    assert (first.proxy_coa, first.session, first.hi) == (MAG2_6, 1, 3)
    assert len(lma.bindings()) == 1
    # the BRA completes the revocation
    bra = BindingRevocation(BRType.BRA, BRAStatus.SUCCESS, bri.seq, BRFlag.P)
    out = feed(lma, 5.5, over6(bra, MAG1_6))
    ev = one_event(out, "revoked")
    assert ev.detail == {"session": 1, "mag": MAG1_6, "seq": bri.seq, "status": 0,
                         "status_name": "success"}
    assert lma.next_timer() == lma.binding_for(NAI).expires
    # a second BRA matches nothing
    assert one_event(feed(lma, 6.0, over6(bra, MAG1_6)), "dropped")


def test_bra_failure_status_is_reported():
    lma = make_lma()
    _, bri = the_bri(handed_over(lma))
    bra = BindingRevocation(BRType.BRA, BRAStatus.BINDING_DOES_NOT_EXIST, bri.seq, BRFlag.P)
    ev = one_event(feed(lma, 6.0, over6(bra, MAG1_6)), "revocation-failed")
    assert ev.detail["status"] == 128


def test_bra_from_the_wrong_peer_is_ignored():
    lma = make_lma()
    _, bri = the_bri(handed_over(lma))
    bra = BindingRevocation(BRType.BRA, 0, bri.seq, BRFlag.P)
    assert one_event(feed(lma, 6.0, over6(bra, MAG2_6)), "dropped")


def test_bri_is_retransmitted_then_times_out():
    lma = make_lma(bri_retransmit=1.0, bri_attempts=3)
    _, bri = the_bri(handed_over(lma))
    assert lma.next_timer() == 6.0
    assert tick(lma, 5.9) == []
    out = tick(lma, 6.0)
    assert [p.message for p in sends(out)] == [bri]
    assert one_event(out, "retransmit").detail["attempt"] == 2
    out = tick(lma, 7.0)
    assert [p.message for p in sends(out)] == [bri]
    out = tick(lma, 8.0)
    assert sends(out) == []
    ev = one_event(out, "revocation-timeout")
    assert ev.detail == {"session": 1, "mag": MAG1_6, "seq": bri.seq}
    assert tick(lma, 9.0) == []


def test_ping_pong_cancels_the_revocation_of_the_mag_that_got_the_session_back():
    lma = make_lma()
    _, first_bri = the_bri(handed_over(lma))  # MAG1 -> MAG2, BRI to MAG1 pending
    out = feed(lma, 5.5, over6(pbu(seq=2, hi=3), MAG1_6))  # back to MAG1
    bri_pkt, bri = the_bri(out)
    assert bri_pkt.dst == MAG2_6 and bri.seq != first_bri.seq
    out = tick(lma, 6.0)  # only the BRI to MAG2 is due, and it is not due yet
    assert sends(out) == []
    out = tick(lma, 6.5)
    assert [p.dst for p in sends(out)] == [MAG2_6]


def test_handoff_of_an_ipv4_only_session_over_ipv4_transport():
    lma = make_lma()
    attach(lma, mag=MAG1_4, hnps=(), lli=MAC1)
    feed(lma, 1.0, over4(pbu(seq=2, hi=5, hnps=()), MAG1_4, sport=41000))  # port learnt
    # the MN's only interface goes away; another one (ATT 5) shows up at MAG2
    out = feed(lma, 3.0, over4(pbu(seq=1, hi=2, hnps=(), lli=MAC2, att=5), MAG2_4))
    pkt, ba = the_pba(out)
    assert pkt.dst == MAG2_4 and ba.status == 0
    bri_pkt, bri = the_bri(out)
    assert (bri_pkt.src, bri_pkt.dst, bri_pkt.sport, bri_pkt.dport) == (
        LMAA4, MAG1_4, PMIP6_CNTL_PORT, 41000)
    assert bri.flags == BRFlag.P | BRFlag.V
    assert bri.code == RevocationTrigger.INTER_MAG_DIFFERENT_ACCESS
    assert bri.options == (MNIdentifier.nai(NAI), IPv4HoARequest(IPv4Address("10.0.0.2"), 24))
    b = lma.binding_for(NAI)
    assert (b.proxy_coa, b.transport, b.att, b.lli) == (MAG2_4, "ipv4", 5, MAC2)


def test_handoff_without_revocation():
    lma = make_lma(revoke_on_handoff=False)
    out = handed_over(lma)
    assert [type(p.message) for p in sends(out)] == [BindingAck]
    assert one_event(out, "handoff") and lma.next_timer() == lma.binding_for(NAI).expires


def test_handoff_releases_the_family_not_requested():
    lma = make_lma()
    out = handed_over(lma, v4=())  # RFC 5844 §3.1.2.4
    b = lma.binding_for(NAI)
    assert b.hoa is None and b.hnps and lma.config.pool.free() == 253
    assert the_pba(out)[1].hoa_reply is None


def test_handoff_state_unknown_with_matching_link_is_a_handoff():
    lma = make_lma()
    attach(lma)
    ba = attach(lma, 1.0, hi=4, mag=MAG2_6)
    assert ba.hoa_reply.address == IPv4Address("10.0.0.2")
    assert len(lma.bindings()) == 1 and lma.binding_for(NAI).proxy_coa == MAG2_6


def test_handoff_without_lli_takes_the_only_session():
    lma = make_lma()
    attach(lma, lli=None)
    attach(lma, 1.0, hi=3, lli=None, mag=MAG2_6)
    assert len(lma.bindings()) == 1 and lma.binding_for(NAI).proxy_coa == MAG2_6


# --- multihoming and inter-interface handoff ---------------------------------------------
def test_multihomed_mn_has_two_sessions_and_hi2_moves_one():
    lma = make_lma()
    a = attach(lma, 0.0, lli=MAC1, att=4)
    b = attach(lma, 1.0, lli=MAC2, att=3)
    sessions = lma.bindings_for(NAI)
    assert [s.lli for s in sessions] == [MAC1, MAC2]
    assert a.hoa_reply.address != b.hoa_reply.address and a.hnps != b.hnps
    # wlan0 (MAC1) goes away; its session moves to lte0 (MAC3, ATT 8) on MAG2, named by its
    # addresses (RFC 5213 §5.4.1.1 / RFC 5844 §3.1.2.7)
    out = feed(lma, 2.0, over6(pbu(hi=2, lli=MAC3, att=8, hnps=a.hnps,
                                   v4=(IPv4HoARequest(a.hoa_reply.address, 24),)), MAG2_6))
    _, ba = the_pba(out)
    assert ba.hoa_reply == a.hoa_reply and ba.hnps == a.hnps
    _, bri = the_bri(out)
    assert bri.code == RevocationTrigger.INTER_MAG_DIFFERENT_ACCESS
    ev = one_event(out, "handoff")
    assert (ev.detail["hi"], ev.detail["session"]) == (2, 1)
    moved, kept = lma.bindings_for(NAI)
    assert (moved.session, moved.lli, moved.att, moved.proxy_coa) == (1, MAC3, 8, MAG2_6)
    assert (kept.session, kept.lli, kept.att, kept.proxy_coa) == (2, MAC2, 3, MAG1_6)
    assert kept.hoa == b.hoa_reply.address
    assert lma.binding_for(NAI) == moved  # the most recently updated one


def test_hi2_takes_over_the_only_session_on_the_same_mag():
    lma = make_lma()
    a = attach(lma, lli=MAC1, att=4)
    out = feed(lma, 1.0, over6(pbu(seq=2, hi=2, lli=MAC2, att=3)))
    assert the_pba(out)[1].hoa_reply == a.hoa_reply
    assert not any(isinstance(p.message, BindingRevocation) for p in sends(out))
    ev = one_event(out, "handoff")
    assert ev.detail["from"] == ev.detail["to"] == MAG1_6
    (b,) = lma.bindings()
    assert (b.lli, b.att) == (MAC2, 3)


def test_hi2_without_addresses_is_ambiguous_with_two_sessions():
    lma = make_lma()
    attach(lma, lli=MAC1)
    attach(lma, lli=MAC2)
    attach(lma, 1.0, hi=2, lli=MAC3, mag=MAG2_6)  # RFC 5213 §5.4.1.2: a new session
    assert len(lma.bindings_for(NAI)) == 3


# --- de-registration ------------------------------------------------------------------------
def test_deregistration_removes_the_session_and_frees_addresses():
    lma = make_lma()
    first = attach(lma)
    out = feed(lma, 10.0, over6(pbu(seq=2, hi=4, lifetime=0)))
    _, ba = the_pba(out)
    assert (ba.status, ba.lifetime) == (0, 0)
    assert ba.hoa_reply == first.hoa_reply and ba.hnps == first.hnps
    ev = one_event(out, "deregistered")
    assert ev.detail == {"session": 1, "mag": MAG1_6, "scope": "all",
                         "hoa": IPv4Address("10.0.0.2"),
                         "hnps": (IPv6Network("2001:db8:100::/64"),)}
    assert lma.bindings() == [] and lma.config.pool.free() == 253
    assert lma.next_timer() is None
    # the address is free for the next MN
    assert attach(lma, 11.0, nai=NAI2, lli=MAC2).hoa_reply.address == IPv4Address("10.0.0.2")


def test_late_deregistration_from_the_old_mag_leaves_the_binding():
    lma = make_lma()
    handed_over(lma)
    before = lma.binding_for(NAI)
    out = feed(lma, 6.0, over6(pbu(seq=2, hi=4, lifetime=0), MAG1_6))
    pkt, ba = the_pba(out)
    assert pkt.dst == MAG1_6 and (ba.status, ba.lifetime) == (0, 0)
    ev = one_event(out, "late-deregistration")
    assert ev.detail == {"session": 1, "mag": MAG1_6, "holder": MAG2_6}
    assert lma.binding_for(NAI) == before and not events(out, "deregistered")


def test_selective_ipv4_deregistration_keeps_ipv6():
    lma = make_lma()
    first = attach(lma)
    hoa = first.hoa_reply.address
    out = feed(lma, 3.0, over6(pbu(seq=2, hi=5, lifetime=0, hnps=(),
                                   v4=(IPv4HoARequest(hoa, 24),))))
    _, ba = the_pba(out)
    assert (ba.status, ba.lifetime) == (0, 0) and ba.hoa_reply.address == hoa
    assert not ba.hnps
    ev = one_event(out, "deregistered")
    assert (ev.detail["scope"], ev.detail["hoa"], ev.detail["hnps"]) == ("ipv4", hoa, ())
    (b,) = lma.bindings()
    assert b.hoa is None and b.hnps == (IPv6Network("2001:db8:100::/64"),)
    assert lma.config.pool.owner_of(hoa) is None and b.expires == 600.0
    # IPv4 can come back with the next registration
    assert attach(lma, 4.0, seq=3, hi=5).hoa_reply.address == hoa


def test_selective_ipv6_deregistration_keeps_ipv4():
    lma = make_lma()
    first = attach(lma)
    out = feed(lma, 3.0, over6(pbu(seq=2, hi=5, lifetime=0, hnps=first.hnps, v4=())))
    assert one_event(out, "deregistered").detail["scope"] == "ipv6"
    (b,) = lma.bindings()
    assert b.hnps == () and b.hoa == first.hoa_reply.address


def test_deregistration_of_nothing_is_silently_ignored():
    lma = make_lma()
    out = feed(lma, 0.0, over6(pbu(lifetime=0)))
    assert sends(out) == [] and one_event(out, "dropped")


# --- expiry ------------------------------------------------------------------------------------
def test_lifetime_expiry_releases_the_addresses():
    lma = make_lma()
    first = attach(lma, 100.0, lifetime=2)
    assert lma.next_timer() == 108.0
    assert tick(lma, 107.9) == []
    out = tick(lma, 108.0)
    ev = one_event(out, "expired")
    assert ev.mn == NAI and ev.detail["hoa"] == first.hoa_reply.address
    assert lma.bindings() == [] and lma.config.pool.free() == 253
    assert lma.next_timer() is None


# --- heartbeat -----------------------------------------------------------------------------
@pytest.mark.parametrize("transport", ["ipv6", "ipv4"])
def test_heartbeat_request_is_answered_with_the_restart_counter(transport):
    lma = make_lma(restart_counter=7)
    req = Heartbeat(0xDEADBEEF, 0)
    packet = over6(req) if transport == "ipv6" else over4(req, sport=5555)
    out = feed(lma, 0.0, packet)
    (pkt,) = sends(out)
    assert pkt.dst == packet.src and pkt.dport == packet.sport
    assert pkt.message == Heartbeat(0xDEADBEEF, HBFlag.R, (RestartCounter(7),))


def test_heartbeat_probing_detects_restart_and_loss():
    lma = make_lma(heartbeat_interval=10.0, max_lifetime=3600)
    attach(lma, 0.0, lifetime=1000)
    assert lma.next_timer() == 10.0

    def probe(now: float) -> Heartbeat:
        out = tick(lma, now)
        (pkt,) = sends(out)
        assert (pkt.src, pkt.dst) == (LMAA6, MAG1_6)
        assert not pkt.message.response
        return pkt.message

    def answer(hb: Heartbeat, counter: int) -> list[Output]:
        resp = Heartbeat(hb.seq, HBFlag.R, (RestartCounter(counter),))
        return feed(lma, 0.0, over6(resp))

    assert answer(probe(10.0), 5) == []
    out = answer(probe(20.0), 6)
    assert one_event(out, "peer-restarted").detail == {"peer": MAG1_6, "old": 5, "new": 6}
    probe(30.0)
    probe(40.0)
    probe(50.0)
    out = tick(lma, 60.0)
    assert one_event(out, "peer-unreachable").detail == {"peer": MAG1_6}
    hb = next(p.message for p in sends(out))
    assert one_event(answer(hb, 6), "peer-reachable")
    # once the MAG holds no binding it is no longer probed and the LMA goes idle
    feed(lma, 61.0, over6(pbu(seq=2, hi=4, lifetime=0)))
    assert tick(lma, 70.0) == [] and lma.next_timer() is None
    # an unknown peer's response is dropped
    resp = Heartbeat(1, HBFlag.R, (RestartCounter(1),))
    assert one_event(feed(lma, 61.0, over6(resp, MAG2_6)), "dropped")


# --- garbage in ----------------------------------------------------------------------------
def test_other_messages_are_answered_or_dropped():
    lma = make_lma()
    out = feed(lma, 0.0, over6(UnknownMH(42, b"\0" * 10)))
    (pkt,) = sends(out)
    assert pkt.message == BindingError(BEStatus.UNRECOGNIZED_MH_TYPE)
    out = feed(lma, 0.0, over6(BindingRevocation(BRType.BRI, 1, 9, BRFlag.P,
                                                  (MNIdentifier.nai(NAI),))))
    (pkt,) = sends(out)
    assert pkt.message == BindingRevocation(BRType.BRA, BRAStatus.FUNCTION_NOT_SUPPORTED, 9,
                                            BRFlag.P, (MNIdentifier.nai(NAI),))
    for msg in (BindingAck(0, 1), BindingError(1), DhcpMessage(),
                BindingRevocation(0, 0, 0)):
        out = feed(lma, 0.0, over6(msg))
        assert sends(out) == [] and one_event(out, "dropped")


def test_bad_checksum_is_dropped():
    raw = encode_mh(pbu(), MAG1_6, LMAA6)
    msg, _ = decode_mh(raw, 0, None, MAG2_6.packed + LMAA6.packed)  # wrong pseudo-header
    assert msg.wire.checksum_ok is False
    lma = make_lma()
    out = feed(lma, 0.0, Packet(MAG2_6, LMAA6, msg))
    assert sends(out) == [] and one_event(out, "dropped").detail["reason"] == "bad MH checksum"


def _force_proxy(msg):
    if isinstance(msg, BindingUpdate) and msg.seq % 2:
        return BindingUpdate(msg.seq, msg.flags | BUFlag.P | BUFlag.A, msg.lifetime,
                             msg.options)
    return msg


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(any_message.map(_force_proxy), st.booleans(),
                          st.floats(0, 1000)), max_size=8))
def test_random_messages_never_raise_and_every_output_round_trips(inputs):
    lma = make_lma(timestamp_window=5.0, heartbeat_interval=3.0)
    now = 0.0
    for msg, v6, dt in inputs:
        now += dt
        out = feed(lma, now, over6(msg) if v6 else over4(msg))
        assert all(o.kind for o in events(out))
        tick(lma, now)
    lma.config.pool.check()


# --- property: random interleavings of attach / handoff / detach / expiry -------------------
MNS = ["a@x", "b@x", "c@x", "d@x"]
IFACES = [(MAC1, 4), (MAC2, 3)]
MAGS = [MAG1_6, MAG2_6, MAG1_4]


@dataclass
class World:
    lma: LMA
    now: float = 0.0
    seq: dict = field(default_factory=dict)

    def send(self, mag, msg_kw: dict) -> list[Output]:
        self.seq[mag] = (self.seq.get(mag, 0) + 1) & 0xFFFF
        msg = pbu(seq=self.seq[mag], **msg_kw)
        packet = over6(msg, mag) if mag.version == 6 else over4(msg, mag)
        return feed(self.lma, self.now, packet)


attach_op = st.tuples(st.just("attach"), st.sampled_from(MNS), st.integers(0, 1),
                      st.integers(0, 2), st.sampled_from([1, 3, 4, 5]), st.booleans(),
                      st.integers(1, 20))
op = st.one_of(
    attach_op,
    attach_op,
    st.tuples(st.just("detach"), st.sampled_from(MNS), st.integers(0, 1), st.integers(0, 2),
              st.sampled_from(["all", "ipv4", "ipv6"])),
    st.tuples(st.just("advance"), st.floats(0.1, 30)),
    st.tuples(st.just("bra"), st.integers(0, 5)),
)


def check_invariants(lma: LMA, pool: AddressPool) -> None:
    pool.check()
    bindings = lma.bindings()
    hoas = [b.hoa for b in bindings if b.hoa is not None]
    assert len(hoas) == len(set(hoas)), "one IPv4 HoA in two sessions"
    prefixes = [p for b in bindings for p in b.hnps]
    assert len(prefixes) == len(set(prefixes)), "one HNP in two sessions"
    links = [(b.nai, b.lli) for b in bindings]
    assert len(links) == len(set(links)), "one MN interface anchored at two MAGs"
    for b in bindings:
        if b.hoa is not None:
            assert pool.owner_of(b.hoa) == PoolOwner(b.session, b.nai)
    owned = {a for a in pool.network.hosts() if pool.owner_of(a) is not None}
    assert owned == set(hoas), "an address is owned by no live session"
    size = sum(1 for a in pool.network.hosts() if a in pool)
    assert pool.free() + len(hoas) == size
    nt = lma.next_timer()
    assert nt is None or nt == min([b.expires for b in bindings] + [nt])


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(op, min_size=10, max_size=60))
def test_any_interleaving_keeps_sessions_and_addresses_consistent(ops):
    pool = AddressPool(IPv4Network("10.0.0.0/29"),
                       frozenset({ROUTER, IPv4Address("10.0.0.6")}))  # 4 addresses
    world = World(make_lma(pool=pool, max_lifetime=40, hnp_pool=IPv6Network("2001:db8::/62")))
    lma = world.lma
    pending: list[tuple[IPv4Address | IPv6Address, int]] = []
    for step in ops:
        kind = step[0]
        if kind == "attach":
            _, nai, i, g, hi, dual, life = step
            lli, att = IFACES[i]
            out = world.send(MAGS[g], {"nai": nai, "lli": lli, "att": att, "hi": hi,
                                       "lifetime": life, "hnps": (ZERO_HNP,) if dual else ()})
            for ev in events(out, "handoff"):
                assert lma.binding_for(nai) is not None and ev.detail["to"] == MAGS[g]
        elif kind == "detach":
            _, nai, i, g, scope = step
            lli, att = IFACES[i]
            fam = {"all": {}, "ipv4": {"hnps": ()}, "ipv6": {"v4": ()}}[scope]
            out = world.send(MAGS[g], {"nai": nai, "lli": lli, "att": att, "hi": 4,
                                       "lifetime": 0, **fam})
        elif kind == "advance":
            world.now += step[1]
            out = []
            while (nt := lma.next_timer()) is not None and nt <= world.now:
                out += tick(lma, world.now)
        else:
            out = []
            if pending:
                dst, seq = pending.pop(step[1] % len(pending))
                bra = BindingRevocation(BRType.BRA, 0, seq, BRFlag.P)
                packet = over6(bra, dst) if dst.version == 6 else over4(bra, dst)
                out = feed(lma, world.now, packet)
        pending += [(p.dst, p.message.seq) for p in sends(out)
                    if isinstance(p.message, BindingRevocation)]
        check_invariants(lma, pool)
        holder = {b.session: b.proxy_coa for b in lma.bindings()}
        for ev in events(out, "retransmit"):  # never revoke the MAG that holds the session
            assert holder.get(ev.detail["session"]) != ev.detail["mag"]


@pytest.mark.parametrize("mnid", [MNIdentifier(b"\x1b[2Jmn@x"), MNIdentifier(b"mn@x", 2),
                                  MNIdentifier(b"\xffmn@x"), MNIdentifier.nai("mn@x")])
def test_the_bri_names_the_mn_with_the_identifier_bytes_of_its_pbus(mnid):
    """The session keeps its MN-ID object only when its NAI text does not give it back
    (memory); either way the BRI carries the PBU's identifier, byte for byte."""
    lma = make_lma()
    attach(lma, nai=None, mag=MAG1_4, hnps=(), extra=(mnid,))
    out = feed(lma, 3.0, over4(pbu(nai=None, seq=1, hi=2, hnps=(), extra=(mnid,)), MAG2_4))
    assert the_pba(out)[1].status == 0
    _, bri = the_bri(out)
    assert bri.options[0] == mnid and bri.options[0].data() == mnid.data()


def test_churn_keeps_the_expiry_heap_bounded_and_expiries_exact():
    """De-registered sessions leave their heap entry behind (lazy deletion) until the
    heap is rebuilt from the live ones: under attach/detach churn it stays within about
    twice the cache, and the sessions that stay still expire at their own time."""
    lma = make_lma()
    stay = attach(lma, 0.0, nai="stay@example.org", lli=MAC2, lifetime=100)
    assert stay.lifetime == 100
    heap_max = 0
    for i in range(3000):
        attach(lma, 1.0 + i * 0.01, seq=2 * i + 1, lifetime=400)
        out = feed(lma, 1.0 + i * 0.01, over6(pbu(seq=2 * i + 2, hi=4, lifetime=0)))
        assert one_event(out, "deregistered")
        heap_max = max(heap_max, len(lma._cache.expiry))
    assert len(lma) == 1
    assert heap_max <= 2 * 5 // 4 + 1024 + 1
    assert lma.next_timer() == 400.0  # 100 units of 4 s
    out = tick(lma, 400.0)
    assert [e.detail["session"] for e in events(out) if e.kind == "expired"] == [1]
    assert lma.bindings() == [] and lma.next_timer() is None


def test_churn_keeps_the_session_tables_compact():
    """Detach one MN and attach another, again and again, with as many bindings the whole
    time: the sessions by number and by NAI are rebuilt (pmipview.agents.churn) instead of
    growing to a table for three times their entries, and stay the size of a fresh copy."""
    import sys

    lma = make_lma(pool=AddressPool(IPv4Network("10.64.0.0/18"), frozenset({ROUTER})))
    n = 2800
    seq = 1
    for i in range(n):  # IPv4 only (as pmipview load): one HoA each
        attach(lma, 0.0, nai=f"mn{i}@example.org", seq=seq, hnps=())
    for i in range(n, n + 8000):
        seq += 1
        out = feed(lma, 1.0, over6(pbu(f"mn{i - n}@example.org", seq=seq, lifetime=0,
                                       hnps=())))
        assert one_event(out, "deregistered")
        attach(lma, 1.0, nai=f"mn{i}@example.org", seq=seq, hnps=())
    cache = lma._cache
    assert len(cache.sessions) == len(cache.by_nai) == n
    for table in (cache.sessions, cache.by_nai):
        assert sys.getsizeof(table) == sys.getsizeof(dict(table))
