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
