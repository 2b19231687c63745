"""What correlation produces: nodes, mobile nodes with their attachments, handoffs,
transactions and DHCP exchanges, and diagnostics.  Plain mutable dataclasses while the
correlator fills them; renderers only read them (docs/json-schema.md, docs/timeline.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


# The vocabularies of the model, one place each.  StrEnum members are the strings they
# name (JSON, CSV and comparisons with plain strings are unchanged).
class TxnKind(StrEnum):
    REGISTRATION = "registration"
    REFRESH = "refresh"
    DEREGISTRATION = "deregistration"
    REVOCATION = "revocation"
    HEARTBEAT = "heartbeat"


class Outcome(StrEnum):
    """Of a transaction."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    TIMEOUT = "timeout"


class DhcpOutcome(StrEnum):
    PENDING = "pending"
    ACK = "ack"
    NAK = "nak"
    RELEASED = "released"
    DECLINED = "declined"


class EndReason(StrEnum):
    """Why an attachment ended."""

    HANDOFF = "handoff"
    DETACH = "detach"
    REVOCATION = "revocation"
    EXPIRED = "expired"
    REJECTED = "rejected"
    TIMEOUT = "timeout"
    END_OF_CAPTURE = "end-of-capture"


class NodeRole(StrEnum):
    MAG = "mag"
    LMA = "lma"
    DHCP_SERVER = "dhcp-server"


# Diagnostic codes: (severity, what it means).  One place; tests and docs use these.
DIAGNOSTICS: dict[str, tuple[str, str]] = {
    "pba-rejected": ("error", "PBA rejected the registration (status >= 128)"),
    "hoa-reply-failure": ("error", "IPv4 HoA Reply status >= 128 (RFC 5844 §3.3.2)"),
    "pbu-unanswered": ("error", "PBU (with its retransmissions) never answered"),
    "retransmission": ("warning", "PBU retransmitted before its PBA arrived"),
    "dhcp-nak": ("warning", "DHCPNAK sent to the MN"),
    "yiaddr-mismatch": ("error", "DHCP yiaddr differs from the PBA's IPv4 HoA"),
    "server-id-changed": ("warning", "DHCP server identifier changed across a handoff"),
    "unicast-to-previous-mag": ("warning", "unicast DHCP addressed to a previous MAG's server"),
    "lifetime-reduced": ("note", "PBA granted a shorter lifetime than requested"),
    "binding-expired": ("warning", "binding lifetime ran out without a refresh"),
    "seq-backwards": ("warning", "PBU sequence number lower than the previous one"),
    "pba-without-p-flag": ("warning", "PBA answering a PBU without the P flag"),
    "timestamp-backwards": ("warning", "PBU timestamp older than the previous one"),
    "duplicate-hoa": ("error", "one IPv4 home address given to two MNs"),
    "hoa-changed-on-handoff": ("warning", "IPv4 home address changed across a handoff"),
    "malformed": ("error", "malformed signaling frame"),
    "orphan-reply": ("note", "reply without a matching request in the capture"),
    "revocation-failed": ("warning", "BRA status >= 128 or BRI never answered"),
    "peer-restarted": ("note", "Heartbeat restart counter changed (peer restarted)"),
}


@dataclass(slots=True)
class Diagnostic:
    code: str
    time: float
    frames: list[int]
    message: str
    mn: str | None = None

    @property
    def severity(self) -> str:
        return DIAGNOSTICS[self.code][0]


@dataclass(slots=True)
class Node:
    name: str
    role: str                       # mag, lma, dhcp-server
    addresses: list[str] = field(default_factory=list)
    macs: set[str] = field(default_factory=set)


@dataclass(slots=True)
class Transaction:
    kind: str                       # registration refresh deregistration revocation heartbeat
    mag: str
    lma: str
    seqs: list[int]
    frames: list[int]
    first_sent: float
    last_sent: float
    mn: str | None = None
    answered: float | None = None
    rtt_ms: float | None = None
    setup_ms: float | None = None
    status: int | None = None
    status_name: str | None = None
    outcome: str = Outcome.PENDING  # Outcome
    hi: int | None = None
    lifetime_requested: int | None = None
    lifetime_granted: int | None = None
    hoa_requested: str | None = None
    hoa_assigned: str | None = None
    hoa_status: int | None = None
    sent_times: list[float] = field(default_factory=list)
    # the frame of each request sent (its first sighting), in the order of sent_times
    sent_frames: list[int] = field(default_factory=list)
    # one message seen at several capture points: its first frame -> the frames of its
    # other sightings (all of them are in ``frames`` too)
    also: dict[int, list[int]] = field(default_factory=dict)

    @property
    def retransmissions(self) -> int:
        return max(0, len(self.seqs) - 1)


@dataclass(slots=True)
class DhcpExchange:
    xid: int
    mac: str
    first: float
    mode: str = "server"            # server (at the MAG) or relay
    messages: list[dict[str, Any]] = field(default_factory=list)
    outcome: str = DhcpOutcome.PENDING  # DhcpOutcome
    yiaddr: str | None = None
    server_id: str | None = None
    acked: float | None = None
    mag: str | None = None
    renewal: bool = False           # began with a REQUEST from a bound client (ciaddr set)

    @property
    def address_ms(self) -> float | None:
        return None if self.acked is None else (self.acked - self.first) * 1000


@dataclass(slots=True)
class Attachment:
    mag: str
    start: float
    key: str                        # the MN interface: its MAC, else "att:N"
    frames: list[int] = field(default_factory=list)
    registered: float | None = None
    end: float | None = None
    end_reason: str | None = None   # handoff detach revocation expired end-of-capture
    ipv4_hoa: str | None = None
    ipv4_plen: int | None = None
    hnps: list[str] = field(default_factory=list)
    dhcp_mode: str | None = None
    handoff_indicator: int | None = None
    access_technology: int | None = None
    lifetime: int | None = None
    expires: float | None = None
    first_pbu: float | None = None
    dhcp_ack: float | None = None
    address_ms: float | None = None
    server_id: str | None = None
    refreshes: int = 0
    failed: tuple[float, str] | None = None  # last registration rejected / unanswered
    released: float | None = None   # the MAG's de-registration PBU, or the LMA's BRI

    def close(self) -> None:
        """At the end of the capture: a never-registered attachment ends where it failed."""
        if self.end is None:
            if self.registered is None and self.failed is not None:
                self.end, self.end_reason = self.failed
            else:
                self.end_reason = EndReason.END_OF_CAPTURE

    @property
    def active(self) -> bool:
        return self.end is None

    @property
    def attach_ms(self) -> float | None:
        if self.registered is None:
            return None
        done = max(self.registered, self.dhcp_ack) if self.dhcp_ack else self.registered
        return (done - self.start) * 1000


@dataclass(slots=True)
class Handoff:
    from_mag: str
    to_mag: str
    time: float
    handoff_ms: float | None
    hoa_preserved: bool | None
    frames: list[int] = field(default_factory=list)
    # break-before-make: the old binding's release (de-registration PBU or BRI) before the
    # new MAG's first PBU -> the new PBA; None when the old binding held until then
    interruption_ms: float | None = None


@dataclass(slots=True)
class MobileNode:
    uid: int
    nais: list[str] = field(default_factory=list)
    macs: list[str] = field(default_factory=list)
    ipv4_hoas: list[str] = field(default_factory=list)
    hnps: list[str] = field(default_factory=list)
    lma: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    handoffs: list[Handoff] = field(default_factory=list)
    transactions: list[Transaction] = field(default_factory=list)
    dhcp: list[DhcpExchange] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    first_seen: float = 0.0
    pending_since: tuple[float, int] | None = None  # first DHCP before any attachment

    @property
    def id(self) -> str:
        if self.nais:
            return self.nais[0]
        if self.macs:
            return self.macs[0]
        return f"mn-{self.uid}"

    @property
    def nai(self) -> str | None:
        return self.nais[0] if self.nais else None

    def current(self, key: str | None = None) -> Attachment | None:
        """The active attachment (of the interface ``key`` when given), latest first."""
        for att in reversed(self.attachments):
            if att.end is None and (key is None or att.key == key):  # att.active, inline
                return att
        return None


@dataclass(slots=True)
class Report:
    frames: int = 0
    signaling_frames: int = 0
    malformed_frames: int = 0
    start: float | None = None
    end: float | None = None
    nodes: list[Node] = field(default_factory=list)
    mobile_nodes: list[MobileNode] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    history: Any = None             # the finished history out of memory (history.py)

    def complete(self, mobile_nodes: list[MobileNode] | None = None) -> Iterator[MobileNode]:
        """Each MN with its whole history, one at a time (what a summarising correlator
        moved out of memory comes back while the MN is looked at)."""
        for mn in self.mobile_nodes if mobile_nodes is None else mobile_nodes:
            if self.history is None:
                yield mn
                continue
            self.history.restore(mn)
            try:
                yield mn
            finally:
                self.history.release(mn)
