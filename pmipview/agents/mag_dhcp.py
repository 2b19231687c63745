"""The DHCP function of the reference MAG (RFC 5844 §3.4; protocol.md §5, §6).

Two parts:

* pure helpers that build and rewrite DHCP messages (no MAG state): classify a client's
  REQUEST, build OFFER/ACK/NAK from a :class:`Grant`, address a reply to the MN
  (RFC 2131 §4.1), add and strip option 82 as a relay (RFC 3046, RFC 5844 §3.4.2);
* :class:`DhcpRole`, the mixin :class:`~pmipview.agents.mag.MAG` inherits: the DHCP server
  without an address pool (``dhcp_mode="server"``) and the relay (``dhcp_mode="relay"``)
  in the RFC 5844 order (PBU/PBA first) or the draft order (DHCP first).  It drives the
  mobility side only through the few ``_``-methods the MAG provides (see the class).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from ipaddress import IPv4Address, IPv4Network
from typing import TYPE_CHECKING, Any

from dissectors.dhcp import BROADCAST_FLAG, DhcpMessage
from dissectors.dhcp_codes import (
    DHCP_CLIENT_PORT,
    DHCP_SERVER_PORT,
    DhcpMessageType,
    DhcpOp,
    DhcpOptionCode,
    RelayAgentSubOptionCode,
)
from dissectors.dhcp_options import (
    DhcpAddressListOption,
    DhcpAddressOption,
    DhcpMessageTypeOption,
    DhcpOption,
    DhcpRelayAgentInfoOption,
    DhcpTextOption,
    DhcpUIntOption,
    RelayAgentSubOption,
)
from dissectors.link import normalize_mac

from .base import ANY4, BACKHAUL, BROADCAST4, Event, Output, Packet, Send

if TYPE_CHECKING:
    from .mag import BULEntry, MAGConfig, MNPolicy

BROADCAST_MAC = "ff:ff:ff:ff:ff:ff"
T = DhcpMessageType


# --------------------------------------------------------------------------- helpers


norm_mac = normalize_mac  # the one definition lives in dissectors.link


def mask_of(prefix_len: int) -> IPv4Address:
    """Subnet mask of a prefix length (lengths outside 0–32 give /32)."""
    return IPv4Network((0, prefix_len if 0 <= prefix_len <= 32 else 32)).netmask


def prefix_len_of(mask: IPv4Address | None) -> int:
    """Prefix length of a subnet mask; 32 when absent or not contiguous."""
    if mask is None:
        return 32
    try:
        return IPv4Network(f"0.0.0.0/{mask}").prefixlen
    except ValueError:
        return 32


def type_name(msg: DhcpMessage) -> str:
    mt = msg.message_type
    if isinstance(mt, DhcpMessageType):
        return mt.name
    return "BOOTP" if mt is None else f"type {mt}"


def classify_request(msg: DhcpMessage, dst: object) -> str:
    """The client state a DHCPREQUEST comes from (RFC 2131 §4.3.2, protocol.md §5.3):
    ``selecting`` (server id present), ``init-reboot`` (no ciaddr, requested IP),
    ``renewing`` (ciaddr, unicast), ``rebinding`` (ciaddr, broadcast) or ``invalid``."""
    if msg.server_id is not None:
        return "selecting"
    if msg.ciaddr == ANY4:
        return "init-reboot" if msg.requested_ip is not None else "invalid"
    return "rebinding" if dst == BROADCAST4 else "renewing"


def requested_address(msg: DhcpMessage, kind: str) -> IPv4Address | None:
    """The address a REQUEST asks for: option 50 in SELECTING/INIT-REBOOT, ciaddr when
    renewing or rebinding (RFC 5844's option 50 in RENEWING is accepted as a fallback)."""
    if kind in ("renewing", "rebinding"):
        return msg.ciaddr if msg.ciaddr != ANY4 else msg.requested_ip
    return msg.requested_ip


@dataclass(frozen=True, slots=True)
class Grant:
    """What the MAG's DHCP server hands to an MN (all from the PBA and the config)."""

    address: IPv4Address
    prefix_len: int
    router: IPv4Address
    server_id: IPv4Address
    lease: int
    mtu: int
    dns: tuple[IPv4Address, ...] = ()


def _reply_header(req: DhcpMessage) -> dict[str, Any]:
    return {"op": DhcpOp.BOOTREPLY, "htype": req.htype, "hlen": req.hlen, "xid": req.xid,
            "flags": req.flags & BROADCAST_FLAG, "giaddr": req.giaddr, "chaddr": req.chaddr}


def build_reply(req: DhcpMessage, mtype: DhcpMessageType, grant: Grant) -> DhcpMessage:
    """OFFER or ACK for ``req``: yiaddr = the HoA, options 53, 54, 51, 58, 59, 1, 3, 6 (when
    DNS servers are configured) and 26 (RFC 5844 §3.4.1: 1, 3 and 26 MUST be there)."""
    lease = grant.lease
    options: list[DhcpOption] = [
        DhcpMessageTypeOption(mtype),
        DhcpAddressOption(DhcpOptionCode.SERVER_ID, grant.server_id),
        DhcpUIntOption(DhcpOptionCode.LEASE_TIME, lease),
        DhcpUIntOption(DhcpOptionCode.RENEWAL_TIME, lease // 2),
        DhcpUIntOption(DhcpOptionCode.REBINDING_TIME, lease * 7 // 8),
        DhcpAddressOption(DhcpOptionCode.SUBNET_MASK, mask_of(grant.prefix_len)),
        DhcpAddressListOption(DhcpOptionCode.ROUTER, (grant.router,)),
    ]
    if grant.dns:
        options.append(DhcpAddressListOption(DhcpOptionCode.DNS, grant.dns))
    options.append(DhcpUIntOption(DhcpOptionCode.MTU, grant.mtu))
    ciaddr = req.ciaddr if mtype == T.ACK else ANY4
    return DhcpMessage(**_reply_header(req), ciaddr=ciaddr, yiaddr=grant.address,
                       options=tuple(options))


def build_nak(req: DhcpMessage, server_id: IPv4Address | None, text: str) -> DhcpMessage:
    """DHCPNAK (RFC 2131 Table 3): options 53, 54 (when known) and 56 with ``text``."""
    options: list[DhcpOption] = [DhcpMessageTypeOption(T.NAK)]
    if server_id is not None:
        options.append(DhcpAddressOption(DhcpOptionCode.SERVER_ID, server_id))
    options.append(DhcpTextOption(DhcpOptionCode.MESSAGE, text[:255] or "NAK"))
    return DhcpMessage(**_reply_header(req), options=tuple(options))


def to_client_packet(reply: DhcpMessage, *, src: IPv4Address, iface: str,
                     mac_src: str | None) -> Packet:
    """Address a reply to the MN on its access link (RFC 2131 §4.1 with giaddr = 0, as
    a relay delivers it too): NAK and broadcast-flag replies to 255.255.255.255, else
    unicast to ciaddr (RENEWING) or yiaddr, link-layer destination = chaddr."""
    if reply.message_type == T.NAK or reply.broadcast:
        dst, mac_dst = BROADCAST4, BROADCAST_MAC
    else:
        dst = reply.ciaddr if reply.ciaddr != ANY4 else reply.yiaddr
        mac_dst = norm_mac(reply.chaddr) or BROADCAST_MAC
        if dst == ANY4:
            dst, mac_dst = BROADCAST4, BROADCAST_MAC
    return Packet(src=src, dst=dst, message=reply, iface=iface, sport=DHCP_SERVER_PORT,
                  dport=DHCP_CLIENT_PORT, mac_src=mac_src, mac_dst=mac_dst)


def relay_request(msg: DhcpMessage, giaddr: IPv4Address, circuit_id: bytes,
                  remote_id: IPv4Address | None) -> DhcpMessage:
    """The client's message as a relay forwards it: giaddr set (if 0), hops + 1, the
    client's own option 82 (untrusted) removed and ours added last (Circuit ID = access
    interface name, Remote ID = the LMA-assigned HoA when given, RFC 5844 §3.4.2)."""
    subs = [RelayAgentSubOption(RelayAgentSubOptionCode.CIRCUIT_ID, circuit_id or b"?")]
    if remote_id is not None:
        subs.append(RelayAgentSubOption(RelayAgentSubOptionCode.REMOTE_ID, remote_id))
    options = tuple(o for o in msg.options if o.code != DhcpOptionCode.RELAY_AGENT_INFO)
    options += (DhcpRelayAgentInfoOption(tuple(subs)),)
    return replace(msg, hops=msg.hops + 1, giaddr=msg.giaddr if msg.giaddr != ANY4 else giaddr,
                   options=options, warnings=(), layout=None)


def strip_relay_info(msg: DhcpMessage) -> DhcpMessage:
    """A server reply without option 82, as the relay delivers it to the client."""
    options = tuple(o for o in msg.options if o.code != DhcpOptionCode.RELAY_AGENT_INFO)
    return replace(msg, options=options, warnings=(), layout=None)


# --------------------------------------------------------------------------- the role


class DhcpRole:
    """DHCP server (no pool) or relay of a MAG; mixed into :class:`MAG`.

    Needs from the host: ``config``, ``_entries``, ``_policy(mac)``,
    ``_new_entry(mac, iface, policy, hi, now)``, ``_wants4(entry)``,
    ``_registration(entry, now, purpose)``, ``_deregister(entry, now, ipv4_only)``,
    ``_event(kind, entry, **detail)`` and ``_dropped(entry, reason, msg)``.
    """

    config: MAGConfig
    _entries: dict[str, BULEntry]

    # -- provided by the MAG (declared here for readers and type checkers)
    def _policy(self, mac: str) -> MNPolicy | None:
        raise NotImplementedError

    def _new_entry(self, mac: str, iface: str, policy: MNPolicy, hi: int,
                   now: float) -> BULEntry:
        raise NotImplementedError

    def _wants4(self, entry: BULEntry) -> bool:
        raise NotImplementedError

    def _registration(self, entry: BULEntry, now: float, purpose: str) -> list[Output]:
        raise NotImplementedError

    def _deregister(self, entry: BULEntry, now: float, ipv4_only: bool,
                    trigger: str = "") -> list[Output]:
        raise NotImplementedError

    def _event(self, kind: str, entry: BULEntry | None, **detail: object) -> Event:
        raise NotImplementedError

    def _dropped(self, entry: BULEntry | None, reason: str, msg: object = None) -> Event:
        raise NotImplementedError

    # -- entry point

    def _on_dhcp(self, now: float, packet: Packet, msg: DhcpMessage) -> list[Output]:
        if msg.op == DhcpOp.BOOTREPLY:
            if packet.iface == BACKHAUL and self.config.dhcp_mode == "relay":
                return self._relay_from_server(now, packet, msg)
            return [self._dropped(None, "BOOTREPLY not from the relayed-to server", msg)]
        if packet.iface == BACKHAUL:
            return [self._dropped(None, "BOOTREQUEST on the backhaul", msg)]
        if msg.message_type is None:
            return [self._dropped(None, "BOOTP without DHCP message type", msg)]
        entry = self._dhcp_entry(now, packet, msg)
        if entry is None:
            return [self._dropped(None, "DHCP from an MN without a policy profile", msg)]
        if self.config.dhcp_mode == "relay":
            return self._relay_from_mn(entry, now, packet, msg)
        return self._server_dhcp(entry, now, packet, msg)

    def _dhcp_entry(self, now: float, packet: Packet, msg: DhcpMessage) -> BULEntry | None:
        mac = norm_mac(msg.mac) or norm_mac(packet.mac_src)
        if mac is None:
            return None
        entry = self._entries.get(mac)
        if entry is not None:
            entry.iface = packet.iface
            return entry
        policy = self._policy(mac)
        if policy is None:
            return None
        # An MN that claims an address was attached elsewhere before: handoff state unknown.
        claims = msg.message_type == T.REQUEST and (msg.ciaddr != ANY4 or msg.server_id is None)
        return self._new_entry(mac, packet.iface, policy, 4 if claims else 1, now)

    # -- waiting for the PBA

    def _await_binding(self, entry: BULEntry, now: float, packet: Packet,
                       hint: IPv4Address | None) -> list[Output]:
        """Hold ``packet`` until the PBA; start the registration unless one is in flight."""
        entry.held = packet
        entry.dhcp_state = "held"
        entry.ipv4_requested = True
        if hint is not None and hint != ANY4 and entry.hoa is None and entry.hoa_hint is None:
            entry.hoa_hint = (hint, 32)
        if entry.txn is not None:
            return []
        out = self._registration(entry, now, "update" if entry.registered else "register")
        return out or self._fail_held(entry, "nothing to register")

    def _serve_held(self, entry: BULEntry, now: float) -> list[Output]:
        """After a PBA: handle the held DHCP message again (it now finds the binding)."""
        packet, entry.held = entry.held, None
        if packet is None or not isinstance(packet.message, DhcpMessage):
            return []
        return self._on_dhcp(now, packet, packet.message)

    def _fail_held(self, entry: BULEntry, reason: str) -> list[Output]:
        """No IPv4 binding: NAK a held REQUEST (server mode), withhold anything else."""
        packet, entry.held = entry.held, None
        if packet is None or not isinstance(packet.message, DhcpMessage):
            return []
        entry.dhcp_state = "init"
        msg = packet.message
        if self.config.dhcp_mode == "server" and msg.message_type == T.REQUEST:
            return self._nak(entry, msg, reason)
        return []

    # -- server mode (RFC 5844 §3.4.1, Figure 7)

    def _server_id(self, entry: BULEntry) -> IPv4Address | None:
        return self.config.dhcp_server_id or entry.router

    def _server_dhcp(self, entry: BULEntry, now: float, packet: Packet,
                     msg: DhcpMessage) -> list[Output]:
        mtype = msg.message_type
        if mtype == T.DISCOVER:
            return self._server_discover(entry, now, packet, msg)
        if mtype == T.REQUEST:
            return self._server_request(entry, now, packet, msg)
        if mtype == T.RELEASE:
            return self._server_release(entry, now, packet, msg)
        return [self._dropped(entry, f"DHCP {type_name(msg)} not handled by the MAG", msg)]

    def _bound(self, entry: BULEntry) -> bool:
        return entry.registered and entry.hoa is not None and entry.router is not None

    def _server_discover(self, entry: BULEntry, now: float, packet: Packet,
                         msg: DhcpMessage) -> list[Output]:
        if not self._wants4(entry):
            return [self._event("no-ipv4-service", entry, reason="IPv4 not authorised/enabled",
                                xid=msg.xid)]
        if self._bound(entry):
            return self._reply(entry, msg, T.OFFER)
        return self._await_binding(entry, now, packet, msg.requested_ip)

    def _server_request(self, entry: BULEntry, now: float, packet: Packet,
                        msg: DhcpMessage) -> list[Output]:
        kind = classify_request(msg, packet.dst)
        if kind == "invalid":
            return [self._dropped(entry, "REQUEST without server id, ciaddr or requested IP",
                                  msg)]
        out: list[Output] = []
        sid = self._server_id(entry)
        if kind == "selecting" and sid is not None and msg.server_id != sid:
            return [self._dropped(entry, f"client selected server {msg.server_id}", msg)]
        if kind == "renewing" and sid is not None and packet.dst != sid:
            if self.config.server_id_policy == "rebind":
                entry.dhcp_state = "forced-rebinding"
                return [self._event("intercepted", entry, action="ignored", to=str(packet.dst),
                                    xid=msg.xid)]
            out.append(self._event("intercepted", entry, action="answered", to=str(packet.dst),
                                   xid=msg.xid))
        if not self._wants4(entry):
            return out + self._nak(entry, msg, "no IPv4 mobility service for this MN")
        addr = requested_address(msg, kind)
        if self._bound(entry):
            return out + self._ack_or_nak(entry, msg, kind, addr)
        return out + self._await_binding(entry, now, packet, addr)

    def _ack_or_nak(self, entry: BULEntry, msg: DhcpMessage, kind: str,
                    addr: IPv4Address | None) -> list[Output]:
        if addr == entry.hoa:
            return self._reply(entry, msg, T.ACK, kind)
        return self._nak(entry, msg, f"requested {addr}, home address is {entry.hoa}")

    def _server_release(self, entry: BULEntry, now: float, packet: Packet,
                        msg: DhcpMessage) -> list[Output]:
        if entry.hoa is None or msg.ciaddr != entry.hoa:
            return [self._dropped(entry, f"RELEASE of {msg.ciaddr}, not the MN's HoA", msg)]
        entry.dhcp_state = "released"
        return self._deregister(entry, now, True, "dhcp-release")

    def _grant(self, entry: BULEntry) -> Grant:
        cfg = self.config
        assert entry.hoa is not None and entry.router is not None
        return Grant(entry.hoa, entry.plen or 32, entry.router,
                     self._server_id(entry) or entry.router, cfg.lease, cfg.mtu, cfg.dns)

    def _reply(self, entry: BULEntry, msg: DhcpMessage, mtype: DhcpMessageType,
               kind: str = "") -> list[Output]:
        grant = self._grant(entry)
        reply = build_reply(msg, mtype, grant)
        packet = to_client_packet(reply, src=grant.server_id, iface=entry.iface,
                                  mac_src=self.config.mac)
        entry.dhcp_state = "offered" if mtype == T.OFFER else "bound"
        detail: dict[str, object] = {"yiaddr": str(grant.address), "xid": msg.xid,
                                     "server_id": str(grant.server_id)}
        if kind:
            detail["state"] = kind
        return [Send(packet), self._event("offer" if mtype == T.OFFER else "ack", entry,
                                          **detail)]

    def _nak(self, entry: BULEntry, msg: DhcpMessage, reason: str) -> list[Output]:
        sid = self._server_id(entry) or self.config.dhcp_server_id
        nak = build_nak(msg, sid, reason)
        packet = to_client_packet(nak, src=sid or ANY4, iface=entry.iface,
                                  mac_src=self.config.mac)
        entry.dhcp_state = "init"
        return [Send(packet), self._event("nak", entry, reason=reason, xid=msg.xid)]

    # -- relay mode (RFC 5844 §3.4.2, Figure 9; seed "DHCP-S is located at LMA")

    def _relay_from_mn(self, entry: BULEntry, now: float, packet: Packet,
                       msg: DhcpMessage) -> list[Output]:
        cfg = self.config
        out: list[Output] = []
        mtype = msg.message_type
        if packet.dst != BROADCAST4:
            if packet.dst != cfg.dhcp_server:
                return [self._dropped(entry, f"unicast DHCP to {packet.dst}, not the domain's "
                                             "DHCP server", msg)]
            addr = requested_address(msg, classify_request(msg, packet.dst))
            if mtype == T.REQUEST and entry.hoa is not None and addr != entry.hoa:
                return [self._dropped(entry, f"intercepted REQUEST for {addr}, HoA is "
                                             f"{entry.hoa}", msg)]
            out.append(self._event("intercepted", entry, action="relayed", to=str(packet.dst),
                                   xid=msg.xid))
        if mtype == T.RELEASE:
            out += self._relay_up(entry, msg)
            if entry.hoa is not None and msg.ciaddr == entry.hoa:
                entry.dhcp_state = "released"
                out += self._deregister(entry, now, True, "dhcp-release")
            return out
        if mtype not in (T.DISCOVER, T.REQUEST):
            return out + self._relay_up(entry, msg)
        if not self._wants4(entry):
            return [*out, self._event("no-ipv4-service", entry,
                                      reason="IPv4 not authorised/enabled", xid=msg.xid)]
        if cfg.relay_order == "draft" or (entry.registered and entry.hoa is not None):
            return out + self._relay_up(entry, msg)
        hint = msg.requested_ip if mtype == T.DISCOVER else \
            requested_address(msg, classify_request(msg, packet.dst))
        return out + self._await_binding(entry, now, packet, hint)

    def _relay_up(self, entry: BULEntry, msg: DhcpMessage) -> list[Output]:
        cfg = self.config
        assert cfg.relay_address is not None and cfg.dhcp_server is not None
        if msg.hops >= cfg.max_hops:
            return [self._dropped(entry, f"hops {msg.hops} reached the limit", msg)]
        remote = entry.hoa if cfg.relay_order == "rfc5844" else None
        relayed = relay_request(msg, cfg.relay_address, entry.iface.encode(), remote)
        packet = Packet(src=cfg.relay_address, dst=cfg.dhcp_server, message=relayed,
                        iface=BACKHAUL, sport=DHCP_SERVER_PORT, dport=DHCP_SERVER_PORT)
        if entry.dhcp_state in ("init", "held"):
            entry.dhcp_state = "relaying"
        return [Send(packet), self._event("relayed", entry, direction="to-server",
                                          type=type_name(msg), xid=msg.xid,
                                          remote_id=str(remote) if remote else None)]

    def _relay_from_server(self, now: float, packet: Packet,
                           msg: DhcpMessage) -> list[Output]:
        cfg = self.config
        if msg.giaddr != cfg.relay_address:
            return [self._dropped(None, f"server reply for relay {msg.giaddr}", msg)]
        entry = self._entries.get(norm_mac(msg.chaddr) or "")
        if entry is None:
            return [self._dropped(None, f"server reply for unknown client {msg.chaddr}", msg)]
        mtype = msg.message_type
        checked = cfg.relay_order == "rfc5844" and mtype in (T.OFFER, T.ACK)
        if checked and msg.yiaddr != ANY4 and msg.yiaddr != entry.hoa:
            return [self._event("offer-mismatch", entry, type=type_name(msg), xid=msg.xid,
                                yiaddr=str(msg.yiaddr),
                                hoa=str(entry.hoa) if entry.hoa else None)]
        reply = strip_relay_info(msg)
        out: list[Output] = [
            Send(to_client_packet(reply, src=cfg.relay_address, iface=entry.iface,
                                  mac_src=cfg.mac)),
            self._event("relayed", entry, direction="to-mn", type=type_name(msg), xid=msg.xid,
                        yiaddr=str(msg.yiaddr)),
        ]
        entry.dhcp_state = {T.OFFER: "offered", T.ACK: "bound", T.NAK: "init"}.get(
            mtype, entry.dhcp_state)  # type: ignore[call-overload]
        if cfg.relay_order == "draft" and mtype == T.ACK and msg.yiaddr != ANY4:
            out += self._draft_ack(entry, now, msg)
        return out

    def _draft_ack(self, entry: BULEntry, now: float, msg: DhcpMessage) -> list[Output]:
        """Draft order: the server allocated the HoA; register it with the LMA now."""
        hoa, plen = msg.yiaddr, prefix_len_of(msg.subnet_mask)
        if entry.hoa == hoa and (entry.registered or entry.txn is not None):
            return []
        if entry.txn is not None and entry.txn.hoa_req == (hoa, plen):
            return []
        entry.hoa = None
        entry.hoa_hint = (hoa, plen)
        return self._registration(entry, now, "update" if entry.registered else "register")
