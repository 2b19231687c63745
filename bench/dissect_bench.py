"""pmipview against tshark and pyshark on the same capture, same run.

    python bench/dissect_bench.py                      # makes bench/out/mixed-1M.pcap if missing
    python bench/dissect_bench.py --file X.pcap --runs 5 --pyshark-frames 20000
    python bench/dissect_bench.py --mode timeline      # timeline --json on 1,000 MNs
                                                       # (bench/out/mns-1M.pcapng)

``--mode dissect`` times ``pmipview dissect --summary --json`` (issue 3); ``--mode
timeline`` times ``pmipview timeline --json`` on a capture of 1,000 simulated MNs made by
bench/make_timeline_capture.py (issue 5).

Each tool runs in its own process; wall time is the median of ``--runs`` runs, peak memory
is the child's maximum resident set size (getrusage).  The tshark command is the one the
issue names: ``tshark -r FILE -Y "mipv6 or dhcp" -T fields -e frame.number``.  pyshark
(a FileCapture loop touching each packet) costs about a millisecond per packet, so it runs
on the first ``--pyshark-frames`` frames and its time is scaled to the whole file (said
so in the table).  A second, 10x smaller capture shows whether memory grows with the file.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def measured(cmd: list[str]) -> tuple[float, int, str]:
    """Run ``cmd`` under a small wrapper that reports the child's own peak RSS."""
    wrapper = ("import resource,subprocess,sys,time;"
               "t=time.perf_counter();p=subprocess.run(sys.argv[1:],capture_output=True);"
               "w=time.perf_counter()-t;"
               "sys.stdout.buffer.write(p.stdout);"
               "sys.stderr.write(f'\\n@@{w} {resource.getrusage(resource.RUSAGE_CHILDREN)"
               ".ru_maxrss} {p.returncode}\\n')")
    p = subprocess.run([PY, "-c", wrapper, *cmd], capture_output=True, text=True, cwd=ROOT)
    tail = p.stderr.strip().splitlines()[-1]
    wall, rss, code = tail.lstrip("@").split()
    if int(code) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({code}): {p.stderr.strip()[:400]}")
    return float(wall), int(rss), p.stdout


PYSHARK_LOOP = """
import sys, pyshark
n = 0
limit = int(sys.argv[2])
cap = pyshark.FileCapture(sys.argv[1], display_filter="mipv6 or dhcp", keep_packets=False)
try:
    for pkt in cap:
        n += 1
        _ = pkt.highest_layer
        if int(pkt.number) >= limit:
            break
finally:
    cap.close()
print(n)
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=("dissect", "timeline"), default="dissect")
    parser.add_argument("--file", default=None,
                        help="capture (default: bench/out/mixed-1M.pcap, or mns-1M.pcapng "
                             "for --mode timeline)")
    parser.add_argument("--frames", type=int, default=1_000_000,
                        help="frames of the capture made when --file is missing")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pyshark-frames", type=int, default=20_000,
                        help="frames pyshark reads (0: skip pyshark)")
    args = parser.parse_args()
    timeline = args.mode == "timeline"
    path = ROOT / (args.file or ("bench/out/mns-1M.pcapng" if timeline
                                 else "bench/out/mixed-1M.pcap"))
    small = path.with_name(path.stem + "-small" + path.suffix)
    maker = "bench/make_timeline_capture.py" if timeline else "bench/make_capture.py"
    for p, n in ((path, args.frames), (small, args.frames // 10)):
        if not p.exists():
            extra = ["--mns", "1000" if p == path else "100"] if timeline else []
            subprocess.run([PY, maker, "--frames", str(n), "-o", str(p), *extra],
                           check=True, cwd=ROOT)
    tshark = shutil.which("tshark")
    pmipview = [PY, "-m", "pmipview", "timeline", "--json"] if timeline else \
        [PY, "-m", "pmipview", "dissect", "--summary", "--json"]
    rows = []

    def bench(name: str, cmd: list[str], runs: int) -> tuple[float, int, str]:
        results = [measured(cmd) for _ in range(runs)]
        wall = statistics.median(r[0] for r in results)
        rss = max(r[1] for r in results)
        return wall, rss, results[-1][2]

    ours_w, ours_rss, ours_out = bench("pmipview", [*pmipview, str(path)], args.runs)
    small_w, small_rss, _ = bench("pmipview", [*pmipview, str(small)], args.runs)
    import json
    doc = json.loads(ours_out)
    if timeline:
        cap = doc["capture"]
        summary = {"frames": cap["frames"], "decoded": cap["signaling_frames"]}
        label = f"pmipview timeline --json ({len(doc['mobile_nodes'])} MNs)"
    else:
        summary = doc["summary"]
        label = "pmipview dissect --summary"
    rows.append((label, ours_w, ours_rss, summary["decoded"], ""))
    if tshark:
        ts_w, ts_rss, ts_out = bench("tshark", [tshark, "-r", str(path), "-Y", "mipv6 or dhcp",
                                                "-T", "fields", "-e", "frame.number"],
                                     args.runs)
        rows.append(("tshark -Y 'mipv6 or dhcp' -T fields", ts_w, ts_rss,
                     len(ts_out.split()), ""))
    if args.pyshark_frames:
        ps_w, ps_rss, ps_out = bench("pyshark", [PY, "-c", PYSHARK_LOOP, str(path),
                                                 str(args.pyshark_frames)], 1)
        frames = summary["frames"]
        scaled = ps_w * frames / args.pyshark_frames
        rows.append(("pyshark FileCapture loop", scaled, ps_rss, int(ps_out.strip() or 0) *
                     frames // args.pyshark_frames,
                     f"measured on the first {args.pyshark_frames} frames "
                     f"({ps_w:.1f} s), scaled x{frames / args.pyshark_frames:.0f}"))
    size_mb = path.stat().st_size / 1e6
    print(f"\ncapture: {path.name}, {summary['frames']} frames, {size_mb:.0f} MB, "
          f"{summary['decoded']} signaling; median of {args.runs} runs; "
          f"{os.cpu_count()} CPUs\n")
    print("| tool | wall s | frames/s | peak RSS MiB | signaling frames | vs pmipview | note |")
    print("|---|--:|--:|--:|--:|--:|---|")
    for name, wall, rss, matched, note in rows:
        print(f"| {name} | {wall:.2f} | {summary['frames'] / wall:,.0f} | {rss / 1024:.0f} | "
              f"{matched} | {wall / ours_w:.1f}x | {note} |")
    print(f"\npmipview peak RSS: {ours_rss / 1024:.0f} MiB on {summary['frames']} frames, "
          f"{small_rss / 1024:.0f} MiB on {summary['frames'] // 10} frames "
          f"({small_w:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
