"""The MAG's access side (pmipview.wire.access): link-state hold (no root), and a real
``pmipview mag`` answering a raw DHCPDISCOVER and ARP on a veth in a namespace (root)."""

from __future__ import annotations

import json
import secrets
import signal
import subprocess
import sys

import pytest

from pmipview.wire.access import LinkWatcher, link_is_up
from tests.netns.topo import PMIPVIEW, ROOT, missing_tools, wait_for


def fake_link(tmp_path, state: str, carrier: str = "1"):
    d = tmp_path / "eth9"
    d.mkdir(exist_ok=True)
    (d / "operstate").write_text(state + "\n")
    (d / "carrier").write_text(carrier + "\n")


def test_link_loss_is_reported_after_the_hold_and_bounces_are_not(tmp_path):
    fake_link(tmp_path, "up")
    seen: list[tuple[str, bool]] = []
    w = LinkWatcher(["eth9"], lambda i, up: seen.append((i, up)), hold=2.0, sys_net=tmp_path)
    w.sock, sock = None, w.sock  # read sysfs on each poll, as without netlink
    if sock is not None:
        sock.close()
    try:
        fake_link(tmp_path, "lowerlayerdown")
        w.poll(10.0)
        w.poll(11.5)
        assert seen == []
        fake_link(tmp_path, "up")       # back within the hold: nothing happened
        w.poll(11.9)
        w.poll(20.0)
        assert seen == []
        fake_link(tmp_path, "down")
        w.poll(30.0)
        w.poll(32.1)
        assert seen == [("eth9", False)]
        fake_link(tmp_path, "up")
        w.poll(33.0)
        assert seen == [("eth9", False), ("eth9", True)]
    finally:
        w.close()


def test_link_state_from_sysfs(tmp_path):
    fake_link(tmp_path, "unknown", "1")
    assert link_is_up("eth9", tmp_path)
    fake_link(tmp_path, "unknown", "0")
    assert not link_is_up("eth9", tmp_path)
    assert not link_is_up("nosuch", tmp_path)


WHY = missing_tools()


@pytest.mark.skipif(WHY is not None, reason=WHY or "")
@pytest.mark.parametrize("transport", ["udp4", "ipv6"])
def test_mag_offers_the_pba_address_and_answers_arp_for_the_router(tmp_path, transport):
    """udp4: the backhaul on UDP 5436; ipv6: raw Mobility Header (with the live table)."""
    if transport == "udp4":
        lma_addr, mag_addr, extra = "127.0.0.1", "127.0.0.2", ["--no-live"]
    else:
        lma_addr, mag_addr, extra = "2001:db8::1", "2001:db8::2", ["--live"]
    ns = f"pv{secrets.token_hex(3)}a"
    procs: list[subprocess.Popen] = []

    def sh(*cmd: str) -> None:
        subprocess.run(["ip", "-n", ns, *cmd], check=True, timeout=30, capture_output=True)

    def start(name: str, *cmd: str) -> subprocess.Popen:
        p = subprocess.Popen(["ip", "netns", "exec", ns, *cmd], cwd=ROOT, text=True,
                             stdout=(tmp_path / f"{name}.out").open("w"),
                             stderr=(tmp_path / f"{name}.err").open("w"))
        procs.append(p)
        return p

    try:
        subprocess.run(["ip", "netns", "add", ns], check=True, timeout=30)
        sh("link", "set", "lo", "up")
        sh("link", "add", "acc0", "type", "veth", "peer", "name", "cli0")
        sh("link", "set", "acc0", "address", "02:00:00:00:0a:01")
        sh("link", "set", "acc0", "up")
        sh("link", "set", "cli0", "up")
        sh("addr", "add", "127.0.0.2/8", "dev", "lo")
        for a in ("2001:db8::1/128", "2001:db8::2/128"):
            sh("addr", "add", a, "dev", "lo", "nodad")
        start("lma", PMIPVIEW, "lma", "--listen", lma_addr, "--pool", "10.60.0.0/24",
              "--no-live", "--events")
        wait_for(lambda: "listening" in (tmp_path / "lma.err").read_text(), 30, "the LMA")
        mag = start("mag", PMIPVIEW, "mag", "--lma", lma_addr, "--listen", mag_addr,
                    "--access", "acc0", "--dhcp", "server", "--events", *extra,
                    "--pcap", str(tmp_path / "mag.pcapng"))
        wait_for(lambda: "pmipview mag" in (tmp_path / "mag.err").read_text(), 30, "the MAG")
        probe = subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-m",
                                "tests.netns.probe", "cli0", "02:00:00:00:01:07"], cwd=ROOT,
                               capture_output=True, text=True, timeout=60)
        assert probe.returncode == 0, probe.stderr
        got = json.loads(probe.stdout)
        assert got["type"] == "OFFER" and got["xid_ok"]
        assert got["yiaddr"].startswith("10.60.0.") and got["router"] == "10.60.0.1"
        assert got["ip_src"] == "10.60.0.1"       # server id = the default router
        assert got["eth_src"] == "02:00:00:00:0a:01"
        assert got["eth_dst"] in ("02:00:00:00:01:07", "ff:ff:ff:ff:ff:ff")
        assert got["arp_mac"] == "02:00:00:00:0a:01"
        mag.send_signal(signal.SIGTERM)
        assert mag.wait(20) == 0
        out = (tmp_path / "mag.out").read_text()
        assert "registered 020000000107@pmipview.test" in out
        assert "1 ARP replies" in out and "pmipview mag: ran" in out
        # the junk was counted, not fatal; the capture reads back
        assert "undecodable" in out
        if transport == "ipv6":
            assert "binding update list" in out
            # every Mobility Header (checksum filled as the kernel did) is clean for tshark;
            # the junk frames are in the capture too, with a comment, and are malformed
            pcap = str(tmp_path / "mag.pcapng")
            clean = subprocess.run(["tshark", "-r", pcap, "-Y", "mipv6 && _ws.expert"],
                                   capture_output=True, text=True, timeout=60)
            assert clean.returncode == 0 and clean.stdout.strip() == "", clean.stdout
            mh = subprocess.run(["tshark", "-r", pcap, "-Y", "mipv6"], capture_output=True,
                                text=True, timeout=60)
            assert "Binding Update" in mh.stdout and "Binding Acknowledgement" in mh.stdout
        res = subprocess.run([PMIPVIEW, "timeline", str(tmp_path / "mag.pcapng"), "--json"],
                             capture_output=True, text=True, timeout=60)
        assert res.returncode == 0, res.stderr
        [mn] = json.loads(res.stdout)["mobile_nodes"]
        assert mn["nai"] == "020000000107@pmipview.test"
        assert mn["ipv4_hoas"] == [got["yiaddr"]]
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)
