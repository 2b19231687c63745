"""`make bench`: tshark and pmipview on the four shapes of bench/shapes.py, same run.

    BENCH_FRAMES=1000000 BENCH_RUNS=3 python bench/shapes_bench.py [shape ...]
    BENCH_SRC=/path/to/other/checkout python bench/shapes_bench.py   # A/B: its pmipview

For each shape: ``tshark -r F -Y "mipv6 or dhcp" -T fields -e frame.number``,
``pmipview dissect --summary --json``, ``pmipview timeline --json`` and two floors (our
reader iterating the records; reading and pre-filtering them), pmipview both with the
compiled hot path and pure (``PMIPVIEW_PURE=1``), each in its own process, the runs
interleaved; CPU time (user + sys of the child, getrusage) and wall time are medians of
the runs, peak RSS the child's maximum.  The ratio to tshark is of CPU times (the machine
is shared: CPU time moves less with the load than wall time).  pmipview's output must be
the same on both paths.  One table per shape on stdout and in ``bench/out/shapes.md``.
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
         "src = open_source(sys.argv[1])\nn = 0\n"
         "fused = src.prefiltered() if sys.argv[2] == 'filter' else None\n"
         "if fused is not None:\n    for r in fused[0]:\n        n += 1\n"
         "    n = fused[1].frames\n"
         "elif sys.argv[2] == 'filter':\n    from dissectors.prefilter import classify\n"
         "    for r in src:\n        classify(r.linktype, r.data)\n        n += 1\n"
         "else:\n    for r in src:\n        n += 1\nprint(n)\n")
"""The floors: read the records and nothing else ('read'), or read and pre-filter them
('filter': with the compiled loop, the pre-filter runs inside it and only the frames it
lets through become records)."""

PURE = {"PMIPVIEW_PURE": "1"}


def measured(cmd: list[str], env: dict[str, str] | None = None
             ) -> tuple[float, float, int, str]:
    """CPU time (user + sys), wall time, the child's peak RSS (KiB) and its stdout; run
    where BENCH_SRC says, with ``env`` added to the environment."""
    wrapper = ("import resource,subprocess,sys,time;"
               "t=time.perf_counter();p=subprocess.run(sys.argv[1:],capture_output=True);"
               "w=time.perf_counter()-t;u=resource.getrusage(resource.RUSAGE_CHILDREN);"
               "sys.stdout.buffer.write(p.stdout);"
               "sys.stderr.write(f'\\n@@{u.ru_utime+u.ru_stime} {w} {u.ru_maxrss} "
               "{p.returncode}\\n')")
    src = os.environ.get("BENCH_SRC") or str(ROOT)
    full_env = {**os.environ, "PYTHONPATH": src, **(env or {})}
    p = subprocess.run([PY, "-c", wrapper, *cmd], capture_output=True, text=True, cwd=src,
                       env=full_env)
    cpu, wall, rss, code = p.stderr.strip().splitlines()[-1].lstrip("@").split()
    if int(code) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({code}): {p.stderr.strip()[:400]}")
    return float(cpu), float(wall), int(rss), p.stdout


def table(shape: str, path: Path, runs: int) -> str:
    """One shape: every tool, runs interleaved (run 1 of each, run 2 of each...) so that
    the machine's load spreads over all of them; medians."""
    f = str(path.resolve())
    tools: list[tuple[str, list[str], dict[str, str] | None]] = []
    tshark = shutil.which("tshark")
    if tshark:
        tools.append(("tshark -Y 'mipv6 or dhcp' -T fields",
                      [tshark, "-r", f, "-Y", "mipv6 or dhcp", "-T", "fields",
                       "-e", "frame.number"], None))
    for label, env in (("compiled", None), ("pure", PURE)):
        tools += [
            (f"pmipview dissect --summary --json ({label})",
             [PY, "-m", "pmipview", "dissect", "--summary", "--json", f], env),
            (f"pmipview timeline --json ({label})",
             [PY, "-m", "pmipview", "timeline", "--json", f], env),
            (f"floor: read the records ({label})", [PY, "-c", FLOOR, f, "read"], env),
            (f"floor: read + pre-filter ({label})", [PY, "-c", FLOOR, f, "filter"], env),
        ]
    results: dict[str, list[tuple[float, float, int, str]]] = {t[0]: [] for t in tools}
    for _ in range(runs):
        for name, cmd, env in tools:
            results[name].append(measured(cmd, env))
    import json

    first = results[tools[1 if tshark else 0][0]][-1][3]
    summary = json.loads(first)["summary"]
    frames, decoded = summary["frames"], summary["decoded"]
    for kind in ("dissect", "timeline"):  # the compiled path changes no output
        outs = {r[-1][3] for n, r in results.items() if f"pmipview {kind}" in n}
        if len(outs) != 1:
            raise SystemExit(f"{shape}: pmipview {kind} output differs between the paths")
    sig = len(results[tools[0][0]][-1][3].split()) if tshark else None
    ts_cpu = statistics.median(r[0] for r in results[tools[0][0]]) if tshark else None
    lines = [f"### {shape}: {frames:,} frames, {decoded:,} signaling "
             f"(tshark matched {sig if sig is not None else '-'}), "
             f"{path.stat().st_size / 1e6:.0f} MB; median of {runs}, {os.cpu_count()} CPUs",
             "", "| tool | CPU s | wall s | frames/s (CPU) | CPU µs per signaling frame | "
             "vs tshark (CPU) | peak RSS MiB |", "|---|--:|--:|--:|--:|--:|--:|"]
    for name, _, _ in tools:
        rs = results[name]
        cpu = statistics.median(r[0] for r in rs)
        wall = statistics.median(r[1] for r in rs)
        peak = max(r[2] for r in rs)
        ratio = f"{ts_cpu / cpu:.1f}x" if ts_cpu else "-"
        lines.append(f"| {name} | {cpu:.2f} | {wall:.2f} | {frames / cpu:,.0f} | "
                     f"{cpu * 1e6 / max(1, decoded):.1f} | {ratio} | {peak / 1024:.0f} |")
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
