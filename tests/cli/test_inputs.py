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


SCENARIO = "samples/scenarios/handover-server-mode.toml"  # captured at mag1, mag2, lma
SKEWS = "mag2=+12.3456ms,lma=-7.8901ms"  # mag1's clock is true: the first file, the reference
SKEWS_NS = {"mag1": 0, "mag2": 12_345_600, "lma": -7_890_100}


def simulate(tmp: Path, name: str, *args: str) -> list[str]:
    """``pmipview simulate SCENARIO --captures DIR ...``: the per-node files, mag1 first."""
    r = CliRunner().invoke(app, ["simulate", SCENARIO, "--captures", str(tmp / name), *args])
    assert r.exit_code == 0, r.output
    return [str(tmp / name / f"{node}.pcapng") for node in SKEWS_NS]


def close_to(a: object, b: object, path: str = "") -> None:
    """``a == b`` except that floats may differ by the clock estimate's residual: 1 ms for
    a timestamp (s), 1 ms for a duration (``*_ms``)."""
    if isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            close_to(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            close_to(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert abs(a - b) <= (1.0 if path.endswith("_ms") else 1e-3), (path, a, b)
    else:
        assert a == b, (path, a, b)


def test_simulated_captures_per_node_with_known_skews(tmp_path: Path):
    """One capture per node, each on its own skewed clock (simulate --captures --skew):
    the clock offsets are found within 1 ms, and the merged, corrected timeline is the
    timeline of the single multi-point capture of the same run."""
    from pmipview.sources.clock import offsets

    single = tmp_path / "single.pcapng"
    paths = simulate(tmp_path, "skewed", "--skew", SKEWS, "-o", str(single))
    found = offsets([open_source(p) for p in paths], paths)
    for est, node in zip(found, ("mag2", "lma"), strict=True):
        assert est.offset_ns is not None, est
        assert abs(est.offset_ns - SKEWS_NS[node]) < 1_000_000, est
    assert found[0].via == paths[2]  # MAG2 shares no message with MAG1: through the LMA
    assert found[1].delays_ns and all(0 < d < 50_000_000 for d in found[1].delays_ns.values())

    r = CliRunner().invoke(app, ["timeline", *paths, "--json"])
    assert r.exit_code == 0
    assert r.stderr.count("corrected") == 2 and "ahead of" in r.stderr
    merged = json.loads(r.stdout)
    whole = timeline_json(str(single))
    close_to(merged["mobile_nodes"], whole["mobile_nodes"])
    assert merged["capture"]["frames"] == whole["capture"]["frames"]
    # exactly: the files without skew, merged as they are, are the single capture (the
    # split loses and reorders nothing; the residual above is the estimate's alone)
    true = simulate(tmp_path, "true")
    raw = CliRunner().invoke(app, ["--no-clock-correction", "timeline", *true, "--json"])
    assert json.loads(raw.stdout)["mobile_nodes"] == whole["mobile_nodes"]
    skewed = CliRunner().invoke(app, ["--no-clock-correction", "timeline", *paths, "--json"])
    assert "corrected" not in skewed.stderr
    assert json.loads(skewed.stdout)["mobile_nodes"] != whole["mobile_nodes"]


def test_each_per_node_capture_is_what_its_node_saw_on_its_clock(tmp_path: Path):
    from pmipview.sim.engine import run
    from pmipview.sim.scenario import load

    paths = simulate(tmp_path, "skewed", "--skew", SKEWS)
    truth = run(load(SCENARIO)).records  # ns, on the true clock, interface k: node k
    for k, (node, path) in enumerate(zip(SKEWS_NS, paths, strict=True)):
        with open_source(path) as src:
            mine = list(src)
            assert [i.name for i in src.interfaces] == [node]
            assert f"at {node}, clock" in src.section_comments[0]
        # written in µs as tcpdump writes (the single capture too): the skewed ns, floored
        assert [(r.ts_ns, r.data) for r in mine] == [
            ((r.ts_ns + SKEWS_NS[node]) // 1000 * 1000, r.data)
            for r in truth if r.interface == k]
        assert [r.frame_no for r in mine] == list(range(1, len(mine) + 1))


@pytest.mark.parametrize(("args", "says"), [
    (["--skew", "mag1=1ms"], "--skew needs --captures"),
    (["--captures", "D", "--skew", "mn1=1ms"], "'mn1' is not a capture point"),
    (["--captures", "D", "--skew", "mag1=fast"], "expected NODE=±VALUE"),
    (["--captures", "D", "--skew", "mag1=1ms,mag1=2ms"], "given twice"),
    (["--captures", "D", "--skew", "mag1=1.2.3ms"], "not a number"),
])
def test_bad_skews_are_one_line(tmp_path: Path, args: list[str], says: str):
    args = [str(tmp_path / a) if a == "D" else a for a in args]
    one_line_error(CliRunner().invoke(app, ["simulate", SCENARIO, *args]), 2, says)


def test_skew_units():
    from pmipview.sim.captures import parse_skews

    assert parse_skews("a=+12.35ms, b=-7.89, c=250us,d=1s,e=-3ns", "abcde") == {
        "a": 12_350_000, "b": -7_890_000, "c": 250_000, "d": 1_000_000_000, "e": -3}
