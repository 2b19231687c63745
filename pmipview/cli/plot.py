"""``pmipview plot``: latency histograms / CDFs and the capture timeline as an image.

Registered in pmipview/cli/__init__.py. The drawing is in
pmipview/render/plots.py; this module only checks the options, reads the capture and
turns every user error into one line on stderr (exit 1 input/data, 2 usage).
"""

from __future__ import annotations

from typing import Annotated

import typer

from pmipview.cli.common import (
    Stage,
    check_output,
    err,
    fail,
    load_report,
    nothing_to_draw,
    pick_mns,
    short_label,
    source_label,
)
from pmipview.cli.help import FILE_HELP, NAMES_HELP


def plot(
    files: Annotated[list[str], typer.Argument(help=FILE_HELP, show_default=False,
                                             metavar="FILE...")],
    output: Annotated[str, typer.Option(
        "-o", "--output", help="Image to write; the format is chosen by the extension: "
        ".png, .svg or .pdf.", show_default=False)] = "",
    kind: Annotated[str, typer.Option(
        "--kind", "-k", help="What to draw: timeline (one row per MN: attachments per MAG, "
        "handoffs, failures), or a latency histogram: rtt, setup, attach, handoff, "
        "interruption (break-before-make handoffs), address (definitions in "
        "docs/timeline.md).")] = "timeline",
    cdf: Annotated[bool, typer.Option(
        "--cdf", help="Latency kinds: draw the cumulative distribution instead of a "
        "histogram.")] = False,
    by: Annotated[str | None, typer.Option(
        "--by", help="Latency kinds: 'mag' for one series per MAG (per target MAG for "
        "handoff): small multiples, or one line per MAG with --cdf.",
        show_default=False)] = None,
    mn: Annotated[str | None, typer.Option(
        "--mn", help="Only this mobile node: NAI, MAC or IPv4 home address.")] = None,
    clock: Annotated[bool, typer.Option(
        "--clock", help="Timeline: clock time (UTC) on the x axis instead of seconds since "
        "the capture start.")] = False,
    title: Annotated[str | None, typer.Option(
        "--title", help="Replace the plot's title.", show_default=False)] = None,
    names: Annotated[str | None, typer.Option("--names", help=NAMES_HELP)] = None,
) -> None:
    """Draw a capture: its timeline, or a latency distribution, as PNG, SVG or PDF.

    **timeline** (the default): one row per mobile node, its attachments as bars
    coloured by MAG over the capture's time, handoffs as black ticks, failures (rejected
    or unanswered registrations, error diagnostics) as red crosses, warnings as orange
    triangles: the whole capture at a glance.  **rtt, setup, attach, handoff,
    interruption, address**:
    a histogram of that latency in ms with p50/p90/p99 marked, the same values as
    `pmipview stats`; `--cdf` for the cumulative distribution, `--by mag` per MAG.

    Examples:

        pmipview plot samples/tour.pcap -o tour.png
        pmipview plot big.pcapng --kind rtt -o rtt.svg
        pmipview plot big.pcapng --kind rtt --cdf --by mag -o rtt-per-mag.pdf
        pmipview plot big.pcapng --kind handoff --by mag -o handoff.png
        pmipview plot big.pcapng --mn mn1@example.net --clock -o mn1.png
    """
    file = source_label(files)

    fmt = _check_usage(output, kind, cdf, by, clock, fail)
    report, tally, problem = load_report(files, names)
    with Stage(f"drawing the {kind} plot"):
        fig = _figure(report, tally, file, kind, cdf, by, mn, clock, title, fail)
        _write(fig, output, fail)
    err.print(f"wrote {output} ({kind} plot of {file}, {fmt.upper()})", markup=False)
    if problem is not None:
        raise typer.Exit(1)


def _check_usage(output: str, kind: str, cdf: bool, by: str | None, clock: bool,
                 fail) -> str:
    """Every usage error (exit 2) before the capture is read; returns the image format."""
    from pmipview.render.plots import output_format

    if not output:
        raise fail("give the image to write with -o FILE.png, .svg or .pdf", 2)
    from pmipview.render.plots import KINDS

    if kind not in KINDS:
        raise fail(f"--kind: expected one of {', '.join(KINDS)}, got {kind!r}", 2)
    if by is not None and by != "mag":
        raise fail(f"--by: only 'mag' is supported, got {by!r}", 2)
    if kind == "timeline" and (cdf or by):
        raise fail("--cdf and --by apply to latency kinds (rtt, setup, attach, handoff, "
                   "interruption, address), not to the timeline", 2)
    if clock and kind != "timeline":
        raise fail("--clock applies to --kind timeline only", 2)
    check_output(output, (".png", ".svg", ".pdf"))
    return output_format(output) or ""


def _figure(report, tally, file: str, kind: str, cdf: bool, by: str | None,
            mn: str | None, clock: bool, title: str | None, fail):
    """The Figure, or one line and exit 1 when the capture has nothing to draw."""
    from dataclasses import replace

    from pmipview.render import plots

    if not report.mobile_nodes:
        raise fail(f"{nothing_to_draw(file, tally)}: nothing to plot", 1)
    mns = pick_mns(report, mn, file)
    source = short_label(file) + (f", {mn}" if mn else "")
    try:
        if kind == "timeline":
            return plots.timeline_figure(report, mns, clock=clock, source=source, title=title)
        return plots.latency_figure(replace(report, mobile_nodes=mns), kind,
                                    by_mag=by == "mag", cdf=cdf, source=source, title=title)
    except plots.NoData as exc:
        raise fail(f"{file}{f' (--mn {mn})' if mn else ''}: {exc}", 1) from None


def _write(fig, output: str, fail) -> None:
    from pmipview.render.plots import save

    try:
        save(fig, output)
    except OSError as exc:
        raise fail(f"cannot write {output}: {exc.strerror or exc}", 1) from None
