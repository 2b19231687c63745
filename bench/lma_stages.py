"""CPU per PBU of the LMA's runtime (``pmipview.wire.runtime``) on loopback, in one process.

    .venv/bin/python bench/lma_stages.py                   # 100,000 MNs, bursts of 1 and 64
    PYTHONPATH=/work/main /work/main/.venv/bin/python bench/lma_stages.py   # main, A/B

The LMA runs as ``pmipview lma`` runs it (``Udp4Transport`` on 127.0.0.1, ``Runtime``
with the refresh fast path and shedding on, no observers); 14 client sockets on
127.0.1.x send PBUs built by the load generator's templates (``pmipview.load.wire``) in
bursts of ``--burst`` datagrams, then the runtime's ``step`` runs until every PBU of the
burst is answered.  Only the CPU time (``process_time``: user + system) spent inside
``step`` is counted: the LMA's reads, decoding, core, encoding and sends, not the
client's.  Phases: every MN attaches, then refreshes twice (the first refresh of a
session takes the slow path and leaves the fast path its template, the second is a
fast-path hit); with ``--moves`` each MN then hands off to the next MAG (the LMA's BRI to
the old MAG is answered with a BRA, as the load generator does: a handoff costs the PBU,
the BRI and the BRA) and detaches there.  Also: the RSS this process gained per binding.
Medians of ``--rounds``.
Loopback only.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import select
import socket
import statistics
import subprocess
import sys
import time
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

if not os.environ.get("PYTHONPATH"):  # PYTHONPATH picks the code measured (A/B)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dissectors.mh import BindingRevocation, decode_mh, encode_mh
from dissectors.mh_codes import BRAStatus, BRFlag, BRType
from dissectors.mh_options import MNIdentifier
from pmipview.agents.lma import LMA, LMAConfig
from pmipview.agents.pool import AddressPool
from pmipview.load.wire import ATTACH, DETACH, HANDOFF, REFRESH, PbuFactory, pba_hoa, pba_mn
from pmipview.wire.runtime import Runtime
from pmipview.wire.transport import Udp4Transport

MAGS = 14
_BA = 6


def bra_for(payload: bytes) -> bytes | None:
    """The BRA a MAG answers to a BRI (as ``pmipview.load.core`` does), else None."""
    msg, _ = decode_mh(payload)
    if not isinstance(msg, BindingRevocation) or msg.br_type != BRType.BRI:
        return None
    mnid = msg.option(MNIdentifier)
    return encode_mh(BindingRevocation(BRType.BRA, BRAStatus.SUCCESS, msg.seq,
                                       msg.flags & (BRFlag.P | BRFlag.V | BRFlag.G),
                                       (mnid,) if mnid is not None else ()))


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Bench:
    def __init__(self, mns: int) -> None:
        net = IPv4Network("10.64.0.0/14")
        self.lma = LMA(LMAConfig(pool=AddressPool(net, frozenset({net[1]})),
                                 default_router=net[1]))
        self.transport = Udp4Transport(IPv4Address("127.0.0.1"), 0)
        self.rt = Runtime(self.lma, [self.transport], fast_path=True, shed_after=1.0)
        dest = ("127.0.0.1", self.transport.port)
        self.clients = []
        for k in range(MAGS):
            c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            c.bind((f"127.0.1.{k + 1}", 0))
            c.connect(dest)
            c.setblocking(False)
            self.clients.append(c)
        self.factory = PbuFactory(150)
        self.mns = mns
        self.seq = [0] * mns
        self.hoa = [0] * mns

    def phase(self, kind: int, burst: int) -> float:
        """CPU µs per PBU inside ``Runtime.step`` for one PBU of ``kind`` per MN."""
        build, step, clients = self.factory.build, self.rt.step, self.clients
        spent = 0.0
        answered = bras = 0
        next_freeze = time.monotonic() + 0.5
        for first in range(0, self.mns, burst):
            todo = range(first, min(first + burst, self.mns))
            moved = 1 if kind in (HANDOFF, DETACH) else 0  # at the next MAG
            for i in todo:
                s = self.seq[i] = (self.seq[i] + 1) & 0xFFFF
                raw = build(kind, i, s) if kind == ATTACH else build(kind, i, s,
                                                                      self.hoa[i], 14)
                clients[(i + moved) % MAGS].send(raw)
            want = answered + len(todo)
            for _ in range(1000):
                select.select([self.transport.sock], [], [], 0.05)  # arrived (not counted)
                t = time.process_time()
                step(0.0)
                spent += time.process_time() - t
                ready, _, _ = select.select(clients, [], [], 0.05)
                for c in ready:
                    while True:
                        try:
                            pba = c.recv(2048)
                        except BlockingIOError:
                            break
                        if pba[2] != _BA:  # a BRI to the old MAG: its BRA
                            bra = bra_for(pba)
                            if bra is not None:
                                c.send(bra)
                                bras += 1
                            continue
                        answered += 1
                        mn, hoa = pba_mn(pba), pba_hoa(pba)
                        if mn is not None and hoa is not None:
                            self.hoa[mn] = hoa[2]
                if answered >= want and bras >= (want if kind == HANDOFF else 0):
                    break
            else:
                raise SystemExit(f"no answer to PBUs {first}..: {self.rt.counters}")
            if time.monotonic() >= next_freeze:  # as Runtime.run does on every tick
                gc.freeze()
                next_freeze = time.monotonic() + 0.5
        return spent / self.mns * 1e6

    def close(self) -> None:
        self.rt.close()
        for c in self.clients:
            c.close()


def one(mns: int, burst: int, moves: bool = False) -> dict[str, float]:
    gc.collect()
    before = rss_kb()
    b = Bench(mns)
    try:
        out = {"attach": b.phase(ATTACH, burst), "refresh (slow, learns)":
               b.phase(REFRESH, burst), "refresh (fast path)": b.phase(REFRESH, burst)}
        out["RSS B per binding"] = (rss_kb() - before) * 1024 / max(1, len(b.lma))
        assert len(b.lma) == mns, len(b.lma)
        if moves:
            out["handoff (+BRI, BRA)"] = b.phase(HANDOFF, burst)
            out["detach"] = b.phase(DETACH, burst)
            assert len(b.lma) == 0, len(b.lma)
        return out
    finally:
        b.close()


def _proc(pid: int) -> tuple[float, float]:
    """(CPU seconds, RSS MB) of a live process, from /proc."""
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
    rss = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
    return cpu, rss


def start_lma() -> tuple[subprocess.Popen, int]:
    """``pmipview lma`` on 127.0.0.1 (CPU 0, ``--no-live``), as the process benches run
    it; returns once it listens, with its port."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = os.environ.get("PYTHONPATH") or str(Path(__file__).resolve().parent.parent)
    pin = (lambda: os.sched_setaffinity(0, {0})) if (os.cpu_count() or 1) > 1 else None
    lma = subprocess.Popen([sys.executable, "-m", "pmipview", "lma", "--listen", "127.0.0.1",
                            "--port", str(port), "--pool", "10.64.0.0/14", "--no-live"],
                           cwd=code, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, preexec_fn=pin)
    assert lma.stdout is not None
    lma.stdout.readline()
    return lma, port


def mag_clients(port: int) -> list[socket.socket]:
    """One connected, non-blocking socket per MAG (127.0.1.x) to the LMA's ``port``."""
    clients = []
    for k in range(MAGS):
        c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        c.bind((f"127.0.1.{k + 1}", 0))
        c.connect(("127.0.0.1", port))
        c.setblocking(False)
        clients.append(c)
    return clients


class Phases:
    """One PBU of a kind per MN, in bursts, closed-loop (a burst, then its answers), to
    an LMA process: never overloaded."""

    def __init__(self, clients: list[socket.socket], mns: int, burst: int) -> None:
        self.clients, self.mns, self.burst = clients, mns, burst
        self.factory, self.seqs, self.hoas = PbuFactory(150), [0] * mns, [0] * mns

    def run(self, kind: int, timeout: float = 5.0) -> None:
        factory, seqs, hoas, clients = self.factory, self.seqs, self.hoas, self.clients
        for first in range(0, self.mns, self.burst):
            todo = range(first, min(first + self.burst, self.mns))
            for i in todo:
                q = seqs[i] = (seqs[i] + 1) & 0xFFFF
                raw = factory.build(kind, i, q) if kind == ATTACH else factory.build(
                    kind, i, q, hoas[i], 14)
                clients[i % MAGS].send(raw)
            left = len(todo)
            while left:
                ready, _, _ = select.select(clients, [], [], timeout)
                if not ready:
                    raise SystemExit(f"pmipview lma did not answer PBUs {first}..")
                for c in ready:
                    while True:
                        try:
                            pba = c.recv(2048)
                        except BlockingIOError:
                            break
                        left -= 1
                        mn, hoa = pba_mn(pba), pba_hoa(pba)
                        if mn is not None and hoa is not None:
                            hoas[mn] = hoa[2]


def process(mns: int, burst: int) -> dict[str, float]:
    """The same phases against a ``pmipview lma`` process (CPU 0), sent closed-loop (a
    burst, then its answers) so that it is never overloaded: its CPU µs per PBU and its
    RSS (/proc) after each phase."""
    lma, port = start_lma()
    try:
        clients = mag_clients(port)
        phases = Phases(clients, mns, burst)
        out: dict[str, float] = {"RSS MB at start": round(_proc(lma.pid)[1], 1)}
        for label, kind in (("attach", ATTACH), ("refresh (slow, learns)", REFRESH),
                            ("refresh (fast path)", REFRESH)):
            cpu0 = _proc(lma.pid)[0]
            phases.run(kind)
            cpu1, rss = _proc(lma.pid)
            out[f"{label} µs"] = round((cpu1 - cpu0) / mns * 1e6, 1)
            out[f"RSS MB after {label}"] = round(rss, 1)
        for c in clients:
            c.close()
        return out
    finally:
        lma.terminate()
        lma.wait(10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mns", type=int, default=100_000)
    ap.add_argument("--burst", default="1,64", help="datagrams per step (comma list)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", default=None)
    ap.add_argument("--moves", action="store_true",
                    help="then a handoff and a detach per MN (in-process runtime only)")
    ap.add_argument("--process", action="store_true",
                    help="against a pmipview lma process instead of an in-process runtime")
    a = ap.parse_args()
    import pmipview

    print(f"code: {Path(pmipview.__file__).parent.parent}", flush=True)
    result: dict[str, dict[str, float]] = {}
    for burst in (int(x) for x in a.burst.split(",")):
        if a.process:
            rounds = [process(a.mns, burst) for _ in range(a.rounds)]
            med = {k: round(statistics.median(r[k] for r in rounds), 1) for k in rounds[0]}
            result[f"process, burst {burst}"] = med
            print(f"process, burst {burst:4d}: " + ", ".join(f"{k} {v}" for k, v in med.items()),
                  flush=True)
            continue
        rounds = [one(a.mns, burst, a.moves) for _ in range(a.rounds)]
        med = {k: round(statistics.median(r[k] for r in rounds), 1) for k in rounds[0]}
        med["RSS B per binding"] = round(rounds[0]["RSS B per binding"])  # first: fresh heap
        result[f"burst {burst}"] = med
        print(f"burst {burst:4d}: " + ", ".join(f"{k} {v}" for k, v in med.items()),
              flush=True)
    if a.json:
        Path(a.json).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
