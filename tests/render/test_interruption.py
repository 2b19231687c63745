"""A break-before-make handoff's interruption (the old binding released before the new
MAG's first PBU, until the new PBA) is shown wherever handoff_ms is: the timeline's
handoff table, stats (text and JSON), the HTML report's MN table, and as a plot kind."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from pmipview.cli import app

SAMPLE = str(Path(__file__).resolve().parents[2] / "samples"
             / "break-before-make-deregistration.pcapng")
MAKE_BEFORE_BREAK = str(Path(__file__).resolve().parents[2] / "samples"
                        / "handover-server-mode.pcapng")
runner = CliRunner()


def interruption_ms(path: str) -> list[float]:
    doc = json.loads(runner.invoke(app, ["timeline", path, "--json"]).stdout)
    return [h["interruption_ms"] for mn in doc["mobile_nodes"] for h in mn["handoffs"]
            if h["interruption_ms"] is not None]


def test_stats_count_the_interruption_per_new_mag():
    (gap,) = interruption_ms(SAMPLE)
    r = runner.invoke(app, ["stats", SAMPLE, "--json"])
    assert r.exit_code == 0, r.output
    lat = json.loads(r.stdout)["latency_ms"]["interruption"]
    assert lat["all"]["count"] == 1 and round(lat["all"]["max"], 3) == gap
    assert set(lat) == {"all", "192.0.2.2"}
    text = runner.invoke(app, ["stats", SAMPLE]).stdout
    rows = [[c.strip() for c in line.split("│")[1:-1]] for line in text.splitlines()
            if "interruption" in line]
    assert ["interruption", "all", "1", *[f"{gap:.1f}"] * 4] in rows, text


def test_make_before_break_has_no_interruption():
    assert interruption_ms(MAKE_BEFORE_BREAK) == []
    doc = json.loads(runner.invoke(app, ["stats", MAKE_BEFORE_BREAK, "--json"]).stdout)
    assert doc["latency_ms"]["interruption"] == {}
    r = runner.invoke(app, ["plot", MAKE_BEFORE_BREAK, "--kind", "interruption",
                            "-o", "x.png"])
    assert r.exit_code == 1 and "no break-before-make handoff" in r.stderr


def test_timeline_handoff_table_has_the_interruption_column():
    (gap,) = interruption_ms(SAMPLE)
    lines = runner.invoke(app, ["timeline", SAMPLE]).stdout.splitlines()
    head = next(i for i, line in enumerate(lines) if "interruption ms" in line)
    cols = [c.strip() for c in lines[head].split("┃")]
    row = [c.strip() for c in lines[head + 2].split("│")]
    assert row[cols.index("interruption ms")] == f"{gap:.1f}"


def test_html_mn_table_shows_the_gap_under_the_handoff(tmp_path):
    (gap,) = interruption_ms(SAMPLE)
    out = tmp_path / "r.html"
    r = runner.invoke(app, ["report", SAMPLE, "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert f">gap {gap:.1f}</span>" in out.read_text()


def test_interruption_is_a_plot_kind(tmp_path):
    out = tmp_path / "gap.svg"
    r = runner.invoke(app, ["plot", SAMPLE, "--kind", "interruption", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "interruption" in out.read_text()
