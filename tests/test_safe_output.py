"""Strings from the wire are untrusted in every output (issue 16, safe output).

One capture whose MN-ID and DHCP Relay Agent remote-id hold ESC[2J (clear screen), BEL,
CR and LF, and a DHCP client whose identifier starts with '=' (a spreadsheet formula).
Every command and format must show them escaped as ``\\xNN`` and never write the raw
control characters; CSV cells that begin with = + - @ are neutralised.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pmipview.cli import app
from tests.correlate.builders import BCAST, HOA1, LMA, MAG1, MN1, ZERO, Script

HOSTILE = "evil\x1b[2J\x07\r\nFORGED LINE@example.net"
FORMULA = "=HYPERLINK(\"http://x\")"
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f]")  # \t and \n may be layout, the rest never


@pytest.fixture(scope="module")
def capture(tmp_path_factory) -> Path:
    s = Script()
    s.dhcp(0.000, "DISCOVER", 0x11, MN1, ZERO, BCAST)
    s.pbu(0.002, MAG1, LMA, 100, nai=HOSTILE, mac=MN1)
    s.pba(0.009, MAG1, LMA, 100, nai=HOSTILE, mac=MN1, hoa=HOA1)
    s.pbu(5.0, MAG1, LMA, 101, nai=FORMULA, mac="02:11:22:33:44:09")
    s.pba(5.004, MAG1, LMA, 101, nai=FORMULA, mac="02:11:22:33:44:09", hoa="10.10.0.9")
    return s.write(tmp_path_factory.mktemp("safe") / "hostile.pcap")


def check_clean(text: str, where: str) -> None:
    assert "\x1b" not in text and "\x07" not in text and "\r" not in text, where
    assert "FORGED LINE" not in "\n".join(
        line for line in text.splitlines() if line.startswith("FORGED")), where
    bad = RAW.findall(text)
    assert not bad, (where, bad)


COMMANDS = [
    ["dissect"], ["dissect", "-V"], ["dissect", "--json"], ["timeline"], ["timeline", "--json"],
    ["timeline", "--csv"], ["stats"], ["ladder", "--no-pager"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_terminal_and_stream_outputs_escape_control_characters(capture: Path, args):
    r = CliRunner().invoke(app, [*args[:1], str(capture), *args[1:]])
    assert r.exit_code == 0, r.output
    check_clean(r.stdout, " ".join(args))
    if args[0] != "stats":
        assert "\\x1b" in r.stdout or "\\u001b" in r.stdout, r.stdout[:2000]


@pytest.mark.parametrize("ext", [".txt", ".mmd", ".puml", ".msc", ".svg"])
def test_ladder_files_escape_control_characters(capture: Path, tmp_path: Path, ext: str):
    out = tmp_path / f"l{ext}"
    r = CliRunner().invoke(app, ["ladder", str(capture), "-o", str(out)])
    assert r.exit_code == 0, r.output
    text = "\n".join(p.read_text() for p in sorted(tmp_path.glob("l*")))
    check_clean(text, ext)
    assert "\\x1b" in text


def test_html_report_escapes_control_characters(capture: Path, tmp_path: Path):
    out = tmp_path / "r.html"
    r = CliRunner().invoke(app, ["report", str(capture), "-o", str(out)])
    assert r.exit_code == 0, r.output
    check_clean(out.read_text(), "report")


def test_csv_cells_cannot_be_formulas(capture: Path):
    r = CliRunner().invoke(app, ["timeline", str(capture), "--csv"])
    assert r.exit_code == 0
    import csv
    import io

    cells = [c for row in csv.reader(io.StringIO(r.stdout)) for c in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "@") or
                (c[:1] == "-" and not re.fullmatch(r"-[\d.]+", c))], cells
    assert any(c.startswith("'=HYPERLINK") for c in cells)


def test_live_tables_show_rich_markup_in_a_nai_as_text():
    """A NAI such as 'x[/]y' is shown as it is in the LMA's binding table and the live
    dashboard: rich must never parse wire text as markup (a MarkupError killed lma)."""
    from types import SimpleNamespace

    from rich.console import Console

    from pmipview.correlate.model import MobileNode
    from pmipview.render.bindings import live_view
    from pmipview.render.live import ViewState, dashboard
    from pmipview.wire.runtime import Counters

    nai = "x[/]y[bold]@e"
    b = SimpleNamespace(session=1, nai=nai, mag="127.0.0.1", hoa=None, prefix_len=None,
                        hnps=(), expires=100.0, lifetime=600, updated=1.0)
    console = Console(width=200, record=True)
    console.print(live_view([b], Counters(), 0.0, 1.0, "udp4", set()))
    mn = MobileNode(uid=1, nais=[nai])
    state = ViewState(filter="[/]", typing=True)
    console.print(dashboard([mn], [], {"frames": 1, "signaling": 1, "malformed": 0},
                            0.0, "lo", ViewState()))
    console.print(dashboard([mn], [], {"frames": 1, "signaling": 1, "malformed": 0},
                            0.0, "lo", state))
    assert console.export_text().count(nai) == 3  # the filter "[/]" keeps it too
