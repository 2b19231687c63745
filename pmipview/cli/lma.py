"""``pmipview lma``: the reference LMA core on real sockets."""

from __future__ import annotations

import signal
import sys
import time
from typing import Annotated

import typer

from pmipview.cli.common import err, fail, out

TRANSPORTS = ("auto", "udp4", "ipv6")


def lma(
    listen: Annotated[list[str] | None, typer.Option(
        "--listen", "-l", help="Local address to serve (repeat for several): an IPv4 "
        "address listens on UDP 5436 (RFC 5844 §4), an IPv6 one on a raw Mobility Header "
        "socket (root or CAP_NET_RAW). 0.0.0.0 and :: serve every address.",
        show_default="127.0.0.1")] = None,
    transport: Annotated[str, typer.Option(
        "--transport", "-t", help="auto (by address family), udp4 or ipv6.")] = "auto",
    port: Annotated[int, typer.Option(
        "--port", help="UDP port of the IPv4 transport (0: any free port, printed at "
        "start).")] = 5436,
    config: Annotated[str | None, typer.Option(
        "--config", "-c", help="lma.toml: profiles per NAI, pools, router, lifetimes, "
        "ordering, revocation, heartbeat (keys in docs/lma.md). SIGHUP re-reads its "
        "profiles.", show_default=False)] = None,
    pool: Annotated[str | None, typer.Option(
        "--pool", help="IPv4 HoA prefix, e.g. 10.200.0.0/16: its first host is the default "
        "router, the rest is handed out (overrides the config's pool).",
        show_default="10.200.0.0/16")] = None,
    log: Annotated[str | None, typer.Option(
        "--log", help="Write one JSON line per transaction (PBU/PBA, BRI/BRA, heartbeat) "
        "with RTT and status names.", show_default=False)] = None,
    pcap: Annotated[str | None, typer.Option(
        "--pcap", help="Write the LMA's own traffic as pcapng (pmipview timeline reads it).",
        show_default=False)] = None,
    duration: Annotated[float | None, typer.Option(
        "--duration", help="Stop after this many seconds (default: until Ctrl-C or "
        "SIGTERM).", show_default=False)] = None,
    events: Annotated[bool, typer.Option(
        "--events", help="Print every event of the core (registered, handoff, "
        "rejected...) as a line.")] = False,
    live: Annotated[bool | None, typer.Option(
        "--live/--no-live", help="The live binding-cache table (default: when stdout is "
        "a terminal).", show_default=False)] = None,
    shed_after: Annotated[float | None, typer.Option(
        "--shed-after", help="Under overload, drop (and count) PBUs that waited longer "
        "than this many seconds in the socket buffer: their MAG has retransmitted them "
        "by then. 0 answers every PBU however late.",
        show_default="the reference MAG's first retransmission wait, 1 s")] = None,
) -> None:
    """Run the reference LMA (RFC 5213 + RFC 5844) on real sockets.

    With no config it accepts any NAI, gives IPv4 HoAs from 10.200.0.0/16 (or --pool)
    and IPv6 prefixes only when the config names an hnp_pool.  While it runs, a terminal
    shows the binding cache; --log and --pcap record what it did.  SIGHUP re-reads the
    profiles of --config without dropping bindings; Ctrl-C or SIGTERM exits with a summary.

    Examples:

        pmipview lma --listen 127.0.0.1

        pmipview lma --listen 192.0.2.1 --pool 10.10.0.0/16 --log lma.jsonl --pcap lma.pcapng

        sudo pmipview lma --listen 2001:db8::1 --listen 192.0.2.1 --config lma.toml
    """
    from pmipview.agents.config import ConfigError, default_lma_config, load_lma_config
    from pmipview.agents.lma import LMA
    from pmipview.wire.transport import TransportError, open_signaling

    if transport not in TRANSPORTS:
        raise fail(f"--transport: {transport!r} is not one of {', '.join(TRANSPORTS)}", 2)
    if not 0 <= port < 65536:
        raise fail(f"--port: {port} is not a UDP port", 2)
    if duration is not None and duration <= 0:
        raise fail(f"--duration: must be positive, got {duration}", 2)
    if shed_after is None:
        from pmipview.agents.mag import RETRANSMIT_WAITS

        shed_after = RETRANSMIT_WAITS[0]
    if not shed_after >= 0:
        raise fail(f"--shed-after: must be 0 or more seconds, got {shed_after}", 2)
    try:
        cfg = load_lma_config(config, pool) if config else default_lma_config(pool)
    except ConfigError as exc:
        raise fail(str(exc), 2) from None
    cfg.clock_offset = time.time() - time.monotonic()
    addresses = listen or ["127.0.0.1"]
    opened = []
    try:
        for address in addresses:
            kind = transport if transport != "auto" else ("ipv6" if ":" in address else "udp4")
            opened.append(open_signaling(kind, address, port))
    except TransportError as exc:
        for t in opened:
            t.close()
        raise fail(str(exc), 1) from None
    core = LMA(cfg)
    _serve(core, opened, config, pool, log, pcap, duration, events,
           sys.stdout.isatty() if live is None else live, shed_after or None)


def _give_back_freed_tables() -> None:
    """glibc: blocks of 128 KiB and more (the tables of 100,000 bindings, several MB
    each) mmapped and returned to the kernel when freed.  By default glibc raises that
    threshold to the size of the largest block freed, so every table rebuilt or resized
    under churn (pmipview.agents.churn) left its old block in the heap: the LMA's RSS
    stepped 145 -> 159 MB in a 100 s ``pmipview load`` run with its live data flat
    (docs/performance.md).  Elsewhere (another libc, no ctypes) nothing changes."""
    try:
        import ctypes

        ctypes.CDLL(None).mallopt(_M_MMAP_THRESHOLD, 128 * 1024)
    except (ImportError, OSError, AttributeError):
        pass


_M_MMAP_THRESHOLD = -3  # <malloc.h>


def _serve(core, transports, config, pool, log, pcap, duration, show_events, live,
           shed_after) -> None:
    import resource

    _give_back_freed_tables()

    from pmipview.render.bindings import live_view, summary_lines
    from pmipview.render.safe import safe_text
    from pmipview.wire.outputs import NodeOutputs
    from pmipview.wire.runtime import Runtime

    try:
        outputs = NodeOutputs(log, pcap, "lma")
    except OSError as exc:
        for t in transports:
            t.close()
        raise fail(f"cannot write {exc.filename}: {exc.strerror}", 1) from None
    observers = outputs.observers

    class _Printer:
        def on_event(self, now: float, event) -> None:
            out.print(safe_text(f"{now - started:9.3f}  {event}"), markup=False)

    if show_events:
        observers.append(_Printer())
    # the refresh fast path answers from bytes: only when nothing logs single messages
    rt = Runtime(core, transports, observers=observers, shed_after=shed_after,
                 fast_path=not (log or pcap or show_events))
    where = ", ".join(t.name for t in transports)
    started = rt.clock()

    def reload(_sig: int) -> None:
        from pmipview.agents.config import ConfigError, load_lma_config

        if not config:
            err.print("pmipview lma: SIGHUP: no --config to reload", markup=False)
            return
        try:
            new = load_lma_config(config, pool)
        except ConfigError as exc:
            err.print(f"pmipview lma: SIGHUP: kept the old profiles: {exc}", markup=False,
                      style="yellow")
            return
        core.reload(new.profiles, new.default_profile)
        err.print(f"pmipview lma: reloaded {len(new.profiles)} profiles from {config} "
                  f"({len(core)} bindings kept)", markup=False)

    rt.on_signal(signal.SIGHUP, reload)
    rt.on_signal(signal.SIGTERM, lambda _s: rt.stop())
    rt.on_signal(signal.SIGINT, lambda _s: rt.stop())
    cfg = core.config
    err.print(f"pmipview lma: listening on {where}; HoA pool {cfg.pool.describe()}, "
              f"router {cfg.default_router}", markup=False)
    before = resource.getrusage(resource.RUSAGE_SELF)
    try:
        if live:
            from rich.live import Live

            with Live(console=out, auto_refresh=False, transient=False) as view:
                class _Table:
                    def on_tick(self, now: float) -> None:
                        view.update(live_view(core.bindings(), rt.counters, started, now,
                                              where, core.revoking()), refresh=True)
                table = _Table()
                table.on_tick(rt.clock())  # drawn at once, on every tick, and as it ends
                rt.add_observer(table)
                try:
                    rt.run(duration=duration)
                finally:
                    table.on_tick(rt.clock())
        else:
            rt.run(duration=duration)
    finally:
        outputs.close(rt.clock())
        rt.close()
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    for line in summary_lines(rt.counters, len(core), started, rt.clock()):
        out.print(line, markup=False)
    got = rt.counters.received + rt.counters.shed
    per = f", {cpu / got * 1e6:.1f} µs per datagram" if got else ""
    out.print(f"CPU {cpu:.2f} s (user + system, start-up excluded){per}; peak RSS "
              f"{after.ru_maxrss / 1024:.0f} MB", markup=False)
