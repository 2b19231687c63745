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
    """The sample's frames alternately into two pcapng files (each keeps its interfaces)."""
    with open_source(sample) as src:
        records = list(src)
        interfaces = [(i.linktype, i.name) for i in src.interfaces] or None
    halves = (tmp / "a.pcapng", tmp / "b.pcapng")
    for k, path in enumerate(halves):
        write_pcapng(path, records[k::2], interfaces)
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
