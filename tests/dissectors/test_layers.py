"""Link, IPv4, IPv6 and UDP codecs: round trips, checksums, extension chains, malformed."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dissectors.checksum import inet_checksum
from dissectors.errors import DecodeError
from dissectors.ip import (
    IPProto,
    IPv4,
    IPv6,
    IPv6ExtHeader,
    decode_ipv4,
    decode_ipv6,
    encode_ipv4,
    encode_ipv6,
)
from dissectors.link import (
    Ethernet,
    EtherType,
    LinkType,
    LinuxSLL,
    LinuxSLL2,
    Null,
    RawIP,
    VlanTag,
    decode_link,
    encode_link,
)
from dissectors.udp import UDP, decode_udp, encode_udp
from tests.strategies import ipv4, ipv6, u8, u16

mac = st.binary(min_size=6, max_size=6).map(lambda b: ":".join(f"{x:02x}" for x in b))
vlan = st.builds(VlanTag, st.integers(0, 4095), st.integers(0, 7), st.booleans(),
                 st.sampled_from([0x8100, 0x88A8, 0x9100]))
ethertype = st.sampled_from([EtherType.IPV4, EtherType.IPV6, EtherType.ARP])

LINKS = [
    (LinkType.ETHERNET, st.builds(Ethernet, mac, mac, ethertype, st.lists(vlan, max_size=3)
                                  .map(tuple))),
    (LinkType.LINUX_SLL, st.builds(LinuxSLL, ethertype, u16, u16,
                                   st.binary(min_size=0, max_size=8))),
    (LinkType.LINUX_SLL2, st.builds(LinuxSLL2, ethertype, st.integers(0, 2**32 - 1), u8, u16,
                                    st.binary(min_size=0, max_size=8), u16)),
    (LinkType.NULL, st.builds(Null, st.sampled_from([2, 24, 28, 30]), st.booleans())),
    (LinkType.LOOP, st.builds(Null, st.sampled_from([2, 24, 28, 30]), st.just(True))),
]


@pytest.mark.parametrize("linktype,strategy", LINKS, ids=[lt.name for lt, _ in LINKS])
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_link_round_trip(linktype, strategy, data):
    link = data.draw(strategy)
    payload = bytes([0x45]) + bytes(19)
    wire = encode_link(link, payload)
    back, off = decode_link(linktype, wire)
    assert back == link
    assert wire[off:] == payload
    assert encode_link(back, payload) == wire


def test_qinq_tags_are_walked_in_order():
    eth = Ethernet("02:00:00:00:00:02", "02:00:00:00:00:01", EtherType.IPV6,
                   (VlanTag(100, tpid=0x88A8), VlanTag(200, pcp=5)))
    back, off = decode_link(LinkType.ETHERNET, encode_link(eth, b"\x60"))
    assert [t.vid for t in back.vlans] == [100, 200] and off == 22
    assert back.next_proto == EtherType.IPV6


def test_raw_ip_by_version_nibble():
    back, off = decode_link(LinkType.RAW, b"\x60" + bytes(39))
    assert back == RawIP(6) and off == 0 and back.next_proto == EtherType.IPV6


def test_null_in_either_byte_order():
    little, _ = decode_link(LinkType.NULL, b"\x02\x00\x00\x00")
    big, _ = decode_link(LinkType.NULL, b"\x00\x00\x00\x1e")
    assert little.next_proto == EtherType.IPV4 and big.next_proto == EtherType.IPV6


def test_unsupported_link_type_and_truncation():
    with pytest.raises(DecodeError, match="unsupported link type 147"):
        decode_link(147, b"\0" * 20)
    with pytest.raises(DecodeError, match=r"truncated 802\.1Q tag"):
        decode_link(LinkType.ETHERNET, bytes(12) + b"\x81\x00\x00")


ipv4_hdr = st.builds(IPv4, ipv4, ipv4, u8, st.integers(1, 255), u8, u16, st.integers(0, 2),
                     st.just(0), st.binary(max_size=12).map(lambda b: b + bytes(-len(b) % 4)))


@settings(max_examples=200, deadline=None)
@given(ipv4_hdr, st.binary(max_size=64))
def test_ipv4_round_trip_and_checksum(hdr, payload):
    wire = encode_ipv4(hdr, payload)
    back, start, end, warnings = decode_ipv4(wire)
    assert back == hdr and back.checksum_ok and warnings == []
    assert wire[start:end] == payload
    assert encode_ipv4(back, payload) == wire
    assert inet_checksum(wire[:start]) == 0


def test_ipv4_bad_checksum_is_flagged_not_fatal():
    wire = bytearray(encode_ipv4(IPv4(IPv4Address("10.0.0.1"), IPv4Address("10.0.0.2"), 17),
                                 b"x" * 8))
    wire[10] ^= 1
    hdr, _, _, warnings = decode_ipv4(bytes(wire))
    assert hdr.checksum_ok is False and "bad header checksum" in warnings[0].reason


def test_ipv4_options_are_skipped():
    hdr = IPv4(IPv4Address("1.2.3.4"), IPv4Address("5.6.7.8"), 17, options=b"\x94\x04\x00\x00")
    wire = encode_ipv4(hdr, b"payload!")
    back, start, _, _ = decode_ipv4(wire)
    assert start == 24 and back.options == b"\x94\x04\x00\x00"


def test_ipv4_non_first_fragment():
    hdr = IPv4(IPv4Address("1.2.3.4"), IPv4Address("5.6.7.8"), 17, flags=0, frag_offset=185)
    back, _, _, _ = decode_ipv4(encode_ipv4(hdr, b"x" * 16))
    assert back.fragment and not back.first_fragment


@pytest.mark.parametrize("wire,reason", [
    (b"\x45" + bytes(10), "truncated IPv4 header"),
    (b"\x44" + bytes(19), "header length 16 < 20"),
    (b"\x65" + bytes(19), "version 6 in an IPv4 header"),
    (b"\x46" + bytes(19), "truncated IPv4 header with options"),
])
def test_ipv4_malformed(wire, reason):
    with pytest.raises(DecodeError, match=reason):
        decode_ipv4(wire)


ext = st.one_of(
    st.builds(IPv6ExtHeader, st.sampled_from([0, 43, 60]),
              st.integers(0, 2).flatmap(lambda n: st.binary(min_size=7 + 8 * n,
                                                             max_size=7 + 8 * n)
                                        .map(lambda b, n=n: bytes([n]) + b[1:]))),
    st.builds(IPv6ExtHeader, st.just(44), st.just(bytes(7))),
)
ipv6_hdr = st.builds(IPv6, ipv6, ipv6, st.sampled_from([17, 135, 6, 58]), u8, u8,
                     st.integers(0, 0xFFFFF), st.lists(ext, max_size=3).map(tuple))


@settings(max_examples=200, deadline=None)
@given(ipv6_hdr, st.binary(max_size=64))
def test_ipv6_extension_chain_round_trip(hdr, payload):
    wire = encode_ipv6(hdr, payload)
    back, start, end, warnings = decode_ipv6(wire)
    assert back == hdr and warnings == []
    assert wire[start:end] == payload
    assert back.next_header == (hdr.ext_headers[0].type if hdr.ext_headers else hdr.proto)


def test_ipv6_extension_header_past_payload():
    hdr = IPv6(IPv6Address("::1"), IPv6Address("::2"), 135,
               ext_headers=(IPv6ExtHeader(60, bytes([1]) + bytes(14)),))
    wire = bytearray(encode_ipv6(hdr, b""))
    wire[41] = 5  # length byte: 48 bytes declared, 16 present
    with pytest.raises(DecodeError, match="runs past the payload"):
        decode_ipv6(bytes(wire))


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.tuples(ipv4, ipv4), st.tuples(ipv6, ipv6)), u16, u16, st.binary(max_size=99))
def test_udp_round_trip_and_checksum_both_families(addrs, sport, dport, payload):
    src, dst = addrs
    wire = encode_udp(UDP(sport, dport), payload, src, dst)
    back, start, end, warnings = decode_udp(wire, 0, len(wire), src, dst)
    assert back == UDP(sport, dport) and back.checksum_ok is True and warnings == []
    assert wire[start:end] == payload


def test_udp_bad_checksum_and_zero_checksum_rules():
    src, dst = IPv4Address("10.0.0.1"), IPv4Address("10.0.0.2")
    wire = bytearray(encode_udp(UDP(5436, 5436), b"abcdefgh", src, dst))
    wire[6:8] = b"\0\0"
    hdr, _, _, warnings = decode_udp(bytes(wire), 0, len(wire), src, dst)
    assert hdr.checksum_ok is None and warnings == []  # zero = not computed over IPv4
    s6, d6 = IPv6Address("::1"), IPv6Address("::2")
    _, _, _, warnings = decode_udp(bytes(wire), 0, len(wire), s6, d6)
    assert "zero checksum over IPv6" in warnings[0].reason
    wire[6:8] = b"\x12\x34"
    hdr, _, _, warnings = decode_udp(bytes(wire), 0, len(wire), src, dst)
    assert hdr.checksum_ok is False and "bad checksum 0x1234" in warnings[0].reason


def test_udp_length_below_8_is_malformed():
    with pytest.raises(DecodeError, match="length 4 < 8"):
        decode_udp(b"\0\x43\0\x44\0\x04\0\0", 0, 8, IPv4Address("1.1.1.1"),
                   IPv4Address("2.2.2.2"))


def test_ipproto_names():
    assert IPProto(135).name == "MH"


def test_udp_checksum_left_for_offload_is_unverified_not_bad():
    """A frame captured on its sender before the NIC computed the UDP checksum holds the
    pseudo-header sum only: unverified (Wireshark's default), while a real bad checksum
    stays flagged (issue 15)."""
    import struct as _struct
    from ipaddress import IPv4Address as _A

    from dissectors.checksum import pseudo_header as _ph
    from dissectors.udp import IPPROTO_UDP as _P
    from dissectors.udp import UDP as _UDP
    from dissectors.udp import decode_udp as _dec
    from dissectors.udp import encode_udp as _enc
    from dissectors.udp import offload_pattern

    src, dst = _A("127.0.0.1"), _A("127.0.0.1")
    good = bytearray(_enc(_UDP(5436, 5436), b"\x3b\x00\x05\x00\x00\x00\x00\x00", src, dst))
    partial = offload_pattern(_ph(src, dst, _P, len(good)))
    for csum, ok, flagged in ((partial, None, False), (partial ^ 0x1234, False, True)):
        _struct.pack_into("!H", good, 6, csum)
        hdr, _, _, warnings = _dec(bytes(good), 0, len(good), src, dst)
        assert hdr.checksum_ok is ok and bool(warnings) is flagged
