"""How long a long ladder takes in each backend (issue: "a 10,000-message ladder renders
in seconds").

    python bench/ladder_bench.py --messages 10000 --runs 3

The ladder is samples/tour.pcap's first MN (17 messages: attach, re-registration,
handoff, detach) repeated in time until it holds ``--messages`` arrows, so every kind
of arrow, phase and note is in it.  Prints the median wall time of ``--runs`` runs per
backend; output files go to a temporary folder.  PNG is left out unless ``--png`` (it
is rasterised glyph by glyph: about 0.5 s a page).
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pmipview.packets import Tally
from pmipview.pipeline import correlate
from pmipview.render.ladder import mpl, terminal, text
from pmipview.render.ladder.model import Ladder, build
from pmipview.sources import open_source


def long_ladder(messages: int) -> Ladder:
    keep: dict = {}
    src = open_source(str(ROOT / "samples" / "tour.pcap"))
    report = correlate(src, Tally(), None, keep)
    src.close()
    base = build(report, report.mobile_nodes[0], keep)
    span = base.arrows[-1].time - base.arrows[0].time + 100
    arrows, notes = [], []
    k = 0
    while len(arrows) < messages:
        for n in base.notes:
            notes.append(copy.copy(n))
            notes[-1].before += len(arrows)
        for a in base.arrows:
            b = copy.copy(a)
            b.time += k * span
            arrows.append(b)
        k += 1
    arrows = arrows[:messages]
    notes = [n for n in notes if n.before <= len(arrows)]
    return Ladder(base.mn, base.lifelines, arrows, notes, base.origin, base.time_mode,
                  title=base.title)


def median_time(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--png", action="store_true", help="also time PNG pages")
    args = ap.parse_args()
    lad = long_ladder(args.messages)
    out = Path(tempfile.mkdtemp(prefix="ladder-bench-"))
    backends = {
        "terminal (rich lines, 120 cols)": lambda: terminal.lines(lad, 120),
        "pdf (one file)": lambda: mpl.save(lad, out / "l.pdf"),
        "svg (one file per page)": lambda: mpl.save(lad, out / "l.svg"),
        "mermaid text": lambda: text.mermaid(lad),
        "plantuml text": lambda: text.plantuml(lad),
        "mscgen text": lambda: text.mscgen(lad),
    }
    if args.png:
        backends["png (one file per page)"] = lambda: mpl.save(lad, out / "l.png")
    pages = mpl.page_count(lad)
    print(f"{len(lad.arrows)} messages, {pages} pages of {mpl.PER_PAGE}; median of "
          f"{args.runs} runs; files in {out}")
    for name, fn in backends.items():
        print(f"  {name:34s} {median_time(fn, args.runs):7.2f} s")


if __name__ == "__main__":
    main()
