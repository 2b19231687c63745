"""What a running node did, one transaction at a time: the ``--log FILE`` JSON Lines.

An observer of the runtime: it pairs each request with its answer, whichever side sent
the request (the LMA answers PBUs and sends BRIs; a MAG sends PBUs), and writes one line
per transaction when it ends:

- ``PBU/PBA``  — a Proxy Binding Update and its Acknowledgement, matched by peer and
  sequence number; ``rtt_ms`` from the first transmission (the LMA's is its processing
  time, a MAG's the round trip), ``retransmissions``, ``status`` and ``status_name``;
- ``BRI/BRA``  — a Binding Revocation Indication and its Acknowledgement;
- ``heartbeat`` — a Heartbeat request and its response;
- ``BE``       — a Binding Error the node sent or received (no pairing);
- a request that gets no answer within ``timeout`` seconds ends with ``status_name``
  ``"timeout"`` (``"unanswered"`` when this node was the one that did not answer).

The line schema is in docs/agents.md.  Strings from the wire are escaped by
``json.dumps``; nothing is lost: ``undecodable`` datagrams get a line of their own.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

from dissectors.mh import (
    BindingAck,
    BindingError,
    BindingRevocation,
    BindingUpdate,
    Heartbeat,
)
from dissectors.mh_codes import BRAStatus, ba_status_name, name_of
from pmipview.agents.base import Packet
from pmipview.wire.codec import Undecodable
from pmipview.wire.transport import Datagram

PBU, BRI, HEARTBEAT, BE = "PBU/PBA", "BRI/BRA", "heartbeat", "BE"


@dataclass(slots=True)
class _Open:
    kind: str
    direction: str            # "in": the peer asked, "out": this node asked
    peer: str
    seq: int
    first: float
    request: Any
    tries: int = 1
    extra: dict[str, Any] = field(default_factory=dict)


def _peer(addr: object, port: int | None) -> str:
    return f"{addr}:{port}" if port is not None else str(addr)


def _request_key(msg: object) -> str | None:
    if isinstance(msg, BindingUpdate):
        return PBU
    if isinstance(msg, BindingRevocation) and msg.indication:
        return BRI
    if isinstance(msg, Heartbeat) and not msg.response:
        return HEARTBEAT
    return None


def _answer_key(msg: object) -> str | None:
    if isinstance(msg, BindingAck):
        return PBU
    if isinstance(msg, BindingRevocation) and not msg.indication:
        return BRI
    if isinstance(msg, Heartbeat) and msg.response:
        return HEARTBEAT
    return None


class TransactionLog:
    """Pairs requests and answers; ``write(dict)`` gets each finished transaction."""

    def __init__(self, write: Callable[[dict[str, Any]], None], *, timeout: float = 10.0,
                 wall: Callable[[], float] = time.time,
                 mono: Callable[[], float] = time.monotonic) -> None:
        self._write = write
        self.timeout = timeout
        self._offset = wall() - mono()
        self._open: dict[tuple[str, str, object], _Open] = {}
        self.finished = 0

    def _line(self, now: float, kind: str, **fields: Any) -> None:
        us = round((now + self._offset) * 1_000_000)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(us // 1_000_000))
        self.finished += 1
        self._write({"time": f"{stamp}.{us % 1_000_000:06d}Z", "kind": kind,
                     **{k: v for k, v in fields.items() if v is not None}})

    @staticmethod
    def _key(peer: str, kind: str, msg: Any) -> tuple[str, str, object]:
        """A PBU and its PBA pair by MN: a retransmission carries a new sequence number
        (RFC 6275 §11.8) and the PBA echoes the MN-ID; BRI/BRA and heartbeats by number."""
        if kind == PBU and msg.mn_id is not None:
            return (peer, kind, msg.mn_id)
        return (peer, kind, msg.seq)

    def _seen(self, now: float, direction: str, d: Datagram, packet: Packet) -> None:
        msg = packet.message
        peer = _peer(d.src, d.sport) if direction == "in" else _peer(d.dst, d.dport)
        req = _request_key(msg)
        if req is not None:
            key = self._key(peer, req, msg)
            known = self._open.get(key)
            if known is not None and known.direction == direction:
                known.tries += 1
                return
            self._open[key] = _Open(req, direction, peer, msg.seq, now, msg)
            return
        ans = _answer_key(msg)
        if ans is not None:
            key = self._key(peer, ans, msg)
            opened = self._open.pop(key, None)
            self._finish(now, opened, msg, peer, ans)
            return
        if isinstance(msg, BindingError):
            self._line(now, BE, direction=direction, peer=peer, status=int(msg.status),
                       status_name=msg.status_name)

    def _finish(self, now: float, opened: _Open | None, answer: Any, peer: str,
                kind: str) -> None:
        fields: dict[str, Any] = {"peer": peer, "seq": answer.seq}
        if isinstance(answer, BindingAck):
            fields |= {"status": int(answer.status),
                       "status_name": ba_status_name(answer.status, answer.proxy),
                       "nai": answer.mn_id, "lifetime_s": answer.lifetime_s}
            reply = answer.hoa_reply
            if reply is not None and reply.address.packed != b"\0\0\0\0":
                fields["hoa"] = str(reply.address)
        elif isinstance(answer, BindingRevocation):
            code = answer.status
            fields |= {"status": code,
                       "status_name": name_of(BRAStatus, code) if code is not None else None,
                       "nai": answer.mn_id}
        else:
            fields |= {"status": 0, "status_name": "response"}
        if opened is None:
            self._line(now, kind, direction="?", unmatched=True, **fields)
            return
        if isinstance(opened.request, BindingUpdate):
            fields["registration"] = "de-registration" if opened.request.lifetime == 0 \
                else "registration"
            fields["nai"] = fields.get("nai") or opened.request.mn_id
            fields["requested_lifetime_s"] = opened.request.lifetime_s
        self._line(now, kind, direction=opened.direction, rtt_ms=round(
            (now - opened.first) * 1000, 3), retransmissions=opened.tries - 1, **fields)

    # -- observer interface ----------------------------------------------------------

    def on_receive(self, now: float, d: Datagram, packet: Packet | Undecodable) -> None:
        if isinstance(packet, Undecodable):
            self._line(now, "undecodable", direction="in", peer=_peer(d.src, d.sport),
                       size=packet.size, reason=packet.reason)
            return
        self._seen(now, "in", d, packet)

    def on_send(self, now: float, d: Datagram, packet: Packet) -> None:
        self._seen(now, "out", d, packet)

    def on_tick(self, now: float, *, closing: bool = False) -> None:
        """End requests that waited longer than ``timeout`` (all of them when closing)."""
        for key, o in [(k, o) for k, o in self._open.items()
                       if closing or now - o.first > self.timeout]:
            del self._open[key]
            nai = getattr(o.request, "mn_id", None)
            status = "timeout" if o.direction == "out" else "unanswered"
            self._line(now, o.kind, direction=o.direction, peer=o.peer, seq=o.seq, nai=nai,
                       status_name="open at exit" if closing else status,
                       retransmissions=o.tries - 1)

    def close(self, now: float) -> None:
        self.on_tick(now, closing=True)


def jsonl_writer(fh: IO[str]) -> Callable[[dict[str, Any]], None]:
    def write(line: dict[str, Any]) -> None:
        fh.write(json.dumps(line, default=str) + "\n")
    return write
