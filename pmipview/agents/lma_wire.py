"""The LMA's fast codec for its common messages: PBUs read and PBAs built from bytes.

Not a second codec: both functions stand in for :mod:`dissectors.mh` on the shapes an LMA
under load sees most, and give exactly what it gives, or give up.

- :func:`read_pbu`: a PBU over IPv4/UDP whose options are only MN-ID, Handoff Indicator,
  Access Technology Type, MN Link-layer Identifier and IPv4 HoA Request (the options
  themselves decoded by their own ``from_data``, the HoA Request's address as a plain
  ``IPv4Address``), each at most once, with Pad1/PadN
  between them, nothing after the declared length, Payload Proto 59.  The result is the
  :class:`~pmipview.agents.base.Packet` that :func:`~pmipview.wire.codec.decode_mh_datagram`
  gives for the same bytes, equal field for field, without the decoder's record of the
  wire layout (``wire``: padding, offsets, warnings), which only observers of single
  messages read; anything else is None and takes the full decoder.
- :func:`encode_pba`: the bytes of ``encode_mh(ba)`` for a Binding Acknowledgement built by
  the core.  Where the options go (their alignment padding) depends only on their types
  and lengths, so the first PBA of each shape is encoded by ``encode_mh`` and kept as a
  template with the offset of each option's data; the next PBA of that shape is the
  template with its header fields and option data written in.  Decoded messages (which
  carry their own padding), unknown options and other MH types go to ``encode_mh``.

``tests/agents/test_lma_wire.py`` checks both against the dissectors over
hypothesis-generated messages.
"""

from __future__ import annotations

import struct
from ipaddress import IPv4Address
from typing import Any

from dissectors.mh import IPPROTO_NONE, BindingAck, BindingUpdate, encode_mh
from dissectors.mh_codes import BUFlag, MHType, OptionType
from dissectors.mh_options import (
    AccessTechnologyOpt,
    HandoffIndicatorOpt,
    IPv4HoARequest,
    MNIdentifier,
    MNLinkLayerId,
    UnknownOption,
    _BadLength,
)
from pmipview.agents.base import BACKHAUL, Address, Packet

_BU = int(MHType.BU)
_PAD1, _PADN = int(OptionType.PAD1), int(OptionType.PADN)
_HEAD = struct.Struct("!HHH")      # BU: sequence, flags, lifetime
_BA_FIXED = struct.Struct("!BBHH")  # BA: status, flags, sequence, lifetime
# the options read, by type (anything else: the full decoder)
_READ: dict[int, Any] = {int(c.TYPE): c for c in (
    MNIdentifier, HandoffIndicatorOpt, AccessTechnologyOpt, MNLinkLayerId, IPv4HoARequest)}
_HOA_REQ = int(IPv4HoARequest.TYPE)
_ANY = IPv4Address(0)
_FLAGS: dict[int, BUFlag] = {}     # flag bits -> BUFlag (an enum call costs a µs)
_TEMPLATES_MAX = 1024              # PBA shapes kept (NAI lengths x option sets)
_templates: dict[tuple[Any, ...], tuple[bytes, tuple[int, ...]]] = {}


def _v4(payload: bytes, at: int) -> IPv4Address:
    """The IPv4 HoA Request's address: 0.0.0.0 shared, any other one its own object.  Not
    the decoder's shared cache: each MN names its own HoA, 100,000 of them would churn
    its 65,536 entries (and hold ~10 MB); an equal plain ``IPv4Address`` costs less."""
    n = int.from_bytes(payload[at:at + 4], "big")
    return _ANY if n == 0 else IPv4Address(n)


def read_pbu(payload: bytes, src: Address, dst: Address, sport: int, dport: int,
             iface: str = BACKHAUL) -> Packet | None:
    """The PBU in ``payload`` as ``decode_mh_datagram`` decodes it, or None (module doc)."""
    n = len(payload)
    if n < 12 or payload[2] != _BU or payload[0] != IPPROTO_NONE or payload[3] != 0 \
            or (payload[1] + 1) * 8 != n:
        return None
    seq, bits, lifetime = _HEAD.unpack_from(payload, 6)
    options = []
    seen = set()
    at = 12
    read = _READ
    try:
        while at < n:
            t = payload[at]
            if t == _PAD1:
                at += 1
                continue
            if at + 2 > n:
                return None
            nxt = at + 2 + payload[at + 1]
            if nxt > n:
                return None
            if t != _PADN:  # PadN is skipped
                cls = read.get(t)
                if cls is None or t in seen:
                    return None
                seen.add(t)
                if t == _HOA_REQ and nxt - at == 8:  # its own address object (see _v4)
                    word = payload[at + 2] << 8 | payload[at + 3]
                    options.append(IPv4HoARequest(_v4(payload, at + 4), word >> 10,
                                                  word & 0x3FF))
                else:
                    options.append(cls.from_data(payload[at + 2:nxt]))
            at = nxt
    except _BadLength:
        return None  # the decoder keeps it as UnknownOption with a warning
    flags = _FLAGS.get(bits)
    if flags is None:
        flags = _FLAGS[bits] = BUFlag(bits)
    return Packet(src, dst, BindingUpdate(seq, flags, lifetime, tuple(options)), iface,
                  sport, dport)


def encode_pba(ba: BindingAck) -> bytes:
    """``encode_mh(ba)`` (checksum 0, as ``encode_payload`` sends it), from a template."""
    if ba.wire is not None or ba.proto != IPPROTO_NONE or ba.mh_reserved:
        return encode_mh(ba)
    options = ba.options
    datas = []
    shape: list[Any] = []
    for o in options:
        t = type(o)
        if t is UnknownOption:
            return encode_mh(ba)
        d = o.data()
        datas.append(d)
        shape.append(t)
        shape.append(len(d))
    key = tuple(shape)
    raw = fill_pba(key, ba.status, ba.flags, ba.seq, ba.lifetime, datas)
    if raw is None:
        raw = encode_mh(ba)
        _learn(key, raw, len(options))
    return raw


def fill_pba(key: tuple[Any, ...], status: int, flags: int, seq: int, lifetime: int,
             datas: list[bytes]) -> bytes | None:
    """The PBA of shape ``key`` (option type and data length, in order) with these header
    fields and option data, from its template; None while no PBA of that shape was
    encoded (:func:`encode_pba` learns it)."""
    found = _templates.get(key)
    if found is None:
        return None
    template, offsets = found
    out = bytearray(template)
    _BA_FIXED.pack_into(out, 6, status, flags, seq, lifetime)
    for at, d in zip(offsets, datas, strict=True):
        out[at:at + len(d)] = d
    return bytes(out)


def _learn(key: tuple[Any, ...], raw: bytes, count: int) -> None:
    """Keep ``raw`` as the template of its shape: the data offset of each option."""
    offsets: list[int] = []
    at, end = 12, len(raw)
    while at < end and len(offsets) < count:
        t = raw[at]
        if t == _PAD1:
            at += 1
            continue
        if t != _PADN:
            offsets.append(at + 2)
        at += 2 + raw[at + 1]
    if len(offsets) == count:
        if len(_templates) >= _TEMPLATES_MAX:
            _templates.clear()
        _templates[key] = (raw, tuple(offsets))

