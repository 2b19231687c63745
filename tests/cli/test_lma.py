"""``pmipview lma`` as a user runs it: a real process on loopback, real datagrams.

Each test starts the command in a subprocess on a kernel-chosen port (``--port 0``; the
port is read from its first stderr line), talks to it with plain sockets and ends it with
SIGTERM; deadlines everywhere, so nothing hangs.  What it wrote (--log, --pcap) is read
back by pmipview timeline and by tshark.
"""

from __future__ import annotations

import json
import os
import random
import re
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dissectors.mh import BindingAck, BindingError, decode_mh, encode_mh
from dissectors.mh_codes import BAStatus
from pmipview.cli import app
from tests.agents.test_lma import pbu
from tests.cli_util import one_line_error
from tests.tshark_util import expert_items, require_tshark, tshark_json

DEADLINE = 20.0


class Lma:
    """A running ``pmipview lma``; ``ask(payload)`` sends and returns the answer."""

    def __init__(self, *args: str) -> None:
        # a loopback address of its own: port 5436 (what tshark and pmipview decode as
        # PMIPv6) is then free whatever else runs
        r = random.randrange
        listen = f"127.{r(64, 250)}.{r(256)}.{r(1, 255)}"
        cmd = [sys.executable, "-m", "pmipview", "lma", "--listen", listen, "--no-live",
               *args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        line = self._stderr_line()
        m = re.search(r"listening on udp4 [\d.]+:(\d+);", line)
        assert m, line
        self.addr = (listen, int(m.group(1)))
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(DEADLINE)

    def _stderr_line(self) -> str:
        ready, _, _ = select.select([self.proc.stderr], [], [], DEADLINE)
        assert ready, "pmipview lma did not start"
        assert self.proc.stderr is not None
        return self.proc.stderr.readline()

    def ask(self, payload: bytes):
        self.sock.sendto(payload, self.addr)
        data, peer = self.sock.recvfrom(65535)
        assert peer == self.addr
        return decode_mh(data)[0]

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def stop(self) -> tuple[int, str, str]:
        self.sock.close()
        self.proc.send_signal(signal.SIGTERM)
        try:
            stdout, stderr = self.proc.communicate(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            stdout, stderr = self.proc.communicate()
            raise AssertionError("pmipview lma did not exit on SIGTERM") from None
        return self.proc.returncode, stdout, stderr


def v4(**kw):
    return encode_mh(pbu(hnps=(), **kw))


def test_register_refresh_deregister_with_log_and_pcap(tmp_path: Path):
    log, cap = tmp_path / "lma.jsonl", tmp_path / "lma.pcapng"
    lma = Lma("--log", str(log), "--pcap", str(cap))
    try:
        ba = lma.ask(v4(seq=1, lifetime=200))
        assert isinstance(ba, BindingAck) and ba.status == BAStatus.ACCEPTED
        hoa = ba.hoa_reply.address
        assert str(hoa).startswith("10.200.")
        again = lma.ask(v4(seq=2, lifetime=200))
        assert again.hoa_reply.address == hoa  # re-registration keeps the HoA
        assert lma.ask(bytes([59, 0, 99, 0, 0, 0, 0, 0])).__class__ is BindingError
        lma.sock.sendto(b"\x3b\x09junk", lma.addr)  # undecodable: counted, not answered
        bye = lma.ask(v4(seq=3, lifetime=0))
        assert bye.status == BAStatus.ACCEPTED and bye.lifetime == 0
    finally:
        code, stdout, stderr = lma.stop()
    assert code == 0, stderr
    assert "Traceback" not in stderr
    assert "registered 1, refreshed 1" in stdout and "de-registered 1" in stdout
    assert "undecodable" in stdout

    lines = [json.loads(x) for x in log.read_text().splitlines()]
    pairs = [x for x in lines if x["kind"] == "PBU/PBA"]
    assert [x["registration"] for x in pairs] == ["registration"] * 2 + ["de-registration"]
    assert all(x["status_name"] == "Proxy Binding Update accepted" for x in pairs)
    assert all(0 <= x["rtt_ms"] < 1000 and x["nai"] == "mn1@example.com" for x in pairs)
    assert pairs[0]["hoa"] == str(hoa) and pairs[0]["direction"] == "in"
    assert {x["kind"] for x in lines} == {"PBU/PBA", "BE", "undecodable"}

    r = CliRunner().invoke(app, ["timeline", str(cap), "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    (mn,) = doc["mobile_nodes"]
    assert mn["id"] == "mn1@example.com"
    assert [(a["ipv4_hoa"], a["refreshes"], a["end_reason"]) for a in mn["attachments"]] \
        == [(str(hoa), 1, "detach")]
    assert [t["kind"] for t in mn["transactions"]] == ["registration", "refresh",
                                                        "deregistration"]

    tshark = require_tshark()
    frames = tshark_json(tshark, cap)
    assert len(frames) == 9  # 4 answered requests × 2, one undecodable datagram
    bad = [(i, e) for i, f in enumerate(frames, 1) if i != 7 for e in expert_items(f)]
    assert not bad, bad


def test_sighup_reloads_profiles_and_keeps_bindings(tmp_path: Path):
    conf = tmp_path / "lma.toml"
    base = ('pool = "10.50.0.10-10.50.0.99/24"\ndefault_router = "10.50.0.1"\n'
            'accept_unknown = false\n[profiles."mn1@example.com"]\n')
    conf.write_text(base)
    lma = Lma("--config", str(conf))
    try:
        first = lma.ask(v4(seq=1))
        assert first.status == BAStatus.ACCEPTED
        assert str(first.hoa_reply.address) == "10.50.0.10"
        assert lma.ask(v4(nai="mn2@example.com", seq=1)).status == \
            BAStatus.NOT_LMA_FOR_THIS_MOBILE_NODE
        conf.write_text(base + '[profiles."mn2@example.com"]\nstatic_hoa = "10.50.0.42"\n')
        lma.signal(signal.SIGHUP)
        assert "reloaded 2 profiles" in lma._stderr_line()
        second = lma.ask(v4(nai="mn2@example.com", seq=2, lli="02:00:00:00:00:02"))
        assert second.status == BAStatus.ACCEPTED
        assert str(second.hoa_reply.address) == "10.50.0.42"
        assert lma.ask(v4(seq=2)).hoa_reply.address == first.hoa_reply.address
        conf.write_text("pool = 5\n")
        lma.signal(signal.SIGHUP)
        assert "kept the old profiles" in lma._stderr_line()
    finally:
        code, stdout, _ = lma.stop()
    assert code == 0 and "2 bindings at exit" in stdout


@pytest.mark.parametrize(("text", "words"), [
    ('pol = "10.0.0.0/24"\n', ["pol: unknown key", "did you mean 'pool'"]),
    ('pool = "10.0.0.0/24"\ndefault_router = "10.0.0.1"\n',
     ["contains the default router", "10.0.0.2-10.0.0.254/24"]),
    ('pool = "10.0.0.2-10.0.0.9/24"\ndefault_router = "10.1.0.1"\n', ["not on the home"]),
    ('[profiles."a@b"]\nstatic_hoa = "10.0.0.300"\n', ["static_hoa", "not an IPv4 address"]),
    ('max_lifetime = "long"\n', ["max_lifetime: expected a number"]),
    ('ordering = "random"\n', ["ordering"]),
    ("[[", ["not valid TOML"]),
])
def test_bad_config_is_one_line(tmp_path: Path, text: str, words: list[str]):
    conf = tmp_path / "lma.toml"
    conf.write_text(text)
    r = CliRunner().invoke(app, ["lma", "--config", str(conf), "--duration", "1"])
    one_line_error(r, 2, *words)


def test_bad_listen_and_busy_port_are_one_line():
    r = CliRunner().invoke(app, ["lma", "--listen", "10.255.255.77", "--duration", "1"])
    one_line_error(r, 1, "no such local address")
    r = CliRunner().invoke(app, ["lma", "--listen", "::1", "--transport", "udp4"])
    one_line_error(r, 1, "needs an IPv4 address")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy:
        busy.bind(("127.0.0.1", 0))
        r = CliRunner().invoke(app, ["lma", "--port", str(busy.getsockname()[1])])
        one_line_error(r, 1, "already in use")


IPV6_CLIENT = """
import socket, sys
sys.path.insert(0, sys.argv[1])
from dissectors.mh import BindingAck, decode_mh, encode_mh
from tests.agents.test_lma import pbu
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, 135)
s.bind(("::1", 0))
s.settimeout(20)
s.sendto(encode_mh(pbu(hnps=(), seq=11)), ("::1", 0))
while True:  # a raw socket also reads its own PBU back on loopback
    msg = decode_mh(s.recv(65535))[0]
    if isinstance(msg, BindingAck):
        break
print(int(msg.status), msg.seq)
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="raw IPPROTO_MH sockets, namespaces and "
                    "dumpcap need root")
def test_ipv6_transport_checksums_seen_by_tshark(tmp_path: Path):
    """Over IPv6 the kernel computes the MH checksum; a capture of loopback holds frames
    whose checksum our decoder verifies and tshark decodes without complaint.  In a
    namespace of its own: every raw MH socket on a host's ::1 sees every other's traffic."""
    ns = f"pvl{random.randrange(16**6):06x}"
    root = str(Path(__file__).resolve().parents[2])
    run = ["ip", "netns", "exec", ns]
    cap = tmp_path / "lo.pcapng"
    subprocess.run(["ip", "netns", "add", ns], check=True, timeout=DEADLINE)
    dumpcap = proc = None
    try:
        subprocess.run([*run, "ip", "link", "set", "lo", "up"], check=True, timeout=DEADLINE)
        dumpcap = subprocess.Popen([*run, "dumpcap", "-q", "-i", "lo", "-f", "ip6 proto 135",
                                    "-w", str(cap)], stderr=subprocess.PIPE, text=True)
        ready, _, _ = select.select([dumpcap.stderr], [], [], DEADLINE)  # "File: ..." once
        assert ready, "dumpcap did not start"                         # it captures
        proc = subprocess.Popen([*run, sys.executable, "-m", "pmipview", "lma", "--listen",
                                 "::1", "--no-live", "--duration", "60"],
                                stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        ready, _, _ = select.select([proc.stderr], [], [], DEADLINE)
        assert ready and "ipv6 mh ::1" in proc.stderr.readline()
        answer = subprocess.run([*run, sys.executable, "-c", IPV6_CLIENT, root],
                                capture_output=True, text=True, timeout=DEADLINE)
        assert answer.stdout.split() == [str(int(BAStatus.ACCEPTED)), "11"], answer.stderr
        time.sleep(0.5)
    finally:
        for p in (proc, dumpcap):
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.communicate(timeout=DEADLINE)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.communicate()
        subprocess.run(["ip", "netns", "del", ns], timeout=DEADLINE)
    from pmipview.packets import Tally, scan
    from pmipview.sources import open_source

    with open_source(str(cap)) as src:
        frames = [p.frame for p in scan(src, Tally()) if p.frame.mh is not None]
    assert len(frames) >= 2
    assert all(f.mh.wire.checksum_ok is True for f in frames)
    tshark = require_tshark()
    for layers in tshark_json(tshark, cap):
        assert not expert_items(layers), layers
