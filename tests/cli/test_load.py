"""``pmipview load`` as a user runs it: against a real ``pmipview lma`` process on its own
loopback address, short and slow (correctness, not speed); deadlines everywhere."""

from __future__ import annotations

import csv
import json
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pmipview.cli import app
from tests.cli.test_lma import Lma
from tests.cli_util import one_line_error

DEADLINE = 60.0


def mags() -> str:
    r = random.randrange
    return f"127.{r(64, 250)}.{r(256)}.0/29"


def load(*args: str, timeout: float = DEADLINE) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pmipview", "load", *args],
                          capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture
def lma():
    server = Lma("--pool", "10.201.0.0/20")
    yield server
    code, _, stderr = server.stop()
    assert code == 0 and "Traceback" not in stderr


def test_a_short_run_writes_json_csv_plot_and_pcap(lma, tmp_path: Path):
    host, port = lma.addr
    js, sc, png, cap = (tmp_path / n for n in ("s.json", "s.csv", "s.png", "s.pcap"))
    r = load(host, "--port", str(port), "--mns", "40", "--rate", "40", "--duration", "2.5s",
             "--mag-addresses", mags(), "--json", str(js), "--stats-csv", str(sc),
             "--stats-interval", "500ms", "--plot", str(png), "--pcap", str(cap),
             "--pcap-sample", "0.25")
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr and "summary" in r.stdout
    doc = json.loads(js.read_text())
    for key in ("transactions", "accepted", "rejected", "timeouts", "retransmissions",
                "rate_per_s", "rtt_ms", "duration_s"):
        assert key in doc
    assert 95 <= doc["transactions"] <= 101
    assert doc["accepted"] == doc["transactions"] and doc["timeouts"] == 0
    assert set(doc["rtt_ms"]) >= {"p50", "p90", "p99", "max"}
    assert 0 < doc["rtt_ms"]["p50"] <= doc["rtt_ms"]["p99"] <= doc["rtt_ms"]["max"]
    assert 30 <= doc["rate_per_s"] <= 41
    rows = list(csv.DictReader(sc.open()))
    assert 5 <= len(rows) <= 7
    assert int(rows[-1]["total_accepted"]) == doc["accepted"]
    assert sum(int(x["accepted"]) for x in rows) == doc["accepted"]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    t = subprocess.run([sys.executable, "-m", "pmipview", "timeline", str(cap)],
                       capture_output=True, text=True, timeout=DEADLINE, check=False)
    assert t.returncode == 0, t.stderr
    assert "mn0000000@load.pmipview" in t.stdout     # the sampled MNs' ladders are whole


def test_rejections_by_status_name(tmp_path: Path):
    cfg = tmp_path / "lma.toml"
    cfg.write_text("accept_unknown = false\n")
    server = Lma("--config", str(cfg), "--pool", "10.202.0.0/24")
    try:
        js = tmp_path / "s.json"
        r = load(server.addr[0], "--port", str(server.addr[1]), "--mns", "5", "--rate", "20",
                 "--transactions", "10", "--mag-addresses", mags(), "--json", str(js))
    finally:
        server.stop()
    assert r.returncode == 0, r.stderr
    doc = json.loads(js.read_text())
    assert doc["accepted"] == 0 and doc["rejected_total"] == 10
    assert list(doc["rejected"]) == ["NOT_LMA_FOR_THIS_MOBILE_NODE"]


def test_a_silent_target_gives_timeouts_and_never_hangs(tmp_path: Path):
    js = tmp_path / "s.json"
    t = time.monotonic()
    r = load("127.0.0.1", "--port", "9", "--mns", "3", "--rate", "10", "--transactions", "3",
             "--retransmit", "0.1,0.2", "--max-retransmissions", "2", "--mag-addresses",
             mags(), "--json", str(js))
    assert r.returncode == 0, r.stderr
    assert time.monotonic() - t < 20
    doc = json.loads(js.read_text())
    assert doc["timeouts"] == 3 and doc["retransmissions"] == 6 and doc["accepted"] == 0


def test_malformed_flood_at_the_lma_does_not_stop_answers(lma, tmp_path: Path):
    host, port = lma.addr
    stop = threading.Event()

    def flood() -> None:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rng = random.Random(7)
        while not stop.is_set():
            junk = bytes([59, rng.randrange(256), rng.randrange(256)]) + rng.randbytes(
                rng.randrange(0, 40))
            s.sendto(junk, (host, port))
            time.sleep(0.0005)
        s.close()

    th = threading.Thread(target=flood, daemon=True)
    th.start()
    js = tmp_path / "s.json"
    try:
        r = load(host, "--port", str(port), "--mns", "30", "--rate", "50", "--duration", "2",
                 "--mag-addresses", mags(), "--json", str(js))
    finally:
        stop.set()
        th.join(5)
    assert r.returncode == 0, r.stderr
    doc = json.loads(js.read_text())
    assert doc["timeouts"] == 0 and doc["accepted"] == doc["transactions"] >= 90


def _answered(csv_path: Path) -> int:
    """total_answered of the last complete row of a --stats-csv file (0 before any)."""
    try:
        text = csv_path.read_text()
    except FileNotFoundError:
        return 0
    lines = text.splitlines() if text.endswith("\n") else text.splitlines()[:-1]
    rows = list(csv.DictReader(lines))
    return int(rows[-1]["total_answered"]) if rows else 0


def test_sigint_prints_the_summary(lma, tmp_path: Path):
    host, port = lma.addr
    js, sc = tmp_path / "s.json", tmp_path / "s.csv"
    p = subprocess.Popen([sys.executable, "-m", "pmipview", "load", host, "--port", str(port),
                          "--mns", "20", "--rate", "20", "--duration", "60s",
                          "--mag-addresses", mags(), "--json", str(js),
                          "--stats-csv", str(sc), "--stats-interval", "0.2s"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # interrupt once 10 transactions are answered, however slowly the process started
    # (a fixed sleep saw fewer under load)
    give_up = time.monotonic() + DEADLINE
    while _answered(sc) < 10:
        assert p.poll() is None and time.monotonic() < give_up, "no progress before SIGINT"
        time.sleep(0.1)
    p.send_signal(signal.SIGINT)
    out, errs = p.communicate(timeout=DEADLINE)
    assert p.returncode == 130, errs
    assert "summary" in out and "interrupted" in out and "Traceback" not in errs
    doc = json.loads(js.read_text())
    assert doc["interrupted"] is True and doc["transactions"] >= 10


@pytest.mark.parametrize(("args", "words"), [
    (["127.0.0.1", "--rate", "10"], ["--duration", "--transactions"]),
    (["lma.example", "--duration", "1"], ["TARGET", "not an IP address"]),
    (["::1", "--duration", "1"], ["udp4", "IPv4"]),
    (["127.0.0.1", "--duration", "soon"], ["--duration", "not a duration"]),
    (["127.0.0.1", "--duration", "1", "--mag-addresses", "10.0.0.0/33"], ["--mag-addresses"]),
    (["127.0.0.1", "--duration", "1", "--mag-addresses", "::1"], ["IPv4"]),
    (["127.0.0.1", "--duration", "1", "--transport", "sctp"], ["--transport"]),
    (["127.0.0.1", "--duration", "1", "--mns", "0"], ["--mns"]),
    (["127.0.0.1", "--duration", "1", "--rate", "-5"], ["--rate"]),
    (["127.0.0.1", "--duration", "1", "--retransmit", "1,x"], ["--retransmit"]),
    (["127.0.0.1", "--duration", "1", "--refresh-at", "2"], ["--refresh-at"]),
    (["127.0.0.1", "--duration", "1", "--plot", "x.pdf"], ["--plot", ".png"]),
    (["127.0.0.1", "--duration", "1", "--json", "/nonexistent/x.json"], ["--json", "folder"]),
])
def test_bad_input_is_one_line_and_exit_2(args, words):
    r = CliRunner().invoke(app, ["load", *args])
    one_line_error(r, 2, *words)
