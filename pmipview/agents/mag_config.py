"""``mag.toml`` → :class:`~pmipview.agents.mag.MAGConfig` plus what the wire runner needs.

Every field of ``MAGConfig`` is a top-level key of the same name; ``MNPolicy`` fields are
the keys of ``[profiles."MAC"]`` tables and of ``[default]``.  The runner's own keys are
``access``, ``transport``, ``realm`` and ``link_down_hold``; ``[nai]`` maps MACs to NAIs
in one line each.  Command-line options override the file (``overrides``).  Anything
wrong (an unknown key, a bad address, a wrong type, a relay without a server) is a
:class:`ConfigError` whose message is one line naming the key.

MN identity: a MAC listed in ``[profiles]`` or ``[nai]`` gets that NAI; any other MAC gets
``default.nai`` with ``{mac}`` replaced by the MAC without colons (default
``"{mac}@REALM"``), unless ``[default] enabled = false``, which leaves unknown MNs unserved.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, ip_address
from pathlib import Path
from typing import Any

from dissectors.link import normalize_mac
from dissectors.mh_codes import AccessTechnology

from .mag import MAGConfig, MNPolicy

DEFAULT_REALM = "pmipview.test"
TRANSPORTS = ("udp4", "ipv6")


class ConfigError(Exception):
    """The configuration cannot be used; the message is one line for the user."""


@dataclass(frozen=True)
class MagSetup:
    """What ``pmipview mag`` runs: the core's config and the runner's settings."""

    config: MAGConfig
    access: str
    transport: str
    realm: str
    link_down_hold: float
    mac: str | None = None  # the access MAC the file asked for (None: the interface's)


# --------------------------------------------------------------------------- converters


def _fail(key: str, want: str, value: object) -> ConfigError:
    return ConfigError(f"{key}: expected {want}, got {value!r}")


def _str(key: str, v: object) -> str:
    if not isinstance(v, str) or not v:
        raise _fail(key, "a non-empty string", v)
    return v


def _bool(key: str, v: object) -> bool:
    if not isinstance(v, bool):
        raise _fail(key, "true or false", v)
    return v


def _int(key: str, v: object, lo: int = 0, hi: int | None = None) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < lo or (hi is not None and v > hi):
        rng = f"{lo}..{hi}" if hi is not None else f">= {lo}"
        raise _fail(key, f"an integer {rng}", v)
    return v


def _float(key: str, v: object) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or v < 0:
        raise _fail(key, "a number >= 0", v)
    return float(v)


def _addr(key: str, v: object) -> IPv4Address | IPv6Address:
    if not isinstance(v, str):
        raise _fail(key, "an IP address", v)
    try:
        return ip_address(v)
    except ValueError:
        raise _fail(key, "an IP address", v) from None


def _v4(key: str, v: object) -> IPv4Address:
    a = _addr(key, v)
    if not isinstance(a, IPv4Address):
        raise _fail(key, "an IPv4 address", v)
    return a


def _v6(key: str, v: object) -> IPv6Address:
    a = _addr(key, v)
    if not isinstance(a, IPv6Address):
        raise _fail(key, "an IPv6 address", v)
    return a


def _choice(*choices: str) -> Callable[[str, object], str]:
    def conv(key: str, v: object) -> str:
        if v not in choices:
            raise _fail(key, " or ".join(repr(c) for c in choices), v)
        return str(v)
    return conv


def _att(key: str, v: object) -> int:
    if isinstance(v, str):
        name = v.upper().replace("-", "_").replace(".", "_")
        try:
            return int(AccessTechnology[name])
        except KeyError:
            names = ", ".join(a.name.lower() for a in AccessTechnology)
            raise ConfigError(f"{key}: unknown access technology {v!r} (one of {names}, "
                              "or a number)") from None
    return _int(key, v, 0, 255)


def _mac(key: str, v: object) -> str:
    mac = normalize_mac(v) if isinstance(v, str) else None
    if mac is None:
        raise _fail(key, "a MAC address like 02:00:00:00:0a:01", v)
    return mac


def _floats(key: str, v: object) -> tuple[float, ...]:
    if not isinstance(v, list) or not v:
        raise _fail(key, "a non-empty list of seconds", v)
    return tuple(_float(f"{key}[{i}]", x) for i, x in enumerate(v))


def _v4s(key: str, v: object) -> tuple[IPv4Address, ...]:
    if not isinstance(v, list):
        raise _fail(key, "a list of IPv4 addresses", v)
    return tuple(_v4(f"{key}[{i}]", x) for i, x in enumerate(v))


# every MAGConfig field, by name (tests check none is missing); TOML has no null, so an
# optional field is simply left out
MAG_KEYS: dict[str, Callable[[str, object], Any]] = {
    "name": _str,
    "lma": _addr,
    "ipv6": _v6,
    "ipv4": _v4,
    "mac": _mac,
    "dhcp_mode": _choice("server", "relay"),
    "dhcp_server_id": _v4,
    "relay_address": _v4,
    "dhcp_server": _v4,
    "relay_order": _choice("rfc5844", "draft"),
    "server_id_policy": _choice("same", "rebind"),
    "lifetime": lambda k, v: _int(k, v, 4, 0xFFFF * 4),
    "reregister_before": _float,
    "retransmit": _floats,
    "max_retransmissions": lambda k, v: _int(k, v, 0, 100),
    "att": _att,
    "register_on_link_up": _bool,
    "use_timestamp": _bool,
    "epoch": _float,
    "mtu": lambda k, v: _int(k, v, 68, 65535),
    "lease": lambda k, v: _int(k, v, 1, 0xFFFFFFFF),
    "dns": _v4s,
    "gre_key": lambda k, v: _int(k, v, 0, 0xFFFFFFFF),
    "max_hops": lambda k, v: _int(k, v, 1, 255),
    "restart_counter": lambda k, v: _int(k, v, 0, 0xFFFFFFFF),
}
TABLE_KEYS = ("profiles", "default_policy")  # MAGConfig fields given as tables
RUNNER_KEYS: dict[str, Callable[[str, object], Any]] = {
    "access": _str,
    "transport": _choice(*TRANSPORTS),
    "realm": _str,
    "link_down_hold": _float,
}
POLICY_KEYS: dict[str, Callable[[str, object], Any]] = {
    "nai": _str,
    "ipv4": _bool,
    "ipv6": _bool,
    "static_hoa": _v4,
    "static_prefix_len": lambda k, v: _int(k, v, 0, 32),
    "att": _att,
    "iface_id": _mac,
}


def _policy(where: str, table: object, base: Mapping[str, Any]) -> MNPolicy:
    if not isinstance(table, dict):
        raise _fail(where, "a table", table)
    values = dict(base)
    for key, value in table.items():
        if key == "enabled" and where == "default":
            continue
        conv = POLICY_KEYS.get(key)
        if conv is None:
            raise ConfigError(f"{where}: unknown key {key!r} (known: "
                              f"{', '.join(POLICY_KEYS)})")
        values[key] = conv(f"{where}.{key}", value)
    if "nai" not in values:
        raise ConfigError(f"{where}: needs a nai")
    return MNPolicy(**values)


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def build_setup(data: Mapping[str, Any], overrides: Mapping[str, Any] | None = None
                ) -> MagSetup:
    """A :class:`MagSetup` from parsed TOML ``data`` with ``overrides`` (CLI) on top."""
    merged = dict(data)
    for key, value in (overrides or {}).items():
        if value is not None:
            merged[key] = value
    core: dict[str, Any] = {}
    runner: dict[str, Any] = {"transport": None, "realm": DEFAULT_REALM,
                              "link_down_hold": 2.0, "access": None}
    nai_map: dict[str, str] = {}
    profiles: dict[str, MNPolicy] = {}
    default_table: dict[str, Any] | None = None
    for key, value in merged.items():
        if key in MAG_KEYS:
            core[key] = MAG_KEYS[key](key, value)
        elif key == "listen":
            local = _addr("listen", value)
            core["ipv4" if isinstance(local, IPv4Address) else "ipv6"] = local
        elif key in RUNNER_KEYS:
            runner[key] = RUNNER_KEYS[key](key, value)
        elif key == "nai":
            if not isinstance(value, dict):
                raise _fail("nai", 'a table of "MAC" = "NAI"', value)
            for mac, nai in value.items():
                nai_map[_mac(f"nai.{mac}", mac)] = _str(f"nai.{mac}", nai)
        elif key == "profiles":
            if not isinstance(value, dict):
                raise _fail("profiles", 'tables [profiles."MAC"]', value)
            for mac, table in value.items():
                profiles[_mac(f"profiles.{mac}", mac)] = _policy(f"profiles.{mac}", table, {})
        elif key in ("default", "default_policy"):
            if not isinstance(value, dict):
                raise _fail(key, "a table", value)
            default_table = value
        else:
            known = [*MAG_KEYS, *RUNNER_KEYS, "listen", "nai", "profiles", "default"]
            raise ConfigError(f"unknown key {key!r} (known: {', '.join(known)})")
    for mac, nai in nai_map.items():
        if mac not in profiles:
            profiles[mac] = MNPolicy(nai)
    realm = runner["realm"]
    default_policy: MNPolicy | None = MNPolicy(f"{{mac}}@{realm}")
    if default_table is not None:
        enabled = default_table.get("enabled", True)
        if not _bool("default.enabled", enabled):
            default_policy = None
        else:
            default_policy = _policy("default", default_table, {"nai": f"{{mac}}@{realm}"})
    core["profiles"] = profiles
    core["default_policy"] = default_policy
    if "lma" not in core:
        raise ConfigError("no LMA address: give --lma ADDR (or lma = \"...\" in the config)")
    transport = runner["transport"] or ("udp4" if isinstance(core["lma"], IPv4Address)
                                        else "ipv6")
    family = IPv4Address if transport == "udp4" else IPv6Address
    if not isinstance(core["lma"], family):
        raise ConfigError(f"--transport {transport} needs an IPv{4 if transport == 'udp4' else 6}"
                          f" LMA address, got {core['lma']}")
    if transport == "udp4" and "ipv4" not in core:
        raise ConfigError("no local IPv4 address: give --listen ADDR (the IPv4-Proxy-CoA)")
    if transport == "ipv6" and "ipv6" not in core:
        raise ConfigError("no local IPv6 address: give --listen ADDR (the Proxy-CoA)")
    if core.get("dhcp_mode") == "relay":
        if "dhcp_server" not in core:
            raise ConfigError("--dhcp relay needs the DHCP server: --dhcp-server ADDR")
        if "relay_address" not in core:
            if "ipv4" not in core:
                raise ConfigError("--dhcp relay needs an IPv4 relay_address (the giaddr)")
            core["relay_address"] = core["ipv4"]
    if runner["access"] is None:
        raise ConfigError("no access interface: give --access IFACE")
    core.setdefault("name", "mag")
    try:
        config = MAGConfig(**core)
    except (TypeError, ValueError) as exc:
        raise ConfigError(str(exc)) from None
    return MagSetup(config, runner["access"], transport, realm, runner["link_down_hold"],
                    core.get("mac"))


def load_setup(path: Path | None, overrides: Mapping[str, Any] | None = None) -> MagSetup:
    """Read ``path`` (None: no file) and build the setup; ConfigError on any problem."""
    if path is None:
        return build_setup({}, overrides)
    data = read_toml(path)
    try:
        return build_setup(data, overrides)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def config_fields() -> list[str]:
    """The names of MAGConfig's fields (for the completeness test and the docs)."""
    return [f.name for f in dataclasses.fields(MAGConfig)]


__all__ = ["ConfigError", "MagSetup", "build_setup", "config_fields", "load_setup"]
