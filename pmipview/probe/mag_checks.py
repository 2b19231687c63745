"""The MAG catalog (``pmipview probe --mag``): the probe plays the LMA towards a MAG and
drives a real DHCP client (the mobile node) on the MAG's access link.

The checks run in order and share what happened (the MN's registration, its HoA): a
MAG keeps state between them, as it would with a real MN.  A check whose prerequisite
did not happen SKIPs naming it.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from ipaddress import IPv4Address

from dissectors.dhcp import DhcpMessage
from dissectors.dhcp_codes import DhcpOptionCode
from dissectors.mh import BindingAck, BindingUpdate
from dissectors.mh_codes import BAFlag, BAStatus, BUFlag, HoAReplyStatus
from dissectors.mh_options import (
    AccessTechnologyOpt,
    IPv4DefaultRouter,
    IPv4DHCPSupportMode,
    IPv4HoAReply,
    IPv4HoARequest,
    MNIdentifier,
)
from pmipview.probe.catalog import Case
from pmipview.probe.driver import (
    Answer,
    Driver,
    Listen,
    Mn,
    MnEvent,
    Reply,
    Step,
    Stop,
    failed,
    passed,
    skipped,
)

HOA, ROUTER, PLEN = IPv4Address("10.211.0.2"), IPv4Address("10.211.0.1"), 24
GRANT = 2  # 4 s units: an 8 s lifetime, so the refresh comes soon


@dataclass
class MagState:
    """What the checks learnt, shared along the run."""

    relay: bool = False  # the MAG relays DHCP to the probe (UDP 67 on --listen)
    pbu: Reply | None = None
    relayed: Reply | None = None
    granted_at: float = 0.0
    bound: MnEvent | None = None
    registered: bool = False
    notes: dict[str, str] = field(default_factory=dict)


@dataclass
class MagCtx:
    driver: Driver
    case: object
    state: MagState
    wait: float = 10.0  # how long the MN and the MAG get for each step

    def pbu(self, where=None) -> Generator[Step, Reply | None, Reply | None]:
        reply = yield Listen(0, (BindingUpdate,), self.wait, "main", where)
        return reply

    def mn_event(self, kinds: tuple[str, ...], wait: float | None = None
                 ) -> Generator[Step, Reply | None, Reply | None]:
        reply = yield Listen(0, (MnEvent,), self.wait if wait is None else wait, "mn",
                             lambda e: e.kind in kinds)
        return reply

    def cleanup(self) -> Generator[Step, Reply | None, None]:
        """Nothing to undo: the MAG's state carries on to the next check on purpose."""
        yield from ()

    def need(self, what: str, ok: bool) -> None:
        if not ok:
            raise Stop(skipped(f"needs {what}"))


def pba(pbu: BindingUpdate, status: int = 0, lifetime: int = GRANT,
        relay: bool = False) -> BindingAck:
    """The PBA an LMA sends (RFC 5213 §5.3.6, RFC 5844 §3.1.2.2); DHCP Support Mode S=1
    (the MAG serves DHCP) or S=0 (it relays)."""
    echo = [o for o in pbu.options if not isinstance(o, IPv4HoARequest)]
    req = pbu.hoa_request
    if status == 0:
        echo += [IPv4HoAReply(HoAReplyStatus.SUCCESS, HOA, PLEN), IPv4DefaultRouter(ROUTER),
                 IPv4DHCPSupportMode(not relay)]
    elif req is not None:
        echo.append(IPv4HoAReply(HoAReplyStatus.ADMINISTRATIVELY_PROHIBITED, req.address,
                                 req.prefix_len))
    return BindingAck(status, pbu.seq, BAFlag.P, lifetime if status == 0 else 0, tuple(echo))


def _pbu_problems(pbu: BindingUpdate) -> list[str]:
    wrong = []
    if not pbu.flags & BUFlag.P or not pbu.flags & BUFlag.A:
        wrong.append("A and P flags not both set")
    if pbu.lifetime == 0:
        wrong.append("lifetime 0")
    if pbu.option(MNIdentifier) is None:
        wrong.append("no MN-ID")
    if pbu.handoff_indicator is None:
        wrong.append("no Handoff Indicator")
    if pbu.option(AccessTechnologyOpt) is None:
        wrong.append("no Access Technology Type")
    reqs = pbu.all_options(IPv4HoARequest)
    if len(reqs) != 1 or not reqs[0].dynamic:
        wrong.append(f"{len(reqs)} IPv4 HoA Request(s), not one 0.0.0.0/0")
    return wrong


def discover_pbu(ctx: MagCtx):
    yield Mn("start")
    got = yield from ctx.pbu()
    if got is None:
        return failed("a PBU after the MN's DHCPDISCOVER",
                      f"none within {ctx.wait:g} s")
    pbu = got.message
    wrong = _pbu_problems(pbu)  # type: ignore[arg-type]
    yield Answer(got.packet, pba(pbu, relay=ctx.state.relay),  # type: ignore[arg-type]
                 "PBA accepting, HoA 10.211.0.2/24")
    ctx.state.pbu, ctx.state.granted_at = got, ctx.driver.now
    ctx.state.registered = True
    if ctx.state.relay:  # MAG-06 judges it; it comes now, after the PBA (RFC 5844 Fig. 9)
        ctx.state.relayed = yield Listen(0, (DhcpMessage,), ctx.wait, "dhcp")
    if wrong:
        return failed("PBU with A and P, MN-ID, HI, ATT and one IPv4 HoA Request 0.0.0.0/0",
                      f"frame {got.frame}: {pbu.info()}; " + "; ".join(wrong))
    return passed(f"frame {got.frame}: {pbu.info()}")


def _server_mode(ctx: MagCtx) -> None:
    if ctx.state.relay:
        raise Stop(skipped("relay mode: the probe does not answer DHCP as the server yet"))


def offer_matches(ctx: MagCtx):
    _server_mode(ctx)
    ctx.need("MAG-01's PBA", ctx.state.registered)
    got = yield from ctx.mn_event(("bound", "leasefail"))
    if got is None or got.message.kind != "bound":  # type: ignore[union-attr]
        return failed(f"the MN bound to {HOA}/{PLEN}, router {ROUTER}",
                      "no lease" if got is None else f"DHCP client: {got.message.kind}")  # type: ignore[union-attr]
    ev: MnEvent = got.message  # type: ignore[assignment]
    ctx.state.bound = ev
    seen = f"ip {ev.data.get('ip')}/{ev.data.get('mask')}, router {ev.data.get('router')}"
    ok = (ev.data.get("ip") == str(HOA) and ev.data.get("mask") == str(PLEN)
          and ev.data.get("router", "").split(" ")[0] == str(ROUTER))
    if not ok:
        return failed(f"the lease of the PBA: ip {HOA}/{PLEN}, router {ROUTER}",
                      f"the MN got {seen}")
    return passed(f"the MN got {seen}")


def refresh(ctx: MagCtx):
    _server_mode(ctx)
    ctx.need("MAG-01's registration", ctx.state.registered and ctx.state.pbu is not None)
    lifetime = GRANT * 4
    left = max(0.0, ctx.state.granted_at + lifetime - ctx.driver.now)
    got = yield from ctx.pbu(lambda m: m.lifetime > 0)
    if got is None:
        return failed(f"a re-registration PBU before the {lifetime} s lifetime ends",
                      f"none within {ctx.wait:g} s")
    at = ctx.driver.now - ctx.state.granted_at
    yield Answer(got.packet, pba(got.message), "PBA accepting the refresh")  # type: ignore[arg-type]
    ctx.state.granted_at = ctx.driver.now
    if at >= lifetime:
        return failed(f"the refresh within {lifetime} s of the grant",
                      f"frame {got.frame}, {at:.1f} s after (left was {left:.1f} s)")
    return passed(f"frame {got.frame}: {at:.1f} s after the grant of {lifetime} s")


def release(ctx: MagCtx):
    _server_mode(ctx)
    ctx.need("a bound MN (MAG-02)", ctx.state.bound is not None)
    yield Mn("release")
    got = yield from ctx.pbu(lambda m: m.lifetime == 0)
    if got is None:
        return failed("a de-registration PBU (lifetime 0) after the DHCPRELEASE",
                      f"none within {ctx.wait:g} s")
    yield Answer(got.packet, pba(got.message, lifetime=0), "PBA accepting the "  # type: ignore[arg-type]
                 "de-registration")
    ctx.state.registered = False
    return passed(f"frame {got.frame}: {got.message.info()}")


def refused(ctx: MagCtx):
    _server_mode(ctx)
    yield Mn("stop")
    yield Mn("start", ("-n", "-t", "3", "-T", "1"))
    got = yield from ctx.pbu(lambda m: m.lifetime > 0)
    if got is None:
        return failed("a PBU for the MN's new DHCPDISCOVER", f"none within {ctx.wait:g} s")
    yield Answer(got.packet, pba(got.message, BAStatus.NOT_AUTHORIZED_FOR_IPV4_MOBILITY_SERVICE),  # type: ignore[arg-type]
                 "PBA 170 NOT_AUTHORIZED_FOR_IPV4_MOBILITY_SERVICE")
    lease = yield from ctx.mn_event(("bound", "leasefail"))
    yield Mn("stop")
    if lease is not None and lease.message.kind == "bound":  # type: ignore[union-attr]
        ev = lease.message
        return failed("no address for the MN", f"it got {ev.data.get('ip')}")  # type: ignore[union-attr]
    what = "its DHCP client gave up" if lease is not None else f"no lease in {ctx.wait:g} s"
    return passed(f"frame {got.frame}: PBU answered with 170; {what}")


def relay(ctx: MagCtx):
    if False:  # a generator like the others
        yield
    if not ctx.state.relay:
        return skipped("the MAG serves DHCP itself (run the MAG and the probe with "
                       "--dhcp relay)")
    ctx.need("MAG-01's PBA", ctx.state.registered)
    got = ctx.state.relayed
    if got is None:
        return failed("the MN's DHCPDISCOVER relayed to the server (UDP 67 on --listen)",
                      f"none within {ctx.wait:g} s of the PBA")
    msg: DhcpMessage = got.message  # type: ignore[assignment]
    wrong = []
    if msg.giaddr == IPv4Address(0):
        wrong.append("giaddr 0.0.0.0")
    if msg.hops < 1:
        wrong.append(f"hops {msg.hops}")
    if msg.option(DhcpOptionCode.RELAY_AGENT_INFO) is None:
        wrong.append("no option 82")
    elif msg.remote_id_ipv4 != HOA:
        wrong.append(f"option 82 Remote-ID {msg.remote_id_ipv4}, not the HoA {HOA}")
    seen = f"frame {got.frame}: {msg.info()}"
    if wrong:
        return failed(f"giaddr set, hops >= 1, option 82 with Remote-ID {HOA} (the PBA's "
                      "HoA)", f"{seen}; " + "; ".join(wrong))
    return passed(seen)


MAG_CATALOG: tuple[Case, ...] = (
    Case("MAG-01", "DHCPDISCOVER triggers a PBU", "RFC 5844 §3.2.3, §3.4.1",
         "the MN's DHCPDISCOVER (a real DHCP client)",
         "a PBU with A and P, MN-ID, HI, ATT and one IPv4 HoA Request 0.0.0.0/0",
         discover_pbu),  # type: ignore[arg-type]
    Case("MAG-02", "the MN gets the HoA of the PBA", "RFC 5844 §3.4.1",
         "a PBA with HoA 10.211.0.2/24 and router 10.211.0.1",
         "the DHCP client binds exactly that address, prefix length and router",
         offer_matches),  # type: ignore[arg-type]
    Case("MAG-03", "refresh before the lifetime ends", "RFC 5213 §6.9.1.3",
         "a PBA granting 8 s", "a re-registration PBU within the 8 s", refresh),  # type: ignore[arg-type]
    Case("MAG-04", "RELEASE de-registers", "RFC 5844 §3.4.1",
         "the MN's DHCPRELEASE", "a PBU with lifetime 0", release),  # type: ignore[arg-type]
    Case("MAG-05", "170 leaves the MN without address", "RFC 5844 §3.2.4",
         "a PBA 170 to the MN's next registration", "the DHCP client binds nothing",
         refused),  # type: ignore[arg-type]
    Case("MAG-06", "relay: giaddr and option 82", "RFC 5844 §3.4.2",
         "(--dhcp relay) the PBA of MAG-01 with DHCP Support Mode S=0",
         "the DISCOVER relayed to UDP 67 on --listen with giaddr, hops >= 1 and option 82 "
         "whose Remote-ID is the HoA", relay),  # type: ignore[arg-type]
)


def build_mag_driver(mag: IPv4Address, cases, *, timing, wait: float = 10.0,
                     relay: bool = False) -> Driver:
    """A driver playing the LMA towards ``mag`` (one shared :class:`MagState`)."""
    state = MagState(relay=relay)

    def factory(driver: Driver, case: object) -> MagCtx:
        return MagCtx(driver, case, state, wait)

    return Driver(cases, mag, [mag], factory, timing=timing,
                  sockets=frozenset({"dhcp", "mn"} if relay else {"mn"}))


def select_mag(only: list[str] | None) -> list[Case]:
    if not only:
        return list(MAG_CATALOG)
    want = {t.strip().upper() for item in only for t in item.split(",") if t.strip()}
    unknown = want - {c.id for c in MAG_CATALOG}
    if unknown:
        raise ValueError(f"unknown check {', '.join(sorted(unknown))} (see --list --mag)")
    return [c for c in MAG_CATALOG if c.id in want]
