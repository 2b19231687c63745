"""The whole analysis pipeline over records: scan (pre-filter + decode), signal, correlate."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable

from dissectors.frame import Frame
from pmipview.correlate import Correlator, Report
from pmipview.packets import Packet, Tally, scan
from pmipview.signals import Signal, signal_of, signal_of_record
from pmipview.sources.records import Record


def correlate(records: Iterable[Record], tally: Tally,
              names: dict[str, str] | None = None,
              keep: dict[int, tuple[Signal, Frame | None]] | None = None,
              keep_frames: bool = True, summarise: bool = False,
              on_read: Callable[[], None] | None = None) -> Report:
    """Every signaling frame of ``records`` folded into per-MN timelines.  With ``keep``,
    each signal is also kept by frame number (for ladders), with its decoded frame when
    ``keep_frames`` (for the decoded detail of each arrow; about 1 KB a frame).  With
    ``summarise``, finished history leaves memory (read the MNs with
    ``report.complete()``; correlate/history.py).  ``on_read()`` is called once the last
    record is read, before the correlator finishes (pass the capture reader itself as
    ``records``, not a generator over it: ``scan`` then runs its compiled loop)."""
    c = Correlator(names=names, summarise=summarise)
    feed = c.feed
    lite = keep is None or not keep_frames   # nobody reads the decoded options
    # The cyclic GC off while frames are folded in: decoded frames, signals and the
    # correlator's model are acyclic (freed by reference counting), so its passes over the
    # young objects the correlator keeps found nothing and cost 10-15% of `timeline`'s
    # CPU time (docs/performance.md, "2026-12-03: the correlator").  Turned back on after.
    enabled = gc.isenabled()
    gc.disable()
    try:
        # lite: the clean signaling frames become signals straight from their bytes
        # (signals.signal_of_record); scan yields those, and a Packet for the others
        fast = signal_of_record if lite else None
        for item in scan(records, tally, lite=lite, fast=fast):
            if type(item) is Packet:
                s = signal_of(item)
                if s is not None:
                    feed(s)
                    if keep is not None:
                        keep[item.frame_no] = (s, item.frame if keep_frames else None)
            else:
                feed(item)
                if keep is not None:
                    keep[item.frame] = (item, None)
        if on_read is not None:
            on_read()
        report = c.finish(tally.max_ts_ns / 1e9 if tally.max_ts_ns is not None else None)
    finally:
        if enabled:
            gc.enable()
    report.frames = tally.frames
    if tally.min_ts_ns is not None and tally.max_ts_ns is not None:  # the capture's span
        report.start = tally.min_ts_ns / 1e9
        report.end = tally.max_ts_ns / 1e9
    return report


def parse_names(text: str) -> dict[str, str]:
    """``/etc/hosts`` format: ``address name [aliases...]``, ``#`` comments."""
    from ipaddress import ip_address

    names: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        if len(fields) < 2:
            raise ValueError(f"line {number}: expected 'address name', got {line.strip()!r}")
        try:
            addr = ip_address(fields[0])
        except ValueError:
            raise ValueError(f"line {number}: not an IP address: {fields[0]!r}") from None
        names[str(addr)] = fields[1]
    return names
