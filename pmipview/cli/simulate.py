"""``pmipview simulate``: run the reference cores of a TOML scenario on a virtual clock."""

from __future__ import annotations

from typing import Annotated

import typer

from pmipview.cli.common import err, fail, out
from pmipview.packets import Tally, scan


def simulate(
    scenario: Annotated[str, typer.Argument(
        help="Scenario file (TOML; format in docs/scenarios.md).", show_default=False)],
    output: Annotated[str, typer.Option(
        "-o", "--output", help="Capture to write: .pcapng (one interface per capture "
        "point), optionally .gz.")] = "",
    captures: Annotated[str | None, typer.Option(
        "--captures", help="Also (or instead of -o) write one capture per capture point "
        "into this directory: DIR/NODE.pcapng, what that node's interface saw, on its own "
        "clock (see --skew).", show_default=False)] = None,
    skew: Annotated[str | None, typer.Option(
        "--skew", help="With --captures: the clock error of some capture points, e.g. "
        "'mag1=+12.35ms,lma=-7.89ms' (units ns, us, ms, s; ms when none): each file's "
        "timestamps are the true time plus its node's skew.", show_default=False)] = None,
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

        pmipview simulate samples/scenarios/handover-server-mode.toml --captures /tmp/cap
        --skew mag2=+12.35ms,lma=-7.89ms   # then: pmipview timeline /tmp/cap/*.pcapng
    """
    from dataclasses import replace

    from pmipview.sim.captures import parse_skews
    from pmipview.sim.engine import capture_comment, run
    from pmipview.sim.scenario import ScenarioError, load
    from pmipview.sources.capfile import write_pcapng

    if skew and not captures:
        raise fail("--skew needs --captures DIR (the clocks of the per-node captures)", 2)
    if not output and not captures:
        raise fail("give the capture to write with -o FILE.pcapng (or --captures DIR)", 2)
    if output and not output.endswith((".pcapng", ".pcapng.gz")):
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
        skews = parse_skews(skew or "", sc.capture)
    except ScenarioError as exc:
        raise fail(str(exc), 2) from None
    except ValueError as exc:
        raise fail(f"--skew: {exc}", 2) from None
    result = run(sc)
    count = len(result.records)
    written = [output] if output else []
    try:
        if output:
            write_pcapng(output, result.records, result.interfaces,
                         comment=capture_comment(sc))
        if captures:
            written += _per_node(captures, sc, result, skews)
    except OSError as exc:
        raise fail(f"cannot write {exc.filename or output}: {exc.strerror or exc}", 1) \
            from None
    if show_events:
        for ev in result.events:
            out.print(str(ev), markup=False)
    err.print(f"{sc.name}: {count} frames captured at {', '.join(sc.capture)} over "
              f"{sc.duration:g} s of simulated time ({result.lost} lost) -> "
              f"{', '.join(written)}", markup=False)
    if check:
        from pmipview.sim.expect import check as check_facts

        packets = list(scan(result.records, Tally()))
        failures = check_facts(sc.expect, packets, list(sc.capture))
        for line in failures:
            err.print(f"NOT SHOWN: {line}", style="red", markup=False)
        if failures:
            raise typer.Exit(1)
        err.print(f"all {len(sc.expect)} expected facts shown", markup=False)


def _per_node(directory: str, sc, result, skews: dict[str, int]) -> list[str]:
    """DIR/NODE.pcapng for each capture point, on the node's clock; the files written."""
    import os

    from pmipview.sim.captures import describe_skew, per_node
    from pmipview.sim.engine import capture_comment
    from pmipview.sources.capfile import write_pcapng

    os.makedirs(directory, exist_ok=True)
    paths = []
    for (linktype, name), records in zip(result.interfaces, per_node(
            result.records, sc.capture, skews).values(), strict=True):
        path = os.path.join(directory, f"{name}.pcapng")
        write_pcapng(path, records, [(linktype, name)],
                     comment=f"{capture_comment(sc)} at {name}, clock "
                             f"{describe_skew(skews.get(name, 0))}")
        paths.append(path)
    return paths
