"""The closing summary of ``pmipview dissect``: what was read and what it held."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from pmipview.packets import Tally, status_counts, status_label, status_rejected


def summary_dict(t: Tally, problem: str | None = None,
                 dropped: int | None = None) -> dict[str, Any]:
    """``dropped``: frames the capturing side lost (live capture; None when not known)."""
    duration = ((t.last_ts_ns - t.first_ts_ns) / 1e9
                if t.first_ts_ns is not None and t.last_ts_ns is not None else 0.0)
    return {
        "frames": t.frames,
        "decoded": t.decoded,
        "ignored": t.ignored,
        "malformed": t.malformed,
        "fragments": t.fragments,
        "with_warnings": t.warnings,
        "bytes": t.bytes,
        "duration_s": duration,
        "by_type": dict(sorted(t.by_type.items())),
        "by_status": status_counts(t.by_status),
        "read_problem": problem,
        "dropped_by_capture": dropped,
    }


def summary_table(t: Tally, problem: str | None = None, dropped: int | None = None) -> Table:
    d = summary_dict(t, problem, dropped)
    table = Table(title="Summary", show_header=False, title_justify="left", box=None,
                  padding=(0, 2))
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("frames read", str(d["frames"]))
    table.add_row("  signaling decoded", str(d["decoded"]))
    table.add_row("  malformed", str(d["malformed"]), style="red" if d["malformed"] else "")
    ignored = str(d["ignored"])
    if d["fragments"]:
        ignored += f" (of which {d['fragments']} IP fragments, not reassembled)"
    table.add_row("  not signaling (ignored)", ignored)
    if d["with_warnings"]:
        table.add_row("  with warnings", str(d["with_warnings"]), style="yellow")
    if dropped is not None:
        table.add_row("dropped by the capture", str(dropped), style="bold red" if dropped else "")
    table.add_row("capture span", f"{d['duration_s']:.3f} s")
    if d["by_type"]:
        table.add_row("signaling by type", "")
    for kind, n in d["by_type"].items():
        table.add_row(f"  {kind}", str(n))
    if d["by_status"]:
        table.add_row("replies by status", "")
    bad = {status_label(k) for k in t.by_status if status_rejected(k)}
    for status, n in d["by_status"].items():
        table.add_row(f"  status {status}", str(n), style="red" if status in bad else "")
    if problem:
        table.add_row("reading stopped", problem, style="red")
    return table
