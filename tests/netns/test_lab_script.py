"""tools/lab.sh, the README's copy-paste lab: up, move, release, down (root only)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess

import pytest

from tests.netns.topo import PMIPVIEW, ROOT, missing_tools, wait_for

WHY = missing_tools()
pytestmark = pytest.mark.skipif(WHY is not None, reason=WHY or "")
LAB_SH = str(ROOT / "tools" / "lab.sh")


def test_lab_script_up_move_release_down(tmp_path):
    lab = f"pv{secrets.token_hex(3)}"
    env = {**os.environ, "LAB": lab, "LAB_DIR": str(tmp_path), "PMIPVIEW": PMIPVIEW}

    def sh(*args: str) -> str:
        res = subprocess.run(["bash", LAB_SH, *args], env=env, capture_output=True,
                             text=True, timeout=180)
        assert res.returncode == 0, res.stderr
        return res.stdout

    events = tmp_path / "mn-events.log"
    try:
        assert "up (server mode)" in sh("up", "server")
        assert "udhcpc: running" in sh("status")
        sh("move", "2")
        wait_for(lambda: "renew" in events.read_text(), 60, "the renewal at MAG2")
        sh("release")
        wait_for(lambda: "deregistered" in (tmp_path / "mag2.out").read_text(), 60,
                 "MAG2's de-registration")
    finally:
        out = sh("down")
    assert "merged.pcapng" in out
    assert lab not in subprocess.run(["ip", "netns", "list"], capture_output=True,
                                     text=True).stdout
    res = subprocess.run([PMIPVIEW, "timeline", str(tmp_path / "merged.pcapng"), "--json"],
                         capture_output=True, text=True, timeout=120)
    [mn] = json.loads(res.stdout)["mobile_nodes"]
    assert [h["hoa_preserved"] for h in mn["handoffs"]] == [True]
    assert mn["attachments"][-1]["end_reason"] == "detach"
