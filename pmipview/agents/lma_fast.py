"""The LMA's refresh fast path: a known MN refreshing at the same MAG, answered from bytes.

Most PBUs under load are refreshes (RFC 5213 §5.3.3) that repeat, but for the sequence
number, the previous accepted PBU of the same mobility session byte for byte.  For such
a PBU the slow path (decode, authorise, look up, plan the addresses, build and encode
the PBA) reaches the same answer every time, save the sequence number; so after the slow
path accepted a refresh, the encoded PBA is kept as a template and the next copy of that
PBU, from the same source address and port to the same local address, is answered by
patching the template's sequence number.  A refresh that :mod:`~pmipview.agents.lma_direct`
decided keeps no bytes but where its PBU's options are (one int; ~80 B less a binding):
its PBA is written again from the PBU and the session as ``lma_direct`` wrote it.  The
MH checksum needs no patch: over UDP it is 0 (RFC 5844 §4.1.3) and on a raw IPPROTO_MH
socket the kernel fills it in (as for every PBA the encoder builds).

A hit does exactly what the slow path's refresh does to the Binding Cache entry: new
expiry, last sequence number, time of update (and the heartbeat peer's port and LMAA
when heartbeats are on).  What makes it sound:

- the key is the whole PBU after the sequence number (flags, lifetime, every option), in
  a table per (local address, source address and port): same bytes, same request;
- an entry is cached only when the slow path matched the session by its own link (same
  MN-LLI and ATT) and the PBU carries no Timestamp to check (``timestamp_window`` set);
- anything that may change the slow path's answer forgets entries: any slow-path PBU
  naming the NAI (a handoff, a de-registration, a new session of a multihomed MN...),
  expiry or removal of the session, and a profile reload (all entries);
- a sequence number not newer than the last accepted one goes the slow way (PBA 135).

The fast path is used only when nothing watches individual messages (no ``--log``,
``--pcap`` or ``--events``): those need the decoded PBU and PBA, so the runtime then
leaves it off and every PBU takes the slow path.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Any

from pmipview.agents.churn import Churn
from pmipview.agents.lma_cache import forget
from pmipview.agents.lma_direct import decide, decide_bra, refresh_pba
from pmipview.agents.lma_wire import encode_pba

if TYPE_CHECKING:
    from dissectors.mh import BindingAck
    from pmipview.agents.base import Address, Output
    from pmipview.agents.lma import LMA
    from pmipview.agents.lma_cache import Session

__all__ = ["FastPath", "Offer", "forget", "lookup_was_direct"]

_ADDRS_MAX = 4096  # MAG addresses remembered by serve (a handful; floods: bounded)
_BU = 5            # MH type of a Binding Update
_NO_NEXT = 59      # Payload Proto: IPPROTO_NONE
_SEQ_HALF = 0x8000


@dataclass(slots=True)
class Offer:
    """What the slow path leaves for :meth:`FastPath.learn`: a cacheable refresh."""

    session: Session
    ba: BindingAck


@dataclass(slots=True)
class FastPath:
    """The templates of one LMA: ``table()`` per transport, ``answer`` per datagram."""

    lma: LMA
    tables: list[dict[Any, dict[bytes, Session]]] = field(default_factory=list)
    hits: int = 0
    offer: Offer | None = None
    direct: int = 0            # PBUs decided from their bytes by :meth:`serve`
    kind: str = "refreshed"    # the event of :meth:`serve`'s last answer
    extra: list[Output] | None = None   # and the outputs it adds (a handoff's BRI)
    _addrs: dict[str, IPv4Address] = field(default_factory=dict)
    _churn: Churn = field(default_factory=Churn)

    def table(self) -> dict[Any, dict[bytes, Session]]:
        """A table for one transport (its local address), keyed by the peer as the
        socket names it (``(host, port)`` from ``recvfrom``)."""
        t: dict[Any, dict[bytes, Session]] = {}
        self.tables.append(t)
        return t

    def answer(self, now: float, table: dict[Any, dict[bytes, Session]], peer: Any,
               payload: bytes) -> bytes | bytearray | None:
        """The PBA for ``payload`` when it repeats a cached refresh, else None (then the
        datagram takes the slow path)."""
        if len(payload) < 12 or payload[2] != _BU:
            return None
        inner = table.get(peer)
        if inner is None:
            return None
        s = inner.get(payload[8:])
        if s is None or payload[0] != _NO_NEXT or (payload[1] + 1) * 8 != len(payload):
            return None
        seq = payload[6] << 8 | payload[7]
        lma = self.lma
        if lma.config.sequence_window and not 0 < (seq - s.last_seq) & 0xFFFF < _SEQ_HALF:
            return None   # the slow path answers 135
        template = s.fast_pba
        raw = None
        if type(template) is int:  # learnt from lma_direct: rebuilt from the PBU's bytes
            raw = refresh_pba(lma, s, payload, seq, template)
            if raw is None:
                return None
        life = s.lifetime
        s.expires = expires = now + life
        if s.queued is None or expires < s.queued:
            s.queued = expires
            heapq.heappush(lma._cache.expiry, (expires, s.sid))
        s.last_seq = seq
        s.updated = now
        if lma.config.heartbeat_interval is not None:
            peer_state = lma._peers.get(s.mag)
            if peer_state is not None:
                peer_state.port, peer_state.lmaa = s.mag_port, s.lmaa
        self.hits += 1
        if raw is not None:
            return raw
        pba = bytearray(template)  # type: ignore[arg-type]
        pba[8] = seq >> 8
        pba[9] = seq & 0xFF
        return pba

    def serve(self, now: float, table: dict[Any, dict[bytes, Session]], peer: Any,
              payload: bytes, dst: Address) -> bytes | bytearray | None:
        """:meth:`answer`, else the PBA of a PBU decided from its bytes
        (:mod:`pmipview.agents.lma_direct`: attach, first refresh, handoff, detach; and
        the BRA answering a BRI, whose answer is empty: nothing to send), else None (the
        full way).  With an answer, ``kind`` names its event and ``extra`` holds the
        outputs to handle after sending it (None when there are none).  For a runner
        that counts ``kind`` instead of "refreshed" for every answer."""
        self.kind, self.extra = "refreshed", None
        pba = self.answer(now, table, peer, payload)
        if pba is not None or len(peer) != 2 or len(payload) < 12:
            return pba
        host = peer[0]
        src = self._addrs.get(host)
        if src is None:
            if len(self._addrs) >= _ADDRS_MAX:
                self._addrs.clear()
            try:
                src = self._addrs[host] = IPv4Address(host)
            except ValueError:
                return None
        if payload[2] == _BU:
            got = decide(self.lma, now, payload, src, peer[1], dst)
        else:
            got = decide_bra(self.lma, payload, src)
        if got is None:
            return None
        raw, self.kind, self.extra, learn = got
        self.direct += 1
        if learn is not None:
            self._keep(table, peer, payload, learn[0], learn[1])
        return raw

    def learn(self, table: dict[Any, dict[bytes, Session]], peer: Any, payload: bytes) -> None:
        """After the slow path handled ``payload``: cache its answer if it offered one."""
        offer, self.offer = self.offer, None
        if offer is None or len(payload) < 12 or (payload[1] + 1) * 8 != len(payload):
            return
        s = offer.session
        if self.lma._cache.sessions.get(s.sid) is not s:
            return
        try:
            template = encode_pba(offer.ba)  # the bytes just sent, from their template
        except (ValueError, OverflowError):
            forget(s)
            return
        self._keep(table, peer, payload, s, template)

    def _keep(self, table: dict[Any, dict[bytes, Session]], peer: Any, payload: bytes,
              s: Session, template: bytes | int) -> None:
        forget(s)
        key = payload[8:]
        inner = table.setdefault(peer, {})
        inner[key] = s
        s.fast_key, s.fast_in, s.fast_pba = key, inner, template
        if self._churn.due(len(self.lma._cache)):  # each template replaces a forgotten one
            self._rebuild()

    def _rebuild(self) -> None:
        """Every inner table copied to a compact one (:mod:`pmipview.agents.churn`), its
        sessions pointed at the copy."""
        for t in self.tables:
            for peer, inner in t.items():
                t[peer] = new = dict(inner)
                for s in new.values():
                    s.fast_in = new

    def clear(self) -> None:
        for t in self.tables:
            for inner in t.values():
                for s in inner.values():
                    s.fast_key = s.fast_in = s.fast_pba = None
            t.clear()


def lookup_was_direct(session: Session, lli: bytes | None, att: int, src: Address) -> bool:
    """The slow path found ``session`` by its own link (so the same PBU finds it again
    whatever other sessions of the NAI come and go)."""
    return session.lli == lli and session.att == att and session.mag == src
