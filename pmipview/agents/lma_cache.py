"""The LMA's Binding Cache: mobility sessions, their indexes, expiry, and their addresses.

One entry per mobility session (RFC 5213 §5.1), numbered.  Indexed by HNP, by NAI and by
MAG (how many sessions each MAG holds); expiry is a heap with lazy deletion.  The IPv4
HoAs live in the shared :class:`~pmipview.agents.pool.AddressPool`, owned by
:class:`PoolOwner` keys; the HNPs come from the profile or ``hnp_pool``.  Look-up and
address planning (no side effects until ``set_hoa`` / ``set_hnps``) follow RFC 5213
§5.4.1 and RFC 5844 §3.1.2.7, as :mod:`pmipview.agents.lma` describes.
"""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Network

from dissectors.link import format_mac
from dissectors.mh_codes import BAStatus, HandoffIndicator, MNIdSubtype
from dissectors.mh_options import MNIdentifier
from pmipview.agents.base import Address
from pmipview.agents.churn import Churn
from pmipview.agents.lma_policy import PROHIBITED, LMAConfig, Profile, Reject, Request


@dataclass(frozen=True, slots=True)
class PoolOwner:
    """The owner key of an IPv4 HoA held by an LMA mobility session."""

    session: int
    nai: str


@dataclass(frozen=True, slots=True)
class Binding:
    """A snapshot of one Binding Cache entry (one mobility session)."""

    session: int
    nai: str
    lli: str | None
    att: int
    hi: int
    proxy_coa: Address
    transport: str  # "ipv6" or "ipv4" (then proxy_coa is the IPv4-Proxy-CoA)
    lmaa: Address
    hoa: IPv4Address | None
    prefix_len: int | None
    default_router: IPv4Address | None
    hnps: tuple[IPv6Network, ...]
    lifetime: int  # granted, seconds
    expires: float
    last_seq: int
    last_timestamp: int | None
    created: float
    updated: float

    @property
    def mag(self) -> Address:
        return self.proxy_coa


@dataclass(slots=True, eq=False)
class Session:
    """One Binding Cache entry (mutable; :class:`Binding` is its snapshot).  ``queued``
    is the time of its one entry in the expiry heap (None: none); ``fast_*`` are the
    refresh fast path's template (:mod:`pmipview.agents.lma_fast`).  ``mnid`` is kept
    only when the NAI text does not give it back (:meth:`mn_identifier`): 110 B a session."""

    sid: int
    mnid: MNIdentifier | None
    att: int
    lli: bytes | None          # the MN-LLI's bytes (text in the snapshot)
    hi: int
    mag: Address
    mag_port: int | None
    lmaa: Address
    created: float
    hoa: IPv4Address | None = None
    hnps: tuple[IPv6Network, ...] = ()
    lifetime: int = 0
    expires: float = 0.0
    last_seq: int = 0
    last_ts: int | None = None
    updated: float = 0.0
    nai: str = ""              # the MN-ID as text (computed from ``mnid`` when not given)
    owner: PoolOwner = None  # type: ignore[assignment]
    queued: float | None = None
    fast_key: bytes | None = None
    fast_in: dict[bytes, Session] | None = None
    fast_pba: bytes | int | None = None  # a PBA, or where to rebuild it from (lma_direct)

    def __post_init__(self) -> None:
        mnid = self.mnid
        if mnid is not None:
            if not self.nai:
                self.nai = mnid.text
            if mnid.subtype == MNIdSubtype.NAI and mnid.identifier == self.nai.encode():
                self.mnid = None  # MNIdentifier.nai(self.nai) is equal to it
        if self.owner is None:
            self.owner = PoolOwner(self.sid, self.nai)

    def mn_identifier(self) -> MNIdentifier:
        """The MN Identifier option of the session's PBUs (for the BRI)."""
        return self.mnid if self.mnid is not None else MNIdentifier.nai(self.nai)


def forget(s: Session) -> None:
    """Drop the session's refresh template (:mod:`pmipview.agents.lma_fast`): its state or
    its request may be about to change."""
    inner = s.fast_in
    if inner is not None:
        if inner.get(s.fast_key) is s:  # type: ignore[arg-type]
            del inner[s.fast_key]  # type: ignore[arg-type]
        s.fast_key = s.fast_in = s.fast_pba = None


@dataclass(frozen=True, slots=True)
class Avoid:
    """The addresses a dynamic HoA must not be: the default router and other NAIs'
    static HoAs (``in`` is all the pool asks of it)."""

    statics: dict[IPv4Address, str]
    nai: str
    router: IPv4Address

    def __contains__(self, addr: object) -> bool:
        if addr == self.router:
            return True
        holder = self.statics.get(addr)  # type: ignore[call-overload]
        return holder is not None and holder != self.nai



class BindingCache:
    """The sessions of one LMA and the addresses they hold (``config`` gives the pools,
    the default router and the profiles' reserved addresses)."""

    def __init__(self, config: LMAConfig) -> None:
        self.config = config
        self.sessions: dict[int, Session] = {}
        self.by_hnp: dict[IPv6Network, int] = {}
        # NAI -> its session, or its sessions oldest first when several (multihoming): a
        # list for each NAI would cost ~90 B a binding (see nai_sessions)
        self.by_nai: dict[str, Session | list[Session]] = {}
        self._mags: dict[Address, Address] = {}            # one address object per MAG
        self._ports: dict[int, int] = {}                   # one int object per MAG port
        self.expiry: list[tuple[float, int]] = []          # heap of (expires, sid)
        self.at_mag: Counter[Address] = Counter()          # MAG -> sessions there
        self.statics: dict[IPv4Address, str] = {}
        self.next_sid = 1
        self._churn = Churn()                              # rebuilds sessions and by_nai

    def __len__(self) -> int:
        return len(self.sessions)

    def reload(self, profiles: dict[str, Profile]) -> None:
        self.statics = {p.static_hoa: n for n, p in profiles.items()
                        if p.static_hoa is not None}

    # --- look-up (RFC 5213 §5.4.1, RFC 5844 §3.1.2.7) ---------------------------------
    def lookup(self, req: Request) -> Session | None:
        for net in req.prefixes:
            sid = self.by_hnp.get(net)
            if sid is not None:
                session = self.sessions[sid]
                if session.nai != req.nai:
                    raise Reject(BAStatus.NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX)
                return session
        return self.lookup_v4(req.nai, req.specific_v4, req.lli, req.att, req.hi, req.src)

    def lookup_v4(self, nai: str | None, addr: IPv4Address | None, lli: bytes | None,
                  att: int, hi: int, src: Address) -> Session | None:
        """The look-up of a PBU that names no prefix: a specific IPv4 HoA ``addr`` finds
        the session holding it, else :meth:`lookup_by_link`."""
        if addr is not None:
            owner = self.config.pool.owner_of(addr)
            if isinstance(owner, PoolOwner) and owner.session in self.sessions:
                if owner.nai != nai:
                    raise Reject(BAStatus.NOT_AUTHORIZED_FOR_IPV4_HOME_ADDRESS, PROHIBITED)
                return self.sessions[owner.session]
        return self.lookup_by_link(nai, lli, att, hi, src)

    def lookup_by_link(self, nai: str | None, lli: bytes | None, att: int, hi: int,
                       src: Address) -> Session | None:
        """(MN-ID, ATT, MN-LLI), or (MN-ID, ATT) from ``src`` without an LLI, or the
        NAI's one session taken over by HI=2 (HI=3 without LLI)."""
        mine = self.nai_sessions(nai)
        for s in mine:
            if s.att == att and s.lli == lli and (lli is not None or s.mag == src):
                return s
        takeover = hi == HandoffIndicator.INTER_INTERFACE or (
            hi == HandoffIndicator.INTER_MAG and lli is None)
        if len(mine) == 1 and takeover:
            return mine[0]
        return None

    def of_nai(self, nai: str) -> list[Session]:
        return list(self.nai_sessions(nai))

    def nai_sessions(self, nai: str | None) -> tuple[Session, ...] | list[Session]:
        """The NAI's sessions, oldest first (a view: do not change it)."""
        got = self.by_nai.get(nai or "")
        if got is None:
            return ()
        return got if type(got) is list else (got,)  # type: ignore[return-value]

    # --- entries ----------------------------------------------------------------------
    def add(self, session: Session, hnps: tuple[IPv6Network, ...]) -> None:
        self.next_sid = max(self.next_sid, session.sid + 1)
        self.sessions[session.sid] = session
        have = self.by_nai.get(session.nai)
        if have is None:
            self.by_nai[session.nai] = session
        elif type(have) is list:
            have.append(session)
        else:
            self.by_nai[session.nai] = [have, session]  # type: ignore[list-item]
        session.mag = self.mag_of(session.mag)
        self.at_mag[session.mag] += 1
        self.set_hnps(session, hnps)

    def mag_of(self, addr: Address) -> Address:
        """The one address object kept for a MAG (each datagram brings its own copy)."""
        return self._mags.setdefault(addr, addr)

    def port_of(self, port: int | None) -> int | None:
        """One int object per MAG port (each datagram brings its own: 32 B a session)."""
        if port is None:
            return None
        if len(self._ports) >= 4096:
            self._ports.clear()
        return self._ports.setdefault(port, port)

    def move(self, session: Session, mag: Address) -> None:
        self.at_mag[session.mag] -= 1
        self.at_mag[mag] += 1
        session.mag = self.mag_of(mag)

    def schedule(self, session: Session) -> None:
        """Keep one heap entry per session, at or before its expiry: a refresh that
        extends the lifetime pushes nothing (the entry is moved when it comes up), so the
        heap stays as large as the cache however many refreshes the run has."""
        at = session.expires
        if session.queued is None or at < session.queued:
            session.queued = at
            heapq.heappush(self.expiry, (at, session.sid))

    def remove(self, session: Session) -> None:
        if len(self.expiry) > len(self.sessions) * 5 // 4 + 1024:
            self._compact_expiry()  # first: no stale entry is held while a table is copied
        forget(session)
        self.set_hoa(session, None)
        self.set_hnps(session, ())
        if self.sessions.pop(session.sid, None) is not None:
            have = self.by_nai.get(session.nai)
            if have is session:
                del self.by_nai[session.nai]
            elif type(have) is list and session in have:
                have.remove(session)
                if len(have) == 1:
                    self.by_nai[session.nai] = have[0]
            self.at_mag[session.mag] -= 1
            if self.at_mag[session.mag] <= 0:
                del self.at_mag[session.mag]
                self._mags.pop(session.mag, None)
            if self._churn.due(len(self.sessions)):
                self.sessions = dict(self.sessions)  # one at a time (pmipview.agents.churn)
                self.by_nai = dict(self.by_nai)

    def _compact_expiry(self) -> None:
        """The heap rebuilt from the live sessions' entries when those of sessions gone
        pass a quarter of their number.  Lazy deletion leaves a de-registered session's
        entry until its time comes, a lifetime later: under churn (2,400 detaches/s at
        20,000 PBU/s, a 600 s lifetime) that is over a million stale entries, ~110 B
        each, and the LMA's RSS grew ~0.3 MB/s.  Amortised O(1) a removal (one O(n)
        pass per n/4 removals)."""
        sessions = self.sessions  # the live entries, as they are: no tuple made anew
        live = [e for e in self.expiry
                if (s := sessions.get(e[1])) is not None and s.queued == e[0]]
        heapq.heapify(live)
        self.expiry[:] = live

    def due(self, now: float) -> list[Session]:
        """The sessions whose lifetime ended by ``now`` (taken off the heap)."""
        out = []
        while self.next_expiry() is not None and self.expiry[0][0] <= now:
            _, sid = heapq.heappop(self.expiry)
            live = self.sessions[sid]
            live.queued = None
            out.append(live)
        return out

    def next_expiry(self) -> float | None:
        """The earliest expiry; entries of sessions gone are dropped and those refreshed
        since are moved to their new time (lazy deletion)."""
        heap, sessions = self.expiry, self.sessions
        while heap:
            at, sid = heap[0]
            live = sessions.get(sid)
            if live is not None and live.queued == at:
                if live.expires == at:
                    return at
                heapq.heapreplace(heap, (live.expires, sid))
                live.queued = live.expires
                continue
            heapq.heappop(heap)
        return None

    def snapshot(self, s: Session) -> Binding:
        v4 = s.hoa is not None
        return Binding(
            session=s.sid, nai=s.nai, lli=None if s.lli is None else format_mac(s.lli),
            att=s.att, hi=s.hi, proxy_coa=s.mag,
            transport=f"ipv{s.mag.version}", lmaa=s.lmaa, hoa=s.hoa,
            prefix_len=self.config.pool.prefix_len if v4 else None,
            default_router=self.config.default_router if v4 else None, hnps=s.hnps,
            lifetime=s.lifetime, expires=s.expires, last_seq=s.last_seq,
            last_timestamp=s.last_ts, created=s.created, updated=s.updated)

    # --- address planning (no side effects) and commit --------------------------------
    def plan_hnps(self, req: Request, session: Session | None, profile: Profile,
                  sid: int) -> tuple[IPv6Network, ...]:
        have = session.hnps if session is not None else ()
        if req.prefixes:
            if have:
                if set(req.prefixes) != set(have):
                    raise Reject(BAStatus.BCE_PBU_PREFIX_SET_DO_NOT_MATCH)
                return have
            for net in req.prefixes:
                self._check_prefix(net, req.nai or "", profile, sid)
            return req.prefixes
        if have:
            return have
        free = self._free_prefix(req.nai or "", profile)
        if free is None:
            raise Reject(BAStatus.INSUFFICIENT_RESOURCES)
        return (free,)

    def _check_prefix(self, net: IPv6Network, nai: str, profile: Profile, sid: int) -> None:
        """A specific prefix asked for a session that has none: authorised and free?"""
        refuse = Reject(BAStatus.NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX)
        if any(net.overlaps(held) for held, owner in self.by_hnp.items() if owner != sid):
            raise refuse
        if profile.hnp is not None and net == profile.hnp:
            return
        pool = self.config.hnp_pool
        if (pool is None or net.prefixlen != max(64, pool.prefixlen)
                or not net.subnet_of(pool)):
            raise refuse
        if any(net.overlaps(r) for r in self._reserved_prefixes(nai)):
            raise refuse

    def _reserved_prefixes(self, nai: str) -> list[IPv6Network]:
        return [p.hnp for n, p in self.config.profiles.items()
                if n != nai and p.hnp is not None]

    def _free_prefix(self, nai: str, profile: Profile) -> IPv6Network | None:
        taken = list(self.by_hnp)
        if profile.hnp is not None and not any(profile.hnp.overlaps(t) for t in taken):
            return profile.hnp
        pool = self.config.hnp_pool
        if pool is None:
            return None
        blocked = taken + self._reserved_prefixes(nai)
        exact = set(blocked)
        for net in pool.subnets(new_prefix=max(64, pool.prefixlen)):
            if net not in exact and not any(net.overlaps(b) for b in blocked):
                return net
        return None

    def plan_hoa(self, want: IPv4Address | None, session: Session | None, profile: Profile,
                 owner: PoolOwner) -> IPv4Address:
        """The HoA for a PBU asking for ``want`` (None: any, ``Request.specific_v4``)."""
        have = session.hoa if session is not None else None
        if want is None:
            return have if have is not None else self._free_hoa(owner.nai, profile, owner)
        refuse = Reject(BAStatus.NOT_AUTHORIZED_FOR_IPV4_HOME_ADDRESS, PROHIBITED)
        if have is not None:
            if want != have:
                raise refuse
            return have
        pool = self.config.pool
        if want not in pool or want == self.config.default_router:
            raise refuse  # not anchored here
        if profile.static_hoa is not None and want != profile.static_hoa:
            raise refuse
        if self._reserved_for_other(want, owner.nai):
            raise refuse
        current = pool.owner_of(want)
        if current is not None and current != owner and not self._adoptable(current):
            raise refuse
        return want

    def _adoptable(self, owner: object) -> bool:
        return self.config.adopt_foreign_hoa and not isinstance(owner, PoolOwner)

    def take_hoa(self, hoa: IPv4Address, owner: PoolOwner) -> bool:
        pool = self.config.pool
        current = pool.owner_of(hoa)
        if current is not None and current != owner and self._adoptable(current):
            return pool.transfer(current, owner) == hoa
        return pool.reserve(hoa, owner)

    def _reserved_for_other(self, addr: IPv4Address, nai: str) -> bool:
        holder = self.statics.get(addr)
        return holder is not None and holder != nai

    def _free_hoa(self, nai: str, profile: Profile, owner: PoolOwner) -> IPv4Address:
        pool = self.config.pool
        static = profile.static_hoa
        if static is not None and static in pool and pool.owner_of(static) in (None, owner):
            return static
        router = self.config.default_router
        # the router is usually left out of the pool: then only other NAIs' statics matter
        avoid = Avoid(self.statics, nai, router) if self.statics or router in pool else ()
        addr = pool.lowest_free(avoid)
        if addr is not None:
            return addr
        raise Reject(BAStatus.INSUFFICIENT_RESOURCES, self.config.exhausted_reply_status)

    def set_hoa(self, session: Session, hoa: IPv4Address | None) -> None:
        pool = self.config.pool
        if hoa is None:
            if session.hoa is not None:
                pool.release(session.owner)
        elif hoa != session.hoa and not self.take_hoa(hoa, session.owner):
            raise Reject(BAStatus.INSUFFICIENT_RESOURCES, self.config.exhausted_reply_status)
        session.hoa = hoa

    def set_hnps(self, session: Session, hnps: tuple[IPv6Network, ...]) -> None:
        for net in session.hnps:
            if self.by_hnp.get(net) == session.sid:
                del self.by_hnp[net]
        session.hnps = hnps
        for net in hnps:
            self.by_hnp[net] = session.sid
