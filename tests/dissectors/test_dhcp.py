"""Tests for dissectors.dhcp: hand-made RFC 2131 vectors, round trips, malformed input, tshark."""

from __future__ import annotations

import dataclasses
import os
import random
import shutil
import struct
import subprocess
from collections.abc import Callable
from ipaddress import IPv4Address
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dissectors.checksum import inet_checksum, pseudo_header
from dissectors.dhcp import DhcpMessage, decode_dhcp, encode_dhcp
from dissectors.dhcp_codes import (
    DHCP_OPTION_NAMES,
    DhcpMessageType,
    DhcpOp,
    DhcpOptionCode,
    RelayAgentSubOptionCode,
)
from dissectors.dhcp_options import (
    ADDRESS_CODES,
    ADDRESS_LIST_CODES,
    TEXT_CODES,
    TYPED_OPTION_CODES,
    UINT_WIDTHS,
    DhcpAddressListOption,
    DhcpAddressOption,
    DhcpClientIdOption,
    DhcpMessageTypeOption,
    DhcpOption,
    DhcpOverloadOption,
    DhcpParamRequestListOption,
    DhcpRawOption,
    DhcpRelayAgentInfoOption,
    DhcpTextOption,
    DhcpUIntOption,
    RelayAgentSubOption,
    encode_option,
)
from dissectors.errors import DecodeError

A = IPv4Address
MAC = "00:11:22:33:44:55"
XID = 0x3903F326
COOKIE = bytes.fromhex("63825363")


def fixed_header(op: int, *, flags: int = 0, hops: int = 0, yiaddr: str = "0.0.0.0",
                 giaddr: str = "0.0.0.0", sname: bytes = b"", file: bytes = b"") -> bytes:
    """The 236-byte BOOTP header written field by field from RFC 2131 §2, Figure 1."""
    return (bytes([op, 1, 6, hops])                       # op htype hlen hops
            + bytes.fromhex("3903f326")                   # xid
            + b"\x00\x00" + flags.to_bytes(2, "big")      # secs flags
            + A("0.0.0.0").packed + A(yiaddr).packed      # ciaddr yiaddr
            + A("0.0.0.0").packed + A(giaddr).packed      # siaddr giaddr
            + bytes.fromhex("001122334455") + bytes(10)   # chaddr (16)
            + sname.ljust(64, b"\0")                      # sname (64)
            + file.ljust(128, b"\0"))                     # file (128)


# DHCPDISCOVER, broadcast flag set: 53=DISCOVER, 61=type 1 + MAC, 55=1,3,6,26, End, pad to 300.
DISCOVER_OPTIONS = bytes.fromhex("350101" "3d0701001122334455" "37040103061a" "ff")
DISCOVER = fixed_header(1, flags=0x8000) + COOKIE + DISCOVER_OPTIONS
DISCOVER += bytes(300 - len(DISCOVER))

# DHCPACK: yiaddr 10.10.0.5, 53=ACK, 54=10.10.0.1, 51=3600, 1=255.255.255.0, 3=10.10.0.1,
# 6=8.8.8.8, 26=1500, End, pad to 300.
ACK_OPTIONS = bytes.fromhex("350105" "36040a0a0001" "330400000e10" "0104ffffff00"
                            "03040a0a0001" "060408080808" "1a0205dc" "ff")
ACK = fixed_header(2, yiaddr="10.10.0.5") + COOKIE + ACK_OPTIONS
ACK += bytes(300 - len(ACK))


def discover_message() -> DhcpMessage:
    return DhcpMessage(
        op=DhcpOp.BOOTREQUEST, xid=XID, flags=0x8000, chaddr=MAC,
        options=(DhcpMessageTypeOption(DhcpMessageType.DISCOVER),
                 DhcpClientIdOption.from_mac(MAC),
                 DhcpParamRequestListOption((1, 3, 6, 26))))


def ack_message() -> DhcpMessage:
    return DhcpMessage(
        op=DhcpOp.BOOTREPLY, xid=XID, yiaddr=A("10.10.0.5"), chaddr=MAC,
        options=(DhcpMessageTypeOption(DhcpMessageType.ACK),
                 DhcpAddressOption(DhcpOptionCode.SERVER_ID, A("10.10.0.1")),
                 DhcpUIntOption(DhcpOptionCode.LEASE_TIME, 3600),
                 DhcpAddressOption(DhcpOptionCode.SUBNET_MASK, A("255.255.255.0")),
                 DhcpAddressListOption(DhcpOptionCode.ROUTER, (A("10.10.0.1"),)),
                 DhcpAddressListOption(DhcpOptionCode.DNS, (A("8.8.8.8"),)),
                 DhcpUIntOption(DhcpOptionCode.MTU, 1500)))


def relayed_discover() -> DhcpMessage:
    rai = DhcpRelayAgentInfoOption((
        RelayAgentSubOption(RelayAgentSubOptionCode.CIRCUIT_ID, b"mag1-eth0"),
        RelayAgentSubOption(RelayAgentSubOptionCode.REMOTE_ID, A("10.10.0.5")),
        RelayAgentSubOption(RelayAgentSubOptionCode.LINK_SELECTION, A("10.10.0.0")),
        RelayAgentSubOption(RelayAgentSubOptionCode.SERVER_ID_OVERRIDE, A("10.10.0.1")),
        RelayAgentSubOption(RelayAgentSubOptionCode.RELAY_AGENT_ID, b"\x01\x02"),
    ))
    return DhcpMessage(op=1, xid=XID, hops=1, giaddr=A("192.0.2.1"), chaddr=MAC,
                       options=(DhcpMessageTypeOption(DhcpMessageType.DISCOVER), rai))


def decode_error(buf: bytes, offset: int = 0) -> DecodeError:
    with pytest.raises(DecodeError) as info:
        decode_dhcp(buf, offset)
    err = info.value
    assert err.malformed.layer == "dhcp"
    assert err.malformed.reason
    return err


# --------------------------------------------------------------------------- code tables


def test_code_tables() -> None:
    assert [m.value for m in DhcpMessageType] == list(range(1, 19))
    assert DhcpMessageType(6).name == "NAK" and DhcpMessageType(18).name == "TLS"
    assert DhcpOp.BOOTREPLY == 2
    required = {0, 1, 3, 6, 12, 26, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 61, 82, 255}
    assert required <= set(DHCP_OPTION_NAMES)
    assert DHCP_OPTION_NAMES[52] == "Option Overload"
    assert DHCP_OPTION_NAMES[82] == "Relay Agent Information"
    for member in DhcpOptionCode:
        assert member.value in DHCP_OPTION_NAMES
        assert member.label == DHCP_OPTION_NAMES[member.value]
    assert DhcpOptionCode.SERVER_ID.label == "Server Identifier"
    assert RelayAgentSubOptionCode.REMOTE_ID.label == "Agent Remote ID"


# --------------------------------------------------------------------------- known vectors


def test_discover_vector_decodes() -> None:
    msg, end = decode_dhcp(DISCOVER)
    assert end == 300
    assert msg.op is DhcpOp.BOOTREQUEST
    assert (msg.htype, msg.hlen, msg.hops, msg.xid, msg.secs) == (1, 6, 0, XID, 0)
    assert msg.broadcast and msg.flags == 0x8000
    assert msg.chaddr == MAC and msg.mac == MAC
    assert msg.message_type is DhcpMessageType.DISCOVER
    assert msg.client_id is not None and msg.client_id.mac == MAC
    prl = msg.option(55)
    assert isinstance(prl, DhcpParamRequestListOption)
    assert prl.codes == (DhcpOptionCode.SUBNET_MASK, DhcpOptionCode.ROUTER,
                         DhcpOptionCode.DNS, DhcpOptionCode.MTU)
    assert not msg.is_relayed
    assert msg.warnings == ()
    assert msg.info() == "DHCP DISCOVER xid=0x3903f326 chaddr=00:11:22:33:44:55"
    assert msg == discover_message()


def test_discover_vector_encodes() -> None:
    assert encode_dhcp(discover_message()) == DISCOVER
    assert encode_dhcp(decode_dhcp(DISCOVER)[0]) == DISCOVER


def test_ack_vector() -> None:
    msg, end = decode_dhcp(ACK)
    assert end == len(ACK) == 300
    assert msg == ack_message()
    assert msg.op is DhcpOp.BOOTREPLY
    assert msg.yiaddr == A("10.10.0.5")
    assert msg.server_id == A("10.10.0.1")
    assert msg.lease_time == 3600
    assert msg.subnet_mask == A("255.255.255.0")
    assert msg.routers == (A("10.10.0.1"),)
    assert msg.dns_servers == (A("8.8.8.8"),)
    assert msg.mtu == 1500
    assert msg.info() == "DHCP ACK xid=0x3903f326 yiaddr=10.10.0.5 lease=3600s"
    assert encode_dhcp(ack_message()) == ACK


def test_decode_at_offset_and_memoryview() -> None:
    buf = b"\xaa" * 42 + DISCOVER
    msg, end = decode_dhcp(memoryview(buf), 42)
    assert end == len(buf)
    assert msg == discover_message()
    err = decode_error(b"\xaa" * 42 + DISCOVER[:100], 42)
    assert err.malformed.offset == 0


def test_min_size_parameter() -> None:
    assert len(encode_dhcp(discover_message(), min_size=0)) == len(DISCOVER.rstrip(b"\0"))
    assert len(encode_dhcp(discover_message(), min_size=576)) == 576


# --------------------------------------------------------------------------- info()


def test_info_lines() -> None:
    offer = DhcpMessage(op=2, xid=XID, yiaddr="10.10.0.5", chaddr=MAC, options=(
        DhcpMessageTypeOption(DhcpMessageType.OFFER),
        DhcpAddressOption(DhcpOptionCode.SERVER_ID, "10.10.0.1")))
    assert offer.info() == "DHCP OFFER xid=0x3903f326 yiaddr=10.10.0.5 server=10.10.0.1"
    request = DhcpMessage(op=1, xid=XID, chaddr=MAC, options=(
        DhcpMessageTypeOption(DhcpMessageType.REQUEST),
        DhcpAddressOption(DhcpOptionCode.REQUESTED_IP, "10.10.0.5"),
        DhcpAddressOption(DhcpOptionCode.SERVER_ID, "10.10.0.1")))
    assert request.info() == "DHCP REQUEST xid=0x3903f326 req=10.10.0.5 server=10.10.0.1"
    nak = DhcpMessage(op=2, xid=XID, chaddr=MAC, options=(
        DhcpMessageTypeOption(DhcpMessageType.NAK),
        DhcpAddressOption(DhcpOptionCode.SERVER_ID, "10.10.0.1"),
        DhcpTextOption(DhcpOptionCode.MESSAGE, 'address "x" not yours')))
    assert nak.info() == ('DHCP NAK xid=0x3903f326 server=10.10.0.1 '
                          'msg="address \\"x\\" not yours"')
    assert relayed_discover().info() == (
        "DHCP DISCOVER xid=0x3903f326 chaddr=00:11:22:33:44:55 relay=192.0.2.1 "
        "remote-id=10.10.0.5")
    bootp = DhcpMessage(op=2, xid=1, yiaddr="10.0.0.9")
    assert bootp.info() == "BOOTP REPLY xid=0x00000001 yiaddr=10.0.0.9"
    odd = DhcpMessage(op=1, xid=1, hops=2, options=(DhcpMessageTypeOption(99),))
    assert odd.info() == "DHCP type=99 xid=0x00000001 hops=2"
    infinite = dataclasses.replace(ack_message(), options=(
        DhcpMessageTypeOption(DhcpMessageType.ACK),
        DhcpUIntOption(DhcpOptionCode.LEASE_TIME, 0xFFFFFFFF)))
    assert infinite.info().endswith("lease=infinite")


# --------------------------------------------------------------------------- overload


OVERLOADED = (
    fixed_header(2, yiaddr="10.10.0.5",
                 sname=bytes.fromhex("03040a0a0001" "ff"),            # sname: 3 Router, End
                 file=bytes.fromhex("330400000e10" "00" "0104ffffff00" "ff"))  # 51, Pad, 1, End
    + COOKIE
    + bytes.fromhex("350105" "340103" "36040a0a0001" "ff"))           # 53, 52=3, 54, End


def test_overload_decodes_file_then_sname() -> None:
    msg, end = decode_dhcp(OVERLOADED)
    assert end == len(OVERLOADED)
    assert [int(o.code) for o in msg.options] == [53, 52, 54, 51, 1, 3]
    overload = msg.option(52)
    assert isinstance(overload, DhcpOverloadOption) and overload.file and overload.sname
    assert msg.sname == b"" and msg.file == b""
    assert msg.lease_time == 3600 and msg.routers == (A("10.10.0.1"),)
    assert msg.warnings == ()
    assert msg.layout is not None and msg.layout.overload == 3
    assert [r.region for r in msg.layout.regions] == ["options", "file", "sname"]
    assert msg.layout.regions[1].pads == (0, 1, 0)
    # each option goes back into the field it came from
    assert encode_dhcp(msg) == OVERLOADED


def test_overload_value_change_falls_back_to_canonical() -> None:
    msg, _ = decode_dhcp(OVERLOADED)
    canonical = dataclasses.replace(msg, layout=None)
    wire = encode_dhcp(canonical)
    assert wire[108] == 0xFF and wire[44] == 0xFF  # empty overloaded fields: End, zeros
    assert decode_dhcp(wire)[0] == msg
    with pytest.raises(ValueError, match="sname"):
        encode_dhcp(dataclasses.replace(msg, sname=b"server"))


def test_overload_only_file_keeps_sname_raw() -> None:
    wire = (fixed_header(2, sname=b"srv", file=bytes.fromhex("3304000000ff") + b"\xff")
            + COOKIE + bytes.fromhex("350105" "340101" "ff"))
    msg, _ = decode_dhcp(wire)
    assert msg.sname == b"srv" and msg.file == b""
    assert msg.lease_time == 255
    assert encode_dhcp(msg) == wire


def test_overload_bad_value_and_repeats_warn() -> None:
    wire = (fixed_header(2, file=b"boot.img") + COOKIE
            + bytes.fromhex("350105" "340107" "340101" "ff"))
    msg, _ = decode_dhcp(wire)
    assert msg.file == b"boot.img"
    assert msg.layout is not None and msg.layout.overload == 0
    reasons = [w.reason for w in msg.warnings]
    assert any("not 1, 2 or 3" in r for r in reasons)
    assert any("repeated" in r for r in reasons)
    assert encode_dhcp(msg) == wire


def test_overload_garbage_field_raises_with_partial() -> None:
    wire = (fixed_header(2, file=b"\x33\x7fgarbage") + COOKIE
            + bytes.fromhex("350105" "340101" "ff"))
    err = decode_error(wire)
    assert err.malformed.offset == 108
    assert "file" in err.malformed.reason
    assert isinstance(err.partial, DhcpMessage)
    assert [int(o.code) for o in err.partial.options] == [53, 52]


def test_overloaded_field_without_end_is_accepted() -> None:
    file = bytes.fromhex("330400000e10") + bytes(122)  # no End: Pad to the end of the field
    wire = fixed_header(2, file=file) + COOKIE + bytes.fromhex("340101ff")
    msg, _ = decode_dhcp(wire)
    assert msg.lease_time == 3600
    assert any("End option missing in the file" in w.reason for w in msg.warnings)
    assert encode_dhcp(msg) == wire


# --------------------------------------------------------------------------- option 82


def test_relay_agent_information() -> None:
    msg = relayed_discover()
    wire = encode_dhcp(msg)
    assert bytes.fromhex("5221" "01096d6167312d65746830" "02040a0a0005" "05040a0a0000"
                         "0b040a0a0001" "0c020102" "ff") in wire
    back, _ = decode_dhcp(wire)
    assert back == msg and back.warnings == ()
    assert back.is_relayed
    rai = back.relay_agent_info
    assert rai is not None
    assert rai.circuit_id == b"mag1-eth0"
    assert rai.remote_id == bytes.fromhex("0a0a0005")
    assert rai.remote_id_ipv4 == A("10.10.0.5") == back.remote_id_ipv4
    assert rai.link_selection == A("10.10.0.0")
    assert rai.server_id_override == A("10.10.0.1")
    assert rai.relay_agent_id == b"\x01\x02"
    assert rai.suboptions[0].code is RelayAgentSubOptionCode.CIRCUIT_ID
    assert rai.suboptions[0].name == "Agent Circuit ID"


def test_relay_agent_information_malformed_is_raw_with_warning() -> None:
    base = fixed_header(1) + COOKIE + bytes.fromhex("350101")
    # sub-option 2 claims 9 bytes, 4 are there: option 82 kept raw
    wire = base + bytes.fromhex("5206" "02090a0a0005" "ff")
    msg, _ = decode_dhcp(wire)
    opt = msg.option(82)
    assert isinstance(opt, DhcpRawOption) and opt.data == bytes.fromhex("02090a0a0005")
    assert msg.warnings[0].offset == 243 + 2 and msg.warnings[0].severity == "warning"
    assert encode_dhcp(msg) == wire
    # link selection of 3 bytes: kept as bytes inside a typed option 82
    wire = base + bytes.fromhex("5205" "05030a0a00" "ff")
    msg, _ = decode_dhcp(wire)
    rai = msg.relay_agent_info
    assert rai is not None and rai.suboptions[0].value == b"\x0a\x0a\x00"
    assert rai.link_selection is None and rai.remote_id_ipv4 is None
    assert "Link Selection" in msg.warnings[0].reason
    assert encode_dhcp(msg) == wire


# --------------------------------------------------------------------------- other options


def test_client_id_rfc4361() -> None:
    duid = bytes.fromhex("0003" "0001" "001122334455")  # DUID-LL, Ethernet
    cid = DhcpClientIdOption.from_iaid_duid(0x01020304, duid)
    assert encode_option(cid) == bytes.fromhex("3d0f" "ff" "01020304") + duid
    msg = DhcpMessage(chaddr=MAC, options=(cid,))
    back = decode_dhcp(encode_dhcp(msg))[0].client_id
    assert back is not None
    assert back.iaid == 0x01020304 and back.duid == duid and back.duid_type == 3
    assert back.mac is None
    assert str(back) == "iaid=0x1020304 duid=00030001001122334455"


def test_non_utf8_text_and_unknown_option_reencode() -> None:
    wire = (fixed_header(1) + COOKIE
            + bytes.fromhex("350101" "0c03ff6e31" "c8020102" "5000" "ff") + bytes(30))
    msg, _ = decode_dhcp(wire)
    host = msg.option(12)
    assert isinstance(host, DhcpTextOption) and host.value == b"\xffn1"
    assert host.text == "\\xffn1"  # invalid UTF-8 shown as \xNN, like MN-IDs
    unknown = msg.option(200)
    assert unknown == DhcpRawOption(200, b"\x01\x02") and type(unknown.code) is int
    assert msg.option(80) == DhcpRawOption(DhcpOptionCode.RAPID_COMMIT, b"")
    assert msg.warnings == ()
    assert encode_dhcp(msg) == wire


@pytest.mark.parametrize(("option", "expected"), [
    ("0103ffffff", "expected 4 bytes"),
    ("0305010203040a", "multiple of 4"),
    ("1a0305dc00", "expected 2 bytes"),
    ("35020101", "expected 1 byte"),
    ("3d0101", "at least 2 bytes"),
])
def test_length_mismatch_kept_raw_with_warning(option: str, expected: str) -> None:
    wire = fixed_header(1) + COOKIE + bytes.fromhex(option + "ff")
    msg, _ = decode_dhcp(wire)
    (opt,) = msg.options
    assert isinstance(opt, DhcpRawOption)
    assert opt.code == int(option[:2], 16) and isinstance(opt.code, DhcpOptionCode)
    (warning,) = msg.warnings
    assert warning.offset == 240 and expected in warning.reason and "kept raw" in warning.reason
    assert encode_dhcp(msg) == wire


def test_value_warnings() -> None:
    wire = fixed_header(1, flags=0x8001) + COOKIE + bytes.fromhex("1a020040" "39020100" "ff")
    msg, _ = decode_dhcp(wire)
    assert msg.mtu == 64
    reasons = " / ".join(w.reason for w in msg.warnings)
    assert "reserved flag bits 0x0001" in reasons
    assert "Interface MTU 64" in reasons and "Maximum DHCP Message Size 256" in reasons


def test_pads_missing_end_and_trailer() -> None:
    # Pad bytes between options, no End, buffer ends: accepted and reproduced
    wire = fixed_header(1) + COOKIE + bytes.fromhex("00350101" "0000" "3204c0a80001" "00")
    msg, end = decode_dhcp(wire)
    assert end == len(wire)
    assert msg.requested_ip == A("192.168.0.1")
    assert msg.layout is not None and msg.layout.end_missing
    assert msg.layout.regions[0].pads == (1, 2, 1)
    assert [w.reason for w in msg.warnings] == ["End option missing in the options area"]
    assert encode_dhcp(msg) == wire
    # the same message without its layout is written canonically
    canonical = encode_dhcp(dataclasses.replace(msg, layout=None))
    assert canonical[240:250] == bytes.fromhex("3501013204c0a80001ff")
    assert len(canonical) == 300


def test_layout_follows_value_edits_and_drops_on_code_changes() -> None:
    msg, _ = decode_dhcp(ACK)
    edited = dataclasses.replace(msg, options=tuple(
        DhcpUIntOption(51, 7200) if o.code == 51 else o for o in msg.options))
    wire = encode_dhcp(edited)
    assert len(wire) == len(ACK) and wire[249:255] == bytes.fromhex("330400001c20")
    fewer = dataclasses.replace(msg, options=msg.options[:2])
    wire = encode_dhcp(fewer)
    assert wire[240:250] == bytes.fromhex("35010536040a0a0001ff") and len(wire) == 300


def test_chaddr_forms() -> None:
    field16 = bytes.fromhex("0011223344556677") + bytes(8)
    wire = bytearray(fixed_header(1) + COOKIE + b"\xff")
    wire[1:3] = bytes([6, 8])  # htype 6 (IEEE 802), hlen 8
    wire[28:44] = field16
    msg, _ = decode_dhcp(bytes(wire))
    assert msg.chaddr == "0011223344556677" and msg.mac is None
    assert encode_dhcp(msg) == bytes(wire)
    # non-zero chaddr padding is layout: kept on re-encode, not part of equality
    wire[1:3] = bytes([1, 6])
    wire[40] = 0xEE
    msg, _ = decode_dhcp(bytes(wire))
    assert msg.chaddr == "00:11:22:33:44:55"
    assert encode_dhcp(msg) == bytes(wire)
    with pytest.raises(ValueError, match="hlen"):
        encode_dhcp(DhcpMessage(chaddr="0011"))


def test_constructor_checks() -> None:
    with pytest.raises(ValueError):
        DhcpAddressOption(51, A("1.2.3.4"))
    with pytest.raises(ValueError):
        DhcpUIntOption(1, 5)
    assert DhcpAddressOption(54, "10.0.0.1").address == A("10.0.0.1")
    with pytest.raises(ValueError):
        encode_option(DhcpUIntOption(26, 70000))
    with pytest.raises(ValueError):
        encode_option(DhcpRawOption(0, b""))
    with pytest.raises(ValueError):
        encode_option(DhcpRawOption(9, bytes(256)))
    # typed options refuse what the decoder would not read back as the same option
    for empty in (DhcpTextOption(12, ""), DhcpAddressListOption(3, ()),
                  DhcpParamRequestListOption(()), DhcpRelayAgentInfoOption(()),
                  DhcpClientIdOption(1, b"")):
        with pytest.raises(ValueError):
            encode_option(empty)
    assert encode_option(DhcpRawOption(1, b"")) == b"\x01\x00"  # raw: malformed on purpose
    # normalisations that keep decode(encode(m)) == m
    assert DhcpTextOption(12, b"mn1").value == "mn1"
    assert DhcpTextOption(12, b"\xff").value == b"\xff"
    assert RelayAgentSubOption(2, A("10.10.0.5")).value == b"\x0a\x0a\x00\x05"
    assert RelayAgentSubOption(5, b"\x0a\x0a\x00\x00").value == A("10.10.0.0")
    assert DhcpMessage(op=2, ciaddr="10.0.0.1").op is DhcpOp.BOOTREPLY


# --------------------------------------------------------------------------- malformed


def test_truncated_fixed_header() -> None:
    err = decode_error(DISCOVER[:100])
    assert err.malformed.offset == 0
    assert "truncated BOOTP fixed header" in err.malformed.reason and "have 100" in \
        err.malformed.reason
    assert decode_error(b"").malformed.offset == 0


def test_bad_and_truncated_cookie() -> None:
    wire = bytearray(DISCOVER)
    wire[236:240] = b"\x00\x00\x00\x00"
    err = decode_error(bytes(wire))
    assert err.malformed.offset == 236
    assert "bad magic cookie 0x00000000" in err.malformed.reason
    assert isinstance(err.partial, DhcpMessage) and err.partial.xid == XID
    err = decode_error(DISCOVER[:238])
    assert err.malformed.offset == 236 and "truncated magic cookie" in err.malformed.reason


def test_option_past_buffer() -> None:
    wire = fixed_header(1) + COOKIE + bytes.fromhex("350101" "36040a0a")
    err = decode_error(wire)
    assert err.malformed.offset == 243
    assert "option 54 (Server Identifier) length 4 runs past" in err.malformed.reason
    assert isinstance(err.partial, DhcpMessage)
    assert err.partial.message_type is DhcpMessageType.DISCOVER
    assert len(err.partial.options) == 1


def test_option_without_length_byte() -> None:
    err = decode_error(fixed_header(1) + COOKIE + bytes.fromhex("35010133"))
    assert err.malformed.offset == 243
    assert "no length byte" in err.malformed.reason


def test_zero_length_typed_option() -> None:
    err = decode_error(fixed_header(1) + COOKIE + bytes.fromhex("350101" "0100" "ff"))
    assert err.malformed.offset == 243
    assert "option 1 (Subnet Mask) has length 0" in err.malformed.reason
    assert isinstance(err.partial, DhcpMessage) and len(err.partial.options) == 1


def test_bad_offset_argument() -> None:
    assert decode_error(DISCOVER, -1).malformed.offset == 0
    assert decode_error(DISCOVER, len(DISCOVER) + 1).malformed.offset == 0


# --------------------------------------------------------------------------- hypothesis

addresses = st.integers(0, 2**32 - 1).map(IPv4Address)


def _invalid_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _suboption(code: int) -> st.SearchStrategy[RelayAgentSubOption]:
    value: st.SearchStrategy[bytes | IPv4Address]
    value = addresses if code in (5, 11) else st.binary(max_size=20)
    return value.map(lambda v: RelayAgentSubOption(code, v))


options = st.one_of(
    st.builds(DhcpAddressOption, st.sampled_from(sorted(ADDRESS_CODES)), addresses),
    st.builds(DhcpAddressListOption, st.sampled_from(sorted(ADDRESS_LIST_CODES)),
              st.lists(addresses, min_size=1, max_size=8).map(tuple)),
    st.sampled_from(sorted(UINT_WIDTHS)).flatmap(
        lambda c: st.integers(0, 2 ** (8 * UINT_WIDTHS[c]) - 1).map(
            lambda v: DhcpUIntOption(c, v))),
    st.builds(DhcpTextOption, st.sampled_from(sorted(TEXT_CODES)),
              st.one_of(st.text(min_size=1, max_size=60),
                        st.binary(min_size=1, max_size=60).filter(_invalid_utf8))),
    st.integers(0, 255).map(DhcpMessageTypeOption),
    st.lists(st.integers(0, 255), min_size=1, max_size=40).map(
        lambda c: DhcpParamRequestListOption(tuple(c))),
    st.builds(DhcpClientIdOption, st.integers(0, 255), st.binary(min_size=1, max_size=40)),
    st.lists(st.integers(0, 255).flatmap(_suboption), min_size=1, max_size=6).map(
        lambda s: DhcpRelayAgentInfoOption(tuple(s))),
    st.builds(DhcpRawOption,
              st.integers(1, 254).filter(lambda c: c not in TYPED_OPTION_CODES),
              st.binary(max_size=40)),
)


def _honoured(opts: list[DhcpOption]) -> int:
    for opt in opts:
        if isinstance(opt, DhcpOverloadOption):
            return opt.value if opt.value in (1, 2, 3) else 0
    return 0


@st.composite
def messages(draw: st.DrawFn) -> DhcpMessage:
    htype = draw(st.sampled_from([1, 1, 6, 0, 255]))
    hlen = draw(st.one_of(st.just(6), st.integers(0, 255)))
    hw = draw(st.binary(min_size=min(hlen, 16), max_size=min(hlen, 16)))
    opts = draw(st.lists(options, max_size=10))
    for value in draw(st.lists(st.integers(0, 255), max_size=2)):
        opts.insert(draw(st.integers(0, len(opts))), DhcpOverloadOption(value))
    overload = _honoured(opts)
    sname = b"" if overload & 2 else draw(st.binary(max_size=64)).rstrip(b"\0")
    file = b"" if overload & 1 else draw(st.binary(max_size=128)).rstrip(b"\0")
    return DhcpMessage(
        op=draw(st.integers(0, 255)), htype=htype, hlen=hlen, hops=draw(st.integers(0, 255)),
        xid=draw(st.integers(0, 2**32 - 1)), secs=draw(st.integers(0, 65535)),
        flags=draw(st.integers(0, 65535)), ciaddr=draw(addresses), yiaddr=draw(addresses),
        siaddr=draw(addresses), giaddr=draw(addresses),
        chaddr=hw.hex(":") if (htype, hlen) == (1, 6) else hw.hex(),
        sname=sname, file=file, options=tuple(opts))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(messages(), st.sampled_from([0, 300, 576]))
def test_roundtrip_message_bytes_message(msg: DhcpMessage, min_size: int) -> None:
    wire = encode_dhcp(msg, min_size)
    back, end = decode_dhcp(wire)
    assert end == len(wire) >= min_size
    assert back == msg
    assert encode_dhcp(back) == wire
    assert isinstance(back.info(), str)


def _wire_option(draw: st.DrawFn, allow_overload: bool) -> bytes:
    """One TLV: a well-formed typed option, or any code with arbitrary (non-empty) bytes."""
    if draw(st.booleans()):
        return encode_option(draw(options))
    code = draw(st.integers(1, 254).filter(lambda c: allow_overload or c != 52))
    data = draw(st.binary(min_size=1 if code in TYPED_OPTION_CODES else 0, max_size=30))
    return bytes((code, len(data))) + data


def _wire_items(draw: st.DrawFn, allow_overload: bool) -> list[bytes]:
    items = []
    for _ in range(draw(st.integers(0, 8))):
        if draw(st.integers(0, 3)) == 0:
            items.append(bytes(draw(st.integers(1, 4))))  # a run of Pad options
        else:
            items.append(_wire_option(draw, allow_overload))
    return items


def _wire_field(draw: st.DrawFn, size: int) -> bytes:
    """An overloaded sname/file field: options, then End and any filler, or Pads to the end."""
    out = b""
    for item in _wire_items(draw, allow_overload=True):
        if len(out) + len(item) < size:
            out += item
    if draw(st.integers(0, 4)):
        out += b"\xff"
        rest = size - len(out)
        return out + draw(st.one_of(st.just(bytes(rest)),
                                    st.binary(min_size=rest, max_size=rest)))
    return out + bytes(size - len(out))


@st.composite
def wire_messages(draw: st.DrawFn) -> bytes:
    header = bytearray(draw(st.binary(min_size=236, max_size=236)))
    overload = draw(st.sampled_from([0, 0, 1, 2, 3]))
    items = _wire_items(draw, allow_overload=False)
    if overload:
        items.insert(draw(st.integers(0, len(items))), bytes((52, 1, overload)))
        if overload & 1:
            header[108:236] = _wire_field(draw, 128)
        if overload & 2:
            header[44:108] = _wire_field(draw, 64)
    area = b"".join(items)
    if draw(st.integers(0, 4)):
        area += b"\xff" + draw(st.one_of(st.binary(max_size=80), st.integers(0, 80).map(bytes)))
    return bytes(header) + COOKIE + area


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(wire_messages())
def test_roundtrip_bytes_message_bytes(wire: bytes) -> None:
    msg, end = decode_dhcp(wire)
    assert end == len(wire)
    assert encode_dhcp(msg) == wire
    assert decode_dhcp(encode_dhcp(msg))[0] == msg
    assert all(w.severity == "warning" and w.layer == "dhcp" for w in msg.warnings)


@settings(max_examples=300)
@given(st.binary(max_size=120), st.binary(max_size=300))
def test_arbitrary_bytes_raise_only_decode_error(options_area: bytes, prefix: bytes) -> None:
    for wire in (fixed_header(1) + COOKIE + options_area, prefix):
        try:
            msg, _ = decode_dhcp(wire)
        except DecodeError as err:
            assert err.malformed.layer == "dhcp"
            assert 0 <= err.malformed.offset <= len(wire)
        else:
            assert encode_dhcp(msg) == wire


def _mutate(rng: random.Random, wire: bytes) -> bytes:
    data = bytearray(wire)
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(6)
        # most mutations hit the options area, where the structure is
        pos = rng.randrange(len(data)) if rng.random() < 0.2 or len(data) <= 240 else \
            rng.randrange(236, len(data))
        if kind == 0:
            data[pos] = rng.randrange(256)
        elif kind == 1:
            data[pos] ^= 1 << rng.randrange(8)
        elif kind == 2:
            del data[rng.randrange(len(data) + 1):]
        elif kind == 3:
            data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 6)))
        elif kind == 4:
            del data[pos:pos + rng.randint(1, 6)]
        else:
            data[pos] = rng.choice([0, 1, 3, 52, 53, 55, 61, 82, 255])
        if not data:
            break
    return bytes(data)


def test_random_mutations_raise_only_decode_error() -> None:
    rng = random.Random(5844)
    seeds = [DISCOVER, ACK, OVERLOADED, encode_dhcp(relayed_discover()),
             encode_dhcp(DhcpMessage(options=(DhcpClientIdOption.from_iaid_duid(7, b"\0\3"),
                                              DhcpTextOption(12, "mn1"))))]
    decoded = failed = 0
    for n in range(2000):
        wire = _mutate(rng, seeds[n % len(seeds)])
        try:
            msg, end = decode_dhcp(wire)
        except DecodeError as err:
            failed += 1
            assert err.malformed.layer == "dhcp"
            assert 0 <= err.malformed.offset <= len(wire)
            assert err.partial is None or isinstance(err.partial, DhcpMessage)
        else:
            decoded += 1
            assert end == len(wire)
            assert encode_dhcp(msg) == wire
            msg.info()
    assert decoded > 100 and failed > 100


# --------------------------------------------------------------------------- tshark


def _tshark() -> str:
    path = shutil.which("tshark")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("tshark is required when CI=true")
        pytest.skip("tshark not installed: DHCP cross-check with tshark skipped")
    return path


def _frame(payload: bytes, src: str, dst: str, sport: int, dport: int) -> bytes:
    """Ethernet / IPv4 / UDP with a correct IPv4 header checksum and UDP checksum."""
    s, d = A(src), A(dst)
    length = 8 + len(payload)
    udp = struct.pack("!HHHH", sport, dport, length, 0) + payload
    csum = inet_checksum(pseudo_header(s, d, 17, length), udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", csum) + udp[8:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + length, 1, 0, 64, 17, 0, s.packed, d.packed)
    ip = ip[:10] + struct.pack("!H", inet_checksum(ip)) + ip[12:]
    return b"\xff" * 6 + bytes.fromhex("020000000001") + b"\x08\x00" + ip + udp


def _write_pcap(path: Path, frames: list[bytes]) -> None:
    with path.open("wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))  # Ethernet
        for n, frame in enumerate(frames):
            out.write(struct.pack("<IIII", 1_700_000_000 + n, 0, len(frame), len(frame)))
            out.write(frame)


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _addresses(value: tuple[IPv4Address, ...] | None) -> str:
    return ",".join(map(str, value or ()))


def _uint(msg: DhcpMessage, code: int) -> str:
    opt = msg.option(code)
    return str(opt.value) if isinstance(opt, DhcpUIntOption) else ""


def _prl(msg: DhcpMessage) -> str:
    opt = msg.option(55)
    if not isinstance(opt, DhcpParamRequestListOption):
        return ""
    return ",".join(str(int(c)) for c in opt.codes)


def _rai(msg: DhcpMessage, attr: str) -> str:
    rai = msg.relay_agent_info
    value = None if rai is None else getattr(rai, attr)
    return value.hex() if isinstance(value, bytes) else _text(value)


# tshark 4.0 field name -> the same value from our decode, printed as `-T fields` prints it
CROSS_CHECK: list[tuple[str, Callable[[DhcpMessage], str]]] = [
    ("dhcp.type", lambda m: str(int(m.op))),
    ("dhcp.id", lambda m: f"0x{m.xid:08x}"),
    ("dhcp.hops", lambda m: str(m.hops)),
    # tshark 4.0 heuristic: a secs value > 255 with a zero low byte is taken for
    # little-endian and shown byte-swapped (expert dhcp.secs_le)
    ("dhcp.secs", lambda m: str(m.secs >> 8 if m.secs > 0xFF and not m.secs & 0xFF
                                else m.secs)),
    ("dhcp.flags", lambda m: f"0x{m.flags:04x}"),
    ("dhcp.flags.bc", lambda m: "1" if m.broadcast else "0"),
    ("dhcp.ip.client", lambda m: str(m.ciaddr)),
    ("dhcp.ip.your", lambda m: str(m.yiaddr)),
    ("dhcp.ip.server", lambda m: str(m.siaddr)),
    ("dhcp.ip.relay", lambda m: str(m.giaddr)),
    ("dhcp.hw.mac_addr", lambda m: m.chaddr),
    ("dhcp.server", lambda m: m.sname.decode("ascii")),
    ("dhcp.file", lambda m: m.file.decode("ascii")),
    ("dhcp.option.type", lambda m: ",".join(sorted(str(int(o.code)) for o in m.options))),
    ("dhcp.option.dhcp", lambda m: _text(None if m.message_type is None
                                         else int(m.message_type))),
    ("dhcp.option.dhcp_server_id", lambda m: _text(m.server_id)),
    ("dhcp.option.requested_ip_address", lambda m: _text(m.requested_ip)),
    ("dhcp.option.subnet_mask", lambda m: _text(m.subnet_mask)),
    ("dhcp.option.router", lambda m: _addresses(m.routers)),
    ("dhcp.option.domain_name_server", lambda m: _addresses(m.dns_servers)),
    ("dhcp.option.ip_address_lease_time", lambda m: _uint(m, 51)),
    ("dhcp.option.renewal_time_value", lambda m: _uint(m, 58)),
    ("dhcp.option.rebinding_time_value", lambda m: _uint(m, 59)),
    ("dhcp.option.interface_mtu", lambda m: _uint(m, 26)),
    ("dhcp.option.dhcp_max_message_size", lambda m: _uint(m, 57)),
    ("dhcp.option.hostname", lambda m: _text(m.hostname)),
    ("dhcp.option.message", lambda m: _text(m.message_text)),
    ("dhcp.option.request_list_item", _prl),
    ("dhcp.option.agent_information_option.agent_circuit_id", lambda m: _rai(m, "circuit_id")),
    ("dhcp.option.agent_information_option.agent_remote_id", lambda m: _rai(m, "remote_id")),
    ("dhcp.option.agent_information_option.link_selection",
     lambda m: _rai(m, "link_selection")),
    ("dhcp.option.agent_information_option.server_id_override",
     lambda m: _rai(m, "server_id_override")),
]


def _cross_check(tmp_path: Path, frames: list[tuple[bytes, str, str, int, int]]) -> None:
    """Write the frames to a pcap, decode them with tshark and with us, compare by number."""
    tshark = _tshark()
    pcap = tmp_path / "dhcp.pcap"
    _write_pcap(pcap, [_frame(*f) for f in frames])
    cmd = [tshark, "-r", str(pcap), "-T", "fields", "-E", "separator=|", "-E", "occurrence=a"]
    for name, _ in CROSS_CHECK:
        cmd += ["-e", name]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=True).stdout
    rows = [line.split("|") for line in out.splitlines()]
    assert len(rows) == len(frames)
    for n, (row, (payload, *_)) in enumerate(zip(rows, frames, strict=True)):
        msg, _ = decode_dhcp(payload)
        theirs = dict(zip((name for name, _ in CROSS_CHECK), row, strict=True))
        # option 61 type 1 repeats dhcp.hw.mac_addr; the fixed header's comes first
        theirs["dhcp.hw.mac_addr"] = theirs["dhcp.hw.mac_addr"].split(",")[0]
        # dhcp.option.type shows Pad and End as 0 and lists overloaded fields in its own
        # order (sname before file): compare the codes as a multiset
        theirs["dhcp.option.type"] = ",".join(sorted(
            c for c in theirs["dhcp.option.type"].split(",") if c not in ("", "0")))
        ours = {name: get(msg) for name, get in CROSS_CHECK}
        diff = {k: (theirs[k], ours[k]) for k in ours if theirs[k] != ours[k]}
        assert not diff, f"frame {n + 1} ({msg.info()}): tshark vs ours {diff}"
    expert = subprocess.run([tshark, "-r", str(pcap), "-q", "-z", "expert,warn"],
                            capture_output=True, text=True, timeout=300, check=True).stdout
    assert "Malformed" not in expert and "Error" not in expert, expert


@pytest.mark.tshark
def test_tshark_cross_check(tmp_path: Path) -> None:
    _tshark()
    offer = DhcpMessage(op=2, xid=XID, yiaddr="10.10.0.5", chaddr=MAC, options=(
        DhcpMessageTypeOption(DhcpMessageType.OFFER),
        DhcpAddressOption(DhcpOptionCode.SERVER_ID, "10.10.0.1"),
        DhcpUIntOption(DhcpOptionCode.LEASE_TIME, 3600),
        DhcpAddressOption(DhcpOptionCode.SUBNET_MASK, "255.255.255.0"),
        DhcpAddressListOption(DhcpOptionCode.ROUTER, ("10.10.0.1", "10.10.0.2")),
        DhcpUIntOption(DhcpOptionCode.MTU, 1400)))
    request = DhcpMessage(op=1, xid=XID, flags=0x8000, chaddr=MAC, options=(
        DhcpMessageTypeOption(DhcpMessageType.REQUEST),
        DhcpAddressOption(DhcpOptionCode.REQUESTED_IP, "10.10.0.5"),
        DhcpAddressOption(DhcpOptionCode.SERVER_ID, "10.10.0.1")))
    nak = DhcpMessage(op=2, xid=0xDEADBEEF, chaddr=MAC, flags=0x8000, options=(
        DhcpMessageTypeOption(DhcpMessageType.NAK),
        DhcpAddressOption(DhcpOptionCode.SERVER_ID, "10.10.0.1"),
        DhcpTextOption(DhcpOptionCode.MESSAGE, "requested address not available")))
    relayed = relayed_discover()
    payloads = [
        (DISCOVER, "0.0.0.0", "255.255.255.255", 68, 67),
        (encode_dhcp(offer), "10.10.0.1", "10.10.0.5", 67, 68),
        (encode_dhcp(request), "0.0.0.0", "255.255.255.255", 68, 67),
        (ACK, "10.10.0.1", "10.10.0.5", 67, 68),
        (encode_dhcp(nak), "10.10.0.1", "255.255.255.255", 67, 68),
        (encode_dhcp(relayed), "192.0.2.1", "198.51.100.7", 67, 67),
        (OVERLOADED, "10.10.0.1", "10.10.0.5", 67, 68),
    ]
    _cross_check(tmp_path, payloads)


def _random_message(rng: random.Random) -> DhcpMessage:
    """A plausible message: every option pmipview types, each present with probability 1/2."""
    def addr() -> IPv4Address:
        return A(rng.getrandbits(32))

    def word(alphabet: str = "abcdefghijklmnopqrstuvwxyz0123456789-") -> str:
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 20)))

    candidates: list[DhcpOption] = [
        DhcpAddressOption(DhcpOptionCode.SERVER_ID, addr()),
        DhcpAddressOption(DhcpOptionCode.REQUESTED_IP, addr()),
        DhcpAddressOption(DhcpOptionCode.SUBNET_MASK, addr()),
        DhcpAddressListOption(DhcpOptionCode.ROUTER, tuple(addr() for _ in range(
            rng.randint(1, 3)))),
        DhcpAddressListOption(DhcpOptionCode.DNS, tuple(addr() for _ in range(
            rng.randint(1, 3)))),
        DhcpUIntOption(DhcpOptionCode.LEASE_TIME, rng.getrandbits(32)),
        DhcpUIntOption(DhcpOptionCode.RENEWAL_TIME, rng.getrandbits(32)),
        DhcpUIntOption(DhcpOptionCode.REBINDING_TIME, rng.getrandbits(32)),
        DhcpUIntOption(DhcpOptionCode.MTU, rng.randint(68, 65535)),
        DhcpUIntOption(DhcpOptionCode.MAX_MESSAGE_SIZE, rng.randint(576, 65535)),
        DhcpTextOption(DhcpOptionCode.HOSTNAME, word()),
        DhcpTextOption(DhcpOptionCode.MESSAGE, word("abc xyz")),
        DhcpParamRequestListOption(tuple(rng.randint(1, 254) for _ in range(
            rng.randint(1, 12)))),
        rng.choice([DhcpClientIdOption.from_mac(rng.randbytes(6).hex(":")),
                    DhcpClientIdOption.from_iaid_duid(rng.getrandbits(32),
                                                      b"\x00\x03\x00\x01" + rng.randbytes(6))]),
        DhcpRelayAgentInfoOption((
            RelayAgentSubOption(RelayAgentSubOptionCode.CIRCUIT_ID, rng.randbytes(5)),
            RelayAgentSubOption(RelayAgentSubOptionCode.REMOTE_ID, addr()),
            RelayAgentSubOption(RelayAgentSubOptionCode.LINK_SELECTION, addr()),
            RelayAgentSubOption(RelayAgentSubOptionCode.SERVER_ID_OVERRIDE, addr()))),
    ]
    opts = [o for o in candidates if rng.random() < 0.5]
    rng.shuffle(opts)
    opts.insert(0, DhcpMessageTypeOption(rng.choice(list(DhcpMessageType))))
    return DhcpMessage(
        op=rng.choice([1, 2]), xid=rng.getrandbits(32), hops=rng.randint(0, 3),
        secs=rng.randint(0, 65535), flags=rng.choice([0, 0x8000]), ciaddr=addr(),
        yiaddr=addr(), siaddr=addr(), giaddr=addr(), chaddr=rng.randbytes(6).hex(":"),
        sname=word().encode() if rng.random() < 0.3 else b"",
        file=word().encode() if rng.random() < 0.3 else b"",
        options=tuple(opts))


@pytest.mark.tshark
def test_tshark_cross_check_random(tmp_path: Path) -> None:
    """200 seeded random messages: tshark 4.0.17 and our decoder agree field by field."""
    _tshark()
    rng = random.Random(5213)
    frames = [(encode_dhcp(_random_message(rng)), "10.0.0.1", "10.0.0.2", 67, 68)
              for _ in range(200)]
    _cross_check(tmp_path, frames)
