"""A summarising correlator (finished history out of memory, correlate/history.py) gives
the same timeline, byte for byte, as one that keeps everything."""

from __future__ import annotations

import io
import json

import pytest

from bench.make_timeline_capture import scenario
from pmipview.correlate.history import BATCH
from pmipview.packets import Tally
from pmipview.pipeline import correlate
from pmipview.render import timeline_json
from pmipview.sim.engine import run
from pmipview.sim.scenario import parse


@pytest.fixture(scope="module")
def records():
    data = scenario(mns=12, mags=3, duration=7200.0, seed=3)
    data["mag"][1]["server_id"] = "10.0.0.254"   # server-id-changed across some handoffs
    return run(parse(data, "summarise.toml")).records


def _json(report, mns=None) -> str:
    buf = io.StringIO()
    timeline_json.write(report, mns, buf.write)
    return buf.getvalue()


def test_the_summarised_timeline_is_the_same(records):
    full = correlate(records, Tally())
    summarised = correlate(records, Tally(), summarise=True)
    assert summarised.history, "the capture is long enough for history to leave memory"
    kept = sum(len(m.transactions) for m in summarised.mobile_nodes)
    assert kept < sum(len(m.transactions) for m in full.mobile_nodes) - BATCH
    assert _json(summarised) == _json(full) == json.dumps(timeline_json.report(full))
    one = [m for m in summarised.mobile_nodes if summarised.history.has(m)][:1]
    assert _json(summarised, one) == _json(full, [m for m in full.mobile_nodes
                                                  if m.id == one[0].id])


def test_complete_gives_each_mn_its_whole_history_then_takes_it_back(records):
    full = {m.id: m for m in correlate(records, Tally()).mobile_nodes}
    summarised = correlate(records, Tally(), summarise=True)
    for mn in summarised.complete():
        before = len(mn.transactions)
        assert [t.first_sent for t in mn.transactions] == [
            t.first_sent for t in full[mn.id].transactions]
        assert [a.start for a in mn.attachments] == [a.start for a in full[mn.id].attachments]
    assert len(mn.transactions) <= before


def _script_json(s, summarise: bool) -> str:
    return _json(correlate(s.records(), Tally(), summarise=summarise))


def _refreshed(s, t0: float, minutes: int, mag: str, lma: str, nai: str, mac: str | None,
               hoa: str, seq: int, mac_src: str | None = None) -> None:
    s.pbu(t0, mag, lma, seq, nai=nai, mac=mac, lifetime=60, mac_src=mac_src)
    s.pba(t0 + 0.005, mag, lma, seq, nai=nai, mac=mac, hoa=hoa, lifetime=60)
    for i in range(1, minutes * 2):
        t = t0 + 30 * i
        s.pbu(t, mag, lma, seq + i, nai=nai, mac=mac, hi=5, hoa=hoa, plen=24, lifetime=60,
              mac_src=mac_src)
        s.pba(t + 0.005, mag, lma, seq + i, nai=nai, mac=mac, hi=5, hoa=hoa, lifetime=60)


def test_an_mn_merged_after_its_history_left_memory():
    from tests.correlate.builders import BCAST, HOA1, LMA, MAG1, MAG2, MN1, NAI1, ZERO, Script

    s = Script()
    _refreshed(s, 0, 20, MAG1, LMA, NAI1, None, HOA1, 10)      # no MN-LLI: NAI only
    s.dhcp(1300, "DISCOVER", 0x77, MN1, ZERO, BCAST)           # MAC only, for now
    _refreshed(s, 1300.002, 20, MAG2, LMA, NAI1, MN1, HOA1, 200)  # the LLI joins them
    assert _script_json(s, True) == _script_json(s, False)
    summarised = correlate(s.records(), Tally(), summarise=True)
    assert len(summarised.mobile_nodes) == 1


def test_a_node_renamed_after_history_left_memory():
    from tests.correlate.builders import HOA1, LMA, LMA_6, MAG1, MAG1_6, NAI1, Script, node_mac

    s = Script()
    s.pbu(0, MAG1, LMA, 1, nai="other@example.net", mac_src=node_mac(MAG1))
    _refreshed(s, 1, 20, MAG1_6, LMA_6, NAI1, None, HOA1, 10, mac_src="02:00:00:00:00:66")
    # much later the IPv6 address shows MAG1's MAC: one node, named MAG1 everywhere
    s.pbu(1300, MAG1_6, LMA_6, 500, nai=NAI1, hi=5, hoa=HOA1, lifetime=60,
          mac_src=node_mac(MAG1))
    doc = _script_json(s, True)
    assert doc == _script_json(s, False)
    assert MAG1_6 not in {t["mag"] for m in json.loads(doc)["mobile_nodes"]
                          for t in m["transactions"]}
