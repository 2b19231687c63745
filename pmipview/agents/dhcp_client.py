"""Sans-IO DHCPv4 client core for a simulated mobile node (RFC 2131 §4.4).

The client follows the state table of protocol.md §5.3:

* ``start(now)`` (link up): with no lease, DISCOVER (broadcast from 0.0.0.0, broadcast
  flag set) → SELECTING; the first acceptable OFFER is taken and answered with a broadcast
  REQUEST carrying Requested IP (50) and Server Identifier (54) → REQUESTING; ACK → BOUND.
  With a remembered, unexpired lease, INIT-REBOOT: a broadcast REQUEST with option 50 = the
  address, no option 54 and ciaddr 0 → REBOOTING.
* ``link_changed(now)`` (moved to another link, e.g. a PMIPv6 handover when the MN is not
  DNAv4-capable): the same as ``start`` for a client that was started, nothing otherwise.
* At T1 RENEWING: a REQUEST unicast to the server identifier, from and with ciaddr = the
  leased address, without options 50 and 54 (RFC 2131 Table 4; RFC 5844 §3.4.1 puts option
  50 there, see protocol.md §6.1).  At T2 REBINDING: the same REQUEST broadcast.  At lease
  expiry: Event ``expired`` and a new DISCOVER.
* NAK in any requesting state → INIT, forget the lease, DISCOVER again ``restart_delay``
  seconds later.
* ``release(now)`` unicasts RELEASE to the server and leaves the client idle in INIT (only
  ``start`` wakes it again); ``decline(now)`` (an address conflict found after the ACK)
  broadcasts DECLINE and restarts from INIT ``decline_delay`` seconds later (RFC 2131
  §3.1.5: at least 10 s).

Retransmission (RFC 2131 §4.1): DISCOVER and the SELECTING/INIT-REBOOT REQUEST are resent
after ``retransmit[i]`` seconds (4, 8, 16, 32, 64 by default) randomized by a uniform ±1 s
drawn from ``rng``; after ``max_attempts`` transmissions without an answer the client gives
up (Event ``gave-up``), forgets any lease and starts again from INIT ``retry_pause`` seconds
later.  RENEWING and REBINDING requests are resent after half the time left until T2
(RENEWING) or lease expiry (REBINDING), at least ``renew_floor`` (60 s) apart (RFC 2131
§4.4.5); T2 and expiry end those states, so they never give up.

The client does not wait the random 1–10 s that RFC 2131 §4.4.1 suggests before the first
DISCOVER (a runner that wants it delays ``start``), takes the first OFFER without
collecting others, and performs no ARP check itself (``decline`` is how a runner reports a
conflict).  ``INIT`` and ``INIT_REBOOT`` are left within the call that enters them, except
that INIT is where the client waits before a restart and where it idles after ``release``.

Events (``mn`` = the client's MAC): ``offer`` (address, server_id), ``bound`` (address,
server_id, lease, router, subnet_mask, mtu, dns, reboot), ``renewed``, ``rebound`` (same
detail), ``nak`` (state, server_id, message), ``expired`` (address), ``released`` (address,
server_id), ``declined`` (address, server_id), ``gave-up`` (state, attempts), ``dropped``
(reason).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import Enum
from ipaddress import IPv4Address

from dissectors.dhcp import BROADCAST_FLAG, INFINITE_LEASE, DhcpMessage
from dissectors.dhcp_codes import (
    DHCP_CLIENT_PORT,
    DHCP_SERVER_PORT,
    DhcpMessageType,
    DhcpOp,
    DhcpOptionCode,
)
from dissectors.dhcp_options import (
    DhcpAddressOption,
    DhcpClientIdOption,
    DhcpMessageTypeOption,
    DhcpOption,
    DhcpParamRequestListOption,
    DhcpTextOption,
    DhcpUIntOption,
    encode_option,
)
from dissectors.link import normalize_mac
from pmipview.agents.base import ANY4, BROADCAST4, Event, Output, Packet, Send

__all__ = ["BROADCAST_MAC", "ClientLease", "ClientState", "DhcpClient"]

BROADCAST_MAC = "ff:ff:ff:ff:ff:ff"

#: Options the client asks for (55): subnet mask, router, DNS, domain name, interface MTU.
PARAMETERS = (
    DhcpOptionCode.SUBNET_MASK, DhcpOptionCode.ROUTER, DhcpOptionCode.DNS,
    DhcpOptionCode.DOMAIN_NAME, DhcpOptionCode.MTU,
)

T = DhcpMessageType
Handler = Callable[[float], list[Output]]


class ClientState(Enum):
    """RFC 2131 Figure 5 client states."""

    INIT = "INIT"
    SELECTING = "SELECTING"
    REQUESTING = "REQUESTING"
    BOUND = "BOUND"
    RENEWING = "RENEWING"
    REBINDING = "REBINDING"
    INIT_REBOOT = "INIT-REBOOT"
    REBOOTING = "REBOOTING"


S = ClientState
# States in which the client holds a lease whose expiry can end it.
_HOLDING = frozenset({S.BOUND, S.RENEWING, S.REBINDING, S.REBOOTING})
# States that wait for an answer, and the answers they accept.
_EXPECTS: dict[ClientState, frozenset[int]] = {
    S.SELECTING: frozenset({T.OFFER}),
    S.REQUESTING: frozenset({T.ACK, T.NAK}),
    S.REBOOTING: frozenset({T.ACK, T.NAK}),
    S.RENEWING: frozenset({T.ACK, T.NAK}),
    S.REBINDING: frozenset({T.ACK, T.NAK}),
}
# The event an ACK raises, by the state it arrives in.
_ACK_EVENT = {S.REQUESTING: "bound", S.REBOOTING: "bound", S.RENEWING: "renewed",
              S.REBINDING: "rebound"}


@dataclass(frozen=True, slots=True)
class ClientLease:
    """What an ACK gave the client.  Times are absolute (the caller's clock); an infinite
    lease (0xFFFFFFFF) has ``t1 == t2 == expiry == math.inf``."""

    address: IPv4Address
    server_id: IPv4Address
    lease: int
    obtained: float
    t1: float
    t2: float
    expiry: float
    subnet_mask: IPv4Address | None = None
    router: IPv4Address | None = None
    dns: tuple[IPv4Address, ...] = ()
    mtu: int | None = None


def _uint_option(msg: DhcpMessage, code: int) -> int | None:
    opt = msg.option(code)
    return opt.value if isinstance(opt, DhcpUIntOption) else None


def lease_from_ack(msg: DhcpMessage, server_id: IPv4Address, obtained: float) -> ClientLease:
    """The lease an ACK grants, timed from ``obtained`` (when the REQUEST was first sent).

    T1/T2 come from options 58/59 when they are consistent (0 < T1 < T2 < lease), else
    from the RFC 2131 §4.4.5 defaults 0.5 and 0.875 × lease.
    """
    lease = msg.lease_time or 0
    if lease == INFINITE_LEASE:
        t1 = t2 = expiry = math.inf
    else:
        o1 = _uint_option(msg, DhcpOptionCode.RENEWAL_TIME)
        o2 = _uint_option(msg, DhcpOptionCode.REBINDING_TIME)
        r1: float
        r2: float
        if o1 is None or o2 is None or not 0 < o1 < o2 < lease:
            r1, r2 = 0.5 * lease, 0.875 * lease
        else:
            r1, r2 = o1, o2
        t1, t2, expiry = obtained + r1, obtained + r2, obtained + lease
    routers = msg.routers or ()
    return ClientLease(
        address=msg.yiaddr, server_id=server_id, lease=lease, obtained=obtained,
        t1=t1, t2=t2, expiry=expiry, subnet_mask=msg.subnet_mask,
        router=routers[0] if routers else None, dns=msg.dns_servers or (), mtu=msg.mtu)


def type_name(kind: int) -> str:
    """``OFFER`` for a known DHCP message type, the number otherwise."""
    return kind.name if isinstance(kind, DhcpMessageType) else str(kind)


def _normal_mac(mac: str) -> str:
    normal = normalize_mac(mac)
    if normal is None:
        raise ValueError(f"{mac!r} is not a 6-byte MAC address")
    return normal


class DhcpClient:
    """A DHCPv4 client state machine (see the module docstring)."""

    def __init__(
        self,
        mac: str,
        iface: str,
        *,
        client_id: DhcpClientIdOption | None = None,
        rng: random.Random | None = None,
        hostname: str | None = None,
        retransmit: tuple[float, ...] = (4, 8, 16, 32, 64),
        max_attempts: int = 5,
        restart_delay: float = 1.0,
        decline_delay: float = 10.0,
        retry_pause: float = 60.0,
        renew_floor: float = 60.0,
    ) -> None:
        if not retransmit or max_attempts < 1 or renew_floor <= 0:
            raise ValueError("need retransmit intervals, max_attempts >= 1, renew_floor > 0")
        self.mac = _normal_mac(mac)
        self.iface = iface
        self.client_id = client_id or DhcpClientIdOption.from_mac(self.mac)
        self.rng = rng or random.Random(0)
        self.hostname = hostname or None
        self._fixed: tuple[DhcpOption, ...] = (self.client_id,)
        self._asking: tuple[DhcpOption, ...] = (
            *((DhcpTextOption(DhcpOptionCode.HOSTNAME, hostname),) if hostname else ()),
            DhcpParamRequestListOption(PARAMETERS))
        for opt in (*self._fixed, *self._asking):
            encode_option(opt)  # ValueError now rather than on the wire
        self.retransmit = retransmit
        self.max_attempts = max_attempts
        self.restart_delay = restart_delay
        self.decline_delay = decline_delay
        self.retry_pause = retry_pause
        self.renew_floor = renew_floor
        self._state = S.INIT
        self._active = False
        self._lease: ClientLease | None = None
        self._xid = 0
        self._started = 0.0
        self._attempts = 0
        self._pending: Packet | None = None
        self._retx_at: float | None = None
        self._restart_at: float | None = None

    # ------------------------------------------------------------------ views

    @property
    def state(self) -> ClientState:
        return self._state

    @property
    def lease_info(self) -> ClientLease | None:
        """The current lease (also kept while REBOOTING/RENEWING/REBINDING), or None."""
        return self._lease

    @property
    def address(self) -> IPv4Address | None:
        return None if self._lease is None else self._lease.address

    @property
    def server_id(self) -> IPv4Address | None:
        return None if self._lease is None else self._lease.server_id

    @property
    def lease(self) -> int | None:
        """Lease duration in seconds, as the server gave it."""
        return None if self._lease is None else self._lease.lease

    @property
    def t1(self) -> float | None:
        """Absolute time of the move to RENEWING."""
        return None if self._lease is None else self._lease.t1

    @property
    def t2(self) -> float | None:
        """Absolute time of the move to REBINDING."""
        return None if self._lease is None else self._lease.t2

    @property
    def expiry(self) -> float | None:
        return None if self._lease is None else self._lease.expiry

    @property
    def xid(self) -> int:
        """The transaction id of the current exchange."""
        return self._xid

    # ------------------------------------------------------------------ inputs

    def start(self, now: float) -> list[Output]:
        """Link up: DISCOVER, or INIT-REBOOT when a lease is remembered."""
        self._active = True
        return self._begin(now)

    def link_changed(self, now: float) -> list[Output]:
        """Attached to another link: start over (INIT-REBOOT when holding a lease)."""
        return self._begin(now) if self._active else []

    def release(self, now: float) -> list[Output]:
        """Give the lease back (RELEASE unicast to the server) and idle in INIT."""
        lease = self._lease
        if lease is None:
            return []
        self._new_xid(now)
        msg = self._message(now, T.RELEASE, ciaddr=lease.address,
                            extra=(DhcpAddressOption(DhcpOptionCode.SERVER_ID, lease.server_id),))
        self._active = False
        self._enter_init(None)
        return [Send(self._unicast(msg, lease.address, lease.server_id)),
                self._event("released", address=lease.address, server_id=lease.server_id)]

    def decline(self, now: float) -> list[Output]:
        """The leased address is in use by someone else: DECLINE (broadcast), then INIT."""
        lease = self._lease
        if lease is None:
            return []
        msg = self._message(now, T.DECLINE, extra=(
            DhcpAddressOption(DhcpOptionCode.REQUESTED_IP, lease.address),
            DhcpAddressOption(DhcpOptionCode.SERVER_ID, lease.server_id)))
        self._enter_init(now + self.decline_delay)
        return [Send(self._broadcast(msg)),
                self._event("declined", address=lease.address, server_id=lease.server_id)]

    def receive(self, now: float, packet: Packet) -> list[Output]:
        """An OFFER, ACK or NAK for this client; anything else is dropped."""
        msg = packet.message
        if not isinstance(msg, DhcpMessage):
            return [self._dropped("not a DHCP message")]
        reason = self._unusable(msg)
        if reason is not None:
            return [self._dropped(reason, msg.xid)]
        if msg.message_type == T.OFFER:
            return self._on_offer(now, msg)
        if msg.message_type == T.ACK:
            return self._on_ack(now, msg, packet)
        return self._on_nak(now, msg)

    def next_timer(self) -> float | None:
        """When ``timer`` should be called next (None: nothing scheduled)."""
        times = [t for t in (self._retx_at, self._restart_at) if t is not None]
        lease = self._lease
        if lease is not None and self._state in _HOLDING:
            times.append(lease.expiry)
            if self._state in (S.BOUND, S.RENEWING):
                times.append(lease.t2)
            if self._state == S.BOUND:
                times.append(lease.t1)
        finite = [t for t in times if t != math.inf]
        return min(finite) if finite else None

    def timer(self, now: float) -> list[Output]:
        """Run whatever is due at ``now`` (retransmission, T1, T2, expiry, restart)."""
        out: list[Output] = []
        for _ in range(8):  # each step schedules its next deadline after now
            step = self._due(now)
            if step is None:
                break
            out += step(now)
        return out

    # ------------------------------------------------------------------ timers

    def _due(self, now: float) -> Handler | None:
        lease = self._lease
        state = self._state
        if lease is not None and state in _HOLDING:
            if now >= lease.expiry:
                return self._expire
            if state in (S.BOUND, S.RENEWING) and now >= lease.t2:
                return self._rebind
            if state == S.BOUND and now >= lease.t1:
                return self._renew
        if self._retx_at is not None and now >= self._retx_at:
            return self._retransmit
        if self._restart_at is not None and now >= self._restart_at:
            return self._restart
        return None

    def _backoff(self) -> float:
        base = self.retransmit[min(self._attempts, len(self.retransmit)) - 1]
        return max(0.0, base + self.rng.uniform(-1.0, 1.0))

    def _renew_wait(self, now: float, until: float) -> float | None:
        """RFC 2131 §4.4.5: half the time left, at least ``renew_floor``; None past ``until``."""
        at = now + max((until - now) / 2, self.renew_floor)
        return at if at < until else None

    def _retransmit(self, now: float) -> list[Output]:
        packet = self._pending
        lease = self._lease
        if packet is None:
            self._retx_at = None
            return []
        if self._state in (S.RENEWING, S.REBINDING) and lease is not None:
            until = lease.t2 if self._state == S.RENEWING else lease.expiry
            self._retx_at = self._renew_wait(now, until)
            return [Send(self._refresh(packet, now))]
        if self._attempts >= self.max_attempts:
            return self._give_up(now)
        self._attempts += 1
        self._retx_at = now + self._backoff()
        return [Send(self._refresh(packet, now))]

    def _give_up(self, now: float) -> list[Output]:
        event = self._event("gave-up", state=self._state.value, attempts=self._attempts)
        self._enter_init(now + self.retry_pause)
        return [event]

    def _restart(self, now: float) -> list[Output]:
        self._restart_at = None
        return self._begin(now)

    def _expire(self, now: float) -> list[Output]:
        lease = self._lease
        assert lease is not None
        self._lease = None
        return [self._event("expired", address=lease.address), *self._discover(now)]

    # ------------------------------------------------------------------ transitions

    def _begin(self, now: float) -> list[Output]:
        self._restart_at = None
        lease = self._lease
        if lease is not None and now < lease.expiry:
            return self._init_reboot(now, lease)
        out: list[Output] = []
        if lease is not None:
            self._lease = None
            out.append(self._event("expired", address=lease.address))
        return out + self._discover(now)

    def _enter_init(self, restart_at: float | None) -> None:
        self._state = S.INIT
        self._lease = None
        self._pending = None
        self._retx_at = None
        self._restart_at = restart_at

    def _new_xid(self, now: float) -> None:
        self._xid = self.rng.getrandbits(32)
        self._started = now

    def _transmit(self, now: float, state: ClientState, packet: Packet) -> list[Output]:
        """Send the first copy of a message that is retransmitted until answered."""
        self._state = state
        self._pending = packet
        self._attempts = 1
        self._restart_at = None
        self._retx_at = now + self._backoff()
        return [Send(packet)]

    def _discover(self, now: float) -> list[Output]:
        self._state = S.INIT
        self._new_xid(now)
        msg = self._message(now, T.DISCOVER, broadcast=True)
        return self._transmit(now, S.SELECTING, self._broadcast(msg))

    def _init_reboot(self, now: float, lease: ClientLease) -> list[Output]:
        self._state = S.INIT_REBOOT
        self._new_xid(now)
        msg = self._message(now, T.REQUEST, broadcast=True, extra=(
            DhcpAddressOption(DhcpOptionCode.REQUESTED_IP, lease.address),))
        return self._transmit(now, S.REBOOTING, self._broadcast(msg))

    def _renew(self, now: float) -> list[Output]:
        lease = self._lease
        assert lease is not None
        self._new_xid(now)
        msg = self._message(now, T.REQUEST, ciaddr=lease.address)
        self._state = S.RENEWING
        self._pending = self._unicast(msg, lease.address, lease.server_id)
        self._retx_at = self._renew_wait(now, lease.t2)
        return [Send(self._pending)]

    def _rebind(self, now: float) -> list[Output]:
        lease = self._lease
        assert lease is not None
        self._new_xid(now)
        msg = self._message(now, T.REQUEST, ciaddr=lease.address)
        self._state = S.REBINDING
        self._pending = self._broadcast(msg, src=lease.address)
        self._retx_at = self._renew_wait(now, lease.expiry)
        return [Send(self._pending)]

    # ------------------------------------------------------------------ replies

    def _unusable(self, msg: DhcpMessage) -> str | None:
        """Why a DHCP message cannot be an answer to this client, or None."""
        if msg.op != DhcpOp.BOOTREPLY:
            return "not a BOOTREPLY"
        kind = msg.message_type
        if kind is None:
            return "no DHCP Message Type (option 53)"
        if kind not in (T.OFFER, T.ACK, T.NAK):
            return f"unexpected DHCP message type {type_name(kind)} at a client"
        if not isinstance(msg.chaddr, str) or msg.chaddr.lower() != self.mac:
            return f"chaddr {msg.chaddr} is not ours"
        if msg.xid != self._xid:
            return f"xid {msg.xid!r} does not match {self._xid}"
        if kind not in _EXPECTS.get(self._state, frozenset()):
            return f"{type_name(kind)} not expected in {self._state.value}"
        return None

    def _on_offer(self, now: float, msg: DhcpMessage) -> list[Output]:
        server_id = msg.server_id
        if msg.yiaddr == ANY4 or server_id is None:
            return [self._dropped("OFFER without yiaddr or Server Identifier", msg.xid)]
        request = self._message(now, T.REQUEST, broadcast=True, extra=(
            DhcpAddressOption(DhcpOptionCode.REQUESTED_IP, msg.yiaddr),
            DhcpAddressOption(DhcpOptionCode.SERVER_ID, server_id)))
        event = self._event("offer", address=msg.yiaddr, server_id=server_id)
        return [event, *self._transmit(now, S.REQUESTING, self._broadcast(request))]

    def _server_of(self, msg: DhcpMessage, packet: Packet) -> IPv4Address:
        """Option 54, else the server we asked, else the packet's source."""
        pending = self._pending
        if msg.server_id is not None:
            return msg.server_id
        if pending is not None and isinstance(pending.message, DhcpMessage):
            asked = pending.message.server_id
            if asked is not None:
                return asked
        if self._lease is not None:
            return self._lease.server_id
        return packet.src if isinstance(packet.src, IPv4Address) else ANY4

    def _on_ack(self, now: float, msg: DhcpMessage, packet: Packet) -> list[Output]:
        if msg.yiaddr == ANY4 or not msg.lease_time:
            return [self._dropped("ACK without yiaddr or a non-zero lease time", msg.xid)]
        kind = _ACK_EVENT[self._state]
        reboot = self._state == S.REBOOTING
        lease = lease_from_ack(msg, self._server_of(msg, packet), self._started)
        self._lease = lease
        self._state = S.BOUND
        self._pending = None
        self._retx_at = None
        return [self._event(kind, address=lease.address, server_id=lease.server_id,
                            lease=lease.lease, router=lease.router,
                            subnet_mask=lease.subnet_mask, mtu=lease.mtu, dns=lease.dns,
                            reboot=reboot)]

    def _on_nak(self, now: float, msg: DhcpMessage) -> list[Output]:
        event = self._event("nak", state=self._state.value, server_id=msg.server_id,
                            message=msg.message_text)
        self._enter_init(now + self.restart_delay)
        return [event]

    # ------------------------------------------------------------------ building

    def _message(self, now: float, kind: DhcpMessageType, *, ciaddr: IPv4Address = ANY4,
                 broadcast: bool = False, extra: tuple[DhcpOption, ...] = ()) -> DhcpMessage:
        options: list[DhcpOption] = [DhcpMessageTypeOption(kind), *self._fixed, *extra]
        if kind in (T.DISCOVER, T.REQUEST):
            options += self._asking
        return DhcpMessage(op=DhcpOp.BOOTREQUEST, xid=self._xid, secs=self._secs(now),
                           flags=BROADCAST_FLAG if broadcast else 0, ciaddr=ciaddr,
                           chaddr=self.mac, options=tuple(options))

    def _broadcast(self, msg: DhcpMessage, src: IPv4Address = ANY4) -> Packet:
        return Packet(src, BROADCAST4, msg, self.iface, DHCP_CLIENT_PORT, DHCP_SERVER_PORT,
                      self.mac, BROADCAST_MAC)

    def _unicast(self, msg: DhcpMessage, src: IPv4Address, dst: IPv4Address) -> Packet:
        return Packet(src, dst, msg, self.iface, DHCP_CLIENT_PORT, DHCP_SERVER_PORT,
                      self.mac, None)

    def _refresh(self, packet: Packet, now: float) -> Packet:
        """A retransmission: same message with ``secs`` brought up to date."""
        msg = packet.message
        assert isinstance(msg, DhcpMessage)
        return replace(packet, message=replace(msg, secs=self._secs(now)))

    def _secs(self, now: float) -> int:
        """RFC 2131 ``secs``: whole seconds since this exchange began (0..65535)."""
        return min(max(int(now - self._started), 0), 0xFFFF)

    def _event(self, kind: str, **detail: object) -> Event:
        return Event(kind, self.mac, dict(detail))

    def _dropped(self, reason: str, xid: int | None = None) -> Event:
        detail: dict[str, object] = {"reason": reason}
        if xid is not None:
            detail["xid"] = xid
        return Event("dropped", self.mac, detail)
