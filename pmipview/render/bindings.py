"""The live binding-cache table of ``pmipview lma`` (and its exit summary).

Plain functions from snapshots to rich renderables: the command refreshes them while the
node runs.  NAIs come from the wire and are escaped (:func:`safe_text`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from pmipview.render.safe import safe_text

MAX_ROWS = 40


def _left(seconds: float) -> str:
    if seconds <= 0:
        return "0 s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds // 60:.0f} min"


def binding_table(bindings: Sequence[Any], now: float, pending: set[int] | None = None,
                  max_rows: int = MAX_ROWS) -> Table:
    """One row per mobility session, most recently updated first."""
    table = Table(title=f"binding cache: {len(bindings)} "
                        f"{'session' if len(bindings) == 1 else 'sessions'}",
                  title_justify="left", expand=False, header_style="bold")
    for col in ("NAI", "MAG", "HoA", "HNP", "left", "state"):
        table.add_column(col, overflow="fold")
    pending = pending or set()
    rows = sorted(bindings, key=lambda b: (b.updated, b.session), reverse=True)
    for b in rows[:max_rows]:
        left = b.expires - now
        state = "revoking" if b.session in pending else (
            "expiring" if left < min(10.0, b.lifetime / 4) else "active")
        hnp = ", ".join(str(n) for n in b.hnps) or "-"
        hoa = f"{b.hoa}/{b.prefix_len}" if b.hoa is not None else "-"
        # Text cells: a NAI such as "x[/]y" is shown, never parsed as rich markup
        table.add_row(*(Text(v) for v in (safe_text(b.nai), safe_text(b.mag), hoa, hnp,
                                          _left(left), state)))
    if len(rows) > max_rows:
        table.caption = f"... and {len(rows) - max_rows} more (see --log)"
    return table


def counters_line(counters: Any, started: float, now: float) -> Text:
    c = counters
    bad = sum(c.undecodable.values())
    ev = c.events
    parts = [f"up {now - started:.0f} s", f"in {c.received}", f"out {c.sent}",
             f"registered {ev['registered']}", f"refreshed {ev['refreshed']}",
             f"handoffs {ev['handoff']}", f"rejected {ev['rejected']}",
             f"deregistered {ev['deregistered']}", f"expired {ev['expired']}"]
    if bad:
        parts.append(f"undecodable {bad}")
    if c.send_errors:
        parts.append(f"send errors {c.send_errors}")
    return Text("  ".join(parts), style="dim", overflow="fold")


def live_view(bindings: Sequence[Any], counters: Any, started: float, now: float,
              listening: str, pending: set[int] | None = None) -> Group:
    head = Text(f"pmipview lma on {listening}  (Ctrl-C to stop, SIGHUP reloads profiles)",
                style="bold")
    return Group(head, counters_line(counters, started, now),
                 binding_table(bindings, now, pending))


def summary_lines(counters: Any, bindings: int, started: float, now: float) -> list[str]:
    c = counters
    ev = c.events
    lines = [f"ran {now - started:.1f} s: {c.received} datagrams in, {c.sent} out, "
             f"{bindings} bindings at exit",
             f"registered {ev['registered']}, refreshed {ev['refreshed']}, handoffs "
             f"{ev['handoff']}, rejected {ev['rejected']}, de-registered "
             f"{ev['deregistered']}, expired {ev['expired']}, revoked {ev['revoked']}"]
    if c.undecodable:
        why = ", ".join(f"{n} {r}" for r, n in c.undecodable.most_common())
        lines.append(f"dropped as undecodable: {why}")
    if ev["dropped"]:
        lines.append(f"ignored by the core: {ev['dropped']}")
    if getattr(c, "fast", 0):
        lines.append(f"refreshes answered by the fast path: {c.fast}")
    if getattr(c, "shed", 0):
        lines.append(f"shed under overload (PBUs that waited longer than their MAG's first "
                     f"retransmission): {c.shed}")
    if c.send_errors or c.core_errors:
        lines.append(f"send errors {c.send_errors}, core errors {c.core_errors}")
    return lines
