"""``pmipview plot``: latency histograms and CDFs, and the capture timeline, as matplotlib
Figures.  Pure functions from a :class:`Report` to a :class:`~matplotlib.figure.Figure`
(no pyplot, no global state); the only I/O is :func:`save`.

Latency values and percentiles come from :mod:`pmipview.render.timeline` (the figures
``pmipview stats`` prints), so a plot and the stats table always agree.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import UTC, datetime
from ipaddress import ip_address

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator, PercentFormatter

from pmipview.correlate.model import MobileNode, Report
from pmipview.render.timeline import METRICS, REGISTRATION_KINDS, latencies, percentile

FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
LATENCY_KINDS = METRICS
KINDS = (*METRICS, "timeline")
DESCRIPTIONS = {
    "rtt": "PBU → PBA round-trip time (rtt)",
    "setup": "Registration setup time, retransmissions included (setup)",
    "address": "DHCP address acquisition time (address)",
    "attach": "Attachment time: first signal → registered and addressed (attach)",
    "handoff": "Handoff time: new MAG's first PBU → accepted PBA (handoff)",
    "interruption": "Break-before-make interruption: old binding released → new PBA "
                    "(interruption)",
}
QUANTILES = (50, 90, 99)
PCT_STYLE = {50: ("#1b7837", "--"), 90: ("#e08214", "-."), 99: ("#b2182b", ":")}
FAIL_COLOUR = "#d62728"
WARN_COLOUR = "#ff9f1c"
FAIL_OUTCOMES = ("rejected", "timeout")
PALETTE_10 = ["#1f77b4", "#ff7f0e", "#2ca02c", "#2f4f4f", "#9467bd", "#8c564b", "#e377c2",
              "#7f7f7f", "#bcbd22", "#17becf"]
PALETTE_18 = [c for i, c in enumerate(
    ["#1f77b4", "#aec7e8", "#ff7f0e", "#ffbb78", "#2ca02c", "#98df8a", "#d62728", "#ff9896",
     "#9467bd", "#c5b0d5", "#8c564b", "#c49c94", "#e377c2", "#f7b6d2", "#7f7f7f", "#c7c7c7",
     "#bcbd22", "#dbdb8d", "#17becf", "#9edae5"]) if i not in (6, 7)]
DPI = 110
WIDTH_IN = 11.0
ROW_IN = 0.26          # timeline: inches per MN row (8 pt labels need ~0.15 in)
MAX_LABEL = 34         # timeline: longest y label before it is shortened


class NoData(ValueError):
    """The capture has nothing to draw for the requested kind (one line for the user)."""


def output_format(path: str | os.PathLike[str]) -> str | None:
    """``png``, ``svg`` or ``pdf`` from the file name's extension; None when unknown."""
    return FORMATS.get(os.path.splitext(os.fspath(path))[1].lower())


def save(fig: Figure, path: str | os.PathLike[str]) -> None:
    """Write ``fig`` to ``path`` in the format its extension names (OSError if it cannot)."""
    fmt = output_format(path)
    if fmt is None:
        raise ValueError(f"unknown image format {path!r}: use {', '.join(FORMATS)}")
    metadata = {"Creator": "pmipview"} if fmt in ("pdf", "svg") else {"Software": "pmipview"}
    fig.savefig(path, format=fmt, dpi=DPI, metadata=metadata)


# -- shared helpers ------------------------------------------------------------------------

def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)  # so that fig.canvas.draw() renders (tests measure labels)
    return fig


def _node_key(name: str) -> tuple:
    try:
        addr = ip_address(name)
    except ValueError:
        return (1, 0, 0, name)
    return (0, addr.version, int(addr), name)


def sorted_mags(names: Iterable[str]) -> list[str]:
    """MAG names in address order (192.0.2.2 before 192.0.2.10), then by name."""
    return sorted(set(names), key=_node_key)


def mag_colours(mags: Iterable[str]) -> dict[str, str | tuple]:
    """One distinct colour per MAG.  Red is kept for failures (and for p99), so the palette
    is tab10 with its red replaced by dark slate, then tab20 without its reds, then evenly
    spaced viridis shades for more than 18 MAGs."""
    from matplotlib import colormaps

    names = sorted_mags(mags)
    if len(names) <= len(PALETTE_10):
        palette: list = PALETTE_10
    elif len(names) <= len(PALETTE_18):
        palette = PALETTE_18
    else:
        cmap = colormaps["viridis"]
        palette = [cmap(i / (len(names) - 1)) for i in range(len(names))]
    return dict(zip(names, palette, strict=False))


def latency_samples(r: Report, kind: str) -> dict[str, list[float]]:
    """``{"all": [...], mag: [...]}`` of one latency in ms, exactly as ``stats`` counts it."""
    if kind not in LATENCY_KINDS:
        raise ValueError(f"not a latency: {kind!r}")
    per = latencies(r)[kind]
    if not per.get("all"):
        why = {"handoff": "no handoffs",
               "interruption": "no break-before-make handoff (the old binding released "
                               "before the new MAG's first PBU)",
               "address": "no acknowledged DHCP address acquisition",
               "attach": "no registered attachment"}.get(kind, "no answered PBU")
        raise NoData(f"no {kind} latency to plot ({why})")
    return {k: list(v) for k, v in per.items()}


def percentiles(values: list[float]) -> dict[int, float]:
    """p50, p90, p99 by nearest rank, as ``pmipview stats`` gives them."""
    return {q: v for q in QUANTILES if (v := percentile(values, q)) is not None}


def _pct_text(p: dict[int, float]) -> str:
    return " · ".join(f"p{q} {v:.1f}" for q, v in p.items()) + " ms"


def _mark_percentiles(ax, p: dict[int, float], texts: bool = True,
                      colour: str | None = None) -> None:
    """Vertical lines at p50/p90/p99 (their values in the legend), and with ``texts`` also
    labelled at the top of the plot: one text row per line, so close values never overlap,
    on the left of a line in the right quarter of the plot so that no label is clipped."""
    left, right = ax.get_xlim()
    for row, (q, v) in enumerate(p.items()):
        c, style = PCT_STYLE[q]
        ax.axvline(v, color=colour or c, linestyle=style, linewidth=1.6,
                   label=f"p{q} = {v:.1f} ms", gid=f"p{q}")
        if texts:
            flip = right > left and (v - left) / (right - left) > 0.75
            ax.annotate(f"p{q} {v:.1f} ms", xy=(v, 1), xycoords=("data", "axes fraction"),
                        xytext=(-3 if flip else 3, -10 - 13 * row), textcoords="offset points",
                        fontsize=8, color=colour or c, ha="right" if flip else "left",
                        va="center", gid=f"p{q}-label",
                        bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none",
                              "alpha": 0.85})


def _bins(values: list[float]) -> np.ndarray:
    edges = np.histogram_bin_edges(values, bins="auto")
    if len(edges) > 61:
        edges = np.histogram_bin_edges(values, bins=60)
    return edges


def axis_limit(values: list[float]) -> float | None:
    """Where a histogram's x axis ends so that a few outliers do not squeeze the rest into
    one bar: 1.5 × the p99 of the samples within Tukey's far-out fence (Q3 + 3 IQR).
    None (the axis shows every sample) when no sample lies beyond it, or when more than
    1% of them (at least one) would: those are a tail, not outliers."""
    if len(values) < 2:
        return None
    q1, q3 = np.percentile(values, [25, 75])
    fence = q3 + 3 * (q3 - q1)
    inner = percentile([v for v in values if v <= fence], 99)
    limit = 1.5 * inner if inner is not None else 0.0
    beyond = sum(1 for v in values if v > limit)
    if limit <= 0 or not beyond or beyond > -(-len(values) // 100):
        return None
    return limit


def _hist(ax, values: list[float], colour, *, in_legend: bool,  # type: ignore[no-untyped-def]
          linewidth: float = 0.5, **kw) -> None:
    """A histogram of ``values`` on ``ax``.  Past :func:`axis_limit` the outliers are one
    hatched bar at the right end (every sample is still counted), and how many there are
    and how far they go is said in the legend (``in_legend``) or in the panel's corner."""
    limit = axis_limit(values)
    shown = values if limit is None else [v for v in values if v <= limit]
    edges = _bins(shown)
    ax.hist(shown, bins=edges, color=colour, edgecolor="white", linewidth=linewidth, **kw)
    if limit is None:
        return
    out = [v for v in values if v > limit]
    width = (edges[-1] - edges[0]) / max(len(edges) - 1, 1) or limit * 0.05
    text = f"{len(out)} outlier{'s' if len(out) != 1 else ''} > {limit:.1f} ms " \
           f"(max {max(out):.1f} ms)"
    ax.bar(edges[-1], len(out), width=width, align="edge", color="white", edgecolor=colour,
           hatch="///", linewidth=0.8, gid="outliers", label=text if in_legend else None)
    ax.set_xlim(right=edges[-1] + width * 1.05)
    if not in_legend:
        ax.annotate(text, xy=(1, 1), xycoords="axes fraction", xytext=(-3, -3),
                    textcoords="offset points", ha="right", va="top", fontsize=7.5,
                    color="#57606a", gid="outliers-label",
                    bbox={"boxstyle": "square,pad=0.15", "fc": "white", "ec": "none",
                          "alpha": 0.85})


def _mag_word(kind: str) -> str:
    return "target MAG" if kind == "handoff" else "MAG"


def _title(kind: str, source: str | None, title: str | None) -> str:
    if title:
        return title
    return DESCRIPTIONS[kind] + (f" — {source}" if source else "")


# -- latency figures -----------------------------------------------------------------------

def latency_figure(r: Report, kind: str, *, by_mag: bool = False, cdf: bool = False,
                   source: str | None = None, title: str | None = None) -> Figure:
    """A histogram (or CDF) of one latency, overall or one series per MAG."""
    samples = latency_samples(r, kind)
    if cdf:
        return _cdf(samples, kind, by_mag, _title(kind, source, title))
    if by_mag:
        return _histograms_by_mag(samples, kind, _title(kind, source, title))
    return _histogram(samples["all"], kind, _title(kind, source, title))


def _histogram(values: list[float], kind: str, title: str) -> Figure:
    fig = _figure(WIDTH_IN * 0.8, 5.0)
    ax = fig.add_subplot()
    _hist(ax, values, "#4c72b0", in_legend=True, label=f"n={len(values)} samples")
    _mark_percentiles(ax, percentiles(values))
    ax.set_title(f"{title}\nn={len(values)}", fontsize=11)
    ax.set_xlabel(f"{kind} latency (ms)")
    ax.set_ylabel("samples (count)")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.margins(y=0.25)  # room for the percentile labels above the tallest bar
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper left", fontsize=8, framealpha=0.9)
    return fig


def _histograms_by_mag(samples: dict[str, list[float]], kind: str, title: str) -> Figure:
    """Small multiples: one histogram per MAG, each on its own x axis and bins (a slow MAG
    does not squeeze the others), with that MAG's percentiles as lines and in its panel
    title, and its own outliers counted."""
    mags = sorted_mags(k for k in samples if k != "all")
    colours = mag_colours(mags)
    ncols = 1 if len(mags) <= 4 else 2 if len(mags) <= 16 else 3
    nrows = -(-len(mags) // ncols)
    fig = _figure(WIDTH_IN * (0.8 if ncols == 1 else 1.0), 1.2 + 1.75 * nrows)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, mag in zip(axes, mags, strict=False):
        values = samples[mag]
        p = percentiles(values)
        _hist(ax, values, colours[mag], in_legend=False, linewidth=0.4)
        _mark_percentiles(ax, p, texts=False, colour="black")
        ax.set_title(f"{_mag_word(kind)} {mag}   n={len(values)}   {_pct_text(p)}",
                     fontsize=8.5, loc="left")
        ax.tick_params(labelsize=8)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=4))
        ax.grid(axis="y", alpha=0.3)
        ax.margins(y=0.15)
    for ax in axes[len(mags):]:
        ax.set_visible(False)
    for i, ax in enumerate(axes[:len(mags)]):
        if i + ncols >= len(mags):  # nothing below this panel: it names the x axis
            ax.set_xlabel(f"{kind} latency (ms)", fontsize=9)
    fig.supylabel("samples (count)", fontsize=10)
    fig.suptitle(f"{title}\nn={len(samples['all'])} in all, by {_mag_word(kind)}",
                 fontsize=11)
    handles = [Line2D([], [], color="black", linestyle=s, linewidth=1.6,
                      label=f"p{q} of the panel") for q, (_, s) in PCT_STYLE.items()]
    fig.legend(handles=handles, loc="outside lower center", ncols=3, fontsize=8,
               frameon=False)
    return fig


def _cdf(samples: dict[str, list[float]], kind: str, by_mag: bool, title: str) -> Figure:
    fig = _figure(WIDTH_IN * 0.8, 5.5)
    ax = fig.add_subplot()
    everything = samples["all"]
    if by_mag:
        mags = sorted_mags(k for k in samples if k != "all")
        colours = mag_colours(mags)
        for mag in mags:
            values = samples[mag]
            ax.ecdf(values, color=colours[mag], linewidth=1.4,
                    label=f"{mag}  n={len(values)}  p50 {percentile(values, 50):.1f}"
                          f"  p99 {percentile(values, 99):.1f} ms")
        ax.ecdf(everything, color="black", linewidth=2.0, linestyle="--",
                label=f"all  n={len(everything)}")
    else:
        ax.ecdf(everything, color="#4c72b0", linewidth=2.0, label=f"n={len(everything)}")
        _mark_percentiles(ax, percentiles(everything), texts=False)
    for q in QUANTILES:
        ax.axhline(q / 100, color="grey", linewidth=0.6, alpha=0.6)
        ax.annotate(f"{q}%", xy=(1, q / 100), xycoords=("axes fraction", "data"),
                    xytext=(3, 0), textcoords="offset points", fontsize=7, color="grey",
                    va="center", ha="left")
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_title(f"{title}\nCDF, n={len(everything)}" + (
        f", one line per {_mag_word(kind)}" if by_mag else ""), fontsize=11)
    ax.set_xlabel(f"{kind} latency (ms)")
    ax.set_ylabel("samples ≤ latency (%)")
    ax.grid(alpha=0.3)
    if by_mag:
        fig.legend(loc="outside right upper", fontsize=8, title=_mag_word(kind),
                   title_fontsize=8)
    else:
        ax.legend(loc="lower right", fontsize=8, framealpha=0.9)
    return fig


# -- the timeline --------------------------------------------------------------------------

def failure_times(mn: MobileNode) -> list[float]:
    """One time per failure: each rejected (at the PBA) or unanswered (at the last PBU)
    registration, and each error diagnostic about other frames (a ``pba-rejected`` is the
    rejected registration itself, not a second failure)."""
    times: list[float] = []
    seen: set[int] = set()
    for t in mn.transactions:
        if t.kind in REGISTRATION_KINDS and t.outcome in FAIL_OUTCOMES:
            times.append(t.answered if t.outcome == "rejected" and t.answered is not None
                         else t.last_sent)
            seen.update(t.frames)
    for d in sorted(mn.diagnostics, key=lambda d: d.time):
        if d.severity == "error" and not seen.intersection(d.frames):
            times.append(d.time)
            seen.update(d.frames)
    return sorted(times)


def warning_times(mn: MobileNode) -> list[float]:
    return _distinct(d.time for d in mn.diagnostics if d.severity == "warning")


def _distinct(times: Iterable[float]) -> list[float]:
    """Sorted, one per millisecond (a diagnostic seen at two capture points is one mark)."""
    return sorted({round(t, 3): t for t in times}.values())


def _short(label: str) -> str:
    if len(label) <= MAX_LABEL:
        return label
    half = (MAX_LABEL - 1) // 2
    return label[:half] + "…" + label[-(MAX_LABEL - 1 - half):]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


class _Clock:
    """Capture timestamps → x: seconds since the capture start, or matplotlib date numbers
    (days since 1970, UTC) for clock time."""

    def __init__(self, start: float, clock: bool) -> None:
        self.start, self.clock = start, clock

    def x(self, t: float) -> float:
        return t / 86400.0 if self.clock else t - self.start

    def dx(self, seconds: float) -> float:
        return seconds / 86400.0 if self.clock else seconds


def timeline_figure(r: Report, mns: list[MobileNode] | None = None, *, clock: bool = False,
                    source: str | None = None, title: str | None = None) -> Figure:
    """One row per MN: attachments as bars coloured by MAG, handoffs as black ticks,
    failures as red crosses, warnings as orange triangles, over the capture's time."""
    rows = list(r.mobile_nodes if mns is None else mns)
    if not rows:
        raise NoData("no mobile node to plot (no PMIPv6 or DHCP signaling)")
    start = r.start or 0.0
    end = max(r.end or start, start)
    time = _Clock(start, clock)
    colours = mag_colours(a.mag for mn in rows for a in mn.attachments)
    fig = _figure(WIDTH_IN, 1.9 + ROW_IN * len(rows))
    ax = fig.add_subplot()
    marks: dict[str, list[tuple[float, int]]] = {"handoff": [], "failure": [], "warning": []}
    unregistered = False
    for y, mn in enumerate(rows):
        unregistered |= _draw_attachments(ax, mn, y, end, time, colours)
        marks["handoff"] += [(time.x(h.time), y) for h in mn.handoffs]
        marks["failure"] += [(time.x(t), y) for t in failure_times(mn)]
        marks["warning"] += [(time.x(t), y) for t in warning_times(mn)]
    _draw_marks(ax, marks, len(rows))
    _timeline_axes(ax, rows, start, end, time)
    n_att = sum(len(mn.attachments) for mn in rows)
    ax.set_title(title or (f"{source + ': ' if source else ''}"
                           f"{_plural(len(rows), 'mobile node')}, "
                           f"{_plural(n_att, 'attachment')}, "
                           f"{_plural(len(marks['handoff']), 'handoff')}, "
                           f"{_plural(len(marks['failure']), 'failure')}"), fontsize=11)
    _timeline_legend(fig, colours, marks, unregistered)
    return fig


def _draw_attachments(ax, mn: MobileNode, y: int, end: float, time: _Clock,
                      colours: dict[str, str | tuple]) -> bool:
    """One bar per attachment; an MN with several interfaces gets one lane per interface.
    A never-registered attachment (rejected, unanswered) is a thin hatched strip at the
    bottom of its lane, drawn over the attachment the MN kept meanwhile.  Returns whether
    one was drawn."""
    lanes = list(dict.fromkeys(a.key for a in mn.attachments))
    height = 0.76 / max(1, len(lanes))
    hatched = False
    for a in mn.attachments:
        lane = lanes.index(a.key)
        top = y - 0.38 + height * lane
        stop = a.end if a.end is not None else end
        never = a.registered is None
        hatched |= never
        bar = height * (0.4 if never else 0.9)
        ax.barh(top + height * 0.95 - bar, time.dx(max(stop - a.start, 0.0)),
                left=time.x(a.start), height=bar, align="edge", color=colours[a.mag],
                alpha=0.75 if never else 0.9, hatch="////" if never else None,
                edgecolor="#333333" if never else colours[a.mag], linewidth=0.6 if never
                else 0.8, zorder=3 if never else 2,
                gid=f"attachment:{mn.id}")
    return hatched


def _draw_marks(ax, marks: dict[str, list[tuple[float, int]]], rows: int) -> None:
    size = max(6.0, min(14.0, 200 / max(rows, 1)))
    styles = {"handoff": {"marker": "|", "color": "black", "markersize": size * 1.2,
                          "markeredgewidth": 1.6, "zorder": 4},
              "warning": {"marker": "^", "color": WARN_COLOUR, "markersize": size * 0.55,
                          "markeredgecolor": "black", "markeredgewidth": 0.4, "zorder": 5},
              "failure": {"marker": "x", "color": FAIL_COLOUR, "markersize": size * 0.8,
                          "markeredgewidth": 2.2, "zorder": 6}}
    for what, style in styles.items():
        if marks[what]:
            xs, ys = zip(*marks[what], strict=True)
            ax.plot(xs, ys, linestyle="none", gid=what, **style)


def _timeline_axes(ax, rows: list[MobileNode], start: float, end: float,
                   time: _Clock) -> None:
    pad = max((end - start) * 0.01, 0.05)
    ax.set_xlim(time.x(start - pad), time.x(end + pad))
    ax.set_ylim(len(rows) - 0.5, -0.5)  # first MN at the top
    ax.set_yticks(range(len(rows)), [_short(mn.id) for mn in rows])
    ax.tick_params(axis="y", labelsize=9 if len(rows) <= 20 else 8, length=0)
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    if time.clock:
        from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

        locator = AutoDateLocator(tz=UTC)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator, tz=UTC))
        day = datetime.fromtimestamp(start, UTC).strftime("%Y-%m-%d")
        ax.set_xlabel(f"time (UTC; capture starts {day} "
                      f"{datetime.fromtimestamp(start, UTC).strftime('%H:%M:%S')})")
    else:
        ax.set_xlabel("time since capture start (s)")
    ax.set_ylabel("mobile node")
    if len(rows) > 20:  # repeat the time axis on top of a tall timeline
        ax.tick_params(axis="x", top=True, labeltop=True)


def _timeline_legend(fig: Figure, colours: dict[str, str | tuple],
                     marks: dict[str, list], unregistered: bool) -> None:
    handles: list = [Patch(color=c, label=f"MAG {m}") for m, c in colours.items()]
    if unregistered:
        handles.append(Patch(facecolor="lightgrey", edgecolor="#333333", hatch="////",
                             label="never registered"))
    meaning = {"handoff": ("|", "black", "handoff"),
               "failure": ("x", FAIL_COLOUR, "failure: rejected, unanswered, error"),
               "warning": ("^", WARN_COLOUR, "warning (e.g. retransmission)")}
    for what, (marker, colour, label) in meaning.items():
        if marks[what]:
            handles.append(Line2D([], [], marker=marker, color=colour, linestyle="none",
                                  markersize=9, markeredgewidth=2, label=label))
    fig.legend(handles=handles, loc="outside right upper", fontsize=8, title="legend",
               title_fontsize=8)
