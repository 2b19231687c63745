"""DHCP exchanges over both relay legs and the attachment each belongs to (its start, its
address acquisition, server id checks); a mixin of the
:class:`~pmipview.correlate.engine.Correlator`."""

from __future__ import annotations

from ipaddress import IPv4Address

from dissectors.dhcp_codes import DhcpMessageType as T
from dissectors.dhcp_codes import DhcpOp
from pmipview.correlate.model import Attachment, DhcpExchange, DhcpOutcome, MobileNode, NodeRole
from pmipview.correlate.timing import BROADCAST, ZERO
from pmipview.signals import DhcpSignal

ZERO_TEXT, BROADCAST_TEXT = str(ZERO), str(BROADCAST)


# Enum members the per-signal paths read, looked up once: a member read through its
# class costs ~0.06 µs more than a global in Python 3.11, and a signal reads ~10.
DISCOVER, OFFER, REQUEST, ACK, NAK, RELEASE, DECLINE = (
    T.DISCOVER, T.OFFER, T.REQUEST, T.ACK, T.NAK, T.RELEASE, T.DECLINE)
BOOTREQUEST, BOOTREPLY = DhcpOp.BOOTREQUEST, DhcpOp.BOOTREPLY
EX_PENDING, EX_ACK, EX_NAK = DhcpOutcome.PENDING, DhcpOutcome.ACK, DhcpOutcome.NAK
DHCP_SERVER = NodeRole.DHCP_SERVER
OFFER_OR_ACK, ACK_OR_NAK = (OFFER, ACK), (ACK, NAK)

# The text of an address that is a plain ``ipaddress.IPv4Address`` (option 82's remote id:
# ipaddress formats it in Python, ~1 µs, where dissectors/addr.py's addresses keep their
# text), by its integer; emptied when it grows past _TEXTS_MAX.
_TEXTS: dict[int, str] = {}
_TEXTS_MAX = 1 << 16


def _text_of(addr: object) -> str:
    if type(addr) is not IPv4Address:
        return str(addr)
    ip = int(addr)
    text = _TEXTS.get(ip)
    if text is None:
        if len(_TEXTS) >= _TEXTS_MAX:
            _TEXTS.clear()
        text = _TEXTS[ip] = str(addr)
    return text


class DhcpMixin:
    def _claim_dhcp(self, mn: MobileNode, att: Attachment, now: float) -> None:
        """The address acquisition that a link change started (DISCOVER, INIT-REBOOT
        REQUEST, with their retransmissions and a NAK before them) and that is not answered
        yet when the new MAG registers the MN belongs to the new attachment, even when it
        began while an older attachment was current: the attachment starts at it."""
        boundary = max((a.end for a in mn.attachments
                        if a.key == att.key and a.end is not None), default=now - 60)
        boundary = max(boundary, now - 60, self._past_end(mn, att.key))
        for ex in reversed(mn.dhcp):
            if ex.mac not in (att.key, ""):
                continue
            if ex.renewal:
                continue
            if ex.outcome == EX_ACK or ex.first < boundary:
                break
            self._move_exchange(mn, ex, att)

    def _move_exchange(self, mn: MobileNode, ex: DhcpExchange, att: Attachment) -> None:
        """``ex`` is part of ``att``: its frames move there from the attachment that had
        them, and ``att`` starts no later than it."""
        frames = {m["frame"] for m in ex.messages}
        for m in ex.messages:
            frames.update(m.get("also", ()))
        for other in mn.attachments[-3:]:
            if other is not att and other.mag == ex.mag:
                other.frames = [f for f in other.frames if f not in frames]
        att.frames.extend(sorted(frames - set(att.frames)))
        att.start = min(att.start, ex.first)
        ex.mag = att.mag

    def _boundary(self, mn: MobileNode, att: Attachment) -> float:
        """Where ``att`` may start at the earliest: after the last attachment of the same
        interface that ended before it."""
        return max((a.end for a in mn.attachments
                    if a is not att and a.key == att.key and a.end is not None
                    and a.end <= att.start), default=self._past_end(mn, att.key))

    def _address_acquired(self, mn: MobileNode, att: Attachment, ex: DhcpExchange) -> None:
        """The ACK of the attachment's first address acquisition: the attachment starts no
        later than that exchange unless it began before the previous attachment ended."""
        if ex.first < att.start and ex.first >= self._boundary(mn, att):
            self._move_exchange(mn, ex, att)
        att.dhcp_ack = ex.acked
        att.address_ms = None if ex.acked is None else \
            (ex.acked - max(ex.first, att.start)) * 1000

    def _adopt_dhcp(self, mn: MobileNode, att: Attachment) -> None:
        """DHCP seen before the attachment's first PBU (relay, draft order) belongs to it."""
        for ex in mn.dhcp:
            if ex.mag is None and ex.first >= att.start - 1e-9 and ex.mac in (att.key, ""):
                ex.mag = att.mag
                if ex.outcome == EX_ACK and not ex.renewal and att.dhcp_ack is None:
                    self._address_acquired(mn, att, ex)
                if ex.server_id and att.server_id is None:
                    att.server_id = ex.server_id

    def _dhcp_signal(self, s: DhcpSignal, src: str, dst: str) -> DhcpExchange | None:
        """``src`` and ``dst``: the texts of ``s.src`` and ``s.dst``."""
        macs = sorted(s.mn_macs)
        keys = [f"mac:{m}" for m in macs]
        held = self._hoa_holder
        typ, t, frame = s.type, s.time, s.frame
        # addresses by their text (cached by dissectors/addr.py; ipaddress compares and
        # converts to int in Python)
        ciaddr = str(s.ciaddr)
        if held:
            for text in (str(s.yiaddr) if typ in OFFER_OR_ACK else None, ciaddr,
                         None if s.requested_ip is None else str(s.requested_ip),
                         None if s.remote_id is None else _text_of(s.remote_id)):
                if text is not None and text != ZERO_TEXT and text in held:
                    keys.append("hoa:" + text)
        if not keys:
            return None
        mn = self._resolve(keys, t)
        mac = macs[0] if macs else ""
        relay_leg = s.relay_leg
        op = s.op
        if relay_leg:
            self._node(dst if op == BOOTREQUEST else src, DHCP_SERVER)
        ex_key = (s.xid, mac)
        ex = self._dhcp.get(ex_key)
        if ex is None or (typ == DISCOVER and ex.messages and not relay_leg
                          and ex.outcome != EX_PENDING):
            ex = DhcpExchange(s.xid, mac, t, renewal=typ == REQUEST and ciaddr != ZERO_TEXT)
            self._dhcp[ex_key] = ex
            mn.dhcp.append(ex)
        if relay_leg:
            ex.mode = "relay"
        ex.messages.append({"type": s.type_name, "time": t, "frame": frame,
                            "leg": "relay" if relay_leg else "client"})
        att = mn.current(mac) or mn.current()
        if att is None and op == BOOTREQUEST and (
                mn.pending_since is None or t - mn.pending_since[0] > 60):
            mn.pending_since = (t, frame)
        if att is not None:
            ex.mag = att.mag
            att.frames.append(frame)
            if att.dhcp_mode is None and relay_leg:
                att.dhcp_mode = "relay"
        if s.server_id is not None and op == BOOTREPLY:
            ex.server_id = str(s.server_id)
        if relay_leg:
            if typ in ACK_OR_NAK and ex.outcome == EX_PENDING:
                # the server's answer on the relay leg (the client leg may not be captured)
                ex.outcome = EX_ACK if typ == ACK else EX_NAK
                if typ == ACK:
                    ex.yiaddr = str(s.yiaddr)
            elif typ == RELEASE:
                ex.outcome = DhcpOutcome.RELEASED
            elif typ == DECLINE:
                ex.outcome = DhcpOutcome.DECLINED
            return ex
        if typ == NAK:
            ex.outcome = EX_NAK
            self._diag(mn, "dhcp-nak", t, [frame], f"DHCPNAK xid 0x{s.xid:08x}")
        elif typ == ACK:
            ex.outcome, ex.acked, ex.yiaddr = EX_ACK, t, str(s.yiaddr)
            if att is not None and ex.yiaddr != ZERO_TEXT:
                self._check_address(mn, att, s)
                if att.dhcp_ack is None and not ex.renewal:
                    self._address_acquired(mn, att, ex)
                if s.server_id is not None:
                    self._server_id(mn, att, str(s.server_id), s)
        elif typ == OFFER and att is not None and str(s.yiaddr) != ZERO_TEXT:
            self._check_address(mn, att, s)
        elif typ == RELEASE:
            ex.outcome = DhcpOutcome.RELEASED
        elif typ == DECLINE:
            ex.outcome = DhcpOutcome.DECLINED
        elif typ == REQUEST and dst != BROADCAST_TEXT and ciaddr != ZERO_TEXT and \
                att is not None:
            self._unicast_check(mn, att, s)
        return ex

    def _check_address(self, mn: MobileNode, att: Attachment, s: DhcpSignal) -> None:
        if att.ipv4_hoa is not None and str(s.yiaddr) != att.ipv4_hoa:
            self._diag(mn, "yiaddr-mismatch", s.time, [s.frame],
                       f"DHCP {s.type_name} yiaddr {s.yiaddr} but the PBA assigned "
                       f"{att.ipv4_hoa} at {att.mag}")

    def _server_id(self, mn: MobileNode, att: Attachment, sid: str, s: DhcpSignal) -> None:
        if att.server_id is None:
            att.server_id = sid
            prev = next(((a.server_id, a.mag) for a in
                         reversed(mn.attachments[:mn.attachments.index(att)])
                         if a.key == att.key and a.server_id), None)
            if prev is None and mn.uid in self._past:
                prev = self._past[mn.uid].server.get(att.key)
            if prev is not None and prev[0] != sid:
                self._diag(mn, "server-id-changed", s.time, [s.frame],
                           f"DHCP server id {prev[0]} at {prev[1]} became {sid} at "
                           f"{att.mag}")

    def _unicast_check(self, mn: MobileNode, att: Attachment, s: DhcpSignal) -> None:
        dst = str(s.dst)
        if att.server_id is not None and dst == att.server_id:
            return
        past = self._past[mn.uid].servers.get(dst, []) if mn.uid in self._past else []
        for mag in [*past, *(p.mag for p in mn.attachments
                            if p is not att and p.server_id == dst)]:
            if mag != att.mag:
                self._diag(mn, "unicast-to-previous-mag", s.time, [s.frame],
                           f"DHCP REQUEST unicast to {dst}, the server of {mag}, "
                           f"while attached at {att.mag}")
                return
