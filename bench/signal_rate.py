"""CPU time of decode + signal per signaling frame: the full decode then ``signal_of``
against signals straight from the bytes (``scan(fast=signal_of_record)``), same process.

    python bench/signal_rate.py FILE [FILE ...]      # PMIPVIEW_PURE=1: the pure twins

Reads each capture into memory first (the reader is not measured), then for each path
drains ``scan(records, tally, lite=True)`` and builds every signal; median of 3 runs
(``time.process_time``), the cyclic GC off as in ``pipeline.correlate``.  Both paths must
give the same signals and tally.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pmipview.packets import Packet, Tally, scan
from pmipview.signals import signal_of, signal_of_record
from pmipview.sources import open_source


def drain(records: list, fast: bool) -> tuple[list, Tally]:
    tally = Tally()
    out = []
    for item in scan(records, tally, lite=True, fast=signal_of_record if fast else None):
        out.append(signal_of(item) if type(item) is Packet else item)
    return out, tally


def main(files: list[str]) -> int:
    if not files:
        print(__doc__.strip().splitlines()[3].strip(), file=sys.stderr)
        return 2
    gc.disable()
    for path in files:
        src = open_source(path)
        try:
            records = list(src)
        finally:
            src.close()
        full, fast = drain(records, False), drain(records, True)
        if full != fast:
            print(f"{path}: the two paths differ", file=sys.stderr)
            return 1
        decoded = full[1].decoded
        line = [f"{Path(path).name}: {decoded:,} signaling frames"]
        for name, flag in (("full decode + signal_of", False), ("from the bytes", True)):
            runs = []
            for _ in range(3):
                start = time.process_time()
                drain(records, flag)
                runs.append(time.process_time() - start)
            line.append(f"{name} {statistics.median(runs) * 1e6 / max(1, decoded):.1f} µs")
        print(" | ".join(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
