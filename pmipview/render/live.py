"""The live timeline dashboard of ``pmipview live``: plain functions from the
correlator's snapshot to rich renderables, redrawn while frames arrive.

MN identities come from the wire and are already escaped where bytes became text
(dissectors/text.py); nothing here adds raw input.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from pmipview.correlate.model import Diagnostic, MobileNode, Report
from pmipview.render.safe import safe_text
from pmipview.render.timeline import latencies, percentile

MAX_MNS = 25
MAX_DIAGS = 6


@dataclass(slots=True)
class ViewState:
    """What the user chose with the keys: the selected MN, a filter, the ladder."""

    selected: int = 0
    filter: str = ""
    typing: bool = False          # '/' pressed: keys go to the filter
    ladder: bool = False          # Enter: the selected MN's ladder instead of the table
    notes: list[str] = field(default_factory=list)


def mn_state(mn: MobileNode) -> tuple[str, str | None, str | None]:
    """(state, MAG, HoA) of an MN now: attached, registering, failed, detached."""
    att = mn.attachments[-1] if mn.attachments else None
    if att is None:
        return ("dhcp only" if mn.dhcp else "seen"), None, None
    if att.end is None and att.registered is not None:
        return "attached", att.mag, att.ipv4_hoa
    if att.end is None:
        return "registering", att.mag, att.ipv4_hoa
    return (att.end_reason or "ended"), att.mag, att.ipv4_hoa


def last_event(mn: MobileNode) -> tuple[float, str]:
    """The newest thing that happened to the MN, and when."""
    best = (mn.first_seen, "first seen")
    if mn.transactions:
        t = mn.transactions[-1]
        when = t.answered if t.answered is not None else t.first_sent
        status = f" {t.status_name}" if t.status_name and t.outcome != "accepted" else ""
        best = max(best, (when, f"{t.kind} {t.outcome}{status}"))
    if mn.handoffs:
        h = mn.handoffs[-1]
        best = max(best, (h.time, f"handoff {h.from_mag} → {h.to_mag}"))
    if mn.dhcp:
        ex = mn.dhcp[-1]
        when = ex.messages[-1]["time"] if ex.messages else ex.first
        kind = ex.messages[-1]["type"] if ex.messages else "DHCP"
        best = max(best, (when, f"DHCP {kind}"))
    return best


def visible(mns: Sequence[MobileNode], text: str) -> list[MobileNode]:
    """The MNs the ``/`` filter keeps (NAI, MAC or HoA containing the text), newest first."""
    want = text.strip().lower()
    keep = [m for m in mns if not want or any(
        want in k.lower() for k in (*m.nais, *m.macs, *m.ipv4_hoas))]
    return sorted(keep, key=lambda m: last_event(m)[0], reverse=True)


def mn_table(mns: Sequence[MobileNode], start: float | None, state: ViewState) -> Table:
    title = Text(f"mobile nodes: {len(mns)}" + (
        f" matching {safe_text(state.filter)!r}" if state.filter else ""))
    table = Table(title=title, title_justify="left", header_style="bold")
    for col in ("", "MN", "state", "MAG", "HoA", "att", "hoff", "last event", "at s"):
        table.add_column(col, overflow="fold")
    for i, mn in enumerate(mns[:MAX_MNS]):
        st, mag, hoa = mn_state(mn)
        when, what = last_event(mn)
        style = "reverse" if i == state.selected else (
            "red" if st in ("rejected", "timeout") else None)
        cells = ("▶" if i == state.selected else "", mn.id, st, mag or "-", hoa or "-",
                 str(len(mn.attachments)), str(len(mn.handoffs)), what,
                 f"{when - start:.1f}" if start is not None else "")
        table.add_row(*(Text(c) for c in cells), style=style)  # never parsed as markup
    if len(mns) > MAX_MNS:
        table.caption = f"... {len(mns) - MAX_MNS} more (type / to filter)"
    return table


def latency_line(mns: Sequence[MobileNode]) -> Text:
    lat = latencies(Report(mobile_nodes=list(mns)))
    parts = []
    for metric in ("rtt", "attach", "handoff"):
        values = lat[metric]["all"] if metric in lat else []
        if values:
            p50, p99 = percentile(values, 50), percentile(values, 99)
            parts.append(f"{metric} p50 {p50:.1f} p99 {p99:.1f} max {max(values):.1f} ms "
                         f"(n={len(values)})")
    return Text("latency so far: " + ("; ".join(parts) or "none yet"), style="cyan")


def diagnostics_table(diags: Sequence[Diagnostic]) -> Table:
    table = Table(title="recent diagnostics", title_justify="left", show_header=False,
                  box=None, min_width=40)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for d in list(diags)[-MAX_DIAGS:]:
        table.add_row(Text(d.severity), Text(f"{d.code}: {d.message}"))
    if not diags:
        table.add_row("", "none")
    return table


def counters_text(counts: dict[str, Any]) -> Text:
    drops = counts.get("dropped")
    text = Text(f"frames read {counts['frames']}  signaling {counts['signaling']}  "
                f"malformed {counts['malformed']}  ")
    text.append(f"dropped {drops if drops is not None else 'unknown until the end'}",
                style="bold red" if drops else "dim")
    text.append("  ")
    text.append_text(lag_text(counts))
    return text


LAG_WARN = 1.0  # s behind the wire: shown in yellow past this


def lag_text(counts: dict[str, Any]) -> Text:
    """How far the analysis is behind the capture: frames (dumpcap's count, at most half a
    second old, so a lower bound), the bytes on disk not read yet, and seconds."""
    frames, nbytes, lag = counts.get("behind"), counts.get("behind_bytes") or 0, \
        counts.get("lag")
    if frames is None and not nbytes:
        return Text("lag unknown (tshark pipe)", style="dim")
    if not frames and nbytes < 4096:
        return Text("caught up", style="green")
    parts = [f"≥{frames} frames" if frames else None,
             f"{nbytes / 1e6:.1f} MB" if nbytes >= 100_000 else f"{nbytes} B",
             f"{lag:.1f} s" if lag is not None else None]
    return Text("behind " + ", ".join(p for p in parts if p),
                style="bold yellow" if (lag or 0) > LAG_WARN else "yellow")


KEYS = "↑/↓ or k/j select · Enter ladder · / filter · Esc clear · q stop"


def dashboard(mns: Sequence[MobileNode], diags: Sequence[Diagnostic], counts: dict[str, Any],
              start: float | None, where: str, state: ViewState, ladder: Any = None) -> Group:
    head = Text(f"pmipview live on {where}  ", style="bold")
    head.append(KEYS, style="dim")
    parts: list[Any] = [head, counters_text(counts), latency_line(mns)]
    if state.typing:
        parts.append(Text(f"filter: {safe_text(state.filter)}▏", style="bold yellow"))
    if state.ladder and ladder is not None:
        parts.append(ladder)
    else:
        parts.append(mn_table(visible(mns, state.filter), start, state))
    parts.append(diagnostics_table(diags))
    return Group(*parts)
