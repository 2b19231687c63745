"""Write a benchmark capture: N frames, 10% signaling (PBU/PBA/BRI/HB/DHCP…), 90% other.

    python bench/make_capture.py --frames 1000000 -o bench/out/mixed-1M.pcap

Frames come from ``bench/corpus.py`` (signaling built with the project's encoders,
unrelated TCP/DNS/ICMP/ARP built with struct), one timestamp every 100 µs, written in
chunks so that memory stays flat.  Keep the output out of git (bench/out/ is ignored).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.corpus import mixed
from dissectors.link import LinkType
from pmipview.sources.capfile import write_pcap, write_pcapng
from pmipview.sources.records import Record

T0_NS = 1_714_557_600 * 1_000_000_000
CHUNK = 100_000


def records(n: int, ratio: float, seed: int) -> Iterator[Record]:
    done = 0
    while done < n:
        k = min(CHUNK, n - done)
        for i, (lt, data) in enumerate(mixed(k, ratio, seed + done)):
            no = done + i + 1
            yield Record(no, T0_NS + no * 100_000, lt, data, 0, len(data))
        done += k


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=1_000_000)
    parser.add_argument("--ratio", type=float, default=0.1, help="share of signaling frames")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("-o", "--output", default="bench/out/mixed-1M.pcap",
                        help="output file (.pcap, .pcapng, optionally .gz)")
    args = parser.parse_args()
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    recs = records(args.frames, args.ratio, args.seed)
    if ".pcapng" in out.name:
        count = write_pcapng(out, recs, [(LinkType.ETHERNET, "bench")])
    else:
        count = write_pcap(out, recs, LinkType.ETHERNET)
    print(f"wrote {out}: {count} frames, {out.stat().st_size / 1e6:.1f} MB "
          f"in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
