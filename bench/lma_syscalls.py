"""Syscalls per PBU of a ``pmipview lma`` process (``strace -c`` attached to it), on loopback.

    .venv/bin/python bench/lma_syscalls.py --mns 5000 --burst 1,64
    PYTHONPATH=/work/main /work/main/.venv/bin/python bench/lma_syscalls.py   # main, A/B

The LMA runs as in ``bench/lma_stages.py --process`` (CPU 0, ``--no-live``); 14 client
sockets on 127.0.1.x send PBUs closed-loop in bursts of ``--burst``: every MN attaches,
then refreshes twice (the second refresh is a fast-path hit).  ``strace -c -f -p`` is
attached to the LMA for each phase only (started after the previous phase, stopped with
SIGINT after it), and its table is divided by the PBUs of the phase.  strace slows every
syscall down: the counts are what this measures, not the times.  Loopback only.
"""

from __future__ import annotations

import argparse
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if not os.environ.get("PYTHONPATH"):  # PYTHONPATH picks the code measured (A/B)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pmipview.load.wire import ATTACH, REFRESH, PbuFactory, pba_hoa, pba_mn

MAGS = 14
PHASES = (("attach", ATTACH), ("refresh (slow)", REFRESH), ("refresh (fast)", REFRESH))


def strace_table(path: Path) -> dict[str, int]:
    """syscall -> calls (errors included) from an ``strace -c`` summary."""
    out: dict[str, int] = {}
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) >= 5 and parts[0][0].isdigit() and parts[-1] != "total":
            out[parts[-1]] = int(parts[3])
    return out


def run(mns: int, burst: int, perf: str | None = None) -> dict[str, dict[str, float]]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = os.environ.get("PYTHONPATH") or str(Path(__file__).resolve().parent.parent)
    pin = (lambda: os.sched_setaffinity(0, {0})) if (os.cpu_count() or 1) > 1 else None
    lma = subprocess.Popen([sys.executable, "-m", "pmipview", "lma", "--listen", "127.0.0.1",
                            "--port", str(port), "--pool", "10.64.0.0/14", "--no-live"],
                           cwd=code, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, preexec_fn=pin)
    result: dict[str, dict[str, float]] = {}
    try:
        assert lma.stdout is not None
        lma.stdout.readline()
        clients = []
        for k in range(MAGS):
            c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            c.bind((f"127.0.1.{k + 1}", 0))
            c.connect(("127.0.0.1", port))
            c.setblocking(False)
            clients.append(c)
        factory, seqs, hoas = PbuFactory(150), [0] * mns, [0] * mns
        for label, kind in PHASES:
            with tempfile.TemporaryDirectory() as tmp:
                out = Path(tmp) / "strace"
                cmd = ["strace", "-c", "-f", "-o", str(out), "-p", str(lma.pid)]
                if perf:  # a profile instead of the counts
                    cmd = ["perf", "record", "-q", "-o", f"{perf}-{burst}-{label[:12]}.data",
                           "-p", str(lma.pid)]
                tracer = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
                time.sleep(1.0)  # attached (strace has no "ready" signal)
                for first in range(0, mns, burst):
                    todo = range(first, min(first + burst, mns))
                    for i in todo:
                        q = seqs[i] = (seqs[i] + 1) & 0xFFFF
                        raw = factory.build(kind, i, q) if kind == ATTACH else factory.build(
                            kind, i, q, hoas[i], 14)
                        clients[i % MAGS].send(raw)
                    left = len(todo)
                    while left:
                        ready, _, _ = select.select(clients, [], [], 10.0)
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
                tracer.send_signal(signal.SIGINT)
                tracer.wait(30)
                if perf:
                    continue
                table = strace_table(out)
            # the 1 s wait before and after: the runtime's ticks (epoll timeouts) only
            result[label] = {k: round(v / mns, 3) for k, v in sorted(table.items())
                             if v / mns >= 0.001}
            result[label]["total"] = round(sum(table.values()) / mns, 3)
        for c in clients:
            c.close()
        return result
    finally:
        lma.terminate()
        lma.wait(10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mns", type=int, default=5000)
    ap.add_argument("--burst", default="1,64", help="datagrams per burst (comma list)")
    ap.add_argument("--perf", metavar="PREFIX", help="perf record each phase to "
                    "PREFIX-BURST-PHASE.data instead of counting syscalls")
    a = ap.parse_args()
    import pmipview

    print(f"code: {Path(pmipview.__file__).parent.parent}", flush=True)
    for burst in (int(x) for x in a.burst.split(",")):
        for label, row in run(a.mns, burst, a.perf).items():
            print(f"burst {burst:3d} {label:15s}: " + ", ".join(f"{k} {v}"
                                                          for k, v in row.items()), flush=True)


if __name__ == "__main__":
    main()
