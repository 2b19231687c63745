"""The I/O half of ``pmipview load``: sockets, the loop, keys, signals, the pcap sample.

One socket per MAG address (a :mod:`pmipview.wire.transport` transport, so opening fails
with the same one-line errors as the agents), one epoll, one monotonic clock.  Each turn
of the loop sends what :class:`~pmipview.load.core.LoadCore` says is due, reads every
datagram that is waiting (raw bytes: the core reads PBAs in place, see
:mod:`pmipview.load.wire`), closes a statistics row every interval and refreshes the
live panel.  It never blocks longer than the next scheduled PBU, retransmission, row or
panel refresh.  With a PBU due soon it sleeps without watching the sockets (at least
``TICK``): answers wait in the socket buffer with their kernel arrival stamps, which
end their RTT (docs/load.md, "Pacing").

SIGINT/SIGTERM stop at once (the summary is still printed); ``q`` stops sending and
waits for the outstanding answers (up to the drain time).
"""

from __future__ import annotations

import contextlib
import gc
import os
import resource
import select
import signal
import socket
import struct
import sys
import time
from collections.abc import Callable
from ipaddress import IPv4Address, IPv6Address

from dissectors.link import LinkType
from dissectors.mh_codes import PMIP6_CNTL_PORT
from pmipview.load.core import LoadCore
from pmipview.load.stats import Row
from pmipview.sources.records import Record
from pmipview.wire.codec import as_frame
from pmipview.wire.transport import MhTransport, Udp4Transport

RECV_BATCH = 512      # rounds of reading (one datagram per ready socket each) per turn
RECV_SIZE = 4096      # PBAs are ~100 bytes; a larger datagram is cut and counted garbled
TICK = 0.0005         # the shortest sleep between turns: at high rates, batches of PBUs
BLIND_MAX = 0.02      # sleep this long at most without watching the sockets
# SO_TIMESTAMPNS (Linux; the socket module does not name it): each datagram's arrival
# time (struct timespec, wall clock) as ancillary data
_SO_TIMESTAMPNS = 35 if sys.platform.startswith("linux") else None
_CMSG = socket.CMSG_SPACE(16)
_TIMESPEC = struct.Struct("@qq").unpack
PCAP_MAX_FRAMES = 200_000   # the sample held for --pcap is bounded


class PcapSample:
    """Frames of the sampled MNs (``mn % every == 0``), both directions, up to a cap."""

    def __init__(self, locals_: list, target: IPv4Address | IPv6Address,
                 ports: list[int | None], dport: int | None, every: int) -> None:
        self.locals = locals_
        self.target = target
        self.ports = ports
        self.dport = dport
        self.every = every
        self.records: list[Record] = []
        self.dropped = 0
        self._wall0 = time.time_ns()
        self._mono0 = time.monotonic()

    def __call__(self, now: float, mag: int, outgoing: bool, payload: bytes, mn: int) -> None:
        if len(self.records) >= PCAP_MAX_FRAMES:
            self.dropped += 1
            return
        local, port = self.locals[mag], self.ports[mag]
        if outgoing:
            data = as_frame(local, self.target, payload, port, self.dport)
        else:
            data = as_frame(self.target, local, payload, self.dport, port)
        ts = self._wall0 + int((now - self._mono0) * 1e9)
        self.records.append(Record(len(self.records) + 1, ts, LinkType.RAW, data, 0,
                                   len(data)))


class Driver:
    def __init__(self, core: LoadCore, transports: list[Udp4Transport | MhTransport],
                 target: IPv4Address | IPv6Address, port: int = PMIP6_CNTL_PORT, *,
                 interval: float = 1.0, on_row: Callable[[Row], None] | None = None,
                 panel: Callable[[float], None] | None = None, panel_every: float = 1.0,
                 keys: bool = False, clock: Callable[[], float] = time.monotonic) -> None:
        self.core = core
        self.transports = transports
        self.udp = isinstance(target, IPv4Address)
        self.dest = (str(target), port) if self.udp else (str(target), 0)
        self.interval = interval
        self.on_row = on_row
        self.panel = panel
        self.panel_every = panel_every
        self.keys = keys
        self.clock = clock
        self.interrupted = False
        self._socks = [t.sock for t in transports]
        for sock in self._socks:
            # connected: no address to parse per send, and the kernel drops datagrams
            # from anyone but the target (what the source check would do, for free)
            sock.connect(self.dest)
        self.send_errors = 0
        self.refused = 0        # ICMP errors: the target's port or host unreachable
        self.cpu_s = 0.0        # user + system CPU time of the loop (start-up excluded)
        self._stamped = False   # the kernel stamps arrivals (see _stamps)
        self._offset = 0.0      # wall clock - monotonic clock

    # -- keys and signals ---------------------------------------------------------------

    def key(self, now: float, ch: str) -> None:
        """SIPp's keys: + - (10 %), * / (2×), p (pause/resume), q (stop cleanly)."""
        core = self.core
        factor = {"+": 1.1, "-": 1 / 1.1, "*": 2.0, "/": 0.5}.get(ch)
        if factor is not None:
            core.set_rate(now, core.rate * factor)
        elif ch == "p":
            core.pause(now, not core.paused)
        elif ch == "q":
            core.stop(now)

    def _on_signal(self, signum: int, frame: object) -> None:
        self.interrupted = True

    # -- the loop -----------------------------------------------------------------------

    def run(self) -> None:
        ep = select.epoll()
        fds: dict[int, int] = {}
        for i, t in enumerate(self.transports):
            fds[t.fileno()] = i
            ep.register(t.fileno(), select.EPOLLIN)
        stdin = -1
        old_tty = None
        if self.keys:
            stdin, old_tty = _cbreak()
            if stdin >= 0:
                ep.register(stdin, select.EPOLLIN)
        old = {s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        # The loop's objects hold no cycles; a full collection over 100,000 MNs' state
        # would stall it for tens of ms (p99 spikes), so the cyclic GC waits till the end.
        gc_was = gc.isenabled()
        gc.freeze()
        gc.disable()
        before = resource.getrusage(resource.RUSAGE_SELF)
        try:
            self._loop(ep, fds, stdin)
        finally:
            after = resource.getrusage(resource.RUSAGE_SELF)
            self.cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            if gc_was:
                gc.enable()
            for s, h in old.items():
                signal.signal(s, h)
            if old_tty is not None:
                _restore(stdin, old_tty)
            ep.close()

    def _loop(self, ep: select.epoll, fds: dict[int, int], stdin: int) -> None:
        core = self.core
        clock = self.clock
        send = self._send
        read = self._read
        sleep = time.sleep
        blind_ok = self._stamps()
        now = clock()
        core.begin(now)
        next_row = now + self.interval
        next_panel = now
        while True:
            if self.interrupted:
                core.stop(clock())
                break
            now = clock()
            outs = core.poll(now)
            if outs:
                send(outs)
            read(ep, fds, stdin)
            if core.finished(now):
                break
            if now >= next_row:
                row = core.close_interval(now)
                if self.on_row is not None:
                    self.on_row(row)  # type: ignore[arg-type]
                next_row += self.interval
                if next_row <= now:
                    next_row = now + self.interval
                if blind_ok:
                    self._offset = _realtime_offset()
            if self.panel is not None and now >= next_panel:
                self.panel(now)
                next_panel = now + self.panel_every
            wake = min(core.next_timer(now), next_row,
                       next_panel if self.panel is not None else next_row)
            delay = wake - clock()
            if delay <= 0:
                continue   # behind the schedule: no sleep
            if blind_ok and delay <= BLIND_MAX and not (core.blocked or core.stopping):
                # a PBU is due soon: sleep to it without watching the sockets, at least
                # TICK; what arrives meanwhile is read on waking, with its kernel stamp
                sleep(delay if delay > TICK else TICK)
            else:
                ep.poll(delay)   # wake on an answer (it may unblock or end the run)
        now = clock()
        if not core.stats.rows or now - core.start - core.stats.rows[-1].t > 0.05:
            row = core.close_interval(now)
            if self.on_row is not None:
                self.on_row(row)  # type: ignore[arg-type]

    def _stamps(self) -> bool:
        """Ask the kernel to stamp each datagram's arrival (SO_TIMESTAMPNS), so an RTT
        ends when the PBA arrived, not when the loop read it.  Only with the monotonic
        clock (the stamps are wall-clock time, converted); False when unavailable."""
        if self.clock is not time.monotonic or _SO_TIMESTAMPNS is None:
            return False
        try:
            for sock in self._socks:
                sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
        except OSError:
            return False
        self._offset = _realtime_offset()
        self._stamped = True
        return True

    def _read(self, ep: select.epoll, fds: dict[int, int], stdin: int) -> None:
        """Read what is waiting: rounds of ``epoll(0)``, one datagram per ready socket per
        round (an empty socket costs no failed read), until none is ready."""
        receive = self.core.receive
        socks = self._socks
        stamped = self._stamped
        offset = self._offset
        replies: list = []
        first = True
        for _ in range(RECV_BATCH):
            events = ep.poll(0)
            if not events:
                break
            for fd, _ev in events:
                if fd == stdin:
                    self._read_keys(stdin)
                    continue
                mag = fds[fd]
                try:
                    if stamped:
                        payload, anc, _flags, _peer = socks[mag].recvmsg(RECV_SIZE, _CMSG)
                    else:
                        payload = socks[mag].recv(RECV_SIZE)
                        anc = None
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:   # an ICMP error (ECONNREFUSED: nobody at the target port)
                    self.refused += 1
                    continue
                if anc:
                    sec, ns = _TIMESPEC(anc[0][2])
                    at = sec - offset + ns * 1e-9
                    if first:   # the oldest of this read: how late the loop got to it
                        first = False
                        self.core.stats.read_delay.record(
                            int((self.clock() - at) * 1_000_000))
                else:
                    at = self.clock()
                out = receive(at, mag, payload)
                if out:
                    replies.extend(out)
        if replies:
            self._send(replies)

    def _send(self, outs: list) -> None:
        socks = self._socks
        for mag, payload, _mn in outs:
            try:
                socks[mag].send(payload)
            except OSError:   # a full socket buffer or no route: the PBU is retransmitted
                self.send_errors += 1
                self.core.stats.totals.send_errors += 1

    def _read_keys(self, fd: int) -> None:
        try:
            data = os.read(fd, 64)
        except OSError:
            return
        now = self.clock()
        for ch in data.decode("ascii", "replace"):
            self.key(now, ch)


def _realtime_offset() -> float:
    """time.time() - time.monotonic(), read between two monotonic readings."""
    a = time.monotonic()
    wall = time.time()
    b = time.monotonic()
    return wall - (a + b) / 2


def _cbreak() -> tuple[int, list | None]:
    """stdin in cbreak mode (a key without Enter), when it is a terminal."""
    try:
        import termios
        import tty
    except ImportError:  # pragma: no cover - not on Linux
        return -1, None
    fd = sys.stdin.fileno() if sys.stdin is not None else -1
    if fd < 0 or not os.isatty(fd):
        return -1, None
    old = termios.tcgetattr(fd)
    tty.setcbreak(fd)
    return fd, old


def _restore(fd: int, old: list) -> None:
    import termios
    with contextlib.suppress(OSError, termios.error):
        termios.tcsetattr(fd, termios.TCSADRAIN, old)
