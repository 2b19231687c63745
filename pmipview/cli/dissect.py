"""``pmipview dissect``: the packet list, the -V tree, JSON Lines and the summary."""

from __future__ import annotations

import contextlib
import json
import signal
import sys
from collections.abc import Iterator
from typing import Annotated

import typer

from pmipview.cli.common import (
    err,
    fail,
    load_report,
    open_capture_source,
    out,
    progress,
    quiet_broken_pipe,
    source_label,
)
from pmipview.errors import CaptureError, UsageError
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
from pmipview.packets import Packet, Tally, count_frames, scan
from pmipview.render import detail, jsonl, packet_list, summary
from pmipview.sources import STDIN, open_source


def dissect(
    files: Annotated[list[str] | None, typer.Argument(
        help="Capture file(s): pcap or pcapng, optionally .gz, other formats through "
        "tshark; '-' reads standard input; several files are merged by time.",
        show_default=False, metavar="[FILE...]")] = None,
    interface: Annotated[str | None, typer.Option(
        "-i", "--interface", help="Capture live on this interface (needs tshark and capture "
        "permission); Ctrl-C stops the capture, reads what it already holds and prints "
        "the summary (a second Ctrl-C: at once).")] = None,
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
    file = source_label(files) if files else None
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
            predicates.append(_mn_predicate(mn, files))
        if node:
            predicates.append(_node_predicate(node, files))
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
        source = open_capture_source(files) if files else open_source(
            None, interface=interface, bpf=capture_filter, count=count, duration=duration)
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
        with _drain_on_interrupt(source) if interface is not None else contextlib.nullcontext():
            if summary_only and not everything:  # only counts: compiled where built
                count_frames(progress(source, source), tally)
            else:
                for packet in scan(progress(source, source), tally, everything=everything,
                                   lite=summary_only):
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
        quiet_broken_pipe()
        raise typer.Exit(0) from None
    finally:
        source.close()

    problem = getattr(source, "problem", None)
    problem_text = str(problem) if problem is not None else None
    dropped = getattr(source, "dropped", None) if interface is not None else None
    if predicates and listing and prev_ts is None and not interrupted:
        used = " ".join(f"{k} {v}" for k, v in (
            ("--mn", mn), ("--node", node), ("--type", ",".join(msg_type or []) or None),
            ("--status", status), ("--frames", frames), ("--from", time_from),
            ("--to", time_to)) if v)
        err.print(f"pmipview: no frame matches {used} (of {tally.decoded} signaling "
                  f"frames)", style="yellow", markup=False)
    if as_json:
        if summary_only:
            print(json.dumps({"summary": summary.summary_dict(tally, problem_text, dropped)}))
    elif summary_only or not no_summary:
        if listing:
            out.print()
        out.print(summary.summary_table(tally, problem_text, dropped))
    if problem_text:
        raise fail(f"{file}: reading stopped early: {problem_text}", 1)
    if interrupted and interface is None:
        raise typer.Exit(130)


def _mn_predicate(mn: str, files: list[str] | None):
    """``--mn``: the frames that name the MN, and in a file also every frame the timeline
    attributes to it (its DHCP, the BRI/BRA about it), found by correlating first."""
    names = by_mn(mn)
    if not files or STDIN in files:  # live, or a stream that cannot be read twice
        return names
    from pmipview.filters import is_match_mn

    report, _, _ = load_report(files, None)
    mine: set[int] = set()
    for m in report.complete([m for m in report.mobile_nodes if is_match_mn(m, mn)]):
        for part in (*m.attachments, *m.transactions, *m.handoffs, *m.diagnostics):
            mine.update(part.frames)
        for ex in m.dhcp:
            mine.update(msg["frame"] for msg in ex.messages)
    return lambda p: p.frame_no in mine or names(p)


def _node_predicate(node: str, files: list[str] | None):
    """``--node``: an address or a node name; in a file every address of that node (an
    LMA with IPv4 and IPv6 addresses) matches."""
    from ipaddress import ip_address

    addresses = {node.strip()}
    if files and STDIN not in files:
        report, _, _ = load_report(files, None)
        for n in report.nodes:
            if node.strip() in (n.name, *n.addresses):
                addresses.update(n.addresses)
    try:
        wanted = {ip_address(a) for a in addresses if _is_address(a)}
    except ValueError:  # pragma: no cover - filtered by _is_address
        wanted = set()
    if not wanted:
        by_node(node)  # raises the one-line UsageError for a bad value
    return lambda p: p.frame.src in wanted or p.frame.dst in wanted


def _is_address(text: str) -> bool:
    from ipaddress import ip_address

    try:
        ip_address(text)
    except ValueError:
        return False
    return True


@contextlib.contextmanager
def _drain_on_interrupt(source: object) -> Iterator[None]:
    """While capturing: the first Ctrl-C stops the capture and the frames it already
    holds are still read and counted (dumpcap's file is drained); a second one stops now."""
    stop = getattr(source, "stop", None)
    if stop is None or not hasattr(signal, "SIGINT"):
        yield
        return

    def first(signum: int, frame: object) -> None:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        err.print("stopping: reading what was captured (Ctrl-C again to stop now)",
                  style="dim")
        stop()

    try:
        previous = signal.signal(signal.SIGINT, first)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


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
