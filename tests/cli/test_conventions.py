"""CLI conventions every command shares (issue 16): usage errors are one line and exit 2,
output that is not a terminal is never cut at 80 columns, --width overrides, shell
completion is offered, stats takes --mn."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from pmipview.cli import app
from tests.cli_util import one_line_error

SAMPLE = "samples/handover-server-mode.pcapng"


@pytest.mark.parametrize(("args", "words"), [
    (["timeline", SAMPLE, "--bogus"], ["No such option: --bogus", "pmipview timeline --help"]),
    (["nosuch"], ["No such command 'nosuch'", "pmipview --help"]),
    (["lma", "--port", "x"], ["'--port'", "pmipview lma --help"]),
    (["ladder", SAMPLE, "--mn"], ["--mn", "requires an argument"]),
])
def test_usage_errors_are_one_line(args, words):
    one_line_error(CliRunner().invoke(app, args), 2, *words)


def test_piped_tables_are_not_cut_and_width_overrides():
    r = CliRunner().invoke(app, ["timeline", SAMPLE])
    assert r.exit_code == 0 and "…" not in r.stdout
    assert max(len(line) for line in r.stdout.splitlines()) > 80
    narrow = CliRunner().invoke(app, ["--width", "60", "timeline", SAMPLE])
    assert narrow.exit_code == 0
    rows = [line for line in narrow.stdout.splitlines() if "│" in line]
    assert rows and max(len(line) for line in rows) <= 60
    one_line_error(CliRunner().invoke(app, ["--width", "10", "timeline", SAMPLE]), 2,
                   "--width")


def test_completion_is_offered():
    r = CliRunner().invoke(app, ["--help"])
    assert "--install-completion" in r.stdout


def test_stats_for_one_mn():
    whole = json.loads(CliRunner().invoke(app, ["stats", SAMPLE, "--json"]).stdout)
    one = json.loads(CliRunner().invoke(app, ["stats", SAMPLE, "--json", "--mn",
                                              "mn1@example.net"]).stdout)
    assert one["mobile_nodes"] == 1 and one["messages"] == {}
    assert one["handoffs"] == whole["handoffs"] == 1
    one_line_error(CliRunner().invoke(app, ["stats", SAMPLE, "--mn", "zz"]), 1,
                   "no mobile node 'zz'")
