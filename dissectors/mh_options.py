"""Mobility options (RFC 6275 §6.2 and the PMIPv6 family; protocol.md §3).

Each option is a frozen dataclass with a ``TYPE`` class attribute, a classmethod
``from_data(data)`` that decodes the bytes after Type and Length, and ``data()`` that
encodes them back.  :func:`decode_options` walks a TLV area; :func:`encode_options` lays
options out at their alignment with Pad1/PadN.  Padding is not an option object: the
decoder records it as raw bytes per gap so that re-encoding reproduces the wire exactly.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from ipaddress import IPv4Address, IPv6Address
from typing import Any, ClassVar

from dissectors.text import display_text

from .addr import ipv4, ipv6
from .errors import DecodeError, Malformed
from .link import format_mac, parse_mac
from .mh_codes import (
    ALIGNMENT,
    AccessTechnology,
    HandoffIndicator,
    HoAReplyStatus,
    IPv4AckStatus,
    MNIdSubtype,
    OptionType,
    lookup,
    name_of,
    status_accepted,
)

_H = struct.Struct("!H")
_HH = struct.Struct("!HH")
_I = struct.Struct("!I")
_Q = struct.Struct("!Q")


class _BadLength(Exception):
    """An option whose length does not fit its type; it is then kept as UnknownOption."""


def _fixed(data: bytes, size: int) -> None:
    if len(data) != size:
        raise _BadLength(f"length {len(data)}, expected {size}")


@dataclass(slots=True, unsafe_hash=True)
class UnknownOption:
    """An option of a type we do not decode (or whose length did not fit its type)."""

    type: int
    raw: bytes

    def data(self) -> bytes:
        return self.raw

    @property
    def name(self) -> str:
        return name_of(OptionType, self.type)


@dataclass(slots=True, unsafe_hash=True)
class BindingRefreshAdvice:
    TYPE: ClassVar[int] = OptionType.BINDING_REFRESH_ADVICE
    JSON_EXTRA: ClassVar[tuple[str, ...]] = ("interval_s",)
    interval: int  # 4-second units

    @classmethod
    def from_data(cls, data: bytes) -> BindingRefreshAdvice:
        _fixed(data, 2)
        return cls(_H.unpack(data)[0])

    def data(self) -> bytes:
        return _H.pack(self.interval)

    @property
    def interval_s(self) -> int:
        return self.interval * 4


@dataclass(slots=True, unsafe_hash=True)
class AlternateCoA:
    TYPE: ClassVar[int] = OptionType.ALTERNATE_COA
    address: IPv6Address

    @classmethod
    def from_data(cls, data: bytes) -> AlternateCoA:
        _fixed(data, 16)
        return cls(ipv6(bytes(data)))

    def data(self) -> bytes:
        return self.address.packed


@dataclass(slots=True, unsafe_hash=True)
class NonceIndices:
    TYPE: ClassVar[int] = OptionType.NONCE_INDICES
    home: int
    care_of: int

    @classmethod
    def from_data(cls, data: bytes) -> NonceIndices:
        _fixed(data, 4)
        return cls(*_HH.unpack(data))

    def data(self) -> bytes:
        return _HH.pack(self.home, self.care_of)


@dataclass(slots=True, unsafe_hash=True)
class BindingAuthData:
    TYPE: ClassVar[int] = OptionType.BINDING_AUTH_DATA
    authenticator: bytes

    @classmethod
    def from_data(cls, data: bytes) -> BindingAuthData:
        return cls(bytes(data))

    def data(self) -> bytes:
        return self.authenticator


@dataclass(slots=True, unsafe_hash=True)
class MNIdentifier:
    """Mobile Node Identifier (RFC 4283); subtype 1 is an NAI such as ``mn1@example.net``."""

    TYPE: ClassVar[int] = OptionType.MN_IDENTIFIER
    NAMES: ClassVar[dict[str, type]] = {"subtype": MNIdSubtype}
    JSON_EXTRA: ClassVar[tuple[str, ...]] = ("text",)
    identifier: bytes
    subtype: int = MNIdSubtype.NAI

    @classmethod
    def nai(cls, text: str) -> MNIdentifier:
        return cls(text.encode())

    @classmethod
    def from_data(cls, data: bytes) -> MNIdentifier:
        if len(data) < 2:  # RFC 4283: a subtype and at least one byte of identifier
            raise _BadLength(f"length {len(data)}, expected at least 2")
        return cls(bytes(data[1:]), lookup(MNIdSubtype, data[0]))

    def data(self) -> bytes:
        return bytes([self.subtype]) + self.identifier

    @property
    def text(self) -> str:
        """The identifier as text (NAI); undecodable bytes are shown escaped."""
        return display_text(self.identifier)


@dataclass(slots=True, unsafe_hash=True)
class VendorSpecific:
    TYPE: ClassVar[int] = OptionType.VENDOR_SPECIFIC
    vendor_id: int
    subtype: int
    payload: bytes = b""

    @classmethod
    def from_data(cls, data: bytes) -> VendorSpecific:
        if len(data) < 5:
            raise _BadLength(f"length {len(data)}, expected at least 5")
        return cls(_I.unpack_from(data)[0], data[4], bytes(data[5:]))

    def data(self) -> bytes:
        return _I.pack(self.vendor_id) + bytes([self.subtype]) + self.payload


@dataclass(slots=True, unsafe_hash=True)
class ServiceSelection:
    TYPE: ClassVar[int] = OptionType.SERVICE_SELECTION
    JSON_EXTRA: ClassVar[tuple[str, ...]] = ("text",)
    identifier: bytes

    @classmethod
    def from_data(cls, data: bytes) -> ServiceSelection:
        return cls(bytes(data))

    def data(self) -> bytes:
        return self.identifier

    @property
    def text(self) -> str:
        return display_text(self.identifier)


@dataclass(slots=True, unsafe_hash=True)
class HomeNetworkPrefix:
    """Home Network Prefix (RFC 5213 §8.3); all-zero prefix in a PBU asks for assignment."""

    TYPE: ClassVar[int] = OptionType.HOME_NETWORK_PREFIX
    prefix: IPv6Address
    prefix_len: int
    reserved: int = 0

    @classmethod
    def from_data(cls, data: bytes) -> HomeNetworkPrefix:
        _fixed(data, 18)
        return cls(ipv6(bytes(data[2:18])), data[1], data[0])

    def data(self) -> bytes:
        return bytes([self.reserved, self.prefix_len]) + self.prefix.packed

    def __str__(self) -> str:
        return f"{self.prefix}/{self.prefix_len}"


@dataclass(slots=True, unsafe_hash=True)
class HandoffIndicatorOpt:
    TYPE: ClassVar[int] = OptionType.HANDOFF_INDICATOR
    NAMES: ClassVar[dict[str, type]] = {"hi": HandoffIndicator}
    hi: int
    reserved: int = 0

    @classmethod
    def from_data(cls, data: bytes) -> HandoffIndicatorOpt:
        _fixed(data, 2)
        return cls(lookup(HandoffIndicator, data[1]), data[0])

    def data(self) -> bytes:
        return bytes([self.reserved, self.hi])

    @property
    def name(self) -> str:
        return name_of(HandoffIndicator, self.hi)


@dataclass(slots=True, unsafe_hash=True)
class AccessTechnologyOpt:
    TYPE: ClassVar[int] = OptionType.ACCESS_TECHNOLOGY_TYPE
    NAMES: ClassVar[dict[str, type]] = {"att": AccessTechnology}
    att: int
    reserved: int = 0

    @classmethod
    def from_data(cls, data: bytes) -> AccessTechnologyOpt:
        _fixed(data, 2)
        return cls(lookup(AccessTechnology, data[1]), data[0])

    def data(self) -> bytes:
        return bytes([self.reserved, self.att])

    @property
    def name(self) -> str:
        return name_of(AccessTechnology, self.att)


@dataclass(slots=True, unsafe_hash=True)
class MNLinkLayerId:
    """MN Link-layer Identifier (RFC 5213 §8.6), usually the MN's 6-byte MAC address."""

    TYPE: ClassVar[int] = OptionType.MN_LINK_LAYER_ID
    JSON_EXTRA: ClassVar[tuple[str, ...]] = ("text",)
    lli: bytes
    reserved: int = 0

    @classmethod
    def mac(cls, text: str) -> MNLinkLayerId:
        return cls(parse_mac(text))

    @classmethod
    def from_data(cls, data: bytes) -> MNLinkLayerId:
        if len(data) < 2:
            raise _BadLength(f"length {len(data)}, expected at least 2")
        return cls(bytes(data[2:]), _H.unpack_from(data)[0])

    def data(self) -> bytes:
        return _H.pack(self.reserved) + self.lli

    @property
    def text(self) -> str:
        return format_mac(self.lli)


@dataclass(slots=True, unsafe_hash=True)
class LinkLocalAddress:
    TYPE: ClassVar[int] = OptionType.LINK_LOCAL_ADDRESS
    address: IPv6Address

    @classmethod
    def from_data(cls, data: bytes) -> LinkLocalAddress:
        _fixed(data, 16)
        return cls(ipv6(bytes(data)))

    def data(self) -> bytes:
        return self.address.packed


@dataclass(slots=True, unsafe_hash=True)
class Timestamp:
    """RFC 5213 §8.8 timestamp: 48 bits of Unix seconds, 16 bits of 1/65536 fractions."""

    TYPE: ClassVar[int] = OptionType.TIMESTAMP
    JSON_EXTRA: ClassVar[tuple[str, ...]] = ("seconds", "time")
    value: int

    @classmethod
    def at(cls, unix_seconds: float) -> Timestamp:
        return cls(round(unix_seconds * 65536) & 0xFFFFFFFFFFFFFFFF)

    @classmethod
    def from_data(cls, data: bytes) -> Timestamp:
        _fixed(data, 8)
        return cls(_Q.unpack(data)[0])

    def data(self) -> bytes:
        return _Q.pack(self.value)

    @property
    def seconds(self) -> float:
        return self.value / 65536

    @property
    def datetime(self) -> datetime | None:
        try:
            return datetime.fromtimestamp(self.value >> 16, UTC).replace(
                microsecond=((self.value & 0xFFFF) * 1_000_000) >> 16)
        except (OverflowError, ValueError, OSError):
            return None

    @property
    def time(self) -> str:
        """ISO 8601 UTC, or the raw hex value when it is not a representable date."""
        dt = self.datetime
        return dt.isoformat().replace("+00:00", "Z") if dt else f"0x{self.value:016x}"

    def __str__(self) -> str:
        return self.time


@dataclass(slots=True, unsafe_hash=True)
class RestartCounter:
    TYPE: ClassVar[int] = OptionType.RESTART_COUNTER
    counter: int

    @classmethod
    def from_data(cls, data: bytes) -> RestartCounter:
        _fixed(data, 4)
        return cls(_I.unpack(data)[0])

    def data(self) -> bytes:
        return _I.pack(self.counter)


@dataclass(slots=True, unsafe_hash=True)
class IPv4HomeAddress:
    """RFC 5555 IPv4 Home Address (29): prefix length (6 bits), P flag, 9 reserved bits."""

    TYPE: ClassVar[int] = OptionType.IPV4_HOME_ADDRESS
    address: IPv4Address
    prefix_len: int = 32
    p: bool = False
    reserved: int = 0

    @classmethod
    def from_data(cls, data: bytes) -> IPv4HomeAddress:
        _fixed(data, 6)
        word = _H.unpack_from(data)[0]
        return cls(ipv4(bytes(data[2:6])), word >> 10, bool(word & 0x0200), word & 0x01FF)

    def data(self) -> bytes:
        word = (self.prefix_len & 0x3F) << 10 | (0x0200 if self.p else 0) | (self.reserved & 0x1FF)
        return _H.pack(word) + self.address.packed


@dataclass(slots=True, unsafe_hash=True)
class IPv4AddressAck:
    TYPE: ClassVar[int] = OptionType.IPV4_ADDRESS_ACK
    NAMES: ClassVar[dict[str, type]] = {"status": IPv4AckStatus}
    status: int
    address: IPv4Address
    prefix_len: int = 32
    reserved: int = 0

    @classmethod
    def from_data(cls, data: bytes) -> IPv4AddressAck:
        _fixed(data, 6)
        return cls(lookup(IPv4AckStatus, data[0]), ipv4(bytes(data[2:6])),
                   data[1] >> 2, data[1] & 0x03)

    def data(self) -> bytes:
        return bytes([self.status, (self.prefix_len & 0x3F) << 2 | (self.reserved & 3)]) \
            + self.address.packed

    @property
    def status_name(self) -> str:
        return name_of(IPv4AckStatus, self.status)


@dataclass(slots=True, unsafe_hash=True)
class NATDetection:
    TYPE: ClassVar[int] = OptionType.NAT_DETECTION
    f: bool
    refresh: int
    reserved: int = 0

    @classmethod
    def from_data(cls, data: bytes) -> NATDetection:
        _fixed(data, 6)
        word, refresh = struct.unpack("!HI", data)
        return cls(bool(word & 0x8000), refresh, word & 0x7FFF)

    def data(self) -> bytes:
        return struct.pack("!HI", (0x8000 if self.f else 0) | (self.reserved & 0x7FFF),
                           self.refresh)


@dataclass(slots=True, unsafe_hash=True)
class IPv4CareOfAddress:
    TYPE: ClassVar[int] = OptionType.IPV4_COA
    address: IPv4Address
    reserved: int = 0

    @classmethod
    def from_data(cls, data: bytes) -> IPv4CareOfAddress:
        _fixed(data, 6)
        return cls(ipv4(bytes(data[2:6])), _H.unpack_from(data)[0])

    def data(self) -> bytes:
        return _H.pack(self.reserved) + self.address.packed


@dataclass(slots=True, unsafe_hash=True)
class GREKey:
    """GRE Key (RFC 5845): downlink key in a PBU, uplink key in a PBA; None = no key."""

    TYPE: ClassVar[int] = OptionType.GRE_KEY
    key: int | None
    reserved: int = 0

    @classmethod
    def from_data(cls, data: bytes) -> GREKey:
        if len(data) == 2:
            return cls(None, _H.unpack(data)[0])
        _fixed(data, 6)
        reserved, key = struct.unpack("!HI", data)
        return cls(key, reserved)

    def data(self) -> bytes:
        if self.key is None:
            return _H.pack(self.reserved)
        return struct.pack("!HI", self.reserved, self.key)


@dataclass(slots=True, unsafe_hash=True)
class BindingIdentifier:
    """Binding Identifier (RFC 5648): BID, status, H flag, optional IPv4 or IPv6 CoA."""

    TYPE: ClassVar[int] = OptionType.BINDING_IDENTIFIER
    bid: int
    status: int = 0
    h: bool = False
    reserved: int = 0
    care_of: IPv4Address | IPv6Address | None = None

    @classmethod
    def from_data(cls, data: bytes) -> BindingIdentifier:
        if len(data) not in (4, 8, 20):
            raise _BadLength(f"length {len(data)}, expected 4, 8 or 20")
        bid = _H.unpack_from(data)[0]
        coa: IPv4Address | IPv6Address | None = None
        if len(data) == 8:
            coa = ipv4(bytes(data[4:8]))
        elif len(data) == 20:
            coa = ipv6(bytes(data[4:20]))
        return cls(bid, data[2], bool(data[3] & 0x80), data[3] & 0x7F, coa)

    def data(self) -> bytes:
        head = _H.pack(self.bid) + bytes([self.status, (0x80 if self.h else 0) | self.reserved])
        return head + (self.care_of.packed if self.care_of is not None else b"")


@dataclass(slots=True, unsafe_hash=True)
class IPv4HoARequest:
    """IPv4 Home Address Request (RFC 5844 §3.3.1); 0.0.0.0/0 asks the LMA to allocate."""

    TYPE: ClassVar[int] = OptionType.IPV4_HOA_REQUEST
    JSON_EXTRA: ClassVar[tuple[str, ...]] = ("dynamic",)
    address: IPv4Address
    prefix_len: int = 0
    reserved: int = 0  # the 10 bits after the prefix length

    @classmethod
    def from_data(cls, data: bytes) -> IPv4HoARequest:
        _fixed(data, 6)
        word = _H.unpack_from(data)[0]
        return cls(ipv4(bytes(data[2:6])), word >> 10, word & 0x03FF)

    def data(self) -> bytes:
        return _H.pack((self.prefix_len & 0x3F) << 10 | (self.reserved & 0x3FF)) \
            + self.address.packed

    @property
    def dynamic(self) -> bool:
        return int(self.address) == 0


@dataclass(slots=True, unsafe_hash=True)
class IPv4HoAReply:
    """IPv4 Home Address Reply (RFC 5844 §3.3.2): status, prefix length, assigned HoA."""

    TYPE: ClassVar[int] = OptionType.IPV4_HOA_REPLY
    NAMES: ClassVar[dict[str, type]] = {"status": HoAReplyStatus}
    JSON_EXTRA: ClassVar[tuple[str, ...]] = ("accepted",)
    status: int
    address: IPv4Address
    prefix_len: int = 32
    reserved: int = 0  # the 2 bits after the prefix length

    @classmethod
    def from_data(cls, data: bytes) -> IPv4HoAReply:
        _fixed(data, 6)
        return cls(lookup(HoAReplyStatus, data[0]), ipv4(bytes(data[2:6])),
                   data[1] >> 2, data[1] & 0x03)

    def data(self) -> bytes:
        return bytes([self.status, (self.prefix_len & 0x3F) << 2 | (self.reserved & 3)]) \
            + self.address.packed

    @property
    def status_name(self) -> str:
        return name_of(HoAReplyStatus, self.status)

    @property
    def accepted(self) -> bool:
        return status_accepted(self.status)


@dataclass(slots=True, unsafe_hash=True)
class IPv4DefaultRouter:
    TYPE: ClassVar[int] = OptionType.IPV4_DEFAULT_ROUTER
    address: IPv4Address
    reserved: int = 0

    @classmethod
    def from_data(cls, data: bytes) -> IPv4DefaultRouter:
        _fixed(data, 6)
        return cls(ipv4(bytes(data[2:6])), _H.unpack_from(data)[0])

    def data(self) -> bytes:
        return _H.pack(self.reserved) + self.address.packed


@dataclass(slots=True, unsafe_hash=True)
class IPv4DHCPSupportMode:
    """IPv4 DHCP Support Mode (RFC 5844 §3.3.4): S=1 DHCP server at the MAG, S=0 relay."""

    TYPE: ClassVar[int] = OptionType.IPV4_DHCP_SUPPORT_MODE
    JSON_EXTRA: ClassVar[tuple[str, ...]] = ("mode",)
    s: bool
    reserved: int = 0  # the 15 bits above S

    @classmethod
    def from_data(cls, data: bytes) -> IPv4DHCPSupportMode:
        _fixed(data, 2)
        word = _H.unpack(data)[0]
        return cls(bool(word & 1), word >> 1)

    def data(self) -> bytes:
        return _H.pack((self.reserved & 0x7FFF) << 1 | (1 if self.s else 0))

    @property
    def mode(self) -> str:
        return "server" if self.s else "relay"


@dataclass(slots=True, unsafe_hash=True)
class LMAAddress:
    """LMA Address (RFC 5949): option-code 1 = IPv6, 2 = IPv4."""

    TYPE: ClassVar[int] = OptionType.LMA_ADDRESS
    address: IPv4Address | IPv6Address
    reserved: int = 0

    @classmethod
    def from_data(cls, data: bytes) -> LMAAddress:
        if len(data) == 18 and data[0] == 1:
            return cls(ipv6(bytes(data[2:])), data[1])
        if len(data) == 6 and data[0] == 2:
            return cls(ipv4(bytes(data[2:])), data[1])
        raise _BadLength(f"length {len(data)} with option-code {data[0] if data else '-'}")

    def data(self) -> bytes:
        code = 1 if self.address.version == 6 else 2
        return bytes([code, self.reserved]) + self.address.packed


MobilityOption = (
    UnknownOption | BindingRefreshAdvice | AlternateCoA | NonceIndices | BindingAuthData
    | MNIdentifier | VendorSpecific | ServiceSelection | HomeNetworkPrefix
    | HandoffIndicatorOpt | AccessTechnologyOpt | MNLinkLayerId | LinkLocalAddress | Timestamp
    | RestartCounter | IPv4HomeAddress | IPv4AddressAck | NATDetection | IPv4CareOfAddress
    | GREKey | BindingIdentifier | IPv4HoARequest | IPv4HoAReply | IPv4DefaultRouter
    | IPv4DHCPSupportMode | LMAAddress
)

#: option type -> its class (each has ``TYPE`` and a ``from_data(bytes)`` classmethod)
OPTION_CLASSES: dict[int, Any] = {
    cls.TYPE: cls
    for cls in (
        BindingRefreshAdvice, AlternateCoA, NonceIndices, BindingAuthData, MNIdentifier,
        VendorSpecific, ServiceSelection, HomeNetworkPrefix, HandoffIndicatorOpt,
        AccessTechnologyOpt, MNLinkLayerId, LinkLocalAddress, Timestamp, RestartCounter,
        IPv4HomeAddress, IPv4AddressAck, NATDetection, IPv4CareOfAddress, GREKey,
        BindingIdentifier, IPv4HoARequest, IPv4HoAReply, IPv4DefaultRouter,
        IPv4DHCPSupportMode, LMAAddress,
    )
}


def option_type(opt: MobilityOption) -> int:
    return opt.type if isinstance(opt, UnknownOption) else opt.TYPE


def option_name(opt: MobilityOption) -> str:
    return name_of(OptionType, option_type(opt))


@dataclass(slots=True, unsafe_hash=True)
class OptionArea:
    """What :func:`decode_options` found: options, padding per gap, offsets, warnings."""

    options: tuple[MobilityOption, ...]
    padding: tuple[bytes, ...]  # len(options) + 1 entries: padding before each, then after
    offsets: tuple[int, ...]    # offset of each option's Type byte
    warnings: tuple[Malformed, ...]


def decode_options(buf: bytes | memoryview, start: int, end: int,
                   layer: str = "mh") -> OptionArea:
    """Walk the TLV area ``buf[start:end]``; offsets are relative to ``buf``.

    Raises DecodeError (with the OptionArea decoded so far as ``partial``) when an option
    runs past ``end``.  Alignment is never enforced.
    """
    if not isinstance(buf, bytes):
        buf = bytes(buf)
    classes = OPTION_CLASSES
    options: list[MobilityOption] = []
    offsets: list[int] = []
    padding: list[bytes] = []
    warnings: list[Malformed] = []
    pad_start = off = start
    while off < end:
        otype = buf[off]
        if otype == 0:  # Pad1
            off += 1
            continue
        if off + 2 > end:
            padding.append(buf[pad_start:off])
            raise DecodeError(layer, off, f"option type {otype} at {off}: length byte "
                              f"past the end of the options ({end})",
                              partial=OptionArea(tuple(options), tuple(padding),
                                                 tuple(offsets), tuple(warnings)))
        nxt = off + 2 + buf[off + 1]
        if nxt > end:
            padding.append(buf[pad_start:off])
            raise DecodeError(layer, off, f"{name_of(OptionType, otype)} option at {off}: "
                              f"length {buf[off + 1]} runs {nxt - end} bytes past the end "
                              f"of the options ({end})",
                              partial=OptionArea(tuple(options), tuple(padding),
                                                 tuple(offsets), tuple(warnings)))
        if otype == 1:  # PadN
            off = nxt
            continue
        padding.append(buf[pad_start:off] if pad_start != off else b"")
        data = buf[off + 2:nxt]
        cls = classes.get(otype)
        if cls is None:
            opt: MobilityOption = UnknownOption(otype, data)
        else:
            try:
                opt = cls.from_data(data)
            except _BadLength as exc:
                opt = UnknownOption(otype, data)
                warnings.append(Malformed(layer, off, f"{name_of(OptionType, otype)}: {exc}",
                                          "warning"))
        options.append(opt)
        offsets.append(off)
        off = pad_start = nxt
    padding.append(buf[pad_start:off] if pad_start != off else b"")
    return OptionArea(tuple(options), tuple(padding), tuple(offsets), tuple(warnings))


def pad_bytes(n: int) -> bytes:
    """Pad1 for one byte, PadN for more, nothing for zero."""
    if n == 0:
        return b""
    if n == 1:
        return b"\x00"
    return bytes([1, n - 2]) + bytes(n - 2)


def encode_options(options: tuple[MobilityOption, ...] | list[MobilityOption], start: int,
                   padding: tuple[bytes, ...] | None = None) -> bytes:
    """Encode options placed from MH offset ``start``, padded to a multiple of 8 overall.

    With ``padding`` (as recorded by the decoder, one entry per gap) the given bytes are
    used instead of computed alignment, so a decoded area re-encodes exactly.
    """
    out = bytearray()
    use_layout = padding is not None and len(padding) == len(options) + 1
    for i, opt in enumerate(options):
        otype = option_type(opt)
        if use_layout:
            out += padding[i]  # type: ignore[index]
        else:
            x, y = ALIGNMENT.get(otype, (1, 0))
            out += pad_bytes((y - (start + len(out))) % x)
        data = opt.data()
        out += bytes([otype, len(data)]) + data
    if use_layout:
        out += padding[-1]  # type: ignore[index]
    else:
        out += pad_bytes((-(start + len(out))) % 8)
    return bytes(out)
