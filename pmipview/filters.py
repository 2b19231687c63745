"""Packet filters of ``pmipview dissect``: pure predicates built from the options.

Each ``--option`` is parsed once into a predicate over a :class:`~pmipview.packets.Packet`;
a bad value raises :class:`UsageError` with a one-line message naming the option.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from ipaddress import ip_address

from dissectors.dhcp_codes import DhcpMessageType
from dissectors.dhcp_lite import DhcpLite
from dissectors.mh import BindingAck, BindingRevocation
from dissectors.mh_codes import MessageKind
from pmipview.errors import UsageError
from pmipview.packets import Packet, Tally

Predicate = Callable[[Packet], bool]

# --type names: MH message short names and DHCP message types, lower case.
MH_TYPES: dict[str, MessageKind | tuple[MessageKind, ...]] = {
    **{k.value.lower(): k for k in MessageKind if k != MessageKind.BR},
    "hb": (MessageKind.HB_REQ, MessageKind.HB_RESP)}
DHCP_TYPES = {t.name.lower(): t for t in DhcpMessageType}
TYPE_NAMES = sorted([*MH_TYPES, "mh", "dhcp", *DHCP_TYPES])


def mn_keys(packet: Packet) -> set[str]:
    """Every identity a single frame names: NAI, MACs, IPv4 home addresses (lower case)."""
    keys: set[str] = set()
    mh = packet.frame.mh
    if mh is not None:
        if mh.mn_id is not None:
            keys.add(mh.mn_id.lower())
        if mh.mn_lli is not None:
            keys.add(mh.mn_lli)
        if mh.hoa_request is not None and not mh.hoa_request.dynamic:
            keys.add(str(mh.hoa_request.address))
        if mh.hoa_reply is not None:
            keys.add(str(mh.hoa_reply.address))
    dhcp = packet.frame.dhcp
    if dhcp is not None:
        if dhcp.chaddr:
            keys.add(str(dhcp.chaddr).lower())
        for addr in (dhcp.yiaddr, dhcp.ciaddr, dhcp.requested_ip):
            if addr is not None and int(addr):
                keys.add(str(addr))
        if isinstance(dhcp, DhcpLite):   # decode_frame(lite=True): the fields already read
            mac, remote = dhcp.client_mac, dhcp.remote_id
        else:
            cid, rai = dhcp.client_id, dhcp.relay_agent_info
            mac = cid.mac if cid is not None else None
            remote = rai.remote_id_ipv4 if rai is not None else None
        if mac:
            keys.add(mac)
        if remote is not None:
            keys.add(str(remote))
    return keys


def by_mn(value: str) -> Predicate:
    key = value.strip().lower().replace("-", ":")
    return lambda p: key in mn_keys(p)


def by_node(value: str) -> Predicate:
    try:
        addr = ip_address(value.strip())
    except ValueError:
        raise UsageError(f"--node: not an IPv4 or IPv6 address: {value!r}") from None
    return lambda p: addr in (p.frame.src, p.frame.dst)


def by_type(values: list[str]) -> Predicate:
    wanted_mh: set[str] = set()
    wanted_dhcp: set[int] = set()
    any_mh = any_dhcp = False
    for raw in values:
        for name in (v.strip().lower() for v in raw.split(",") if v.strip()):
            if name == "mh":
                any_mh = True
            elif name == "dhcp":
                any_dhcp = True
            elif name in MH_TYPES:
                short = MH_TYPES[name]
                wanted_mh.update((short,) if isinstance(short, str) else short)
            elif name in DHCP_TYPES:
                wanted_dhcp.add(int(DHCP_TYPES[name]))
            else:
                raise UsageError(f"--type: unknown message type {name!r} "
                                 f"(one of: {', '.join(TYPE_NAMES)})")

    def match(p: Packet) -> bool:
        mh, dhcp = p.frame.mh, p.frame.dhcp
        if mh is not None:
            return any_mh or mh.short in wanted_mh
        if dhcp is not None:
            return any_dhcp or (dhcp.message_type is not None
                                and int(dhcp.message_type) in wanted_dhcp)
        return False
    return match


def rejected(p: Packet) -> bool:
    """A negative outcome: PBA/BA status >= 128, IPv4 HoA Reply failure, BRA failure, NAK."""
    mh = p.frame.mh
    if isinstance(mh, BindingAck):
        reply = mh.hoa_reply
        return not mh.accepted or (reply is not None and not reply.accepted)
    if isinstance(mh, BindingRevocation):
        return not mh.accepted
    dhcp = p.frame.dhcp
    return dhcp is not None and dhcp.message_type == DhcpMessageType.NAK


def by_status(value: str) -> Predicate:
    """``rejected``, ``accepted``, ``malformed``, a status number or part of a status name."""
    text = value.strip().lower()
    if text == "rejected":
        return rejected
    if text == "malformed":
        return lambda p: p.frame.malformed is not None
    if text == "accepted":
        return lambda p: (isinstance(p.frame.mh, BindingAck | BindingRevocation)
                          and not rejected(p))
    if text.isdigit():
        num = int(text)

        def match_num(p: Packet) -> bool:
            mh = p.frame.mh
            if isinstance(mh, BindingAck):
                reply = mh.hoa_reply
                return mh.status == num or (reply is not None and reply.status == num)
            return isinstance(mh, BindingRevocation) and not mh.indication and mh.code == num
        return match_num

    def match_name(p: Packet) -> bool:
        mh = p.frame.mh
        if isinstance(mh, BindingAck):
            reply = mh.hoa_reply
            return text in mh.status_name.lower() or (
                reply is not None and text in reply.status_name.lower())
        return (isinstance(mh, BindingRevocation) and not mh.indication
                and text in mh.code_name.lower())
    return match_name


_RANGE = re.compile(r"^\s*(\d*)\s*(?:(-)\s*(\d*))?\s*$")


def by_frames(value: str) -> Predicate:
    """``100-200``, ``5``, ``-50``, ``900-``, or a comma-separated list of those."""
    ranges = frame_ranges(value)
    return lambda p: any(lo <= p.frame_no <= hi for lo, hi in ranges)


def frame_ranges(value: str) -> list[tuple[int, float]]:
    """The inclusive ranges of a ``--frames`` value (see :func:`by_frames`)."""
    ranges: list[tuple[int, float]] = []
    for part in value.split(","):
        m = _RANGE.match(part)
        if not m or (not m.group(1) and not m.group(3) and not m.group(2)):
            raise UsageError(f"--frames: expected N, N-M, N- or -M (comma-separated), "
                             f"got {value!r}")
        lo = int(m.group(1)) if m.group(1) else 1
        hi: float = (int(m.group(3)) if m.group(3) else float("inf")) if m.group(2) else lo
        if hi < lo:
            raise UsageError(f"--frames: range {part.strip()!r} ends before it starts")
        ranges.append((lo, hi))
    return ranges


def parse_time(value: str, option: str) -> tuple[str, float]:
    """``12.5`` (seconds from the first frame) or an ISO date-time (absolute, UTC if naive)."""
    text = value.strip()
    try:
        return "rel", float(text)
    except ValueError:
        pass
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{option}: expected seconds from the start (e.g. 12.5) or an ISO "
                         f"date-time (e.g. 2024-05-01T10:00:00Z), got {value!r}") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return "abs", dt.timestamp()


@dataclass(slots=True)
class TimeWindow:
    """``--from``/``--to``; relative times count from the capture's first frame."""

    start: tuple[str, float] | None
    end: tuple[str, float] | None
    tally: Tally

    def __call__(self, p: Packet) -> bool:
        first = self.tally.first_ts_ns
        first_ts = first / 1e9 if first is not None else p.ts
        t = p.ts
        for bound, lower in ((self.start, True), (self.end, False)):
            if bound is None:
                continue
            kind, val = bound
            ref = val if kind == "abs" else first_ts + val
            if (lower and t < ref) or (not lower and t > ref):
                return False
        return True


def combine(predicates: list[Predicate]) -> Predicate:
    if not predicates:
        return lambda p: True
    return lambda p: all(pred(p) for pred in predicates)



def is_match_mn(mn: object, value: str) -> bool:
    """Whether a correlated mobile node answers to ``value`` (NAI, MAC or IPv4 HoA)."""
    key = value.strip().lower().replace("-", ":")
    names = [*getattr(mn, "nais", ()), *getattr(mn, "macs", ()), *getattr(mn, "ipv4_hoas", ())]
    return key in (n.lower() for n in names)
