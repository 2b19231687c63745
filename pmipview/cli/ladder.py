"""``pmipview ladder``: the sequence diagram of one mobile node, in the terminal or a file.

Registered in pmipview/cli/__init__.py; the drawing lives in
pmipview/render/ladder/ (one layout model,
one module per backend).
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from pmipview.cli.common import (
    Stage,
    at_least,
    check_output,
    drawing_width,
    err,
    fail,
    load_report,
    nothing_to_draw,
    out,
    pick_mns,
    source_label,
)
from pmipview.cli.help import FILE_HELP, NAMES_HELP, TIME_HELP
from pmipview.render.ladder.style import colour_help

IMAGE_EXTS = (".svg", ".png", ".pdf")
TEXT_EXTS = (".mmd", ".puml", ".msc", ".txt")


def ladder(
    files: Annotated[list[str], typer.Argument(help=FILE_HELP, show_default=False,
                                             metavar="FILE...")],
    mn: Annotated[str | None, typer.Option(
        "--mn", help="The mobile node: NAI, MAC or IPv4 home address (default: the first "
        "one; the others are listed).")] = None,
    output: Annotated[str | None, typer.Option(
        "-o", "--output", help="Write to a file instead of the terminal; the extension "
        "chooses the format: .svg .png .pdf (matplotlib; long ladders split into pages: "
        "one PDF, or NAME-p1.svg, NAME-p2.svg…), "
        ".mmd (Mermaid), .puml (PlantUML), .msc (mscgen), .txt (the terminal drawing).",
        show_default=False)] = None,
    time_mode: Annotated[str, typer.Option(
        "--time", help=TIME_HELP)] = "rel",
    start: Annotated[str | None, typer.Option(
        "--from", help="Start at this time: seconds from the capture start (12.5) or an "
        "ISO date-time (2024-05-01T10:00:00Z).")] = None,
    end: Annotated[str | None, typer.Option(
        "--to", help="End at this time (same forms as --from).")] = None,
    frames: Annotated[str | None, typer.Option(
        "--frames", help="Only these frames: N, N-M, N-, -M, comma-separated.")] = None,
    max_messages: Annotated[int | None, typer.Option(
        "--max-messages", help="Draw at most this many messages; a note says how "
        "many were cut.")] = None,
    per_page: Annotated[int, typer.Option(
        "--per-page", help="Messages per page of an SVG/PNG/PDF ladder.")] = 60,
    width: Annotated[int | None, typer.Option(
        "--width", help="Terminal width in columns (default: the terminal's).")
    ] = None,
    pager: Annotated[bool, typer.Option(
        "--pager/--no-pager", help="Page a ladder longer than the screen (on a terminal).")
    ] = True,
    names: Annotated[str | None, typer.Option("--names", help=NAMES_HELP)] = None,
) -> None:
    """Ladder (sequence) diagram of one mobile node: its DHCP and PBU/PBA exchanges between
    the MN, its MAGs, the LMA and the DHCP server, with times, statuses, retransmissions,
    timeouts, diagnostics, and the attach / handoff / detach phases.

    Lifelines are the MN, the MAGs in order of first use, the LMAs and the DHCP servers
    (one per node, even when it uses IPv4 and IPv6).

    {colours}

    Examples:

        pmipview ladder samples/tour.pcap
        pmipview ladder samples/tour.pcap --mn mn3@example.net --time delta
        pmipview ladder cap.pcapng --mn 02:00:00:00:00:01 -o mn1.svg
        pmipview ladder cap.pcapng --mn mn1@example.net --from 400 --to 420 -o mn1.pdf
        pmipview ladder cap.pcapng -o flow.puml && plantuml -tsvg flow.puml
    """
    file = source_label(files)
    from pmipview.errors import UsageError
    from pmipview.filters import frame_ranges, parse_time
    from pmipview.render.ladder.model import TIME_MODES, build

    if time_mode not in TIME_MODES:
        raise fail(f"--time: expected one of {', '.join(TIME_MODES)}, got {time_mode!r}", 2)
    for value, minimum, option in ((max_messages, 1, "--max-messages"),
                                   (per_page, 5, "--per-page"), (width, 40, "--width")):
        at_least(value, minimum, option)
    ext = check_output(output, IMAGE_EXTS + TEXT_EXTS) if output else None
    try:
        ranges = frame_ranges(frames) if frames else None
        bounds = [parse_time(v, o) if v else None for v, o in ((start, "--from"),
                                                               (end, "--to"))]
    except UsageError as exc:
        raise fail(str(exc), 2) from None
    if bounds[0] and bounds[1] and bounds[0][0] == bounds[1][0] and bounds[0][1] > bounds[1][1]:
        raise fail(f"--from {start} is after --to {end}", 2)
    keep: dict = {}
    report, tally, problem = load_report(files, names, keep, keep_frames=False)  # no detail
    if not report.mobile_nodes:
        raise fail(f"{nothing_to_draw(file, tally)}: no mobile node to draw", 1)
    mns = pick_mns(report, mn, file)
    chosen = mns[0]
    if not mn and len(report.mobile_nodes) > 1:
        others = ", ".join(m.id for m in report.mobile_nodes[1:11])
        more = " ..." if len(report.mobile_nodes) > 11 else ""
        err.print(f"{len(report.mobile_nodes)} mobile nodes; drawing {chosen.id} (choose "
                  f"with --mn: {others}{more})", style="dim", markup=False)
    first = report.start or 0.0  # the zero of the times drawn (the earliest frame)
    t0, t1 = ((None if b is None else b[1] if b[0] == "abs" else first + b[1])
              for b in bounds)
    drawing = build(report, chosen, keep, time_mode=time_mode, start=t0, end=t1,
                    frames=ranges, max_messages=max_messages)
    if not drawing.arrows:
        raise fail(f"{chosen.id}: no message in the chosen window", 1)
    if output is None:
        _to_terminal(drawing, drawing_width(width), pager and sys.stdout.isatty(), out)
    else:
        with Stage(f"drawing {len(drawing.arrows)} messages") as drawing_stage:
            written = _to_file(drawing, output, ext or "", per_page, fail, drawing_stage)
        cut = f", cut: {drawing.cut} more" if drawing.cut else ""
        pages = f"{len(written)} pages: " if len(written) > 1 else ""
        err.print(f"wrote {pages}{_listed(written)} ({len(drawing.arrows)} messages{cut})",
                  markup=False)
        if ext in (".svg", ".png"):
            _remove_stale(output, written)
    if problem is not None:
        raise typer.Exit(1)


def _listed(paths: list[str], most: int = 6) -> str:
    """File names for a message: all of a few, else the first ones, …, the last."""
    if len(paths) <= most:
        return ", ".join(paths)
    return ", ".join(paths[:most - 2]) + f", …, {paths[-1]}"


def _remove_stale(output: str, written: list[str]) -> None:
    """Page files of an earlier run of the same -o that this run did not write go (only
    names of the exact page pattern: mpl.stale_pages); each removal is said."""
    from pathlib import Path

    from pmipview.render.ladder.mpl import stale_pages

    gone = []
    for p in stale_pages(output, [Path(w) for w in written]):
        try:
            p.unlink()
        except OSError as exc:
            err.print(f"pmipview: could not remove the stale page {p}: "
                      f"{exc.strerror or exc}", style="yellow", markup=False)
            continue
        gone.append(str(p))
    if gone:
        err.print(f"removed {len(gone)} stale page{'s' if len(gone) != 1 else ''} of an "
                  f"earlier run: {_listed(gone)}", markup=False)


# the colours as render/ladder/style.py draws them (one place for them)
ladder.__doc__ = (ladder.__doc__ or "").replace("{colours}", colour_help())


def _to_terminal(drawing, width: int, page: bool, console) -> None:
    from pmipview.render.ladder.terminal import lines

    rows = lines(drawing, width)
    if page and len(rows) > console.height:
        # less shows colours with -R; -S scrolls a drawing wider than the screen sideways
        os.environ.setdefault("LESS", "-RS")
        with console.pager(styles=True):
            for row in rows:
                console.print(row, crop=False, overflow="ignore")
        return
    for row in rows:
        console.print(row, crop=False, overflow="ignore")


def _to_file(drawing, output: str, ext: str, per_page: int, fail, stage: Stage) -> list[str]:
    try:
        if ext in IMAGE_EXTS:
            from pmipview.render.ladder import mpl

            def page(k: int, pages: int) -> None:
                stage.update(f"drawing page {k}/{pages} of {len(drawing.arrows)} messages")

            return [str(p) for p in mpl.save(drawing, output, per_page=per_page,
                                             on_page=page)]
        if ext == ".txt":
            from rich.console import Console

            from pmipview.render.ladder.terminal import lines

            with open(output, "w", encoding="utf-8") as fh:
                console = Console(file=fh, width=120, no_color=True, highlight=False)
                for row in lines(drawing, 120):
                    console.print(row, crop=False, overflow="ignore")
            return [output]
        from pmipview.render.ladder.text import FORMATS

        text = FORMATS[ext](drawing)
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(text)
        return [output]
    except OSError as exc:
        raise fail(f"-o {output}: cannot write: {exc.strerror or exc}", 1) from None
