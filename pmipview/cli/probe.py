"""``pmipview probe``: conformance checks of a real LMA (RFC 5213, RFC 5844)."""

from __future__ import annotations

import datetime as dt
import socket
from ipaddress import IPv4Address, IPv6Address, ip_address
from typing import Annotated

import typer

from pmipview.cli.common import err, fail, out

TRANSPORTS = ("auto", "udp4", "ipv6")


def probe(
    target: Annotated[str | None, typer.Argument(
        help="The LMA's address (IPv4 for udp4, IPv6 for ipv6).", show_default=False)] = None,
    transport: Annotated[str, typer.Option(
        "--transport", "-t", help="udp4 (IPv4/UDP 5436, RFC 5844 §4) or ipv6 (raw Mobility "
        "Header, root or CAP_NET_RAW); auto picks it from TARGET.")] = "auto",
    port: Annotated[int, typer.Option("--port", help="The LMA's UDP port (udp4).")] = 5436,
    profile: Annotated[str | None, typer.Option(
        "--profile", help="TOML: what the gateway is configured with (allowed and refused "
        "NAIs, pool, router, timestamps...; keys in docs/probe.md).", show_default=False)
    ] = None,
    only: Annotated[list[str] | None, typer.Option(
        "--only", help="Run only these checks (repeat, or comma-separated: "
        "--only LMA-01,LMA-13).", show_default=False)] = None,
    list_: Annotated[bool, typer.Option("--list", help="Show the catalog and exit.")] = False,
    json_file: Annotated[str | None, typer.Option(
        "--json", help="Write the verdicts as JSON.", show_default=False)] = None,
    junit: Annotated[str | None, typer.Option(
        "--junit", help="Write JUnit XML (Jenkins, GitLab).", show_default=False)] = None,
    pcap: Annotated[str | None, typer.Option(
        "--pcap", help="Write the probe's traffic as pcapng, each frame commented with its "
        "check.", show_default=False)] = None,
    mag_addresses: Annotated[str | None, typer.Option(
        "--mag-addresses", help="Local addresses the probe's MAGs send from, comma-"
        "separated (two are needed for the handoff checks). Default: 127.0.0.2,127.0.0.3 "
        "for a loopback target, ::1 over IPv6 loopback, else the address routed to TARGET.",
        show_default=False)] = None,
    timeout: Annotated[float, typer.Option(
        "--timeout", help="Initial retransmission timeout, seconds (InitialBindackTimeout"
        "FirstReg, doubled after each try).")] = 1.0,
    tries: Annotated[int, typer.Option(
        "--tries", help="Transmissions of a request before ERROR.")] = 3,
    silence: Annotated[float, typer.Option(
        "--silence", help="Seconds without an answer that count as 'ignored' (and the wait "
        "for a revocation).")] = 1.5,
    mag: Annotated[bool, typer.Option(
        "--mag", help="Probe a MAG instead: TARGET is the MAG's IPv4 address; the probe "
        "plays its LMA on --listen and drives a DHCP client (udhcpc) on the access link "
        "(--mn-netns, --mn-iface).")] = False,
    listen: Annotated[str | None, typer.Option(
        "--listen", help="With --mag: the LMA address the MAG sends to (UDP 5436).",
        show_default=False)] = None,
    mn_netns: Annotated[str | None, typer.Option(
        "--mn-netns", help="With --mag: the network namespace of the MN's interface.",
        show_default=False)] = None,
    mn_iface: Annotated[str, typer.Option(
        "--mn-iface", help="With --mag: the MN's interface on the MAG's access link.")
    ] = "eth0",
    wait: Annotated[float, typer.Option(
        "--wait", help="With --mag: seconds the MN and the MAG get for each step.")] = 10.0,
    dhcp: Annotated[str, typer.Option(
        "--dhcp", help="With --mag: the MAG's DHCP role, server or relay (then the probe "
        "listens on UDP 67 of --listen for what it relays).")] = "server",
) -> None:
    """Check an LMA against the MUSTs of RFC 5213 §5 and RFC 5844 §3.1/§4.

    The probe plays one or more MAGs. Each check ends PASS, FAIL (expected vs observed,
    with frame numbers of --pcap), SKIP (with the reason) or ERROR (no answer after the
    retransmissions). The exit code is 1 when any check FAILed or ERRORed, 2 for a usage
    error.

    Examples:

        pmipview probe 127.0.0.1 --transport udp4

        pmipview probe 192.0.2.1 --profile gw.toml --junit probe.xml --pcap probe.pcapng

        pmipview probe --list
    """
    from pmipview.probe.catalog import CATALOG, select
    from pmipview.probe.driver import ERROR, FAIL, Timing
    from pmipview.probe.profile import ProbeProfile, ProfileError, load_profile

    if mag:
        _mag_probe(target, listen, mn_netns, mn_iface, wait, only, list_, json_file, junit,
                   pcap, timeout, tries, silence, dhcp)
        return
    if list_:
        _list(CATALOG)
        return
    try:
        cases = select(only)
    except ValueError as exc:
        raise fail(f"--only: {exc}", 2) from None
    if target is None:
        raise fail("TARGET is missing (the LMA's address), or use --list", 2)
    addr, kind = _target(target, transport)
    if not 0 < port < 65536:
        raise fail(f"--port: {port} is not a UDP port", 2)
    if timeout <= 0 or silence <= 0 or tries < 1:
        raise fail("--timeout and --silence must be positive, --tries at least 1", 2)
    mags = _mags(mag_addresses, addr, kind)
    try:
        prof = load_profile(profile) if profile else ProbeProfile()
    except ProfileError as exc:
        raise fail(str(exc), 2) from None
    timing = Timing(timeout, tries, silence)
    results, interrupted = _run(addr, mags, prof, cases, port, timing, pcap)
    title = f"pmipview probe {target} ({kind}, MAGs {', '.join(map(str, mags))})"
    _reports(results, title, target, kind, mags, prof, json_file, junit)
    if interrupted:
        raise fail(f"interrupted: {len(results)} of {len(cases)} checks ran", 1)
    if any(r.status in (FAIL, ERROR) for r in results):
        raise typer.Exit(1)


def _mag_probe(target, listen, netns, iface, wait, only, list_, json_file, junit, pcap,
               timeout, tries, silence, dhcp) -> None:
    from pmipview.probe.driver import ERROR, FAIL, Timing
    from pmipview.probe.mag_checks import MAG_CATALOG, build_mag_driver, select_mag
    from pmipview.probe.mn import DhcpClientMn, MnError
    from pmipview.probe.runner import close, run
    from pmipview.wire.access import RelayTransport
    from pmipview.wire.capture import CaptureWriter
    from pmipview.wire.transport import TransportError, Udp4Transport

    if list_:
        _list(MAG_CATALOG, "MAG")
        return
    try:
        cases = select_mag(only)
    except ValueError as exc:
        raise fail(f"--only: {exc}", 2) from None
    if target is None or listen is None:
        raise fail("--mag needs TARGET (the MAG's address) and --listen (the LMA's)", 2)
    addr, kind = _target(target, "udp4")
    lma_addr, _ = _target(listen, "udp4")
    if wait <= 0 or timeout <= 0 or silence <= 0 or tries < 1:
        raise fail("--wait, --timeout and --silence must be positive, --tries at least 1", 2)
    if dhcp not in ("server", "relay"):
        raise fail(f"--dhcp: {dhcp!r} is not server or relay", 2)
    try:
        mn = DhcpClientMn(netns, iface)
    except MnError as exc:
        raise fail(str(exc), 1) from None
    socks: dict = {}
    try:
        socks["mag0"] = Udp4Transport(lma_addr)
        if dhcp == "relay":
            # what the MAG relays to its DHCP server: UDP 67 on the probe's LMA address
            socks["mag0-dhcp"] = RelayTransport(lma_addr, iface="mag0-dhcp")
    except TransportError as exc:
        mn.close()
        close(socks)
        raise fail(str(exc), 1) from None
    driver = build_mag_driver(addr, cases, timing=Timing(timeout, tries, silence), wait=wait,
                              relay=dhcp == "relay")
    cap = CaptureWriter(open(pcap, "wb"), "probe") if pcap else None  # noqa: SIM115
    err.print(f"pmipview probe --mag: {len(cases)} checks of {addr}, as its LMA on "
              f"{lma_addr}, MN on {iface}" + (f" in {netns}" if netns else ""), markup=False)
    interrupted = False
    try:
        run(driver, socks, cap, mn=mn)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        mn.close()
        close(socks)
        if cap is not None:
            cap.close()
    results = driver.results
    _reports(results, f"pmipview probe --mag {target} (LMA {listen})", target, kind,
             [lma_addr], _no_profile(), json_file, junit)
    if interrupted:
        raise fail(f"interrupted: {len(results)} of {len(cases)} checks ran", 1)
    if any(r.status in (FAIL, ERROR) for r in results):
        raise typer.Exit(1)


def _no_profile():
    from pmipview.probe.profile import ProbeProfile

    return ProbeProfile()


def _list(catalog, what: str = "LMA") -> None:
    from rich.table import Table

    t = Table(title=f"pmipview probe: the {what} catalog")
    for col in ("ID", "RFC", "check", "sends", "passes"):
        t.add_column(col, overflow="fold")
    for c in catalog:
        t.add_row(c.id, c.section, c.name, c.sends, c.passes)
    out.print(t)


def _target(text: str, transport: str) -> tuple[IPv4Address | IPv6Address, str]:
    if transport not in TRANSPORTS:
        raise fail(f"--transport: {transport!r} is not one of {', '.join(TRANSPORTS)}", 2)
    try:
        addr = ip_address(text)
    except ValueError:
        raise fail(f"TARGET: {text!r} is not an IP address", 2) from None
    kind = transport if transport != "auto" else f"{'udp4' if addr.version == 4 else 'ipv6'}"
    if (kind == "udp4") != (addr.version == 4):
        raise fail(f"--transport {kind} needs an IPv{4 if kind == 'udp4' else 6} TARGET, "
                   f"got {text}", 2)
    return addr, kind


def _mags(text: str | None, target, kind: str) -> list:
    if text:
        mags = []
        for item in text.split(","):
            try:
                a = ip_address(item.strip())
            except ValueError:
                raise fail(f"--mag-addresses: {item.strip()!r} is not an IP address", 2) from None
            if a.version != target.version:
                raise fail(f"--mag-addresses: {a} is not IPv{target.version} like TARGET", 2)
            if a in mags:
                raise fail(f"--mag-addresses: {a} given twice", 2)
            mags.append(a)
        return mags
    if target.is_loopback:
        return [IPv4Address("127.0.0.2"), IPv4Address("127.0.0.3")] if kind == "udp4" \
            else [IPv6Address("::1")]
    family = socket.AF_INET if target.version == 4 else socket.AF_INET6
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as s:
            s.connect((str(target), 5436))
            return [ip_address(s.getsockname()[0].split("%")[0])]
    except OSError as exc:
        raise fail(f"no route to {target}: {exc.strerror}; give --mag-addresses", 1) from None


def _run(addr, mags, prof, cases, port, timing, pcap):
    from pmipview.probe import build_driver
    from pmipview.probe.runner import close, extra_names, open_sockets, run
    from pmipview.wire.capture import CaptureWriter
    from pmipview.wire.transport import TransportError

    try:
        socks = open_sockets(mags)
    except TransportError as exc:
        raise fail(str(exc), 1) from None
    driver = build_driver(addr, mags, prof, cases, port=port, timing=timing,
                          sockets=extra_names(socks))
    cap = None
    interrupted = False
    try:
        if pcap:
            try:
                cap = CaptureWriter(open(pcap, "wb"), "probe")  # noqa: SIM115 - closed below
            except OSError as exc:
                raise fail(f"cannot write {pcap}: {exc.strerror}", 1) from None
        err.print(f"pmipview probe: {len(cases)} checks against {addr} from "
                  f"{', '.join(map(str, mags))}", markup=False)
        run(driver, socks, cap)
    except KeyboardInterrupt:  # report what finished
        interrupted = True
    finally:
        close(socks)
        if cap is not None:
            cap.close()
    return driver.results, interrupted


def _reports(results, title, target, kind, mags, prof, json_file, junit) -> None:
    from pmipview.probe.report import as_json, as_junit, summary_line, table

    out.print(table(results, title))
    out.print(summary_line(results), markup=False)
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    meta = {"target": target, "transport": kind, "mags": [str(m) for m in mags],
            "profile": prof.source, "time": stamp}
    try:
        if json_file:
            with open(json_file, "w") as fh:
                fh.write(as_json(results, meta))
        if junit:
            with open(junit, "wb") as fh:
                fh.write(as_junit(results, f"pmipview probe {target} ({kind})", stamp))
    except OSError as exc:
        raise fail(f"cannot write {exc.filename}: {exc.strerror}", 1) from None
