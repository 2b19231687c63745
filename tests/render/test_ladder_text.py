"""The ladder as Mermaid, PlantUML and mscgen text, rendered by the real tools.

Every generated file is drawn by its own tool (``plantuml -tsvg``, ``mscgen -T svg``,
``mmdc`` with Debian's chromium) and a test checks what a user would: the tool exits 0
without an error image, and the SVG shows every lifeline name, every message with its
time and whole label, the notes, phases, title and cut note; a rejected answer is red.
The tools come from ``make render-tools`` (tools/install-render-tools.sh); a missing
tool skips its tests visibly, and fails them under CI=true.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmipview.packets import Tally
from pmipview.pipeline import correlate
from pmipview.render.ladder.model import (
    OUTCOMES,
    Arrow,
    Ladder,
    Lifeline,
    Note,
    build,
)
from pmipview.render.ladder.text import (
    FORMATS,
    MERMAID_MAX_TEXT,
    MSCGEN_ASCII,
    PLANTUML_PAGE,
    mermaid,
    mscgen,
    plantuml,
)
from pmipview.sources import open_source
from tests.render.synthetic import synthetic_ladder

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
TOOLS = ROOT / "tools"
MMDC = TOOLS / "node_modules" / ".bin" / "mmdc"
PUPPETEER_CONFIG = TOOLS / "puppeteer-config.json"
MERMAID_CONFIG = TOOLS / "mermaid-config.json"
RED = "#cf222e"

# What each tool draws instead of (or around) a diagram it could not read.
ERROR_TEXT = ("Syntax Error", "Syntax error", "syntax error", "An error has occured",
              "Welcome to PlantUML", "Maximum text size", "Parse error", "Exception")


# -- the tools ---------------------------------------------------------------------------

def _require(path: str | None, what: str) -> str:
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{what} is required when CI=true (make render-tools installs it)")
        pytest.skip(f"{what} not installed (make render-tools): rendering test skipped")
    return path


def require_plantuml() -> str:
    return _require(shutil.which("plantuml"), "plantuml")


def require_mscgen() -> str:
    return _require(shutil.which("mscgen"), "mscgen")


def require_mmdc() -> str:
    browser = json.loads(PUPPETEER_CONFIG.read_text())["executablePath"]
    if not os.access(browser, os.X_OK):
        _require(None, f"chromium ({browser}, for the Mermaid CLI)")
    return _require(str(MMDC) if os.access(MMDC, os.X_OK) else None,
                    "the Mermaid CLI (tools/node_modules/.bin/mmdc)")


@dataclass
class Rendered:
    rc: int
    log: str
    pages: list[str] = field(default_factory=list)  # SVG documents

    def check(self) -> None:
        """The tool exited 0 and drew no error."""
        assert self.rc == 0, self.log
        assert self.pages, f"no SVG written\n{self.log}"
        for svg in self.pages:
            found = [e for e in ERROR_TEXT if e in svg]
            assert not found, f"{found} in the SVG\n{self.log}\n{svg[:3000]}"


def run_plantuml(sources: dict[str, str], folder: Path) -> dict[str, Rendered]:
    """All ``sources`` (name -> text) in one PlantUML run (one JVM start); each gives
    ``name.svg`` and, with several pages, ``name_001.svg``..."""
    exe = require_plantuml()
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for name, text in sources.items():
        (folder / f"{name}.puml").write_text(text, encoding="utf-8")
        files.append(str(folder / f"{name}.puml"))
    proc = subprocess.run([exe, "-tsvg", "-charset", "UTF-8", *files], capture_output=True,
                          text=True, timeout=600, check=False)
    out = {}
    for name in sources:
        first = folder / f"{name}.svg"
        pages = [first] * first.exists() + sorted(folder.glob(f"{name}_[0-9][0-9][0-9].svg"))
        out[name] = Rendered(proc.returncode, proc.stdout + proc.stderr,
                             [p.read_text(encoding="utf-8") for p in pages])
    return out


def run_mscgen(name: str, text: str, folder: Path) -> Rendered:
    exe = require_mscgen()
    folder.mkdir(parents=True, exist_ok=True)
    src, svg = folder / f"{name}.msc", folder / f"{name}.svg"
    src.write_text(text, encoding="utf-8")
    proc = subprocess.run([exe, "-T", "svg", "-i", str(src), "-o", str(svg)],
                          capture_output=True, text=True, timeout=60, check=False)
    pages = [svg.read_text(encoding="utf-8")] if svg.exists() else []
    return Rendered(proc.returncode, proc.stdout + proc.stderr, pages)


def run_mermaid(sources: dict[str, str], folder: Path) -> dict[str, Rendered]:
    """All ``sources`` in one mmdc run (one browser start), as the charts of a Markdown
    file: mmdc writes ``out-1.svg``, ``out-2.svg``... in order."""
    exe = require_mmdc()
    folder.mkdir(parents=True, exist_ok=True)
    names = list(sources)
    for name in names:
        (folder / f"{name}.mmd").write_text(sources[name], encoding="utf-8")
    md = "\n\n".join(f"```mermaid\n{sources[n]}```" for n in names)
    (folder / "all.md").write_text(md + "\n", encoding="utf-8")
    proc = subprocess.run([exe, "-q", "-i", str(folder / "all.md"), "-o",
                           str(folder / "out.md"), "-p", str(PUPPETEER_CONFIG),
                           "-c", str(MERMAID_CONFIG)],
                          capture_output=True, text=True, timeout=600, check=False)
    out = {}
    for k, name in enumerate(names, 1):
        svg = folder / f"out-{k}.svg"
        pages = [svg.read_text(encoding="utf-8")] if svg.exists() else []
        out[name] = Rendered(proc.returncode, proc.stdout + proc.stderr, pages)
    return out


# -- what the SVG shows ------------------------------------------------------------------

def norm(text: str) -> str:
    """Whitespace collapsed (wrapped lines joined), zero-width spaces dropped, control
    characters as spaces (as the backends write them)."""
    text = re.sub(r"[\x00-\x1f\x7f-\x9f\ufffe\uffff]", " ", text.replace("\u200b", ""))
    return " ".join(text.split())


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def text_elements(svg: str) -> list[ET.Element]:
    root = ET.fromstring(svg.encode("utf-8"))
    return [el for el in root.iter() if _local(el.tag) == "text"]


def shown(pages: list[str]) -> str:
    """All the text the pages show, in document order, one string."""
    return norm(" ".join("".join(el.itertext()) for svg in pages
                         for el in text_elements(svg)))


def colour_of(el: ET.Element, prop: str) -> str | None:
    value = el.get(prop)
    m = re.search(rf"(?:^|;)\s*{prop}\s*:\s*([^;]+)", el.get("style") or "")
    return (value or (m[1] if m else "")).strip().lower() or None


def drawn_in(svg: str, colour: str) -> bool:
    """Some line or arrowhead of the SVG is stroked in ``colour``."""
    root = ET.fromstring(svg.encode("utf-8"))
    return any(colour_of(el, "stroke") == colour for el in root.iter()
               if _local(el.tag) in ("line", "path", "polygon", "polyline"))


def text_colour(pages: list[str], wanted: str) -> str | None:
    """The fill colour of the text element showing ``wanted``."""
    for svg in pages:
        for el in text_elements(svg):
            if norm(wanted) in norm("".join(el.itertext())):
                return colour_of(el, "fill")
    return None


# -- ladders -----------------------------------------------------------------------------

@functools.cache
def sample_ladders(name: str, time_mode: str = "rel") -> tuple[Ladder, ...]:
    src = open_source(str(SAMPLES / name))
    keep: dict = {}
    report = correlate(src, Tally(), None, keep)
    return tuple(build(report, mn, keep, time_mode=time_mode) for mn in report.mobile_nodes)


ODD = ('a:b;c#d "q" \'s\' --strike-- **b** __u__ //i// ~~w~~ ""m"" [[l]] {{x}} <b>t</b> '
       "&amp; &#65; #35; <U+0041> %% end -> --> -x ->> == .. | ^ $x %date% @enduml \\n back\\")


def special_ladder() -> Ladder:
    """Names and labels full of what each language treats as syntax."""
    lls = [Lifeline('user"quoted"@realm.example;x#1', "mn"), Lifeline("2001:db8::1", "mag"),
           Lifeline("mag--one->x <b>", "mag"), Lifeline("lma & co; end", "lma"),
           Lifeline("dhcp\\", "dhcp-server")]
    arrows = [Arrow(1, 10.0, 0, 1, "DISCOVER", "DHCPDISCOVER · " + ODD, "request"),
              Arrow(2, 10.5, 1, 3, "PBU", "PBU seq 1 · " + ODD, "retransmission"),
              Arrow(3, 11.0, 3, 1, "PBA", "PBA seq 1 · 170 " + ODD, "rejected"),
              Arrow(4, 12.0, 1, 3, "PBU", "PBU seq 2 " + ODD, "timeout"),
              Arrow(5, 12.5, 4, 4, "X", "self " + ODD, "ok"),
              Arrow(6, 13.0, 2, 0, "ACK", ODD + " last", "ok")]
    notes = [Note(0, 10.0, "attach at " + ODD, "phase", 3),
             Note(3, 11.0, f"pba-rejected: {ODD}\nsecond line \\", "error"),
             Note(4, 12.0, "retransmission: " + ODD, "warning"),
             Note(5, 12.5, "handoff a → b " + ODD, "phase", 1),
             Note(6, 13.0, "note: " + ODD, "note")]
    return Ladder(lls[0].name, lls, arrows, notes, 10.0, "rel", 3, 14.0, "title " + ODD)


CASES = {
    "tour-mn1": ("tour.pcap", 0),
    "tour-mn2": ("tour.pcap", 1),
    "tour-mn3": ("tour.pcap", 2),
    "handover-relay-mode": ("handover-relay-mode.pcapng", 0),
    "handover-relay-mode-abs": ("handover-relay-mode.pcapng", 0, "abs"),  # hh:mm:ss times
    "pbu-never-answered": ("pbu-never-answered.pcapng", 0),
    "reject-170": ("reject-170.pcapng", 0),
    "special-characters": None,
}


def ladder_of(case: str) -> Ladder:
    where = CASES[case]
    if where is None:
        return special_ladder()
    return sample_ladders(where[0], *where[2:])[where[1]]


# -- rendered once per module, by tool ------------------------------------------------------

@pytest.fixture(scope="module")
def plantuml_out(tmp_path_factory) -> dict[str, Rendered]:
    return run_plantuml({c: plantuml(ladder_of(c)) for c in CASES},
                        tmp_path_factory.mktemp("puml"))


@pytest.fixture(scope="module")
def mermaid_out(tmp_path_factory) -> dict[str, Rendered]:
    return run_mermaid({c: mermaid(ladder_of(c)) for c in CASES},
                       tmp_path_factory.mktemp("mmd"))


@pytest.fixture(scope="module")
def mscgen_out(tmp_path_factory) -> dict[str, Rendered]:
    folder = tmp_path_factory.mktemp("msc")
    return {c: run_mscgen(c, mscgen(ladder_of(c)), folder) for c in CASES}


# mscgen measures only Latin-1 text: the backend writes a few symbols in ASCII.
MSC_ASCII = str.maketrans(MSCGEN_ASCII)


def expected_texts(ladder: Ladder, tool: str) -> list[str]:
    """Every piece of text a reader must find in the drawing."""
    texts = [ladder.title] if ladder.title else []
    for ll in ladder.lifelines:
        texts += [ll.name, {"mn": "(MN)", "mag": "(MAG)", "lma": "(LMA)",
                            "dhcp-server": "(DHCP server)"}.get(ll.role, f"({ll.role})")]
    texts += [f"{ladder.time_text(i)} {a.label}" for i, a in enumerate(ladder.arrows)]
    texts += [n.text for n in ladder.notes]
    if ladder.cut_note:
        texts.append(ladder.cut_note)
    if tool == "mscgen":
        texts = [t.translate(MSC_ASCII) for t in texts]
    return texts


def assert_shows_everything(r: Rendered, ladder: Ladder, tool: str) -> None:
    r.check()
    seen = shown(r.pages)
    missing = [t for t in expected_texts(ladder, tool) if norm(t) not in seen]
    assert not missing, f"{tool} drawing lacks {missing!r}\nit shows: {seen[:4000]}"


@pytest.mark.parametrize("case", list(CASES))
def test_plantuml_renders_every_name_label_and_note(case, plantuml_out):
    assert_shows_everything(plantuml_out[case], ladder_of(case), "plantuml")


@pytest.mark.parametrize("case", list(CASES))
def test_mscgen_renders_every_name_label_and_note(case, mscgen_out):
    assert_shows_everything(mscgen_out[case], ladder_of(case), "mscgen")


@pytest.mark.parametrize("case", list(CASES))
def test_mermaid_renders_every_name_label_and_note(case, mermaid_out):
    assert_shows_everything(mermaid_out[case], ladder_of(case), "mermaid")


def test_the_tour_has_three_mobile_nodes_all_drawn():
    assert [la.mn for la in sample_ladders("tour.pcap")] == \
        ["mn1@example.net", "mn2@example.net", "mn3@example.net"]


# -- colours and arrow shapes -------------------------------------------------------------

def _rejected(case: str) -> tuple[Ladder, int]:
    ladder = ladder_of(case)
    i = next(k for k, a in enumerate(ladder.arrows) if a.outcome == "rejected")
    return ladder, i


@pytest.mark.parametrize("case", ["tour-mn2", "reject-170"])
def test_plantuml_draws_the_rejected_answer_red(case, plantuml_out):
    ladder, i = _rejected(case)
    r = plantuml_out[case]
    r.check()
    label = f"{ladder.time_text(i)} {ladder.arrows[i].label}"
    assert text_colour(r.pages, label) == RED
    assert drawn_in(r.pages[0], RED)
    # an accepted registration is green, not red
    ok = next(k for k, a in enumerate(ladder.arrows) if a.outcome == "request")
    assert text_colour(r.pages, ladder.arrows[ok].label) != RED


@pytest.mark.parametrize("case", ["tour-mn2", "reject-170"])
def test_mscgen_draws_the_rejected_answer_red(case, mscgen_out):
    ladder, i = _rejected(case)
    r = mscgen_out[case]
    r.check()
    assert text_colour(r.pages, ladder.arrows[i].label) == RED
    assert drawn_in(r.pages[0], RED)
    ok = next(k for k, a in enumerate(ladder.arrows) if a.outcome == "request")
    assert text_colour(r.pages, ladder.arrows[ok].label) != RED


def _mermaid_messages(svg: str) -> list[tuple[str, ET.Element]]:
    """(message text, message line) pairs in drawing order."""
    root = ET.fromstring(svg.encode("utf-8"))
    texts = [norm("".join(el.itertext())) for el in root.iter()
             if "messageText" in (el.get("class") or "")]
    lines = [el for el in root.iter() if re.search(r"\bmessageLine\d", el.get("class") or "")]
    assert len(texts) == len(lines)
    return list(zip(texts, lines, strict=True))


def test_mermaid_marks_rejected_timeout_and_retransmission(mermaid_out):
    """Mermaid has no per-arrow colour: the outcome tag in the text and the arrow's
    shape."""
    ladder = ladder_of("tour-mn3")  # a PBU, its retransmission, the unanswered last one
    r = mermaid_out["tour-mn3"]
    r.check()
    drawn = _mermaid_messages(r.pages[0])
    assert len(drawn) == len(ladder.arrows)
    for (text, line), arrow in zip(drawn, ladder.arrows, strict=True):
        dashed = "stroke-dasharray" in (line.get("style") or "") or \
            "messageLine1" in (line.get("class") or "")
        cross = "crosshead" in (line.get("marker-end") or "")
        assert text.endswith(norm(arrow.text))
        if arrow.outcome == "timeout":
            assert text.endswith("✕ timeout (no answer)") and dashed and cross
        elif arrow.outcome == "retransmission":
            assert text.endswith("↻ retransmission") and dashed and not cross
        else:
            assert not dashed and not cross
    ladder = ladder_of("reject-170")
    drawn = _mermaid_messages(mermaid_out["reject-170"].pages[0])
    (text, line), = [d for d, a in zip(drawn, ladder.arrows, strict=True)
                     if a.outcome == "rejected"]
    assert text.endswith("✖ rejected") and "crosshead" in (line.get("marker-end") or "")


# -- big ladders -------------------------------------------------------------------------

def test_plantuml_2000_messages_render_as_pages(tmp_path):
    ladder = synthetic_ladder(2000, lifelines=4, cut=7)
    text = plantuml(ladder)
    pages = -(-2000 // PLANTUML_PAGE)
    assert text.count("@startuml") == pages
    r = run_plantuml({"big": text}, tmp_path)["big"]
    r.check()
    assert len(r.pages) == pages
    seen = shown(r.pages)
    for i in (0, 1, PLANTUML_PAGE - 1, PLANTUML_PAGE, 1000, 1999):
        assert norm(f"{ladder.time_text(i)} {ladder.arrows[i].label}") in seen
    assert sum(seen.count(f"PBU seq {i} ·") for i in range(2000)) == 2000
    assert norm(ladder.cut_note or "") in shown(r.pages[-1:])
    assert f"({pages}/{pages})" in shown(r.pages[-1:])


def test_mermaid_long_ladder_says_how_to_render_it(tmp_path):
    ladder = synthetic_ladder(700, lifelines=4, cut=7)
    text = mermaid(ladder)
    assert len(text) > MERMAID_MAX_TEXT
    assert text.startswith("%%") and "maxTextSize" in text.splitlines()[0]
    r = run_mermaid({"long": text}, tmp_path)["long"]  # with tools/mermaid-config.json
    r.check()
    seen = shown(r.pages)
    assert norm(f"{ladder.time_text(699)} {ladder.arrows[699].label}") in seen


# -- any name or label renders in mscgen (the fastest tool) ------------------------------

_SYNTAX = [*'"\\;#:,[]{}=-<>|&*_/\n\t\'%@.~ ', "->", "--", "=>", ":>", "\\n", '\\"', "msc",
           "#35;", "\u200b", "→", "é"]
odd_text = st.lists(st.one_of(st.sampled_from(_SYNTAX),
                              st.text(st.characters(exclude_categories=("Cs",)), max_size=4)),
                    max_size=12).map("".join)


@st.composite
def odd_ladders(draw) -> Ladder:
    n = draw(st.integers(1, 4))
    roles = ["mn", "mag", "lma", "dhcp-server", "node"]
    lls = [Lifeline(draw(odd_text), "mn" if k == 0 else draw(st.sampled_from(roles)))
           for k in range(n)]
    arrows = [Arrow(k, 5.0 + k, draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1)),
                    "X", draw(odd_text), draw(st.sampled_from(OUTCOMES)))
              for k in range(draw(st.integers(0, 4)))]
    notes = [Note(draw(st.integers(0, len(arrows))), 5.0, draw(odd_text),
                  draw(st.sampled_from(["error", "warning", "note", "phase"])),
                  draw(st.integers(0, 3))) for _ in range(draw(st.integers(0, 3)))]
    notes.sort(key=lambda x: (x.before, x.kind != "phase"))
    mode = draw(st.sampled_from(["rel", "delta", "abs"]))
    return Ladder(lls[0].name, lls, arrows, notes, 0.0, mode, draw(st.integers(0, 2)), 9.0,
                  draw(odd_text))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(ladder=odd_ladders())
def test_mscgen_renders_any_names_and_labels(ladder, tmp_path):
    r = run_mscgen("odd", mscgen(ladder), tmp_path)
    r.check()
    seen = shown(r.pages)
    for i, a in enumerate(ladder.arrows):  # arc labels are never wrapped by mscgen
        assert norm(f"{ladder.time_text(i)} {a.label}".translate(MSC_ASCII)) in seen


# -- the text itself (no tool needed) ----------------------------------------------------

def test_formats_by_extension():
    assert {".mmd": mermaid, ".puml": plantuml, ".msc": mscgen} == FORMATS


def test_participants_in_model_order_mn_first():
    ladder = ladder_of("handover-relay-mode")
    names = [ll.name for ll in ladder.lifelines]
    for fn, pattern in ((mermaid, r"participant P\d+ as (.*?)<br/>"),
                        (plantuml, r'participant "(.*?)\\n'),
                        (mscgen, r'p\d+ \[label="(.*?)\\n')):
        found = re.findall(pattern, fn(ladder))
        assert found[:len(names)] == names, fn.__name__
    assert names[0] == ladder.mn


def test_arrow_styles_by_outcome():
    ladder = ladder_of("pbu-never-answered")
    m, p, s = mermaid(ladder), plantuml(ladder), mscgen(ladder)
    assert re.search(r"P1-->>P2: 1\.000000  PBU seq 2 .* ↻ retransmission\n", m)  # dashed
    assert re.search(r"P1--xP2: 7\.000000  PBU seq 4 .* ✕ timeout \(no answer\)\n", m)
    assert "P1 -[#b35900]-> P2 : <color:#b35900>1.000000  PBU seq 2" in p
    assert "P1 -[#cf222e]->x P2 : <color:#cf222e>7.000000  PBU seq 4" in p
    assert 'p1>>p2 [label="1.000000  PBU seq 2' in s
    assert 'p1-xp2 [label="7.000000  PBU seq 4' in s
    ladder = ladder_of("reject-170")
    assert "P2-xP1: 0.010000  PBA seq 1 · 170" in mermaid(ladder)
    assert "Administratively prohibited · ✖ rejected" in mermaid(ladder)
    assert "P2 -[#cf222e]> P1 : <color:#cf222e>0.010000  PBA seq 1" in plantuml(ladder)
    assert 'p2->p1 [label="0.010000  PBA seq 1 · 170 NOT_AUTHORIZED_FOR_IPV4_MOBILITY_SERVICE' \
        ' · HoA 129 Administratively prohibited · x rejected", linecolour="#cf222e"' \
        in mscgen(ladder)


def test_phases_and_notes_in_every_language():
    ladder = ladder_of("tour-mn1")
    m, p, s = mermaid(ladder), plantuml(ladder), mscgen(ladder)
    assert "== handoff 192.0.2.1 → 2001:db8:1::2, HoA kept, 8.3 ms ==" in p
    assert '--- [label="handoff 192.0.2.1 -> 2001:db8:1::2, HoA kept, 8.3 ms"' in s
    assert "Note over P0,P3: ══ handoff 192.0.2.1 → 2001:db8:1::2, HoA kept, 8.3 ms ══" in m
    assert m.count("    rect ") == m.count("    end") == 3  # one box per phase
    ladder = ladder_of("tour-mn2")
    assert "note over P1,P2 #f9e4e6 : <color:#cf222e><b>error</b></color> pba-rejected:" \
        in plantuml(ladder)
    assert 'p1 note p2 [label="error: pba-rejected:' in mscgen(ladder)
    assert "Note over P1,P2: ✖ pba-rejected:" in mermaid(ladder)


def test_special_characters_are_escaped():
    ladder = special_ladder()
    m = mermaid(ladder)
    body = [line for line in m.splitlines()[1:] if not line.startswith("%%")]
    for line in body:  # Mermaid ends a statement at ; and a comment at #
        assert ";" not in re.sub(r"#\w+;", "", line) and "#" not in re.sub(r"#\w+;", "", line)
    p = plantuml(ladder)
    assert "--strike--" not in p and "<b>t</b>" not in p and '"q"' not in p
    s = mscgen(ladder)
    assert 'user\\"quoted\\"@realm.example;x#1' in s and "dhcp\\\u200b\\n(DHCP server)" in s
