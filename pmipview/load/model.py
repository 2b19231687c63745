"""The emulated MN population and the traffic model: which PBU goes out next.

The rate is the pacer's (open loop, R PBU/s); the model only decides what each PBU is.
Per attached MN and per hour, a day of traffic has:

- refreshes: one every ``refresh_at`` × ``lifetime`` seconds (a MAG re-registers before
  the binding expires, HI 5);
- handoffs: ``handoffs_per_hour`` (the MN moves to another MAG address, HI 3; the LMA
  revokes the old binding with a BRI, which the generator answers);
- detaches: one per ``session_minutes`` on average (lifetime 0), and as many attaches
  (HI 1) from detached MNs, so the population stays balanced.

The default (600 s lifetime refreshed at 80 %, one handoff an hour, 45-minute sessions)
is a Wi-Fi-offload day: about 67 % refreshes, 9 % handoffs, 12 % attaches, 12 %
detaches.  At the start every MN is detached; until each has attached once (the
population's "login storm") every PBU is an attach.  An MN has at most one transaction
at a time (RFC 5213 §6.9.4); a PBU of a kind no MN can take now falls back to another
kind, and when no MN is free at all nothing is sent — the schedule then lags, visibly.

State is held in flat arrays (one byte or int per MN), so 100,000 MNs cost a few MB.
"""

from __future__ import annotations

import random
from array import array
from collections import deque
from dataclasses import dataclass

from pmipview.load.wire import ATTACH, DETACH, HANDOFF, REFRESH


@dataclass(frozen=True, slots=True)
class TrafficModel:
    lifetime: int = 600             # seconds requested in every PBU
    refresh_at: float = 0.8         # fraction of the lifetime after which an MN refreshes
    handoffs_per_hour: float = 1.0  # per attached MN
    session_minutes: float = 45.0   # mean attachment length

    def check(self) -> None:
        """Raises ValueError with a one-line reason for values that make no model."""
        if not 4 <= self.lifetime <= 262_140:
            raise ValueError("--lifetime must be 4..262140 seconds (16-bit 4 s units)")
        if not 0 < self.refresh_at <= 1:
            raise ValueError("--refresh-at is a fraction of the lifetime: 0 < F <= 1")
        if self.handoffs_per_hour < 0:
            raise ValueError("--handoffs-per-hour must be >= 0")
        if self.session_minutes <= 0:
            raise ValueError("--session-minutes must be > 0")

    def weights(self, handoff_possible: bool = True) -> tuple[float, float, float, float]:
        """Share of attach, refresh, handoff, detach PBUs in steady state (sums to 1)."""
        refresh = 3600 / (self.refresh_at * self.lifetime)
        handoff = self.handoffs_per_hour if handoff_possible else 0.0
        detach = 60 / self.session_minutes
        total = refresh + handoff + 2 * detach
        return detach / total, refresh / total, handoff / total, detach / total


def login_ramp(mns: int, rate: float, attach_rate: float) -> float:
    """The ``--ramp`` that keeps the login storm within ``attach_rate`` attaches/s.

    Every MN attaches first (:meth:`Population.pick`).  Rising linearly to ``rate`` over
    T seconds, the schedule has started ``rate·t²/(2T)`` PBUs by t, all attaches until the
    last of ``mns`` has attached, and sends ``rate·t/T`` per second then: that peak stays
    at or below ``attach_rate`` when T ≥ 2·mns·rate / attach_rate² (0 when ``rate`` is
    no more than ``attach_rate``: no ramp needed)."""
    if attach_rate <= 0 or attach_rate >= rate:
        return 0.0
    return 2 * mns * rate / attach_rate ** 2


DETACHED, ATTACHED = 0, 1
_TRIES = 8   # random picks before concluding no attached MN is free


class Population:
    """N MNs over ``n_mags`` MAG addresses.  ``pick()`` → (kind, mn, mag) or None;
    ``done(mn, kind, ok, hoa, prefix_len)`` when its transaction ends."""

    def __init__(self, n: int, n_mags: int, model: TrafficModel, seed: int = 0) -> None:
        self.n = n
        self.n_mags = n_mags
        self.rng = random.Random(seed)
        self._random = self.rng.random   # int(random() * n): randrange costs 10× more
        w = model.weights(handoff_possible=n_mags > 1)
        self._cum = (w[0], w[0] + w[1], w[0] + w[1] + w[2])
        self.state = bytearray(n)
        self.busy = bytearray(n)
        self.mag = array("H", bytes(2 * n))
        self.hoa = array("I", bytes(4 * n))
        self.plen = bytearray(n)
        self._stamp = array("I", bytes(4 * n))
        self._att = array("i")                     # attached MNs (random picks)
        self._pos = array("i", [-1]) * n           # index in _att, -1 when not there
        self._detached: deque[int] = deque(range(n))
        self._refresh: deque[tuple[int, int]] = deque()   # oldest registration first
        self.warming = n                            # MNs that have not attached yet
        self._never = bytearray(b"\1") * n

    @property
    def attached(self) -> int:
        return len(self._att)

    # -- choosing -----------------------------------------------------------------------

    def pick(self) -> tuple[int, int, int] | None:
        if self.warming:
            got = self._attach()
            if got is not None:
                return got
        r = self._random()
        c = self._cum
        kind = ATTACH if r < c[0] else REFRESH if r < c[1] else HANDOFF if r < c[2] else DETACH
        for k in (kind, REFRESH, ATTACH, HANDOFF, DETACH):
            got = self._take(k)
            if got is not None:
                return got
        return None

    def _take(self, kind: int) -> tuple[int, int, int] | None:
        if kind == ATTACH:
            return self._attach()
        if kind == REFRESH:
            return self._refresh_one()
        mn = self._random_attached()
        if mn is None:
            return None
        if kind == HANDOFF:
            if self.n_mags < 2:
                return None
            old = self.mag[mn]
            new = (old + 1 + int(self._random() * (self.n_mags - 1))) % self.n_mags
            self.mag[mn] = new
            self.busy[mn] = 1
            return HANDOFF, mn, new
        self._unlist(mn)                           # DETACH: it is leaving
        self.state[mn] = DETACHED
        self.busy[mn] = 1
        return DETACH, mn, self.mag[mn]

    def _attach(self) -> tuple[int, int, int] | None:
        q = self._detached
        busy, state = self.busy, self.state
        for _ in range(min(len(q), _TRIES)):
            mn = q.popleft()
            if busy[mn] or state[mn] != DETACHED:
                continue   # a stale entry (it attached again meanwhile)
            busy[mn] = 1
            mag = self.mag[mn] = int(self._random() * self.n_mags)
            self.hoa[mn] = 0
            self.plen[mn] = 0
            return ATTACH, mn, mag
        return None

    def _refresh_one(self) -> tuple[int, int, int] | None:
        q = self._refresh
        for _ in range(min(len(q), _TRIES)):
            mn, stamp = q.popleft()
            if stamp != self._stamp[mn] or self.state[mn] != ATTACHED:
                continue   # superseded (handoff, detach, newer registration)
            if self.busy[mn]:
                q.append((mn, stamp))
                continue
            self.busy[mn] = 1
            return REFRESH, mn, self.mag[mn]
        return None

    def _random_attached(self) -> int | None:
        att = self._att
        if not att:
            return None
        rnd = self._random
        n = len(att)
        for _ in range(_TRIES):
            mn = att[int(rnd() * n)]
            if not self.busy[mn]:
                return mn
        return None

    # -- outcomes -----------------------------------------------------------------------

    def done(self, mn: int, kind: int, ok: bool, hoa: int = 0, prefix_len: int = 0) -> None:
        """The transaction of ``mn`` ended: accepted (``ok``), rejected or timed out."""
        self.busy[mn] = 0
        if self.warming and self._never[mn]:
            self._never[mn] = 0
            self.warming -= 1
        state = self.state
        if kind == DETACH or not ok:
            if state[mn] == ATTACHED:
                self._unlist(mn)
                state[mn] = DETACHED
            self._detached.append(mn)
            return
        if hoa:
            self.hoa[mn] = hoa
            self.plen[mn] = prefix_len
        if state[mn] != ATTACHED:
            state[mn] = ATTACHED
            self._pos[mn] = len(self._att)
            self._att.append(mn)
        stamp = self._stamp[mn] + 1 & 0xFFFFFFFF
        self._stamp[mn] = stamp
        self._refresh.append((mn, stamp))

    def _unlist(self, mn: int) -> None:
        i = self._pos[mn]
        if i < 0:
            return
        att = self._att
        last = att.pop()
        if last != mn:
            att[i] = last
            self._pos[last] = i
        self._pos[mn] = -1
