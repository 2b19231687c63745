"""Text for the matplotlib ladder (:mod:`pmipview.render.ladder.mpl`): font metrics of
matplotlib's bundled DejaVu fonts, wrapping and fitting labels over their arrows,
baselines, and :class:`Lines`, the artist that draws text placed with these metrics (in a
PDF, in the standard PDF fonts).  No page layout here: mpl.py places what this measures.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

import matplotlib
from matplotlib import font_manager
from matplotlib.artist import Artist
from matplotlib.backends.backend_pdf import PdfFile
from matplotlib.ft2font import FT2Font
from matplotlib.transforms import IdentityTransform

SANS = "DejaVu Sans"            # matplotlib's bundled fonts: always there, measured exactly
MONO = "DejaVu Sans Mono"
FONT = 9.0                      # labels; shrunk to FONT_MIN before wrapping any further
FONT_MIN = 8.0
SMALL = 8.0                     # time column, roles, legend, footer
LINE = 1.22 / 72                # inches per line per point of font size
MAX_LINES = 2                   # label lines tried before widening, then anything goes
LOOP_W = 0.32                   # width of an arrow to self, inches
LABEL_PAD = 0.12                # free space each side of a label within its arrow, inches
SEP = " · "
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# PDF text is set in the standard PDF fonts (not embedded; text stays text), an order of
# magnitude faster to write than an embedded TrueType font; a string they cannot encode
# even with these substitutes is set in embedded DejaVu Sans.
CORE_FONTS = {SANS: ("Helvetica", "medium"), MONO: ("Courier", "medium")}
CORE_SUBSTITUTES = {"✖ ": "× ", "✕ ": "× ", "⚠ ": "! ", "ℹ ": "i ", "↻ ": "", "✂ ": "",
                    "→": "->"}

try:
    from matplotlib.ft2font import LoadFlags
    _NO_HINTING = LoadFlags.NO_HINTING
except ImportError:  # matplotlib < 3.10
    from matplotlib.ft2font import LOAD_NO_HINTING as _NO_HINTING  # type: ignore[attr-defined,no-redef]


# -- text metrics ------------------------------------------------------------------------

class Metrics:
    """Advance widths of matplotlib's bundled fonts, summed (no kerning): what the PNG and
    an SVG viewer with DejaVu show, and more than the narrower Helvetica of the PDF or the
    sans-serif another viewer substitutes, so that wrapped lines fit everywhere."""

    def __init__(self) -> None:
        self._fonts: dict[tuple[str, str], FT2Font] = {}
        self._adv: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)

    def _font(self, family: str, weight: str) -> FT2Font:
        key = (family, weight)
        if key not in self._fonts:
            prop = font_manager.FontProperties(family=family, weight=weight)
            font = FT2Font(font_manager.findfont(prop))
            font.set_size(100, 72)
            self._fonts[key] = font
        return self._fonts[key]

    def width(self, text: str, size: float, family: str = SANS, weight: str = "normal") -> float:
        """Inches."""
        adv = self._adv[(family, weight)]
        total = 0.0
        for ch in text:
            a = adv.get(ch)
            if a is None:
                glyph = self._font(family, weight).load_char(ord(ch), flags=_NO_HINTING)
                a = adv[ch] = glyph.linearHoriAdvance / 65536 / 100 / 72
            total += a
        return total * size


METRICS = Metrics()


def clean(text: str) -> str:
    """Control characters (which no font draws and XML cannot hold) as spaces."""
    return _CONTROL.sub(" ", text)


def wrap(text: str, width: float, size: float, weight: str = "normal") -> list[str]:
    """Greedy wrap at `` · `` (the separator stays at the end of the line), then at spaces
    for a part wider than ``width`` inches on its own; a newline starts a new line.  Never
    drops a printable character."""
    return [line for para in text.split("\n")
            for line in _wrap_line(clean(para), width, size, weight)]


def _wrap_line(text: str, width: float, size: float, weight: str) -> list[str]:
    def w(s: str) -> float:
        return METRICS.width(s, size, weight=weight)

    parts = text.split(SEP)
    lines: list[str] = []
    cur = ""
    for k, part in enumerate(parts):
        piece = part + (" ·" if k < len(parts) - 1 else "")
        if cur and w(f"{cur} {piece}") <= width:
            cur = f"{cur} {piece}"
            continue
        if cur:
            lines.append(cur)
            cur = ""
        if w(piece) <= width:
            cur = piece
            continue
        for word in piece.split(" "):  # a part too wide on its own
            cand = f"{cur} {word}" if cur else word
            if cur and w(cand) > width:
                lines.append(cur)
                cur = word
            else:
                cur = cand
    if cur:
        lines.append(cur)
    return lines or [""]


# -- labels ------------------------------------------------------------------------------

@dataclass(slots=True)
class Label:
    lines: list[str]
    size: float
    weight: str
    x: float            # anchor: centre, or left edge for an arrow to self
    ha: str
    width: float = 0.0  # of the longest line, inches


def fit_label(text: str, weight: str, xa: float, xb: float, left: float, right: float,
              gap: float) -> Label:
    """Lines and size of one label over an arrow from ``xa`` to ``xb`` in a diagram from
    ``left`` to ``right`` with lifelines ``gap`` apart: within its arrow if it fits on
    MAX_LINES lines at 9 pt, else wider (half a lifeline gap at a time) up to the whole
    diagram, then at 8 pt; a label longer than that gets more lines (and every row of the
    ladder grows with it)."""
    full = right - left - 2 * LABEL_PAD
    if xa == xb:
        x = xa + LOOP_W + 0.08
        widths = [max(right - x - LABEL_PAD, 1.8 * gap)]
        ha = "left"
    else:
        span = abs(xb - xa) - 2 * LABEL_PAD
        widths = []
        w = span
        while w < full:
            widths.append(w)
            w += gap / 2
        widths.append(full)
        x, ha = (xa + xb) / 2, "center"
    for w, size in [*((w, FONT) for w in widths), (widths[-1], FONT_MIN)]:
        lines = wrap(text, w, size, weight)
        if len(lines) <= MAX_LINES:
            return Label(lines, size, weight, x, ha)
    return Label(wrap(text, widths[-1], FONT_MIN, weight), FONT_MIN, weight, x, ha)


def place(label: Label, left: float, right: float) -> float:
    """Keep a centred label within the diagram (it may then reach past its arrow)."""
    label.width = max(METRICS.width(s, label.size, weight=label.weight) for s in label.lines)
    if label.ha != "center":
        return label.x
    half = label.width / 2
    lo, hi = left + half + 0.04, right - half - 0.04
    return label.x if lo > hi else min(max(label.x, lo), hi)


# -- drawing text ------------------------------------------------------------------------

CAP = 0.73                      # DejaVu Sans cap height, em
DESCENT = 0.24                  # DejaVu Sans descent, em


class _Anchor:
    """What the SVG backend asks a Text for to anchor a line (``text-anchor`` start or
    middle): a viewer substituting another font still centres labels on their arrows."""

    __slots__ = ("ha", "xy")

    def __init__(self, xy: tuple[float, float], ha: str) -> None:
        self.xy, self.ha = xy, ha

    def get_rotation_mode(self) -> str:
        return "anchor"

    def get_transform(self) -> IdentityTransform:
        return IdentityTransform()

    def get_unitless_position(self) -> tuple[float, float]:
        return self.xy

    def get_ha(self) -> str:
        return self.ha

    def get_fontfeatures(self) -> None:
        return None

    def get_language(self) -> None:
        return None


class Lines(Artist):
    """Lines of text drawn straight through the renderer, placed with our own font
    metrics: matplotlib's Text measures every string again before drawing it, which is
    most of the time of 10,000 labels.  ``items``: (x, baseline y, text) in page inches,
    x the left end (``ha="left"``) or the middle (``ha="center"``) of the line."""

    def __init__(self, items: list[tuple[float, float, str]], *, size: float, colour: str,
                 ha: str = "left", weight: str = "normal", family: str = SANS,
                 gid: str | None = None, zorder: float = 6) -> None:
        super().__init__()
        self.items = [(x, y, clean(s)) for x, y, s in items]
        self.size, self.weight, self.family, self.colour, self.ha = \
            size, weight, family, colour, ha
        generic = "monospace" if family == MONO else "sans-serif"
        self.prop = font_manager.FontProperties(family=[family, generic], size=size,
                                                weight=weight)
        self._core: font_manager.FontProperties | None = None
        self.set_gid(gid)
        self.set_zorder(zorder)

    def draw(self, renderer) -> None:
        if not self.get_visible():
            return
        renderer.open_group("text", self.get_gid())
        gc = renderer.new_gc()
        gc.set_foreground(self.colour)
        trans = self.get_transform()
        height = renderer.get_canvas_width_height()[1] if renderer.flipy() else None
        core = _pdf_core(renderer)
        for x, y, s in self.items:
            prop, text, width = self.prop, s, None
            if core:
                in_core = _core_text(s)
                if in_core is None:     # not in the standard fonts: embed DejaVu for it
                    self._draw_embedded(renderer, gc, trans, x, y, s)
                    continue
                text = in_core
                prop = self._core_prop()
                width = renderer.get_text_width_height_descent(text, prop, False)[0] / 72
            left = x
            if self.ha == "center":
                if width is None:
                    width = METRICS.width(s, self.size, self.family, self.weight)
                left = x - width / 2
            X, Y = trans.transform((left, y))
            if height is not None:  # as Text.draw does: Agg and SVG count y downwards
                Y = height - Y
            renderer.draw_text(gc, X, Y, text, prop, 0.0, False,
                               mtext=_Anchor(tuple(trans.transform((x, y))), self.ha))
        gc.restore()
        renderer.close_group("text")
        self.stale = False

    def _core_prop(self) -> font_manager.FontProperties:
        if self._core is None:
            family, weight = CORE_FONTS[self.family]
            self._core = font_manager.FontProperties(
                family=family, size=self.size, weight="bold" if self.weight == "bold" else weight)
        return self._core

    def _draw_embedded(self, renderer, gc, trans, x: float, y: float, s: str) -> None:
        matplotlib.rcParams["pdf.use14corefonts"] = False
        try:
            left = x
            if self.ha == "center":
                left = x - METRICS.width(s, self.size, self.family, self.weight) / 2
            X, Y = trans.transform((left, y))
            renderer.draw_text(gc, X, Y, s, self.prop, 0.0, False, mtext=None)
        finally:
            matplotlib.rcParams["pdf.use14corefonts"] = True


def _pdf_core(renderer) -> bool:
    """Drawing a PDF with the standard fonts (the PDF renderer comes wrapped in a
    MixedModeRenderer that forwards its attributes, such as the PdfFile)."""
    return isinstance(getattr(renderer, "file", None), PdfFile) \
        and bool(matplotlib.rcParams["pdf.use14corefonts"])


def _core_text(s: str) -> str | None:
    """``s`` in the PDF standard fonts' encoding (symbols they lack replaced), or None."""
    for a, b in CORE_SUBSTITUTES.items():
        if a in s:
            s = s.replace(a, b)
    try:
        s.encode("cp1252")
    except UnicodeEncodeError:
        return None
    return s


def baselines(n: int, size: float, *, bottom: float | None = None,
               middle: float | None = None, pitch: float | None = None) -> list[float]:
    """Baselines of ``n`` lines whose last descender ends at ``bottom``, or whose block of
    capitals is centred on ``middle``."""
    p = pitch if pitch is not None else size * LINE
    if bottom is not None:
        last = bottom - DESCENT * size / 72
        return [last - (n - 1 - k) * p for k in range(n)]
    assert middle is not None
    first = middle - (n - 1) * p / 2 + CAP * size / 72 / 2
    return [first + k * p for k in range(n)]
