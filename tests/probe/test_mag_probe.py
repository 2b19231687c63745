"""``pmipview probe --mag`` against a real ``pmipview mag`` in network namespaces, with a
real DHCP client (busybox udhcpc) on its access link: every check PASSes (relay SKIPs),
and MAGs broken on purpose (tests/probe/faulty_mag.py) make exactly their checks FAIL.
Root, ``ip netns`` and udhcpc (``make net-tools``) or skipped with the reason."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.netns.topo import LMA_ADDR, MAG_ADDR, PMIPVIEW, RELAY_ADDR, Lab, missing_tools

pytestmark = pytest.mark.netns


@pytest.fixture(params=["server"])
def lab(tmp_path: Path, request):
    reason = missing_tools()
    if reason:
        pytest.skip(reason)
    lab = Lab(tmp_path, request.param)
    try:
        lab.build()
        yield lab
    finally:
        lab.close()


def start_mag(lab: Lab, faults: str | None = None) -> None:
    cfg = lab.dir / "mag1.toml"
    cfg.write_text('name = "mag1"\nlifetime = 12\nreregister_before = 4\n'
                   'link_down_hold = 3\n')
    args = ["--lma", LMA_ADDR, "--listen", MAG_ADDR[1], "--access", "acc0", "--dhcp",
            lab.mode, "--config", str(cfg), "--events", "--no-live"]
    if lab.mode == "relay":
        args += ["--dhcp-server", LMA_ADDR, "--relay-address", RELAY_ADDR[1]]
    cmd = [sys.executable, "-m", "tests.probe.faulty_mag", faults, *args] if faults \
        else [PMIPVIEW, "mag", *args]
    lab.start("mag1", 1, *cmd)
    from tests.netns.topo import wait_for

    wait_for(lambda: "pmipview mag" in lab.text("mag1.err"), 30, "the MAG to start")


def probe(lab: Lab, *only: str) -> tuple[int, dict[str, dict]]:
    js = lab.dir / "probe.json"
    cmd = ["ip", "netns", "exec", lab.ns["lma"], PMIPVIEW, "probe", "--mag", MAG_ADDR[1],
           "--listen", LMA_ADDR, "--mn-netns", lab.ns["mn"], "--mn-iface", "mn0",
           "--wait", "6", "--dhcp", lab.mode, "--json", str(js),
           "--junit", str(lab.dir / "probe.xml")]
    if only:
        cmd += ["--only", ",".join(only)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert "Traceback" not in r.stderr, r.stderr
    return r.returncode, {c["id"]: c for c in json.loads(js.read_text())["checks"]}


def test_the_reference_mag_passes(lab: Lab):
    start_mag(lab)
    code, got = probe(lab)
    verdicts = {k: c["verdict"] for k, c in got.items()}
    assert verdicts == {"MAG-01": "PASS", "MAG-02": "PASS", "MAG-03": "PASS",
                        "MAG-04": "PASS", "MAG-05": "PASS", "MAG-06": "SKIP"}, got
    assert code == 0
    assert "10.211.0.2/24" in got["MAG-02"]["observed"]


def test_broken_mags_fail_their_checks(lab: Lab):
    start_mag(lab, "no-att,other-hoa,late-refresh,ignore-release")
    code, got = probe(lab, "MAG-01", "MAG-02", "MAG-03", "MAG-04")
    assert code == 1
    assert {k: c["verdict"] for k, c in got.items()} == dict.fromkeys(
        ("MAG-01", "MAG-02", "MAG-03", "MAG-04"), "FAIL"), got
    assert "no Access Technology Type" in got["MAG-01"]["observed"]
    assert "the MN got ip 10.211.0.3/24" in got["MAG-02"]["observed"]
    assert "re-registration" in got["MAG-03"]["expected"] or \
        "refresh" in got["MAG-03"]["expected"]
    assert "lifetime 0" in got["MAG-04"]["expected"]


def test_a_mag_ignoring_170_fails(lab: Lab):
    start_mag(lab, "ignore-170")
    code, got = probe(lab, "MAG-05")
    assert code == 1 and got["MAG-05"]["verdict"] == "FAIL", got
    assert "10.211.0.9" in got["MAG-05"]["observed"]


@pytest.mark.parametrize("lab", ["relay"], indirect=True)
def test_relay_mode_giaddr_and_option_82(lab: Lab):
    start_mag(lab)
    code, got = probe(lab)
    verdicts = {k: c["verdict"] for k, c in got.items()}
    assert verdicts == {"MAG-01": "PASS", "MAG-02": "SKIP", "MAG-03": "SKIP",
                        "MAG-04": "SKIP", "MAG-05": "SKIP", "MAG-06": "PASS"}, got
    assert code == 0
    assert f"relay={RELAY_ADDR[1]}" in got["MAG-06"]["observed"]


@pytest.mark.parametrize("lab", ["relay"], indirect=True)
def test_a_relay_without_the_remote_id_fails(lab: Lab):
    start_mag(lab, "no-remote-id")
    code, got = probe(lab, "MAG-01", "MAG-06")
    assert code == 1 and got["MAG-06"]["verdict"] == "FAIL", got
    assert "Remote-ID None, not the HoA 10.211.0.2" in got["MAG-06"]["observed"]
