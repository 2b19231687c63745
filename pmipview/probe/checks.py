"""The bodies of the LMA catalog's checks (:mod:`pmipview.probe.catalog` numbers them).

Each body is a generator over the driver's steps (:mod:`pmipview.probe.context` has the
helpers) that returns a :class:`~pmipview.probe.driver.Verdict`; ``Stop`` and
``NoAnswer`` end it early with FAIL/SKIP or ERROR.
"""

from __future__ import annotations

import random

from dissectors.mh import (
    BindingAck,
    BindingError,
    BindingRevocation,
    Heartbeat,
    UnknownMH,
    encode_mh,
)
from dissectors.mh_codes import (
    BAFlag,
    BAStatus,
    BEStatus,
    BRFlag,
    BRType,
    BUFlag,
    HandoffIndicator,
    HBFlag,
    name_of,
    status_accepted,
)
from dissectors.mh_options import (
    AccessTechnologyOpt,
    HandoffIndicatorOpt,
    IPv4DHCPSupportMode,
    IPv4HoARequest,
    MNIdentifier,
    MNLinkLayerId,
    RestartCounter,
    Timestamp,
)
from pmipview.probe.context import DYNAMIC, Ctx, describe
from pmipview.probe.driver import (
    Ask,
    NoAnswer,
    Reply,
    Stop,
    Verdict,
    failed,
    passed,
    skipped,
)

REFRESH = HandoffIndicator.NOT_CHANGED


def _status(reply: Reply, want: int, what: str) -> Verdict:
    """PBA status ``want``; a rejection also carries no IPv4 Default-Router option
    (RFC 5844 §3.3.3: only when the status is 0)."""
    ba = reply.message
    expect = f"{what}: PBA status {want} {name_of(BAStatus, want)}"
    if not isinstance(ba, BindingAck) or ba.status != want:
        return failed(expect, describe(reply))
    if not status_accepted(want) and ba.default_router is not None:
        return failed(f"{expect}, without the IPv4 Default-Router option (RFC 5844 §3.3.3)",
                      describe(reply))
    return passed(describe(reply))


def _pba(reply: Reply) -> BindingAck:
    return reply.message  # type: ignore[return-value]


# --- RFC 5844 §3.1.2.2: the dynamic IPv4 HoA ---------------------------------------------
def dynamic_hoa(ctx: Ctx):
    reply = yield from ctx.register(ctx.mn())
    ba, prof = _pba(reply), ctx.profile
    wrong: list[str] = []
    rep = ba.hoa_reply
    if rep is None:
        wrong.append("no IPv4 HoA Reply option")
    else:
        if rep.status != 0:
            wrong.append(f"HoA Reply status {int(rep.status)}")
        if int(rep.address) == 0:
            wrong.append("HoA 0.0.0.0")
        if not 1 <= rep.prefix_len <= 32:
            wrong.append(f"prefix length {rep.prefix_len}")
        if prof.pool is not None:
            if rep.address not in prof.pool:
                wrong.append(f"HoA {rep.address} outside the pool {prof.pool}")
            if rep.prefix_len != prof.pool.prefixlen:
                wrong.append(f"prefix length {rep.prefix_len}, pool /{prof.pool.prefixlen}")
    router = ba.default_router
    if router is None:
        wrong.append("no IPv4 Default-Router option")
    elif rep is not None and router == rep.address:
        wrong.append("the default router is the HoA itself")
    elif prof.default_router is not None and router != prof.default_router:
        wrong.append(f"router {router}, profile {prof.default_router}")
    if wrong:
        return failed("HoA Reply 0 with a non-zero HoA, its prefix length (1-32) and the "
                      "Default-Router option", f"{describe(reply)}; " + "; ".join(wrong))
    return passed(describe(reply))


def dhcp_mode(ctx: Ctx):
    reply = yield from ctx.register(ctx.mn())
    opts = _pba(reply).all_options(IPv4DHCPSupportMode)
    if len(opts) > 1:
        return failed("at most one DHCP Support Mode option", f"{describe(reply)}; "
                      f"{len(opts)} of them")
    opt = opts[0] if opts else None
    mode = "server" if opt is not None and opt.s else "relay"
    seen = (f"S={int(opt.s)}: the MAG is the MN's DHCP {mode}" if opt is not None
            else "option absent: the MAG is a DHCP relay")
    if opt is not None and opt.reserved:
        return failed("reserved bits 0", f"frame {reply.frame}: reserved 0x{opt.reserved:04x}")
    want = ctx.profile.dhcp_mode
    if want is not None:
        expect = {"server": "S=1 (server)", "relay": "S=0 (relay)",
                  "none": "no option (relay)"}[want]
        ok = (want == "server" and mode == "server") or (want == "relay" and opt is not None
                                                         and mode == "relay") \
            or (want == "none" and opt is None)
        if not ok:
            return failed(f"DHCP Support Mode {expect} (profile)", f"frame {reply.frame}: {seen}")
    return passed(f"frame {reply.frame}: {seen}")


# --- RFC 5213 §5.3.6, §8.9: what a PBA echoes ----------------------------------------------
def echo(ctx: Ctx):
    mn = ctx.mn()
    pbu = ctx.pbu(mn)
    reply = yield from ctx.ask(0, pbu, note="initial PBU")
    ba = _pba(reply)
    if ba.status == BAStatus.ACCEPTED:
        ctx.bound(mn, 0, ba.hoa_reply.address if ba.hoa_reply else None,
                  ba.hoa_reply.prefix_len if ba.hoa_reply else 0)
    wrong = []
    if not ba.flags & BAFlag.P:
        wrong.append("P flag clear")
    if ba.seq != pbu.seq:
        wrong.append(f"seq {ba.seq}, PBU had {pbu.seq}")
    for cls, label in ((MNIdentifier, "MN-ID"), (HandoffIndicatorOpt, "HI"),
                       (AccessTechnologyOpt, "ATT"), (MNLinkLayerId, "MN-LLI")):
        sent, got = pbu.option(cls), ba.option(cls)
        if got != sent:
            wrong.append(f"{label} {'missing' if got is None else 'differs'}")
    if wrong:
        return failed("P flag set, the PBU's sequence number, MN-ID, HI, ATT and MN-LLI "
                      "copied", f"{describe(reply)}; " + "; ".join(wrong))
    return passed(f"{describe(reply)}; P, seq, MN-ID {mn.nai}, HI, ATT, LLI echoed")


# --- RFC 5844 §3.1.2.3 / RFC 5213 §5.3.3: re-registration ------------------------------------
def reregistration(ctx: Ctx):
    mn = ctx.mn()
    first = yield from ctx.register(mn)
    rep = _pba(first).hoa_reply
    if rep is None:
        return failed("an IPv4 HoA in the first PBA", describe(first))
    again = yield from ctx.ask(0, ctx.pbu(mn, hi=REFRESH, v4=(
        IPv4HoARequest(rep.address, rep.prefix_len),)), note="re-registration PBU")
    ba = _pba(again)
    got = ba.hoa_reply.address if ba.hoa_reply else None
    if ba.status != 0 or got != rep.address:
        return failed(f"re-registration accepted with the same HoA {rep.address}",
                      describe(again))
    return passed(f"{describe(again)} (same as frame {first.frame})")


# --- RFC 5844 §3.1.2.2: a specific HoA is granted or refused with 171 -----------------------
def specific_hoa(ctx: Ctx):
    holder = yield from ctx.register(ctx.mn(), note="PBU of the MN holding an address")
    held = _pba(holder).hoa_reply
    foreign = ctx.profile.foreign_hoa
    results = []
    for addr, plen, why in ((foreign, 32, "an address not anchored here"),
                            (held.address if held else None, held.prefix_len if held else 0,
                             "the HoA another MN holds")):
        if addr is None:
            continue
        mn = ctx.mn()
        reply = yield from ctx.ask(0, ctx.pbu(mn, v4=(IPv4HoARequest(addr, plen),)),
                                   note=f"PBU asking for {addr} ({why})")
        ba = _pba(reply)
        rep = ba.hoa_reply
        if ba.status == 0:
            ctx.bound(mn, 0, rep.address if rep else None, rep.prefix_len if rep else 0)
        refused = (ba.status == BAStatus.NOT_AUTHORIZED_FOR_IPV4_HOME_ADDRESS
                   and rep is not None and not rep.accepted)
        if not refused:
            return failed(f"{addr} ({why}): 171 with an IPv4 HoA Reply status >= 128",
                          describe(reply))
        results.append(describe(reply))
    return passed("; ".join(results))


# --- RFC 5213 §5.3.4, RFC 5844 §3.1.2.4: handoff; RFC 5846 §6.1: revocation -----------------
def _handoff(ctx: Ctx):
    mn = ctx.mn()
    first = yield from ctx.register(mn, 0, note="PBU from MAG 0")
    rep = _pba(first).hoa_reply
    second = yield from ctx.ask(1, ctx.pbu(mn, mag=1, hi=HandoffIndicator.INTER_MAG),
                                note="PBU from MAG 1, HI=3 (handoff)")
    ba = _pba(second)
    if ba.status == 0:
        ctx.bound(mn, 1, ba.hoa_reply.address if ba.hoa_reply else None,
                  ba.hoa_reply.prefix_len if ba.hoa_reply else 0)
    return mn, first, rep, second


def _two_mags(ctx: Ctx) -> None:
    if ctx.mag_count < 2:
        raise Stop(skipped(f"needs two MAG addresses (--mag-addresses), have {ctx.mag_count}"))


def handoff(ctx: Ctx):
    _two_mags(ctx)
    _mn, first, rep, second = yield from _handoff(ctx)
    ba = _pba(second)
    got = ba.hoa_reply.address if ba.hoa_reply else None
    if ba.status != 0 or rep is None or got != rep.address:
        return failed(f"PBA 0 to MAG 1 with the HoA of frame {first.frame} "
                      f"({rep.address if rep else '?'})", describe(second))
    return passed(f"{describe(second)} (same HoA as frame {first.frame})")


def revocation(ctx: Ctx):
    _two_mags(ctx)
    mn, _first, rep, second = yield from _handoff(ctx)
    if _pba(second).status != 0:
        return failed("the handoff PBU accepted", describe(second))
    bri = yield from ctx.listen(0, (BindingRevocation,),
                                where=lambda m: m.br_type == BRType.BRI and m.mn_id in (
                                    mn.nai, None))
    if bri is None:
        if ctx.profile.revocation:
            return failed("a BRI to MAG 0 after the handoff (profile: revocation = true)",
                          f"none within {ctx.timing.silence:g} s")
        return skipped(f"no BRI to MAG 0 within {ctx.timing.silence:g} s of the handoff: "
                       "this LMA does not revoke (RFC 5846 is optional; set revocation = "
                       "true in the profile to require it)")
    msg = bri.message
    wrong = []
    if not msg.flags & BRFlag.P:
        wrong.append("P flag clear")
    if msg.mn_id != mn.nai:
        wrong.append(f"MN-ID {msg.mn_id!r}")
    req = msg.hoa_request
    if rep is not None and (req is None or req.address != rep.address):
        wrong.append("no IPv4 HoA Request naming the old binding's HoA")
    if wrong:
        return failed("BRI with P set, the MN-ID and an IPv4 HoA Request naming the HoA",
                      f"frame {bri.frame}: {msg.info()}; " + "; ".join(wrong))
    return passed(f"frame {bri.frame}: {msg.info()} (answered with a BRA)")


# --- RFC 5213 §5.3.5, RFC 5844 §3.1.2.5: de-registration releases the HoA -------------------
def deregistration(ctx: Ctx):
    mn = ctx.mn()
    first = yield from ctx.register(mn)
    rep = _pba(first).hoa_reply
    if rep is None:
        return failed("an IPv4 HoA in the first PBA", describe(first))
    v4 = (IPv4HoARequest(rep.address, rep.prefix_len),)
    bye = yield from ctx.ask(0, ctx.pbu(mn, lifetime=0, hi=HandoffIndicator.UNKNOWN, v4=v4),
                             note="de-registration PBU (lifetime 0)")
    ba = _pba(bye)
    if ba.status != 0 or ba.lifetime != 0:
        return failed("PBA status 0 with lifetime 0", describe(bye))
    ctx.unbound(mn)
    if not ctx.profile.grants_specific:
        return passed(describe(bye))
    other = ctx.mn()
    again = yield from ctx.ask(0, ctx.pbu(other, v4=v4),
                               note=f"another MN asks for the released {rep.address}")
    if _granted(ctx, other, again, rep.address):
        return passed(f"{describe(bye)}; {describe(again)}")
    # the address may be reserved for the first MN (a static HoA): it asks again itself
    back = yield from ctx.ask(0, ctx.pbu(mn, v4=v4),
                              note=f"the first MN asks for {rep.address} again")
    if _granted(ctx, mn, back, rep.address):
        return passed(f"{describe(bye)}; refused to another MN ({describe(again)}), "
                      f"granted again to its MN ({describe(back)})")
    return failed(f"{rep.address} free again: granted to another MN or to its own MN "
                  "again (profile: grants_specific = true)",
                  f"{describe(again)}; {describe(back)}")


def _granted(ctx: Ctx, mn, reply: Reply, addr) -> bool:
    got = _pba(reply)
    if got.status == 0:
        ctx.bound(mn, 0, got.hoa_reply.address if got.hoa_reply else None,
                  got.hoa_reply.prefix_len if got.hoa_reply else 0)
    return got.status == 0 and got.hoa_reply is not None and got.hoa_reply.address == addr


# --- RFC 5213 §5.3.1: mandatory options ----------------------------------------------------
def missing(cls: type, status: int):
    def body(ctx: Ctx):
        reply = yield from ctx.ask(0, ctx.pbu(ctx.mn(), omit=(cls,)),
                                   note=f"PBU without {cls.__name__}")
        return _status(reply, status, f"PBU without {cls.__name__}")
    return body


def two_requests(ctx: Ctx):
    reply = yield from ctx.ask(0, ctx.pbu(ctx.mn(), v4=(DYNAMIC, DYNAMIC)),
                               note="PBU with two IPv4 HoA Requests")
    return _status(reply, BAStatus.MULTIPLE_IPV4_HOME_ADDRESS_ASSIGNMENT_NOT_SUPPORTED,
                   "two IPv4 HoA Requests")


# --- RFC 5213 §5.3.1 → RFC 6275 §9.5.1: sequence numbers ------------------------------------
def stale_sequence(ctx: Ctx):
    if ctx.profile.timestamps:
        return skipped("the profile says the LMA orders PBUs by Timestamp (RFC 5213 §5.5): "
                       "sequence numbers are then not compared")
    mn = ctx.mn()
    first = yield from ctx.register(mn)
    last = _pba(first).seq
    stale = (last - 1) & 0xFFFF
    reply = yield from ctx.ask(0, ctx.pbu(mn, seq=stale, hi=REFRESH),
                               note=f"re-registration with the older seq {stale}")
    ba = _pba(reply)
    if ba.status != BAStatus.SEQUENCE_OUT_OF_WINDOW or ba.seq != last:
        return failed(f"PBA 135 carrying the last accepted sequence number {last}",
                      describe(reply))
    return passed(describe(reply))


# --- RFC 5213 §5.5: timestamps ------------------------------------------------------------
def _timestamps(ctx: Ctx) -> None:
    if not ctx.profile.timestamps:
        raise Stop(skipped("the profile says the LMA does not use timestamps "
                           "(timestamps = false): it orders PBUs by sequence number"))


def timestamp_mismatch(ctx: Ctx):
    _timestamps(ctx)
    off = ctx.profile.timestamp_window + 60
    reply = yield from ctx.ask(0, ctx.pbu(ctx.mn(), ts=ctx.driver.wall() - off),
                               note=f"PBU with a Timestamp {off:g} s old")
    verdict = _status(reply, BAStatus.TIMESTAMP_MISMATCH, "Timestamp outside the window")
    if verdict.status == "PASS" and _pba(reply).option(Timestamp) is None:
        return failed("156 carrying the LMA's current Timestamp", describe(reply))
    return verdict


def timestamp_lower(ctx: Ctx):
    _timestamps(ctx)
    mn = ctx.mn()
    now = ctx.driver.wall()
    yield from ctx.register(mn, ts=now)
    reply = yield from ctx.ask(0, ctx.pbu(mn, hi=REFRESH, ts=now - 1.0),
                               note="re-registration with an older Timestamp")
    return _status(reply, BAStatus.TIMESTAMP_LOWER_THAN_PREV_ACCEPTED,
                   "Timestamp lower than the last accepted one")


# --- RFC 5213 §5.3.1, RFC 5844 §3.1.2.1: NAIs the LMA does not serve ------------------------
def refused_nai(ctx: Ctx):
    refusals = ctx.profile.refusals()
    if not refusals:
        return skipped("the profile names no refused NAI (accept_unknown = true, no "
                       "unknown_nai_status, no refused = [...])")
    seen = []
    for r in refusals:
        who = ctx.mn(r.nai)
        reply = yield from ctx.ask(0, ctx.pbu(who), note=f"PBU for {r.nai}")
        if _pba(reply).status == 0:
            ctx.bound(who, 0, None, 0)
        verdict = _status(reply, r.status, f"PBU for {r.nai}")
        if verdict.status != "PASS":
            return verdict
        seen.append(describe(reply))
    return passed("; ".join(seen))


# --- RFC 5213 §5.3.1: a BU without the P flag is no proxy registration -----------------------
def no_proxy_flag(ctx: Ctx):
    mn = ctx.mn()
    reply = yield from ctx.try_ask(0, ctx.pbu(mn, flags=BUFlag.A), (BindingAck,),
                                   note="BU with the P flag clear")
    if reply is not None:
        ba = _pba(reply)
        rep = ba.hoa_reply
        if ba.flags & BAFlag.P or (rep is not None and rep.accepted and ba.accepted):
            ctx.bound(mn, 0, rep.address if rep else None, rep.prefix_len if rep else 0)
            return failed("no proxy binding: silence, or a BA without the P flag",
                          describe(reply))
        return passed(f"{describe(reply)} (not a proxy registration)")
    control = yield from ctx.ask(0, ctx.pbu(ctx.mn()), note="control: a valid PBU")
    return passed(f"no answer within {ctx.timing.silence:g} s; the control PBU got "
                  f"{describe(control)}") if _pba(control).status == 0 else \
        passed(f"no answer within {ctx.timing.silence:g} s")


# --- RFC 6275 §9.2: unknown MH type, bad checksum -----------------------------------------
def unknown_type(ctx: Ctx):
    reply = yield from ctx.ask(0, UnknownMH(99, b"\0\0"), (BindingError, BindingAck),
                               note="Mobility Header of unknown type 99")
    msg = reply.message
    if not isinstance(msg, BindingError) or msg.status != BEStatus.UNRECOGNIZED_MH_TYPE:
        return failed("Binding Error status 2 (unrecognized MH Type)", describe(reply))
    return passed(describe(reply))


def bad_checksum(ctx: Ctx):
    if ctx.driver.transport != "ipv6":
        return skipped("over IPv4/UDP the MH checksum is 0 and the UDP checksum is the "
                       "kernel's (RFC 5844 §4.1); run with --transport ipv6")
    if not ctx.has_socket("bad"):
        return skipped("no raw socket without kernel checksums could be opened")
    mn = ctx.mn()
    pbu = ctx.pbu(mn)
    good = encode_mh(pbu, ctx.driver.mags[0], ctx.driver.target)  # type: ignore[arg-type]
    raw = good[:4] + bytes([good[4] ^ 0x5A, good[5] ^ 0xA5]) + good[6:]
    reply = yield from ctx.try_ask(0, pbu, (BindingAck,), sock="bad", raw=raw,
                                   reply_sock="main", note="PBU with a wrong MH checksum")
    if reply is not None:
        ctx.bound(mn, 0, None, 0)
        return failed("silently discarded", describe(reply))
    control = yield from ctx.register(mn, seq=pbu.seq, note="the same PBU, checksum right")
    return passed(f"no answer within {ctx.timing.silence:g} s; {describe(control)}")


# --- RFC 5847: heartbeat ----------------------------------------------------------------
def heartbeat(ctx: Ctx):
    seq = random.getrandbits(32)
    reply = yield from ctx.ask(0, Heartbeat(seq, 0), (Heartbeat,), note="Heartbeat request")
    msg = reply.message
    if not msg.flags & HBFlag.R or msg.flags & HBFlag.U or msg.seq != seq:
        return failed(f"Heartbeat response (R=1, U=0) with sequence {seq}", describe(reply))
    rc = msg.option(RestartCounter)
    extra = f", Restart Counter {rc.counter}" if rc is not None else ", no Restart Counter"
    return passed(describe(reply) + extra)


# --- RFC 5844 §4: the reply goes to the request's source port -------------------------------
def reply_port(ctx: Ctx):
    if ctx.driver.transport != "udp4":
        return skipped("UDP ports exist only with --transport udp4")
    if not ctx.has_socket("alt"):
        return skipped("no second UDP socket could be opened on the MAG address")
    mn = ctx.mn()
    reply = yield Ask(0, ctx.pbu(mn), (BindingAck,), note="PBU from another source port",
                      sock="alt")
    if reply is None:
        if ctx.has_socket("5436"):
            wrong = yield from ctx.listen(0, (BindingAck,), wait=0.0, sock="5436")
            if wrong is not None:
                return failed("the PBA sent to the PBU's source port",
                              f"{describe(wrong)} arrived on port 5436")
        raise NoAnswer("no PBA on the PBU's source port after the retransmissions")
    ba = _pba(reply)
    if ba.status == 0:
        ctx.bound(mn, 0, ba.hoa_reply.address if ba.hoa_reply else None,
                  ba.hoa_reply.prefix_len if ba.hoa_reply else 0)
    pkt = reply.packet
    if pkt.sport != ctx.driver.port:
        return failed(f"from {ctx.driver.target}:{ctx.driver.port} (the port the PBU went to)",
                      f"frame {reply.frame}: from {pkt.src}:{pkt.sport}")
    return passed(f"frame {reply.frame}: to the source port, from {pkt.src}:{pkt.sport}")


# --- RFC 6275 §6.1.8 / RFC 5213 §5.3.6: granted lifetime -----------------------------------
def lifetime(ctx: Ctx):
    mn = ctx.mn()
    want = 40  # 160 s
    first = yield from ctx.register(mn, lifetime=want)
    ba = _pba(first)
    if not 0 < ba.lifetime <= want:
        return failed(f"0 < granted lifetime <= {want * 4} s requested", describe(first))
    seen = [describe(first)]
    cap = ctx.profile.max_lifetime
    if cap is not None:
        big = yield from ctx.ask(0, ctx.pbu(mn, lifetime=0xFFFF, hi=REFRESH),
                                 note="re-registration asking for 262140 s")
        got = _pba(big)
        if got.status != 0 or not 0 < got.lifetime_s <= cap:
            return failed(f"accepted with 0 < lifetime <= {cap} s (profile max_lifetime)",
                          describe(big))
        seen.append(describe(big))
    return passed("; ".join(seen))
