"""The MN population: one transaction per MN, warm-up attaches, the day's mix."""

from __future__ import annotations

import pytest

from pmipview.load.model import ATTACHED, Population, TrafficModel
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
