"""The fast path: from raw frame bytes alone, can this frame carry signaling?

No object is built and nothing is decoded beyond the header fields needed to find the
transport: link header (Ethernet with any number of VLAN tags, SLL, SLL2, null, raw),
IPv4 protocol and fragment offset, the IPv6 extension-header chain, UDP ports.

``classify`` is the compiled twin (``_cprefilter.pyx``, the same walk in C) when it is
built, else ``classify_pure``; dissectors/speedups.py decides, the tests compare both.
"""

from __future__ import annotations

from .speedups import compiled

OTHER = 0      # cannot carry a Mobility Header or DHCP
MH = 1         # IPv6 next header 135, or UDP with port 5436 on either side
DHCP = 2       # UDP with port 67 or 68 on either side
FRAGMENT = 3   # a non-first IP fragment: counted, never decoded (no reassembly)

_ETH_VLAN = (0x8100, 0x88A8, 0x9100)
_IPV6_EXT = (0, 43, 44, 51, 60)
_SIGNALING_PORTS = {5436: MH, 67: DHCP, 68: DHCP}
_RAW = (101, 12, 14, 228, 229)


def classify_pure(linktype: int, data: bytes) -> int:
    """OTHER, MH, DHCP or FRAGMENT for one frame of link type ``linktype``.

    One function on purpose: it runs on every frame of a capture, and each Python call
    saved here is measurable (bench/decode_rate.py).
    """
    n = len(data)
    # -- link layer: find the network header and its EtherType -------------------------
    if linktype == 1:
        if n < 14:
            return OTHER
        et = data[12] << 8 | data[13]
        off = 14
        while et in _ETH_VLAN:
            if off + 4 > n:
                return OTHER
            et = data[off + 2] << 8 | data[off + 3]
            off += 4
    elif linktype == 113:
        if n < 16:
            return OTHER
        et, off = data[14] << 8 | data[15], 16
    elif linktype == 276:
        if n < 20:
            return OTHER
        et, off = data[0] << 8 | data[1], 20
    elif linktype in _RAW or linktype in (0, 108):
        off = 0 if linktype in _RAW else 4
        if n <= off:
            return OTHER
        version = data[off] >> 4
        et = 0x0800 if version == 4 else 0x86DD if version == 6 else 0
    else:
        return OTHER
    # -- network layer: IPv4 (fragments), IPv6 (extension-header chain) ----------------
    if et == 0x0800:
        if off + 20 > n or data[off] >> 4 != 4:
            return OTHER
        if (data[off + 6] & 0x1F) or data[off + 7]:
            return FRAGMENT
        if data[off + 9] != 17:
            return OTHER
        off += (data[off] & 0x0F) * 4
    elif et == 0x86DD:
        if off + 40 > n or data[off] >> 4 != 6:
            return OTHER
        nh = data[off + 6]
        off += 40
        while nh in _IPV6_EXT:
            if off + 8 > n:
                return OTHER
            if nh == 44:
                if (data[off + 2] << 8 | data[off + 3]) & 0xFFF8:
                    return FRAGMENT
                size = 8
            elif nh == 51:
                size = (data[off + 1] + 2) * 4
            else:
                size = (data[off + 1] + 1) * 8
            nh = data[off]
            off += size
        if nh == 135:
            return MH
        if nh != 17:
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
