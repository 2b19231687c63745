"""The IPv4/UDP transport's compiled reads and sends (``_cmmsg``: recvmmsg, sendmmsg)
against their pure twin (``_Socketed.receive_raw``, ``_send_queued``): the same datagrams
in the same order, the same local addresses, shedding, counters and failures.

Loopback only, ephemeral ports.  Each test sends the same traffic to a pure and a
compiled transport and compares what they give (a wildcard socket, bound to 0.0.0.0 on
an ephemeral port, only ever receives from 127.0.0.1).
"""

from __future__ import annotations

import socket
import time
from ipaddress import IPv4Address, IPv4Network

import pytest

from dissectors.mh import BindingUpdate, encode_mh
from dissectors.mh_codes import BUFlag
from dissectors.mh_options import (
    AccessTechnologyOpt,
    HandoffIndicatorOpt,
    IPv4HoARequest,
    MNIdentifier,
    MNLinkLayerId,
)
from pmipview.agents.lma import LMA, LMAConfig
from pmipview.agents.pool import AddressPool
from pmipview.wire import transport as transport_mod
from pmipview.wire.runtime import Runtime
from pmipview.wire.transport import Udp4Transport

LO = IPv4Address("127.0.0.1")
needs_compiled = pytest.mark.skipif(transport_mod._CMMSG is None,
                                    reason="compiled hot path not built")
pytestmark = needs_compiled


def pair(address: IPv4Address = LO) -> tuple[Udp4Transport, Udp4Transport]:
    pure, comp = Udp4Transport(address, 0), Udp4Transport(address, 0)
    pure._batches = None
    assert comp._batches is not None
    return pure, comp


def client(host: str = "127.0.0.1") -> socket.socket:
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c.bind((host, 0))
    c.setblocking(False)
    return c


def drain(sock: socket.socket, n: int, wait: float = 2.0) -> list[tuple[bytes, object]]:
    got: list[tuple[bytes, object]] = []
    deadline = time.monotonic() + wait
    while len(got) < n and time.monotonic() < deadline:
        try:
            got.append(sock.recvfrom(65535))
        except BlockingIOError:
            time.sleep(0.005)
    return got


def pbu(seq: int) -> bytes:
    opts = (MNIdentifier.nai(f"mn{seq}@x"), HandoffIndicatorOpt(1), AccessTechnologyOpt(4),
            MNLinkLayerId.mac("02:00:00:00:00:01"), IPv4HoARequest(IPv4Address(0), 0))
    return encode_mh(BindingUpdate(seq, BUFlag.A | BUFlag.P, 150, opts))


def both_receive(ts: tuple[Udp4Transport, Udp4Transport], datagrams: list[bytes],
                 limit: int, senders: list[socket.socket], wait: float = 0.05):
    for t in ts:
        for k, d in enumerate(datagrams):
            senders[k % len(senders)].sendto(d, ("127.0.0.1", t.port))
    time.sleep(wait)
    out = []
    for t in ts:
        got = t.receive_raw(limit)
        # the peers' ports differ per transport only by the sender: same senders both
        out.append(([(p, peer, dst) for p, peer, dst in got], t.shed, t._behind))
    return out


@pytest.mark.parametrize("count,limit", [(1, 1024), (3, 2), (64, 64), (65, 1024),
                                         (200, 1024), (200, 130), (0, 1024)])
def test_the_same_datagrams_in_the_same_order(count, limit):
    ts = pair()
    senders = [client(f"127.0.1.{k + 1}") for k in range(3)]
    try:
        data = [bytes([k % 256]) * (1 + k % 300) for k in range(count)]
        pure, comp = both_receive(ts, data, limit, senders)
        assert pure == comp
        assert len(pure[0]) == min(count, limit)
        assert [p for p, _, _ in comp[0]] == data[:limit]
        assert {dst for _, _, dst in comp[0]} <= {LO}
        for t in ts:  # what the limit left is there for the next read, in order
            assert [p for p, _, _ in t.receive_raw(1024)] == data[limit:]
    finally:
        for s in senders:
            s.close()
        for t in ts:
            t.close()


def test_a_wildcard_socket_gives_the_local_address_each_was_sent_to():
    ts = pair(IPv4Address(0))
    c = client()
    try:
        for t in ts:
            for k in range(70):
                c.sendto(bytes([k]), (f"127.0.0.{1 + k % 3}", t.port))
        time.sleep(0.05)
        pure, comp = (t.receive_raw() for t in ts)
        assert pure == comp and len(comp) == 70
        assert [dst for _, _, dst in comp][:3] == [IPv4Address(f"127.0.0.{k}")
                                                   for k in (1, 2, 3)]
    finally:
        c.close()
        for t in ts:
            t.close()


def _stamping(ts: tuple[Udp4Transport, Udp4Transport], c: socket.socket) -> None:
    """As tests/wire/test_fast_and_shed.py: wait until the kernel stamps on arrival."""
    for t in ts:
        t.shed_older_than(0.2)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        ok = True
        for t in ts:
            c.sendto(b"\x00", ("127.0.0.1", t.port))
        time.sleep(0.05)
        for t in ts:
            _p, _peer, _dst, at = t._read(True)
            ok = ok and at is not None and time.time() - at >= 0.04
        if ok:
            return
    pytest.fail("the kernel never timestamped datagrams on arrival")


def test_shedding_the_head_of_a_backlog_is_the_same():
    ts = pair()
    c = client()
    try:
        _stamping(ts, c)
        for t in ts:
            t._behind = True
            for seq in range(1, 71):   # 70 old PBUs (more than one recvmmsg), then...
                c.sendto(pbu(seq), ("127.0.0.1", t.port))
            c.sendto(b"\x00\x00\x06", ("127.0.0.1", t.port))  # an old non-PBU: kept
            c.sendto(pbu(99), ("127.0.0.1", t.port))  # behind it: kept, not looked at
        time.sleep(0.4)
        for t in ts:
            c.sendto(pbu(100), ("127.0.0.1", t.port))  # fresh
        time.sleep(0.05)
        pure, comp = (t.receive_raw() for t in ts)
        assert pure == comp and len(comp) == 3
        assert ts[0].shed == ts[1].shed == 70
        assert ts[0]._behind and ts[1]._behind
    finally:
        c.close()
        for t in ts:
            t.close()


def test_batched_sends_arrive_in_order_and_count_the_failures():
    ts = pair()
    rx = client()
    rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    port = rx.getsockname()[1]
    try:
        failures = []
        for t in ts:
            items = []
            for k in range(150):
                payload: bytes | bytearray = bytes([k]) * (k + 1)
                if k % 3 == 0:
                    payload = bytearray(payload)
                items.append((payload, ("127.0.0.1", port), None))
                if k in (5, 64, 149):  # too big for a datagram: EMSGSIZE, counted
                    items.append((b"x" * 70000, ("127.0.0.1", port), None))
                if k == 7:             # not dotted: the pure way, in its place
                    items.append((b"by name", ("localhost", port), None))
            t.begin_batch()
            t._queue.extend(items)  # type: ignore[union-attr]
            failures.append((t.flush(), t.send_errors))
        got = [p for p, _ in drain(rx, 302)]
        want = [bytes([k]) * (k + 1) for k in range(150)]
        want.insert(8, b"by name")
        assert got == want + want
        assert failures == [(3, 3), (3, 3)]
    finally:
        rx.close()
        for t in ts:
            t.close()


def test_a_source_address_on_a_wildcard_socket_is_used_by_both():
    ts = pair(IPv4Address(0))
    rx = client()
    port = rx.getsockname()[1]
    try:
        for t in ts:
            t.begin_batch()
            t._queue.extend([(b"a", ("127.0.0.1", port), IPv4Address("127.0.0.3").packed),  # type: ignore[union-attr]
                             (b"b", ("127.0.0.1", port), None)])
            assert t.flush() == 0
        got = drain(rx, 4)
        assert [(p, peer[0]) for p, peer in got] == [(b"a", "127.0.0.3"), (b"b", "127.0.0.1")] * 2
    finally:
        rx.close()
        for t in ts:
            t.close()


def _raw_pbu(seq: int, hi: int) -> bytes:
    opts = (MNIdentifier.nai("mn@x"), HandoffIndicatorOpt(hi), AccessTechnologyOpt(4),
            MNLinkLayerId.mac("02:00:00:00:00:01"), IPv4HoARequest(IPv4Address(0), 0))
    return encode_mh(BindingUpdate(seq, BUFlag.A | BUFlag.P, 150, opts))


def test_the_runtime_answers_and_counts_the_same_with_either_twin():
    """Bursts through the runtime's fast path (chunks, held answers, one flush each)."""
    results = []
    for pure in (True, False):
        t = Udp4Transport(LO, 0)
        if pure:
            t._batches = None
        router = IPv4Address("10.9.0.1")
        pool = AddressPool(IPv4Network("10.9.0.0/20"), frozenset({router}))
        rt = Runtime(LMA(LMAConfig(pool=pool, default_router=router)), [t], fast_path=True)
        c = client()
        try:
            out = []
            for burst in range(4):     # attach, refresh (learns), refresh (fast) twice
                for mn in range(100):
                    opts = (MNIdentifier.nai(f"mn{mn}@x"),
                            HandoffIndicatorOpt(1 if burst == 0 else 5),
                            AccessTechnologyOpt(4), MNLinkLayerId.mac(f"02:00:00:00:00:{mn:02x}"),
                            IPv4HoARequest(IPv4Address(0), 0))
                    c.sendto(encode_mh(BindingUpdate(burst + 1, BUFlag.A | BUFlag.P, 150, opts)),
                             ("127.0.0.1", t.port))
                time.sleep(0.05)
                rt.step(0.1)
                out += [p for p, _ in drain(c, 100)]
            direct = getattr(rt._fast, "direct", 0)  # decided from bytes by serve, if any
            results.append((out, rt.counters, direct))
        finally:
            c.close()
            rt.close()
    (out_p, cp, direct_p), (out_c, cc, direct_c) = results
    assert len(out_p) == 400 and out_p == out_c
    assert cp == cc and direct_p == direct_c
    assert cc.fast - direct_c == 200 and cc.sent == 400 and cc.send_errors == 0
