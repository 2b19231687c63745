"""The load core against the reference LMA core on a virtual clock (no sockets).

Each datagram the load core sends is decoded as the LMA transport would, given to the
LMA core, and its answer encoded back: the real protocol, without timing noise.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

from dissectors.mh_codes import BAStatus, name_of
from pmipview.agents.base import Send
from pmipview.agents.lma import LMA, LMAConfig
from pmipview.agents.pool import AddressPool
from pmipview.load.core import LoadConfig, LoadCore
from pmipview.load.report import summary
from pmipview.wire.codec import decode_mh_datagram, encode_payload

LMAA = IPv4Address("127.0.0.1")
MAGS = [IPv4Address(f"127.0.1.{i}") for i in range(1, 5)]


def lma(**kw) -> LMA:
    net = IPv4Network("10.20.0.0/20")
    return LMA(LMAConfig(pool=AddressPool(net, frozenset({net[1]})), default_router=net[1],
                         **kw))


class Loop:
    """Runs a LoadCore and an LMA core on a virtual clock with a fixed one-way delay."""

    def __init__(self, core: LoadCore, server: LMA | None, delay: float = 0.0005,
                 drop=lambda payload: False) -> None:
        self.core, self.server, self.delay, self.drop = core, server, delay, drop
        self.inflight: list[tuple[float, int, bytes]] = []   # (arrival, mag, PBA)
        self.now = 0.0

    def _to_lma(self, mag: int, payload: bytes) -> None:
        if self.server is None or self.drop(payload):
            return
        pkt = decode_mh_datagram(payload, MAGS[mag], LMAA, 40000 + mag, 5436)
        for out in self.server.receive(self.now + self.delay, pkt):
            if isinstance(out, Send):
                back = MAGS.index(out.packet.dst)
                self.inflight.append((self.now + 2 * self.delay, back,
                                      encode_payload(out.packet)))

    def run(self, step: float = 0.001, limit: float = 60.0) -> None:
        core = self.core
        core.begin(self.now)
        while self.now < limit and not core.finished(self.now):
            for mag, payload, _ in core.poll(self.now):
                self._to_lma(mag, payload)
            due = [x for x in self.inflight if x[0] <= self.now]
            self.inflight = [x for x in self.inflight if x[0] > self.now]
            for _, mag, payload in due:
                for m, p, _ in core.receive(self.now, mag, payload):
                    self._to_lma(m, p)
            if self.server is not None:
                t = self.server.next_timer()
                if t is not None and t <= self.now:
                    self.server.timer(self.now)
            self.now += step


def test_steady_load_is_all_accepted_with_the_days_mix():
    core = LoadCore(LoadConfig(mns=200, rate=400, mags=len(MAGS), duration=5.0))
    Loop(core, lma()).run()
    t = core.stats.totals
    assert 1990 <= t.started <= 2001
    assert t.accepted == t.started and not t.rejected and t.timeouts == 0
    assert t.retransmissions == 0 and t.late == t.stray == t.garbled == 0
    assert t.by_kind["attach"] > 200 and t.by_kind["refresh"] > t.by_kind["handoff"] > 0
    assert t.revocations > 0   # each handoff's BRI answered with a BRA
    doc = summary(core, core.sending_ended + 0.01)
    assert abs(doc["rtt_ms"]["p50"] - 1.0) <= 1 / 64 and doc["rtt_ms"]["max"] <= 1.1
    assert 390 <= doc["rate_per_s"] <= 401 and doc["max_lag_ms"] <= 2.0


def test_rejections_are_counted_by_status_name():
    core = LoadCore(LoadConfig(mns=20, rate=100, mags=2, transactions=50))
    Loop(core, lma(default_profile=None)).run()
    t = core.stats.totals
    assert t.accepted == 0 and t.timeouts == 0
    assert dict(t.rejected) == {name_of(BAStatus, BAStatus.NOT_LMA_FOR_THIS_MOBILE_NODE): 50}


def test_silent_target_gives_retransmissions_then_timeouts():
    core = LoadCore(LoadConfig(mns=5, rate=50, mags=1, transactions=5,
                               retransmit=(0.1, 0.2), max_retransmissions=2, drain=5.0))
    loop = Loop(core, None)
    loop.run(limit=10)
    t = core.stats.totals
    assert t.timeouts == 5 and t.retransmissions == 10 and t.sent == 15
    assert core.outstanding == 0 and core.pop.attached == 0
    assert loop.now < 1.0   # 0.1 + 0.2 + 0.2 after the last PBU, then it stops


def test_late_answer_after_a_retransmission_is_counted_late():
    seen: set[bytes] = set()

    def drop_first_copy(payload: bytes) -> bool:   # delay: the LMA gets only retransmissions
        key = payload[12:]
        if key in seen:
            return False
        seen.add(key)
        return True

    core = LoadCore(LoadConfig(mns=3, rate=30, mags=1, transactions=3,
                               retransmit=(0.05,), max_retransmissions=3))
    Loop(core, lma(), drop=drop_first_copy).run(limit=5)
    t = core.stats.totals
    assert t.accepted == 3 and t.retransmissions == 3 and t.timeouts == 0


def test_max_outstanding_shows_as_lag_not_a_silently_lower_rate():
    core = LoadCore(LoadConfig(mns=1000, rate=1000, mags=1, duration=1.0,
                               max_outstanding=10))
    Loop(core, lma(), delay=0.05).run(limit=5)   # 100 ms RTT: at most 100 tx/s fit
    t = core.stats.totals
    assert t.started <= 120 and t.timeouts == 0
    row = core.close_interval(1.0)
    assert row.lag_ms > 500   # ~900 PBUs behind at 1000/s when sending ended
    assert summary(core, 1.0)["offered_per_s"] == 1000.0


def test_rate_keys_ramp_and_pause():
    core = LoadCore(LoadConfig(mns=10, rate=100, mags=1, duration=100, ramp=2.0))
    core.begin(0.0)
    assert core.target(1.0) == 25.0 and core.target(2.0) == 100.0
    assert core.target(3.0) == 200.0
    core.set_rate(3.0, 200)
    assert core.target(4.0) == 400.0
    core.pause(4.0, True)
    assert core.target(10.0) == 400.0 and core.poll(10.0) == []


def test_a_restarted_generator_resyncs_sequence_numbers_on_135():
    server = lma()
    first = LoadCore(LoadConfig(mns=30, rate=300, mags=1, transactions=300))
    Loop(first, server).run()
    assert first.stats.totals.accepted == 300
    # a new run against the same LMA: its counter restarts below the sessions' last numbers
    again = LoadCore(LoadConfig(mns=30, rate=300, mags=1, transactions=60, seed=1))
    loop = Loop(again, server)
    loop.now = 100.0
    loop.run(limit=200)
    t = again.stats.totals
    assert t.resyncs > 0 and t.stray == 0
    assert t.accepted == 60 and not t.rejected and t.timeouts == 0


def test_blocked_generator_does_not_ask_to_be_woken_for_pacing():
    core = LoadCore(LoadConfig(mns=2, rate=1000, mags=1, duration=10.0))
    core.begin(0.0)
    assert len(core.poll(0.01)) == 2          # both MNs busy now
    assert core.poll(0.02) == [] and core.blocked
    assert core.next_timer(0.02) > 0.5        # the retransmission, not "now"
    assert core.lag(0.02) > 0                 # but the lag shows
