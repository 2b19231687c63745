"""A stand-in for dumpcap in the follow tests: the same command line, stderr and files.

It "captures" the records of the capture named by $FAKE_SOURCE: it writes them to ``-w``
(or to a ring of ``-b filesize:kB`` files named like dumpcap's), each block in two halves
with a pause between, so that the follower meets partial blocks; says "File: ..." for each
file and "Packets: N" as it goes; ends with dumpcap's statistics lines.  $FAKE_FAIL makes
it fail like dumpcap on a missing interface, $FAKE_GONE fail after the frames (the
interface went away); $FAKE_HOLD makes it wait for SIGINT before it ends (as a capture
that runs until stopped).
"""

from __future__ import annotations

import os
import signal
import sys
import time

from pmipview.sources import open_capture
from pmipview.sources.pcapng_stream import header, packet

stopped = False


def _stop(*_: object) -> None:
    global stopped
    stopped = True


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGINT, _stop)
    opts: dict[str, str] = {}
    ring: list[str] = []
    args = iter(argv)
    for arg in args:
        if arg in ("-i", "-w", "-B", "-f", "-c", "-a"):
            opts[arg] = next(args)
        elif arg == "-b":
            ring.append(next(args))
    iface = opts["-i"]
    if os.environ.get("FAKE_FAIL"):
        print(f"dumpcap: There is no device named \"{iface}\".", file=sys.stderr, flush=True)
        return 1
    size_kb = next((int(v.split(":")[1]) for v in ring if v.startswith("filesize:")), None)
    print(f"Capturing on '{iface}'", file=sys.stderr, flush=True)
    reader = open_capture(os.environ["FAKE_SOURCE"])
    records = list(reader)
    head = header([(i.linktype, i.name) for i in reader.interfaces])
    stem, ext = os.path.splitext(opts["-w"])
    index = 0
    fh = None

    def next_file():
        nonlocal index, fh
        if fh is not None:
            fh.close()
        index += 1
        name = f"{stem}_{index:05d}_20261203120000{ext}" if size_kb else opts["-w"]
        fh = open(name, "wb")  # noqa: SIM115 - closed at the next file or the end
        fh.write(head)
        fh.flush()
        print(f"File: {name}", file=sys.stderr, flush=True)

    next_file()
    written = len(head)
    for n, rec in enumerate(records, 1):
        block = packet(rec.interface, rec.ts_ns, rec.data, rec.orig_len)
        if size_kb and written + len(block) > size_kb * 1000:
            next_file()
            written = len(head)
        half = len(block) // 2
        fh.write(block[:half])
        fh.flush()
        time.sleep(0.002)
        fh.write(block[half:])
        fh.flush()
        written += len(block)
        if n % 5 == 0:
            print(f"\rPackets: {n} ", end="", file=sys.stderr, flush=True)
    while os.environ.get("FAKE_HOLD") and not stopped:
        time.sleep(0.01)
    fh.close()
    if os.environ.get("FAKE_GONE"):
        print("dumpcap: The network adapter on which the capture was being done is no "
              "longer running; the capture has stopped.", file=sys.stderr, flush=True)
        return 2
    print(f"\rPackets captured: {len(records)}", file=sys.stderr)
    print(f"Packets received/dropped on interface '{iface}': {len(records)}/3 "
          f"(pcap:3/dumpcap:0/flushed:0/ps_ifdrop:2) (99.0%)", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
