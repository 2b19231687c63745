"""The timeline: attachments and why they ended, handoffs, nodes, one message seen at two
capture points, and frames out of time order."""

from __future__ import annotations

import pytest

from dissectors.mh_codes import BAStatus, RevocationTrigger
from pmipview.packets import Tally
from pmipview.pipeline import correlate
from pmipview.sources.capfile import open_capture
from tests.correlate.builders import (
    BCAST,
    GW1,
    HOA1,
    HOA2,
    LMA,
    LMA_6,
    MAG1,
    MAG1_6,
    MAG2,
    MN1,
    MN2,
    NAI1,
    NAI2,
    ZERO,
    Script,
    at,
    codes,
    mn,
    node_mac,
    only,
)


def approx_ms(v: float):
    return pytest.approx(v, abs=1e-3)


# -- why an attachment ended -----------------------------------------------------------------

def _registered(s: Script, t: float = 0, mag: str = MAG1, seq: int = 10, lifetime: int = 600,
                nai: str = NAI1, mac: str = MN1, hoa: str = HOA1) -> None:
    s.pbu(t, mag, LMA, seq, nai=nai, mac=mac, lifetime=lifetime)
    s.pba(t + 0.005, mag, LMA, seq, nai=nai, mac=mac, hoa=hoa, lifetime=lifetime)


def end_handoff(s: Script) -> float:
    _registered(s)
    s.pbu(50, MAG2, LMA, 20, nai=NAI1, mac=MN1, hi=3, hoa=HOA1, plen=24)
    s.pba(50.006, MAG2, LMA, 20, nai=NAI1, mac=MN1, hi=3, hoa=HOA1)
    return 50.006


def end_detach(s: Script) -> float:
    _registered(s)
    s.pbu(50, MAG1, LMA, 11, nai=NAI1, mac=MN1, hi=4, lifetime=0, hoa=HOA1, plen=24)
    s.pba(50.004, MAG1, LMA, 11, nai=NAI1, mac=MN1, hi=4, lifetime=0, hoa=HOA1)
    return 50.004


def end_revocation(s: Script) -> float:
    _registered(s)
    s.bri(50, MAG1, LMA, 99, nai=NAI1, hoa=HOA1, trigger=RevocationTrigger.USER_INITIATED)
    s.bra(50.002, MAG1, LMA, 99)
    return 50


def end_expired(s: Script) -> float:
    _registered(s, lifetime=40)
    s.noise(100)
    return 40.005


def end_of_capture(s: Script) -> float | None:
    _registered(s)
    s.noise(100)
    return None


def end_rejected(s: Script) -> float:
    s.pbu(0, MAG1, LMA, 10, nai=NAI1, mac=MN1)
    s.pba(0.005, MAG1, LMA, 10, nai=NAI1, mac=MN1, status=BAStatus.NOT_HOME_SUBNET)
    return 0.005


def end_timeout(s: Script) -> float:
    s.pbu(0, MAG1, LMA, 10, nai=NAI1, mac=MN1)
    s.pbu(1, MAG1, LMA, 11, nai=NAI1, mac=MN1)
    s.noise(100)
    return 3  # the MAG gave up: its last PBU + twice the last back-off (1 s)


@pytest.mark.parametrize("script,reason", [
    (end_handoff, "handoff"), (end_detach, "detach"), (end_revocation, "revocation"),
    (end_expired, "expired"), (end_of_capture, "end-of-capture"), (end_rejected, "rejected"),
    (end_timeout, "timeout")])
def test_attachment_end_reason(script, reason):
    s = Script()
    end = script(s)
    att = mn(s.report(), NAI1).attachments[0]
    assert att.mag == MAG1
    assert att.end_reason == reason
    if end is None:
        assert att.end is None and att.active
    else:
        assert att.end == pytest.approx(at(end), abs=1e-6)


def test_selective_ipv4_deregistration_keeps_the_attachment():
    # RFC 5844 §3.1.2.5: after a DHCPRELEASE the MAG de-registers the IPv4 HoA only
    # (lifetime 0, IPv4 HoA Request, no HNP); the IPv6 part stays and is refreshed
    s = Script()
    s.pbu(0, MAG1, LMA, 1, nai=NAI1, mac=MN1, hnp="::/0", hoa=None, lifetime=20)
    s.pba(0.01, MAG1, LMA, 1, nai=NAI1, mac=MN1, hnp="2001:db8:100::/64", lifetime=20)
    s.pbu(0.02, MAG1, LMA, 2, nai=NAI1, mac=MN1, hi=5, hnp="2001:db8:100::/64", lifetime=20)
    s.pba(0.03, MAG1, LMA, 2, nai=NAI1, mac=MN1, hi=5, hnp="2001:db8:100::/64", hoa=HOA1,
          lifetime=20)
    s.dhcp(10, "RELEASE", 0x55, MN1, HOA1, GW1, ciaddr=HOA1, server_id=GW1,
           mac_dst=node_mac(MAG1))
    s.pbu(10.001, MAG1, LMA, 3, nai=NAI1, mac=MN1, hi=4, lifetime=0, hoa=HOA1, plen=24)
    s.pba(10.011, MAG1, LMA, 3, nai=NAI1, mac=MN1, hi=4, lifetime=0, hoa=HOA1)
    s.pbu(15, MAG1, LMA, 4, nai=NAI1, mac=MN1, hi=5, hnp="2001:db8:100::/64", hoa=None,
          lifetime=20)
    s.pba(15.01, MAG1, LMA, 4, nai=NAI1, mac=MN1, hi=5, hnp="2001:db8:100::/64", lifetime=20)
    s.pbu(20, MAG1, LMA, 5, nai=NAI1, mac=MN1, hi=4, lifetime=0, hnp="2001:db8:100::/64",
          hoa=None)
    s.pba(20.01, MAG1, LMA, 5, nai=NAI1, mac=MN1, hi=4, lifetime=0, hnp="2001:db8:100::/64")
    # the released address goes to another MN: no duplicate
    s.pbu(30, MAG1, LMA, 6, nai=NAI2, mac=MN2)
    s.pba(30.01, MAG1, LMA, 6, nai=NAI2, mac=MN2, hoa=HOA1)
    r = s.report()
    m = mn(r, NAI1)
    att = only(m.attachments)
    assert (att.end_reason, att.end) == ("detach", pytest.approx(at(20.01), abs=1e-6))
    assert att.refreshes == 2 and att.hnps == ["2001:db8:100::/64"]
    assert [t.kind for t in m.transactions] == ["registration", "refresh", "deregistration",
                                               "refresh", "deregistration"]
    assert not codes(r)


def test_a_timeline_with_reregistrations_handoffs_and_return():
    s = Script()
    s.attach(0, MAG1, LMA, 10, nai=NAI1, mac=MN1, hoa=HOA1, xid=0x11, server_id=GW1)
    s.pbu(300, MAG1, LMA, 11, nai=NAI1, mac=MN1, hi=5, hoa=HOA1, plen=24)
    s.pba(300.004, MAG1, LMA, 11, nai=NAI1, mac=MN1, hi=5, hoa=HOA1)
    s.pbu(400, MAG2, LMA, 50, nai=NAI1, mac=MN1, hi=3, hoa=HOA1, plen=24)
    s.pba(400.006, MAG2, LMA, 50, nai=NAI1, mac=MN1, hi=3, hoa=HOA1)
    s.pbu(500, MAG1, LMA, 12, nai=NAI1, mac=MN1, hi=3, hoa=HOA1, plen=24)
    s.pba(500.007, MAG1, LMA, 12, nai=NAI1, mac=MN1, hi=3, hoa=HOA1)
    r = s.report()
    m = only(r.mobile_nodes)
    assert [(a.mag, a.end_reason, a.refreshes) for a in m.attachments] == [
        (MAG1, "handoff", 1), (MAG2, "handoff", 0), (MAG1, "end-of-capture", 0)]
    assert [(h.from_mag, h.to_mag, h.handoff_ms) for h in m.handoffs] == [
        (MAG1, MAG2, approx_ms(6.0)), (MAG2, MAG1, approx_ms(7.0))]
    assert [t.kind for t in m.transactions] == ["registration", "refresh", "registration",
                                               "registration"]
    assert m.lma == LMA and m.ipv4_hoas == [HOA1]
    assert not codes(r)


# -- one message seen at two capture points --------------------------------------------------

def _two_points(s: Script, t: float, mag: str, seq: int, hi: int = 1) -> list[int]:
    """The PBU seen at the MAG (interface 0) then at the LMA (1); the PBA at the LMA, then
    at the MAG: frames in time order."""
    return [
        s.pbu(t, mag, LMA, seq, nai=NAI1, mac=MN1, hi=hi, iface=0),
        s.pbu(t + 0.002, mag, LMA, seq, nai=NAI1, mac=MN1, hi=hi, iface=1),
        s.pba(t + 0.010, mag, LMA, seq, nai=NAI1, mac=MN1, hi=hi, hoa=HOA1, iface=1),
        s.pba(t + 0.012, mag, LMA, seq, nai=NAI1, mac=MN1, hi=hi, hoa=HOA1, iface=0),
    ]


def test_a_message_seen_at_two_capture_points_is_one_transaction():
    s = Script()
    frames = _two_points(s, 0, MAG1, 10)
    r = s.report()
    m = only(r.mobile_nodes)
    t = only(m.transactions)
    assert sorted(t.frames) == frames
    assert t.seqs == [10] and t.retransmissions == 0
    assert t.first_sent == pytest.approx(at(0), abs=1e-6)
    assert t.answered == pytest.approx(at(0.012), abs=1e-6)
    assert t.rtt_ms == approx_ms(12.0) and t.setup_ms == approx_ms(12.0)
    assert not codes(r)  # no retransmission, no orphan reply
    att = only(m.attachments)
    assert att.attach_ms == approx_ms(12.0)  # the same vantage point as the rtt
    assert r.signaling_frames == 4


def test_a_handoff_seen_at_two_capture_points():
    s = Script()
    _two_points(s, 0, MAG1, 10)
    frames = _two_points(s, 100, MAG2, 20, hi=3)
    r = s.report()
    m = only(r.mobile_nodes)
    assert len(m.transactions) == 2 and len(m.attachments) == 2
    h = only(m.handoffs)
    assert h.handoff_ms == approx_ms(12.0)
    assert h.time == pytest.approx(at(100.012), abs=1e-6)
    assert sorted(m.transactions[1].frames) == frames


def test_a_retransmission_seen_at_two_capture_points():
    s = Script()
    u7 = [s.pbu(0, MAG1, LMA, 7, nai=NAI1, mac=MN1, iface=0),
          s.pbu(0.002, MAG1, LMA, 7, nai=NAI1, mac=MN1, iface=1)]
    u8 = [s.pbu(1, MAG1, LMA, 8, nai=NAI1, mac=MN1, iface=0),
          s.pbu(1.002, MAG1, LMA, 8, nai=NAI1, mac=MN1, iface=1)]
    a = [s.pba(1.010, MAG1, LMA, 8, nai=NAI1, mac=MN1, hoa=HOA1, iface=1),
         s.pba(1.012, MAG1, LMA, 8, nai=NAI1, mac=MN1, hoa=HOA1, iface=0)]
    r = s.report()
    t = only(only(r.mobile_nodes).transactions)
    assert t.seqs == [7, 8] and t.retransmissions == 1
    assert sorted(t.frames) == [*u7, *u8, *a]
    assert t.rtt_ms == approx_ms(12.0) and t.setup_ms == approx_ms(1012.0)
    d = only(d for d in r.mobile_nodes[0].diagnostics if d.code == "retransmission")
    assert {u7[0], u8[0]} <= set(d.frames) <= {*u7, *u8}
    assert codes(r) == {"retransmission"}


# -- frames out of time order ------------------------------------------------------------

def test_pcapng_with_two_interfaces_out_of_time_order(tmp_path):
    # interface 0 (at the MAG) is written first, 1.5 s of it, then interface 1 (at the
    # LMA); on interface 0 the DHCP DISCOVER that started it all comes after the PBA
    s = Script()
    s.pbu(0.002, MAG1, LMA, 10, nai=NAI1, mac=MN1, iface=0)                      # 1
    s.pba(0.014, MAG1, LMA, 10, nai=NAI1, mac=MN1, hoa=HOA1, iface=0)            # 2
    s.dhcp(0.000, "DISCOVER", 0x11, MN1, ZERO, BCAST, iface=0)                    # 3
    s.dhcp(0.015, "OFFER", 0x11, MN1, GW1, BCAST, yiaddr=HOA1, server_id=GW1)    # 4
    s.dhcp(0.017, "REQUEST", 0x11, MN1, ZERO, BCAST, requested=HOA1, server_id=GW1)
    s.dhcp(0.018, "ACK", 0x11, MN1, GW1, BCAST, yiaddr=HOA1, server_id=GW1)      # 6
    s.pbu(1.5, MAG1, LMA, 11, nai=NAI1, mac=MN1, hi=5, hoa=HOA1, plen=24)        # 7
    s.pba(1.506, MAG1, LMA, 11, nai=NAI1, mac=MN1, hi=5, hoa=HOA1)               # 8
    s.pbu(0.004, MAG1, LMA, 10, nai=NAI1, mac=MN1, iface=1)                      # 9
    s.pba(0.012, MAG1, LMA, 10, nai=NAI1, mac=MN1, hoa=HOA1, iface=1)            # 10
    s.pbu(1.502, MAG1, LMA, 11, nai=NAI1, mac=MN1, hi=5, hoa=HOA1, plen=24, iface=1)
    s.pba(1.504, MAG1, LMA, 11, nai=NAI1, mac=MN1, hi=5, hoa=HOA1, iface=1)      # 12
    path = s.write(tmp_path / "unsorted.pcapng")
    with open_capture(path) as reader:
        stamps = [(rec.ts_ns, rec.interface) for rec in reader]
        assert [i.name for i in reader.interfaces] == ["cap0", "cap1"]
    assert [t for t, _ in stamps] != sorted(t for t, _ in stamps), "must be out of order"
    with open_capture(path) as reader:
        r = correlate(reader, Tally())
    m = only(r.mobile_nodes)
    assert m.id == NAI1
    att = only(m.attachments)
    assert att.start == pytest.approx(at(0), abs=1e-6)        # the DISCOVER (frame 3)
    assert 3 in att.frames
    assert att.refreshes == 1
    reg, refresh = m.transactions
    assert (reg.kind, sorted(reg.frames)) == ("registration", [1, 2, 9, 10])
    assert reg.rtt_ms == approx_ms(12.0)                      # 0.014 - 0.002
    assert (refresh.kind, sorted(refresh.frames)) == ("refresh", [7, 8, 11, 12])
    assert refresh.rtt_ms == approx_ms(6.0)
    assert att.address_ms == approx_ms(18.0) and att.attach_ms == approx_ms(18.0)
    assert r.start == pytest.approx(at(0), abs=1e-6)
    assert r.end == pytest.approx(at(1.506), abs=1e-6)
    assert not codes(r)


def test_sorted_and_unsorted_give_the_same_timeline():
    def script(order):
        s = Script()
        events = [
            lambda: s.dhcp(0, "DISCOVER", 0x11, MN1, ZERO, BCAST, iface=1),
            lambda: s.pbu(0.002, MAG1, LMA, 10, nai=NAI1, mac=MN1),
            lambda: s.pba(0.009, MAG1, LMA, 10, nai=NAI1, mac=MN1, hoa=HOA1),
            lambda: s.dhcp(0.013, "ACK", 0x11, MN1, GW1, BCAST, yiaddr=HOA1, server_id=GW1,
                           iface=1),
            lambda: s.pbu(1.0, MAG2, LMA, 20, nai=NAI2, mac=MN2),
            lambda: s.pba(1.5, MAG2, LMA, 20, nai=NAI2, mac=MN2, hoa=HOA2),
        ]
        for i in order:
            events[i]()
        return s.report()

    a, b = script([0, 1, 2, 3, 4, 5]), script([5, 3, 1, 4, 2, 0])

    def facts(r):
        return [(m.id, [(x.mag, x.start, x.registered, x.attach_ms) for x in m.attachments],
                 [(t.seqs, t.rtt_ms) for t in m.transactions]) for m in r.mobile_nodes]

    assert facts(a) == facts(b)


# -- nodes ---------------------------------------------------------------------------------

def test_a_mag_speaking_ipv4_and_ipv6_with_one_mac_is_one_node():
    s = Script()
    s.pbu(0, MAG1, LMA, 10, nai=NAI1, mac=MN1, mac_src=node_mac(MAG1))
    s.pba(0.005, MAG1, LMA, 10, nai=NAI1, mac=MN1, hoa=HOA1, mac_src=node_mac(LMA))
    s.pbu(1, MAG1_6, LMA_6, 11, nai=NAI2, mac=MN2, mac_src=node_mac(MAG1))
    s.pba(1.005, MAG1_6, LMA_6, 11, nai=NAI2, mac=MN2, hoa=HOA2, mac_src=node_mac(LMA))
    r = s.report()
    mags = [n for n in r.nodes if n.role == "mag"]
    lmas = [n for n in r.nodes if n.role == "lma"]
    assert [sorted(n.addresses) for n in mags] == [sorted([MAG1, MAG1_6])]
    assert [sorted(n.addresses) for n in lmas] == [sorted([LMA, LMA_6])]
    assert mn(r, NAI2).attachments[0].mag == mags[0].name == MAG1
    assert mn(r, NAI2).transactions[0].mag == MAG1
    assert mn(r, NAI2).lma == LMA


def test_names_name_nodes_and_join_their_addresses():
    s = Script()
    s.pbu(0, MAG1, LMA, 10, nai=NAI1, mac=MN1)
    s.pba(0.005, MAG1, LMA, 10, nai=NAI1, mac=MN1, hoa=HOA1)
    s.pbu(1, MAG1_6, LMA_6, 11, nai=NAI2, mac=MN2)
    s.pba(1.005, MAG1_6, LMA_6, 11, nai=NAI2, mac=MN2, hoa=HOA2)
    r = s.report(names={MAG1: "mag1", MAG1_6: "mag1", LMA: "lma", LMA_6: "lma"})
    assert sorted((n.name, n.role, sorted(n.addresses)) for n in r.nodes) == [
        ("lma", "lma", sorted([LMA, LMA_6])), ("mag1", "mag", sorted([MAG1, MAG1_6]))]
    assert [a.mag for m in r.mobile_nodes for a in m.attachments] == ["mag1", "mag1"]
    assert {m.lma for m in r.mobile_nodes} == {"lma"}


def test_capture_counts():
    s = Script()
    s.noise(0)
    s.pbu(1, MAG1, LMA, 10, nai=NAI1, mac=MN1)
    s.pba(1.005, MAG1, LMA, 10, nai=NAI1, mac=MN1, hoa=HOA1)
    s.pbu(2, MAG1, LMA, 11, nai=NAI1, mac=MN1, truncate=8)
    s.noise(3)
    r = s.report()
    assert (r.frames, r.signaling_frames, r.malformed_frames) == (5, 2, 1)
    assert r.end == pytest.approx(at(3), abs=1e-6)


def test_capture_span_is_the_capture_first_to_last_frame():
    s = Script()
    s.noise(0)
    s.pbu(1, MAG1, LMA, 10, nai=NAI1, mac=MN1)
    s.pba(1.005, MAG1, LMA, 10, nai=NAI1, mac=MN1, hoa=HOA1)
    s.noise(3)
    r = s.report()
    assert (r.start, r.end) == (pytest.approx(at(0), abs=1e-6), pytest.approx(at(3), abs=1e-6))


def test_no_signaling_is_an_empty_report():
    s = Script()
    for t in range(5):
        s.noise(t)
    r = s.report()
    assert r.frames == 5 and r.signaling_frames == 0
    assert r.mobile_nodes == [] and r.nodes == [] and r.diagnostics == []


# -- failed attachments end at their failure ---------------------------------------------------

def test_a_rejected_attachment_ends_at_the_reject_and_a_later_success_is_new():
    s = Script()
    s.pbu(0, MAG1, LMA, 10, nai=NAI1, mac=MN1)
    s.pba(0.005, MAG1, LMA, 10, nai=NAI1, mac=MN1, status=BAStatus.NOT_HOME_SUBNET)
    s.pbu(600, MAG1, LMA, 11, nai=NAI1, mac=MN1)
    s.pba(600.005, MAG1, LMA, 11, nai=NAI1, mac=MN1, hoa=HOA1)
    m = mn(s.report(), NAI1)
    failed, ok = m.attachments
    assert (failed.end_reason, failed.end, failed.registered) == (
        "rejected", pytest.approx(at(0.005), abs=1e-6), None)
    assert (ok.start, ok.registered, ok.end_reason) == (
        pytest.approx(at(600), abs=1e-6), pytest.approx(at(600.005), abs=1e-6),
        "end-of-capture")
    assert ok.attach_ms == approx_ms(5.0)
    assert not m.handoffs


def test_an_unanswered_attachment_ends_at_the_give_up_and_a_later_success_is_new():
    s = Script()
    for i, t in enumerate((0, 1, 3, 7)):           # back-off 1, 2, 4 s: gives up at 7 + 8
        s.pbu(t, MAG1, LMA, 10 + i, nai=NAI1, mac=MN1)
    s.pbu(300, MAG1, LMA, 20, nai=NAI1, mac=MN1)
    s.pba(300.005, MAG1, LMA, 20, nai=NAI1, mac=MN1, hoa=HOA1)
    m = mn(s.report(), NAI1)
    failed, ok = m.attachments
    assert (failed.end_reason, failed.end) == ("timeout", pytest.approx(at(15), abs=1e-6))
    assert ok.start == pytest.approx(at(300), abs=1e-6) and ok.attach_ms == approx_ms(5.0)
    assert [t.outcome for t in m.transactions] == ["timeout", "accepted"]


def test_a_prompt_retry_after_a_reject_is_the_same_attachment():
    # RFC 5844: 171 (HoA not authorized) -> the MAG asks again with 0.0.0.0 at once
    s = Script()
    s.pbu(0, MAG1, LMA, 10, nai=NAI1, mac=MN1, hoa=HOA2, plen=24)
    s.pba(0.005, MAG1, LMA, 10, nai=NAI1, mac=MN1, status=171)
    s.pbu(0.010, MAG1, LMA, 11, nai=NAI1, mac=MN1)
    s.pba(0.015, MAG1, LMA, 11, nai=NAI1, mac=MN1, hoa=HOA1)
    att = only(mn(s.report(), NAI1).attachments)
    assert att.end_reason == "end-of-capture" and att.attach_ms == approx_ms(15.0)


def test_dhcp_after_a_failed_attachment_is_not_part_of_it():
    s = Script()
    s.pbu(0, MAG1, LMA, 10, nai=NAI1, mac=MN1)
    s.pba(0.005, MAG1, LMA, 10, nai=NAI1, mac=MN1, status=BAStatus.NOT_HOME_SUBNET)
    a = s.attach(900, MAG1, LMA, 11, nai=NAI1, mac=MN1, hoa=HOA1, xid=0x21, server_id=GW1)
    m = mn(s.report(), NAI1)
    failed, ok = m.attachments
    assert failed.end == pytest.approx(at(0.005), abs=1e-6)
    assert a.discover in ok.frames and a.discover not in failed.frames
    assert ok.start == pytest.approx(at(900), abs=1e-6)
    assert ok.attach_ms >= ok.address_ms


# -- an attachment starts at its first DHCP message or first PBU --------------------------------

def _init_reboot_nak_then_discover(s: Script, t: float, mag: str, seq: int, hi: int) -> list[int]:
    """At ``mag`` the MN re-confirms HOA1 (INIT-REBOOT), is NAKed, DISCOVERs: the DISCOVER
    makes the MAG register it (server mode); frames in time order."""
    return [
        s.dhcp(t, "REQUEST", 0x31, MN1, ZERO, BCAST, requested=HOA1),
        s.dhcp(t + 0.002, "NAK", 0x31, MN1, GW1, BCAST, server_id=GW1,
               mac_src=node_mac(mag)),
        s.dhcp(t + 0.100, "DISCOVER", 0x32, MN1, ZERO, BCAST),
        s.pbu(t + 0.102, mag, LMA, seq, nai=NAI1, mac=MN1, hi=hi),
        s.pba(t + 0.110, mag, LMA, seq, nai=NAI1, mac=MN1, hi=hi, hoa=HOA1, gw=GW1),
        s.dhcp(t + 0.111, "OFFER", 0x32, MN1, GW1, BCAST, yiaddr=HOA1, server_id=GW1,
               mac_src=node_mac(mag)),
        s.dhcp(t + 0.113, "REQUEST", 0x32, MN1, ZERO, BCAST, requested=HOA1, server_id=GW1),
        s.dhcp(t + 0.114, "ACK", 0x32, MN1, GW1, BCAST, yiaddr=HOA1, server_id=GW1,
               mac_src=node_mac(mag)),
    ]


def test_init_reboot_nak_then_discover_during_a_handoff_belongs_to_the_new_attachment():
    s = Script()
    first = s.attach(0, MAG1, LMA, 10, nai=NAI1, mac=MN1, hoa=HOA1, xid=0x11, server_id=GW1)
    frames = _init_reboot_nak_then_discover(s, 60, MAG2, 20, hi=3)
    m = mn(s.report(), NAI1)
    old, new = m.attachments
    assert new.start == pytest.approx(at(60), abs=1e-6)     # the INIT-REBOOT REQUEST
    assert set(frames) <= set(new.frames)
    assert not set(frames) & set(old.frames) and first.ack in old.frames
    assert new.address_ms == approx_ms(14.0)               # DISCOVER -> ACK
    assert new.attach_ms == approx_ms(114.0)
    assert [x.mag for x in m.dhcp] == [MAG1, MAG2, MAG2]
    assert only(m.handoffs).to_mag == MAG2


def test_init_reboot_nak_then_discover_after_a_detach():
    s = Script()
    _registered(s)
    s.pbu(50, MAG1, LMA, 11, nai=NAI1, mac=MN1, hi=4, lifetime=0, hoa=HOA1, plen=24)
    s.pba(50.004, MAG1, LMA, 11, nai=NAI1, mac=MN1, hi=4, lifetime=0, hoa=HOA1)
    frames = _init_reboot_nak_then_discover(s, 300, MAG1, 30, hi=1)
    m = mn(s.report(), NAI1)
    new = m.attachments[-1]
    assert new.start == pytest.approx(at(300), abs=1e-6) and set(frames) <= set(new.frames)
    assert new.attach_ms >= new.address_ms


def test_a_retransmitted_discover_during_a_handoff_starts_the_new_attachment():
    s = Script()
    s.attach(0, MAG1, LMA, 10, nai=NAI1, mac=MN1, hoa=HOA1, xid=0x11, server_id=GW1)
    d1 = s.dhcp(60, "DISCOVER", 0x41, MN1, ZERO, BCAST)
    d2 = s.dhcp(64, "DISCOVER", 0x41, MN1, ZERO, BCAST)
    s.pbu(64.002, MAG2, LMA, 20, nai=NAI1, mac=MN1, hi=3)
    s.pba(64.010, MAG2, LMA, 20, nai=NAI1, mac=MN1, hi=3, hoa=HOA1)
    s.dhcp(64.011, "OFFER", 0x41, MN1, GW1, BCAST, yiaddr=HOA1, server_id=GW1)
    s.dhcp(64.013, "REQUEST", 0x41, MN1, ZERO, BCAST, requested=HOA1, server_id=GW1)
    s.dhcp(64.014, "ACK", 0x41, MN1, GW1, BCAST, yiaddr=HOA1, server_id=GW1)
    new = mn(s.report(), NAI1).attachments[-1]
    assert new.start == pytest.approx(at(60), abs=1e-6) and {d1, d2} <= set(new.frames)
    assert new.address_ms == approx_ms(4014.0) and new.attach_ms == approx_ms(4014.0)


def test_a_stale_unanswered_discover_does_not_start_a_much_later_attachment():
    s = Script()
    s.dhcp(0, "DISCOVER", 0x51, MN1, ZERO, BCAST)            # nobody registers the MN
    a = s.attach(1000, MAG1, LMA, 10, nai=NAI1, mac=MN1, hoa=HOA1, xid=0x52, server_id=GW1)
    att = only(mn(s.report(), NAI1).attachments)
    assert att.start == pytest.approx(at(1000), abs=1e-6) and a.discover in att.frames
    assert att.attach_ms >= att.address_ms
