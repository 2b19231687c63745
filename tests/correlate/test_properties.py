"""Property tests: the timeline invariants (tests/correlate/invariants.py) on random
simulator runs over the scenario space (attach, handoff, break-before-make with a
de-registration or a BRI, re-attach at the same MAG, detach, a backhaul outage at the
first attach), with the handoff count checked against the scenario; and on every sample."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmipview.packets import Tally
from pmipview.pipeline import correlate
from pmipview.sim.engine import run
from pmipview.sim.scenario import parse
from pmipview.sources.capfile import open_capture
from tests.correlate.invariants import frame_times, problems

SAMPLES = sorted(Path(__file__).resolve().parents[2].joinpath("samples").glob("*.pcap*"))

# (action, whether it is a handoff); gap: seconds between the break and the new MAG
STEPS = ("handoff", "bbm-deregistration", "bbm-revocation", "reattach-same-mag",
         "detach-long")


MAG_DHCP = st.sampled_from([{"dhcp": "server"}, {"dhcp": "relay", "relay_order": "rfc5844"},
                            {"dhcp": "relay", "relay_order": "draft"}])


@st.composite
def scenarios(draw) -> tuple[dict, dict[str, int]]:
    mags = draw(st.integers(2, 3))
    n_mns = draw(st.integers(1, 3))
    capture = draw(st.sampled_from(["all", "lma"]))
    data: dict = {
        "name": "property", "seed": draw(st.integers(1, 10_000)),
        "capture": ([f"mag{i + 1}" for i in range(mags)] if capture == "all" else [])
        + ["lma"],
        "links": {"delay_ms": 1.0, "jitter_ms": 0.2,
                  "backhaul": {"delay_ms": draw(st.sampled_from([2.0, 4.0, 30.0])),
                               "jitter_ms": 1.0}},
        "lma": {"ipv4": "192.0.2.100", "pool": "10.10.0.0/24", "default_router": "10.10.0.1",
                "max_lifetime": 600},
        "mag": [{"name": f"mag{i + 1}", "ipv4": f"192.0.2.{i + 1}", "lifetime": 600,
                 **draw(MAG_DHCP)} for i in range(mags)],
        "mn": [], "event": [], "fault": []}
    for i, mag in enumerate(data["mag"]):
        if mag["dhcp"] == "relay":
            mag["relay_address"] = f"10.10.{i + 1}.1"
            data["lma"].update(dhcp_server="192.0.2.67", dhcp_lease=600,
                               adopt_foreign_hoa=mag["relay_order"] == "draft")
    handoffs: dict[str, int] = {}
    end = 0.0
    # the first MN's first attach may meet a backhaul outage; the rest happens after it
    outage = draw(st.one_of(st.none(), st.floats(5, 30)))
    base = 0.0 if outage is None else outage + 75
    for n in range(n_mns):
        name = f"mn{n + 1}"
        data["mn"].append({"name": name, "mac": f"02:11:22:33:44:{n + 1:02x}"})
        mag = draw(st.integers(0, mags - 1))
        t = draw(st.floats(1, 5)) + n * 0.5 + (base if n else 0.0)
        data["event"].append({"at": t, "action": "attach", "mn": name,
                              "mag": f"mag{mag + 1}"})
        if n == 0 and outage is not None:
            data["fault"].append({"from": 0.0, "to": t + outage,
                                  "link": f"mag{mag + 1}-lma"})
            t = base
        count = 0
        for step in draw(st.lists(st.sampled_from(STEPS), max_size=4)):
            t += draw(st.floats(8, 40))
            other = (mag + draw(st.integers(1, mags - 1))) % mags
            gap = draw(st.floats(0.1, 3))
            ev = data["event"]
            if step == "handoff":
                ev.append({"at": t, "action": "handoff", "mn": name, "mag": f"mag{other + 1}"})
                mag, count = other, count + 1
            elif step == "bbm-deregistration":
                ev.append({"at": t, "action": "detach", "mn": name})
                ev.append({"at": t + gap, "action": "handoff", "mn": name,
                           "mag": f"mag{other + 1}"})
                mag, count = other, count + 1
            elif step == "bbm-revocation":
                ev.append({"at": t, "action": "revoke", "mn": name})
                ev.append({"at": t + gap, "action": "handoff", "mn": name,
                           "mag": f"mag{other + 1}", "hi": 2})
                mag, count = other, count + 1
            elif step == "reattach-same-mag":
                ev.append({"at": t, "action": "detach", "mn": name})
                ev.append({"at": t + gap, "action": "attach", "mn": name,
                           "mag": f"mag{mag + 1}"})
            else:
                ev.append({"at": t, "action": "detach", "mn": name})
                t += 15
                ev.append({"at": t, "action": "attach", "mn": name, "mag": f"mag{other + 1}"})
                mag = other
            t += gap
        handoffs[f"{name}@example.net"] = count
        end = max(end, t)
    data["duration"] = end + 20
    return data, handoffs


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(scenarios())
def test_invariants_hold_on_random_simulator_runs(case):
    data, handoffs = case
    result = run(parse(data, "property.toml"))
    report = correlate(result.records, Tally())
    assert problems(report, frame_times(result.records)) == []
    have = {m.nai: len(m.handoffs) for m in report.mobile_nodes}
    assert have == handoffs


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_invariants_hold_on_every_sample(path):
    with open_capture(path) as reader:
        records = list(reader)
    report = correlate(records, Tally())
    assert problems(report, frame_times(records)) == []
