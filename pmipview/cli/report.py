"""``pmipview report``: one self-contained HTML file (summary, MN table, ladders, plots).

Registered in pmipview/cli/__init__.py. The page is
built by pmipview/render/html_report.py from the correlated report, the ladder model
(pmipview/render/ladder/), its matplotlib SVG pages and the latency plots
(pmipview/render/plots.py); this module checks the options, reads the capture, gathers
those pieces and writes the file.  Every user error is one line on stderr: exit 2 for a
usage error, 1 for an input that cannot be read or reported on, or an output that cannot
be written.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from pmipview.cli.common import (
    Stage,
    at_least,
    check_output,
    err,
    fail,
    load_report,
    nothing_to_draw,
    pick_mns,
    short_label,
    source_label,
)
from pmipview.cli.help import FILE_HELP, NAMES_HELP, TIME_HELP

OUTPUT_EXTS = (".html", ".htm")
PLOT_KINDS = ("rtt", "setup", "attach", "handoff", "address")
TIMELINE_MAX_ROWS = 200        # the timeline plot draws at most this many MNs
HISTOGRAM_IN = (6.6, 3.8)      # a latency histogram in the page, inches


def report(
    files: Annotated[list[str], typer.Argument(help=FILE_HELP, show_default=False,
                                             metavar="FILE...")],
    output: Annotated[str, typer.Option(
        "-o", "--output", help="The report to write (required): one .html file that holds "
        "everything (no network access when opened).", show_default=False)] = "",
    mn: Annotated[str | None, typer.Option(
        "--mn", help="Only this mobile node: NAI, MAC or IPv4 home address (default: "
        "every MN).")] = None,
    time_mode: Annotated[str, typer.Option(
        "--time", help=TIME_HELP)] = "rel",
    max_messages: Annotated[int, typer.Option(
        "--max-messages", help="Draw at most this many messages per ladder; a note "
        "says how many were cut.")] = 500,
    max_mns: Annotated[int, typer.Option(
        "--max-mns", help="Draw the ladders of at most this many MNs (those with "
        "errors, then warnings, first); the MN table always lists every MN.")] = 50,
    names: Annotated[str | None, typer.Option("--names", help=NAMES_HELP)] = None,
) -> None:
    """One self-contained HTML report of a capture, to open in any browser or attach to
    a ticket.

    It holds: a summary (frames, messages by type and status, MNs, attachments,
    handoffs, diagnostics, latency p50/p90/p99/max), the table of mobile nodes (sortable,
    filterable), one ladder diagram per MN in which clicking an arrow shows the decoded
    message (every field and option, frame number, time, diagnostics) in a side panel,
    and the latency plots (rtt, setup, attach, handoff, address histograms and the
    per-MN timeline).  Inline CSS, JavaScript and SVG only: nothing is fetched.

    Examples:

        pmipview report samples/tour.pcap -o tour.html
        pmipview report big.pcapng -o big.html --max-mns 20 --max-messages 200
        pmipview report cap.pcap --mn mn1@example.net --time delta -o mn1.html
        pmipview report cap.pcap --names hosts.txt -o cap.html
    """
    file = source_label(files)
    from pmipview.render.ladder.model import TIME_MODES

    if not output:
        raise fail("give the report to write with -o FILE.html", 2)
    if time_mode not in TIME_MODES:
        raise fail(f"--time: expected one of {', '.join(TIME_MODES)}, got {time_mode!r}", 2)
    at_least(max_messages, 1, "--max-messages")
    at_least(max_mns, 1, "--max-mns")
    check_output(output, OUTPUT_EXTS)

    keep: dict = {}
    rep, tally, problem = load_report(files, names, keep)
    if not rep.mobile_nodes and not rep.signaling_frames:
        raise fail(f"{nothing_to_draw(file, tally)}: nothing to report", 1)
    mns = pick_mns(rep, mn, file)

    from pmipview.render.html_report import render

    with Stage("drawing the report") as drawing:
        page = _page(file, rep, tally, keep, mns, mn, time_mode, max_messages, max_mns,
                     problem, drawing)
        drawing.update("writing the report")
        text = render(page)
    try:
        _write(output, text)
    except OSError as exc:
        raise fail(f"-o {output}: cannot write: {exc.strerror or exc}", 1) from None
    drawn = sum(1 for p in page.plots if p.svg)
    err.print(f"wrote {output} ({len(mns)} mobile node{'s' if len(mns) != 1 else ''}, "
              f"{len(page.ladders)} ladder{'s' if len(page.ladders) != 1 else ''}, "
              f"{drawn} plot{'s' if drawn != 1 else ''}, {len(text.encode()) // 1024} KiB)",
              markup=False, style="dim")
    if problem is not None:
        raise typer.Exit(1)


def _page(file, rep, tally, keep, mns, mn, time_mode, max_messages, max_mns, problem,
          stage: Stage):
    """Everything html_report.render needs."""
    from dataclasses import replace
    from datetime import UTC, datetime

    from pmipview import __version__
    from pmipview.render.html_report import LadderView, Page, mn_order_for_ladders
    from pmipview.render.ladder.model import build
    from pmipview.render.ladder.mpl import svg_pages
    from pmipview.render.timeline import stats_dict

    scoped = replace(rep, mobile_nodes=mns) if mn else rep
    notes = []
    if problem is not None:
        notes.append(f"Reading stopped early: {problem}. The report covers the frames "
                     f"before it.")
    if mn:
        notes.append(f"Only {', '.join(m.id for m in mns)} (--mn {mn}): the MN table, "
                     f"ladders, latency figures and plots show this MN; the frame and "
                     f"message counts are the whole capture's.")
    chosen = mn_order_for_ladders(mns, max_mns)
    if len(chosen) < len(mns):
        notes.append(f"Ladders are drawn for {len(chosen)} of {len(mns)} mobile nodes "
                     f"(those with errors, then warnings, first; --max-mns {max_mns}); "
                     f"use --mn to draw another one.")
    ladders = []
    for k, m in enumerate(chosen, 1):
        stage.update(f"drawing ladder {k}/{len(chosen)}")
        lad = build(rep, m, keep, time_mode=time_mode, max_messages=max_messages)
        ladders.append(LadderView(m, lad, svg_pages(lad) if lad.arrows else []))
    return Page(
        report=rep, stats=stats_dict(scoped, dict(tally.by_type), dict(tally.by_status)),
        source=short_label(file), mns=mns, ladders=ladders,
        plots=_plots(rep, scoped, mns, chosen, stage), notes=notes,
        version=__version__, time_mode=time_mode,
        scope=f"{', '.join(m.id for m in mns)} only" if mn else None,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"), by_status=tally.by_status)


def _plots(rep, scoped, mns, chosen, stage: Stage):
    """The latency histograms and the timeline as SVG text (or why each is not drawn)."""
    from pmipview.render import plots
    from pmipview.render.html_report import PlotView

    stage.update("drawing the plots")
    views = []
    rows = mns if len(mns) <= TIMELINE_MAX_ROWS else chosen
    title = "Timeline: one row per mobile node, attachments coloured by MAG"
    if rows is not mns:
        title += f" ({len(rows)} of {len(mns)} MNs: those with a ladder)"
    try:
        views.append(PlotView("timeline", title,
                              svg=_svg(plots.timeline_figure(rep, rows),
                                       "timeline")))
    except plots.NoData as exc:
        views.append(PlotView("timeline", title, note=str(exc)))
    for kind in PLOT_KINDS:
        desc = plots.DESCRIPTIONS[kind]
        try:
            fig = plots.latency_figure(scoped, kind)
        except plots.NoData as exc:
            views.append(PlotView(kind, desc, note=str(exc)))
            continue
        views.append(PlotView(kind, desc, svg=_svg(fig, kind)))
    return views


def _svg(fig, kind: str) -> str:
    """A figure as SVG text: text stays text, ids reproducible.  Histograms are drawn
    smaller than for a file (the same font sizes), two side by side at natural size."""
    import io

    import matplotlib

    if kind in PLOT_KINDS:
        fig.set_size_inches(*HISTOGRAM_IN)
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": f"pmv-{kind}"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": "pmipview"})
    return buf.getvalue()


def _write(path: str, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all (a temporary file renamed)."""
    import contextlib
    import tempfile

    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".pmipview-report-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
