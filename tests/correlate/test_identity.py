"""Which MN each frame is about: NAI, MN-LLI, DHCP chaddr / client id, option-82 remote id
and the IPv4 HoA, merged as evidence arrives."""

from __future__ import annotations

import pytest

from dissectors.mh_codes import RevocationTrigger
from tests.correlate.builders import (
    BCAST,
    GW1,
    HOA1,
    HOA2,
    LMA,
    LMA_6,
    MAG1,
    MAG2,
    MAG2_6,
    MN1,
    MN2,
    NAI1,
    SERVER,
    ZERO,
    Script,
    at,
    codes,
    mn,
    node_mac,
    only,
)


def test_dhcp_discover_before_the_pbu_is_the_same_mn():
    s = Script()
    a = s.attach(0, MAG1, LMA, 10, nai=NAI1, mac=MN1, hoa=HOA1, xid=0x11, server_id=GW1)
    r = s.report()
    m = only(r.mobile_nodes)
    assert m.id == NAI1 and m.nai == NAI1
    assert m.macs == [MN1]
    assert m.ipv4_hoas == [HOA1]
    att = only(m.attachments)
    assert att.start == pytest.approx(at(0), abs=1e-6)  # the DISCOVER, not the PBU
    assert a.discover in att.frames and a.pbu in att.frames and a.ack in att.frames
    assert att.mag == MAG1 and att.registered == pytest.approx(at(0.009), abs=1e-6)
    ex = only(m.dhcp)
    assert [msg["frame"] for msg in ex.messages] == [a.discover, a.offer, a.request, a.ack]
    assert ex.outcome == "ack" and ex.yiaddr == HOA1 and ex.mag == MAG1


def test_mac_only_mn_dhcp_without_mobility_signaling():
    s = Script()
    s.dhcp(0, "DISCOVER", 0x11, MN1, ZERO, BCAST)
    s.dhcp(0.002, "OFFER", 0x11, MN1, GW1, BCAST, yiaddr=HOA1, server_id=GW1)
    s.dhcp(0.004, "REQUEST", 0x11, MN1, ZERO, BCAST, requested=HOA1, server_id=GW1)
    s.dhcp(0.005, "ACK", 0x11, MN1, GW1, BCAST, yiaddr=HOA1, server_id=GW1)
    r = s.report()
    m = only(r.mobile_nodes)
    assert m.id == MN1
    assert m.nai is None and m.macs == [MN1]
    assert m.attachments == [] and m.transactions == []
    ex = only(m.dhcp)
    assert ex.outcome == "ack" and ex.yiaddr == HOA1
    assert ex.address_ms == pytest.approx(5.0, abs=1e-3)


def test_client_identifier_and_chaddr_are_one_mn():
    s = Script()
    s.dhcp(0, "DISCOVER", 0x11, MN1, ZERO, BCAST)
    s.pbu(0.002, MAG1, LMA, 10, nai=NAI1, mac=MN1)
    s.pba(0.009, MAG1, LMA, 10, nai=NAI1, mac=MN1, hoa=HOA1)
    # a REQUEST whose chaddr is not the MN's MAC but whose client id (61) is
    s.raw(0.012, _request_with_client_id(MN1, chaddr="02:99:99:99:99:99"))
    r = s.report()
    m = only(r.mobile_nodes)
    assert m.id == NAI1
    assert MN1 in m.macs


def _request_with_client_id(mac: str, chaddr: str) -> bytes:
    from ipaddress import IPv4Address

    from dissectors.dhcp import DhcpMessage
    from dissectors.dhcp_codes import DhcpMessageType as T
    from dissectors.dhcp_options import DhcpClientIdOption, DhcpMessageTypeOption
    from dissectors.frame import build_frame
    from dissectors.link import Ethernet, EtherType, LinkType

    msg = DhcpMessage(xid=0x11, chaddr=chaddr, flags=0x8000,
                      options=(DhcpMessageTypeOption(T.REQUEST),
                               DhcpClientIdOption.from_mac(mac)))
    return build_frame(LinkType.ETHERNET, IPv4Address(ZERO), IPv4Address(BCAST), msg,
                       link=Ethernet("ff:ff:ff:ff:ff:ff", chaddr, EtherType.IPV4))


def test_nai_only_pbu_without_lli_and_no_dhcp():
    s = Script()
    s.pbu(0, MAG1, LMA, 10, nai=NAI1, mac=None)
    s.pba(0.006, MAG1, LMA, 10, nai=NAI1, mac=None, hoa=HOA1)
    s.pbu(300, MAG1, LMA, 11, nai=NAI1, mac=None, hi=5, hoa=HOA1, plen=24)
    s.pba(300.006, MAG1, LMA, 11, nai=NAI1, mac=None, hi=5, hoa=HOA1)
    r = s.report()
    m = only(r.mobile_nodes)
    assert m.id == NAI1 and m.macs == []
    att = only(m.attachments)
    assert att.refreshes == 1 and att.ipv4_hoa == HOA1
    assert [t.kind for t in m.transactions] == ["registration", "refresh"]


def test_pbu_without_lli_merged_with_dhcp_through_the_hoa():
    s = Script()
    s.pbu(0, MAG1, LMA, 10, nai=NAI1, mac=None)
    s.pba(0.006, MAG1, LMA, 10, nai=NAI1, mac=None, hoa=HOA1)
    d = s.dhcp(0.5, "DISCOVER", 0x11, MN1, ZERO, BCAST)  # nothing links it yet
    s.dhcp(0.502, "OFFER", 0x11, MN1, GW1, BCAST, yiaddr=HOA1, server_id=GW1)
    s.dhcp(0.504, "REQUEST", 0x11, MN1, ZERO, BCAST, requested=HOA1, server_id=GW1)
    ack = s.dhcp(0.505, "ACK", 0x11, MN1, GW1, BCAST, yiaddr=HOA1, server_id=GW1)
    r = s.report()
    m = only(r.mobile_nodes)
    assert m.id == NAI1
    assert m.macs == [MN1] and m.ipv4_hoas == [HOA1]
    ex = only(m.dhcp)
    assert ex.outcome == "ack" and ex.messages[0]["frame"] == d
    att = only(m.attachments)
    assert att.dhcp_ack == pytest.approx(at(0.505), abs=1e-6)
    assert att.address_ms == pytest.approx(5.0, abs=1e-3)
    assert ack in att.frames


def test_dhcp_linked_late_does_not_start_the_next_attachment():
    s = Script()
    s.pbu(0, MAG1, LMA, 10, nai=NAI1, mac=None)
    s.pba(0.006, MAG1, LMA, 10, nai=NAI1, mac=None, hoa=HOA1)
    s.dhcp(0.5, "DISCOVER", 0x11, MN1, ZERO, BCAST)
    s.dhcp(0.502, "OFFER", 0x11, MN1, GW1, BCAST, yiaddr=HOA1, server_id=GW1)
    s.pbu(30, MAG2, LMA, 20, nai=NAI1, mac=None, hi=3, hoa=HOA1, plen=24)
    s.pba(30.006, MAG2, LMA, 20, nai=NAI1, mac=None, hi=3, hoa=HOA1)
    m = only(s.report().mobile_nodes)
    assert [a.start for a in m.attachments] == [pytest.approx(at(0), abs=1e-6),
                                               pytest.approx(at(30), abs=1e-6)]
    assert m.attachments[1].attach_ms == pytest.approx(6.0, abs=1e-3)


def test_pbu_without_lli_discover_first_merged_through_the_hoa():
    # server mode: the DISCOVER triggers the PBU; only the OFFER's yiaddr links them
    s = Script()
    d = s.dhcp(0, "DISCOVER", 0x11, MN1, ZERO, BCAST)
    s.pbu(0.002, MAG1, LMA, 10, nai=NAI1, mac=None)
    s.pba(0.009, MAG1, LMA, 10, nai=NAI1, mac=None, hoa=HOA1)
    s.dhcp(0.010, "OFFER", 0x11, MN1, GW1, BCAST, yiaddr=HOA1, server_id=GW1)
    s.dhcp(0.012, "REQUEST", 0x11, MN1, ZERO, BCAST, requested=HOA1, server_id=GW1)
    s.dhcp(0.013, "ACK", 0x11, MN1, GW1, BCAST, yiaddr=HOA1, server_id=GW1)
    r = s.report()
    m = only(r.mobile_nodes)
    assert m.id == NAI1 and m.macs == [MN1]
    att = only(m.attachments)
    assert att.start == pytest.approx(at(0), abs=1e-6)
    assert d in att.frames
    assert att.attach_ms == pytest.approx(13.0, abs=1e-3)
    assert att.address_ms == pytest.approx(13.0, abs=1e-3)


def test_two_interfaces_one_nai_two_attachments_at_once():
    s = Script()
    s.pbu(0, MAG1, LMA, 10, nai=NAI1, mac=MN1, hi=1)
    s.pbu(0.001, MAG1, LMA, 11, nai=NAI1, mac=MN2, hi=1)  # before the first PBA
    s.pba(0.006, MAG1, LMA, 10, nai=NAI1, mac=MN1, hi=1, hoa=HOA1)
    s.pba(0.007, MAG1, LMA, 11, nai=NAI1, mac=MN2, hi=1, hoa=HOA2)
    s.dhcp(0.5, "DISCOVER", 0x11, MN2, ZERO, BCAST)
    s.dhcp(0.502, "OFFER", 0x11, MN2, GW1, BCAST, yiaddr=HOA2, server_id=GW1)
    s.dhcp(0.504, "REQUEST", 0x11, MN2, ZERO, BCAST, requested=HOA2, server_id=GW1)
    s.dhcp(0.505, "ACK", 0x11, MN2, GW1, BCAST, yiaddr=HOA2, server_id=GW1)
    # the second interface moves to MAG2 while the first stays at MAG1
    s.pbu(10, MAG2, LMA, 20, nai=NAI1, mac=MN2, hi=3, hoa=HOA2, plen=24)
    s.pba(10.006, MAG2, LMA, 20, nai=NAI1, mac=MN2, hi=3, hoa=HOA2)
    r = s.report()
    m = only(r.mobile_nodes)
    assert m.id == NAI1
    assert sorted(m.macs) == [MN1, MN2]
    assert sorted(m.ipv4_hoas) == [HOA1, HOA2]
    assert [(a.key, a.mag, a.ipv4_hoa, a.end_reason) for a in m.attachments] == [
        (MN1, MAG1, HOA1, "end-of-capture"),
        (MN2, MAG1, HOA2, "handoff"),
        (MN2, MAG2, HOA2, "end-of-capture")]
    # both registrations were answered: neither is a retransmission of the other
    assert [(t.seqs, t.outcome) for t in m.transactions] == [
        ([10], "accepted"), ([11], "accepted"), ([20], "accepted")]
    assert "retransmission" not in codes(r) and "duplicate-hoa" not in codes(r)
    h = only(m.handoffs)
    assert (h.from_mag, h.to_mag, h.hoa_preserved) == (MAG1, MAG2, True)
    # DHCP of the second interface went to its attachment
    assert m.attachments[1].dhcp_ack == pytest.approx(at(0.505), abs=1e-6)
    assert m.attachments[0].dhcp_ack is None


def test_inter_interface_handoff_moves_the_hoa_to_the_other_interface():
    # RFC 5213 §5.4.1 / RFC 5844: HI=2, the WLAN interface's HoA moves to the LTE one
    s = Script()
    s.pbu(0, MAG1, LMA, 10, nai=NAI1, mac=MN1, hi=1)
    s.pba(0.01, MAG1, LMA, 10, nai=NAI1, mac=MN1, hi=1, hoa=HOA1)
    s.pbu(2, MAG2, LMA, 20, nai=NAI1, mac=MN2, hi=1)
    s.pba(2.01, MAG2, LMA, 20, nai=NAI1, mac=MN2, hi=1, hoa=HOA2)
    s.pbu(8.95, MAG2, LMA, 21, nai=NAI1, mac=MN2, hi=4, lifetime=0, hoa=HOA2, plen=24)
    s.pba(8.96, MAG2, LMA, 21, nai=NAI1, mac=MN2, hi=4, lifetime=0, hoa=HOA2)
    u = s.pbu(18.949, MAG2, LMA, 22, nai=NAI1, mac=MN2, hi=2)
    a = s.pba(18.959, MAG2, LMA, 22, nai=NAI1, mac=MN2, hi=2, hoa=HOA1)
    s.bri(18.96, MAG1, LMA, 1, nai=NAI1, hoa=HOA1,
          trigger=RevocationTrigger.INTER_MAG_DIFFERENT_ACCESS)
    s.bra(18.961, MAG1, LMA, 1)
    r = s.report()
    m = only(r.mobile_nodes)
    assert [(a.key, a.mag, a.ipv4_hoa, a.end_reason) for a in m.attachments] == [
        (MN1, MAG1, HOA1, "handoff"), (MN2, MAG2, HOA2, "detach"),
        (MN2, MAG2, HOA1, "end-of-capture")]
    h = only(m.handoffs)
    assert (h.from_mag, h.to_mag, h.hoa_preserved) == (MAG1, MAG2, True)
    assert h.handoff_ms == pytest.approx(10.0, abs=1e-3)
    assert h.frames == [u, a]
    assert not codes(r)


def test_ipv4_only_mn_over_ipv4_transport():
    s = Script()
    a = s.attach(0, MAG1, LMA, 10, nai=NAI1, mac=MN1, hoa=HOA1, xid=0x11, server_id=GW1)
    r = s.report()
    m = only(r.mobile_nodes)
    assert m.hnps == [] and m.ipv4_hoas == [HOA1]
    att = only(m.attachments)
    assert att.hnps == [] and att.ipv4_hoa == HOA1 and att.ipv4_plen == 24
    assert att.dhcp_mode == "server"
    assert att.registered is not None and a.pba in att.frames
    assert {n.role for n in r.nodes} == {"mag", "lma"}


def test_ipv4_only_mn_over_ipv6_transport():
    s = Script()
    s.pbu(0, MAG2_6, LMA_6, 10, nai=NAI1, mac=MN1)
    s.pba(0.005, MAG2_6, LMA_6, 10, nai=NAI1, mac=MN1, hoa=HOA1)
    r = s.report()
    m = only(r.mobile_nodes)
    assert m.hnps == [] and m.ipv4_hoas == [HOA1] and m.lma == LMA_6
    assert only(m.attachments).mag == MAG2_6


def test_dual_stack_mn_has_its_hnp_and_hoa():
    s = Script()
    s.pbu(0, MAG1, LMA, 10, nai=NAI1, mac=MN1, hnp="::/0")
    s.pba(0.005, MAG1, LMA, 10, nai=NAI1, mac=MN1, hnp="2001:db8:aa::/64", hoa=HOA1)
    m = only(s.report().mobile_nodes)
    assert m.hnps == ["2001:db8:aa::/64"] and m.ipv4_hoas == [HOA1]
    assert only(m.attachments).hnps == ["2001:db8:aa::/64"]


def test_capture_at_the_lma_only_no_dhcp_seen():
    s = Script()
    s.pbu(0, MAG1, LMA, 10, nai=NAI1, mac=MN1)
    s.pba(0.004, MAG1, LMA, 10, nai=NAI1, mac=MN1, hoa=HOA1, mode="server")
    r = s.report()
    m = only(r.mobile_nodes)
    assert m.dhcp == []
    att = only(m.attachments)
    assert att.start == pytest.approx(at(0), abs=1e-6)
    assert att.registered == pytest.approx(at(0.004), abs=1e-6)
    assert att.address_ms is None
    assert att.attach_ms == pytest.approx(4.0, abs=1e-3)
    assert att.dhcp_mode == "server" and att.ipv4_hoa == HOA1


def _relay_leg(s: Script, t: float, xid: int, mac: str = MN1, hoa: str = HOA1,
               giaddr: str = GW1) -> list[int]:
    """The relay <-> server leg of a DORA: MAG (giaddr) <-> SERVER, option 82 remote id."""
    return [
        s.dhcp(t, "DISCOVER", xid, mac, giaddr, SERVER, giaddr=giaddr, remote_id=hoa,
               relay_leg=True),
        s.dhcp(t + 0.010, "OFFER", xid, mac, SERVER, giaddr, giaddr=giaddr, yiaddr=hoa,
               server_id=SERVER, remote_id=hoa, relay_leg=True),
        s.dhcp(t + 0.012, "REQUEST", xid, mac, giaddr, SERVER, giaddr=giaddr,
               requested=hoa, server_id=SERVER, remote_id=hoa, relay_leg=True),
        s.dhcp(t + 0.022, "ACK", xid, mac, SERVER, giaddr, giaddr=giaddr, yiaddr=hoa,
               server_id=SERVER, remote_id=hoa, relay_leg=True),
    ]


def test_relayed_dhcp_only_merged_through_the_option82_remote_id():
    # captured between the MAG (relay) and the DHCP server: no client leg, no MN-LLI in
    # the PBU; the remote id (the LMA-assigned HoA, RFC 5844 §3.4.2) names the MN
    s = Script()
    s.pbu(0, MAG1, LMA, 10, nai=NAI1, mac=None)
    s.pba(0.006, MAG1, LMA, 10, nai=NAI1, mac=None, hoa=HOA1, mode="relay")
    frames = _relay_leg(s, 0.05, 0x21)
    r = s.report()
    m = only(r.mobile_nodes)
    assert m.id == NAI1 and m.macs == [MN1]
    ex = only(m.dhcp)
    assert ex.mode == "relay"
    assert [(x["type"], x["leg"], x["frame"]) for x in ex.messages] == [
        ("DISCOVER", "relay", frames[0]), ("OFFER", "relay", frames[1]),
        ("REQUEST", "relay", frames[2]), ("ACK", "relay", frames[3])]
    assert ex.outcome == "ack" and ex.yiaddr == HOA1 and ex.server_id == SERVER
    att = only(m.attachments)
    assert att.dhcp_mode == "relay"
    # the ACK delivered to the MN is not in the capture: no address time
    assert att.address_ms is None
    assert {n.role for n in r.nodes} >= {"mag", "lma", "dhcp-server"}


def test_relay_mode_both_legs_client_replies_keep_giaddr():
    # a relay forwards the server's reply to the MN with giaddr still set (67 -> 68):
    # that is the client leg, and its ACK is the one delivered to the MN
    s = Script()
    s.pbu(0, MAG1, LMA, 10, nai=NAI1, mac=MN1)
    s.pba(0.006, MAG1, LMA, 10, nai=NAI1, mac=MN1, hoa=HOA1, mode="relay")
    d = s.dhcp(0.05, "DISCOVER", 0x21, MN1, ZERO, BCAST)
    s.dhcp(0.0505, "DISCOVER", 0x21, MN1, GW1, SERVER, giaddr=GW1, remote_id=HOA1,
           relay_leg=True)
    s.dhcp(0.060, "OFFER", 0x21, MN1, SERVER, GW1, giaddr=GW1, yiaddr=HOA1, server_id=SERVER,
           remote_id=HOA1, relay_leg=True)
    s.dhcp(0.0605, "OFFER", 0x21, MN1, GW1, BCAST, giaddr=GW1, yiaddr=HOA1, server_id=SERVER)
    s.dhcp(0.062, "REQUEST", 0x21, MN1, ZERO, BCAST, requested=HOA1, server_id=SERVER)
    s.dhcp(0.0625, "REQUEST", 0x21, MN1, GW1, SERVER, giaddr=GW1, requested=HOA1,
           server_id=SERVER, remote_id=HOA1, relay_leg=True)
    s.dhcp(0.072, "ACK", 0x21, MN1, SERVER, GW1, giaddr=GW1, yiaddr=HOA1, server_id=SERVER,
           remote_id=HOA1, relay_leg=True)
    ack = s.dhcp(0.0725, "ACK", 0x21, MN1, GW1, BCAST, giaddr=GW1, yiaddr=HOA1,
                 server_id=SERVER, mac_src=node_mac(MAG1))
    r = s.report()
    m = only(r.mobile_nodes)
    ex = only(m.dhcp)
    assert ex.mode == "relay"
    assert [(x["type"], x["leg"]) for x in ex.messages] == [
        ("DISCOVER", "client"), ("DISCOVER", "relay"), ("OFFER", "relay"),
        ("OFFER", "client"), ("REQUEST", "client"), ("REQUEST", "relay"),
        ("ACK", "relay"), ("ACK", "client")]
    assert ex.outcome == "ack" and ex.messages[0]["frame"] == d
    assert ex.address_ms == pytest.approx(22.5, abs=1e-3)
    att = only(m.attachments)
    assert att.dhcp_mode == "relay" and ack in att.frames
    assert att.address_ms == pytest.approx(22.5, abs=1e-3)
    assert att.attach_ms == pytest.approx(72.5, abs=1e-3)
    assert not codes(r)


def test_two_mns_one_mag_stay_apart():
    s = Script()
    s.attach(0, MAG1, LMA, 10, nai=NAI1, mac=MN1, hoa=HOA1, xid=0x11, server_id=GW1)
    s.attach(1, MAG1, LMA, 11, nai="mn2@example.net", mac=MN2, hoa=HOA2, xid=0x22,
             server_id=GW1)
    r = s.report()
    assert [m.id for m in r.mobile_nodes] == [NAI1, "mn2@example.net"]
    assert mn(r, MN2).ipv4_hoas == [HOA2]
    assert mn(r, HOA1).id == NAI1
