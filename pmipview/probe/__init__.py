"""``pmipview probe``: conformance checks of a real LMA, each tied to an RFC MUST.

- :mod:`.catalog` — the numbered cases (ID, RFC section, what is sent, what passes);
- :mod:`.checks` — their bodies, generators over the driver's steps;
- :mod:`.context` — what a case reads: fresh MNs, PBUs, ask/listen steps, clean-up;
- :mod:`.driver` — the sans-IO driver that plays the MAGs and collects verdicts;
- :mod:`.runner` — the driver on the sockets of :mod:`pmipview.wire.transport`;
- :mod:`.profile` — the gateway's configuration as the checks need it (TOML);
- :mod:`.report` — the table, JSON and JUnit XML.
"""

from __future__ import annotations

from collections.abc import Iterable

from dissectors.mh_codes import PMIP6_CNTL_PORT
from pmipview.agents.base import Address
from pmipview.probe.context import Ctx, new_run_id
from pmipview.probe.driver import DEFAULT_TIMING, Driver, Timing
from pmipview.probe.profile import ProbeProfile


def build_driver(target: Address, mags: list[Address], profile: ProbeProfile,
                 cases: Iterable[object], *, port: int = PMIP6_CNTL_PORT,
                 timing: Timing = DEFAULT_TIMING, sockets: frozenset[str] = frozenset(),
                 wall_offset: float | None = None) -> Driver:
    """A driver running ``cases`` against ``target`` from ``mags`` (one Ctx per case)."""
    run_id = new_run_id()
    seqs: dict[int, int] = {}

    def factory(driver: Driver, case: object) -> Ctx:
        return Ctx(driver, case, profile, run_id, seqs)

    return Driver(cases, target, mags, factory, port=port, timing=timing, sockets=sockets,
                  wall_offset=wall_offset)
