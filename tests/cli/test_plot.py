"""``pmipview plot`` as a user runs it: an image in the format of the -o extension, and
every mistake (bad option, bad output path, nothing to draw) as one line and an exit code,
never a traceback."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.corpus import unrelated_frame
from bench.make_timeline_capture import scenario
from dissectors.link import LinkType
from pmipview.cli import app
from pmipview.sim.engine import run
from pmipview.sim.scenario import parse
from pmipview.sources.capfile import write_pcap, write_pcapng
from pmipview.sources.records import Record
from tests.cli_util import one_line_error

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
TOUR = SAMPLES / "tour.pcap"
MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "svg": b"<?xml", "pdf": b"%PDF-"}
runner = CliRunner()


APP = app  # the registered command, as a user runs it


def invoke(*args: object):
    return runner.invoke(APP, ["plot", *map(str, args)])


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    """A 50-MN capture: 10 MAGs, 30 minutes, handoffs (bench/make_timeline_capture.py)."""
    sc = parse(scenario(50, 10, 1800.0, 1), "<test>")
    result = run(sc)
    path = tmp_path_factory.mktemp("big") / "mns50.pcapng"
    write_pcapng(path, result.records, result.interfaces)
    return path


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_writes_the_format_named_by_the_extension(tmp_path, fmt):
    out = tmp_path / f"tour.{fmt}"
    r = invoke(TOUR, "-o", out)
    assert r.exit_code == 0, r.output
    assert out.read_bytes().startswith(MAGIC[fmt])
    assert str(out) in r.stderr and r.stdout == ""


@pytest.mark.parametrize("args", [
    ["--kind", "rtt", "--cdf", "--by", "mag"],
    ["--kind", "setup", "--mn", "mn7@bench.example"],
    ["--clock", "--title", "fifty mobile nodes"],
])
def test_every_kind_draws_the_50_mn_capture(big, tmp_path, args):
    out = tmp_path / "plot.png"
    r = invoke(big, *args, "-o", out)
    assert r.exit_code == 0, r.output
    assert out.read_bytes().startswith(MAGIC["png"])
    width, height = int.from_bytes(out.read_bytes()[16:20]), \
        int.from_bytes(out.read_bytes()[20:24])
    assert width >= 800 and height >= 400
    if "--clock" in args:  # one 0.26 in row per MN at 110 dpi: a tall picture
        assert height > 50 * 0.26 * 110


def test_a_truncated_capture_is_plotted_up_to_the_fault_and_exits_1(tmp_path):
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(TOUR.read_bytes()[:-30])
    out = tmp_path / "cut.png"
    r = invoke(cut, "-o", out)
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert "reading stopped early" in r.stderr
    assert out.read_bytes().startswith(MAGIC["png"])


def test_mn_filter_draws_one_row(tmp_path):
    out = tmp_path / "mn2.svg"
    r = invoke(TOUR, "--mn", "MN2@example.net", "-o", out)
    assert r.exit_code == 0, r.output
    svg = out.read_text()
    assert "mn2@example.net" in svg and "mn1@example.net" not in svg


def test_names_file_names_the_mags_in_the_legend(tmp_path):
    hosts = tmp_path / "hosts"
    hosts.write_text("192.0.2.1 mag-paris\n2001:db8:1::2 mag-lyon\n")
    out = tmp_path / "named.svg"
    r = invoke(TOUR, "--names", hosts, "-o", out)
    assert r.exit_code == 0, r.output
    svg = out.read_text()
    assert "MAG mag-paris" in svg and "MAG mag-lyon" in svg


def test_help_has_examples():
    r = invoke("--help")
    assert r.exit_code == 0
    for text in ("Examples", "pmipview plot samples/tour.pcap -o tour.png", "--kind",
                 "--cdf", "--by", "--mn", "--names", ".png, .svg or .pdf"):
        assert text in r.output, text


@pytest.mark.parametrize("args,code,words", [
    (["-o", "{tmp}/x.jpg"], 2, ["unknown output extension", ".jpg", ".png, .svg, .pdf"]),
    (["-o", "{tmp}/x"], 2, ["unknown output extension", "(none)"]),
    ([], 2, ["-o FILE.png"]),
    (["--kind", "latency", "-o", "{tmp}/x.png"], 2, ["--kind", "'latency'", "rtt"]),
    (["--kind", "rtt", "--by", "node", "-o", "{tmp}/x.png"], 2, ["--by", "'node'"]),
    (["--cdf", "-o", "{tmp}/x.png"], 2, ["--cdf", "timeline"]),
    (["--kind", "rtt", "--clock", "-o", "{tmp}/x.png"], 2, ["--clock"]),
    (["-o", "{tmp}/no/such/dir/x.png"], 1, ["folder", "does not exist"]),
    (["--mn", "mn9@example.net", "-o", "{tmp}/x.png"], 1,
     ["--mn", "mn9@example.net", "mn1@example.net"]),
    (["--names", "{tmp}/missing-hosts", "-o", "{tmp}/x.png"], 2, ["--names"]),
])
def test_usage_and_input_errors_are_one_line(tmp_path, args, code, words):
    r = invoke(TOUR, *(a.format(tmp=tmp_path) for a in args))
    one_line_error(r, code, *words)
    assert not list(tmp_path.glob("x*"))


def test_a_kind_with_no_data_is_one_line(tmp_path):
    r = invoke(SAMPLES / "reject-170.pcapng", "--kind", "handoff", "-o", tmp_path / "h.png")
    one_line_error(r, 1, "reject-170.pcapng", "no handoff latency", "no handoffs")
    r = invoke(TOUR, "--mn", "mn3@example.net", "--kind", "rtt", "--by", "mag",
               "-o", tmp_path / "h.png")
    one_line_error(r, 1, "--mn mn3@example.net", "no rtt latency")  # never answered


def test_empty_and_signaling_free_captures_are_one_line(tmp_path):
    empty = tmp_path / "empty.pcap"
    empty.write_bytes(b"")
    one_line_error(invoke(empty, "-o", tmp_path / "x.png"), 1, "empty")
    header_only = tmp_path / "header-only.pcap"
    write_pcap(header_only, [], LinkType.ETHERNET)
    one_line_error(invoke(header_only, "-o", tmp_path / "x.png"), 1, "no frames")
    rng = random.Random(1)
    noise = tmp_path / "noise.pcap"
    write_pcap(noise, [Record(i, i * 10**6, LinkType.ETHERNET, d, 0, len(d))
                       for i, d in enumerate((unrelated_frame(rng) for _ in range(20)), 1)],
               LinkType.ETHERNET)
    one_line_error(invoke(noise, "--kind", "rtt", "-o", tmp_path / "x.png"), 1,
                   "no PMIPv6 or DHCP signaling", "20 frames")
    one_line_error(invoke(tmp_path / "missing.pcap", "-o", tmp_path / "x.png"), 1,
                   "no such file")
    assert not (tmp_path / "x.png").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_an_unwritable_directory_is_one_line(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    one_line_error(invoke(TOUR, "-o", locked / "x.png"), 1, "not writable")


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_a_failing_write_is_one_line(tmp_path):
    """/proc accepts no new file, even from root: the error comes from writing itself."""
    one_line_error(invoke(TOUR, "-o", "/proc/pmipview-test.png"), 1,
                   "cannot write /proc/pmipview-test.png")


def test_an_output_that_is_a_directory_is_one_line(tmp_path):
    target = tmp_path / "dir.png"
    target.mkdir()
    one_line_error(invoke(TOUR, "-o", target), 1, "cannot write", "dir.png")
