"""The LMA's fast codec (pmipview.agents.lma_wire) gives exactly what the dissectors give.

``read_pbu`` either declines (None: the full decoder takes the datagram) or returns the
Packet that ``decode_mh_datagram`` returns; ``encode_pba`` always returns the bytes of
``encode_mh``.  Hypothesis generates the messages, their options (those the LMA meets and
others), re-ordered, padded differently, duplicated, cut short or with a byte changed.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address

from hypothesis import given, settings
from hypothesis import strategies as st

from dissectors.mh import BindingAck, BindingUpdate, encode_mh
from dissectors.mh_codes import BAFlag, BUFlag
from dissectors.mh_options import (
    AccessTechnologyOpt,
    HandoffIndicatorOpt,
    HomeNetworkPrefix,
    IPv4DefaultRouter,
    IPv4DHCPSupportMode,
    IPv4HoAReply,
    IPv4HoARequest,
    LinkLocalAddress,
    MNIdentifier,
    MNLinkLayerId,
    Timestamp,
    UnknownOption,
)
from pmipview.agents.lma_wire import encode_pba, read_pbu
from pmipview.load.wire import ATTACH, KINDS, PbuFactory
from pmipview.wire.codec import decode_mh_datagram

MAG, LMAA = IPv4Address("198.51.100.7"), IPv4Address("192.0.2.1")

v4 = st.builds(IPv4Address, st.integers(0, 2**32 - 1))
mnid = st.builds(MNIdentifier, st.binary(min_size=1, max_size=40) | st.sampled_from(
    [b"mn0000001@load.pmipview", b"a@x", "é@x".encode(), b"\x1b[2J@x"]),
    st.sampled_from([1, 1, 1, 2, 200]))
hi = st.builds(HandoffIndicatorOpt, st.integers(0, 255), st.sampled_from([0, 0, 0, 9]))
att = st.builds(AccessTechnologyOpt, st.integers(0, 255), st.sampled_from([0, 0, 0, 1]))
lli = st.builds(MNLinkLayerId, st.binary(min_size=0, max_size=10), st.sampled_from([0, 0, 7]))
hoa_req = st.builds(IPv4HoARequest, v4 | st.just(IPv4Address(0)), st.integers(0, 63),
                    st.sampled_from([0, 0, 0, 5]))
others = st.one_of(
    st.builds(HomeNetworkPrefix, st.just(IPv6Address(0)), st.integers(0, 128)),
    st.builds(Timestamp, st.integers(0, 2**64 - 1)),
    st.builds(LinkLocalAddress, st.just(IPv6Address("fe80::1"))),
    st.builds(UnknownOption, st.sampled_from([9, 60, 200]), st.binary(max_size=6)))
pbu_option = st.one_of(mnid, hi, att, lli, hoa_req, others)


def datagram(raw: bytes):
    return decode_mh_datagram(raw, MAG, LMAA, 40000, 5436)


def fast(raw: bytes):
    return read_pbu(raw, MAG, LMAA, 40000, 5436)


@settings(max_examples=400, deadline=None)
@given(seq=st.integers(0, 0xFFFF), flags=st.integers(0, 0xFFFF),
       lifetime=st.integers(0, 0xFFFF), options=st.lists(pbu_option, max_size=7),
       mutate=st.sampled_from(["none", "none", "byte", "cut", "grow", "proto"]),
       where=st.integers(0, 200), value=st.integers(0, 255))
def test_read_pbu_is_the_decoder_or_declines(seq, flags, lifetime, options, mutate, where,
                                             value):
    try:
        raw = bytearray(encode_mh(BindingUpdate(seq, flags, lifetime, tuple(options))))
    except ValueError:  # more than 2,048 bytes
        return
    if mutate == "byte":
        raw[where % len(raw)] = value
    elif mutate == "cut":
        del raw[max(1, where % len(raw)):]
    elif mutate == "grow":
        raw += bytes(8)
    elif mutate == "proto":
        raw[0] = value
    raw = bytes(raw)
    got = fast(raw)
    if got is not None:
        want = datagram(raw)
        assert got == want
        assert got.message.options == want.message.options  # type: ignore[union-attr]
        assert type(got.message.flags) is type(want.message.flags)  # type: ignore[union-attr]


@settings(max_examples=200, deadline=None)
@given(seq=st.integers(0, 0xFFFF), lifetime=st.integers(0, 0xFFFF),
       chosen=st.permutations([0, 1, 2, 3, 4]), keep=st.integers(1, 5), m=mnid, h=hi, a=att,
       ll=lli, r=hoa_req)
def test_read_pbu_reads_every_pbu_of_the_five_options(seq, lifetime, chosen, keep, m, h, a,
                                                      ll, r):
    """Any order, any subset: read (and equal to the decoder) when each option has the
    length its type requires (the decoder's UnknownOption otherwise: declined)."""
    pool = [m, h, a, ll, r]
    options = tuple(pool[i] for i in chosen[:keep])
    raw = encode_mh(BindingUpdate(seq, BUFlag.A | BUFlag.P, lifetime, options))
    want = datagram(raw)
    assert not any(isinstance(o, UnknownOption) for o in want.message.options)  # type: ignore[union-attr]
    assert fast(raw) == want


def test_every_pbu_of_the_load_generator_is_read():
    f = PbuFactory(150)
    for kind in range(len(KINDS)):
        for mn in (0, 1, 99_999, 1_234_567):
            raw = f.build(kind, mn, mn & 0xFFFF, 0 if kind == ATTACH else 0x0A400002, 14)
            got = fast(raw)
            assert got is not None and got == datagram(raw)


def test_other_messages_and_short_datagrams_are_declined():
    raw = encode_mh(BindingAck(0, 1, BAFlag.P, 10, ()))
    assert fast(raw) is None
    assert fast(b"") is None and fast(bytes(7)) is None


ba_option = st.one_of(
    mnid, hi, att, lli, others,
    st.builds(IPv4HoAReply, st.integers(0, 255), v4, st.integers(0, 63),
              st.integers(0, 3)),
    st.builds(IPv4DefaultRouter, v4, st.sampled_from([0, 0, 3])),
    st.builds(IPv4DHCPSupportMode, st.booleans(), st.sampled_from([0, 0, 2])))


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 255), st.integers(0, 0xFFFF),
                          st.sampled_from([0, int(BAFlag.P), 0xFF]), st.integers(0, 0xFFFF),
                          st.lists(ba_option, max_size=9)), min_size=1, max_size=6),
       st.sampled_from([None, 0, 3]))
def test_encode_pba_is_encode_mh(messages, shared):
    """Also when several PBAs share a shape (the template's case): ``shared`` gives them
    all the options of the first message."""
    first = messages[0][4]
    for status, seq, flags, lifetime, options in messages:
        opts = first if shared is not None else options
        ba = BindingAck(status, seq, flags, lifetime, tuple(opts))
        try:
            want = encode_mh(ba)
        except ValueError:
            continue
        assert encode_pba(ba) == want
        assert encode_pba(ba) == want  # from the template this time


def test_a_decoded_pba_keeps_its_own_padding():
    opts = (MNIdentifier.nai("a@x"), IPv4HoAReply(0, IPv4Address("10.0.0.2"), 24))
    raw = bytearray(encode_mh(BindingAck(0, 7, BAFlag.P, 10, opts)))
    decoded = datagram(bytes(raw)).message  # type: ignore[union-attr]
    assert encode_pba(decoded) == encode_mh(decoded) == bytes(raw)  # type: ignore[arg-type]
