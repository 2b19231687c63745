"""The Mobility Header (RFC 6275 §6.1) and its messages: BU/PBU, BA/PBA, Binding Error,
Heartbeat (RFC 5847), Binding Revocation BRI/BRA (RFC 5846); other types kept raw.

``decode_mh(buf, offset, end, pseudo)`` raises only DecodeError; ``encode_mh(msg, ...)``
builds the bytes, with the checksum over the IPv6 pseudo-header when addresses are given
(over IPv4/UDP the checksum is 0, RFC 5844 §4.1.3).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field, replace
from ipaddress import IPv4Address, IPv6Address
from typing import Any, ClassVar, TypeVar

from .addr import ipv6
from .checksum import inet_checksum, pseudo_header
from .errors import DecodeError, Malformed, need
from .ip import IPProto
from .mh_codes import (
    BR_FLAG_BITS,
    BAFlag,
    BAStatus,
    BEStatus,
    BRAStatus,
    BRFlag,
    BRType,
    BUFlag,
    HBFlag,
    MessageKind,
    MHType,
    RevocationTrigger,
    ba_status_name,
    flag_names,
    lookup,
    name_of,
    status_accepted,
)
from .mh_options import (
    GREKey,
    HandoffIndicatorOpt,
    HomeNetworkPrefix,
    IPv4DefaultRouter,
    IPv4DHCPSupportMode,
    IPv4HoAReply,
    IPv4HoARequest,
    MNIdentifier,
    MNLinkLayerId,
    MobilityOption,
    OptionArea,
    Timestamp,
    decode_options,
    encode_options,
)

LAYER = "mh"
_UNSPECIFIED6 = IPv6Address(0)
IPPROTO_NONE = int(IPProto.NONE)  # Payload Proto of a message with nothing after it


#: An option class: what `option()` and `all_options()` are asked for and return.
Opt = TypeVar("Opt", bound=MobilityOption)

_BU_P, _BA_P, _HB_R = int(BUFlag.P), int(BAFlag.P), int(HBFlag.R)

@dataclass(slots=True, unsafe_hash=True)
class MHWire:
    """How a decoded MH sat on the wire; kept out of equality (compare=False)."""

    header_len: int
    checksum: int
    checksum_ok: bool | None  # None: not verifiable (IPv4/UDP transport, RFC 5844)
    padding: tuple[bytes, ...] | None = None
    option_offsets: tuple[int, ...] = ()
    warnings: tuple[Malformed, ...] = ()
    trailing: bytes = b""  # bytes of the packet after the MH's declared length


@dataclass(slots=True, unsafe_hash=True, kw_only=True)
class _MHBase:
    proto: int = IPPROTO_NONE
    mh_reserved: int = 0
    wire: MHWire | None = field(default=None, compare=False, repr=False)

    MH_TYPE: ClassVar[int] = -1
    FIXED: ClassVar[int] = 6  # bytes of message data before the options

    # --- option look-ups shared by every message -------------------------------------
    def option(self, cls: type[Opt]) -> Opt | None:
        """The first option of class ``cls``, typed as that class; None when absent."""
        for opt in getattr(self, "options", ()):
            if isinstance(opt, cls):
                return opt
        return None

    def all_options(self, cls: type[Opt]) -> list[Opt]:
        """Every option of class ``cls``, in wire order."""
        return [o for o in getattr(self, "options", ()) if isinstance(o, cls)]

    @property
    def mn_id(self) -> str | None:
        opt = self.option(MNIdentifier)
        return opt.text if opt else None

    @property
    def mn_lli(self) -> str | None:
        opt = self.option(MNLinkLayerId)
        return opt.text if opt else None

    @property
    def hnps(self) -> list[HomeNetworkPrefix]:
        return self.all_options(HomeNetworkPrefix)

    @property
    def handoff_indicator(self) -> int | None:
        opt = self.option(HandoffIndicatorOpt)
        return opt.hi if opt else None

    @property
    def timestamp(self) -> Timestamp | None:
        return self.option(Timestamp)

    @property
    def hoa_request(self) -> IPv4HoARequest | None:
        return self.option(IPv4HoARequest)

    @property
    def hoa_reply(self) -> IPv4HoAReply | None:
        return self.option(IPv4HoAReply)

    @property
    def default_router(self) -> IPv4Address | None:
        opt = self.option(IPv4DefaultRouter)
        return opt.address if opt else None

    @property
    def dhcp_mode(self) -> str | None:
        opt = self.option(IPv4DHCPSupportMode)
        return opt.mode if opt else None

    @property
    def name(self) -> str:
        return name_of(MHType, self.MH_TYPE)

    def _option_info(self) -> str:
        parts = []
        if self.mn_id is not None:
            parts.append(f"MN-ID={self.mn_id}")
        if self.mn_lli is not None:
            parts.append(f"LLI={self.mn_lli}")
        hi = self.handoff_indicator
        if hi is not None:
            parts.append(f"HI={int(hi)}")
        parts.extend(f"HNP={p}" for p in self.hnps)
        req = self.hoa_request
        if req is not None:
            plen = f"/{req.prefix_len}" if req.prefix_len else ""
            parts.append(f"HoA-Req={req.address}{plen}")
        rep = self.hoa_reply
        if rep is not None:
            text = f"HoA={rep.address}/{rep.prefix_len}"
            if not rep.accepted:
                text += f" HoA-Reply={int(rep.status)} {rep.status_name}"
            parts.append(text)
        router = self.default_router
        if router is not None:
            parts.append(f"GW={router}")
        mode = self.dhcp_mode
        if mode is not None:
            parts.append(f"DHCP={mode}")
        gre = self.option(GREKey)
        if gre is not None and gre.key is not None:
            parts.append(f"GRE-Key=0x{gre.key:08x}")
        return " ".join(parts)


@dataclass(slots=True, unsafe_hash=True, kw_only=False)
class BindingUpdate(_MHBase):
    """Binding Update; a Proxy Binding Update (PBU) when the P flag is set."""

    MH_TYPE: ClassVar[int] = MHType.BU
    JSON_EXTRA: ClassVar[tuple[str, ...]] = ("lifetime_s",)
    seq: int
    flags: BUFlag = BUFlag.A | BUFlag.P
    lifetime: int = 0  # 4-second units
    options: tuple[MobilityOption, ...] = ()

    @property
    def proxy(self) -> bool:
        return bool(int.__and__(self.flags, _BU_P))  # no IntFlag.__and__: hot

    @property
    def lifetime_s(self) -> int:
        return self.lifetime * 4

    @property
    def short(self) -> MessageKind:
        return MessageKind.PBU if self.proxy else MessageKind.BU

    def info(self) -> str:
        head = f"{self.short} seq={self.seq}"
        flags = flag_names(self.flags, BUFlag)
        if flags:
            head += f" {flags}"
        head += f" lifetime={self.lifetime_s}s"
        if self.lifetime == 0:
            head += " (de-registration)"
        rest = self._option_info()
        return f"{head} {rest}" if rest else head


@dataclass(slots=True, unsafe_hash=True, kw_only=False)
class BindingAck(_MHBase):
    """Binding Acknowledgement; a Proxy Binding Acknowledgement (PBA) when P is set."""

    MH_TYPE: ClassVar[int] = MHType.BA
    JSON_EXTRA: ClassVar[tuple[str, ...]] = ("status_name", "accepted", "lifetime_s")
    NAMES: ClassVar[dict[str, type]] = {"status": BAStatus}
    status: int
    seq: int
    flags: BAFlag = BAFlag.P
    lifetime: int = 0
    options: tuple[MobilityOption, ...] = ()

    @property
    def proxy(self) -> bool:
        return bool(int.__and__(self.flags, _BA_P))

    @property
    def accepted(self) -> bool:
        return status_accepted(self.status)

    @property
    def status_name(self) -> str:
        return ba_status_name(self.status, self.proxy)

    @property
    def lifetime_s(self) -> int:
        return self.lifetime * 4

    @property
    def short(self) -> MessageKind:
        return MessageKind.PBA if self.proxy else MessageKind.BA

    def info(self) -> str:
        head = f"{self.short} seq={self.seq} status={int(self.status)} {self.status_name}"
        flags = flag_names(self.flags, BAFlag)
        if flags:
            head += f" {flags}"
        head += f" lifetime={self.lifetime_s}s"
        rest = self._option_info()
        return f"{head} {rest}" if rest else head


@dataclass(slots=True, unsafe_hash=True, kw_only=False)
class BindingError(_MHBase):
    MH_TYPE: ClassVar[int] = MHType.BE
    FIXED: ClassVar[int] = 18
    NAMES: ClassVar[dict[str, type]] = {"status": BEStatus}
    status: int
    home_address: IPv6Address = _UNSPECIFIED6
    reserved: int = 0
    options: tuple[MobilityOption, ...] = ()

    @property
    def status_name(self) -> str:
        return name_of(BEStatus, self.status)

    @property
    def short(self) -> MessageKind:
        return MessageKind.BE

    def info(self) -> str:
        return f"BE status={int(self.status)} {self.status_name} HoA={self.home_address}"


@dataclass(slots=True, unsafe_hash=True, kw_only=False)
class Heartbeat(_MHBase):
    MH_TYPE: ClassVar[int] = MHType.HEARTBEAT
    JSON_EXTRA: ClassVar[tuple[str, ...]] = ("response", "unsolicited")
    seq: int
    flags: int = 0  # 16-bit word: 14 reserved bits, U (0x2), R (0x1)
    options: tuple[MobilityOption, ...] = ()

    @property
    def response(self) -> bool:
        return bool(int.__and__(self.flags, _HB_R))

    @property
    def unsolicited(self) -> bool:
        return bool(self.flags & HBFlag.U)

    @property
    def short(self) -> MessageKind:
        return MessageKind.HB_RESP if self.response else MessageKind.HB_REQ

    def info(self) -> str:
        text = f"Heartbeat {'response' if self.response else 'request'} seq={self.seq}"
        if self.unsolicited:
            text += " U (unsolicited)"
        from .mh_options import RestartCounter

        rc = self.option(RestartCounter)
        if rc is not None:
            text += f" restart-counter={rc.counter}"
        return text


@dataclass(slots=True, unsafe_hash=True, kw_only=False)
class BindingRevocation(_MHBase):
    """BRI (B.R. type 1, with a trigger) or BRA (type 2, with a status)."""

    MH_TYPE: ClassVar[int] = MHType.BR
    JSON_EXTRA: ClassVar[tuple[str, ...]] = ("code_name", "accepted")
    NAMES: ClassVar[dict[str, type]] = {"br_type": BRType}
    br_type: int
    code: int  # revocation trigger in a BRI, status in a BRA
    seq: int
    flags: int = BRFlag.P  # 16-bit word: P V G and 13 reserved bits
    options: tuple[MobilityOption, ...] = ()

    @property
    def indication(self) -> bool:
        return self.br_type == BRType.BRI

    @property
    def proxy(self) -> bool:
        """The P flag: a proxy binding revocation (RFC 5846 §6.1)."""
        return bool(self.flags & BRFlag.P)

    @property
    def br_type_name(self) -> str:
        return name_of(BRType, self.br_type)

    @property
    def code_name(self) -> str:
        """The trigger's name in a BRI, the status's name in a BRA."""
        if self.br_type == BRType.BRI:
            return name_of(RevocationTrigger, self.code)
        if self.br_type == BRType.BRA:
            return name_of(BRAStatus, self.code)
        return str(self.code)

    @property
    def trigger(self) -> int | None:
        return lookup(RevocationTrigger, self.code) if self.br_type == BRType.BRI else None

    @property
    def status(self) -> int | None:
        return lookup(BRAStatus, self.code) if self.br_type == BRType.BRA else None

    @property
    def accepted(self) -> bool:
        return self.br_type != BRType.BRA or status_accepted(self.code)

    @property
    def short(self) -> MessageKind:
        if self.br_type == BRType.BRI:
            return MessageKind.BRI
        return MessageKind.BRA if self.br_type == BRType.BRA else MessageKind.BR

    def info(self) -> str:
        flags = flag_names(BRFlag(self.flags & BR_FLAG_BITS), BRFlag)
        if self.br_type == BRType.BRI:
            head = f"BRI seq={self.seq} trigger={self.code} {self.code_name}"
        elif self.br_type == BRType.BRA:
            head = f"BRA seq={self.seq} status={self.code} {self.code_name}"
        else:
            head = f"BR type={self.br_type} seq={self.seq}"
        if flags:
            head += f" {flags}"
        rest = self._option_info()
        return f"{head} {rest}" if rest else head


@dataclass(slots=True, unsafe_hash=True, kw_only=False)
class UnknownMH(_MHBase):
    """An MH type we do not decode: the message data after the checksum, raw."""

    mh_type: int
    raw: bytes = b""

    @property
    def short(self) -> str:
        return f"MH-{self.mh_type}"

    @property
    def name(self) -> str:
        return name_of(MHType, self.mh_type)

    def info(self) -> str:
        return f"MH type {self.mh_type} ({self.name}), {len(self.raw) + 6} bytes"


MobilityMessage = (
    BindingUpdate | BindingAck | BindingError | Heartbeat | BindingRevocation | UnknownMH
)

_BU = struct.Struct("!HHH")
_BA = struct.Struct("!BBHH")
_HB = struct.Struct("!HI")
_BR = struct.Struct("!BBHH")


def _message(mh_type: int, body: bytes | memoryview, options: tuple[MobilityOption, ...],
             proto: int, reserved: int, wire: MHWire) -> MobilityMessage:
    """Build the message from its fixed data (MH offset 6 onward) and its options."""
    kw: dict[str, Any] = {"options": options, "proto": proto, "mh_reserved": reserved,
                          "wire": wire}
    if mh_type == MHType.BU:
        seq, flags, lifetime = _BU.unpack_from(body, 0)
        return BindingUpdate(seq, BUFlag(flags), lifetime, **kw)
    if mh_type == MHType.BA:
        status, flags, seq, lifetime = _BA.unpack_from(body, 0)
        return BindingAck(lookup(BAStatus, status), seq, BAFlag(flags), lifetime, **kw)
    if mh_type == MHType.BE:
        return BindingError(lookup(BEStatus, body[0]), ipv6(bytes(body[2:18])), body[1], **kw)
    if mh_type == MHType.HEARTBEAT:
        flags, seq = _HB.unpack_from(body, 0)
        return Heartbeat(seq, flags, **kw)
    br_type, code, seq, flags = _BR.unpack_from(body, 0)
    return BindingRevocation(lookup(BRType, br_type), code, seq, flags, **kw)


_FIXED: dict[int, int] = {MHType.BU: 6, MHType.BA: 6, MHType.BE: 18, MHType.HEARTBEAT: 6,
                          MHType.BR: 6}


def decode_mh(buf: bytes | memoryview, offset: int = 0, end: int | None = None,
              pseudo: bytes | None = None) -> tuple[MobilityMessage, int]:
    """Decode the MH at ``buf[offset:end]``; offsets in errors count from ``offset``.

    ``pseudo`` is the IPv6 pseudo-header prefix (src, dst) when the MH came over IPv6;
    then the checksum is verified.  Over IPv4/UDP pass None: checksum 0 is correct.
    """
    if end is None:
        end = len(buf)
    view = bytes(buf[offset:end])
    need(view, 0, 6, LAYER, "Mobility Header")
    proto, hlen, mh_type, reserved = view[0], view[1], view[2], view[3]
    checksum = struct.unpack_from("!H", view, 4)[0]
    total = (hlen + 1) * 8
    warnings: list[Malformed] = []
    fixed = _FIXED.get(mh_type)
    if total > len(view):
        raise DecodeError(LAYER, 1, f"Header Len {hlen} declares {total} bytes but only "
                          f"{len(view)} are in the packet")
    checksum_ok: bool | None = None
    if pseudo is not None:
        checksum_ok = inet_checksum(pseudo + struct.pack("!I3xB", total, IPProto.MH),
                                    view[:total]) == 0
        if not checksum_ok:
            warnings.append(Malformed(LAYER, 4, f"bad checksum 0x{checksum:04x}", "warning"))
    if proto != IPPROTO_NONE:
        warnings.append(Malformed(LAYER, 0, f"Payload Proto {proto}, expected 59", "warning"))
    trailing = bytes(view[total:])
    if fixed is None:
        msg: MobilityMessage = UnknownMH(lookup(MHType, mh_type), bytes(view[6:total]))
        wire = MHWire(hlen, checksum, checksum_ok, None, (), tuple(warnings), trailing)
        return replace(msg, proto=proto, mh_reserved=reserved, wire=wire), offset + total
    if total < 6 + fixed:
        raise DecodeError(LAYER, 1, f"Header Len {hlen} ({total} bytes) is shorter than the "
                          f"{name_of(MHType, mh_type)} fixed part ({6 + fixed} bytes)")
    body = view[6:6 + fixed]
    try:
        area = decode_options(view, 6 + fixed, total, LAYER)
    except DecodeError as exc:
        area = exc.partial
        partial = _message(mh_type, body, area.options, proto, reserved,
                           _wire(area, hlen, checksum, checksum_ok, warnings, trailing))
        raise DecodeError(LAYER, exc.malformed.offset, exc.malformed.reason,
                          partial=partial) from None
    msg = _message(mh_type, body, area.options, proto, reserved,
                   _wire(area, hlen, checksum, checksum_ok, warnings, trailing))
    return msg, offset + total


def _wire(area: OptionArea, hlen: int, checksum: int, checksum_ok: bool | None,
          warnings: list[Malformed], trailing: bytes) -> MHWire:
    return MHWire(hlen, checksum, checksum_ok, area.padding, area.offsets,
                  tuple(warnings) + area.warnings, trailing)


def _fixed_bytes(msg: MobilityMessage) -> bytes:
    if isinstance(msg, BindingUpdate):
        return _BU.pack(msg.seq, int(msg.flags), msg.lifetime)
    if isinstance(msg, BindingAck):
        return _BA.pack(msg.status, int(msg.flags), msg.seq, msg.lifetime)
    if isinstance(msg, BindingError):
        return bytes([msg.status, msg.reserved]) + msg.home_address.packed
    if isinstance(msg, Heartbeat):
        return _HB.pack(msg.flags, msg.seq)
    if isinstance(msg, BindingRevocation):
        return _BR.pack(msg.br_type, msg.code, msg.seq, msg.flags)
    raise TypeError(f"not a mobility message: {type(msg).__name__}")


def encode_mh(msg: MobilityMessage, src: IPv6Address | None = None,
              dst: IPv6Address | None = None) -> bytes:
    """Encode ``msg``; with IPv6 ``src``/``dst`` the checksum is computed, else it is 0.

    Options are aligned with Pad1/PadN and the MH padded to a multiple of 8, unless the
    message came from the decoder, whose recorded padding is reproduced.
    """
    if isinstance(msg, UnknownMH):
        body = msg.raw
        mh_type = msg.mh_type
    else:
        fixed = _fixed_bytes(msg)
        padding = msg.wire.padding if msg.wire is not None else None
        body = fixed + encode_options(msg.options, 6 + len(fixed), padding)
        mh_type = msg.MH_TYPE
    total = 6 + len(body)
    if total % 8 or total > 2048:
        raise ValueError(f"MH length {total} is not a multiple of 8 up to 2048")
    head = bytes([msg.proto, total // 8 - 1, mh_type, msg.mh_reserved])
    checksum = 0
    if src is not None and dst is not None:
        checksum = inet_checksum(pseudo_header(src, dst, IPProto.MH, total), head,
                                 b"\0\0", body)
    return head + struct.pack("!H", checksum) + body
