"""The reference Local Mobility Anchor: RFC 5213 with the IPv4 support of RFC 5844, sans-IO.

Driven as described in :mod:`pmipview.agents.base`: ``receive(now, packet)``,
``timer(now)`` at the time ``next_timer()`` returned; every call returns a list of
:class:`Send` / :class:`Event`.  Messages are dataclasses from :mod:`dissectors.mh`; the
runner encodes them (``encode_mh``).  Signaling goes over IPv6 (MH, next header 135) or
IPv4/UDP 5436 (RFC 5844 §4): a reply goes back on the transport the request came on, from
the address it was sent to, to its source address and (UDP) source port.

What the LMA does
-----------------
- **PBU** → PBA.  Checks in this order (first failure wins): P flag (a plain BU gets a BA
  131 "home registration not supported": this node is no home agent), MN-ID (160), HI (161),
  ATT (162), HNP or IPv4 HoA Request (158), at most one IPv4 HoA Request (173), a profile
  for the NAI (153), profile enabled (152), IPv6 authorised and routable (172), IPv4
  authorised (170), prefixes syntactically usable (155); then the Binding Cache look-up,
  then ordering (timestamp 156/157 or sequence 135), then addresses (155/159 for prefixes,
  171 for a specific IPv4 HoA, 130 when a pool is exhausted).  With the A flag clear an
  accepted PBU gets no PBA (RFC 6275 §9.5.1); rejections are always answered.
- **Binding Cache**: one entry per mobility session, numbered (``session``).  Look-up
  (RFC 5213 §5.4.1 + RFC 5844 §3.1.2.7): a non-zero HNP finds the session holding it; else a
  non-zero IPv4 HoA finds the session holding it; else (MN-ID, ATT, MN-LLI) — without an
  LLI, (MN-ID, ATT) from the same Proxy-CoA; else, when the NAI has exactly one session,
  HI=2 (or HI=3 without LLI) takes it over.  Anything else is a new session, so a
  multihomed MN (one NAI, two LLIs) has two sessions with their own HoA and HNP.  HI=4
  without a match creates a new session at once (the RFC's "MAY", no waiting).
- **Re-registration** from the MAG holding the session extends it; it may add IPv4 (or
  IPv6) to a session that had only the other family (RFC 5844 §3.1.2.1).
- **Handoff**: a PBU matching a session held by another Proxy-CoA moves it (PBA to the new
  MAG, ``handoff`` event).  The family the new PBU does not ask for is released
  (RFC 5844 §3.1.2.4).  With ``revoke_on_handoff`` the old MAG gets a BRI (trigger 2, or 3
  when the ATT changed; P flag; V when the revoked binding is IPv4-only; MN-ID, HNPs and an
  IPv4 HoA Request naming the old binding), retransmitted every ``bri_retransmit`` seconds
  up to ``bri_attempts`` transmissions; a pending BRI is cancelled if the session comes
  back to that MAG first.
- **De-registration** (lifetime 0) from the holding MAG removes the session and frees its
  addresses; with only an IPv4 HoA Request (no HNP) it drops IPv4 only, with only HNPs it
  drops IPv6 only (RFC 5844 §3.1.2.5), when the session has both.  From another MAG (late
  de-registration after a handoff) it is accepted and the session is left alone
  (RFC 5213 §5.3.5).  A de-registration matching no session is silently ignored
  (RFC 5213 §5.4.1), reported as ``dropped``.
- **Heartbeat** (RFC 5847): requests are answered (R=1, same sequence, Restart Counter).
  With ``heartbeat_interval`` every MAG holding a binding is probed (a MAG left without
  bindings is forgotten, so an idle LMA has no timer); a response whose Restart Counter
  differs from the last one reports ``peer-restarted``; ``heartbeat_misses`` unanswered
  requests in a row report ``peer-unreachable`` (state is only reported, nothing is torn
  down).
- Unknown MH types get a Binding Error status 2; a BRI from a MAG gets a BRA 134
  (revocation function not supported); everything else unusable is ``dropped``.

RFC interpretations
-------------------
- Pool exhausted: PBA 130 with an IPv4 HoA Reply status **128**, as RFC 5844 §3.1.2.2
  states ("...MUST also include the IPv4 Home Address Reply option ... set to 128 (Failure,
  reason unspecified)"); 132 "dynamic assignment not available" is meant for an LMA that
  cannot allocate dynamically at all.  ``exhausted_reply_status`` changes it.
- 171 always carries Reply status 129 (RFC 5844 §3.1.2.2); 170 also carries 129; every
  other rejection of a PBU with an IPv4 HoA Request carries 128.  Reply 130 "incorrect IPv4
  home address" is not used.
- Ordering: timestamps are used when ``timestamp_window`` is set and the PBU has a
  Timestamp (156 outside now±window, 157 lower than the session's last accepted one;
  both PBAs carry the LMA's own time).  Otherwise, with ``sequence_window``, a PBU from
  the MAG holding the session must have a sequence number greater (mod 2**16) than the last
  accepted one, else 135 with the last accepted number in the PBA (RFC 6275 §9.5.1).  MAGs
  do not share sequence numbers, so a PBU from another MAG (handoff, late de-registration)
  is not sequence-checked.  LMA time for timestamps is ``now + clock_offset``.
- Lifetime granted: min(requested, ``max_lifetime``), raised to ``min_lifetime`` (a floor,
  so it may exceed the request), at least one 4 s unit; 0 only in de-registration PBAs.
- A specific (non-zero) IPv4 HoA is granted only when it lies in the pool, is not the
  default router nor another profile's ``static_hoa``, is the profile's own ``static_hoa``
  when it has one, and is free or already this session's (or adoptable, see
  ``adopt_foreign_hoa``); a session keeps its address, asking for another one is 171.
  A specific HNP must be the profile's ``hnp`` or a free /64 of ``hnp_pool`` (else 155);
  asking for another prefix set than the session's is 159.
- An option whose length does not fit its type is decoded as ``UnknownOption``; it counts as
  absent (a required one thus yields 160/161/162, a malformed IPv4 HoA Request is ignored).
- Unsupported and ignored: GRE Key, the F flag (UDP encapsulation), the Link-local Address
  option (echoed as received), MAG authorisation (154), MinDelayBeforeBCEDelete.

Event kinds (``mn`` is the NAI when known)
------------------------------------------
``registered`` (session, mag, transport, hoa, hnps, lifetime), ``refreshed`` (same),
``handoff`` (same + from, to, hi), ``deregistered`` (session, mag, scope "all" | "ipv4" |
"ipv6", hoa, hnps), ``late-deregistration`` (session, mag, holder), ``rejected`` (status,
status_name, mag, seq), ``expired`` (session, mag, hoa, hnps), ``revoked`` /
``revocation-failed`` (session, mag, seq, status, status_name), ``revocation-timeout``
(session, mag, seq), ``retransmit`` (message "BRI", mag, seq, attempt), ``peer-restarted``
(peer, old, new), ``peer-unreachable`` / ``peer-reachable`` (peer), ``dropped`` (reason;
``error`` too for an internal error).

IPv4 HoAs in the shared :class:`AddressPool` are owned by :class:`PoolOwner` keys.

Modules: :mod:`~pmipview.agents.lma_policy` (profiles, settings, what a PBU asks for,
authorisation, lifetimes), :mod:`~pmipview.agents.lma_cache` (the Binding Cache, its
indexes, expiry and addresses), :mod:`~pmipview.agents.lma_peers` (revocation and
heartbeat), :mod:`~pmipview.agents.lma_fast` (refreshes answered from bytes), and this
one, the state machine.
"""

from __future__ import annotations

import math
from typing import Any

from dissectors.mh import (
    BindingAck,
    BindingError,
    BindingRevocation,
    BindingUpdate,
    Heartbeat,
    UnknownMH,
)
from dissectors.mh_codes import (
    BAFlag,
    BAStatus,
    BEStatus,
    HoAReplyStatus,
    RevocationTrigger,
    name_of,
)
from dissectors.mh_options import (
    IPv4DefaultRouter,
    IPv4HoAReply,
    MobilityOption,
    Timestamp,
)
from pmipview.agents.base import Address, Event, Output, Packet
from pmipview.agents.lma_cache import Binding, BindingCache, PoolOwner, Session
from pmipview.agents.lma_fast import FastPath, Offer, forget, lookup_was_direct
from pmipview.agents.lma_peers import (
    Peer,
    PeerSignaling,
    PendingBRI,
    held,
    hnp_option,
    reply,
)
from pmipview.agents.lma_policy import (
    PROHIBITED,
    UNSPECIFIED,
    Ignore,
    LMAConfig,
    Profile,
    Reject,
    Request,
    authorize,
    dhcp_option,
    grant,
    seq_newer,
)
from pmipview.agents.pool import AddressPool

__all__ = ["LMA", "PROHIBITED", "UNSPECIFIED", "AddressPool", "Binding", "LMAConfig",
           "PoolOwner", "Profile"]

_seconds: dict[int, int] = {}  # granted lifetimes: one int object each, not one a session


class LMA(PeerSignaling):
    """The reference LMA core.  See the module docstring for behaviour and events."""

    def __init__(self, config: LMAConfig) -> None:
        self.config = config
        self._cache = BindingCache(config)
        self.fast: FastPath | None = None
        self._bri_seq = 0
        self._pending: dict[int, PendingBRI] = {}
        self._revoking: dict[int, int] = {}
        self._peers: dict[Address, Peer] = {}
        self._hb_seq = 0
        self._router_opt: IPv4DefaultRouter | None = None
        self.reload(config.profiles, config.default_profile)

    def reload(self, profiles: dict[str, Profile], default_profile: Profile | None) -> None:
        """New profiles (SIGHUP): bindings stay; the next PBU of each MN sees its new
        profile.  A static HoA already held by another session stays with it."""
        self.config.profiles = dict(profiles)
        self.config.default_profile = default_profile
        self._cache.reload(profiles)
        if self.fast is not None:
            self.fast.clear()

    # --- public interface -----------------------------------------------------------------
    def receive(self, now: float, packet: Packet) -> list[Output]:
        try:
            return self._dispatch(now, packet)
        except Exception as exc:  # never raise for any input
            return [Event("dropped", None, {"reason": "internal error", "error": repr(exc)})]

    def timer(self, now: float) -> list[Output]:
        try:
            return self._expire(now) + self._bri_timers(now) + self._heartbeat_timers(now)
        except Exception as exc:
            return [Event("dropped", None, {"reason": "internal error", "error": repr(exc)})]

    def next_timer(self) -> float | None:
        first = self._cache.next_expiry()
        hb = self.config.heartbeat_interval is not None
        if not self._pending and not hb:  # the usual case: expiries only (every wakeup)
            return first if first is not None and math.isfinite(first) else None
        times = [first] if first is not None else []
        times += [p.deadline for p in self._pending.values()]
        if hb:
            active = self._cache.at_mag
            times += [p.next_at for p in self._peers.values() if active[p.addr] > 0]
        times = [t for t in times if math.isfinite(t)]
        return min(times) if times else None

    def bindings(self) -> list[Binding]:
        cache = self._cache
        return [cache.snapshot(s) for s in sorted(cache.sessions.values(), key=lambda s: s.sid)]

    def bindings_for(self, nai: str) -> list[Binding]:
        return [self._cache.snapshot(s) for s in self._cache.of_nai(nai)]

    def enable_fast_path(self) -> FastPath:
        """Turn on the refresh fast path (:mod:`pmipview.agents.lma_fast`) for a runner
        that answers raw datagrams with :meth:`FastPath.answer`."""
        if self.fast is None:
            self.fast = FastPath(self)
        return self.fast

    def revoking(self) -> set[int]:
        """Sessions with a BRI waiting for its BRA."""
        return set(self._revoking)

    def __len__(self) -> int:
        """The number of bindings (mobility sessions) in the cache."""
        return len(self._cache)

    def binding_for(self, nai: str) -> Binding | None:
        """The NAI's most recently updated session (a multihomed MN has several)."""
        found = self.bindings_for(nai)
        return max(found, key=lambda b: (b.updated, b.session)) if found else None

    def revoke(self, now: float, nai: str) -> list[Output]:
        """Revoke the NAI's latest binding at its MAG on the LMA's own initiative (RFC 5846
        §6.1, trigger Administrative Reason): a BRI to that MAG.  The binding cache entry
        stays, so that another MAG may take the session over (RFC 5213 §5.3.5)."""
        mine = [s for s in self._cache.sessions.values() if s.nai == nai]
        if not mine:
            return [Event("dropped", nai, {"reason": "revoke: no binding for this MN"})]
        session = max(mine, key=lambda s: s.sid)
        return self._revoke(now, session, held(session), RevocationTrigger.ADMINISTRATIVE)

    # --- dispatch -------------------------------------------------------------------------
    def _dispatch(self, now: float, packet: Packet) -> list[Output]:
        msg = packet.message
        wire = getattr(msg, "wire", None)
        if wire is not None and wire.checksum_ok is False:
            return [Event("dropped", None, {"reason": "bad MH checksum"})]
        if isinstance(msg, BindingUpdate):
            return self._on_bu(now, packet, msg)
        if isinstance(msg, BindingRevocation):
            return self._on_revocation(packet, msg)
        if isinstance(msg, Heartbeat):
            return self._on_heartbeat(packet, msg)
        if isinstance(msg, UnknownMH):
            error = BindingError(BEStatus.UNRECOGNIZED_MH_TYPE)
            return [reply(packet, error),
                    Event("dropped", None, {"reason": f"unknown MH type {msg.mh_type}"})]
        return [Event("dropped", None, {"reason": f"unexpected {type(msg).__name__}"})]

    # --- PBU ------------------------------------------------------------------------------
    def _on_bu(self, now: float, packet: Packet, bu: BindingUpdate) -> list[Output]:
        if not bu.proxy:
            ba = BindingAck(BAStatus.HOME_REGISTRATION_NOT_SUPPORTED, bu.seq, BAFlag(0), 0)
            return [reply(packet, ba), self._rejected_event(packet, bu.mn_id, ba)]
        req = Request.parse(packet, bu)
        fast = self.fast
        if fast is not None:
            fast.offer = None
            for s in self._cache.nai_sessions(req.nai):
                forget(s)  # this PBU may change what the NAI's cached refreshes get
        try:
            profile = authorize(self.config, req)
            session = self._cache.lookup(req)
            late = session is not None and bu.lifetime == 0 and session.mag != req.src
            self._check_order(now, req, session, late)
            if bu.lifetime == 0:
                return self._deregister(now, req, session)
            return self._register(now, req, session, profile)
        except Reject as rej:
            return self._reject(now, req, rej)
        except Ignore as ign:
            return [Event("dropped", req.nai, {"reason": ign.reason, "mag": req.src})]

    def _check_order(self, now: float, req: Request, session: Session | None,
                     late: bool) -> None:
        cfg = self.config
        ts = req.timestamp
        if ts is not None and cfg.timestamp_window is not None:
            if abs(ts.seconds - (now + cfg.clock_offset)) > cfg.timestamp_window:
                raise Reject(BAStatus.TIMESTAMP_MISMATCH, stamp=True)
            if (session is not None and not late and session.last_ts is not None
                    and ts.value < session.last_ts):
                raise Reject(BAStatus.TIMESTAMP_LOWER_THAN_PREV_ACCEPTED, stamp=True)
            return
        if (cfg.sequence_window and session is not None and session.mag == req.src
                and not seq_newer(req.pbu.seq, session.last_seq)):
            raise Reject(BAStatus.SEQUENCE_OUT_OF_WINDOW, seq=session.last_seq)

    # --- registration, refresh, handoff -------------------------------------------------
    def _register(self, now: float, req: Request, session: Session | None,
                  profile: Profile) -> list[Output]:
        if session is None:
            return self._create(now, req, profile)
        moved = (session.mag != req.src or session.att != req.att
                 or (req.lli is not None and req.lli != session.lli))
        if moved:  # to another MAG, or to another interface (HI=2) on the same MAG
            return self._handoff(now, req, session, profile)
        return self._refresh(now, req, session, profile)

    def _create(self, now: float, req: Request, profile: Profile) -> list[Output]:
        assert req.mnid is not None
        cache = self._cache
        sid = cache.next_sid
        nai = req.nai or ""
        owner = PoolOwner(sid, nai)
        hnps = cache.plan_hnps(req, None, profile, sid) if req.hnps else ()
        hoa = cache.plan_hoa(req.specific_v4, None, profile, owner) if req.v4 else None
        if hoa is not None and not cache.take_hoa(hoa, owner):
            raise Reject(BAStatus.INSUFFICIENT_RESOURCES, self.config.exhausted_reply_status)
        session = Session(sid, req.mnid, req.att, req.lli, req.hi, req.src,
                          cache.port_of(req.port),
                          req.packet.dst, now, hoa=hoa, owner=owner, nai=nai)
        cache.add(session, hnps)
        units = self._stamp(now, req, session)
        self._learn_peer(now, req.src, req.port, req.packet.dst)
        event = Event("registered", session.nai, self._detail(session))
        return [*self._accept(req, session, units, profile), event]

    def _refresh(self, now: float, req: Request, session: Session,
                 profile: Profile) -> list[Output]:
        cache = self._cache
        hnps = cache.plan_hnps(req, session, profile, session.sid) if req.hnps else session.hnps
        hoa = (cache.plan_hoa(req.specific_v4, session, profile, session.owner) if req.v4
               else session.hoa)
        cache.set_hoa(session, hoa)
        cache.set_hnps(session, hnps)
        session.mag_port, session.lmaa = cache.port_of(req.port), req.packet.dst
        units = self._stamp(now, req, session)
        self._learn_peer(now, req.src, req.port, req.packet.dst)
        event = Event("refreshed", session.nai, self._detail(session))
        out = self._accept(req, session, units, profile)
        fast = self.fast
        if (fast is not None and out and lookup_was_direct(session, req.lli, req.att, req.src)
                and (req.timestamp is None or self.config.timestamp_window is None)):
            fast.offer = Offer(session, out[0].packet.message)  # type: ignore[union-attr, arg-type]
        return [*out, event]

    def _handoff(self, now: float, req: Request, session: Session,
                 profile: Profile) -> list[Output]:
        # RFC 5844 §3.1.2.4: the family the new PBU does not ask for is released.
        cache = self._cache
        hnps = cache.plan_hnps(req, session, profile, session.sid) if req.hnps else ()
        hoa = cache.plan_hoa(req.specific_v4, session, profile, session.owner) if req.v4 else None
        old = held(session)
        cache.set_hoa(session, hoa)
        cache.set_hnps(session, hnps)
        cache.move(session, req.src)
        session.mag_port, session.lmaa = cache.port_of(req.port), req.packet.dst
        session.att, session.lli = req.att, req.lli
        units = self._stamp(now, req, session)
        self._learn_peer(now, req.src, req.port, req.packet.dst)
        out = self._accept(req, session, units, profile)
        self._cancel_revocations(session.sid, session.mag)  # it came back to a revoked MAG
        if self.config.revoke_on_handoff and old[0] != session.mag:
            out += self._revoke(now, session, old)
        detail = {"from": old[0], "to": session.mag, "hi": req.hi, **self._detail(session)}
        out.append(Event("handoff", session.nai, detail))
        return out

    def _stamp(self, now: float, req: Request, session: Session) -> int:
        """Record an accepted PBU in the session; returns the granted lifetime (4 s units)."""
        ts = req.timestamp
        return self._grant(now, session, req.pbu.lifetime, req.hi, req.pbu.seq,
                           None if ts is None else ts.value)

    def _grant(self, now: float, session: Session, lifetime: int, hi: int, seq: int,
               ts: int | None) -> int:
        """:meth:`_stamp` from the PBU's fields (also the object-free path's)."""
        units = grant(self.config, lifetime)
        session.hi = hi
        session.lifetime = _seconds.get(units) or _seconds.setdefault(units, units * 4)
        session.expires = now + units * 4
        self._cache.schedule(session)
        session.last_seq = seq
        if ts is not None:
            session.last_ts = ts
        session.updated = now
        return units

    def _note(self, now: float, req: Request, session: Session) -> None:
        session.last_seq = req.pbu.seq
        if req.timestamp is not None:
            session.last_ts = req.timestamp.value
        session.updated = now

    # --- de-registration ------------------------------------------------------------------
    def _deregister(self, now: float, req: Request, session: Session | None) -> list[Output]:
        if session is None:
            raise Ignore("de-registration matches no binding (RFC 5213 §5.4.1)")
        if session.mag != req.src:
            out = self._accept(req, session, 0, None)
            late = {"session": session.sid, "mag": req.src, "holder": session.mag}
            return [*out, Event("late-deregistration", session.nai, late)]
        scope = self._dereg_scope(req, session)
        out = self._accept(req, session, 0, None)
        detail: dict[str, object] = {"session": session.sid, "mag": session.mag,
                                     "scope": scope, "hoa": session.hoa,
                                     "hnps": session.hnps}  # what is released
        if scope == "all":
            self._cache.remove(session)
        elif scope == "ipv4":
            detail["hnps"] = ()
            self._cache.set_hoa(session, None)
            self._note(now, req, session)
        else:
            detail["hoa"] = None
            self._cache.set_hnps(session, ())
            self._note(now, req, session)
        return [*out, Event("deregistered", session.nai, detail)]

    @staticmethod
    def _dereg_scope(req: Request, session: Session) -> str:
        both = session.hoa is not None and bool(session.hnps)
        if both and req.v4 and not req.hnps:
            return "ipv4"
        if both and req.hnps and not req.v4:
            return "ipv6"
        return "all"

    # --- PBA construction -------------------------------------------------------------
    def _accept(self, req: Request, session: Session, units: int,
                profile: Profile | None) -> list[Output]:
        """The accepted PBA (empty when the PBU had A=0); ``profile`` None: de-registration."""
        if not req.ack:
            return []
        opts: list[MobilityOption] = [req.mnid]
        if req.hnps:
            opts += [hnp_option(n) for n in session.hnps] or list(req.hnps)
        opts += self._echo(req, None)
        if req.v4:
            opts += self._v4_options(req, session, profile)
        ba = BindingAck(BAStatus.ACCEPTED, req.pbu.seq, BAFlag.P, units, tuple(opts))
        return [reply(req.packet, ba)]

    def _v4_options(self, req: Request, session: Session,
                    profile: Profile | None) -> list[MobilityOption]:
        pool = self.config.pool
        hoa = session.hoa if session.hoa is not None else req.v4[0].address
        plen = pool.prefix_len if session.hoa is not None else req.v4[0].prefix_len
        opts: list[MobilityOption] = [IPv4HoAReply(HoAReplyStatus.SUCCESS, hoa, plen),
                                      self._router_option()]
        mode = dhcp_option(profile)
        if mode is not None:
            opts.append(mode)
        return opts

    def _router_option(self) -> IPv4DefaultRouter:
        """One option object for every PBA (options are immutable by convention)."""
        router = self.config.default_router
        opt = self._router_opt
        if opt is None or opt.address != router:
            opt = self._router_opt = IPv4DefaultRouter(router)
        return opt

    @staticmethod
    def _echo(req: Request, stamp: Timestamp | None) -> list[MobilityOption]:
        """HI, ATT, MN-LLI, Timestamp (``stamp`` replaces it) and LLA as in the request."""
        opts: list[MobilityOption | None] = [req.hi_opt, req.att_opt, req.lli_opt,
                                             stamp or req.timestamp, req.lla]
        return [o for o in opts if o is not None]

    def _reject(self, now: float, req: Request, rej: Reject) -> list[Output]:
        stamp = Timestamp.at(now + self.config.clock_offset) if rej.stamp else None
        opts: list[MobilityOption] = [req.mnid] if req.mnid is not None else []
        opts += list(req.hnps) + self._echo(req, stamp)
        opts += [IPv4HoAReply(rej.reply, r.address, r.prefix_len) for r in req.v4]
        seq = rej.seq if rej.seq is not None else req.pbu.seq
        ba = BindingAck(rej.status, seq, BAFlag.P, 0, tuple(opts))
        return [reply(req.packet, ba), self._rejected_event(req.packet, req.nai, ba)]

    @staticmethod
    def _rejected_event(packet: Packet, nai: str | None, ba: BindingAck) -> Event:
        return Event("rejected", nai, {"status": int(ba.status),
                                       "status_name": name_of(BAStatus, ba.status),
                                       "mag": packet.src, "seq": ba.seq})

    # --- expiry and snapshots ---------------------------------------------------------
    def _expire(self, now: float) -> list[Output]:
        out: list[Output] = []
        for session in self._cache.due(now):
            detail = {"session": session.sid, "mag": session.mag, "hoa": session.hoa,
                      "hnps": session.hnps}
            self._cache.remove(session)
            out.append(Event("expired", session.nai, detail))
        return out

    def _detail(self, session: Session) -> dict[str, Any]:
        return {"session": session.sid, "mag": session.mag,
                "transport": f"ipv{session.mag.version}", "hoa": session.hoa,
                "hnps": session.hnps, "lifetime": session.lifetime}
