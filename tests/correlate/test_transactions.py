"""Transactions and latencies, as docs/timeline.md defines them (issue 5):

- rtt_ms: PBA time - time of the PBU whose sequence number the PBA carries;
- setup_ms: PBA time - first PBU of the registration (retransmissions included);
- address_ms: DHCPACK delivered to the MN - first DHCP message of that exchange;
- attach_ms: the later of the accepted PBA and the DHCPACK - first signal of the attachment;
- handoff_ms: accepted PBA at the new MAG - the new MAG's first PBU for the MN.
"""

from __future__ import annotations

import pytest

from dissectors.mh_codes import BRAStatus, RevocationTrigger
from tests.correlate.builders import (
    BCAST,
    GW1,
    HOA1,
    HOA2,
    LMA,
    MAG1,
    MAG2,
    MN1,
    MN2,
    NAI1,
    NAI2,
    ZERO,
    Script,
    at,
    codes,
    diagnostics,
    mn,
    node_mac,
    only,
)

ms = pytest.approx  # latencies in ms, to the µs the capture stores


def approx_ms(v: float):
    return ms(v, abs=1e-3)


def test_one_pbu_one_pba():
    s = Script()
    u = s.pbu(0.002, MAG1, LMA, 100, nai=NAI1, mac=MN1, lifetime=600)
    a = s.pba(0.0094, MAG1, LMA, 100, nai=NAI1, mac=MN1, hoa=HOA1, lifetime=600)
    t = only(mn(s.report(), NAI1).transactions)
    assert (t.kind, t.mag, t.lma, t.seqs, t.frames) == ("registration", MAG1, LMA, [100], [u, a])
    assert t.first_sent == pytest.approx(at(0.002), abs=1e-6)
    assert t.answered == pytest.approx(at(0.0094), abs=1e-6)
    assert t.rtt_ms == approx_ms(7.4) and t.setup_ms == approx_ms(7.4)
    assert (t.status, t.status_name, t.outcome) == (0, "Proxy Binding Update accepted",
                                                    "accepted")
    assert t.retransmissions == 0
    assert (t.lifetime_requested, t.lifetime_granted) == (600, 600)
    assert (t.hoa_requested, t.hoa_assigned) == (ZERO, HOA1)


def test_retransmitted_registration_answered_for_the_last_pbu():
    s = Script()
    frames = [s.pbu(t, MAG1, LMA, seq, nai=NAI1, mac=MN1)
              for t, seq in ((0, 7), (1, 8), (3, 9))]
    a = s.pba(3.004, MAG1, LMA, 9, nai=NAI1, mac=MN1, hoa=HOA1)
    t = only(mn(s.report(), NAI1).transactions)
    assert t.seqs == [7, 8, 9] and t.frames == [*frames, a]
    assert t.retransmissions == 2
    assert t.rtt_ms == approx_ms(4.0)
    assert t.setup_ms == approx_ms(3004.0)


def test_rtt_is_against_the_pbu_whose_sequence_number_the_pba_carries():
    # the LMA answers the second PBU (seq 8) after the MAG already sent a third
    s = Script()
    for t, seq in ((0, 7), (1, 8), (3, 9)):
        s.pbu(t, MAG1, LMA, seq, nai=NAI1, mac=MN1)
    s.pba(3.5, MAG1, LMA, 8, nai=NAI1, mac=MN1, hoa=HOA1)
    r = s.report()
    t = only(mn(r, NAI1).transactions)
    assert t.outcome == "accepted"
    assert t.rtt_ms == approx_ms(2500.0)   # 3.5 - 1.0
    assert t.setup_ms == approx_ms(3500.0)  # 3.5 - 0.0
    att = only(mn(r, NAI1).attachments)
    assert att.registered == pytest.approx(at(3.5), abs=1e-6)
    assert "pbu-unanswered" not in codes(r)


def test_a_slow_path_seen_at_two_capture_points_is_one_message():
    # captured at the MAG (interface 0) and at the LMA (1) with 3 s between them: the
    # LMA's sightings are the same messages, not retransmissions, and the RTT is the
    # MAG's (PBU sent -> PBA received), not the LMA's ~0 ms
    s = Script()
    u = s.pbu(0, MAG1, LMA, 7, nai=NAI1, mac=MN1, iface=0)
    u_lma = s.pbu(3.0, MAG1, LMA, 7, nai=NAI1, mac=MN1, iface=1)
    a_lma = s.pba(3.001, MAG1, LMA, 7, nai=NAI1, mac=MN1, hoa=HOA1, iface=1)
    a = s.pba(6.001, MAG1, LMA, 7, nai=NAI1, mac=MN1, hoa=HOA1, iface=0)
    r = s.report()
    t = only(mn(r, NAI1).transactions)
    assert t.seqs == [7] and t.retransmissions == 0
    assert sorted(t.frames) == sorted([u, u_lma, a_lma, a])
    # the model says which frames are one message: the PBU sent, and each first sighting
    # with its others (what the ladder draws as one arrow)
    assert t.sent_frames == [u] and t.also == {u: [u_lma], a_lma: [a]}
    assert t.rtt_ms == approx_ms(6001.0)
    assert "retransmission" not in codes(r)


def test_same_sequence_number_again_on_one_interface_is_a_retransmission():
    s = Script()
    s.pbu(0, MAG1, LMA, 7, nai=NAI1, mac=MN1)
    s.pbu(3.0, MAG1, LMA, 7, nai=NAI1, mac=MN1)
    s.pba(3.004, MAG1, LMA, 7, nai=NAI1, mac=MN1, hoa=HOA1)
    t = only(mn(s.report(), NAI1).transactions)
    assert len(t.sent_frames) == 2 and t.also == {}
    assert t.seqs == [7, 7] and t.retransmissions == 1


def test_retransmission_window():
    # a PBU after the window (35 s) is a new registration, the first one timed out
    s = Script()
    u1 = s.pbu(0, MAG1, LMA, 7, nai=NAI1, mac=MN1)
    u2 = s.pbu(40, MAG1, LMA, 8, nai=NAI1, mac=MN1)
    a = s.pba(40.005, MAG1, LMA, 8, nai=NAI1, mac=MN1, hoa=HOA1)
    r = s.report()
    m = mn(r, NAI1)
    assert [(t.seqs, t.outcome) for t in m.transactions] == [([7], "timeout"),
                                                              ([8], "accepted")]
    assert only(diagnostics(r, "pbu-unanswered")).frames == [u1]
    assert "retransmission" not in codes(r)
    assert m.transactions[1].frames == [u2, a]


def test_same_sequence_number_at_two_mags_pairs_by_mag():
    s = Script()
    s.pbu(0, MAG1, LMA, 10, nai=NAI1, mac=MN1)
    s.pbu(0.001, MAG2, LMA, 10, nai=NAI2, mac=MN2)
    b = s.pba(0.004, MAG2, LMA, 10, nai=NAI2, mac=MN2, hoa=HOA2)
    a = s.pba(0.009, MAG1, LMA, 10, nai=NAI1, mac=MN1, hoa=HOA1)
    r = s.report()
    t1, t2 = only(mn(r, NAI1).transactions), only(mn(r, NAI2).transactions)
    assert t1.frames == [1, a] and t1.rtt_ms == approx_ms(9.0)
    assert t2.frames == [2, b] and t2.rtt_ms == approx_ms(3.0)
    assert mn(r, NAI1).ipv4_hoas == [HOA1] and mn(r, NAI2).ipv4_hoas == [HOA2]


def test_refresh_and_deregistration_kinds():
    s = Script()
    s.pbu(0, MAG1, LMA, 10, nai=NAI1, mac=MN1)
    s.pba(0.005, MAG1, LMA, 10, nai=NAI1, mac=MN1, hoa=HOA1)
    s.pbu(300, MAG1, LMA, 11, nai=NAI1, mac=MN1, hi=5, hoa=HOA1, plen=24)
    s.pba(300.003, MAG1, LMA, 11, nai=NAI1, mac=MN1, hi=5, hoa=HOA1)
    s.pbu(400, MAG1, LMA, 12, nai=NAI1, mac=MN1, hi=4, lifetime=0, hoa=HOA1, plen=24)
    s.pba(400.002, MAG1, LMA, 12, nai=NAI1, mac=MN1, hi=4, lifetime=0, hoa=HOA1)
    m = mn(s.report(), NAI1)
    assert [(t.kind, t.rtt_ms) for t in m.transactions] == [
        ("registration", approx_ms(5.0)), ("refresh", approx_ms(3.0)),
        ("deregistration", approx_ms(2.0))]
    att = only(m.attachments)
    assert att.refreshes == 1
    assert (att.end_reason, att.end) == ("detach", pytest.approx(at(400.002), abs=1e-6))


def test_address_ms_and_attach_ms_ack_after_pba():
    s = Script()
    s.attach(0, MAG1, LMA, 10, nai=NAI1, mac=MN1, hoa=HOA1, xid=0x11, server_id=GW1,
             rtt=0.007)
    # DISCOVER 0, PBU 0.002, PBA 0.009, OFFER 0.010, REQUEST 0.012, ACK 0.013
    m = mn(s.report(), NAI1)
    att = only(m.attachments)
    assert att.address_ms == approx_ms(13.0)
    assert att.attach_ms == approx_ms(13.0)
    assert only(m.dhcp).address_ms == approx_ms(13.0)
    assert only(m.transactions).rtt_ms == approx_ms(7.0)


def test_attach_ms_pba_after_ack():
    # relay, "draft" order: the address comes from DHCP first, then the MAG registers it
    s = Script()
    s.dhcp(0, "DISCOVER", 0x11, MN1, ZERO, BCAST)
    s.dhcp(0.010, "OFFER", 0x11, MN1, GW1, BCAST, yiaddr=HOA1, server_id=GW1)
    s.dhcp(0.012, "REQUEST", 0x11, MN1, ZERO, BCAST, requested=HOA1, server_id=GW1)
    s.dhcp(0.020, "ACK", 0x11, MN1, GW1, BCAST, yiaddr=HOA1, server_id=GW1)
    s.pbu(0.021, MAG1, LMA, 10, nai=NAI1, mac=MN1, hoa=HOA1, plen=24)
    s.pba(0.030, MAG1, LMA, 10, nai=NAI1, mac=MN1, hoa=HOA1)
    m = mn(s.report(), NAI1)
    att = only(m.attachments)
    assert att.start == pytest.approx(at(0), abs=1e-6)
    assert only(m.dhcp).address_ms == approx_ms(20.0)
    assert att.attach_ms == approx_ms(30.0)


def test_handoff_ms_from_the_new_mags_first_pbu():
    s = Script()
    s.attach(0, MAG1, LMA, 10, nai=NAI1, mac=MN1, hoa=HOA1, xid=0x11, server_id=GW1)
    u1 = s.pbu(100, MAG2, LMA, 20, nai=NAI1, mac=MN1, hi=3, hoa=HOA1, plen=24)
    u2 = s.pbu(101, MAG2, LMA, 21, nai=NAI1, mac=MN1, hi=3, hoa=HOA1, plen=24)
    a = s.pba(101.005, MAG2, LMA, 21, nai=NAI1, mac=MN1, hi=3, hoa=HOA1)
    r = s.report()
    m = mn(r, NAI1)
    h = only(m.handoffs)
    assert (h.from_mag, h.to_mag, h.hoa_preserved) == (MAG1, MAG2, True)
    assert h.time == pytest.approx(at(101.005), abs=1e-6)
    assert h.handoff_ms == approx_ms(1005.0)
    assert u1 in h.frames and a in h.frames
    old, new = m.attachments
    assert (old.end_reason, old.end) == ("handoff", pytest.approx(at(101.005), abs=1e-6))
    assert new.start == pytest.approx(at(100), abs=1e-6)
    assert new.handoff_indicator == 3
    t = m.transactions[-1]
    assert t.frames == [u1, u2, a] and t.rtt_ms == approx_ms(5.0)
    assert t.setup_ms == approx_ms(1005.0)


def test_handoff_when_the_bri_to_the_old_mag_precedes_the_pba():
    s = Script()
    s.attach(0, MAG1, LMA, 10, nai=NAI1, mac=MN1, hoa=HOA1, xid=0x11, server_id=GW1)
    u = s.pbu(100, MAG2, LMA, 20, nai=NAI1, mac=MN1, hi=3, hoa=HOA1, plen=24)
    s.bri(100.004, MAG1, LMA, 4711, nai=NAI1, hoa=HOA1,
          trigger=RevocationTrigger.INTER_MAG_SAME_ACCESS)
    a = s.pba(100.005, MAG2, LMA, 20, nai=NAI1, mac=MN1, hi=3, hoa=HOA1)
    s.bra(100.007, MAG1, LMA, 4711)
    r = s.report()
    m = mn(r, NAI1)
    h = only(m.handoffs)
    assert (h.from_mag, h.to_mag, h.hoa_preserved, h.frames) == (MAG1, MAG2, True, [u, a])
    assert h.handoff_ms == approx_ms(5.0)
    old, new = m.attachments
    assert (old.end_reason, old.end) == ("handoff", pytest.approx(at(100.004), abs=1e-6))
    assert new.end_reason == "end-of-capture"
    assert not codes(r)


def test_handoff_with_dhcp_at_the_new_mag():
    s = Script()
    s.attach(0, MAG1, LMA, 10, nai=NAI1, mac=MN1, hoa=HOA1, xid=0x11, server_id=GW1)
    s.pbu(100, MAG2, LMA, 20, nai=NAI1, mac=MN1, hi=3, hoa=HOA1, plen=24)
    s.pba(100.008, MAG2, LMA, 20, nai=NAI1, mac=MN1, hi=3, hoa=HOA1)
    s.dhcp(100.2, "REQUEST", 0x22, MN1, ZERO, BCAST, requested=HOA1)
    s.dhcp(100.2013, "ACK", 0x22, MN1, GW1, BCAST, yiaddr=HOA1, server_id=GW1,
           mac_src=node_mac(MAG2))
    m = mn(s.report(), NAI1)
    new = m.attachments[1]
    assert new.mag == MAG2
    assert new.address_ms == approx_ms(1.3)
    assert new.attach_ms == approx_ms(201.3)
    assert only(m.handoffs).handoff_ms == approx_ms(8.0)
    assert [x.mag for x in m.dhcp] == [MAG1, MAG2]


def test_rejected_registration_has_latencies_but_no_registration_time():
    s = Script()
    s.pbu(0, MAG1, LMA, 10, nai=NAI1, mac=MN1)
    s.pba(0.006, MAG1, LMA, 10, nai=NAI1, mac=MN1, status=129)
    m = mn(s.report(), NAI1)
    t = only(m.transactions)
    assert (t.outcome, t.status, t.status_name) == ("rejected", 129,
                                                     "Administratively prohibited")
    assert t.rtt_ms == approx_ms(6.0)
    att = only(m.attachments)
    assert att.registered is None and att.attach_ms is None
    assert att.end_reason == "rejected"


def test_bri_bra_pairing():
    s = Script()
    s.pbu(0, MAG1, LMA, 10, nai=NAI1, mac=MN1)
    s.pba(0.005, MAG1, LMA, 10, nai=NAI1, mac=MN1, hoa=HOA1)
    i = s.bri(50, MAG1, LMA, 4711, nai=NAI1, hoa=HOA1, trigger=RevocationTrigger.ADMINISTRATIVE)
    other = s.bra(50.001, MAG1, LMA, 4712)  # another sequence number: not its answer
    a = s.bra(50.0031, MAG1, LMA, 4711, status=BRAStatus.SUCCESS)
    r = s.report()
    m = mn(r, NAI1)
    t = only(x for x in m.transactions if x.kind == "revocation")
    assert (t.mag, t.lma, t.seqs, t.frames) == (MAG1, LMA, [4711], [i, a])
    assert (t.outcome, t.status, t.status_name) == ("accepted", 0, "success")
    assert t.rtt_ms == approx_ms(3.1)
    assert only(diagnostics(r, "orphan-reply")).frames == [other]
    att = only(m.attachments)
    assert (att.end_reason, att.end) == ("revocation", pytest.approx(at(50), abs=1e-6))


def test_heartbeats_are_paired_and_belong_to_no_mn():
    s = Script()
    s.hb(0, MAG1, LMA, 1)
    s.hb(0.003, LMA, MAG1, 1, response=True, restart=7)
    s.hb(0.5, LMA, MAG1, 9)  # the LMA probes too
    s.hb(0.502, MAG1, LMA, 9, response=True)
    r = s.report()
    assert r.mobile_nodes == []
    assert not codes(r)  # an answered heartbeat is no orphan
    assert r.signaling_frames == 4
    assert {(n.name, n.role) for n in r.nodes} <= {(MAG1, "mag"), (LMA, "lma")}


def test_pending_transactions_at_the_end_of_capture_time_out():
    s = Script()
    s.pbu(0, MAG1, LMA, 10, nai=NAI1, mac=MN1)
    r = s.report()
    t = only(mn(r, NAI1).transactions)
    assert t.outcome == "timeout"
    assert only(mn(r, NAI1).attachments).end_reason == "timeout"
