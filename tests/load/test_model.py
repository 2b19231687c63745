"""The MN population: one transaction per MN, warm-up attaches, the day's mix."""

from __future__ import annotations

import pytest

from pmipview.load.model import ATTACHED, Population, TrafficModel, login_ramp
from pmipview.load.wire import ATTACH, DETACH, HANDOFF, REFRESH


def test_default_mix_resembles_a_day():
    a, r, h, d = TrafficModel().weights()
    assert a == d and r > 0.6 and 0.05 < h < 0.15 and abs(a + r + h + d - 1) < 1e-9
    assert TrafficModel().weights(handoff_possible=False)[2] == 0


def test_bad_model_values():
    for bad in (TrafficModel(lifetime=2), TrafficModel(refresh_at=0),
                TrafficModel(handoffs_per_hour=-1), TrafficModel(session_minutes=0)):
        with pytest.raises(ValueError):
            bad.check()


def test_warm_up_attaches_everyone_then_mixes():
    pop = Population(50, 4, TrafficModel(), seed=1)
    first = [pop.pick() for _ in range(50)]
    assert all(k == ATTACH for k, _, _ in first)
    assert sorted(mn for _, mn, _ in first) == list(range(50))
    assert pop.pick() is None   # everyone busy: nothing to send
    for _, mn, _ in first:
        pop.done(mn, ATTACH, True, 0x0A000000 + mn, 16)
    assert pop.attached == 50 and pop.warming == 0
    kinds = {ATTACH: 0, REFRESH: 0, HANDOFF: 0, DETACH: 0}
    for _ in range(5000):
        kind, mn, mag = pop.pick()
        assert pop.busy[mn] == 1 and 0 <= mag < 4
        kinds[kind] += 1
        pop.done(mn, kind, True)
        busy = sum(pop.busy)
        assert busy == 0
    assert kinds[REFRESH] > kinds[HANDOFF] > 0 and kinds[DETACH] > 0 and kinds[ATTACH] > 0
    assert abs(kinds[ATTACH] - kinds[DETACH]) < 200
    att = [mn for mn in range(50) if pop.state[mn] == ATTACHED]
    assert len(att) == pop.attached


def test_handoff_moves_to_another_mag_and_failure_detaches():
    pop = Population(1, 2, TrafficModel(handoffs_per_hour=1e6), seed=2)
    kind, mn, mag = pop.pick()
    pop.done(mn, kind, True, 1, 32)
    kind, mn, new = pop.pick()
    assert kind == HANDOFF and new != mag
    pop.done(mn, kind, False)   # the handoff failed: the MN is detached
    assert pop.attached == 0
    assert pop.pick()[0] == ATTACH


def _attaches_per_second(ramp: float, mns: int, rate: float, seconds: float) -> list[int]:
    """Runs a LoadCore on a virtual clock against an instant byte-level reflector (every
    PBU accepted, an HoA given); attaches started in each second."""
    from ipaddress import IPv4Address

    from dissectors.mh import BindingAck, encode_mh
    from dissectors.mh_codes import BAFlag
    from dissectors.mh_options import IPv4HoAReply
    from pmipview.load.core import LoadConfig, LoadCore

    pba = bytearray(encode_mh(BindingAck(0, 0, BAFlag.P, 150, (
        IPv4HoAReply(0, IPv4Address("10.0.0.2"), 16),))))
    core = LoadCore(LoadConfig(mns=mns, rate=rate, mags=2, duration=seconds, ramp=ramp))
    per_second = [0] * int(seconds + 1)
    t = 0.0
    core.begin(t)
    while t < seconds:
        before = core.stats.totals.kinds[ATTACH]
        for mag, payload, _ in core.poll(t):
            pba[8], pba[9] = payload[6], payload[7]
            core.receive(t + 0.0002, mag, bytes(pba))
        per_second[int(t)] += core.stats.totals.kinds[ATTACH] - before
        t += 0.001
    return per_second


def test_login_ramp_keeps_the_storm_within_the_attach_rate():
    mns, rate, attach_rate = 2000, 4000.0, 1000.0
    ramp = login_ramp(mns, rate, attach_rate)
    assert ramp == 16.0   # 2·N·R/A²
    storm = _attaches_per_second(0.0, mns, rate, 2.0)
    assert max(storm) > 1.5 * attach_rate           # without a ramp: every MN at once
    ramped = _attaches_per_second(ramp, mns, rate, 8.0)
    assert max(ramped) <= attach_rate * 1.02        # the peak, at the last first attach
    assert sum(ramped[:5]) >= mns                   # all attached by √(2TN/R) = 4 s
    assert login_ramp(mns, 900.0, attach_rate) == 0.0
