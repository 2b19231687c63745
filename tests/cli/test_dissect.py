"""``pmipview dissect`` as a user runs it: list, filters, detail, JSON, summary, errors."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pmipview.cli import app

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "tour.pcap"
runner = CliRunner()


def run(*args: str):
    result = runner.invoke(app, ["dissect", *map(str, args)])
    return result


def listed_frames(output: str) -> list[int]:
    frames = []
    for line in output.splitlines():
        head = line.split(None, 1)
        if head and head[0].isdigit():
            frames.append(int(head[0]))
    return frames


def test_packet_list_shows_signaling_with_rich_info_and_a_summary():
    r = run(SAMPLE)
    assert r.exit_code == 0, r.output
    assert ("PBU seq=31148 A P lifetime=600s MN-ID=mn1@example.net LLI=02:11:22:33:44:01 "
            "HI=1 HoA-Req=0.0.0.0") in r.output
    assert "PBA seq=31148 status=0 Proxy Binding Update accepted" in r.output
    assert "HoA=10.10.0.5/24 GW=10.10.0.1 DHCP=server" in r.output
    assert "status=170 NOT_AUTHORIZED_FOR_IPV4_MOBILITY_SERVICE" in r.output
    assert "HoA-Reply=129 Administratively prohibited" in r.output
    assert "DHCP OFFER xid=0x3903f326 yiaddr=10.10.0.5" in r.output
    frames = listed_frames(r.output)
    assert len(frames) == 25 and 7 not in frames  # frame 7 is TCP noise
    assert "frames read" in r.output and "36" in r.output
    assert "not signaling (ignored)" in r.output


def test_all_lists_every_frame():
    r = run(SAMPLE, "--all", "--no-summary")
    assert listed_frames(r.output) == list(range(1, 37))


@pytest.mark.parametrize("args,expected", [
    (["--type", "pba"], [3, 17, 19, 29, 36]),
    (["--type", "pbu,pba", "--mn", "mn2@example.net"], [28, 29]),
    (["--status", "rejected"], [29]),
    (["--status", "170"], [29]),
    (["--status", "ipv4_mobility"], [29]),
    (["--type", "bri", "--type", "bra"], [20, 21]),
    (["--type", "hb"], [11, 12]),
    (["--mn", "02:11:22:33:44:02"], [27, 28, 29]),
    # the DISCOVER (frame 1) names only the MAC: the timeline gives it to this MN
    (["--mn", "10.10.0.5", "--type", "dhcp"], [1, 4, 5, 6, 22, 23, 34]),
    # the LMA's IPv6 address stands for the whole node: its IPv4 traffic too
    (["--node", "2001:db8:1::100"], [2, 3, 11, 12, 16, 17, 18, 19, 20, 21, 28, 29, 30, 32,
                                     33, 35, 36]),
    (["--frames", "1-5,30-"], [1, 2, 3, 4, 5, 30, 32, 33, 34, 35, 36]),
    (["--from", "412", "--to", "413"], [18, 19, 20, 21, 22, 23]),
    (["--from", "2024-05-01T10:10:00Z"], [34, 35, 36]),
    (["--type", "discover"], [1, 27]),
])
def test_filters(args, expected):
    r = run(SAMPLE, "--no-summary", *args)
    assert r.exit_code == 0, r.output
    assert listed_frames(r.output) == expected


def test_time_modes():
    rel = run(SAMPLE, "--frames", "3", "--no-summary").output
    assert "0.009400" in rel
    absolute = run(SAMPLE, "--frames", "3", "--time", "abs", "--no-summary").output
    assert "2024-05-01 10:00:00.009400" in absolute
    delta = run(SAMPLE, "--frames", "2-3", "--time", "delta", "--no-summary").output
    assert "0.007300" in delta


def test_detail_view_shows_the_decoded_tree():
    r = run(SAMPLE, "-V", "--frames", "3", "--no-summary")
    out = r.output
    assert "Mobility Header: Binding Acknowledgement (PBA)" in out
    assert "IPv4 Home Address Reply (37) @" in out
    assert "status: 0 (Success)" in out
    assert "checksum: 0x0000 [not verified] (IPv4/UDP: 0 is correct, RFC 5844)" in out
    assert "Internet Protocol Version 4, Src: 192.0.2.100, Dst: 192.0.2.1" in out
    assert "s: set" in out  # DHCP Support Mode S flag


def test_json_lines_are_one_object_per_listed_frame_with_numbers_and_names():
    r = run(SAMPLE, "--json", "--type", "pba")
    lines = r.output.strip().splitlines()
    assert len(lines) == 5
    objs = [json.loads(line) for line in lines]
    rejected = next(o for o in objs if o["frame"] == 29)
    mh = rejected["layers"]["mh"]
    assert mh["message"] == "PBA" and mh["status"] == 170
    assert mh["status_name"] == "NOT_AUTHORIZED_FOR_IPV4_MOBILITY_SERVICE"
    reply = next(opt for opt in mh["options"] if opt["type"] == 37)
    assert reply["status"] == 129 and reply["status_name"] == "Administratively prohibited"
    assert rejected["layers"]["ipv4"]["src"] == "192.0.2.100"
    assert rejected["layers"]["udp"]["dport"] == 5436
    assert rejected["time_rel"] == pytest.approx(500.0077)
    assert rejected["malformed"] is None and rejected["warnings"] == []


def test_json_summary_object_accounts_for_every_frame():
    r = run(SAMPLE, "--json", "--summary")
    summary = json.loads(r.output)["summary"]
    assert summary["frames"] == 36
    assert summary["decoded"] + summary["ignored"] + summary["malformed"] == summary["frames"]
    assert summary["by_type"]["PBU"] == 8
    assert summary["by_status"]["170 NOT_AUTHORIZED_FOR_IPV4_MOBILITY_SERVICE"] == 1


def test_gzip_capture_reads_the_same(tmp_path):
    gz = tmp_path / "sample.pcap.gz"
    gz.write_bytes(gzip.compress(SAMPLE.read_bytes()))
    assert listed_frames(run(gz, "--no-summary").output) == \
        listed_frames(run(SAMPLE, "--no-summary").output)


def test_truncated_capture_shows_what_was_read_and_exits_1(tmp_path):
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(SAMPLE.read_bytes()[:-50])
    r = run(cut)
    assert r.exit_code == 1
    assert 34 in listed_frames(r.output) and 36 not in listed_frames(r.output)
    assert "reading stopped early" in r.output and "truncated record" in r.output


@pytest.mark.parametrize("args,code,message", [
    (["/nonexistent/x.pcap"], 1, "no such file"),
    (["--type", "pbx", "SAMPLE"], 2, "unknown message type 'pbx'"),
    (["--frames", "9-3", "SAMPLE"], 2, "ends before it starts"),
    (["--node", "mag1", "SAMPLE"], 2, "not an IPv4 or IPv6 address"),
    (["--from", "yesterday", "SAMPLE"], 2, "expected seconds from the start"),
    (["--time", "local", "SAMPLE"], 2, "--time: expected one of"),
    (["-c", "5", "SAMPLE"], 2, "apply to live capture"),
])
def test_usage_and_input_errors_are_one_line(args, code, message):
    r = run(*[str(SAMPLE) if a == "SAMPLE" else a for a in args])
    assert r.exit_code == code
    assert message in r.output
    assert "Traceback" not in r.output


def test_bad_inputs_from_the_shell_give_one_line_and_no_traceback(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("this is not a capture\n")
    empty = tmp_path / "empty.pcap"
    empty.write_bytes(b"")
    env = {**os.environ, "COLUMNS": "200"}
    for path, message in ((text, "not a capture file"), (empty, "empty file")):
        p = subprocess.run([sys.executable, "-m", "pmipview", "dissect", str(path)],
                           capture_output=True, text=True, env=env, timeout=60)
        assert p.returncode == 1, p.stderr
        assert message in p.stderr and "Traceback" not in p.stderr
        assert len(p.stderr.strip().splitlines()) == 1


@pytest.mark.tshark
def test_a_format_only_tshark_reads_is_converted_and_decoded_the_same(tmp_path):
    import shutil

    from tests.tshark_util import require_tshark

    require_tshark()
    editcap = shutil.which("editcap")
    if editcap is None:
        if os.environ.get("CI") == "true":
            pytest.fail("editcap (tshark's package) is required when CI=true")
        pytest.skip("editcap not installed")
    snoop = tmp_path / "tour.snoop"
    subprocess.run([editcap, "-F", "snoop", str(SAMPLE), str(snoop)], check=True,
                   capture_output=True)
    assert not snoop.read_bytes().startswith(SAMPLE.read_bytes()[:4])
    ours = json.loads(run(SAMPLE, "--json", "--summary").output)["summary"]
    converted = json.loads(run(snoop, "--json", "--summary").output)["summary"]
    for key in ("frames", "decoded", "ignored", "malformed", "by_type", "by_status"):
        assert converted[key] == ours[key], key
