"""One capture per node, each on that node's own clock: what a MAG's and the LMA's own
``tcpdump`` give, for testing the merge and the clock-offset estimate (sources/clock.py).

A simulation records every frame at the capture points on one (virtual, true) clock, one
pcapng interface per point.  :func:`per_node` splits that into one capture per point, the
frames its interface saw, with the timestamps the node's clock would have written: true
time plus the node's skew.  Pure functions over the records; the CLI writes the files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from decimal import Decimal, InvalidOperation

from pmipview.sources.records import Record

UNITS_NS = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 1_000_000_000}
_SKEW = re.compile(r"^\s*([^=\s]+)\s*=\s*([+-]?[0-9.]+)\s*(ns|us|µs|ms|s)?\s*$")


def parse_skews(text: str, nodes: Sequence[str]) -> dict[str, int]:
    """``mag1=+12.35ms,lma=-7.89ms`` -> {node: skew in ns}; ValueError with a one-line
    reason.  The unit is ns, us, ms (the default) or s; each node must be one of
    ``nodes`` (the capture points) and be named once."""
    skews: dict[str, int] = {}
    for part in (p for p in text.split(",") if p.strip()):
        m = _SKEW.match(part)
        if m is None:
            raise ValueError(f"expected NODE=±VALUE[unit] (ns, us, ms, s), got {part.strip()!r}")
        node, value, unit = m.group(1), m.group(2), m.group(3) or "ms"
        if node not in nodes:
            raise ValueError(f"{node!r} is not a capture point (one of {', '.join(nodes)})")
        if node in skews:
            raise ValueError(f"{node!r} is given twice")
        try:
            skews[node] = int(Decimal(value) * UNITS_NS[unit])
        except InvalidOperation:
            raise ValueError(f"not a number: {value!r}") from None
    return skews


def per_node(records: Iterable[Record], capture: Sequence[str],
             skews_ns: dict[str, int]) -> dict[str, list[Record]]:
    """The frames of each capture point (interface ``k`` is ``capture[k]``) as its own
    capture: one interface, frames numbered from 1, timestamps plus the node's skew."""
    out: dict[str, list[Record]] = {name: [] for name in capture}
    for rec in records:
        name = capture[rec.interface]
        mine = out[name]
        mine.append(replace(rec, frame_no=len(mine) + 1, interface=0,
                            ts_ns=rec.ts_ns + skews_ns.get(name, 0)))
    return out


def describe_skew(ns: int) -> str:
    """A skew as the CLI prints it: ``+12.350 ms``."""
    return f"{ns / 1e6:+.3f} ms"
