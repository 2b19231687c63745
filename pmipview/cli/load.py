"""``pmipview load``: SIPp-style load and latency testing of an LMA (docs/load.md)."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from pmipview.cli.common import err, fail, out


def _writable(path: str, option: str, exts: tuple[str, ...] | None = None) -> None:
    if exts is not None and os.path.splitext(path)[1].lower() not in exts:
        raise fail(f"{option} {path}: name it {' or '.join(exts)}", 2)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise fail(f"{option} {path}: folder {folder} does not exist", 2)
    if not os.access(folder, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise fail(f"{option} {path}: not writable", 2)


def load(
    target: Annotated[str, typer.Argument(help="The LMA's address (IPv4 for udp4, IPv6 for "
                                          "ipv6).", show_default=False)],
    transport: Annotated[str, typer.Option("--transport", help="udp4 (RFC 5844 UDP 5436) "
                                           "or ipv6 (raw Mobility Header, needs root).")
                         ] = "udp4",
    port: Annotated[int, typer.Option("--port", help="The LMA's UDP port (udp4).")] = 5436,
    mns: Annotated[int, typer.Option("--mns", help="Mobile nodes to emulate.")] = 1000,
    rate: Annotated[float, typer.Option("--rate", help="New PBU transactions per second "
                                        "(open loop; retransmissions come on top).")] = 100.0,
    duration: Annotated[str | None, typer.Option(
        "--duration", help="Send for this long (10, 10s, 500ms, 5m).")] = None,
    transactions: Annotated[int | None, typer.Option(
        "--transactions", help="Or stop after this many new transactions.")] = None,
    mag_addresses: Annotated[str | None, typer.Option(
        "--mag-addresses", help="MAG source addresses: a CIDR or a comma list (default "
        "127.0.1.0/28 for udp4, ::1 for ipv6; 127.x.y.z needs no set-up).")] = None,
    ramp: Annotated[str | None, typer.Option(
        "--ramp", help="Ramp the rate up linearly from 0 over this long (spreads the "
        "login storm: every MN attaches first; docs/load.md).")] = None,
    max_outstanding: Annotated[int, typer.Option(
        "--max-outstanding", help="At most this many transactions waiting (0: no limit); "
        "beyond it the schedule lags, visibly.")] = 0,
    retransmit: Annotated[str, typer.Option(
        "--retransmit", help="Waits after transmission 0, 1, 2... (seconds), "
        "the MAG's RFC 5213 defaults.")] = "1,2,4,8",
    max_retransmissions: Annotated[int, typer.Option(
        "--max-retransmissions", help="Retransmissions before a timeout.")] = 3,
    drain: Annotated[str, typer.Option(
        "--drain", help="After the last PBU, wait this long for outstanding answers.")
    ] = "3s",
    lifetime: Annotated[int, typer.Option("--lifetime", help="Lifetime requested (s).")
                        ] = 600,
    refresh_at: Annotated[float, typer.Option(
        "--refresh-at", help="Refresh after this fraction of the lifetime.")] = 0.8,
    handoffs_per_hour: Annotated[float, typer.Option(
        "--handoffs-per-hour", help="Handoffs between MAG addresses per attached MN.")
    ] = 1.0,
    session_minutes: Annotated[float, typer.Option(
        "--session-minutes", help="Mean attachment length (detach, then attach again).")
    ] = 45.0,
    stats_csv: Annotated[str | None, typer.Option(
        "--stats-csv", help="Write one CSV row per interval (+ cumulative columns).")
    ] = None,
    stats_interval: Annotated[str, typer.Option(
        "--stats-interval", help="Statistics interval (1s, 500ms...).")] = "1s",
    json_file: Annotated[str | None, typer.Option(
        "--json", help="Write the summary as JSON.")] = None,
    plot_file: Annotated[str | None, typer.Option(
        "--plot", help="Draw RTT over time and its distribution (.png or .svg).")] = None,
    pcap: Annotated[str | None, typer.Option(
        "--pcap", help="Write a sample of the traffic (both directions) as pcap.")] = None,
    pcap_sample: Annotated[float, typer.Option(
        "--pcap-sample", help="Fraction of the MNs whose traffic --pcap keeps.")] = 0.01,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the traffic model.")] = 0,
    no_panel: Annotated[bool, typer.Option(
        "--no-panel", help="No live panel even on a terminal.")] = False,
) -> None:
    """Load an LMA with PBUs from emulated MNs and MAGs; live statistics, CSV, JSON, plot.

    Open-loop pacing at --rate PBU/s; the traffic model mixes attach, refresh, handoff
    and detach (docs/load.md).  On a terminal a live panel shows rates, outcomes and RTT
    percentiles; keys: + - (rate ±10%), * / (×2, ÷2), p (pause), q (stop).  Ctrl-C stops
    and prints the summary.

    Examples:

        pmipview load 127.0.0.1 --mns 10000 --rate 2000 --duration 30s --json run.json
        pmipview load 127.0.0.1 --rate 500 --transactions 10000 --stats-csv stats.csv
    """
    from pmipview.load import options
    from pmipview.load.model import TrafficModel
    from pmipview.load.wire import MAX_MNS

    try:
        if transport not in ("udp4", "ipv6"):
            raise ValueError(f"--transport: {transport!r}: use udp4 or ipv6")
        addr = options.target(target, transport)
        family = 4 if transport == "udp4" else 6
        mags = options.mag_addresses(
            mag_addresses or ("127.0.1.0/28" if family == 4 else "::1"), family)
        if duration is None and transactions is None:
            raise ValueError("give --duration S or --transactions K (or both: the first "
                             "reached stops)")
        dur = options.duration(duration, "--duration") if duration is not None else None
        ramp_s = options.duration(ramp, "--ramp") if ramp is not None else 0.0
        drain_s = options.duration(drain, "--drain") if drain not in ("0", "0s") else 0.0
        interval = options.duration(stats_interval, "--stats-interval")
        waits = options.waits(retransmit)
        model = TrafficModel(lifetime, refresh_at, handoffs_per_hour, session_minutes)
        model.check()
        if not 1 <= mns <= MAX_MNS:
            raise ValueError(f"--mns: 1..{MAX_MNS:,}, got {mns}")
        if not 0 < rate <= 10_000_000:
            raise ValueError(f"--rate: must be more than 0, got {rate}")
        if transactions is not None and transactions < 1:
            raise ValueError(f"--transactions: must be at least 1, got {transactions}")
        if max_outstanding < 0 or max_retransmissions < 0:
            raise ValueError("--max-outstanding and --max-retransmissions must be >= 0")
        if not 1 <= port <= 65535:
            raise ValueError(f"--port: 1..65535, got {port}")
        if not 0 < pcap_sample <= 1:
            raise ValueError("--pcap-sample: a fraction, 0 < F <= 1")
    except ValueError as exc:
        raise fail(str(exc), 2) from None
    for path, option, exts in ((stats_csv, "--stats-csv", None), (json_file, "--json", None),
                               (plot_file, "--plot", (".png", ".svg")),
                               (pcap, "--pcap", (".pcap",))):
        if path:
            _writable(path, option, exts)

    from pmipview.load.core import LoadConfig, LoadCore
    from pmipview.load.driver import Driver, PcapSample
    from pmipview.load.report import CsvRows, plot, summary, summary_table, write_json
    from pmipview.wire.transport import MhTransport, TransportError, Udp4Transport

    cfg = LoadConfig(mns=mns, rate=rate, mags=len(mags), duration=dur,
                     transactions=transactions, ramp=ramp_s, max_outstanding=max_outstanding,
                     retransmit=waits, max_retransmissions=max_retransmissions,
                     drain=drain_s, model=model, seed=seed)
    core = LoadCore(cfg)
    socks: list = []
    try:
        for a in mags:
            socks.append(Udp4Transport(a, 0) if family == 4 else MhTransport(a))  # type: ignore[arg-type]
    except TransportError as exc:
        for s in socks:
            s.close()
        raise fail(str(exc), 1) from None
    sample = None
    if pcap:
        ports = [getattr(s, "port", None) for s in socks]
        sample = PcapSample(mags, addr, ports, port if family == 4 else None,
                            max(1, round(1 / pcap_sample)))
        core.sample = sample
        core.sample_every = sample.every
    csv_file = open(stats_csv, "w", encoding="utf-8", newline="") if stats_csv else None  # noqa: SIM115
    live = None
    try:
        on_row = CsvRows(csv_file) if csv_file is not None else None
        interactive = sys.stdout.isatty() and not no_panel
        panel_cb = None
        if interactive:
            from rich.live import Live

            from pmipview.load.panel import render

            label = f"{transport} {addr}" + (f":{port}" if family == 4 else "")
            live = Live(console=out, auto_refresh=False, transient=False)
            live.start()

            def panel_cb(now: float) -> None:
                live.update(render(core, now, label), refresh=True)

        driver = Driver(core, socks, addr, port, interval=interval, on_row=on_row,
                        panel=panel_cb, keys=interactive)
        driver.run()
        now = driver.clock()
        if live is not None:
            panel_cb(now)  # type: ignore[misc]
    finally:
        if live is not None:
            live.stop()
        if csv_file is not None:
            csv_file.close()
        for s in socks:
            s.close()
    doc = summary(core, now, interrupted=driver.interrupted,
                  extra={"target": str(addr), "transport": transport,
                         "icmp_errors": driver.refused,
                         "cpu_s": round(driver.cpu_s, 3),
                         "cpu_us_per_transaction": round(
                             driver.cpu_s / core.stats.totals.started * 1e6, 1)
                         if core.stats.totals.started else None})
    out.print(summary_table(doc))
    try:
        if json_file:
            write_json(json_file, doc)
        if plot_file:
            plot(plot_file, core)
        if pcap and sample is not None:
            from pmipview.sources.capfile import write_pcap

            n = write_pcap(pcap, sample.records)
            err.print(f"pmipview: {pcap}: {n:,} frames of {len(range(0, mns, sample.every)):,} "
                      f"sampled MNs" + (f" ({sample.dropped:,} beyond the cap not written)"
                                       if sample.dropped else ""), markup=False)
    except OSError as exc:
        raise fail(f"cannot write: {exc.strerror or exc}", 1) from None
    if driver.interrupted:
        raise typer.Exit(130)
