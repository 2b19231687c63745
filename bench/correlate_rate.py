"""CPU time of the correlator and of the JSON writer per signaling frame, in-process.

    python bench/correlate_rate.py [-n RUNS] FILE [FILE ...]   # PMIPVIEW_PURE=1: pure

Decodes each capture into a list of signals first (not measured), then RUNS times
(default 5): a ``Correlator(summarise=True)`` (as ``timeline --json``) fed the list and
finished, the cyclic GC off as in ``pipeline.correlate``; then ``timeline_json.write`` on
the finished report into a list.  Prints the median µs per signaling frame of each, and
the sha256 of the JSON (the same on two checkouts: run it under ``PYTHONPATH=OTHER``
for an A/B; ``--ab OTHER`` alternates this checkout and OTHER in subprocesses).
"""

from __future__ import annotations

import gc
import hashlib
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

if "PYTHONPATH" not in os.environ:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def signals_of(path: str) -> tuple[list, object]:
    from pmipview.packets import Packet, Tally, scan
    from pmipview.signals import signal_of, signal_of_record
    from pmipview.sources import open_source

    src = open_source(path)
    try:
        records = list(src)
    finally:
        src.close()
    tally = Tally()
    out = []
    for item in scan(records, tally, lite=True, fast=signal_of_record):
        if type(item) is Packet:
            s = signal_of(item)
            if s is not None:
                out.append(s)
        else:
            out.append(item)
    return out, tally


def one(signals: list, tally) -> tuple[float, float, str]:  # type: ignore[no-untyped-def]
    from pmipview.correlate import Correlator
    from pmipview.render import timeline_json

    gc.disable()
    start = time.process_time()
    c = Correlator(summarise=True)
    feed = c.feed
    for s in signals:
        feed(s)
    report = c.finish(tally.max_ts_ns / 1e9 if tally.max_ts_ns is not None else None)
    mid = time.process_time()
    report.frames = tally.frames
    report.start, report.end = tally.min_ts_ns / 1e9, tally.max_ts_ns / 1e9
    parts: list[str] = []
    timeline_json.write(report, None, parts.append)
    end = time.process_time()
    gc.enable()
    text = "".join(parts)
    del report, c, parts
    gc.collect()
    return mid - start, end - mid, hashlib.sha256(text.encode()).hexdigest()[:12]


def main(argv: list[str]) -> int:
    runs = 5
    other = None
    while argv and argv[0].startswith("-"):
        flag = argv.pop(0)
        if flag == "-n":
            runs = int(argv.pop(0))
        elif flag == "--ab":
            other = argv.pop(0)
    if other is not None:
        here = str(Path(__file__).resolve().parent.parent)
        for i in range(runs):
            for tree in (other, here):
                env = dict(os.environ, PYTHONPATH=tree)
                r = subprocess.run([sys.executable, __file__, "-n", "3", *argv], env=env,
                                   capture_output=True, text=True, check=True)
                print(f"[{i}] {tree}: {r.stdout.strip()}", flush=True)
        return 0
    for path in argv:
        signals, tally = signals_of(path)
        n = len(signals)
        corr, js, digests = [], [], set()
        for _ in range(runs):
            a, b, d = one(signals, tally)
            corr.append(a)
            js.append(b)
            digests.add(d)
        print(f"{Path(path).name}: {n:,} signals | correlator "
              f"{statistics.median(corr) * 1e6 / n:.2f} µs | json "
              f"{statistics.median(js) * 1e6 / n:.2f} µs | sha {','.join(sorted(digests))}",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
