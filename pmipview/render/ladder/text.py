"""The ladder as text for diagram tools: Mermaid (``.mmd``), PlantUML (``.puml``), mscgen
(``.msc``).

``mermaid(ladder)``, ``plantuml(ladder)`` and ``mscgen(ladder)`` return the whole source
text; ``FORMATS`` maps an output file extension to one of them (the CLI's ``-o``).  All
three draw what the other backends draw, as far as each language allows: the lifelines
in the model's order (the MN first), named with their role; one arrow per message with
its time and whole label, coloured by outcome (Mermaid has no per-arrow colour: the outcome tag
marker and a crossed arrow instead); retransmissions and timeouts dashed; diagnostics as
notes over the lifelines of the message they follow; phases (attach, handoff, detach) as
separators; the title; the cut note at the end.

Names and labels come from captures (NAIs, addresses, anything a peer sends), so every
piece of text is escaped for its language: what could be read as syntax or markup
(``#``/``;`` in Mermaid, creole ``--``/``**``/``<tag>`` in PlantUML, ``"``/``\\`` in
mscgen) is written as an entity or a harmless equivalent.  The generated files are
rendered by the real tools in ``tests/render/test_ladder_text.py``.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable

from pmipview.render.ladder.model import (
    COLOURS,
    SEVERITY_COLOURS,
    SEVERITY_ICONS,
    Ladder,
    Lifeline,
    Note,
)

#: PlantUML gets one diagram (page) per this many messages: a long diagram exceeds its
#: image size limit (4096 px for PNG) and memory; ``plantuml -tsvg`` writes one file each.
PLANTUML_PAGE = 60
#: Diagnostic notes are wrapped to lines of about this many characters.
NOTE_WIDTH = 72
#: Mermaid refuses (draws an error instead of) a diagram longer than this by default.
MERMAID_MAX_TEXT = 50_000
PHASE_COLOUR = "#0969da"
PHASE_FILL = "rgba(9, 105, 218, 0.07)"
_ROLE_NAMES = {"mn": "MN", "mag": "MAG", "lma": "LMA", "dhcp-server": "DHCP server"}
_SEVERITY_WORD = {"error": "error", "warning": "warning", "note": "note"}
_BREAKS = re.compile("\r\n|[\r\u2028\u2029]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffe\uffff]")


def _role(ll: Lifeline) -> str:
    return _ROLE_NAMES.get(ll.role, ll.role)


def _tint(colour: str, keep: float = 0.12) -> str:
    """A light background tint of ``#rrggbb`` (``keep`` of the colour, the rest white)."""
    rgb = [int(colour[k:k + 2], 16) for k in (1, 3, 5)]
    return "#" + "".join(f"{round(255 - (255 - c) * keep):02x}" for c in rgb)


def _clean(text: str) -> str:
    """Line breaks as ``\\n`` only, other control characters as spaces."""
    return _CONTROL.sub(" ", _BREAKS.sub("\n", text).replace("\t", " "))


def _wrap(text: str, width: int = NOTE_WIDTH) -> list[str]:
    lines: list[str] = []
    for para in _clean(text).split("\n"):
        lines.extend(textwrap.wrap(para, width, break_long_words=True,
                                   break_on_hyphens=False) or [""])
    return lines


def _note_over(ladder: Ladder, note: Note) -> tuple[int, int]:
    """The lifelines a note spans: those of the message it follows, else all of them."""
    last = len(ladder.lifelines) - 1
    if note.kind == "phase" or not 0 < note.before <= len(ladder.arrows):
        return 0, last
    a = ladder.arrows[note.before - 1]
    return min(a.src, a.dst), max(a.src, a.dst)


def _phase_ends(ladder: Ladder) -> dict[int, int]:
    """For each phase note (by id), the arrow index its span ends before, clamped so that
    phases never overlap (a phase ends where the next one begins)."""
    phases = sorted((n for n in ladder.notes if n.kind == "phase"), key=lambda n: n.before)
    ends: dict[int, int] = {}
    for k, n in enumerate(phases):
        end = min(n.before + max(n.span, 0), len(ladder.arrows))
        if k + 1 < len(phases):
            end = min(end, phases[k + 1].before)
        ends[id(n)] = max(end, n.before)
    return ends


def _message(ladder: Ladder, i: int) -> str:
    return f"{ladder.time_text(i)}  {ladder.arrows[i].text}"


# -- Mermaid -----------------------------------------------------------------------------

# Mermaid reads ``#name;``/``#123;`` as entities and stops a statement's text at ``#`` or
# ``;``; ``<``/``>``/``&``/``"`` could be read as HTML.  All of them as ``#123;``.
_MMD_SPECIAL = re.compile(r'[#;<>&"]')


def _mmd(text: str) -> str:
    """One line of Mermaid text (line breaks as ``<br/>``)."""
    lines = [_MMD_SPECIAL.sub(lambda m: f"#{ord(m[0])};", line)
             for line in _clean(text).strip().split("\n")]
    return "<br/>".join(lines).strip() or "#160;"


_MMD_ARROW = {"ok": "->>", "request": "->>", "retransmission": "-->>",
              "rejected": "-x", "timeout": "--x"}


def mermaid(ladder: Ladder) -> str:
    """Mermaid ``sequenceDiagram`` source."""
    out = ["sequenceDiagram"]
    if ladder.title:
        out.append(f"    title {_mmd(' '.join(_clean(ladder.title).split()))}")
    for k, ll in enumerate(ladder.lifelines):
        out.append(f"    participant P{k} as {_mmd(ll.name)}<br/>({_mmd(_role(ll))})")
    last = len(ladder.lifelines) - 1
    everyone = f"P0,P{last}" if last else "P0"
    ends = _phase_ends(ladder)
    open_until: int | None = None  # the arrow index the open rect ends before

    def close_rect(i: int, force: bool = False) -> None:
        nonlocal open_until
        if open_until is not None and (force or open_until <= i):
            out.append("    end")
            open_until = None

    n = len(ladder.arrows)
    for i in range(n + 1):
        close_rect(i)
        for note in ladder.notes_before(i):
            if note.kind == "phase":
                close_rect(i, force=True)  # a new phase closes the previous one
                end = ends[id(note)]
                if end > i:
                    out.append(f"    rect {PHASE_FILL}")
                    open_until = end
                out.append(f"    Note over {everyone}: {_mmd('══ ' + note.text + ' ══')}")
            else:
                a, b = _note_over(ladder, note)
                over = f"P{a}" if a == b else f"P{a},P{b}"
                text = "\n".join(_wrap(SEVERITY_ICONS.get(note.kind, "") + " " + note.text))
                out.append(f"    Note over {over}: {_mmd(text)}")
        if i < n:
            arrow = ladder.arrows[i]
            text = _message(ladder, i)
            out.append(f"    P{arrow.src}{_MMD_ARROW.get(arrow.outcome, '->>')}P{arrow.dst}: "
                       f"{_mmd(text)}")
    close_rect(n, force=True)
    if ladder.cut_note:
        out.append(f"    Note over {everyone}: {_mmd(ladder.cut_note)}")
    text = "\n".join(out) + "\n"
    if len(text) > MERMAID_MAX_TEXT:
        text = (f"%% {len(text)} characters, more than Mermaid's default maxTextSize "
                f"({MERMAID_MAX_TEXT}): render with a config raising it, e.g.\n"
                '%% mmdc -c config.json with config.json = {"maxTextSize": 10000000},\n'
                "%% or draw fewer messages (--max-messages, --from/--to)\n" + text)
    return text


# -- PlantUML ----------------------------------------------------------------------------

# Creole markup and PlantUML syntax are made of these characters (``<b>``, ``&amp;``,
# ``~`` escapes, ``[[links]]``, ``|tables|``, ``"`` quotes, ``'`` comments, ``#`` colours,
# ``=`` dividers, ``«»`` stereotypes): always written as ``<U+NNNN>`` (PlantUML decodes
# ``&#NN;`` entities before it reads ``<U+NNNN>``: ``&#60;U+0041&#62;`` would be an A);
# so are ``–`` (read as ``-``) and private-use characters (PlantUML's own markers).
# Doubled ``--`` ``**`` ``__`` ``//`` ``..`` are markup too (strike, bold, underline,
# italic, separators): escaped when they come in runs, so ``10.0.0.1/24`` and
# ``Inter-MAG`` stay readable.  A backslash is ``\\`` (``&#92;`` crashes PlantUML 1.2020).
_PUML_SPECIAL = re.compile(r"""[&<>"~|\[\]{}'#=^*«»–\ue000-\uf8ff]"""
                          r"|([-_/.])(?=\1)|(?<=-)-|(?<=_)_|(?<=/)/|(?<=\.)\.")

_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def _puml(text: str) -> str:
    """PlantUML text (line breaks as ``\\n``; a backslash as ``\\\\``)."""
    text = _clean(text).strip().replace("\\", "\\\\")
    text = _PUML_SPECIAL.sub(lambda m: f"<U+{ord(m[0]):04X}>", text)
    # PlantUML 1.2020 writes characters past U+3FFFF as broken UTF-8 in the source it
    # embeds in its SVG (which browsers then refuse): astral ones as <U+NNNNN> (its
    # syntax takes at most 5 digits; plane 16, private use, becomes U+FFFD)
    text = _ASTRAL.sub(lambda m: f"<U+{ord(m[0]):X}>" if ord(m[0]) < 0x100000 else "\ufffd",
                       text)
    return text.replace("\n", "\\n").strip() or "<U+00A0>"


def _puml_title(text: str) -> str:
    """The title on one line; ``title`` reads a leading colon as its own syntax and
    wants a letter, digit or dot somewhere (else all of it is written as ``<U+NNNN>``)."""
    text = " ".join(_clean(text).split())
    if not text:
        return ""
    if not re.search(r"[A-Za-z0-9_.]", text):
        return "".join(f"<U+{ord(c) if ord(c) < 0x100000 else 0xFFFD:04X}>" for c in text)
    text = _puml(text)
    return "<U+003A>" + text[1:] if text.startswith(":") else text


_PUML_ARROW = {"retransmission": "->", "timeout": "->x"}  # after -[#colour]; else ">"
_PUML_SKIN = [
    "skinparam shadowing false",
    "skinparam sequenceMessageAlign left",
    "skinparam sequenceArrowThickness 1",
    "skinparam sequenceLifeLineBorderColor #8c959f",
    "skinparam sequenceParticipantBorderColor #57606a",
    "skinparam sequenceParticipantBackgroundColor #f6f8fa",
    "skinparam sequenceDividerBackgroundColor #ddf4ff",
    f"skinparam sequenceDividerBorderColor {PHASE_COLOUR}",
    "skinparam noteBorderColor #8c959f",
    "skinparam noteBackgroundColor #f6f8fa",
    "skinparam ParticipantPadding 12",
]


def plantuml(ladder: Ladder) -> str:
    """PlantUML source: one ``@startuml`` diagram per ``PLANTUML_PAGE`` messages (one
    long diagram exhausts PlantUML's memory and image size limits, and ``newpage``
    lays the whole diagram out again for every page); ``plantuml -tsvg`` writes one
    file per page.  Every page declares every participant, so columns keep their order."""
    n = len(ladder.arrows)
    pages = max(1, -(-n // PLANTUML_PAGE))
    title = _puml_title(ladder.title)
    head = [f'participant "{_puml(ll.name)}\\n({_puml(_role(ll))})" as P{k}'
            for k, ll in enumerate(ladder.lifelines)]
    out: list[str] = []
    for page in range(pages):
        out.append("@startuml")
        part = f" ({page + 1}/{pages})" if pages > 1 else ""
        if title or part:
            out.append(f"title {title}{part}")
        out += _PUML_SKIN + head
        first, stop = page * PLANTUML_PAGE, min((page + 1) * PLANTUML_PAGE, n)
        for i in range(first, stop + 1):
            if i == stop and stop < n:
                break  # the notes before the next page's first message go on that page
            out += _puml_notes(ladder, i)
            if i < n:
                arrow = ladder.arrows[i]
                colour = COLOURS.get(arrow.outcome, COLOURS["request"])
                shape = _PUML_ARROW.get(arrow.outcome, ">")
                out.append(f"P{arrow.src} -[{colour}]{shape} P{arrow.dst} : "
                           f"<color:{colour}>{_puml(_message(ladder, i))}</color>")
        if page == pages - 1 and ladder.cut_note:
            out.append(f"note across : {_puml(ladder.cut_note)}")
        out.append("@enduml")
    return "\n".join(out) + "\n"


def _puml_notes(ladder: Ladder, i: int) -> list[str]:
    out = []
    for note in ladder.notes_before(i):
        if note.kind == "phase":
            out.append(f"== {_puml(note.text)} ==")
            continue
        a, b = _note_over(ladder, note)
        over = f"P{a}" if a == b else f"P{a},P{b}"
        colour = SEVERITY_COLOURS.get(note.kind, SEVERITY_COLOURS["note"])
        word = _SEVERITY_WORD.get(note.kind, note.kind)
        body = _puml("\n".join(_wrap(note.text)))
        out.append(f"note over {over} {_tint(colour)} : "
                   f"<color:{colour}><b>{_puml(word)}</b></color> {body}")
    return out


# -- mscgen ------------------------------------------------------------------------------

# mscgen measures text with Latin-1 metrics only (other characters get no width and the
# SVG squeezes the line): the model's few symbols get ASCII equivalents.  In a quoted
# string only ``\"`` and ``\n`` are escapes and a backslash cannot be escaped: it is
# followed by a zero-width space so that it never forms one.
MSCGEN_ASCII = {"→": "->", "←": "<-", "✗": "x", "✖": "x", "✕": "x", "⚠": "!", "ℹ": "i",
                "↻": "", "…": "...", "–": "-", "—": "-"}
_MSC_TRANSLATE = str.maketrans({**MSCGEN_ASCII, "\\": "\\\u200b"})


def _msc(text: str) -> str:
    """The inside of an mscgen quoted string."""
    text = _clean(text).strip().translate(_MSC_TRANSLATE)
    return text.replace('"', '\\"').replace("\n", "\\n") or " "


_MSC_ARC = {"retransmission": ">>", "timeout": "-x"}  # else "->"
_MSC_CHAR = 6.6   # average width (px) of a Helvetica 12 character
_MSC_COLUMN = 200  # width (px) of one lifeline column at hscale 1


def _msc_hscale(ladder: Ladder, labels: list[str]) -> float:
    """Wide enough for every label between its lifelines (mscgen centres a label on
    its arc and does not stretch columns for it)."""
    need = 1.0
    for arrow, label in zip(ladder.arrows, labels, strict=True):
        span = max(abs(arrow.src - arrow.dst), 1)
        need = max(need, (len(label) * _MSC_CHAR + 24) / (span * _MSC_COLUMN))
    for ll in ladder.lifelines:
        need = max(need, (len(ll.name) * _MSC_CHAR + 16) / _MSC_COLUMN)
    return round(min(need, 8.0), 2)


def mscgen(ladder: Ladder) -> str:
    """mscgen ``msc { ... }`` source."""
    labels = [_message(ladder, i) for i in range(len(ladder.arrows))]
    last = len(ladder.lifelines) - 1
    out = []
    if ladder.title:
        out.append("# " + _clean(ladder.title).replace("\n", " "))
    out.append("msc {")
    out.append(f'  hscale="{_msc_hscale(ladder, labels)}", arcgradient="0";')
    entities = [f'p{k} [label="{_msc(ll.name)}\\n({_msc(_role(ll))})"]'
                for k, ll in enumerate(ladder.lifelines)]
    out.append("  " + ",\n  ".join(entities) + ";")
    arcs = len(out)
    if ladder.title:
        out.append(f'  p0 rbox p{last} [label="{_msc(ladder.title)}", '
                   'textbgcolour="#f6f8fa"];')
    n = len(ladder.arrows)
    for i in range(n + 1):
        for note in ladder.notes_before(i):
            if note.kind == "phase":
                out.append(f'  --- [label="{_msc(note.text)}", linecolour="{PHASE_COLOUR}", '
                           f'textcolour="{PHASE_COLOUR}"];')
            else:
                a, b = _note_over(ladder, note)
                colour = SEVERITY_COLOURS.get(note.kind, SEVERITY_COLOURS["note"])
                word = _SEVERITY_WORD.get(note.kind, note.kind)
                body = "\n".join(_wrap(f"{word}: {note.text}"))
                out.append(f'  p{a} note p{b} [label="{_msc(body)}", linecolour="{colour}", '
                           f'textbgcolour="{_tint(colour)}"];')
        if i < n:
            arrow = ladder.arrows[i]
            colour = COLOURS.get(arrow.outcome, COLOURS["request"])
            arc = _MSC_ARC.get(arrow.outcome, "->")
            out.append(f'  p{arrow.src}{arc}p{arrow.dst} [label="{_msc(labels[i])}", '
                       f'linecolour="{colour}", textcolour="{colour}"];')
    if ladder.cut_note:
        out.append(f'  ... [label="{_msc(ladder.cut_note)}"];')
    if len(out) == arcs:
        out.append("  |||;")  # mscgen wants at least one arc
    out.append("}")
    return "\n".join(out) + "\n"


FORMATS: dict[str, Callable[[Ladder], str]] = {".mmd": mermaid, ".puml": plantuml,
                                               ".msc": mscgen}
