"""DHCP on demand: the ~15 fields correlation reads, straight from the bytes.

``decode_dhcp`` builds one object per option (15-25 a message on a relayed network) and
costs most of a DHCP frame's time; ``timeline``, ``stats``, ``ladder`` and ``dissect
--summary`` only read the header and options 50, 53, 54, 61 and 82.  :func:`scan_dhcp`
walks the option TLVs once without building them and returns a :class:`DhcpLite`, or
None whenever the full decoder would say anything but "clean": a fault, a warning
(typed option of the wrong length, MTU below 68, missing End, reserved flags, option 82
that does not parse...) or option overload.  The caller then decodes in full, so the
two paths agree on every frame (tests/dissectors/test_dhcp_lite.py runs both on every
sample and on the fuzz corpus).
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address

from dissectors.addr import ipv4
from dissectors.dhcp import _HEADER, BROADCAST_FLAG, MAGIC_COOKIE, OPTIONS_OFFSET, _format_chaddr
from dissectors.dhcp_codes import DhcpMessageType, DhcpOptionCode
from dissectors.dhcp_options import (
    _MESSAGE_TYPES,
    ADDRESS_CODES,
    ADDRESS_LIST_CODES,
    TYPED_OPTION_CODES,
    UINT_MINIMUMS,
    UINT_WIDTHS,
    DhcpClientIdOption,
    decode_relay_agent_info,
)
from dissectors.errors import Malformed

_COOKIE = MAGIC_COOKIE.to_bytes(4, "big")
# option codes as plain ints, compared in the loop below (module globals, no enum lookups)
_PAD, _END, _OVERLOAD = (int(DhcpOptionCode.PAD), int(DhcpOptionCode.END),
                         int(DhcpOptionCode.OVERLOAD))
_MESSAGE_TYPE, _CLIENT_ID = int(DhcpOptionCode.MESSAGE_TYPE), int(DhcpOptionCode.CLIENT_ID)
_REQUESTED_IP, _SERVER_ID = int(DhcpOptionCode.REQUESTED_IP), int(DhcpOptionCode.SERVER_ID)
_RELAY_AGENT_INFO = int(DhcpOptionCode.RELAY_AGENT_INFO)


class _Unclean(Exception):
    """A warning of the full decoder: this message is not for the lite path."""


def _unclean(offset: int, reason: str) -> None:
    raise _Unclean


#: fixed-length typed options: code -> (length, minimum value or 0)
_RULE: dict[int, tuple[int, int]] = {}
for _c in ADDRESS_CODES:
    _RULE[_c] = (4, 0)
for _c, _w in UINT_WIDTHS.items():
    _RULE[_c] = (_w, UINT_MINIMUMS.get(_c, 0))


@dataclass(slots=True)
class DhcpLite:
    """What :class:`~dissectors.dhcp.DhcpMessage` gives correlation, for a clean message."""

    op: int
    htype: int
    hops: int
    xid: int
    chaddr: str
    ciaddr: IPv4Address
    yiaddr: IPv4Address
    giaddr: IPv4Address
    message_type: DhcpMessageType | int | None
    client_mac: str | None
    requested_ip: IPv4Address | None
    server_id: IPv4Address | None
    remote_id: IPv4Address | None
    warnings: tuple[Malformed, ...] = ()


def scan_dhcp(data: bytes) -> DhcpLite | None:
    """The fields of the clean DHCP message ``data`` (a UDP payload), or None."""
    n = len(data)
    if n < OPTIONS_OFFSET or data[236:240] != _COOKIE:
        return None
    (op, htype, hlen, hops, xid, _secs, flags, _ci, _yi, _si, _gi, chaddr_field,
     _sname, _file) = _HEADER.unpack_from(data, 0)
    if flags & ~BROADCAST_FLAG or hlen > 16:
        return None
    mtype: DhcpMessageType | int | None = None
    cid: str | None = None
    req: IPv4Address | None = None
    sid: IPv4Address | None = None
    rai: IPv4Address | None = None
    rai_seen = False
    rule = _RULE
    typed = TYPED_OPTION_CODES
    i = OPTIONS_OFFSET
    while True:
        if i >= n:
            return None               # End missing: a warning
        code = data[i]
        if code == _PAD:
            i += 1
            continue
        if code == _END:
            break
        if i + 1 >= n:
            return None
        length = data[i + 1]
        j = i + 2 + length
        if j > n:
            return None
        if code in typed:
            if length == 0:
                return None
            r = rule.get(code)
            if r is not None:
                if length != r[0]:
                    return None
                if r[1] and int.from_bytes(data[i + 2:j], "big") < r[1]:
                    return None
                if code == _REQUESTED_IP:
                    if req is None:
                        req = ipv4(data[i + 2:j])
                elif code == _SERVER_ID and sid is None:
                    sid = ipv4(data[i + 2:j])
            elif code == _MESSAGE_TYPE:
                if length != 1:
                    return None
                if mtype is None:
                    mtype = _MESSAGE_TYPES.get(data[i + 2], data[i + 2])
            elif code in ADDRESS_LIST_CODES:
                if length % 4:
                    return None
            elif code == _CLIENT_ID:
                if length < 2:
                    return None
                if cid is None:
                    cid = DhcpClientIdOption(data[i + 2], data[i + 3:j]).mac or ""
            elif code == _RELAY_AGENT_INFO:  # every 82 must parse clean; the first one counts
                try:
                    opt = decode_relay_agent_info(data[i + 2:j], i, _unclean)
                except _Unclean:
                    return None
                if opt is None:
                    return None
                if not rai_seen:
                    rai_seen, rai = True, opt.remote_id_ipv4
            elif code == _OVERLOAD:
                return None           # option overload: the full decoder's business
        i = j
    return DhcpLite(op, htype, hops, xid,
                    _format_chaddr(htype, hlen, chaddr_field).lower() if htype == 1 else "",
                    ipv4(data[12:16]), ipv4(data[16:20]), ipv4(data[24:28]), mtype,
                    cid or None, req, sid, rai)
