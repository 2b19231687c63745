"""Every diagnostic code, triggered by a hand-built capture: code, severity, frames, message.

And the negative: a clean attach / re-registration / handoff / detach has no error or
warning at all.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dissectors.mh_codes import BAStatus, BRAStatus, HoAReplyStatus, RevocationTrigger
from pmipview.correlate.model import DIAGNOSTICS
from tests.correlate.builders import (
    BCAST,
    GW1,
    GW2,
    HOA1,
    HOA2,
    LMA,
    MAG1,
    MAG2,
    MN1,
    MN2,
    MN3,
    NAI1,
    NAI2,
    NAI3,
    ZERO,
    Script,
    all_diagnostics,
    at,
    codes,
    diagnostics,
    mn,
    node_mac,
    only,
)


def check(d, code: str, frames: list[int], *words: str, time: float | None = None,
          mn_id: str | None = "any") -> None:
    """One diagnostic as a user reads it: its code, grade, frames and message."""
    assert d.code == code
    assert d.severity == DIAGNOSTICS[code][0]
    assert sorted(d.frames) == sorted(frames), d
    for word in words:
        assert word in d.message, (word, d.message)
    if time is not None:
        assert d.time == pytest.approx(at(time), abs=1e-6)
    if mn_id != "any":
        assert d.mn == mn_id


# -- PBA outcomes --------------------------------------------------------------------------

def test_pba_rejected_names_the_status():
    s = Script()
    u = s.pbu(0, MAG1, LMA, 10, nai=NAI1, mac=MN1)
    a = s.pba(0.006, MAG1, LMA, 10, nai=NAI1, mac=MN1,
              status=BAStatus.INSUFFICIENT_RESOURCES)
    r = s.report()
    d = only(diagnostics(r, "pba-rejected"))
    check(d, "pba-rejected", [u, a], "130", "Insufficient resources", LMA, MAG1, time=0.006,
          mn_id=NAI1)
    assert d in mn(r, NAI1).diagnostics
    assert d.severity == "error"


def test_pba_rejected_with_an_rfc5844_status():
    s = Script()
    u = s.pbu(0, MAG1, LMA, 10, nai=NAI1, mac=MN1)
    a = s.pba(0.006, MAG1, LMA, 10, nai=NAI1, mac=MN1,
              status=BAStatus.NOT_AUTHORIZED_FOR_IPV4_MOBILITY_SERVICE,
              hoa_status=HoAReplyStatus.ADMINISTRATIVELY_PROHIBITED)
    r = s.report()
    check(only(diagnostics(r, "pba-rejected")), "pba-rejected", [u, a], "170",
          "NOT_AUTHORIZED_FOR_IPV4_MOBILITY_SERVICE")
    check(only(diagnostics(r, "hoa-reply-failure")), "hoa-reply-failure", [a], "129",
          "Administratively prohibited")


def test_hoa_reply_failure_names_the_rfc5844_status():
    # IPv6 service granted (PBA status 0), IPv4 refused in the HoA Reply
    s = Script()
    s.pbu(0, MAG1, LMA, 10, nai=NAI1, mac=MN1, hnp="::/0")
    a = s.pba(0.005, MAG1, LMA, 10, nai=NAI1, mac=MN1, hnp="2001:db8:aa::/64",
              hoa_status=HoAReplyStatus.DYNAMIC_ASSIGNMENT_NOT_AVAILABLE)
    r = s.report()
    d = only(diagnostics(r, "hoa-reply-failure"))
    check(d, "hoa-reply-failure", [a], "132",
          "Dynamic IPv4 home address assignment not available", time=0.005, mn_id=NAI1)
    m = mn(r, NAI1)
    assert m.ipv4_hoas == []
    assert m.attachments[0].ipv4_hoa is None
    assert m.attachments[0].registered is not None  # the IPv6 part was accepted
    assert "pba-rejected" not in codes(r)


def test_pbu_unanswered_lists_every_attempt():
    s = Script()
    frames = [s.pbu(t, MAG1, LMA, seq, nai=NAI3, mac=MN3)
              for t, seq in ((0, 31151), (1, 31152), (3, 31153))]
    s.noise(60)
    r = s.report()
    d = only(diagnostics(r, "pbu-unanswered"))
    check(d, "pbu-unanswered", frames, MAG1, NAI3, "3 PBUs", mn_id=NAI3)
    txn = only(mn(r, NAI3).transactions)
    assert txn.outcome == "timeout"
    assert txn.answered is None and txn.rtt_ms is None


def test_retransmission_is_one_diagnostic_per_registration_with_all_frames():
    s = Script()
    frames = [s.pbu(t, MAG1, LMA, seq, nai=NAI1, mac=MN1)
              for t, seq in ((0, 7), (1, 8), (3, 9))]
    a = s.pba(3.004, MAG1, LMA, 9, nai=NAI1, mac=MN1, hoa=HOA1)
    r = s.report()
    d = only(diagnostics(r, "retransmission"))
    check(d, "retransmission", frames, MAG1, "retransmitted", mn_id=NAI1)
    assert d.severity == "warning"
    assert a not in d.frames
    txn = only(mn(r, NAI1).transactions)
    assert txn.seqs == [7, 8, 9]
    assert txn.retransmissions == 2
    assert txn.outcome == "accepted"
    assert "pbu-unanswered" not in codes(r)


def test_two_registrations_retransmitted_give_two_diagnostics():
    s = Script()
    s.pbu(0, MAG1, LMA, 7, nai=NAI1, mac=MN1)
    s.pbu(1, MAG1, LMA, 8, nai=NAI1, mac=MN1)
    s.pba(1.005, MAG1, LMA, 8, nai=NAI1, mac=MN1, hoa=HOA1)
    s.pbu(0.5, MAG2, LMA, 3, nai=NAI2, mac=MN2)
    s.pbu(1.5, MAG2, LMA, 4, nai=NAI2, mac=MN2)
    s.pba(1.506, MAG2, LMA, 4, nai=NAI2, mac=MN2, hoa=HOA2)
    s.frames.sort(key=lambda f: f[0])  # script order = time order
    r = s.report()
    ds = diagnostics(r, "retransmission")
    assert len(ds) == 2
    by_mn = {d.mn: d for d in ds}
    assert sorted(by_mn[NAI1].frames) == [1, 3]
    assert sorted(by_mn[NAI2].frames) == [2, 5]


def test_lifetime_reduced_is_a_note():
    s = Script()
    s.pbu(0, MAG1, LMA, 10, nai=NAI1, mac=MN1, lifetime=600)
    a = s.pba(0.005, MAG1, LMA, 10, nai=NAI1, mac=MN1, hoa=HOA1, lifetime=300)
    r = s.report()
    check(only(diagnostics(r, "lifetime-reduced")), "lifetime-reduced", [a], "300", "600")
    assert mn(r, NAI1).attachments[0].lifetime == 300


def test_pba_without_p_flag():
    s = Script()
    s.pbu(0, MAG1, LMA, 10, nai=NAI1, mac=MN1)
    a = s.pba(0.005, MAG1, LMA, 10, nai=NAI1, mac=MN1, hoa=HOA1, proxy=False)
    r = s.report()
    check(only(diagnostics(r, "pba-without-p-flag")), "pba-without-p-flag", [a], "seq 10",
          "no P flag", mn_id=NAI1)
    txn = only(mn(r, NAI1).transactions)
    assert txn.outcome == "accepted" and len(txn.frames) == 2


def test_orphan_reply_pba_and_bra():
    s = Script()
    a = s.pba(0.005, MAG1, LMA, 10, nai=NAI1, mac=MN1, hoa=HOA1)
    b = s.bra(1, MAG1, LMA, 77)
    r = s.report()
    ds = diagnostics(r, "orphan-reply")
    assert len(ds) == 2
    check(ds[0], "orphan-reply", [a], "PBA seq 10", "without its PBU")
    check(ds[1], "orphan-reply", [b], "BRA seq 77", "without its BRI")
    assert all(d.severity == "note" for d in ds)


# -- sequence and timestamp ordering ---------------------------------------------------------

def test_seq_backwards():
    s = Script()
    s.pbu(0, MAG1, LMA, 500, nai=NAI1, mac=MN1)
    s.pba(0.005, MAG1, LMA, 500, nai=NAI1, mac=MN1, hoa=HOA1)
    u = s.pbu(100, MAG1, LMA, 400, nai=NAI1, mac=MN1, hi=5, hoa=HOA1, plen=24)
    s.pba(100.005, MAG1, LMA, 400, nai=NAI1, mac=MN1, hi=5, hoa=HOA1)
    r = s.report()
    check(only(diagnostics(r, "seq-backwards")), "seq-backwards", [u], "400", "500",
          time=100, mn_id=NAI1)


def test_seq_wrapping_around_is_not_backwards():
    s = Script()
    s.pbu(0, MAG1, LMA, 65535, nai=NAI1, mac=MN1)
    s.pba(0.005, MAG1, LMA, 65535, nai=NAI1, mac=MN1, hoa=HOA1)
    s.pbu(100, MAG1, LMA, 0, nai=NAI1, mac=MN1, hi=5, hoa=HOA1, plen=24)
    s.pba(100.005, MAG1, LMA, 0, nai=NAI1, mac=MN1, hi=5, hoa=HOA1)
    assert "seq-backwards" not in codes(s.report())


def test_seq_counted_per_mobility_session():
    # one MAG, two interfaces of one MN, each session with its own sequence numbers
    s = Script()
    s.pbu(0, MAG1, LMA, 500, nai=NAI1, mac=MN1)
    s.pba(0.005, MAG1, LMA, 500, nai=NAI1, mac=MN1, hoa=HOA1)
    s.pbu(1, MAG1, LMA, 1, nai=NAI1, mac=MN2)
    s.pba(1.005, MAG1, LMA, 1, nai=NAI1, mac=MN2, hoa=HOA2)
    s.pbu(100, MAG1, LMA, 501, nai=NAI1, mac=MN1, hi=5, hoa=HOA1, plen=24)
    s.pba(100.005, MAG1, LMA, 501, nai=NAI1, mac=MN1, hi=5, hoa=HOA1)
    r = s.report()
    assert "seq-backwards" not in codes(r)
    assert len(only(r.mobile_nodes).attachments) == 2


def test_timestamp_backwards():
    s = Script()
    s.pbu(0, MAG1, LMA, 10, nai=NAI1, mac=MN1, ts=50)
    s.pba(0.005, MAG1, LMA, 10, nai=NAI1, mac=MN1, hoa=HOA1)
    u = s.pbu(100, MAG1, LMA, 11, nai=NAI1, mac=MN1, hi=5, ts=40)
    s.pba(100.005, MAG1, LMA, 11, nai=NAI1, mac=MN1, hi=5, hoa=HOA1)
    r = s.report()
    check(only(diagnostics(r, "timestamp-backwards")), "timestamp-backwards", [u],
          "older", time=100, mn_id=NAI1)


# -- lifetime --------------------------------------------------------------------------

def test_binding_expired_when_not_refreshed_and_the_capture_goes_on():
    s = Script()
    s.pbu(0, MAG1, LMA, 10, nai=NAI1, mac=MN1, lifetime=60)
    a = s.pba(0.005, MAG1, LMA, 10, nai=NAI1, mac=MN1, hoa=HOA1, lifetime=60)
    s.noise(200)
    r = s.report()
    d = only(diagnostics(r, "binding-expired"))
    check(d, "binding-expired", [a], MAG1, "60 s", time=60.005, mn_id=NAI1)
    att = only(mn(r, NAI1).attachments)
    assert att.end_reason == "expired"
    assert att.end == pytest.approx(at(60.005), abs=1e-6)


def test_no_expiry_when_refreshed_or_when_the_capture_ends_first():
    s = Script()
    s.pbu(0, MAG1, LMA, 10, nai=NAI1, mac=MN1, lifetime=60)
    s.pba(0.005, MAG1, LMA, 10, nai=NAI1, mac=MN1, hoa=HOA1, lifetime=60)
    s.pbu(50, MAG1, LMA, 11, nai=NAI1, mac=MN1, hi=5, hoa=HOA1, plen=24, lifetime=60)
    s.pba(50.005, MAG1, LMA, 11, nai=NAI1, mac=MN1, hi=5, hoa=HOA1, lifetime=60)
    s.noise(100)  # the refresh holds until 110 s
    r = s.report()
    assert "binding-expired" not in codes(r)
    att = only(mn(r, NAI1).attachments)
    assert att.end_reason == "end-of-capture" and att.refreshes == 1


# -- DHCP ------------------------------------------------------------------------------

def test_dhcp_nak():
    s = Script()
    a = s.attach(0, MAG1, LMA, 10, nai=NAI1, mac=MN1, hoa=HOA1, xid=0x11, server_id=GW1)
    s.dhcp(30, "REQUEST", 0x22, MN1, ZERO, BCAST, requested=HOA2)
    nak = s.dhcp(30.002, "NAK", 0x22, MN1, GW1, BCAST, server_id=GW1)
    r = s.report()
    d = only(diagnostics(r, "dhcp-nak"))
    check(d, "dhcp-nak", [nak], "DHCPNAK", "0x00000022", time=30.002, mn_id=NAI1)
    ex = [x for x in mn(r, NAI1).dhcp if x.xid == 0x22]
    assert only(ex).outcome == "nak"
    del a


def test_yiaddr_mismatch():
    s = Script()
    s.dhcp(0, "DISCOVER", 0x11, MN1, ZERO, BCAST)
    s.pbu(0.002, MAG1, LMA, 10, nai=NAI1, mac=MN1)
    s.pba(0.009, MAG1, LMA, 10, nai=NAI1, mac=MN1, hoa=HOA1)
    s.dhcp(0.010, "OFFER", 0x11, MN1, GW1, BCAST, yiaddr=HOA2, server_id=GW1)
    s.dhcp(0.012, "REQUEST", 0x11, MN1, ZERO, BCAST, requested=HOA2, server_id=GW1)
    ack = s.dhcp(0.013, "ACK", 0x11, MN1, GW1, BCAST, yiaddr=HOA2, server_id=GW1)
    r = s.report()
    ds = diagnostics(r, "yiaddr-mismatch")
    assert ds, "no yiaddr-mismatch"
    check(ds[-1], "yiaddr-mismatch", [ack], HOA2, HOA1, MAG1, "ACK", mn_id=NAI1)
    assert all(d.severity == "error" for d in ds)
    assert len(mn(r, NAI1).attachments) == 1


def _handoff(s: Script, server2: str = GW2, hoa2: str = HOA1) -> dict[str, int]:
    """mn1 attaches at MAG1 (server id GW1), then moves to MAG2 at t=100."""
    a = s.attach(0, MAG1, LMA, 10, nai=NAI1, mac=MN1, hoa=HOA1, xid=0x11, server_id=GW1)
    u = s.pbu(100, MAG2, LMA, 20, nai=NAI1, mac=MN1, hi=3, hoa=HOA1, plen=24)
    b = s.pba(100.008, MAG2, LMA, 20, nai=NAI1, mac=MN1, hi=3, hoa=hoa2, gw=server2)
    return {"ack1": a.ack, "pbu2": u, "pba2": b}


def test_server_id_changed_across_a_handoff():
    s = Script()
    f = _handoff(s)
    s.dhcp(100.2, "REQUEST", 0x33, MN1, ZERO, BCAST, requested=HOA1)
    ack = s.dhcp(100.202, "ACK", 0x33, MN1, GW2, BCAST, yiaddr=HOA1, server_id=GW2,
                 mac_src=node_mac(MAG2))
    r = s.report()
    d = only(diagnostics(r, "server-id-changed"))
    check(d, "server-id-changed", [ack], GW1, GW2, MAG1, MAG2, time=100.202, mn_id=NAI1)
    del f


def test_same_server_id_across_a_handoff_is_fine():
    s = Script()
    _handoff(s)
    s.dhcp(100.2, "REQUEST", 0x33, MN1, ZERO, BCAST, requested=HOA1)
    s.dhcp(100.202, "ACK", 0x33, MN1, GW1, BCAST, yiaddr=HOA1, server_id=GW1)
    assert "server-id-changed" not in codes(s.report())


def test_unicast_to_previous_mag():
    s = Script()
    _handoff(s)
    req = s.dhcp(150, "REQUEST", 0x44, MN1, HOA1, GW1, ciaddr=HOA1, mac_dst=node_mac(MAG2))
    r = s.report()
    d = only(diagnostics(r, "unicast-to-previous-mag"))
    check(d, "unicast-to-previous-mag", [req], GW1, MAG1, MAG2, time=150, mn_id=NAI1)


def test_unicast_renewal_to_the_current_server_is_fine():
    s = Script()
    s.attach(0, MAG1, LMA, 10, nai=NAI1, mac=MN1, hoa=HOA1, xid=0x11, server_id=GW1)
    s.dhcp(150, "REQUEST", 0x44, MN1, HOA1, GW1, ciaddr=HOA1, mac_dst=node_mac(MAG1))
    s.dhcp(150.001, "ACK", 0x44, MN1, GW1, HOA1, ciaddr=HOA1, yiaddr=HOA1, server_id=GW1)
    r = s.report()
    assert not codes(r)
    assert only(mn(r, NAI1).attachments).end_reason == "end-of-capture"


# -- addresses -------------------------------------------------------------------------

def test_duplicate_hoa_two_mns_given_one_address_at_once():
    s = Script()
    s.attach(0, MAG1, LMA, 10, nai=NAI1, mac=MN1, hoa=HOA1, xid=0x11, server_id=GW1)
    a2 = s.attach(5, MAG2, LMA, 20, nai=NAI2, mac=MN2, hoa=HOA1, xid=0x22, server_id=GW2)
    # both use the address: mn1 renews it, mn2 too
    s.dhcp(60, "REQUEST", 0x33, MN1, HOA1, GW1, ciaddr=HOA1, mac_dst=node_mac(MAG1))
    s.dhcp(60.001, "ACK", 0x33, MN1, GW1, HOA1, ciaddr=HOA1, yiaddr=HOA1, server_id=GW1)
    s.dhcp(61, "REQUEST", 0x44, MN2, HOA1, GW2, ciaddr=HOA1, mac_dst=node_mac(MAG2))
    s.dhcp(61.001, "ACK", 0x44, MN2, GW2, HOA1, ciaddr=HOA1, yiaddr=HOA1, server_id=GW2)
    r = s.report()
    assert sorted(m.id for m in r.mobile_nodes) == [NAI1, NAI2], "the two MNs were merged"
    d = only(diagnostics(r, "duplicate-hoa"))
    check(d, "duplicate-hoa", [a2.pba], HOA1, NAI1, NAI2, time=5.009)
    assert mn(r, NAI2).attachments[0].ipv4_hoa == HOA1
    assert [x.xid for x in mn(r, NAI1).dhcp] == [0x11, 0x33]
    assert [x.xid for x in mn(r, NAI2).dhcp] == [0x22, 0x44]


def test_same_hoa_after_the_first_mn_left_is_fine():
    s = Script()
    s.pbu(0, MAG1, LMA, 10, nai=NAI1, mac=MN1)
    s.pba(0.005, MAG1, LMA, 10, nai=NAI1, mac=MN1, hoa=HOA1)
    s.pbu(10, MAG1, LMA, 11, nai=NAI1, mac=MN1, hi=4, lifetime=0, hoa=HOA1, plen=24)
    s.pba(10.005, MAG1, LMA, 11, nai=NAI1, mac=MN1, hi=4, lifetime=0, hoa=HOA1)
    s.pbu(20, MAG2, LMA, 20, nai=NAI2, mac=MN2)
    s.pba(20.005, MAG2, LMA, 20, nai=NAI2, mac=MN2, hoa=HOA1)
    r = s.report()
    assert "duplicate-hoa" not in codes(r)
    assert len(r.mobile_nodes) == 2


def test_hoa_changed_on_handoff():
    s = Script()
    f = _handoff(s, server2=GW1, hoa2=HOA2)
    r = s.report()
    d = only(diagnostics(r, "hoa-changed-on-handoff"))
    check(d, "hoa-changed-on-handoff", [f["pba2"]], HOA1, HOA2, MAG1, MAG2, time=100.008,
          mn_id=NAI1)
    h = only(mn(r, NAI1).handoffs)
    assert h.hoa_preserved is False


# -- malformed, revocation, heartbeat ------------------------------------------------------

def test_malformed_truncated_pbu():
    s = Script()
    s.noise(0)
    bad = s.pbu(1, MAG1, LMA, 10, nai=NAI1, mac=MN1, truncate=10)
    r = s.report()
    d = only(diagnostics(r, "malformed"))
    check(d, "malformed", [bad], "mh", time=1)
    assert r.malformed_frames == 1
    assert r.mobile_nodes == []


def test_revocation_failed_bra_status():
    s = Script()
    s.pbu(0, MAG1, LMA, 10, nai=NAI1, mac=MN1)
    s.pba(0.005, MAG1, LMA, 10, nai=NAI1, mac=MN1, hoa=HOA1)
    i = s.bri(10, MAG1, LMA, 4711, nai=NAI1, hoa=HOA1)
    a = s.bra(10.003, MAG1, LMA, 4711, status=BRAStatus.BINDING_DOES_NOT_EXIST)
    r = s.report()
    d = only(diagnostics(r, "revocation-failed"))
    check(d, "revocation-failed", [i, a], "128", "Binding Does NOT Exist", time=10.003,
          mn_id=NAI1)
    txn = only(t for t in mn(r, NAI1).transactions if t.kind == "revocation")
    assert txn.outcome == "rejected"


def test_revocation_failed_bri_never_answered():
    s = Script()
    s.pbu(0, MAG1, LMA, 10, nai=NAI1, mac=MN1)
    s.pba(0.005, MAG1, LMA, 10, nai=NAI1, mac=MN1, hoa=HOA1)
    i = s.bri(10, MAG1, LMA, 4711, nai=NAI1, trigger=RevocationTrigger.ADMINISTRATIVE)
    s.noise(20)
    r = s.report()
    d = only(diagnostics(r, "revocation-failed"))
    check(d, "revocation-failed", [i], "4711", "never answered", MAG1, time=10, mn_id=NAI1)


def test_peer_restarted():
    s = Script()
    s.hb(0, MAG1, LMA, 1)
    s.hb(0.003, LMA, MAG1, 1, response=True, restart=3)
    s.hb(30, MAG1, LMA, 2)
    s.hb(30.003, LMA, MAG1, 2, response=True, restart=3)
    s.hb(60, MAG1, LMA, 3)
    resp = s.hb(60.003, LMA, MAG1, 3, response=True, restart=4)
    r = s.report()
    d = only(diagnostics(r, "peer-restarted"))
    check(d, "peer-restarted", [resp], LMA, "3 -> 4", time=60.003)
    assert r.mobile_nodes == []


# -- the negative --------------------------------------------------------------------------

def test_clean_attach_refresh_handoff_detach_has_no_error_or_warning():
    s = Script()
    s.attach(0, MAG1, LMA, 10, nai=NAI1, mac=MN1, hoa=HOA1, xid=0x11, server_id=GW1)
    s.hb(30, MAG1, LMA, 1)
    s.hb(30.003, LMA, MAG1, 1, response=True, restart=1)
    s.pbu(300, MAG1, LMA, 11, nai=NAI1, mac=MN1, hi=5, hoa=HOA1, plen=24)
    s.pba(300.006, MAG1, LMA, 11, nai=NAI1, mac=MN1, hi=5, hoa=HOA1, gw=GW1)
    # handoff to MAG2, the LMA revokes MAG1's binding
    s.dhcp(400, "REQUEST", 0x22, MN1, ZERO, BCAST, requested=HOA1)
    s.pbu(400.002, MAG2, LMA, 20, nai=NAI1, mac=MN1, hi=3, hoa=HOA1, plen=24)
    s.pba(400.010, MAG2, LMA, 20, nai=NAI1, mac=MN1, hi=3, hoa=HOA1, gw=GW1)
    s.bri(400.011, MAG1, LMA, 4711, nai=NAI1, hoa=HOA1,
          trigger=RevocationTrigger.INTER_MAG_SAME_ACCESS)
    s.bra(400.014, MAG1, LMA, 4711)
    s.dhcp(400.012, "ACK", 0x22, MN1, GW1, BCAST, yiaddr=HOA1, server_id=GW1,
           mac_src=node_mac(MAG2))
    s.frames.sort(key=lambda f: f[0])
    # a second MN comes and goes at MAG1
    s.attach(450, MAG1, LMA, 12, nai=NAI2, mac=MN2, hoa=HOA2, xid=0x55, server_id=GW1)
    s.dhcp(500, "RELEASE", 0x66, MN2, HOA2, GW1, ciaddr=HOA2, server_id=GW1,
           mac_dst=node_mac(MAG1))
    s.pbu(500.001, MAG1, LMA, 13, nai=NAI2, mac=MN2, hi=4, lifetime=0, hoa=HOA2, plen=24)
    s.pba(500.006, MAG1, LMA, 13, nai=NAI2, mac=MN2, hi=4, lifetime=0, hoa=HOA2)
    # mn1 detaches at MAG2
    s.dhcp(600, "RELEASE", 0x77, MN1, HOA1, GW1, ciaddr=HOA1, server_id=GW1,
           mac_dst=node_mac(MAG2))
    s.pbu(600.001, MAG2, LMA, 21, nai=NAI1, mac=MN1, hi=4, lifetime=0, hoa=HOA1, plen=24)
    s.pba(600.007, MAG2, LMA, 21, nai=NAI1, mac=MN1, hi=4, lifetime=0, hoa=HOA1)
    s.noise(700)
    r = s.report()
    bad = [d for d in all_diagnostics(r) if d.severity in ("error", "warning")]
    assert bad == []
    m1, m2 = mn(r, NAI1), mn(r, NAI2)
    assert [a.end_reason for a in m1.attachments] == ["handoff", "detach"]
    assert [a.end_reason for a in m2.attachments] == ["detach"]
    assert len(r.mobile_nodes) == 2
    assert only(m1.handoffs).hoa_preserved is True


def test_every_diagnostic_code_has_a_test():
    # each code is checked (code, grade, frames, message) by a test of this module
    source = Path(__file__).read_text()
    calls = [line for line in source.splitlines() if line.strip().startswith("check(")]
    checked = {code for line in calls for code in re.findall(r'"([a-z0-9-]+)"', line)
               if code in DIAGNOSTICS}
    missing = set(DIAGNOSTICS) - checked
    assert not missing, f"untested diagnostic codes: {sorted(missing)}"
