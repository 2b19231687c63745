"""What a load run leaves behind: the summary (terminal, ``--json``), the CSV rows, the plot.

The summary's keys are documented in docs/load.md; ``rate_per_s`` is the achieved rate:
answered transactions (accepted + rejected) per second of the sending period.
"""

from __future__ import annotations

import csv
import json
from typing import IO, Any

from pmipview.load.core import LoadCore
from pmipview.load.stats import PERCENTILES, Row

CSV_COLUMNS = (
    "time_s", "interval_s", "offered_per_s", "started_per_s", "answered_per_s",
    "accepted", "rejected", "timeouts", "retransmissions", "outstanding", "lag_ms",
    *(f"rtt_p{q}_ms" for q in PERCENTILES), "rtt_max_ms",
    "total_started", "total_answered", "total_accepted", "total_rejected",
    "total_timeouts", "total_retransmissions",
    *(f"total_rtt_p{q}_ms" for q in PERCENTILES), "total_rtt_max_ms",
)


def _f(v: float | None, digits: int = 3) -> str:
    return "" if v is None else f"{v:.{digits}f}"


class CsvRows:
    """``--stats-csv``: one row per interval, written (and flushed) as it closes."""

    def __init__(self, f: IO[str]) -> None:
        self.f = f
        self.w = csv.writer(f, lineterminator="\n")
        self.w.writerow(CSV_COLUMNS)

    def __call__(self, row: Row) -> None:
        n = row.length or 1.0
        t = row.totals
        self.w.writerow([
            _f(row.t), _f(row.length), _f(row.offered, 1), _f(row.started / n, 1),
            _f(row.answered / n, 1), row.accepted, row.rejected, row.timeouts,
            row.retransmissions, row.outstanding, _f(row.lag_ms),
            *(_f(row.rtt_ms[f"p{q}"]) for q in PERCENTILES), _f(row.rtt_ms["max"]),
            t["started"], t["answered"], t["accepted"], t["rejected"], t["timeouts"],
            t["retransmissions"],
            *(_f(t[f"rtt_p{q}_ms"]) for q in PERCENTILES),  # type: ignore[arg-type]
            _f(t["rtt_max_ms"]),  # type: ignore[arg-type]
        ])
        self.f.flush()


def summary(core: LoadCore, now: float, *, interrupted: bool = False,
            extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The run's summary (also the ``--json`` document)."""
    s = core.stats
    t = s.totals
    h = s.cumulative
    h.merge(s.interval)   # whatever arrived after the last row
    s.interval = type(h)()
    end = core.sending_ended if core.sending_ended is not None else now
    sending = max(end - core.start, 1e-9)
    doc: dict[str, Any] = {
        "transactions": t.started,
        "answered": t.answered,
        "accepted": t.accepted,
        "rejected": dict(sorted(t.rejected.items())),
        "rejected_total": sum(t.rejected.values()),
        "timeouts": t.timeouts,
        "unfinished": core.outstanding,
        "retransmissions": t.retransmissions,
        "pbus_sent": t.sent,
        "late": t.late,
        "stray": t.stray,
        "garbled": t.garbled,
        "other_messages": dict(sorted(t.other.items())),
        "revocations_answered": t.revocations,
        "sequence_resyncs": t.resyncs,
        "send_errors": t.send_errors,
        "by_kind": dict(sorted(t.by_kind.items())),
        "rate_per_s": round(t.answered / sending, 1),
        "offered_per_s": round(core.target(end) / sending, 1),
        "started_per_s": round(t.started / sending, 1),
        "max_lag_ms": round(max((r.lag_ms for r in s.rows), default=0.0), 3),
        "rtt_ms": {**{f"p{q}": h.ms(q) for q in PERCENTILES},
                   "max": h.max_us / 1000 if h.n else None,
                   "mean": round(h.sum_us / h.n / 1000, 3) if h.n else None},
        "read_delay_ms": ({"p50": s.read_delay.ms(50), "p99": s.read_delay.ms(99),
                           "max": s.read_delay.max_us / 1000} if s.read_delay.n else None),
        "duration_s": round(now - core.start, 3),
        "sending_s": round(sending, 3),
        "mns": core.cfg.mns,
        "attached_at_end": core.pop.attached,
        "mag_addresses": core.cfg.mags,
        "rate_requested": core.cfg.rate,
        "rate_at_end": round(core.rate, 3),
        "interrupted": interrupted,
    }
    if extra:
        doc.update(extra)
    return doc


def write_json(path: str, doc: dict[str, Any]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")


def summary_table(doc: dict[str, Any]):  # -> rich Table
    from rich.table import Table
    from rich.text import Text

    t = Table(title="pmipview load: summary", show_header=False, box=None, pad_edge=False)
    t.add_column(style="bold")
    t.add_column()
    rtt = doc["rtt_ms"]

    def ms(v: float | None) -> str:
        return "-" if v is None else f"{v:.3f} ms"

    rows = [
        ("transactions", f"{doc['transactions']:,} ({doc['started_per_s']:,.1f}/s started, "
                         f"offered {doc['offered_per_s']:,.1f}/s)"),
        ("answered", f"{doc['answered']:,}  achieved {doc['rate_per_s']:,.1f}/s"),
        ("accepted", f"{doc['accepted']:,}"),
        ("rejected", f"{doc['rejected_total']:,}"),
        *((f"  {name}", f"{n:,}") for name, n in doc["rejected"].items()),
        ("timeouts", f"{doc['timeouts']:,}  (unfinished at stop: {doc['unfinished']:,})"),
        ("retransmissions", f"{doc['retransmissions']:,}"),
        ("late / stray / garbled", f"{doc['late']:,} / {doc['stray']:,} / {doc['garbled']:,}"),
        ("BRIs answered", f"{doc['revocations_answered']:,}"),
        ("max lag", f"{doc['max_lag_ms']:.1f} ms"),
        ("RTT", f"p50 {ms(rtt['p50'])}  p90 {ms(rtt['p90'])}  p99 {ms(rtt['p99'])}  "
                f"max {ms(rtt['max'])}"),
        ("duration", f"{doc['duration_s']:.1f} s (sending {doc['sending_s']:.1f} s)"),
    ]
    if doc.get("cpu_us_per_transaction") is not None:
        rows.append(("CPU", f"{doc['cpu_s']:.2f} s, {doc['cpu_us_per_transaction']:.1f} µs "
                            f"per transaction (user + system)"))
    if doc.get("send_errors"):
        rows.append(("send errors", f"{doc['send_errors']:,}"))
    if doc.get("interrupted"):
        rows.append(("stopped", "interrupted"))
    for k, v in rows:
        t.add_row(Text(k), Text(v))   # Text: status names never parsed as markup
    return t


def plot(path: str, core: LoadCore) -> None:
    """RTT over time (per-interval percentiles) and its distribution, one figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = core.stats.rows
    h = core.stats.cumulative
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(10, 7.5))
    t = [r.t for r in rows]
    for key, style in (("p50", "-"), ("p90", "--"), ("p99", "-."), ("max", ":")):
        ys = [r.rtt_ms[key] for r in rows]
        pts = [(x, y) for x, y in zip(t, ys, strict=True) if y is not None]
        if pts:
            a1.plot([p[0] for p in pts], [p[1] for p in pts], style, label=key)
    a1.set_xlabel("time since start (s)")
    a1.set_ylabel("PBU→PBA RTT (ms)")
    a1.set_yscale("log")
    a1.set_title("RTT per interval")
    if any(r.rtt_ms["p50"] is not None for r in rows):
        a1.legend(loc="upper left")
    a1b = a1.twinx()
    a1b.plot(t, [r.answered / (r.length or 1) for r in rows], color="grey", alpha=0.5,
             label="answered/s")
    a1b.set_ylabel("answered per second")
    buckets = h.buckets()
    if buckets:
        lows = [b[0] / 1000 for b in buckets]
        widths = [max((b[1] - b[0] + 1) / 1000, 0.001) for b in buckets]
        counts = [b[2] for b in buckets]
        a2.bar(lows, counts, width=widths, align="edge")
        a2.set_xscale("log")
        a2c = a2.twinx()
        total = sum(counts)
        acc = 0
        cdf = []
        for c in counts:
            acc += c
            cdf.append(acc / total)
        a2c.plot([lo + w for lo, w in zip(lows, widths, strict=True)], cdf, color="black")
        a2c.set_ylim(0, 1.02)
        a2c.set_ylabel("cumulative fraction")
    a2.set_xlabel("RTT (ms)")
    a2.set_ylabel("transactions")
    a2.set_title(f"RTT distribution ({h.n:,} answers)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
