"""``pmipview mag``: the reference MAG on real interfaces (backhaul + access)."""

from __future__ import annotations

import signal
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer

from pmipview.cli.common import err, fail, out


def _left(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{max(seconds, 0):.0f} s" if seconds < 120 else f"{seconds // 60:.0f} min"


class Ticker:
    """An observer that runs ``fn(now)`` on every runtime tick."""

    def __init__(self, fn: Any) -> None:
        self.on_tick = fn


def binding_list(core: Any, now: float, head: str) -> Any:
    """The live view: the MAG's Binding Update List, one row per MN."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from pmipview.render.safe import safe_text

    rows = core.bindings()
    table = Table(title=f"binding update list: {len(rows)} MN(s)", title_justify="left",
                  header_style="bold")
    for col in ("MAC", "NAI", "iface", "state", "HoA", "router", "left", "DHCP"):
        table.add_column(col, overflow="fold")
    for b in rows[:40]:
        hoa = f"{b.ipv4_hoa}/{b.ipv4_prefix_len}" if b.ipv4_hoa is not None else "-"
        left = None if b.expiry is None else b.expiry - now
        cells = (b.mac, safe_text(b.nai), safe_text(b.iface), b.state, hoa,
                 str(b.default_router or "-"), _left(left), b.dhcp_state)
        table.add_row(*(Text(c) for c in cells))  # a NAI is never parsed as rich markup
    return Group(Text(head, style="bold"), table)


def mag(
    lma: Annotated[str | None, typer.Option(
        "--lma", help="The LMA's address (IPv4 → UDP 5436, IPv6 → Mobility Header).",
        show_default=False)] = None,
    listen: Annotated[str | None, typer.Option(
        "--listen", help="This MAG's backhaul address: the (IPv4-)Proxy-CoA PBUs come from.",
        show_default=False)] = None,
    access: Annotated[str | None, typer.Option(
        "--access", help="The access interface the MNs attach to (e.g. wlan0, veth1).",
        show_default=False)] = None,
    dhcp: Annotated[str | None, typer.Option(
        "--dhcp", help="server: the MAG answers DHCP itself from the PBA (no pool); relay: "
        "it relays to --dhcp-server with giaddr and option 82 after the PBA (RFC 5844).",
        show_default=False)] = None,
    dhcp_server: Annotated[str | None, typer.Option(
        "--dhcp-server", help="The DHCP server (relay mode).", show_default=False)] = None,
    relay_address: Annotated[str | None, typer.Option(
        "--relay-address", help="The giaddr (relay mode; default: --listen). The server "
        "answers to it on port 67.", show_default=False)] = None,
    config: Annotated[Path | None, typer.Option(
        "--config", help="mag.toml (keys in docs/mag.md); options given here win.",
        show_default=False)] = None,
    transport: Annotated[str | None, typer.Option(
        "--transport", help="udp4 or ipv6 (default: from the LMA's address).",
        show_default=False)] = None,
    log: Annotated[str | None, typer.Option(
        "--log", help="Write one JSON line per transaction (PBU/PBA, BRI/BRA, heartbeat) "
        "with RTT and status names (the schema of pmipview lma --log).",
        show_default=False)] = None,
    pcap: Annotated[str | None, typer.Option(
        "--pcap", help="Write the MAG's own traffic (backhaul and access DHCP) as pcapng; "
        "pmipview timeline reads it.", show_default=False)] = None,
    duration: Annotated[float | None, typer.Option(
        "--duration", help="Stop after SECONDS (default: until SIGTERM or Ctrl-C).",
        show_default=False)] = None,
    events: Annotated[bool, typer.Option(
        "--events", help="Print every event of the core (registered, offer, ack, relayed, "
        "refreshed, deregistered, link-lost...) as a line.")] = False,
    live: Annotated[bool | None, typer.Option(
        "--live/--no-live", help="The live binding-update-list table (default: when "
        "stdout is a terminal).", show_default=False)] = None,
) -> None:
    """Run the reference MAG: detect MNs by their DHCP, register them with the LMA, serve
    or relay their DHCP, refresh, and de-register on RELEASE or link loss.

    An MN is identified by its MAC; its NAI comes from the config's [nai] table, else
    `<mac without colons>@<realm>`.  The access side uses a raw packet socket (clients
    have no address yet) and answers ARP for the MNs' default router, so it needs root or
    CAP_NET_RAW.  Every MAG of a domain should give its access interface the same MAC
    (RFC 5213 §6.8) so that an MN's ARP cache stays valid across a handoff.

    A terminal shows the Binding Update List live; --events prints each event of the core
    (registered, offer, ack, relayed, refreshed, deregistered...), --log and --pcap record
    what it did.  SIGTERM or Ctrl-C stops it with a summary.

    Examples:

        pmipview mag --lma 192.0.2.1 --listen 192.0.2.11 --access veth1 --dhcp server

        pmipview mag --lma 192.0.2.1 --listen 192.0.2.11 --access veth1 \\
            --dhcp relay --dhcp-server 192.0.2.1

        pmipview mag --config mag.toml --log mag.jsonl --pcap mag.pcapng --events
    """
    from pmipview.agents.mag import MAG
    from pmipview.agents.mag_config import ConfigError, load_setup
    from pmipview.wire.access import AccessTransport, RelayTransport
    from pmipview.wire.transport import TransportError, open_signaling

    overrides = {"lma": lma, "listen": listen, "access": access, "dhcp_mode": dhcp,
                 "dhcp_server": dhcp_server, "relay_address": relay_address,
                 "transport": transport}
    try:
        setup = load_setup(config, overrides)
    except ConfigError as exc:
        raise fail(str(exc), 2) from None
    cfg = setup.config
    if cfg.epoch == 0.0:  # the PBU Timestamp is Unix time (RFC 5213 §8.8)
        cfg = replace(cfg, epoch=time.time() - time.monotonic())
    local = cfg.ipv4 if setup.transport == "udp4" else cfg.ipv6
    opened: list[Any] = []
    try:
        mac = _access_mac(setup.access)
        if setup.mac is not None and setup.mac != mac:
            raise TransportError(f"mac: the access interface {setup.access} has {mac}, not "
                                 f"{setup.mac} (ip link set {setup.access} address "
                                 f"{setup.mac})")
        signaling = open_signaling(setup.transport, str(local))
        opened.append(signaling)
        core = MAG(replace(cfg, mac=mac))
        known: set = set()
        acc = AccessTransport(setup.access, routers=lambda: _routers(core, known))
        opened.append(acc)
        relay = RelayTransport(cfg.relay_address) if cfg.dhcp_mode == "relay" \
            and cfg.relay_address is not None else None
        if relay is not None:
            opened.append(relay)
    except TransportError as exc:
        for t in opened:
            t.close()
        raise fail(str(exc), 1) from None
    # the relay leg first: the signaling transport also accepts IPv4 backhaul packets
    transports = [t for t in (relay, acc, signaling) if t is not None]
    _serve(core, transports, acc, setup, log, pcap, duration, events,
           sys.stdout.isatty() if live is None else live)


def _serve(core: Any, transports: list[Any], acc: Any, setup: Any, log: str | None,
           pcap: str | None, duration: float | None, show_events: bool, live: bool) -> None:
    from pmipview.render.safe import safe_text
    from pmipview.wire.access import LinkWatcher
    from pmipview.wire.outputs import NodeOutputs
    from pmipview.wire.runtime import Runtime

    cfg = core.config
    try:
        outputs = NodeOutputs(log, pcap, cfg.name)
    except OSError as exc:
        for t in transports:
            t.close()
        raise fail(f"cannot write {exc.filename}: {exc.strerror}", 1) from None
    observers = outputs.observers

    def line(now: float, text: object) -> None:
        out.print(safe_text(f"{now - started:9.3f}  {text}"), markup=False, highlight=False)

    class _Printer:
        def on_event(self, now: float, event: Any) -> None:
            line(now, event)

    if show_events:
        observers.append(_Printer())
    runtime = Runtime(core, transports, observers=observers)
    started = runtime.clock()

    def link_change(iface: str, up: bool) -> None:
        if show_events:
            line(runtime.clock(), f"link-{'up' if up else 'lost'} {iface}")
        if up:
            return
        for b in core.bindings():
            if b.iface == iface and b.state != "deregistering":
                runtime.call(lambda now, mac=b.mac: core.link_down(now, mac))

    watcher = LinkWatcher([setup.access], link_change, hold=setup.link_down_hold)
    fd = watcher.fileno()
    if fd is not None:
        runtime.add_reader(fd, lambda: watcher.on_readable(runtime.clock()))
    runtime.add_observer(Ticker(watcher.poll))
    for sig in (signal.SIGTERM, signal.SIGINT):
        runtime.on_signal(sig, lambda _s: runtime.stop())
    where = ", ".join(t.name for t in transports)
    err.print(f"pmipview mag ({cfg.name}): LMA {cfg.lma}, DHCP {cfg.dhcp_mode}, on {where}",
              markup=False, highlight=False)
    try:
        if live:
            from rich.live import Live

            head = f"pmipview mag {cfg.name} on {where}  (Ctrl-C to stop)"
            with Live(console=out, auto_refresh=False, transient=False) as view:
                def draw(now: float) -> None:
                    view.update(binding_list(core, now, head), refresh=True)

                draw(runtime.clock())  # drawn at once, on every tick, and as it ends
                runtime.add_observer(Ticker(draw))
                try:
                    runtime.run(duration=duration, tick=0.25)
                finally:
                    draw(runtime.clock())
        else:
            runtime.run(duration=duration, tick=0.25)
    finally:
        watcher.close()
        outputs.close(runtime.clock())
        runtime.close()
    _summary(runtime, core, acc, runtime.clock() - started)


def _access_mac(iface: str) -> str:
    from pmipview.wire.access import interface_mac
    return interface_mac(iface)


def _routers(core: Any, known: set) -> set:
    """The addresses to answer ARP for: every default router a PBA gave (remembered, so
    an MN that comes back before its new PBA still finds its router) and the server id."""
    known.update(b.default_router for b in core.bindings() if b.default_router is not None)
    if core.config.dhcp_server_id is not None:
        known.add(core.config.dhcp_server_id)
    return known


def _summary(runtime: Any, core: Any, acc: Any, elapsed: float) -> None:
    c = runtime.counters
    events: Counter[str] = c.events
    bound = sum(1 for b in core.bindings() if b.state == "registered")
    parts = [f"ran {elapsed:.1f} s", f"{c.received} datagrams in", f"{c.sent} out",
             f"{acc.counters.arp_replies} ARP replies",
             f"{acc.counters.arp_announcements} router announcements",
             f"{bound} MN(s) still registered"]
    parts += [f"{n} {k}" for k, n in sorted(events.items()) if k in (
        "registered", "refreshed", "deregistered", "rejected", "gave-up", "revoked",
        "ack", "nak", "relayed")]
    if c.undecodable:
        parts.append(f"{sum(c.undecodable.values())} undecodable")
    if c.send_errors or c.unroutable or c.core_errors:
        parts.append(f"{c.send_errors} send errors, {c.unroutable} unroutable, "
                     f"{c.core_errors} core errors")
    out.print("pmipview mag: " + ", ".join(parts), markup=False, highlight=False)
