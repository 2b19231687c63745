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
from ipaddress import IPv4Address

from dissectors.dhcp_codes import DhcpMessageType as T
from dissectors.mh_codes import BRAStatus, HoAReplyStatus, ba_status_name, name_of
from pmipview.correlate.history import BATCH, History
from pmipview.correlate.model import (
    DIAGNOSTICS,
    Attachment,
    DhcpExchange,
    Diagnostic,
    Handoff,
    MobileNode,
    Node,
    Report,
    Transaction,
)
from pmipview.signals import DhcpSignal, MalformedSignal, MobilitySignal, Signal

BROADCAST = IPv4Address("255.255.255.255")
ZERO = IPv4Address(0)
RETRANSMIT_WINDOW = 35.0    # s: a PBU this soon after the last one retransmits it
DUPLICATE_WINDOW = 2.0      # s: the same message again on one capture interface
# RFC 5213 §5.3.5 / §9.1: the LMA keeps a de-registered (or revoked) binding this long, so
# that a registration from the new MAG for the same mobility session is a handoff
MIN_DELAY_BEFORE_BCE_DELETE = 10.0
SEEN_PRUNE = 10_000         # messages remembered before those past the window are dropped
SUMMARISE_EVERY = 60.0      # s of capture between two passes moving finished history out
SETTLED = 120.0             # s after which a finished item can no longer change
DHCP_SETTLED = 600.0        # s without a message after which a DHCP exchange is finished
# RFC 5213 §9.1 InitialBindackTimeoutFirstReg and RFC 6275 §12 MAX_BINDACK_TIMEOUT: the MAG
# waits this long after its first PBU, doubling on each retransmission, up to the maximum
INITIAL_BINDACK_TIMEOUT = 1.0
MAX_BINDACK_TIMEOUT = 32.0


def give_up_time(sent_times: list[float]) -> float:
    """When a MAG that sent PBUs at ``sent_times`` and got no answer gave up: its last PBU
    plus the timeout it then waited (twice the last back-off interval, RFC 6275 §11.8)."""
    if len(sent_times) < 2:
        return sent_times[-1] + INITIAL_BINDACK_TIMEOUT
    wait = 2 * (sent_times[-1] - sent_times[-2])
    return sent_times[-1] + min(max(wait, INITIAL_BINDACK_TIMEOUT), MAX_BINDACK_TIMEOUT)


def another_sighting(elapsed: float, same_interface: bool,
                     duplicate_window: float = DUPLICATE_WINDOW,
                     retransmit_window: float = RETRANSMIT_WINDOW) -> bool:
    """Whether the same message (type, addresses, sequence number or xid) seen again
    ``elapsed`` seconds later is the first one seen again: at a second capture point
    (another interface) however slow the path, or a duplicate on the same interface.
    Otherwise it is a retransmission that kept its number."""
    return elapsed <= duplicate_window or (not same_interface
                                           and elapsed <= retransmit_window)


class Correlator:
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
        self._past: dict[int, _Past] = {}
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
        self._seen: dict[tuple, tuple[float, Transaction | DhcpExchange | None, int]] = {}
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
        heapq.heappush(self._heap, (signal.time, self._n, signal))
        self._latest = max(self._latest, signal.time)
        while self._heap and self._heap[0][0] <= self._latest - self.reorder_window:
            self._process(heapq.heappop(self._heap)[2])

    def feed_all(self, signals: Iterable[Signal]) -> None:
        for s in signals:
            self.feed(s)

    def finish(self, end: float | None = None) -> Report:
        while self._heap:
            self._process(heapq.heappop(self._heap)[2])
        end = self.now if end is None else max(end, self.now)
        self._expire(end)
        for _, (uid, txn) in list(self._pending.items()):
            if txn.outcome == "pending" and txn.kind != "heartbeat":
                self._timeout(self._mn(uid), txn, end)
        for _, (uid, txn) in list(self._bri.items()):
            if txn.outcome == "pending":
                txn.outcome = "timeout"
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

    # -- dispatch -------------------------------------------------------------------------

    def _process(self, s: Signal) -> None:
        self.now = s.time
        if self.report.start is None:
            self.report.start = s.time
        self._expire(s.time)
        if isinstance(s, MalformedSignal):
            self.report.malformed_frames += 1
            self.report.diagnostics.append(Diagnostic(
                "malformed", s.time, [s.frame], f"{s.layer} @{s.offset}: {s.reason}"))
            return
        self.report.signaling_frames += 1
        if isinstance(s, MobilitySignal):
            key = (s.kind, s.src, s.dst, s.seq, s.mn_id)
        else:
            key = (s.type, s.src, s.dst, s.xid, s.giaddr, s.chaddr)
        seen = self._seen.get(key)
        if seen is not None and another_sighting(s.time - seen[0], s.iface == seen[2],
                                                 self.duplicate_window,
                                                 self.retransmit_window):
            self._duplicate(s, seen[1])
            return
        handled = self._mobility(s) if isinstance(s, MobilitySignal) else self._dhcp_signal(s)
        if self._history is not None and s.time >= self._next_summary:
            self._next_summary = s.time + SUMMARISE_EVERY
            self._summarise(s.time)
        self._seen[key] = (s.time, handled, s.iface)
        if len(self._seen) > self._seen_limit:
            # a message older than the retransmission window is never seen again: what is
            # kept follows the signaling rate, not the length of the capture
            cutoff = s.time - self.retransmit_window
            self._seen = {k: v for k, v in self._seen.items() if v[0] >= cutoff}
            self._seen_limit = max(SEEN_PRUNE, 2 * len(self._seen))

    def _duplicate(self, s: Signal, obj: object) -> None:
        """A second sighting (another capture point): record the frame, move reply times."""
        if isinstance(obj, Transaction):
            obj.frames.append(s.frame)
            if isinstance(s, MobilitySignal) and s.kind in ("PBA", "BA", "BRA", "HB-Resp") \
                    and obj.answered is not None and s.time > obj.answered:
                old, obj.answered = obj.answered, s.time
                self._latencies(obj, s.seq)
                if obj.kind == "registration" and obj.outcome == "accepted":
                    self._registration_seen_later(obj, old, s.time)
        elif isinstance(obj, DhcpExchange):
            for m in obj.messages:
                if m["type"] == getattr(s, "type_name", None) and m["frame"] != s.frame:
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

    # -- identity ------------------------------------------------------------------------

    def _find(self, uid: int) -> int:
        while self._parent[uid] != uid:
            self._parent[uid] = self._parent[self._parent[uid]]
            uid = self._parent[uid]
        return uid

    def _mn(self, uid: int) -> MobileNode:
        return self._mns[self._find(uid)]

    def _roots(self) -> list[MobileNode]:
        return [mn for uid, mn in self._mns.items() if self._find(uid) == uid]

    def _resolve(self, keys: list[str], time: float) -> MobileNode:
        """The MN these identity keys name, merging MNs the keys show to be one.

        NAI and MAC keys are strong evidence: the MNs they name are one.  An IPv4 HoA key
        is weak (an address can be given to two MNs at once, see duplicate-hoa): it joins
        an MN only when that does not put two different NAIs, or two sets of MACs with
        none in common, into one MN.
        """
        uid: int | None = None
        for weak in (False, True):
            for k in keys:
                if k.startswith("hoa:") != weak or k not in self._keys:
                    continue
                other = self._find(self._keys[k])
                if uid is None:
                    uid = other
                elif other != uid and not (weak and self._conflict(uid, other)):
                    uid = self._merge(uid, other)
        if uid is None:
            uid = len(self._parent) + 1
            self._parent[uid] = uid
            self._mns[uid] = MobileNode(uid, first_seen=time)
        mn = self._mns[uid]
        for k in keys:
            if k not in self._keys:
                self._keys[k] = uid
                kind, value = k.split(":", 1)
                target = {"nai": mn.nais, "mac": mn.macs, "hoa": mn.ipv4_hoas}[kind]
                if value not in target:
                    target.append(value)
        return mn

    def _conflict(self, a: int, b: int) -> bool:
        """Whether MNs ``a`` and ``b`` are visibly two devices (different NAIs or MACs)."""
        ma, mb = self._mns[a], self._mns[b]
        if ma.nais and mb.nais and not set(ma.nais) & set(mb.nais):
            return True
        return bool(ma.macs and mb.macs and not set(ma.macs) & set(mb.macs))

    def _merge(self, a: int, b: int) -> int:
        keep, gone = (a, b) if self._mns[a].first_seen <= self._mns[b].first_seen else (b, a)
        m, g = self._mns[keep], self._mns[gone]
        if self._history is not None:
            self._history.take_back(m)
            self._history.take_back(g)
        if gone in self._past:
            self._past.setdefault(keep, _Past()).absorb(self._past.pop(gone))
        for name in ("nais", "macs", "ipv4_hoas", "hnps"):
            target = getattr(m, name)
            target.extend(v for v in getattr(g, name) if v not in target)
        for name in ("attachments", "handoffs", "transactions", "dhcp", "diagnostics"):
            getattr(m, name).extend(getattr(g, name))
        m.attachments.sort(key=lambda x: x.start)
        m.transactions.sort(key=lambda x: x.first_sent)
        m.dhcp.sort(key=lambda x: x.first)
        if m.pending_since is None or (g.pending_since and g.pending_since < m.pending_since):
            m.pending_since = g.pending_since
        if m.pending_since is not None:
            # DHCP from the MN seen before evidence tied it to an attachment that has begun
            # since (e.g. a DISCOVER, then a PBU without MN-LLI, then the OFFER's yiaddr)
            since, frame = m.pending_since
            att = next((a for a in m.attachments if 0 <= a.start - since <= 60), None)
            if att is not None:
                att.start = since
                att.frames.append(frame)
            if att is not None or m.current() is not None:
                m.pending_since = None  # it belongs to an attachment, not to the next one
        m.lma = m.lma or g.lma
        self._parent[gone] = keep
        for hoa, holder in self._hoa_holder.items():
            if self._find(holder) == keep:
                self._hoa_holder[hoa] = keep
        return keep

    # -- nodes ---------------------------------------------------------------------------

    def _node(self, addr: object, role: str, mac: str | None = None) -> str:
        """The name of the node at ``addr`` (created on first sight).

        A node's IPv4 and IPv6 addresses become one node when frames from both carry the
        same source MAC and the node has no address of the other family yet (a router's
        MAC, seen on frames of several nodes, cannot merge two nodes of one family); a
        names file that gives two addresses one name makes them one node too.
        """
        text = str(addr)
        node = self._node_of_addr.get(text)
        if node is None:
            name = self.names.get(text, text)
            node = next((n for n in self._nodes if n.name == name), None)
            if node is None:
                node = Node(name, role)
                self._nodes.append(node)
            node.addresses.append(text)
            self._node_of_addr[text] = node
        if role == "lma" and node.role != "lma":
            node.role = "lma"  # a DHCP server co-located with the LMA
        if mac is not None and mac not in node.macs:
            node.macs.add(mac)
            self._merge_by_mac(node, mac)
        return self._renamed.get(node.name, node.name)

    def _merge_by_mac(self, node: Node, mac: str) -> None:
        fam = {":" in a for a in node.addresses}
        for other in self._nodes:
            if other is node or mac not in other.macs or other.role != node.role:
                continue
            if fam & {":" in a for a in other.addresses}:
                continue  # same family on both: a shared next hop, not one node
            keep, gone = (other, node) if self._nodes.index(other) < self._nodes.index(node) \
                else (node, other)
            keep.addresses.extend(a for a in gone.addresses if a not in keep.addresses)
            keep.macs |= gone.macs
            for a in gone.addresses:
                self._node_of_addr[a] = keep
            self._nodes.remove(gone)
            if gone.name != keep.name:
                self._rename(gone.name, keep.name)
            return

    def _rename(self, old: str, new: str) -> None:
        """A node merged into another: its name changes everywhere it was recorded."""
        self._renamed[old] = new
        for mn in self._roots():
            if mn.lma == old:
                mn.lma = new
            for att in mn.attachments:
                if att.mag == old:
                    att.mag = new
            for txn in mn.transactions:
                txn.mag = new if txn.mag == old else txn.mag
                txn.lma = new if txn.lma == old else txn.lma
            for h in mn.handoffs:
                h.from_mag = new if h.from_mag == old else h.from_mag
                h.to_mag = new if h.to_mag == old else h.to_mag
            for ex in mn.dhcp:
                if ex.mag == old:
                    ex.mag = new
        self._open = {(u, new if m == old else m, p, i): t
                      for (u, m, p, i), t in self._open.items()}

    # -- mobility ------------------------------------------------------------------------

    def _keys_of(self, s: MobilitySignal) -> list[str]:
        keys = []
        if s.mn_id:
            keys.append(f"nai:{s.mn_id}")
        if s.lli:
            keys.append(f"mac:{s.lli.lower()}")
        for hoa in (s.hoa_request, s.hoa_reply):
            if hoa is not None and hoa != ZERO and str(hoa) in self._hoa_holder:
                keys.append(f"hoa:{hoa}")
        return keys

    def _mobility(self, s: MobilitySignal) -> object:
        if s.kind in ("PBU", "BU"):
            return self._pbu(s)
        if s.kind in ("PBA", "BA"):
            return self._pba(s)
        if s.kind == "BRI":
            return self._bri_signal(s)
        if s.kind == "BRA":
            return self._bra_signal(s)
        if s.kind.startswith("HB"):
            return self._heartbeat(s)
        return None

    def _purpose(self, mn: MobileNode, mag: str, s: MobilitySignal) -> str:
        if s.lifetime == 0:
            return "deregistration"
        current = mn.current(self._iface_key(s))
        if s.hi == 5 or (current is not None and current.mag == mag
                         and current.registered is not None):
            return "refresh"
        return "registration"

    @staticmethod
    def _iface_key(s: MobilitySignal) -> str:
        if s.lli:
            return s.lli.lower()
        return f"att:{s.att}" if s.att is not None else "att:?"

    def _pbu(self, s: MobilitySignal) -> Transaction | None:
        mag = self._node(s.src, "mag", s.mac_src)
        lma = self._node(s.dst, "lma")
        keys = self._keys_of(s)
        if not keys:
            return None
        mn = self._resolve(keys, s.time)
        mn.lma = mn.lma or lma
        purpose = self._purpose(mn, mag, s)
        # sequence number and timestamp ordering
        seq_key = (mn.uid, mag, self._iface_key(s))  # per mobility session
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
        open_key = (mn.uid, mag, purpose, self._iface_key(s))
        txn = self._open.get(open_key)
        if txn is not None and txn.outcome == "pending" and \
                s.time - txn.last_sent <= self.retransmit_window:
            txn.seqs.append(s.seq)
            txn.frames.append(s.frame)
            txn.last_sent = s.time
            txn.sent_times.append(s.time)
            self._diag(mn, "retransmission", s.time, txn.frames,
                       f"{mag} retransmitted the PBU (seq {txn.seqs[-2]} -> {s.seq}, "
                       f"attempt {len(txn.seqs)})", once_for=txn)
        else:
            if txn is not None and txn.outcome == "pending":
                self._timeout(mn, txn)
            txn = Transaction(purpose, mag, lma, [s.seq], [s.frame], s.time, s.time,
                              mn=mn.id, hi=s.hi, lifetime_requested=s.lifetime,
                              hoa_requested=str(s.hoa_request) if s.hoa_request else None,
                              sent_times=[s.time])
            mn.transactions.append(txn)
            self._open[open_key] = txn
        self._pending[(str(s.src), str(s.dst), s.seq)] = (mn.uid, txn)
        heapq.heappush(self._give_ups, (s.time + self.retransmit_window, self._n, mn.uid, txn))
        # the attachment this registration is about
        if purpose == "registration":
            key = self._iface_key(s)
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
            att = mn.current(self._iface_key(s))
            if att is not None and att.mag == mag:
                att.frames.append(s.frame)
        return txn

    def _pba(self, s: MobilitySignal) -> Transaction | None:
        mag = self._node(s.dst, "mag")
        lma = self._node(s.src, "lma", s.mac_src)
        found = self._pending.pop((str(s.dst), str(s.src), s.seq), None)
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
        accepted = s.status is not None and s.status < 128
        txn.outcome = "accepted" if accepted else "rejected"
        if not s.proxy:
            self._diag(mn, "pba-without-p-flag", s.time, [s.frame],
                       f"{s.kind} seq {s.seq} from {lma} has no P flag")
        if not accepted:
            self._diag(mn, "pba-rejected", s.time, txn.frames,
                       f"{lma} rejected {txn.kind} from {mag}: {s.status} {txn.status_name}")
        if s.hoa_status is not None and s.hoa_status >= 128:
            self._diag(mn, "hoa-reply-failure", s.time, [s.frame],
                       f"IPv4 HoA Reply {s.hoa_status} "
                       f"{name_of(HoAReplyStatus, s.hoa_status)}")
        if accepted and txn.lifetime_requested and s.lifetime is not None and \
                0 < s.lifetime < txn.lifetime_requested:
            self._diag(mn, "lifetime-reduced", s.time, [s.frame],
                       f"lifetime {s.lifetime} s granted, {txn.lifetime_requested} s asked")
        if accepted:
            self._accepted(mn, txn, s, mag)
        elif txn.kind == "registration":
            att = self._attachment_of(mn, mag, s)
            if att is not None and att.registered is None and att.active:
                # the MAG may retry (e.g. 171 -> 0.0.0.0): same attachment until it gives up
                att.frames.append(s.frame)
                self._failed(mn, att, s.time, "rejected")
        return txn

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
            if ex.outcome == "ack" or ex.first < boundary:
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
                if ex.outcome == "ack" and not ex.renewal and att.dhcp_ack is None:
                    self._address_acquired(mn, att, ex)
                if ex.server_id and att.server_id is None:
                    att.server_id = ex.server_id

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
        if txn.kind == "deregistration":
            if att is not None and att.active:
                if att.hnps and not s.hnps and (txn.hoa_requested or s.hoa_reply):
                    # RFC 5844 §3.1.2.5: the IPv4 HoA alone is de-registered (no HNP in the
                    # lifetime-0 PBU); the IPv6 part of the binding and the attachment stay
                    if att.ipv4_hoa and self._hoa_holder.get(att.ipv4_hoa) == mn.uid:
                        del self._hoa_holder[att.ipv4_hoa]
                    return
                att.released = txn.first_sent
                self._end(mn, att, s.time, "detach")
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
        if txn.kind == "refresh":
            att.refreshes += 1
        hoa = str(s.hoa_reply) if s.hoa_reply is not None and (s.hoa_status or 0) < 128 \
            and s.hoa_reply != ZERO else None
        if hoa is not None:
            att.ipv4_hoa, att.ipv4_plen = hoa, s.hoa_plen
            self._hold(mn, hoa, s)
        if att.registered is None:
            att.registered = s.time
            previous = self._previous(mn, att)
            if previous is not None:
                self._handoff(mn, previous, att, txn, s)

    def _previous(self, mn: MobileNode, att: Attachment) -> Attachment | None:
        """The attachment ``att`` takes over: the same interface at another MAG, or, for
        an inter-interface handoff (HI=2), the other interface whose HoA or HNP moved."""
        for other in reversed(mn.attachments):
            if other is att or other.registered is None:
                continue
            if not other.active:
                if self._released_for(other, att):
                    other.end_reason = "handoff"
                    return other
                continue
            if other.key == att.key and other.mag != att.mag:
                return other
            if att.handoff_indicator == 2 and other.key != att.key and (
                    (att.ipv4_hoa and other.ipv4_hoa == att.ipv4_hoa)
                    or set(att.hnps) & set(other.hnps)):
                return other
        return None

    def _released_for(self, old: Attachment, att: Attachment) -> bool:
        """Whether ``old``, de-registered or revoked already, is the binding that ``att``
        takes over at another MAG.  Either the LMA revoked it (BRI) for this registration,
        after the new MAG's first PBU, or break-before-make (RFC 5213 §5.3.5): the binding
        was released at most MinDelayBeforeBCEDelete before the new MAG's first PBU, for the
        same mobility session (the same interface, or HI=2 from another interface), and the
        new PBU says it is a handoff (HI 2, 3 or 4 — HI=1 is a new attachment)."""
        if old.mag == att.mag or att.first_pbu is None or old.released is None or \
                old.end_reason not in ("detach", "revocation"):
            return False
        if old.key != att.key and att.handoff_indicator != 2:
            return False
        if old.end_reason == "revocation" and old.released >= att.first_pbu:
            return old.key == att.key
        return att.handoff_indicator != 1 and \
            0 <= att.first_pbu - old.released <= self.bce_delete_delay

    def _handoff(self, mn: MobileNode, prev: Attachment, att: Attachment, txn: Transaction,
                 s: MobilitySignal) -> None:
        self._end(mn, prev, s.time, "handoff")
        preserved = None
        if prev.ipv4_hoa and att.ipv4_hoa:
            preserved = prev.ipv4_hoa == att.ipv4_hoa
            if not preserved:
                self._diag(mn, "hoa-changed-on-handoff", s.time, [s.frame],
                           f"HoA {prev.ipv4_hoa} at {prev.mag} became {att.ipv4_hoa} at "
                           f"{att.mag}")
        interruption = None
        if prev.released is not None and att.first_pbu is not None and \
                prev.released < att.first_pbu:
            interruption = (s.time - prev.released) * 1000
        mn.handoffs.append(Handoff(prev.mag, att.mag, s.time,
                                   (s.time - txn.first_sent) * 1000, preserved,
                                   [txn.frames[0], s.frame], interruption))
        if att.dhcp_mode is None:
            att.dhcp_mode = prev.dhcp_mode

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
            if att.ipv4_hoa and reason in ("detach", "expired") and \
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
        txn.outcome = "timeout"
        for key in [k for k, (_, t) in self._pending.items() if t is txn]:
            del self._pending[key]
        self._diag(mn, "pbu-unanswered", txn.last_sent, txn.frames,
                   f"{txn.kind} by {txn.mag} for {mn.id} never answered "
                   f"({len(txn.seqs)} PBUs)")
        if txn.kind == "registration":
            gave_up = give_up_time(txn.sent_times or [txn.last_sent])
            if end is not None:
                gave_up = max(txn.last_sent, min(gave_up, end))
            for att in mn.attachments:
                if att.mag == txn.mag and att.active and att.registered is None:
                    self._failed(mn, att, gave_up, "timeout")

    def _failed(self, mn: MobileNode, att: Attachment, time: float, reason: str) -> None:
        """A registration of a never-registered attachment failed: unless the MAG tries
        again within the retransmission window, the attachment ends at the failure."""
        att.failed = (time, reason)
        heapq.heappush(self._failures, (time + self.retransmit_window, self._n, mn.uid, att,
                                        att.failed))

    def _expire(self, now: float) -> None:
        while self._give_ups and self._give_ups[0][0] < now:
            due, _, uid, txn = heapq.heappop(self._give_ups)
            if txn.outcome == "pending" and txn.last_sent + self.retransmit_window <= due:
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
                self._end(mn, att, att.expires, "expired")
                self._diag(mn, "binding-expired", att.expires, att.frames[-1:],
                           f"binding at {att.mag} expired (lifetime {att.lifetime} s, "
                           f"no refresh)")

    # -- revocation and heartbeat -----------------------------------------------------

    def _bri_signal(self, s: MobilitySignal) -> Transaction | None:
        lma = self._node(s.src, "lma", s.mac_src)
        mag = self._node(s.dst, "mag")
        keys = self._keys_of(s)
        mn = self._resolve(keys, s.time) if keys else None
        txn = Transaction("revocation", mag, lma, [s.seq], [s.frame], s.time, s.time,
                          mn=mn.id if mn else None, sent_times=[s.time])
        if mn is not None:
            mn.transactions.append(txn)
            for att in mn.attachments:
                if att.mag == mag and att.active:
                    att.released = s.time
                    self._end(mn, att, s.time, "revocation")
        self._bri[(str(s.dst), str(s.src), s.seq)] = (mn.uid if mn else 0, txn)
        return txn

    def _bra_signal(self, s: MobilitySignal) -> Transaction | None:
        mag = self._node(s.src, "mag", s.mac_src)
        self._node(s.dst, "lma")
        found = self._bri.pop((str(s.src), str(s.dst), s.seq), None)
        if found is None:
            self._diag(None, "orphan-reply", s.time, [s.frame],
                       f"BRA seq {s.seq} from {mag} without its BRI")
            return None
        uid, txn = found
        txn.frames.append(s.frame)
        txn.answered, txn.status = s.time, s.status
        txn.status_name = name_of(BRAStatus, s.status or 0)
        self._latencies(txn)
        txn.outcome = "accepted" if (s.status or 0) < 128 else "rejected"
        if txn.outcome == "rejected":
            self._diag(self._mn(uid) if uid else None, "revocation-failed", s.time,
                       txn.frames, f"BRA {s.status} {txn.status_name}")
        return txn

    def _heartbeat(self, s: MobilitySignal) -> Transaction | None:
        a, b = str(s.src), str(s.dst)
        if s.kind == "HB-Req":
            txn = Transaction("heartbeat", a, b, [s.seq], [s.frame], s.time, s.time,
                              sent_times=[s.time])
            self._hb[(a, b, s.seq)] = txn
            return txn
        txn = self._hb.pop((b, a, s.seq), None)
        if s.restart_counter is not None:
            prev = self._restart.get(a)
            if prev is not None and prev != s.restart_counter:
                self._diag(None, "peer-restarted", s.time, [s.frame],
                           f"{self.names.get(a, a)} restart counter {prev} -> "
                           f"{s.restart_counter}")
            self._restart[a] = s.restart_counter
        if txn is not None:
            txn.frames.append(s.frame)
            txn.answered = s.time
            txn.outcome = "accepted"
            self._latencies(txn)
        return txn

    # -- DHCP ----------------------------------------------------------------------------

    def _dhcp_signal(self, s: DhcpSignal) -> DhcpExchange | None:
        macs = sorted(s.mn_macs)
        keys = [f"mac:{m}" for m in macs]
        for addr in (s.yiaddr if s.type in (T.OFFER, T.ACK) else None, s.ciaddr,
                     s.requested_ip, s.remote_id):
            if addr is not None and addr != ZERO and str(addr) in self._hoa_holder:
                keys.append(f"hoa:{addr}")
        if not keys:
            return None
        mn = self._resolve(keys, s.time)
        mac = macs[0] if macs else ""
        if s.relay_leg:
            self._node(s.dst if s.op == 1 else s.src, "dhcp-server")
        ex = self._dhcp.get((s.xid, mac))
        if ex is None or (s.type == T.DISCOVER and ex.messages and not s.relay_leg
                          and ex.outcome != "pending"):
            ex = DhcpExchange(s.xid, mac, s.time,
                              renewal=s.type == T.REQUEST and int(s.ciaddr) != 0)
            self._dhcp[(s.xid, mac)] = ex
            mn.dhcp.append(ex)
        leg = "relay" if s.relay_leg else "client"
        if s.relay_leg:
            ex.mode = "relay"
        ex.messages.append({"type": s.type_name, "time": s.time, "frame": s.frame, "leg": leg})
        att = mn.current(mac) or mn.current()
        if att is None and s.op == 1 and (mn.pending_since is None
                                          or s.time - mn.pending_since[0] > 60):
            mn.pending_since = (s.time, s.frame)
        if att is not None:
            ex.mag = att.mag
            att.frames.append(s.frame)
            if att.dhcp_mode is None and s.relay_leg:
                att.dhcp_mode = "relay"
        if s.server_id is not None and s.op == 2:
            ex.server_id = str(s.server_id)
        if s.type == T.NAK and not s.relay_leg:
            ex.outcome = "nak"
            self._diag(mn, "dhcp-nak", s.time, [s.frame], f"DHCPNAK xid 0x{s.xid:08x}")
        elif s.type == T.ACK and not s.relay_leg:
            ex.outcome, ex.acked, ex.yiaddr = "ack", s.time, str(s.yiaddr)
            if att is not None and int(s.yiaddr):
                self._check_address(mn, att, s)
                if att.dhcp_ack is None and not ex.renewal:
                    self._address_acquired(mn, att, ex)
                if s.server_id is not None:
                    self._server_id(mn, att, str(s.server_id), s)
        elif s.type == T.OFFER and not s.relay_leg and att is not None and int(s.yiaddr):
            self._check_address(mn, att, s)
        elif s.relay_leg and s.type in (T.ACK, T.NAK) and ex.outcome == "pending":
            # the server's answer on the relay leg (the client leg may not be captured)
            ex.outcome = "ack" if s.type == T.ACK else "nak"
            if s.type == T.ACK:
                ex.yiaddr = str(s.yiaddr)
        elif s.type == T.RELEASE:
            ex.outcome = "released"
        elif s.type == T.DECLINE:
            ex.outcome = "declined"
        if s.type == T.REQUEST and not s.relay_leg and s.dst != BROADCAST and \
                int(s.ciaddr) and att is not None:
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

    # -- finished history out of memory ----------------------------------------------------

    def _current_name(self, name: str) -> str:
        seen = set()
        while name in self._renamed and name not in seen:
            seen.add(name)
            name = self._renamed[name]
        return name

    def _past_end(self, mn: MobileNode, key: str) -> float:
        past = self._past.get(mn.uid)
        return past.end.get(key, float("-inf")) if past is not None else float("-inf")

    def _summarise(self, now: float) -> None:
        """Move what has finished (summarise=True) out of memory: the front of each MN's
        lists up to the first item that may still change (history.py)."""
        assert self._history is not None
        cutoff, dhcp_cutoff = now - SETTLED, now - DHCP_SETTLED
        done: set[int] = set()
        for mn in self._roots():
            n = _prefix(mn.attachments, lambda a: a.end is not None and a.end < cutoff)
            if n >= BATCH:
                past = self._past.setdefault(mn.uid, _Past())
                for a in mn.attachments[:n]:
                    past.add(a)
                self._history.spill(mn, "attachments", n)
            n = _prefix(mn.handoffs, lambda h: h.time < cutoff)
            if n >= BATCH:
                self._history.spill(mn, "handoffs", n)
            n = _prefix(mn.transactions, lambda t: t.outcome != "pending" and max(
                t.answered or t.last_sent, t.last_sent) < cutoff)
            if n >= BATCH:
                for t in mn.transactions[:n]:
                    done.add(id(t))
                    self._per_txn.pop((id(t), "retransmission"), None)
                self._history.spill(mn, "transactions", n)
            n = _prefix(mn.dhcp, lambda x: (x.messages[-1]["time"] if x.messages
                                            else x.first) < dhcp_cutoff)
            if n >= BATCH:
                for x in mn.dhcp[:n]:
                    if self._dhcp.get((x.xid, x.mac)) is x:
                        del self._dhcp[(x.xid, x.mac)]
                self._history.spill(mn, "dhcp", n)
        if done:
            self._pending = {k: v for k, v in self._pending.items() if id(v[1]) not in done}
            self._open = {k: t for k, t in self._open.items() if id(t) not in done}

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


def _prefix(items: list, finished) -> int:
    """How many items at the front of ``items`` are finished."""
    n = 0
    for item in items:
        if not finished(item):
            break
        n += 1
    return n


class _Past:
    """What the correlator still asks about an MN's attachments that left memory: the
    last end of each interface, the last DHCP server id learnt on it, and the MAGs where
    each server id was learnt (in order)."""

    __slots__ = ("end", "server", "servers")

    def __init__(self) -> None:
        self.end: dict[str, float] = {}
        self.server: dict[str, tuple[str, str]] = {}
        self.servers: dict[str, list[str]] = {}

    def add(self, att: Attachment) -> None:
        if att.end is not None:
            self.end[att.key] = max(att.end, self.end.get(att.key, att.end))
        if att.server_id:
            self.server[att.key] = (att.server_id, att.mag)
            mags = self.servers.setdefault(att.server_id, [])
            if att.mag not in mags:
                mags.append(att.mag)

    def absorb(self, other: _Past) -> None:
        for key, end in other.end.items():
            self.end[key] = max(end, self.end.get(key, end))
        for key, value in other.server.items():
            self.server.setdefault(key, value)
        for sid, mags in other.servers.items():
            mine = self.servers.setdefault(sid, [])
            mine.extend(m for m in mags if m not in mine)
