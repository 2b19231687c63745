"""``pmipview timeline`` and ``pmipview stats``: per-MN timelines and their figures."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from pmipview.cli.common import fail, load_report, out, pick_mns, source_label
from pmipview.cli.help import FILE_HELP, NAMES_HELP


def timeline(
    files: Annotated[list[str], typer.Argument(help=FILE_HELP, show_default=False,
                                             metavar="FILE...")],
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
    definitions: docs/timeline.md.  On a live interface: pmipview live -i IFACE.

    Examples:

        pmipview timeline samples/handover-server-mode.pcapng
        pmipview timeline big.pcapng --mn mn1@example.net
        pmipview timeline cap.pcap --json | jq '.mobile_nodes[].handoffs'
        pmipview timeline cap.pcap --csv > attachments.csv
        pmipview timeline mag1.pcapng lma.pcapng
        tcpdump -i eth0 -w - 'udp port 5436' | pmipview timeline -
    """
    file = source_label(files)
    if as_json and as_csv:
        raise fail("--json and --csv: choose one", 2)
    from pmipview.render import timeline as tl
    from pmipview.runs import write_timeline_json

    # as_json: the lane of pmipview/quick.py does the same for `timeline --json FILE`
    report, _, problem = load_report(files, names, summarise=as_json)
    mns = pick_mns(report, mn, file)
    if as_json:
        write_timeline_json(report, mns, sys.stdout.write)
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


def stats(
    files: Annotated[list[str], typer.Argument(help=FILE_HELP, show_default=False,
                                             metavar="FILE...")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document.")] = False,
    mn: Annotated[str | None, typer.Option(
        "--mn", help="Only this mobile node (NAI, MAC or IPv4 home address): its "
        "attachments, handoffs, failures and latencies; message counts are then left out "
        "(they are the capture's).")] = None,
    names: Annotated[str | None, typer.Option("--names", help=NAMES_HELP)] = None,
) -> None:
    """Counts and latency percentiles of a capture, overall and per MAG.

    Counts by message and status, MNs, attachments, handoffs, failures by kind, and
    latency percentiles (p50/p90/p99/max) of rtt, setup, address, attach, handoff and
    interruption (break-before-make handoffs).

    Examples:

        pmipview stats samples/handover-server-mode.pcapng
        pmipview stats big.pcapng --json | jq .latency_ms.rtt
        pmipview stats big.pcapng --mn mn1@example.net
    """
    file = source_label(files)
    from dataclasses import replace

    from pmipview.render import timeline as tl

    report, tally, problem = load_report(files, names)
    by_type, by_status = dict(tally.by_type), dict(tally.by_status)
    if mn:
        report = replace(report, mobile_nodes=pick_mns(report, mn, file), diagnostics=[])
        by_type, by_status = {}, {}
    d = tl.stats_dict(report, by_type, by_status)
    if as_json:
        print(json.dumps(d, indent=1))
    else:
        out.print(tl.stats_tables(d))
    if problem is not None:
        raise typer.Exit(1)
