"""The PBU templates equal encode_mh of the same message; PBAs are read in place."""

from __future__ import annotations

from ipaddress import IPv4Address

from hypothesis import given
from hypothesis import strategies as st

from dissectors.mh import BindingAck, BindingUpdate, decode_mh, encode_mh
from dissectors.mh_codes import BAFlag, BAStatus, HoAReplyStatus
from dissectors.mh_options import IPv4DefaultRouter, IPv4HoAReply, MNIdentifier
from pmipview.load.wire import (
    ATTACH,
    DETACH,
    KINDS,
    MAX_MNS,
    PbuFactory,
    nai,
    pba_hoa,
    pbu_message,
    read_pba,
)


@given(kind=st.integers(0, len(KINDS) - 1), mn=st.integers(0, MAX_MNS - 1),
       seq=st.integers(0, 0xFFFF), hoa=st.integers(0, 0xFFFFFFFF), plen=st.integers(0, 32),
       units=st.integers(1, 0xFFFF))
def test_template_equals_the_encoder(kind, mn, seq, hoa, plen, units):
    built = PbuFactory(units).build(kind, mn, seq, hoa, plen)
    assert built == encode_mh(pbu_message(kind, mn, seq, units, IPv4Address(hoa), plen))
    msg, _ = decode_mh(built)
    assert isinstance(msg, BindingUpdate) and msg.seq == seq
    assert msg.lifetime == (0 if kind == DETACH else units)
    assert msg.option(MNIdentifier).identifier.decode() == nai(mn)


def test_pba_read_in_place():
    ba = BindingAck(BAStatus.ACCEPTED, 0xBEEF, BAFlag.P, 37,
                    (MNIdentifier.nai(nai(5)),
                     IPv4HoAReply(HoAReplyStatus.SUCCESS, IPv4Address("10.1.2.3"), 16),
                     IPv4DefaultRouter(IPv4Address("10.1.0.1"))))
    raw = encode_mh(ba)
    assert read_pba(raw) == (0, 0xBEEF)
    assert pba_hoa(raw) == (0, 16, int(IPv4Address("10.1.2.3")))
    rej = encode_mh(BindingAck(BAStatus.NOT_AUTHORIZED_FOR_IPV4_MOBILITY_SERVICE, 7,
                               BAFlag.P, 0))
    assert read_pba(rej) == (170, 7) and pba_hoa(rej) is None


def test_not_a_pba_is_none():
    pbu = PbuFactory(150).build(ATTACH, 1, 2)
    assert read_pba(pbu) is None
    assert read_pba(b"") is None and read_pba(b"\x3b\x00\x06") is None
    raw = bytearray(encode_mh(BindingAck(0, 1, BAFlag.P, 1)))
    raw[1] = 200   # a header length past the datagram
    assert read_pba(bytes(raw)) is None


@given(st.binary(min_size=12, max_size=64))
def test_garbage_options_never_raise(tail):
    raw = bytes([59, 7, 6, 0, 0, 0, 0, 0, 0, 1, 0, 0]) + tail
    pba_hoa(raw[:64])
