"""A long ladder made up for tests of the backends: every outcome, phases every 100
messages, an error note every 150, IPv6 and NAI lifeline names."""

from __future__ import annotations

from pmipview.render.ladder.model import OUTCOMES, Arrow, Ladder, Lifeline, Note

NAMES = [("mn1@example.net", "mn"), ("192.0.2.1", "mag"), ("2001:db8::2", "mag"),
         ("192.0.2.100", "lma"), ("192.0.2.67", "dhcp-server")]


def synthetic_ladder(n: int, lifelines: int = 5, cut: int = 0) -> Ladder:
    """``n`` PBU arrows 0.25 s apart between every pair of ``lifelines`` lifelines; with
    ``cut``, the ladder says that many more messages were left out."""
    lls = [Lifeline(name, role) for name, role in NAMES[:lifelines]]
    pairs = [(a, b) for a in range(lifelines) for b in range(lifelines) if a != b]
    arrows = [Arrow(i + 1, 1000.0 + i * 0.25, *pairs[i % len(pairs)], "PBU",
                    f"PBU seq {i} · HI 1 new interface · HoA? 10.10.{i % 250}.{i % 200}",
                    OUTCOMES[i % len(OUTCOMES)])
              for i in range(n)]
    notes = [Note(i, 1000.0 + i / 4, f"attach at 192.0.2.1 number {i}", "phase", 12,
                  "attach") for i in range(0, n, 100)]
    notes += [Note(i, 1000.0 + i / 4, f"pba-rejected: diagnostic number {i}", "error")
              for i in range(7, n, 150)]
    notes.sort(key=lambda x: (x.before, x.kind != "phase"))
    return Ladder("mn1@example.net", lls, arrows, notes, 1000.0, "rel", cut,
                  1000.0 + n / 4 if cut else None, title="mn1@example.net (10.10.0.5)")
