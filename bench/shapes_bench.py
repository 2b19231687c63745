"""`make bench`: tshark and pmipview on the four shapes of bench/shapes.py, same run.

    BENCH_FRAMES=1000000 BENCH_RUNS=3 python bench/shapes_bench.py [shape ...]
    BENCH_SRC=/path/to/other/checkout python bench/shapes_bench.py   # A/B: its pmipview

For each shape: ``tshark -r F -Y "mipv6 or dhcp" -T fields -e frame.number``,
``pmipview dissect --summary --json``, ``pmipview timeline --json`` and the pure-Python
floor (our reader iterating the records, nothing else), each in its own process, wall
time the median of the runs, peak RSS the child's maximum (getrusage).  One table per
shape on stdout and in ``bench/out/shapes.md``.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.dissect_bench import PY
from bench.shapes import OUT, ROOT, SHAPES, default_frames, make

FLOOR = ("import sys\nfrom pmipview.sources import open_source\n"
         "n = 0\nfor r in open_source(sys.argv[1]):\n    n += 1\nprint(n)\n")


def measured(cmd: list[str]) -> tuple[float, int, str]:
    """Wall time, the child's peak RSS (KiB) and its stdout; run where BENCH_SRC says."""
    wrapper = ("import resource,subprocess,sys,time;"
               "t=time.perf_counter();p=subprocess.run(sys.argv[1:],capture_output=True);"
               "w=time.perf_counter()-t;"
               "sys.stdout.buffer.write(p.stdout);"
               "sys.stderr.write(f'\\n@@{w} {resource.getrusage(resource.RUSAGE_CHILDREN)"
               ".ru_maxrss} {p.returncode}\\n')")
    src = os.environ.get("BENCH_SRC") or str(ROOT)
    env = {**os.environ, "PYTHONPATH": src}
    p = subprocess.run([PY, "-c", wrapper, *cmd], capture_output=True, text=True, cwd=src,
                       env=env)
    wall, rss, code = p.stderr.strip().splitlines()[-1].lstrip("@").split()
    if int(code) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({code}): {p.stderr.strip()[:400]}")
    return float(wall), int(rss), p.stdout


def table(shape: str, path: Path, runs: int) -> str:
    def bench(cmd: list[str]) -> tuple[float, int, str]:
        results = [measured(cmd) for _ in range(runs)]
        return (statistics.median(r[0] for r in results), max(r[1] for r in results),
                results[-1][2])

    f = str(path.resolve())
    rows: list[tuple[str, float, int]] = []
    tshark = shutil.which("tshark")
    ts_w = None
    sig = None
    if tshark:
        ts_w, ts_rss, out = bench([tshark, "-r", f, "-Y", "mipv6 or dhcp", "-T", "fields",
                                   "-e", "frame.number"])
        sig = len(out.split())
        rows.append(("tshark -Y 'mipv6 or dhcp' -T fields", ts_w, ts_rss))
    w, rss, out = bench([PY, "-m", "pmipview", "dissect", "--summary", "--json", f])
    import json
    summary = json.loads(out)["summary"]
    frames, decoded = summary["frames"], summary["decoded"]
    rows.append(("pmipview dissect --summary --json", w, rss))
    w, rss, _ = bench([PY, "-m", "pmipview", "timeline", "--json", f])
    rows.append(("pmipview timeline --json", w, rss))
    w, rss, _ = bench([PY, "-c", FLOOR, f])
    rows.append(("floor: read the records (pure Python)", w, rss))
    lines = [f"### {shape}: {frames:,} frames, {decoded:,} signaling "
             f"(tshark matched {sig if sig is not None else '-'}), "
             f"{path.stat().st_size / 1e6:.0f} MB; median of {runs}, {os.cpu_count()} CPUs",
             "", "| tool | wall s | frames/s | µs per signaling frame | vs tshark | "
             "peak RSS MiB |", "|---|--:|--:|--:|--:|--:|"]
    for name, wall, peak in rows:
        ratio = f"{ts_w / wall:.1f}x" if ts_w else "-"
        lines.append(f"| {name} | {wall:.2f} | {frames / wall:,.0f} | "
                     f"{wall * 1e6 / max(1, decoded):.1f} | {ratio} | {peak / 1024:.0f} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    shapes = sys.argv[1:] or list(SHAPES)
    bad = set(shapes) - set(SHAPES)
    if bad:
        print(f"shapes_bench: unknown shape {sorted(bad)[0]!r}; shapes: {', '.join(SHAPES)}",
              file=sys.stderr)
        return 2
    frames = default_frames()
    runs = int(os.environ.get("BENCH_RUNS", "3"))
    out: list[str] = []
    for shape in shapes:
        t = table(shape, make(shape, frames), runs)
        print(t, flush=True)
        out.append(t)
    OUT.mkdir(parents=True, exist_ok=True)
    name = "shapes-" + Path(os.environ["BENCH_SRC"]).name + ".md" \
        if os.environ.get("BENCH_SRC") else "shapes.md"
    (OUT / name).write_text("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
