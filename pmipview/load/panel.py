"""The live panel of ``pmipview load`` (rich), when stdout is a terminal.

Shows the schedule (offered and achieved rate, lag, outstanding), the outcomes (accepted,
rejected by status name, timeouts, retransmissions), the RTT percentiles of the last
interval and since the start, and the keys.  Status names come from the wire through
:func:`dissectors.mh_codes.name_of`; they are rendered as plain ``Text``, never markup.
"""

from __future__ import annotations

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from pmipview.load.core import LoadCore
from pmipview.load.stats import PERCENTILES

KEYS = "+/- rate ±10%   * / rate ×2 ÷2   p pause/resume   q stop   Ctrl-C stop now"


def _ms(v: float | None) -> str:
    return "-" if v is None else f"{v:8.3f}"


def render(core: LoadCore, now: float, target: str) -> Panel:
    s = core.stats
    t = s.totals
    row = s.rows[-1] if s.rows else None
    elapsed = now - core.start
    state = ("paused" if core.paused else "draining" if core.stopping else "running")
    head = Text(f"{target}  {core.cfg.mns:,} MNs on {core.cfg.mags} MAG address(es)  "
                f"{elapsed:7.1f} s  {state}")
    rates = Table.grid(padding=(0, 3))
    for _ in range(4):
        rates.add_column(justify="right")
    ans_rate = row.answered / row.length if row and row.length else 0.0
    st_rate = row.started / row.length if row and row.length else 0.0
    lag = core.lag(now) * 1000
    rates.add_row("rate set", f"{core.rate:,.1f}/s", "outstanding", f"{core.outstanding:,}")
    rates.add_row("offered", f"{(row.offered if row else 0):,.1f}/s", "lag now",
                  f"{lag:,.1f} ms")
    rates.add_row("started", f"{st_rate:,.1f}/s", "lag max (interval)",
                  f"{(row.lag_ms if row else 0):,.1f} ms")
    rates.add_row("achieved", f"{ans_rate:,.1f}/s", "attached MNs", f"{core.pop.attached:,}")

    out = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    out.add_column("outcome")
    out.add_column("total", justify="right")
    out.add_column("last interval", justify="right")
    out.add_row("transactions", f"{t.started:,}", f"{row.started if row else 0:,}")
    out.add_row("accepted", f"{t.accepted:,}", f"{row.accepted if row else 0:,}")
    out.add_row("rejected", f"{sum(t.rejected.values()):,}", f"{row.rejected if row else 0:,}")
    for name, n in t.rejected.most_common(6):
        out.add_row(Text(f"  {name}"), f"{n:,}", "")
    out.add_row("timeouts", f"{t.timeouts:,}", f"{row.timeouts if row else 0:,}")
    out.add_row("retransmissions", f"{t.retransmissions:,}",
                f"{row.retransmissions if row else 0:,}")
    if t.late or t.stray or t.garbled:
        out.add_row("late / stray / garbled", f"{t.late:,} / {t.stray:,} / {t.garbled:,}", "")

    rtt = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    rtt.add_column("RTT ms")
    for q in PERCENTILES:
        rtt.add_column(f"p{q}", justify="right")
    rtt.add_column("max", justify="right")
    if row is not None:
        rtt.add_row("interval", *(_ms(row.rtt_ms[f"p{q}"]) for q in PERCENTILES),
                    _ms(row.rtt_ms["max"]))
        tot = row.totals
        rtt.add_row("since start", *(_ms(tot[f"rtt_p{q}_ms"]) for q in PERCENTILES),  # type: ignore[arg-type]
                    _ms(tot["rtt_max_ms"]))  # type: ignore[arg-type]
    return Panel(Group(head, Text(""), rates, Text(""), out, Text(""), rtt, Text(""),
                       Text(KEYS, style="dim")), title="pmipview load", expand=False)
