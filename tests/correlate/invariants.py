"""Invariants every timeline keeps (docs/timeline.md), as one checker for the property
tests over the simulator and for every sample capture."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import pairwise

from pmipview.correlate.engine import RETRANSMIT_WINDOW, give_up_time
from pmipview.correlate.model import MobileNode, Report
from pmipview.sources.records import Record

EPS = 1e-6


def frame_times(records: Iterable[Record]) -> dict[int, float]:
    return {r.frame_no: r.ts_ns / 1e9 for r in records}


def _failure_time(txn) -> float | None:
    if txn.outcome == "rejected":
        return txn.answered
    if txn.outcome == "timeout":
        return give_up_time(txn.sent_times or [txn.last_sent])
    return None


def mn_problems(mn: MobileNode, times: dict[int, float]) -> list[str]:
    out: list[str] = []
    for i, att in enumerate(mn.attachments):
        where = f"{mn.id} attachment {i} at {att.mag}"
        early = [f for f in att.frames if f in times and times[f] < att.start - EPS]
        if early:
            out.append(f"{where}: starts at {att.start} after its frames {early}")
        if att.attach_ms is not None and att.address_ms is not None and \
                att.attach_ms < att.address_ms - 1e-3:
            out.append(f"{where}: attach_ms {att.attach_ms} < address_ms {att.address_ms}")
        if att.end is not None and att.end < att.start - EPS:
            out.append(f"{where}: ends before it starts")
        # no attachment spans a failure and a later success: after a rejected or
        # unanswered registration, the next registration of the attachment is a retry
        # within the retransmission window
        end = att.end if att.end is not None else float("inf")
        regs = sorted((t for t in mn.transactions if t.kind == "registration"
                       and t.mag == att.mag and att.start - EPS <= t.first_sent <= end + EPS
                       and any(f in att.frames for f in t.frames)),
                      key=lambda t: t.first_sent)
        for a, b in pairwise(regs):
            failed = _failure_time(a)
            if failed is not None and b.first_sent - failed > RETRANSMIT_WINDOW + EPS:
                out.append(f"{where}: spans a failed registration at {failed} and a later "
                           f"one at {b.first_sent}")
        if att.registered is None and att.end_reason not in ("rejected", "timeout",
                                                             "end-of-capture", "expired",
                                                             "revocation", "detach",
                                                             "handoff"):
            out.append(f"{where}: never registered, ended {att.end_reason}")
    for h in mn.handoffs:
        if h.from_mag == h.to_mag:
            out.append(f"{mn.id}: a handoff from {h.from_mag} to itself")
        if h.interruption_ms is not None and h.handoff_ms is not None and \
                h.interruption_ms < h.handoff_ms - 1e-3:
            out.append(f"{mn.id}: interruption {h.interruption_ms} < handoff {h.handoff_ms}")
    return out


def problems(report: Report, times: dict[int, float]) -> list[str]:
    return [p for mn in report.mobile_nodes for p in mn_problems(mn, times)]
