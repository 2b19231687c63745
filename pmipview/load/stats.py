"""Load statistics in bounded memory: a log-linear RTT histogram, interval rows, totals.

RTTs are recorded in whole microseconds into a histogram with 64 linear sub-buckets per
power of two (values below 128 µs exact, above that within 1/64 = 1.6 %), so a run of
any length keeps ~1,500 integers for its percentiles; the maximum is kept exactly.  Each
statistics interval has its own histogram, merged into the cumulative one when the
interval closes; the interval rows (one per ``--stats-interval``) are what the CSV, the
live panel and the RTT-over-time plot show.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from pmipview.load.wire import KINDS

_SUB = 6                      # 64 sub-buckets per power of two
_LINEAR = 1 << (_SUB + 1)     # below 128 µs each value has its own bucket
_SIZE = (40 << _SUB) + _LINEAR


def bucket_of(us: int) -> int:
    if us < _LINEAR:
        return max(us, 0)
    e = us.bit_length() - _SUB - 1
    return (e << _SUB) + (us >> e)


def bucket_low(i: int) -> int:
    """The smallest value of bucket ``i`` (inverse of :func:`bucket_of`)."""
    if i < _LINEAR:
        return i
    e = (i >> _SUB) - 1
    return (i - (e << _SUB)) << e


def bucket_high(i: int) -> int:
    """The largest value of bucket ``i``."""
    if i < _LINEAR:
        return i
    e = (i >> _SUB) - 1
    return bucket_low(i) + (1 << e) - 1


class Histogram:
    """Counts of RTTs in µs by log-linear bucket; percentiles within one bucket's width."""

    __slots__ = ("counts", "max_us", "n", "sum_us")

    def __init__(self) -> None:
        self.counts = [0] * _SIZE
        self.n = 0
        self.max_us = 0
        self.sum_us = 0

    def record(self, us: int) -> None:
        if us < _LINEAR:
            if us < 0:
                us = 0
            i = us
        else:   # bucket_of, inline (once per answer)
            e = us.bit_length() - _SUB - 1
            i = (e << _SUB) + (us >> e)
            if i >= _SIZE:
                i = _SIZE - 1
        self.counts[i] += 1
        self.n += 1
        self.sum_us += us
        if us > self.max_us:
            self.max_us = us

    def merge(self, other: Histogram) -> None:
        c = self.counts
        for i, v in enumerate(other.counts):
            if v:
                c[i] += v
        self.n += other.n
        self.sum_us += other.sum_us
        self.max_us = max(self.max_us, other.max_us)

    def percentile(self, q: float) -> int | None:
        """The ``q``-th percentile (0..100) in µs: the middle of the bucket that holds it,
        capped at the exact maximum; None when empty."""
        if self.n == 0:
            return None
        rank = max(1, -(-self.n * q // 100))  # ceil(n*q/100), at least the first
        seen = 0
        for i, v in enumerate(self.counts):
            seen += v
            if seen >= rank:
                return min((bucket_low(i) + bucket_high(i)) // 2, self.max_us)
        return self.max_us

    def ms(self, q: float) -> float | None:
        v = self.percentile(q)
        return None if v is None else v / 1000

    def buckets(self) -> list[tuple[int, int, int]]:
        """Non-empty buckets as (low µs, high µs, count)."""
        return [(bucket_low(i), bucket_high(i), v) for i, v in enumerate(self.counts) if v]


@dataclass(slots=True)
class Totals:
    """Counts since the start (the interval rows hold the per-interval differences)."""

    started: int = 0             # new transactions (first transmissions)
    sent: int = 0                # PBUs sent, retransmissions included
    accepted: int = 0
    rejected: Counter[str] = field(default_factory=Counter)   # status name -> count
    timeouts: int = 0
    retransmissions: int = 0
    late: int = 0                # a PBA for a sequence number already retransmitted/done
    stray: int = 0               # a PBA matching no transaction we sent
    garbled: int = 0             # a datagram that is no message we can use
    other: Counter[str] = field(default_factory=Counter)      # other MH types received
    revocations: int = 0         # BRIs answered with a BRA
    resyncs: int = 0             # PBA 135 (sequence out of window): retried past it
    send_errors: int = 0
    kinds: list[int] = field(default_factory=lambda: [0] * len(KINDS))  # by kind number

    @property
    def answered(self) -> int:
        return self.accepted + sum(self.rejected.values())

    @property
    def by_kind(self) -> Counter[str]:
        """Transactions by kind name (attach, refresh, handoff, detach)."""
        return Counter({KINDS[k]: n for k, n in enumerate(self.kinds) if n})


PERCENTILES = (50, 90, 99)
MAX_ROWS = 4000   # interval rows kept in memory (the CSV gets every one as it closes)


@dataclass(slots=True)
class Row:
    """One statistics interval (what a CSV row and a point of the RTT plot hold)."""

    t: float                  # seconds since the start, end of the interval
    length: float             # the interval's length in seconds
    offered: float            # PBU/s the schedule asked for during the interval
    started: int
    answered: int
    accepted: int
    rejected: int
    timeouts: int
    retransmissions: int
    outstanding: int
    lag_ms: float             # the schedule's largest lag during the interval
    rtt_ms: dict[str, float | None]
    totals: dict[str, float | int | None]


class Stats:
    """Totals, the current interval and the cumulative histogram."""

    def __init__(self) -> None:
        self.totals = Totals()
        self.interval = Histogram()
        self.cumulative = Histogram()
        # how long arrived answers waited to be read (the loop's own delay, not the
        # target's; with kernel arrival stamps only): one value per read turn
        self.read_delay = Histogram()
        self.rows: list[Row] = []
        self._base = (0, 0, 0, 0, 0, 0)
        self.offered_count = 0.0     # schedule's target count at the end of the last row
        self.lag_max = 0.0

    def rtt(self, us: int) -> None:
        self.interval.record(us)

    def close_interval(self, t: float, length: float, offered_count: float,
                       outstanding: int) -> Row:
        """End the current interval at ``t`` (seconds since start); returns its row."""
        tt = self.totals
        rejected = sum(tt.rejected.values())
        now = (tt.started, tt.answered, tt.accepted, rejected, tt.timeouts,
               tt.retransmissions)
        d = [a - b for a, b in zip(now, self._base, strict=True)]
        self._base = now
        h = self.interval
        self.cumulative.merge(h)
        c = self.cumulative
        offered = (offered_count - self.offered_count) / length if length > 0 else 0.0
        self.offered_count = offered_count
        row = Row(t, length, offered, d[0], d[1], d[2], d[3], d[4], d[5], outstanding,
                  self.lag_max * 1000,
                  {**{f"p{q}": h.ms(q) for q in PERCENTILES},
                   "max": h.max_us / 1000 if h.n else None},
                  {"started": tt.started, "answered": tt.answered, "accepted": tt.accepted,
                   "rejected": rejected, "timeouts": tt.timeouts,
                   "retransmissions": tt.retransmissions,
                   **{f"rtt_p{q}_ms": c.ms(q) for q in PERCENTILES},
                   "rtt_max_ms": c.max_us / 1000 if c.n else None})
        self.rows.append(row)
        if len(self.rows) > MAX_ROWS:  # a long run keeps every other row for the plot
            self.rows = self.rows[::2]
        self.interval = Histogram()
        self.lag_max = 0.0
        return row
