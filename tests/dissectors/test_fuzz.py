"""Robustness: mutated and random frames never crash a decoder (bench/fuzz.py, in small).

``decode_frame`` and ``prefilter.classify`` must never raise; each layer decoder may raise
only ``DecodeError`` whose marker has a layer, a reason and an offset inside its buffer;
and the pre-filter must not drop a frame in which the decoder found MH or DHCP.
"""

from __future__ import annotations

import io
from ipaddress import IPv4Address, IPv6Address

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.corpus import signaling_frames
from bench.fuzz import Checker, FuzzStats, fuzz, report
from dissectors.dhcp import DhcpMessage, encode_dhcp
from dissectors.frame import decode_frame
from dissectors.ip import IPv4, IPv6, encode_ipv4, encode_ipv6
from dissectors.link import EtherType, LinkType, encode_link, link_for
from dissectors.udp import UDP, encode_udp

LINKTYPES = [0, 1, 101, 113, 276]
SRC6, DST6 = IPv6Address("2001:db8::1"), IPv6Address("2001:db8::2")
SRC4, DST4 = IPv4Address("192.0.2.1"), IPv4Address("192.0.2.2")
HYPO = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _findings(stats: FuzzStats) -> str:
    out = io.StringIO()
    report(stats, out)
    return out.getvalue()


def _check(linktype: int, frame: bytes) -> None:
    stats = FuzzStats()
    Checker(stats).check(linktype, frame)
    assert not (stats.exceptions or stats.offsets or stats.prefilter), _findings(stats)


def test_mutation_fuzzer_finds_nothing():
    stats = fuzz(3000, seed=1)
    assert stats.cases == 3000
    assert stats.malformed > 0 and stats.signaling_clean > 0  # it reached both outcomes
    assert not stats.exceptions, _findings(stats)
    assert not stats.offsets, _findings(stats)
    assert not stats.prefilter, _findings(stats)


def test_the_seeds_decode_clean():
    for linktype, frame in signaling_frames():
        f = decode_frame(linktype, frame)
        assert f.malformed is None and f.signaling, (linktype, frame.hex())


@HYPO
@given(st.binary(max_size=600), st.sampled_from(LINKTYPES))
def test_random_bytes_never_raise(data, linktype):
    _check(linktype, data)


# --- random bodies behind valid headers, so that the MH and DHCP decoders get them


def _eth(ethertype: int, packet: bytes) -> bytes:
    return encode_link(link_for(LinkType.ETHERNET, ethertype), packet)


def _mh_over_ipv6(body: bytes) -> bytes:
    return _eth(EtherType.IPV6, encode_ipv6(IPv6(SRC6, DST6, 135), body))


def _over_udp4(sport: int, dport: int, body: bytes) -> bytes:
    udp = encode_udp(UDP(sport, dport), body, SRC4, DST4)
    return _eth(EtherType.IPV4, encode_ipv4(IPv4(SRC4, DST4, 17), udp))


def _mh_like(mh_type: int, rest: bytes) -> bytes:
    """A Mobility Header whose Header Len matches the (padded) random message data."""
    rest += bytes(-(6 + len(rest)) % 8)
    return bytes([59, (6 + len(rest)) // 8 - 1, mh_type, 0, 0, 0]) + rest


_DHCP_HEAD = encode_dhcp(DhcpMessage(xid=1))[:240]  # fixed header + magic cookie

mh_bodies = st.one_of(
    st.binary(max_size=600),
    st.builds(_mh_like, st.sampled_from([5, 6, 7, 13, 16, 0, 1, 200]),
              st.binary(max_size=300)))
dhcp_bodies = st.one_of(
    st.binary(max_size=600),
    st.binary(max_size=360).map(lambda b: _DHCP_HEAD + b),
    st.binary(max_size=236).map(lambda b: b.ljust(236, b"\0") + _DHCP_HEAD[236:240]))


@HYPO
@given(mh_bodies)
def test_random_mh_after_ipv6_next_header_135(body):
    _check(LinkType.ETHERNET, _mh_over_ipv6(body))


@HYPO
@given(mh_bodies)
def test_random_mh_after_ipv4_udp_5436(body):
    _check(LinkType.ETHERNET, _over_udp4(5436, 5436, body))


@HYPO
@given(dhcp_bodies)
def test_random_dhcp_after_ipv4_udp_67(body):
    _check(LinkType.ETHERNET, _over_udp4(68, 67, body))
