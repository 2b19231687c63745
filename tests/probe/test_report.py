"""The reports: JUnit XML parses and counts right even with hostile strings from the wire,
the JSON carries every field, the table escapes control characters, and docs/probe.md
lists the catalog as it is."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from rich.console import Console

from dissectors.mh_options import MNIdentifier
from pmipview.probe.catalog import CATALOG
from pmipview.probe.driver import Result, Verdict, failed, passed, skipped
from pmipview.probe.report import as_json, as_junit, frames_text, summary_line, table

# an MN-ID as the decoder shows it: control characters escaped where bytes became text
EVIL = MNIdentifier(b"mn\x1b[2J\x07\x00<x>&\"@example.com").text


def results() -> list[Result]:
    return [Result(CATALOG[0], passed(f"frame 2: MN-ID {EVIL}"), [1, 2, 3, 5], 0.25),
            Result(CATALOG[1], failed("S=1", f"frame 6: {EVIL}"), [6], 1.0),
            Result(CATALOG[2], skipped("needs two MAG addresses"), [], 0.0),
            Result(CATALOG[3], Verdict("ERROR", reason="no answer"), [7, 8, 9], 7.0)]


def test_junit_structure_and_escaping():
    root = ET.fromstring(as_junit(results(), f"probe {EVIL}", "2026-01-01T00:00:00+00:00"))
    assert root.tag == "testsuites" and root.get("tests") == "4"
    (suite,) = root
    assert (suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("1", "1", "1")
    cases = suite.findall("testcase")
    assert [c.get("name").split()[0] for c in cases] == ["LMA-01", "LMA-02", "LMA-03",
                                                         "LMA-04"]
    failure = cases[1].find("failure")
    assert failure.get("message") == "S=1" and "observed: frame 6" in failure.text
    assert "\x1b" not in failure.text and "\\x1b[2J" in failure.text
    assert cases[2].find("skipped").get("message") == "needs two MAG addresses"
    assert cases[3].find("error") is not None
    assert "frames: 1-3, 5" in cases[0].find("system-out").text
    assert float(suite.get("time")) == 8.25


def test_json_and_table():
    doc = json.loads(as_json(results(), {"target": "192.0.2.1"}))
    assert doc["summary"] == {"PASS": 1, "FAIL": 1, "SKIP": 1, "ERROR": 1}
    first = doc["checks"][0]
    assert first["frames"] == [1, 2, 3, 5] and first["expected"] is None
    assert EVIL in first["observed"]  # JSON carries it as data, escaped by the encoder
    console = Console(record=True, width=300)
    console.print(table(results(), "t"))
    text = console.export_text()
    assert "\x1b[2J" not in text and "\\x1b[2J" in text
    assert "expected: S=1" in text and "observed: frame 6" in text
    assert summary_line(results()) == "4 checks: 1 passed, 1 failed, 1 skipped, 1 errors"
    assert frames_text([]) == "" and frames_text([4]) == "4"


def test_docs_list_the_catalog():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "probe.md").read_text()
    for c in CATALOG:
        assert f"| {c.id} | {c.section} | {c.name} |" in doc, c.id
