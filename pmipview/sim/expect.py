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

Each ``[[timeline]]`` table of a scenario states what a user would check in the timeline
of one mobile node (``pmipview timeline FILE --json``, docs/json-schema.md)::

    [[timeline]]
    fact = "mn1 attaches at mag1 with 10.10.0.2 then hands off to mag2 keeping it"
    mn = "mn1@example.net"        # the MN: its id, an NAI, a MAC or an IPv4 HoA
    ipv4_hoas = ["10.10.0.2"]     # MN keys (id nai nais macs ipv4_hoas hnps lma): equal
    attachments = [               # exactly these attachments, in order
      { mag = "192.0.2.1", ipv4_hoa = "10.10.0.2", end_reason = "handoff" },
      { mag = "192.0.2.2", end_reason = "end-of-capture", attach_ms_max = 100 },
    ]
    handoffs = [ { from_mag = "192.0.2.1", to_mag = "192.0.2.2", hoa_preserved = true } ]
    transactions = [ { kind = "registration", status = 170, count = 1 } ]  # match >= 1
    dhcp = [ { outcome = "ack", yiaddr = "10.10.0.2" } ]                    # (or count)
    diagnostics = ["pba-rejected"]  # codes raised for this MN
    clean = true                    # no error/warning diagnostic for it (false: some)

An entry of a list is a subset of the JSON object's keys, compared for equality, plus
``null = [keys]`` (those are null: TOML has no null), ``KEY_max`` / ``KEY_min`` (a number
within that bound, e.g. ``attach_ms_max``) and, for transactions and dhcp, ``count``
(exactly that many match).  ``mag``, ``from_mag``, ``to_mag`` and ``lma`` match the node's
name or any of its addresses; addresses compare as addresses.  A table without ``mn``
is about the capture: only ``diagnostics`` and ``clean``, over the diagnostics that name
no MN.  ``check_timeline`` returns one line per unmet fact or mistake (unknown key).
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv6Network, ip_address, ip_network
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
        if rc is None or rc.counter != e["restart_counter"]:
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


# -- timeline facts ----------------------------------------------------------------------

MN_KEYS = ("id", "nai", "nais", "macs", "ipv4_hoas", "hnps", "lma")
TIMELINE_KEYS = ("fact", "mn", *MN_KEYS, "attachments", "handoffs", "transactions", "dhcp",
                 "diagnostics", "clean")
CAPTURE_FACT_KEYS = ("fact", "diagnostics", "clean")
ENTRY_KEYS: dict[str, tuple[str, ...]] = {
    "attachments": ("mag", "interface", "start", "registered", "end", "end_reason",
                    "ipv4_hoa", "ipv4_prefix_len", "hnps", "dhcp_mode", "handoff_indicator",
                    "access_technology", "lifetime", "refreshes", "server_id", "address_ms",
                    "attach_ms", "frames"),
    "handoffs": ("from_mag", "to_mag", "time", "handoff_ms", "interruption_ms",
                 "hoa_preserved", "frames"),
    "transactions": ("kind", "mag", "lma", "seqs", "frames", "first_sent", "answered",
                     "rtt_ms", "setup_ms", "status", "status_name", "outcome",
                     "retransmissions", "handoff_indicator", "lifetime_requested",
                     "lifetime_granted", "hoa_requested", "hoa_assigned", "hoa_status"),
    "dhcp": ("xid", "mode", "mac", "mag", "messages", "outcome", "yiaddr", "server_id",
             "address_ms"),
}
NODE_KEYS = frozenset({"mag", "from_mag", "to_mag", "lma"})
SINGULAR = {"attachments": "attachment", "handoffs": "handoff", "transactions": "transaction",
            "dhcp": "DHCP exchange"}


def _norm(value: Any) -> Any:
    """Addresses and networks in one spelling (``2001:DB8::1`` is ``2001:db8::1``), MACs
    and NAIs in lower case."""
    if not isinstance(value, str):
        return value
    for parse in (ip_address, ip_network):
        try:
            return str(parse(value))
        except ValueError:
            pass
    return value.lower() if "@" in value or value.count(":") == 5 else value


def _same(want: Any, have: Any) -> bool:
    if isinstance(want, bool) or isinstance(have, bool):
        return isinstance(want, bool) and isinstance(have, bool) and want == have
    if isinstance(want, list):
        return isinstance(have, list) and len(want) == len(have) and all(
            _same(w, h) for w, h in zip(want, have, strict=True))
    if isinstance(want, int | float):
        return isinstance(have, int | float) and want == have
    return _norm(want) == _norm(have)


class _Timeline:
    """The timeline document with its nodes indexed by every address."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.node_of: dict[str, str] = {}
        for node in doc.get("nodes", []):
            self.node_of[_norm(node["name"])] = node["name"]
            for addr in node.get("addresses", []):
                self.node_of.setdefault(_norm(addr), node["name"])

    def same(self, key: str, want: Any, have: Any) -> bool:
        if key in NODE_KEYS and isinstance(want, str) and isinstance(have, str):
            return self.node_of.get(_norm(want), want) == have or _same(want, have)
        return _same(want, have)

    def mobile_nodes(self, key: str) -> list[dict[str, Any]]:
        k = _norm(str(key))
        return [mn for mn in self.doc.get("mobile_nodes", [])
                if k in {_norm(v) for v in (mn.get("id"), *mn.get("nais", []),
                                            *mn.get("macs", []), *mn.get("ipv4_hoas", []))
                         if v is not None}]


def _shown(v: Any) -> str:
    return "null" if v is None else repr(v)


def _entry_problems(tl: _Timeline, want: dict[str, Any], have: dict[str, Any]) -> list[str]:
    """What in ``have`` differs from the entry ``want`` (empty: it matches)."""
    out = []
    for key, value in want.items():
        if key == "count":
            continue
        if key == "null":
            out += [f"{k} is {_shown(have.get(k))}, expected null" for k in value
                    if have.get(k) is not None]
        elif key not in have and key.endswith(("_max", "_min")):
            base, actual = key[:-4], have.get(key[:-4])
            if not isinstance(actual, int | float) or isinstance(actual, bool):
                out.append(f"{base} is {_shown(actual)}, expected a number")
            elif (actual > value) if key.endswith("_max") else (actual < value):
                bound = "at most" if key.endswith("_max") else "at least"
                out.append(f"{base} is {actual}, expected {bound} {value}")
        elif not tl.same(key, value, have.get(key)):
            out.append(f"{key} is {_shown(have.get(key))}, expected {_shown(value)}")
    return out


def _entry_errors(entry: Any, section: str, known: set[str]) -> list[str]:
    """Mistakes in one entry of a list section (not a table, unknown key, bad value)."""
    if not isinstance(entry, dict):
        return ["expected a table"]
    errors = []
    for key, value in entry.items():
        if key == "count" and section in ("transactions", "dhcp"):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                errors.append(f"count: expected an integer >= 0, got {value!r}")
        elif key == "null":
            if not isinstance(value, list) or not all(
                    isinstance(k, str) and k in known for k in value):
                errors.append(f"null: expected a list of {SINGULAR[section]} keys, "
                              f"got {value!r}")
        elif key.endswith(("_max", "_min")) and key[:-4] in known:
            if not isinstance(value, int | float) or isinstance(value, bool):
                errors.append(f"{key}: expected a number, got {value!r}")
        elif key not in known:
            errors.append(f"unknown key {key!r}")
    return errors


def _summary(items: list[dict[str, Any]], entries: list[Any]) -> str:
    """The items, showing only the keys the expected entries name."""
    keys = [k for e in entries if isinstance(e, dict) for k in e if k not in ("count", "null")]
    keys = list(dict.fromkeys(k[:-4] if k.endswith(("_max", "_min")) else k for k in keys))
    keys = keys or ["mag"]
    return "[" + ", ".join("{" + ", ".join(f"{k}={_shown(it.get(k))}" for k in keys) + "}"
                           for it in items) + "]"


def _check_mn(tl: _Timeline, e: dict[str, Any], mn: dict[str, Any]) -> list[str]:
    out = []
    for key in MN_KEYS:
        if key in e and not tl.same(key, e[key], mn.get(key)):
            out.append(f"{key} is {_shown(mn.get(key))}, expected {_shown(e[key])}")
    for section in ("attachments", "handoffs"):       # exactly these, in order
        if section not in e:
            continue
        want, have = e[section], mn.get(section, [])
        if len(want) != len(have):
            out.append(f"{len(have)} {section}, expected {len(want)}: "
                       f"{_summary(have, want)}")
            continue
        for j, (w, h) in enumerate(zip(want, have, strict=True)):
            out += [f"{SINGULAR[section]} {j + 1} of {len(have)}: {p}"
                    for p in _entry_problems(tl, w, h)]
    for section in ("transactions", "dhcp"):          # each matches one (or count)
        have = mn.get(section, [])
        for w in e.get(section, []):
            n = sum(1 for h in have if not _entry_problems(tl, w, h))
            shown = {k: v for k, v in w.items() if k != "count"}
            if "count" in w and n != w["count"]:
                out.append(f"{n} {section} match {shown}, expected exactly {w['count']}: "
                           f"{_summary(have, [w])}")
            elif "count" not in w and n == 0:
                out.append(f"no {SINGULAR[section]} matches {shown}: {_summary(have, [w])}")
    out += _check_diagnostics(e, mn.get("diagnostics", []), "for this MN")
    return out


def _check_diagnostics(e: dict[str, Any], diags: list[dict[str, Any]], where: str
                       ) -> list[str]:
    out = []
    codes = [d.get("code") for d in diags]
    for code in e.get("diagnostics", []):
        if code not in codes:
            out.append(f"diagnostic {code!r} not raised {where} (raised: {codes})")
    if "clean" in e:
        bad = [d.get("code") for d in diags if d.get("severity") in ("error", "warning")]
        if e["clean"] and bad:
            out.append(f"not clean: error/warning diagnostics {where}: {bad}")
        elif not e["clean"] and not bad:
            out.append(f"clean, expected an error or warning diagnostic {where}")
    return out


def _fact_errors(e: dict[str, Any]) -> list[str]:
    """Mistakes in a [[timeline]] table itself."""
    allowed = TIMELINE_KEYS if "mn" in e else CAPTURE_FACT_KEYS
    errors = [f"unknown key {k!r}" if k not in TIMELINE_KEYS else
              f"{k}: needs mn (a table without mn is about the whole capture)"
              for k in e if k not in allowed]
    if "mn" in e and not isinstance(e["mn"], str):
        errors.append(f"mn: expected a string, got {e['mn']!r}")
    if "diagnostics" in e and not (isinstance(e["diagnostics"], list) and all(
            isinstance(c, str) for c in e["diagnostics"])):
        errors.append("diagnostics: expected a list of codes")
    if "clean" in e and not isinstance(e["clean"], bool):
        errors.append(f"clean: expected true or false, got {e['clean']!r}")
    for section in ENTRY_KEYS:
        if section in e and not isinstance(e[section], list):
            errors.append(f"{section}: expected a list of tables")
    return errors


def check_timeline(expectations: Iterable[dict[str, Any]], timeline_json: dict[str, Any]
                   ) -> list[str]:
    """The ``[[timeline]]`` facts that the timeline JSON does not show, one line each
    (empty: all shown).  ``timeline_json`` is the document of ``pmipview timeline --json``."""
    tl = _Timeline(timeline_json)
    known = {section: set(keys) | {k for mn in timeline_json.get("mobile_nodes", [])
                                   for item in mn.get(section, []) for k in item}
             for section, keys in ENTRY_KEYS.items()}
    failures = []
    for i, e in enumerate(expectations):
        head = f"timeline[{i}]"
        if not isinstance(e, dict):
            failures.append(f"{head}: expected a table")
            continue
        fact = e.get("fact", "")
        errors = _fact_errors(e)
        for section in ENTRY_KEYS:
            for j, entry in enumerate(e.get(section, []) if not errors else []):
                errors += [f"{section}[{j}]: {m}"
                           for m in _entry_errors(entry, section, known[section])]
        if errors:
            failures += [f"{head}: {m}" for m in errors]
            continue
        if "mn" not in e:
            problems = _check_diagnostics(
                e, [d for d in timeline_json.get("diagnostics", []) if d.get("mn") is None],
                "for the capture")
        else:
            found = tl.mobile_nodes(e["mn"])
            if len(found) == 1:
                problems = _check_mn(tl, e, found[0])
            else:
                ids = [m.get("id") for m in (found or timeline_json.get("mobile_nodes", []))]
                problems = [f"no mobile node {e['mn']!r} (mobile nodes: {ids})" if not found
                            else f"{len(found)} mobile nodes match {e['mn']!r}: {ids}"]
        failures += [f"{head} {fact!r}: {p}" for p in problems]
    return failures
