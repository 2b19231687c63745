"""Following the files of a live capture (sources/follow.py) with a stand-in for dumpcap
that writes each block in two halves: partial blocks, ring files, statistics, stop."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from pmipview.sources import CaptureError, open_capture
from pmipview.sources.follow import DumpcapSource, dumpcap_args

ROOT = Path(__file__).resolve().parents[2]
TWO_IFACES = ROOT / "samples" / "handover-relay-mode.pcapng"
TOUR = ROOT / "samples" / "tour.pcap"


@pytest.fixture
def fake(tmp_path, monkeypatch):
    script = tmp_path / "dumpcap"
    runner = Path(__file__).parent / "fake_dumpcap.py"
    script.write_text(f"#!{sys.executable}\nimport runpy, sys\n"
                      f"sys.path.insert(0, {str(ROOT)!r})\n"
                      f"runpy.run_path({str(runner)!r}, run_name='__main__')\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("FAKE_SOURCE", str(TWO_IFACES))
    return str(script)


def _plain(records):
    return [(r.ts_ns, r.data, r.interface, r.orig_len) for r in records]


def test_a_growing_file_is_read_whole_with_partial_blocks_and_drops(fake, tmp_path):
    out = tmp_path / "seen.pcapng"
    src = DumpcapSource(fake, "mag0", write=str(out))
    try:
        got = _plain(src)
    finally:
        src.close()
    assert got == _plain(open_capture(TWO_IFACES))
    assert src.problem is None
    assert src.written == [str(out)] and out.exists()  # --write is kept
    assert src.dropped == 5  # dumpcap's 3 dropped + 2 ps_ifdrop
    assert src.captured == len(got)
    assert src.behind() == (0, 0)


def test_ring_files_are_one_stream_with_the_first_files_interfaces(fake, tmp_path):
    out = tmp_path / "ring.pcapng"
    src = DumpcapSource(fake, "mag0", write=str(out), ring_files=50, ring_kb=1)
    try:
        got = _plain(src)
    finally:
        src.close()
    assert len(src.written) > 3  # a new file every kB
    assert got == _plain(open_capture(TWO_IFACES))  # interfaces 0 and 1 in every file
    assert {r[2] for r in got} == {0, 1}
    assert sum(len(list(open_capture(f))) for f in src.written) == len(got)  # each a capture


def test_without_write_the_temporary_files_are_gone_at_the_end(fake, monkeypatch, tmp_path):
    monkeypatch.setenv("FAKE_SOURCE", str(TOUR))
    monkeypatch.setattr("pmipview.sources.follow.TEMP_CHUNK_KB", 2)
    src = DumpcapSource(fake, "lo")
    temp = src._temp
    assert temp is not None and os.path.isdir(temp)
    try:
        got = _plain(src)
    finally:
        src.close()
    assert got == _plain(open_capture(TOUR))
    assert src.written == []
    assert not os.path.exists(temp)


def test_stop_ends_a_capture_that_runs_until_stopped_and_drains_it(fake, monkeypatch):
    monkeypatch.setenv("FAKE_HOLD", "1")
    src = DumpcapSource(fake, "mag0")
    try:
        it = iter(src)
        first = [next(it) for _ in range(20)]
        src.stop()  # dumpcap is still waiting: stopped after the grace, then drained
        rest = list(it)
    finally:
        src.close()
    assert _plain(first + rest) == _plain(open_capture(TWO_IFACES))
    assert src.proc.returncode == 0


def test_dumpcap_failing_is_its_own_one_line_message(fake, monkeypatch):
    monkeypatch.setenv("FAKE_FAIL", "1")
    with pytest.raises(CaptureError) as exc:
        DumpcapSource(fake, "nonexistent0")
    assert str(exc.value) == 'live capture on nonexistent0: There is no device named ' \
                             '"nonexistent0".'


def test_dumpcap_failing_during_the_capture_ends_it_with_its_message(fake, monkeypatch):
    monkeypatch.setenv("FAKE_GONE", "1")
    src = DumpcapSource(fake, "mag0")
    got = []
    try:
        with pytest.raises(CaptureError) as exc:
            got.extend(src)
    finally:
        src.close()
    assert len(got) == len(list(open_capture(TWO_IFACES)))  # what it wrote is read first
    assert "no longer running" in str(exc.value) and str(exc.value).startswith("live capture")


def test_dumpcap_arguments_keep_filter_count_duration_and_ring():
    args = dumpcap_args("dumpcap", "eth0", "x.pcapng", bpf="udp port 5436", count=10,
                        duration=2.4, ring_files=3, ring_kb=100, buffer_mib=32)
    assert args == ["dumpcap", "-i", "eth0", "-n", "-B", "32", "-w", "x.pcapng",
                    "-f", "udp port 5436", "-c", "10", "-a", "duration:2",
                    "-b", "files:3", "-b", "filesize:100"]
    assert dumpcap_args("d", "lo", "t.pcapng", chunk_kb=64000)[-2:] == ["-b",
                                                                        "filesize:64000"]


@pytest.mark.parametrize(("args", "says"), [
    (["--ring-files", "3"], "--ring-files needs --ring-size"),
    (["--ring-size", "100"], "--ring-size needs --ring-files"),
])
def test_a_ring_needs_both_its_options(tmp_path, args, says):
    from typer.testing import CliRunner

    from pmipview.cli import app
    from tests.cli_util import one_line_error

    r = CliRunner().invoke(app, ["live", "-i", "lo", "--write", str(tmp_path / "x.pcapng"),
                                 *args])
    one_line_error(r, 2, says)
