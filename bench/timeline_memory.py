"""Peak memory of ``pmipview timeline --json`` on long captures of the same 1,000 MNs.

    python bench/timeline_memory.py [--runs 3]

Two captures of the same 1,000 MNs made by bench/make_timeline_capture.py (same seed and
MAGs; attaches, refreshes, handoffs, detaches, interleaved with unrelated traffic):
1,000,000 frames over 2 hours and 3,000,000 frames over 6 hours (made in bench/out/ when
missing; keep them out of git).  Each run is a fresh ``pmipview timeline --json FILE``
process writing to /dev/null; its peak RSS is what the kernel reports for that child
(``os.wait4`` rusage ``ru_maxrss``).  Prints the median of the runs for each size and the
ratio between them: memory should follow the MNs, not the length of their history
(target: <= 150 MB on 1M frames, within +-10% between 1M and 3M).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
SIZES = (("1M frames, 2 h", 1_000_000, 7200.0, "mns-1M-2h.pcapng"),
         ("3M frames, 6 h", 3_000_000, 21600.0, "mns-3M-6h.pcapng"))


def ensure(frames: int, duration: float, name: str) -> Path:
    path = ROOT / "bench" / "out" / name
    if not path.exists():
        subprocess.run([PY, str(ROOT / "bench" / "make_timeline_capture.py"), "--mns", "1000",
                        "--frames", str(frames), "--duration", str(duration),
                        "-o", str(path)], check=True)
    return path


def peak_rss_mib(path: Path) -> tuple[float, float]:
    """(peak RSS MiB, wall s) of one ``pmipview timeline --json`` run."""
    t0 = time.perf_counter()
    with open(os.devnull, "w") as sink:
        p = subprocess.Popen([PY, "-m", "pmipview", "timeline", "--json", str(path)],
                             stdout=sink, stderr=subprocess.DEVNULL, cwd=ROOT)
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise SystemExit(f"pmipview timeline --json {path} exited {p.returncode}")
    return usage.ru_maxrss / 1024, time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    medians = []
    print("| capture | frames | file MB | peak RSS MiB (median) | runs | wall s (median) |")
    print("|---|--:|--:|--:|--:|--:|")
    for label, frames, duration, name in SIZES:
        path = ensure(frames, duration, name)
        runs = [peak_rss_mib(path) for _ in range(args.runs)]
        rss = statistics.median(r for r, _ in runs)
        wall = statistics.median(w for _, w in runs)
        medians.append(rss)
        print(f"| {label} | {frames:,} | {path.stat().st_size / 1e6:.0f} | {rss:.1f} | "
              f"{', '.join(f'{r:.1f}' for r, _ in runs)} | {wall:.1f} |", flush=True)
    print(f"\n3M / 1M peak RSS: {medians[1] / medians[0]:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
