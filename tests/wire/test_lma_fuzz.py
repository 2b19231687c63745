"""A running LMA under the fuzz mutants (issue 10, "bad input on the wire").

The project's mutation fuzzer (bench/fuzz.py) mutates every valid signaling frame of the
corpus; the Mobility Header part of each mutant is sent over UDP at an LMA core running
on the sockets runtime (in a thread of this process), while a valid MAG keeps
registering ten MNs.  Every valid PBU must be answered and accepted with its MN's HoA
kept, the runtime must never see a core error, the binding cache and the pool must stay
consistent, and the cache may only hold what valid-looking PBUs created.
"""

from __future__ import annotations

import random
import socket
import threading
from ipaddress import IPv4Address, IPv4Network

from bench.corpus import signaling_frames
from bench.fuzz import Mutator
from dissectors.mh import BindingAck, decode_mh, encode_mh
from dissectors.mh_codes import BAStatus
from pmipview.agents.lma import LMA, LMAConfig, PoolOwner
from pmipview.agents.pool import AddressPool
from pmipview.wire.runtime import Runtime
from pmipview.wire.transport import Udp4Transport
from tests.agents.test_lma import pbu

MUTANTS = 6000
LO = IPv4Address("127.0.0.1")


def mh_mutants(n: int) -> list[bytes]:
    seeds = [(lt, data) for lt, data in signaling_frames()]
    mutator = Mutator(seeds, seed=5)
    rng = random.Random(5)
    n_sys = mutator.plan(n)
    out = []
    for i in range(n):
        seed, data = mutator.case(i, n_sys, rng)
        off = dict(seed.offsets).get("mh")
        if off is not None:
            out.append(data[off:])
    return out


def test_lma_survives_the_mutants_and_answers_every_valid_pbu():
    pool = AddressPool(IPv4Network("10.77.0.0/16"), frozenset({IPv4Address("10.77.0.1")}))
    core = LMA(LMAConfig(pool=pool, default_router=IPv4Address("10.77.0.1")))
    transport = Udp4Transport(LO, 0)
    internal = []

    class Watch:
        def on_event(self, now, event):
            if event.detail.get("reason") == "internal error":
                internal.append(event)

    rt = Runtime(core, [transport], observers=[Watch()])
    stop = threading.Event()
    thread = threading.Thread(target=rt.run, kwargs={"until": stop.is_set}, daemon=True)
    thread.start()
    dest = ("127.0.0.1", transport.port)
    fuzzer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    mag = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    mag.bind(("127.0.0.1", 0))
    mag.settimeout(10)
    hoas: dict[str, IPv4Address] = {}
    mutants = mh_mutants(MUTANTS)
    assert len(mutants) > MUTANTS // 2
    seq = 0
    try:
        for i, payload in enumerate(mutants):
            fuzzer.sendto(payload, dest)
            if i % 40 == 0:
                seq += 1
                nai = f"valid{seq % 10}@example.net"
                mac = f"02:00:00:00:01:{seq % 10:02x}"
                mag.sendto(encode_mh(pbu(nai, seq=seq, hnps=(), lli=mac)), dest)
                while True:  # skip nothing: only our PBAs come to this socket
                    ba, _ = decode_mh(mag.recv(65535))
                    if isinstance(ba, BindingAck) and ba.seq == seq:
                        break
                assert ba.status == BAStatus.ACCEPTED, ba
                hoa = ba.hoa_reply.address
                assert hoas.setdefault(nai, hoa) == hoa  # the HoA is kept
    finally:
        stop.set()
        thread.join(10)
        fuzzer.close()
        mag.close()
        rt.close()
    assert not thread.is_alive()
    assert rt.counters.core_errors == 0
    assert rt.counters.received >= len(mutants) // 2  # loopback may drop some under burst
    assert sum(rt.counters.undecodable.values()) > 0
    assert not internal, internal[:3]  # the core caught an exception of its own
    pool.check()
    for b in core.bindings():
        assert b.hoa is None or pool.owner_of(b.hoa) == PoolOwner(b.session, b.nai)
    owned = sum(1 for b in core.bindings() if b.hoa is not None)
    assert pool.free() == len(pool) - owned
    assert len(core.bindings()) <= len(hoas) + len(mutants) // 10
