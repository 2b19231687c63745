"""The RTT histogram: percentiles within one bucket of the exact ones, bounded memory."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from pmipview.load.stats import Histogram, Stats, bucket_high, bucket_low, bucket_of


@given(st.integers(0, 10**11))
def test_bucket_bounds_hold_the_value(us):
    i = bucket_of(us)
    assert bucket_low(i) <= us <= bucket_high(i)
    assert bucket_high(i) - bucket_low(i) <= max(us // 64, 0)


def test_percentiles_close_to_exact():
    rng = random.Random(3)
    values = [int(rng.lognormvariate(7, 1.2)) for _ in range(50_000)]
    h = Histogram()
    for v in values:
        h.record(v)
    values.sort()
    for q in (50, 90, 99):
        exact = values[-(-len(values) * q // 100) - 1]
        assert abs(h.percentile(q) - exact) <= exact / 64 + 1
    assert h.percentile(100) == h.max_us == values[-1]
    assert len(h.counts) < 3000   # whatever the number of samples


def test_empty_and_merge():
    a, b = Histogram(), Histogram()
    assert a.percentile(50) is None and a.ms(99) is None
    a.record(100)
    b.record(5000)
    b.record(-3)   # a clock step: counted as 0, never an error
    a.merge(b)
    assert a.n == 3 and a.max_us == 5000 and a.percentile(1) == 0


def test_interval_rows_difference_and_cumulate():
    s = Stats()
    s.totals.started = 10
    s.totals.accepted = 8
    s.rtt(1000)
    r1 = s.close_interval(1.0, 1.0, 10.0, 2)
    s.totals.started = 25
    s.totals.accepted = 20
    s.totals.rejected["x"] = 3
    s.rtt(3000)
    r2 = s.close_interval(2.0, 1.0, 25.0, 2)
    assert (r1.started, r1.accepted, r2.started, r2.accepted, r2.rejected) == (10, 8, 15, 12, 3)
    assert r2.offered == 15.0
    assert r2.rtt_ms["max"] == 3.0 and r2.totals["rtt_max_ms"] == 3.0
    assert r2.totals["rejected"] == 3 and s.cumulative.n == 2
