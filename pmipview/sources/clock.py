"""Clock offsets between capture points, from the messages seen at both.

Two captures of one network — a MAG's and the LMA's — have clocks that disagree.  A
message seen at both capture points is the same bytes between the same addresses; the
difference of its two timestamps is the one-way delay plus the offset.  For each pair of
directions between two addresses (MAG→LMA and LMA→MAG), with the median difference of
each, assuming the delay is the same both ways (as NTP does):

    offset = (median(fwd) + median(rev)) / 2       delay = (median(fwd) - median(rev)) / 2

Each file is compared with the first one (the reference clock).  A message that occurs
more than once in a file (a retransmission with the same bytes) is left out, as are
messages seen in one direction only when no pair has both: then the offset is unknown
and nothing is corrected.  The estimate costs one extra read of the files.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from dissectors import prefilter
from dissectors.frame import decode_frame
from pmipview.sources.records import Record

Key = tuple[str, str, bytes]


@dataclass(frozen=True, slots=True)
class Offset:
    """How far file ``name``'s clock is ahead of the reference file's (ns; None unknown)."""

    name: str
    reference: str
    offset_ns: int | None
    common: int                       # messages seen in both files
    delays_ns: dict[tuple[str, str], int] = field(default_factory=dict)  # (src, dst) -> one-way
    via: str | None = None            # estimated through this file (no message in common)

    def describe(self) -> str:
        if self.offset_ns is None:
            why = "no message seen at both" if not self.common else \
                f"{self.common} messages seen at both, but not in both directions"
            return f"clock of {self.name} vs {self.reference}: unknown ({why}); not corrected"
        sign = "ahead of" if self.offset_ns >= 0 else "behind"
        seen = f"{self.common} messages seen in it and {self.via or self.reference}"
        text = (f"clock of {self.name} is {abs(self.offset_ns) / 1e6:.3f} ms {sign} "
                f"{self.reference} ({seen}; corrected)")
        delays = ", ".join(f"{s}→{d} {ns / 1e6:.3f} ms"
                           for (s, d), ns in sorted(self.delays_ns.items()))
        return text + (f"; one-way delays {delays}" if delays else "")


def _sightings(records: Iterable[Record]) -> dict[Key, int | None]:
    """Each signaling message's timestamp in one file (None: seen more than once)."""
    seen: dict[Key, int | None] = {}
    classify = prefilter.classify
    for rec in records:
        if classify(rec.linktype, rec.data) not in (prefilter.MH, prefilter.DHCP):
            continue
        frame = decode_frame(rec.linktype, rec.data)
        where = dict(frame.offsets)
        off = where.get("mh", where.get("dhcp"))
        if off is None or frame.src is None or frame.dst is None:
            continue
        key = (str(frame.src), str(frame.dst), bytes(rec.data[off:]))
        seen[key] = None if key in seen else rec.ts_ns
    return seen


def estimate(reference: dict[Key, int | None], other: dict[Key, int | None], name: str,
             ref_name: str) -> Offset:
    diffs: dict[tuple[str, str], list[int]] = defaultdict(list)
    for key, t in other.items():
        t0 = reference.get(key)
        if t is not None and t0 is not None:
            diffs[(key[0], key[1])].append(t - t0)
    common = sum(len(v) for v in diffs.values())
    medians = {pair: statistics.median(d) for pair, d in diffs.items()}
    pairs = [(f + medians[(dst, src)]) / 2 for (src, dst), f in medians.items()
             if (dst, src) in medians]
    if not pairs:
        return Offset(name, ref_name, None, common)
    offset = statistics.median(pairs)
    # corrected, a message's two timestamps differ by its one-way delay (sign: who saw
    # it first, the sender's side)
    delays = {pair: int(abs(m - offset)) for pair, m in medians.items()
              if (pair[1], pair[0]) in medians}
    return Offset(name, ref_name, int(offset), common, delays)


def offsets(readers: Sequence[Iterable[Record]], names: Sequence[str]) -> list[Offset]:
    """The offset of every file after the first against the first (one read of each).

    Files that share no message with the first are reached through the others (a MAG's
    capture through the LMA's): the offsets add up along the way.
    """
    seen = [_sightings(r) for r in readers]
    n = len(seen)
    pair = {(i, j): estimate(seen[i], seen[j], names[j], names[i])
            for i in range(n) for j in range(n) if i != j}
    known: dict[int, tuple[int, Offset]] = {0: (0, Offset(names[0], names[0], 0, 0))}
    frontier = [0]
    while frontier:
        i = frontier.pop(0)
        for j in range(n):
            if j in known:
                continue
            est = pair[(i, j)]
            if est.offset_ns is not None:
                known[j] = (known[i][0] + est.offset_ns, est)
                frontier.append(j)
    out = []
    for j in range(1, n):
        if j in known:
            total, est = known[j]
            out.append(Offset(names[j], names[0], total, est.common, est.delays_ns,
                              via=est.reference if est.reference != names[0] else None))
        else:
            out.append(pair[(0, j)])
    return out
