"""The quick lane of ``pmipview timeline --json FILE`` (pmipview/quick.py) against the full
command line: the same stdout bytes, stderr and exit code on every sample, shapes, a
gzipped capture, bad inputs, a reader gone early and Ctrl-C; and the lane itself (run in
this process) prints those bytes, so a lane that diverged or always fell back fails here.
"""

from __future__ import annotations

import gzip
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.shapes import records
from pmipview import quick
from pmipview.sources.capfile import write_pcap

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sorted((ROOT / "samples").glob("*.pcap*"))


def _run(args: list[str], lane: bool, prelude: str = "", stdout=None,
         env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """``pmipview ARGS`` through the entry point with its lanes, or the command line."""
    code = (prelude + "import sys; sys.argv = ['pmipview', *sys.argv[1:]]; "
            + ("from pmipview.quick import main" if lane else "from pmipview.cli import main")
            + "; main()")
    p = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, text=True,
                       stdout=subprocess.PIPE if stdout is None else stdout,
                       stderr=subprocess.PIPE, env=env)
    return p.returncode, p.stdout or "", p.stderr


def _in_lane(path: Path, monkeypatch) -> tuple[bool, str]:
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr("pmipview.runs.tune_gc", lambda: None)  # not in pytest's process
    show = quick._timeline(str(path))
    if show is not None:
        show()
    return show is not None, out.getvalue()


@pytest.fixture(scope="module")
def captures(tmp_path_factory) -> list[Path]:
    tmp = tmp_path_factory.mktemp("lane")
    paths = list(SAMPLES)
    for shape in ("mh-noise", "dhcp-sig"):
        path = tmp / f"{shape}.pcap"
        write_pcap(path, records(shape, 3000, seed=4))
        paths.append(path)
    gz = tmp / "tour.pcap.gz"
    gz.write_bytes(gzip.compress((ROOT / "samples" / "tour.pcap").read_bytes()))
    paths.append(gz)
    return paths


def test_the_lane_prints_what_timeline_json_prints(captures, monkeypatch):
    assert len(captures) > 20
    for path in captures:
        want = _run(["timeline", "--json", str(path)], lane=False)
        assert want[0] == 0 and want[2] == "", (path.name, want[2])
        assert _in_lane(path, monkeypatch) == (True, want[1]), path.name
    for path in captures[:3] + captures[-3:]:  # the entry point itself, both orders
        for args in (["timeline", "--json", str(path)], ["timeline", str(path), "--json"]):
            assert _run(args, lane=True) == _run(args, lane=False), path.name


def test_bad_inputs_go_to_the_command_line(tmp_path, monkeypatch):
    shape = tmp_path / "mh-sig.pcap"
    write_pcap(shape, records("mh-sig", 2000, seed=3))
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(shape.read_bytes()[:-7])  # reading stops early: warning, exit 1
    text = tmp_path / "notes.pcap"
    text.write_text("not a capture\n")
    empty = tmp_path / "empty.pcapng"
    empty.write_bytes(b"")
    header = tmp_path / "header.pcap"
    header.write_bytes(shape.read_bytes()[:10])
    unreadable = tmp_path / "unreadable.pcap"
    unreadable.write_bytes(shape.read_bytes())
    unreadable.chmod(0)
    for path in (cut, text, empty, header, unreadable):
        if path is not unreadable or not os.access(path, os.R_OK):  # root reads it anyway
            done, printed = _in_lane(path, monkeypatch)
            assert (done, printed) == (False, ""), path.name
        args = ["timeline", "--json", str(path)]
        want = _run(args, lane=False)
        assert want[0] != 0 or path is unreadable, (path.name, want)
        assert _run(args, lane=True) == want, path.name
    for args in (["timeline", "--json", str(tmp_path / "missing.pcap")],
                 ["timeline", "--json", str(tmp_path)],
                 ["timeline", "--json", str(shape), str(shape)],
                 ["timeline", "--json", "--csv", str(shape)]):
        assert _run(args, lane=True) == _run(args, lane=False), args


def test_which_argument_lists_take_a_lane(tmp_path, monkeypatch):
    f = tmp_path / "a.pcap"
    write_pcap(f, records("mh-sig", 10, seed=1))
    s = str(f)
    assert quick._lane(["timeline", "--json", s]) == ("timeline", s)
    assert quick._lane(["timeline", s, "--json"]) == ("timeline", s)
    assert quick._lane(["dissect", "--json", "--summary", s]) == ("dissect", s)
    for other in (["timeline", s], ["timeline", "--json"], ["timeline", "--json", "--json", s],
                  ["timeline", "--json", "--csv", s], ["timeline", "--json", "--mn", "x", s],
                  ["timeline", "--json", s, s], ["timeline", "--json", "-"],
                  ["timeline", "--json", str(tmp_path)], ["stats", "--json", s],
                  ["--no-clock-correction", "timeline", "--json", s],
                  ["timeline", "--json", "--summary", s], ["dissect", "--json", s], []):
        assert quick._lane(other) is None, other
    monkeypatch.setenv("_PMIPVIEW_COMPLETE", "complete_bash")
    assert quick._lane(["timeline", "--json", s]) is None


def test_a_reader_gone_early_and_ctrl_c_end_as_in_the_command_line(tmp_path):
    big = tmp_path / "big.pcap"
    write_pcap(big, records("mh-sig", 3000, seed=2))  # ~1 MB of JSON: written before exit
    small = ROOT / "samples" / "reject-173.pcapng"  # ~4 KB of JSON
    buffered = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    codes = set()
    for env in (buffered, {**buffered, "PYTHONUNBUFFERED": "1"}):
        # small, buffered: the error comes at exit, when stdout is flushed
        for path in (big, small):
            args = ["timeline", "--json", str(path)]
            results = []
            for lane in (True, False):
                r, w = os.pipe()
                os.close(r)
                try:
                    results.append(_run(args, lane, stdout=w, env=env))
                finally:
                    os.close(w)
            assert results[0] == results[1], (path.name, env.get("PYTHONUNBUFFERED"))
            assert results[0][0] != 0
            codes.add(results[0][0])
    assert codes == {1, 120}  # an error while writing (typer's), and at exit (Python's)
    ctrl_c = ("import pmipview.pipeline as p\n"
              "def interrupted(*a, **k):\n    raise KeyboardInterrupt\n"
              "p.correlate = interrupted\n")
    args = ["timeline", "--json", str(small)]
    want = _run(args, lane=False, prelude=ctrl_c)
    assert want[0] == 130
    assert _run(args, lane=True, prelude=ctrl_c) == want


def test_the_lane_loads_no_command_line(tmp_path):
    """What the lane saves is not loading typer, rich, pydantic and the command modules
    (~0.14 s of CPU a run, docs/performance.md): none of them is imported on the way."""
    code = ("import atexit, os, sys\n"
            "heavy = ('typer', 'rich', 'pydantic', 'click', 'pmipview.cli', 'subprocess')\n"
            "def loaded(how):\n"
            "    sys.stderr.write(how + repr(sorted(\n"
            "        m for m in sys.modules if m.split('.')[0] in heavy or m in heavy)))\n"
            "    sys.stderr.flush()\n"
            "atexit.register(loaded, 'atexit ')\n"
            "real_exit = os._exit\n"
            "def _exit(code):\n    loaded('_exit ')\n    real_exit(code)\n"
            "os._exit = _exit\n")
    got = _run(["timeline", "--json", str(SAMPLES[0])], lane=True, prelude=code)
    assert got[0] == 0 and got[2] == "_exit []", got[2]  # and no teardown (_exit_now)
    got = _run(["timeline", "--json", str(tmp_path / "missing.pcap")], lane=True,
               prelude=code)
    assert got[2].startswith("pmipview: ") and "atexit " in got[2]
    assert "pmipview.cli" in got[2]  # the fallback does load it


def test_an_error_while_printing_is_not_printed_twice():
    """Once the lane has printed, a failure is the lane's (the command line would print
    the document again after the part already written)."""
    broken = ("import pmipview.runs as r\n"
              "def half(report, mns, write):\n    write('{\"capture\": ')\n"
              "    raise RuntimeError('disk full')\n"
              "r.write_timeline_json = half\n")
    args = ["timeline", "--json", str(SAMPLES[0])]
    want = _run(args, lane=False, prelude=broken)
    got = _run(args, lane=True, prelude=broken)
    assert want[:2] == got[:2] == (1, '{"capture": ')
    assert "RuntimeError: disk full" in want[2] and "RuntimeError: disk full" in got[2]
