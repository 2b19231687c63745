"""Mobility Header codec: vectors from protocol.md §8, round trips, alignment, malformed."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dissectors import mh_options as o
from dissectors.errors import DecodeError
from dissectors.mh import BindingAck, BindingUpdate, Heartbeat, UnknownMH, decode_mh, encode_mh
from dissectors.mh_codes import (
    ALIGNMENT,
    AccessTechnology,
    BAStatus,
    BUFlag,
    HandoffIndicator,
    HoAReplyStatus,
)
from dissectors.mh_options import option_type
from tests.strategies import any_message

PBU_HEX = ("3b07050000000001820000960810016d6e31406578616d706c652e636f6d1702000118020004"
           "010200001b0800006553f1008000240600000000000001020000")
PBA_HEX = ("3b08060000000020000100960810016d6e31406578616d706c652e636f6d1702000118020004"
           "010200001b0800006553f1008000250600600a0a0005260600000a0a000127020001")
TS = o.Timestamp(0x00006553F1008000)
COMMON = (o.MNIdentifier.nai("mn1@example.com"), o.HandoffIndicatorOpt(1),
          o.AccessTechnologyOpt(4), TS)


def test_pbu_vector_decodes_every_field():
    msg, end = decode_mh(bytes.fromhex(PBU_HEX))
    assert end == 64
    assert isinstance(msg, BindingUpdate)
    assert msg.seq == 1 and msg.flags == BUFlag.A | BUFlag.P and msg.proxy
    assert msg.lifetime == 150 and msg.lifetime_s == 600
    assert msg.mn_id == "mn1@example.com"
    assert msg.handoff_indicator == HandoffIndicator.NEW_INTERFACE
    assert msg.option(o.AccessTechnologyOpt).att == AccessTechnology.IEEE_802_11
    assert str(msg.timestamp) == "2023-11-14T22:13:20.500000Z"
    assert msg.hoa_request == o.IPv4HoARequest(IPv4Address("0.0.0.0"), 0)
    assert msg.wire.option_offsets == (12, 30, 34, 42, 52)
    assert msg.info() == ("PBU seq=1 A P lifetime=600s MN-ID=mn1@example.com HI=1 "
                          "HoA-Req=0.0.0.0")


def test_pba_vector_decodes_rfc5844_options():
    msg, _ = decode_mh(bytes.fromhex(PBA_HEX))
    assert isinstance(msg, BindingAck)
    assert msg.status == BAStatus.ACCEPTED and msg.accepted and msg.proxy
    assert msg.hoa_reply == o.IPv4HoAReply(HoAReplyStatus.SUCCESS, IPv4Address("10.10.0.5"), 24)
    assert msg.default_router == IPv4Address("10.10.0.1")
    assert msg.dhcp_mode == "server"
    assert "HoA=10.10.0.5/24 GW=10.10.0.1 DHCP=server" in msg.info()


def test_canonical_encoder_reproduces_the_reference_vectors():
    pbu = BindingUpdate(1, BUFlag.A | BUFlag.P, 150,
                        (*COMMON, o.IPv4HoARequest(IPv4Address("0.0.0.0"), 0)))
    assert encode_mh(pbu).hex() == PBU_HEX
    pba = BindingAck(0, 1, lifetime=150, options=(
        *COMMON, o.IPv4HoAReply(0, IPv4Address("10.10.0.5"), 24),
        o.IPv4DefaultRouter(IPv4Address("10.10.0.1")), o.IPv4DHCPSupportMode(True)))
    assert encode_mh(pba).hex() == PBA_HEX


@settings(max_examples=300, deadline=None)
@given(any_message)
def test_decode_of_encode_is_identity(msg):
    wire = encode_mh(msg)
    assert len(wire) % 8 == 0
    back, end = decode_mh(wire)
    assert end == len(wire)
    assert back == msg


@settings(max_examples=300, deadline=None)
@given(any_message)
def test_every_option_lands_on_its_alignment(msg):
    back, _ = decode_mh(encode_mh(msg))
    for opt, off in zip(back.options, back.wire.option_offsets, strict=True):
        x, y = ALIGNMENT.get(option_type(opt), (1, 0))
        assert off % x == y, (opt, off)


@settings(max_examples=200, deadline=None)
@given(any_message, st.binary(min_size=0, max_size=6))
def test_encode_of_decode_reproduces_bytes_with_any_padding(msg, pads):
    # Re-lay the options with odd padding (Pad1/PadN runs), then decode and re-encode.
    wire = bytearray(encode_mh(msg, ))
    # a valid message with explicit non-canonical padding: PadN of len(pads) in front
    fixed = 18 if msg.MH_TYPE == 7 else 6
    head, rest = wire[:6 + fixed], wire[6 + fixed:]
    pad = bytes([1, len(pads)]) + bytes(len(pads))
    body = head + pad + rest
    body += o.pad_bytes(-len(body) % 8)
    body[1] = len(body) // 8 - 1
    back, _ = decode_mh(bytes(body))
    assert encode_mh(back) == bytes(body)
    assert back == msg


def test_checksum_over_ipv6_pseudo_header_is_verified_and_flagged():
    src, dst = IPv6Address("2001:db8::1"), IPv6Address("2001:db8::2")
    msg = BindingUpdate(7, options=COMMON)
    wire = encode_mh(msg, src, dst)
    good, _ = decode_mh(wire, pseudo=src.packed + dst.packed)
    assert good.wire.checksum_ok is True and good.wire.checksum != 0
    bad = bytearray(wire)
    bad[4] ^= 0xFF
    flagged, _ = decode_mh(bytes(bad), pseudo=src.packed + dst.packed)
    assert flagged.wire.checksum_ok is False
    assert flagged == msg  # still decoded
    assert any("bad checksum" in w.reason for w in flagged.wire.warnings)


def test_zero_checksum_over_udp_is_not_an_error():
    msg, _ = decode_mh(bytes.fromhex(PBU_HEX))
    assert msg.wire.checksum == 0 and msg.wire.checksum_ok is None
    assert msg.wire.warnings == ()


def test_unknown_mh_type_is_kept_raw_and_reencodes():
    wire = bytes([59, 1, 42, 0, 0, 0]) + bytes(range(10))
    msg, _ = decode_mh(wire)
    assert isinstance(msg, UnknownMH) and msg.mh_type == 42
    assert encode_mh(msg) == wire


def test_unknown_option_in_the_middle_is_kept_and_decoding_goes_on():
    opts = (o.MNIdentifier.nai("a@b"), o.UnknownOption(200, b"\x01\x02\x03"),
            o.HandoffIndicatorOpt(3))
    msg, _ = decode_mh(encode_mh(BindingUpdate(5, options=opts)))
    assert msg.options == opts
    assert msg.options[1].name == "unknown (200)"


def test_heartbeat_without_options_is_12_bytes_plus_padding():
    wire = encode_mh(Heartbeat(99, 1))
    assert len(wire) == 16 and wire[1] == 1


# --- malformed input: one test per reason ---------------------------------------------

def _raises(wire: bytes) -> DecodeError:
    with pytest.raises(DecodeError) as info:
        decode_mh(wire)
    return info.value


def test_truncated_header():
    err = _raises(bytes.fromhex("3b0705"))
    assert err.malformed.layer == "mh" and err.malformed.offset == 0
    assert "truncated" in err.malformed.reason


def test_header_len_past_the_packet():
    wire = bytearray.fromhex(PBU_HEX)
    wire[1] = 9  # declares 80 bytes, 64 present
    err = _raises(bytes(wire))
    assert err.malformed.offset == 1 and "declares 80 bytes" in err.malformed.reason


def test_header_len_shorter_than_fixed_part():
    err = _raises(bytes([59, 0, 7, 0, 0, 0, 1, 0]))  # BE needs 24 bytes, 8 declared
    assert "shorter than" in err.malformed.reason


def test_option_past_the_declared_mh_length_keeps_the_options_before():
    # The open-source LMA bug: Header Len 4 bytes short of the options it wrote.
    wire = bytearray.fromhex(PBU_HEX)
    wire[1] = 6  # 56 bytes declared: the HoA Request at 52 runs 4 bytes past
    err = _raises(bytes(wire))
    assert err.malformed.offset == 52
    assert "runs 4 bytes past" in err.malformed.reason
    partial = err.partial
    assert isinstance(partial, BindingUpdate) and partial.mn_id == "mn1@example.com"
    assert partial.timestamp == TS and partial.hoa_request is None


def test_option_length_byte_missing():
    wire = bytes([59, 1, 5, 0, 0, 0, 0, 1, 0x82, 0, 0, 1, 0, 0, 0, 8])
    err = _raises(wire)
    assert err.malformed.offset == 15 and "length byte" in err.malformed.reason


def test_zero_and_impossible_option_lengths_are_kept_raw_with_a_warning():
    # HI with length 0 and a Timestamp with length 3: neither fits its type.
    body = bytes([23, 0, 27, 3, 1, 2, 3])
    wire = bytes([59, 1, 5, 0, 0, 0, 0, 1, 0x82, 0, 0, 1]) + body
    wire = wire[:1] + bytes([len(wire + o.pad_bytes(-len(wire) % 8)) // 8 - 1]) + wire[2:]
    wire += o.pad_bytes(-len(wire) % 8)
    msg, _ = decode_mh(wire)
    assert msg.options == (o.UnknownOption(23, b""), o.UnknownOption(27, b"\x01\x02\x03"))
    reasons = [w.reason for w in msg.wire.warnings]
    assert any("Handoff Indicator: length 0, expected 2" in r for r in reasons)
    assert any("Timestamp: length 3, expected 8" in r for r in reasons)
    assert encode_mh(msg) == wire


def test_payload_proto_other_than_59_is_flagged():
    wire = bytearray(encode_mh(Heartbeat(1)))
    wire[0] = 6
    msg, _ = decode_mh(bytes(wire))
    assert msg.proto == 6
    assert any("Payload Proto 6" in w.reason for w in msg.wire.warnings)
