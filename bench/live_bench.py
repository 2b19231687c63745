"""Can ``pmipview live`` keep up?  tcpreplay plays a shape of bench/shapes.py into a veth
pair in a network namespace at a fixed rate; ``pmipview live -i`` captures the other end.

    sudo python bench/live_bench.py [--shape mh-noise] [--frames 200000] [--pps 50000]

For each rate it prints: frames sent (tcpreplay), frames read by the live timeline,
frames the capture says it dropped, the achieved rate, the live process's peak RSS, and
whether the live timeline JSON equals ``pmipview timeline`` of its own --write file.
Root, iproute2, tcpreplay and tshark are needed.  Results: docs/performance.md (live).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.shapes import make


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def _peak_kb(pid: int) -> int | None:
    """The process's peak resident set so far (VmHWM), in kB."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    m = re.search(r"VmHWM:\s+(\d+) kB", text)
    return int(m.group(1)) if m else None


def one(shape_file: Path, pps: int, out: Path) -> dict:
    tag = uuid.uuid4().hex[:6]
    ns, here, there = f"pvb{tag}", f"pvx{tag}", f"pvy{tag}"
    run(["ip", "netns", "add", ns])
    try:
        run(["ip", "link", "add", here, "type", "veth", "peer", "name", there])
        run(["ip", "link", "set", there, "netns", ns])
        run(["ip", "link", "set", here, "up"])
        run(["ip", "netns", "exec", ns, "ip", "link", "set", there, "up"])
        written = out / f"live-{pps}.pcapng"
        live = subprocess.Popen(
            [sys.executable, "-m", "pmipview", "live",
             "-i", here, "--json", "--no-dashboard", "--write", str(written)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        seen = ""
        while "capturing on" not in seen and time.monotonic() < deadline:
            seen += os.read(live.stderr.fileno(), 4096).decode(errors="replace")
        replay = run(["ip", "netns", "exec", ns, "tcpreplay", "-i", there, "--pps", str(pps),
                      str(shape_file)], timeout=3600)
        sent = int(re.search(r"Actual: (\d+) packets", replay.stdout).group(1))
        rate = re.search(r"Rated: [\d.]+ Bps, [\d.]+ Mbps, ([\d.]+) pps", replay.stdout)
        time.sleep(2)
        peak_kb = _peak_kb(live.pid)
        live.send_signal(signal.SIGINT)
        stdout, stderr = live.communicate(timeout=600)
        doc = json.loads(stdout)
        file = run([sys.executable, "-m", "pmipview", "timeline", str(written), "--json"],
                   cwd=ROOT, timeout=600)
        dropped = re.search(r"dropped (\d+) frames", stderr)

        return {"pps_asked": pps, "pps_sent": float(rate.group(1)) if rate else None,
                "sent": sent, "read": doc["capture"]["frames"],
                "dropped": int(dropped.group(1)) if dropped else 0,
                "rss_mb": peak_kb / 1024 if peak_kb else None,
                "equal_to_file": json.loads(file.stdout)["mobile_nodes"]
                == doc["mobile_nodes"]}
    finally:
        subprocess.run(["ip", "link", "del", here], capture_output=True)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shape", default="mh-noise")
    ap.add_argument("--frames", type=int, default=200_000)
    ap.add_argument("--pps", type=int, nargs="+", default=[10_000, 50_000])
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("live_bench: needs root (network namespaces, tcpreplay)", file=sys.stderr)
        return 2
    shape_file = make(args.shape, args.frames)
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    print(f"{'pps asked':>9} {'pps sent':>9} {'sent':>8} {'read':>8} {'dropped':>8} "
          f"{'RSS MB':>7}  equal to the file")
    for pps in args.pps:
        r = one(shape_file, pps, out)
        print(f"{r['pps_asked']:>9} {r['pps_sent'] or 0:>9.0f} {r['sent']:>8} {r['read']:>8} "
              f"{r['dropped']:>8} {r['rss_mb'] or 0:>7.0f}  {r['equal_to_file']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
