"""DHCPv4 options (RFC 2132, RFC 3046, RFC 4361): one class per value type, the tables that
say which code has which type, and their decoding and encoding.  The message around them
is :mod:`dissectors.dhcp`; the code points are :mod:`dissectors.dhcp_codes`.

Decoding follows :mod:`dissectors.dhcp`'s contract: a value that does not fit its code's
type comes back as :class:`DhcpRawOption` (the bytes re-encode exactly) with a warning
given to the caller's ``warn(offset, reason)``; nothing here raises on wire bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import Any, ClassVar

from dissectors.addr import ipv4
from dissectors.dhcp_codes import (
    CLIENT_ID_TYPE_ETHERNET,
    CLIENT_ID_TYPE_RFC4361,
    DHCP_OPTION_NAMES,
    RELAY_AGENT_SUBOPTION_NAMES,
    DhcpMessageType,
    DhcpOptionCode,
    RelayAgentSubOptionCode,
)
from dissectors.text import display_text


def _hex_bytes(text: str) -> bytes:
    """``aa:bb:...`` or ``aa-bb-...`` or plain hex, as bytes."""
    return bytes.fromhex(text.replace(":", "").replace("-", ""))


#: Where a decoder reports a non-fatal problem: ``warn(offset, reason)``.
Warn = Callable[[int, str], None]

_MESSAGE_TYPES: dict[int, DhcpMessageType] = {m.value: m for m in DhcpMessageType}
_OPTION_CODES: dict[int, DhcpOptionCode] = {m.value: m for m in DhcpOptionCode}
_SUB_CODES: dict[int, RelayAgentSubOptionCode] = {m.value: m for m in RelayAgentSubOptionCode}

_C = DhcpOptionCode
#: Option codes whose value is a single IPv4 address (exactly 4 bytes).
ADDRESS_CODES = frozenset(int(c) for c in (
    _C.SUBNET_MASK, _C.BROADCAST_ADDRESS, _C.REQUESTED_IP, _C.SERVER_ID, _C.SUBNET_SELECTION))
#: Option codes whose value is a list of IPv4 addresses (4·n bytes, n ≥ 1).
ADDRESS_LIST_CODES = frozenset(int(c) for c in (_C.ROUTER, _C.DNS, _C.NTP_SERVERS))
#: Option codes whose value is one unsigned integer, with its width in bytes.
UINT_WIDTHS: dict[int, int] = {int(c): w for c, w in (
    (_C.MTU, 2), (_C.MAX_MESSAGE_SIZE, 2), (_C.LEASE_TIME, 4), (_C.RENEWAL_TIME, 4),
    (_C.REBINDING_TIME, 4))}
#: The least value RFC 2132 allows for an unsigned option (§5.1 MTU, §9.10 message size).
UINT_MINIMUMS: dict[int, int] = {int(_C.MTU): 68, int(_C.MAX_MESSAGE_SIZE): 576}
#: Option codes whose value is text (at least 1 byte).
TEXT_CODES = frozenset(int(c) for c in (_C.HOSTNAME, _C.DOMAIN_NAME, _C.MESSAGE))
#: Every option code decoded to a typed value; none of them may have length 0.
TYPED_OPTION_CODES = (
    ADDRESS_CODES | ADDRESS_LIST_CODES | frozenset(UINT_WIDTHS) | TEXT_CODES
    | frozenset(int(c) for c in (_C.OVERLOAD, _C.MESSAGE_TYPE, _C.PARAM_REQUEST_LIST,
                                 _C.CLIENT_ID, _C.RELAY_AGENT_INFO))
)

# Sub-options of option 82 whose value is an IPv4 address when 4 bytes long.
_SUB_ADDRESS_CODES = frozenset(int(c) for c in (RelayAgentSubOptionCode.LINK_SELECTION,
                                                RelayAgentSubOptionCode.SERVER_ID_OVERRIDE))


def option_name(code: int) -> str:
    """Human name of an option code, ``"Option 99"`` when unknown."""
    return DHCP_OPTION_NAMES.get(code, f"Option {code}")


def _code(code: int) -> DhcpOptionCode | int:
    return _OPTION_CODES.get(code, code)


def _address(value: Any) -> IPv4Address:
    return value if isinstance(value, IPv4Address) else IPv4Address(value)


# --------------------------------------------------------------------------- options


@dataclass(slots=True, unsafe_hash=True)
class DhcpAddressOption:
    """One IPv4 address: Subnet Mask (1), Broadcast Address (28), Requested IP Address (50),
    Server Identifier (54), Subnet Selection (118)."""

    code: DhcpOptionCode | int
    address: IPv4Address

    def __post_init__(self) -> None:
        if self.code not in ADDRESS_CODES:
            raise ValueError(f"option {self.code} is not an IPv4-address option")
        object.__setattr__(self, "code", _OPTION_CODES[self.code])
        object.__setattr__(self, "address", _address(self.address))

    def value_bytes(self) -> bytes:
        return self.address.packed


@dataclass(slots=True, unsafe_hash=True)
class DhcpAddressListOption:
    """A non-empty list of IPv4 addresses: Router (3), Domain Name Server (6), NTP (42)."""

    code: DhcpOptionCode | int
    addresses: tuple[IPv4Address, ...]

    def __post_init__(self) -> None:
        if self.code not in ADDRESS_LIST_CODES:
            raise ValueError(f"option {self.code} is not an IPv4-address-list option")
        object.__setattr__(self, "code", _OPTION_CODES[self.code])
        object.__setattr__(self, "addresses", tuple(_address(a) for a in self.addresses))

    def value_bytes(self) -> bytes:
        return b"".join(a.packed for a in self.addresses)


@dataclass(slots=True, unsafe_hash=True)
class DhcpUIntOption:
    """One unsigned integer: Interface MTU (26) and Maximum DHCP Message Size (57) on 2 bytes;
    IP Address Lease Time (51), Renewal (58) and Rebinding (59) Time Value in seconds on 4."""

    code: DhcpOptionCode | int
    value: int

    def __post_init__(self) -> None:
        if self.code not in UINT_WIDTHS:
            raise ValueError(f"option {self.code} is not an unsigned-integer option")
        object.__setattr__(self, "code", _OPTION_CODES[self.code])

    @property
    def width(self) -> int:
        return UINT_WIDTHS[self.code]

    def value_bytes(self) -> bytes:
        try:
            return self.value.to_bytes(UINT_WIDTHS[self.code], "big")
        except OverflowError:
            raise ValueError(
                f"{option_name(self.code)} value {self.value} does not fit "
                f"{UINT_WIDTHS[self.code]} bytes") from None


@dataclass(slots=True, unsafe_hash=True)
class DhcpTextOption:
    """Text: Host Name (12), Domain Name (15), Message (56).

    ``value`` is a ``str`` when the bytes are valid UTF-8 (NVT ASCII is a subset) and the
    raw ``bytes`` otherwise, so that the option re-encodes exactly (bytes given that are
    valid UTF-8 are stored as ``str``).
    """

    code: DhcpOptionCode | int
    value: str | bytes

    def __post_init__(self) -> None:
        if self.code not in TEXT_CODES:
            raise ValueError(f"option {self.code} is not a text option")
        object.__setattr__(self, "code", _OPTION_CODES[self.code])
        if not isinstance(self.value, str):
            try:
                object.__setattr__(self, "value", bytes(self.value).decode("utf-8"))
            except UnicodeDecodeError:
                object.__setattr__(self, "value", bytes(self.value))

    @property
    def text(self) -> str:
        """The value as text (undecodable bytes replaced, trailing NULs dropped)."""
        value = self.value
        raw = value if isinstance(value, bytes) else value.encode("utf-8")
        return display_text(raw.rstrip(b"\0"))

    def value_bytes(self) -> bytes:
        value = self.value
        return value.encode("utf-8") if isinstance(value, str) else bytes(value)


@dataclass(slots=True, unsafe_hash=True)
class DhcpMessageTypeOption:
    """DHCP Message Type (53)."""

    code: ClassVar[DhcpOptionCode] = DhcpOptionCode.MESSAGE_TYPE
    NAMES: ClassVar[dict[str, type]] = {"message_type": DhcpMessageType}
    message_type: DhcpMessageType | int

    def value_bytes(self) -> bytes:
        return bytes((self.message_type,))


@dataclass(slots=True, unsafe_hash=True)
class DhcpOverloadOption:
    """Option Overload (52): 1 = ``file`` holds options, 2 = ``sname``, 3 = both."""

    code: ClassVar[DhcpOptionCode] = DhcpOptionCode.OVERLOAD
    value: int

    @property
    def file(self) -> bool:
        return self.value in (1, 3)

    @property
    def sname(self) -> bool:
        return self.value in (2, 3)

    def value_bytes(self) -> bytes:
        return bytes((self.value,))


@dataclass(slots=True, unsafe_hash=True)
class DhcpParamRequestListOption:
    """Parameter Request List (55): the option codes the client asks for."""

    code: ClassVar[DhcpOptionCode] = DhcpOptionCode.PARAM_REQUEST_LIST
    codes: tuple[DhcpOptionCode | int, ...]

    def value_bytes(self) -> bytes:
        return bytes(self.codes)


@dataclass(slots=True, unsafe_hash=True)
class DhcpClientIdOption:
    """Client Identifier (61): a type byte and the identifier.

    ``id_type`` 1 with 6 bytes is an Ethernet MAC (:attr:`mac`); ``id_type`` 255 is the
    RFC 4361 form, a 4-byte IAID then a DUID (:attr:`iaid`, :attr:`duid`).
    """

    code: ClassVar[DhcpOptionCode] = DhcpOptionCode.CLIENT_ID
    JSON_EXTRA: ClassVar[tuple[str, ...]] = ("mac", "iaid", "duid")
    id_type: int
    data: bytes

    @classmethod
    def from_mac(cls, mac: str) -> DhcpClientIdOption:
        return cls(CLIENT_ID_TYPE_ETHERNET, _hex_bytes(mac))

    @classmethod
    def from_iaid_duid(cls, iaid: int, duid: bytes) -> DhcpClientIdOption:
        return cls(CLIENT_ID_TYPE_RFC4361, iaid.to_bytes(4, "big") + duid)

    @property
    def mac(self) -> str | None:
        if self.id_type == CLIENT_ID_TYPE_ETHERNET and len(self.data) == 6:
            return self.data.hex(":")
        return None

    @property
    def iaid(self) -> int | None:
        if self.id_type == CLIENT_ID_TYPE_RFC4361 and len(self.data) >= 4:
            return int.from_bytes(self.data[:4], "big")
        return None

    @property
    def duid(self) -> bytes | None:
        if self.id_type == CLIENT_ID_TYPE_RFC4361 and len(self.data) >= 4:
            return self.data[4:]
        return None

    @property
    def duid_type(self) -> int | None:
        if self.id_type == CLIENT_ID_TYPE_RFC4361 and len(self.data) >= 6:
            return int.from_bytes(self.data[4:6], "big")
        return None

    def __str__(self) -> str:
        mac = self.mac
        if mac is not None:
            return mac
        iaid = self.iaid
        if iaid is not None:
            return f"iaid={iaid:#x} duid={self.data[4:].hex()}"
        return f"{self.id_type}:{self.data.hex()}"

    def value_bytes(self) -> bytes:
        if not self.data:
            raise ValueError("Client Identifier needs at least 1 byte after its type")
        return bytes((self.id_type,)) + bytes(self.data)


@dataclass(slots=True, unsafe_hash=True)
class RelayAgentSubOption:
    """One option-82 sub-option.  ``value`` is an ``IPv4Address`` for Link Selection (5) and
    Server Identifier Override (11) when 4 bytes long, raw ``bytes`` otherwise.  Given an
    ``IPv4Address`` for another code (e.g. the RFC 5844 Remote ID), it stores the 4 bytes;
    given 4 bytes for code 5 or 11, it stores the address."""

    NAMES: ClassVar[dict[str, type]] = {"code": RelayAgentSubOptionCode}
    code: RelayAgentSubOptionCode | int
    value: bytes | IPv4Address

    def __post_init__(self) -> None:
        value = self.value
        if self.code in _SUB_ADDRESS_CODES:
            if not isinstance(value, IPv4Address) and len(value) == 4:
                object.__setattr__(self, "value", IPv4Address(bytes(value)))
        elif isinstance(value, IPv4Address):
            object.__setattr__(self, "value", value.packed)

    @property
    def name(self) -> str:
        return RELAY_AGENT_SUBOPTION_NAMES.get(self.code, f"Sub-option {self.code}")

    def raw_bytes(self) -> bytes:
        """The sub-option's value as it goes on the wire."""
        value = self.value
        return value.packed if isinstance(value, IPv4Address) else bytes(value)


@dataclass(slots=True, unsafe_hash=True)
class DhcpRelayAgentInfoOption:
    """Relay Agent Information (82, RFC 3046) with its sub-options in wire order."""

    code: ClassVar[DhcpOptionCode] = DhcpOptionCode.RELAY_AGENT_INFO
    JSON_EXTRA: ClassVar[tuple[str, ...]] = ("remote_id_ipv4",)
    suboptions: tuple[RelayAgentSubOption, ...]

    def suboption(self, code: int) -> RelayAgentSubOption | None:
        """The first sub-option with ``code``, or None."""
        for sub in self.suboptions:
            if sub.code == code:
                return sub
        return None

    def _bytes_of(self, code: int) -> bytes | None:
        sub = self.suboption(code)
        return None if sub is None else sub.raw_bytes()

    @property
    def circuit_id(self) -> bytes | None:
        return self._bytes_of(RelayAgentSubOptionCode.CIRCUIT_ID)

    @property
    def remote_id(self) -> bytes | None:
        return self._bytes_of(RelayAgentSubOptionCode.REMOTE_ID)

    @property
    def remote_id_ipv4(self) -> IPv4Address | None:
        """The Agent Remote ID as an IPv4 address when it is 4 bytes long (RFC 5844 §3.4.2
        carries the LMA-assigned IPv4 home address there as an allocation hint)."""
        remote = self.remote_id
        return IPv4Address(remote) if remote is not None and len(remote) == 4 else None

    @property
    def link_selection(self) -> IPv4Address | None:
        sub = self.suboption(RelayAgentSubOptionCode.LINK_SELECTION)
        return sub.value if sub is not None and isinstance(sub.value, IPv4Address) else None

    @property
    def server_id_override(self) -> IPv4Address | None:
        sub = self.suboption(RelayAgentSubOptionCode.SERVER_ID_OVERRIDE)
        return sub.value if sub is not None and isinstance(sub.value, IPv4Address) else None

    @property
    def relay_agent_id(self) -> bytes | None:
        return self._bytes_of(RelayAgentSubOptionCode.RELAY_AGENT_ID)

    def value_bytes(self) -> bytes:
        out = bytearray()
        for sub in self.suboptions:
            value = sub.raw_bytes()
            if not 0 <= sub.code <= 255 or len(value) > 255:
                raise ValueError(f"option 82 sub-option {sub.code} does not fit a byte TLV")
            out += bytes((sub.code, len(value)))
            out += value
        return bytes(out)


@dataclass(slots=True, unsafe_hash=True)
class DhcpRawOption:
    """An option kept as bytes: an unknown code, or a known code whose length does not fit
    its type (the decoder then also adds a warning)."""

    code: DhcpOptionCode | int
    data: bytes

    def value_bytes(self) -> bytes:
        return bytes(self.data)


DhcpOption = (
    DhcpAddressOption | DhcpAddressListOption | DhcpUIntOption | DhcpTextOption
    | DhcpMessageTypeOption | DhcpOverloadOption | DhcpParamRequestListOption
    | DhcpClientIdOption | DhcpRelayAgentInfoOption | DhcpRawOption
)


def encode_option(opt: DhcpOption) -> bytes:
    """``code``, ``length`` and value of one option (never Pad or End).

    Raises ``ValueError`` for a value longer than 255 bytes and for an empty typed value (the
    decoder refuses those); a :class:`DhcpRawOption` is written as given, which is how
    malformed options can be built on purpose.
    """
    code = opt.code
    if not 1 <= code <= 254:
        raise ValueError(f"option code {code} cannot carry a value (Pad/End or out of range)")
    value = opt.value_bytes()
    if len(value) > 255:
        raise ValueError(f"{option_name(code)} value is {len(value)} bytes, more than 255")
    if not value and not isinstance(opt, DhcpRawOption) and code in TYPED_OPTION_CODES:
        raise ValueError(f"{option_name(code)} needs a value of at least 1 byte")
    return bytes((code, len(value))) + value


def decode_option(code: int, data: bytes, off: int, warn: Warn) -> DhcpOption:
    """The option ``code`` with value ``data`` (its code byte at ``off``): typed when the
    value fits the type, else a :class:`DhcpRawOption`, with ``warn(offset, reason)`` told."""
    n = len(data)
    if code == _C.MESSAGE_TYPE:
        if n == 1:
            return DhcpMessageTypeOption(_MESSAGE_TYPES.get(data[0], data[0]))
        expected = "1 byte"
    elif code in ADDRESS_CODES:
        if n == 4:
            return DhcpAddressOption(_OPTION_CODES[code], ipv4(data))
        expected = "4 bytes"
    elif code in UINT_WIDTHS:
        width = UINT_WIDTHS[code]
        if n == width:
            value = int.from_bytes(data, "big")
            least = UINT_MINIMUMS.get(code, 0)
            if value < least:
                warn(off, f"{option_name(code)} {value} is below the minimum {least}")
            return DhcpUIntOption(_OPTION_CODES[code], value)
        expected = f"{width} bytes"
    elif code in ADDRESS_LIST_CODES:
        if n % 4 == 0:
            return DhcpAddressListOption(
                _OPTION_CODES[code],
                tuple(ipv4(data[k:k + 4]) for k in range(0, n, 4)))
        expected = "a multiple of 4 bytes"
    elif code in TEXT_CODES:
        try:
            return DhcpTextOption(_OPTION_CODES[code], data.decode("utf-8"))
        except UnicodeDecodeError:
            return DhcpTextOption(_OPTION_CODES[code], data)
    elif code == _C.PARAM_REQUEST_LIST:
        return DhcpParamRequestListOption(tuple(_OPTION_CODES.get(c, c) for c in data))
    elif code == _C.CLIENT_ID:
        if n >= 2:
            return DhcpClientIdOption(data[0], data[1:])
        expected = "at least 2 bytes"
    elif code == _C.OVERLOAD:
        if n == 1:
            return DhcpOverloadOption(data[0])
        expected = "1 byte"
    elif code == _C.RELAY_AGENT_INFO:
        rai = decode_relay_agent_info(data, off, warn)
        if rai is not None:
            return rai
        return DhcpRawOption(DhcpOptionCode.RELAY_AGENT_INFO, data)
    else:
        return DhcpRawOption(_code(code), data)
    warn(off, f"option {code} ({option_name(code)}) length {n}, expected {expected}; "
              "kept raw")
    return DhcpRawOption(_OPTION_CODES[code], data)

def decode_relay_agent_info(data: bytes, off: int,
                            warn: Warn) -> DhcpRelayAgentInfoOption | None:
    """Option 82's sub-options; None (and ``warn`` told) when they do not parse."""
    subs: list[RelayAgentSubOption] = []
    n = len(data)
    i = 0
    while i < n:
        where = off + 2 + i
        if i + 2 > n:
            warn(where, f"option 82 sub-option {data[i]} has no length byte; "
                        "option kept raw")
            return None
        sc, sl = data[i], data[i + 1]
        if i + 2 + sl > n:
            warn(where, f"option 82 sub-option {sc} length {sl} runs past the option "
                        f"({n - i - 2} bytes left); option kept raw")
            return None
        value: bytes | IPv4Address = data[i + 2:i + 2 + sl]
        if sc in _SUB_ADDRESS_CODES:
            if sl == 4:
                value = IPv4Address(value)
            else:
                warn(where, f"option 82 sub-option {sc} "
                            f"({RELAY_AGENT_SUBOPTION_NAMES[sc]}) length {sl}, "
                            "expected 4 bytes; kept as bytes")
        subs.append(RelayAgentSubOption(_SUB_CODES.get(sc, sc), value))
        i += 2 + sl
    return DhcpRelayAgentInfoOption(tuple(subs))
