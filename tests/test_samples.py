"""The bundled samples: up to date with their generators, showing their expected facts,
and decoded by tshark without a warning."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from pmipview.packets import Tally, scan
from pmipview.pipeline import correlate
from pmipview.render import timeline_json
from pmipview.sim.expect import check, check_timeline
from pmipview.sim.scenario import load
from pmipview.sources.capfile import open_capture
from tests.tshark_util import require_tshark

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
SCENARIOS = sorted((SAMPLES / "scenarios").glob("*.toml"))

# (sample, fact index) -> the engine bug that makes the fact fail, as strict xfails; empty
# when every fact holds.  A fixed bug turns its entry into a failure until it is removed.
ENGINE_BUGS: dict[tuple[str, int], str] = {}


def test_every_scenario_has_its_capture_and_the_index_is_current():
    p = subprocess.run([sys.executable, "samples/build.py", "--check"], cwd=ROOT,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    p = subprocess.run([sys.executable, "samples/make_tour.py", "--check"], cwd=ROOT,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_sample_shows_its_expected_facts(path):
    sc = load(path)
    assert sc.description.strip() and sc.expect, "a sample needs a description and facts"
    capture = SAMPLES / f"{sc.name}.pcapng"
    assert capture.stat().st_size < 64 * 1024, "keep samples small"
    with open_capture(capture) as reader:
        packets = list(scan(reader, Tally()))
        names = [i.name for i in reader.interfaces]
    assert names == list(sc.capture)
    assert all(p.frame.malformed is None and not p.frame.warnings for p in packets)
    assert check(sc.expect, packets, names) == []


@cache
def _timeline(capture: Path) -> dict[str, Any]:
    """The document of ``pmipview timeline CAPTURE --json``."""
    with open_capture(capture) as reader:
        report = correlate(reader, Tally())
    return json.loads(json.dumps(timeline_json.report(report)))


def _timeline_facts() -> list[Any]:
    params = []
    for path in SCENARIOS:
        sc = load(path)
        for i in range(len(sc.timeline)):
            bug = ENGINE_BUGS.get((sc.name, i))
            marks = [pytest.mark.xfail(reason=f"engine bug: {bug}", strict=True)] if bug else []
            params.append(pytest.param(path, i, id=f"{sc.name}[{i}]", marks=marks))
    return params


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_sample_has_timeline_facts(path):
    sc = load(path)
    assert sc.timeline, "a sample needs [[timeline]] facts"
    assert all(f.get("fact") for f in sc.timeline), "each fact is stated in words"
    assert all(i < len(sc.timeline) for name, i in ENGINE_BUGS if name == sc.name), \
        "ENGINE_BUGS names a fact that does not exist"


@pytest.mark.parametrize(("path", "index"), _timeline_facts())
def test_sample_timeline_shows_its_fact(path, index):
    sc = load(path)
    assert check_timeline([sc.timeline[index]], _timeline(SAMPLES / f"{sc.name}.pcapng")) \
        == [], sc.timeline[index]["fact"]


def test_check_timeline_reports_what_differs():
    doc = {"nodes": [{"name": "192.0.2.1", "role": "mag",
                      "addresses": ["192.0.2.1", "2001:db8:1::1"]}],
           "mobile_nodes": [{
               "id": "mn1@example.net", "nais": ["mn1@example.net"],
               "macs": ["02:11:22:33:44:01"], "ipv4_hoas": ["10.10.0.2"], "hnps": [],
               "attachments": [{"mag": "192.0.2.1", "ipv4_hoa": "10.10.0.2",
                                "end_reason": "handoff", "attach_ms": 80.0,
                                "dhcp_mode": None}],
               "handoffs": [], "dhcp": [],
               "transactions": [{"kind": "registration", "status": 0, "outcome": "accepted"}],
               "diagnostics": [{"severity": "warning", "code": "retransmission", "mn": "x"}]}],
           "diagnostics": [{"severity": "note", "code": "peer-restarted", "mn": None}]}
    ok = {"fact": "f", "mn": "02:11:22:33:44:01",
          "attachments": [{"mag": "2001:DB8:1::1", "end_reason": "handoff",
                           "attach_ms_max": 100, "null": ["dhcp_mode"]}],
          "transactions": [{"kind": "registration", "count": 1}, {"status": 130, "count": 0}],
          "diagnostics": ["retransmission"], "clean": False}
    assert check_timeline([ok, {"diagnostics": ["peer-restarted"], "clean": True}], doc) == []
    bad = {"fact": "f", "mn": "10.10.0.2", "ipv4_hoas": [],
           "attachments": [{"end_reason": "detach", "attach_ms_max": 50}],
           "handoffs": [{"hoa_preserved": True}],
           "transactions": [{"outcome": "rejected"}], "diagnostics": ["dhcp-nak"],
           "clean": True}
    assert check_timeline([bad], doc) == [
        "timeline[0] 'f': ipv4_hoas is ['10.10.0.2'], expected []",
        "timeline[0] 'f': attachment 1 of 1: end_reason is 'handoff', expected 'detach'",
        "timeline[0] 'f': attachment 1 of 1: attach_ms is 80.0, expected at most 50",
        "timeline[0] 'f': 0 handoffs, expected 1: []",
        "timeline[0] 'f': no transaction matches {'outcome': 'rejected'}: "
        "[{outcome='accepted'}]",
        "timeline[0] 'f': diagnostic 'dhcp-nak' not raised for this MN "
        "(raised: ['retransmission'])",
        "timeline[0] 'f': not clean: error/warning diagnostics for this MN: "
        "['retransmission']"]
    assert check_timeline([{"mn": "mn2@example.net"}], doc) == [
        "timeline[0] '': no mobile node 'mn2@example.net' (mobile nodes: "
        "['mn1@example.net'])"]


def test_check_timeline_rejects_unknown_keys():
    doc = {"nodes": [], "mobile_nodes": [], "diagnostics": []}
    facts = [{"mn": "x", "attachment": []},
             {"mn": "x", "attachments": [{"end_reson": "detach", "count": 1}]},
             {"fact": "capture", "handoffs": []}]
    assert check_timeline(facts, doc) == [
        "timeline[0]: unknown key 'attachment'",
        "timeline[1]: attachments[0]: unknown key 'end_reson'",
        "timeline[1]: attachments[0]: unknown key 'count'",
        "timeline[2]: handoffs: needs mn (a table without mn is about the whole capture)"]


@pytest.mark.tshark
@pytest.mark.parametrize("path", [*SCENARIOS, SAMPLES / "tour.toml"],
                         ids=[*(p.stem for p in SCENARIOS), "tour"])
def test_tshark_decodes_the_sample_without_warnings(path):
    tshark = require_tshark()
    capture = SAMPLES / (f"{load(path).name}.pcapng" if path.exists() else "tour.pcap")
    p = subprocess.run([tshark, "-r", str(capture), "-q", "-z", "expert"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    lines = [ln for ln in p.stdout.splitlines() if ln.strip()]
    assert not any(word in ln for ln in lines for word in ("Error", "Warning", "Malformed")), \
        p.stdout
