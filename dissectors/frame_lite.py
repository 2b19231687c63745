"""Signaling on demand: the fields a signal needs, straight from a frame's bytes.

``decode_frame`` builds an object per layer and per mobility option; ``timeline``,
``stats`` and ``ladder`` read about 20 fields of a message.  :func:`frame_fields` walks
one frame (Ethernet with its 802.1Q / QinQ tags, IPv4 or IPv6 with its extension
headers, UDP, the Mobility Header of a PBU, PBA, BRI, BRA or Heartbeat with its options,
or a DHCP message by :func:`~dissectors.dhcp_lite.scan_dhcp`) and returns those fields as
a tuple, or None whenever ``decode_frame(linktype, data, lite=True)`` would say
anything but "a clean signaling frame": a fault, a warning (bad or unverifiable
checksum, a length past the frame, Payload Proto other than 59, an option whose length
does not fit its type...), a fragment, another link type or message type.  The caller
then decodes in full, so both paths give the same signal and the same counts on every
frame (tests/dissectors/test_frame_lite.py: every sample, the shapes, the fuzz corpus).

``dissectors/_cframe_lite.pyx`` is the compiled twin (same function, same results).

The tuples (positions in :data:`MH_FIELDS` and :data:`DHCP_FIELDS`):

* Mobility Header: ``(kind, src, dst, mac_src, udp, seq, proxy, lifetime_s, status,
  trigger, mn_id, lli, hi, att, hoa_request, hoa_reply, hoa_plen, hoa_status, hnps,
  default_router, dhcp_mode, timestamp, restart_counter, status_key)``; ``kind`` is the
  :class:`~dissectors.mh_codes.MessageKind`, ``status_key`` what
  ``pmipview.packets.status_key`` says of the frame;
* DHCP: ``(None, src, dst, mac_src, mac_dst, dport, lite)`` with ``lite`` the
  :class:`~dissectors.dhcp_lite.DhcpLite`.
"""

from __future__ import annotations

import struct
from typing import Any

from .addr import ipv4, ipv6
from .checksum import inet_checksum
from .count_keys import option_length_ok
from .dhcp_codes import DHCP_PORTS
from .dhcp_lite import scan_dhcp
from .ip import IPV6_EXT_HEADERS, IPProto
from .link import VLAN_TPIDS, EtherType, LinkType
from .mh import _FIXED, IPPROTO_NONE
from .mh_codes import PMIP6_CNTL_PORT as _CNTL
from .mh_codes import BAFlag, BRFlag, BRType, BUFlag, HBFlag, MessageKind, MHType
from .mh_options import (
    AccessTechnologyOpt,
    HandoffIndicatorOpt,
    HomeNetworkPrefix,
    IPv4DefaultRouter,
    IPv4DHCPSupportMode,
    IPv4HoAReply,
    IPv4HoARequest,
    MNIdentifier,
    MNLinkLayerId,
    RestartCounter,
    Timestamp,
)
from .text import display_text

MH_FIELDS = ("kind", "src", "dst", "mac_src", "udp", "seq", "proxy", "lifetime", "status",
             "trigger", "mn_id", "lli", "hi", "att", "hoa_request", "hoa_reply", "hoa_plen",
             "hoa_status", "hnps", "default_router", "dhcp_mode", "timestamp",
             "restart_counter", "status_key")
DHCP_FIELDS = ("kind", "src", "dst", "mac_src", "mac_dst", "dport", "lite")

# plain ints of the code points (module globals: no enum look-ups in the hot path)
_ETHERNET = int(LinkType.ETHERNET)
_IPV4, _IPV6 = int(EtherType.IPV4), int(EtherType.IPV6)
_TPIDS = frozenset(int(t) for t in VLAN_TPIDS)
_EXT = frozenset(int(t) for t in IPV6_EXT_HEADERS)
_FRAGMENT, _AH = int(IPProto.FRAGMENT), int(IPProto.AH)
_UDP, _MH = int(IPProto.UDP), int(IPProto.MH)
_DHCP_PORTS = frozenset(DHCP_PORTS)
_BU, _BA, _HB, _BR = int(MHType.BU), int(MHType.BA), int(MHType.HEARTBEAT), int(MHType.BR)
_BU_P, _BA_P, _HB_R, _BR_P = int(BUFlag.P), int(BAFlag.P), int(HBFlag.R), int(BRFlag.P)
_BRI, _BRA = int(BRType.BRI), int(BRType.BRA)
_O_MNID, _O_HNP, _O_HI = MNIdentifier.TYPE, HomeNetworkPrefix.TYPE, HandoffIndicatorOpt.TYPE
_O_ATT, _O_LLI, _O_TS = AccessTechnologyOpt.TYPE, MNLinkLayerId.TYPE, Timestamp.TYPE
_O_RC, _O_REQ, _O_REP = RestartCounter.TYPE, IPv4HoARequest.TYPE, IPv4HoAReply.TYPE
_O_GW, _O_DSM = IPv4DefaultRouter.TYPE, IPv4DHCPSupportMode.TYPE
_K = MessageKind
_MH_PROTO = struct.pack("!3xB", _MH)  # the pseudo-header's last word (decode_mh)

_OK: dict[int, bool] = {}  # (option type << 8 | length) -> option_length_ok
_TEXT: dict[bytes, str] = {}   # MN-ID bytes -> display_text (a capture repeats them)
_HNP: dict[bytes, str] = {}    # prefix length + prefix -> "prefix/len"
_LIMIT = 1 << 16


def _length_ok(otype: int, length: int) -> bool:
    key = otype << 8 | length
    ok = _OK.get(key)
    if ok is None:
        ok = _OK[key] = option_length_ok(otype, length)
    return ok


def _mn_text(raw: bytes) -> str:
    text = _TEXT.get(raw)
    if text is None:
        if len(_TEXT) >= _LIMIT:
            _TEXT.clear()
        text = _TEXT[raw] = display_text(raw)
    return text


def _hnp_text(raw: bytes) -> str:
    text = _HNP.get(raw)
    if text is None:
        if len(_HNP) >= _LIMIT:
            _HNP.clear()
        text = _HNP[raw] = f"{ipv6(raw[1:17])}/{raw[0]}"
    return text


def frame_fields(linktype: int, data: bytes) -> tuple[Any, ...] | None:
    """The signal fields of the clean signaling frame ``data`` (see the module), or None."""
    if linktype != _ETHERNET:
        return None
    if type(data) is not bytes:
        data = bytes(data)
    n = len(data)
    if n < 14:
        return None
    et = data[12] << 8 | data[13]
    off = 14
    while et in _TPIDS:
        if off + 4 > n:
            return None
        et = data[off + 2] << 8 | data[off + 3]
        off += 4
    if et == _IPV4:
        if off + 20 > n or data[off] >> 4 != 4:
            return None
        ihl = (data[off] & 0x0F) * 4
        total = data[off + 2] << 8 | data[off + 3]
        if ihl < 20 or off + ihl > n or total < ihl:
            return None
        end = off + total
        if end > n:                                  # snapped: a warning
            return None
        if (data[off + 6] << 8 | data[off + 7]) & 0x3FFF or data[off + 9] != _UDP:
            return None                              # a fragment, or not UDP
        if inet_checksum(data[off:off + ihl]) != 0:  # bad header checksum: a warning
            return None
        src: Any = ipv4(data[off + 12:off + 16])
        dst: Any = ipv4(data[off + 16:off + 20])
        v6 = False
        l4 = off + ihl
    elif et == _IPV6:
        if off + 40 > n or data[off] >> 4 != 6:
            return None
        end = off + 40 + (data[off + 4] << 8 | data[off + 5])
        if end > n:
            return None
        nh = data[off + 6]
        x = off + 40
        while nh in _EXT:
            if nh == _FRAGMENT or x + 2 > end:       # fragments are not decoded
                return None
            size = (data[x + 1] + 2) * 4 if nh == _AH else (data[x + 1] + 1) * 8
            if x + size > end:
                return None
            nh = data[x]
            x += size
        src = ipv6(data[off + 8:off + 24])
        dst = ipv6(data[off + 24:off + 40])
        if nh == _MH:
            return _mh(data, x, end, src, dst, data[off + 8:off + 40], False)
        if nh != _UDP:
            return None
        v6 = True
        l4 = x
    else:
        return None
    # -- UDP (udp.decode_udp) ------------------------------------------------------------
    if l4 + 8 > end:
        return None
    sport = data[l4] << 8 | data[l4 + 1]
    dport = data[l4 + 2] << 8 | data[l4 + 3]
    length = data[l4 + 4] << 8 | data[l4 + 5]
    if length < 8:
        return None
    pend = l4 + length
    if pend > end:
        return None
    if data[l4 + 6] == 0 and data[l4 + 7] == 0:
        if v6:                                       # zero checksum over IPv6: a warning
            return None
    else:
        pseudo = (src.packed + dst.packed + (struct.pack("!I3xB", length, _UDP) if v6
                                             else struct.pack("!BBH", 0, _UDP, length)))
        if inet_checksum(pseudo, data[l4:pend]) != 0:
            return None                              # bad, or offloaded: the full path says
    if sport == _CNTL or dport == _CNTL:
        return _mh(data, l4 + 8, pend, src, dst, None, True)
    if sport in _DHCP_PORTS or dport in _DHCP_PORTS:
        lite = scan_dhcp(data[l4 + 8:pend])
        if lite is None:
            return None
        return (None, src, dst, data[6:12].hex(":"), data[0:6].hex(":"), dport, lite)
    return None


def _mh(data: bytes, o: int, end: int, src: Any, dst: Any, pseudo: bytes | None,
        udp: bool) -> tuple[Any, ...] | None:
    """mh.decode_mh over data[o:end]: a clean PBU, PBA, BRI, BRA or Heartbeat's fields."""
    if o + 6 > end:
        return None
    total = (data[o + 1] + 1) * 8
    if total > end - o:
        return None
    if pseudo is not None and inet_checksum(pseudo + total.to_bytes(4, "big") + _MH_PROTO,
                                            data[o:o + total]) != 0:
        return None
    if data[o] != IPPROTO_NONE:                      # Payload Proto: a warning
        return None
    t = data[o + 2]
    if t != _BU and t != _BA and t != _BR and t != _HB:
        return None                                  # no signal (BE, other types): in full
    b = o + 6                                        # the fixed part
    stop = o + total
    i = b + _FIXED[t]
    if i > stop:
        return None
    mn_id = lli = hi = att = req = rep = gw = dsm = ts = rc = None
    hnps: list[str] = []
    while i < stop:                                  # mh_options.decode_options
        otype = data[i]
        if otype == 0:
            i += 1
            continue
        if i + 2 > stop:
            return None
        length = data[i + 1]
        j = i + 2 + length
        if j > stop:
            return None
        if otype != 1:
            if not _length_ok(otype, length):
                return None
            if otype == _O_HNP:
                hnps.append(_hnp_text(data[i + 3:j]))
            elif otype == _O_MNID:
                if mn_id is None:
                    mn_id = _mn_text(data[i + 3:j])
            elif otype == _O_LLI:
                if lli is None:
                    lli = data[i + 4:j].hex(":")
            elif otype == _O_HI:
                if hi is None:
                    hi = data[i + 3]
            elif otype == _O_ATT:
                if att is None:
                    att = data[i + 3]
            elif otype == _O_REQ:
                if req is None:
                    req = i
            elif otype == _O_REP:
                if rep is None:
                    rep = i
            elif otype == _O_GW:
                if gw is None:
                    gw = ipv4(data[i + 4:j])
            elif otype == _O_DSM:
                if dsm is None:
                    dsm = "server" if data[i + 3] & 1 else "relay"
            elif otype == _O_TS:
                if ts is None:
                    ts = int.from_bytes(data[i + 2:j], "big") / 65536
            elif otype == _O_RC and rc is None:
                rc = int.from_bytes(data[i + 2:j], "big")
        i = j
    seq_or_flags = data[b] << 8 | data[b + 1]
    word2 = data[b + 2] << 8 | data[b + 3]
    word3 = data[b + 4] << 8 | data[b + 5]
    hoa_request = ipv4(data[req + 4:req + 8]) if req is not None else None
    mac_src = data[6:12].hex(":")
    if t == _HB:
        kind = _K.HB_RESP if seq_or_flags & _HB_R else _K.HB_REQ
        return (kind, src, dst, mac_src, udp, word2 << 16 | word3, True, None, None, None,
                None, None, None, None, None, None, None, None, (), None, None, None, rc,
                None)
    if t == _BR:
        br_type, code = data[b], data[b + 1]
        proxy = bool(word3 & _BR_P)
        if br_type == _BRI:
            return (_K.BRI, src, dst, mac_src, udp, word2, proxy, None, None, code, mn_id,
                    None, None, None, hoa_request, None, None, None, tuple(hnps), None, None,
                    None, None, None)
        kind = _K.BRA if br_type == _BRA else _K.BR
        return (kind, src, dst, mac_src, udp, word2, proxy, None, code, None, mn_id, None,
                None, None, hoa_request, None, None, None, tuple(hnps), None, None, None,
                None, (kind, code))
    if t == _BU:
        seq, proxy, lifetime, status = seq_or_flags, bool(word2 & _BU_P), word3, None
        kind = _K.PBU if proxy else _K.BU
        key = None
    else:
        status, proxy, seq, lifetime = data[b], bool(data[b + 1] & _BA_P), word2, word3
        kind = _K.PBA if proxy else _K.BA
        key = (kind, status)
    if rep is not None:
        hoa_reply: Any = ipv4(data[rep + 4:rep + 8])
        hoa_plen: int | None = data[rep + 3] >> 2
        hoa_status: int | None = data[rep + 2]
    else:
        hoa_reply = hoa_status = None
        hoa_plen = (data[req + 2] << 8 | data[req + 3]) >> 10 if req is not None else None
    return (kind, src, dst, mac_src, udp, seq, proxy, lifetime * 4, status, None, mn_id, lli,
            hi, att, hoa_request, hoa_reply, hoa_plen, hoa_status, tuple(hnps), gw, dsm, ts,
            None, key)
