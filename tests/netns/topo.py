"""A PMIPv6 lab in network namespaces for the wire tests (root only).

    MN ns                 MAG1 ns                      LMA ns
    mn0 (bridge) ─ a1 ═══ acc0   bh0 192.0.2.11 ═══ p1 ─ br0 192.0.2.1 (LMA, dnsmasq)
                 └ a2 ═══ acc0   bh0 192.0.2.12 ═══ p2 ┘
                          MAG2 ns

The MN's one interface is a bridge (its MAC stays the same) whose port a1 or a2 is up:
moving the link from MAG1 to MAG2 is ``a1 down, a2 up``; MAG1 then sees its acc0 lose
carrier.  Both MAGs' acc0 have the same MAC (RFC 5213 §6.8).  Relay addresses (giaddr)
are 10.50.1.11 / 10.50.1.12 on the MAGs' loopback, routed from the LMA namespace.

Every name carries a random tag, so parallel runs never collide; :meth:`Lab.close` kills
what was started and deletes the namespaces, whatever happened.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PMIPVIEW = str(Path(sys.executable).with_name("pmipview"))
MN_MAC = "02:00:00:00:01:01"
REFUSED_MAC = "02:00:00:00:01:66"
MN_NAI = "mn1@pmipview.test"
REFUSED_NAI = "refused@pmipview.test"
ACCESS_MAC = "02:00:00:00:0a:01"
LMA_ADDR = "192.0.2.1"
MAG_ADDR = {1: "192.0.2.11", 2: "192.0.2.12"}
RELAY_ADDR = {1: "10.50.1.11", 2: "10.50.1.12"}
POOL_RANGE, ROUTER, STATIC_HOA = "10.50.0.2-10.50.0.254/24", "10.50.0.1", "10.50.0.10"

MN_SCRIPT = """#!/bin/sh
# udhcpc event script: record the event, configure the interface like a real client.
# deconfig after a RELEASE: give the RELEASE (unicast, maybe waiting on ARP) a moment to
# leave before the address goes, as a client that releases at shutdown does.
echo "$1 ip=$ip mask=$mask router=$router serverid=$serverid lease=$lease" >> "{log}"
case "$1" in
  deconfig)
    ip -4 addr show dev "$interface" | grep -q inet && sleep 2
    ip -4 addr flush dev "$interface" ;;
  bound|renew)
    if ! ip -4 addr show dev "$interface" | grep -q "inet $ip/$mask "; then
      ip -4 addr flush dev "$interface"
      ip addr add "$ip/$mask" dev "$interface"
    fi
    [ -n "$router" ] && ip route replace default via "${{router%% *}}" dev "$interface" ;;
esac
exit 0
"""


def missing_tools() -> str | None:
    """Why these tests cannot run here, or None."""
    if os.geteuid() != 0:
        return "network namespaces need root (run `make test` as root)"
    for tool in ("ip", "busybox", "udhcpc", "dnsmasq", "dumpcap", "mergecap", "tshark"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (`make net-tools` installs it)"
    return None


def require_lab() -> None:
    """Skip the calling test, with the reason, where the lab cannot run; under CI=true as
    root a missing tool fails it instead (``make net-tools`` should have installed it)."""
    reason = missing_tools()
    if reason is None:
        return
    if os.environ.get("CI") == "true" and os.geteuid() == 0:
        pytest.fail(f"tests/netns: {reason}")
    pytest.skip(reason)


def wait_for(cond: Callable[[], object], timeout: float, what: str,
             every: float = 0.05) -> object:
    deadline = time.monotonic() + timeout
    while True:
        got = cond()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


class Lab:
    def __init__(self, workdir: Path, mode: str) -> None:
        self.dir = workdir
        self.mode = mode
        tag = secrets.token_hex(3)
        self.ns = {"mn": f"pv{tag}mn", 1: f"pv{tag}m1", 2: f"pv{tag}m2", "lma": f"pv{tag}l"}
        self.procs: dict[str, subprocess.Popen] = {}
        self._files: list = []
        self.mn_log = workdir / "mn-events.log"

    # -- plumbing

    def sh(self, ns: object, *cmd: str, check: bool = True) -> subprocess.CompletedProcess:
        full = ["ip", "netns", "exec", self.ns[ns], *cmd] if ns is not None else list(cmd)
        res = subprocess.run(full, capture_output=True, text=True, timeout=30)
        if check and res.returncode != 0:
            raise RuntimeError(f"{' '.join(full)}: {res.stderr.strip()}")
        return res

    def start(self, name: str, ns: object, *cmd: str) -> subprocess.Popen:
        out = (self.dir / f"{name}.out").open("w")
        errf = (self.dir / f"{name}.err").open("w")
        self._files += [out, errf]
        proc = subprocess.Popen(["ip", "netns", "exec", self.ns[ns], *cmd], stdout=out,
                                stderr=errf, stdin=subprocess.DEVNULL, cwd=ROOT)
        self.procs[name] = proc
        return proc

    def text(self, name: str) -> str:
        with contextlib.suppress(OSError):
            return (self.dir / name).read_text()
        return ""

    def stop(self, name: str, sig: int = signal.SIGTERM, timeout: float = 10) -> int | None:
        proc = self.procs.pop(name, None)
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        return proc.returncode

    # -- topology

    def build(self) -> None:
        ns = self.ns
        for name in ns.values():
            self.sh(None, "ip", "netns", "add", name)
        for name in ns.values():
            self.sh(None, "ip", "-n", name, "link", "set", "lo", "up")
        ip = lambda n, *a: self.sh(None, "ip", "-n", ns[n], *a)  # noqa: E731
        ip("mn", "link", "add", "mn0", "type", "bridge")
        ip("mn", "link", "set", "mn0", "address", MN_MAC)
        ip("lma", "link", "add", "br0", "type", "bridge")
        for i in (1, 2):
            self.sh(None, "ip", "link", "add", f"a{i}", "netns", ns["mn"], "type", "veth",
                    "peer", "name", "acc0", "netns", ns[i])
            self.sh(None, "ip", "link", "add", "bh0", "netns", ns[i], "type", "veth",
                    "peer", "name", f"p{i}", "netns", ns["lma"])
            ip("mn", "link", "set", f"a{i}", "master", "mn0")
            ip(i, "link", "set", "acc0", "address", ACCESS_MAC)
            ip(i, "link", "set", "acc0", "up")
            ip(i, "addr", "add", f"{MAG_ADDR[i]}/24", "dev", "bh0")
            ip(i, "link", "set", "bh0", "up")
            ip(i, "addr", "add", f"{RELAY_ADDR[i]}/32", "dev", "lo")
            ip("lma", "link", "set", f"p{i}", "master", "br0")
            ip("lma", "link", "set", f"p{i}", "up")
        ip("lma", "addr", "add", f"{LMA_ADDR}/24", "dev", "br0")
        ip("lma", "link", "set", "br0", "up")
        for i in (1, 2):
            ip("lma", "route", "add", f"{RELAY_ADDR[i]}/32", "via", MAG_ADDR[i], "dev", "br0",
               "onlink")
        ip("mn", "link", "set", "mn0", "up")
        ip("mn", "link", "set", "a1", "up")
        ip("mn", "link", "set", "a2", "up")  # for dumpcap to open it; down after capture()
        self._wait_backhaul()

    def _wait_backhaul(self, timeout: float = 20.0) -> None:
        """Until each MAG reaches the LMA and back: the bridge forwards and both ends know
        each other's MAC.  A test's first PBU otherwise waited in the kernel for ARP, whose
        first request went unanswered while br0 came up: it left ~1 s late with the
        MAG's retransmission, and the MAG (rightly) dropped the PBA of the older sequence
        number (tests/probe/test_mag_probe.py failed now and then)."""
        def answers(ns: object, addr: str) -> bool:
            ping = ("busybox", "ping", "-c", "1", "-W", "1", "-q", addr)
            return self.sh(ns, *ping, check=False).returncode == 0

        for i in (1, 2):
            wait_for(lambda i=i: answers(i, LMA_ADDR) and answers("lma", MAG_ADDR[i]),
                     timeout, f"the backhaul of MAG{i} to pass traffic", every=0.1)

    def capture(self) -> None:
        """dumpcap on every veth end, one process per namespace; then the MN's port to
        MAG2 goes down (dumpcap cannot open a port that is down, but keeps capturing on it
        when it goes down and up): the MN is attached to MAG1 only."""
        sets = {"mn": ("a1", "a2"), 1: ("acc0", "bh0"), 2: ("acc0", "bh0"),
                "lma": ("p1", "p2")}
        for ns, ifaces in sets.items():
            args = [a for i in ifaces for a in ("-i", i)]
            self.start(f"cap-{ns}", ns, "dumpcap", *args, "-w",
                       str(self.dir / f"cap-{ns}.pcapng"))
        for ns in sets:
            # "Capturing on" comes before dumpcap has opened every interface; "File:" and
            # the file itself come after, so the port may go down only then.
            wait_for(lambda ns=ns: "File:" in self.text(f"cap-{ns}.err") and
                     (self.dir / f"cap-{ns}.pcapng").exists(), 20, f"dumpcap in {ns}")
        self.sh("mn", "ip", "link", "set", "a2", "down")

    def merged_capture(self) -> Path:
        for ns in ("mn", 1, 2, "lma"):
            self.stop(f"cap-{ns}")
        merged = self.dir / "merged.pcapng"
        files = [str(self.dir / f"cap-{ns}.pcapng") for ns in ("mn", 1, 2, "lma")]
        subprocess.run(["mergecap", "-w", str(merged), *files], check=True, timeout=60)
        return merged

    # -- components

    def start_lma(self) -> None:
        static = f'static_hoa = "{STATIC_HOA}"\n' if self.mode == "relay" else ""
        cfg = self.dir / "lma.toml"
        cfg.write_text(
            f'pool = "{POOL_RANGE}"\ndefault_router = "{ROUTER}"\nmax_lifetime = 60\n'
            f'[default_profile]\nipv6 = false\ndhcp_mode = "{self.mode}"\n'
            f'[profiles."{MN_NAI}"]\nipv6 = false\ndhcp_mode = "{self.mode}"\n{static}'
            f'[profiles."{REFUSED_NAI}"]\nallowed = false\n')
        self.start("lma", "lma", PMIPVIEW, "lma", "--listen", LMA_ADDR, "--config", str(cfg),
                   "--events", "--no-live", "--log", str(self.dir / "lma.jsonl"),
                   "--pcap", str(self.dir / "lma.pcapng"))
        wait_for(lambda: "listening" in self.text("lma.err"), 30, "the LMA to listen")

    def start_dnsmasq(self) -> None:
        d = self.dir
        self.start("dnsmasq", "lma", "dnsmasq", "-k", "--conf-file=/dev/null", "--port=0",
                   "--user=root", "--interface=br0", "--dhcp-authoritative",
                   "--dhcp-range=10.50.0.0,static,255.255.0.0",
                   f"--dhcp-host={MN_MAC},{STATIC_HOA}",
                   f"--dhcp-option=option:router,{ROUTER}",
                   "--dhcp-option=option:netmask,255.255.255.0",
                   f"--dhcp-leasefile={d / 'dnsmasq.leases'}", f"--pid-file={d / 'dnsmasq.pid'}",
                   "--log-dhcp", f"--log-facility={d / 'dnsmasq.log'}")
        wait_for(lambda: "started" in self.text("dnsmasq.log"), 20, "dnsmasq to start")

    def start_mag(self, i: int) -> None:
        cfg = self.dir / f"mag{i}.toml"
        cfg.write_text(f'name = "mag{i}"\nlifetime = 12\nreregister_before = 4\n'
                       f'link_down_hold = 3\n[nai]\n"{MN_MAC}" = "{MN_NAI}"\n'
                       f'"{REFUSED_MAC}" = "{REFUSED_NAI}"\n')
        cmd = [PMIPVIEW, "mag", "--lma", LMA_ADDR, "--listen", MAG_ADDR[i], "--access", "acc0",
               "--dhcp", self.mode, "--config", str(cfg), "--events", "--no-live",
               "--log", str(self.dir / f"mag{i}.jsonl"),
               "--pcap", str(self.dir / f"mag{i}.pcapng")]
        if self.mode == "relay":
            cmd += ["--dhcp-server", LMA_ADDR, "--relay-address", RELAY_ADDR[i]]
        self.start(f"mag{i}", i, *cmd)
        wait_for(lambda: "pmipview mag" in self.text(f"mag{i}.err"), 30, f"MAG{i} to start")

    def start_mn(self, name: str = "udhcpc", *extra: str) -> subprocess.Popen:
        script = self.dir / "mn.script"
        script.write_text(MN_SCRIPT.format(log=self.mn_log))
        script.chmod(0o755)
        return self.start(name, "mn", "udhcpc", "-f", "-i", "mn0", "-s", str(script),
                          "-t", "10", "-T", "2", "-A", "2", "-p", str(self.dir / f"{name}.pid"),
                          *extra)

    def signal_mn(self, sig: int, name: str = "udhcpc") -> None:
        self.procs[name].send_signal(sig)

    # -- observations

    def mn_events(self) -> list[dict[str, str]]:
        rows = []
        for line in self.text("mn-events.log").splitlines():
            kind, *pairs = line.split()
            rows.append({"event": kind, **dict(p.split("=", 1) for p in pairs if "=" in p)})
        return rows

    def events(self, who: str) -> list[dict]:
        """The core events ``who`` printed with --events (``time kind [mn] k=v...``)."""
        rows = []
        for text in self.text(f"{who}.out").splitlines():
            words = text.split()
            if len(words) < 2 or not words[0].replace(".", "").isdigit():
                continue
            row: dict = {"kind": words[1]}
            rest = words[2:]
            if rest and "=" not in rest[0]:
                row["mn"] = rest.pop(0)
            row.update(w.split("=", 1) for w in rest if "=" in w)
            rows.append(row)
        return rows

    def transactions(self, who: str) -> list[dict]:
        """``who``'s --log (one JSON line per transaction)."""
        rows = []
        for text in self.text(f"{who}.jsonl").splitlines():
            with contextlib.suppress(ValueError):
                rows.append(json.loads(text))
        return rows

    def has_event(self, who: str, kind: str, **match: object) -> dict | None:
        for e in self.events(who):
            if e.get("kind") == kind and all(e.get(k) == v for k, v in match.items()):
                return e
        return None

    def move_link(self, to: int) -> None:
        self.sh("mn", "ip", "link", "set", f"a{3 - to}", "down")
        self.sh("mn", "ip", "link", "set", f"a{to}", "up")

    def close(self) -> None:
        for name in list(self.procs):
            with contextlib.suppress(Exception):
                self.stop(name, timeout=5)
        for f in self._files:
            with contextlib.suppress(Exception):
                f.close()
        for name in self.ns.values():
            subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=30)
