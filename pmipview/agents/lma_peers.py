"""The LMA's signaling with MAGs it did not get a PBU from: revocation and heartbeat.

Binding Revocation (RFC 5846: a BRI to the MAG that lost a session in a handoff, or on the
operator's request, retransmitted until its BRA; a BRI from a MAG gets BRA "not
supported") and Heartbeat (RFC 5847: requests answered, MAGs holding bindings probed,
restart and reachability reported), as a part of :class:`~pmipview.agents.lma.LMA` (the
state machine mixes this class in; it owns ``config``, ``_cache``, ``_pending``,
``_revoking``, ``_peers``, ``_bri_seq`` and ``_hb_seq``).  Also the reply helpers every
part uses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Network
from typing import TYPE_CHECKING

from dissectors.mh import BindingRevocation, Heartbeat, MobilityMessage
from dissectors.mh_codes import (
    BR_FLAG_BITS,
    PMIP6_CNTL_PORT,
    BRAStatus,
    BRFlag,
    BRType,
    HBFlag,
    MessageKind,
    RevocationTrigger,
    name_of,
    status_accepted,
)
from dissectors.mh_options import (
    HomeNetworkPrefix,
    IPv4HoARequest,
    MNIdentifier,
    MobilityOption,
    RestartCounter,
)
from pmipview.agents.base import BACKHAUL, Address, Event, Output, Packet, Send

if TYPE_CHECKING:
    from pmipview.agents.lma_cache import BindingCache, Session
    from pmipview.agents.lma_policy import LMAConfig


@dataclass(slots=True)
class PendingBRI:
    seq: int
    session: int
    nai: str
    send: Send
    attempts: int
    deadline: float


@dataclass(slots=True)
class Peer:
    addr: Address
    port: int | None
    lmaa: Address
    next_at: float
    outstanding: int | None = None
    missed: int = 0
    unreachable: bool = False
    restart: int | None = None


# what a BRI names of the binding it revokes, taken before the handoff changes it:
# (MAG, its UDP port, our address there, ATT, IPv4 HoA, HNPs)
Held = tuple[Address, "int | None", Address, int, "IPv4Address | None",
             "tuple[IPv6Network, ...]"]


def held(s: Session) -> Held:
    """The session's binding as a BRI names it (see :data:`Held`)."""
    return s.mag, s.mag_port, s.lmaa, s.att, s.hoa, s.hnps


def hnp_option(net: IPv6Network) -> HomeNetworkPrefix:
    return HomeNetworkPrefix(net.network_address, net.prefixlen)


def reply(packet: Packet, message: MobilityMessage) -> Send:
    """``message`` back to where ``packet`` came from, on the same transport."""
    if packet.src.version == 4:
        return Send(Packet(packet.dst, packet.src, message, packet.iface, PMIP6_CNTL_PORT,
                           packet.sport or PMIP6_CNTL_PORT))
    return Send(Packet(packet.dst, packet.src, message, packet.iface))


def to_mag(mag: Address, port: int | None, lmaa: Address, message: MobilityMessage) -> Send:
    """An LMA-initiated message (BRI, heartbeat request) to a MAG."""
    if mag.version == 4:
        return Send(Packet(lmaa, mag, message, BACKHAUL, PMIP6_CNTL_PORT,
                           port or PMIP6_CNTL_PORT))
    return Send(Packet(lmaa, mag, message, BACKHAUL))


class PeerSignaling:
    """Revocation and heartbeat state and handlers of the LMA."""

    config: LMAConfig
    _cache: BindingCache
    _pending: dict[int, PendingBRI]
    _revoking: dict[int, int]          # session -> its BRIs in _pending
    _peers: dict[Address, Peer]
    _bri_seq: int
    _hb_seq: int

    # --- revocation (RFC 5846) --------------------------------------------------------
    def _revoke(self, now: float, session: Session, old: Held,
                trigger: int | None = None) -> list[Output]:
        """A BRI to the MAG that held ``old`` (RFC 5846 §6.1), with retransmission state."""
        self._bri_seq = (self._bri_seq + 1) & 0xFFFF
        seq = self._bri_seq
        mag, port, lmaa, att, hoa, hnps = old
        if trigger is None:
            trigger = (RevocationTrigger.INTER_MAG_SAME_ACCESS if att == session.att
                       else RevocationTrigger.INTER_MAG_DIFFERENT_ACCESS)
        flags = BRFlag.P | (BRFlag.V if hoa is not None and not hnps else 0)
        opts: list[MobilityOption] = [session.mn_identifier(), *(hnp_option(n) for n in hnps)]
        if hoa is not None:
            opts.append(IPv4HoARequest(hoa, self.config.pool.prefix_len))
        bri = BindingRevocation(BRType.BRI, trigger, seq, int(flags), tuple(opts))
        send = to_mag(mag, port, lmaa, bri)
        self._unpend(seq)  # the sequence number wrapped onto a BRI still waiting
        self._pending[seq] = PendingBRI(seq, session.sid, session.nai, send, 1,
                                         now + self.config.bri_retransmit)
        self._revoking[session.sid] = self._revoking.get(session.sid, 0) + 1
        return [send]

    def _unpend(self, seq: int) -> PendingBRI | None:
        """Take the BRI ``seq`` off the pending ones (None: there was none)."""
        p = self._pending.pop(seq, None)
        if p is not None:
            left = self._revoking[p.session] - 1
            if left:
                self._revoking[p.session] = left
            else:
                del self._revoking[p.session]
        return p

    def _cancel_revocations(self, sid: int, mag: Address) -> None:
        if sid not in self._revoking:  # the usual case, in O(1) however many wait
            return
        for seq in [q for q, p in self._pending.items()
                    if p.session == sid and p.send.packet.dst == mag]:
            self._unpend(seq)

    def _on_revocation(self, packet: Packet, msg: BindingRevocation) -> list[Output]:
        if msg.br_type == BRType.BRI:
            mnid = msg.option(MNIdentifier)
            bra = BindingRevocation(BRType.BRA, BRAStatus.FUNCTION_NOT_SUPPORTED, msg.seq,
                                    msg.flags & BR_FLAG_BITS, (mnid,) if mnid else ())
            return [reply(packet, bra),
                    Event("dropped", msg.mn_id, {"reason": "BRI from a MAG: not supported"})]
        if msg.br_type != BRType.BRA:
            return [Event("dropped", None, {"reason": f"B.R. type {msg.br_type}"})]
        pending = self._pending.get(msg.seq)
        if pending is None or pending.send.packet.dst != packet.src:
            return [Event("dropped", msg.mn_id, {"reason": "BRA matches no pending BRI"})]
        self._unpend(msg.seq)
        kind = "revoked" if status_accepted(msg.code) else "revocation-failed"
        return [Event(kind, pending.nai, {
            "session": pending.session, "mag": packet.src, "seq": msg.seq,
            "status": msg.code, "status_name": name_of(BRAStatus, msg.code)})]

    def _bri_timers(self, now: float) -> list[Output]:
        out: list[Output] = []
        for pending in [p for p in self._pending.values() if p.deadline <= now]:
            detail = {"session": pending.session, "mag": pending.send.packet.dst,
                      "seq": pending.seq}
            if pending.attempts >= self.config.bri_attempts:
                self._unpend(pending.seq)
                out.append(Event("revocation-timeout", pending.nai, detail))
                continue
            pending.attempts += 1
            pending.deadline = now + self.config.bri_retransmit
            out.append(pending.send)
            out.append(Event("retransmit", pending.nai,
                             {"message": MessageKind.BRI, "attempt": pending.attempts, **detail}))
        return out

    # --- heartbeat (RFC 5847) ---------------------------------------------------------
    def _learn_peer(self, now: float, src: Address, port: int | None, lmaa: Address) -> None:
        """A PBU from MAG ``src`` (its UDP source ``port``) to our address ``lmaa``."""
        peer = self._peers.get(src)
        if peer is None:
            interval = self.config.heartbeat_interval
            next_at = now + interval if interval is not None else math.inf
            self._peers[src] = Peer(src, port, lmaa, next_at)
        else:
            peer.port, peer.lmaa = port, lmaa

    def _on_heartbeat(self, packet: Packet, hb: Heartbeat) -> list[Output]:
        if not hb.response:
            answer = Heartbeat(hb.seq, HBFlag.R,
                               (RestartCounter(self.config.restart_counter & 0xFFFFFFFF),))
            return [reply(packet, answer)]
        peer = self._peers.get(packet.src)
        if peer is None:
            return [Event("dropped", None, {"reason": "heartbeat response from unknown peer"})]
        out: list[Output] = []
        peer.outstanding, peer.missed = None, 0
        if peer.unreachable:
            peer.unreachable = False
            out.append(Event("peer-reachable", None, {"peer": peer.addr}))
        rc = hb.option(RestartCounter)
        if rc is not None:
            counter = rc.counter
            if peer.restart is not None and counter != peer.restart:
                out.append(Event("peer-restarted", None,
                                 {"peer": peer.addr, "old": peer.restart, "new": counter}))
            peer.restart = counter
        return out

    def _heartbeat_timers(self, now: float) -> list[Output]:
        interval = self.config.heartbeat_interval
        if interval is None:
            return []
        out: list[Output] = []
        active = self._active_mags()
        for addr in [a for a in self._peers if a not in active]:
            del self._peers[addr]  # no binding left there: stop probing (relearnt on a PBU)
        for peer in self._peers.values():
            if peer.next_at > now:
                continue
            if peer.outstanding is not None:
                peer.missed += 1
                if peer.missed >= self.config.heartbeat_misses and not peer.unreachable:
                    peer.unreachable = True
                    out.append(Event("peer-unreachable", None, {"peer": peer.addr}))
            self._hb_seq = (self._hb_seq + 1) & 0xFFFFFFFF
            peer.outstanding = self._hb_seq
            peer.next_at = now + interval
            out.append(to_mag(peer.addr, peer.port, peer.lmaa, Heartbeat(self._hb_seq, 0)))
        return out

    def _active_mags(self) -> set[Address]:
        return set(self._cache.at_mag)

