"""``lma.toml`` → :class:`~pmipview.agents.lma.LMAConfig`, checked key by key.

Every key of ``LMAConfig`` and ``Profile`` has a TOML key (docs/lma.md lists them); the
one that does not, ``clock_offset``, is set from the system clock by the runtime.  What is
wrong is refused with one line that names the file and the key: an unknown key, a value of
the wrong type, an address that does not parse, a pool that contains the default router.

Without a file, :func:`default_lma_config` is the embedded default: any NAI is accepted,
HoAs come from 10.200.0.2–10.200.255.254/16 with 10.200.0.1 as the default router.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import Any

from dissectors.mh_codes import HoAReplyStatus
from pmipview.agents.lma import LMAConfig, Profile
from pmipview.agents.pool import AddressPool

DEFAULT_POOL = "10.200.0.0/16"
DHCP_MODES = ("server", "relay", "none")
ORDERINGS = ("sequence", "timestamp")
DEFAULT_TIMESTAMP_WINDOW = 7.0  # seconds, RFC 5213 §6.1 / §9.3 TimestampValidityWindow


class ConfigError(ValueError):
    """A config problem, one line: ``FILE: key: what is wrong``."""


@dataclass(frozen=True, slots=True)
class _Key:
    kind: type | tuple[type, ...]
    help: str


PROFILE_KEYS: dict[str, _Key] = {
    "ipv4": _Key(bool, "IPv4 home address service (RFC 5844); false → 170"),
    "ipv6": _Key(bool, "IPv6 home network prefix service; false → 172"),
    "static_hoa": _Key(str, "the IPv4 HoA this MN always gets"),
    "hnp": _Key(str, "the IPv6 home network prefix this MN always gets"),
    "dhcp_mode": _Key(str, "DHCP Support Mode sent in the PBA: server, relay or none"),
    "allowed": _Key(bool, "false refuses the MN with 152 PROXY_REG_NOT_ENABLED"),
}

LMA_KEYS: dict[str, _Key] = {
    "pool": _Key(str, "IPv4 HoA pool: CIDR, or FIRST-LAST/LEN (a range inside a prefix)"),
    "default_router": _Key(str, "IPv4 default router sent in the PBA (outside the pool)"),
    "hnp_pool": _Key(str, "IPv6 prefix that /64 home network prefixes are taken from"),
    "lmaa_ipv4": _Key(str, "the LMA's IPv4 address (informational)"),
    "lmaa_ipv6": _Key(str, "the LMA's IPv6 address (informational)"),
    "accept_unknown": _Key(bool, "NAIs without a profile get [default_profile] (false → 153)"),
    "max_lifetime": _Key(int, "the longest lifetime granted, seconds"),
    "min_lifetime": _Key(int, "the shortest lifetime granted, seconds"),
    "ordering": _Key(str, "PBU ordering: sequence (RFC 5213 §5.3.1) or timestamp (§5.5)"),
    "timestamp_window": _Key((int, float), "timestamp validity window, seconds"),
    "sequence_window": _Key(bool, "check sequence numbers of re-registrations (135)"),
    "revoke_on_handoff": _Key(bool, "send a BRI to the old MAG on a handoff (RFC 5846)"),
    "bri_retransmit": _Key((int, float), "seconds between BRI retransmissions"),
    "bri_attempts": _Key(int, "BRI retransmissions before giving up"),
    "heartbeat_interval": _Key((int, float), "seconds between heartbeats to MAGs (RFC 5847)"),
    "heartbeat_misses": _Key(int, "missed heartbeats before a MAG is unreachable"),
    "restart_counter": _Key(int, "Restart Counter sent in heartbeat responses"),
    "exhausted_reply_status": _Key((int, str), "IPv4 HoA Reply status when the pool is full"),
    "adopt_foreign_hoa": _Key(bool, "a PBU may take over an address a co-located DHCP "
                                    "server gave (draft -02 order)"),
}
TABLES = ("profiles", "default_profile")


def _check_type(where: str, key: str, value: Any, spec: _Key) -> None:
    kinds = spec.kind if isinstance(spec.kind, tuple) else (spec.kind,)
    if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
        names = " or ".join("a number" if k in (int, float) else
                            {bool: "true/false", str: "a string"}.get(k, k.__name__)
                            for k in dict.fromkeys(kinds))
        raise ConfigError(f"{where}{key}: expected {names}, got {value!r}")


def _unknown(where: str, table: dict[str, Any], keys: dict[str, _Key],
             extra: tuple[str, ...] = ()) -> None:
    for key in table:
        if key not in keys and key not in extra:
            near = difflib.get_close_matches(key, [*keys, *extra], n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise ConfigError(f"{where}{key}: unknown key{hint}")


def _addr4(where: str, key: str, text: str) -> IPv4Address:
    try:
        return IPv4Address(text)
    except ValueError:
        raise ConfigError(f"{where}{key}: {text!r} is not an IPv4 address") from None


def _net(where: str, key: str, text: str, cls: type) -> Any:
    try:
        return cls(text, strict=True)
    except ValueError as exc:
        raise ConfigError(f"{where}{key}: {text!r} is not a valid prefix ({exc})") from None


def parse_pool(text: str, where: str = "", key: str = "pool") -> AddressPool:
    """``10.0.0.0/24`` or ``10.0.0.10-10.0.0.200/24`` (the range inside its /24)."""
    if "-" in text:
        first_s, _, rest = text.partition("-")
        last_s, slash, plen = rest.partition("/")
        if not slash:
            raise ConfigError(f"{where}{key}: a range needs the prefix length MNs get, "
                              f"e.g. {first_s}-{last_s}/24")
        first, last = _addr4(where, key, first_s), _addr4(where, key, last_s)
        try:
            network = IPv4Network(f"{first}/{plen}", strict=False)
        except ValueError:
            raise ConfigError(f"{where}{key}: bad prefix length /{plen}") from None
        try:
            return AddressPool(network, first=first, last=last)
        except ValueError as exc:
            raise ConfigError(f"{where}{key}: {exc}") from None
    return AddressPool(_net(where, key, text, IPv4Network))


def _status(where: str, key: str, value: int | str) -> int:
    if isinstance(value, int):
        if not 0 <= value <= 255:
            raise ConfigError(f"{where}{key}: {value} is not a status (0-255)")
        return value
    code = HoAReplyStatus.__members__.get(value.upper().replace("-", "_"))
    if code is None:
        raise ConfigError(f"{where}{key}: unknown IPv4 HoA Reply status {value!r}")
    return code


def parse_profile(where: str, table: dict[str, Any]) -> Profile:
    _unknown(where, table, PROFILE_KEYS)
    for key, value in table.items():
        _check_type(where, key, value, PROFILE_KEYS[key])
    mode = table.get("dhcp_mode", "server")
    if mode not in DHCP_MODES:
        raise ConfigError(f"{where}dhcp_mode: {mode!r} is not one of {', '.join(DHCP_MODES)}")
    static = table.get("static_hoa")
    hnp = table.get("hnp")
    return Profile(
        ipv4=table.get("ipv4", True), ipv6=table.get("ipv6", True),
        static_hoa=_addr4(where, "static_hoa", static) if static is not None else None,
        hnp=_net(where, "hnp", hnp, IPv6Network) if hnp is not None else None,
        dhcp_mode=None if mode == "none" else mode, allowed=table.get("allowed", True))


def default_lma_config(pool: str | None = None) -> LMAConfig:
    """The embedded default: ``pool`` (CIDR; its first host is the default router, the
    rest is handed out) or 10.200.0.0/16; any NAI accepted, IPv4 and IPv6 service."""
    return _with_pool(pool or DEFAULT_POOL, "--pool: ", LMAConfig)


def _with_pool(cidr: str, where: str, build: Callable[..., LMAConfig],
               **kw: Any) -> LMAConfig:
    try:
        net = IPv4Network(cidr, strict=True) if "/" in cidr else None
    except ValueError as exc:
        raise ConfigError(f"{where}{cidr!r} is not a valid prefix ({exc})") from None
    if net is None or net.prefixlen > 30:
        raise ConfigError(f"{where}{cidr!r}: give a prefix of /30 or shorter, e.g. "
                          f"10.200.0.0/16")
    router = net[1]
    pool = AddressPool(net, first=net[2], last=net[-2])
    return build(pool=pool, default_router=router, **kw)


def load_lma_config(path: str, pool_override: str | None = None) -> LMAConfig:
    """Read ``path``; ``pool_override`` (``--pool``) replaces its pool and router."""
    where = f"{path}: "
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return lma_config_from(data, where, pool_override)


def lma_config_from(data: dict[str, Any], where: str = "",
                    pool_override: str | None = None) -> LMAConfig:
    _unknown(where, data, LMA_KEYS, TABLES)
    for key, value in data.items():
        if key in LMA_KEYS:
            _check_type(where, key, value, LMA_KEYS[key])
        elif not isinstance(value, dict):
            raise ConfigError(f"{where}{key}: expected a table ([{key}])")
    profiles = {}
    for nai, table in data.get("profiles", {}).items():
        if not isinstance(table, dict):
            raise ConfigError(f"{where}profiles.{nai}: expected a table")
        profiles[nai] = parse_profile(f"{where}profiles.{nai!r}.", table)
    default: Profile | None = parse_profile(f"{where}default_profile.",
                                            data.get("default_profile", {}))
    if not data.get("accept_unknown", True):
        default = None
    kw: dict[str, Any] = {"profiles": profiles, "default_profile": default}
    if "hnp_pool" in data:
        kw["hnp_pool"] = _net(where, "hnp_pool", data["hnp_pool"], IPv6Network)
    for key, field in (("lmaa_ipv4", "ipv4"), ("lmaa_ipv6", "ipv6")):
        if key in data:
            cls = IPv4Address if field == "ipv4" else IPv6Address
            try:
                kw[field] = cls(data[key])
            except ValueError:
                raise ConfigError(f"{where}{key}: {data[key]!r} is not an {field} address"
                                  ) from None
    for key in ("max_lifetime", "min_lifetime", "bri_attempts", "heartbeat_misses",
                "restart_counter"):
        if key in data:
            if data[key] < 0:
                raise ConfigError(f"{where}{key}: must not be negative, got {data[key]}")
            kw[key] = data[key]
    for key in ("bri_retransmit", "heartbeat_interval"):
        if key in data:
            if data[key] <= 0:
                raise ConfigError(f"{where}{key}: must be positive, got {data[key]}")
            kw[key] = float(data[key])
    for key in ("sequence_window", "revoke_on_handoff", "adopt_foreign_hoa"):
        if key in data:
            kw[key] = data[key]
    if kw.get("min_lifetime", 0) > kw.get("max_lifetime", 3600):
        raise ConfigError(f"{where}min_lifetime: larger than max_lifetime")
    ordering = data.get("ordering", "sequence")
    if ordering not in ORDERINGS:
        raise ConfigError(f"{where}ordering: {ordering!r} is not sequence or timestamp")
    if "timestamp_window" in data and ordering != "timestamp":
        raise ConfigError(f"{where}timestamp_window: only with ordering = \"timestamp\"")
    if ordering == "timestamp":
        window = float(data.get("timestamp_window", DEFAULT_TIMESTAMP_WINDOW))
        if window <= 0:
            raise ConfigError(f"{where}timestamp_window: must be positive")
        kw["timestamp_window"] = window
    if "exhausted_reply_status" in data:
        kw["exhausted_reply_status"] = _status(where, "exhausted_reply_status",
                                               data["exhausted_reply_status"])
    if pool_override is not None:
        return _with_pool(pool_override, "--pool: ", LMAConfig, **kw)
    if "pool" not in data:
        if "default_router" in data:
            raise ConfigError(f"{where}default_router: set pool too")
        return _with_pool(DEFAULT_POOL, where + "pool: ", LMAConfig, **kw)
    pool = parse_pool(data["pool"], where)
    if "default_router" not in data:
        raise ConfigError(f"{where}default_router: missing (the pool needs a router)")
    router = _addr4(where, "default_router", data["default_router"])
    if router in pool:
        raise ConfigError(
            f"{where}pool: {data['pool']} contains the default router {router}; leave it "
            f"out with a range, e.g. pool = \"{_range_without(pool, router)}\"")
    if router not in pool.network:
        raise ConfigError(f"{where}default_router: {router} is not on the home network "
                          f"{pool.network} (MNs could not reach it)")
    return LMAConfig(pool=pool, default_router=router, **kw)


def _range_without(pool: AddressPool, router: IPv4Address) -> str:
    net = pool.network
    if router == net[1]:
        return f"{net[2]}-{net[-2]}/{net.prefixlen}"
    return f"{net[1]}-{IPv4Address(int(router) - 1)}/{net.prefixlen}"

