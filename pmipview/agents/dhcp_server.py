"""Sans-IO DHCPv4 server core, co-located with the LMA (RFC 5844 §3.4.2; seed slides "DHCP-S
is located at LMA"), allocating from the :class:`AddressPool` the LMA also uses.

Messages (RFC 2131 §4.3): DISCOVER → OFFER; REQUEST → ACK or NAK (SELECTING: option 54 names
us → ACK, names another server → our offer is forgotten; INIT-REBOOT: option 50; RENEWING /
REBINDING: ciaddr, with or without the option 50 that RFC 5844 §3.4.1 adds); DECLINE → the
address is marked unusable; RELEASE → the lease ends; INFORM → ACK without yiaddr or lease.
Replies go to the relay (giaddr:67, option 82 echoed unchanged, RFC 3046; a NAK gets the
broadcast flag so that the relay broadcasts it), else by the RFC 2131 §4.1 rules: NAK
broadcast, ciaddr unicast, broadcast flag → 255.255.255.255, else unicast to yiaddr/chaddr.
The Client Identifier is echoed too (RFC 6842).

Choosing an address for a DISCOVER, first that fits:

(a) the Agent Remote ID of a relayed message's option 82 when it is 4 bytes (RFC 5844: the
    HoA the LMA assigned to this MN's mobility session, an allocation hint);
(b) the client's current binding;
(c) the Requested IP Address (50) when it is free;
(d) ``pool.allocate(key)``.

Bookkeeping with the shared pool.  The pool has one owner per address: the LMA's
mobility-session keys, this server's :class:`DhcpClientKey` (the client identifier, else
chaddr) and :class:`DeclinedAddress` markers.  The server keeps its own binding table
(client key → :class:`ServerBinding`, one address per client) and touches the pool only for
addresses nobody owns: it reserves those under the client key (also while offered), and on
release, expiry or replacement frees an address only if the pool still names that client as
its owner.  An address the pool gives to someone else, a *foreign* owner (in practice the
LMA session of the hint), is leased without taking it from that owner: the binding records
that owner as its ``anchor``, and the lease stays valid only while the pool still names it
(or, for an address the server reserved itself, names any foreign owner: the LMA adopted it
with ``pool.transfer``, the draft -02 "DHCP first, then PBU" order).  Rules that follow:

* a hint is usable unless the pool gives it to another DHCP client or it was declined; the
  LMA is the authority on the HoA, so another client's binding on it is revoked (Event
  ``lease-revoked``): that client's session ended and the address went to a new one;
* a requested (50) address is usable only when free in the pool, or already the client's;
* an address the pool handed out (d) that still sits in a stale binding of another client
  (a hint lease whose session ended) revokes that binding;
* a relayed REQUEST whose hint differs from the address asked for is NAKed (the LMA assigned
  another HoA; the client must start over).

Declined addresses are never offered again: they are kept in ``declined`` and, when nobody
else owns them, reserved in the pool under :class:`DeclinedAddress` so the LMA skips them too.

The server is authoritative by default (it is the only one in the PMIPv6 domain): an
INIT-REBOOT, RENEWING or REBINDING REQUEST for an address it has no binding for is NAKed,
unless a relay's Remote-ID hint names that very address (the LMA vouches for it: ACK and
record).  With ``authoritative=False`` such requests get no answer (RFC 2131 §4.3.2).

Events (``mn`` = chaddr): ``offered`` (address, source: hint/lease/requested/pool, relay),
``acked`` (address, phase: selecting/init-reboot/renewing/rebinding/inform, lease),
``nak`` (address, phase, reason), ``released``, ``declined``, ``offer-withdrawn`` (the
client chose another server), ``offer-expired``, ``lease-expired``, ``lease-revoked``
(address, by), ``dropped`` (reason).
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Hashable
from dataclasses import dataclass
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
    DhcpAddressListOption,
    DhcpAddressOption,
    DhcpMessageTypeOption,
    DhcpOption,
    DhcpTextOption,
    DhcpUIntOption,
)
from pmipview.agents.base import ANY4, BROADCAST4, Event, Output, Packet, Send
from pmipview.agents.dhcp_client import BROADCAST_MAC, type_name
from pmipview.agents.pool import AddressPool

__all__ = [
    "DeclinedAddress", "DhcpClientKey", "DhcpServer", "ServerBinding", "header_problem",
]

T = DhcpMessageType
C = DhcpOptionCode

# Header fields copied into replies, with their largest value.
_HEADER_LIMITS = (("htype", 0xFF), ("hlen", 0xFF), ("hops", 0xFF), ("xid", 0xFFFFFFFF),
                  ("secs", 0xFFFF), ("flags", 0xFFFF))


@dataclass(frozen=True, slots=True)
class DhcpClientKey:
    """A DHCP client as the server knows it, and its owner key in the shared pool."""

    ident: str

    @classmethod
    def of(cls, msg: DhcpMessage) -> DhcpClientKey:
        """The client identifier (61) when present, else htype and chaddr."""
        cid = msg.client_id
        if cid is not None:
            return cls(f"id:{cid.id_type}:{cid.data.hex()}")
        return cls(f"hw:{msg.htype}:{msg.chaddr.lower()}")

    def __str__(self) -> str:
        return self.ident


@dataclass(frozen=True, slots=True)
class DeclinedAddress:
    """Pool owner key that keeps a declined address out of use."""

    address: IPv4Address


@dataclass(frozen=True, slots=True)
class ServerBinding:
    """One client's address: offered (``leased`` False, until ``expires`` = offer hold) or
    leased (until ``expires``).  ``anchor`` is the pool owner the address had when it was
    granted: the client's own key, or a foreign owner (the LMA session of a hint)."""

    address: IPv4Address
    chaddr: str
    leased: bool
    expires: float
    anchor: Hashable


def _is_foreign(owner: Hashable | None) -> bool:
    return owner is not None and not isinstance(owner, DhcpClientKey | DeclinedAddress)


def header_problem(msg: DhcpMessage) -> str | None:
    """Why the fixed header cannot be echoed in a reply, or None."""
    for name, limit in _HEADER_LIMITS:
        value = getattr(msg, name)
        if not isinstance(value, int) or not 0 <= value <= limit:
            return f"{name} {value!r} out of range"
    if not isinstance(msg.chaddr, str):
        return "chaddr is not text"
    try:
        hw = msg.chaddr_bytes
    except ValueError:
        return f"chaddr {msg.chaddr!r} is not hexadecimal"
    if len(hw) != min(msg.hlen, 16):
        return f"chaddr has {len(hw)} bytes, hlen says {msg.hlen}"
    return None


class DhcpServer:
    """A DHCPv4 server over an :class:`AddressPool` (see the module docstring)."""

    def __init__(
        self,
        server_id: IPv4Address,
        pool: AddressPool,
        *,
        router: IPv4Address,
        dns: tuple[IPv4Address, ...] = (),
        mtu: int = 1460,
        lease: int = 3600,
        offer_hold: float = 60.0,
        authoritative: bool = True,
    ) -> None:
        if not 1 <= lease <= INFINITE_LEASE:
            raise ValueError(f"lease {lease} is not 1..0xFFFFFFFF seconds")
        if not 68 <= mtu <= 0xFFFF:
            raise ValueError(f"interface MTU {mtu} is not 68..65535")
        self.server_id = IPv4Address(server_id)
        self.pool = pool
        self.router = IPv4Address(router)
        self.dns = tuple(IPv4Address(a) for a in dns)
        self.mtu = mtu
        self.lease_time = lease
        self.offer_hold = offer_hold
        self.authoritative = authoritative
        self._bindings: dict[DhcpClientKey, ServerBinding] = {}
        self._by_address: dict[IPv4Address, DhcpClientKey] = {}
        self._declined: set[IPv4Address] = set()
        self._heap: list[tuple[float, int, DhcpClientKey]] = []
        self._seq = itertools.count()

    # ------------------------------------------------------------------ views

    @property
    def subnet_mask(self) -> IPv4Address:
        return self.pool.network.netmask

    @property
    def declined(self) -> frozenset[IPv4Address]:
        return frozenset(self._declined)

    @property
    def bindings(self) -> dict[DhcpClientKey, ServerBinding]:
        """A copy of the binding table (offers and leases)."""
        return dict(self._bindings)

    def leases(self) -> dict[DhcpClientKey, IPv4Address]:
        """Leased (ACKed) addresses by client."""
        return {k: b.address for k, b in self._bindings.items() if b.leased}

    def binding_of(self, key: DhcpClientKey) -> ServerBinding | None:
        return self._bindings.get(key)

    # ------------------------------------------------------------------ inputs

    def receive(self, now: float, packet: Packet) -> list[Output]:
        """A DHCP message for the server (from a client or a relay)."""
        out = self._expire(now)
        msg = packet.message
        if not isinstance(msg, DhcpMessage):
            return [*out, self._dropped("not a DHCP message")]
        reason = self._unusable(msg)
        if reason is not None:
            return [*out, self._dropped(reason, msg)]
        key = DhcpClientKey.of(msg)
        kind = msg.message_type
        if kind == T.DISCOVER:
            return out + self._on_discover(now, packet, msg, key)
        if kind == T.REQUEST:
            return out + self._on_request(now, packet, msg, key)
        if kind == T.DECLINE:
            return out + self._on_decline(msg, key)
        if kind == T.RELEASE:
            return out + self._on_release(msg, key)
        return out + self._on_inform(packet, msg)

    def next_timer(self) -> float | None:
        """When the next offer or lease expires (None: nothing scheduled)."""
        heap = self._heap
        while heap and not self._current(heap[0]):
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def timer(self, now: float) -> list[Output]:
        """Expire the offers and leases that are due."""
        return self._expire(now)

    # ------------------------------------------------------------------ checks

    def _unusable(self, msg: DhcpMessage) -> str | None:
        if msg.op != DhcpOp.BOOTREQUEST:
            return "not a BOOTREQUEST"
        kind = msg.message_type
        if kind is None:
            return "no DHCP Message Type (option 53): BOOTP is not served"
        if kind not in (T.DISCOVER, T.REQUEST, T.DECLINE, T.RELEASE, T.INFORM):
            return f"unexpected DHCP message type {type_name(kind)} at a server"
        return header_problem(msg)

    def _hint(self, msg: DhcpMessage) -> IPv4Address | None:
        """RFC 5844 §3.4.2: option 82 Agent Remote ID of a relayed message, as an address."""
        return msg.remote_id_ipv4 if msg.giaddr != ANY4 else None

    def _conflict(self, key: DhcpClientKey, addr: IPv4Address, *,
                  allow_foreign: bool) -> str | None:
        """Why ``addr`` cannot go to ``key`` (None: it can).  ``allow_foreign`` accepts an
        address owned by a non-DHCP owner (an LMA session), for a Remote-ID hint."""
        if addr not in self.pool:
            return f"{addr} is not in the pool"
        if addr in self._declined:
            return f"{addr} was declined"
        owner = self.pool.owner_of(addr)
        if owner is None or owner == key:
            return None
        if isinstance(owner, DhcpClientKey):
            return f"{addr} is leased to another client"
        if isinstance(owner, DeclinedAddress) or not allow_foreign:
            return f"{addr} is owned by {owner}"
        return None

    def _still_valid(self, key: DhcpClientKey, binding: ServerBinding) -> bool:
        """The binding's address still belongs to the client (see the module docstring)."""
        addr = binding.address
        if addr in self._declined:
            return False
        owner = self.pool.owner_of(addr)
        if owner is None or owner == key or owner == binding.anchor:
            return True
        return binding.anchor == key and _is_foreign(owner)

    # ------------------------------------------------------------------ bindings

    def _choose(self, key: DhcpClientKey, msg: DhcpMessage) -> tuple[IPv4Address | None, str]:
        hint = self._hint(msg)
        if hint is not None and self._conflict(key, hint, allow_foreign=True) is None:
            return hint, "hint"
        binding = self._bindings.get(key)
        if binding is not None and self._still_valid(key, binding):
            return binding.address, "lease"
        wanted = msg.requested_ip
        if wanted is not None and self._conflict(key, wanted, allow_foreign=False) is None:
            return wanted, "requested"
        return self._allocate(key), "pool"

    def _allocate(self, key: DhcpClientKey) -> IPv4Address | None:
        self._unbind(key)  # whatever it had is no longer usable
        while True:
            addr = self.pool.allocate(key)
            if addr is None or addr not in self._declined:
                return addr
            self.pool.release(key)  # declined while a session owned it: fence it now
            self.pool.reserve(addr, DeclinedAddress(addr))

    def _take(self, key: DhcpClientKey, addr: IPv4Address, chaddr: str, *, leased: bool,
              expires: float) -> list[Output]:
        """Bind ``addr`` to ``key``; revoke a stale holder; reserve it if nobody owns it."""
        out: list[Output] = []
        old = self._bindings.get(key)
        if old is not None and old.address != addr:
            self._unbind(key)
        holder = self._by_address.get(addr)
        if holder is not None and holder != key:
            stale = self._unbind(holder)
            if stale is not None:
                out.append(Event("lease-revoked", stale.chaddr,
                                 {"address": addr, "by": str(key)}))
        if self.pool.owner_of(addr) is None:
            self.pool.reserve(addr, key)
        anchor = self.pool.owner_of(addr)
        self._bindings[key] = ServerBinding(addr, chaddr, leased, expires, anchor)
        self._by_address[addr] = key
        if expires != math.inf:
            heapq.heappush(self._heap, (expires, next(self._seq), key))
        return out

    def _unbind(self, key: DhcpClientKey) -> ServerBinding | None:
        """Forget the client's binding; free the address if the pool says it is the client's."""
        binding = self._bindings.pop(key, None)
        if binding is None:
            return None
        if self._by_address.get(binding.address) == key:
            del self._by_address[binding.address]
        if self.pool.owner_of(binding.address) == key:
            self.pool.release(key)
        return binding

    def _current(self, entry: tuple[float, int, DhcpClientKey]) -> bool:
        binding = self._bindings.get(entry[2])
        return binding is not None and binding.expires == entry[0]

    def _expire(self, now: float) -> list[Output]:
        out: list[Output] = []
        heap = self._heap
        while heap and heap[0][0] <= now:
            entry = heapq.heappop(heap)
            if not self._current(entry):
                continue
            binding = self._unbind(entry[2])
            assert binding is not None
            kind = "lease-expired" if binding.leased else "offer-expired"
            out.append(Event(kind, binding.chaddr, {"address": binding.address}))
        return out

    # ------------------------------------------------------------------ DISCOVER

    def _on_discover(self, now: float, packet: Packet, msg: DhcpMessage,
                     key: DhcpClientKey) -> list[Output]:
        addr, source = self._choose(key, msg)
        if addr is None:
            return [self._dropped("no address left in the pool", msg)]
        binding = self._bindings.get(key)
        out: list[Output] = []
        if binding is None or binding.address != addr or not binding.leased:
            out += self._take(key, addr, msg.chaddr, leased=False,
                              expires=now + self.offer_hold)
        offer = self._reply(msg, T.OFFER, yiaddr=addr, options=self._config(lease=True))
        out.append(self._send(packet, offer))
        relay = msg.giaddr if msg.giaddr != ANY4 else None
        out.append(Event("offered", msg.chaddr,
                         {"address": addr, "source": source, "relay": relay,
                          "xid": msg.xid}))
        return out

    # ------------------------------------------------------------------ REQUEST

    def _on_request(self, now: float, packet: Packet, msg: DhcpMessage,
                    key: DhcpClientKey) -> list[Output]:
        server_id = msg.server_id
        if server_id is not None:
            if server_id != self.server_id:
                return self._withdraw(key, msg, server_id)
            if msg.requested_ip is None:
                return [self._dropped("SELECTING REQUEST without Requested IP Address", msg)]
            return self._commit(now, packet, msg, key, msg.requested_ip, "selecting")
        if msg.ciaddr != ANY4:
            relayed_or_broadcast = msg.giaddr != ANY4 or packet.dst == BROADCAST4
            phase = "rebinding" if relayed_or_broadcast else "renewing"
            return self._commit(now, packet, msg, key, msg.ciaddr, phase)
        if msg.requested_ip is not None:
            return self._commit(now, packet, msg, key, msg.requested_ip, "init-reboot")
        return [self._dropped("REQUEST with neither ciaddr nor Requested IP Address", msg)]

    def _withdraw(self, key: DhcpClientKey, msg: DhcpMessage,
                  server_id: IPv4Address) -> list[Output]:
        binding = self._bindings.get(key)
        if binding is None or binding.leased:
            return [self._dropped(f"REQUEST selects server {server_id}", msg)]
        self._unbind(key)
        return [Event("offer-withdrawn", msg.chaddr,
                      {"address": binding.address, "server_id": server_id})]

    def _refusal(self, key: DhcpClientKey, msg: DhcpMessage, addr: IPv4Address,
                 phase: str) -> str | None:
        """Why a REQUEST for ``addr`` gets a NAK; None to ACK it; "" to stay silent."""
        hint = self._hint(msg)
        if hint is not None and hint != addr:
            return f"the home address assigned to this MN is {hint}"
        binding = self._bindings.get(key)
        if binding is not None and binding.address == addr:
            return None if self._still_valid(key, binding) else f"{addr} is no longer available"
        if hint == addr:  # the LMA vouches for it, whatever the client had before
            return self._conflict(key, addr, allow_foreign=True)
        if binding is not None:
            return f"{addr} is not the client's address"
        if phase == "selecting":
            return self._conflict(key, addr, allow_foreign=False)
        return "no binding for this client" if self.authoritative else ""

    def _commit(self, now: float, packet: Packet, msg: DhcpMessage, key: DhcpClientKey,
                addr: IPv4Address, phase: str) -> list[Output]:
        refusal = self._refusal(key, msg, addr, phase)
        if refusal == "":
            return [self._dropped(f"{phase} REQUEST for {addr}: no binding (not "
                                  "authoritative)", msg)]
        if refusal is not None:
            nak = self._reply(msg, T.NAK, options=(DhcpTextOption(C.MESSAGE, refusal),))
            return [self._send(packet, nak),
                    Event("nak", msg.chaddr, {"address": addr, "phase": phase,
                                              "reason": refusal})]
        expires = math.inf if self.lease_time == INFINITE_LEASE else now + self.lease_time
        out = self._take(key, addr, msg.chaddr, leased=True, expires=expires)
        ack = self._reply(msg, T.ACK, yiaddr=addr, ciaddr=msg.ciaddr,
                          options=self._config(lease=True))
        out.append(self._send(packet, ack))
        out.append(Event("acked", msg.chaddr,
                         {"address": addr, "phase": phase, "lease": self.lease_time}))
        return out

    # ------------------------------------------------------------------ others

    def _for_other_server(self, msg: DhcpMessage) -> bool:
        return msg.server_id is not None and msg.server_id != self.server_id

    def _on_decline(self, msg: DhcpMessage, key: DhcpClientKey) -> list[Output]:
        addr = msg.requested_ip
        binding = self._bindings.get(key)
        if self._for_other_server(msg) or binding is None or binding.address != addr:
            return [self._dropped("DECLINE for no binding of ours", msg)]
        self._unbind(key)
        self._declined.add(binding.address)
        fenced = self.pool.reserve(binding.address, DeclinedAddress(binding.address))
        return [Event("declined", msg.chaddr, {"address": binding.address, "fenced": fenced})]

    def _on_release(self, msg: DhcpMessage, key: DhcpClientKey) -> list[Output]:
        binding = self._bindings.get(key)
        if (self._for_other_server(msg) or binding is None or not binding.leased
                or binding.address != msg.ciaddr):
            return [self._dropped("RELEASE for no lease of ours", msg)]
        self._unbind(key)
        return [Event("released", msg.chaddr, {"address": binding.address})]

    def _on_inform(self, packet: Packet, msg: DhcpMessage) -> list[Output]:
        ack = self._reply(msg, T.ACK, ciaddr=msg.ciaddr, options=self._config(lease=False))
        return [self._send(packet, ack),
                Event("acked", msg.chaddr, {"address": msg.ciaddr, "phase": "inform"})]

    # ------------------------------------------------------------------ building

    def _config(self, *, lease: bool) -> tuple[DhcpOption, ...]:
        """Options 51, 58, 59 (with ``lease``), 1, 3, 6 (when configured) and 26."""
        options: list[DhcpOption] = []
        if lease:
            options.append(DhcpUIntOption(C.LEASE_TIME, self.lease_time))
            if self.lease_time != INFINITE_LEASE:
                options.append(DhcpUIntOption(C.RENEWAL_TIME, self.lease_time // 2))
                options.append(DhcpUIntOption(C.REBINDING_TIME, self.lease_time * 7 // 8))
        options.append(DhcpAddressOption(C.SUBNET_MASK, self.subnet_mask))
        options.append(DhcpAddressListOption(C.ROUTER, (self.router,)))
        if self.dns:
            options.append(DhcpAddressListOption(C.DNS, self.dns))
        options.append(DhcpUIntOption(C.MTU, self.mtu))
        return tuple(options)

    def _reply(self, req: DhcpMessage, kind: DhcpMessageType, *, yiaddr: IPv4Address = ANY4,
               ciaddr: IPv4Address = ANY4, options: tuple[DhcpOption, ...]) -> DhcpMessage:
        """A reply to ``req`` (RFC 2131 Table 3), echoing options 61 (RFC 6842) and 82."""
        opts: list[DhcpOption] = [DhcpMessageTypeOption(kind),
                                  DhcpAddressOption(C.SERVER_ID, self.server_id), *options]
        for code in (C.CLIENT_ID, C.RELAY_AGENT_INFO):
            echo = req.option(code)
            if echo is not None:
                opts.append(echo)
        flags = req.flags
        if kind == T.NAK and req.giaddr != ANY4:
            flags |= BROADCAST_FLAG
        return DhcpMessage(op=DhcpOp.BOOTREPLY, htype=req.htype, hlen=req.hlen, xid=req.xid,
                           flags=flags, ciaddr=ciaddr, yiaddr=yiaddr, giaddr=req.giaddr,
                           chaddr=req.chaddr, options=tuple(opts))

    def _send(self, packet: Packet, reply: DhcpMessage) -> Send:
        """Address ``reply`` by RFC 2131 §4.1 (protocol.md §5.3)."""
        req = packet.message
        assert isinstance(req, DhcpMessage)
        dport = DHCP_CLIENT_PORT
        mac: str | None = None
        if req.giaddr != ANY4:
            dst, dport = req.giaddr, DHCP_SERVER_PORT
        elif reply.message_type == T.NAK:
            dst, mac = BROADCAST4, BROADCAST_MAC
        elif req.ciaddr != ANY4:
            dst = req.ciaddr
        elif reply.broadcast or reply.yiaddr == ANY4:
            dst, mac = BROADCAST4, BROADCAST_MAC
        else:
            dst, mac = reply.yiaddr, req.mac
        return Send(Packet(self.server_id, dst, reply, packet.iface, DHCP_SERVER_PORT, dport,
                           None, mac))

    def _dropped(self, reason: str, msg: DhcpMessage | None = None) -> Event:
        mn = msg.chaddr if msg is not None and isinstance(msg.chaddr, str) else None
        return Event("dropped", mn, {"reason": reason})

