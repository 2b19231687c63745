"""Several captures read as one (``pmipview timeline mag1.pcapng lma.pcap``).

Frames from the files are merged by timestamp, as mergecap does; frame numbers are the
merged order (1, 2, ...), and each file's interfaces get their own interface numbers, so
every frame keeps its origin and a message seen at two capture points is one message
with two sightings, as it is within one pcapng.  ``origins`` names each interface
``FILE`` (one interface) or ``FILE#N``.  Each file is read with its own streaming reader;
memory does not grow with the number of frames.

The clocks of the capture points are corrected by the offsets that ``clock.py``
estimates from the messages seen at both (the first file is the reference clock).
Frames with equal timestamps keep their order within each file and are taken from the
files in the order they were given (a capture cut in two, as editcap -c does, and given
in order reads back as it was).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

from pmipview.sources.records import ReadProblem, Record


class MergedSource:
    """Iterate over the records of ``sources`` (opened readers) in time order."""

    def __init__(self, sources: Sequence[Any], names: Sequence[str],
                 clock: Sequence[Any] = ()) -> None:
        """``clock``: the :class:`~pmipview.sources.clock.Offset` of each file after the
        first; a known offset is subtracted from that file's timestamps."""
        self.sources = list(sources)
        self.names = list(names)
        self.clock = list(clock)
        self._shift = [0] + [-(c.offset_ns or 0) for c in self.clock]
        self._shift += [0] * (len(self.sources) - len(self._shift))
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
        source, shift = self.sources[k], self._shift[k]
        for i, rec in enumerate(source):
            if shift:
                rec = replace(rec, ts_ns=rec.ts_ns + shift)
            yield rec.ts_ns, k, i, rec

    def __iter__(self) -> Iterator[Record]:
        # interface numbers in order of first appearance, one per (file, interface)
        offsets: dict[tuple[int, int], int] = {}
        merged = heapq.merge(*(self._records(k) for k in range(len(self.sources))))
        for number, (_, k, _, rec) in enumerate(merged, start=1):
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
