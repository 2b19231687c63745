"""Address objects from packed bytes, shared: a capture repeats the same few addresses
(MAGs, LMAs, servers) in every frame, and building an ``ipaddress`` object costs more
than the rest of an IP header decode.  The objects are immutable, so sharing is safe."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address


class _Text4(IPv4Address):
    """An ``IPv4Address`` that formats itself once: the correlator and the renderers turn
    the same few addresses into text for every frame (``str`` of an IPv6 address costs
    ~3 µs).  Equal, hashed, ordered and pickled like the plain class; same ``repr``."""

    __slots__ = ("_text",)

    def __init__(self, address: object) -> None:
        super().__init__(address)
        self._text = IPv4Address.__str__(self)

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"IPv4Address({self._text!r})"

    def __reduce__(self) -> tuple[type[IPv4Address], tuple[int]]:
        return IPv4Address, (int(self),)


class _Text6(IPv6Address):
    """The ``IPv6Address`` counterpart of :class:`_Text4`."""

    __slots__ = ("_text",)

    def __init__(self, address: object) -> None:
        super().__init__(address)
        self._text = IPv6Address.__str__(self)

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"IPv6Address({self._text!r})"

    def __reduce__(self) -> tuple[type[IPv6Address], tuple[int]]:
        return IPv6Address, (int(self),)


_V4: dict[bytes, IPv4Address] = {}
_V6: dict[bytes, IPv6Address] = {}
_LIMIT = 1 << 16


def ipv4(packed: bytes) -> IPv4Address:
    """``IPv4Address`` of 4 packed bytes (cached)."""
    addr = _V4.get(packed)
    if addr is None:
        if len(_V4) >= _LIMIT:
            _V4.clear()
        addr = _V4[packed] = _Text4(packed)
    return addr


def ipv6(packed: bytes) -> IPv6Address:
    """``IPv6Address`` of 16 packed bytes (cached)."""
    addr = _V6.get(packed)
    if addr is None:
        if len(_V6) >= _LIMIT:
            _V6.clear()
        addr = _V6[packed] = _Text6(packed)
    return addr
