"""Scenario files of ``pmipview simulate``: small TOML documents, validated into plain data.

The format is documented in docs/scenarios.md.  Every mistake gives a ScenarioError
naming the key (``mag[1].dhcp: expected "server" or "relay", got "srv"``), never a
traceback.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from pathlib import Path
from typing import Any

from dissectors.link import normalize_mac


class ScenarioError(Exception):
    """A scenario file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True, slots=True)
class LinkSpec:
    delay: float = 0.002   # seconds, one way
    jitter: float = 0.0    # seconds, uniform +/-
    loss: float = 0.0      # probability of losing a frame


@dataclass(frozen=True, slots=True)
class LMASpec:
    name: str
    mac: str
    ipv4: IPv4Address | None
    ipv6: IPv6Address | None
    pool: IPv4Network
    default_router: IPv4Address
    hnp_pool: IPv6Network | None
    max_lifetime: int
    revoke_on_handoff: bool
    timestamp_window: float | None
    exhausted_reply_status: int
    adopt_foreign_hoa: bool
    dhcp_server: IPv4Address | None   # a DHCP server co-located with the LMA
    dhcp_lease: int
    profiles: dict[str, dict[str, Any]]
    accept_unknown: bool
    heartbeat_interval: float | None = None
    heartbeat_misses: int = 3
    restart_counter: int = 0


@dataclass(frozen=True, slots=True)
class MAGSpec:
    name: str
    mac: str
    ipv4: IPv4Address | None
    ipv6: IPv6Address | None
    transport: str                    # "ipv4" (UDP 5436) or "ipv6"
    dhcp: str                         # "server" or "relay"
    relay_order: str                  # "rfc5844" or "draft"
    server_id: IPv4Address | None
    server_id_policy: str             # "same" or "rebind"
    relay_address: IPv4Address | None
    lifetime: int
    reregister_before: float
    retransmit: tuple[float, ...]
    max_retransmissions: int
    att: int
    lease: int                        # DHCP lease the MAG's server role grants
    mutate: tuple[str, ...]           # fault injection on this MAG's PBUs
    restart_counter: int = 1          # Heartbeat Restart Counter (RFC 5847)


@dataclass(frozen=True, slots=True)
class MNSpec:
    name: str
    nai: str
    macs: tuple[str, ...]
    ipv4: bool
    ipv6: bool
    att: int | None
    static_hoa: IPv4Address | None
    dnav4: bool = False               # keeps its lease across handoffs (no INIT-REBOOT)


@dataclass(frozen=True, slots=True)
class EventSpec:
    at: float
    action: str                       # attach handoff detach release renew restart revoke
    mn: str | None
    mag: str | None = None
    iface: str = "wlan0"
    mac: str | None = None            # which interface of a multihomed MN
    hi: int | None = None


@dataclass(frozen=True, slots=True)
class FaultSpec:
    start: float
    end: float
    link: str                         # "mag1-lma", "mag1-mn1", or "*"
    loss: float = 1.0
    delay: float | None = None


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    description: str
    seed: int
    start_unix: float
    duration: float
    capture: tuple[str, ...]
    links: dict[str, LinkSpec]        # "backhaul", "access" and per-link overrides
    lma: LMASpec
    mags: tuple[MAGSpec, ...]
    mns: tuple[MNSpec, ...]
    events: tuple[EventSpec, ...]
    faults: tuple[FaultSpec, ...]
    expect: tuple[dict[str, Any], ...] = field(default=())
    path: str = ""
    timeline: tuple[dict[str, Any], ...] = field(default=())  # [[timeline]] facts


ACTIONS = ("attach", "handoff", "detach", "release", "renew", "restart", "revoke")
MUTATIONS = ("duplicate-hoa-request", "drop-mn-id", "drop-handoff-indicator",
             "drop-att", "drop-hoa-request")


class _Reader:
    """Typed access to a TOML table with error messages that name the key."""

    def __init__(self, table: dict[str, Any], where: str, source: str) -> None:
        self.table, self.where, self.source = table, where, source
        self.used: set[str] = set()

    def fail(self, key: str, message: str) -> ScenarioError:
        path = f"{self.where}.{key}" if self.where else key
        return ScenarioError(f"{self.source}: {path}: {message}")

    def get(self, key: str, default: Any = ..., kind: type | tuple[type, ...] | None = None
            ) -> Any:
        self.used.add(key)
        if key not in self.table:
            if default is ...:
                raise self.fail(key, "missing")
            return default
        value = self.table[key]
        numeric = kind in (int, float, (int, float))
        if kind is not None and (not isinstance(value, kind)
                                 or (numeric and isinstance(value, bool))):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(
                k.__name__ for k in kind)
            raise self.fail(key, f"expected {names}, got {value!r}")
        return value

    def number(self, key: str, default: Any = ...) -> float:
        return float(self.get(key, default, (int, float)))

    def choice(self, key: str, options: tuple[str, ...], default: Any = ...) -> str:
        value = self.get(key, default, str)
        if value not in options:
            raise self.fail(key, f"expected one of {', '.join(options)}, got {value!r}")
        return value

    def addr(self, key: str, version: int | None = None, default: Any = ...) -> Any:
        value = self.get(key, default)
        if value is None:
            return None
        try:
            addr = ip_address(str(value))
        except ValueError:
            raise self.fail(key, f"not an IP address: {value!r}") from None
        if version is not None and addr.version != version:
            raise self.fail(key, f"expected an IPv{version} address, got {value!r}")
        return addr

    def mac(self, key: str, default: Any = ...) -> str:
        value = self.get(key, default, str)
        return _mac(value, lambda m: self.fail(key, m))

    def done(self) -> None:
        unknown = sorted(set(self.table) - self.used)
        if unknown:
            raise self.fail(unknown[0], "unknown key (a typo?)")


def _mac(value: str, fail: Any) -> str:
    normal = normalize_mac(value) if isinstance(value, str) else None
    if normal is None:
        raise fail(f"not a MAC address: {value!r}")
    return normal


def _links(table: dict[str, Any], source: str) -> dict[str, LinkSpec]:
    def spec(t: dict[str, Any], where: str, base: LinkSpec) -> LinkSpec:
        r = _Reader(t, where, source)
        out = LinkSpec(r.number("delay_ms", base.delay * 1000) / 1000,
                       r.number("jitter_ms", base.jitter * 1000) / 1000,
                       r.number("loss", base.loss))
        r.done()
        if not 0 <= out.loss <= 1:
            raise ScenarioError(f"{source}: {where}.loss: expected 0..1, got {out.loss}")
        return out

    flat = {k: v for k, v in table.items() if not isinstance(v, dict)}
    default = spec(flat, "links", LinkSpec())
    links = {"backhaul": default, "access": default}
    for key, value in table.items():  # [links.backhaul], [links.access], [links."mag1-lma"]
        if isinstance(value, dict):
            links[key] = spec(value, f"links.{key}", default)
    return links


def load(path: str | Path) -> Scenario:
    """Read and validate a scenario file."""
    source = str(path)
    try:
        data = tomllib.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ScenarioError(f"no such scenario file: {source}") from None
    except OSError as exc:
        raise ScenarioError(f"cannot read {source}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{source}: not valid TOML: {exc}") from None
    return parse(data, source)


def parse(data: dict[str, Any], source: str = "<scenario>") -> Scenario:
    top = _Reader(data, "", source)
    name = top.get("name", Path(source).stem, str)
    description = top.get("description", "", str)
    seed = int(top.get("seed", 1, int))
    start = top.get("start", datetime(2024, 5, 1, 10, 0, tzinfo=UTC), (datetime, str))
    if isinstance(start, str):
        try:
            start = datetime.fromisoformat(start.replace("Z", "+00:00"))
        except ValueError:
            raise top.fail("start", f"not a date-time: {start!r}") from None
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    duration = top.number("duration")
    capture = tuple(top.get("capture", ["lma"], list))
    links = _links(top.get("links", {}, dict), source)
    lma = _lma(top.get("lma", ..., dict), source)
    mags = tuple(_mag(t, i, lma, source) for i, t in enumerate(top.get("mag", ..., list)))
    mns = tuple(_mn(t, i, source) for i, t in enumerate(top.get("mn", ..., list)))
    events = tuple(sorted((_event(t, i, source) for i, t in enumerate(top.get("event", [],
                                                                                list))),
                          key=lambda e: e.at))
    faults = tuple(_fault(t, i, source) for i, t in enumerate(top.get("fault", [], list)))
    expect = tuple(top.get("expect", [], list))
    timeline = tuple(top.get("timeline", [], list))
    top.done()
    nodes = {lma.name, *(m.name for m in mags), *(m.name for m in mns)}
    if len(nodes) != 1 + len(mags) + len(mns):
        raise ScenarioError(f"{source}: node names must be unique")
    for cap in capture:
        if cap not in {lma.name, *(m.name for m in mags)}:
            raise ScenarioError(f"{source}: capture: {cap!r} is not the LMA or a MAG")
    mag_names = {m.name for m in mags}
    mn_by_name = {m.name: m for m in mns}
    for i, ev in enumerate(events):
        if ev.action == "restart":
            if ev.mag not in mag_names:
                raise ScenarioError(f"{source}: event[{i}].mag: no MAG named {ev.mag!r}")
            continue
        if ev.mn not in mn_by_name:
            raise ScenarioError(f"{source}: event[{i}].mn: no MN named {ev.mn!r}")
        if ev.action in ("attach", "handoff") and ev.mag not in mag_names:
            raise ScenarioError(f"{source}: event[{i}].mag: no MAG named {ev.mag!r}")
        if ev.mac is not None and ev.mac not in mn_by_name[ev.mn].macs:
            raise ScenarioError(f"{source}: event[{i}].mac: {ev.mac} is not a MAC of "
                                f"{ev.mn}")
    for section, facts in (("expect", expect), ("timeline", timeline)):
        for i, e in enumerate(facts):
            if not isinstance(e, dict):
                raise ScenarioError(f"{source}: {section}[{i}]: expected a table")
    return Scenario(name, description, seed, start.timestamp(), duration, capture, links,
                    lma, mags, mns, events, faults, expect, source, timeline)


def _lma(t: dict[str, Any], source: str) -> LMASpec:
    r = _Reader(t, "lma", source)
    profiles = r.get("profiles", {}, dict)
    spec = LMASpec(
        name=r.get("name", "lma", str), mac=r.mac("mac", "02:00:5e:00:00:64"),
        ipv4=r.addr("ipv4", 4, None), ipv6=r.addr("ipv6", 6, None),
        pool=_network(r, "pool", IPv4Network),
        default_router=r.addr("default_router", 4),
        hnp_pool=_network(r, "hnp_pool", IPv6Network, None),
        max_lifetime=int(r.number("max_lifetime", 3600)),
        revoke_on_handoff=r.get("revoke_on_handoff", True, bool),
        timestamp_window=r.get("timestamp_window", None, (int, float)),
        exhausted_reply_status=int(r.number("exhausted_reply_status", 128)),
        adopt_foreign_hoa=r.get("adopt_foreign_hoa", False, bool),
        dhcp_server=r.addr("dhcp_server", 4, None),
        dhcp_lease=int(r.number("dhcp_lease", 3600)),
        profiles=profiles, accept_unknown=r.get("accept_unknown", True, bool),
        heartbeat_interval=r.get("heartbeat_interval", None, (int, float)),
        heartbeat_misses=int(r.number("heartbeat_misses", 3)),
        restart_counter=int(r.number("restart_counter", 0)))
    r.done()
    if spec.ipv4 is None and spec.ipv6 is None:
        raise ScenarioError(f"{source}: lma: give ipv4 and/or ipv6")
    if spec.heartbeat_interval is not None and spec.heartbeat_interval <= 0:
        raise r.fail("heartbeat_interval", f"expected seconds > 0, got "
                                           f"{spec.heartbeat_interval!r}")
    for nai, prof in profiles.items():
        pr = _Reader(prof, f"lma.profiles.{nai}", source)
        for key in ("ipv4", "ipv6", "allowed"):
            pr.get(key, True, bool)
        pr.addr("static_hoa", 4, None)
        pr.choice("dhcp_mode", ("server", "relay", "none"), "server")
        pr.done()
    return spec


def _network(r: _Reader, key: str, kind: type, default: Any = ...) -> Any:
    value = r.get(key, default)
    if value is None:
        return None
    try:
        return kind(str(value))
    except ValueError:
        raise r.fail(key, f"not a network: {value!r}") from None


def _mag(t: dict[str, Any], i: int, lma: LMASpec, source: str) -> MAGSpec:
    r = _Reader(t, f"mag[{i}]", source)
    spec = MAGSpec(
        name=r.get("name", f"mag{i + 1}", str), mac=r.mac("mac", f"02:00:5e:00:01:{i + 1:02x}"),
        ipv4=r.addr("ipv4", 4, None), ipv6=r.addr("ipv6", 6, None),
        transport=r.choice("transport", ("ipv4", "ipv6"), "ipv4"),
        dhcp=r.choice("dhcp", ("server", "relay"), "server"),
        relay_order=r.choice("relay_order", ("rfc5844", "draft"), "rfc5844"),
        server_id=r.addr("server_id", 4, None),
        server_id_policy=r.choice("server_id_policy", ("same", "rebind"), "same"),
        relay_address=r.addr("relay_address", 4, None),
        lifetime=int(r.number("lifetime", 3600)),
        reregister_before=r.number("reregister_before", 60),
        retransmit=tuple(float(x) for x in r.get("retransmit", [1, 2, 4, 8], list)),
        max_retransmissions=int(r.number("max_retransmissions", 3)),
        att=int(r.number("att", 4)),
        lease=int(r.number("lease", 3600)),
        mutate=tuple(r.get("mutate", [], list)),
        restart_counter=int(r.number("restart_counter", 1)))
    r.done()
    need = spec.ipv4 if spec.transport == "ipv4" else spec.ipv6
    lma_addr = lma.ipv4 if spec.transport == "ipv4" else lma.ipv6
    if need is None or lma_addr is None:
        raise ScenarioError(f"{source}: mag[{i}]: transport {spec.transport} needs an "
                            f"{spec.transport} address on the MAG and on the LMA")
    if spec.dhcp == "relay" and (spec.relay_address is None or lma.dhcp_server is None):
        raise ScenarioError(f"{source}: mag[{i}]: relay mode needs relay_address here and "
                            f"lma.dhcp_server")
    for m in spec.mutate:
        if m not in MUTATIONS:
            raise ScenarioError(f"{source}: mag[{i}].mutate: unknown {m!r} "
                                f"(one of {', '.join(MUTATIONS)})")
    return spec


def _mn(t: dict[str, Any], i: int, source: str) -> MNSpec:
    r = _Reader(t, f"mn[{i}]", source)
    name = r.get("name", f"mn{i + 1}", str)
    macs: list[str] = []
    if "mac" in t:
        macs.append(r.mac("mac"))
    for j, m in enumerate(r.get("macs", [], list)):
        macs.append(_mac(m, lambda msg, j=j: r.fail(f"macs[{j}]", msg)))
    if not macs:
        raise r.fail("mac", "missing (give mac or macs)")
    spec = MNSpec(name=name, nai=r.get("nai", f"{name}@example.net", str), macs=tuple(macs),
                  ipv4=r.get("ipv4", True, bool), ipv6=r.get("ipv6", False, bool),
                  att=r.get("att", None, int), static_hoa=r.addr("static_hoa", 4, None),
                  dnav4=r.get("dnav4", False, bool))
    r.done()
    return spec


def _event(t: dict[str, Any], i: int, source: str) -> EventSpec:
    r = _Reader(t, f"event[{i}]", source)
    ev = EventSpec(at=r.number("at"), action=r.choice("action", ACTIONS),
                   mn=r.get("mn", None if t.get("action") == "restart" else ..., str),
                   mag=r.get("mag", None, str),
                   iface=r.get("iface", "wlan0", str),
                   mac=r.mac("mac", None) if "mac" in t else r.get("mac", None),
                   hi=r.get("hi", None, int))
    r.done()
    return ev


def _fault(t: dict[str, Any], i: int, source: str) -> FaultSpec:
    r = _Reader(t, f"fault[{i}]", source)
    delay = r.get("delay_ms", None, (int, float))
    f = FaultSpec(start=r.number("from"), end=r.number("to"), link=r.get("link", "*", str),
                  loss=r.number("loss", 1.0 if delay is None else 0.0),
                  delay=None if delay is None else float(delay) / 1000)
    r.done()
    if f.end < f.start:
        raise ScenarioError(f"{source}: fault[{i}]: 'to' is before 'from'")
    return f
