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
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if not os.environ.get("PYTHONPATH"):  # PYTHONPATH picks the code measured (A/B)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.lma_stages import Phases, mag_clients, start_lma
from pmipview.load.wire import ATTACH, REFRESH

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
    lma, port = start_lma()
    result: dict[str, dict[str, float]] = {}
    try:
        clients = mag_clients(port)
        phases = Phases(clients, mns, burst)
        for label, kind in PHASES:
            with tempfile.TemporaryDirectory() as tmp:
                out = Path(tmp) / "strace"
                cmd = ["strace", "-c", "-f", "-o", str(out), "-p", str(lma.pid)]
                if perf:  # a profile instead of the counts
                    cmd = ["perf", "record", "-q", "-o", f"{perf}-{burst}-{label[:12]}.data",
                           "-p", str(lma.pid)]
                tracer = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
                time.sleep(1.0)  # attached (strace has no "ready" signal)
                phases.run(kind, timeout=10.0)
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
