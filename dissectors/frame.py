"""A whole frame: link → IP → (UDP) → Mobility Header or DHCP.  Never raises.

``decode_frame`` keeps every layer it could decode; where it had to stop it records a
:class:`~dissectors.errors.Malformed` whose offset counts from the first byte of the
frame.  Problems that did not stop decoding (bad checksums, lengths past the snap length,
options whose length does not fit their type) are collected as warnings.

``build_frame`` is the encoder: it stacks the layers and computes every length and
checksum, so the reference agents, the samples and the tests make frames with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address

from .dhcp import DhcpMessage, decode_dhcp, encode_dhcp
from .dhcp_codes import DHCP_CLIENT_PORT, DHCP_PORTS, DHCP_SERVER_PORT
from .dhcp_lite import DhcpLite, scan_dhcp
from .errors import DecodeError, Malformed
from .ip import IPLayer, IPProto, IPv4, IPv6, decode_ipv4, decode_ipv6, encode_ipv4, encode_ipv6
from .link import EtherType, LinkLayer, decode_link, encode_link, link_for
from .mh import MobilityMessage, decode_mh, encode_mh
from .mh_codes import PMIP6_CNTL_PORT
from .udp import UDP, decode_udp, encode_udp


@dataclass(slots=True, unsafe_hash=True)
class Frame:
    """Every layer decoded from one frame, and what went wrong if anything did."""

    linktype: int
    length: int
    link: LinkLayer | None = None
    ip: IPLayer | None = None
    udp: UDP | None = None
    mh: MobilityMessage | None = None
    dhcp: DhcpMessage | DhcpLite | None = None  # DhcpLite only from decode_frame(lite=True)
    malformed: Malformed | None = None
    warnings: tuple[Malformed, ...] = ()
    fragment: bool = False
    offsets: tuple[tuple[str, int], ...] = field(default=(), compare=False)

    @property
    def signaling(self) -> bool:
        return self.mh is not None or self.dhcp is not None

    @property
    def protocol(self) -> str:
        """Short protocol column: MIPv6, MIPv6/UDP, DHCP, or the deepest layer found."""
        if self.mh is not None:
            return "MIPv6/UDP" if self.udp is not None else "MIPv6"
        if self.dhcp is not None:
            return "DHCP"
        if self.udp is not None:
            return "UDP"
        if self.ip is not None:
            return f"IPv{self.ip.version}"
        return "?"

    @property
    def src(self) -> IPv4Address | IPv6Address | None:
        return self.ip.src if self.ip is not None else None

    @property
    def dst(self) -> IPv4Address | IPv6Address | None:
        return self.ip.dst if self.ip is not None else None

    def offset_of(self, layer: str) -> int | None:
        for name, off in self.offsets:
            if name == layer:
                return off
        return None

    def info(self) -> str:
        """The one-line summary of the packet list."""
        if self.mh is not None:
            text = self.mh.info()
        elif isinstance(self.dhcp, DhcpMessage):
            text = self.dhcp.info()
        elif self.dhcp is not None:  # decode_frame(lite=True): the fields correlation reads
            text = f"DHCP xid=0x{self.dhcp.xid:08x} chaddr={self.dhcp.chaddr}"
        elif self.fragment:
            text = "IP fragment (not reassembled)"
        elif self.udp is not None:
            text = f"UDP {self.udp.sport} → {self.udp.dport}"
        elif self.ip is not None:
            text = f"IP protocol {self.ip.proto}"
        else:
            text = ""
        if self.malformed is not None:
            text = f"{text} [Malformed: {self.malformed}]".strip()
        return text


def decode_frame(linktype: int, data: bytes | memoryview, lite: bool = False) -> Frame:
    """Decode one frame as far as it goes; never raises.

    With ``lite``, a clean DHCP message becomes a :class:`DhcpLite` (the fields
    correlation reads, no option objects); anything else is decoded in full."""
    buf = data if isinstance(data, bytes) else bytes(data)
    link: LinkLayer | None = None
    ip: IPLayer | None = None
    udp: UDP | None = None
    mh: MobilityMessage | None = None
    dhcp: DhcpMessage | DhcpLite | None = None
    offsets: list[tuple[str, int]] = []
    warnings: list[Malformed] = []
    fragment = False
    malformed: Malformed | None = None
    where = 0  # start of the layer being decoded, to make its offsets frame-relative
    try:
        link, off = decode_link(linktype, buf)
        offsets.append(("link", 0))
        proto = link.next_proto
        if proto == EtherType.IPV4:
            offsets.append(("ipv4", off))
            ip, off, end, warn = decode_ipv4(buf, off)
        elif proto == EtherType.IPV6:
            offsets.append(("ipv6", off))
            ip, off, end, warn = decode_ipv6(buf, off)
        else:
            end = -1
        if ip is not None:
            if warn:
                warnings += warn
            fragment = ip.fragment
            if fragment:
                pass
            elif ip.proto == IPProto.MH and ip.version == 6:
                offsets.append(("mh", off))
                where = off
                mh, _ = decode_mh(buf, off, end, ip.src.packed + ip.dst.packed)
            elif ip.proto == IPProto.UDP:
                offsets.append(("udp", off))
                udp, off, end, warn = decode_udp(buf, off, end, ip.src, ip.dst)
                if warn:
                    warnings += warn
                ports = (udp.sport, udp.dport)
                if PMIP6_CNTL_PORT in ports:
                    offsets.append(("mh", off))
                    where = off
                    mh, _ = decode_mh(buf, off, end, None)
                elif ports[0] in DHCP_PORTS or ports[1] in DHCP_PORTS:
                    offsets.append(("dhcp", off))
                    where = off
                    payload = buf[off:end]
                    dhcp = scan_dhcp(payload) if lite else None
                    if dhcp is None:
                        dhcp, _ = decode_dhcp(payload)
    except DecodeError as exc:
        m = exc.malformed
        partial = exc.partial
        if where:  # the MH and DHCP decoders count offsets from their own first byte
            m = Malformed(m.layer, where + m.offset, m.reason)
            if isinstance(partial, DhcpMessage):
                dhcp = partial
            elif partial is not None:
                mh = partial
        elif ip is None and isinstance(partial, IPv6):
            ip = partial
        malformed = m
    except Exception as exc:  # a decoder bug must never take the analysis down
        malformed = Malformed("frame", where, f"internal decoder error: {exc!r}")
    if mh is not None and mh.wire is not None and mh.wire.warnings:
        warnings += [w.shifted(where) for w in mh.wire.warnings]
    if dhcp is not None and dhcp.warnings:
        warnings += [w.shifted(where) for w in dhcp.warnings]
    return Frame(linktype, len(buf), link, ip, udp, mh, dhcp, malformed, tuple(warnings),
                 fragment, tuple(offsets))


def build_frame(linktype: int, src: IPv4Address | IPv6Address, dst: IPv4Address | IPv6Address,
                message: MobilityMessage | DhcpMessage, *, sport: int | None = None,
                dport: int | None = None, link: LinkLayer | None = None,
                ip: IPLayer | None = None) -> bytes:
    """Encode ``message`` into a complete frame.

    A mobility message goes straight over IPv6 (next header 135, checksum over the
    pseudo-header) when the addresses are IPv6, and over UDP 5436 with checksum 0 when
    they are IPv4 (RFC 5844 §4.1).  A DHCP message goes over UDP 67/68 (server port 67
    by default for requests, 68 for replies).  ``link`` and ``ip`` override the default
    headers (VLAN tags, TTL, extension headers...); lengths and checksums are computed.
    """
    if isinstance(message, DhcpMessage):
        payload = encode_dhcp(message)
        if sport is None or dport is None:
            request = int(message.op) == 1
            sport = sport if sport is not None else (
                DHCP_CLIENT_PORT if request else DHCP_SERVER_PORT)
            dport = dport if dport is not None else (
                DHCP_SERVER_PORT if request else DHCP_CLIENT_PORT)
        transport = encode_udp(UDP(sport, dport), payload, src, dst)
        proto = IPProto.UDP
    elif src.version == 6 and sport is None and dport is None:
        transport = encode_mh(message, src, dst)  # type: ignore[arg-type]
        proto = IPProto.MH
    else:
        payload = encode_mh(message)
        port = PMIP6_CNTL_PORT
        transport = encode_udp(UDP(sport or port, dport or port), payload, src, dst)
        proto = IPProto.UDP
    if src.version == 4:
        hdr4 = ip if isinstance(ip, IPv4) else IPv4(src, dst, proto)  # type: ignore[arg-type]
        packet = encode_ipv4(hdr4, transport)
        ethertype = EtherType.IPV4
    else:
        hdr6 = ip if isinstance(ip, IPv6) else IPv6(src, dst, proto)  # type: ignore[arg-type]
        packet = encode_ipv6(hdr6, transport)
        ethertype = EtherType.IPV6
    return encode_link(link if link is not None else link_for(linktype, ethertype), packet)
