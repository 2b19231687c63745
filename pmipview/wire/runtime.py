"""Run one sans-IO core on real sockets: the I/O half of the agents.

The runtime holds no protocol logic.  It owns a monotonic clock, the transports and a
selector, and does four things in a loop:

- waits until a transport is readable or the core's ``next_timer()`` is due;
- gives each decoded datagram to ``core.receive(now, packet)``;
- calls ``core.timer(now)`` when the timer is due;
- sends each :class:`~pmipview.agents.base.Send` output on the transport that
  :meth:`accepts` it, and hands every output, datagram and undecodable input to its
  observers (logs, captures, live tables, counters).

The simulator drives the very same cores on a virtual clock.  Signals (SIGHUP, SIGTERM,
SIGINT) wake the loop through ``signal.set_wakeup_fd`` and run their handlers between
datagrams, never in the middle of a core call.
"""

from __future__ import annotations

import gc
import selectors
import signal
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from pmipview.agents.base import Event, Output, Packet, Send
from pmipview.wire.codec import Undecodable
from pmipview.wire.transport import BATCH, Datagram, Decoded

CHUNK = 64  # datagrams whose answers leave together (the fast path's reads)


class Transport(Protocol):
    name: str
    send_errors: int

    def fileno(self) -> int: ...
    def receive(self, limit: int = ...) -> list[Decoded]: ...
    def accepts(self, packet: Packet) -> bool: ...
    def send(self, packet: Packet) -> Datagram | None: ...
    def close(self) -> None: ...


@dataclass(slots=True)
class Counters:
    received: int = 0          # datagrams read
    delivered: int = 0         # given to the core
    sent: int = 0
    send_errors: int = 0
    unroutable: int = 0        # a Send no transport accepts
    undecodable: Counter[str] = field(default_factory=Counter)   # reason -> count
    events: Counter[str] = field(default_factory=Counter)        # kind -> count
    core_errors: int = 0       # a core raised (a bug): the datagram is dropped, we go on
    observer_errors: int = 0   # a log, capture or table failed (a full disk): counted
    fast: int = 0              # answered by the core's fast path (no decode, no Packet)
    shed: int = 0              # PBUs dropped unread: they waited longer than shed_after


class Runtime:
    """Drive ``core`` (anything with ``receive``, ``timer``, ``next_timer``) on sockets.

    ``fast_path``: when the core has one (``enable_fast_path()``, the LMA's refresh
    templates and object-free slow path) and no observer looks at single messages
    (``on_receive``, ``on_send``, ``on_event``), the PBUs it knows are answered from
    bytes; each one still counts as received, delivered, sent and as its event (``kind``:
    ``refreshed``, ``registered``, ...).  ``shed_after``: PBUs that
    waited longer than that many seconds in a socket buffer are dropped and counted."""

    def __init__(self, core: Any, transports: Iterable[Transport], *,
                 clock: Callable[[], float] = time.monotonic,
                 observers: Iterable[object] = (), fast_path: bool = False,
                 shed_after: float | None = None) -> None:
        self.core = core
        self.transports = list(transports)
        self.clock = clock
        self.observers = list(observers)
        self.counters = Counters()
        self._sel = selectors.DefaultSelector()
        for t in self.transports:
            self._sel.register(t.fileno(), selectors.EVENT_READ, t)
        self._readers: dict[int, Callable[[], None]] = {}
        self._stopping = False
        self._signals: dict[int, Callable[[int], None]] = {}
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._old_wakeup = -1
        self._fast_wanted = fast_path
        self._fast: Any = None
        self._tables: dict[int, Any] = {}
        self._bind_observers()
        if shed_after is not None:
            for t in self.transports:
                shed = getattr(t, "shed_older_than", None)
                if shed is not None:
                    shed(shed_after)

    def _bind_observers(self) -> None:
        self._on_receive = [o.on_receive for o in self.observers if hasattr(o, "on_receive")]
        self._on_send = [o.on_send for o in self.observers if hasattr(o, "on_send")]
        self._on_event = [o.on_event for o in self.observers if hasattr(o, "on_event")]
        self._on_tick = [o.on_tick for o in self.observers if hasattr(o, "on_tick")]
        watched = self._on_receive or self._on_send or self._on_event
        # where a Send goes: the first transport that accepts it; without an observer of
        # sends, its ``deliver`` (no Datagram built: 2 µs a PBA) where it has one
        self._routes = [(t.accepts, t.send if self._on_send else getattr(t, "deliver", t.send))
                        for t in self.transports]
        enable = getattr(self.core, "enable_fast_path", None)
        if self._fast_wanted and not watched and enable is not None:
            self._fast = enable()
            self._tables = {id(t): self._fast.table() for t in self.transports
                            if hasattr(t, "receive_raw") and not getattr(t, "_wild", True)}
        else:
            self._fast = None

    def add_observer(self, observer: object) -> None:
        self.observers.append(observer)
        self._bind_observers()

    # -- extra inputs -------------------------------------------------------------------

    def add_reader(self, fd: int, callback: Callable[[], None]) -> None:
        """Call ``callback()`` when ``fd`` is readable (access sockets, netlink, stdin)."""
        self._readers[fd] = callback
        self._sel.register(fd, selectors.EVENT_READ, None)

    def on_signal(self, signum: int, handler: Callable[[int], None]) -> None:
        """Run ``handler(signum)`` from the loop (not from inside a core call)."""
        if self._wake_r is None:
            self._wake_r, self._wake_w = socket.socketpair()
            self._wake_r.setblocking(False)
            self._wake_w.setblocking(False)
            self._old_wakeup = signal.set_wakeup_fd(self._wake_w.fileno())
            self._sel.register(self._wake_r.fileno(), selectors.EVENT_READ, None)
            self._readers[self._wake_r.fileno()] = self._drain_signals
        self._signals[signum] = handler
        signal.signal(signum, lambda *_: None)

    def _drain_signals(self) -> None:
        assert self._wake_r is not None
        try:
            data = self._wake_r.recv(64)
        except BlockingIOError:
            return
        for signum in data:
            handler = self._signals.get(signum)
            if handler is not None:
                self._observe(handler, signum)

    def call(self, fn: Callable[[float], list[Output]]) -> list[Output]:
        """Feed the core an event of the caller's (``lambda now: mag.link_up(now, ...)``)."""
        now = self.clock()
        try:
            outputs = fn(now)
        except Exception:
            self.counters.core_errors += 1
            return []
        self._handle(now, outputs)
        return outputs

    def stop(self) -> None:
        self._stopping = True

    # -- the loop -----------------------------------------------------------------------

    def run(self, duration: float | None = None, until: Callable[[], bool] | None = None,
            tick: float = 0.5) -> None:
        """Loop until :meth:`stop`, ``duration`` seconds, or ``until()`` is true.
        Observers' ``on_tick(now)`` run about every ``tick`` seconds (live tables).

        Each round: the clock, the due timers, one wait for input (the very order of
        :meth:`step`: what was read is handled before the timers of the next round look at
        the clock), and one ``next_timer()`` per round (a round of ``step`` asks twice)."""
        clock, next_timer = self.clock, self.core.next_timer
        end = None if duration is None else clock() + duration
        next_tick = clock() + tick
        self._stopping = False
        while not self._stopping:
            now = clock()
            if now >= next_tick:
                next_tick = now + tick
                for f in self._on_tick:
                    self._observe(f, now)
                # What survived a tick (the binding cache, the pool) is long-lived: out of
                # the cyclic collector's sight, so that its full collections stay short
                # while the cache grows (with 100,000 bindings one took ~150 ms, a stall
                # of every answer).  The cores make no reference cycles on their paths
                # (0 objects collected by those collections); refcounting frees the rest.
                gc.freeze()
            if end is not None and now >= end:
                break
            if until is not None and until():
                break
            due = next_timer()
            if due is not None and due <= now:
                due = self._due_timers(due, now)
                now = clock()
            deadline = next_tick
            if due is not None and due < deadline:
                deadline = due
            if end is not None and end < deadline:
                deadline = end
            self._poll(max(0.0, deadline - now))

    def _observe(self, f: Callable[..., Any], *args: Any) -> None:
        try:
            f(*args)
        except Exception:  # an observer must not stop the node (a full disk, a bug)
            self.counters.observer_errors += 1

    def step(self, timeout: float | None = 0.0) -> None:
        """One round: wait up to ``timeout`` for input, handle it, run due timers."""
        self._poll(timeout)
        self._timers()

    def _poll(self, timeout: float | None) -> None:
        """Wait up to ``timeout`` for input and handle what came."""
        for key, _ in self._sel.select(timeout):
            transport = key.data
            if transport is None:
                self._observe(self._readers[key.fd])
            else:
                self._read(transport)

    def _read(self, transport: Transport) -> None:
        table = self._tables.get(id(transport)) if self._fast is not None else None
        shed = getattr(transport, "shed", 0)
        if table is not None:
            self._read_fast(transport, table)
        else:
            self._read_decoded(transport)
        if shed != getattr(transport, "shed", 0):
            self.counters.shed += transport.shed - shed  # type: ignore[attr-defined]

    def _read_fast(self, transport: Any, table: Any) -> None:
        """(``transport``: a signaling transport, with ``receive_raw``, ``packet``,
        ``reply`` and ``begin_batch``/``flush``.)  Chunks of up to ``CHUNK`` datagrams, up
        to ``BATCH`` in all; each datagram in order: the fast path's answer, or the slow
        path (decode, core, encode) after which the fast path may learn the answer.  The
        answers to a chunk leave together when it is done (one ``sendmmsg`` when compiled);
        a send that fails then is taken back from ``sent`` into ``send_errors``."""
        c = self.counters
        for _ in range(BATCH // CHUNK):
            got = transport.receive_raw(CHUNK)
            if not got:
                return
            transport.begin_batch()
            try:
                self._answer(transport, table, got)
            finally:
                failed = transport.flush()
                if failed:
                    c.sent -= failed
                    c.send_errors += failed
            if len(got) < CHUNK:
                return

    def _answer(self, transport: Any, table: Any, got: list[Any]) -> None:
        """Each datagram of a chunk: the fast path's answer, else the full way.  A fast
        path's ``serve`` (the LMA's object-free slow path as well as its refresh
        templates) names each answer's event in ``kind`` and the outputs that follow it in
        ``extra`` (a handoff's BRI), and may answer with nothing to send (a BRA taken)."""
        now = self.clock()
        c = self.counters
        c.received += len(got)
        fast = self._fast
        serve, reply = fast.serve, transport.reply
        events = c.events
        hits = replies = refused = 0   # the fast path's, counted once a chunk
        try:
            for payload, peer, dst in got:
                try:
                    pba = serve(now, table, peer, payload, dst)
                except Exception:
                    c.core_errors += 1
                    continue
                if pba is not None:
                    hits += 1
                    if pba:
                        replies += 1
                        if not reply(pba, peer):
                            refused += 1
                    events[fast.kind] += 1
                    if fast.extra:
                        self._handle(now, fast.extra)
                    continue
                packet = transport.packet(payload, peer, dst)
                if isinstance(packet, Undecodable):
                    c.undecodable[packet.reason.split(":")[0]] += 1
                    continue
                c.delivered += 1
                try:
                    outputs = self.core.receive(now, packet)
                except Exception:
                    c.core_errors += 1
                    continue
                if outputs:
                    self._handle(now, outputs)
                if fast.offer is not None:
                    fast.learn(table, peer, payload)
        finally:
            if hits:
                c.delivered += hits
                c.fast += hits
                c.sent += replies - refused
                c.send_errors += refused

    def _read_decoded(self, transport: Transport) -> None:
        got = transport.receive()
        if not got:
            return
        now = self.clock()
        c = self.counters
        c.received += len(got)
        receive = self.core.receive
        for datagram, packet in got:
            for f in self._on_receive:
                self._observe(f, now, datagram, packet)
            if isinstance(packet, Undecodable):
                c.undecodable[packet.reason.split(":")[0]] += 1
                continue
            c.delivered += 1
            try:
                outputs = receive(now, packet)
            except Exception:
                c.core_errors += 1
                continue
            if outputs:
                self._handle(now, outputs)

    def _timers(self) -> None:
        self._due_timers(self.core.next_timer(), self.clock())

    def _due_timers(self, due: float | None, now: float) -> float | None:
        """Run the core's timers due by ``now``; its next ``next_timer()``."""
        while due is not None and due <= now:
            try:
                outputs = self.core.timer(now)
            except Exception:
                self.counters.core_errors += 1
                return due
            self._handle(now, outputs)
            nxt = self.core.next_timer()
            if nxt is not None and nxt <= due:
                return nxt  # a core that keeps asking for the same instant: wait for input
            due = nxt
        return due

    def _handle(self, now: float, outputs: list[Output]) -> None:
        c = self.counters
        for out in outputs:
            if isinstance(out, Send):
                packet = out.packet
                for accepts, send in self._routes:
                    if accepts(packet):
                        datagram = send(packet)
                        if datagram is None:
                            c.send_errors += 1
                        else:
                            c.sent += 1
                            if self._on_send:
                                sent_at = self.clock()
                                for f in self._on_send:
                                    self._observe(f, sent_at, datagram, packet)
                        break
                else:
                    c.unroutable += 1
            elif isinstance(out, Event):
                c.events[out.kind] += 1
                for f in self._on_event:
                    self._observe(f, now, out)

    def close(self) -> None:
        for t in self.transports:
            t.close()
        if self._wake_r is not None:
            signal.set_wakeup_fd(self._old_wakeup)
            self._wake_r.close()
            assert self._wake_w is not None
            self._wake_w.close()
        self._sel.close()
