"""Whole frames: every framing and transport, the pre-filter, malformed frames kept."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address

import pytest

from dissectors import mh_options as o
from dissectors import prefilter
from dissectors.dhcp import DhcpMessage
from dissectors.dhcp_codes import DhcpMessageType
from dissectors.dhcp_options import DhcpMessageTypeOption
from dissectors.frame import build_frame, decode_frame
from dissectors.ip import IPv4, IPv6, IPv6ExtHeader, encode_ipv4
from dissectors.link import Ethernet, EtherType, LinkType, VlanTag, encode_link
from dissectors.mh import BindingUpdate

V4 = (IPv4Address("192.0.2.1"), IPv4Address("192.0.2.100"))
V6 = (IPv6Address("2001:db8::1"), IPv6Address("2001:db8::100"))
PBU = BindingUpdate(42, lifetime=150, options=(o.MNIdentifier.nai("mn@x"),
                                               o.HandoffIndicatorOpt(1),
                                               o.IPv4HoARequest(IPv4Address(0))))
DISCOVER = DhcpMessage(xid=0x1234, chaddr="02:00:00:00:00:09",
                       options=(DhcpMessageTypeOption(DhcpMessageType.DISCOVER),))
LINKTYPES = [LinkType.ETHERNET, LinkType.LINUX_SLL, LinkType.LINUX_SLL2, LinkType.RAW,
             LinkType.NULL, LinkType.LOOP]


@pytest.mark.parametrize("linktype", LINKTYPES, ids=lambda lt: lt.name)
@pytest.mark.parametrize("addrs", [V4, V6], ids=["udp5436", "ipv6"])
def test_pbu_in_every_framing_and_transport(linktype, addrs):
    wire = build_frame(linktype, *addrs, PBU)
    frame = decode_frame(linktype, wire)
    assert frame.malformed is None and frame.warnings == ()
    assert frame.mh == PBU
    assert frame.protocol == ("MIPv6/UDP" if addrs is V4 else "MIPv6")
    assert (frame.udp is not None) == (addrs is V4)
    if addrs is V6:
        assert frame.mh.wire.checksum_ok is True
    else:
        assert frame.mh.wire.checksum == 0 and frame.udp.checksum_ok is True
    assert prefilter.classify(linktype, wire) == prefilter.MH


@pytest.mark.parametrize("linktype", LINKTYPES, ids=lambda lt: lt.name)
def test_dhcp_in_every_framing(linktype):
    wire = build_frame(linktype, IPv4Address(0), IPv4Address("255.255.255.255"), DISCOVER)
    frame = decode_frame(linktype, wire)
    assert frame.dhcp == DISCOVER and frame.udp.dport == 67 and frame.malformed is None
    assert prefilter.classify(linktype, wire) == prefilter.DHCP


def test_vlan_and_qinq_framing():
    link = Ethernet("02:00:00:00:00:02", "02:00:00:00:00:01", EtherType.IPV6,
                    (VlanTag(10, tpid=0x88A8), VlanTag(20)))
    wire = build_frame(LinkType.ETHERNET, *V6, PBU, link=link)
    frame = decode_frame(LinkType.ETHERNET, wire)
    assert frame.link == link and frame.mh == PBU
    assert prefilter.classify(LinkType.ETHERNET, wire) == prefilter.MH


def test_ipv6_extension_headers_before_the_mh():
    ip = IPv6(*V6, 135, ext_headers=(IPv6ExtHeader(0, bytes(7)), IPv6ExtHeader(60, bytes(7))))
    wire = build_frame(LinkType.ETHERNET, *V6, PBU, ip=ip)
    frame = decode_frame(LinkType.ETHERNET, wire)
    assert frame.mh == PBU and frame.mh.wire.checksum_ok
    assert prefilter.classify(LinkType.ETHERNET, wire) == prefilter.MH


def test_non_first_fragment_is_counted_not_decoded():
    ip = IPv4(*V4, 17, frag_offset=100)
    wire = encode_link(Ethernet("02:00:00:00:00:02", "02:00:00:00:00:01", EtherType.IPV4),
                       encode_ipv4(ip, b"\x15\x3c\x15\x3c" + bytes(40)))
    assert prefilter.classify(LinkType.ETHERNET, wire) == prefilter.FRAGMENT
    frame = decode_frame(LinkType.ETHERNET, wire)
    assert frame.fragment and frame.mh is None and frame.malformed is None


def test_unrelated_traffic_is_rejected_by_the_prefilter():
    tcp = encode_link(Ethernet("02:00:00:00:00:02", "02:00:00:00:00:01", EtherType.IPV4),
                      encode_ipv4(IPv4(*V4, 6), bytes(20)))
    arp = encode_link(Ethernet("ff:ff:ff:ff:ff:ff", "02:00:00:00:00:01", EtherType.ARP),
                      bytes(28))
    assert prefilter.classify(LinkType.ETHERNET, tcp) == prefilter.OTHER
    assert prefilter.classify(LinkType.ETHERNET, arp) == prefilter.OTHER
    assert not prefilter.may_carry_signaling(LinkType.ETHERNET, arp)


def test_truncated_frame_keeps_the_layers_before_the_fault():
    wire = build_frame(LinkType.ETHERNET, *V4, PBU)
    cut = wire[:14 + 20 + 8 + 10]  # Ethernet, IPv4, UDP, 10 bytes of MH
    frame = decode_frame(LinkType.ETHERNET, cut)
    assert frame.ip is not None and frame.udp is not None and frame.mh is None
    m = frame.malformed
    assert m.layer == "mh" and m.offset == 14 + 20 + 8 + 1
    assert "declares" in m.reason
    # the IP and UDP lengths ran past the frame as well: flagged, not fatal
    assert any("past the frame" in w.reason for w in frame.warnings)


def test_bad_mh_checksum_is_flagged_and_still_decoded():
    wire = bytearray(build_frame(LinkType.ETHERNET, *V6, PBU))
    wire[14 + 40 + 4] ^= 0x55
    frame = decode_frame(LinkType.ETHERNET, bytes(wire))
    assert frame.mh == PBU and frame.malformed is None
    assert [w.layer for w in frame.warnings] == ["mh"]
    assert frame.warnings[0].offset == 14 + 40 + 4


def test_unsupported_link_type_is_malformed_not_an_exception():
    frame = decode_frame(9999, b"\x00" * 40)
    assert frame.malformed.layer == "link" and "unsupported link type" in frame.malformed.reason
    assert prefilter.classify(9999, b"\x00" * 40) == prefilter.OTHER


def test_info_line_of_the_issue_example():
    pbu = BindingUpdate(31148, lifetime=150, options=(
        o.MNIdentifier.nai("mn1@example.net"), o.IPv4HoARequest(IPv4Address(0))))
    frame = decode_frame(LinkType.ETHERNET, build_frame(LinkType.ETHERNET, *V4, pbu))
    assert frame.info() == "PBU seq=31148 A P lifetime=600s MN-ID=mn1@example.net HoA-Req=0.0.0.0"
