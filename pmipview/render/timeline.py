"""``pmipview timeline``: one block per mobile node (rich tables), CSV rows, and the
``pmipview stats`` figures (counts and latency percentiles)."""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from pmipview.correlate.model import MobileNode, Report
from pmipview.packets import StatusKey, status_counts
from pmipview.render.safe import safe_text

SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "note": "cyan"}


def _t(v: float | None, start: float | None) -> str:
    if v is None:
        return "—"
    return f"{v - (start or 0):.3f}"


def _ms(v: float | None) -> str:
    return "—" if v is None else f"{v:.1f}"


def mn_facts(mn: MobileNode) -> list[str]:
    """What identifies an MN besides its id: NAI, MACs, IPv4 HoAs, HNPs, LMA."""
    facts = []
    if mn.nai and mn.id != mn.nai:
        facts.append(f"NAI {mn.nai}")
    if mn.macs:
        facts.append(f"MAC {', '.join(mn.macs)}")
    if mn.ipv4_hoas:
        facts.append(f"IPv4 HoA {', '.join(mn.ipv4_hoas)}")
    if mn.hnps:
        facts.append(f"HNP {', '.join(mn.hnps)}")
    if mn.lma:
        facts.append(f"LMA {mn.lma}")
    return facts


def mn_block(mn: MobileNode, start: float | None) -> Group:
    head = Text(f"{mn.id}", style="bold")
    head.append("  " + "  ".join(mn_facts(mn)), style="dim")
    parts: list[Any] = [head]
    if mn.attachments:
        table = Table(title="attachments", title_justify="left", show_edge=False,
                      header_style="bold")
        for col in ("MAG", "start", "registered", "end", "why", "IPv4 HoA", "DHCP", "HI",
                    "addr ms", "attach ms"):
            table.add_column(col, no_wrap=True,
                             justify="right" if col in ("addr ms", "attach ms") else "left")
        for a in mn.attachments:
            style = "red" if a.end_reason in ("rejected", "timeout", "expired") else ""
            table.add_row(a.mag, _t(a.start, start), _t(a.registered, start),
                          _t(a.end, start), a.end_reason or "", a.ipv4_hoa or "—",
                          a.dhcp_mode or "—",
                          f"{a.handoff_indicator}" if a.handoff_indicator is not None else "—",
                          _ms(a.address_ms), _ms(a.attach_ms), style=style)
        parts.append(table)
    if mn.handoffs:
        table = Table(title="handoffs", title_justify="left", show_edge=False,
                      header_style="bold")
        for col in ("time s", "from", "to", "handoff ms", "interruption ms", "HoA kept"):
            table.add_column(col, justify="right" if col.endswith(" ms") else "left")
        for h in mn.handoffs:
            kept = {True: "yes", False: "NO", None: "—"}[h.hoa_preserved]
            table.add_row(_t(h.time, start), h.from_mag, h.to_mag, _ms(h.handoff_ms),
                          _ms(h.interruption_ms), kept)
        parts.append(table)
    regs = [t for t in mn.transactions if t.kind != "heartbeat"]
    if regs:
        table = Table(title="transactions", title_justify="left", show_edge=False,
                      header_style="bold")
        for col in ("sent", "kind", "MAG", "seq", "HI", "outcome", "status", "rtt ms",
                    "setup ms", "retx", "frames"):
            table.add_column(col, no_wrap=col != "frames")
        for t in regs:
            style = "" if t.outcome == "accepted" else "red"
            table.add_row(_t(t.first_sent, start), t.kind, t.mag,
                          ",".join(map(str, t.seqs)),
                          str(t.hi) if t.hi is not None else "—", t.outcome,
                          str(t.status) if t.status is not None else "—",
                          _ms(t.rtt_ms), _ms(t.setup_ms), str(t.retransmissions),
                          ",".join(map(str, sorted(set(t.frames)))), style=style)
        parts.append(table)
    if mn.dhcp:
        table = Table(title="DHCP", title_justify="left", show_edge=False, header_style="bold")
        for col in ("start", "xid", "mode", "messages", "outcome", "yiaddr", "server id",
                    "addr ms"):
            table.add_column(col, no_wrap=col != "messages")
        for x in mn.dhcp:
            msgs = " ".join(m["type"] + ("'" if m["leg"] == "relay" else "")
                            for m in x.messages)
            table.add_row(_t(x.first, start), f"0x{x.xid:08x}", x.mode, msgs, x.outcome,
                          x.yiaddr or "—", x.server_id or "—", _ms(x.address_ms),
                          style="red" if x.outcome == "nak" else "")
        parts.append(table)
    for d in sorted(mn.diagnostics, key=lambda d: d.time):
        parts.append(Text(f"  {d.severity:<7} {_t(d.time, start):>10}  {d.code}: {d.message} "
                          f"(frames {', '.join(map(str, d.frames))})",
                          style=SEVERITY_STYLE[d.severity]))
    return Group(*parts)


def header(r: Report) -> Text:
    when = datetime.fromtimestamp(r.start, UTC).isoformat() if r.start else "—"
    span = (r.end - r.start) if r.start is not None and r.end is not None else 0
    text = Text(f"{r.frames} frames, {r.signaling_frames} signaling, "
                f"{r.malformed_frames} malformed; from {when} for {span:.3f} s; "
                f"{len(r.mobile_nodes)} mobile nodes; nodes: ", style="bold")
    text.append(", ".join(f"{n.name} ({n.role}"
                          + (f": also {' '.join(n.addresses[1:])}" if n.addresses[1:] else "")
                          + ")" for n in r.nodes))
    text.append("\nTimes in seconds from the first frame, as seen at the capture point.",
                style="dim")
    return text


def csv_cell(value: object) -> object:
    """A CSV cell a spreadsheet will not run: text starting with = + - @ (or a tab or CR,
    which some spreadsheets skip first) gets a leading ' (OWASP's CSV-injection rule);
    numbers are left alone, control characters escaped."""
    if not isinstance(value, str) or not value:
        return value
    text = safe_text(value)
    return "'" + text if text[0] in "=+-@\t\r" else text


class _SafeWriter:
    def __init__(self, out: io.StringIO) -> None:
        self._w = csv.writer(out)

    def writerow(self, row: list[object]) -> None:
        self._w.writerow([csv_cell(c) for c in row])


def csv_text(r: Report, mns: list[MobileNode]) -> str:
    out = io.StringIO()
    w = _SafeWriter(out)
    w.writerow(["mn", "nai", "macs", "mag", "interface", "start", "registered", "end",
                "end_reason", "ipv4_hoa", "dhcp_mode", "handoff_indicator",
                "access_technology", "address_ms", "attach_ms", "diagnostics"])
    for mn in mns:
        diags = Counter(d.code for d in mn.diagnostics)
        for a in mn.attachments:
            w.writerow([mn.id, mn.nai or "", " ".join(mn.macs), a.mag, a.key, a.start,
                        a.registered if a.registered is not None else "",
                        a.end if a.end is not None else "", a.end_reason or "",
                        a.ipv4_hoa or "", a.dhcp_mode or "",
                        a.handoff_indicator if a.handoff_indicator is not None else "",
                        a.access_technology if a.access_technology is not None else "",
                        "" if a.address_ms is None else round(a.address_ms, 3),
                        "" if a.attach_ms is None else round(a.attach_ms, 3),
                        " ".join(f"{k}={v}" for k, v in sorted(diags.items()))])
    return out.getvalue()


# -- stats ---------------------------------------------------------------------------------

def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil
    return ordered[int(rank) - 1]


# PBU/PBA transactions that register a binding (not revocations or heartbeats).
REGISTRATION_KINDS = ("registration", "refresh", "deregistration")


def latencies(r: Report) -> dict[str, dict[str, list[float]]]:
    """{metric: {mag or "all": [ms...]}} for rtt, setup, address, attach, handoff and
    interruption (break-before-make handoffs only; per MAG: the new MAG)."""
    out: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for mn in r.mobile_nodes:
        for t in mn.transactions:
            if t.kind in REGISTRATION_KINDS and \
                    t.outcome in ("accepted", "rejected"):
                for metric, v in (("rtt", t.rtt_ms), ("setup", t.setup_ms)):
                    if v is not None:
                        out[metric]["all"].append(v)
                        out[metric][t.mag].append(v)
        for a in mn.attachments:
            for metric, v in (("address", a.address_ms), ("attach", a.attach_ms)):
                if v is not None:
                    out[metric]["all"].append(v)
                    out[metric][a.mag].append(v)
        for h in mn.handoffs:
            for metric, v in (("handoff", h.handoff_ms), ("interruption", h.interruption_ms)):
                if v is not None:
                    out[metric]["all"].append(v)
                    out[metric][h.to_mag].append(v)
    return out


METRICS = ("rtt", "setup", "address", "attach", "handoff", "interruption")


def stats_dict(r: Report, by_type: Mapping[str, int],
               by_status: Mapping[StatusKey, int]) -> dict[str, Any]:
    lat = latencies(r)
    failures = Counter(d.code for d in r.diagnostics)
    for mn in r.mobile_nodes:
        failures.update(d.code for d in mn.diagnostics)

    def summary(values: list[float]) -> dict[str, Any]:
        return {"count": len(values), "p50": percentile(values, 50),
                "p90": percentile(values, 90), "p99": percentile(values, 99),
                "max": max(values) if values else None}

    return {
        "capture": {"frames": r.frames, "signaling_frames": r.signaling_frames,
                    "malformed_frames": r.malformed_frames, "start": r.start, "end": r.end},
        "messages": dict(sorted(by_type.items())),
        "statuses": status_counts(by_status),
        "mobile_nodes": len(r.mobile_nodes),
        "attachments": sum(len(mn.attachments) for mn in r.mobile_nodes),
        "handoffs": sum(len(mn.handoffs) for mn in r.mobile_nodes),
        "failures": dict(sorted(failures.items())),
        "latency_ms": {m: {key: summary(v) for key, v in sorted(
            lat[m].items(), key=lambda kv: (kv[0] != "all", kv[0]))} for m in METRICS},
    }


def stats_tables(d: dict[str, Any]) -> Group:
    counts = Table(title="counts", title_justify="left", show_header=False, box=None)
    counts.add_column(style="bold")
    counts.add_column(justify="right")
    cap = d["capture"]
    for k, v in (("frames", cap["frames"]), ("signaling frames", cap["signaling_frames"]),
                 ("malformed frames", cap["malformed_frames"]),
                 ("mobile nodes", d["mobile_nodes"]), ("attachments", d["attachments"]),
                 ("handoffs", d["handoffs"])):
        counts.add_row(k, str(v))
    for k, v in d["messages"].items():
        counts.add_row(f"  {k}", str(v))
    for k, v in d["statuses"].items():
        counts.add_row(f"  status {k}", str(v))
    for k, v in d["failures"].items():
        counts.add_row(f"  {k}", str(v), style="red" if k in (
            "pba-rejected", "pbu-unanswered", "hoa-reply-failure", "malformed",
            "duplicate-hoa", "yiaddr-mismatch") else "yellow")
    lat = Table(title="latency (ms, as seen at the capture point)", title_justify="left",
                header_style="bold")
    for col in ("metric", "MAG", "count", "p50", "p90", "p99", "max"):
        lat.add_column(col, justify="left" if col in ("metric", "MAG") else "right")
    for metric, per in d["latency_ms"].items():
        for key, s in per.items():
            lat.add_row(metric, key, str(s["count"]),
                        *("—" if s[q] is None else f"{s[q]:.1f}"
                          for q in ("p50", "p90", "p99", "max")))
    return Group(counts, lat)
