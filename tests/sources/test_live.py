"""Live capture for real: a veth pair into a network namespace, frames sent with our own
encoders from inside the namespace, ``pmipview dissect -i`` listing them as they arrive,
and Ctrl-C (SIGINT) ending with the summary.  Needs root, ``ip netns`` and tshark (and
dumpcap, the capture path; without it the tshark pipe is tested).  The waits are for
conditions (a line shown, the frames in the file, the process exited), each with a
generous deadline, never a fixed sleep."""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI") == "true"


def _cannot() -> str | None:
    if os.geteuid() != 0:
        return "live capture test needs root (network namespaces, raw sockets)"
    if shutil.which("ip") is None:
        return "iproute2 ('ip') is not installed"
    if shutil.which("tshark") is None:
        return "tshark is not installed"
    return None


@pytest.fixture
def veth():
    reason = _cannot()
    if reason:
        if IN_CI:
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    tag = uuid.uuid4().hex[:6]
    ns, here, there = f"pv{tag}", f"pva{tag}", f"pvb{tag}"
    cmds = [["ip", "netns", "add", ns],
            ["ip", "link", "add", here, "type", "veth", "peer", "name", there],
            ["ip", "link", "set", there, "netns", ns],
            ["ip", "link", "set", here, "up"],
            ["ip", "netns", "exec", ns, "ip", "link", "set", there, "up"]]
    try:
        for cmd in cmds:
            p = subprocess.run(cmd, capture_output=True, text=True)
            if p.returncode != 0:
                msg = f"cannot create the namespace ({' '.join(cmd)}): {p.stderr.strip()}"
                if IN_CI:
                    pytest.fail(msg)
                pytest.skip(msg)
        yield ns, here, there
    finally:
        subprocess.run(["ip", "link", "del", here], capture_output=True)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


SENDER = textwrap.dedent("""
    import socket, sys
    from ipaddress import IPv4Address
    from dissectors import mh_options as o
    from dissectors.dhcp import DhcpMessage
    from dissectors.dhcp_options import DhcpMessageTypeOption
    from dissectors.dhcp_codes import DhcpMessageType
    from dissectors.frame import build_frame
    from dissectors.mh import BindingAck, BindingUpdate
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((sys.argv[1], 0))
    mag, lma = IPv4Address("192.0.2.1"), IPv4Address("192.0.2.100")
    which = sys.argv[2]
    if which == "pbu":
        s.send(build_frame(1, mag, lma, BindingUpdate(4242, lifetime=150, options=(
            o.MNIdentifier.nai("live@example.net"), o.IPv4HoARequest(IPv4Address(0))))))
    elif which == "pba":
        s.send(build_frame(1, lma, mag, BindingAck(170, 4242, options=(
            o.MNIdentifier.nai("live@example.net"),))))
    else:
        s.send(build_frame(1, IPv4Address(0), IPv4Address("255.255.255.255"), DhcpMessage(
            xid=0xC0FFEE, chaddr="02:00:00:00:00:42",
            options=(DhcpMessageTypeOption(DhcpMessageType.DISCOVER),))))
""")


def _interruptible() -> None:
    """In the child: SIGINT as at a terminal, even when the tests run in the background
    (a shell starts background jobs with SIGINT ignored, and Python keeps it ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _wait_for(condition, timeout: float, what: str) -> None:
    """Wait until ``condition()`` holds (checked every 0.1 s); fail saying ``what``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"after {timeout:.0f} s: {what}")
        time.sleep(0.1)


def _frames_of(path: Path) -> list[bytes]:
    """The frames in a capture file so far (a file still being written: up to its last
    complete block)."""
    from pmipview.sources import CaptureError, open_capture

    try:
        with open_capture(str(path)) as reader:
            return [r.data for r in reader]
    except CaptureError:  # not there yet, or no complete header yet
        return []


def _send(ns: str, ifname: str, which: str) -> None:
    subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-c", SENDER, ifname, which],
                   check=True, cwd=ROOT, timeout=30)


def _read_until(proc: subprocess.Popen, needle: str, timeout: float,
                stream: str = "stdout") -> str:
    seen = ""
    deadline = time.monotonic() + timeout
    fd = getattr(proc, stream).fileno()
    while needle not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            chunk = os.read(fd, 65536).decode(errors="replace")
            if not chunk:
                break
            seen += chunk
    return seen


@pytest.mark.netns
@pytest.mark.tshark
def test_live_capture_lists_frames_as_they_arrive_and_stops_on_ctrl_c(veth):
    ns, here, there = veth
    proc = subprocess.Popen(
        [sys.executable, "-m", "pmipview", "dissect", "-i", here, "-f",
         "udp port 5436 or udp port 67 or udp port 68"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "COLUMNS": "250"}, preexec_fn=_interruptible)
    try:
        # said once the capture has its interface open; a frame sent before that is not
        # seen, so send again until the first one shows (each send waits long enough for
        # the capture to flush: dumpcap writes its file every half second)
        assert "capturing on" in _read_until(proc, "capturing on", 60, "stderr")
        out = ""
        for _ in range(6):
            _send(ns, there, "pbu")
            out += _read_until(proc, "PBU seq=4242", 10)
            if "PBU seq=4242" in out:
                break
        assert "PBU seq=4242 A P lifetime=600s MN-ID=live@example.net HoA-Req=0.0.0.0" in out
        # each later frame is listed while the capture is still running
        _send(ns, there, "pba")
        out += _read_until(proc, "status=170", 30)
        assert "PBA seq=4242 status=170 NOT_AUTHORIZED_FOR_IPV4_MOBILITY_SERVICE" in out
        _send(ns, there, "dhcp")
        out += _read_until(proc, "DISCOVER", 30)
        assert "DHCP DISCOVER xid=0x00c0ffee chaddr=02:00:00:00:00:42" in out
        assert proc.poll() is None  # still capturing
        # a frame sent just before Ctrl-C is in the kernel or dumpcap's file, not yet
        # listed: the capture is drained before the summary, so it is listed too
        listed = out.count("PBU seq=4242")
        _send(ns, there, "pbu")
        proc.send_signal(signal.SIGINT)
        rest, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    out += rest.decode()
    assert proc.returncode == 0, err.decode()
    assert out.count("PBU seq=4242") == listed + 1, out
    assert "frames read" in out and "PBA" in out
    assert "Traceback" not in err.decode()


@pytest.mark.netns
@pytest.mark.tshark
def test_live_capture_on_a_missing_interface_is_one_clear_line(veth):
    p = subprocess.run([sys.executable, "-m", "pmipview", "dissect", "-i", "nonexistent0",
                        "-c", "1"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert p.returncode == 1
    assert "nonexistent0" in p.stderr and "Traceback" not in p.stderr


def test_sender_socket_family_is_available():
    # the live test relies on AF_PACKET (Linux): say so plainly where it is missing
    assert hasattr(socket, "AF_PACKET") or sys.platform != "linux"


@pytest.mark.netns
@pytest.mark.tshark
def test_live_timeline_equals_the_file_timeline_of_what_it_wrote(veth, tmp_path):
    """tcpreplay plays a sample into the veth; ``pmipview live`` ends (SIGINT) with the
    timeline JSON, which must equal ``pmipview timeline`` of its own --write file."""
    if shutil.which("tcpreplay") is None:
        if IN_CI:
            pytest.fail("CI=true but tcpreplay is not installed (make net-tools)")
        pytest.skip("tcpreplay is not installed")
    ns, here, there = veth
    written = tmp_path / "seen.pcapng"
    tour = ROOT / "samples" / "tour.pcap"
    sent = set(_frames_of(tour))
    proc = subprocess.Popen(
        [sys.executable, "-m", "pmipview", "live", "-i", here, "--json", "--no-dashboard",
         "--write", str(written), "--duration", "300"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=_interruptible)
    try:
        # said once the capture has its interface open and its file written: capturing
        assert "capturing on" in _read_until(proc, "capturing on", 60, "stderr")
        subprocess.run(["ip", "netns", "exec", ns, "tcpreplay", "-q", "-i", there, "--pps",
                        "400", str(tour)], check=True, capture_output=True, timeout=60)
        # every frame sent is in the capture file, then Ctrl-C: live reads the file to its
        # end before it answers, so its timeline is the file's
        _wait_for(lambda: sent <= set(_frames_of(written)), 120,
                  "the frames replayed did not all reach the capture file")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err.decode()
    live = json.loads(out)
    assert len(live["mobile_nodes"]) == 3, live
    file = subprocess.run([sys.executable, "-m", "pmipview", "timeline", str(written),
                           "--json"], cwd=ROOT, capture_output=True, timeout=120)
    assert file.returncode == 0, file.stderr
    assert json.loads(file.stdout)["mobile_nodes"] == live["mobile_nodes"]
