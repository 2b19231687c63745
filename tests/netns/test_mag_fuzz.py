"""A running MAG under the fuzz mutants on its access link (issue 10, "bad input on the
wire"): it must never crash, keep answering valid clients with their HoA, and keep its
Binding Update List in agreement with the LMA (root only; tests/netns/mag_fuzz.py)."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys

import pytest

from tests.netns.topo import ROOT

pytestmark = [pytest.mark.netns, pytest.mark.usefixtures("netns_lab")]


def test_mag_survives_dhcp_mutants_and_serves_valid_clients():
    ns = f"pv{secrets.token_hex(3)}f"

    def sh(*cmd: str) -> None:
        subprocess.run(["ip", "-n", ns, *cmd], check=True, timeout=30, capture_output=True)

    try:
        subprocess.run(["ip", "netns", "add", ns], check=True, timeout=30)
        sh("link", "set", "lo", "up")
        sh("addr", "add", "127.0.0.2/8", "dev", "lo")
        sh("link", "add", "acc0", "type", "veth", "peer", "name", "cli0")
        sh("link", "set", "acc0", "up")
        sh("link", "set", "cli0", "up")
        res = subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-m",
                              "tests.netns.mag_fuzz", "acc0", "cli0", "10000"], cwd=ROOT,
                             capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stderr[-3000:]
        got = json.loads(res.stdout)
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)
    print(got)
    assert got["stopped"], "a runtime thread did not stop"
    assert got["mutants"] > 2000 and got["probes"] >= 3
    assert got["answered"] == got["probes"], got          # every valid DISCOVER offered
    assert got["mag_core_errors"] == 0 and got["lma_core_errors"] == 0
    assert got["internal_errors"] == []
    assert got["undecodable"] > 0 and got["delivered"] > 0
    assert got["pool_consistent"] and got["mag_lma_agree"]
