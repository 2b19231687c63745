"""``pmipview plot`` figures as a user reads them: units on the axes, one bar per
attachment and one row per MN, percentile lines where ``stats`` puts them, a legend entry
per MAG, no overlapping labels on a 50-MN timeline, and the right file format."""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise
from pathlib import Path

import pytest
from matplotlib.colors import to_rgb

from bench.make_timeline_capture import scenario
from pmipview.correlate.model import Report
from pmipview.packets import Tally
from pmipview.pipeline import correlate
from pmipview.render import plots
from pmipview.render.timeline import stats_dict
from pmipview.sim.engine import run
from pmipview.sim.scenario import load, parse
from pmipview.sources import open_source

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def report_of(path: Path) -> Report:
    source = open_source(str(path))
    try:
        return correlate(source, Tally())
    finally:
        source.close()


@pytest.fixture(scope="module")
def big() -> Report:
    """50 MNs moving between 10 MAGs for 30 minutes (the benchmark's scenario)."""
    result = run(parse(scenario(50, 10, 1800.0, 1), "<test>"))
    return correlate(result.records, Tally())


@pytest.fixture(scope="module")
def tour() -> Report:
    return report_of(SAMPLES / "tour.pcap")


def stats_of(r: Report, kind: str) -> dict:
    return stats_dict(r, {}, {})["latency_ms"][kind]


def drawn(fig):
    fig.canvas.draw()
    return fig.canvas.get_renderer()


def lines(ax, gid: str):
    return [ln for ln in ax.get_lines() if ln.get_gid() == gid]


def bars(ax):
    return [p for p in ax.patches if (p.get_gid() or "").startswith("attachment:")]


def legend_texts(fig) -> list[str]:
    return [t.get_text() for leg in fig.legends for t in leg.get_texts()]


def assert_disjoint(boxes, axis: str) -> None:
    spans = sorted((b.y0, b.y1) if axis == "y" else (b.x0, b.x1) for b in boxes)
    for (_, end), (begin, _) in pairwise(spans):
        assert end <= begin + 0.01, spans


def assert_inside(fig, renderer, artists) -> None:
    box = fig.bbox
    for a in artists:
        e = a.get_window_extent(renderer)
        assert box.x0 - 1 <= e.x0 and e.x1 <= box.x1 + 1, (a, e, box)
        assert box.y0 - 1 <= e.y0 and e.y1 <= box.y1 + 1, (a, e, box)


# -- histograms and CDFs --------------------------------------------------------------------

def test_histogram_has_units_sample_count_and_percentiles_where_stats_puts_them(big):
    stats = stats_of(big, "rtt")["all"]
    fig = plots.latency_figure(big, "rtt", source="big.pcapng")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "rtt latency (ms)"
    assert "count" in ax.get_ylabel()
    assert f"n={stats['count']}" in ax.get_title() and "big.pcapng" in ax.get_title()
    assert sum(p.get_height() for p in ax.patches) == stats["count"]
    for q in (50, 90, 99):
        (line,) = lines(ax, f"p{q}")
        assert line.get_xdata()[0] == stats[f"p{q}"]
        assert f"p{q} = {stats[f'p{q}']:.1f} ms" in [t.get_text() for t in
                                                      ax.get_legend().get_texts()]


@pytest.mark.parametrize("kind", ["rtt", "handoff", "attach"])
def test_histogram_percentile_labels_show_values_do_not_overlap_and_stay_inside(big, kind):
    fig = plots.latency_figure(big, kind)
    ax = fig.axes[0]
    renderer = drawn(fig)
    labels = [t for t in ax.texts if (t.get_gid() or "").endswith("-label")]
    stats = stats_of(big, kind)["all"]
    assert [t.get_text() for t in labels] == [f"p{q} {stats[f'p{q}']:.1f} ms"
                                              for q in (50, 90, 99)]
    assert_disjoint([t.get_window_extent(renderer) for t in labels], "y")
    box = ax.get_window_extent(renderer)
    for t in labels:
        e = t.get_window_extent(renderer)
        assert box.x0 <= e.x0 and e.x1 <= box.x1 and box.y0 <= e.y0 and e.y1 <= box.y1, t


def test_histogram_by_mag_is_one_panel_per_mag_with_its_own_percentiles(big):
    stats = stats_of(big, "rtt")
    mags = [k for k in stats if k != "all"]
    fig = plots.latency_figure(big, "rtt", by_mag=True)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) == len(mags) == 10
    by_title = {ax.get_title(loc="left").split()[1]: ax for ax in panels}
    assert set(by_title) == set(mags)
    for mag, ax in by_title.items():
        s = stats[mag]
        assert f"n={s['count']}" in ax.get_title(loc="left")
        assert sum(p.get_height() for p in ax.patches) == s["count"]
        assert [lines(ax, f"p{q}")[0].get_xdata()[0] for q in (50, 90, 99)] == \
            [s["p50"], s["p90"], s["p99"]]
    bottom = [ax for ax in panels if ax.get_xlabel()]
    assert bottom and all(ax.get_xlabel() == "rtt latency (ms)" for ax in bottom)
    renderer = drawn(fig)
    titles = [ax.title if ax.get_title() else ax._left_title for ax in panels]
    assert_inside(fig, renderer, titles)


def test_handoff_by_mag_is_by_target_mag(big):
    fig = plots.latency_figure(big, "handoff", by_mag=True)
    assert all(ax.get_title(loc="left").startswith("target MAG ")
               for ax in fig.axes if ax.get_visible())


def test_cdf_by_mag_is_one_step_line_per_mag_and_the_legend_names_each(big):
    stats = stats_of(big, "setup")
    mags = [k for k in stats if k != "all"]
    fig = plots.latency_figure(big, "setup", cdf=True, by_mag=True)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "setup latency (ms)" and "%" in ax.get_ylabel()
    texts = legend_texts(fig)
    for mag in mags:
        (entry,) = [t for t in texts if t.startswith(f"{mag}  ")]
        assert f"n={stats[mag]['count']}" in entry
        assert f"p50 {stats[mag]['p50']:.1f}" in entry
    assert any(t.startswith(f"all  n={stats['all']['count']}") for t in texts)
    curves = [ln for ln in ax.get_lines() if ln.get_label() in texts]
    assert len(curves) == len(mags) + 1
    assert all(max(c.get_ydata()) == 1.0 for c in curves)
    renderer = drawn(fig)
    legend = fig.legends[0].get_window_extent(renderer)
    assert not legend.overlaps(ax.get_window_extent(renderer))


def test_cdf_marks_the_percentiles_of_stats(tour):
    stats = stats_of(tour, "rtt")["all"]
    ax = plots.latency_figure(tour, "rtt", cdf=True).axes[0]
    assert f"n={stats['count']}" in ax.get_title()
    for q in (50, 90, 99):
        assert lines(ax, f"p{q}")[0].get_xdata()[0] == stats[f"p{q}"]


def test_a_kind_without_samples_is_no_data_with_a_reason():
    r = report_of(SAMPLES / "reject-170.pcapng")
    with pytest.raises(plots.NoData, match="no handoffs"):
        plots.latency_figure(r, "handoff")
    with pytest.raises(plots.NoData, match="no mobile node"):
        plots.timeline_figure(Report())


def test_latency_samples_are_the_stats_values(big):
    """One place for each fact: the plotted samples are render.timeline.latencies()."""
    for kind in plots.LATENCY_KINDS:
        if not stats_of(big, kind):  # (no break-before-make handoff in it)
            with pytest.raises(plots.NoData):
                plots.latency_samples(big, kind)
            continue
        samples = plots.latency_samples(big, kind)
        assert {k: len(v) for k, v in samples.items()} == \
            {k: s["count"] for k, s in stats_of(big, kind).items()}


# -- the timeline ---------------------------------------------------------------------------

def test_timeline_of_50_mns_has_a_row_per_mn_and_a_bar_per_attachment(big):
    fig = plots.timeline_figure(big, source="big.pcapng")
    ax = fig.axes[0]
    ids = [mn.id for mn in big.mobile_nodes]
    assert len(ids) == 50
    assert [t.get_text() for t in ax.get_yticklabels()] == ids
    assert len(bars(ax)) == sum(len(mn.attachments) for mn in big.mobile_nodes)
    handoffs = sum(len(mn.handoffs) for mn in big.mobile_nodes)
    assert len(lines(ax, "handoff")[0].get_xdata()) == handoffs
    assert ax.get_xlabel() == "time since capture start (s)"
    assert f"50 mobile nodes, {sum(len(m.attachments) for m in big.mobile_nodes)} " \
           f"attachments, {handoffs} handoffs" in ax.get_title()


def test_timeline_of_50_mns_has_no_overlapping_or_clipped_labels(big):
    fig = plots.timeline_figure(big)
    ax = fig.axes[0]
    renderer = drawn(fig)
    ticks = ax.get_yticklabels()
    assert_disjoint([t.get_window_extent(renderer) for t in ticks], "y")
    assert_inside(fig, renderer, [*ticks, ax.title, ax.xaxis.label, ax.yaxis.label])
    legend = fig.legends[0]
    assert_inside(fig, renderer, [legend])
    assert not legend.get_window_extent(renderer).overlaps(ax.get_window_extent(renderer))
    small = plots.timeline_figure(replace(big, mobile_nodes=big.mobile_nodes[:3]))
    assert fig.get_figheight() > 3 * small.get_figheight()  # height grows with the rows


def test_timeline_colours_each_mag_and_the_legend_lists_them(big):
    fig = plots.timeline_figure(big)
    mags = {a.mag for mn in big.mobile_nodes for a in mn.attachments}
    texts = legend_texts(fig)
    assert {t.removeprefix("MAG ") for t in texts if t.startswith("MAG ")} == mags
    assert "handoff" in texts
    colours = plots.mag_colours(mags)
    assert len({to_rgb(c) for c in colours.values()}) == len(mags)
    assert to_rgb(plots.FAIL_COLOUR) not in {to_rgb(c) for c in colours.values()}
    ax = fig.axes[0]
    first = big.mobile_nodes[0].attachments[0]
    bar = next(b for b in bars(ax) if b.get_gid() == f"attachment:{big.mobile_nodes[0].id}")
    assert to_rgb(bar.get_facecolor()) == to_rgb(colours[first.mag])


def test_timeline_marks_failures_where_they_happened(tour):
    """tour.pcap: mn2 is rejected at 500.008 s, mn3's PBU is never answered (523 s, after a
    retransmission at 521 s): red crosses on their rows, their attachments hatched."""
    fig = plots.timeline_figure(tour)
    ax = fig.axes[0]
    ids = [t.get_text() for t in ax.get_yticklabels()]
    (fails,) = lines(ax, "failure")
    marks = sorted(zip(fails.get_ydata(), fails.get_xdata(), strict=True))
    assert [(ids[int(y)], round(x, 2)) for y, x in marks] == \
        [("mn2@example.net", 500.01), ("mn3@example.net", 523.0)]
    (warns,) = lines(ax, "warning")
    assert [round(x, 2) for x in warns.get_xdata()] == [521.0]
    hatched = [b for b in bars(ax) if b.get_hatch()]
    assert {b.get_gid() for b in hatched} == {"attachment:mn2@example.net",
                                               "attachment:mn3@example.net"}
    texts = legend_texts(fig)
    assert "never registered" in texts
    assert any(t.startswith("failure") for t in texts)
    assert "1 handoff, 2 failures" in ax.get_title()


def test_a_rejection_seen_at_the_mag_and_the_lma_is_one_failure():
    """Captured at both ends, a PBA is seen twice (the diagnostics take its first sighting,
    the transaction its last): still one cross per rejected registration."""
    sc = load(str(SAMPLES / "scenarios" / "reject-173.toml"))
    r = correlate(run(replace(sc, capture=("mag1", "lma"))).records, Tally())
    (mn,) = r.mobile_nodes
    rejected = [t.answered for t in mn.transactions if t.outcome == "rejected"]
    assert len(rejected) == 2 and len(mn.diagnostics) == 4
    assert plots.failure_times(mn) == rejected
    assert "2 failures" in plots.timeline_figure(r).axes[0].get_title()


def test_timeline_gives_each_interface_of_a_multihomed_mn_its_own_lane():
    r = report_of(SAMPLES / "multihomed-inter-interface.pcapng")
    ax = plots.timeline_figure(r).axes[0]
    lanes = {}
    for b, a in zip(bars(ax), r.mobile_nodes[0].attachments, strict=True):
        lanes.setdefault(a.key, set()).add(round(b.get_y(), 6))
    assert len(lanes) == 2 and all(len(v) == 1 for v in lanes.values())
    assert lanes[r.mobile_nodes[0].attachments[0].key] != lanes[
        r.mobile_nodes[0].attachments[1].key]


def test_timeline_in_clock_time_labels_utc(tour):
    fig = plots.timeline_figure(tour, clock=True)
    ax = fig.axes[0]
    assert ax.get_xlabel().startswith("time (UTC; capture starts 2024-05-01 10:00:00")
    drawn(fig)
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert labels and all(":" in t for t in labels), labels


def test_long_mn_ids_are_shortened_in_the_middle():
    long = "a-very-long-network-access-identifier-of-a-mobile-node@operator.example"
    short = plots._short(long)
    assert len(short) == plots.MAX_LABEL and short.startswith("a-very") and \
        short.endswith(".example") and "…" in short


# -- files ----------------------------------------------------------------------------------

@pytest.mark.parametrize("ext,magic", [("png", b"\x89PNG\r\n\x1a\n"), ("svg", b"<?xml"),
                                       ("pdf", b"%PDF-")])
def test_save_writes_the_format_of_the_extension(tour, tmp_path, ext, magic):
    path = tmp_path / f"tour.{ext.upper() if ext == 'pdf' else ext}"
    plots.save(plots.timeline_figure(tour), path)
    data = path.read_bytes()
    assert data.startswith(magic)
    if ext == "svg":
        assert b"<svg" in data[:500]


def test_save_refuses_an_unknown_extension(tour, tmp_path):
    with pytest.raises(ValueError, match="unknown image format"):
        plots.save(plots.timeline_figure(tour), tmp_path / "tour.jpg")
    assert plots.output_format("x.PNG") == "png" and plots.output_format("x") is None


# -- outliers -------------------------------------------------------------------------------

def rtt_report(per_mag: dict[str, list[float]]) -> Report:
    """A report whose accepted registrations have these rtt values, per MAG."""
    from pmipview.correlate.model import MobileNode, Transaction

    txns = [Transaction("registration", mag, "lma", [i], [i], float(i), float(i),
                        outcome="accepted", rtt_ms=v, setup_ms=v)
            for mag, values in per_mag.items() for i, v in enumerate(values)]
    return Report(mobile_nodes=[MobileNode(1, nais=["mn@x"], transactions=txns)])


def test_one_huge_outlier_is_counted_and_does_not_set_the_axis():
    values = [5.0 + 0.1 * (i % 20) for i in range(200)] + [60_000.0]
    fig = plots.latency_figure(rtt_report({"mag1": values}), "rtt")
    ax = fig.axes[0]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "1 outlier > 10.4 ms (max 60000.0 ms)" in legend, legend
    assert ax.get_xlim()[1] < 20  # not 60,000
    # every sample is still counted: the outlier is the hatched bar at the right end
    assert sum(p.get_height() for p in ax.patches) == len(values)
    (bar,) = [p for p in ax.patches if p.get_gid() == "outliers"]
    assert bar.get_height() == 1 and bar.get_x() < ax.get_xlim()[1]
    # the percentiles are those of every sample, as stats gives them
    assert lines(ax, "p50")[0].get_xdata()[0] == plots.percentile(values, 50)


def test_a_tail_is_not_outliers():
    """More than 1% of the samples past the limit: the axis shows them all."""
    values = [5.0] * 90 + [500.0] * 10
    assert plots.axis_limit(values) is None
    ax = plots.latency_figure(rtt_report({"mag1": values}), "rtt").axes[0]
    assert ax.get_xlim()[1] >= 500
    assert not any("outlier" in t.get_text() for t in ax.get_legend().get_texts())
    assert plots.axis_limit([0.0, 0.0, 0.0, 10.5]) is None  # a zero p99 is no limit


def test_by_mag_panels_each_have_their_own_x_axis_and_outliers():
    fast = [2.0 + 0.05 * (i % 10) for i in range(100)]
    slow = [400.0 + 5 * (i % 10) for i in range(100)] + [90_000.0]
    fig = plots.latency_figure(rtt_report({"192.0.2.1": fast, "192.0.2.2": slow}), "rtt",
                               by_mag=True)
    panels = {ax.get_title(loc="left").split()[1]: ax for ax in fig.axes if ax.get_visible()}
    lo, hi = panels["192.0.2.1"], panels["192.0.2.2"]
    assert lo.get_xlim()[1] < 10 and 400 < hi.get_xlim()[1] < 1000
    notes = {k: [t.get_text() for t in ax.texts if t.get_gid() == "outliers-label"]
             for k, ax in panels.items()}
    assert notes["192.0.2.1"] == [] and len(notes["192.0.2.2"]) == 1
    assert notes["192.0.2.2"][0].startswith("1 outlier > ")
