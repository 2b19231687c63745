"""The driver's reading on real loopback sockets: RTT ends at the kernel's arrival stamp."""

from __future__ import annotations

import select
import socket
import struct
import time
from ipaddress import IPv4Address

import pytest

from dissectors.mh import BindingAck, encode_mh
from dissectors.mh_codes import BAFlag
from pmipview.load.core import LoadConfig, LoadCore
from pmipview.load.driver import Driver
from pmipview.wire.transport import Udp4Transport

LOOP = IPv4Address("127.0.0.1")


def _wait_for_arrival_stamps(sender: socket.socket, receiver: socket.socket) -> None:
    """Until the kernel stamps datagrams when they arrive.  The first socket that asks
    for stamps turns them on for the whole kernel through deferred work (Linux
    ``net_enable_timestamp``); until it has run, a datagram is stamped when it is read,
    and this test then failed now and then (RTT 300 ms, the sleep below) on a machine
    where no other socket had stamps on."""
    for _ in range(100):
        sender.sendto(b"x", receiver.getsockname())
        time.sleep(0.02)
        _data, anc, _flags, _peer = receiver.recvmsg(16, socket.CMSG_SPACE(16))
        if anc:
            sec, ns = struct.unpack("@qq", anc[0][2])
            if time.time() - (sec + ns * 1e-9) >= 0.015:
                return
    pytest.skip("the kernel stamps datagrams only when they are read")


def test_rtt_ends_at_the_arrival_stamp_and_the_read_delay_is_reported_apart():
    lma = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    lma.bind(("127.0.0.1", 0))
    lma.settimeout(5)
    mag = Udp4Transport(LOOP, 0)
    try:
        core = LoadCore(LoadConfig(mns=1, rate=1, mags=1, transactions=1))
        driver = Driver(core, [mag], LOOP, lma.getsockname()[1])
        if not driver._stamps():
            pytest.skip("the kernel does not stamp arrivals here")
        _wait_for_arrival_stamps(lma, mag.sock)
        now = time.monotonic()
        core.begin(now - 1.5)   # one PBU due now (1/s)
        driver._send(core.poll(now))
        pbu, peer = lma.recvfrom(2048)
        pba = bytearray(encode_mh(BindingAck(0, 0, BAFlag.P, 150, ())))
        pba[8:10] = pbu[6:8]
        lma.sendto(bytes(pba), peer)
        time.sleep(0.3)   # the loop gets to it late: its delay, not the target's
        ep = select.epoll()
        ep.register(mag.fileno(), select.EPOLLIN)
        driver._read(ep, {mag.fileno(): 0}, -1)
        ep.close()
        assert core.stats.totals.accepted == 1
        assert 0 < core.stats.interval.max_us < 200_000
        assert core.stats.read_delay.n == 1 and core.stats.read_delay.max_us >= 250_000
    finally:
        lma.close()
        mag.close()
