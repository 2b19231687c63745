"""The LMA catalog: one numbered case per RFC MUST (RFC 5213 §5, RFC 5844 §3.1 and §4,
RFC 6275 §9, RFC 5846, RFC 5847); the bodies are in :mod:`pmipview.probe.checks`.

Each case says what it sends and what passes (docs/probe.md prints this table).  A case
ends PASS, FAIL (expected vs observed, with the frame numbers of the answers), SKIP (the
reason: the transport, the profile or the number of MAG addresses makes it
inapplicable) or ERROR (no answer after the retransmissions).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass

from dissectors.mh_options import AccessTechnologyOpt, HandoffIndicatorOpt, MNIdentifier
from pmipview.probe.checks import (
    bad_checksum,
    deregistration,
    dhcp_mode,
    dynamic_hoa,
    echo,
    handoff,
    heartbeat,
    lifetime,
    missing,
    no_proxy_flag,
    refused_nai,
    reply_port,
    reregistration,
    revocation,
    specific_hoa,
    stale_sequence,
    timestamp_lower,
    timestamp_mismatch,
    two_requests,
    unknown_type,
)
from pmipview.probe.context import Ctx
from pmipview.probe.driver import ERROR, NoAnswer, Reply, Step, Stop, Verdict

Body = Callable[[Ctx], Generator[Step, Reply | None, Verdict]]


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    name: str
    section: str
    sends: str
    passes: str
    body: Body

    def run(self, ctx: Ctx) -> Generator[Step, Reply | None, Verdict]:
        """The body, then the clean-up of what it registered (whatever the verdict)."""
        try:
            verdict = yield from self.body(ctx)
        except Stop as stop:
            verdict = stop.verdict
        except NoAnswer as exc:
            verdict = Verdict(ERROR, reason=str(exc))
        yield from ctx.cleanup()
        return verdict


CATALOG: tuple[Case, ...] = (
    Case("LMA-01", "dynamic IPv4 HoA", "RFC 5844 §3.1.2.2, §3.3.2, §3.3.3",
         "PBU with an IPv4 HoA Request 0.0.0.0/0",
         "PBA 0, HoA Reply 0 with a non-zero HoA (in the profile's pool), its prefix "
         "length, the IPv4 Default-Router option (the profile's router)", dynamic_hoa),
    Case("LMA-02", "DHCP Support Mode", "RFC 5844 §3.3.4",
         "PBU with a dynamic IPv4 HoA Request",
         "at most one DHCP Support Mode option, reserved bits 0; S=1 server, S=0 or absent "
         "relay, as the profile's dhcp_mode says", dhcp_mode),
    Case("LMA-03", "P flag, sequence and MN-ID echoed", "RFC 5213 §5.3.6, §8.9",
         "PBU with MN-ID, HI, ATT, MN-LLI",
         "PBA with P set, the PBU's sequence number and the same MN-ID, HI, ATT, MN-LLI",
         echo),
    Case("LMA-04", "re-registration keeps the HoA", "RFC 5844 §3.1.2.3, RFC 5213 §5.3.3",
         "PBU, then a re-registration (HI=5) naming the HoA",
         "both accepted, the same HoA", reregistration),
    Case("LMA-05", "specific HoA granted or 171", "RFC 5844 §3.1.2.2",
         "PBUs asking for the profile's foreign_hoa and for another MN's HoA",
         "171 with an IPv4 HoA Reply status ≥ 128 for both", specific_hoa),
    Case("LMA-06", "handoff keeps the HoA", "RFC 5213 §5.3.4, RFC 5844 §3.1.2.4",
         "PBU from MAG 0, then from MAG 1 with HI=3 (same MN-ID, ATT, LLI)",
         "PBA 0 to MAG 1 with the same HoA", handoff),
    Case("LMA-07", "revocation of the old MAG", "RFC 5846 §6.1",
         "the handoff of LMA-06; the BRI is answered with a BRA",
         "a BRI to MAG 0 (when the LMA revokes) with P, the MN-ID and the old HoA",
         revocation),
    Case("LMA-08", "de-registration releases the HoA", "RFC 5213 §5.3.5, RFC 5844 §3.1.2.5",
         "PBU, de-registration (lifetime 0), then another MN asking for that HoA",
         "PBA 0 with lifetime 0; the address granted to the other MN (or, if it is refused "
         "there, to the first MN asking again)", deregistration),
    Case("LMA-09", "missing MN-ID → 160", "RFC 5213 §5.3.1", "PBU without MN Identifier",
         "PBA 160 MISSING_MN_IDENTIFIER_OPTION", missing(MNIdentifier, 160)),
    Case("LMA-10", "missing HI → 161", "RFC 5213 §5.3.1", "PBU without Handoff Indicator",
         "PBA 161 MISSING_HANDOFF_INDICATOR_OPTION", missing(HandoffIndicatorOpt, 161)),
    Case("LMA-11", "missing ATT → 162", "RFC 5213 §5.3.1",
         "PBU without Access Technology Type", "PBA 162 MISSING_ACCESS_TECH_TYPE_OPTION",
         missing(AccessTechnologyOpt, 162)),
    Case("LMA-12", "two IPv4 HoA Requests → 173", "RFC 5844 §3.1.2.1",
         "PBU with two IPv4 HoA Request options",
         "PBA 173 MULTIPLE_IPV4_HOME_ADDRESS_ASSIGNMENT_NOT_SUPPORTED", two_requests),
    Case("LMA-13", "stale sequence number → 135", "RFC 5213 §5.3.1, RFC 6275 §9.5.1",
         "PBU, then a re-registration with a lower sequence number",
         "PBA 135 carrying the last accepted sequence number", stale_sequence),
    Case("LMA-14", "timestamp outside the window → 156", "RFC 5213 §5.5",
         "PBU whose Timestamp is older than the window (profile: timestamps = true)",
         "PBA 156 with the LMA's Timestamp", timestamp_mismatch),
    Case("LMA-15", "timestamp lower than accepted → 157", "RFC 5213 §5.5",
         "PBU, then a re-registration with an older Timestamp",
         "PBA 157", timestamp_lower),
    Case("LMA-16", "unknown or refused NAI → 153/170", "RFC 5213 §5.3.1, RFC 5844 §3.1.2.1",
         "PBU for each NAI the profile says is refused",
         "the status the profile names (153 NOT_LMA..., 170 NOT_AUTHORIZED_FOR_IPV4...)",
         refused_nai),
    Case("LMA-17", "BU without the P flag is no proxy registration", "RFC 5213 §5.3.1",
         "a PBU's options with the P flag clear",
         "silence, or a BA without the P flag and without an IPv4 HoA", no_proxy_flag),
    Case("LMA-18", "unknown MH type → Binding Error 2", "RFC 6275 §9.2",
         "Mobility Header of type 99", "Binding Error status 2", unknown_type),
    Case("LMA-19", "bad checksum ignored (IPv6)", "RFC 6275 §9.2",
         "PBU with a wrong MH checksum, then the same PBU with the right one",
         "no answer to the first, PBA 0 to the second", bad_checksum),
    Case("LMA-20", "Heartbeat answered", "RFC 5847 §5",
         "Heartbeat request with a random sequence number",
         "Heartbeat response R=1, U=0, same sequence number", heartbeat),
    Case("LMA-21", "UDP reply to the source port", "RFC 5844 §4",
         "PBU from a second UDP port of the MAG address",
         "the PBA on that port, from the LMA's address and port", reply_port),
    Case("LMA-22", "lifetime granted ≤ requested", "RFC 6275 §6.1.8, RFC 5213 §5.3.6",
         "PBU asking for 160 s (and 262140 s when the profile names max_lifetime)",
         "0 < granted ≤ requested (≤ max_lifetime)", lifetime),
)


def select(only: list[str] | None) -> list[Case]:
    """The cases named by ``--only`` (IDs, case-insensitive; ``LMA-3`` = ``LMA-03``)."""
    if not only:
        return list(CATALOG)
    by_id = {c.id: c for c in CATALOG}
    chosen, unknown = [], []
    for item in only:
        for token in item.split(","):
            key = _normal(token.strip())
            if not key:
                continue
            if key in by_id:
                if by_id[key] not in chosen:
                    chosen.append(by_id[key])
            else:
                unknown.append(token.strip())
    if unknown:
        raise ValueError(f"unknown check {', '.join(unknown)} (see --list)")
    return chosen


def _normal(token: str) -> str:
    t = token.upper()
    if t.isdigit():
        t = f"LMA-{t}"
    head, _, num = t.partition("-")
    return f"{head}-{int(num):02d}" if num.isdigit() else t
