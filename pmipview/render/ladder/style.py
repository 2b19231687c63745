"""How a ladder looks in every backend: one colour, tag and meaning per arrow outcome,
the colours of notes and phases, the lifeline faces, and the colour legend the CLI's help
prints from them.  Plain data, no imports (the CLI reads it at start-up)."""

from __future__ import annotations

# Outcome of an arrow: what colour it gets in every backend.
OUTCOMES = ("ok", "request", "retransmission", "rejected", "timeout")
# One colour per outcome (hex for SVG/HTML/matplotlib, rich names for the terminal).
COLOURS = {"ok": "#1a7f37", "request": "#24292f", "retransmission": "#b35900",
           "rejected": "#cf222e", "timeout": "#cf222e"}
RICH_STYLES = {"ok": "green", "request": "default", "retransmission": "yellow",
               "rejected": "bold red", "timeout": "bold red"}
# What each outcome means, as legends and help texts say it (in OUTCOMES order).
MEANINGS = {"request": "request", "ok": "answer / accepted", "rejected": "rejected",
            "timeout": "timeout (no answer)", "retransmission": "retransmission"}
SEVERITY_COLOURS = {"error": "#cf222e", "warning": "#b35900", "note": "#57606a"}
SEVERITY_ICONS = {"error": "✖", "warning": "⚠", "note": "ℹ"}
# What an arrow's label says of its outcome, in every backend (requests and answers: none).
OUTCOME_TAGS = {"timeout": "✕ timeout (no answer)", "retransmission": "↻ retransmission",
                "rejected": "✖ rejected"}
# Lifeline header fill by role; phase separator colour by Note.phase.
ROLE_FACES = {"mn": "#ddf4ff", "mag": "#dafbe1", "lma": "#fff1e5", "dhcp-server": "#fbefff"}
PHASE_COLOURS = {"attach": "#0969da", "handoff": "#8250df", "failed": COLOURS["rejected"],
                 "end": "#6e7781"}
PHASE_MEANINGS = {"attach": "attach", "handoff": "handoff", "failed": "failed attach",
                  "end": "detach / revocation / expiry"}
# The colours above by the name a user knows them by (help texts).
COLOUR_NAMES = {"#1a7f37": "green", "#24292f": "dark grey", "#b35900": "orange",
                "#cf222e": "red", "#0969da": "blue", "#8250df": "purple",
                "#6e7781": "grey", "#57606a": "grey"}
DASHED = ("timeout", "retransmission")   # outcomes drawn as dashed arrows in images


def colour_help() -> str:
    """The colours a ladder draws, in words, from the tables above (the ``ladder`` help)."""
    def by_colour(table: dict[str, str], meanings: dict[str, str]) -> str:
        groups: dict[str, list[str]] = {}
        for key in meanings:
            groups.setdefault(COLOUR_NAMES[table[key]], []).append(meanings[key])
        return "; ".join(f"{c}: {', '.join(m)}" for c, m in groups.items())

    arrows = {}
    for k, meaning in MEANINGS.items():
        rich = RICH_STYLES[k].replace("bold ", "")
        shown = rich not in ("default", COLOUR_NAMES[COLOURS[k]])
        arrows[k] = f"{meaning} ({rich} in the terminal)" if shown else meaning
    return (f"Arrow colours: {by_colour(COLOURS, arrows)}; timeouts end in ✕, "
            f"retransmissions and timeouts are dashed in images.  Phases: "
            f"{by_colour(PHASE_COLOURS, PHASE_MEANINGS)}.  Diagnostics: "
            f"{by_colour(SEVERITY_COLOURS, {k: k for k in SEVERITY_COLOURS})}.")
