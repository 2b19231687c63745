"""``pmipview probe`` as a user runs it: against a real ``pmipview lma`` subprocess on a
loopback address of its own, and against deliberately wrong responders (tiny UDP servers
in the test) that the probe must catch.  Reports are read back: the JSON, the JUnit XML
(with xml.etree, the structure Jenkins and GitLab read) and the pcapng (our reader and
tshark: each frame's comment names its check)."""

from __future__ import annotations

import json
import os
import random
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from ipaddress import IPv4Address
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dissectors.mh import BindingAck, BindingUpdate, Heartbeat, decode_mh, encode_mh
from dissectors.mh_codes import BAFlag, HBFlag
from dissectors.mh_options import IPv4HoAReply, MNIdentifier
from pmipview.cli import app
from tests.cli.test_lma import Lma
from tests.cli_util import one_line_error

VERDICTS = {"PASS", "FAIL", "SKIP", "ERROR"}


def _mags() -> str:
    r = random.randrange
    a, b = r(64, 250), r(256)
    return f"127.{a}.{b}.2,127.{a}.{b}.3"


def probe(*args: str):
    return CliRunner().invoke(app, ["--width", "200", "probe", *args])


def _junit(path: Path) -> ET.Element:
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    cases = suite.findall("testcase")
    assert int(suite.get("tests")) == len(cases) == int(root.get("tests"))
    for key, child in (("failures", "failure"), ("errors", "error"), ("skipped", "skipped")):
        assert int(suite.get(key)) == sum(1 for c in cases if c.find(child) is not None)
    for c in cases:
        assert c.get("classname") and c.get("name") and float(c.get("time")) >= 0
    return suite


def test_the_reference_lma_passes_every_check(tmp_path: Path):
    js, xml, cap = tmp_path / "p.json", tmp_path / "p.xml", tmp_path / "p.pcapng"
    lma = Lma()
    try:
        r = probe(lma.addr[0], "--port", str(lma.addr[1]), "--mag-addresses", _mags(),
                  "--json", str(js), "--junit", str(xml), "--pcap", str(cap))
    finally:
        code, _, stderr = lma.stop()
    assert code == 0, stderr
    assert r.exit_code == 0, r.output
    assert "22 checks: 18 passed, 0 failed, 4 skipped, 0 errors" in r.stdout, r.stdout
    doc = json.loads(js.read_text())
    checks = doc["checks"]
    assert len(checks) == 22 and doc["summary"]["FAIL"] == doc["summary"]["ERROR"] == 0
    for c in checks:
        assert c["verdict"] in ("PASS", "SKIP"), c
        assert c["section"].startswith("RFC ")
        assert (c["reason"] if c["verdict"] == "SKIP" else c["observed"]), c
    suite = _junit(xml)
    assert suite.get("failures") == suite.get("errors") == "0"
    assert suite.get("skipped") == "4"

    from pmipview.sources import open_source

    with open_source(str(cap)) as src:
        records = list(src)
    assert len(records) == max(f for c in checks for f in c["frames"])
    for c in checks:
        for f in c["frames"]:
            assert records[f - 1].comment.startswith(c["id"] + " "), (f, records[f - 1])
    answers = [decode_mh(rec.data[28:])[0] for rec in records]
    assert sum(isinstance(m, BindingAck) for m in answers) > 20


def test_timestamps_and_refusals_of_a_configured_lma(tmp_path: Path):
    conf = tmp_path / "lma.toml"
    conf.write_text('pool = "10.60.0.10-10.60.0.99/24"\ndefault_router = "10.60.0.1"\n'
                    'ordering = "timestamp"\ntimestamp_window = 7\n'
                    '[profiles."mn9@example.com"]\nipv4 = false\n')
    prof = tmp_path / "probe.toml"
    prof.write_text('pool = "10.60.0.0/24"\ndefault_router = "10.60.0.1"\n'
                    'timestamps = true\ndhcp_mode = "server"\n'
                    'refused = [{ nai = "mn9@example.com", status = 170 }]\n')
    lma = Lma("--config", str(conf))
    try:
        r = probe(lma.addr[0], "--port", str(lma.addr[1]), "--mag-addresses", _mags(),
                  "--profile", str(prof), "--only", "LMA-01,LMA-02,LMA-13,LMA-14,LMA-15",
                  "--only", "LMA-16", "--json", str(tmp_path / "p.json"))
    finally:
        lma.stop()
    assert r.exit_code == 0, r.output
    got = {c["id"]: c["verdict"] for c in json.loads((tmp_path / "p.json").read_text())
           ["checks"]}
    assert got == {"LMA-01": "PASS", "LMA-02": "PASS", "LMA-13": "SKIP", "LMA-14": "PASS",
                   "LMA-15": "PASS", "LMA-16": "PASS"}


def test_a_strict_lma_static_hoas_refusals_heartbeats(tmp_path: Path):
    """accept_unknown = false, a static HoA, 152 and 170 refusals, relay mode, heartbeats
    from the LMA every second (the probe answers them like a MAG)."""
    conf = tmp_path / "lma.toml"
    conf.write_text('pool = "10.70.0.10-10.70.0.20/24"\ndefault_router = "10.70.0.1"\n'
                    'accept_unknown = false\nheartbeat_interval = 1\nmax_lifetime = 600\n'
                    '[profiles."a@x.net"]\nstatic_hoa = "10.70.0.15"\ndhcp_mode = "relay"\n'
                    '[profiles."b@x.net"]\ndhcp_mode = "relay"\n'
                    '[profiles."c@x.net"]\nallowed = false\n[profiles."d@x.net"]\nipv4 = false\n')
    prof = tmp_path / "probe.toml"
    prof.write_text('accept_unknown = false\nallowed = ["a@x.net", "b@x.net"]\n'
                    'refused = [{ nai = "c@x.net", status = 152 }, '
                    '{ nai = "d@x.net", status = 170 }]\npool = "10.70.0.0/24"\n'
                    'default_router = "10.70.0.1"\ndhcp_mode = "relay"\nmax_lifetime = 600\n'
                    'revocation = true\n')
    js = tmp_path / "p.json"
    lma = Lma("--config", str(conf))
    try:
        r = probe(lma.addr[0], "--port", str(lma.addr[1]), "--mag-addresses", _mags(),
                  "--profile", str(prof), "--json", str(js))
    finally:
        lma.stop()
    assert r.exit_code == 0, r.output
    got = {c["id"]: c for c in json.loads(js.read_text())["checks"]}
    skipped = {k for k, c in got.items() if c["verdict"] == "SKIP"}
    assert skipped == {"LMA-05", "LMA-14", "LMA-15", "LMA-19"}, got
    assert "needs 3 NAIs" in got["LMA-05"]["reason"]
    assert "granted again to its MN" in got["LMA-08"]["observed"]


@pytest.fixture
def netns():
    """A network namespace of our own with fd00::1-3 on its loopback: raw MH sockets there
    see no other process's Mobility Headers (on the host, every raw MH socket bound to
    ::1 gets a copy of everybody's)."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("raw IPPROTO_MH sockets and ip netns need root")
    ns = f"pvp{uuid.uuid4().hex[:6]}"
    cmds = [["ip", "netns", "add", ns], ["ip", "-n", ns, "link", "set", "lo", "up"]]
    cmds += [["ip", "-n", ns, "addr", "add", f"fd00::{i}/128", "dev", "lo", "nodad"]
             for i in (1, 2, 3)]
    try:
        for cmd in cmds:
            p = subprocess.run(cmd, capture_output=True, text=True)
            if p.returncode != 0:
                pytest.skip(f"cannot create the namespace: {p.stderr.strip()}")
        yield ns
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


@pytest.mark.netns
def test_ipv6_transport_two_mags_and_the_bad_checksum(tmp_path: Path, netns: str):
    inside = ["ip", "netns", "exec", netns, sys.executable, "-m", "pmipview"]
    lma = subprocess.Popen([*inside, "lma", "--listen", "fd00::1", "--no-live", "--duration",
                            "60"], stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    js, cap = tmp_path / "p.json", tmp_path / "p.pcapng"
    try:
        ready, _, _ = select.select([lma.stderr], [], [], 20)
        assert ready and "ipv6 mh fd00::1" in lma.stderr.readline()
        r = subprocess.run([*inside, "probe", "fd00::1", "--transport", "ipv6",
                            "--mag-addresses", "fd00::2,fd00::3", "--json", str(js),
                            "--pcap", str(cap)], capture_output=True, text=True, timeout=120)
    finally:
        lma.send_signal(signal.SIGTERM)
        lma.communicate(timeout=20)
    assert r.returncode == 0, r.stdout + r.stderr
    got = {c["id"]: c for c in json.loads(js.read_text())["checks"]}
    assert {k for k, c in got.items() if c["verdict"] == "SKIP"} == {
        "LMA-14", "LMA-15", "LMA-16", "LMA-21"}
    assert all(c["verdict"] == "PASS" for k, c in got.items() if k not in (
        "LMA-14", "LMA-15", "LMA-16", "LMA-21")), got

    from pmipview.sources import open_source

    with open_source(str(cap)) as src:
        records = list(src)
    bad = [rec for rec in records if "wrong MH checksum" in (rec.comment or "")]
    assert len(bad) == 1
    src6, dst6 = bad[0].data[8:24], bad[0].data[24:40]
    msg, _ = decode_mh(bad[0].data[40:], 0, None, src6 + dst6)
    assert msg.wire.checksum_ok is False and isinstance(msg, BindingUpdate)
    good = [rec for rec in records if rec is not bad[0]]
    for rec in good:
        m, _ = decode_mh(rec.data[40:], 0, None, rec.data[8:24] + rec.data[24:40])
        assert m.wire.checksum_ok is True, rec.comment


# --- wrong responders ------------------------------------------------------------------
class Responder:
    """A UDP server on its own loopback address that answers with ``answer(msg)``."""

    def __init__(self, answer) -> None:
        r = random.randrange
        self.addr = f"127.{r(64, 250)}.{r(256)}.{r(1, 255)}"
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((self.addr, 0))
        self.port = self.sock.getsockname()[1]
        self.sock.settimeout(0.2)
        self.answer = answer
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(65535)
            except OSError:
                continue
            reply = self.answer(decode_mh(data)[0])
            if reply is not None:
                self.sock.sendto(encode_mh(reply), peer)

    def close(self) -> None:
        self._stop.set()
        self.thread.join(5)
        self.sock.close()


def sloppy(msg):
    """Echoes a wrong sequence number and leaves out the Default-Router option."""
    if isinstance(msg, Heartbeat):
        return Heartbeat(msg.seq + 1, HBFlag.R)
    if isinstance(msg, BindingUpdate):
        opts = (msg.option(MNIdentifier), IPv4HoAReply(0, IPv4Address("10.9.0.5"), 24))
        return BindingAck(0, (msg.seq + 7) & 0xFFFF, BAFlag.P, msg.lifetime, opts)
    return None


def test_a_wrong_responder_fails_the_right_checks(tmp_path: Path):
    server = Responder(sloppy)
    js = tmp_path / "p.json"
    try:
        r = probe(server.addr, "--port", str(server.port), "--mag-addresses", _mags(),
                  "--only", "LMA-01,LMA-03,LMA-20", "--json", str(js), "--junit",
                  str(tmp_path / "p.xml"), "--timeout", "0.3")
    finally:
        server.close()
    assert r.exit_code == 1, r.output
    got = {c["id"]: c for c in json.loads(js.read_text())["checks"]}
    assert {k: c["verdict"] for k, c in got.items()} == {
        "LMA-01": "FAIL", "LMA-03": "FAIL", "LMA-20": "FAIL"}
    assert "Default-Router" in got["LMA-01"]["expected"]
    assert "no IPv4 Default-Router option" in got["LMA-01"]["observed"]
    assert re.search(r"^frame \d+: PBA status 0", got["LMA-01"]["observed"])
    assert got["LMA-01"]["frames"][:3] == [1, 2, 3]  # the PBU retransmitted: a wrong seq
    assert "seq" in got["LMA-03"]["observed"] and "PBU had" in got["LMA-03"]["observed"]
    assert "with sequence" in got["LMA-20"]["expected"]
    assert "expected:" in r.stdout and "observed:" in r.stdout
    suite = _junit(tmp_path / "p.xml")
    assert suite.get("failures") == "3"
    assert all(c.find("failure").get("message") for c in suite.findall("testcase"))


def test_a_silent_target_is_an_error(tmp_path: Path):
    server = Responder(lambda msg: None)
    try:
        r = probe(server.addr, "--port", str(server.port), "--mag-addresses", _mags(),
                  "--only", "LMA-20", "--timeout", "0.1", "--tries", "2",
                  "--junit", str(tmp_path / "p.xml"))
    finally:
        server.close()
    assert r.exit_code == 1, r.output
    assert "ERROR" in r.stdout and "2 transmission(s) (0.1 s + 0.2 s)" in r.stdout
    assert _junit(tmp_path / "p.xml").get("errors") == "1"


def test_list_shows_the_catalog():
    r = probe("--list")
    assert r.exit_code == 0
    assert "LMA-01" in r.stdout and "LMA-22" in r.stdout and "RFC 5844" in r.stdout
    r = probe("--mag", "--list")
    assert r.exit_code == 0
    assert "MAG-01" in r.stdout and "MAG-06" in r.stdout and "LMA-01" not in r.stdout


@pytest.mark.parametrize(("args", "code", "words"), [
    (["nowhere"], 2, ["not an IP address"]),
    (["::1", "--transport", "udp4"], 2, ["needs an IPv4 TARGET"]),
    (["127.0.0.1", "--only", "LMA-99"], 2, ["unknown check LMA-99"]),
    (["127.0.0.1", "--transport", "sctp"], 2, ["--transport"]),
    (["127.0.0.1", "--mag-addresses", "::1"], 2, ["not IPv4"]),
    (["127.0.0.1", "--mag-addresses", "10.255.255.77"], 1, ["no such local address"]),
    (["127.0.0.1", "--tries", "0"], 2, ["--tries"]),
    (["--mag", "192.0.2.11"], 2, ["--listen"]),
    (["--mag", "192.0.2.11", "--listen", "::1"], 2, ["needs an IPv4"]),
    (["--mag", "192.0.2.11", "--listen", "127.0.0.1", "--only", "MAG-9"], 2,
     ["unknown check MAG-9"]),
    (["--mag", "192.0.2.11", "--listen", "127.0.0.1", "--wait", "0"], 2, ["--wait"]),
])
def test_usage_errors_are_one_line(args, code, words):
    one_line_error(probe(*args), code, *words)


def test_bad_profile_is_one_line(tmp_path: Path):
    prof = tmp_path / "p.toml"
    prof.write_text('pol = "10.0.0.0/24"\n')
    one_line_error(probe("127.0.0.1", "--profile", str(prof)), 2, "pol: unknown key",
                   "did you mean 'pool'")
    prof.write_text('refused = [{ nai = "x", status = 99 }]\n')
    one_line_error(probe("127.0.0.1", "--profile", str(prof)), 2, "refused",
                   "not a refusal status")
    prof.write_text("[[")
    one_line_error(probe("127.0.0.1", "--profile", str(prof)), 2, "not valid TOML")
    prof.write_text('allowed = ["a\\u001b[2J@x"]\n')
    one_line_error(probe("127.0.0.1", "--profile", str(prof)), 2, "allowed",
                   "control characters")


def test_ctrl_c_reports_the_checks_that_finished(tmp_path: Path):
    server = Responder(lambda msg: None)
    js = tmp_path / "p.json"
    try:
        proc = subprocess.Popen([sys.executable, "-m", "pmipview", "probe", server.addr,
                                 "--port", str(server.port), "--mag-addresses", _mags(),
                                 "--only", "LMA-19,LMA-01", "--json", str(js)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ready, _, _ = select.select([proc.stderr], [], [], 20)
        assert ready and "2 checks against" in proc.stderr.readline()
        time.sleep(1.0)  # LMA-19 SKIPs at once; LMA-01 waits for 1 s + 2 s + 4 s
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=20)
    finally:
        server.close()
    assert proc.returncode == 1, stderr
    assert "interrupted: 1 of 2 checks ran" in stderr and "Traceback" not in stderr
    (check,) = json.loads(js.read_text())["checks"]
    assert check["id"] == "LMA-19" and check["verdict"] == "SKIP"
