"""Summary, CSV rows, the live panel and the plot from a core run on a virtual clock."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from rich.console import Console

from pmipview.load.core import LoadConfig, LoadCore
from pmipview.load.panel import render
from pmipview.load.report import CSV_COLUMNS, CsvRows, plot, summary, summary_table
from tests.load.test_core import MAGS, Loop, lma


def ran() -> LoadCore:
    core = LoadCore(LoadConfig(mns=50, rate=200, mags=len(MAGS), duration=2.0))
    Loop(core, lma()).run()
    return core


def test_panel_summary_csv_and_plot(tmp_path: Path):
    core = ran()
    core.stats.totals.rejected["[bold]not markup[/bold]"] = 2   # names are never markup
    buf = io.StringIO()
    CsvRows(buf)(core.close_interval(core.sending_ended + 1.0))
    rows = list(csv.reader(io.StringIO(buf.getvalue())))
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == 2
    con = Console(file=io.StringIO(), width=100, color_system=None)
    con.print(render(core, core.sending_ended + 1.0, "udp4 127.0.0.1:5436"))
    text = con.file.getvalue()
    assert "achieved" in text and "p99" in text and "[bold]not markup[/bold]" in text
    doc = summary(core, core.sending_ended + 1.0)
    con.print(summary_table(doc))
    assert "[bold]not markup[/bold]" in con.file.getvalue()
    assert doc["rejected"] == {"[bold]not markup[/bold]": 2}
    svg = tmp_path / "rtt.svg"
    plot(str(svg), core)
    assert svg.read_text().lstrip().startswith("<?xml")
