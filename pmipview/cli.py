"""The ``pmipview`` command line: one function per subcommand, no protocol logic here.

Exit codes: 0 success; 1 the input could not be read (or reading stopped early: the
frames before the fault are still shown); 2 a usage error.  No traceback for any user
error: each becomes one line on stderr.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import suppress
from typing import Annotated

import typer
from rich.console import Console

from pmipview import __version__
from pmipview.cli_help import FILE_HELP, NAMES_HELP
from pmipview.errors import CaptureError, OutputError, UsageError
from pmipview.filters import (
    TimeWindow,
    by_frames,
    by_mn,
    by_node,
    by_status,
    by_type,
    combine,
    parse_time,
)
from pmipview.packets import Packet, Tally, scan
from pmipview.render import detail, jsonl, packet_list, summary
from pmipview.sources import Record, open_source

app = typer.Typer(
    name="pmipview",
    help="Analyze and visualize Proxy Mobile IPv6 with IPv4 support (RFC 5213, RFC 5844): "
         "PBU/PBA, Binding Revocation, Heartbeat and the DHCPv4 around them.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
)

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str, code: int) -> typer.Exit:
    err.print(f"pmipview: {message}", style="bold red", markup=False)
    return typer.Exit(code)


def _version(value: bool) -> None:
    if value:
        out.print(f"pmipview {__version__}")
        raise typer.Exit(0)


@app.callback()
def main_options(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """pmipview: per-mobile-node views of PMIPv6 signaling."""


def _progress(records: Iterable[Record], source: object) -> Iterator[Record]:
    """Records, with a progress bar on stderr once reading has taken more than a second."""
    size = getattr(source, "size", None)
    if not size or not sys.stderr.isatty():
        yield from records
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    start = time.monotonic()
    progress = None
    task = None
    try:
        for i, rec in enumerate(records):
            if not i & 0x3FFF:
                if progress is None and time.monotonic() - start > 1.0:
                    progress = Progress("[progress.description]{task.description}",
                                        BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                                        console=err, transient=True)
                    progress.start()
                    task = progress.add_task("reading", total=size)
                if progress is not None:
                    progress.update(task, completed=source.bytes_read)  # type: ignore[attr-defined,arg-type]
            yield rec
    finally:
        if progress is not None:
            progress.stop()


@app.command(no_args_is_help=True)
def dissect(
    file: Annotated[str | None, typer.Argument(
        help="Capture file: pcap or pcapng, optionally .gz; other formats through tshark.",
        show_default=False)] = None,
    interface: Annotated[str | None, typer.Option(
        "-i", "--interface", help="Capture live on this interface (needs tshark and capture "
        "permission); Ctrl-C stops and prints the summary.")] = None,
    capture_filter: Annotated[str | None, typer.Option(
        "-f", "--capture-filter", help="BPF capture filter for -i, e.g. "
        "'udp port 5436 or ip6 proto 135 or udp port 67'.")] = None,
    count: Annotated[int | None, typer.Option(
        "-c", "--count", help="With -i: stop after this many frames.", min=1)] = None,
    duration: Annotated[float | None, typer.Option(
        "--duration", help="With -i: stop after this many seconds.", min=1)] = None,
    detail_view: Annotated[bool, typer.Option(
        "-V", "--detail", help="Show the full decoded tree of each listed frame.")] = False,
    as_json: Annotated[bool, typer.Option(
        "--json", help="JSON Lines on stdout, one object per listed frame (with --summary: "
        "one summary object instead); schema in docs/json-schema.md.")] = False,
    summary_only: Annotated[bool, typer.Option(
        "--summary", help="Print only the summary (the fastest way through a big file).")
    ] = False,
    no_summary: Annotated[bool, typer.Option(
        "--no-summary", help="Do not print the summary after the list.")] = False,
    everything: Annotated[bool, typer.Option(
        "--all", help="List every frame, not only signaling.")] = False,
    mn: Annotated[str | None, typer.Option(
        "--mn", help="Only frames naming this mobile node: NAI (mn1@example.net), MAC "
        "(02:00:00:00:00:01) or IPv4 home address.")] = None,
    node: Annotated[str | None, typer.Option(
        "--node", help="Only frames from or to this address (a MAG, LMA or DHCP server).")
    ] = None,
    msg_type: Annotated[list[str] | None, typer.Option(
        "--type", help="Only these message types, comma-separated or repeated: pbu, pba, "
        "bu, ba, bri, bra, hb, be, mh (any mobility message), dhcp (any DHCP), or a DHCP "
        "type: discover, offer, request, ack, nak, release, decline, inform...")] = None,
    status: Annotated[str | None, typer.Option(
        "--status", help="'rejected' (PBA/BRA status >= 128, IPv4 HoA Reply failure, DHCP "
        "NAK), 'accepted', 'malformed', a status number (e.g. 170) or part of a status name "
        "(e.g. IPV4).")] = None,
    frames: Annotated[str | None, typer.Option(
        "--frames", help="Frame numbers: 100-200, 5, -50, 900- or a comma-separated list.")
    ] = None,
    time_from: Annotated[str | None, typer.Option(
        "--from", help="Start of the time window: seconds from the first frame (12.5) or "
        "an ISO date-time (2024-05-01T10:00:00Z).")] = None,
    time_to: Annotated[str | None, typer.Option(
        "--to", help="End of the time window, as --from.")] = None,
    time_mode: Annotated[str, typer.Option(
        "--time", help="Time column: rel (since the first frame), abs (UTC), delta (since "
        "the previous listed frame), epoch.")] = "rel",
) -> None:
    """List the signaling frames of a capture or a live interface.

    One line per PBU, PBA, BRI/BRA, Heartbeat, Binding Error and DHCP message, with what
    matters in the info column (MN-ID, sequence, status with its name, IPv4 home address
    requested or assigned, DHCP type and xid).  Other frames are counted, not listed.

    Examples:

        pmipview dissect samples/tour.pcap
        pmipview dissect big.pcapng.gz --type pba --status rejected
        pmipview dissect cap.pcap --mn mn1@example.net -V
        pmipview dissect cap.pcap --json | jq .info
        pmipview dissect -i eth0 -f 'udp port 5436 or udp port 67 or ip6 proto 135'
    """
    if (file is None) == (interface is None):
        raise fail("give a capture FILE or -i INTERFACE (one of them)", 2)
    if time_mode not in packet_list.TIME_MODES:
        raise fail(f"--time: expected one of {', '.join(packet_list.TIME_MODES)}, "
                   f"got {time_mode!r}", 2)
    if interface is None and (capture_filter or count or duration):
        raise fail("-f, -c and --duration apply to live capture (-i) only", 2)
    tally = Tally()
    try:
        predicates = []
        if mn:
            predicates.append(by_mn(mn))
        if node:
            predicates.append(by_node(node))
        if msg_type:
            predicates.append(by_type(msg_type))
        if status:
            predicates.append(by_status(status))
        if frames:
            predicates.append(by_frames(frames))
        if time_from or time_to:
            predicates.append(TimeWindow(parse_time(time_from, "--from") if time_from else None,
                                         parse_time(time_to, "--to") if time_to else None,
                                         tally))
    except UsageError as exc:
        raise fail(str(exc), 2) from None
    wanted = combine(predicates)

    try:
        source = open_source(file, interface=interface, bpf=capture_filter, count=count,
                             duration=duration)
    except CaptureError as exc:
        raise fail(str(exc), 1) from None

    if interface is not None and not as_json:
        err.print(f"capturing on {interface} — Ctrl-C to stop", style="dim")
    listing = not summary_only
    prev_ts: int | None = None
    interrupted = False
    try:
        if listing and not as_json and not detail_view:
            out.print(packet_list.header(time_mode))
        for packet in scan(_progress(source, source), tally, everything=everything):
            if not listing or not wanted(packet):
                continue
            _show(packet, tally, prev_ts, time_mode, as_json, detail_view)
            prev_ts = packet.ts_ns
    except KeyboardInterrupt:
        interrupted = True
    except CaptureError as exc:
        source.close()
        raise fail(str(exc), 1) from None
    except BrokenPipeError:
        _quiet_broken_pipe()
        raise typer.Exit(0) from None
    finally:
        source.close()

    problem = getattr(source, "problem", None)
    problem_text = str(problem) if problem is not None else None
    if as_json:
        if summary_only:
            print(json.dumps({"summary": summary.summary_dict(tally, problem_text)}))
    elif summary_only or not no_summary:
        if listing:
            out.print()
        out.print(summary.summary_table(tally, problem_text))
    if problem_text:
        raise fail(f"{file}: reading stopped early: {problem_text}", 1)
    if interrupted and interface is None:
        raise typer.Exit(130)


@app.command(no_args_is_help=True)
def simulate(
    scenario: Annotated[str, typer.Argument(
        help="Scenario file (TOML; format in docs/scenarios.md).", show_default=False)],
    output: Annotated[str, typer.Option(
        "-o", "--output", help="Capture to write: .pcapng (one interface per capture "
        "point), optionally .gz.")] = "",
    seed: Annotated[int | None, typer.Option(
        "--seed", help="Override the scenario's seed (same seed, same capture).")] = None,
    capture: Annotated[str | None, typer.Option(
        "--capture", help="Override the capture points: comma-separated node names, e.g. "
        "'mag1,lma'.")] = None,
    show_events: Annotated[bool, typer.Option(
        "--events", help="Print what every core did (registered, rejected, bound...).")
    ] = False,
    check: Annotated[bool, typer.Option(
        "--check", help="Check the scenario's [[expect]] facts against the capture; exit 1 "
        "when one is not shown.")] = False,
) -> None:
    """Run the reference LMA, MAGs and DHCP cores of a scenario and write the capture.

    The cores run on a virtual clock over a simulated network (per-link delay, jitter,
    loss, faults); every packet is encoded with pmipview's own codecs and captured at the
    MAG, the LMA or both.  Deterministic for a given seed.

    Examples:

        pmipview simulate samples/scenarios/handover-server-mode.toml -o /tmp/h.pcapng
        pmipview simulate my.toml -o out.pcapng --capture mag1,mag2,lma --events
    """
    from dataclasses import replace

    from pmipview.sim.engine import capture_comment, run
    from pmipview.sim.scenario import ScenarioError, load
    from pmipview.sources.capfile import write_pcapng

    if not output:
        raise fail("give the capture to write with -o FILE.pcapng", 2)
    if not output.endswith((".pcapng", ".pcapng.gz")):
        raise fail(f"-o: the capture is written as pcapng (one interface per capture "
                   f"point): name it .pcapng, not {output!r}", 2)
    try:
        sc = load(scenario)
        if seed is not None:
            sc = replace(sc, seed=seed)
        if capture:
            names = tuple(c.strip() for c in capture.split(",") if c.strip())
            known = {sc.lma.name, *(m.name for m in sc.mags)}
            for name in names:
                if name not in known:
                    raise ScenarioError(f"--capture: {name!r} is not the LMA or a MAG "
                                        f"(one of {', '.join(sorted(known))})")
            sc = replace(sc, capture=names)
    except ScenarioError as exc:
        raise fail(str(exc), 2) from None
    result = run(sc)
    try:
        count = write_pcapng(output, result.records, result.interfaces,
                             comment=capture_comment(sc))
    except OSError as exc:
        raise fail(f"cannot write {output}: {exc.strerror or exc}", 1) from None
    if show_events:
        for ev in result.events:
            out.print(str(ev), markup=False)
    err.print(f"{sc.name}: {count} frames captured at {', '.join(sc.capture)} over "
              f"{sc.duration:g} s of simulated time ({result.lost} lost) -> {output}",
              markup=False)
    if check:
        from pmipview.sim.expect import check as check_facts

        packets = list(scan(result.records, Tally()))
        failures = check_facts(sc.expect, packets, list(sc.capture))
        for line in failures:
            err.print(f"NOT SHOWN: {line}", style="red", markup=False)
        if failures:
            raise typer.Exit(1)
        err.print(f"all {len(sc.expect)} expected facts shown", markup=False)


def _report(file: str, names_file: str | None, keep: dict | None = None,
            keep_frames: bool = True):
    """Open, scan and correlate a capture; errors become one line and an exit code.
    With ``keep``, every signaling frame's signal (and decoded frame, unless not
    ``keep_frames``) is kept in it."""
    from pmipview.pipeline import correlate, parse_names

    names = None
    if names_file:
        try:
            with open(names_file) as fh:
                names = parse_names(fh.read())
        except OSError as exc:
            raise fail(f"--names: cannot read {names_file}: {exc.strerror or exc}", 2) from None
        except ValueError as exc:
            raise fail(f"--names: {names_file}: {exc}", 2) from None
    try:
        source = open_source(file)
    except CaptureError as exc:
        raise fail(str(exc), 1) from None
    tally = Tally()
    try:
        report = correlate(_progress(source, source), tally, names, keep, keep_frames)
    except CaptureError as exc:
        raise fail(str(exc), 1) from None
    finally:
        source.close()
    problem = getattr(source, "problem", None)
    if problem is not None:
        err.print(f"pmipview: {file}: reading stopped early: {problem} (the timeline covers "
                  f"the frames before it)", style="yellow", markup=False)
    return report, tally, problem


def _pick_mns(report, mn: str | None, file: str) -> list:
    """The MNs ``--mn`` names (all without it); an unknown MN is one line and exit 1."""
    from pmipview.filters import is_match_mn

    if not mn:
        return report.mobile_nodes
    mns = [m for m in report.mobile_nodes if is_match_mn(m, mn)]
    if not mns:
        known = ", ".join(m.id for m in report.mobile_nodes[:10]) or "none"
        more = " ..." if len(report.mobile_nodes) > 10 else ""
        raise fail(f"--mn: no mobile node {mn!r} in {file} (MNs: {known}{more})", 1)
    return mns


def _at_least(value: int | None, minimum: int, option: str) -> None:
    """A count option below its minimum: one line and exit 2 (typer's min= prints a box)."""
    if value is not None and value < minimum:
        raise fail(f"{option}: must be at least {minimum}, got {value}", 2)


def _nothing_to_draw(file: str, tally: Tally) -> str:
    """Why a capture has no mobile node, in words."""
    if not tally.frames:
        return f"{file}: no frames"
    if tally.malformed and not tally.decoded:
        return (f"{file}: only malformed signaling ({tally.malformed} of {tally.frames} "
                f"frames; see pmipview dissect)")
    return f"{file}: no PMIPv6 or DHCP signaling in {tally.frames} frames"


def _check_output(path: str, allowed: tuple[str, ...]) -> str:
    """The output's extension, checked before any work: known and in a writable folder."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in allowed:
        raise fail(f"-o {path}: unknown output extension {ext or '(none)'!r}; use one of "
                   f"{', '.join(allowed)}", 2)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise fail(f"-o {path}: folder {folder} does not exist", 1)
    if not os.access(folder, os.W_OK) or (os.path.exists(path)
                                          and not os.access(path, os.W_OK)):
        raise fail(f"-o {path}: not writable", 1)
    return ext



@app.command(no_args_is_help=True)
def timeline(
    file: Annotated[str, typer.Argument(help=FILE_HELP, show_default=False)],
    mn: Annotated[str | None, typer.Option(
        "--mn", help="Only this mobile node: NAI, MAC or IPv4 home address.")] = None,
    as_json: Annotated[bool, typer.Option(
        "--json", help="One JSON document (schema in docs/json-schema.md).")] = False,
    as_csv: Annotated[bool, typer.Option(
        "--csv", help="CSV, one row per attachment.")] = False,
    names: Annotated[str | None, typer.Option("--names", help=NAMES_HELP)] = None,
) -> None:
    """Per mobile node: how it attached, where it handed off, what failed, how long it took.

    For each MN (identified by NAI, MAC and IPv4 home address, merged as evidence
    arrives): its attachments (MAG, registration and DHCP times, IPv4 HoA, DHCP mode,
    handoff indicator, why it ended), handoffs, PBU/PBA transactions with retransmissions,
    DHCP exchanges, and diagnostics graded like Wireshark's expert info.  Latency
    definitions: docs/timeline.md.

    Examples:

        pmipview timeline samples/handover-server-mode.pcapng
        pmipview timeline big.pcapng --mn mn1@example.net
        pmipview timeline cap.pcap --json | jq '.mobile_nodes[].handoffs'
        pmipview timeline cap.pcap --csv > attachments.csv
    """
    if as_json and as_csv:
        raise fail("--json and --csv: choose one", 2)
    from pmipview.render import timeline as tl
    from pmipview.render import timeline_json

    report, _, problem = _report(file, names)
    mns = _pick_mns(report, mn, file)
    if as_json:
        sys.stdout.write(json.dumps(timeline_json.report(report, mns)))
        sys.stdout.write("\n")
    elif as_csv:
        sys.stdout.write(tl.csv_text(report, mns))
    else:
        out.print(tl.header(report))
        if not mns:
            out.print("no mobile node: the capture has no PMIPv6 or DHCP signaling")
        for m in mns:
            out.print()
            out.print(tl.mn_block(m, report.start))
        for d in report.diagnostics:
            out.print(f"{d.severity} {d.code}: {d.message} (frames "
                      f"{', '.join(map(str, d.frames))})", style=tl.SEVERITY_STYLE[d.severity],
                      markup=False)
    if problem is not None:
        raise typer.Exit(1)


@app.command(no_args_is_help=True)
def stats(
    file: Annotated[str, typer.Argument(help=FILE_HELP, show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document.")] = False,
    names: Annotated[str | None, typer.Option("--names", help=NAMES_HELP)] = None,
) -> None:
    """Counts by message and status, MNs, attachments, handoffs, failures by kind, and
    latency percentiles (p50/p90/p99/max) of rtt, setup, address, attach and handoff,
    overall and per MAG.

    Examples:

        pmipview stats samples/handover-server-mode.pcapng
        pmipview stats big.pcapng --json | jq .latency_ms.rtt
    """
    from pmipview.render import timeline as tl

    report, tally, problem = _report(file, names)
    d = tl.stats_dict(report, dict(tally.by_type), dict(tally.by_status))
    if as_json:
        print(json.dumps(d, indent=1))
    else:
        out.print(tl.stats_tables(d))
    if problem is not None:
        raise typer.Exit(1)


# Commands that live in their own modules (pmipview/cli_*.py).
from pmipview.cli_ladder import ladder  # noqa: E402
from pmipview.cli_plot import plot  # noqa: E402
from pmipview.cli_report import report  # noqa: E402

app.command(no_args_is_help=True)(ladder)
app.command(no_args_is_help=True)(plot)
app.command(no_args_is_help=True)(report)


def _show(packet: Packet, tally: Tally, prev_ts: int | None, time_mode: str, as_json: bool,
          detail_view: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(jsonl.packet_json(packet, tally.first_ts_ns)) + "\n")
        return
    if detail_view:
        out.print(detail.packet_tree(packet))
        out.print()
        return
    text = packet_list.time_text(packet, time_mode, tally.first_ts_ns, prev_ts)
    out.print(packet_list.render(packet_list.row(packet, text), time_mode))


def _quiet_broken_pipe() -> None:
    """After the reader of our stdout went away (``| head``), exit without noise."""
    with suppress(Exception):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def main() -> None:
    # Decoding allocates many small acyclic objects (headers, options) and keeps few:
    # the cyclic GC's frequent young-generation passes cost ~9% of a large scan for
    # nothing (bench/dissect_bench.py).  Freeze what is loaded and collect less often.
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    try:
        app()
    except (OutputError, CaptureError) as exc:  # pragma: no cover - commands catch these
        err.print(f"pmipview: {exc}", style="bold red", markup=False)
        sys.exit(1)
