"""Stage 2 of the pipeline over a stream of records: pre-filter, decode, count.

``scan(records)`` yields a :class:`Packet` for every frame that carries signaling
(Mobility Header or DHCP), or for every frame with ``everything=True``, and keeps a
:class:`Tally` so that nothing is lost silently:
``tally.decoded + tally.ignored + tally.malformed == tally.frames``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from dissectors import prefilter, speedups
from dissectors.dhcp_codes import DhcpMessageType
from dissectors.frame import Frame, decode_frame
from dissectors.mh import BindingAck, BindingRevocation
from dissectors.mh_codes import BRAStatus, MessageKind, ba_status_name, name_of, status_accepted
from pmipview.sources.records import Record


@dataclass(frozen=True, slots=True)
class Packet:
    """A decoded frame with its place in the capture."""

    frame_no: int
    ts_ns: int
    interface: int
    frame: Frame
    comment: str | None = None

    @property
    def ts(self) -> float:
        return self.ts_ns / 1e9


#: The outcome a reply carries: ``(family, code)`` with family the message kind (``PBA``,
#: ``BA``, ``BRA``, ``BR``) and code its status, or ``("DHCP", 6)`` for a DHCPNAK.
StatusKey = tuple[str, int]
DHCP_FAMILY = "DHCP"


@dataclass(slots=True)
class Tally:
    """Counts of one scan.  A frame is decoded, ignored or malformed, never two of them."""

    frames: int = 0
    decoded: int = 0      # signaling frames decoded without error
    malformed: int = 0    # signaling frames (or, with --all, any frame) that did not parse
    ignored: int = 0      # frames that cannot carry signaling, fragments included
    fragments: int = 0    # non-first IP fragments among the ignored (never reassembled)
    bytes: int = 0
    first_ts_ns: int | None = None   # of the first frame in file order
    last_ts_ns: int | None = None    # of the last frame in file order
    min_ts_ns: int | None = None     # earliest and latest timestamps (pcapng interfaces
    max_ts_ns: int | None = None     # may interleave out of order)
    by_type: Counter[str] = field(default_factory=Counter)
    by_status: Counter[StatusKey] = field(default_factory=Counter)  # see status_key
    warnings: int = 0     # frames decoded with a flagged problem (bad checksum...)

    def count(self, packet: Packet, kind: str | None, status: StatusKey | None) -> None:
        frame = packet.frame
        if frame.malformed is not None:
            self.malformed += 1
        elif frame.signaling:
            self.decoded += 1
        else:
            self.ignored += 1
        if frame.warnings:
            self.warnings += 1
        if kind:
            self.by_type[kind] += 1
        if status:
            self.by_status[status] += 1

    def count_clean(self, kind: str, status: StatusKey | None) -> None:
        """:meth:`count` of a signaling frame decoded cleanly (no malformation, no
        warning) of ``kind`` and ``status``: what a ``scan(fast=...)`` hit counts."""
        self.decoded += 1
        self.by_type[kind] += 1
        if status:
            self.by_status[status] += 1


def kind_of(frame: Frame) -> str | None:
    """``PBU``, ``PBA``, ``BRI``, ``HB-Req``, ``DHCP DISCOVER``… or None."""
    if frame.mh is not None:
        return frame.mh.short
    if frame.dhcp is not None:
        return dhcp_kind(frame.dhcp.message_type)
    return None


def dhcp_kind(mtype: DhcpMessageType | int | None) -> str:
    """The kind of a DHCP message of type ``mtype``: ``DHCP DISCOVER``…, ``BOOTP``."""
    if mtype is None:
        return "BOOTP"
    return f"DHCP {getattr(mtype, 'name', mtype)}"


def dhcp_status(mtype: DhcpMessageType | int | None) -> StatusKey | None:
    """The outcome a DHCP message of type ``mtype`` carries: a DHCPNAK's, or None."""
    return (DHCP_FAMILY, int(DhcpMessageType.NAK)) if mtype == DhcpMessageType.NAK else None


def status_key(frame: Frame) -> StatusKey | None:
    """The outcome a reply carries (see :data:`StatusKey`), or None."""
    mh = frame.mh
    if isinstance(mh, BindingAck):
        return mh.short, int(mh.status)
    if isinstance(mh, BindingRevocation) and not mh.indication:
        return mh.short, mh.code          # BRA, or BR of a reserved type
    if mh is not None:
        return None
    if frame.dhcp is not None:
        return dhcp_status(frame.dhcp.message_type)
    return None


def status_label(key: StatusKey) -> str:
    """``0 Proxy Binding Update accepted``, ``135 Sequence number out of window``,
    ``DHCP NAK``: the status as every output shows it."""
    family, code = key
    if family == DHCP_FAMILY:
        return f"DHCP {DhcpMessageType(code).name}"
    if family == MessageKind.BRA:
        return f"{code} {name_of(BRAStatus, code)}"
    if family == MessageKind.BR:
        return f"{code} {code}"           # a reserved B.R. type: its code has no name
    return f"{code} {ba_status_name(code, family == MessageKind.PBA)}"


def status_rejected(key: StatusKey) -> bool:
    """A refusal: a BA/BRA status of 128 or more, or a DHCPNAK."""
    family, code = key
    return family == DHCP_FAMILY or not status_accepted(code)


def status_counts(by_status: Mapping[StatusKey, int]) -> dict[str, int]:
    """``by_status`` by label, in label order (a BA and a PBA status with the same label
    count together)."""
    out: Counter[str] = Counter()
    for key, n in by_status.items():
        out[status_label(key)] += n
    return dict(sorted(out.items()))


def status_of(frame: Frame) -> str | None:
    """The label of the outcome a reply carries (:func:`status_label`), or None."""
    key = status_key(frame)
    return status_label(key) if key is not None else None


#: ``scan``'s on-demand path: for a record, ``(item, kind, status)`` when it is sure the
#: record is a signaling frame that decodes cleanly (no malformation, no warning) of that
#: kind and status (``kind_of``, ``status_key``), else None (the record is then decoded).
Fast = Callable[[Record], "tuple[Any, str, StatusKey | None] | None"]


def scan(records: Iterable[Record], tally: Tally, *, everything: bool = False,
         lite: bool = False, fast: Fast | None = None) -> Iterator[Any]:
    """Pre-filter and decode ``records``; count every frame in ``tally``.

    ``lite``: decode clean DHCP messages on demand only (``decode_frame(lite=True)``), for
    callers that read signals and counts, never the options (timeline, --summary).

    ``fast`` (with ``lite``, not ``everything``): each record the pre-filter lets through
    goes to ``fast`` first; what it answers is counted as a clean signaling frame and its
    item yielded in place of a :class:`Packet` (``pipeline.correlate`` gets signals
    straight from the bytes: ``signals.signal_of_record``).  The tally is the same.

    A capture reader with the compiled loop runs the pre-filter inside it
    (``CaptureReader.prefiltered``): the frames it drops never become records, and its
    counts fill the tally; otherwise ``classify`` runs here on every record.  Both give
    the same packets and the same tally (tests/test_speedups.py).
    """
    prefiltered = getattr(records, "prefiltered", None)
    fused = prefiltered() if prefiltered is not None and not everything else None
    if everything:
        fast = None
    if fused is not None:
        passed, counts = fused
        return _scan_prefiltered(passed, counts, tally, lite, fast)
    return _scan(records, tally, everything, lite, fast)


_CSUMMARY = speedups.compiled("dissectors._csummary")
"""The compiled counting path (dissectors/_csummary.pyx), or None."""


def count_frames(records: Iterable[Record], tally: Tally) -> None:
    """Count every frame of ``records`` in ``tally``, exactly as draining
    ``scan(records, tally, lite=True)`` does (``dissect --summary``).

    With the compiled counting path and a reader's compiled loop, the frames
    ``_csummary.Summary.take`` is sure of (decoded cleanly: no malformation, no warning)
    are counted in C by key and never become a record; the others are decoded in full
    as by ``scan``.  Otherwise this is ``scan``.  The tally is complete when this returns
    or raises (KeyboardInterrupt while reading: what was read is counted).
    """
    prefiltered = getattr(records, "prefiltered", None)
    summary = _CSUMMARY.Summary() if _CSUMMARY is not None else None
    fused = prefiltered(summary) if prefiltered is not None and summary is not None else None
    if fused is None:
        for _ in scan(records, tally, lite=True):
            pass
        return
    assert summary is not None  # fused is None without it
    passed, counts = fused
    try:
        for _ in _scan_prefiltered(passed, counts, tally, True):
            pass
    finally:
        add_keys(tally, summary.decoded, summary.items())


_KEYS: dict[int, tuple[str | None, StatusKey | None]] = {}


def add_keys(tally: Tally, decoded: int, keys: Iterable[tuple[int, int]]) -> None:
    """Add what the compiled counting path counted: ``decoded`` frames, ``(key, n)``
    by key; a key's kind and status are those of the frame it stands for
    (``count_keys.key_frame``), read by :func:`kind_of` and :func:`status_key`."""
    tally.decoded += decoded
    for key, n in keys:
        known = _KEYS.get(key)
        if known is None:
            from dissectors.count_keys import key_frame

            frame = key_frame(key)
            known = _KEYS[key] = (kind_of(frame), status_key(frame))
        kind, status = known
        if kind:
            tally.by_type[kind] += n
        if status:
            tally.by_status[status] += n


def _decoder(lite: bool):
    """decode_frame, remembering recent frames: the same frame captured on two interfaces
    (at a MAG and at the LMA, through a SPAN port...) is decoded once, since decode_frame
    depends on the bytes only."""
    recent: dict[bytes, Frame] = {}

    def decode(linktype: int, data: bytes) -> Frame:
        frame = recent.get(data)
        if frame is None or frame.linktype != linktype:
            frame = decode_frame(linktype, data, lite)
            if len(recent) >= 4096:
                recent.clear()
            recent[data] = frame
        return frame

    return decode


def _scan_prefiltered(records: Iterable[Record], counts, tally: Tally,
                      lite: bool, fast: Fast | None = None) -> Iterator[Any]:
    """scan over a reader's compiled loop: ``records`` passed its pre-filter, ``counts``
    counts every frame read (passed or not); the tally is the sum of both."""
    decode = _decoder(lite)
    frames, nbytes, ignored, fragments = tally.frames, tally.bytes, tally.ignored, tally.fragments
    first, lo, hi = tally.first_ts_ns, tally.min_ts_ns, tally.max_ts_ns
    extra = 0  # let through by the pre-filter but not signaling

    def sync() -> None:
        tally.frames = frames + counts.frames
        tally.bytes = nbytes + counts.nbytes
        tally.ignored = ignored + counts.ignored + extra
        tally.fragments = fragments + counts.fragments
        if counts.frames:
            tally.last_ts_ns = counts.last
            tally.first_ts_ns = first if first is not None else counts.first
            tally.min_ts_ns = counts.lo if lo is None else min(lo, counts.lo)
            tally.max_ts_ns = counts.hi if hi is None else max(hi, counts.hi)

    try:
        for rec in records:
            if fast is not None:
                hit = fast(rec)
                if hit is not None:
                    sync()
                    tally.count_clean(hit[1], hit[2])
                    yield hit[0]
                    continue
            frame = decode(rec.linktype, rec.data)
            if not frame.signaling and frame.malformed is None:
                extra += 1  # UDP port 67 with no DHCP body...: not ours
                continue
            packet = Packet(rec.frame_no, rec.ts_ns, rec.interface, frame, rec.comment)
            sync()
            before = tally.ignored
            tally.count(packet, kind_of(frame), status_key(frame))
            extra += tally.ignored - before
            yield packet
    finally:
        sync()


def _scan(records: Iterable[Record], tally: Tally, everything: bool,
          lite: bool, fast: Fast | None = None) -> Iterator[Any]:
    """scan with ``classify`` here.  The per-frame counters live in locals in the hot loop
    and are written back to ``tally`` before each packet is yielded and when the loop ends
    (or is closed)."""
    classify = prefilter.classify
    fragment = prefilter.FRAGMENT
    skip = (prefilter.OTHER, fragment)
    decode = _decoder(lite)
    frames, nbytes, ignored, fragments = tally.frames, tally.bytes, tally.ignored, tally.fragments
    last = tally.last_ts_ns
    lo = tally.min_ts_ns if tally.min_ts_ns is not None else 1 << 62
    hi = tally.max_ts_ns if tally.max_ts_ns is not None else -(1 << 62)

    def sync() -> None:
        tally.frames, tally.bytes, tally.ignored, tally.fragments = (
            frames, nbytes, ignored, fragments)
        tally.last_ts_ns = last
        if frames:
            tally.min_ts_ns, tally.max_ts_ns = lo, hi

    try:
        for rec in records:
            data = rec.data
            frames += 1
            nbytes += len(data)
            last = rec.ts_ns
            if last > hi:
                hi = last
            if last < lo:
                lo = last
            if tally.first_ts_ns is None:
                tally.first_ts_ns = last
            cls = classify(rec.linktype, data)
            if cls in skip:
                if cls == fragment:
                    fragments += 1
                if not everything:
                    ignored += 1
                    continue
            if fast is not None:
                hit = fast(rec)
                if hit is not None:
                    sync()
                    tally.count_clean(hit[1], hit[2])
                    yield hit[0]
                    continue
            frame = decode(rec.linktype, data)
            if not everything and not frame.signaling and frame.malformed is None:
                # the pre-filter let it through (UDP port 67 with no DHCP body...): not ours
                ignored += 1
                continue
            packet = Packet(rec.frame_no, last, rec.interface, frame, rec.comment)
            sync()
            tally.count(packet, kind_of(frame), status_key(frame))
            ignored = tally.ignored
            yield packet
    finally:
        sync()
