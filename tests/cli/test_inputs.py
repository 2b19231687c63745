"""Where frames come from (issue 15): '-' reads a capture stream from standard input, and
several files are merged by time; a capture split in two, or piped in, gives the same
timeline as the whole file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pmipview.cli import app
from pmipview.sources import open_source, write_pcapng
from tests.cli_util import one_line_error

SAMPLES = ["samples/tour.pcap", "samples/handover-relay-mode.pcapng",
           "samples/pbu-retransmitted.pcapng"]


def timeline_json(*args: str, stdin: bytes | None = None) -> dict:
    r = CliRunner().invoke(app, ["timeline", *args, "--json"], input=stdin)
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def split(sample: str, tmp: Path) -> tuple[Path, Path]:
    """The sample cut in two pcapng files at its middle frame, as ``editcap -c`` does
    (each keeps its interfaces)."""
    with open_source(sample) as src:
        records = list(src)
        interfaces = [(i.linktype, i.name) for i in src.interfaces] or None
    halves = (tmp / "a.pcapng", tmp / "b.pcapng")
    half = len(records) // 2
    for part, path in zip((records[:half], records[half:]), halves, strict=True):
        write_pcapng(path, part, interfaces)
    return halves


@pytest.mark.parametrize("sample", SAMPLES)
def test_split_capture_gives_the_same_timeline(sample: str, tmp_path: Path):
    whole = timeline_json(sample)
    a, b = split(sample, tmp_path)
    merged = timeline_json(str(a), str(b))
    assert merged["mobile_nodes"] == whole["mobile_nodes"]
    assert merged["capture"]["frames"] == whole["capture"]["frames"]


@pytest.mark.parametrize("sample", SAMPLES)
def test_stdin_gives_the_same_timeline(sample: str):
    assert timeline_json("-", stdin=Path(sample).read_bytes()) == timeline_json(sample)


def test_stdin_through_a_real_pipe():
    cat = subprocess.Popen(["cat", SAMPLES[0]], stdout=subprocess.PIPE)
    r = subprocess.run([sys.executable, "-m", "pmipview", "dissect", "-", "--summary"],
                       stdin=cat.stdout, capture_output=True, text=True, timeout=60)
    cat.wait(10)
    assert r.returncode == 0, r.stderr
    assert "frames read" in r.stdout and "36" in r.stdout


def test_every_reader_takes_several_files(tmp_path: Path):
    a, b = split(SAMPLES[0], tmp_path)
    for args in (["dissect", str(a), str(b), "--summary"], ["stats", str(a), str(b)],
                 ["ladder", str(a), str(b), "--mn", "mn1@example.net", "-o",
                  str(tmp_path / "l.txt")]):
        r = CliRunner().invoke(app, args)
        assert r.exit_code == 0, (args, r.output)


def test_stdin_twice_and_a_missing_file_are_one_line(tmp_path: Path):
    one_line_error(CliRunner().invoke(app, ["timeline", "-", "-"]), 1, "only once")
    one_line_error(CliRunner().invoke(app, ["timeline", SAMPLES[0], str(tmp_path / "no")]),
                   1, "no")


SKEWS_NS = (0, 12_345_600, -7_890_100)  # the capture points' clocks: MAG1, MAG2, LMA


def per_capture_point(sample: str, tmp: Path, skews: tuple[int, ...]) -> list[str]:
    """One file per capture point (interface) of a simulated pcapng, each with its clock
    off by its skew: what a MAG's and an LMA's own captures look like."""
    from dataclasses import replace

    tmp.mkdir(exist_ok=True)
    with open_source(sample) as src:
        records = list(src)
        interfaces = [(i.linktype, i.name) for i in src.interfaces]
    paths = []
    for k, skew in enumerate(skews):
        mine = [replace(r, interface=0, ts_ns=r.ts_ns + skew)
                for r in records if r.interface == k]
        path = tmp / f"{interfaces[k][1]}.pcapng"
        write_pcapng(path, mine, [interfaces[k]])
        paths.append(str(path))
    return paths


def test_clock_offsets_are_estimated_within_1_ms_and_corrected(tmp_path: Path):
    from pmipview.sources.clock import offsets

    sample = "samples/handover-server-mode.pcapng"  # captured at MAG1, MAG2 and the LMA
    paths = per_capture_point(sample, tmp_path / "skewed", SKEWS_NS)
    found = offsets([open_source(p) for p in paths], paths)
    for est, skew in zip(found, SKEWS_NS[1:], strict=True):
        assert est.offset_ns is not None and abs(est.offset_ns - skew) < 1_000_000, est
    assert found[0].via == paths[2]  # MAG2 shares no message with MAG1: through the LMA
    assert found[1].delays_ns and all(0 < d < 50_000_000 for d in found[1].delays_ns.values())

    r = CliRunner().invoke(app, ["timeline", *paths, "--json"])
    assert r.exit_code == 0
    assert r.stderr.count("corrected") == 2 and "ahead of" in r.stderr
    truth = timeline_json(*per_capture_point(sample, tmp_path / "true", (0, 0, 0)))
    assert json.loads(r.stdout)["mobile_nodes"] == truth["mobile_nodes"]
    raw = CliRunner().invoke(app, ["--no-clock-correction", "timeline", *paths, "--json"])
    assert "corrected" not in raw.stderr
    assert json.loads(raw.stdout)["mobile_nodes"] != truth["mobile_nodes"]
