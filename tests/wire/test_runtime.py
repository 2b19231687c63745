"""The sockets runtime (pmipview.wire): the LMA core answers real datagrams on loopback.

Only loopback; every socket is closed by the test; no fixed ports (the kernel picks).
"""

from __future__ import annotations

import os
import socket
from ipaddress import IPv4Address, IPv4Network, IPv6Address

import pytest

from dissectors.mh import BindingAck, BindingError, decode_mh, encode_mh
from dissectors.mh_codes import BAStatus, BEStatus, HoAReplyStatus
from dissectors.mh_options import IPv4HoAReply
from pmipview.agents.lma import LMA, LMAConfig
from pmipview.agents.pool import AddressPool
from pmipview.wire.runtime import Runtime
from pmipview.wire.transport import MhTransport, TransportError, Udp4Transport, open_signaling
from tests.agents.test_lma import pbu

LO = IPv4Address("127.0.0.1")


def lma_runtime(transport) -> Runtime:
    pool = AddressPool(IPv4Network("10.9.0.0/24"), frozenset({IPv4Address("10.9.0.1")}))
    return Runtime(LMA(LMAConfig(pool=pool, default_router=IPv4Address("10.9.0.1"))),
                   [transport])


def exchange(rt: Runtime, client: socket.socket, payload: bytes, dest) -> bytes:
    client.sendto(payload, dest)
    for _ in range(20):
        rt.step(0.1)
        try:
            return client.recv(65535)
        except BlockingIOError:
            continue
    raise AssertionError("no answer")


@pytest.fixture
def udp_lma():
    transport = Udp4Transport(LO, 0)
    rt = lma_runtime(transport)
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.bind(("127.0.0.1", 0))
    client.setblocking(False)
    yield rt, client, ("127.0.0.1", transport.port)
    client.close()
    rt.close()


def test_pbu_over_udp_gets_a_pba_at_the_source_port(udp_lma):
    rt, client, dest = udp_lma
    raw = exchange(rt, client, encode_mh(pbu(seq=9, hnps=())), dest)
    ba, _ = decode_mh(raw)
    assert isinstance(ba, BindingAck) and ba.status == BAStatus.ACCEPTED and ba.seq == 9
    reply = ba.option(IPv4HoAReply)
    assert reply is not None and reply.status == HoAReplyStatus.SUCCESS
    assert reply.address in IPv4Network("10.9.0.0/24")
    assert rt.counters.received == 1 and rt.counters.sent == 1
    assert [b.hoa for b in rt.core.bindings()] == [reply.address]


def test_garbage_is_counted_and_the_next_pbu_still_answered(udp_lma):
    rt, client, dest = udp_lma
    for junk in (b"", b"\x3b", b"\x3b\xff\x05\x00\x00\x00", os.urandom(7)):
        client.sendto(junk, dest)
    raw = exchange(rt, client, encode_mh(pbu(seq=3, hnps=())), dest)
    assert decode_mh(raw)[0].status == BAStatus.ACCEPTED
    assert rt.counters.received == 5
    assert sum(rt.counters.undecodable.values()) == 4


def test_unknown_mh_type_gets_binding_error_status_2(udp_lma):
    rt, client, dest = udp_lma
    raw = exchange(rt, client, bytes([59, 0, 42, 0, 0, 0, 0, 0]), dest)
    be, _ = decode_mh(raw)
    assert isinstance(be, BindingError) and be.status == BEStatus.UNRECOGNIZED_MH_TYPE


def test_busy_port_is_one_line_error():
    first = Udp4Transport(LO, 0)
    try:
        with pytest.raises(TransportError, match="already in use"):
            Udp4Transport(LO, first.port)
    finally:
        first.close()


def test_transport_address_family_is_checked():
    with pytest.raises(TransportError, match="needs an IPv4 address"):
        open_signaling("udp4", "::1")
    with pytest.raises(TransportError, match="not an IP address"):
        open_signaling("udp4", "lma.example")


@pytest.mark.skipif(os.geteuid() != 0, reason="a raw IPPROTO_MH socket needs root")
def test_pbu_over_raw_ipv6_mh_with_the_kernel_checksum():
    transport = MhTransport(IPv6Address("::1"))
    rt = lma_runtime(transport)
    client = socket.socket(socket.AF_INET6, socket.SOCK_RAW, 135)
    client.bind(("::1", 0))
    client.setblocking(False)
    try:
        # the kernel fills in the checksum of what we send (offset 4) and checks replies
        raw = exchange(rt, client, encode_mh(pbu(seq=5, hnps=())), ("::1", 0))
        # our own socket also sees its own PBU on loopback: skip past it
        # (and, on a shared host, anyone's MH on ::1: wait for the answer to ours)
        msg, _ = decode_mh(raw)
        while not (isinstance(msg, BindingAck) and msg.seq == 5):
            rt.step(0.1)
            try:
                msg, _ = decode_mh(client.recv(65535))
            except BlockingIOError:
                continue
        assert msg.status == BAStatus.ACCEPTED and msg.seq == 5
    finally:
        client.close()
        rt.close()


@pytest.mark.skipif(os.geteuid() == 0, reason="as root the raw socket opens")
def test_raw_socket_without_privilege_names_udp4():
    with pytest.raises(TransportError, match="--transport udp4"):
        MhTransport(IPv6Address("::1"))


def test_an_answer_too_big_to_encode_and_a_failing_observer_do_not_stop_the_node():
    """A 2,048-byte PBU whose PBA (echoing its options) cannot be encoded is counted as a
    send error; an observer that raises (a full disk) is counted; the next PBU is
    answered."""
    from ipaddress import IPv6Network

    from dissectors.mh_options import HomeNetworkPrefix

    class Broken:
        def on_receive(self, *args):
            raise OSError(28, "No space left on device")

    pool = AddressPool(IPv4Network("10.9.0.0/24"), frozenset({IPv4Address("10.9.0.1")}))
    core = LMA(LMAConfig(pool=pool, default_router=IPv4Address("10.9.0.1"),
                         hnp_pool=IPv6Network("2001:db8:100::/48")))
    transport = Udp4Transport(LO, 0)
    rt = Runtime(core, [transport], observers=[Broken()])
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.bind(("127.0.0.1", 0))
    client.setblocking(False)
    dest = ("127.0.0.1", transport.port)
    # 73 specific HNPs and a long NAI: the PBU is 2,048 bytes, its PBA would be more
    hnps = tuple(HomeNetworkPrefix(IPv6Address(f"2001:db8:100:{i:x}::"), 64)
                 for i in range(73))
    big = encode_mh(pbu("m" * 244 + "@x", hnps=hnps))
    try:
        assert len(big) == 2048
        client.sendto(big, dest)
        for _ in range(10):
            rt.step(0.05)
        assert rt.counters.send_errors == 1 and rt.counters.sent == 0, rt.counters
        raw = exchange(rt, client, encode_mh(pbu(seq=2, hnps=())), dest)
        assert decode_mh(raw)[0].status == BAStatus.ACCEPTED
        assert rt.counters.observer_errors >= 2 and rt.counters.core_errors == 0
    finally:
        client.close()
        rt.close()
