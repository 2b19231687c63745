"""Stage 4: fold signals into per-MN timelines.  Incremental: ``feed(signal)`` for each
decoded frame, ``finish(end_time)`` at the end; pure (no printing, no files).

The rules (docs/timeline.md says them for users):

- Order: signals are taken in time order through a short reorder window (pcapng files
  with several interfaces are not always sorted).  A message seen at two capture points
  (a MAG and the LMA) is one message: its first sighting starts a transaction, the last
  sighting of a reply ends it (so latencies are as seen at the requester's side when it
  is captured).
- Identity: MN Identifier (NAI), MN link-layer identifier, DHCP chaddr and client-id MAC
  and the IPv4 HoA while it is held are keys of one union-find; evidence that links two
  keys merges their MNs (a DISCOVER seen before the PBU whose LLI is that MAC belongs to
  that NAI).  Two MACs under one NAI are one MN with two interfaces.  A HoA never merges
  two MNs with different NAIs (or MACs): that is a duplicate-hoa, not one MN.
- Transactions: a PBA pairs with the PBU of the same MAG, LMA and sequence number.  An
  unanswered PBU followed within ``retransmit_window`` by another PBU from the same MAG
  for the same MN interface and purpose is a retransmission of the same registration;
  rtt_ms is measured from the PBU whose sequence number the PBA carries.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable

from dissectors.mh_codes import (
    ACK_KINDS,
    HEARTBEAT_KINDS,
    REPLY_KINDS,
    UPDATE_KINDS,
    HandoffIndicator,
    HoAReplyStatus,
    MessageKind,
    ba_status_name,
    name_of,
    status_accepted,
)
from pmipview.correlate.dhcp import DhcpMixin
from pmipview.correlate.handoffs import HandoffMixin
from pmipview.correlate.history import History, Past, SummaryMixin
from pmipview.correlate.identity import IdentityMixin
from pmipview.correlate.model import (
    DIAGNOSTICS,
    Attachment,
    DhcpExchange,
    Diagnostic,
    EndReason,
    MobileNode,
    Node,
    NodeRole,
    Outcome,
    Report,
    Transaction,
    TxnKind,
)
from pmipview.correlate.nodes import NodesMixin
from pmipview.correlate.revocation import RevocationMixin
from pmipview.correlate.timing import (
    DUPLICATE_WINDOW,
    MIN_DELAY_BEFORE_BCE_DELETE,
    RETRANSMIT_WINDOW,
    SEEN_PRUNE,
    SUMMARISE_EVERY,
    ZERO,
    another_sighting,
    give_up_time,
)
from pmipview.signals import MalformedSignal, MobilitySignal, Signal

__all__ = ["DUPLICATE_WINDOW", "MIN_DELAY_BEFORE_BCE_DELETE", "RETRANSMIT_WINDOW",
           "Correlator", "give_up_time"]


# Enum members the per-signal paths read, looked up once: a member read through its
# class costs ~0.06 µs more than a global in Python 3.11, and a signal reads ~10.
PENDING, ACCEPTED, REJECTED = Outcome.PENDING, Outcome.ACCEPTED, Outcome.REJECTED
REGISTRATION, REFRESH, DEREGISTRATION = (TxnKind.REGISTRATION, TxnKind.REFRESH,
                                         TxnKind.DEREGISTRATION)
MAG, LMA = NodeRole.MAG, NodeRole.LMA
BRI, BRA = MessageKind.BRI, MessageKind.BRA
NOT_CHANGED = HandoffIndicator.NOT_CHANGED
ZERO_TEXT = str(ZERO)  # an IPv4 address is 0.0.0.0 when its (cached) text is


class Correlator(IdentityMixin, NodesMixin, HandoffMixin, RevocationMixin, DhcpMixin,
                 SummaryMixin):
    """Feed signals, then ``finish``; the result is a :class:`Report`."""

    def __init__(self, *, names: dict[str, str] | None = None,
                 retransmit_window: float = RETRANSMIT_WINDOW,
                 reorder_window: float = 2.0, duplicate_window: float = DUPLICATE_WINDOW,
                 expiry_grace: float = 5.0,
                 bce_delete_delay: float = MIN_DELAY_BEFORE_BCE_DELETE,
                 summarise: bool = False) -> None:
        self.names = names or {}
        self.retransmit_window = retransmit_window
        self.reorder_window = reorder_window
        self.duplicate_window = duplicate_window
        self.expiry_grace = expiry_grace
        self.bce_delete_delay = bce_delete_delay
        self._history = History() if summarise else None
        if self._history is not None:
            self._history.rename = self._current_name
        # what the correlator still needs of an MN's attachments once they left memory
        self._past: dict[int, Past] = {}
        self._next_summary = float("-inf")
        self.report = Report()
        self._heap: list[tuple[float, int, Signal]] = []
        self._n = 0
        self._latest = float("-inf")
        self.now = 0.0
        # identity
        self._parent: dict[int, int] = {}
        self._mns: dict[int, MobileNode] = {}
        self._keys: dict[str, int] = {}
        # nodes
        self._node_of_addr: dict[str, Node] = {}
        self._nodes: list[Node] = []
        self._renamed: dict[str, str] = {}
        # transactions in flight: (mag, lma, seq) -> (mn uid, Transaction)
        self._pending: dict[tuple[str, str, int], tuple[int, Transaction]] = {}
        self._open: dict[tuple[int, str, str, str], Transaction] = {}  # mn mag purpose iface
        self._bri: dict[tuple[str, str, int], tuple[int, Transaction]] = {}
        self._hb: dict[tuple[str, str, int], Transaction] = {}
        self._restart: dict[str, int] = {}
        self._last_seq: dict[tuple[int, str, str], int] = {}
        self._last_ts: dict[int, float] = {}
        # message key -> (time, what it went into, interface, frame) of its first sighting
        self._seen: dict[tuple, tuple[float, Transaction | DhcpExchange | None, int, int]] = {}
        self._seen_limit = SEEN_PRUNE
        self._dhcp: dict[tuple[int, str], DhcpExchange] = {}
        self._hoa_holder: dict[str, int] = {}
        self._expiries: list[tuple[float, int, int, Attachment]] = []
        # (due, n, mn uid, transaction): a registration still unanswered then timed out
        self._give_ups: list[tuple[float, int, int, Transaction]] = []
        # (due, n, mn uid, attachment, failure): a failed attachment not retried by then ends
        self._failures: list[tuple[float, int, int, Attachment, tuple[float, str]]] = []
        self._per_txn: dict[tuple[int, str], Diagnostic] = {}

    # -- input ----------------------------------------------------------------------------

    def feed(self, signal: Signal) -> None:
        self._n += 1
        t = signal.time
        heap = self._heap
        heapq.heappush(heap, (t, self._n, signal))
        if t > self._latest:
            self._latest = t
        due = self._latest - self.reorder_window
        while heap and heap[0][0] <= due:
            self._process(heapq.heappop(heap)[2])

    def feed_all(self, signals: Iterable[Signal]) -> None:
        for s in signals:
            self.feed(s)

    def finish(self, end: float | None = None) -> Report:
        while self._heap:
            self._process(heapq.heappop(self._heap)[2])
        end = self.now if end is None else max(end, self.now)
        self._expire(end)
        for _, (uid, txn) in list(self._pending.items()):
            if txn.outcome == PENDING and txn.kind != TxnKind.HEARTBEAT:
                self._timeout(self._mn(uid), txn, end)
        for _, (uid, txn) in list(self._bri.items()):
            if txn.outcome == PENDING:
                txn.outcome = Outcome.TIMEOUT
                self._diag(self._mn(uid), "revocation-failed", txn.first_sent, txn.frames,
                           f"BRI seq {txn.seqs[0]} to {txn.mag} never answered")
        mns = sorted(self._roots(), key=lambda m: m.first_seen)
        for mn in mns:
            for att in mn.attachments:
                att.close()
        self.report.history = self._history
        self.report.mobile_nodes = mns
        self.report.nodes = sorted(self._nodes, key=lambda n: (n.role, n.name))
        self.report.end = end if self.report.start is not None else None
        return self.report

    def snapshot(self) -> Report:
        """The report as it stands (a live view): what was fed and is past the reordering
        window, attachments still open.  Feeding may go on afterwards; the lists are the
        live ones, so read them where feeding cannot run at the same time."""
        r = self.report
        return Report(frames=r.frames, signaling_frames=r.signaling_frames,
                      malformed_frames=r.malformed_frames, start=r.start, end=self.now,
                      nodes=sorted(self._nodes, key=lambda n: (n.role, n.name)),
                      mobile_nodes=self._roots(), diagnostics=list(r.diagnostics))

    # -- dispatch -------------------------------------------------------------------------

    def _process(self, s: Signal) -> None:
        t = s.time
        self.now = t
        report = self.report
        if report.start is None:
            report.start = t
        # _expire inline when nothing is due (the usual case: one check of each heap's head)
        if (self._give_ups and self._give_ups[0][0] < t) or \
                (self._failures and self._failures[0][0] < t) or \
                (self._expiries and self._expiries[0][0] < t):
            self._expire(t)
        # addresses by their text, taken once a signal and handed to the handlers: an
        # address object hashes in Python (ipaddress), its text once (str caches its hash;
        # dissectors/addr.py caches the text)
        mobility = isinstance(s, MobilitySignal)
        if mobility:
            src, dst = str(s.src), str(s.dst)
            key: tuple = (s.kind, src, dst, s.seq, s.mn_id)
        elif isinstance(s, MalformedSignal):
            report.malformed_frames += 1
            report.diagnostics.append(Diagnostic(
                "malformed", t, [s.frame], f"{s.layer} @{s.offset}: {s.reason}"))
            return
        else:
            src, dst = str(s.src), str(s.dst)
            key = (s.type, src, dst, s.xid, str(s.giaddr), s.chaddr)
        report.signaling_frames += 1
        seen_by_key = self._seen
        seen = seen_by_key.get(key)
        if seen is not None and another_sighting(t - seen[0], s.iface == seen[2],
                                                 self.duplicate_window,
                                                 self.retransmit_window):
            self._duplicate(s, seen[1], seen[3])
            return
        handled = self._mobility(s, src, dst) if mobility else self._dhcp_signal(s, src, dst)
        if self._history is not None and t >= self._next_summary:
            self._next_summary = t + SUMMARISE_EVERY
            self._summarise(t)
        seen_by_key[key] = (t, handled, s.iface, s.frame)
        if len(seen_by_key) > self._seen_limit:
            # a message older than the retransmission window is never seen again: what is
            # kept follows the signaling rate, not the length of the capture
            cutoff = t - self.retransmit_window
            self._seen = {k: v for k, v in seen_by_key.items() if v[0] >= cutoff}
            self._seen_limit = max(SEEN_PRUNE, 2 * len(self._seen))

    def _duplicate(self, s: Signal, obj: object, first: int) -> None:
        """Another sighting (another capture point) of the message first seen in frame
        ``first``: record the frame with it, move reply times."""
        if isinstance(obj, Transaction):
            obj.frames.append(s.frame)
            obj.also.setdefault(first, []).append(s.frame)
            if isinstance(s, MobilitySignal) and s.kind in REPLY_KINDS \
                    and obj.answered is not None and s.time > obj.answered:
                old, obj.answered = obj.answered, s.time
                self._latencies(obj, s.seq)
                if obj.kind == REGISTRATION and obj.outcome == ACCEPTED:
                    self._registration_seen_later(obj, old, s.time)
        elif isinstance(obj, DhcpExchange):
            for m in obj.messages:
                if m["frame"] == first:
                    m.setdefault("also", []).append(s.frame)
                    break

    def _registration_seen_later(self, txn: Transaction, old: float, new: float) -> None:
        """The accepted PBA seen again further on (at the MAG after the LMA): the
        attachment's registration time and the handoff it made move with the reply, so
        that attach_ms and handoff_ms are from the same vantage point as rtt_ms."""
        mn = next((self._mn(self._keys[k]) for k in (f"nai:{txn.mn}", f"mac:{txn.mn}")
                   if k in self._keys), None)
        if mn is None:
            return
        for att in mn.attachments:
            if att.mag == txn.mag and att.registered == old:
                att.registered = new
        for h in mn.handoffs:
            if h.to_mag == txn.mag and h.time == old:
                h.time = new
                h.handoff_ms = (new - txn.first_sent) * 1000
                if h.interruption_ms is not None:
                    h.interruption_ms += (new - old) * 1000

    # -- mobility ------------------------------------------------------------------------

    def _keys_of(self, s: MobilitySignal) -> list[str]:
        keys = []
        if s.mn_id:
            keys.append(f"nai:{s.mn_id}")
        if s.lli:
            keys.append(f"mac:{s.lli.lower()}")
        for hoa in (s.hoa_request, s.hoa_reply):
            if hoa is not None:
                text = str(hoa)
                if text != ZERO_TEXT and text in self._hoa_holder:
                    keys.append("hoa:" + text)
        return keys

    def _mobility(self, s: MobilitySignal, src: str, dst: str) -> object:
        """``src`` and ``dst``: the texts of ``s.src`` and ``s.dst``."""
        kind = s.kind
        if kind in UPDATE_KINDS:
            return self._pbu(s, src, dst)
        if kind in ACK_KINDS:
            return self._pba(s, src, dst)
        if kind == BRI:
            return self._bri_signal(s, src, dst)
        if kind == BRA:
            return self._bra_signal(s, src, dst)
        if kind in HEARTBEAT_KINDS:
            return self._heartbeat(s, src, dst)
        return None

    def _purpose(self, mn: MobileNode, mag: str, s: MobilitySignal,
                 iface: str | None = None) -> str:
        if s.lifetime == 0:
            return DEREGISTRATION
        current = mn.current(self._iface_key(s) if iface is None else iface)
        if s.hi == NOT_CHANGED or (current is not None and current.mag == mag
                         and current.registered is not None):
            return REFRESH
        return REGISTRATION

    @staticmethod
    def _iface_key(s: MobilitySignal) -> str:
        if s.lli:
            return s.lli.lower()
        return f"att:{s.att}" if s.att is not None else "att:?"

    def _pbu(self, s: MobilitySignal, src: str, dst: str) -> Transaction | None:
        mag = self._node(src, MAG, s.mac_src)
        lma = self._node(dst, LMA)
        keys = self._keys_of(s)
        if not keys:
            return None
        mn = self._resolve(keys, s.time)
        mn.lma = mn.lma or lma
        iface = self._iface_key(s)
        purpose = self._purpose(mn, mag, s, iface)
        # sequence number and timestamp ordering
        seq_key = (mn.uid, mag, iface)  # per mobility session
        last = self._last_seq.get(seq_key)
        if last is not None and s.seq != last and (s.seq - last) % 65536 > 32768:
            self._diag(mn, "seq-backwards", s.time, [s.frame],
                       f"PBU seq {s.seq} from {mag} after seq {last}")
        self._last_seq[seq_key] = s.seq
        if s.timestamp is not None:
            prev = self._last_ts.get(mn.uid)
            if prev is not None and s.timestamp < prev:
                self._diag(mn, "timestamp-backwards", s.time, [s.frame],
                           f"PBU timestamp {s.timestamp:.3f} older than {prev:.3f}")
            self._last_ts[mn.uid] = max(s.timestamp, prev or s.timestamp)
        # retransmission of an unanswered PBU?
        open_key = (mn.uid, mag, purpose, iface)
        txn = self._open.get(open_key)
        if txn is not None and txn.outcome == PENDING and \
                s.time - txn.last_sent <= self.retransmit_window:
            txn.seqs.append(s.seq)
            txn.frames.append(s.frame)
            txn.last_sent = s.time
            txn.sent_times.append(s.time)
            txn.sent_frames.append(s.frame)
            self._diag(mn, "retransmission", s.time, txn.frames,
                       f"{mag} retransmitted the PBU (seq {txn.seqs[-2]} -> {s.seq}, "
                       f"attempt {len(txn.seqs)})", once_for=txn)
        else:
            if txn is not None and txn.outcome == PENDING:
                self._timeout(mn, txn)
            txn = Transaction(purpose, mag, lma, [s.seq], [s.frame], s.time, s.time,
                              mn=mn.id, hi=s.hi, lifetime_requested=s.lifetime,
                              hoa_requested=str(s.hoa_request) if s.hoa_request else None,
                              sent_times=[s.time], sent_frames=[s.frame])
            mn.transactions.append(txn)
            self._open[open_key] = txn
        self._pending[(src, dst, s.seq)] = (mn.uid, txn)
        heapq.heappush(self._give_ups, (s.time + self.retransmit_window, self._n, mn.uid, txn))
        # the attachment this registration is about
        if purpose == REGISTRATION:
            key = iface
            att = mn.current(key)
            if att is None or att.mag != mag:
                att = Attachment(mag, s.time, key)
                if mn.pending_since and s.time - mn.pending_since[0] <= 60:
                    att.start = min(att.start, mn.pending_since[0])
                    att.frames.append(mn.pending_since[1])
                    self._adopt_dhcp(mn, att)
                mn.pending_since = None
                att.handoff_indicator = s.hi
                att.access_technology = s.att
                att.first_pbu = s.time
                self._claim_dhcp(mn, att, s.time)
                mn.attachments.append(att)
            att.frames.append(s.frame)
        else:
            att = mn.current(iface)
            if att is not None and att.mag == mag:
                att.frames.append(s.frame)
        return txn

    def _pba(self, s: MobilitySignal, src: str, dst: str) -> Transaction | None:
        mag = self._node(dst, MAG)
        lma = self._node(src, LMA, s.mac_src)
        found = self._pending.pop((dst, src, s.seq), None)
        if found is None:
            keys = self._keys_of(s)
            mn = self._resolve(keys, s.time) if keys else None
            self._diag(mn, "orphan-reply", s.time, [s.frame],
                       f"PBA seq {s.seq} from {lma} to {mag} without its PBU")
            return None
        uid, txn = found
        mn = self._mn(uid)
        keys = self._keys_of(s)
        if keys:
            mn = self._resolve([f"nai:{mn.nai}"] if mn.nai else keys, s.time)
        open_key = (uid, mag, txn.kind, self._iface_key(s))
        if self._open.get(open_key) is txn:
            del self._open[open_key]
        txn.frames.append(s.frame)
        txn.answered = s.time
        txn.status = s.status
        txn.status_name = self._ba_name(s)
        txn.lifetime_granted = s.lifetime
        txn.hoa_assigned = str(s.hoa_reply) if s.hoa_reply is not None else None
        txn.hoa_status = s.hoa_status
        self._latencies(txn, s.seq)
        accepted = s.status is not None and status_accepted(s.status)
        txn.outcome = ACCEPTED if accepted else REJECTED
        if not s.proxy:
            self._diag(mn, "pba-without-p-flag", s.time, [s.frame],
                       f"{s.kind} seq {s.seq} from {lma} has no P flag")
        if not accepted:
            self._diag(mn, "pba-rejected", s.time, txn.frames,
                       f"{lma} rejected {txn.kind} from {mag}: {s.status} {txn.status_name}")
        if s.hoa_status is not None and not status_accepted(s.hoa_status):
            self._diag(mn, "hoa-reply-failure", s.time, [s.frame],
                       f"IPv4 HoA Reply {s.hoa_status} "
                       f"{name_of(HoAReplyStatus, s.hoa_status)}")
        if accepted and txn.lifetime_requested and s.lifetime is not None and \
                0 < s.lifetime < txn.lifetime_requested:
            self._diag(mn, "lifetime-reduced", s.time, [s.frame],
                       f"lifetime {s.lifetime} s granted, {txn.lifetime_requested} s asked")
        if accepted:
            self._accepted(mn, txn, s, mag)
        elif txn.kind == REGISTRATION:
            att = self._attachment_of(mn, mag, s)
            if att is not None and att.registered is None and att.active:
                # the MAG may retry (e.g. 171 -> 0.0.0.0): same attachment until it gives up
                att.frames.append(s.frame)
                self._failed(mn, att, s.time, EndReason.REJECTED)
        return txn

    @staticmethod
    def _ba_name(s: MobilitySignal) -> str:
        return ba_status_name(s.status or 0, s.proxy)

    def _attachment_of(self, mn: MobileNode, mag: str, s: MobilitySignal) -> Attachment | None:
        key = self._iface_key(s)
        for att in reversed(mn.attachments):
            if att.mag == mag and att.key == key:
                return att
        return None

    def _accepted(self, mn: MobileNode, txn: Transaction, s: MobilitySignal, mag: str) -> None:
        att = self._attachment_of(mn, mag, s)
        if txn.kind == DEREGISTRATION:
            if att is not None and att.active:
                if att.hnps and not s.hnps and (txn.hoa_requested or s.hoa_reply):
                    # RFC 5844 §3.1.2.5: the IPv4 HoA alone is de-registered (no HNP in the
                    # lifetime-0 PBU); the IPv6 part of the binding and the attachment stay
                    if att.ipv4_hoa and self._hoa_holder.get(att.ipv4_hoa) == mn.uid:
                        del self._hoa_holder[att.ipv4_hoa]
                    return
                att.released = txn.first_sent
                self._end(mn, att, s.time, EndReason.DETACH)
            return
        if att is None or not att.active:
            att = Attachment(mag, txn.first_sent, self._iface_key(s),
                             handoff_indicator=s.hi, access_technology=s.att,
                             first_pbu=txn.first_sent)
            mn.attachments.append(att)
        att.frames.append(s.frame)
        if s.hnps:
            att.hnps = list(s.hnps)
            mn.hnps.extend(h for h in s.hnps if h not in mn.hnps)
        if s.dhcp_mode:
            att.dhcp_mode = att.dhcp_mode or s.dhcp_mode
        att.lifetime = s.lifetime
        att.expires = s.time + (s.lifetime or 0)
        heapq.heappush(self._expiries, (att.expires + self.expiry_grace, self._n, mn.uid, att))
        if txn.kind == REFRESH:
            att.refreshes += 1
        hoa = str(s.hoa_reply) if s.hoa_reply is not None and status_accepted(s.hoa_status or 0) \
            and str(s.hoa_reply) != ZERO_TEXT else None
        if hoa is not None:
            att.ipv4_hoa, att.ipv4_plen = hoa, s.hoa_plen
            self._hold(mn, hoa, s)
        if att.registered is None:
            att.registered = s.time
            previous = self._previous(mn, att)
            if previous is not None:
                self._handoff(mn, previous, att, txn, s)

    def _hold(self, mn: MobileNode, hoa: str, s: MobilitySignal) -> None:
        holder = self._hoa_holder.get(hoa)
        if holder is not None and self._find(holder) != self._find(mn.uid):
            other = self._mn(holder)
            if any(a.active and a.ipv4_hoa == hoa for a in other.attachments):
                self._diag(mn, "duplicate-hoa", s.time, [s.frame],
                           f"{hoa} assigned to {mn.id} while {other.id} holds it")
        self._hoa_holder[hoa] = mn.uid
        key = f"hoa:{hoa}"
        self._keys.setdefault(key, mn.uid)
        if self._find(self._keys[key]) != self._find(mn.uid):
            self._keys[key] = mn.uid
        if hoa not in mn.ipv4_hoas:
            mn.ipv4_hoas.append(hoa)

    def _end(self, mn: MobileNode, att: Attachment, time: float, reason: str) -> None:
        if att.end is None:
            att.end, att.end_reason = time, reason
            if att.ipv4_hoa and reason in (EndReason.DETACH, EndReason.EXPIRED) and \
                    self._hoa_holder.get(att.ipv4_hoa) == mn.uid:
                del self._hoa_holder[att.ipv4_hoa]

    def _latencies(self, txn: Transaction, seq: int | None = None) -> None:
        """setup_ms from the first request; rtt_ms from the request whose sequence number
        the reply ``seq`` carries (the last one sent when it is not known)."""
        if txn.answered is None:
            return
        txn.setup_ms = (txn.answered - txn.first_sent) * 1000
        idx = len(txn.seqs) - 1
        if seq is not None and seq in txn.seqs:
            idx = len(txn.seqs) - 1 - txn.seqs[::-1].index(seq)
        sent = txn.sent_times[idx] if idx < len(txn.sent_times) else txn.first_sent
        txn.rtt_ms = (txn.answered - sent) * 1000

    def _timeout(self, mn: MobileNode, txn: Transaction, end: float | None = None) -> None:
        txn.outcome = Outcome.TIMEOUT
        for key in [k for k, (_, t) in self._pending.items() if t is txn]:
            del self._pending[key]
        self._diag(mn, "pbu-unanswered", txn.last_sent, txn.frames,
                   f"{txn.kind} by {txn.mag} for {mn.id} never answered "
                   f"({len(txn.seqs)} PBUs)")
        if txn.kind == REGISTRATION:
            gave_up = give_up_time(txn.sent_times or [txn.last_sent])
            if end is not None:
                gave_up = max(txn.last_sent, min(gave_up, end))
            for att in mn.attachments:
                if att.mag == txn.mag and att.active and att.registered is None:
                    self._failed(mn, att, gave_up, EndReason.TIMEOUT)

    def _failed(self, mn: MobileNode, att: Attachment, time: float, reason: str) -> None:
        """A registration of a never-registered attachment failed: unless the MAG tries
        again within the retransmission window, the attachment ends at the failure."""
        att.failed = (time, reason)
        heapq.heappush(self._failures, (time + self.retransmit_window, self._n, mn.uid, att,
                                        att.failed))

    def _expire(self, now: float) -> None:
        while self._give_ups and self._give_ups[0][0] < now:
            due, _, uid, txn = heapq.heappop(self._give_ups)
            if txn.outcome == PENDING and txn.last_sent + self.retransmit_window <= due:
                self._timeout(self._mn(uid), txn)
        while self._failures and self._failures[0][0] < now:
            _, _, uid, att, failure = heapq.heappop(self._failures)
            if att.active and att.registered is None and att.failed is failure:
                self._end(self._mn(uid), att, *failure)
        while self._expiries and self._expiries[0][0] < now:
            due, _, uid, att = heapq.heappop(self._expiries)
            if att.active and att.expires is not None and \
                    att.expires + self.expiry_grace <= due + 1e-9:
                mn = self._mn(uid)
                self._end(mn, att, att.expires, EndReason.EXPIRED)
                self._diag(mn, "binding-expired", att.expires, att.frames[-1:],
                           f"binding at {att.mag} expired (lifetime {att.lifetime} s, "
                           f"no refresh)")

    # -- diagnostics ---------------------------------------------------------------------

    def _diag(self, mn: MobileNode | None, code: str, time: float, frames: list[int],
              message: str, once_for: Transaction | None = None) -> None:
        """Record a diagnostic; with ``once_for`` one per transaction, updated in place."""
        assert code in DIAGNOSTICS, code
        if once_for is not None:
            known = self._per_txn.get((id(once_for), code))
            if known is not None:
                known.frames.extend(f for f in frames if f not in known.frames)
                known.message = message
                return
        d = Diagnostic(code, time, list(frames), message, mn.id if mn else None)
        if once_for is not None:
            self._per_txn[(id(once_for), code)] = d
        (mn.diagnostics if mn is not None else self.report.diagnostics).append(d)
