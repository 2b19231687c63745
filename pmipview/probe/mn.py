"""The mobile node of ``pmipview probe --mag``: a real DHCP client (busybox ``udhcpc``)
in a network namespace on the MAG's access link, driven by the driver's :class:`Mn`
steps.  Its event script configures the interface like a real client and prints one JSON
line per event (``bound``, ``renew``, ``deconfig``, ``leasefail``, ``nak``), which become
:class:`MnEvent` s for the checks.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile

from pmipview.probe.driver import Mn, MnEvent

SCRIPT = """#!/bin/sh
printf '{"event":"%s","ip":"%s","mask":"%s","router":"%s","serverid":"%s","lease":"%s"}\\n' \\
  "$1" "$ip" "$mask" "$router" "$serverid" "$lease"
case "$1" in
  deconfig)
    ip -4 addr show dev "$interface" | grep -q inet && sleep 1
    ip -4 addr flush dev "$interface" ;;
  bound|renew)
    ip -4 addr flush dev "$interface"
    ip addr add "$ip/$mask" dev "$interface"
    [ -n "$router" ] && ip route replace default via "${router%% *}" dev "$interface" ;;
esac
exit 0
"""


class MnError(Exception):
    """The DHCP client cannot be run; one line for the user."""


class DhcpClientMn:
    """``udhcpc`` in namespace ``netns`` (None: this one) on ``iface``."""

    def __init__(self, netns: str | None, iface: str) -> None:
        if shutil.which("udhcpc") is None:
            raise MnError("the MAG probe needs busybox udhcpc (make net-tools)")
        self.netns, self.iface = netns, iface
        self._dir = tempfile.mkdtemp(prefix="pvprobe-mn-")
        self.script = os.path.join(self._dir, "udhcpc.script")
        with open(self.script, "w") as fh:
            fh.write(SCRIPT)
        os.chmod(self.script, 0o755)
        self.proc: subprocess.Popen | None = None
        self._buf = b""

    def fileno(self) -> int | None:
        return self.proc.stdout.fileno() if self.proc is not None and self.proc.stdout \
            else None

    def do(self, step: Mn) -> None:
        if step.action == "start":
            self.stop()
            cmd = ["udhcpc", "-f", "-i", self.iface, "-s", self.script, "-t", "10", "-T",
                   "2", "-A", "2", *step.args]
            if self.netns:
                cmd = ["ip", "netns", "exec", self.netns, *cmd]
            self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                         stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        elif step.action == "release" and self.proc is not None:
            self.proc.send_signal(signal.SIGUSR2)  # udhcpc: release the lease
        elif step.action == "stop":
            self.stop()

    def read(self) -> list[MnEvent]:
        """The events the client printed since the last call (call when readable)."""
        if self.proc is None or self.proc.stdout is None:
            return []
        chunk = os.read(self.proc.stdout.fileno(), 65536)
        if not chunk:
            self.proc.wait()
            self.proc = None
            return [MnEvent("exited")]
        self._buf += chunk
        *lines, self._buf = self._buf.split(b"\n")
        events = []
        for line in lines:
            with contextlib.suppress(ValueError, AttributeError):
                data = json.loads(line)
                events.append(MnEvent(str(data.pop("event")), {k: str(v) for k, v in
                                                               data.items()}))
        return events

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)
