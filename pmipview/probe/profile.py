"""``--profile FILE``: what the gateway under test is configured with (TOML).

The checks of RFC MUSTs that depend on configuration (which NAIs are refused and with
which status, the HoA pool, the default router, whether timestamps are used) read it.
Without a file the probe assumes only what every LMA must do: any NAI in ``realm`` is
served, and nothing is known of pools or refusals (those checks then say SKIP, or check
only the RFC-generic part).  Keys (all optional)::

    realm = "example.com"          # NAIs the probe invents: probe-<check>-<n>@realm
    accept_unknown = true          # the gateway serves any NAI; false: use `allowed`
    allowed = ["mn1@example.com"]  # NAIs it serves (needed when accept_unknown = false)
    unknown_nai = "nobody@invalid.example"  # an NAI it does not know ...
    unknown_nai_status = 153       # ... and the PBA status it gets (153 or 170)
    refused = [{ nai = "mn9@example.com", status = 170 }]
    pool = "10.200.0.0/16"         # dynamic HoAs lie in it; its length is the prefix len
    default_router = "10.200.0.1"  # the IPv4 Default-Router option's value
    dhcp_mode = "server"           # the DHCP Support Mode the PBA carries: server|relay|none
    timestamps = false             # the LMA orders PBUs by Timestamp (RFC 5213 §5.5)
    timestamp_window = 7.0         # its TimestampValidityWindow, seconds
    max_lifetime = 3600            # the longest lifetime it grants, seconds
    revocation = "auto"            # true: it MUST revoke the old MAG on handoff; false/auto
    foreign_hoa = "198.18.0.1"     # an IPv4 address not anchored there (→ 171)
    grants_specific = true         # it grants a free pool address asked for by name
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network
from typing import Any

from dissectors.mh_codes import BAStatus

DHCP_MODES = ("server", "relay", "none")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
FOREIGN_HOA = IPv4Address("198.18.0.1")  # RFC 2544 benchmarking space: anchored nowhere


class ProfileError(ValueError):
    """A profile problem, one line naming the file and key."""


@dataclass(frozen=True, slots=True)
class Refusal:
    nai: str
    status: int


@dataclass(frozen=True, slots=True)
class ProbeProfile:
    realm: str = "example.com"
    accept_unknown: bool = True
    allowed: tuple[str, ...] = ()
    unknown_nai: str = "nobody@invalid.example"
    unknown_nai_status: int | None = None
    refused: tuple[Refusal, ...] = ()
    pool: IPv4Network | None = None
    default_router: IPv4Address | None = None
    dhcp_mode: str | None = None
    timestamps: bool = False
    timestamp_window: float = 7.0
    max_lifetime: int | None = None
    revocation: bool | None = None  # None: "auto"
    foreign_hoa: IPv4Address = FOREIGN_HOA
    grants_specific: bool = True
    source: str = field(default="(built-in defaults)", compare=False)

    def refusals(self) -> tuple[Refusal, ...]:
        """Every NAI the gateway must refuse, with the status (the unknown NAI first)."""
        status = self.unknown_nai_status
        if status is None and not self.accept_unknown:
            status = BAStatus.NOT_LMA_FOR_THIS_MOBILE_NODE
        first = (Refusal(self.unknown_nai, status),) if status is not None else ()
        return first + self.refused


_KEYS: dict[str, type | tuple[type, ...]] = {
    "realm": str, "accept_unknown": bool, "allowed": list, "unknown_nai": str,
    "unknown_nai_status": int, "refused": list, "pool": str, "default_router": str,
    "dhcp_mode": str, "timestamps": bool, "timestamp_window": (int, float),
    "max_lifetime": int, "revocation": (bool, str), "foreign_hoa": str,
    "grants_specific": bool,
}
_REFUSAL_STATUSES = (BAStatus.PROXY_REG_NOT_ENABLED, BAStatus.NOT_LMA_FOR_THIS_MOBILE_NODE,
                     BAStatus.NOT_AUTHORIZED_FOR_IPV4_MOBILITY_SERVICE)


def load_profile(path: str) -> ProbeProfile:
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path}: not valid TOML: {exc}") from None
    return profile_from(data, path)


def profile_from(data: dict[str, Any], where: str = "profile") -> ProbeProfile:
    kw: dict[str, Any] = {}
    for key, value in data.items():
        kind = _KEYS.get(key)
        if kind is None:
            near = difflib.get_close_matches(key, _KEYS, 1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise ProfileError(f"{where}: {key}: unknown key{hint}")
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ProfileError(f"{where}: {key}: wrong type {type(value).__name__}")
        kw[key] = _convert(where, key, value)
    return ProbeProfile(**kw, source=where)


def _convert(where: str, key: str, value: Any) -> Any:
    try:
        texts = value if key == "allowed" else [value] if isinstance(value, str) else []
        if key == "refused":
            texts = [v.get("nai") for v in value if isinstance(v, dict)]
        if any(isinstance(t, str) and _CONTROL.search(t) for t in texts):
            raise ValueError("control characters are not allowed")
        if key == "allowed":
            if not all(isinstance(v, str) and v for v in value):
                raise ValueError("expected a list of NAIs")
            return tuple(value)
        if key == "refused":
            return tuple(_refusal(v) for v in value)
        if key == "pool":
            return IPv4Network(value, strict=False)
        if key in ("default_router", "foreign_hoa"):
            return IPv4Address(value)
        if key == "dhcp_mode" and value not in DHCP_MODES:
            raise ValueError(f"one of {', '.join(DHCP_MODES)}")
        if key == "unknown_nai_status":
            return _status(value)
        if key == "revocation":
            if value == "auto":
                return None
            if isinstance(value, str):
                raise ValueError("true, false or \"auto\"")
        if key in ("timestamp_window", "max_lifetime") and value <= 0:
            raise ValueError("must be positive")
    except ValueError as exc:
        raise ProfileError(f"{where}: {key}: {exc}") from None
    return value


def _status(value: int) -> int:
    if value not in _REFUSAL_STATUSES:
        allowed = ", ".join(str(int(s)) for s in _REFUSAL_STATUSES)
        raise ValueError(f"{value} is not a refusal status ({allowed})")
    return value


def _refusal(item: Any) -> Refusal:
    if not isinstance(item, dict) or set(item) != {"nai", "status"}:
        raise ValueError('each entry is { nai = "...", status = N }')
    if not isinstance(item["nai"], str) or not isinstance(item["status"], int):
        raise ValueError("nai is text, status a number")
    return Refusal(item["nai"], _status(item["status"]))
