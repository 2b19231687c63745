"""Expected facts of a scenario, checked against the decoded capture.

Each ``[[expect]]`` table of a scenario states one thing a user would check in the
capture, in words (``fact``) and as a frame pattern that must occur a number of times::

    [[expect]]
    fact = "mag2 registers mn1 after the handover (HI=3) and keeps its address"
    kind = "PBA"            # PBU, PBA, BRI, BRA, HB-Req, HB-Resp, BE, DHCP ACK, ...
    at = "mag2"             # the capture point (pcapng interface) it is seen at
    mn = "mn1@example.net"  # NAI, MAC or IPv4 home address named by the frame
    hi = 3
    hoa = "10.10.0.2"       # HoA requested or assigned, or DHCP yiaddr
    hnp = "2001:db8::/64"   # a Home Network Prefix option of the message ("::/0" asks)
    status = 0              # PBA/BA status or BRA status
    hoa_status = 0          # IPv4 HoA Reply status
    restart_counter = 1     # the Restart Counter option of a Heartbeat (RFC 5847)
    count = 1               # exactly; or min = 1 / max = 0 (default: min = 1)

Keys that are absent do not constrain.  ``check`` returns one line per unmet fact.
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv6Network, ip_address
from typing import Any

from dissectors.mh import BindingAck, BindingRevocation, BindingUpdate, Heartbeat
from dissectors.mh_options import RestartCounter
from pmipview.filters import mn_keys
from pmipview.packets import Packet, kind_of

KEYS = ("fact", "kind", "at", "mn", "hi", "hoa", "hnp", "status", "hoa_status", "lifetime",
        "restart_counter", "src", "dst", "count", "min", "max")


def _hoas(p: Packet) -> set[str]:
    out: set[str] = set()
    mh, dhcp = p.frame.mh, p.frame.dhcp
    if mh is not None:
        if mh.hoa_request is not None:
            out.add(str(mh.hoa_request.address))
        if mh.hoa_reply is not None:
            out.add(str(mh.hoa_reply.address))
    if dhcp is not None:
        out.add(str(dhcp.yiaddr))
        if dhcp.requested_ip is not None:
            out.add(str(dhcp.requested_ip))
    return out


def _hnp(value: Any) -> tuple[Any, int] | None:
    try:
        net = IPv6Network(str(value), strict=False)
    except ValueError:
        return None
    return net.network_address, net.prefixlen


def matches(p: Packet, e: dict[str, Any], interfaces: list[str]) -> bool:
    frame, mh = p.frame, p.frame.mh
    if "kind" in e and (kind_of(frame) or "").lower() != str(e["kind"]).lower():
        return False
    if "at" in e and (p.interface >= len(interfaces) or interfaces[p.interface] != e["at"]):
        return False
    if "mn" in e and str(e["mn"]).lower() not in mn_keys(p):
        return False
    if "hi" in e and (mh is None or mh.handoff_indicator != e["hi"]):
        return False
    if "hoa" in e and str(e["hoa"]) not in _hoas(p):
        return False
    if "hnp" in e and (mh is None or _hnp(e["hnp"]) not in {
            (h.prefix, h.prefix_len) for h in mh.hnps}):
        return False
    if "status" in e:
        if isinstance(mh, BindingAck):
            status = int(mh.status)
        elif isinstance(mh, BindingRevocation) and not mh.indication:
            status = mh.code
        else:
            return False
        if status != e["status"]:
            return False
    if "hoa_status" in e and (mh is None or mh.hoa_reply is None
                              or mh.hoa_reply.status != e["hoa_status"]):
        return False
    if "lifetime" in e and not (isinstance(mh, BindingUpdate | BindingAck)
                                and mh.lifetime_s == e["lifetime"]):
        return False
    if "restart_counter" in e:
        rc = mh.option(RestartCounter) if isinstance(mh, Heartbeat) else None
        if rc is None or rc.counter != e["restart_counter"]:  # type: ignore[union-attr]
            return False
    for key in ("src", "dst"):
        if key in e and getattr(frame, key) != ip_address(str(e[key])):
            return False
    return True


def check(expectations: Iterable[dict[str, Any]], packets: list[Packet],
          interfaces: list[str]) -> list[str]:
    """The facts that the capture does not show, one line each (empty: all shown)."""
    failures = []
    for i, e in enumerate(expectations):
        unknown = set(e) - set(KEYS)
        if unknown:
            failures.append(f"expect[{i}]: unknown key {sorted(unknown)[0]!r}")
            continue
        n = sum(1 for p in packets if matches(p, e, interfaces))
        if "count" in e:
            ok, want = n == e["count"], f"exactly {e['count']}"
        else:
            lo, hi = e.get("min", 0 if "max" in e else 1), e.get("max")
            ok = n >= lo and (hi is None or n <= hi)
            want = f"at least {lo}" + (f" and at most {hi}" if hi is not None else "")
        if not ok:
            fact = e.get("fact", "")
            failures.append(f"expect[{i}] {fact!r}: {n} matching frames, wanted {want}")
    return failures
