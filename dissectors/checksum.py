"""Internet checksum (RFC 1071) and the IPv4/IPv6 pseudo-headers (RFC 768, RFC 8200 §8.1)."""

from __future__ import annotations

import struct
from ipaddress import IPv4Address, IPv6Address


def inet_sum(data: bytes | memoryview) -> int:
    """One's-complement sum of 16-bit words (odd length padded with a zero byte), folded.

    Since 2**16 == 1 (mod 0xFFFF), the end-around-carry sum of the big-endian words is the
    whole buffer read as one big-endian integer, modulo 0xFFFF (0xFFFF standing for a
    non-zero multiple): one C-speed conversion instead of a Python loop over words.
    """
    if len(data) % 2:
        data = bytes(data) + b"\0"
    n = int.from_bytes(data, "big")
    if n == 0:
        return 0
    return n % 0xFFFF or 0xFFFF


def inet_checksum(*parts: bytes | memoryview) -> int:
    """Checksum over the concatenation of ``parts``; each part but the last must be even."""
    total = 0
    for part in parts:
        total += inet_sum(part)
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return (~total) & 0xFFFF


def pseudo_header(src: IPv4Address | IPv6Address, dst: IPv4Address | IPv6Address,
                  proto: int, length: int) -> bytes:
    """Pseudo-header for an upper-layer checksum over either IP family."""
    if src.version == 4:
        return src.packed + dst.packed + struct.pack("!BBH", 0, proto, length)
    return src.packed + dst.packed + struct.pack("!I3xB", length, proto)
