"""``pmipview report``: the HTML page as data (html_report.py) and the command as a user
runs it (cli/report.py): one self-contained file, and every mistake as one line on stderr
with a non-zero exit, never a traceback.  The page in a real browser: tests/browser/."""

from __future__ import annotations

import json
import os
import random
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.corpus import unrelated_frame
from dissectors.link import LinkType
from pmipview.cli import app
from pmipview.correlate.model import Diagnostic, MobileNode, Report
from pmipview.packets import Tally
from pmipview.pipeline import correlate
from pmipview.render import html_report as hr
from pmipview.render.ladder.model import Arrow, Ladder, Lifeline, build
from pmipview.render.timeline import stats_dict
from pmipview.sources import open_source
from pmipview.sources.capfile import write_pcap
from pmipview.sources.records import Record
from tests.cli_util import one_line_error

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
TOUR = SAMPLES / "tour.pcap"
runner = CliRunner()


APP = app  # the registered command, as a user runs it


def invoke(*args: object):
    return runner.invoke(APP, ["report", *map(str, args)])


class Doc(HTMLParser):
    """Every start tag with its attributes, and the text of <script> elements."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._in_script: dict[str, str | None] | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._in_script = dict(attrs)
            self.scripts.append((self._in_script, ""))

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = None

    def handle_data(self, data):
        if self._in_script is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)

    def ids(self) -> list[str]:
        return [a["id"] for _, a in self.tags if a.get("id")]

    def data(self) -> dict:
        return json.loads(next(t for a, t in self.scripts if a.get("id") == "pmv-data"))


@pytest.fixture(scope="module")
def tour_html(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("report") / "tour.html"
    r = invoke(TOUR, "-o", out)
    assert r.exit_code == 0, r.output
    assert str(out) in r.stderr and r.stdout == ""
    return out.read_text(encoding="utf-8")


# -- the command --------------------------------------------------------------------------

def test_tour_report_holds_summary_mn_table_ladders_and_plots(tour_html):
    doc = Doc(tour_html)
    assert tour_html.startswith("<!DOCTYPE html>")
    rows = [a for t, a in doc.tags if t == "tr" and a.get("data-mn")]
    assert [a["data-mn"] for a in rows] == ["mn1@example.net", "mn2@example.net",
                                            "mn3@example.net"]
    assert [a["class"] for a in rows] == ["", "bad", "bad"]
    assert "170 NOT_AUTHORIZED_FOR_IPV4_MOBILITY_SERVICE" in tour_html
    assert "1 rejected" in tour_html and "1 timeout" in tour_html
    # one ladder per MN, each arrow of the model marked for the script
    data = doc.data()
    assert [lad["mn"] for lad in data["ladders"]] == ["mn1@example.net", "mn2@example.net",
                                                      "mn3@example.net"]
    for k, lad in enumerate(data["ladders"]):
        marked = {a["data-arrow"] for _, a in doc.tags
                  if a.get("data-arrow") is not None and a.get("data-part") == "line"
                  and f"l{k}p" in a["id"]}
        assert marked == {str(i) for i in range(len(lad["arrows"]))}
    # every plot kind has data in the tour: six inline SVGs
    kinds = [a["data-kind"] for t, a in doc.tags if t == "figure"]
    assert kinds == ["timeline", "rtt", "setup", "attach", "handoff", "address"]
    assert "Not drawn" not in tour_html


def test_rejected_pba_carries_its_decoded_message(tour_html):
    lad = Doc(tour_html).data()["ladders"][1]
    pba = next(a for a in lad["arrows"] if a["kind"] == "PBA")
    assert pba["outcome"] == "rejected" and pba["frames"] == [29]
    assert pba["time"] == "500.007700"
    head = dict(pba["fields"][0][1])
    assert pba["fields"][0][0] == "PBA (Mobility Header)"
    assert head["status"] == "170 (NOT_AUTHORIZED_FOR_IPV4_MOBILITY_SERVICE)"
    sections = dict((s, dict(f)) for s, f in pba["fields"])
    assert sections["IPv4 Home Address Reply"]["status"] == "129 (Administratively prohibited)"
    assert sections["Mobile Node Identifier"]["text"] == "mn2@example.net"
    assert any("pba-rejected" in text for _, text in pba["diagnostics"])


def test_report_is_self_contained_and_ids_are_unique(tour_html):
    doc = Doc(tour_html)
    assert not re.search(r"https?://|//cdn|@import|@font-face", tour_html)
    for tag, attrs in doc.tags:
        assert tag not in ("link", "iframe", "img", "object", "embed"), tag
        if tag == "script":
            assert "src" not in attrs
        for name in ("href", "xlink:href"):
            assert attrs.get(name) is None or attrs[name].startswith("#"), (tag, attrs)
    ids = doc.ids()
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1][:5]
    # every in-page reference points at an element of the page
    refs = set(re.findall(r'(?:href="#|url\(#)([^")]+)', tour_html))
    assert refs and refs <= set(ids) | {"summary", "mns", "ladders", "plots"}


def test_mn_option_reports_one_mn_and_says_so(tmp_path):
    out = tmp_path / "mn3.htm"
    r = invoke(TOUR, "--mn", "02:11:22:33:44:03", "--time", "delta", "-o", out)
    assert r.exit_code == 0, r.output
    text = out.read_text()
    data = Doc(text).data()
    assert [lad["mn"] for lad in data["ladders"]] == ["mn3@example.net"]
    assert [a["time"] for a in data["ladders"][0]["arrows"]] == ["+0.000000", "+1.000000",
                                                                "+2.000000"]
    assert "mn3@example.net only" in text
    assert 'data-mn="mn1@example.net"' not in text
    # mn3's PBUs were never answered: no latency to plot, each kind says why
    assert "Not drawn" in text and "no answered PBU" in text


def test_max_mns_and_max_messages_cut_with_a_note(tmp_path):
    out = tmp_path / "cut.html"
    r = invoke(TOUR, "--max-mns", "2", "--max-messages", "5", "-o", out)
    assert r.exit_code == 0, r.output
    text = out.read_text()
    data = Doc(text).data()
    # errors first: mn2 and mn3 have errors, mn1 none; capture order kept
    assert [lad["mn"] for lad in data["ladders"]] == ["mn2@example.net", "mn3@example.net"]
    assert "Ladders are drawn for 2 of 3 mobile nodes" in text
    assert text.count('data-mn="') == 3  # the table still lists every MN
    r = invoke(TOUR, "--mn", "mn1@example.net", "--max-messages", "5", "-o", out)
    assert r.exit_code == 0, r.output
    data = Doc(out.read_text()).data()
    assert len(data["ladders"][0]["arrows"]) == 5
    assert "cut: 12 more messages" in out.read_text()


def test_help_has_examples():
    r = invoke("--help")
    assert r.exit_code == 0
    for text in ("Examples", "pmipview report samples/tour.pcap -o tour.html", "--mn",
                 "--max-mns", "--max-messages", "--time", "--names", "self-contained"):
        assert text in r.output, text


@pytest.mark.parametrize("args,code,words", [
    (["-o", "{tmp}/x.pdf"], 2, ["-o", "x.pdf", ".html"]),
    (["-o", "{tmp}/x"], 2, ["-o", "(none)", ".html"]),
    ([], 2, ["-o FILE.html"]),
    (["--time", "epoch", "-o", "{tmp}/x.html"], 2, ["--time", "'epoch'"]),
    (["-o", "{tmp}/no/such/dir/x.html"], 1, ["does not exist"]),
    (["--mn", "mn9@example.net", "-o", "{tmp}/x.html"], 1,
     ["--mn", "mn9@example.net", "mn1@example.net"]),
    (["--names", "{tmp}/missing-hosts", "-o", "{tmp}/x.html"], 2, ["--names"]),
])
def test_usage_and_input_errors_are_one_line(tmp_path, args, code, words):
    r = invoke(TOUR, *(a.format(tmp=tmp_path) for a in args))
    one_line_error(r, code, *words)
    assert not list(tmp_path.glob("x*"))


def test_empty_and_signaling_free_captures_are_one_line(tmp_path):
    out = tmp_path / "x.html"
    empty = tmp_path / "empty.pcap"
    empty.write_bytes(b"")
    one_line_error(invoke(empty, "-o", out), 1, "empty")
    header_only = tmp_path / "header-only.pcap"
    write_pcap(header_only, [], LinkType.ETHERNET)
    one_line_error(invoke(header_only, "-o", out), 1, "no frames")
    rng = random.Random(1)
    noise = tmp_path / "noise.pcap"
    write_pcap(noise, [Record(i, i * 10**6, LinkType.ETHERNET, d, 0, len(d))
                       for i, d in enumerate((unrelated_frame(rng) for _ in range(20)), 1)],
               LinkType.ETHERNET)
    one_line_error(invoke(noise, "-o", out), 1, "no PMIPv6 or DHCP signaling", "20 frames")
    one_line_error(invoke(tmp_path / "missing.pcap", "-o", out), 1, "no such file")
    assert not out.exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_an_unwritable_directory_is_one_line(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    one_line_error(invoke(TOUR, "-o", locked / "x.html"), 1, "not writable")


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_a_failing_write_is_one_line():
    """/proc accepts no new file, even from root: the error comes from writing itself."""
    one_line_error(invoke(TOUR, "-o", "/proc/pmipview-test.html"), 1, "cannot write")


def test_an_output_that_is_a_directory_is_one_line_and_leaves_nothing(tmp_path):
    target = tmp_path / "dir.html"
    target.mkdir()
    one_line_error(invoke(TOUR, "-o", target), 1, "cannot write", "dir.html")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.html"]


# -- html_report as data -------------------------------------------------------------------

SVG = """<?xml version="1.0" encoding="utf-8" standalone="no"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN"
  "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">
<svg xmlns:xlink="http://www.w3.org/1999/xlink" width="100pt" height="50pt"
 viewBox="0 0 100 50" xmlns="http://www.w3.org/2000/svg" version="1.1">
 <metadata><rdf:RDF><cc:Work><dc:date>2024</dc:date></cc:Work></rdf:RDF></metadata>
 <defs><clipPath id="p1"><rect x="0" y="0" width="10" height="10"/></clipPath>
 <path id="m2" d="M 0 0 L 1 1"/></defs>
 <!-- PBA seq 1 -->
 <g id="arrow-0"><path d="M 0 0 L 9 0" clip-path="url(#p1)"/>
  <use xlink:href="#m2" x="9" y="0"/></g>
 <g id="arrow-0-label"><text>PBA seq 1</text></g>
 <g id="arrow-12"><path d="M 0 5 L 9 5"/></g>
 <g id="text_1"><text>arrow-3 #p1 stays text</text></g>
</svg>
"""


def test_inline_svg_strips_the_prolog_and_namespaces_ids_per_figure():
    out = hr.inline_svg(SVG, "l0p1-")
    assert out.startswith("<svg ") and out.rstrip().endswith("</svg>")
    for gone in ("<?xml", "DOCTYPE", "<metadata", "<!--", "xmlns", "http"):
        assert gone not in out, gone
    assert 'id="l0p1-p1"' in out and 'url(#l0p1-p1)' in out
    assert 'xlink:href="#l0p1-m2"' in out
    assert 'id="l0p1-arrow-0" data-arrow="0" data-part="line"' in out
    assert 'id="l0p1-arrow-0-label" data-arrow="0" data-part="label"' in out
    assert 'id="l0p1-arrow-12" data-arrow="12" data-part="line"' in out
    assert 'id="l0p1-text_1"' in out and "data-arrow" not in out.split("text_1")[1]
    assert ">arrow-3 #p1 stays text<" in out  # text content is never rewritten
    with pytest.raises(ValueError):
        hr.inline_svg("<html></html>", "x-")


def test_detail_sections_group_options_in_wire_order():
    rows = [("frame", "3"), ("source", "a"), ("destination", "b"), ("seq", "7"),
            ("status", "0 (accepted)"), ("options.Handoff Indicator.type", "23"),
            ("options.Handoff Indicator.hi", "1"), ("options.Timestamp.value", "99"),
            ("accepted", "True")]
    assert hr.detail_sections(rows, "PBA") == [
        ["PBA", [["seq", "7"], ["status", "0 (accepted)"], ["accepted", "True"]]],
        ["Handoff Indicator", [["type", "23"], ["hi", "1"]]],
        ["Timestamp", [["value", "99"]]]]


HOSTILE = "</script><script>alert(1)</script><b>x</b>@evil.example"


def _hostile_page() -> hr.Page:
    mn = MobileNode(uid=1, nais=[HOSTILE], macs=["02:00:00:00:00:01"])
    mn.diagnostics.append(Diagnostic("pba-rejected", 1.0, [1], f"rejected {HOSTILE}", HOSTILE))
    rep = Report(frames=1, signaling_frames=1, start=0.0, end=1.0)
    rep.mobile_nodes.append(mn)
    arrow = Arrow(1, 1.0, 0, 1, "PBA", f"PBA {HOSTILE}", "rejected",
                  [("frame", "1"), ("options.<i>x</i>.text", HOSTILE)])
    lad = Ladder(HOSTILE, [Lifeline(HOSTILE, "mn"), Lifeline("<mag>", "mag")], [arrow], [],
                 0.0, title=HOSTILE)
    svg = '<svg viewBox="0 0 1 1"><g id="arrow-0"><path d="M 0 0"/></g></svg>'
    return hr.Page(rep, stats_dict(rep, {"PBA": 1}, {}), source=f"{HOSTILE}.pcap", mns=[mn],
                   ladders=[hr.LadderView(mn, lad, [svg])], version="0")


def test_packet_text_is_escaped_everywhere():
    text = hr.render(_hostile_page())
    assert "<script>alert" not in text and "<b>x</b>" not in text and "<mag>" not in text
    assert "&lt;/script&gt;&lt;script&gt;alert(1)" in text
    doc = Doc(text)
    assert len(doc.scripts) == 2  # the JSON and the page script: nothing injected
    data = doc.data()
    arrow = data["ladders"][0]["arrows"][0]
    assert arrow["label"] == f"PBA {HOSTILE}"
    assert arrow["fields"] == [["<i>x</i>", [["text", HOSTILE]]]]


def test_mn_order_for_ladders_puts_errors_then_warnings_first_in_capture_order():
    def mn(uid: int, *codes: str) -> MobileNode:
        m = MobileNode(uid=uid, nais=[f"mn{uid}"])
        m.diagnostics.extend(Diagnostic(c, 0.0, [], c) for c in codes)
        return m

    mns = [mn(0), mn(1, "retransmission"), mn(2), mn(3, "pba-rejected"), mn(4, "dhcp-nak")]
    assert [m.uid for m in hr.mn_order_for_ladders(mns, 2)] == [1, 3]
    assert [m.uid for m in hr.mn_order_for_ladders(mns, 3)] == [1, 3, 4]
    assert hr.mn_order_for_ladders(mns, 9) == mns


def test_page_without_ladders_or_plots_still_renders():
    keep: dict = {}
    tally = Tally()
    rep = correlate(open_source(str(TOUR)), tally, None, keep)
    lad = build(rep, rep.mobile_nodes[0], keep)
    page = hr.Page(rep, stats_dict(rep, dict(tally.by_type), dict(tally.by_status)),
                   source="tour.pcap", mns=rep.mobile_nodes,
                   ladders=[hr.LadderView(rep.mobile_nodes[0], lad, [])],
                   by_status=tally.by_status)
    text = hr.render(page)
    assert 'id="plots"' not in text and "no message of this MN to draw" in text
    assert 'href="#plots"' not in text
