"""Datagrams ↔ :class:`~pmipview.agents.base.Packet`, with the project's own codecs.

A transport hands over what the kernel gave it (the payload, who sent it, to which local
address) and gets back bytes to send; this module turns one into the other and knows
nothing of sockets.  Over IPv4/UDP 5436 the payload is a bare Mobility Header with a zero
checksum (RFC 5844 §4.1); over a raw IPPROTO_MH socket it is the Mobility Header whose
checksum the kernel computes and verifies (IPV6_CHECKSUM offset 4, set by Linux for MH).

``as_frame`` rebuilds the IP (and UDP) header around a payload so that a node's own
traffic can be written to a capture and read back by ``pmipview timeline``.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address

from dissectors.checksum import inet_checksum, pseudo_header
from dissectors.dhcp import DhcpMessage, decode_dhcp, encode_dhcp
from dissectors.errors import DecodeError
from dissectors.ip import IPProto, IPv4, IPv6, encode_ipv4, encode_ipv6
from dissectors.mh import BindingAck, decode_mh, encode_mh
from dissectors.udp import IPPROTO_UDP, UDP, encode_udp
from pmipview.agents.base import BACKHAUL, Address, Packet
from pmipview.agents.lma_wire import encode_pba


@dataclass(frozen=True, slots=True)
class Undecodable:
    """A datagram that is not a message we can use, and why (the runtime counts it)."""

    reason: str
    src: Address
    size: int


def decode_mh_datagram(payload: bytes, src: Address, dst: Address, sport: int | None,
                       dport: int | None, iface: str = BACKHAUL) -> Packet | Undecodable:
    """A Mobility Header from UDP 5436 (ports given) or a raw MH socket (ports None)."""
    pseudo = None
    if sport is None and isinstance(src, IPv6Address) and isinstance(dst, IPv6Address):
        pseudo = src.packed + dst.packed
    try:
        msg, _ = decode_mh(payload, 0, None, pseudo)
    except DecodeError as exc:
        return Undecodable(f"malformed mobility header: {exc.malformed.reason}", src,
                           len(payload))
    except (ValueError, IndexError) as exc:  # a decoder bug must not stop a responder
        return Undecodable(f"undecodable mobility header: {exc}", src, len(payload))
    if msg.wire is not None and msg.wire.checksum_ok is False:
        return Undecodable("bad mobility header checksum", src, len(payload))
    return Packet(src, dst, msg, iface, sport, dport)


def decode_dhcp_datagram(payload: bytes, src: Address, dst: Address, sport: int, dport: int,
                         iface: str, mac_src: str | None = None,
                         mac_dst: str | None = None) -> Packet | Undecodable:
    try:
        msg, _ = decode_dhcp(payload)
    except DecodeError as exc:
        return Undecodable(f"malformed DHCP: {exc.malformed.reason}", src, len(payload))
    except (ValueError, IndexError) as exc:
        return Undecodable(f"undecodable DHCP: {exc}", src, len(payload))
    return Packet(src, dst, msg, iface, sport, dport, mac_src, mac_dst)


def encode_payload(packet: Packet) -> bytes:
    """The bytes a socket sends for ``packet`` (no IP header; UDP's added by the kernel)."""
    msg = packet.message
    if type(msg) is BindingAck:
        return encode_pba(msg)  # the same bytes as encode_mh, from a template per shape
    if isinstance(msg, DhcpMessage):
        return encode_dhcp(msg)
    return encode_mh(msg)


def as_frame(src: Address, dst: Address, payload: bytes, sport: int | None,
             dport: int | None) -> bytes:
    """An IP packet (LINKTYPE_RAW) carrying ``payload`` as sent or received: UDP when ports
    are given, else a Mobility Header straight over IPv6 (its checksum filled in)."""
    if sport is None or dport is None:
        assert isinstance(src, IPv6Address) and isinstance(dst, IPv6Address)
        transport = _with_mh_checksum(payload, src, dst)
        proto: int = IPProto.MH
    else:
        transport = encode_udp(UDP(sport, dport), payload, src, dst)
        proto = IPPROTO_UDP
    if isinstance(src, IPv4Address):
        assert isinstance(dst, IPv4Address)
        return encode_ipv4(IPv4(src, dst, proto), transport)
    assert isinstance(dst, IPv6Address)
    return encode_ipv6(IPv6(src, dst, proto), transport)


def _with_mh_checksum(payload: bytes, src: IPv6Address, dst: IPv6Address) -> bytes:
    """The MH as the kernel put it on the wire: checksum computed over the pseudo-header."""
    if len(payload) < 6:
        return payload
    body = payload[:4] + b"\0\0" + payload[6:]
    checksum = inet_checksum(pseudo_header(src, dst, IPProto.MH, len(body)), body)
    return body[:4] + checksum.to_bytes(2, "big") + body[6:]

