"""The LMA's policy: profiles, settings, what a PBU asks for, authorisation and lifetimes.

Pure functions and plain data used by :mod:`pmipview.agents.lma` (the core state machine)
and :mod:`pmipview.agents.lma_cache` (the Binding Cache and its addresses).  Nothing here
holds state between PBUs: the checks of RFC 5213 §5.3.1 / RFC 5844 §3.1.2 that depend on
the PBU and the profile only, the lifetime rule, and the ordering of sequence numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address, IPv6Network
from typing import Any

from dissectors.mh import BindingUpdate
from dissectors.mh_codes import BAStatus, BUFlag, HoAReplyStatus
from dissectors.mh_options import (
    AccessTechnologyOpt,
    HandoffIndicatorOpt,
    HomeNetworkPrefix,
    IPv4DHCPSupportMode,
    IPv4HoARequest,
    LinkLocalAddress,
    MNIdentifier,
    MNLinkLayerId,
    Timestamp,
)
from pmipview.agents.base import Address, Packet
from pmipview.agents.pool import AddressPool

UNSPECIFIED = HoAReplyStatus.FAILURE_REASON_UNSPECIFIED
PROHIBITED = HoAReplyStatus.ADMINISTRATIVELY_PROHIBITED
_SEQ_HALF = 0x8000


@dataclass(frozen=True, slots=True)
class Profile:
    """A mobile node's policy profile (RFC 5213 §6.2 + RFC 5844 §3.2.2).

    ``dhcp_mode``: "server" → DHCP Support Mode S=1, "relay" → S=0, None → option absent.
    ``static_hoa`` / ``hnp`` go to the NAI's first session; further sessions (multihoming)
    get dynamic addresses.  ``allowed=False`` refuses the MN with 152 PROXY_REG_NOT_ENABLED.
    """

    ipv4: bool = True
    ipv6: bool = True
    static_hoa: IPv4Address | None = None
    hnp: IPv6Network | None = None
    dhcp_mode: str | None = "server"
    allowed: bool = True


@dataclass(kw_only=True)
class LMAConfig:
    """LMA settings; times in seconds.  ``ipv6``/``ipv4`` are the LMAAs (informational:
    replies come from the address a PBU was sent to).  ``default_profile`` None refuses
    unknown NAIs with 153.  ``clock_offset`` + ``now`` is the LMA's Unix time (compare
    the MAG's ``epoch``).  ``adopt_foreign_hoa``: a PBU naming an address that the shared
    pool gives to a non-LMA owner (a co-located DHCP server's client, the draft -02 "DHCP
    first, then PBU" order) takes it over with ``pool.transfer`` instead of getting 171."""

    pool: AddressPool
    default_router: IPv4Address
    ipv6: IPv6Address | None = None
    ipv4: IPv4Address | None = None
    hnp_pool: IPv6Network | None = None
    profiles: dict[str, Profile] = field(default_factory=dict)
    default_profile: Profile | None = field(default_factory=Profile)
    max_lifetime: int = 3600
    min_lifetime: int = 0
    revoke_on_handoff: bool = True
    timestamp_window: float | None = None
    sequence_window: bool = True
    restart_counter: int = 0
    heartbeat_interval: float | None = None
    heartbeat_misses: int = 3
    bri_retransmit: float = 1.0
    bri_attempts: int = 3
    clock_offset: float = 0.0
    exhausted_reply_status: int = UNSPECIFIED
    adopt_foreign_hoa: bool = False


class Reject(Exception):
    """Abort PBU processing: answer with ``status`` (IPv4 HoA Reply status ``reply``)."""

    def __init__(self, status: int, reply: int = UNSPECIFIED, *, seq: int | None = None,
                 stamp: bool = False) -> None:
        super().__init__(status)
        self.status = status
        self.reply = reply
        self.seq = seq
        self.stamp = stamp


class Ignore(Exception):
    """Abort PBU processing silently (reported as a ``dropped`` event)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_FIRST = {MNIdentifier: 0, HandoffIndicatorOpt: 1, AccessTechnologyOpt: 2, MNLinkLayerId: 3,
          Timestamp: 4, LinkLocalAddress: 5}
_BU_A = int(BUFlag.A)


class Request:
    """What a PBU asks for, with malformed (UnknownOption) copies counted as absent.

    Read once per PBU, in one pass over the options; every field the core looks at more
    than once (NAI, HI, ATT, MN-LLI text, source, port, specific HoA) is computed here."""

    __slots__ = ("ack", "att", "att_opt", "bad_prefix", "hi", "hi_opt", "hnps", "lla", "lli",
                 "lli_opt", "mnid", "nai", "packet", "pbu", "port", "prefixes", "specific_v4",
                 "src", "timestamp", "v4")

    def __init__(self, packet: Packet, pbu: BindingUpdate) -> None:
        first: list[Any] = [None] * 6  # by _FIRST: MN-ID, HI, ATT, MN-LLI, Timestamp, LLA
        hnps: list[HomeNetworkPrefix] = []
        v4: list[IPv4HoARequest] = []
        for o in pbu.options:
            t = type(o)
            k = _FIRST.get(t)
            if k is not None:
                if first[k] is None:
                    first[k] = o
            elif t is HomeNetworkPrefix:
                hnps.append(o)  # type: ignore[arg-type]
            elif t is IPv4HoARequest:
                v4.append(o)  # type: ignore[arg-type]
        mnid, hi_opt, att_opt, lli_opt, ts, self.lla = first
        prefixes: list[IPv6Network] = []
        bad = False
        for h in hnps:
            if int(h.prefix) == 0:
                continue
            if h.prefix_len > 128:
                bad = True
                continue
            prefixes.append(IPv6Network((h.prefix, h.prefix_len), strict=False))
        self.packet, self.pbu = packet, pbu
        self.ack = bool(int(pbu.flags) & _BU_A)  # A=0: no PBA when accepted
        self.mnid, self.hi_opt, self.att_opt, self.lli_opt = mnid, hi_opt, att_opt, lli_opt
        self.hnps, self.v4, self.timestamp = tuple(hnps), tuple(v4), ts
        self.prefixes = tuple(dict.fromkeys(prefixes))
        self.bad_prefix = bad
        self.nai: str | None = mnid.text if mnid is not None else None
        self.hi: int = int(hi_opt.hi) if hi_opt is not None else 0
        self.att: int = int(att_opt.att) if att_opt is not None else 0
        # the MN-LLI's bytes; an all-zero identifier counts as absent (RFC 5213 §6.9.1.1)
        self.lli: bytes | None = (lli_opt.lli if lli_opt is not None and any(lli_opt.lli)
                                  else None)
        self.src: Address = packet.src
        self.port: int | None = packet.sport if packet.src.version == 4 else None
        self.specific_v4: IPv4Address | None = (
            v4[0].address if v4 and not v4[0].dynamic else None)

    @classmethod
    def parse(cls, packet: Packet, pbu: BindingUpdate) -> Request:
        return cls(packet, pbu)


_DHCP_MODES = {"server": IPv4DHCPSupportMode(True), "relay": IPv4DHCPSupportMode(False)}


def dhcp_option(profile: Profile | None) -> IPv4DHCPSupportMode | None:
    """The DHCP Support Mode option of the profile's accepted PBAs (one shared object;
    None: no option, and for de-registrations, ``profile`` None)."""
    return None if profile is None else _DHCP_MODES.get(profile.dhcp_mode)  # type: ignore[arg-type]


def seq_newer(seq: int, last: int) -> bool:
    """RFC 6275 §9.5.1: ``seq`` greater than ``last`` modulo 2**16."""
    return 0 < (seq - last) & 0xFFFF < _SEQ_HALF


def authorize(cfg: LMAConfig, req: Request) -> Profile:
    """The MN's profile, or :class:`Reject` with the first failing check (module
    docstring of :mod:`pmipview.agents.lma`: MN-ID, HI, ATT, HNP/HoA, one HoA, profile,
    enabled, IPv6, IPv4, usable prefixes)."""
    if req.mnid is None:
        raise Reject(BAStatus.MISSING_MN_IDENTIFIER_OPTION)
    if req.hi_opt is None:
        raise Reject(BAStatus.MISSING_HANDOFF_INDICATOR_OPTION)
    if req.att_opt is None:
        raise Reject(BAStatus.MISSING_ACCESS_TECH_TYPE_OPTION)
    if not req.hnps and not req.v4:
        raise Reject(BAStatus.MISSING_HOME_NETWORK_PREFIX_OPTION)
    if len(req.v4) > 1:
        raise Reject(BAStatus.MULTIPLE_IPV4_HOME_ADDRESS_ASSIGNMENT_NOT_SUPPORTED)
    profile = cfg.profiles.get(req.nai, cfg.default_profile)  # type: ignore[arg-type]
    if profile is None:
        raise Reject(BAStatus.NOT_LMA_FOR_THIS_MOBILE_NODE)
    if not profile.allowed:
        raise Reject(BAStatus.PROXY_REG_NOT_ENABLED)
    routed6 = profile.hnp is not None or cfg.hnp_pool is not None
    if req.hnps and not (profile.ipv6 and routed6):
        raise Reject(BAStatus.NOT_AUTHORIZED_FOR_IPV6_MOBILITY_SERVICE)
    if req.v4 and not profile.ipv4:
        raise Reject(BAStatus.NOT_AUTHORIZED_FOR_IPV4_MOBILITY_SERVICE, PROHIBITED)
    if req.bad_prefix:
        raise Reject(BAStatus.NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX)
    return profile


def grant(cfg: LMAConfig, units: int) -> int:
    """The lifetime granted for ``units`` (4 s) asked: min(asked, max), raised to the
    floor, at least one unit."""
    secs = max(min(units * 4, cfg.max_lifetime), cfg.min_lifetime)
    return max(1, min(secs // 4, 0xFFFF))
