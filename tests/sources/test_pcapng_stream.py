"""PcapngStream (live --write): what it writes reads back; the ring keeps the newest N."""

from __future__ import annotations

from pmipview.sources import open_source
from pmipview.sources.pcapng_stream import PcapngStream
from pmipview.sources.records import Record


def records(n: int, size: int = 100) -> list[Record]:
    return [Record(i + 1, 1_700_000_000_000_000_000 + i * 1000, 1, bytes([i % 256]) * size,
                   0, size) for i in range(n)]


def test_stream_reads_back_exactly(tmp_path):
    path = tmp_path / "w.pcapng"
    stream = PcapngStream(str(path), [(1, "eth0")])
    for r in records(50):
        stream.write(r)
    stream.close()
    back = list(open_source(str(path)))
    assert [(r.ts_ns, r.data) for r in back] == [(r.ts_ns, r.data) for r in records(50)]


def test_ring_keeps_the_newest_files(tmp_path):
    stream = PcapngStream(str(tmp_path / "r.pcapng"), [(1, None)], ring_files=3,
                          ring_bytes=2000)
    for r in records(200):
        stream.write(r)
    stream.close()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) == 3 and files == [p.rsplit("/", 1)[-1] for p in stream.written]
    assert files[-1].startswith("r_000") and files[-1].endswith(".pcapng")
    last = [r.ts_ns for name in files for r in open_source(str(tmp_path / name))]
    assert last == sorted(last) and last[-1] == records(200)[-1].ts_ns
