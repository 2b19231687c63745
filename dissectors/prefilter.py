"""The fast path: from raw frame bytes alone, can this frame carry signaling?

No object is built and nothing is decoded beyond the header fields needed to find the
transport: link header (Ethernet with any number of VLAN tags, SLL, SLL2, null, raw),
IPv4 protocol and fragment offset, the IPv6 extension-header chain, UDP ports.

``classify`` is the compiled twin (``_cprefilter.pyx``, the same walk in C) when it is
built, else ``classify_pure``; dissectors/speedups.py decides, the tests compare both.
"""

from __future__ import annotations

from .dhcp_codes import DHCP_CLIENT_PORT, DHCP_SERVER_PORT
from .ip import IPV6_EXT_HEADERS, IPProto
from .link import VLAN_TPIDS, EtherType, LinkType
from .mh_codes import PMIP6_CNTL_PORT
from .speedups import compiled

OTHER = 0      # cannot carry a Mobility Header or DHCP
MH = 1         # IPv6 next header 135, or UDP with port 5436 on either side
DHCP = 2       # UDP with port 67 or 68 on either side
FRAGMENT = 3   # a non-first IP fragment: counted, never decoded (no reassembly)

# The code points as plain ints: classify runs on every frame, and comparing an int with
# a module global is cheaper than with an enum member looked up through its class.
_ETH_VLAN = tuple(int(t) for t in VLAN_TPIDS)
_IPV6_EXT = tuple(int(h) for h in IPV6_EXT_HEADERS)
_SIGNALING_PORTS = {PMIP6_CNTL_PORT: MH, DHCP_SERVER_PORT: DHCP, DHCP_CLIENT_PORT: DHCP}
_ETHERNET, _SLL, _SLL2 = int(LinkType.ETHERNET), int(LinkType.LINUX_SLL), int(LinkType.LINUX_SLL2)
_RAW = tuple(int(t) for t in (LinkType.RAW, LinkType.RAW_ALT1, LinkType.RAW_ALT2,
                              LinkType.IPV4, LinkType.IPV6))
_NULL = (int(LinkType.NULL), int(LinkType.LOOP))
_IPV4, _IPV6 = int(EtherType.IPV4), int(EtherType.IPV6)
_UDP, _MH = int(IPProto.UDP), int(IPProto.MH)
_FRAGMENT, _AH = int(IPProto.FRAGMENT), int(IPProto.AH)


def classify_pure(linktype: int, data: bytes) -> int:
    """OTHER, MH, DHCP or FRAGMENT for one frame of link type ``linktype``.

    One function on purpose: it runs on every frame of a capture, and each Python call
    saved here is measurable (bench/decode_rate.py).
    """
    n = len(data)
    # -- link layer: find the network header and its EtherType -------------------------
    if linktype == _ETHERNET:
        if n < 14:
            return OTHER
        et = data[12] << 8 | data[13]
        off = 14
        while et in _ETH_VLAN:
            if off + 4 > n:
                return OTHER
            et = data[off + 2] << 8 | data[off + 3]
            off += 4
    elif linktype == _SLL:
        if n < 16:
            return OTHER
        et, off = data[14] << 8 | data[15], 16
    elif linktype == _SLL2:
        if n < 20:
            return OTHER
        et, off = data[0] << 8 | data[1], 20
    elif linktype in _RAW or linktype in _NULL:
        off = 0 if linktype in _RAW else 4
        if n <= off:
            return OTHER
        version = data[off] >> 4
        et = _IPV4 if version == 4 else _IPV6 if version == 6 else 0
    else:
        return OTHER
    # -- network layer: IPv4 (fragments), IPv6 (extension-header chain) ----------------
    if et == _IPV4:
        if off + 20 > n or data[off] >> 4 != 4:
            return OTHER
        if (data[off + 6] & 0x1F) or data[off + 7]:
            return FRAGMENT
        if data[off + 9] != _UDP:
            return OTHER
        off += (data[off] & 0x0F) * 4
    elif et == _IPV6:
        if off + 40 > n or data[off] >> 4 != 6:
            return OTHER
        nh = data[off + 6]
        off += 40
        while nh in _IPV6_EXT:
            if off + 8 > n:
                return OTHER
            if nh == _FRAGMENT:
                if (data[off + 2] << 8 | data[off + 3]) & 0xFFF8:
                    return FRAGMENT
                size = 8
            elif nh == _AH:
                size = (data[off + 1] + 2) * 4
            else:
                size = (data[off + 1] + 1) * 8
            nh = data[off]
            off += size
        if nh == _MH:
            return MH
        if nh != _UDP:
            return OTHER
    else:
        return OTHER
    # -- UDP ports: 5436 on either side is MH (RFC 5844), 67/68 DHCP --------------------
    if off + 4 > n:
        return OTHER
    sport = _SIGNALING_PORTS.get(data[off] << 8 | data[off + 1], OTHER)
    dport = _SIGNALING_PORTS.get(data[off + 2] << 8 | data[off + 3], OTHER)
    if sport == MH or dport == MH:
        return MH
    return sport or dport


_compiled = compiled("dissectors._cprefilter")
classify = _compiled.classify if _compiled is not None else classify_pure


def may_carry_signaling(linktype: int, data: bytes) -> bool:
    """True when the frame may hold a Mobility Header or a DHCP message."""
    return classify(linktype, data) in (MH, DHCP)
