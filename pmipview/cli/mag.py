"""``pmipview mag``: the reference MAG on real interfaces (backhaul + access)."""

from __future__ import annotations

import json
import signal
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from pmipview.cli.common import err, fail, out


def _safe(text: object) -> str:
    """One printable line: strings from the wire may hold anything."""
    s = str(text)
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in s)


class EventLines:
    """Prints each core event as one line (``seconds kind mn detail``)."""

    def __init__(self, stream: TextIO, start: float) -> None:
        self.stream = stream
        self.start = start

    def on_event(self, now: float, event: Any) -> None:
        self.stream.write(f"{now - self.start:9.3f} {_safe(event)}\n")
        self.stream.flush()


class EventLog:
    """``--log FILE``: one JSON object per core event, with the wall-clock time."""

    def __init__(self, stream: TextIO, epoch: float) -> None:
        self.stream = stream
        self.epoch = epoch

    def on_event(self, now: float, event: Any) -> None:
        record = {"ts": round(self.epoch + now, 6), "kind": event.kind, "mn": event.mn,
                  **{k: v for k, v in event.detail.items() if k != "message"}}
        self.stream.write(json.dumps(record, default=str) + "\n")
        self.stream.flush()


class Ticker:
    def __init__(self, fn: Any) -> None:
        self.on_tick = fn


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
    log: Annotated[Path | None, typer.Option(
        "--log", help="Write every event as JSON Lines to FILE.", show_default=False)] = None,
    duration: Annotated[float | None, typer.Option(
        "--duration", help="Stop after SECONDS (default: until SIGTERM or Ctrl-C).",
        show_default=False)] = None,
    quiet: Annotated[bool, typer.Option(
        "--quiet", "-q", help="No event lines; only the summary at exit.")] = False,
) -> None:
    """Run the reference MAG: detect MNs by their DHCP, register them with the LMA, serve
    or relay their DHCP, refresh, and de-register on RELEASE or link loss.

    An MN is identified by its MAC; its NAI comes from the config's [nai] table, else
    `<mac without colons>@<realm>`.  The access side uses a raw packet socket (clients
    have no address yet) and answers ARP for the MNs' default router, so it needs root or
    CAP_NET_RAW.  Every MAG of a domain should give its access interface the same MAC
    (RFC 5213 §6.8) so that an MN's ARP cache stays valid across a handoff.

    Each event (registered, offer, ack, relayed, refreshed, deregistered...) is printed as
    one line; SIGTERM or Ctrl-C stops it with a summary.

    Examples:

        pmipview mag --lma 192.0.2.1 --listen 192.0.2.11 --access veth1 --dhcp server

        pmipview mag --lma 192.0.2.1 --listen 192.0.2.11 --access veth1 --dhcp relay \\
            --dhcp-server 192.0.2.1 --config mag.toml --log mag.jsonl
    """
    from pmipview.agents.mag import MAG
    from pmipview.agents.mag_config import ConfigError, load_setup
    from pmipview.wire.access import AccessTransport, LinkWatcher, RelayTransport
    from pmipview.wire.runtime import Runtime
    from pmipview.wire.transport import TransportError, open_signaling

    overrides = {"lma": lma, "listen": listen, "access": access, "dhcp_mode": dhcp,
                 "dhcp_server": dhcp_server, "relay_address": relay_address,
                 "transport": transport}
    try:
        setup = load_setup(config, overrides)
    except ConfigError as exc:
        where = f"{config}: " if config is not None and "cannot read" not in str(exc) \
            and not str(exc).startswith(str(config)) else ""
        raise fail(f"{where}{exc}", 2) from None
    cfg = setup.config
    wall, mono = time.time(), time.monotonic()
    if cfg.epoch == 0.0:  # the PBU Timestamp is Unix time (RFC 5213 §8.8)
        cfg = replace(cfg, epoch=wall - mono)
    local = cfg.ipv4 if setup.transport == "udp4" else cfg.ipv6
    opened: list[Any] = []
    try:
        signaling = open_signaling(setup.transport, str(local))
        opened.append(signaling)
        core = MAG(replace(cfg, mac=_access_mac(setup.access)))
        acc = AccessTransport(setup.access, routers=lambda: _routers(core))
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
    runtime = Runtime(core, transports)
    start = runtime.clock()
    if not quiet:
        runtime.add_observer(EventLines(sys.stdout, start))
    log_file = None
    if log is not None:
        try:
            log_file = log.open("a", encoding="utf-8")
        except OSError as exc:
            runtime.close()
            raise fail(f"--log: cannot write {log}: {exc.strerror or exc}", 1) from None
        runtime.add_observer(EventLog(log_file, cfg.epoch))

    def link_change(iface: str, up: bool) -> None:
        if not quiet:
            state = "up" if up else "lost"
            print(f"{runtime.clock() - start:9.3f} link-{state} {iface}", flush=True)
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
    names = ", ".join(t.name for t in transports)
    err.print(f"pmipview mag {cfg.name}: LMA {cfg.lma}, DHCP {cfg.dhcp_mode}, on {names}",
              markup=False, highlight=False)
    try:
        runtime.run(duration=duration, tick=0.25)
    finally:
        watcher.close()
        runtime.close()
        if log_file is not None:
            log_file.close()
    _summary(runtime, core, acc, time.monotonic() - mono)


def _access_mac(iface: str) -> str:
    from pmipview.wire.access import interface_mac
    return interface_mac(iface)


def _routers(core: Any) -> set:
    routers = {b.default_router for b in core.bindings() if b.default_router is not None}
    if core.config.dhcp_server_id is not None:
        routers.add(core.config.dhcp_server_id)
    return routers


def _summary(runtime: Any, core: Any, acc: Any, elapsed: float) -> None:
    c = runtime.counters
    events: Counter[str] = c.events
    bound = sum(1 for b in core.bindings() if b.state == "registered")
    parts = [f"ran {elapsed:.1f} s", f"{c.received} datagrams in", f"{c.sent} out",
             f"{acc.counters.arp_replies} ARP replies",
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
