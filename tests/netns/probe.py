"""A bare DHCP client on a raw socket, for tests/netns/test_access.py (run in a netns).

``python -m tests.netns.probe IFACE MAC``: sends junk frames, a DHCPDISCOVER (from the
DhcpClient core) and an ARP request for the offered router, and prints what came back as
one JSON object.  Every wait has a deadline."""

from __future__ import annotations

import json
import select
import socket
import struct
import sys
import time
from ipaddress import IPv4Address

from dissectors.dhcp import DhcpMessage
from dissectors.frame import build_frame, decode_frame
from dissectors.link import Ethernet, EtherType, LinkType, parse_mac
from pmipview.agents.base import sends
from pmipview.agents.dhcp_client import DhcpClient

DEADLINE = 20.0


def wait(sock: socket.socket, want, deadline: float):
    while time.monotonic() < deadline:
        ready, _, _ = select.select([sock], [], [], 0.2)
        if not ready:
            continue
        data, addr = sock.recvfrom(65535)
        if addr[2] == 4:  # our own
            continue
        got = want(data)
        if got is not None:
            return got
    return None


def main() -> None:
    iface, mac = sys.argv[1], sys.argv[2]
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    sock.bind((iface, 3))
    raw_mac = parse_mac(mac)
    # junk first: a runt, a truncated DHCP datagram, a UDP datagram to 67 of 3 bytes
    junk_dhcp = build_frame(LinkType.ETHERNET, IPv4Address(0), IPv4Address("255.255.255.255"),
                            sends(DhcpClient(mac, iface).start(0.0))[0].message, sport=68,
                            dport=67, link=Ethernet("ff:ff:ff:ff:ff:ff", mac, EtherType.IPV4))
    runt = b"\xff" * 6 + raw_mac + b"\x08\x00\x45"  # IPv4 ethertype, 1 byte of header
    for frame in (runt, junk_dhcp[:200], junk_dhcp[:42] + b"abc"):
        sock.send(frame)
    client = DhcpClient(mac, iface)
    [discover] = sends(client.start(0.0))
    frame = build_frame(LinkType.ETHERNET, discover.src, discover.dst, discover.message,
                        sport=68, dport=67,
                        link=Ethernet("ff:ff:ff:ff:ff:ff", mac, EtherType.IPV4))
    sock.send(frame)

    def offer(data: bytes):
        f = decode_frame(LinkType.ETHERNET, data)
        if isinstance(f.dhcp, DhcpMessage) and f.udp is not None and f.udp.dport == 68:
            return f
        return None

    result: dict = {}
    got = wait(sock, offer, time.monotonic() + DEADLINE)
    if got is not None:
        msg = got.dhcp
        result |= {"type": msg.message_type.name, "yiaddr": str(msg.yiaddr),
                   "router": str(msg.routers[0]) if msg.routers else None,
                   "eth_dst": got.link.dst, "eth_src": got.link.src, "ip_src": str(got.src),
                   "ip_dst": str(got.dst), "xid_ok": msg.xid == discover.message.xid}
        router = IPv4Address(result["router"])
        arp = (b"\xff" * 6 + raw_mac + struct.pack("!H", 0x0806)
               + struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + raw_mac + msg.yiaddr.packed
               + b"\0" * 6 + router.packed)
        sock.send(arp)

        def arp_reply(data: bytes):
            if data[12:14] == b"\x08\x06" and data[20:22] == b"\x00\x02" \
                    and data[28:32] == router.packed:
                return data[22:28].hex(":")
            return None
        result["arp_mac"] = wait(sock, arp_reply, time.monotonic() + DEADLINE)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
