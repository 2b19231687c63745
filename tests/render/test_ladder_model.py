"""The ladder layout model: what every backend draws (lifelines, arrows, notes)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from pmipview.packets import Tally
from pmipview.pipeline import correlate, parse_names
from pmipview.render.ladder.model import build
from pmipview.sources import open_source
from pmipview.sources.capfile import open_capture, write_pcap

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def ladder_of(path: Path, mn: str | None = None, names: dict | None = None, **kw):
    keep: dict = {}
    src = open_source(str(path))
    try:
        report = correlate(src, Tally(), names, keep)
    finally:
        src.close()
    chosen = next(m for m in report.mobile_nodes if mn is None or mn in m.nais)
    return build(report, chosen, keep, **kw)


def arrow(ladder, startswith: str, nth: int = 0):
    return [a for a in ladder.arrows if a.label.startswith(startswith)][nth]


def ends(ladder, a) -> tuple[str, str]:
    return ladder.lifelines[a.src].name, ladder.lifelines[a.dst].name


def test_lifelines_mn_then_mags_in_order_of_use_then_lma_then_dhcp_server():
    lad = ladder_of(SAMPLES / "handover-relay-mode.pcapng")
    assert [(ll.name, ll.role) for ll in lad.lifelines] == [
        ("mn1@example.net", "mn"), ("192.0.2.1", "mag"), ("192.0.2.2", "mag"),
        ("192.0.2.100", "lma"), ("192.0.2.67", "dhcp-server")]


def test_relay_legs_go_through_the_mag_to_the_server():
    lad = ladder_of(SAMPLES / "handover-relay-mode.pcapng")
    assert [ends(lad, a) for a in lad.arrows[2:6]] == [
        ("mn1@example.net", "192.0.2.1"), ("192.0.2.1", "192.0.2.67"),
        ("192.0.2.67", "192.0.2.1"), ("192.0.2.1", "mn1@example.net")]
    assert lad.arrows[3].label == "DHCPDISCOVER · xid 0x2c8732c8 · via 10.10.1.1"


def test_one_lifeline_per_node_when_it_uses_ipv6_and_ipv4():
    lad = ladder_of(SAMPLES / "dual-stack-ipv6-transport.pcapng")
    assert [ll.name for ll in lad.lifelines] == ["mn1@example.net", "2001:db8:1::1",
                                                 "2001:db8::100"]
    offer = arrow(lad, "DHCPOFFER")
    assert ends(lad, offer) == ("2001:db8:1::1", "mn1@example.net")


def test_labels_carry_what_matters():
    lad = ladder_of(SAMPLES / "tour.pcap", "mn1@example.net")
    assert arrow(lad, "PBU").label == "PBU seq 31148 · HI 1 new interface · HoA? 0.0.0.0"
    assert arrow(lad, "PBA").label == ("PBA seq 31148 · 0 Proxy Binding Update accepted · "
                                       "HoA 10.10.0.5/24 · lifetime 600 s")
    assert arrow(lad, "DHCPACK").label == "DHCPACK · xid 0x3903f326 · yiaddr 10.10.0.5"
    dereg = arrow(lad, "PBU", -1)
    assert "lifetime 0 (de-registration)" in dereg.label
    assert arrow(lad, "BRI").label == "BRI seq 4711 · 2 Inter-MAG Handover - same Access Type"


def test_rejections_timeouts_and_retransmissions_stand_out():
    rej = ladder_of(SAMPLES / "tour.pcap", "mn2@example.net")
    pba = arrow(rej, "PBA")
    assert pba.outcome == "rejected"
    assert "170 NOT_AUTHORIZED_FOR_IPV4_MOBILITY_SERVICE" in pba.label
    assert "HoA 129 Administratively prohibited" in pba.label
    lost = ladder_of(SAMPLES / "tour.pcap", "mn3@example.net")
    assert [a.outcome for a in lost.arrows] == ["request", "retransmission", "timeout"]
    notes = [n.text for n in lost.notes_before(3)]
    assert any(t.startswith("pbu-unanswered") for t in notes)
    ok = ladder_of(SAMPLES / "pbu-retransmitted.pcapng")
    outcomes = [a.outcome for a in ok.arrows if a.kind in ("PBU", "PBA")]
    assert "retransmission" in outcomes and outcomes[-1] == "ok"


def test_phases_attach_handoff_detach():
    lad = ladder_of(SAMPLES / "tour.pcap", "mn1@example.net")
    phases = [(n.before, n.text) for n in lad.notes if n.kind == "phase"]
    assert phases[0] == (0, "attach at 192.0.2.1 (14.9 ms)")
    hand = next(p for p in phases if p[1].startswith("handoff"))
    assert hand[1] == "handoff 192.0.2.1 → 2001:db8:1::2, HoA kept, 8.3 ms"
    assert lad.arrows[hand[0]].label.startswith("PBU seq 907 · HI 3 inter-MAG handoff")
    detach = next(p for p in phases if p[1].startswith("detach"))
    assert lad.arrows[detach[0]].label.startswith("PBU seq 908 · lifetime 0")


def test_detail_holds_the_decoded_message():
    lad = ladder_of(SAMPLES / "tour.pcap", "mn2@example.net")
    detail = dict(arrow(lad, "PBA").detail)
    assert detail["frame"] == "29"
    assert detail["status"].startswith("170")
    assert any(v.startswith("129") for k, v in detail.items() if "status" in k and k !=
               "status")


def test_names_file_names_the_lifelines():
    names = parse_names("192.0.2.1 mag1\n2001:db8:1::2 mag2\n192.0.2.100 lma\n")
    lad = ladder_of(SAMPLES / "tour.pcap", "mn1@example.net", names)
    assert [ll.name for ll in lad.lifelines] == ["mn1@example.net", "mag1", "mag2", "lma"]


def test_time_modes():
    rel = ladder_of(SAMPLES / "tour.pcap", "mn1@example.net")
    assert [rel.time_text(i) for i in (0, 1)] == ["0.000000", "0.002100"]
    delta = ladder_of(SAMPLES / "tour.pcap", "mn1@example.net", time_mode="delta")
    assert [delta.time_text(i) for i in (0, 1, 2)] == ["+0.000000", "+0.002100", "+0.007300"]
    ab = ladder_of(SAMPLES / "tour.pcap", "mn1@example.net", time_mode="abs")
    assert len(ab.time_text(0)) == 15 and ab.time_text(0).count(":") == 2
    with pytest.raises(ValueError):
        ladder_of(SAMPLES / "tour.pcap", time_mode="wall")


def test_scope_and_cut():
    full = ladder_of(SAMPLES / "tour.pcap", "mn1@example.net")
    start = full.origin + 400
    part = ladder_of(SAMPLES / "tour.pcap", "mn1@example.net", start=start,
                     end=full.origin + 420)
    assert [a.frame for a in part.arrows] == [18, 19, 20, 21, 22, 23]
    assert part.notes[0].text.startswith("handoff")
    framed = ladder_of(SAMPLES / "tour.pcap", "mn1@example.net", frames=[(1, 4), (34, 36)])
    assert [a.frame for a in framed.arrows] == [1, 2, 3, 4, 34, 35, 36]
    cut = ladder_of(SAMPLES / "tour.pcap", "mn1@example.net", max_messages=5)
    assert len(cut.arrows) == 5 and cut.cut == len(full.arrows) - 5
    assert cut.cut_note.startswith(f"cut: {cut.cut} more messages after 0.015 s not drawn")
    assert full.cut_note is None


def test_a_frame_seen_at_two_capture_points_is_one_arrow(tmp_path):
    records = list(open_capture(str(SAMPLES / "handover-relay-mode.pcapng")))
    doubled = []
    for r in records:  # the same frame seen again 0.1 ms later at a second capture point
        doubled += [r, replace(r, ts_ns=r.ts_ns + 100_000)]
    path = tmp_path / "twice.pcap"
    write_pcap(str(path), doubled)
    once = ladder_of(SAMPLES / "handover-relay-mode.pcapng")
    twice = ladder_of(path)
    assert [a.label for a in twice.arrows] == [a.label for a in once.arrows]
    assert all(len(a.frames) == 2 for a in twice.arrows)


def test_a_slow_second_capture_point_is_still_one_arrow_as_in_the_timeline():
    # captured at the MAG (interface 0) and the LMA (1), 3 s apart: the correlator sees
    # one PBU and one PBA (no retransmission), so the ladder draws two arrows, not four
    from tests.correlate.builders import HOA1, LMA, MAG1, MN1, NAI1, Script

    s = Script()
    u = s.pbu(0, MAG1, LMA, 7, nai=NAI1, mac=MN1, iface=0)
    u2 = s.pbu(3.0, MAG1, LMA, 7, nai=NAI1, mac=MN1, iface=1)
    a2 = s.pba(3.001, MAG1, LMA, 7, nai=NAI1, mac=MN1, hoa=HOA1, iface=1)
    a = s.pba(6.001, MAG1, LMA, 7, nai=NAI1, mac=MN1, hoa=HOA1, iface=0)
    keep: dict = {}
    report = correlate(s.records(), Tally(), None, keep)
    lad = build(report, report.mobile_nodes[0], keep)
    assert [(x.kind, x.frames, x.outcome) for x in lad.arrows] == [
        ("PBU", [u, u2], "request"), ("PBA", [a2, a], "ok")]
    assert report.mobile_nodes[0].transactions[0].retransmissions == 0


def test_same_number_again_on_one_interface_is_drawn_as_a_retransmission():
    from tests.correlate.builders import HOA1, LMA, MAG1, MN1, NAI1, Script

    s = Script()
    s.pbu(0, MAG1, LMA, 7, nai=NAI1, mac=MN1)
    s.pbu(3.0, MAG1, LMA, 7, nai=NAI1, mac=MN1)
    s.pba(3.004, MAG1, LMA, 7, nai=NAI1, mac=MN1, hoa=HOA1)
    keep: dict = {}
    report = correlate(s.records(), Tally(), None, keep)
    lad = build(report, report.mobile_nodes[0], keep)
    assert [(x.kind, x.outcome) for x in lad.arrows] == [
        ("PBU", "request"), ("PBU", "retransmission"), ("PBA", "ok")]
    assert lad.arrows[1].tag == "↻ retransmission"


def test_an_arrow_seen_at_both_capture_points_says_when_it_arrived():
    """The MAG2 capture sees the handoff PBU leave, the LMA's sees it arrive: the arrow is
    drawn at the sender's sighting and its label gives the time to the receiver's."""
    ladder = ladder_of(Path("samples/handover-server-mode.pcapng"))
    pbu = arrow(ladder, "PBU seq 1 · HI 3")
    assert len(pbu.frames) == 2 and pbu.arrived is not None
    assert pbu.transit_ms == pytest.approx((pbu.arrived - pbu.time) * 1000)
    assert 0 < pbu.transit_ms < 50 and pbu.text.endswith(f"arrived +{pbu.transit_ms:.3f} ms")
    single = [a for a in ladder.arrows if len(a.frames) == 1]
    assert single and all(a.transit_ms is None and "arrived" not in a.text for a in single)


def test_one_arrow_per_message_comes_from_the_sightings_the_model_carries():
    """The ladder draws a message seen at two capture points as one arrow because the
    correlator recorded the sightings (Transaction.also, DHCP "also"), not by matching
    times: the same report without them draws every sighting."""
    keep: dict = {}
    with open_source(str(SAMPLES / "handover-server-mode.pcapng")) as src:
        report = correlate(src, Tally(), None, keep)
    mn = report.mobile_nodes[0]
    joined = build(report, mn, keep)
    seen_twice = [a for a in joined.arrows if a.also_frames]
    assert seen_twice
    for t in mn.transactions:
        t.also = {}
    for x in mn.dhcp:
        for m in x.messages:
            m.pop("also", None)
    apart = build(report, mn, keep)
    assert len(apart.arrows) == len(joined.arrows) + sum(len(a.also_frames)
                                                         for a in seen_twice)
    assert not any(a.also_frames for a in apart.arrows)
