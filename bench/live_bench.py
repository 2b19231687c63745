"""Can ``pmipview live`` keep up?  tcpreplay plays a shape of bench/shapes.py into a veth
pair in a network namespace at a fixed rate; ``pmipview live -i`` captures the other end.

    sudo python bench/live_bench.py [--shape mh-noise] [--frames 100000]
                                    [--pps 10000 50000 100000] [--via dumpcap tshark]
                                    [--nice 0 10]

``--via dumpcap`` is today's capture path (dumpcap writes a file, the analysis follows it);
``--via tshark`` runs the same command with no dumpcap on its PATH, so that it falls back
to the tshark pipe (the path before): A/B in one run.

For each rate and path it prints: frames sent (tcpreplay), frames read by the live
timeline, frames lost (sent and not read), frames the capture says it dropped, the
seconds from the end of the replay to the exit of ``pmipview live`` after SIGINT (its
final lag: it stops dumpcap 0.5 s after the signal, drains the file, then writes the
JSON), the live process's CPU time (user+sys) and peak RSS, and whether the live
timeline JSON equals ``pmipview timeline`` of its own --write file.
Root, iproute2, tcpreplay, dumpcap and tshark are needed.  Results: docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.shapes import make


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def _path_without_dumpcap(tmp: Path) -> str:
    """A PATH holding tshark alone: ``pmipview live`` then falls back to the tshark pipe."""
    tshark = shutil.which("tshark")
    assert tshark is not None
    (tmp / "tshark").symlink_to(tshark)
    return str(tmp)


def _interruptible() -> None:
    """In the child: SIGINT as at a terminal, even when this bench runs in the background
    (where the shell starts it with SIGINT ignored, and Python then keeps ignoring it)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def one(shape_file: Path, pps: int, out: Path, via: str, nice: int | None = None) -> dict:
    tag = uuid.uuid4().hex[:6]
    ns, here, there = f"pvb{tag}", f"pvx{tag}", f"pvy{tag}"
    run(["ip", "netns", "add", ns])
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ)
        if via == "tshark":
            env["PATH"] = _path_without_dumpcap(Path(tmp))
        try:
            run(["ip", "link", "add", here, "type", "veth", "peer", "name", there])
            run(["ip", "link", "set", there, "netns", ns])
            run(["ip", "link", "set", here, "up"])
            run(["ip", "netns", "exec", ns, "ip", "link", "set", there, "up"])
            written = out / f"live-{via}-{pps}.pcapng"
            # --nice N: the same command with cli/live.py's ANALYSIS_NICE set to N (A/B)
            start = ["-m", "pmipview"] if nice is None else [
                "-c", f"import sys, pmipview.cli.live as m; m.ANALYSIS_NICE = {nice}; "
                "sys.argv[0] = 'pmipview'; from pmipview.cli import main; main()"]
            live = subprocess.Popen(
                [sys.executable, *start, "live",
                 "-i", here, "--json", "--no-dashboard", "--write", str(written)],
                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                preexec_fn=_interruptible)
            seen = b""
            deadline = time.monotonic() + 60
            while b"capturing on" not in seen and time.monotonic() < deadline:
                chunk = os.read(live.stderr.fileno(), 4096)
                if not chunk:
                    break
                seen += chunk
            streams: dict[str, bytes] = {}
            readers = [threading.Thread(target=lambda k=k, f=f: streams.__setitem__(k, f.read()))
                       for k, f in (("out", live.stdout), ("err", live.stderr))]
            for t in readers:
                t.start()
            replay = run(["ip", "netns", "exec", ns, "tcpreplay", "-i", there, "--pps",
                          str(pps), str(shape_file)], timeout=3600)
            replayed = time.monotonic()
            live.send_signal(signal.SIGINT)
            _, status, usage = os.wait4(live.pid, 0)
            exited = time.monotonic()
            live.returncode = os.waitstatus_to_exitcode(status)
            for t in readers:
                t.join()
            sent = int(re.search(r"Actual: (\d+) packets", replay.stdout).group(1))
            rate = re.search(r"Rated: [\d.]+ Bps, [\d.]+ Mbps, ([\d.]+) pps", replay.stdout)
            stderr = (seen + streams["err"]).decode(errors="replace")
            if live.returncode != 0:
                raise SystemExit(f"live exited {live.returncode}: {stderr[-500:]}")
            doc = json.loads(streams["out"])
            file = run([sys.executable, "-m", "pmipview", "timeline", str(written), "--json"],
                       cwd=ROOT, timeout=600)
            dropped = re.search(r"dropped (\d+) frames", stderr)
            read = doc["capture"]["frames"]
            return {"via": via, "pps_asked": pps,
                    "pps_sent": float(rate.group(1)) if rate else None,
                    "sent": sent, "read": read, "lost": max(0, sent - read),
                    "dropped": int(dropped.group(1)) if dropped else 0,
                    "catch_up_s": exited - replayed,
                    "cpu_s": usage.ru_utime + usage.ru_stime,
                    "rss_mb": usage.ru_maxrss / 1024,
                    "equal_to_file": json.loads(file.stdout)["mobile_nodes"]
                    == doc["mobile_nodes"]}
        finally:
            subprocess.run(["ip", "link", "del", here], capture_output=True)
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shape", default="mh-noise")
    ap.add_argument("--frames", type=int, default=100_000)
    ap.add_argument("--pps", type=int, nargs="+", default=[10_000, 50_000, 100_000])
    ap.add_argument("--via", nargs="+", choices=("dumpcap", "tshark"), default=["dumpcap"])
    ap.add_argument("--nice", type=int, nargs="+", default=[None],
                    help="run with the analysis thread at these nice values (default: "
                    "pmipview's own, cli/live.py ANALYSIS_NICE)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("live_bench: needs root (network namespaces, tcpreplay)", file=sys.stderr)
        return 2
    shape_file = make(args.shape, args.frames)
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    print(f"{'via':>7} {'nice':>4} {'pps asked':>9} {'pps sent':>9} {'sent':>7} {'read':>7} "
          f"{'lost':>6} {'dropped':>7} {'catch-up s':>10} {'CPU s':>6} {'RSS MB':>6}  "
          f"equal to the file", flush=True)
    for pps in args.pps:
        for via, nice in ((v, n) for v in args.via for n in args.nice):
            r = one(shape_file, pps, out, via, nice)
            print(f"{r['via']:>7} {'-' if nice is None else nice:>4} {r['pps_asked']:>9} "
                  f"{r['pps_sent'] or 0:>9.0f} {r['sent']:>7} {r['read']:>7} {r['lost']:>6} "
                  f"{r['dropped']:>7} {r['catch_up_s']:>10.1f} {r['cpu_s']:>6.1f} "
                  f"{r['rss_mb']:>6.0f}  {r['equal_to_file']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
