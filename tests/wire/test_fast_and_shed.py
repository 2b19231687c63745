"""The runtime's refresh fast path and overload shedding, on loopback sockets.

Only loopback; no fixed ports.  The shedding test makes datagrams old by waiting before
it reads them (it measures nothing: the threshold is far from the wait either way).
"""

from __future__ import annotations

import socket
import time
from ipaddress import IPv4Address, IPv4Network

import pytest

from dissectors.mh import BindingUpdate, Heartbeat, encode_mh
from dissectors.mh_codes import PMIP6_CNTL_PORT, BUFlag
from dissectors.mh_options import (
    AccessTechnologyOpt,
    HandoffIndicatorOpt,
    IPv4HoARequest,
    MNIdentifier,
    MNLinkLayerId,
)
from pmipview.agents.base import BACKHAUL, Event, Packet, Send
from pmipview.agents.lma import LMA, LMAConfig
from pmipview.agents.pool import AddressPool
from pmipview.render.bindings import summary_lines
from pmipview.wire.runtime import Runtime
from pmipview.wire.transport import Udp4Transport

LO = IPv4Address("127.0.0.1")
ROUTER = IPv4Address("10.9.0.1")


def raw_pbu(seq: int, hi: int) -> bytes:
    opts = (MNIdentifier.nai("mn@x"), HandoffIndicatorOpt(hi), AccessTechnologyOpt(4),
            MNLinkLayerId.mac("02:00:00:00:00:01"), IPv4HoARequest(IPv4Address(0), 0))
    return encode_mh(BindingUpdate(seq, BUFlag.A | BUFlag.P, 150, opts))


def runtime(**kw) -> tuple[Runtime, Udp4Transport]:
    t = Udp4Transport(LO, 0)
    pool = AddressPool(IPv4Network("10.9.0.0/24"), frozenset({ROUTER}))
    return Runtime(LMA(LMAConfig(pool=pool, default_router=ROUTER)), [t], **kw), t


def answers(rt: Runtime, client: socket.socket, n: int) -> list[bytes]:
    got: list[bytes] = []
    for _ in range(50):
        rt.step(0.05)
        while True:
            try:
                got.append(client.recv(65535))
            except BlockingIOError:
                break
        if len(got) >= n:
            break
    return got


def test_the_fast_path_answers_the_same_bytes_and_counts_them():
    results = {}
    for fast in (False, True):
        rt, t = runtime(fast_path=fast)
        client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        client.bind(("127.0.0.1", 0))
        client.setblocking(False)
        try:
            out = []
            for k in range(5):   # one by one: the fast path learns from the first refresh
                client.sendto(raw_pbu(k + 1, 1 if k == 0 else 5), ("127.0.0.1", t.port))
                out += answers(rt, client, 1)
            # fast: template hits, and the PBUs a fast path with serve decided from bytes
            direct = getattr(rt._fast, "direct", 0) if rt._fast is not None else 0
            results[fast] = (out, rt.counters.fast - direct, rt.counters.events["refreshed"],
                             rt.counters.sent)
        finally:
            client.close()
            rt.close()
    assert results[True][0] == results[False][0] and len(results[True][0]) == 5
    assert results[False][1] == 0 and results[True][1] == 3
    assert results[True][2:] == results[False][2:] == (4, 5)


def test_an_observer_of_single_messages_keeps_the_fast_path_off():
    class Log:
        def on_event(self, now, event):
            pass

    rt, _ = runtime(fast_path=True, observers=[Log()])
    try:
        assert rt._fast is None
    finally:
        rt.close()


def _kernel_stamps_on_arrival(t: Udp4Transport, client: socket.socket) -> None:
    """Wait until the kernel timestamps datagrams when they arrive.  The first socket
    asking for SO_TIMESTAMP switches arrival stamping on through a deferred kernel work
    item; until that has run (late on a loaded machine) a datagram is stamped when it is
    read, so it never looks old and the shed test failed now and then."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        client.sendto(b"\x00", ("127.0.0.1", t.port))
        time.sleep(0.05)
        _payload, _peer, _dst, at = t._read(True)
        if at is not None and time.time() - at >= 0.04:
            return
    pytest.fail("the kernel never timestamped datagrams on arrival")


def test_pbus_that_waited_too_long_are_shed_and_counted():
    rt, t = runtime(shed_after=0.2)
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.bind(("127.0.0.1", 0))
    client.setblocking(False)
    dest = ("127.0.0.1", t.port)
    try:
        _kernel_stamps_on_arrival(t, client)
        for seq in (1, 2, 3):
            client.sendto(raw_pbu(seq, 1), dest)
        client.sendto(encode_mh(Heartbeat(7, 0)), dest)  # old, but not a PBU: answered
        time.sleep(0.5)
        client.sendto(raw_pbu(4, 1), dest)               # fresh: answered
        got = answers(rt, client, 2)
        assert rt.counters.shed == 3 and t.shed == 3
        assert len(got) == 2 and rt.counters.received == 2
        assert any("shed under overload" in line and line.endswith(": 3")
                   for line in summary_lines(rt.counters, len(rt.core), 0.0, 1.0))
    finally:
        client.close()
        rt.close()


def test_without_shedding_every_old_pbu_is_answered():
    rt, t = runtime()
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.bind(("127.0.0.1", 0))
    client.setblocking(False)
    try:
        for seq in (1, 2, 3):
            client.sendto(raw_pbu(seq, 1), ("127.0.0.1", t.port))
        time.sleep(0.3)
        assert len(answers(rt, client, 3)) == 3 and rt.counters.shed == 0
    finally:
        client.close()
        rt.close()


@pytest.mark.parametrize("pure", [True, False], ids=["pure", "compiled"])
def test_arrival_stamps_are_read_only_while_behind(pure: bool):
    """A lone datagram per read means no queue: the next read skips the stamps (recvmsg
    and its ancillary data), so even old PBUs are answered; a batch of several turns them
    back on, so a backlog's old PBUs are shed from the read after it.  Both twins of the
    read (``_Socketed.receive_raw``, recvmmsg in ``_cmmsg``); the pure one is watched."""
    rt, t = runtime(shed_after=1.0)
    if pure:
        t._batches = None
    elif t._batches is None:
        rt.close()
        pytest.skip("compiled hot path not built")
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.bind(("127.0.0.1", 0))
    dest = ("127.0.0.1", t.port)
    reads: list[bool] = []
    read = t._read

    def spy(stamped: bool):
        reads.append(stamped)
        return read(stamped)

    t._read = spy  # type: ignore[method-assign]
    try:
        _kernel_stamps_on_arrival(t, client)
        reads.clear()
        assert t._behind
        client.sendto(raw_pbu(1, 1), dest)
        time.sleep(0.05)
        assert len(t.receive_raw()) == 1 and not t._behind
        assert reads[:1] == ([True] if pure else [])
        reads.clear()
        for seq in (2, 3):
            client.sendto(raw_pbu(seq, 5), dest)
        time.sleep(1.3)  # old, but the LMA was not behind: not looked at, answered
        assert len(t.receive_raw()) == 2 and t._behind and t.shed == 0
        assert reads[:1] == ([False] if pure else [])
        reads.clear()
        for seq in (4, 5):
            client.sendto(raw_pbu(seq, 5), dest)
        time.sleep(1.3)  # old now, and the LMA is behind: shed
        assert t.receive_raw() == [] and t.shed == 2
        assert reads[:1] == ([True] if pure else [])
    finally:
        client.close()
        rt.close()


class _ServingFast:
    """A fast path with ``serve`` (as the LMA's object-free slow path has): each answer
    names its event and may bring outputs to handle after it, or be empty (nothing sent)."""

    offer = None

    def __init__(self, to: tuple[str, int]) -> None:
        self.kind, self.extra, self.to = "refreshed", None, to

    def table(self) -> dict:
        return {}

    def answer(self, now, table, peer, payload):
        raise AssertionError("serve is used when there is one")

    def serve(self, now, table, peer, payload, dst):
        self.kind, self.extra = "refreshed", None
        if payload == b"attach":
            self.kind = "registered"
            return b"pba-attach"
        if payload == b"bra":
            self.kind = "bra-taken"
            return b""
        if payload == b"handoff":
            self.kind = "handoff"
            bri = Packet(LO, LO, Heartbeat(7, 0), BACKHAUL, PMIP6_CNTL_PORT, self.to[1])
            self.extra = [Send(bri), Event("revoking")]
            return bytearray(b"pba-handoff")
        return None


class _ServedCore:
    def __init__(self, fast: _ServingFast) -> None:
        self.fast = fast

    def enable_fast_path(self) -> _ServingFast:
        return self.fast

    def receive(self, now, packet):
        raise AssertionError("only undecodable datagrams go the full way here")

    def timer(self, now):
        return []

    def next_timer(self):
        return None


@pytest.mark.parametrize("pure", [True, False], ids=["pure", "compiled"])
def test_a_fast_path_that_serves_names_its_events_and_sends_its_extra_outputs(pure: bool):
    t = Udp4Transport(LO, 0)
    if pure:
        t._batches = None
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.bind(("127.0.0.1", 0))
    client.setblocking(False)
    rt = Runtime(_ServedCore(_ServingFast(client.getsockname())), [t], fast_path=True)
    try:
        for payload in (b"attach", b"bra", b"handoff", b"junk"):
            client.sendto(payload, ("127.0.0.1", t.port))
        time.sleep(0.05)
        got = answers(rt, client, 3)
        assert got == [b"pba-attach", b"pba-handoff", encode_mh(Heartbeat(7, 0))]
        c = rt.counters
        assert (c.received, c.delivered, c.fast, c.sent, c.send_errors) == (4, 3, 3, 3, 0)
        assert c.events == {"registered": 1, "bra-taken": 1, "handoff": 1, "revoking": 1}
        assert sum(c.undecodable.values()) == 1
    finally:
        client.close()
        rt.close()
