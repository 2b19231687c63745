"""Reference MAG (Mobile Access Gateway) for PMIPv6 with IPv4 support (RFC 5213, RFC 5844).

Sans-IO (see :mod:`pmipview.agents.base`): every input takes ``now`` and returns a list of
:class:`~pmipview.agents.base.Send` and :class:`~pmipview.agents.base.Event`.

Inputs
------
``link_up(now, mac, iface, hi=None, *, handover=False, previous_mag=None, hoa=None)``
    An MN attached on access interface ``iface``.  The MAG registers it at once, except
    a new attachment (HI 1) when ``register_on_link_up`` is off (then the DHCPDISCOVER
    triggers the PBU, RFC 5844 Figure 7) and, in the draft relay order, an IPv4-only MN
    with no HoA known from the policy (the PBU follows the DHCPACK).  An MN that also
    wants IPv6 is registered for its prefix at once in both cases; its DHCP adds the
    IPv4 HoA (RFC 5844 §3.4.1, an IPv6-only registration extended by the DISCOVER).
    Handoff Indicator: ``hi`` when given; else 3 when ``handover`` is True or
    ``previous_mag`` is given (inter-MAG handover, same interface), 4 when ``handover`` is
    None (the caller cannot tell), 1 otherwise (attachment over a new interface).  2
    (handoff between interfaces of a multihomed MN) is only used when passed as ``hi``.
    A DHCP message from an MN with no entry creates one: HI 1 for a DISCOVER or SELECTING
    REQUEST, 4 for a REQUEST that claims an address (INIT-REBOOT, RENEWING, REBINDING).
    ``hoa`` is a known IPv4 home address (e.g. from context transfer) to request.
``link_down(now, mac)`` / ``detach(now, mac)``
    De-registration PBU (lifetime 0, HI 4); ``deregistered`` on its PBA.
``receive(now, packet)``
    PBA; BRI (answered with a BRA, the binding dropped); Heartbeat request (answered);
    DHCP from an MN on an access interface; in relay mode DHCP replies from the server.
``timer(now)`` / ``next_timer()``
    Retransmissions and re-registrations.
``allow_ipv4(nai)``
    The "administrative action" that lifts a status-170 block (RFC 5844 §3.2.4 /
    protocol.md §3.4).

PBUs carry A=1 P=1, MN-ID (the policy's NAI), HNP (an all-zero /0 request, or the assigned
prefixes; only when the MN wants IPv6), HI, ATT, Timestamp (``epoch + now``, RFC 5213 §8.8),
MN Link-layer Identifier (the MAC, or the policy's ``iface_id``), IPv4 HoA Request
(0.0.0.0/0 to ask for an address; HoA/prefix-len when known from a PBA, the policy, a
handover hint or the MN's DHCP claim) and a GRE Key when configured.  Sequence numbers
come from one MAG-wide 16-bit counter; every transmission, retransmissions included,
takes a new one (RFC 5213 §6.9.4).  Transport follows the LMA address: IPv4 → UDP 5436 →
5436 from ``ipv4``; IPv6 → MH directly from ``ipv6``.

Decisions (documented behaviour)
--------------------------------
* Retransmission: after transmission k (0 = the first) the MAG waits
  ``retransmit[min(k, len-1)]`` s (default 1, 2, 4, 8 — RFC 5213's 1 s doubling); after
  ``max_retransmissions`` retransmissions (default 3) and their wait, ``gave-up``.  A failed
  registration or refresh drops the binding; a failed IPv4 addition keeps the IPv6 one.
* Re-registration (HI 5) at ``expiry - min(reregister_before, granted / 2)``; a PBA
  granting less than requested simply shortens that.  An accepted PBA with lifetime 0 is
  treated as a rejection.
* A rejected PBA drops the binding (the MAG stops serving the MN) and emits ``rejected``,
  except when it refused an IPv4 addition (HI 5) to an IPv6 binding, which stays.
  170: the NAI is blocked from IPv4 until ``allow_ipv4``; the PBU is retried IPv6-only if
  the MN wants IPv6.  171: retried once with 0.0.0.0/0.  172: retried IPv4-only if wanted.
  135: retried once with a sequence number above the PBA's.
* An accepted PBA without an IPv4 HoA Reply, with a Reply status >= 128 (e.g. 132) or
  without an IPv4 Default-Router Address: ``rejected`` (scope ipv4, with the Reply status)
  and ``no-ipv4-service``; IPv4 is not asked again during this attachment; IPv6 stays.
* DHCP server mode: the server id is ``dhcp_server_id``, or, when that is None, the MN's
  default router from the PBA (both RFC 5844 §3.4.3 choices).  ``server_id_policy``:
  ``same`` — a RENEWING REQUEST unicast to another server id (a previous MAG's) is still
  answered (ACK when the address is the HoA, else NAK), with ``intercepted``;
  ``rebind`` — it is ignored (``intercepted``, action ignored), so the client's T2
  REBINDING broadcast reaches the MAG, which ACKs it.  Ignoring rather than NAKing keeps
  the client in RENEWING→REBINDING (a NAK would send it to INIT).
* DHCPRELEASE for the HoA (both modes): selective IPv4 de-registration (lifetime 0, HI 4,
  only the IPv4 HoA Request); the IPv6 part of the binding stays.
* The configured ``dhcp_mode`` governs; the PBA's DHCP Support Mode (39) is only recorded
  (``BindingSnapshot.lma_dhcp_mode`` and the ``registered`` event).
* A second ``link_up`` for an attached MAC only updates its interface (and retries the
  registration if it is idle); during a de-registration it starts a fresh attachment.

Events (``Event.kind``; ``mn`` is the NAI when known, else the MAC)
---------------------------------------------------------------------
``pbu-sent``         new PBU transaction (detail: seq, hi, lifetime, purpose, hoa_request,
                     hnp, trigger)
``retransmit``       PBU retransmitted with a new sequence number (seq, previous, attempt)
``gave-up``          no PBA after the last retransmission (purpose, seq)
``registered``       PBA accepted for a registration or IPv4 addition (hoa, prefix_len,
                     router, hnp, lifetime, dhcp_mode)
``refreshed``        PBA accepted for a lifetime extension (HI 5)
``rejected``         PBA status >= 128 (status, name), or IPv4 refused in an accepted PBA
                     (scope ipv4, hoa_status, hoa_status_name)
``deregistered``     de-registration acknowledged (scope all|ipv4) or nothing to de-register
``revoked``          binding dropped on a BRI (trigger, scope)
``offer`` / ``ack`` / ``nak``   the MAG's DHCP server answered the MN
``no-ipv4-service``  IPv4 not available for the MN: DHCP not answered (MUST NOT offer)
``offer-mismatch``   relay: an OFFER/ACK whose yiaddr is not the HoA was dropped
``intercepted``      a unicast DHCP message for another server was caught (action
                     answered|ignored|relayed)
``relayed``          relay: DHCP forwarded (direction to-server|to-mn)
``dropped``          an input was not used (reason)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address
from typing import Literal

from dissectors.dhcp import DhcpMessage
from dissectors.link import parse_mac
from dissectors.mh import BindingAck, BindingRevocation, BindingUpdate, Heartbeat
from dissectors.mh_codes import (
    PMIP6_CNTL_PORT,
    AccessTechnology,
    BAStatus,
    BRAStatus,
    BRFlag,
    BRType,
    BUFlag,
    HandoffIndicator,
    HBFlag,
)
from dissectors.mh_options import (
    AccessTechnologyOpt,
    GREKey,
    HandoffIndicatorOpt,
    HomeNetworkPrefix,
    IPv4HoARequest,
    MNIdentifier,
    MNLinkLayerId,
    MobilityOption,
    RestartCounter,
    Timestamp,
)

from .base import ANY4, BACKHAUL, Event, Output, Packet, Send
from .mag_dhcp import DhcpRole, norm_mac, type_name

HI = HandoffIndicator
Prefix = tuple[IPv6Address, int]
HoAReq = tuple[IPv4Address, int]
_ZERO6 = IPv6Address(0)
_MAX_LIFETIME_UNITS = 0xFFFF


@dataclass(frozen=True, slots=True)
class MNPolicy:
    """An MN's policy profile (RFC 5213 §6.2), keyed by its MAC in ``MAGConfig.profiles``.

    ``nai`` may contain ``{mac}`` (the MAC without colons), useful in ``default_policy``.
    ``static_hoa``/``static_prefix_len``: an address to request instead of 0.0.0.0.
    ``iface_id``: the MN Link-layer Identifier to send instead of the MAC (hex groups).
    """

    nai: str
    ipv4: bool = True
    ipv6: bool = False
    static_hoa: IPv4Address | None = None
    static_prefix_len: int = 32
    att: int | None = None
    iface_id: str | None = None


# A PBU's waits before each retransmission (RFC 5213's InitialBindackTimeoutFirstReg,
# 1 s, doubling); the LMA sheds PBUs older than the first (a MAG has sent again by then).
RETRANSMIT_WAITS: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0)


@dataclass(frozen=True, kw_only=True)
class MAGConfig:
    """Configuration of one MAG (see the module docstring for the behaviour)."""

    name: str
    lma: IPv6Address | IPv4Address
    ipv6: IPv6Address | None = None  # Proxy-CoA (IPv6 transport)
    ipv4: IPv4Address | None = None  # IPv4-Proxy-CoA (IPv4 transport)
    mac: str = "02:00:00:00:0a:01"  # access-side MAC
    dhcp_mode: Literal["server", "relay"] = "server"
    dhcp_server_id: IPv4Address | None = None  # None: the MN's default router
    relay_address: IPv4Address | None = None  # giaddr (relay mode)
    dhcp_server: IPv4Address | None = None  # the DHCP server (relay mode)
    relay_order: Literal["rfc5844", "draft"] = "rfc5844"
    server_id_policy: Literal["same", "rebind"] = "same"
    lifetime: int = 3600  # seconds requested
    reregister_before: float = 60.0
    retransmit: tuple[float, ...] = RETRANSMIT_WAITS
    max_retransmissions: int = 3
    att: int = AccessTechnology.IEEE_802_11
    profiles: Mapping[str, MNPolicy] = field(default_factory=dict)
    default_policy: MNPolicy | None = None  # for MACs without a profile; None: drop them
    register_on_link_up: bool = True
    use_timestamp: bool = True
    epoch: float = 0.0  # Unix time of now == 0
    mtu: int = 1460
    lease: int = 3600
    dns: tuple[IPv4Address, ...] = ()
    gre_key: int | None = None  # downlink GRE key to offer (RFC 5845)
    max_hops: int = 16
    restart_counter: int = 1  # sent in Heartbeat responses (RFC 5847)

    def __post_init__(self) -> None:
        if isinstance(self.lma, IPv4Address) and self.ipv4 is None:
            raise ValueError("an IPv4 LMA address needs the MAG's ipv4 (IPv4-Proxy-CoA)")
        if isinstance(self.lma, IPv6Address) and self.ipv6 is None:
            raise ValueError("an IPv6 LMA address needs the MAG's ipv6 (Proxy-CoA)")
        if self.dhcp_mode == "relay" and (self.relay_address is None or self.dhcp_server is None):
            raise ValueError("relay mode needs relay_address and dhcp_server")


@dataclass(frozen=True, slots=True)
class BindingSnapshot:
    """A Binding Update List entry as seen from outside (a copy; never changes)."""

    mac: str
    iface: str
    nai: str
    att: int
    attach_hi: int
    hi: int | None  # HI of the last PBU sent
    seq: int | None  # sequence number of the last PBU sent
    state: str  # idle | pending | registered | deregistering
    pending: str | None  # purpose of the PBU in flight
    ipv4_hoa: IPv4Address | None
    ipv4_prefix_len: int | None
    default_router: IPv4Address | None
    hnps: tuple[str, ...]
    lifetime: int  # seconds granted
    registered_at: float | None
    expiry: float | None
    refresh_at: float | None
    dhcp_state: str
    dhcp_held: str | None  # type of the DHCP message waiting for the PBA
    lma_dhcp_mode: str | None
    ipv4_denied: bool
    gre_key_uplink: int | None


@dataclass(eq=False)
class Transaction:
    """One PBU exchange in flight (its content is rebuilt for each retransmission)."""

    purpose: str  # register | update | refresh | deregister | deregister-ipv4
    hi: int
    lifetime: int
    hnps: tuple[Prefix, ...]
    hoa_req: HoAReq | None
    seq: int = 0
    deadline: float = 0.0
    tries: int = 0


@dataclass(eq=False)
class BULEntry:
    """Binding Update List entry of one MN attachment (internal, mutable)."""

    mac: str
    iface: str
    nai: str
    policy: MNPolicy
    att: int
    attach_hi: int
    lli: bytes
    hi: int | None = None
    seq: int | None = None
    registered: bool = False
    txn: Transaction | None = None
    hoa: IPv4Address | None = None
    plen: int | None = None
    router: IPv4Address | None = None
    hoa_hint: HoAReq | None = None
    hnps: tuple[Prefix, ...] = ()
    lifetime: int = 0
    registered_at: float | None = None
    expiry: float | None = None
    refresh_at: float | None = None
    ipv4_requested: bool = False
    ipv4_off: bool = False
    ipv6_off: bool = False
    retried_171: bool = False
    retried_135: bool = False
    held: Packet | None = None
    dhcp_state: str = "init"
    lma_dhcp_mode: str | None = None
    gre_uplink: int | None = None

    @property
    def state(self) -> str:
        if self.txn is not None and self.txn.purpose.startswith("deregister"):
            return "deregistering"
        if self.registered:
            return "registered"
        return "pending" if self.txn is not None else "idle"

    def snapshot(self) -> BindingSnapshot:
        held = self.held.message if self.held is not None else None
        return BindingSnapshot(
            self.mac, self.iface, self.nai, self.att, self.attach_hi, self.hi, self.seq,
            self.state, self.txn.purpose if self.txn else None, self.hoa, self.plen,
            self.router, tuple(f"{p}/{n}" for p, n in self.hnps), self.lifetime,
            self.registered_at, self.expiry, self.refresh_at, self.dhcp_state,
            type_name(held) if isinstance(held, DhcpMessage) else None, self.lma_dhcp_mode,
            self.ipv4_off, self.gre_uplink)


class MAG(DhcpRole):
    """The MAG core: Binding Update List, PBU/PBA, BRI, Heartbeat, DHCP server or relay."""

    def __init__(self, config: MAGConfig) -> None:
        self.config = config
        self._entries: dict[str, BULEntry] = {}
        self._profiles = {norm_mac(k) or k: v for k, v in config.profiles.items()}
        self._no_ipv4: set[str] = set()
        self._seq = 0
        if isinstance(config.lma, IPv4Address):
            self._src: IPv4Address | IPv6Address = config.ipv4  # type: ignore[assignment]
            self._port: int | None = PMIP6_CNTL_PORT
        else:
            self._src = config.ipv6  # type: ignore[assignment]
            self._port = None

    # ------------------------------------------------------------------ public inputs

    def link_up(self, now: float, mac: str, iface: str, hi: int | None = None, *,
                handover: bool | None = False, previous_mag: str | None = None,
                hoa: IPv4Address | None = None) -> list[Output]:
        return self._guarded(lambda: self._link_up(now, mac, iface, hi, handover,
                                                   previous_mag, hoa))

    def link_down(self, now: float, mac: str) -> list[Output]:
        return self._guarded(lambda: self._link_down(now, mac))

    def detach(self, now: float, mac: str) -> list[Output]:
        return self.link_down(now, mac)

    def receive(self, now: float, packet: Packet) -> list[Output]:
        return self._guarded(lambda: self._receive(now, packet))

    def timer(self, now: float) -> list[Output]:
        return self._guarded(lambda: self._timer(now))

    def _guarded(self, call: Callable[[], list[Output]]) -> list[Output]:
        try:
            return call()
        except Exception as exc:  # a core never raises on input (base.py); a bug if seen
            return [self._dropped(None, f"internal error on input: {exc!r}")]

    def _link_up(self, now: float, mac: str, iface: str, hi: int | None,
                 handover: bool | None, previous_mag: str | None,
                 hoa: IPv4Address | None) -> list[Output]:
        key = norm_mac(mac)
        policy = self._policy(key) if key else None
        if key is None or policy is None:
            return [self._dropped(None, f"link up of {mac} without a policy profile")]
        if hi is None:
            hi = HI.INTER_MAG if handover or previous_mag else (
                HI.UNKNOWN if handover is None else HI.NEW_INTERFACE)
        entry = self._entries.get(key)
        if entry is not None and entry.state != "deregistering":
            entry.iface = iface
            if entry.state != "idle":
                return []
            entry.attach_hi = hi
        else:
            entry = self._new_entry(key, iface, policy, hi, now)
        if hoa is not None:
            entry.hoa_hint = (hoa, policy.static_prefix_len if hoa == policy.static_hoa else 32)
        new_attachment = hi in (HI.NEW_INTERFACE, HI.NEW_INTERFACE_SHARED)
        deferred = new_attachment and not self.config.register_on_link_up
        if deferred and not self._wants6(entry):
            return []  # the MN's DHCPDISCOVER will trigger the PBU (RFC 5844 Figure 7)
        draft = self.config.dhcp_mode == "relay" and self.config.relay_order == "draft"
        # IPv6 service does not wait for DHCPv4: register the prefix now; the DISCOVER
        # adds the IPv4 HoA Request (RFC 5844 §3.4.1, "registered IPv6 only").
        entry.ipv4_requested = not (draft or deferred)
        return self._registration(entry, now, "register", trigger="link-up")

    def _link_down(self, now: float, mac: str) -> list[Output]:
        entry = self._entries.get(norm_mac(mac) or "")
        if entry is None:
            return [self._dropped(None, f"link down of unknown MN {mac}")]
        return self._deregister(entry, now, False, "link-down")

    def _timer(self, now: float) -> list[Output]:
        out: list[Output] = []
        for entry in list(self._entries.values()):
            if self._entries.get(entry.mac) is entry:
                out += self._entry_timer(entry, now)
        return out

    def next_timer(self) -> float | None:
        times = [e.txn.deadline for e in self._entries.values() if e.txn is not None]
        times += [e.refresh_at for e in self._entries.values()
                  if e.txn is None and e.registered and e.refresh_at is not None]
        return min(times, default=None)

    def bindings(self) -> list[BindingSnapshot]:
        return [e.snapshot() for e in self._entries.values()]

    def binding(self, mac: str) -> BindingSnapshot | None:
        entry = self._entries.get(norm_mac(mac) or "")
        return entry.snapshot() if entry else None

    def allow_ipv4(self, nai: str) -> None:
        self._no_ipv4.discard(nai)
        for entry in self._entries.values():
            if entry.nai == nai:
                entry.ipv4_off = False

    # ------------------------------------------------------------------ entries, policy

    def _policy(self, mac: str) -> MNPolicy | None:
        policy = self._profiles.get(mac)
        if policy is None and self.config.default_policy is not None:
            base = self.config.default_policy
            policy = MNPolicy(base.nai.replace("{mac}", mac.replace(":", "")), base.ipv4,
                              base.ipv6, base.static_hoa, base.static_prefix_len, base.att,
                              base.iface_id)
        return policy

    def _new_entry(self, mac: str, iface: str, policy: MNPolicy, hi: int,
                   now: float) -> BULEntry:
        try:
            lli = parse_mac(policy.iface_id) if policy.iface_id else parse_mac(mac)
        except ValueError:
            lli = parse_mac(mac)
        entry = BULEntry(mac, iface, policy.nai, policy, policy.att or self.config.att, hi, lli)
        if policy.static_hoa is not None:
            entry.hoa_hint = (policy.static_hoa, policy.static_prefix_len)
        self._entries[mac] = entry
        return entry

    def _wants4(self, entry: BULEntry) -> bool:
        return entry.policy.ipv4 and not entry.ipv4_off and entry.nai not in self._no_ipv4

    def _wants6(self, entry: BULEntry) -> bool:
        return entry.policy.ipv6 and not entry.ipv6_off

    def _event(self, kind: str, entry: BULEntry | None, **detail: object) -> Event:
        return Event(kind, entry.nai if entry else None, dict(detail))

    def _dropped(self, entry: BULEntry | None, reason: str, msg: object = None) -> Event:
        detail: dict[str, object] = {"reason": reason}
        info = getattr(msg, "info", None)
        if callable(info):
            detail["message"] = info()
        return self._event("dropped", entry, **detail)

    # ------------------------------------------------------------------ sending PBUs

    def _hnps_to_request(self, entry: BULEntry) -> tuple[Prefix, ...]:
        if not self._wants6(entry):
            return ()
        return entry.hnps or ((_ZERO6, 0),)

    def _hoa_to_request(self, entry: BULEntry, purpose: str) -> HoAReq | None:
        if not self._wants4(entry):
            return None
        if entry.hoa is not None:
            return entry.hoa, entry.plen or 32
        if purpose == "refresh":
            return None
        if entry.hoa_hint is not None:
            return entry.hoa_hint
        return (ANY4, 0) if entry.ipv4_requested else None

    def _registration(self, entry: BULEntry, now: float, purpose: str,
                      trigger: str = "dhcp") -> list[Output]:
        """Start a register/update/refresh PBU; [] when there is nothing to ask for."""
        hnps = self._hnps_to_request(entry)
        hoa_req = self._hoa_to_request(entry, purpose)
        if not hnps and hoa_req is None:
            return []
        hi = entry.attach_hi if purpose == "register" else HI.NOT_CHANGED
        txn = Transaction(purpose, hi, self.config.lifetime, hnps, hoa_req)
        return self._start(entry, now, txn, trigger)

    def _deregister(self, entry: BULEntry, now: float, ipv4_only: bool,
                    trigger: str = "") -> list[Output]:
        """Lifetime-0 PBU (HI 4): the whole binding, or only the IPv4 HoA (RFC 5844 §3.1)."""
        pending = entry.txn if entry.txn and not entry.txn.purpose.startswith("dereg") else None
        hoa_req = (entry.hoa, entry.plen or 32) if entry.hoa is not None else (
            pending.hoa_req if pending else None)
        hnps: tuple[Prefix, ...] = ()
        if not ipv4_only:
            hnps = entry.hnps or (pending.hnps if pending else ())
        if not hnps and hoa_req is None:
            if ipv4_only:
                return [self._dropped(entry, "no IPv4 home address to de-register")]
            del self._entries[entry.mac]
            return [self._event("deregistered", entry, scope="all", pbu=False)]
        entry.held = None
        purpose = "deregister-ipv4" if ipv4_only else "deregister"
        return self._start(entry, now, Transaction(purpose, HI.UNKNOWN, 0, hnps, hoa_req),
                           trigger)

    def _start(self, entry: BULEntry, now: float, txn: Transaction,
               trigger: str) -> list[Output]:
        entry.txn = txn
        out = self._transmit(entry, now)
        req = txn.hoa_req
        out.append(self._event(
            "pbu-sent", entry, seq=txn.seq, hi=txn.hi, lifetime=txn.lifetime,
            purpose=txn.purpose, trigger=trigger,
            hoa_request=f"{req[0]}/{req[1]}" if req else None,
            hnp=[f"{p}/{n}" for p, n in txn.hnps]))
        return out

    def _transmit(self, entry: BULEntry, now: float) -> list[Output]:
        txn = entry.txn
        assert txn is not None
        self._seq = (self._seq + 1) & 0xFFFF
        txn.seq = entry.seq = self._seq
        entry.hi = txn.hi
        txn.deadline = now + self._timeout(txn.tries)
        return [Send(self._mh_packet(self._build_pbu(entry, txn, now)))]

    def _timeout(self, tries: int) -> float:
        waits = self.config.retransmit or (1.0,)
        return waits[min(tries, len(waits) - 1)]

    def _build_pbu(self, entry: BULEntry, txn: Transaction, now: float) -> BindingUpdate:
        cfg = self.config
        opts: list[MobilityOption] = [MNIdentifier.nai(entry.nai)]
        opts += [HomeNetworkPrefix(p, n) for p, n in txn.hnps]
        opts += [HandoffIndicatorOpt(txn.hi), AccessTechnologyOpt(entry.att)]
        if cfg.use_timestamp:
            opts.append(Timestamp.at(cfg.epoch + now))
        opts.append(MNLinkLayerId(entry.lli))
        if txn.hoa_req is not None:
            opts.append(IPv4HoARequest(*txn.hoa_req))
        if cfg.gre_key is not None:
            opts.append(GREKey(cfg.gre_key))
        units = min(math.ceil(txn.lifetime / 4), _MAX_LIFETIME_UNITS) if txn.lifetime > 0 else 0
        return BindingUpdate(txn.seq, BUFlag.A | BUFlag.P, units, tuple(opts))

    def _mh_packet(self, msg: BindingUpdate | BindingRevocation | Heartbeat,
                   dst: IPv4Address | IPv6Address | None = None) -> Packet:
        return Packet(src=self._src, dst=dst or self.config.lma, message=msg, iface=BACKHAUL,
                      sport=self._port, dport=self._port)

    # ------------------------------------------------------------------ timers

    def _entry_timer(self, entry: BULEntry, now: float) -> list[Output]:
        txn = entry.txn
        if txn is not None:
            if now < txn.deadline:
                return []
            if txn.tries < self.config.max_retransmissions:
                previous = txn.seq
                txn.tries += 1
                out = self._transmit(entry, now)
                out.append(self._event("retransmit", entry, seq=txn.seq, previous=previous,
                                       attempt=txn.tries, purpose=txn.purpose))
                return out
            return self._give_up(entry, txn)
        if entry.registered and entry.refresh_at is not None and now >= entry.refresh_at:
            out = self._registration(entry, now, "refresh", trigger="timer")
            if not out:
                self._lose_binding(entry)
            return out
        return []

    def _give_up(self, entry: BULEntry, txn: Transaction) -> list[Output]:
        entry.txn = None
        out: list[Output] = [self._event("gave-up", entry, purpose=txn.purpose, seq=txn.seq,
                                         retransmissions=txn.tries)]
        if txn.purpose == "deregister":
            del self._entries[entry.mac]
            return out
        if txn.purpose == "deregister-ipv4":
            self._clear_ipv4(entry)
            return out
        if txn.purpose != "update":
            self._lose_binding(entry)
        return out + self._fail_held(entry, "no answer from the LMA")

    def _lose_binding(self, entry: BULEntry) -> None:
        entry.registered = False
        entry.refresh_at = entry.expiry = None
        entry.hnps = ()
        if entry.hoa is not None:  # remembered as a hint for the next registration
            entry.hoa_hint = (entry.hoa, entry.plen or 32)
        entry.hoa = entry.router = None

    def _clear_ipv4(self, entry: BULEntry) -> None:
        entry.hoa = entry.plen = entry.router = None
        entry.hoa_hint = None
        if not entry.hnps:
            entry.registered = False
            entry.refresh_at = entry.expiry = None

    # ------------------------------------------------------------------ receiving

    def _receive(self, now: float, packet: Packet) -> list[Output]:
        if not isinstance(packet, Packet):
            return [self._dropped(None, f"not a Packet: {type(packet).__name__}")]
        msg = packet.message
        if isinstance(msg, DhcpMessage):
            return self._on_dhcp(now, packet, msg)
        if not isinstance(msg, BindingAck | BindingRevocation | Heartbeat):
            return [self._dropped(None, f"unexpected {type(msg).__name__}", msg)]
        if packet.src != self.config.lma or packet.iface != BACKHAUL:
            return [self._dropped(None, f"mobility message from {packet.src}, not the LMA", msg)]
        if isinstance(msg, BindingAck):
            return self._on_pba(now, msg)
        if isinstance(msg, Heartbeat):
            return self._on_heartbeat(packet, msg)
        return self._on_bri(msg)

    def _on_heartbeat(self, packet: Packet, msg: Heartbeat) -> list[Output]:
        if msg.response:
            return [self._dropped(None, "Heartbeat response to a request never sent", msg)]
        reply = Heartbeat(msg.seq, HBFlag.R, (RestartCounter(self.config.restart_counter),))
        return [Send(self._mh_packet(reply, packet.src))]

    def _on_bri(self, msg: BindingRevocation) -> list[Output]:
        if msg.br_type != BRType.BRI:
            return [self._dropped(None, "Binding Revocation that is not a BRI", msg)]
        ipv4_only = bool(msg.flags & BRFlag.V)
        targets = [e for e in self._entries.values()
                   if msg.flags & BRFlag.G or (msg.mn_id is not None and e.nai == msg.mn_id)]
        out: list[Output] = []
        for entry in targets:
            if ipv4_only:
                self._clear_ipv4(entry)
            else:
                del self._entries[entry.mac]
            entry.txn = entry.held = None
            out.append(self._event("revoked", entry, trigger=msg.code,
                                   trigger_name=msg.code_name,
                                   scope="ipv4" if ipv4_only else "all"))
        status = BRAStatus.SUCCESS if targets else BRAStatus.BINDING_DOES_NOT_EXIST
        options = (MNIdentifier.nai(msg.mn_id),) if msg.mn_id is not None else ()
        bra = BindingRevocation(BRType.BRA, status, msg.seq,
                                msg.flags & (BRFlag.P | BRFlag.V | BRFlag.G), options)
        return [Send(self._mh_packet(bra)), *out]

    # ------------------------------------------------------------------ PBA

    def _on_pba(self, now: float, msg: BindingAck) -> list[Output]:
        entry = next((e for e in self._entries.values()
                      if e.txn is not None and e.txn.seq == msg.seq), None)
        # A 135 carries the LMA's last accepted sequence number, not ours; it may equal
        # the pending one by chance (e.g. our counter restarted): still retry above it.
        if msg.status == BAStatus.SEQUENCE_OUT_OF_WINDOW and (
                entry is None or not entry.retried_135):
            return self._on_out_of_window(now, msg, entry)
        if entry is None:
            return [self._dropped(None, f"PBA with unexpected sequence {msg.seq}", msg)]
        if msg.mn_id is not None and msg.mn_id != entry.nai:
            return [self._dropped(entry, f"PBA for {msg.mn_id}, PBU was for {entry.nai}", msg)]
        if not msg.proxy:
            return [self._dropped(entry, "BA without the P flag", msg)]
        txn = entry.txn
        assert txn is not None
        entry.txn = None
        if txn.purpose.startswith("deregister"):
            return self._on_dereg_ack(entry, now, txn, msg)
        if not msg.accepted or msg.lifetime == 0:
            return self._on_rejected(entry, now, txn, msg)
        return self._on_accepted(entry, now, txn, msg)

    def _on_out_of_window(self, now: float, msg: BindingAck,
                          entry: BULEntry | None = None) -> list[Output]:
        if entry is None:
            entry = next((e for e in self._entries.values() if e.txn is not None
                          and e.nai == msg.mn_id and not e.retried_135), None)
        if entry is None or entry.txn is None:
            return [self._dropped(None, f"PBA status 135 with unknown sequence {msg.seq}", msg)]
        entry.retried_135 = True
        self._seq = max(self._seq, msg.seq)
        out: list[Output] = [self._rejected(entry, msg)]
        entry.txn.tries = 0
        return out + self._start(entry, now, entry.txn, "status-135")

    def _rejected(self, entry: BULEntry, msg: BindingAck, **extra: object) -> Event:
        detail: dict[str, object] = {"status": int(msg.status), "name": msg.status_name,
                                     "seq": msg.seq}
        rep = msg.hoa_reply
        if rep is not None and not rep.accepted:
            detail["hoa_status"] = int(rep.status)
            detail["hoa_status_name"] = rep.status_name
        detail.update(extra)
        return self._event("rejected", entry, **detail)

    def _on_rejected(self, entry: BULEntry, now: float, txn: Transaction,
                     msg: BindingAck) -> list[Output]:
        extra = {"reason": "lifetime 0 granted"} if msg.accepted else {}
        out: list[Output] = [self._rejected(entry, msg, **extra)]
        status = msg.status
        retry = self._retry_after_rejection(entry, txn, status)
        if txn.hoa_req is not None and (retry is None or retry.hoa_req is None):
            out.append(self._event("no-ipv4-service", entry, reason=f"PBA status {status}"))
        if retry is not None:
            return out + self._start(entry, now, retry, f"status-{status}")
        if txn.purpose != "update":  # a refused IPv4 addition leaves the IPv6 binding alone
            self._lose_binding(entry)
        return out + self._fail_held(entry, f"PBA rejected ({status})")

    def _retry_after_rejection(self, entry: BULEntry, txn: Transaction,
                               status: int) -> Transaction | None:
        """The PBU to send again after a rejection (RFC 5844 §3.2.4), or None."""
        hnps, hoa_req = txn.hnps, txn.hoa_req
        if status == BAStatus.NOT_AUTHORIZED_FOR_IPV4_MOBILITY_SERVICE and hoa_req:
            self._no_ipv4.add(entry.nai)
            hoa_req = None
        elif status == BAStatus.NOT_AUTHORIZED_FOR_IPV4_HOME_ADDRESS and hoa_req \
                and hoa_req[0] != ANY4 and not entry.retried_171:
            entry.retried_171 = True
            entry.hoa = entry.hoa_hint = None
            hoa_req = (ANY4, 0)
        elif status == BAStatus.NOT_AUTHORIZED_FOR_IPV6_MOBILITY_SERVICE and hnps:
            entry.ipv6_off = True
            entry.hnps = hnps = ()
        else:
            return None
        if not hnps and hoa_req is None:
            return None
        return Transaction(txn.purpose, txn.hi, txn.lifetime, hnps, hoa_req)

    def _on_accepted(self, entry: BULEntry, now: float, txn: Transaction,
                     msg: BindingAck) -> list[Output]:
        out: list[Output] = []
        entry.retried_171 = entry.retried_135 = False
        if txn.hnps:
            entry.hnps = tuple((h.prefix, h.prefix_len) for h in msg.hnps) or entry.hnps
        ipv4_ok = txn.hoa_req is None or self._take_ipv4(entry, msg, out)
        if not entry.hnps and entry.hoa is None:
            self._lose_binding(entry)
            return out + self._fail_held(entry, "no IPv4 home address")
        first = not entry.registered
        entry.registered = True
        entry.lma_dhcp_mode = msg.dhcp_mode
        gre = msg.option(GREKey)
        entry.gre_uplink = gre.key if isinstance(gre, GREKey) else None
        self._schedule(entry, now, msg.lifetime_s)
        kind = "refreshed" if txn.purpose == "refresh" and not first else "registered"
        out.insert(0, self._event(
            kind, entry, seq=msg.seq, hi=txn.hi, lifetime=entry.lifetime,
            hoa=str(entry.hoa) if entry.hoa else None, prefix_len=entry.plen,
            router=str(entry.router) if entry.router else None,
            hnp=[f"{p}/{n}" for p, n in entry.hnps], dhcp_mode=entry.lma_dhcp_mode))
        if not ipv4_ok:
            return out + self._fail_held(entry, "no IPv4 home address")
        return out + self._serve_held(entry, now)

    def _take_ipv4(self, entry: BULEntry, msg: BindingAck, out: list[Output]) -> bool:
        """Record the IPv4 HoA of an accepted PBA; False (with events) when refused."""
        rep, router = msg.hoa_reply, msg.default_router
        if rep is not None and rep.accepted and router is not None:
            entry.hoa, entry.plen, entry.router = rep.address, rep.prefix_len, router
            entry.hoa_hint = None
            return True
        if rep is None:
            reason = "no IPv4 HoA Reply"
        elif not rep.accepted:
            reason = f"IPv4 HoA Reply status {int(rep.status)}"
        else:
            reason = "no IPv4 Default-Router Address"
        entry.ipv4_off = True
        entry.hoa = entry.plen = entry.router = None
        out.append(self._rejected(entry, msg, scope="ipv4", reason=reason))
        out.append(self._event("no-ipv4-service", entry, reason=reason))
        return False

    def _schedule(self, entry: BULEntry, now: float, granted: int) -> None:
        entry.lifetime = granted
        entry.registered_at = now
        entry.expiry = now + granted
        entry.refresh_at = entry.expiry - min(self.config.reregister_before, granted / 2)

    def _on_dereg_ack(self, entry: BULEntry, now: float, txn: Transaction,
                      msg: BindingAck) -> list[Output]:
        detail = {"seq": msg.seq, "status": int(msg.status), "name": msg.status_name}
        if txn.purpose == "deregister":
            del self._entries[entry.mac]
            return [self._event("deregistered", entry, scope="all", **detail)]
        self._clear_ipv4(entry)
        out: list[Output] = [self._event("deregistered", entry, scope="ipv4", **detail)]
        return out + self._serve_held(entry, now)


__all__ = ["MAG", "BULEntry", "BindingSnapshot", "MAGConfig", "MNPolicy", "Transaction"]
