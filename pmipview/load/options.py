"""Command-line values of ``pmipview load``, parsed into plain data (ValueError: one line)."""

from __future__ import annotations

import math
import re
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network

MAX_MAG_ADDRESSES = 1024   # one socket each

_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h)?\s*$")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def duration(text: str, option: str) -> float:
    """``1s``, ``500ms``, ``2.5``, ``10m``, ``1h`` → seconds (> 0)."""
    m = _DURATION.match(text)
    if m is None:
        raise ValueError(f"{option}: {text!r} is not a duration (e.g. 10, 10s, 500ms, 5m)")
    value = float(m.group(1)) * _UNIT[m.group(2)]
    if not value > 0 or not math.isfinite(value):
        raise ValueError(f"{option}: must be more than 0, got {text!r}")
    return value


def mag_addresses(text: str, family: int) -> list[IPv4Address | IPv6Address]:
    """A CIDR (its host addresses; a /32 or /128 is the one address) or a comma list."""
    out: list[IPv4Address | IPv6Address] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            if "/" in part:
                net = ip_network(part, strict=False)
                hosts = [net.network_address] if net.num_addresses == 1 else None
                if hosts is None:
                    if net.num_addresses > 4 * MAX_MAG_ADDRESSES:
                        raise ValueError(f"--mag-addresses: {part} has more than "
                                         f"{MAX_MAG_ADDRESSES} addresses")
                    hosts = list(net.hosts())
                out.extend(hosts)
            else:
                out.append(ip_address(part))
        except ValueError as exc:
            if str(exc).startswith("--mag-addresses"):
                raise
            raise ValueError(f"--mag-addresses: {part!r} is not an address or a CIDR") from None
    if not out:
        raise ValueError("--mag-addresses: no address given")
    if any(a.version != family for a in out):
        raise ValueError(f"--mag-addresses: every address must be IPv{family} for this "
                         f"transport")
    if len(set(out)) != len(out):
        raise ValueError("--mag-addresses: an address is given twice")
    if len(out) > MAX_MAG_ADDRESSES:
        raise ValueError(f"--mag-addresses: at most {MAX_MAG_ADDRESSES} addresses "
                         f"(one socket each), got {len(out)}")
    return out


def waits(text: str) -> tuple[float, ...]:
    """``--retransmit 1,2,4,8``: the waits after transmission 0, 1, 2, ... (seconds)."""
    try:
        values = tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise ValueError(f"--retransmit: {text!r} is not a list of seconds "
                         f"(e.g. 1,2,4,8)") from None
    if not values or any(not (v > 0 and math.isfinite(v)) for v in values):
        raise ValueError(f"--retransmit: each wait must be more than 0 s, got {text!r}")
    return values


def target(text: str, transport: str) -> IPv4Address | IPv6Address:
    try:
        addr = ip_address(text)
    except ValueError:
        raise ValueError(f"TARGET: {text!r} is not an IP address") from None
    if transport == "udp4" and not isinstance(addr, IPv4Address):
        raise ValueError(f"--transport udp4 needs an IPv4 TARGET, got {text}")
    if transport == "ipv6" and not isinstance(addr, IPv6Address):
        raise ValueError(f"--transport ipv6 needs an IPv6 TARGET, got {text}")
    return addr
