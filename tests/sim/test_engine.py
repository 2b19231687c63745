"""The simulator: scenario keys added for the samples (dnav4, restart, heartbeat settings)
and the expectation keys ``hnp`` and ``restart_counter``."""

from __future__ import annotations

from typing import Any

import pytest

from pmipview.packets import Tally, scan
from pmipview.sim.engine import run
from pmipview.sim.expect import check
from pmipview.sim.scenario import ScenarioError, parse

MAC = "02:11:22:33:44:01"


def scenario(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "duration": 30,
        "capture": ["mag1", "mag2"],
        "lma": {"ipv4": "192.0.2.100", "pool": "10.10.0.0/24",
                "default_router": "10.10.0.1"},
        "mag": [{"name": "mag1", "ipv4": "192.0.2.1", "server_id": "10.10.1.1"},
                {"name": "mag2", "ipv4": "192.0.2.2", "server_id": "10.10.2.1"}],
        "mn": [{"name": "mn1", "mac": MAC}],
        "event": [{"at": 1.0, "action": "attach", "mn": "mn1", "mag": "mag1"},
                  {"at": 10.0, "action": "handoff", "mn": "mn1", "mag": "mag2"}],
    }
    base.update(over)
    return base


def packets(data: dict[str, Any]) -> tuple[list, list[str], Any]:
    sc = parse(data)
    result = run(sc)
    return list(scan(result.records, Tally())), list(sc.capture), result


def count(data: dict[str, Any], **fact: Any) -> int:
    pk, names, _ = packets(data)
    for n in range(len(pk) + 1):
        if not check([{**fact, "count": n}], pk, names):
            return n
    raise AssertionError("unreachable")


# --------------------------------------------------------------------------- dnav4


def test_mn_reconfirms_its_lease_after_a_handoff_by_default() -> None:
    assert count(scenario(), kind="DHCP REQUEST", at="mag2") == 1  # INIT-REBOOT


def test_dnav4_mn_keeps_its_lease_across_a_handoff() -> None:
    data = scenario(mn=[{"name": "mn1", "mac": MAC, "dnav4": True}])
    assert count(data, kind="DHCP REQUEST", at="mag2") == 0
    _, _, result = packets(data)
    bound = [e for e in result.events if e.event.kind == "bound"]
    assert len(bound) == 1  # the first attachment only
    # the registration still moves: mag2 sends its PBU (HI=3)
    assert count(data, kind="PBU", at="mag2", hi=3) == 1


def test_dnav4_must_be_a_boolean() -> None:
    with pytest.raises(ScenarioError, match=r"mn\[0\]\.dnav4"):
        parse(scenario(mn=[{"name": "mn1", "mac": MAC, "dnav4": "yes"}]))


# --------------------------------------------------------------------------- restart, heartbeat


def restart_scenario(**lma: Any) -> dict[str, Any]:
    return scenario(
        capture=["mag1"],
        lma={"ipv4": "192.0.2.100", "pool": "10.10.0.0/24", "default_router": "10.10.0.1",
             "heartbeat_interval": 5, **lma},
        mag=[{"name": "mag1", "ipv4": "192.0.2.1", "restart_counter": 4}],
        event=[{"at": 1.0, "action": "attach", "mn": "mn1", "mag": "mag1"},
               {"at": 12.0, "action": "restart", "mag": "mag1"}],
        duration=20)


def test_lma_heartbeats_and_a_mag_restart_bumps_its_restart_counter() -> None:
    data = restart_scenario()
    assert count(data, kind="HB-Req", src="192.0.2.100") == 3  # t = 6, 11, 16
    assert count(data, kind="HB-Resp", restart_counter=4) == 2
    assert count(data, kind="HB-Resp", restart_counter=5) == 1
    _, _, result = packets(data)
    kinds = [(e.node, e.event.kind) for e in result.events]
    assert ("mag1", "restarted") in kinds and ("lma", "peer-restarted") in kinds


def test_no_heartbeat_unless_configured() -> None:
    data = restart_scenario()
    del data["lma"]["heartbeat_interval"]
    assert count(data, kind="HB-Req") == 0


def test_lma_restart_counter_answers_mag_heartbeats_config_only() -> None:
    sc = parse(restart_scenario(restart_counter=9, heartbeat_misses=2))
    assert (sc.lma.restart_counter, sc.lma.heartbeat_misses) == (9, 2)
    assert sc.mags[0].restart_counter == 4


def test_heartbeat_interval_must_be_positive() -> None:
    with pytest.raises(ScenarioError, match=r"lma\.heartbeat_interval: expected seconds > 0"):
        parse(restart_scenario(heartbeat_interval=0))


def test_restart_event_needs_a_mag_but_no_mn() -> None:
    data = restart_scenario()
    data["event"][1] = {"at": 12.0, "action": "restart"}
    with pytest.raises(ScenarioError, match=r"event\[1\]\.mag"):
        parse(data)
    data["event"][1] = {"at": 12.0, "action": "restart", "mag": "mag9"}
    with pytest.raises(ScenarioError, match="no MAG named 'mag9'"):
        parse(data)
    data["event"][1] = {"at": 12.0, "action": "attach", "mag": "mag1"}
    with pytest.raises(ScenarioError, match=r"event\[1\]\.mn: missing"):
        parse(data)


def test_a_restarted_mag_reregisters_its_mn_after_a_135() -> None:
    # the new MAG core starts its sequence numbers again: the LMA answers 135 naming the
    # last accepted number, the MAG resends above it
    data = restart_scenario()
    data["mag"][0]["lease"] = 40  # T1 = 20 s after the ACK at ~1 s
    data["duration"] = 25
    assert count(data, kind="PBA", status=135) == 1
    assert count(data, kind="PBA", status=0, hi=4, hoa="10.10.0.2") == 1
    assert count(data, kind="DHCP ACK", dst="10.10.0.2") == 1


# --------------------------------------------------------------------------- expect keys


def dual_stack() -> dict[str, Any]:
    return scenario(
        capture=["mag1"], duration=5,
        lma={"ipv6": "2001:db8::100", "pool": "10.10.0.0/24", "default_router": "10.10.0.1",
             "hnp_pool": "2001:db8:100::/48"},
        mag=[{"name": "mag1", "ipv6": "2001:db8:1::1", "transport": "ipv6"}],
        mn=[{"name": "mn1", "mac": MAC, "ipv6": True}],
        event=[{"at": 1.0, "action": "attach", "mn": "mn1", "mag": "mag1"}])


def test_expect_hnp_matches_a_home_network_prefix_option() -> None:
    data = dual_stack()
    assert count(data, kind="PBU", hnp="::/0") == 1
    assert count(data, kind="PBA", hnp="2001:db8:100::/64") == 2  # registration, IPv4 added
    assert count(data, kind="PBA", hnp="2001:db8:100::/64", hoa="10.10.0.2") == 1
    assert count(data, kind="PBA", hnp="2001:db8:999::/64") == 0
    assert count(data, kind="DHCP ACK", hnp="::/0") == 0
    assert count(data, kind="PBU", hnp="not a prefix") == 0


def test_dual_stack_mn_is_registered_for_ipv6_before_its_discover() -> None:
    pk, _, _ = packets(dual_stack())
    first = next(p for p in pk if p.frame.mh is not None)
    assert first.frame.mh.hoa_request is None and first.frame.mh.hnps


def test_unknown_expect_key_is_reported() -> None:
    pk, names, _ = packets(dual_stack())
    assert check([{"kind": "PBU", "hnp_": "::/0"}], pk, names) == [
        "expect[0]: unknown key 'hnp_'"]
