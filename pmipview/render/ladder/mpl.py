"""The ladder (sequence diagram) drawn with matplotlib: SVG, PNG and PDF.

Reads only the layout model (:mod:`pmipview.render.ladder.model`), so it shows the same
lifelines, labels, colours and order as every other backend.

Layout: one lifeline per node in the model's order (MN, MAGs, LMAs, DHCP servers), each
with a header box (name and role) repeated on every page; one row per arrow, all rows of a
ladder the same height (that of its tallest label).  Labels are never cut: wrapped at their
`` · `` separators onto at most two lines over their arrow, else allowed wider than the
arrow (on a white backing where they cross a lifeline), else set in 8 instead of 9 pt, and
only a label too long for all that gets more lines.  The time of each message and its
frame number (``#n``) are in the left margin.  Diagnostics are coloured boxes across the
lifelines right where they occur, phases (attach, handoff, detach) a separator line with
their text plus a bracket in the left margin over the messages they span.  The page is
``per_page`` arrows long (notes add their own height); the last page ends with the
ladder's cut note when ``--max-messages`` left messages out.

Outcome styles (colours from ``COLOURS``): requests dark, answers/accepted green,
rejections red and bold, timeouts a dashed red arrow ending in an ✕ and tagged
"✕ timeout (no answer)", retransmissions dashed orange and tagged "↻ retransmission".
A message seen at the sender's and the receiver's capture points slopes down from its
send time to its arrival (``SLOPE_MIN``..``SLOPE_MAX``, within its row).

Files written by :func:`save` (the format comes from the extension):

* ``.pdf``: one file, one PDF page per ladder page.  Its text is set in the standard PDF
  fonts (Helvetica, Courier: not embedded, still searchable text), ten times faster to
  write than embedded TrueType, so that 10,000 messages take seconds; the few symbols they
  lack are replaced (✕ by ×, → by ->…), and a string with other characters is set in
  embedded DejaVu Sans;
* ``.svg`` / ``.png``: the given path when the ladder fits on one page; otherwise one file
  per page named ``<stem>-p<k><ext>`` (``ladder-p1.svg``, ``ladder-p2.svg``…, ``k`` from 1,
  zero-padded to the same width when there are 10 pages or more), and the given path
  itself is not written.  :func:`stale_pages` names the page files of an earlier run
  that this one did not write (the CLI removes them).

In SVG output (and :func:`svg_pages`, which returns the inline ``<svg>`` element of each
page for the HTML report) text stays text (``svg.fonttype = none``), arrow ``i`` of
``ladder.arrows`` is the element with id ``arrow-{i}`` and its label ``arrow-{i}-label``
(indexes over the whole ladder, not per page), and the output is reproducible (no date,
fixed hash salt per page so that ids stay unique when several pages share one document).
"""

from __future__ import annotations

import io
import math
import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib
from matplotlib.artist import Artist
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.markers import MarkerStyle
from matplotlib.patches import FancyBboxPatch
from matplotlib.path import Path as MPath
from matplotlib.transforms import Affine2D

from pmipview.render.ladder.model import (
    COLOURS,
    PHASE_COLOURS,
    ROLE_FACES,
    SEVERITY_COLOURS,
    SEVERITY_ICONS,
    TIME_MODE_TEXT,
    Ladder,
    Note,
)
from pmipview.render.ladder.mpl_text import (
    DESCENT,
    FONT,
    LINE,
    LOOP_W,
    METRICS,
    MONO,
    SANS,
    SEP,
    SMALL,
    Label,
    Lines,
    baselines,
    fit_label,
    place,
    wrap,
)
from pmipview.render.ladder.style import DASHED, MEANINGS

FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf"}
SVG_METADATA = {"Date": None, "Creator": "pmipview"}    # no date: reproducible output
DPI = 120                       # PNG resolution (8 pt text is 13 px high)
PER_PAGE = 60


# -- horizontal layout, inches
MARGIN = 0.3
GAP_MIN = 2.2                   # between lifelines
DIAGRAM_MIN = 6.6               # lifeline area of a ladder with few lifelines
GUTTER = 0.18                   # between the time column and the diagram
BRACKET_STEP = 0.14             # one per nesting level of phase brackets
LOOP_H = 0.13                   # arrow to self (its width: LOOP_W)

# -- vertical layout, inches
TITLE_H = 0.62                  # title and subtitle
HEAD_H = 0.46                   # a lifeline header box
ROW_PAD_TOP = 0.07              # above a row's label
ARROW_BELOW = 0.09              # below a row's arrow
LABEL_LIFT = 0.035              # between a label's last line and its arrow
# A message seen at the sender's and the receiver's capture points: its arrow slopes down
# from the send time to the arrival.  Rows are not a time scale: the drop is the arrival's
# share of the time to the next message, between these bounds, so that the arrow stays
# within its own row (above the next label) and a slope is always visible.
SLOPE_MIN, SLOPE_MAX = 0.05, ARROW_BELOW + ROW_PAD_TOP - 0.02
PHASE_H = 0.36
FOOTER_H = 0.5

LIFELINE_COLOUR = "#afb8c1"
TEXT_COLOUR = "#24292f"
MUTED = "#57606a"
TIME_COLOUR = "#424a53"
LEGEND = tuple(MEANINGS.items())   # (outcome, what it means) in the footer

# Arrowheads as marker paths with the tip at the data point (matplotlib scales a custom
# marker path by its largest coordinate but does not re-centre it).
_HEAD_RIGHT = MPath([(0, 0), (-1, 0.42), (-1, -0.42), (0, 0)],
                    [MPath.MOVETO, MPath.LINETO, MPath.LINETO, MPath.CLOSEPOLY])
_HEAD_LEFT = MPath([(0, 0), (1, 0.42), (1, -0.42), (0, 0)],
                   [MPath.MOVETO, MPath.LINETO, MPath.LINETO, MPath.CLOSEPOLY])
_DASHED = (0, (5, 3))





# -- layout ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Geometry:
    """Everything that is the same on every page of one ladder."""

    xs: list[float]             # lifeline x
    gap: float
    left: float                 # diagram extent (header boxes, notes, labels)
    right: float
    width: float                # figure
    time_x: float
    time_fmt: list[str]
    head_w: float
    row: float
    labels: list[Label]
    levels: dict[int, int] = field(default_factory=dict)   # id(phase note) -> bracket level
    bracket_x0: float = 0.0


def _tagged(ladder: Ladder, i: int) -> str:
    return ladder.arrows[i].text



def _phase_levels(ladder: Ladder) -> dict[int, int]:
    """A bracket level per phase note that spans arrows: 0 next to the lifelines, and a
    phase overlapping a shorter one gets the next level out (brackets nest)."""
    phases = sorted((n for n in ladder.notes if n.kind == "phase" and n.span > 0),
                    key=lambda n: (n.span, n.before))
    placed: list[list[tuple[int, int]]] = []     # per level: (first, last) arrows
    levels: dict[int, int] = {}
    for n in phases:
        first, last = n.before, n.before + n.span - 1
        for lvl, spans in enumerate(placed):
            if all(last < a or b < first for a, b in spans):
                spans.append((first, last))
                levels[id(n)] = lvl
                break
        else:
            levels[id(n)] = len(placed)
            placed.append([(first, last)])
    return levels


def _geometry(ladder: Ladder) -> _Geometry:
    n = max(len(ladder.lifelines), 1)
    name_w = max([METRICS.width(ll.name, FONT, weight="bold") for ll in ladder.lifelines]
                 + [METRICS.width(ll.role.upper(), SMALL) for ll in ladder.lifelines] + [1.0])
    gap = max(GAP_MIN, name_w + 0.4, DIAGRAM_MIN / (n - 1) if n > 1 else DIAGRAM_MIN)
    head_w = min(gap - 0.25, max(name_w + 0.3, 1.6))

    times = [ladder.time_text(i) for i in range(len(ladder.arrows))]
    frames = [f"#{a.frame}" for a in ladder.arrows]
    tw = max((len(t) for t in times), default=8)
    fw = max((len(f) for f in frames), default=2)
    time_fmt = [f"{t:>{tw}} {f:<{fw}}" for t, f in zip(times, frames, strict=True)]
    time_w = METRICS.width("0" * (tw + 1 + fw), SMALL, MONO)

    levels = _phase_levels(ladder)
    depth = max(levels.values(), default=-1) + 1
    left = MARGIN + time_w + GUTTER + depth * BRACKET_STEP
    xs = [left + gap / 2 + j * gap for j in range(n)]
    right = xs[-1] + head_w / 2 + 0.2
    g = _Geometry(xs, gap, left, right, right + MARGIN, MARGIN, time_fmt, head_w, 0.0, [],
                  levels, left - 0.06)

    for i, a in enumerate(ladder.arrows):
        weight = "bold" if a.outcome in ("rejected", "timeout") else "normal"
        lab = fit_label(_tagged(ladder, i), weight, xs[a.src], xs[a.dst], g.left, g.right,
                        g.gap)
        lab.x = place(lab, g.left, g.right)
        g.labels.append(lab)
        if lab.ha == "left":
            g.width = max(g.width, lab.x + lab.width + MARGIN)
    lines = max((len(lab.lines) for lab in g.labels), default=1)
    g.row = ROW_PAD_TOP + lines * FONT * LINE + LABEL_LIFT + ARROW_BELOW
    return g


def _phase_colour(note: Note) -> str:
    return PHASE_COLOURS.get(note.phase, PHASE_COLOURS["end"])



# -- pages -------------------------------------------------------------------------------

def page_count(ladder: Ladder, per_page: int = PER_PAGE) -> int:
    """How many pages :func:`figures` draws: ``per_page`` arrows a page, at least one."""
    _check_per_page(per_page)
    return max(1, math.ceil(len(ladder.arrows) / per_page))


def _check_per_page(per_page: int) -> None:
    if isinstance(per_page, bool) or not isinstance(per_page, int) or per_page < 1:
        raise ValueError(f"per_page must be a positive number of messages, not {per_page!r}")


@contextmanager
def _style(salt: str = "pmipview-ladder", pdf: bool = False) -> Iterator[None]:
    with matplotlib.rc_context({
        "font.family": [SANS], "font.size": FONT, "text.color": TEXT_COLOUR,
        # what an SVG viewer without DejaVu falls back to (the CSS font-family list)
        "font.sans-serif": [SANS, "Helvetica", "Arial", "Liberation Sans"],
        "font.monospace": [MONO, "Menlo", "Consolas", "Liberation Mono"],
        "svg.fonttype": "none", "svg.hashsalt": salt, "pdf.fonttype": 42,
        "pdf.use14corefonts": pdf,
        "path.simplify": False, "lines.solid_capstyle": "butt",
        "lines.dash_capstyle": "butt", "lines.solid_joinstyle": "miter",
    }):
        yield


def figures(ladder: Ladder, per_page: int = PER_PAGE) -> list[Figure]:
    """One :class:`~matplotlib.figure.Figure` per page of ``per_page`` arrows."""
    return list(_pages(ladder, per_page))


def _pages(ladder: Ladder, per_page: int) -> Iterator[Figure]:
    """The pages one at a time (a long ladder is written page by page, not held whole)."""
    pages = page_count(ladder, per_page)
    with _style():
        g = _geometry(ladder)
    notes: dict[int, list[Note]] = defaultdict(list)
    for n in ladder.notes:
        notes[min(max(n.before, 0), len(ladder.arrows))].append(n)
    for k in range(pages):
        with _style():
            fig = _Page(ladder, g, notes, k, pages, per_page).draw()
        yield fig


class _Page:
    """One page; coordinates in inches from the top left corner."""

    def __init__(self, ladder: Ladder, g: _Geometry, notes: dict[int, list[Note]], k: int,
                 pages: int, per_page: int) -> None:
        self.ladder, self.g, self.notes, self.k, self.pages = ladder, g, notes, k, pages
        self.lo = k * per_page
        self.hi = min(len(ladder.arrows), self.lo + per_page)
        self.last = k == pages - 1
        self.fig = Figure(figsize=(g.width, 10), dpi=DPI)
        self.flip = Affine2D()          # set to the page height once it is known
        self.trans = self.flip + self.fig.dpi_scale_trans
        self.halos: list[list[tuple[float, float]]] = []

    # -- primitives
    def add(self, artist: Artist) -> None:
        artist.set_transform(self.trans)
        self.fig.add_artist(artist)

    def lines(self, items: list[tuple[float, float, str]], **kw) -> None:  # type: ignore[no-untyped-def]
        self.add(Lines(items, **kw))

    def text(self, x: float, y: float, s: str, size: float, colour: str = TEXT_COLOUR,
             **kw) -> None:  # type: ignore[no-untyped-def]
        self.lines([(x, y, s)], size=size, colour=colour, **kw)

    def box(self, x: float, y: float, w: float, h: float, face: str, edge: str,
            lw: float = 1.0, r: float = 0.05, zorder: float = 3) -> None:
        self.add(FancyBboxPatch((x, y), w, h, boxstyle=f"round,pad=0,rounding_size={r}",
                                facecolor=face, edgecolor=edge, linewidth=lw, zorder=zorder))

    def polyline(self, xs: list[float], ys: list[float], **kw) -> Line2D:  # type: ignore[no-untyped-def]
        line = Line2D(xs, ys, **kw)
        self.add(line)
        return line

    # -- the page
    def draw(self) -> Figure:
        ladder, g = self.ladder, self.g
        y = self._title()
        y = self._headers(y)
        top = y
        y += 0.08
        row_y: dict[int, float] = {}        # arrow index -> y of its arrow line
        phase_y: dict[int, float] = {}      # id(phase note) -> top of its separator
        for p in self._continued():
            phase_y[id(p)] = y
            y = self._phase(p, y, continued=True)
        for i in range(self.lo, self.hi):
            for note in self.notes.get(i, ()):
                if note.kind == "phase":
                    phase_y[id(note)] = y
                y = self._note(note, y)
            row_y[i] = y + g.row - ARROW_BELOW
            y += g.row
        if self.last:
            for note in self.notes.get(len(ladder.arrows), ()):
                y = self._note(note, y)
            if ladder.cut_note:
                y = self._box(ladder.cut_note, y, MUTED, "✂")
            if not ladder.arrows:
                y = self._box("no messages to draw for this mobile node", y, MUTED, "")
        y += 0.1
        bottom = y
        if self.hi - self.lo >= 12:
            y = self._headers(y + 0.06)
            bottom += 0.06
        self.add(LineCollection([[(x, top), (x, bottom)] for x in g.xs],
                                colors=LIFELINE_COLOUR, linewidths=1.2, zorder=1))
        self._arrows(row_y)
        self._brackets(phase_y, row_y)
        if self.halos:
            self.add(PolyCollection(self.halos, facecolors="white", edgecolors="none",
                                    alpha=0.88, zorder=2))
        height = self._footer(y)
        self.fig.set_size_inches(g.width, height)
        self.flip.scale(1, -1).translate(0, height)
        return self.fig

    def _title(self) -> float:
        ladder = self.ladder
        n = len(ladder.arrows)
        self.text(MARGIN, 0.27, f"Ladder: {ladder.title or ladder.mn}", 12.0, weight="bold")
        sub = [f"{n} message{'s' if n != 1 else ''}"]
        if self.pages > 1:
            sub.append(f"page {self.k + 1}/{self.pages}: messages {self.lo + 1}–{self.hi}")
        sub.append(f"left: {TIME_MODE_TEXT.get(ladder.time_mode, 'time')}, #frame number")
        self.text(MARGIN, 0.48, SEP.join(sub), SMALL, MUTED)
        return TITLE_H

    def _headers(self, y: float) -> float:
        g = self.g
        for x, ll in zip(g.xs, self.ladder.lifelines, strict=False):
            self.box(x - g.head_w / 2, y, g.head_w, HEAD_H, ROLE_FACES.get(ll.role, "#f6f8fa"),
                     "#8c959f", r=0.06)
        lls = self.ladder.lifelines
        self.lines([(x, y + 0.2, ll.name) for x, ll in zip(g.xs, lls, strict=False)],
                   size=FONT, colour=TEXT_COLOUR, ha="center", weight="bold")
        self.lines([(x, y + 0.37, "MN" if ll.role == "mn" else ll.role.upper())
                    for x, ll in zip(g.xs, lls, strict=False)],
                   size=SMALL, colour=MUTED, ha="center")
        return y + HEAD_H

    def _continued(self) -> list[Note]:
        """Phases begun on an earlier page that still span arrows of this one."""
        if self.k == 0:
            return []
        return [n for n in self.ladder.notes if n.kind == "phase" and n.span > 0
                and n.before < self.lo <= n.before + n.span - 1]

    def _note(self, note: Note, y: float) -> float:
        if note.kind == "phase":
            return self._phase(note, y)
        colour = SEVERITY_COLOURS.get(note.kind, MUTED)
        return self._box(note.text, y, colour, SEVERITY_ICONS.get(note.kind, ""))

    def _phase(self, note: Note, y: float, continued: bool = False) -> float:
        """A separator across the diagram with the phase's text in a box on it."""
        g = self.g
        colour = _phase_colour(note)
        mid = y + PHASE_H / 2
        start = self._bracket_x(note) if note.span > 0 else g.left
        self.polyline([start, g.right], [mid, mid], color=colour, linewidth=1.3,
                      linestyle=(0, (6, 3)), zorder=2)
        text = f"{note.text} (continued)" if continued else note.text
        w = METRICS.width(text, FONT, weight="bold") + 0.2
        cx = (g.left + g.right) / 2
        self.box(cx - w / 2, mid - 0.11, w, 0.22, "white", colour, r=0.04, zorder=5)
        self.text(cx, baselines(1, FONT, middle=mid)[0], text, FONT, colour, ha="center",
                  weight="bold")
        return y + PHASE_H

    def _box(self, text: str, y: float, colour: str, icon: str) -> float:
        """A note across the lifelines: coloured frame, tinted face, wrapped text."""
        g = self.g
        x0, x1 = g.left + 0.06, g.right - 0.06
        body = f"{icon} {text}" if icon else text
        lines = wrap(body, x1 - x0 - 0.24, FONT)
        h = len(lines) * FONT * LINE + 0.12
        y0 = y + 0.05
        self.box(x0, y0, x1 - x0, h, _tint(colour), colour, lw=1.1)
        ys = baselines(len(lines), FONT, middle=y0 + h / 2)
        self.lines([(x0 + 0.12, yy, s) for yy, s in zip(ys, lines, strict=True)],
                   size=FONT, colour=colour, zorder=4)
        return y0 + h + 0.05

    def _arrows(self, row_y: dict[int, float]) -> None:
        ladder, g = self.ladder, self.g
        for i, y in row_y.items():
            a = ladder.arrows[i]
            colour = COLOURS.get(a.outcome, TEXT_COLOUR)
            xa, xb = g.xs[a.src], g.xs[a.dst]
            bad = a.outcome in ("rejected", "timeout")
            if xa == xb:
                xs, ys = [xa, xa + LOOP_W, xa + LOOP_W, xa], [y - LOOP_H, y - LOOP_H, y, y]
                head = _HEAD_LEFT
            else:
                drop = _drop(ladder, i)
                xs, ys = [xa, xb], [y, y + drop]
                head = _HEAD_RIGHT if xb > xa else _HEAD_LEFT
                if drop:  # the head along the slope (the page's y axis points down)
                    head = MarkerStyle(_HEAD_RIGHT, transform=Affine2D().rotate(
                        math.atan2(-drop, xb - xa)))
            marker, ms, mew = ("x", 9.0, 2.2) if a.outcome == "timeout" else (head, 14.0, 0.6)
            self.polyline(
                xs, ys, color=colour, linewidth=2.0 if bad else 1.4,
                linestyle=_DASHED if a.outcome in DASHED else "-",
                marker=marker, markevery=[len(xs) - 1], markersize=ms, markeredgewidth=mew,
                markerfacecolor=colour, markeredgecolor=colour, zorder=5, gid=f"arrow-{i}")
            lab = g.labels[i]
            if xa == xb:
                bases = baselines(len(lab.lines), lab.size, middle=y - LOOP_H / 2)
            else:
                bases = baselines(len(lab.lines), lab.size, bottom=y - LABEL_LIFT)
            self.lines([(lab.x, b, s) for b, s in zip(bases, lab.lines, strict=True)],
                       size=lab.size, colour=colour if a.outcome != "request" else TEXT_COLOUR,
                       ha=lab.ha, weight=lab.weight, gid=f"arrow-{i}-label")
            self._halo(lab, bases)
        if row_y:
            self.lines([(g.time_x, baselines(1, SMALL, middle=y)[0], g.time_fmt[i])
                        for i, y in row_y.items()], size=SMALL, colour=TIME_COLOUR, family=MONO)

    def _halo(self, lab: Label, bases: list[float]) -> None:
        """A white backing under a label that crosses a lifeline, so that it reads."""
        w = lab.width
        x0 = lab.x - w / 2 if lab.ha == "center" else lab.x
        x1 = x0 + w
        if not any(x0 - 0.04 <= x <= x1 + 0.04 for x in self.g.xs):
            return
        top = bases[0] - 0.95 * lab.size / 72
        bottom = bases[-1] + DESCENT * lab.size / 72
        x0, x1 = x0 - 0.04, x1 + 0.04
        self.halos.append([(x0, top), (x1, top), (x1, bottom), (x0, bottom)])

    def _brackets(self, phase_y: dict[int, float], row_y: dict[int, float]) -> None:
        """Each phase: a bracket in the left margin from its separator to its last arrow."""
        ladder = self.ladder
        for n in ladder.notes:
            if n.kind != "phase" or n.span <= 0 or id(n) not in phase_y:
                continue
            last = min(n.before + n.span - 1, len(ladder.arrows) - 1)
            y0 = phase_y[id(n)] + PHASE_H / 2
            closed = last in row_y
            y1 = row_y[last] + 0.05 if closed else max(row_y.values(), default=y0) + 0.05
            x = self._bracket_x(n)
            xs, ys = [x + 0.08, x, x], [y0, y0, y1]
            if closed:
                xs.append(x + 0.08)
                ys.append(y1)
            self.polyline(xs, ys, color=_phase_colour(n), linewidth=2.0, zorder=2)

    def _bracket_x(self, note: Note) -> float:
        return self.g.bracket_x0 - self.g.levels.get(id(note), 0) * BRACKET_STEP

    def _footer(self, y: float) -> float:
        """Legend of the arrow styles, and page k/N; returns the page height."""
        base = y + 0.32
        x = MARGIN
        for outcome, text in LEGEND:
            colour = COLOURS[outcome]
            timeout = outcome == "timeout"
            self.polyline([x, x + 0.4], [base - 0.04, base - 0.04], color=colour,
                          linewidth=1.4,
                          linestyle=_DASHED if outcome in DASHED else "-",
                          marker="x" if timeout else _HEAD_RIGHT, markevery=[1],
                          markersize=7.0 if timeout else 10.0,
                          markeredgewidth=1.8 if timeout else 0.5,
                          markerfacecolor=colour, markeredgecolor=colour)
            self.text(x + 0.52, base, text, SMALL, MUTED)
            x += 0.52 + METRICS.width(text, SMALL) + 0.3
        if self.pages > 1:
            self.text(self.g.width - MARGIN - METRICS.width(f"page {self.k + 1}/{self.pages}",
                                                            SMALL),
                      base, f"page {self.k + 1}/{self.pages}", SMALL, MUTED)
        return y + FOOTER_H


def _drop(ladder: Ladder, i: int) -> float:
    """How far (inches) arrow ``i`` falls from its sender to its receiver: 0 unless it
    was seen arriving at the receiver's capture point (SLOPE_MIN..SLOPE_MAX)."""
    a = ladder.arrows[i]
    if a.transit_ms is None or a.arrived is None:
        return 0.0
    after = next((b.time for b in ladder.arrows[i + 1:] if b.time > a.time), None)
    share = 1.0 if after is None else min(1.0, (a.arrived - a.time) / (after - a.time))
    return SLOPE_MIN + (SLOPE_MAX - SLOPE_MIN) * share


def _tint(colour: str, keep: float = 0.09) -> str:
    """``colour`` mixed with white: a face light enough for text in ``colour``."""
    r, gg, b = (int(colour[k:k + 2], 16) for k in (1, 3, 5))
    return "#" + "".join(f"{round(255 - (255 - c) * keep):02x}" for c in (r, gg, b))


# -- output ------------------------------------------------------------------------------

def output_format(path: str | Path) -> str:
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise ValueError(f"unknown ladder image format {Path(path).suffix or '(none)'!r} "
                         f"for {str(path)!r}: use {', '.join(FORMATS)}")
    return fmt


def page_paths(path: str | Path, pages: int) -> list[Path]:
    """The files :func:`save` writes for ``pages`` pages of SVG or PNG."""
    path = Path(path)
    if pages == 1:
        return [path]
    width = len(str(pages))
    return [path.with_name(f"{path.stem}-p{k:0{width}d}{path.suffix}")
            for k in range(1, pages + 1)]


def stale_pages(path: str | Path, written: list[Path]) -> list[Path]:
    """Page files of an earlier run beside ``path`` that this run did not write: exactly
    ``<stem>-p<digits><ext>`` (x-p3.svg after a run that wrote 2 pages, or x-p1.svg after
    one that wrote x.svg alone); nothing else in the folder is ever named."""
    path = Path(path)
    pattern = re.compile(rf"{re.escape(path.stem)}-p\d+{re.escape(path.suffix)}")
    mine = {p.name for p in written}
    folder = path.parent
    try:
        names = sorted(e.name for e in os.scandir(folder) if e.is_file(follow_symlinks=False))
    except OSError:
        return []
    return [folder / n for n in names if pattern.fullmatch(n) and n not in mine]


def save(ladder: Ladder, path: str | Path, per_page: int = PER_PAGE,
         on_page: Callable[[int, int], None] | None = None) -> list[Path]:
    """Write the ladder to ``path`` (format from the extension); returns the files written
    (see the module docstring for the names of multi-page SVG/PNG).  ``on_page(k, pages)``
    is called before page ``k`` (from 1) is drawn (the CLI's progress)."""
    path = Path(path)
    fmt = output_format(path)
    pages = page_count(ladder, per_page)
    tell = on_page or (lambda k, n: None)
    if fmt == "pdf":
        # the style holds until the file is closed: fonts are written last
        with _style(pdf=True), PdfPages(path, metadata={"Creator": "pmipview",
                                                        "CreationDate": None}) as pdf:
            tell(1, pages)
            for k, fig in enumerate(_pages(ladder, per_page), 1):
                pdf.savefig(fig)
                if k < pages:
                    tell(k + 1, pages)
        return [path]
    written = page_paths(path, pages)
    tell(1, pages)
    for k, (fig, out) in enumerate(zip(_pages(ladder, per_page), written, strict=True)):
        with _style(f"pmipview-ladder-p{k + 1}"):
            if fmt == "svg":
                fig.savefig(out, format="svg", metadata=SVG_METADATA)
            else:
                fig.savefig(out, format="png", dpi=DPI, metadata={"Software": "pmipview"})
        if k + 1 < pages:
            tell(k + 2, pages)
    return written


def svg_pages(ladder: Ladder, per_page: int = PER_PAGE) -> list[str]:
    """The ``<svg>`` element of each page (no XML prolog), to inline in an HTML page."""
    out = []
    for k, fig in enumerate(_pages(ladder, per_page)):
        buf = io.StringIO()
        with _style(f"pmipview-ladder-p{k + 1}"):
            fig.savefig(buf, format="svg", metadata=SVG_METADATA)
        text = buf.getvalue()
        out.append(text[text.index("<svg"):])
    return out
