"""The probe's reports: a rich table, JSON and JUnit XML (what Jenkins and GitLab read).

Text from the wire reaches the verdicts already escaped, once, where bytes became text
(``MNIdentifier.text``, ``info()``: :mod:`dissectors.text`), so it holds no control
character; it is written as data (rich ``Text`` without markup, JSON, ElementTree, which
escapes XML markup).  Nothing here reads packets.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from typing import Any

from rich.table import Table
from rich.text import Text

from pmipview.probe.driver import ERROR, FAIL, PASS, SKIP, VERDICTS, Result

STYLE = {PASS: "green", FAIL: "bold red", SKIP: "yellow", ERROR: "bold magenta"}


def counts(results: list[Result]) -> dict[str, int]:
    c = Counter(r.status for r in results)
    return {v: c.get(v, 0) for v in VERDICTS}


def detail(r: Result) -> str:
    """The verdict's text; for a FAIL, expected and observed on their own lines."""
    v = r.verdict
    if v.status == FAIL:
        return f"expected: {v.expected}\nobserved: {v.observed}"
    return v.reason if v.status in (SKIP, ERROR) else v.observed


def frames_text(frames: list[int]) -> str:
    """``1-4, 7`` style."""
    if not frames:
        return ""
    parts, start, prev = [], frames[0], frames[0]
    for f in [*frames[1:], None]:
        if f is not None and f == prev + 1:
            prev = f
            continue
        parts.append(f"{start}" if start == prev else f"{start}-{prev}")
        if f is not None:
            start = prev = f
    return ", ".join(parts)


def table(results: list[Result], title: str) -> Table:
    t = Table(title=title, show_lines=False, expand=False)
    for col in ("ID", "RFC", "check", "verdict", "detail", "frames"):
        t.add_column(col, overflow="fold")
    for r in results:
        c = r.case
        t.add_row(c.id, c.section, c.name, Text(r.status, style=STYLE[r.status]),
                  Text(detail(r)),
                  frames_text(r.frames))
    return t


def summary_line(results: list[Result]) -> str:
    n = counts(results)
    return (f"{len(results)} checks: {n[PASS]} passed, {n[FAIL]} failed, {n[SKIP]} skipped, "
            f"{n[ERROR]} errors")


def as_json(results: list[Result], meta: dict[str, Any]) -> str:
    doc = {
        **meta,
        "summary": counts(results),
        "checks": [{
            "id": r.case.id, "name": r.case.name, "section": r.case.section,
            "sends": r.case.sends, "passes": r.case.passes, "verdict": r.status,
            "expected": r.verdict.expected or None, "observed": r.verdict.observed or None,
            "reason": r.verdict.reason or None, "frames": r.frames,
            "duration_s": round(r.duration, 3),
        } for r in results],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def as_junit(results: list[Result], suite: str, timestamp: str) -> bytes:
    """``<testsuites><testsuite><testcase>`` with failure / error / skipped children."""
    n = counts(results)
    total = f"{sum(r.duration for r in results):.3f}"
    attrs = {"name": "pmipview probe", "tests": str(len(results)), "failures": str(n[FAIL]),
             "errors": str(n[ERROR]), "skipped": str(n[SKIP]), "time": total}
    root = ET.Element("testsuites", attrs)
    ts = ET.SubElement(root, "testsuite", {**attrs, "name": suite,
                                           "timestamp": timestamp})
    for r in results:
        c = r.case
        tc = ET.SubElement(ts, "testcase", {
            "classname": f"pmipview.probe.{c.id.split('-')[0].lower()}",
            "name": f"{c.id} {c.name} ({c.section})", "time": f"{r.duration:.3f}"})
        text = detail(r)
        if r.status == FAIL:
            ET.SubElement(tc, "failure", {"message": r.verdict.expected,
                                          "type": "FAIL"}).text = text
        elif r.status == ERROR:
            ET.SubElement(tc, "error", {"message": text, "type": "ERROR"}).text = text
        elif r.status == SKIP:
            ET.SubElement(tc, "skipped", {"message": text})
        out = f"sends: {c.sends}\npasses: {c.passes}\nframes: {frames_text(r.frames)}"
        if r.status == PASS:
            out += f"\nobserved: {text}"
        ET.SubElement(tc, "system-out").text = out
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
