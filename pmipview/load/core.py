"""The sans-IO load core: open-loop pacing, PBU transactions, retransmission, statistics.

No socket and no clock: the driver calls :meth:`LoadCore.poll` with the time (seconds,
monotonic) and sends the datagrams it returns, and gives each datagram it reads to
:meth:`LoadCore.receive`.  ``next_timer()`` says when to call ``poll`` again.

Pacing is open loop.  The schedule's target count grows at the rate (linearly from 0
over ``ramp`` seconds, then at ``rate``); every poll starts as many transactions as the
target is ahead of what was started.  When the generator cannot keep up (a slow loop,
``max_outstanding`` reached, every MN busy) the transactions are not dropped: the gap is
the *lag*, in seconds of schedule, shown live and in the CSV; the achieved rate is what
was really started and answered.

Transactions follow the MAG rules of RFC 5213 §6.9.4 (as :mod:`pmipview.agents.mag`
does): one per MN at a time; a MAG-wide 16-bit sequence number per MAG address; every
retransmission takes a new number (a PBA for an older one is counted ``late`` and
ignored); after transmission k the wait is ``retransmit[min(k, len-1)]`` (1, 2, 4, 8 s
by default, the MAG's own); after ``max_retransmissions`` and their wait, a timeout.
Replies are matched by (MAG address, sequence number).  A BRI from the LMA (a handoff's
revocation of the old MAG) is answered with a BRA, like a MAG.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, fields

from dissectors.errors import DecodeError
from dissectors.mh import BindingRevocation, decode_mh, encode_mh
from dissectors.mh_codes import (
    REJECTED_FROM,
    BAStatus,
    BRAStatus,
    BRFlag,
    BRType,
    MHType,
    name_of,
)
from dissectors.mh_options import MNIdentifier
from pmipview.agents.mag import MAGConfig
from pmipview.load.model import Population, TrafficModel
from pmipview.load.stats import Stats
from pmipview.load.wire import ATTACH, HANDOFF, PbuFactory, pba_hoa, pba_mn, read_pba

_MAG_DEFAULTS = {f.name: f.default for f in fields(MAGConfig)}
RETRANSMIT: tuple[float, ...] = _MAG_DEFAULTS["retransmit"]        # type: ignore[assignment]
MAX_RETRANSMISSIONS: int = _MAG_DEFAULTS["max_retransmissions"]    # type: ignore[assignment]
_BR = int(MHType.BR)
_BU = int(MHType.BU)
_REJECT_FROM = REJECTED_FROM   # BA status >= 128: rejected (RFC 6275 §6.1.8)
_OUT_OF_WINDOW = int(BAStatus.SEQUENCE_OUT_OF_WINDOW)
_NEVER = float("inf")
EXPIRE_EVERY = 0.005   # s: retransmission deadlines are looked at this often at most
_RETIRED = 65536     # retransmitted keys remembered to tell a late PBA from a stray one


@dataclass(frozen=True, slots=True)
class LoadConfig:
    mns: int
    rate: float                          # PBU/s (new transactions; retransmissions extra)
    mags: int = 1                        # MAG addresses
    duration: float | None = None        # seconds of sending
    transactions: int | None = None      # or a count of new transactions
    ramp: float = 0.0
    max_outstanding: int = 0             # 0: no limit
    retransmit: tuple[float, ...] = RETRANSMIT
    max_retransmissions: int = MAX_RETRANSMISSIONS
    drain: float = 3.0                   # after the last PBU, wait this long for answers
    burst: int = 64                      # new PBUs per poll, at most (lets replies in)
    model: TrafficModel = field(default_factory=TrafficModel)
    seed: int = 0


class _Txn:
    __slots__ = ("key", "kind", "mag", "mn", "resynced", "sent_at", "tries")

    def __init__(self, mn: int, kind: int, mag: int) -> None:
        self.mn = mn
        self.kind = kind
        self.mag = mag
        self.key = -1
        self.sent_at = 0.0
        self.tries = 0
        self.resynced = False


Out = tuple[int, bytes, int]   # (MAG index, payload, MN or -1)


class LoadCore:
    def __init__(self, cfg: LoadConfig) -> None:
        self.cfg = cfg
        self.pop = Population(cfg.mns, cfg.mags, cfg.model, cfg.seed)
        self.pbus = PbuFactory(-(-cfg.model.lifetime // 4))
        self.stats = Stats()
        self._totals = self.stats.totals
        self._packers = self.pbus.packers
        self._hoa = self.pop.hoa
        self._plen = self.pop.plen
        self._expiry = _NEVER          # the earliest retransmission deadline
        self._pending: dict[int, _Txn] = {}          # (mag << 16 | seq) -> transaction
        self._retired: dict[int, None] = {}          # keys given up by a retransmission
        self._txn_of: list[_Txn | None] = [None] * cfg.mns   # 135 PBAs name the MN only
        self._seq = [0] * cfg.mags
        n_levels = cfg.max_retransmissions + 1
        self._waits = [cfg.retransmit[min(k, len(cfg.retransmit) - 1)] for k in range(n_levels)]
        self._timeouts: list[deque[tuple[float, _Txn, int]]] = [deque() for _ in range(n_levels)]
        self.outstanding = 0
        self.rate = cfg.rate
        self.paused = False
        self.blocked = False           # the last poll could not start a due PBU
        self.stopping = False          # no new transactions (end reached, q, SIGINT)
        self.start = 0.0
        self._t0 = 0.0                 # schedule origin (moves on a rate change / resume)
        self._count0 = 0.0             # target count at _t0
        self._ramp_end = 0.0
        self.sending_ended: float | None = None
        self.sample: Callable[[float, int, bool, bytes, int], None] | None = None
        self.sample_every = 0          # MNs with mn % sample_every == 0 are sampled

    # -- the schedule -------------------------------------------------------------------

    def begin(self, now: float) -> None:
        self.start = self._t0 = now
        self._ramp_end = now + self.cfg.ramp

    def target(self, now: float) -> float:
        """PBUs the schedule wants started by ``now``."""
        if self.paused:
            return self._count0
        t0, r = self._t0, self.rate
        if now < self._ramp_end and self.cfg.ramp > 0:
            # rate(t) = R·(t - start)/ramp: the integral between t0 and now
            a = (t0 - self.start) / self.cfg.ramp
            b = (now - self.start) / self.cfg.ramp
            return self._count0 + r * self.cfg.ramp * (b * b - a * a) / 2
        if t0 < self._ramp_end and self.cfg.ramp > 0:
            a = (t0 - self.start) / self.cfg.ramp
            ramp_part = r * self.cfg.ramp * (1 - a * a) / 2
            return self._count0 + ramp_part + r * (now - self._ramp_end)
        return self._count0 + r * (now - t0)

    def set_rate(self, now: float, rate: float) -> None:
        self._count0 = self.target(now)
        self._t0 = now
        self.rate = max(rate, 0.1)

    def pause(self, now: float, paused: bool) -> None:
        if paused == self.paused:
            return
        if paused:
            self._count0 = self.target(now)
        else:  # resume without catching up on the pause
            self._count0 = float(self.stats.totals.started)
            self._t0 = now
        self.paused = paused

    def lag(self, now: float) -> float:
        """How late the oldest PBU not yet started is, in seconds (0 when on time)."""
        if self.paused or self.stopping:
            return 0.0
        late = self.target(now) - self.stats.totals.started - 1
        return late / self.rate if late > 0 else 0.0

    def _sending_done(self, now: float) -> bool:
        c = self.cfg
        if c.duration is not None and now - self.start >= c.duration:
            return True
        return c.transactions is not None and self.stats.totals.started >= c.transactions

    def finished(self, now: float) -> bool:
        """True once sending ended and every transaction ended or the drain ran out."""
        if self.sending_ended is None:
            return False
        return self.outstanding == 0 or now - self.sending_ended >= self.cfg.drain

    def next_timer(self, now: float) -> float:
        """When ``poll`` has work: the next scheduled PBU or retransmission deadline."""
        due = self._expiry
        if not (self.stopping or self.paused or self.blocked):
            # (blocked: every MN busy or --max-outstanding reached; an answer or a
            # timeout unblocks it, so there is nothing to do before either)
            need = self._totals.started + 1 - self.target(now)
            at = now + need / self.rate if need > 0 else now
            if at < due:
                due = at
        ended = self.sending_ended
        if ended is None:
            if self.cfg.duration is not None and self.start + self.cfg.duration < due:
                due = self.start + self.cfg.duration
        elif ended + self.cfg.drain < due:
            due = ended + self.cfg.drain
        return due if due != _NEVER else now + 0.25

    # -- sending ------------------------------------------------------------------------

    def poll(self, now: float) -> list[Out]:
        out: list[Out] = []
        if now >= self._expiry:
            self._expire(now, out)
        if not self.stopping and self._sending_done(now):
            self.stop(now)
        if self.stopping or self.paused:
            return out
        totals = self._totals
        started = totals.started
        want = self.target(now)
        behind = int(want - started)
        if behind <= 0:
            return out
        lag = (want - started - 1) / self.rate  # since the oldest was due
        if lag > self.stats.lag_max:
            self.stats.lag_max = lag
        # as many as are due, at most a burst, within --max-outstanding and --transactions
        # (blocked: the outstanding limit, not the count, stopped this burst)
        n = min(behind, self.cfg.burst)
        cap = self.cfg.transactions
        room = cap - started if cap is not None else n
        limit = self.cfg.max_outstanding
        free = limit - self.outstanding if limit else n
        blocked = free < n and free <= room
        n = max(min(n, room, free), 0)
        pick = self.pop.pick
        txn_of = self._txn_of
        kinds = totals.kinds
        transmit = self._transmit
        k = 0
        while k < n:
            got = pick()
            if got is None:
                blocked = True
                break
            kind, mn, mag = got
            txn = _Txn(mn, kind, mag)
            txn_of[mn] = txn
            kinds[kind] += 1
            out.append(transmit(now, txn))
            k += 1
        totals.started = started + k
        self.outstanding += k
        self.blocked = blocked
        return out

    def stop(self, now: float) -> None:
        if not self.stopping:
            self.stopping = True
            self.sending_ended = now

    def _transmit(self, now: float, txn: _Txn) -> Out:
        mag = txn.mag
        pending = self._pending
        seq = self._seq[mag]
        key = mag << 16 | seq
        if key in pending:
            for _ in range(65535):   # skip numbers still waiting for an answer
                seq = (seq + 1) & 0xFFFF
                key = mag << 16 | seq
                if key not in pending:
                    break
        self._seq[mag] = (seq + 1) & 0xFFFF
        pending[key] = txn
        if self._retired:
            self._retired.pop(key, None)
        txn.key = key
        txn.sent_at = now
        tries = txn.tries
        deadline = now + self._waits[tries]
        self._timeouts[tries].append((deadline, txn, key))
        if deadline < self._expiry:
            self._expiry = deadline
        mn = txn.mn
        payload = self._packers[txn.kind](seq, mn, self._hoa[mn], self._plen[mn])
        self._totals.sent += 1
        if self.sample is not None and mn % self.sample_every == 0:
            self.sample(now, mag, True, payload, mn)
        return mag, payload, mn

    def _expire(self, now: float, out: list[Out]) -> None:
        pending = self._pending
        totals = self._totals
        last = len(self._timeouts) - 1
        for level, q in enumerate(self._timeouts):
            while q and q[0][0] <= now:
                _, txn, key = q.popleft()
                if txn.key != key or pending.get(key) is not txn:
                    continue   # answered, or already retransmitted
                del pending[key]
                if level < last:
                    retired = self._retired
                    retired[key] = None
                    if len(retired) > _RETIRED:
                        del retired[next(iter(retired))]
                    txn.tries += 1
                    totals.retransmissions += 1
                    out.append(self._transmit(now, txn))
                else:
                    totals.timeouts += 1
                    self._end(txn, False)
        # the next visit: the earliest deadline, but not sooner than EXPIRE_EVERY (most
        # entries are of answered PBUs, dropped here in batches; RFC timers are >= 1 s)
        due = min((q[0][0] for q in self._timeouts if q), default=_NEVER)
        self._expiry = due if due > now + EXPIRE_EVERY else now + EXPIRE_EVERY

    def _end(self, txn: _Txn, ok: bool, hoa: int = 0, plen: int = 0) -> None:
        txn.key = -1
        self._txn_of[txn.mn] = None
        self.outstanding -= 1
        self.blocked = False
        self.pop.done(txn.mn, txn.kind, ok, hoa, plen)

    # -- receiving ----------------------------------------------------------------------

    def receive(self, now: float, mag: int, payload: bytes) -> list[Out]:
        """A datagram that arrived on MAG address ``mag``; returns any answer (BRA).

        ``now`` is when it arrived (the driver passes the kernel's arrival stamp when it
        has one): the RTT is from the transmission answered to then."""
        got = read_pba(payload)
        if got is None:
            return self._other(now, mag, payload)
        status, seq = got
        if status == _OUT_OF_WINDOW:
            return self._out_of_window(now, mag, seq, payload)
        key = mag << 16 | seq
        txn = self._pending.pop(key, None)
        if txn is None:
            if key in self._retired:
                self._totals.late += 1
            else:
                self._totals.stray += 1
            return []
        self.stats.interval.record(int((now - txn.sent_at) * 1_000_000))
        mn = txn.mn
        if self.sample is not None and mn % self.sample_every == 0:
            self.sample(now, mag, False, payload, mn)
        if status < _REJECT_FROM:
            self._totals.accepted += 1
            kind = txn.kind
            # the HoA comes with an attach or a handoff; a refresh keeps it, a detach
            # gives it back
            hoa = pba_hoa(payload) if kind in (ATTACH, HANDOFF) else None
            txn.key = -1
            self._txn_of[mn] = None
            self.outstanding -= 1
            self.blocked = False
            if hoa is not None and hoa[0] < _REJECT_FROM:
                self.pop.done(mn, kind, True, hoa[2], hoa[1])
            else:
                self.pop.done(mn, kind, True)
        else:
            self._totals.rejected[_status_name(status)] += 1
            self._end(txn, False)
        return []

    def _out_of_window(self, now: float, mag: int, seq: int, payload: bytes) -> list[Out]:
        """PBA 135 carries the LMA's last accepted number, not ours (RFC 6275 §9.5.1): find
        the MN by its NAI, move this MAG's counter past that number and retry once (as
        the reference MAG does); a second 135 is a rejection."""
        totals = self.stats.totals
        mn = pba_mn(payload)
        txn = self._txn_of[mn] if mn is not None and mn < len(self._txn_of) else None
        if txn is None or txn.mag != mag or self._pending.get(txn.key) is not txn:
            totals.stray += 1
            return []
        del self._pending[txn.key]
        self.stats.interval.record(int((now - txn.sent_at) * 1_000_000))
        if txn.resynced:
            totals.rejected[_status_name(_OUT_OF_WINDOW)] += 1
            self._end(txn, False)
            return []
        txn.resynced = True
        totals.resyncs += 1
        self._seq[mag] = (seq + 1) & 0xFFFF
        return [self._transmit(now, txn)]

    def _other(self, now: float, mag: int, payload: bytes) -> list[Out]:
        totals = self.stats.totals
        if len(payload) >= 3 and payload[2] == _BU and payload[0] == 59:
            return []   # our own PBU, seen again by a raw IPv6 socket on the same address
        try:
            msg, _ = decode_mh(payload)
        except (DecodeError, ValueError, IndexError):
            totals.garbled += 1
            return []
        if isinstance(msg, BindingRevocation) and msg.br_type == BRType.BRI:
            mnid = msg.option(MNIdentifier)
            opts = (mnid,) if mnid is not None else ()
            bra = BindingRevocation(BRType.BRA, BRAStatus.SUCCESS, msg.seq,
                                    msg.flags & (BRFlag.P | BRFlag.V | BRFlag.G), opts)
            totals.revocations += 1
            return [(mag, encode_mh(bra), -1)]
        if payload[2] == 6:   # a BA read_pba refused: its header length does not fit
            totals.garbled += 1
            return []
        totals.other[name_of(MHType, payload[2])] += 1
        return []

    # -- statistics ---------------------------------------------------------------------

    def close_interval(self, now: float) -> object:
        length = now - self.start - (self.stats.rows[-1].t if self.stats.rows else 0.0)
        return self.stats.close_interval(now - self.start, length, self.target(now),
                                         self.outstanding)


_names: dict[int, str] = {}


def _status_name(status: int) -> str:
    name = _names.get(status)
    if name is None:
        name = _names[status] = name_of(BAStatus, status)
    return name
