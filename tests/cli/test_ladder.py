"""``pmipview ladder`` as a user runs it: the terminal drawing, scope options, errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pmipview.cli import app
from pmipview.sources.capfile import open_capture, write_pcap

ROOT = Path(__file__).resolve().parents[2]
TOUR = ROOT / "samples" / "tour.pcap"
runner = CliRunner()


def run(*args: object):
    return runner.invoke(app, ["ladder", *map(str, args)])


def one_line_error(r, code: int, *words: str) -> None:
    assert r.exit_code == code, r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "Traceback" not in r.output
    for word in words:
        assert word in lines[0], (word, lines[0])


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
    assert "PBA seq 31148 · 0 Binding Update accepted · HoA 10.10.0.5/24 · lifetime 600 s" \
        in text
    assert "══ handoff 192.0.2.1 → 2001:db8:1::2, HoA kept, 8.3 ms" in text
    assert "══ detach (de-registration) at 2001:db8:1::2" in text
    assert max(len(line) for line in out) <= 120
    row = next(line for line in out if line.lstrip().startswith("0.002100"))
    assert "├" in row and "▶" in row  # the PBU from the MAG to the LMA, left to right


def test_rejected_and_timed_out_mns_show_why():
    r = run(TOUR, "--mn", "mn3@example.net", "--width", "100", "--time", "delta")
    assert r.exit_code == 0, r.output
    assert "(retransmission)" in r.stdout and "(no answer: timeout)" in r.stdout
    assert "✕" in r.stdout and "╌" in r.stdout
    assert "✖ pbu-unanswered: registration by 192.0.2.1" in r.stdout
    assert "+1.000000" in r.stdout
    r = run(TOUR, "--mn", "10.10.0.5", "--width", "100")  # by IPv4 HoA
    assert r.exit_code == 0 and "Ladder of mn1@example.net" in r.stdout
    r = run(TOUR, "--mn", "mn2@example.net", "--width", "100")
    assert "170 NOT_AUTHORIZED_FOR_IPV4_MOBILITY_SERVICE" in r.stdout
    assert "✖ pba-rejected" in r.stdout


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


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_output(tmp_path):  # pragma: no cover - CI runs as root
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    one_line_error(run(TOUR, "-o", locked / "x.svg"), 1, "not writable")
