"""Link layers: Ethernet II with 802.1Q/QinQ tags, Linux SLL and SLL2, BSD null/loopback,
raw IPv4/IPv6.  ``decode_link`` tells where the network layer starts and its EtherType.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntEnum

from .errors import DecodeError, need

LAYER = "link"


class LinkType(IntEnum):
    """pcap LINKTYPE_* values of the link layers we decode."""

    NULL = 0
    ETHERNET = 1
    RAW_ALT1 = 12  # DLT_RAW on some BSDs
    RAW_ALT2 = 14  # DLT_RAW on OpenBSD
    RAW = 101
    LOOP = 108
    LINUX_SLL = 113
    IPV4 = 228
    IPV6 = 229
    LINUX_SLL2 = 276


class EtherType(IntEnum):
    IPV4 = 0x0800
    ARP = 0x0806
    VLAN = 0x8100
    IPV6 = 0x86DD
    QINQ = 0x88A8
    QINQ_OLD = 0x9100


VLAN_TPIDS = frozenset((EtherType.VLAN, EtherType.QINQ, EtherType.QINQ_OLD))
# BSD address families that mean IPv6 (NetBSD/OpenBSD 24, FreeBSD 28, Darwin 30, Linux 10).
AF_INET = 2
AF_INET6_VALUES = frozenset((10, 24, 28, 30))


@dataclass(slots=True, unsafe_hash=True)
class VlanTag:
    vid: int
    pcp: int = 0
    dei: bool = False
    tpid: int = EtherType.VLAN

    @property
    def tci(self) -> int:
        return (self.pcp << 13) | (0x1000 if self.dei else 0) | (self.vid & 0x0FFF)


@dataclass(slots=True, unsafe_hash=True)
class Ethernet:
    dst: str
    src: str
    ethertype: int  # of the payload, after any VLAN tags
    vlans: tuple[VlanTag, ...] = ()

    @property
    def next_proto(self) -> int:
        return self.ethertype


@dataclass(slots=True, unsafe_hash=True)
class LinuxSLL:
    """Linux cooked capture v1 (16 bytes)."""

    protocol: int
    packet_type: int = 0
    arphrd: int = 1
    address: bytes = b""  # the first addr_len bytes of the 8-byte field
    wire_addr: bytes | None = field(default=None, compare=False)  # 8 bytes + length as read
    wire_len: int | None = field(default=None, compare=False)

    @property
    def next_proto(self) -> int:
        return self.protocol


@dataclass(slots=True, unsafe_hash=True)
class LinuxSLL2:
    """Linux cooked capture v2 (20 bytes)."""

    protocol: int
    ifindex: int = 0
    packet_type: int = 0
    arphrd: int = 1
    address: bytes = b""
    reserved: int = 0
    wire_addr: bytes | None = field(default=None, compare=False)
    wire_len: int | None = field(default=None, compare=False)

    @property
    def next_proto(self) -> int:
        return self.protocol


@dataclass(slots=True, unsafe_hash=True)
class Null:
    """BSD null (host byte order family) or loopback (LINKTYPE_LOOP, network order)."""

    family: int
    big_endian: bool = False

    @property
    def next_proto(self) -> int:
        if self.family == AF_INET:
            return EtherType.IPV4
        if self.family in AF_INET6_VALUES:
            return EtherType.IPV6
        return -1


@dataclass(slots=True, unsafe_hash=True)
class RawIP:
    """No link header; the version nibble tells the family."""

    version: int

    @property
    def next_proto(self) -> int:
        return {4: EtherType.IPV4, 6: EtherType.IPV6}.get(self.version, -1)


LinkLayer = Ethernet | LinuxSLL | LinuxSLL2 | Null | RawIP


def format_mac(raw: bytes | memoryview) -> str:
    """Bytes as lowercase colon-separated hex: ``02:00:5e:10:00:01``."""
    return bytes(raw).hex(":")


def normalize_mac(text: str | None) -> str | None:
    """``"02-00-5E-00-00-01"`` → ``"02:00:5e:00:00:01"``; None unless a 6-byte MAC."""
    if not text:
        return None
    try:
        raw = parse_mac(text)
    except ValueError:
        return None
    return format_mac(raw) if len(raw) == 6 else None


def parse_mac(text: str) -> bytes:
    """``"02:00:5e:10:00:01"`` (or with dashes) to bytes; any length of hex groups."""
    return bytes(int(p, 16) for p in text.replace("-", ":").split(":"))


def decode_link(linktype: int, buf: bytes | memoryview) -> tuple[LinkLayer, int]:
    """Decode the link header of a frame; returns it and the network-layer offset."""
    if linktype == LinkType.ETHERNET:
        need(buf, 0, 14, LAYER, "Ethernet header")
        ethertype = struct.unpack_from("!H", buf, 12)[0]
        off = 14
        vlans: list[VlanTag] = []
        while ethertype in VLAN_TPIDS:
            need(buf, off, 4, LAYER, "802.1Q tag")
            tci, inner = struct.unpack_from("!HH", buf, off)
            vlans.append(VlanTag(tci & 0x0FFF, tci >> 13, bool(tci & 0x1000), ethertype))
            ethertype = inner
            off += 4
        return Ethernet(format_mac(buf[0:6]), format_mac(buf[6:12]), ethertype,
                        tuple(vlans)), off
    if linktype == LinkType.LINUX_SLL:
        need(buf, 0, 16, LAYER, "Linux SLL header")
        ptype, arphrd, alen = struct.unpack_from("!HHH", buf, 0)
        addr = bytes(buf[6:14])
        proto = struct.unpack_from("!H", buf, 14)[0]
        return LinuxSLL(proto, ptype, arphrd, addr[:min(alen, 8)], addr, alen), 16
    if linktype == LinkType.LINUX_SLL2:
        need(buf, 0, 20, LAYER, "Linux SLL2 header")
        proto, res, ifindex, arphrd, ptype, alen = struct.unpack_from("!HHIHBB", buf, 0)
        addr = bytes(buf[12:20])
        return LinuxSLL2(proto, ifindex, ptype, arphrd, addr[:min(alen, 8)], res, addr,
                         alen), 20
    if linktype in (LinkType.NULL, LinkType.LOOP):
        need(buf, 0, 4, LAYER, "null/loopback header")
        if linktype == LinkType.LOOP:
            return Null(struct.unpack_from("!I", buf)[0], True), 4
        little = struct.unpack_from("<I", buf)[0]
        if little & 0xFFFF0000 and not little & 0xFFFF:
            return Null(struct.unpack_from(">I", buf)[0], True), 4
        return Null(little, False), 4
    if linktype in (LinkType.RAW, LinkType.RAW_ALT1, LinkType.RAW_ALT2, LinkType.IPV4,
                    LinkType.IPV6):
        need(buf, 0, 1, LAYER, "IP version")
        return RawIP(buf[0] >> 4), 0
    raise DecodeError(LAYER, 0, f"unsupported link type {linktype}")


def encode_link(link: LinkLayer, payload: bytes) -> bytes:
    """Prefix ``payload`` with the link header ``link``."""
    if isinstance(link, Ethernet):
        out = parse_mac(link.dst) + parse_mac(link.src)
        for tag in link.vlans:
            out += struct.pack("!HH", tag.tpid, tag.tci)
        return out + struct.pack("!H", link.ethertype) + payload
    if isinstance(link, LinuxSLL | LinuxSLL2):
        addr, alen = _sll_address(link)
        if isinstance(link, LinuxSLL):
            return struct.pack("!HHH", link.packet_type, link.arphrd, alen) + addr \
                + struct.pack("!H", link.protocol) + payload
        return struct.pack("!HHIHBB", link.protocol, link.reserved, link.ifindex, link.arphrd,
                           link.packet_type, alen) + addr + payload
    if isinstance(link, Null):
        return struct.pack(">I" if link.big_endian else "<I", link.family) + payload
    return payload


def _sll_address(link: LinuxSLL | LinuxSLL2) -> tuple[bytes, int]:
    """The 8-byte address field and its length: as read when decoded, else computed."""
    if link.wire_addr is not None and link.wire_addr.startswith(link.address):
        return link.wire_addr, link.wire_len if link.wire_len is not None else len(link.address)
    return (link.address + bytes(8))[:8], len(link.address)


def link_for(linktype: int, ethertype: int) -> LinkLayer:
    """A plain link header of ``linktype`` carrying ``ethertype`` (for building frames)."""
    if linktype == LinkType.ETHERNET:
        return Ethernet("02:00:00:00:00:02", "02:00:00:00:00:01", ethertype)
    if linktype == LinkType.LINUX_SLL:
        return LinuxSLL(ethertype, address=bytes.fromhex("020000000001"))
    if linktype == LinkType.LINUX_SLL2:
        return LinuxSLL2(ethertype, ifindex=1, address=bytes.fromhex("020000000001"))
    if linktype in (LinkType.NULL, LinkType.LOOP):
        family = AF_INET if ethertype == EtherType.IPV4 else 24
        return Null(family, linktype == LinkType.LOOP)
    return RawIP(4 if ethertype == EtherType.IPV4 else 6)
