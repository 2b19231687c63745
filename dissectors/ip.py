"""IPv4 (options skipped, fragments recognised) and IPv6 with its extension-header chain."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntEnum
from ipaddress import IPv4Address, IPv6Address

from .addr import ipv4, ipv6
from .checksum import inet_checksum
from .errors import DecodeError, Malformed, need


class IPProto(IntEnum):
    HOPOPTS = 0
    ICMP = 1
    IPIP = 4
    TCP = 6
    UDP = 17
    IPV6 = 41
    ROUTING = 43
    FRAGMENT = 44
    GRE = 47
    ESP = 50
    AH = 51
    ICMPV6 = 58
    NONE = 59
    DSTOPTS = 60
    MH = 135


# Extension headers walked generically: (8 + 8*len) bytes, AH: (4*len + 8).
IPV6_EXT_HEADERS = frozenset((IPProto.HOPOPTS, IPProto.ROUTING, IPProto.FRAGMENT,
                              IPProto.AH, IPProto.DSTOPTS))


@dataclass(slots=True, unsafe_hash=True)
class IPv4:
    src: IPv4Address
    dst: IPv4Address
    proto: int
    ttl: int = 64
    tos: int = 0
    ident: int = 0
    flags: int = 0  # 3 bits: reserved, DF (2), MF (1)
    frag_offset: int = 0  # in 8-byte units
    options: bytes = b""
    total_length: int = field(default=0, compare=False)
    checksum: int = field(default=0, compare=False)
    checksum_ok: bool | None = field(default=None, compare=False)

    version = 4

    @property
    def fragment(self) -> bool:
        return bool(self.flags & 1) or self.frag_offset != 0

    @property
    def first_fragment(self) -> bool:
        return self.frag_offset == 0


@dataclass(slots=True, unsafe_hash=True)
class IPv6ExtHeader:
    """One extension header; ``body`` is everything after its Next Header byte."""

    type: int
    body: bytes

    @property
    def fragment_offset(self) -> int | None:
        if self.type != IPProto.FRAGMENT or len(self.body) < 3:
            return None
        return int(struct.unpack_from("!H", self.body, 1)[0]) >> 3

    @property
    def more_fragments(self) -> bool:
        return self.type == IPProto.FRAGMENT and len(self.body) >= 3 and bool(self.body[2] & 1)


@dataclass(slots=True, unsafe_hash=True)
class IPv6:
    src: IPv6Address
    dst: IPv6Address
    proto: int  # the upper-layer protocol after all extension headers
    hop_limit: int = 64
    traffic_class: int = 0
    flow_label: int = 0
    ext_headers: tuple[IPv6ExtHeader, ...] = ()
    payload_length: int = field(default=0, compare=False)

    version = 6

    @property
    def next_header(self) -> int:
        return self.ext_headers[0].type if self.ext_headers else self.proto

    @property
    def fragment(self) -> bool:
        return any(h.type == IPProto.FRAGMENT for h in self.ext_headers)

    @property
    def first_fragment(self) -> bool:
        return all(h.fragment_offset in (None, 0) for h in self.ext_headers)


IPLayer = IPv4 | IPv6


def decode_ipv4(buf: bytes | memoryview, offset: int = 0
                ) -> tuple[IPv4, int, int, list[Malformed]]:
    """Returns the header, the payload start and end (by Total Length) and warnings."""
    layer = "ipv4"
    need(buf, offset, 20, layer, "IPv4 header")
    vihl, tos, total, ident, ffo, ttl, proto, csum = struct.unpack_from("!BBHHHBBH", buf, offset)
    version, ihl = vihl >> 4, (vihl & 0x0F) * 4
    if version != 4:
        raise DecodeError(layer, offset, f"version {version} in an IPv4 header")
    if ihl < 20:
        raise DecodeError(layer, offset, f"header length {ihl} < 20")
    need(buf, offset, ihl, layer, "IPv4 header with options")
    warnings: list[Malformed] = []
    if total < ihl:
        raise DecodeError(layer, offset + 2, f"total length {total} < header length {ihl}")
    end = offset + total
    if end > len(buf):
        warnings.append(Malformed(layer, offset + 2, f"total length {total} runs "
                                  f"{end - len(buf)} bytes past the frame (snapped?)",
                                  "warning"))
        end = len(buf)
    ok = inet_checksum(buf[offset:offset + ihl]) == 0
    if not ok:
        warnings.append(Malformed(layer, offset + 10, f"bad header checksum 0x{csum:04x}",
                                  "warning"))
    hdr = IPv4(ipv4(bytes(buf[offset + 12:offset + 16])),
               ipv4(bytes(buf[offset + 16:offset + 20])), proto, ttl, tos, ident,
               ffo >> 13, ffo & 0x1FFF, bytes(buf[offset + 20:offset + ihl]), total, csum, ok)
    return hdr, offset + ihl, end, warnings


def encode_ipv4(hdr: IPv4, payload: bytes) -> bytes:
    """Build the header (Total Length and checksum computed) followed by ``payload``."""
    opts = hdr.options + b"\0" * (-len(hdr.options) % 4)
    ihl = 20 + len(opts)
    head = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl // 4, hdr.tos, ihl + len(payload),
                       hdr.ident, (hdr.flags << 13) | hdr.frag_offset, hdr.ttl, hdr.proto, 0,
                       hdr.src.packed, hdr.dst.packed) + opts
    csum = inet_checksum(head)
    return head[:10] + struct.pack("!H", csum) + head[12:] + payload


def decode_ipv6(buf: bytes | memoryview, offset: int = 0
                ) -> tuple[IPv6, int, int, list[Malformed]]:
    """Walk the extension-header chain; returns header, upper-layer start, end, warnings.

    Stops at the first header that is not an extension header (the upper layer), at ESP
    (encrypted: its ``proto`` is 50) and at No Next Header.
    """
    layer = "ipv6"
    need(buf, offset, 40, layer, "IPv6 header")
    vtf, plen, nh, hlim = struct.unpack_from("!IHBB", buf, offset)
    if vtf >> 28 != 6:
        raise DecodeError(layer, offset, f"version {vtf >> 28} in an IPv6 header")
    warnings: list[Malformed] = []
    end = offset + 40 + plen
    if end > len(buf):
        warnings.append(Malformed(layer, offset + 4, f"payload length {plen} runs "
                                  f"{end - len(buf)} bytes past the frame (snapped?)",
                                  "warning"))
        end = len(buf)
    src = ipv6(bytes(buf[offset + 8:offset + 24]))
    dst = ipv6(bytes(buf[offset + 24:offset + 40]))
    off = offset + 40
    exts: list[IPv6ExtHeader] = []
    while nh in IPV6_EXT_HEADERS:
        if off + 2 > end:
            raise DecodeError(layer, off, f"extension header {nh} truncated",
                              partial=IPv6(src, dst, nh, hlim, (vtf >> 20) & 0xFF,
                                           vtf & 0xFFFFF, tuple(exts), plen))
        if nh == IPProto.FRAGMENT:
            size = 8
        elif nh == IPProto.AH:
            size = (buf[off + 1] + 2) * 4
        else:
            size = (buf[off + 1] + 1) * 8
        if off + size > end:
            raise DecodeError(layer, off, f"extension header {nh} of {size} bytes runs past "
                              f"the payload", partial=IPv6(src, dst, nh, hlim,
                                                           (vtf >> 20) & 0xFF, vtf & 0xFFFFF,
                                                           tuple(exts), plen))
        exts.append(IPv6ExtHeader(nh, bytes(buf[off + 1:off + size])))
        nh = buf[off]
        off += size
    hdr = IPv6(src, dst, nh, hlim, (vtf >> 20) & 0xFF, vtf & 0xFFFFF, tuple(exts), plen)
    return hdr, off, end, warnings


def encode_ipv6(hdr: IPv6, payload: bytes) -> bytes:
    """Build the header and extension chain (Next Header values chained) and ``payload``."""
    chain = b""
    types = [h.type for h in hdr.ext_headers] + [hdr.proto]
    for i, ext in enumerate(hdr.ext_headers):
        chain += bytes([types[i + 1]]) + ext.body
    first = types[0]
    vtf = (6 << 28) | (hdr.traffic_class << 20) | hdr.flow_label
    return struct.pack("!IHBB", vtf, len(chain) + len(payload), first, hdr.hop_limit) \
        + hdr.src.packed + hdr.dst.packed + chain + payload
