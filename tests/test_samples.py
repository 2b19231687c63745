"""The bundled samples: up to date with their generators, showing their expected facts,
and decoded by tshark without a warning."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pmipview.packets import Tally, scan
from pmipview.sim.expect import check
from pmipview.sim.scenario import load
from pmipview.sources.capfile import open_capture
from tests.tshark_util import require_tshark

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
SCENARIOS = sorted((SAMPLES / "scenarios").glob("*.toml"))


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
