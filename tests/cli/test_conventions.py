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


def _listed(args) -> list[int]:
    r = CliRunner().invoke(app, ["dissect", *args, "--no-summary"])
    assert r.exit_code == 0, r.output
    return [int(line.split()[0]) for line in r.stdout.splitlines()[1:] if line.strip()]


def test_dissect_mn_includes_its_dhcp_and_revocations():
    frames = _listed([SAMPLE, "--mn", "mn1@example.net"])
    dhcp = _listed([SAMPLE, "--type", "dhcp"])
    assert set(dhcp) <= set(frames) and 1 in frames  # the DISCOVER names only the MAC
    tour = _listed(["samples/tour.pcap", "--mn", "mn1@example.net", "--type", "bri,bra"])
    assert len(tour) == 2


def test_dissect_node_matches_every_address_of_the_node():
    v4 = set(_listed(["samples/tour.pcap", "--node", "192.0.2.100"]))
    v6 = set(_listed(["samples/tour.pcap", "--node", "2001:db8:1::100"]))
    over6 = set(_listed(["samples/tour.pcap", "--node", "2001:db8:1::2"]))
    assert v4 == v6 and over6 and over6 <= v4  # the IPv6 MAG talks to the LMA's IPv6 side


@pytest.mark.parametrize("args", [["--mn", "nobody@x"], ["--status", "zzz"],
                                  ["--from", "500", "--to", "100"]])
def test_a_filter_that_matches_nothing_says_so(args):
    r = CliRunner().invoke(app, ["dissect", "samples/tour.pcap", *args, "--no-summary"])
    assert r.exit_code == 0
    assert "no frame matches" in r.stderr and args[1] in r.stderr
