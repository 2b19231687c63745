"""UDP with its checksum over the IPv4 or IPv6 pseudo-header."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address

from .checksum import inet_checksum, pseudo_header
from .errors import DecodeError, Malformed, need

LAYER = "udp"
IPPROTO_UDP = 17


@dataclass(slots=True, unsafe_hash=True)
class UDP:
    sport: int
    dport: int
    length: int = field(default=0, compare=False)
    checksum: int = field(default=0, compare=False)
    checksum_ok: bool | None = field(default=None, compare=False)  # None: not checked


def decode_udp(buf: bytes | memoryview, offset: int, end: int,
               src: IPv4Address | IPv6Address, dst: IPv4Address | IPv6Address,
               ) -> tuple[UDP, int, int, list[Malformed]]:
    """Returns the header, payload start and end (by the UDP length) and warnings.

    A zero checksum over IPv4 means "not computed"; over IPv6 it is an error (flagged).
    """
    need(buf[:end], offset, 8, LAYER, "UDP header")
    sport, dport, length, csum = struct.unpack_from("!HHHH", buf, offset)
    warnings: list[Malformed] = []
    if length < 8:
        raise DecodeError(LAYER, offset + 4, f"length {length} < 8")
    pend = offset + length
    complete = pend <= end
    if not complete:
        warnings.append(Malformed(LAYER, offset + 4, f"length {length} runs "
                                  f"{pend - end} bytes past the IP payload", "warning"))
        pend = end
    ok: bool | None = None
    if csum == 0:
        if src.version == 6:
            warnings.append(Malformed(LAYER, offset + 6, "zero checksum over IPv6", "warning"))
    elif complete:
        pseudo = pseudo_header(src, dst, IPPROTO_UDP, length)
        ok = inet_checksum(pseudo, buf[offset:offset + length]) == 0
        if not ok and csum == offload_pattern(pseudo):
            ok = None  # captured before the NIC filled it in: unverified, not bad
        elif not ok:
            warnings.append(Malformed(LAYER, offset + 6, f"bad checksum 0x{csum:04x}",
                                      "warning"))
    return UDP(sport, dport, length, csum, ok), offset + 8, pend, warnings


def offload_pattern(pseudo: bytes) -> int:
    """The checksum field of a frame captured on the host that sent it, before checksum
    offload filled it in: the folded pseudo-header sum alone (Linux CHECKSUM_PARTIAL).
    Wireshark does not validate such checksums by default; we report them unverified
    (``checksum_ok`` None) and keep every other mismatch flagged."""
    return ~inet_checksum(pseudo) & 0xFFFF


def encode_udp(hdr: UDP, payload: bytes, src: IPv4Address | IPv6Address,
               dst: IPv4Address | IPv6Address) -> bytes:
    """Header with length and checksum computed (0 becomes 0xFFFF, RFC 768)."""
    length = 8 + len(payload)
    head = struct.pack("!HHHH", hdr.sport, hdr.dport, length, 0)
    if len(payload) % 2:
        csum = inet_checksum(pseudo_header(src, dst, IPPROTO_UDP, length), head,
                             payload + b"\0")
    else:
        csum = inet_checksum(pseudo_header(src, dst, IPPROTO_UDP, length), head, payload)
    return head[:6] + struct.pack("!H", csum or 0xFFFF) + payload
