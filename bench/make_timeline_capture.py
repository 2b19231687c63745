"""A big capture for the correlation benchmark: 1,000 MNs, 90% unrelated traffic.

    python bench/make_timeline_capture.py --mns 1000 --frames 1000000 -o bench/out/mns-1M.pcapng

The signaling comes from the reference agents (``pmipview simulate`` on a scenario built
here): MNs attach through 10 MAGs at random times, re-register (short lifetimes), hand
off between MAGs and some detach; captured at every MAG and at the LMA.  Unrelated frames
(TCP, DNS, ICMP, ARP from bench/corpus.py) are interleaved in time order until the file
holds ``--frames`` frames.  Deterministic for a seed; keep the output out of git.
"""

from __future__ import annotations

import argparse
import heapq
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.corpus import unrelated_frame
from dissectors.link import LinkType
from pmipview.sim.engine import run
from pmipview.sim.scenario import parse
from pmipview.sources.capfile import write_pcapng
from pmipview.sources.records import Record


def scenario(mns: int, mags: int, duration: float, seed: int) -> dict:
    rng = random.Random(seed)
    data: dict = {
        "name": f"bench-{mns}-mns", "seed": seed, "duration": duration,
        "capture": [f"mag{i + 1}" for i in range(mags)] + ["lma"],
        "links": {"delay_ms": 1.0, "jitter_ms": 0.3,
                  "backhaul": {"delay_ms": 4.0, "jitter_ms": 1.0}},
        "lma": {"ipv4": "192.0.2.100", "pool": "10.0.0.0/16", "default_router": "10.0.0.1",
                "max_lifetime": 240},
        "mag": [{"name": f"mag{i + 1}", "ipv4": f"192.0.2.{i + 1}", "dhcp": "server",
                 "server_id": "10.0.0.1", "lifetime": 240, "lease": 600}
                for i in range(mags)],
        "mn": [], "event": []}
    for n in range(mns):
        name = f"mn{n + 1}"
        data["mn"].append({"name": name, "nai": f"{name}@bench.example",
                           "mac": f"02:b0:{n >> 16 & 255:02x}:{n >> 8 & 255:02x}:"
                                  f"{n & 255:02x}:01"})
        t = rng.uniform(0, duration * 0.2)
        mag = rng.randrange(mags)
        data["event"].append({"at": t, "action": "attach", "mn": name,
                              "mag": f"mag{mag + 1}"})
        while True:
            t += rng.expovariate(1 / (duration / 4))
            if t >= duration * 0.95:
                break
            mag = (mag + rng.randrange(1, mags)) % mags
            data["event"].append({"at": t, "action": "handoff", "mn": name,
                                  "mag": f"mag{mag + 1}"})
        if rng.random() < 0.2:
            data["event"].append({"at": duration * 0.97, "action": "detach", "mn": name})
    return data


def merged(signaling: list[Record], total: int, start_ns: int, span_ns: int,
           seed: int) -> Iterator[Record]:
    rng = random.Random(seed)
    noise = max(0, total - len(signaling))
    step = span_ns / max(1, noise)

    def noise_records() -> Iterator[tuple[int, int, int, bytes]]:
        for i in range(noise):
            yield (start_ns + int(i * step), 1, 0, unrelated_frame(rng, LinkType.ETHERNET))

    sig = ((r.ts_ns, 0, r.interface, r.data) for r in signaling)
    for no, (ts, _, iface, data) in enumerate(heapq.merge(sig, noise_records()), 1):
        yield Record(no, ts, LinkType.ETHERNET, data, iface, len(data))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mns", type=int, default=1000)
    parser.add_argument("--mags", type=int, default=10)
    parser.add_argument("--duration", type=float, default=1800.0)
    parser.add_argument("--frames", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("-o", "--output", default="bench/out/mns-1M.pcapng")
    args = parser.parse_args()
    t0 = time.perf_counter()
    sc = parse(scenario(args.mns, args.mags, args.duration, args.seed), "<bench>")
    result = run(sc)
    t1 = time.perf_counter()
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    start_ns = round(sc.start_unix * 1e9)
    count = write_pcapng(out, merged(result.records, args.frames, start_ns,
                                     int(args.duration * 1e9), args.seed),
                         [*result.interfaces])
    print(f"simulated {len(result.records)} signaling frames for {args.mns} MNs in "
          f"{t1 - t0:.1f} s; wrote {out}: {count} frames, {out.stat().st_size / 1e6:.0f} MB "
          f"in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
