"""The ladder (sequence diagram) of one mobile node, computed once and drawn by every backend.

``build(report, mn, messages)`` turns the correlated report and the signals of the MN's
frames into plain data: lifelines in a fixed order (the MN, its MAGs in order of first
use, LMAs, DHCP servers), one arrow per message (a frame seen at several capture points
is one arrow: the correlator's sightings in the model), notes for diagnostics and phase
separators (attach, handoff, detach).
The terminal, matplotlib, Mermaid/PlantUML/mscgen and HTML backends only read this, so
all outputs show the same lifelines, labels, colours and order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from ipaddress import IPv4Address
from typing import Any

from dissectors.dhcp_codes import DhcpMessageType, DhcpOp
from dissectors.fields import to_dict
from dissectors.frame import Frame
from dissectors.mh_codes import (
    ACK_KINDS,
    HI_SHORT,
    REQUEST_KINDS,
    UPDATE_KINDS,
    BRAStatus,
    HoAReplyStatus,
    MessageKind,
    RevocationTrigger,
    ba_status_name,
    name_of,
    status_accepted,
)
from pmipview.correlate.model import DIAGNOSTICS, MobileNode, Report, TxnKind
from pmipview.render.ladder.style import (  # noqa: F401  (the backends import them here)
    COLOURS,
    OUTCOME_TAGS,
    OUTCOMES,
    PHASE_COLOURS,
    RICH_STYLES,
    ROLE_FACES,
    SEVERITY_COLOURS,
    SEVERITY_ICONS,
)
from pmipview.signals import DhcpSignal, MobilitySignal

Signal = MobilitySignal | DhcpSignal

TIME_MODE_TEXT = {"rel": "time in s since the capture start",
                  "abs": "time of day (UTC)", "delta": "time in s since the previous message"}
ROLE_ORDER = {"mn": 0, "mag": 1, "lma": 2, "dhcp-server": 3}
TIME_MODES = ("rel", "abs", "delta")

_ZERO = IPv4Address(0)
_BROADCAST = IPv4Address("255.255.255.255")


@dataclass(slots=True)
class Lifeline:
    name: str
    role: str                       # mn, mag, lma, dhcp-server
    addresses: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"{self.name}\n{self.role.upper()}" if self.role != "mn" else f"{self.name}\nMN"


@dataclass(slots=True)
class Arrow:
    frame: int                      # the first sighting
    time: float
    src: int                        # lifeline indexes
    dst: int
    kind: str                       # PBU PBA BRI BRA DISCOVER OFFER REQUEST ACK NAK ...
    label: str                      # what matters, one line
    outcome: str                    # one of OUTCOMES
    detail: list[tuple[str, str]] = field(default_factory=list)  # decoded fields
    also_frames: list[int] = field(default_factory=list)        # other capture points
    arrived: float | None = None    # the last sighting: at the receiver's capture point

    @property
    def frames(self) -> list[int]:
        return [self.frame, *self.also_frames]

    @property
    def tag(self) -> str | None:
        """What the label adds about the outcome (OUTCOME_TAGS), if anything."""
        return OUTCOME_TAGS.get(self.outcome)

    @property
    def transit_ms(self) -> float | None:
        """Seen at two capture points: from the sender's sighting to the receiver's."""
        if self.arrived is None or self.arrived <= self.time:
            return None
        return (self.arrived - self.time) * 1000

    @property
    def text(self) -> str:
        """The label as every backend writes it: with its outcome tag, and the one-way
        time to the receiver's capture point when the message was seen at two."""
        tag = self.tag
        text = f"{self.label} · {tag}" if tag else self.label
        transit = self.transit_ms
        return text if transit is None else f"{text} · arrived +{transit:.3f} ms"


@dataclass(slots=True)
class Note:
    """A diagnostic or a phase separator, drawn before arrow ``before`` (len(arrows): end)."""

    before: int
    time: float
    text: str
    kind: str                       # error warning note (diagnostics) or phase
    span: int = 0                   # phases: how many arrows the phase covers
    phase: str = ""                 # phases: attach failed handoff end (PHASE_COLOURS)


@dataclass(slots=True)
class Ladder:
    mn: str
    lifelines: list[Lifeline]
    arrows: list[Arrow]
    notes: list[Note]
    origin: float                   # the time "rel" counts from (the capture start)
    time_mode: str = "rel"
    cut: int = 0                    # messages left out by --max-messages
    cut_after: float | None = None  # time of the first message left out
    title: str = ""

    def time_text(self, i: int) -> str:
        """The time of arrow ``i`` as every backend prints it."""
        return time_text(self.arrows, i, self.time_mode, self.origin)

    def notes_before(self, i: int) -> list[Note]:
        return [n for n in self.notes if n.before == i]

    @property
    def cut_note(self) -> str | None:
        if not self.cut:
            return None
        at = "" if self.cut_after is None else f" after {self.cut_after - self.origin:.3f} s"
        return (f"cut: {self.cut} more message{'s' if self.cut != 1 else ''}{at} not drawn "
                f"(--max-messages; use --from/--to to see them)")


def time_text(arrows: list[Arrow], i: int, mode: str, origin: float) -> str:
    t = arrows[i].time
    if mode == "abs":
        return datetime.fromtimestamp(t, UTC).strftime("%H:%M:%S.%f")
    if mode == "delta":
        return f"+{(t - arrows[i - 1].time if i else 0.0):.6f}"
    return f"{t - origin:.6f}"


# -- which frames belong to the MN -----------------------------------------------------

def mn_frames(mn: MobileNode) -> set[int]:
    """Every frame the correlator attributed to ``mn`` (heartbeats are per MAG, not MN)."""
    frames: set[int] = set()
    for a in mn.attachments:
        frames.update(a.frames)
    for t in mn.transactions:
        if t.kind != "heartbeat":
            frames.update(t.frames)
    for x in mn.dhcp:
        for m in x.messages:
            frames.add(m["frame"])
            frames.update(m.get("also", ()))
    for d in mn.diagnostics:
        frames.update(d.frames)
    for h in mn.handoffs:
        frames.update(h.frames)
    return frames


# -- lifelines ---------------------------------------------------------------------------

class _Endpoints:
    """Who sent a message and to whom, by the report's node addresses and MACs."""

    def __init__(self, report: Report, mn: MobileNode) -> None:
        self.mn = mn
        self.by_addr = {a: n.name for n in report.nodes for a in n.addresses}
        self.by_mac = {m: n.name for n in report.nodes for m in n.macs}
        self.role = {n.name: n.role for n in report.nodes}
        self.addresses = {n.name: list(n.addresses) for n in report.nodes}
        self.mn_macs = {m.lower() for m in mn.macs}
        self.mn_addrs = set(mn.ipv4_hoas)
        self.dhcp_mag = {f: x.mag for x in mn.dhcp if x.mag for m in x.messages
                         for f in (m["frame"], *m.get("also", ()))}

    def node(self, addr: object, mac: str | None) -> str | None:
        if addr is not None and addr not in (_ZERO, _BROADCAST):
            name = self.by_addr.get(str(addr))
            if name is not None:
                return name
        if mac is not None and mac in self.by_mac:
            return self.by_mac[mac]
        return None

    def mag_at(self, time: float) -> str | None:
        mag = None
        for a in self.mn.attachments:
            if a.start <= time + 1.0:  # DHCP may precede the PBU by a little
                mag = a.mag
        return mag or (self.mn.attachments[0].mag if self.mn.attachments else None)

    def of(self, s: Signal) -> tuple[str, str]:
        """(source, destination) names; the MN is ``mn.id``."""
        me = self.mn.id
        if isinstance(s, MobilitySignal):
            return (self.node(s.src, s.mac_src) or str(s.src),
                    self.node(s.dst, None) or str(s.dst))
        other = self.dhcp_mag.get(s.frame) or self.mag_at(s.time)
        if s.relay_leg:
            if s.op == DhcpOp.BOOTREQUEST:
                return (self.node(s.src, s.mac_src) or other or str(s.src),
                        self.node(s.dst, s.mac_dst) or str(s.dst))
            return (self.node(s.src, s.mac_src) or str(s.src),
                    self.node(s.dst, s.mac_dst) or other or str(s.dst))
        if s.op == DhcpOp.BOOTREQUEST:  # client -> server (MAG, or the relay at the MAG)
            return me, self._server(s.dst, s.mac_dst, other)
        return self._server(s.src, s.mac_src, other), me

    def _server(self, addr: object, mac: str | None, fallback: str | None) -> str:
        name = self.node(addr, mac)
        if name is not None and self.role.get(name) == "mag":
            return name
        return fallback or name or str(addr)


def _lifelines(names: list[str], ends: _Endpoints, mn: MobileNode) -> list[Lifeline]:
    """MN first, then MAGs in order of first use, LMAs, DHCP servers (first-use order)."""
    first: dict[str, int] = {}
    for i, n in enumerate(names):
        first.setdefault(n, i)
    role = {n: ("mn" if n == mn.id else ends.role.get(n, "node")) for n in first}
    order = sorted(first, key=lambda n: (ROLE_ORDER.get(role[n], 4), first[n]))
    if mn.id not in order:
        order.insert(0, mn.id)
    return [Lifeline(n, role.get(n, "mn"),
                     [*mn.ipv4_hoas, *mn.macs] if n == mn.id else ends.addresses.get(n, []))
            for n in order]


# -- labels ------------------------------------------------------------------------------

def _status(table: Any, value: int) -> str:
    return f"{value} {name_of(table, value)}"


def label(s: Signal) -> str:
    """The message with what matters, one line (PBU seq/HI/HoA, PBA status/HoA, DHCP…)."""
    if isinstance(s, DhcpSignal):
        parts = [f"DHCP{s.type_name}" if s.type else "BOOTP", f"xid 0x{s.xid:08x}"]
        if s.type in (2, 5) and s.yiaddr != _ZERO:  # OFFER, ACK
            parts.append(f"yiaddr {s.yiaddr}")
        if s.requested_ip is not None:
            parts.append(f"req {s.requested_ip}")
        if s.relay_leg:
            parts.append(f"via {s.giaddr}")
        return " · ".join(parts)
    parts = [f"{s.kind} seq {s.seq}"]
    if s.kind in UPDATE_KINDS:
        if s.lifetime == 0:
            parts.append("lifetime 0 (de-registration)")
        if s.hi is not None:
            parts.append(f"HI {s.hi} {HI_SHORT.get(s.hi, 'unknown')}")
        if s.hoa_request is not None:
            parts.append(f"HoA? {s.hoa_request}")
    elif s.kind in ACK_KINDS:
        parts.append(f"{s.status or 0} {ba_status_name(s.status or 0, s.proxy)}")
        if s.hoa_status:
            parts.append(f"HoA {_status(HoAReplyStatus, s.hoa_status)}")
        elif s.hoa_reply is not None:
            parts.append(f"HoA {s.hoa_reply}/{s.hoa_plen}")
        if s.status is not None and status_accepted(s.status) and s.lifetime is not None:
            parts.append(f"lifetime {s.lifetime} s")
    elif s.kind == MessageKind.BRI and s.trigger is not None:
        parts.append(_status(RevocationTrigger, s.trigger))
    elif s.kind == MessageKind.BRA and s.status is not None:
        parts.append(_status(BRAStatus, s.status))
    return " · ".join(parts)


def _kind(s: Signal) -> str:
    return s.kind if isinstance(s, MobilitySignal) else (s.type_name if s.type else "BOOTP")


def _outcome(s: Signal, retransmitted: set[int], unanswered: set[int]) -> str:
    if isinstance(s, DhcpSignal):
        if s.type == DhcpMessageType.NAK:
            return "rejected"
        return "ok" if s.op == DhcpOp.BOOTREPLY else "request"
    if s.kind in REQUEST_KINDS:
        if s.frame in unanswered:
            return "timeout"
        if s.frame in retransmitted:
            return "retransmission"
    if s.kind in ACK_KINDS | {MessageKind.BRA} and s.status is not None:
        ok = status_accepted(s.status) and status_accepted(s.hoa_status or 0)
        return "ok" if ok else "rejected"
    if s.kind == MessageKind.HB_RESP:
        return "ok"
    return "request"


def detail(s: Signal, frame: Frame | None) -> list[tuple[str, str]]:
    """The decoded message as (field, value) lines, for hover/click views."""
    rows: list[tuple[str, str]] = [("frame", str(s.frame)), ("source", str(s.src)),
                                   ("destination", str(s.dst))]
    msg = None if frame is None else (frame.mh or frame.dhcp)
    if msg is not None:
        _flatten(to_dict(msg), "", rows)
    return rows


def _flatten(d: Any, prefix: str, rows: list[tuple[str, str]]) -> None:
    if isinstance(d, dict):
        for k, v in d.items():
            if k in ("wire", "layout") or (k.endswith("_name") and k[:-5] in d) \
                    or (k.endswith("_names") and k[:-6] in d):
                continue
            key = f"{prefix}{k}"
            shown = d.get(f"{k}_name") or (" ".join(d[f"{k}_names"]) if f"{k}_names" in d
                                           else None)
            if isinstance(v, dict | list):
                _flatten(v, f"{key}.", rows)
            else:
                rows.append((key, f"{v} ({shown})" if shown else str(v)))
    elif isinstance(d, list):
        for i, v in enumerate(d):
            name = v.get("type_name") or v.get("code_name") if isinstance(v, dict) else None
            _flatten(v, f"{prefix}{name or i}.", rows)
    else:
        rows.append((prefix.rstrip("."), str(d)))


# -- the ladder --------------------------------------------------------------------------

def build(report: Report, mn: MobileNode, messages: Mapping[int, tuple[Signal, Frame | None]],
          *, time_mode: str = "rel", start: float | None = None, end: float | None = None,
          frames: list[tuple[int, float]] | None = None, max_messages: int | None = None) -> Ladder:
    """The ladder of ``mn``: ``messages`` maps frame numbers to (signal, decoded frame)
    for at least the MN's frames; ``start``/``end`` are absolute times, ``frames``
    inclusive frame ranges, ``max_messages`` cuts the rest with a note."""
    if time_mode not in TIME_MODES:
        raise ValueError(f"time mode must be one of {', '.join(TIME_MODES)}")
    wanted = mn_frames(mn)
    signals = sorted((messages[f][0] for f in wanted if f in messages
                      and isinstance(messages[f][0], MobilitySignal | DhcpSignal)),
                     key=lambda s: (s.time, s.frame))
    retransmitted, unanswered = _pbu_fates(mn)
    first_of = sightings(mn)
    ends = _Endpoints(report, mn)
    pairs = [(s, ends.of(s)) for s in signals]
    lifelines = _lifelines([n for _, e in pairs for n in e], ends, mn)
    index = {ll.name: i for i, ll in enumerate(lifelines)}
    arrows: list[Arrow] = []
    by_frame: dict[int, Arrow] = {}
    for s, (a, b) in pairs:
        seen = by_frame.get(first_of.get(s.frame, -1))
        if seen is not None:  # the same message at another capture point
            seen.also_frames.append(s.frame)
            seen.arrived = s.time
            continue
        arrow = Arrow(s.frame, s.time, index[a], index[b], _kind(s), label(s),
                      _outcome(s, retransmitted, unanswered),
                      detail(s, messages[s.frame][1]))
        by_frame[s.frame] = arrow
        arrows.append(arrow)
    arrows = [a for a in arrows if _in_scope(a, start, end, frames)]
    cut, cut_after = 0, None
    if max_messages is not None and len(arrows) > max_messages:
        cut, cut_after = len(arrows) - max_messages, arrows[max_messages].time
        arrows = arrows[:max_messages]
    notes = _phases(mn, arrows) + _diagnostics(mn, arrows, unanswered)
    notes.sort(key=lambda n: (n.before, n.kind != "phase"))
    origin = report.start if report.start is not None else (arrows[0].time if arrows else 0.0)
    title = f"{mn.id}" + (f" ({', '.join(mn.ipv4_hoas)})" if mn.ipv4_hoas else "")
    return Ladder(mn.id, lifelines, arrows, notes, origin, time_mode, cut, cut_after, title)


def _in_scope(a: Arrow, start: float | None, end: float | None,
              frames: list[tuple[int, float]] | None) -> bool:
    if start is not None and a.time < start:
        return False
    if end is not None and a.time > end:
        return False
    return frames is None or any(lo <= a.frame <= hi for lo, hi in frames)


def _pbu_fates(mn: MobileNode) -> tuple[set[int], set[int]]:
    """Frames of requests sent again (retransmissions) and of the last send of a request
    never answered (timeout), as the correlator recorded them."""
    retransmitted: set[int] = set()
    unanswered: set[int] = set()
    for t in mn.transactions:
        if t.kind == TxnKind.HEARTBEAT or not t.sent_frames:
            continue
        retransmitted.update(t.sent_frames[1:])
        if t.outcome == "timeout":
            unanswered.add(t.sent_frames[-1])
    return retransmitted, unanswered


def sightings(mn: MobileNode) -> dict[int, int]:
    """Frame of a message seen again at another capture point -> its first frame, as the
    correlator recorded the sightings of the MN's transactions and DHCP messages."""
    first: dict[int, int] = {}
    for t in mn.transactions:
        for f, others in t.also.items():
            first.update(dict.fromkeys(others, f))
    for x in mn.dhcp:
        for m in x.messages:
            first.update(dict.fromkeys(m.get("also", ()), m["frame"]))
    return first


def _first_at_or_after(arrows: list[Arrow], time: float) -> int:
    for i, a in enumerate(arrows):
        if a.time >= time - 1e-9:
            return i
    return len(arrows)


def index_of_frames(arrows: list[Arrow], frames: list[int]) -> int | None:
    """The last arrow carrying one of ``frames``."""
    wanted = set(frames)
    for i in range(len(arrows) - 1, -1, -1):
        if wanted.intersection(arrows[i].frames):
            return i
    return None


def _phases(mn: MobileNode, arrows: list[Arrow]) -> list[Note]:
    """Separators: attach at a MAG, handoff from one MAG to the next, detach/expiry."""
    if not arrows:
        return []
    t0, t1 = arrows[0].time, arrows[-1].time
    notes: list[Note] = []
    handoffs = {(h.to_mag, round(h.time, 6)): h for h in mn.handoffs}
    for att in mn.attachments:
        begin = att.start
        h = next((h for (to, _), h in handoffs.items()
                  if to == att.mag and att.start - 1 <= h.time <= (att.registered or h.time)
                  + 1), None)
        if h is not None:
            ms = f", {h.handoff_ms:.1f} ms" if h.handoff_ms is not None else ""
            kept = {True: ", HoA kept", False: ", HoA changed"}.get(h.hoa_preserved, "")  # type: ignore[call-overload]
            text, phase = f"handoff {h.from_mag} → {h.to_mag}{kept}{ms}", "handoff"
        else:
            ms = f" ({att.attach_ms:.1f} ms)" if att.attach_ms is not None else ""
            ok = att.registered is not None
            text = f"attach at {att.mag}{ms}" if ok else f"attach at {att.mag} failed"
            phase = "attach" if ok else "failed"
        done = att.registered if att.registered is not None else (
            att.failed[0] if att.failed else begin)
        if att.dhcp_ack is not None and att.registered is not None:
            done = max(done, att.dhcp_ack)
        if t0 - 1e-9 <= begin <= t1 + 1e-9 or t0 <= done <= t1:
            i = _first_at_or_after(arrows, begin)
            span = sum(1 for a in arrows[i:] if a.time <= done + 1e-9)
            notes.append(Note(i, begin, text, "phase", max(span, 1), phase))
        if att.end is not None and att.end_reason in ("detach", "revocation", "expired") \
                and t0 <= att.end <= t1 + 1e-9:
            what = {"detach": "detach (de-registration)", "revocation": "binding revoked",
                    "expired": "binding expired"}[att.end_reason]
            dereg = [t for t in mn.transactions if t.mag == att.mag
                     and t.kind in (TxnKind.DEREGISTRATION, TxnKind.REVOCATION)
                     and abs(t.first_sent - att.end) < 60]
            i = _first_at_or_after(arrows, dereg[-1].first_sent if dereg else att.end)
            span = 0
            if dereg:
                last = index_of_frames(arrows, dereg[-1].frames[-1:])
                span = (last - i + 1) if last is not None and last >= i else 1
            notes.append(Note(i, att.end, f"{what} at {att.mag}", "phase", span, "end"))
    return notes


def _diagnostics(mn: MobileNode, arrows: list[Arrow], unanswered: set[int]) -> list[Note]:
    if not arrows:
        return []
    notes: list[Note] = []
    t0, t1 = arrows[0].time, arrows[-1].time
    for d in sorted(mn.diagnostics, key=lambda d: d.time):
        at = index_of_frames(arrows, d.frames)
        if at is None and not (t0 <= d.time <= t1):
            continue
        before = at + 1 if at is not None else _first_at_or_after(arrows, d.time)
        sev = DIAGNOSTICS[d.code][0]
        notes.append(Note(before, d.time, f"{d.code}: {d.message}", sev))
    return notes
