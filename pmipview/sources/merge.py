"""Several captures read as one (``pmipview timeline mag1.pcapng lma.pcap``).

Frames from the files are merged by timestamp, as mergecap does; frame numbers are the
merged order (1, 2, ...), and each file's interfaces get their own interface numbers, so
every frame keeps its origin and a message seen at two capture points is one message
with two sightings, as it is within one pcapng.  ``origins`` names each interface
``FILE`` (one interface) or ``FILE#N``.  Each file is read with its own streaming reader;
memory does not grow with the number of frames.  Timestamps are taken as they are: the
clocks of the capture points are assumed to agree.  Frames with equal timestamps keep
their order within each file and are taken from the files by position, then in the order
the files were given (a capture split in two and given in order reads back as it was).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

from pmipview.sources.records import ReadProblem, Record


class MergedSource:
    """Iterate over the records of ``sources`` (opened readers) in time order."""

    def __init__(self, sources: Sequence[Any], names: Sequence[str]) -> None:
        self.sources = list(sources)
        self.names = list(names)
        self.name = " + ".join(names)
        self.problem: ReadProblem | None = None
        self.origins: dict[int, str] = {}

    @property
    def size(self) -> int | None:
        sizes = [getattr(s, "size", None) for s in self.sources]
        return None if None in sizes else sum(sizes)  # type: ignore[arg-type]

    @property
    def bytes_read(self) -> int:
        return sum(getattr(s, "bytes_read", 0) for s in self.sources)

    def _records(self, k: int) -> Iterator[tuple[int, int, int, Record]]:
        source = self.sources[k]
        for i, rec in enumerate(source):
            yield rec.ts_ns, i, k, rec

    def __iter__(self) -> Iterator[Record]:
        # interface numbers in order of first appearance, one per (file, interface)
        offsets: dict[tuple[int, int], int] = {}
        merged = heapq.merge(*(self._records(k) for k in range(len(self.sources))))
        for number, (_, _, k, rec) in enumerate(merged, start=1):
            key = (k, rec.interface)
            iface = offsets.get(key)
            if iface is None:
                iface = offsets[key] = len(offsets)
                local = rec.interface
                self.origins[iface] = self.names[k] if local == 0 else f"{self.names[k]}#{local}"
            yield replace(rec, frame_no=number, interface=iface)
        for k, source in enumerate(self.sources):
            problem = getattr(source, "problem", None)
            if problem is not None and self.problem is None:
                self.problem = ReadProblem(problem.offset, f"{self.names[k]}: {problem.reason}",
                                           problem.frame_no)

    def close(self) -> None:
        for s in self.sources:
            s.close()

    def __enter__(self) -> MergedSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
