"""Address objects from packed bytes, shared: a capture repeats the same few addresses
(MAGs, LMAs, servers) in every frame, and building an ``ipaddress`` object costs more
than the rest of an IP header decode.  The objects are immutable, so sharing is safe."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address

_V4: dict[bytes, IPv4Address] = {}
_V6: dict[bytes, IPv6Address] = {}
_LIMIT = 1 << 16


def ipv4(packed: bytes) -> IPv4Address:
    """``IPv4Address`` of 4 packed bytes (cached)."""
    addr = _V4.get(packed)
    if addr is None:
        if len(_V4) >= _LIMIT:
            _V4.clear()
        addr = _V4[packed] = IPv4Address(packed)
    return addr


def ipv6(packed: bytes) -> IPv6Address:
    """``IPv6Address`` of 16 packed bytes (cached)."""
    addr = _V6.get(packed)
    if addr is None:
        if len(_V6) >= _LIMIT:
            _V6.clear()
        addr = _V6[packed] = IPv6Address(packed)
    return addr
