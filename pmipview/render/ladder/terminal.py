"""The ladder in a terminal (rich): one column per lifeline across the terminal's width,
one arrow per message with its time on the left and its whole label above it (wrapped
when it does not fit), outcome colours, phase separators and diagnostic notes.

``lines(ladder, width)`` returns rich ``Text`` lines; the CLI prints them (through a
pager when they do not fit the screen).  Lifelines are at least MIN_STEP columns apart:
an MN that roamed through more MAGs than fit gets a drawing wider than ``width``.  The
lifeline header repeats every ``header_every`` arrows so that a long flow read in a pager
keeps its names in view.
"""

from __future__ import annotations

import textwrap

from rich.text import Text

from pmipview.render.ladder.model import RICH_STYLES, SEVERITY_ICONS, TIME_MODE_TEXT, Ladder

MIN_WIDTH = 40
MIN_STEP = 8   # columns between two lifelines; more lifelines than fit widen the drawing
_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "note": "cyan"}
_ROLE_STYLE = {"mn": "bold magenta", "mag": "bold blue", "lma": "bold green",
               "dhcp-server": "bold cyan"}


def columns(ladder: Ladder, width: int) -> tuple[int, list[int]]:
    """(time column width, x of each lifeline) for a terminal ``width`` columns wide
    (wider when the lifelines need it: see :func:`drawing_width`)."""
    tw = max([len(ladder.time_text(i)) for i in range(len(ladder.arrows))] or [8]) + 2
    n = len(ladder.lifelines)
    left, right = tw + 6, drawing_width(ladder, width, tw) - 8
    if n == 1:
        return tw, [left]
    step = (right - left) / (n - 1)
    return tw, [round(left + k * step) for k in range(n)]


def drawing_width(ladder: Ladder, width: int, tw: int | None = None) -> int:
    """``width``, or more when the lifelines would be closer than MIN_STEP columns."""
    if tw is None:
        tw = max([len(ladder.time_text(i)) for i in range(len(ladder.arrows))] or [8]) + 2
    return max(width, MIN_WIDTH, tw + 6 + MIN_STEP * (len(ladder.lifelines) - 1) + 8)


def _canvas(width: int, xs: list[int]) -> list[str]:
    row = [" "] * width
    for x in xs:
        if x < width:
            row[x] = "│"
    return row


def header(ladder: Ladder, width: int) -> list[Text]:
    """Lifeline names (wrapped to two lines if needed) and roles, centred on the columns."""
    _, xs = columns(ladder, width)
    room = max(min((xs[1] - xs[0]) - 1 if len(xs) > 1 else width, 32), 6)
    names = [textwrap.wrap(ll.name, room, break_on_hyphens=False)[:2] or [""]
             for ll in ladder.lifelines]
    roles = [ll.role.upper() if ll.role != "mn" else "MN" for ll in ladder.lifelines]
    out: list[Text] = []
    depth = max(len(n) for n in names)
    for line in range(depth + 1):
        t = Text(" " * width)
        for k, x in enumerate(xs):
            name = names[k]
            pad = depth - len(name)  # names end on the same row, roles on the next
            word = roles[k] if line == depth else (
                name[line - pad] if line >= pad else "")
            if not word:
                continue
            start = min(max(0, x - len(word) // 2), max(0, width - len(word)))
            t = _put(t, start, word, "dim" if line == depth else
                     _ROLE_STYLE.get(ladder.lifelines[k].role, "bold"))
        out.append(_rs(t))
    out.append(Text("".join("┬" if c == "│" else "─" for c in _canvas(width, xs)), style="dim"))
    return out


def _rs(t: Text) -> Text:
    t.rstrip()
    return t


def _put(t: Text, start: int, text: str, style: str) -> Text:
    plain = t.plain
    end = start + len(text)
    new = Text(plain[:start]) + Text(text, style=style) + Text(plain[end:])
    for span in t.spans:
        if span.end <= start or span.start >= end:
            new.stylize(span.style, span.start, span.end)
    return new


def _arrow_row(ladder: Ladder, i: int, width: int, tw: int, xs: list[int]) -> Text:
    a = ladder.arrows[i]
    row = _canvas(width, xs)
    style = RICH_STYLES[a.outcome]
    x1, x2 = xs[a.src], xs[a.dst]
    lo, hi = min(x1, x2), max(x1, x2)
    dashed = a.outcome in ("retransmission", "timeout")
    for x in range(lo + 1, hi):
        row[x] = "╌" if dashed else "─"
    if x1 == x2:  # to itself: a small hook
        row[x1 + 1:x1 + 3] = ["─", "┐"]
    elif x2 > x1:
        row[x1], row[x2 - 1] = "├", ("✕" if a.outcome == "timeout" else "▶")
    else:
        row[x1], row[x2 + 1] = "┤", ("✕" if a.outcome == "timeout" else "◀")
    time = ladder.time_text(i).rjust(tw - 2)
    t = Text(time + "  ", style="dim") + Text("".join(row[tw:]))
    t.stylize(style, lo, hi + 1)
    return _rs(t)


def _label_rows(ladder: Ladder, i: int, width: int, tw: int, xs: list[int]) -> list[Text]:
    a = ladder.arrows[i]
    x1, x2 = xs[a.src], xs[a.dst]
    lo, hi = min(x1, x2), max(x1, x2)
    text = a.text
    # inside the arrow's span when it fits there, else from the span to the right edge
    start = lo + 2
    room = hi - lo - 3 if len(text) <= hi - lo - 3 else width - start - 1
    if room < len(text):  # shift left (over other lifelines) rather than wrap, if it helps
        start = max(tw + 1, min(start, width - 1 - len(text)))
        room = width - start - 1
    out = []
    style = RICH_STYLES[a.outcome]
    for chunk in textwrap.wrap(text, max(room, 10), break_on_hyphens=False):
        row = _canvas(width, xs)
        t = Text(" " * tw + "".join(row[tw:]), style="dim")
        out.append(_rs(_put(t, start, chunk, style if a.outcome != "request" else "")))
    return out


def _note_rows(text: str, style: str, width: int, tw: int, xs: list[int],
               mark: str = "") -> list[Text]:
    out = []
    room = max(width - tw - 4, 20)
    for n, chunk in enumerate(textwrap.wrap(text, room - len(mark) - 1)):
        row = _canvas(width, xs)
        t = Text(" " * tw + "".join(row[tw:]), style="dim")
        prefix = (mark + " ") if n == 0 else " " * (len(mark) + 1 if mark else 0)
        out.append(_rs(_put(t, tw + 1, prefix + chunk, style)))
    return out


def _phase_rows(text: str, width: int, tw: int) -> list[Text]:
    chunks = textwrap.wrap(text, max(width - tw - 5, 10))
    rows = []
    for n, chunk in enumerate(chunks):
        bar = f"══ {chunk} " if n == 0 else f"   {chunk} "
        fill = "═" * max(0, width - tw - len(bar)) if n == len(chunks) - 1 else ""
        rows.append(Text(" " * tw + bar + fill, style="bold cyan"))
    return rows


def lines(ladder: Ladder, width: int = 100, header_every: int = 40) -> list[Text]:
    """The whole ladder as rich Text lines, at most ``width`` cells wide."""
    tw, xs = columns(ladder, width)
    width = drawing_width(ladder, width, tw)
    title = (f"Ladder of {ladder.title}  ({len(ladder.arrows)} messages, "
             f"{TIME_MODE_TEXT[ladder.time_mode]})")
    out = [Text(chunk, style="bold") for chunk in textwrap.wrap(title, width)]
    out.extend(header(ladder, width))
    for i in range(len(ladder.arrows)):
        if i and header_every and i % header_every == 0:
            out.extend(header(ladder, width))
        out.extend(_notes(ladder, i, width, tw, xs))
        out.extend(_label_rows(ladder, i, width, tw, xs))
        out.append(_arrow_row(ladder, i, width, tw, xs))
    out.extend(_notes(ladder, len(ladder.arrows), width, tw, xs))
    if not ladder.arrows:
        out.append(Text("no messages in this window", style="yellow"))
    if ladder.cut_note:
        out.append(Text(ladder.cut_note, style="bold yellow"))
    return out


def _notes(ladder: Ladder, i: int, width: int, tw: int, xs: list[int]) -> list[Text]:
    out: list[Text] = []
    for n in ladder.notes_before(i):
        if n.kind == "phase":
            out.extend(_phase_rows(n.text, width, tw))
        else:
            out.extend(_note_rows(n.text, _SEVERITY_STYLE[n.kind], width, tw, xs,
                                  SEVERITY_ICONS[n.kind]))
    return out
