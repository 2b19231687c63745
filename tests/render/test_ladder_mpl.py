"""The matplotlib ladder (SVG, PNG, PDF) as a user checks it: pages, files, every label
whole and readable, arrows findable by id, outcomes in their colours."""

from __future__ import annotations

import functools
import math
import re
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import pytest

from pmipview.packets import Tally
from pmipview.pipeline import correlate
from pmipview.render.ladder import mpl
from pmipview.render.ladder.model import (
    COLOURS,
    SEVERITY_COLOURS,
    Ladder,
    Note,
    build,
)
from pmipview.sources import open_source
from tests.render.synthetic import synthetic_ladder

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
NS = "{http://www.w3.org/2000/svg}"


@functools.cache
def sample_ladders(name: str) -> tuple[Ladder, ...]:
    src = open_source(str(SAMPLES / name))
    keep: dict = {}
    try:
        report = correlate(src, Tally(), None, keep)
    finally:
        src.close()
    return tuple(build(report, mn, keep, time_mode="rel") for mn in report.mobile_nodes)


def ladder(name: str, mn: str | None = None) -> Ladder:
    return next(lad for lad in sample_ladders(name) if mn is None or lad.mn.startswith(mn))


# -- reading the SVG --------------------------------------------------------------------

def root(svg: str) -> ET.Element:
    return ET.fromstring(svg.encode("utf-8"))


def groups(svg: str) -> dict[str, ET.Element]:
    return {g.get("id"): g for g in root(svg).iter(f"{NS}g") if g.get("id")}


def words(text: str) -> str:
    return " ".join(text.split())


def label_text(group: ET.Element) -> str:
    """A label's lines joined (wrapped lines are separate <text> elements)."""
    return words(" ".join("".join(t.itertext()) for t in group.iter(f"{NS}text")))


def all_text(svg: str) -> str:
    return words(" ".join("".join(t.itertext()) for t in root(svg).iter(f"{NS}text")))


def style(el: ET.Element, prop: str) -> str | None:
    m = re.search(rf"(?:^|;)\s*{prop}\s*:\s*([^;]+)", el.get("style") or "")
    return m[1].strip().lower() if m else None


def arrow_y(group: ET.Element) -> float:
    """The y of an arrow's line (its last point: arrows to self start higher)."""
    path = next(group.iter(f"{NS}path"))
    return float(re.findall(r"[-\d.]+", path.get("d"))[-1])


def label_lines(group: ET.Element) -> list[tuple[float, float]]:
    """(baseline y, font size) of each line of a label."""
    return [(float(t.get("y")), float(style(t, "font-size").rstrip("px")))
            for t in group.iter(f"{NS}text")]


def arrows_in(svg: str) -> list[int]:
    return sorted(int(m) for m in re.findall(r'id="arrow-(\d+)"', svg))


# -- pages and files --------------------------------------------------------------------

@pytest.mark.parametrize(("n", "per_page", "pages"),
                         [(0, 60, 1), (1, 60, 1), (60, 60, 1), (61, 60, 2), (130, 40, 4)])
def test_one_page_per_per_page_arrows(n, per_page, pages):
    lad = synthetic_ladder(n)
    assert mpl.page_count(lad, per_page) == pages
    figs = mpl.figures(lad, per_page)
    assert len(figs) == pages
    svgs = mpl.svg_pages(lad, per_page)
    assert len(svgs) == pages
    # each arrow on exactly one page, pages in order, per_page arrows a page
    assert [arrows_in(s) for s in svgs] == [
        list(range(k * per_page, min(n, (k + 1) * per_page))) for k in range(pages)]


def test_bad_per_page_is_refused():
    with pytest.raises(ValueError, match="per_page"):
        mpl.figures(synthetic_ladder(3), 0)


def test_single_page_svg_and_png_keep_the_name_given(tmp_path):
    lad = ladder("handover-relay-mode.pcapng")
    for ext in ("svg", "png"):
        out = tmp_path / f"ladder.{ext}"
        assert mpl.save(lad, out) == [out]
        assert out.stat().st_size > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ladder.png", "ladder.svg"]


def test_several_pages_of_svg_are_numbered_files(tmp_path):
    written = mpl.save(synthetic_ladder(25), tmp_path / "ladder.svg", per_page=10)
    assert [p.name for p in written] == ["ladder-p1.svg", "ladder-p2.svg", "ladder-p3.svg"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [p.name for p in written]
    for k, p in enumerate(written, 1):
        assert f"page {k}/3" in all_text(p.read_text(encoding="utf-8"))


def test_page_numbers_are_zero_padded_from_ten_pages(tmp_path):
    written = mpl.save(synthetic_ladder(10), tmp_path / "x.png", per_page=1)
    assert [p.name for p in written][:2] == ["x-p01.png", "x-p02.png"]
    assert written[-1].name == "x-p10.png"


def test_png_is_a_png(tmp_path):
    out = mpl.save(ladder("tour.pcap", "mn1"), tmp_path / "l.png")[0]
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def pdf_pages(data: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", data))


def test_pdf_is_one_file_with_one_pdf_page_per_page(tmp_path):
    out = tmp_path / "l.pdf"
    assert mpl.save(synthetic_ladder(130), out, per_page=40) == [out]
    data = out.read_bytes()
    assert data.startswith(b"%PDF")
    assert pdf_pages(data) == 4
    assert list(tmp_path.iterdir()) == [out]


def pdf_content(data: bytes) -> bytes:
    """The page content streams, inflated."""
    out = []
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            out.append(zlib.decompress(m[1]))
        except zlib.error:
            out.append(m[1])
    return b"\n".join(out)


def test_pdf_text_stays_text(tmp_path):
    """The standard PDF fonts carry the labels (searchable, selectable); symbols they
    lack are substituted, not dropped."""
    out = tmp_path / "l.pdf"
    mpl.save(ladder("tour.pcap", "mn3"), out)
    data = out.read_bytes()
    assert b"/BaseFont /Helvetica" in data
    content = pdf_content(data)
    assert b"(PBU seq 31153 \xb7 HI 1 new interface \xb7) Tj" in content
    assert "× timeout \\(no answer\\)".encode("cp1252") in content
    assert b"mn3@example.net" in content


@pytest.mark.parametrize("ext", [".jpg", ".SVGZ", "", ".pdf.txt"])
def test_unknown_extension_is_a_one_line_error_naming_the_formats(tmp_path, ext):
    with pytest.raises(ValueError) as err:
        mpl.save(synthetic_ladder(2), tmp_path / f"ladder{ext}")
    message = str(err.value)
    assert "\n" not in message
    for allowed in (".svg", ".png", ".pdf"):
        assert allowed in message
    assert list(tmp_path.iterdir()) == []


def test_extension_case_does_not_matter(tmp_path):
    out = mpl.save(synthetic_ladder(2), tmp_path / "LADDER.PDF")[0]
    assert out.read_bytes().startswith(b"%PDF")


def test_svg_output_is_reproducible():
    lad = ladder("tour.pcap", "mn1")
    assert mpl.svg_pages(lad) == mpl.svg_pages(lad)


def test_svg_pages_are_inline_svg_elements_with_unique_ids_across_pages():
    pages = mpl.svg_pages(synthetic_ladder(30), per_page=10)
    ids: list[str] = []
    for svg in pages:
        assert svg.startswith("<svg")
        ids += re.findall(r'\bid="([^"]+)"', svg)
    repeated = {i for i in ids if ids.count(i) > 1 and not i.startswith(("figure_", "patch_",
                                                                         "line2d_", "text_",
                                                                         "LineCollection_",
                                                                         "PolyCollection_"))}
    assert not repeated


# -- what each page shows ---------------------------------------------------------------

@pytest.mark.parametrize("sample", ["handover-relay-mode.pcapng", "tour.pcap",
                                    "pbu-never-answered.pcapng", "reject-170.pcapng"])
def test_every_label_whole_and_every_arrow_findable_by_id(sample):
    for lad in sample_ladders(sample):
        pages = mpl.svg_pages(lad, per_page=7)
        found: dict[str, ET.Element] = {}
        for svg in pages:
            found.update(groups(svg))
        for i, a in enumerate(lad.arrows):
            assert f"arrow-{i}" in found, (lad.mn, i)
            assert words(a.label) in label_text(found[f"arrow-{i}-label"]), (lad.mn, i)


def test_lifeline_headers_on_every_page():
    lad = synthetic_ladder(100)
    for svg in mpl.svg_pages(lad, per_page=30):
        text = all_text(svg)
        for ll in lad.lifelines:
            assert ll.name in text
        for role in ("MN", "MAG", "LMA", "DHCP-SERVER"):
            assert role in text
        assert lad.title in text


def test_time_and_frame_of_each_message_in_the_margin():
    lad = ladder("handover-relay-mode.pcapng")
    text = all_text(mpl.svg_pages(lad)[0])
    for i, a in enumerate(lad.arrows):
        assert re.search(rf"{re.escape(lad.time_text(i))} #{a.frame}\b", text), i


@pytest.mark.parametrize("sample", ["tour.pcap", "handover-relay-mode.pcapng"])
def test_labels_sit_between_their_arrow_and_the_one_before(sample):
    """No label reaches up into the previous row (wrapped labels included), and each
    sits above its own arrow."""
    for lad in sample_ladders(sample):
        for svg in mpl.svg_pages(lad):
            g = groups(svg)
            shown = arrows_in(svg)
            for prev, i in zip([None, *shown], shown, strict=False):
                y = arrow_y(g[f"arrow-{i}"])
                lines = label_lines(g[f"arrow-{i}-label"])
                assert all(base < y for base, _ in lines), (lad.mn, i)
                if prev is not None:
                    top = min(base - size for base, size in lines)
                    assert top > arrow_y(g[f"arrow-{prev}"]), (lad.mn, i)


def test_a_long_label_is_wrapped_not_cut():
    lad = synthetic_ladder(3, lifelines=3)
    lad.arrows[1].label = " · ".join(f"field{k} value{k}" for k in range(40))
    svg = mpl.svg_pages(lad)[0]
    label = groups(svg)["arrow-1-label"]
    assert len(list(label.iter(f"{NS}text"))) > 2
    assert words(lad.arrows[1].label) in label_text(label)
    g = groups(svg)
    lines = label_lines(label)
    assert min(b - s for b, s in lines) > arrow_y(g["arrow-0"])
    assert max(b for b, _ in lines) < arrow_y(g["arrow-1"])


def test_fonts_are_at_least_8_pt():
    for svg in mpl.svg_pages(ladder("tour.pcap", "mn1")):
        sizes = [float(style(t, "font-size").rstrip("px")) for t in root(svg).iter(f"{NS}text")]
        assert sizes and min(sizes) >= 8


def test_width_grows_with_the_lifelines():
    narrow = mpl.figures(synthetic_ladder(4, lifelines=3))[0].get_size_inches()[0]
    wide = mpl.figures(synthetic_ladder(4, lifelines=5))[0].get_size_inches()[0]
    assert wide > narrow
    assert wide >= 2.2 * 4  # five lifelines at least 2.2 in apart


def stroke(svg: str, i: int) -> ET.Element:
    return next(groups(svg)[f"arrow-{i}"].iter(f"{NS}path"))


def test_rejected_pba_drawn_in_the_rejected_colour():
    lad = ladder("reject-170.pcapng")
    i = next(k for k, a in enumerate(lad.arrows) if a.kind == "PBA")
    assert lad.arrows[i].outcome == "rejected"
    svg = mpl.svg_pages(lad)[0]
    assert style(stroke(svg, i), "stroke") == COLOURS["rejected"]
    label = groups(svg)[f"arrow-{i}-label"]
    assert {style(t, "fill") for t in label.iter(f"{NS}text")} == {COLOURS["rejected"]}
    assert "rejected" in label_text(label)
    # the accepted PBU before it is not red
    pbu = next(k for k, a in enumerate(lad.arrows) if a.kind == "PBU")
    assert style(stroke(svg, pbu), "stroke") != COLOURS["rejected"]


def test_timeout_is_a_dashed_red_arrow_marked_timeout():
    lad = ladder("tour.pcap", "mn3")
    outcomes = [a.outcome for a in lad.arrows]
    assert outcomes == ["request", "retransmission", "timeout"]
    svg = mpl.svg_pages(lad)[0]
    line = stroke(svg, 2)
    assert style(line, "stroke") == COLOURS["timeout"]
    assert style(line, "stroke-dasharray")
    assert "timeout" in label_text(groups(svg)["arrow-2-label"])
    retrans = stroke(svg, 1)
    assert style(retrans, "stroke") == COLOURS["retransmission"]
    assert style(retrans, "stroke-dasharray")
    assert "retransmission" in label_text(groups(svg)["arrow-1-label"])
    assert not style(stroke(svg, 0), "stroke-dasharray")


def test_diagnostics_and_phases_shown_where_they_occur():
    lad = ladder("reject-170.pcapng")
    text = all_text(mpl.svg_pages(lad)[0])
    assert "attach at 192.0.2.1 failed" in text
    assert "pba-rejected:" in text and "hoa-reply-failure:" in text
    svg = mpl.svg_pages(lad)[0]
    # a diagnostic box is framed in its severity colour
    assert f"stroke: {SEVERITY_COLOURS['error']}" in svg
    # right after the rejected PBA, before the next message
    g = groups(svg)
    pba = next(k for k, a in enumerate(lad.arrows) if a.kind == "PBA")
    for what in ("pba-rejected:", "hoa-reply-failure:"):
        y = next(float(t.get("y")) for t in root(svg).iter(f"{NS}text")
                 if what in "".join(t.itertext()))
        assert arrow_y(g[f"arrow-{pba}"]) < y < arrow_y(g[f"arrow-{pba + 1}"])


def test_handoff_phase_and_its_text():
    lad = ladder("handover-relay-mode.pcapng")
    text = all_text(mpl.svg_pages(lad)[0])
    assert "attach at 192.0.2.1 (73.0 ms)" in text
    assert "handoff 192.0.2.1 → 192.0.2.2, HoA kept, 10.0 ms" in text


def test_a_phase_across_pages_is_continued():
    lad = synthetic_ladder(20)
    lad.notes = [Note(5, 0.0, "handoff a → b", "phase", 10)]
    first, second = mpl.svg_pages(lad, per_page=10)
    assert "handoff a → b" in all_text(first)
    assert "handoff a → b (continued)" in all_text(second)


def test_cut_note_on_the_last_page_only():
    lad = synthetic_ladder(25)
    lad.cut, lad.cut_after = 40, 1010.0
    pages = [all_text(s) for s in mpl.svg_pages(lad, per_page=10)]
    assert [("cut: 40 more messages" in p) for p in pages] == [False, False, True]


def test_arrow_to_self_and_odd_text_are_drawn():
    lad = synthetic_ladder(4, lifelines=3)
    lad.arrows[0].dst = lad.arrows[0].src
    lad.arrows[3].src = lad.arrows[3].dst = 2          # the last lifeline
    lad.arrows[1].label = 'a <b> & "c" \x00 tab\there · next\nline'
    lad.lifelines[1].name = "mag & <co>"
    svg = mpl.svg_pages(lad)[0]
    g = groups(svg)
    assert "arrow-0" in g and "arrow-3" in g
    assert "mag & <co>" in all_text(svg)
    assert 'a <b> & "c"' in label_text(g["arrow-1-label"])
    assert "line" in label_text(g["arrow-1-label"])


def test_empty_ladder_is_one_page_saying_so(tmp_path):
    lad = synthetic_ladder(0)
    assert "no messages" in all_text(mpl.svg_pages(lad)[0])
    assert pdf_pages(mpl.save(lad, tmp_path / "e.pdf")[0].read_bytes()) == 1


@pytest.mark.parametrize("mn", ["mn1", "mn2", "mn3"])
def test_tour_ladders_in_every_format(tmp_path, mn):
    lad = ladder("tour.pcap", mn)
    for ext in ("svg", "png", "pdf"):
        out = mpl.save(lad, tmp_path / f"{mn}.{ext}")
        assert len(out) == 1 and out[0].stat().st_size > 1000


def test_ten_thousand_messages_to_pdf(tmp_path):
    """A long capture renders page by page (the time is measured outside the suite)."""
    lad = synthetic_ladder(10_000)
    out = tmp_path / "big.pdf"
    assert mpl.save(lad, out) == [out]
    assert pdf_pages(out.read_bytes()) == math.ceil(10_000 / 60)


def test_pdf_embeds_a_font_only_for_characters_the_standard_fonts_lack(tmp_path):
    lad = synthetic_ladder(3, lifelines=3)
    lad.arrows[1].label = "PBU seq 1 · NAI Ωmega@example.net"
    out = tmp_path / "u.pdf"
    mpl.save(lad, out)
    data = out.read_bytes()
    assert b"DejaVuSans" in data and b"/BaseFont /Helvetica" in data
    plain = synthetic_ladder(3, lifelines=3)
    mpl.save(plain, tmp_path / "p.pdf")
    assert b"DejaVuSans" not in (tmp_path / "p.pdf").read_bytes()


def test_an_arrow_seen_at_both_capture_points_slopes_from_send_to_arrival(tmp_path):
    """One capture per node (MAG1, MAG2, LMA) with skewed clocks, merged: a message seen
    leaving and arriving is drawn from the sender's sighting down to the receiver's, so
    its SVG line's ends differ in y (lower at the receiver); a message seen once is level."""
    from tests.cli.test_inputs import SKEWS, simulate

    paths = simulate(tmp_path, "skewed", "--skew", SKEWS)
    keep: dict = {}
    with open_source(paths) as src:
        report = correlate(src, Tally(), None, keep)
    lad = build(report, report.mobile_nodes[0], keep)
    (svg,) = mpl.svg_pages(lad)
    g = groups(svg)
    sloped = level = 0
    for i, a in enumerate(lad.arrows):
        if a.src == a.dst:
            continue
        ys = [float(v) for v in re.findall(r"[-\d.]+", next(g[f"arrow-{i}"].iter(
            f"{NS}path")).get("d"))[1::2]]
        if a.transit_ms is not None:
            sloped += 1
            # SVG y grows downwards: the receiver's end is lower, within the row
            assert ys[0] < ys[-1] <= ys[0] + mpl.SLOPE_MAX * 72 + 0.01, (i, a.text, ys)
        else:
            level += 1
            assert ys[0] == ys[-1], (i, a.text, ys)
    assert sloped and level
