"""The probe's sans-IO driver: it plays one or more MAGs and runs the catalog's checks.

A check is a generator (see :mod:`pmipview.probe.catalog`) that yields steps and gets the
answers back:

- :class:`Ask` — send a message from a MAG socket and wait for an answer of the given
  kinds, retransmitting as a MAG does (RFC 6275 §11.8 / RFC 5213 §6.9.4: an initial
  timeout, ``InitialBindackTimeoutFirstReg`` = 1 s, doubled after each try, at most
  ``tries`` transmissions — 3 by default); ``None`` when nothing came;
- :class:`Listen` — wait up to ``wait`` seconds for a message of the given kinds that
  arrived (or arrives) on a MAG socket during the check.

and finally returns a :class:`Verdict`.  The driver is driven like the agents' cores
(``start(now)``, ``receive(now, packet)``, ``timer(now)`` at ``next_timer()``) and
returns :class:`Transmission` s for the runner to put on the wire.  It numbers every
datagram it sends or is given, in call order, so the runner's ``--pcap`` frames carry
the same numbers as the verdicts, and it names each frame after its check.

Like a MAG it answers what the LMA asks on its own: a BRI with a BRA (success, RFC 5846
§6.2) and a Heartbeat request with a response (RFC 5847).  Those messages are still
shown to the current check (the handoff check observes the revocation).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field
from ipaddress import IPv4Address
from typing import Any

from dissectors.mh import (
    BindingAck,
    BindingError,
    BindingRevocation,
    Heartbeat,
    MobilityMessage,
)
from dissectors.mh_codes import BR_FLAG_BITS, PMIP6_CNTL_PORT, BAStatus, BRAStatus, BRType, HBFlag
from dissectors.mh_options import MNIdentifier
from pmipview.agents.base import Address, Packet
from pmipview.wire.codec import Undecodable

PASS, FAIL, SKIP, ERROR = "PASS", "FAIL", "SKIP", "ERROR"
VERDICTS = (PASS, FAIL, SKIP, ERROR)


@dataclass(frozen=True, slots=True)
class Ask:
    """Send ``message`` from MAG ``mag`` (socket ``sock``) and wait for one of ``kinds``.

    ``tries`` None uses the driver's retransmission policy; ``wait`` fixes the timeout of
    a single try (silence checks).  ``raw`` is sent instead of the encoded message (a
    deliberately bad checksum).  ``since_send`` False also accepts a matching message
    that arrived earlier in the check.
    """

    mag: int
    message: MobilityMessage
    kinds: tuple[type, ...]
    tries: int | None = None
    wait: float | None = None
    sock: str = "main"
    raw: bytes | None = None
    note: str = ""
    reply_sock: str | None = None  # where the answer is expected (default: ``sock``)


@dataclass(frozen=True, slots=True)
class Listen:
    mag: int
    kinds: tuple[type, ...]
    wait: float
    sock: str = "main"
    where: Callable[[MobilityMessage], bool] | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    """Send ``message`` back to where ``to`` came from (the probe playing the LMA)."""

    to: Packet
    message: MobilityMessage
    note: str = ""


@dataclass(frozen=True, slots=True)
class Mn:
    """Tell the runner to act as the mobile node: ``start`` / ``release`` / ``stop`` its
    DHCP client (``args``: extra client options)."""

    action: str
    args: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MnEvent:
    """What the mobile node's DHCP client reported (``bound``, ``leasefail``...)."""

    kind: str
    data: dict[str, str] = field(default_factory=dict, hash=False)


Step = Ask | Listen | Answer | Mn


@dataclass(frozen=True, slots=True)
class Reply:
    """What answered a step: the message, how it travelled, its frame number."""

    message: MobilityMessage
    packet: Packet
    frame: int


@dataclass(frozen=True, slots=True)
class Verdict:
    status: str
    expected: str = ""
    observed: str = ""
    reason: str = ""


def passed(observed: str = "") -> Verdict:
    return Verdict(PASS, observed=observed)


def failed(expected: str, observed: str) -> Verdict:
    return Verdict(FAIL, expected, observed)


def skipped(reason: str) -> Verdict:
    return Verdict(SKIP, reason=reason)


class NoAnswer(Exception):
    """Raised inside a check by ``ctx.ask`` when a request got no answer: ERROR."""


class Stop(Exception):
    """Raised inside a check to end it at once with ``verdict``."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(verdict.status)
        self.verdict = verdict


Check = Generator[Step, Reply | None, Verdict]


@dataclass(slots=True)
class Result:
    """One check's outcome, with the frames (numbers) it sent and received."""

    case: Any  # catalog.Case
    verdict: Verdict
    frames: list[int] = field(default_factory=list)
    duration: float = 0.0

    @property
    def status(self) -> str:
        return self.verdict.status


@dataclass(frozen=True, slots=True)
class Transmission:
    """A datagram to send: ``frame`` is its number, ``comment`` names the check."""

    frame: int
    packet: Packet
    comment: str
    raw: bytes | None = None


@dataclass(frozen=True, slots=True)
class Timing:
    """Retransmission policy (RFC 6275 §11.8 / RFC 5213 §6.9.4) and silence window."""

    initial: float = 1.0   # InitialBindackTimeoutFirstReg
    tries: int = 3         # transmissions before giving up: 1 s + 2 s + 4 s
    silence: float = 1.5   # how long "no answer" must last to count as ignored

    def total(self) -> float:
        return sum(self.initial * 2 ** i for i in range(self.tries))


DEFAULT_TIMING = Timing()


@dataclass(slots=True)
class _Inbox:
    frame: int
    packet: Packet
    sock: str
    used: bool = False


@dataclass(slots=True)
class _Wait:
    step: Step
    deadline: float
    timeout: float
    sent: int           # transmissions so far (0 for Listen)
    after: int          # inbox index from which answers count
    frame: int = 0      # frame of the last transmission
    candidate: Reply | None = None  # an answer whose sequence number does not match


class Driver:
    """Runs ``cases`` one after the other against ``target``; see the module docstring.

    ``mags`` are the local addresses the probe sends from (MAG 0, MAG 1...); ``sockets``
    names the extra sockets the runner opened (``"alt"``: the same address, another UDP
    port; ``"5436"``: the same address, port 5436; ``"bad"``: a raw MH socket whose
    checksum the kernel does not fill in).  ``ctx_factory(driver, case)`` builds what a
    check reads (the catalog's ``Ctx``).
    """

    def __init__(self, cases: Iterable[Any], target: Address, mags: list[Address],
                 ctx_factory: Callable[[Driver, Any], Any], *, port: int = PMIP6_CNTL_PORT,
                 timing: Timing = DEFAULT_TIMING, sockets: frozenset[str] = frozenset(),
                 wall_offset: float | None = None) -> None:
        self.cases = list(cases)
        self.target = target
        self.mags = mags
        self.port = port
        self.timing = timing
        self.sockets = frozenset({"main"}) | sockets
        self.wall_offset = time.time() - time.monotonic() if wall_offset is None \
            else wall_offset
        self.results: list[Result] = []
        self.nais: set[str] = set()  # the MNs the checks used (their BRIs are answered)
        self.check_nais: set[str] = set()  # the current check's MNs
        self.now = 0.0
        self._ctx_factory = ctx_factory
        self._index = -1
        self._gen: Check | None = None
        self._ctx: Any = None
        self._wait: _Wait | None = None
        self._inbox: list[_Inbox] = []
        self._frames: list[int] = []
        self._frame = 0
        self._started = 0.0
        self._out: list[Transmission] = []

    @property
    def transport(self) -> str:
        return "udp4" if isinstance(self.target, IPv4Address) else "ipv6"

    @property
    def done(self) -> bool:
        return self._index >= len(self.cases)

    @property
    def current(self) -> Any:
        return self.cases[self._index] if 0 <= self._index < len(self.cases) else None

    def sock_name(self, mag: int, sock: str = "main") -> str:
        return f"mag{mag}" if sock == "main" else f"mag{mag}-{sock}"

    # --- driving interface ----------------------------------------------------------
    def start(self, now: float) -> list[Transmission]:
        self.now = now
        self._advance()
        return self._flush()

    def next_timer(self) -> float | None:
        return self._wait.deadline if self._wait is not None else None

    def receive(self, now: float, packet: Packet | Undecodable,
                sock: str) -> tuple[int, str, list[Transmission]]:
        """A datagram arrived on socket ``sock``; returns its frame number, its comment
        and what to send now."""
        self.now = now
        frame = self._number()
        case = self.current
        label = f"{case.id} {case.name}" if case is not None else "after the last check"
        if isinstance(packet, Undecodable):
            return frame, f"{label}: undecodable ({packet.reason})", self._flush()
        msg = packet.message
        if packet.src != self.target and not sock.endswith("-dhcp"):  # over a raw
            # socket: another node's traffic (relayed DHCP comes from the relay address)
            return frame, f"{label}: not from the target, ignored: {_short(msg)}", []
        comment = f"{label}: received {_short(msg)}"
        self._auto_answer(packet, sock)
        if self._gen is not None:
            self._inbox.append(_Inbox(frame, packet, sock))
            self._match()
        self._advance()
        return frame, comment, self._flush()

    def mn_event(self, now: float, event: MnEvent) -> list[Transmission]:
        """The mobile node's DHCP client reported something (no frame: not a datagram)."""
        self.now = now
        if self._gen is not None:
            name = self.sock_name(0, "mn")
            self._inbox.append(_Inbox(0, Packet(self.target, self.target, event, name),  # type: ignore[arg-type]
                                      name))
            self._match()
        self._advance()
        return self._flush()

    def timer(self, now: float) -> list[Transmission]:
        self.now = now
        wait = self._wait
        if wait is not None and now >= wait.deadline:
            step = wait.step
            if isinstance(step, Ask) and step.wait is None and wait.sent < self._tries(step):
                wait.timeout *= 2
                wait.deadline = now + wait.timeout
                wait.sent += 1
                wait.frame = self._transmit(step, f"retransmission {wait.sent}")
            else:
                self._wait = None
                self._resume(wait.candidate)
        self._advance()
        return self._flush()

    # --- for the checks -------------------------------------------------------------
    def wall(self) -> float:
        """Unix time now (for Timestamp options)."""
        return self.now + self.wall_offset

    def packet(self, mag: int, message: MobilityMessage, sock: str = "main") -> Packet:
        src = self.mags[mag]
        if isinstance(self.target, IPv4Address):
            return Packet(src, self.target, message, self.sock_name(mag, sock), None,
                          self.port)
        return Packet(src, self.target, message, self.sock_name(mag, sock))

    # --- internals ------------------------------------------------------------------
    def _tries(self, step: Ask) -> int:
        return step.tries if step.tries is not None else self.timing.tries

    def _number(self) -> int:
        self._frame += 1
        if self._gen is not None:
            self._frames.append(self._frame)
        return self._frame

    def _flush(self) -> list[Transmission]:
        out, self._out = self._out, []
        return out

    def _emit(self, packet: Packet, comment: str, raw: bytes | None = None) -> int:
        frame = self._number()
        self._out.append(Transmission(frame, packet, comment, raw))
        return frame

    def _transmit(self, step: Ask, extra: str = "") -> int:
        case = self.current
        what = step.note or _short(step.message)
        comment = f"{case.id} {case.name}: {what}" + (f" ({extra})" if extra else "")
        return self._emit(self.packet(step.mag, step.message, step.sock), comment, step.raw)

    def _auto_answer(self, packet: Packet, sock: str) -> None:
        msg = packet.message
        reply: MobilityMessage | None = None
        if isinstance(msg, BindingRevocation) and msg.br_type == BRType.BRI:
            if msg.mn_id not in self.nais:
                return  # not one of ours (another probe, another MAG on this host)
            mnid = msg.option(MNIdentifier)
            reply = BindingRevocation(BRType.BRA, BRAStatus.SUCCESS, msg.seq,
                                      msg.flags & BR_FLAG_BITS, (mnid,) if mnid else ())
        elif isinstance(msg, Heartbeat) and not msg.response:
            reply = Heartbeat(msg.seq, HBFlag.R)
        if reply is None:
            return
        back = Packet(packet.dst, packet.src, reply, sock, packet.dport, packet.sport)
        case = self.current
        label = f"{case.id} {case.name}" if case is not None else "probe"
        self._emit(back, f"{label}: MAG answers {_short(msg)} with {_short(reply)}")

    def _advance(self) -> None:
        """Start the next check whenever none is running (until the catalog is done)."""
        while self._gen is None and not self.done:
            self._index += 1
            self._inbox, self._frames, self._wait = [], [], None
            self.check_nais = set()
            case = self.current
            if case is None:
                return
            self._started = self.now
            self._ctx = self._ctx_factory(self, case)
            self._gen = case.run(self._ctx)
            self._resume(None, first=True)

    def _resume(self, value: Reply | None, first: bool = False) -> None:
        gen = self._gen
        assert gen is not None
        try:
            step = next(gen) if first else gen.send(value)
        except StopIteration as stop:
            verdict = stop.value if isinstance(stop.value, Verdict) else \
                Verdict(ERROR, reason="the check returned no verdict (probe bug)")
            self._finish(verdict)
            return
        except NoAnswer as exc:
            self._finish(Verdict(ERROR, reason=str(exc)))
            return
        except Stop as stop:
            self._finish(stop.verdict)
            return
        except Exception as exc:  # a check must never stop the run
            self._finish(Verdict(ERROR, reason=f"probe error: {exc!r}"))
            return
        self._start_step(step)

    def _start_step(self, step: Step) -> None:
        after = len(self._inbox)
        if isinstance(step, Answer):
            to = step.to
            case = self.current
            what = step.note or _short(step.message)
            self._emit(Packet(to.dst, to.src, step.message, to.iface, to.dport, to.sport),
                       f"{case.id} {case.name}: {what}")
            self._resume(None)
            return
        if isinstance(step, Mn):
            self._out.append(step)  # type: ignore[arg-type]
            self._resume(None)
            return
        if isinstance(step, Ask):
            timeout = step.wait if step.wait is not None else self.timing.initial
            self._wait = _Wait(step, self.now + timeout, timeout, 1, after)
            self._wait.frame = self._transmit(step)
        else:
            self._wait = _Wait(step, self.now + step.wait, step.wait, 0, 0)
        self._match()

    def _match(self) -> None:
        wait = self._wait
        if wait is None:
            return
        step = wait.step
        where = step.reply_sock if isinstance(step, Ask) and step.reply_sock else step.sock
        name = self.sock_name(step.mag, where)
        for item in self._inbox[wait.after:]:
            msg = item.packet.message
            if item.used or item.sock != name or not isinstance(msg, step.kinds):
                continue
            if isinstance(step, Listen) and step.where is not None and not step.where(msg):
                continue
            nai = getattr(msg, "mn_id", None)
            if self.nais and nai is not None and nai not in self.check_nais:
                continue  # a late answer about an earlier check's MN (the MAG probe
                # names no MNs: the MAG does)
            fit = _answers(step.message, msg) if isinstance(step, Ask) else YES
            if fit == NO:
                continue
            item.used = True
            reply = Reply(msg, item.packet, item.frame)
            if fit == MAYBE:
                if wait.candidate is None:  # kept: the answer if no better one comes
                    wait.candidate = reply
                continue
            self._wait = None
            self._resume(reply)
            return

    def _finish(self, verdict: Verdict) -> None:
        case = self.current
        self.results.append(Result(case, verdict, list(self._frames),
                                   self.now - self._started))
        self._gen, self._wait = None, None


YES, MAYBE, NO = 2, 1, 0


def _answers(request: MobilityMessage, msg: MobilityMessage) -> int:
    """YES: ``msg`` carries ``request``'s sequence number (a 135 carries the last accepted
    one instead, RFC 6275 §9.5.1).  MAYBE: another number (a late copy for an earlier
    request, or a wrong number): used only if nothing better comes before the last
    timeout.  NO: a PBA naming another MN (someone else's answer on a raw socket)."""
    mine, theirs = getattr(request, "mn_id", None), getattr(msg, "mn_id", None)
    if mine is not None and theirs is not None and mine != theirs:
        return NO
    seq = getattr(request, "seq", None)
    if isinstance(msg, BindingError):
        return YES
    if seq is None:  # e.g. an unknown MH type: only a Binding Error is sure to answer it
        return MAYBE
    if isinstance(msg, BindingAck) and msg.status == BAStatus.SEQUENCE_OUT_OF_WINDOW:
        # the last accepted number is not older than a stale request's; a 135 with an
        # older one answers a retransmitted copy of an earlier PBU
        return YES if (msg.seq - seq) & 0xFFFF < 0x8000 else MAYBE
    return YES if getattr(msg, "seq", seq) == seq else MAYBE


def _short(msg: MobilityMessage) -> str:
    info = getattr(msg, "info", None)
    text = info() if callable(info) else type(msg).__name__  # wire text is escaped already
    return text if len(text) <= 120 else text[:117] + "..."
