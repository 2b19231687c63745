"""The LMA's object-free slow path: the common PBUs decided straight from their bytes.

An attach decoded, decided and answered the full way builds some sixty objects (the
Packet, the BindingUpdate and its options, the Request, the BindingAck and its options,
Send, Event...), and costs about as much as the rest of the transaction.  For a PBU over
IPv4/UDP of the shape the load generator and most MAGs send, :func:`decide` reads the
fields where they lie, takes the decisions of :mod:`pmipview.agents.lma` in the same order
with the same helpers (``authorize``'s profile checks, ``BindingCache.lookup_v4``,
``plan_hoa``, ``take_hoa``/``set_hoa``, ``LMA._grant``, ``_learn_peer``, ``_revoke``),
leaves the Binding Cache, the pool, the peers and the pending BRIs exactly as the slow
path would, and writes the accepted PBA into the template ``lma_wire.encode_pba`` keeps
for its shape.  The event is only named (the runtime counts it; nobody observes single
events when the fast path is on).

Handled: attach (a new session), re-registration (a refresh, which also leaves its
template to :class:`~pmipview.agents.lma_fast.FastPath`), handoff (BRI to the old MAG as
an extra output), de-registration of a whole IPv4 session and late de-registration; and
(:func:`decide_bra`) the BRA that answers a handoff's BRI.
What it reads: flags exactly A|P; options MN-ID (NAI subtype, text that encodes back to
its bytes), HI, ATT, MN-LLI and one IPv4 HoA Request, each at most once, Pad1/PadN, all
lengths as their decoders want them; Payload Proto 59, nothing after the declared
length.  Anything else, and every rejection (any :class:`Reject` raised before the first
change of state), returns None: the datagram then goes the full way, which answers it as
it always did.  ``tests/agents/test_lma_direct.py`` feeds random PBU sequences to an LMA
with and without this path and compares answers, bindings, pool and event counts.
"""

from __future__ import annotations

from ipaddress import IPv4Address
from struct import Struct
from typing import TYPE_CHECKING, Any

from dissectors.mh import IPPROTO_NONE, BindingAck
from dissectors.mh_codes import (
    BAFlag,
    BAStatus,
    BRType,
    BUFlag,
    HoAReplyStatus,
    MHType,
    MNIdSubtype,
    OptionType,
    status_accepted,
)
from dissectors.mh_options import (
    AccessTechnologyOpt,
    HandoffIndicatorOpt,
    IPv4DefaultRouter,
    IPv4DHCPSupportMode,
    IPv4HoAReply,
    IPv4HoARequest,
    MNIdentifier,
    MNLinkLayerId,
    MobilityOption,
)
from dissectors.text import display_text
from pmipview.agents.base import Address, Output
from pmipview.agents.lma_cache import PoolOwner, Session, forget
from pmipview.agents.lma_peers import held
from pmipview.agents.lma_policy import Reject, dhcp_option, seq_newer
from pmipview.agents.lma_wire import encode_pba, fill_pba

if TYPE_CHECKING:
    from pmipview.agents.lma import LMA

__all__ = ["Decision", "decide", "decide_bra", "refresh_pba", "where"]

_BU, _BR, _BRA = int(MHType.BU), int(MHType.BR), int(BRType.BRA)
_AP = int(BUFlag.A | BUFlag.P)
_PAD1, _PADN = int(OptionType.PAD1), int(OptionType.PADN)
_MNID, _HI = int(MNIdentifier.TYPE), int(HandoffIndicatorOpt.TYPE)
_ATT, _LLI = int(AccessTechnologyOpt.TYPE), int(MNLinkLayerId.TYPE)
_HOA = int(IPv4HoARequest.TYPE)
_NAI = int(MNIdSubtype.NAI)
_ACCEPTED, _SUCCESS, _P = int(BAStatus.ACCEPTED), int(HoAReplyStatus.SUCCESS), int(BAFlag.P)
_HEAD = Struct("!HHH")  # BU: sequence, flags, lifetime

# a decision: (PBA bytes, event kind, extra outputs or None, and for a refresh the fast
# path may answer next time: the session and where the PBU's options are (:func:`where`)
# or None)
Decision = tuple[bytes, str, "list[Output] | None", "tuple[Session, int] | None"]


def decide(lma: LMA, now: float, payload: bytes, src: Address, port: int,
           dst: Address) -> Decision | None:
    """The PBA for ``payload`` (a PBU from ``src``:``port`` to our ``dst``) and what it
    did, with the LMA's state updated; None (nothing changed) when the full way must
    answer it.  See the module docstring."""
    n = len(payload)
    if n < 12 or payload[2] != _BU or payload[0] != IPPROTO_NONE or payload[3] != 0 \
            or (payload[1] + 1) * 8 != n:
        return None
    seq, bits, lifetime = _HEAD.unpack_from(payload, 6)
    if bits != _AP:
        return None
    mn = hi = att = lli = hoa = -1   # where each option's data starts
    mn_end = lli_end = 0
    at = 12
    while at < n:
        t = payload[at]
        if t == _PAD1:
            at += 1
            continue
        if at + 2 > n:
            return None
        size = payload[at + 1]
        nxt = at + 2 + size
        if nxt > n:
            return None
        if t == _PADN:
            pass
        elif t == _MNID and mn < 0 and size >= 2:
            mn, mn_end = at + 2, nxt
        elif t == _HI and hi < 0 and size == 2:
            hi = at + 2
        elif t == _ATT and att < 0 and size == 2:
            att = at + 2
        elif t == _LLI and lli < 0 and size >= 2:
            lli, lli_end = at + 2, nxt
        elif t == _HOA and hoa < 0 and size == 6:
            hoa = at + 2
        else:
            return None
        at = nxt
    if mn < 0 or hi < 0 or att < 0 or hoa < 0 or payload[mn] != _NAI:
        return None
    ident = payload[mn + 1:mn_end]
    nai = display_text(ident)
    if nai.encode() != ident:  # the session would keep its MN-ID object
        return None
    cfg = lma.config
    profile = cfg.profiles.get(nai, cfg.default_profile)
    if profile is None or not profile.allowed or not profile.ipv4:
        return None
    cache = lma._cache
    for s in cache.nai_sessions(nai):
        forget(s)  # as the slow path does: this PBU may change what they would get
    hi_v, att_v = payload[hi + 1], payload[att + 1]
    lli_v = None
    if lli >= 0:
        lli_v = payload[lli + 2:lli_end]
        if not any(lli_v):
            lli_v = None  # all-zero: absent (RFC 5213 §6.9.1.1)
    addr = int.from_bytes(payload[hoa + 2:hoa + 6], "big")
    want = IPv4Address(addr) if addr else None
    try:
        session = cache.lookup_v4(nai, want, lli_v, att_v, hi_v, src)
        if (session is not None and cfg.sequence_window and session.mag == src
                and not seq_newer(seq, session.last_seq)):
            return None  # 135
        if lifetime == 0:
            return _deregister(lma, payload, session, src, seq, mn, mn_end, hi, att, lli,
                               lli_end)
        extra = old = None
        learn = None
        if session is None:
            sid = cache.next_sid
            owner = PoolOwner(sid, nai)
            hoa_v = cache.plan_hoa(want, None, profile, owner)
            if not cache.take_hoa(hoa_v, owner):
                return None  # 130
            session = Session(sid, None, att_v, lli_v, hi_v, src, cache.port_of(port), dst,
                              now, hoa=hoa_v, owner=owner, nai=nai)
            cache.add(session, ())
            kind = "registered"
        elif (session.mag != src or session.att != att_v
              or (lli_v is not None and lli_v != session.lli)):
            # a handoff (to another MAG, or HI=2 on this one); IPv6 is released
            hoa_v = cache.plan_hoa(want, session, profile, session.owner)
            old = held(session) if cfg.revoke_on_handoff and session.mag != src else None
            cache.set_hoa(session, hoa_v)
            cache.set_hnps(session, ())
            cache.move(session, src)
            session.mag_port, session.lmaa = cache.port_of(port), dst
            session.att, session.lli = att_v, lli_v
            kind = "handoff"
        else:
            hoa_v = cache.plan_hoa(want, session, profile, session.owner)
            cache.set_hoa(session, hoa_v)
            cache.set_hnps(session, session.hnps)
            session.mag_port, session.lmaa = cache.port_of(port), dst
            kind = "refreshed"
            if session.lli == lli_v and session.att == att_v:  # lookup_was_direct
                learn = (session, where(mn, mn_end, hi, att, lli, lli_end))
    except Reject:
        return None  # raised before any change: the full way answers it
    units = lma._grant(now, session, lifetime, hi_v, seq, None)
    lma._learn_peer(now, src, port, dst)
    pba = _accepted(lma, payload, seq, units, hoa_v, cache.config.pool.prefix_len,
                    dhcp_option(profile), mn, mn_end, hi, att, lli, lli_end)
    if kind == "handoff":
        lma._cancel_revocations(session.sid, session.mag)
        if old is not None:
            extra = lma._revoke(now, session, old)
    return pba, kind, extra, learn


def decide_bra(lma: LMA, payload: bytes, src: Address) -> Decision | None:
    """A BRA from ``src`` answering one of our pending BRIs: it is taken off them, as
    ``_on_revocation`` does (the answer is empty: nothing to send).  None when the full
    way must look at it (not a BRA, not exactly one well-formed Mobility Header, or no
    pending BRI of that number to that MAG: a ``dropped`` event)."""
    n = len(payload)
    if n < 12 or payload[2] != _BR or payload[0] != IPPROTO_NONE or payload[3] != 0 \
            or (payload[1] + 1) * 8 != n or payload[6] != _BRA:
        return None
    at = 12
    while at < n:  # options are ignored, but must be well formed (as decode_options)
        if payload[at] == _PAD1:
            at += 1
            continue
        if at + 2 > n:
            return None
        at += 2 + payload[at + 1]
        if at > n:
            return None
    seq = payload[8] << 8 | payload[9]
    pending = lma._pending.get(seq)
    if pending is None or pending.send.packet.dst != src:
        return None
    lma._unpend(seq)
    return b"", "revoked" if status_accepted(payload[7]) else "revocation-failed", None, None


def _deregister(lma: LMA, payload: bytes, session: Session | None, src: Address, seq: int,
                mn: int, mn_end: int, hi: int, att: int, lli: int,
                lli_end: int) -> Decision | None:
    """Lifetime 0: the whole IPv4 session (or a late de-registration) only."""
    if session is None or session.hoa is None:
        return None  # ignored (RFC 5213 §5.4.1), or the reply names the request's HoA
    late = session.mag != src
    if session.hnps and not late:
        return None  # scope "ipv4": the session keeps its prefixes
    pool = lma._cache.config.pool
    pba = _accepted(lma, payload, seq, 0, session.hoa, pool.prefix_len, None, mn, mn_end,
                    hi, att, lli, lli_end)
    if late:
        return pba, "late-deregistration", None, None
    lma._cache.remove(session)
    return pba, "deregistered", None, None


def where(mn: int, mn_end: int, hi: int, att: int, lli: int, lli_end: int) -> int:
    """The data offsets of a PBU's MN-ID, HI, ATT and MN-LLI (``lli`` -1: none) in one
    int, 11 bits each (a PBU is at most 2,048 bytes): what :func:`refresh_pba` needs
    to answer the same PBU again.  The fast path keeps it instead of the PBA's bytes:
    one int of 36 B instead of ~113 B of bytes a binding, 7 MiB at 100,000."""
    return (((((mn << 11 | mn_end) << 11 | hi) << 11 | att) << 11 | (lli + 1)) << 11
            | lli_end)


def refresh_pba(lma: LMA, session: Session, payload: bytes, seq: int,
                offsets: int) -> bytes | None:
    """The PBA :func:`decide` answered to this refresh (``payload`` is its PBU again,
    byte for byte but the sequence number; ``offsets`` from :func:`where`), for ``seq``;
    None when the session's profile is gone (then the full way answers)."""
    cfg = lma.config
    profile = cfg.profiles.get(session.nai, cfg.default_profile)
    hoa = session.hoa
    if profile is None or hoa is None:
        return None
    m = 0x7FF
    return _accepted(lma, payload, seq, session.lifetime >> 2, hoa,
                     cfg.pool.prefix_len, dhcp_option(profile), offsets >> 55,
                     offsets >> 44 & m, offsets >> 33 & m, offsets >> 22 & m,
                     (offsets >> 11 & m) - 1, offsets & m)


def _accepted(lma: LMA, payload: bytes, seq: int, units: int, hoa: IPv4Address,
              plen: int, dhcp: IPv4DHCPSupportMode | None, mn: int, mn_end: int, hi: int,
              att: int, lli: int, lli_end: int) -> bytes:
    """``LMA._accept``'s PBA for an IPv4-only PBU: MN-ID, HI, ATT, MN-LLI echoed, IPv4 HoA
    Reply, Default Router, DHCP Support Mode (``dhcp``)."""
    router = lma._router_option()
    shape = (mn_end - mn, lli_end - lli if lli >= 0 else -1, dhcp)
    key = _shapes.get(shape)
    if key is None:
        key = _shape_key(*shape)
    datas = [payload[mn:mn_end], payload[hi:hi + 2], payload[att:att + 2]]
    if lli >= 0:
        datas.append(payload[lli:lli_end])
    datas.append(bytes((_SUCCESS, (plen & 0x3F) << 2)) + hoa.packed)
    datas.append(router.data())
    if dhcp is not None:
        datas.append(dhcp.data())
    raw = fill_pba(key, _ACCEPTED, _P, seq, units, datas)
    if raw is not None:
        return raw
    # the first PBA of this shape: built as the slow path builds it (and learnt)
    opts: list[MobilityOption] = [MNIdentifier.from_data(datas[0]),
                                  HandoffIndicatorOpt.from_data(datas[1]),
                                  AccessTechnologyOpt.from_data(datas[2])]
    if lli >= 0:
        opts.append(MNLinkLayerId.from_data(datas[3]))
    opts += [IPv4HoAReply(HoAReplyStatus.SUCCESS, hoa, plen), router]
    if dhcp is not None:
        opts.append(dhcp)
    return encode_pba(BindingAck(BAStatus.ACCEPTED, seq, BAFlag.P, units, tuple(opts)))


_shapes: dict[tuple[int, int, Any], tuple[Any, ...]] = {}


def _shape_key(mn: int, lli: int, dhcp: IPv4DHCPSupportMode | None) -> tuple[Any, ...]:
    """``encode_pba``'s shape key of such a PBA (MN-ID data length, MN-LLI data length or
    -1 when absent, DHCP Support Mode option), remembered."""
    key: list[Any] = [MNIdentifier, mn, HandoffIndicatorOpt, 2, AccessTechnologyOpt, 2]
    if lli >= 0:
        key += (MNLinkLayerId, lli)
    key += (IPv4HoAReply, 6, IPv4DefaultRouter, 6)
    if dhcp is not None:
        key += (IPv4DHCPSupportMode, 2)
    if len(_shapes) >= 1024:
        _shapes.clear()
    found = _shapes[(mn, lli, dhcp)] = tuple(key)
    return found
