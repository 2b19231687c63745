"""DHCPv4 / BOOTP codec (RFC 951, RFC 2131, RFC 2132, RFC 3046, RFC 4361, RFC 5107).

``decode_dhcp(buf, offset)`` reads one DHCP message (the whole UDP payload) and
``encode_dhcp(msg)`` writes one.  Both directions round-trip:

* ``decode_dhcp(encode_dhcp(m))[0] == m`` for every valid message built by hand;
* ``encode_dhcp(decode_dhcp(b)[0]) == b`` for every buffer the decoder accepts.

The second holds because the decoder keeps every wire-layout detail that is not part of the
message's meaning in :class:`DhcpLayout` (``DhcpMessage.layout``, excluded from ``==``):
the raw 16-byte ``chaddr`` field, the Pad bytes between options, whether and where the End
option sat, the bytes after End (BOOTP minimum-size padding, trailers) and, for option
overload (52), which options lived in ``file`` and ``sname``.  The encoder reproduces that
layout when it still fits the message's options (same option codes in the same order, same
overload value); otherwise, and when ``layout`` is None, it writes the canonical layout: the
fixed header, the cookie, the options in list order, End, zero padding up to ``min_size``
bytes (300, the BOOTP minimum) and, for an overloaded ``file``/``sname``, an empty field
(End then zeros).

Decoding rules (they are the documented contract of this module):

* Only :class:`~dissectors.errors.DecodeError` with layer ``"dhcp"`` escapes, with an offset
  from the first byte of the DHCP message and, when the fixed header was readable, the
  message decoded so far in ``partial``.
* Fatal: fixed header shorter than 236 bytes, missing or wrong magic cookie, an option whose
  length byte is missing or whose value runs past the end of its area (the buffer, or the
  ``file``/``sname`` field when overloaded), and a zero-length option of a code that has a
  typed value here (:data:`TYPED_OPTION_CODES`; all of them need at least one byte).
* Not fatal, reported in ``DhcpMessage.warnings`` (``Malformed`` with severity
  ``"warning"``, excluded from ``==``): a typed option whose non-zero length does not fit
  its type (kept as :class:`DhcpRawOption`, so the bytes re-encode exactly), an option 82
  whose sub-options do not parse (kept raw) or a Link Selection / Server Identifier Override
  sub-option that is not 4 bytes (kept as bytes), a missing End option (accepted; Wireshark
  flags it too), an invalid or repeated Option Overload, option 52 inside ``file``/``sname``
  (ignored), reserved flag bits, ``hlen`` over 16, an Interface MTU under 68 and a Maximum
  DHCP Message Size under 576.

A message built by hand round-trips when ``sname``/``file`` fit their fields without a
trailing NUL (and are empty where Option Overload puts options), ``chaddr`` has
``min(hlen, 16)`` bytes, and no :class:`DhcpRawOption` carries a typed code with a length
that fits its type (the decoder would return the typed option).  The typed option classes
refuse or normalise everything else (``encode_option`` raises ``ValueError``).

Representation: ``sname`` and ``file`` hold the raw field with its trailing NUL padding
removed (so ``b"boot"`` is the 128-byte field ``boot\\0\\0...``); they are ``b""`` when
option overload carries options there.  ``chaddr`` is a MAC string ``aa:bb:cc:dd:ee:ff``
for ``htype=1, hlen=6`` and the plain hex of the first ``min(hlen, 16)`` bytes otherwise.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from ipaddress import IPv4Address
from typing import Any, ClassVar

from dissectors.addr import ipv4
from dissectors.dhcp_codes import (
    DhcpMessageType,
    DhcpOp,
    DhcpOptionCode,
)
from dissectors.dhcp_options import (
    TYPED_OPTION_CODES,
    DhcpAddressListOption,
    DhcpAddressOption,
    DhcpClientIdOption,
    DhcpMessageTypeOption,
    DhcpOption,
    DhcpOverloadOption,
    DhcpRelayAgentInfoOption,
    DhcpTextOption,
    DhcpUIntOption,
    _hex_bytes,
    decode_option,
    encode_option,
    option_name,
)
from dissectors.errors import DecodeError, Malformed, need

__all__ = [
    "BOOTP_MIN_SIZE",
    "BROADCAST_FLAG",
    "INFINITE_LEASE",
    "MAGIC_COOKIE",
    "DhcpLayout",
    "DhcpMessage",
    "DhcpRegionLayout",
    "decode_dhcp",
    "encode_dhcp",
]

LAYER = "dhcp"
MAGIC_COOKIE = 0x63825363
BOOTP_MIN_SIZE = 300
BROADCAST_FLAG = 0x8000
FIXED_HEADER_LEN = 236
OPTIONS_OFFSET = 240
SNAME_OFFSET, SNAME_LEN = 44, 64
FILE_OFFSET, FILE_LEN = 108, 128
OVERLOAD_FILE = 1
OVERLOAD_SNAME = 2
INFINITE_LEASE = 0xFFFFFFFF

# op htype hlen hops | xid | secs flags | ciaddr yiaddr siaddr giaddr | chaddr sname file
_HEADER = struct.Struct("!BBBBIHHIIII16s64s128s")
_COOKIE = struct.Struct("!I")
_ZERO = IPv4Address(0)
_PAD, _END = int(DhcpOptionCode.PAD), int(DhcpOptionCode.END)

_OPS: dict[int, DhcpOp] = {m.value: m for m in DhcpOp}
# --------------------------------------------------------------------------- layout


@dataclass(slots=True, unsafe_hash=True)
class DhcpRegionLayout:
    """How one options area looked on the wire.

    ``region`` is ``"options"`` (from offset 240 to the end of the message), ``"file"`` or
    ``"sname"`` (overloaded).  ``codes`` are the codes of the options found there, in order;
    ``pads[i]`` is the number of Pad bytes before the i-th option and ``pads[-1]`` the number
    after the last one (``len(pads) == len(codes) + 1``); ``end`` says whether End was found,
    and ``tail`` holds every byte after End to the end of the region.
    """

    region: str
    codes: tuple[int, ...]
    pads: tuple[int, ...]
    end: bool
    tail: bytes


@dataclass(slots=True, unsafe_hash=True)
class DhcpLayout:
    """Wire details that ``encode_dhcp`` needs to reproduce a decoded message byte for byte.

    ``chaddr_field`` is the raw 16-byte chaddr (its padding may be non-zero); ``overload``
    is the Option Overload value that was honoured (0 for none); ``regions`` lists the
    options area, then ``file`` and ``sname`` when overloaded, in parse order.
    """

    chaddr_field: bytes
    overload: int
    regions: tuple[DhcpRegionLayout, ...]

    @property
    def end_missing(self) -> bool:
        """True when the options area has no End option."""
        return not self.regions[0].end


# --------------------------------------------------------------------------- message


def _format_chaddr(htype: int, hlen: int, chaddr_field: bytes) -> str:
    raw = chaddr_field[:min(hlen, 16)]
    if htype == 1 and hlen == 6:
        return raw.hex(":")
    return raw.hex()


def _printable(text: str) -> str:
    out: list[str] = []
    for c in text:
        if c in '"\\':
            out.append("\\" + c)
        elif c.isprintable():
            out.append(c)
        else:
            out.append(c.encode("unicode_escape").decode("ascii"))
    return "".join(out)


@dataclass(slots=True, unsafe_hash=True, kw_only=True)
class DhcpMessage:
    """One DHCP/BOOTP message.  Fields follow the wire order of RFC 2131 §2.

    Addresses accept anything :class:`IPv4Address` accepts and are stored as
    ``IPv4Address``.  ``warnings`` and ``layout`` are filled by the decoder and do not take
    part in ``==``.
    """

    # for dissectors.fields.to_dict: code-point tables and derived values to show
    NAMES: ClassVar[dict[str, type]] = {"op": DhcpOp}
    JSON_EXTRA: ClassVar[tuple[str, ...]] = ("broadcast", "is_relayed")

    op: DhcpOp | int = DhcpOp.BOOTREQUEST
    htype: int = 1
    hlen: int = 6
    hops: int = 0
    xid: int = 0
    secs: int = 0
    flags: int = 0
    ciaddr: IPv4Address = _ZERO
    yiaddr: IPv4Address = _ZERO
    siaddr: IPv4Address = _ZERO
    giaddr: IPv4Address = _ZERO
    chaddr: str = "00:00:00:00:00:00"
    sname: bytes = b""
    file: bytes = b""
    options: tuple[DhcpOption, ...] = ()
    warnings: tuple[Malformed, ...] = field(default=(), compare=False)
    layout: DhcpLayout | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if type(self.op) is int:
            object.__setattr__(self, "op", _OPS.get(self.op, self.op))
        for name in ("ciaddr", "yiaddr", "siaddr", "giaddr"):
            value = getattr(self, name)
            if not isinstance(value, IPv4Address):
                object.__setattr__(self, name, IPv4Address(value))
        if not isinstance(self.options, tuple):
            object.__setattr__(self, "options", tuple(self.options))

    # -- header views

    @property
    def broadcast(self) -> bool:
        """The BROADCAST flag (RFC 2131 §2, flags bit 0x8000)."""
        return bool(self.flags & BROADCAST_FLAG)

    @property
    def chaddr_bytes(self) -> bytes:
        """The first ``min(hlen, 16)`` bytes of chaddr."""
        return _hex_bytes(self.chaddr)

    @property
    def mac(self) -> str | None:
        """chaddr when it is an Ethernet MAC (htype 1, hlen 6), else None."""
        return self.chaddr if self.htype == 1 and self.hlen == 6 else None

    @property
    def is_relayed(self) -> bool:
        """Went through a relay agent: giaddr set or hops above 0."""
        return self.giaddr != _ZERO or self.hops > 0

    # -- option views

    def option(self, code: int) -> DhcpOption | None:
        """The first option with ``code`` (in wire/parse order), or None."""
        for opt in self.options:
            if opt.code == code:
                return opt
        return None

    def options_with(self, code: int) -> tuple[DhcpOption, ...]:
        """Every option with ``code``, in order."""
        return tuple(opt for opt in self.options if opt.code == code)

    def _address_of(self, code: int) -> IPv4Address | None:
        opt = self.option(code)
        return opt.address if isinstance(opt, DhcpAddressOption) else None

    def _addresses_of(self, code: int) -> tuple[IPv4Address, ...] | None:
        opt = self.option(code)
        return opt.addresses if isinstance(opt, DhcpAddressListOption) else None

    def _uint_of(self, code: int) -> int | None:
        opt = self.option(code)
        return opt.value if isinstance(opt, DhcpUIntOption) else None

    def _text_of(self, code: int) -> str | None:
        opt = self.option(code)
        return opt.text if isinstance(opt, DhcpTextOption) else None

    @property
    def message_type(self) -> DhcpMessageType | int | None:
        opt = self.option(DhcpOptionCode.MESSAGE_TYPE)
        return opt.message_type if isinstance(opt, DhcpMessageTypeOption) else None

    @property
    def server_id(self) -> IPv4Address | None:
        return self._address_of(DhcpOptionCode.SERVER_ID)

    @property
    def requested_ip(self) -> IPv4Address | None:
        return self._address_of(DhcpOptionCode.REQUESTED_IP)

    @property
    def subnet_mask(self) -> IPv4Address | None:
        return self._address_of(DhcpOptionCode.SUBNET_MASK)

    @property
    def routers(self) -> tuple[IPv4Address, ...] | None:
        return self._addresses_of(DhcpOptionCode.ROUTER)

    @property
    def dns_servers(self) -> tuple[IPv4Address, ...] | None:
        return self._addresses_of(DhcpOptionCode.DNS)

    @property
    def lease_time(self) -> int | None:
        """IP Address Lease Time in seconds (0xFFFFFFFF = infinite)."""
        return self._uint_of(DhcpOptionCode.LEASE_TIME)

    @property
    def mtu(self) -> int | None:
        return self._uint_of(DhcpOptionCode.MTU)

    @property
    def hostname(self) -> str | None:
        return self._text_of(DhcpOptionCode.HOSTNAME)

    @property
    def message_text(self) -> str | None:
        """Option 56, Message (e.g. why a NAK was sent)."""
        return self._text_of(DhcpOptionCode.MESSAGE)

    @property
    def client_id(self) -> DhcpClientIdOption | None:
        opt = self.option(DhcpOptionCode.CLIENT_ID)
        return opt if isinstance(opt, DhcpClientIdOption) else None

    @property
    def relay_agent_info(self) -> DhcpRelayAgentInfoOption | None:
        opt = self.option(DhcpOptionCode.RELAY_AGENT_INFO)
        return opt if isinstance(opt, DhcpRelayAgentInfoOption) else None

    @property
    def remote_id_ipv4(self) -> IPv4Address | None:
        """Option 82 Agent Remote ID as an IPv4 address (RFC 5844 HoA hint), or None."""
        rai = self.relay_agent_info
        return None if rai is None else rai.remote_id_ipv4

    # -- summary

    def info(self) -> str:
        """One-line summary in the manner of Wireshark's Info column, e.g.
        ``DHCP OFFER xid=0x3903f326 yiaddr=10.10.0.5 server=10.10.0.1``."""
        mt = self.message_type
        if mt is None:
            op = self.op
            kind = op.name.removeprefix("BOOT") if isinstance(op, DhcpOp) else f"op={op}"
            parts = [f"BOOTP {kind}"]
        elif isinstance(mt, DhcpMessageType):
            parts = [f"DHCP {mt.name}"]
        else:
            parts = [f"DHCP type={mt}"]
        parts.append(f"xid=0x{self.xid:08x}")
        T = DhcpMessageType
        if mt == T.DISCOVER:
            parts.append(f"chaddr={self.chaddr}")
            self._add(parts, "req", self.requested_ip)
        elif mt == T.OFFER:
            self._add(parts, "yiaddr", self.yiaddr)
            self._add(parts, "server", self.server_id)
        elif mt == T.REQUEST:
            self._add(parts, "ciaddr", self.ciaddr)
            self._add(parts, "req", self.requested_ip)
            self._add(parts, "server", self.server_id)
        elif mt == T.ACK:
            self._add(parts, "yiaddr", self.yiaddr)
            lease = self.lease_time
            if lease is not None:
                parts.append("lease=infinite" if lease == INFINITE_LEASE else f"lease={lease}s")
        elif mt == T.NAK:
            self._add(parts, "server", self.server_id)
            text = self.message_text
            if text is not None:
                parts.append(f'msg="{_printable(text)}"')
        elif mt == T.DECLINE:
            self._add(parts, "req", self.requested_ip)
            self._add(parts, "server", self.server_id)
        elif mt in (T.RELEASE, T.INFORM):
            self._add(parts, "ciaddr", self.ciaddr)
            self._add(parts, "server", self.server_id)
        else:
            self._add(parts, "ciaddr", self.ciaddr)
            self._add(parts, "yiaddr", self.yiaddr)
        if self.giaddr != _ZERO:
            parts.append(f"relay={self.giaddr}")
        elif self.hops:
            parts.append(f"hops={self.hops}")
        self._add(parts, "remote-id", self.remote_id_ipv4)
        return " ".join(parts)

    @staticmethod
    def _add(parts: list[str], label: str, address: IPv4Address | None) -> None:
        if address is not None and address != _ZERO:
            parts.append(f"{label}={address}")


# --------------------------------------------------------------------------- decoding


class _Decoder:
    """State of one decode: the header, the options and warnings found so far."""

    __slots__ = ("buf", "header", "offsets", "options", "warnings")

    def __init__(self, buf: bytes, header: dict[str, Any]) -> None:
        self.buf = buf
        self.header = header
        self.options: list[DhcpOption] = []
        self.offsets: list[int] = []
        self.warnings: list[Malformed] = []

    def partial(self) -> DhcpMessage:
        return DhcpMessage(**self.header, options=tuple(self.options),
                           warnings=tuple(self.warnings))

    def fail(self, offset: int, reason: str) -> DecodeError:
        return DecodeError(LAYER, offset, reason, self.partial())

    def warn(self, offset: int, reason: str) -> None:
        self.warnings.append(Malformed(LAYER, offset, reason, "warning"))

    def region(self, name: str, start: int, stop: int) -> DhcpRegionLayout:
        """Parse the TLVs in ``buf[start:stop]``; stop at End or at ``stop``."""
        buf = self.buf
        warn = self.warn
        codes: list[int] = []
        pads: list[int] = []
        pad = 0
        end = False
        i = start
        while i < stop:
            code = buf[i]
            if code == _PAD:
                pad += 1
                i += 1
                continue
            if code == _END:
                end = True
                i += 1
                break
            if i + 1 >= stop:
                raise self.fail(i, f"option {code} ({option_name(code)}) has no length byte: "
                                   f"the {name} area ends after its code")
            length = buf[i + 1]
            if i + 2 + length > stop:
                raise self.fail(i, f"option {code} ({option_name(code)}) length {length} runs "
                                   f"past the end of the {name} area "
                                   f"({stop - i - 2} bytes left)")
            if length == 0 and code in TYPED_OPTION_CODES:
                raise self.fail(i, f"option {code} ({option_name(code)}) has length 0; "
                                   "its value needs at least 1 byte")
            self.options.append(decode_option(code, buf[i + 2:i + 2 + length], i, warn))
            self.offsets.append(i)
            codes.append(code)
            pads.append(pad)
            pad = 0
            i += 2 + length
        pads.append(pad)
        if not end:
            self.warn(i, f"End option missing in the {name} area")
        return DhcpRegionLayout(name, tuple(codes), tuple(pads), end, buf[i:stop])

def decode_dhcp(buf: bytes | memoryview, offset: int = 0) -> tuple[DhcpMessage, int]:
    """Decode the DHCP message that fills ``buf[offset:]`` (a UDP payload).

    Returns the message and the offset after its last byte (the end of ``buf``: bytes after
    End belong to the message's layout).  Raises only :class:`DecodeError` (layer ``"dhcp"``,
    offset from the start of the DHCP message).
    """
    size = len(buf)
    if not 0 <= offset <= size:
        raise DecodeError(LAYER, 0, f"offset {offset} is outside the {size}-byte buffer")
    data = buf if offset == 0 and type(buf) is bytes else bytes(memoryview(buf)[offset:])
    need(data, 0, FIXED_HEADER_LEN, LAYER, "BOOTP fixed header")
    (op, htype, hlen, hops, xid, secs, flags, _ci, _yi, _si, _gi, chaddr_field,
     sname_field, file_field) = _HEADER.unpack_from(data, 0)
    header: dict[str, Any] = {
        "op": _OPS.get(op, op), "htype": htype, "hlen": hlen, "hops": hops, "xid": xid,
        "secs": secs, "flags": flags, "ciaddr": ipv4(data[12:16]),
        "yiaddr": ipv4(data[16:20]), "siaddr": ipv4(data[20:24]),
        "giaddr": ipv4(data[24:28]), "chaddr": _format_chaddr(htype, hlen, chaddr_field),
        "sname": sname_field.rstrip(b"\0"), "file": file_field.rstrip(b"\0"),
    }
    dec = _Decoder(data, header)
    if len(data) < OPTIONS_OFFSET:
        raise dec.fail(FIXED_HEADER_LEN, "truncated magic cookie: need 4 bytes, have "
                                         f"{len(data) - FIXED_HEADER_LEN}")
    (cookie,) = _COOKIE.unpack_from(data, FIXED_HEADER_LEN)
    if cookie != MAGIC_COOKIE:
        raise dec.fail(FIXED_HEADER_LEN, f"bad magic cookie 0x{cookie:08x}, "
                                         f"expected 0x{MAGIC_COOKIE:08x} (99.130.83.99)")
    if flags & ~BROADCAST_FLAG:
        dec.warn(10, f"reserved flag bits 0x{flags & ~BROADCAST_FLAG:04x} are set (MUST be 0)")
    if hlen > 16:
        dec.warn(2, f"hlen {hlen} is longer than the 16-byte chaddr field")

    regions = [dec.region("options", OPTIONS_OFFSET, len(data))]
    # RFC 2131 §4.1: option 52 must be in the options area; the first one decides.
    overload = 0
    seen = False
    for opt, where in zip(dec.options, dec.offsets, strict=True):
        if not isinstance(opt, DhcpOverloadOption):
            continue
        if seen:
            dec.warn(where, f"Option Overload repeated (value {opt.value}); ignored")
        elif opt.value in (1, 2, 3):
            overload = opt.value
        else:
            dec.warn(where, f"Option Overload value {opt.value} is not 1, 2 or 3; ignored")
        seen = True
    if overload:
        n_main = len(dec.options)
        if overload & OVERLOAD_FILE:
            header["file"] = b""
            regions.append(dec.region("file", FILE_OFFSET, FILE_OFFSET + FILE_LEN))
        if overload & OVERLOAD_SNAME:
            header["sname"] = b""
            regions.append(dec.region("sname", SNAME_OFFSET, SNAME_OFFSET + SNAME_LEN))
        for opt, where in zip(dec.options[n_main:], dec.offsets[n_main:], strict=True):
            if isinstance(opt, DhcpOverloadOption):
                dec.warn(where, "Option Overload inside an overloaded field is ignored")
    layout = DhcpLayout(chaddr_field, overload, tuple(regions))
    msg = DhcpMessage(**header, options=tuple(dec.options), warnings=tuple(dec.warnings),
                      layout=layout)
    return msg, size


# --------------------------------------------------------------------------- encoding


def _honoured_overload(options: tuple[DhcpOption, ...] | list[DhcpOption]) -> int:
    """The overload value a decoder would honour for options placed in the options area."""
    for opt in options:
        if isinstance(opt, DhcpOverloadOption):
            return opt.value if opt.value in (1, 2, 3) else 0
    return 0


def _field(value: bytes, size: int, name: str) -> bytes:
    if len(value) > size:
        raise ValueError(f"{name} is {len(value)} bytes, the field holds {size}")
    return bytes(value).ljust(size, b"\0")


def _region_bytes(region: DhcpRegionLayout, encoded: list[bytes], first: int) -> bytes:
    parts: list[bytes] = []
    for k in range(len(region.codes)):
        parts.append(b"\0" * region.pads[k])
        parts.append(encoded[first + k])
    parts.append(b"\0" * region.pads[-1])
    if region.end:
        parts.append(b"\xff")
    parts.append(region.tail)
    return b"".join(parts)


def _with_layout(msg: DhcpMessage, layout: DhcpLayout,
                 encoded: list[bytes]) -> tuple[bytes, bytes, bytes] | None:
    """(options area, sname field, file field) laid out as ``layout`` says, or None if the
    layout no longer fits the message."""
    codes = tuple(code for region in layout.regions for code in region.codes)
    if codes != tuple(opt.code for opt in msg.options):
        return None
    main = layout.regions[0]
    if main.region != "options":
        return None
    if _honoured_overload(msg.options[:len(main.codes)]) != layout.overload:
        return None
    if (layout.overload & OVERLOAD_SNAME and msg.sname) or (
            layout.overload & OVERLOAD_FILE and msg.file):
        raise ValueError("sname/file must be empty when Option Overload puts options there")
    sname: bytes | None = None
    file: bytes | None = None
    options_area = b""
    first = 0
    for region in layout.regions:
        if len(region.pads) != len(region.codes) + 1:
            return None
        data = _region_bytes(region, encoded, first)
        first += len(region.codes)
        if region.region == "options":
            options_area = data
        elif region.region == "file" and len(data) == FILE_LEN:
            file = data
        elif region.region == "sname" and len(data) == SNAME_LEN:
            sname = data
        else:
            return None
    if (file is None) == bool(layout.overload & OVERLOAD_FILE):
        return None
    if (sname is None) == bool(layout.overload & OVERLOAD_SNAME):
        return None
    if sname is None:
        sname = _field(msg.sname, SNAME_LEN, "sname")
    if file is None:
        file = _field(msg.file, FILE_LEN, "file")
    return options_area, sname, file


def _canonical(msg: DhcpMessage, encoded: list[bytes],
               min_size: int) -> tuple[bytes, bytes, bytes]:
    overload = _honoured_overload(msg.options)
    options_area = b"".join(encoded) + b"\xff"
    short = min_size - OPTIONS_OFFSET - len(options_area)
    if short > 0:
        options_area += b"\0" * short
    if overload & OVERLOAD_SNAME:
        if msg.sname:
            raise ValueError("sname must be empty when Option Overload puts options there")
        sname = b"\xff".ljust(SNAME_LEN, b"\0")
    else:
        sname = _field(msg.sname, SNAME_LEN, "sname")
    if overload & OVERLOAD_FILE:
        if msg.file:
            raise ValueError("file must be empty when Option Overload puts options there")
        file = b"\xff".ljust(FILE_LEN, b"\0")
    else:
        file = _field(msg.file, FILE_LEN, "file")
    return options_area, sname, file


def encode_dhcp(msg: DhcpMessage, min_size: int = BOOTP_MIN_SIZE) -> bytes:
    """Encode ``msg``; see the module docstring for the layout rules.

    ``min_size`` (default 300, the BOOTP minimum) pads a canonically laid-out message with
    zeros after End; it is not applied when ``msg.layout`` is reproduced.  Raises
    ``ValueError`` for a message that cannot be encoded (a field out of range, chaddr not
    matching hlen, an option value too long).
    """
    hw = msg.chaddr_bytes
    if len(hw) != min(msg.hlen, 16):
        raise ValueError(f"chaddr has {len(hw)} bytes but hlen {msg.hlen} needs "
                         f"{min(msg.hlen, 16)}")
    encoded = [encode_option(opt) for opt in msg.options]
    layout = msg.layout
    areas = None
    chaddr_field = hw.ljust(16, b"\0")
    if layout is not None:
        areas = _with_layout(msg, layout, encoded)
        if len(layout.chaddr_field) == 16 and layout.chaddr_field.startswith(hw):
            chaddr_field = layout.chaddr_field
    if areas is None:
        areas = _canonical(msg, encoded, min_size)
    options_area, sname, file = areas
    try:
        header = _HEADER.pack(
            msg.op, msg.htype, msg.hlen, msg.hops, msg.xid, msg.secs, msg.flags,
            int(msg.ciaddr), int(msg.yiaddr), int(msg.siaddr), int(msg.giaddr),
            chaddr_field, sname, file)
    except struct.error as exc:
        raise ValueError(f"DHCP header field out of range: {exc}") from None
    return header + _COOKIE.pack(MAGIC_COOKIE) + options_area
