"""``pmipview ladder`` as a user runs it: the terminal drawing, scope options, errors."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pmipview.cli import app
from pmipview.sources.capfile import open_capture, write_pcap
from tests.cli_util import one_line_error

ROOT = Path(__file__).resolve().parents[2]
TOUR = ROOT / "samples" / "tour.pcap"
runner = CliRunner()


def run(*args: object):
    return runner.invoke(app, ["ladder", *map(str, args)])


def test_terminal_ladder_of_the_first_mn_lists_the_others():
    r = run(TOUR, "--width", "120")
    assert r.exit_code == 0, r.output
    assert "3 mobile nodes; drawing mn1@example.net" in r.stderr
    assert "mn2@example.net, mn3@example.net" in r.stderr
    out = r.stdout.splitlines()
    assert out[0].startswith("Ladder of mn1@example.net (10.10.0.5)  (17 messages")
    # lifeline names and roles, then arrows with whole labels and times
    assert "mn1@example.net" in out[1] and "192.0.2.1" in out[1] and "192.0.2.100" in out[1]
    assert out[2].split() == ["MN", "MAG", "MAG", "LMA"]
    text = r.stdout
    assert "PBA seq 31148 · 0 Proxy Binding Update accepted · HoA 10.10.0.5/24 · lifetime 600 s" \
        in text
    assert "══ handoff 192.0.2.1 → 2001:db8:1::2, HoA kept, 8.3 ms" in text
    assert "══ detach (de-registration) at 2001:db8:1::2" in text
    assert max(len(line) for line in out) <= 120
    row = next(line for line in out if line.lstrip().startswith("0.002100"))
    assert "├" in row and "▶" in row  # the PBU from the MAG to the LMA, left to right


def test_rejected_and_timed_out_mns_show_why():
    r = run(TOUR, "--mn", "mn3@example.net", "--width", "100", "--time", "delta")
    assert r.exit_code == 0, r.output
    words = " ".join(r.stdout.split())
    assert "PBU seq 31152 · HI 1 new interface · HoA? 0.0.0.0 · ↻ retransmission" in words
    assert "PBU seq 31153 · HI 1 new interface · HoA? 0.0.0.0 · ✕ timeout (no answer)" in words
    assert "✕" in r.stdout and "╌" in r.stdout
    assert "✖ pbu-unanswered: registration by 192.0.2.1" in r.stdout
    assert "+1.000000" in r.stdout
    r = run(TOUR, "--mn", "10.10.0.5", "--width", "100")  # by IPv4 HoA
    assert r.exit_code == 0 and "Ladder of mn1@example.net" in r.stdout
    r = run(TOUR, "--mn", "mn2@example.net", "--width", "100")
    assert "170 NOT_AUTHORIZED_FOR_IPV4_MOBILITY_SERVICE" in r.stdout
    assert "✖ rejected" in r.stdout and "✖ pba-rejected" in r.stdout


def test_narrow_terminal_wraps_but_keeps_every_word():
    r = run(TOUR, "--mn", "mn1@example.net", "--width", "60")
    assert r.exit_code == 0, r.output
    assert max(len(line) for line in r.stdout.splitlines()) <= 60
    words = " ".join(r.stdout.split())
    for word in ("31148", "Binding", "accepted", "10.10.0.5/24", "lifetime", "600"):
        assert word in words


def test_scope_options_and_cut_note():
    r = run(TOUR, "--mn", "mn1@example.net", "--from", "400", "--to", "420", "--width", "100")
    assert r.exit_code == 0, r.output
    assert "(6 messages" in r.stdout and "PBU seq 31148" not in r.stdout
    r = run(TOUR, "--mn", "mn1@example.net", "--frames", "1-3", "--width", "100")
    assert "(3 messages" in r.stdout
    r = run(TOUR, "--max-messages", "6", "--width", "100")
    assert "cut: 11 more messages after 300.000 s not drawn" in r.stdout


def test_txt_output_is_the_terminal_drawing_without_colour(tmp_path):
    out = tmp_path / "mn1.txt"
    r = run(TOUR, "-o", out)
    assert r.exit_code == 0, r.output
    assert f"wrote {out} (17 messages)" in r.stderr
    text = out.read_text()
    assert "\x1b[" not in text and "DHCPACK · xid 0x3903f326 · yiaddr 10.10.0.5" in text


def test_bad_input_is_one_line_and_non_zero(tmp_path):
    one_line_error(run(TOUR, "--mn", "nobody@example.net"), 1, "no mobile node",
                   "nobody@example.net", "mn1@example.net")
    one_line_error(run(TOUR, "-o", tmp_path / "x.jpeg"), 2, "unknown output extension",
                   ".svg")
    one_line_error(run(TOUR, "-o", tmp_path / "missing" / "x.svg"), 1, "does not exist")
    one_line_error(run(TOUR, "--time", "wall"), 2, "--time")
    one_line_error(run(TOUR, "--from", "yesterday"), 2, "--from")
    one_line_error(run(TOUR, "--frames", "9-3"), 2, "--frames")
    one_line_error(run(TOUR, "--mn", "mn1@example.net", "--from", "9999"), 1, "no message")
    one_line_error(run(tmp_path / "absent.pcap"), 1, "absent.pcap")
    empty = tmp_path / "empty.pcap"
    write_pcap(str(empty), [], linktype=1)
    one_line_error(run(empty), 1, "no frames")
    noise = tmp_path / "noise.pcap"
    write_pcap(str(noise), [r for r in open_capture(str(TOUR)) if r.frame_no == 7])
    one_line_error(run(noise), 1, "no PMIPv6 or DHCP signaling")


def test_count_options_and_time_bounds_are_checked_in_one_line():
    one_line_error(run(TOUR, "--max-messages", "0"), 2, "--max-messages", "at least 1")
    one_line_error(run(TOUR, "--per-page", "1", "-o", "x.svg"), 2, "--per-page")
    one_line_error(run(TOUR, "--width", "10"), 2, "--width")
    one_line_error(run(TOUR, "--from", "500", "--to", "100"), 2, "--from 500 is after --to")


def test_only_malformed_signaling_says_so(tmp_path):
    records = [r for r in open_capture(str(TOUR)) if r.frame_no in (2, 3)]
    cut = [replace(r, data=r.data[:45]) for r in records]  # MH truncated after 3 bytes
    path = tmp_path / "broken.pcap"
    write_pcap(str(path), cut)
    one_line_error(run(path), 1, "only malformed signaling (2 of 2 frames")


def test_from_counts_from_the_earliest_frame_like_the_times_drawn(tmp_path):
    # capture point 1's frames come first in the file but are 10 s later
    from tests.correlate.builders import HOA1, LMA, MAG1, MN1, NAI1, Script

    s = Script()
    s.pbu(10.0, MAG1, LMA, 2, nai=NAI1, mac=MN1, hi=5, hoa=HOA1, iface=1)
    s.pba(10.01, MAG1, LMA, 2, nai=NAI1, mac=MN1, hoa=HOA1, iface=1)
    s.pbu(0.0, MAG1, LMA, 1, nai=NAI1, mac=MN1, iface=0)
    s.pba(0.01, MAG1, LMA, 1, nai=NAI1, mac=MN1, hoa=HOA1, iface=0)
    path = s.write(tmp_path / "ooo.pcapng")
    r = run(path, "--from", "0", "--to", "1", "--width", "100")
    assert r.exit_code == 0, r.output
    assert "(2 messages" in r.stdout and "\n0.010000 " in r.stdout
    assert "PBU seq 1 " in r.stdout and "PBU seq 2 " not in r.stdout


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_output(tmp_path):  # pragma: no cover - CI runs as root
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    one_line_error(run(TOUR, "-o", locked / "x.svg"), 1, "not writable")


def test_paged_output_says_its_pages_and_removes_stale_pages_of_an_earlier_run(tmp_path):
    out = tmp_path / "x.svg"
    r = run(TOUR, "-o", out, "--per-page", 6)  # 17 messages: 3 pages
    assert r.exit_code == 0, r.output
    pages = [tmp_path / f"x-p{k}.svg" for k in (1, 2, 3)]
    assert f"wrote 3 pages: {', '.join(map(str, pages))} (17 messages)" in r.stderr
    others = ["x-p3.svg.bak", "x-page.svg", "xx-p3.svg", "x-p3.png", "x-p.svg", "x.svg",
              "x-p3 .svg", "X-p3.svg"]
    for name in others:
        (tmp_path / name).write_text("not ours")
    r = run(TOUR, "-o", out, "--per-page", 10)  # 2 pages: x-p3.svg is stale
    assert r.exit_code == 0, r.output
    assert not pages[2].exists() and pages[0].exists() and pages[1].exists()
    assert f"removed 1 stale page of an earlier run: {pages[2]}" in r.stderr
    r = run(TOUR, "-o", out)  # one page: x.svg itself, both page files are stale
    assert r.exit_code == 0, r.output
    assert not pages[0].exists() and not pages[1].exists()
    assert "removed 2 stale pages" in r.stderr
    assert out.read_text().lstrip().startswith("<?xml")
    for name in others[:-3]:
        assert (tmp_path / name).read_text() == "not ours", name
    assert (tmp_path / "x-p3 .svg").exists() and (tmp_path / "X-p3.svg").exists()
