"""Hypothesis strategies for valid mobility options and messages, shared by the tests."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address

from hypothesis import strategies as st

from dissectors import mh_options as o
from dissectors.mh import (
    BindingAck,
    BindingError,
    BindingRevocation,
    BindingUpdate,
    Heartbeat,
)
from dissectors.mh_codes import (
    AccessTechnology,
    BAFlag,
    BAStatus,
    BRType,
    BUFlag,
    HandoffIndicator,
    HoAReplyStatus,
    lookup,
)

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFFFFFF)
ipv4 = st.builds(IPv4Address, u32)
ipv6 = st.builds(IPv6Address, st.integers(0, 2**128 - 1))
plen6 = st.integers(0, 63)  # 6-bit prefix-length fields


def enum_or_int(table, values=u8):
    return values.map(lambda v: lookup(table, v))


nai = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=60)

OPTIONS = {
    "bra": st.builds(o.BindingRefreshAdvice, u16),
    "acoa": st.builds(o.AlternateCoA, ipv6),
    "ni": st.builds(o.NonceIndices, u16, u16),
    "bad": st.builds(o.BindingAuthData, st.binary(min_size=0, max_size=32)),
    "mnid": st.builds(o.MNIdentifier, nai.map(str.encode), st.just(1)),
    "vsm": st.builds(o.VendorSpecific, u32, u8, st.binary(max_size=16)),
    "ss": st.builds(o.ServiceSelection, st.binary(min_size=1, max_size=20)),
    "hnp": st.builds(o.HomeNetworkPrefix, ipv6, st.integers(0, 128), st.just(0)),
    "hi": st.builds(o.HandoffIndicatorOpt, enum_or_int(HandoffIndicator, st.integers(0, 6))),
    "att": st.builds(o.AccessTechnologyOpt, enum_or_int(AccessTechnology, st.integers(0, 13))),
    "mnlli": st.builds(o.MNLinkLayerId, st.binary(min_size=6, max_size=6)),
    "lla": st.builds(o.LinkLocalAddress, ipv6),
    "ts": st.builds(o.Timestamp, st.integers(0, 2**64 - 1)),
    "rc": st.builds(o.RestartCounter, u32),
    "ipv4ha": st.builds(o.IPv4HomeAddress, ipv4, plen6, st.booleans(), st.just(0)),
    "ipv4aa": st.builds(o.IPv4AddressAck, u8, ipv4, plen6, st.just(0)),
    "natd": st.builds(o.NATDetection, st.booleans(), u32, st.just(0)),
    "ipv4coa": st.builds(o.IPv4CareOfAddress, ipv4, st.just(0)),
    "grek": st.builds(o.GREKey, st.none() | u32, st.just(0)),
    "bi": st.builds(o.BindingIdentifier, u16, u8, st.booleans(), st.just(0),
                    st.none() | ipv4 | ipv6),
    "ipv4hareq": st.builds(o.IPv4HoARequest, ipv4, plen6, st.just(0)),
    "ipv4harep": st.builds(o.IPv4HoAReply, enum_or_int(HoAReplyStatus), ipv4, plen6,
                           st.just(0)),
    "ipv4dra": st.builds(o.IPv4DefaultRouter, ipv4, st.just(0)),
    "ipv4dsm": st.builds(o.IPv4DHCPSupportMode, st.booleans(), st.just(0)),
    "lmaa": st.builds(o.LMAAddress, ipv4 | ipv6, st.just(0)),
    "unknown": st.builds(o.UnknownOption, st.sampled_from([9, 10, 21, 34, 40, 42, 60, 200]),
                         st.binary(max_size=12)),
}

any_option = st.one_of(*OPTIONS.values())
options = st.lists(any_option, max_size=8).map(tuple)


def bu_flags():
    return u16.map(lambda v: BUFlag(v & 0xFFF0))


def ba_flags():
    return u8.map(lambda v: BAFlag(v & 0xFE))


binding_update = st.builds(BindingUpdate, u16, bu_flags(), u16, options)
binding_ack = st.builds(BindingAck, enum_or_int(BAStatus), u16, ba_flags(), u16, options)
binding_error = st.builds(BindingError, st.integers(1, 2), ipv6, st.just(0), options)
heartbeat = st.builds(Heartbeat, u32, st.integers(0, 3), options)
revocation = st.builds(BindingRevocation, st.sampled_from([BRType.BRI, BRType.BRA]), u8, u16,
                       u16.map(lambda v: v & 0xE000), options)

any_message = st.one_of(binding_update, binding_ack, binding_error, heartbeat, revocation)
