"""Capture-file read rate: pmipview's native reader vs dpkt vs python-pcapng.

Generates (once, under bench/out/) a pcap and a pcapng file of N frames of 100-200 bytes,
then times each installed reader iterating all records with timestamp and data, in a
fresh subprocess per run so that peak memory (ru_maxrss) is not polluted by earlier runs.
Prints the median of the runs.  dpkt and python-pcapng are optional (pip install dpkt
python-pcapng); they are only benchmark opponents, not dependencies.

    python bench/read_rate.py                      # 1,000,000 frames, 3 runs
    python bench/read_rate.py -n 200000 -r 5 --gzip
    python bench/read_rate.py some.pcap other.pcapng   # your own files
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
sys.path.insert(0, str(HERE.parent))

T0 = 1_700_000_000 * 10**9


# -- the readers (each returns how many records it saw, touching ts and data) ------------


def read_pmipview(path: str) -> int:
    from pmipview.sources.capfile import open_capture

    n = 0
    with open_capture(path) as r:
        for rec in r:
            rec.ts_ns  # noqa: B018 - touch it, as the others do
            rec.data  # noqa: B018
            n += 1
    return n


def _open_maybe_gzip(path: str):
    import gzip

    with open(path, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gz else open(path, "rb")


def read_dpkt(path: str) -> int:
    import dpkt

    n = 0
    with _open_maybe_gzip(path) as f:
        head = f.read(4)
        f.seek(0)
        reader = dpkt.pcapng.Reader(f) if head == b"\x0a\x0d\x0d\x0a" else dpkt.pcap.Reader(f)
        for ts, buf in reader:
            ts  # noqa: B018
            buf  # noqa: B018
            n += 1
    return n


def read_python_pcapng(path: str) -> int:
    from pcapng import FileScanner
    from pcapng.blocks import EnhancedPacket

    n = 0
    with _open_maybe_gzip(path) as f:
        for block in FileScanner(f):
            if isinstance(block, EnhancedPacket):
                block.timestamp  # noqa: B018
                block.packet_data  # noqa: B018
                n += 1
    return n


def read_nothing(path: str) -> int:
    """Baseline for memory: the interpreter and the imports of the other readers."""
    import pmipview.sources.capfile  # noqa: F401

    for mod in ("dpkt", "pcapng", "pcapng.blocks"):
        with contextlib.suppress(ImportError):
            __import__(mod)
    return 0


READERS: dict[str, Callable[[str], int]] = {
    "pmipview": read_pmipview,
    "dpkt": read_dpkt,
    "python-pcapng": read_python_pcapng,
}


def supports(reader: str, path: Path) -> bool:
    if reader == "python-pcapng":
        return ".pcapng" in path.name
    return True


def installed(reader: str) -> bool:
    module = {"pmipview": "pmipview", "dpkt": "dpkt", "python-pcapng": "pcapng"}[reader]
    try:
        __import__(module)
    except ImportError:
        return False
    return True


# -- generating the test files ---------------------------------------------------------------


def records(n: int) -> Iterator:
    from pmipview.sources.records import Record

    rng = random.Random(5213)
    pool = rng.randbytes(1 << 16)
    ts = T0
    for i in range(n):
        size = rng.randint(100, 200)
        start = rng.randrange(0, len(pool) - size)
        ts += rng.randint(1_000, 2_000_000)
        yield Record(i + 1, ts // 1000 * 1000, 1, pool[start : start + size], 0, size)


def generate(n: int, gz: bool) -> list[Path]:
    from pmipview.sources.capfile import write_pcap, write_pcapng

    OUT.mkdir(parents=True, exist_ok=True)
    paths = []
    for ext, write in (("pcap", write_pcap), ("pcapng", write_pcapng)):
        for suffix in ("", ".gz") if gz else ("",):
            path = OUT / f"frames-{n}.{ext}{suffix}"
            if not path.exists():
                t = time.perf_counter()
                tmp = path.with_name(path.name + ".tmp" + suffix)
                write(tmp, records(n))
                tmp.rename(path)
                print(f"wrote {path} in {time.perf_counter() - t:.1f}s", file=sys.stderr)
            paths.append(path)
    return paths


# -- measuring ---------------------------------------------------------------------------------


def child(reader: str, path: str) -> None:
    read_nothing(path)  # imports outside the timing
    fn = read_nothing if reader == "baseline" else READERS[reader]
    t = time.perf_counter()
    n = fn(path)
    seconds = time.perf_counter() - t
    maxrss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"count": n, "seconds": seconds, "maxrss_kib": maxrss_kib}))


def run(reader: str, path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", reader, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", help="capture files to read (default: generate)")
    ap.add_argument("-n", "--frames", type=int, default=1_000_000)
    ap.add_argument("-r", "--runs", type=int, default=3)
    ap.add_argument("--gzip", action="store_true", help="also gzip-compressed files")
    ap.add_argument("--child", nargs=2, metavar=("READER", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return

    paths = [Path(p) for p in args.files] or generate(args.frames, args.gzip)
    readers = [r for r in READERS if installed(r)]
    missing = [r for r in READERS if r not in readers]
    base = run("baseline", paths[0])["maxrss_kib"] / 1024
    print(f"python {sys.version.split()[0]}, median of {args.runs} runs, one process per run")
    print(f"baseline peak RSS (interpreter + imports): {base:.1f} MiB")
    if missing:
        print(f"not installed (skipped): {', '.join(missing)}")
    print()
    head = (
        f"{'file':<32} {'reader':<14} {'records':>9} {'seconds':>8} "
        f"{'records/s':>11} {'peak RSS':>10}"
    )
    print(head)
    print("-" * len(head))
    for path in paths:
        size = os.path.getsize(path) / 2**20
        for reader in readers:
            if not supports(reader, path):
                continue
            results = [run(reader, path) for _ in range(args.runs)]
            counts = {r["count"] for r in results}
            seconds = statistics.median(r["seconds"] for r in results)
            rss = statistics.median(r["maxrss_kib"] for r in results) / 1024
            count = counts.pop() if len(counts) == 1 else -1
            name = f"{path.name} ({size:.0f} MiB)"
            print(
                f"{name:<32} {reader:<14} {count:>9} {seconds:>8.2f} "
                f"{count / seconds:>11,.0f} {rss:>6.1f} MiB"
            )


if __name__ == "__main__":
    main()
