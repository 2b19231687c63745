"""The fast path: from raw frame bytes alone, can this frame carry signaling?

No object is built and nothing is decoded beyond the header fields needed to find the
transport: link header (Ethernet with any number of VLAN tags, SLL, SLL2, null, raw),
IPv4 protocol and fragment offset, the IPv6 extension-header chain, UDP ports.
"""

from __future__ import annotations

OTHER = 0      # cannot carry a Mobility Header or DHCP
MH = 1         # IPv6 next header 135, or UDP with port 5436 on either side
DHCP = 2       # UDP with port 67 or 68 on either side
FRAGMENT = 3   # a non-first IP fragment: counted, never decoded (no reassembly)

_ETH_VLAN = (0x8100, 0x88A8, 0x9100)
_IPV6_EXT = (0, 43, 44, 51, 60)
_MH_PORT = 5436


def _udp(data: bytes, off: int) -> int:
    if off + 4 > len(data):
        return OTHER
    sport = data[off] << 8 | data[off + 1]
    dport = data[off + 2] << 8 | data[off + 3]
    if sport == _MH_PORT or dport == _MH_PORT:
        return MH
    if sport in (67, 68) or dport in (67, 68):
        return DHCP
    return OTHER


def _ipv4(data: bytes, off: int) -> int:
    if off + 20 > len(data) or data[off] >> 4 != 4:
        return OTHER
    if (data[off + 6] & 0x1F) or data[off + 7]:
        return FRAGMENT
    if data[off + 9] != 17:
        return OTHER
    return _udp(data, off + (data[off] & 0x0F) * 4)


def _ipv6(data: bytes, off: int) -> int:
    if off + 40 > len(data) or data[off] >> 4 != 6:
        return OTHER
    nh = data[off + 6]
    off += 40
    while nh in _IPV6_EXT:
        if off + 8 > len(data):
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
    if nh == 17:
        return _udp(data, off)
    return OTHER


def _network(data: bytes, off: int, ethertype: int) -> int:
    if ethertype == 0x0800:
        return _ipv4(data, off)
    if ethertype == 0x86DD:
        return _ipv6(data, off)
    return OTHER


def classify(linktype: int, data: bytes) -> int:
    """OTHER, MH, DHCP or FRAGMENT for one frame of link type ``linktype``."""
    if linktype == 1:
        if len(data) < 14:
            return OTHER
        ethertype = data[12] << 8 | data[13]
        off = 14
        while ethertype in _ETH_VLAN:
            if off + 4 > len(data):
                return OTHER
            ethertype = data[off + 2] << 8 | data[off + 3]
            off += 4
        return _network(data, off, ethertype)
    if linktype == 113:
        if len(data) < 16:
            return OTHER
        return _network(data, 16, data[14] << 8 | data[15])
    if linktype == 276:
        if len(data) < 20:
            return OTHER
        return _network(data, 20, data[0] << 8 | data[1])
    if linktype in (101, 12, 14, 228, 229):
        if not data:
            return OTHER
        version = data[0] >> 4
        return _ipv4(data, 0) if version == 4 else _ipv6(data, 0) if version == 6 else OTHER
    if linktype in (0, 108):
        if len(data) < 5:
            return OTHER
        version = data[4] >> 4
        return _ipv4(data, 4) if version == 4 else _ipv6(data, 4) if version == 6 else OTHER
    return OTHER


def may_carry_signaling(linktype: int, data: bytes) -> bool:
    """True when the frame may hold a Mobility Header or a DHCP message."""
    return classify(linktype, data) in (MH, DHCP)
