"""``pmipview load`` against an LMA on loopback, each its own process on its own core.

    .venv/bin/python bench/load_bench.py            # full: 60 s at 20,000/s, 100,000 MNs
    .venv/bin/python bench/load_bench.py --quick    # 10 s runs, for a first look
    .venv/bin/python bench/load_bench.py --baseline /path/to/main   # A/B of the generator

Measures, each as the median of ``--runs`` runs:

- the sustained run (``--rate``, default 20,000 PBU/s for 60 s, 100,000 MNs): achieved
  transactions/s, timeouts, p99, the largest lag, ``sustained_s`` (the seconds after the
  ramp answered at ≥ 99 % of the rate with no timeout, from the run's CSV rows), and the
  RSS of both processes sampled every 0.5 s (first, max, last: flat or not);
- the login storm first: every MN attaches before anything else, so the full mode ramps
  up over ``login_ramp(mns, rate, --login-rate)`` seconds (40 s for 100,000 MNs at
  20,000/s with attaches kept ≤ 10,000/s), as a network's MNs arrive over time instead of
  all in the first 5 s; the 60 s at the full rate come after the ramp (``--quick`` has
  no ramp: its runs are the storm at the full rate);
- the latency run at 10,000/s: p50/p90/p99/max RTT;
- each against two responders: ``pmipview lma`` (the reference LMA, the target of the
  issue) and a raw-bytes *reflector* (recvfrom → a PBA template → sendto, no decoding), so
  the generator's own ceiling is known apart from the LMA's;
- the stage costs in one process (CPU µs per call: PBU template, PBA read, the LMA's
  decode / core / encode, its refresh fast path, one loopback sendto+recvfrom), i.e.
  what stands between the code and the target;
- the CPU time per PBU of both processes in every run (``/proc/PID/stat`` of the
  responder, the generator's own ``cpu_us_per_transaction``): wall-clock rates depend on
  what else the machine runs, CPU per PBU much less;
- SIPp (Debian ``sip-tester``) uac → uas calls/s on the same machine, in the same run.

Writes a JSON document (``--out``) and prints a table.  Loopback only.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PY = sys.executable
PMIPVIEW = [PY, "-m", "pmipview"]

REFLECTOR = r"""
import socket, sys
from ipaddress import IPv4Address
from dissectors.mh import BindingAck, encode_mh
from dissectors.mh_codes import BAFlag
from dissectors.mh_options import IPv4HoAReply, IPv4DefaultRouter
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.bind(("127.0.0.1", port))
pba = bytearray(encode_mh(BindingAck(0, 0, BAFlag.P, 150, (
    IPv4HoAReply(0, IPv4Address("10.0.0.2"), 16), IPv4DefaultRouter(IPv4Address("10.0.0.1"))))))
print("ready", flush=True)
recv, send = s.recvfrom, s.sendto
while True:
    data, peer = recv(2048)
    if len(data) < 12 or data[2] != 5:
        continue
    pba[8] = data[6]; pba[9] = data[7]
    if data[10] == 0 and data[11] == 0:   # de-registration: lifetime 0 in the PBA
        pba[10] = pba[11] = 0
    else:
        pba[10] = data[10]; pba[11] = data[11]
    send(pba, peer)
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class RssSampler(threading.Thread):
    def __init__(self, pids: dict[str, int]) -> None:
        super().__init__(daemon=True)
        self.pids = pids
        self.samples: dict[str, list[float]] = {k: [] for k in pids}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.5):
            for k, pid in self.pids.items():
                v = rss_mb(pid)
                if v is not None:
                    self.samples[k].append(v)

    def summary(self) -> dict[str, dict[str, float]]:
        out = {}
        for k, s in self.samples.items():
            if s:
                out[k] = {"first_mb": round(s[0], 1), "max_mb": round(max(s), 1),
                          "last_mb": round(s[-1], 1)}
        return out


CPUS = {"responder": 0, "load": 1}   # --cpus: where each side is pinned


def pinned(cpu: int):
    def pre() -> None:
        if hasattr(os, "sched_setaffinity") and os.cpu_count() and os.cpu_count() > cpu:
            os.sched_setaffinity(0, {cpu})
    return pre


def start_responder(kind: str, port: int, pool: str) -> subprocess.Popen:
    if kind == "reflector":
        cmd = [PY, "-c", REFLECTOR, str(port)]
    else:
        cmd = [*PMIPVIEW, "lma", "--listen", "127.0.0.1", "--port", str(port),
               "--pool", pool, "--no-live"]
    p = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, preexec_fn=pinned(CPUS["responder"]))
    line = p.stdout.readline() if p.stdout else ""
    if p.poll() is not None or not line:
        raise SystemExit(f"the {kind} did not start: {line.strip()}")
    return p


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of a live process (``/proc/PID/stat``)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _TICK


def stop(p: subprocess.Popen) -> None:
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def sustained_s(rows: list[dict], rate: float, after: float) -> float:
    """Seconds of the interval rows after ``after`` (the ramp) that answered at least
    99 % of ``rate`` with no timeout: the run's sustained part."""
    return round(sum(float(r["interval_s"]) for r in rows
                     if float(r["time_s"]) > after + 0.5 and int(r["timeouts"]) == 0
                     and float(r["answered_per_s"]) >= 0.99 * rate), 1)


def one_run(responder: str, rate: float, duration: float, mns: int, tmp: Path,
            ramp: float = 0.0, root: Path = ROOT) -> dict:
    """One ``pmipview load`` run (the generator's code from ``root``) against a fresh
    responder; ``duration`` is the sending time after the ramp."""
    port = free_port()
    srv = start_responder(responder, port, "10.64.0.0/14")
    out = tmp / f"{responder}-{rate:.0f}-{time.monotonic_ns()}.json"
    rows_csv = out.with_suffix(".csv")
    try:
        cmd = [PY, "-m", "pmipview", "load", "127.0.0.1", "--port", str(port),
               "--mns", str(mns), "--rate", str(rate), "--duration", f"{ramp + duration}s",
               "--json", str(out), "--stats-csv", str(rows_csv), "--no-panel",
               "--drain", "5s"]
        if ramp > 0:
            cmd += ["--ramp", f"{ramp}s"]
        load = subprocess.Popen(cmd, cwd=root, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True,
                                preexec_fn=pinned(CPUS["load"]))
        sampler = RssSampler({"load": load.pid, "responder": srv.pid})
        cpu0 = cpu_s(srv.pid)
        sampler.start()
        _, errs = load.communicate(timeout=ramp + duration + 120)
        sampler.stop.set()
        sampler.join()
        cpu1 = cpu_s(srv.pid)
        if load.returncode != 0 or not out.exists():
            return {"error": (errs or "").strip()[-300:] or f"exit {load.returncode}"}
        doc = json.loads(out.read_text())
        doc["rss"] = sampler.summary()
        doc["ramp_s"] = ramp
        with rows_csv.open() as f:
            doc["sustained_s"] = sustained_s(list(csv.DictReader(f)), rate, ramp)
        pbus = doc["transactions"] + doc["retransmissions"]
        if cpu0 is not None and cpu1 is not None and pbus:
            doc["responder_cpu_us_per_pbu"] = round((cpu1 - cpu0) / pbus * 1e6, 1)
        return doc
    finally:
        stop(srv)


def stage_costs() -> dict[str, float]:
    """µs per call of each step a PBU→PBA transaction goes through, in one process."""
    from ipaddress import IPv4Address, IPv4Network

    from pmipview.agents.lma import LMA, LMAConfig
    from pmipview.agents.pool import AddressPool
    from pmipview.load.wire import ATTACH, REFRESH, PbuFactory, pba_hoa, read_pba
    from pmipview.wire.codec import decode_mh_datagram, encode_payload

    n = 5000
    f = PbuFactory(150)
    net = IPv4Network("10.64.0.0/14")
    lma = LMA(LMAConfig(pool=AddressPool(net, frozenset({net[1]})), default_router=net[1]))
    src, dst = IPv4Address("127.0.1.1"), IPv4Address("127.0.0.1")

    def per(fn, k=n) -> float:
        t = time.process_time()
        for i in range(k):
            fn(i)
        return round((time.process_time() - t) / k * 1e6, 2)

    out: dict[str, float] = {}
    out["load: PBU from template"] = per(lambda i: f.build(REFRESH, i, i & 0xFFFF, 5, 16))
    pbus = [f.build(ATTACH, i, i & 0xFFFF) for i in range(n)]
    out["lma: decode PBU (decode_mh_datagram)"] = per(
        lambda i: decode_mh_datagram(pbus[i], src, dst, 40000, 5436))
    pkts = [decode_mh_datagram(p, src, dst, 40000, 5436) for p in pbus]
    replies = []
    out["lma: core receive (attach)"] = per(lambda i: replies.append(lma.receive(1.0, pkts[i])))
    refresh = [decode_mh_datagram(f.build(REFRESH, i, (i + n) & 0xFFFF), src, dst, 40000,
                                  5436) for i in range(n)]
    out["lma: core receive (refresh, slow path)"] = per(lambda i: lma.receive(2.0, refresh[i]))
    fast = lma.enable_fast_path()
    table = fast.table()
    peer = ("127.0.1.1", 40000)
    for i in range(n):  # the slow path learns each MN's refresh once
        raw = f.build(REFRESH, i, (i + 2 * n) & 0xFFFF, int(lma.bindings_for(
            f"mn{i:07d}@load.pmipview")[0].hoa), 14)
        lma.receive(3.0, decode_mh_datagram(raw, src, dst, 40000, 5436))
        fast.learn(table, peer, raw)
    again = [f.build(REFRESH, i, (i + 3 * n) & 0xFFFF, int(lma.bindings_for(
        f"mn{i:07d}@load.pmipview")[0].hoa), 14) for i in range(n)]
    out["lma: refresh fast path (bytes in, PBA bytes out)"] = per(
        lambda i: fast.answer(4.0, table, peer, again[i]))
    sends = [o.packet for r in replies for o in r if hasattr(o, "packet")]
    out["lma: encode PBA (encode_payload)"] = per(lambda i: encode_payload(sends[i]),
                                                  len(sends))
    raw = [encode_payload(p) for p in sends]
    out["load: read PBA in place"] = per(lambda i: (read_pba(raw[i]), pba_hoa(raw[i])),
                                         len(raw))
    a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    a.bind(("127.0.0.1", 0))
    b.bind(("127.0.0.1", 0))
    dest = b.getsockname()
    payload = pbus[0]
    out["syscalls: sendto + recvfrom, one datagram"] = per(
        lambda i: (a.sendto(payload, dest), b.recvfrom(2048)))
    b.setsockopt(socket.SOL_SOCKET, 35, 1)   # SO_TIMESTAMPNS, as pmipview load reads
    out["syscalls: sendto + recvmsg with the arrival stamp"] = per(
        lambda i: (a.sendto(payload, dest), b.recvmsg(4096, 32)))
    a.close()
    b.close()
    return out


def sipp(duration: float, rate: int) -> dict:
    exe = shutil.which("sipp")
    if exe is None:
        return {"error": "sipp not installed (apt install sip-tester)"}
    port = free_port()
    uas = subprocess.Popen([exe, "-sn", "uas", "-i", "127.0.0.1", "-p", str(port), "-nostdin"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           preexec_fn=pinned(0))
    time.sleep(0.5)
    with tempfile.TemporaryDirectory() as d:
        stat = Path(d) / "uac.csv"
        cmd = [exe, "-sn", "uac", f"127.0.0.1:{port}", "-i", "127.0.0.1", "-p",
               str(free_port()), "-r", str(rate), "-nostdin", "-trace_stat", "-stf",
               str(stat), "-fd", "1"]
        # SIPp does not stop by itself while calls wait for retransmissions: run it for
        # ``duration`` and read its last per-second statistics row
        uac = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               preexec_fn=pinned(1))
        t = time.monotonic()
        time.sleep(duration + 0.5)
        elapsed = time.monotonic() - t
        for p in (uac, uas):
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if not stat.exists():
            return {"error": "sipp wrote no statistics"}
        lines = stat.read_text().strip().splitlines()
        head = lines[0].split(";")
        last = lines[-1].split(";")
        row = dict(zip(head, last, strict=False))
    ok = int(row.get("SuccessfulCall(C)", 0))
    failed = int(row.get("FailedCall(C)", 0))
    h, m, sec = (int(x) for x in row.get("ElapsedTime(C)", "0:0:0").split(":")[:3])
    span = h * 3600 + m * 60 + sec or elapsed
    return {"rate_requested": rate, "successful_calls": ok, "failed_calls": failed,
            "elapsed_s": span, "calls_per_s": round(ok / span, 1),
            "in_progress_at_end": int(row.get("CurrentCall", 0))}


def med(values: list) -> float | None:
    vals = [v for v in values if v is not None]
    return round(statistics.median(vals), 3) if vals else None


def summarize(runs: list[dict]) -> dict:
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return {"error": runs[0].get("error") if runs else "no run"}
    return {
        "runs": len(ok),
        "rate_per_s": med([r["rate_per_s"] for r in ok]),
        "started_per_s": med([r["started_per_s"] for r in ok]),
        "timeouts": med([r["timeouts"] for r in ok]),
        "unfinished": med([r["unfinished"] for r in ok]),
        "retransmissions": med([r["retransmissions"] for r in ok]),
        "load_cpu_us_per_transaction": med([r.get("cpu_us_per_transaction") for r in ok]),
        "responder_cpu_us_per_pbu": med([r.get("responder_cpu_us_per_pbu") for r in ok]),
        "max_lag_ms": med([r["max_lag_ms"] for r in ok]),
        "sustained_s": med([r.get("sustained_s") for r in ok]),
        "sending_s": med([r.get("sending_s") for r in ok]),
        "read_delay_p99_ms": med([(r.get("read_delay_ms") or {}).get("p99") for r in ok]),
        "rtt_ms": {k: med([r["rtt_ms"][k] for r in ok]) for k in ("p50", "p90", "p99", "max")},
        "rss_mb": {who: {k: med([r["rss"].get(who, {}).get(k) for r in ok])
                         for k in ("first_mb", "max_mb", "last_mb")}
                   for who in ("load", "responder")},
    }


def main() -> None:
    from pmipview.load.model import login_ramp

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="10 s runs, 1 run each, no login ramp (a first look)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--rate", type=float, default=20_000)
    ap.add_argument("--latency-rate", type=float, default=10_000)
    ap.add_argument("--mns", type=int, default=100_000)
    ap.add_argument("--duration", type=float, default=60.0,
                    help="seconds of sending at the full rate, after the login ramp")
    ap.add_argument("--login-rate", type=float, default=10_000,
                    help="attaches/s the login storm may reach: the ramp is computed from "
                         "it (login_ramp); 0 = no ramp, every MN attaches at --rate")
    ap.add_argument("--responders", default="reflector,lma")
    ap.add_argument("--baseline", default=None, metavar="TREE",
                    help="also run the generator from this checkout (e.g. main), "
                         "interleaved run by run with this one: an A/B in the same run")
    ap.add_argument("--sipp-rate", type=int, default=5000)
    ap.add_argument("--search", default="",
                    help="also run each responder at these rates (comma list, --search-"
                         "duration s each) to find the highest rate with 0 timeouts")
    ap.add_argument("--search-duration", type=float, default=15.0)
    ap.add_argument("--no-sipp", action="store_true")
    ap.add_argument("--no-stages", action="store_true", help="skip the stage costs")
    ap.add_argument("--search-only", action="store_true",
                    help="skip the sustained and latency runs")
    ap.add_argument("--cpus", default="0,1", metavar="RESPONDER,LOAD",
                    help="the CPUs the responder and the generator are pinned to")
    ap.add_argument("--out", default="bench/out/load_bench.json")
    a = ap.parse_args()
    CPUS["responder"], CPUS["load"] = (int(x) for x in a.cpus.split(","))
    if a.quick:
        a.duration, a.runs, a.login_rate = 10.0, 1, 0.0
    trees = {"": ROOT}
    if a.baseline:
        trees = {" (baseline)": Path(a.baseline).resolve(), "": ROOT}
    result: dict = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0],
                                "loadavg_at_start": os.getloadavg()},
                    "args": vars(a)}
    if not a.no_stages:
        result["stage_costs_us"] = stage_costs()
        for k, v in result["stage_costs_us"].items():
            print(f"  {k:45s} {v:8.2f} µs", flush=True)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for responder in a.responders.split(",") if not a.search_only else ():
            for label, rate in (("sustained", a.rate), ("latency", a.latency_rate)):
                ramp = login_ramp(a.mns, rate, a.login_rate)
                runs: dict[str, list[dict]] = {tag: [] for tag in trees}
                for _ in range(a.runs):
                    for tag, root in trees.items():
                        runs[tag].append(one_run(responder, rate, a.duration, a.mns, tmp,
                                                 ramp, root))
                for tag in trees:
                    s = summarize(runs[tag])
                    s["ramp_s"] = round(ramp, 1)
                    result[f"{responder} {label} {rate:.0f}/s{tag}"] = s
                    print(f"{responder:9s} {label:9s} {rate:>8.0f}/s{tag} -> "
                          f"{json.dumps(s)}", flush=True)
        if a.search:
            for responder in a.responders.split(","):
                steps = {}
                for rate in (float(x) for x in a.search.split(",")):
                    r = one_run(responder, rate, a.search_duration, a.mns, tmp)
                    steps[f"{rate:.0f}"] = {k: r.get(k) for k in (
                        "rate_per_s", "timeouts", "unfinished", "retransmissions",
                        "max_lag_ms", "rtt_ms", "cpu_us_per_transaction",
                        "responder_cpu_us_per_pbu", "error")}
                    print(f"{responder:9s} search    {rate:>8.0f}/s -> "
                          f"{json.dumps(steps[f'{rate:.0f}'])}", flush=True)
                ok = [float(k) for k, v in steps.items()
                      if v.get("timeouts") == 0 and not v.get("unfinished")
                      and not v.get("error")]
                result[f"{responder} search"] = {"steps": steps,
                                                 "highest_clean_rate": max(ok, default=None)}
    if not a.no_sipp:
        result["sipp"] = sipp(min(a.duration, 20.0), a.sipp_rate)
        print(f"sipp uac->uas: {json.dumps(result['sipp'])}", flush=True)
    result["machine"]["loadavg_at_end"] = os.getloadavg()
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"written {a.out}")


if __name__ == "__main__":
    main()
