"""The correlated report as JSON (``pmipview timeline --json``; docs/json-schema.md)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pmipview.correlate.model import (
    Attachment,
    DhcpExchange,
    Diagnostic,
    Handoff,
    MobileNode,
    Report,
    Transaction,
)

# json.dumps' text without its check for cycles (the report is a tree: each dict and list
# of it would be entered in and removed from a dict of ids, ~8% of the encoding)
_encode = json.JSONEncoder(check_circular=False).encode


def _ms(v: float | None) -> float | None:
    return None if v is None else round(v, 3)


def diagnostic(d: Diagnostic) -> dict[str, Any]:
    return {"severity": d.severity, "code": d.code, "frames": d.frames, "time": d.time,
            "message": d.message, "mn": d.mn}


def attachment(a: Attachment) -> dict[str, Any]:
    address_ms, attach_ms = a.address_ms, a.attach_ms
    return {"mag": a.mag, "interface": a.key, "start": a.start, "registered": a.registered,
            "end": a.end, "end_reason": a.end_reason, "ipv4_hoa": a.ipv4_hoa,
            "ipv4_prefix_len": a.ipv4_plen, "hnps": a.hnps, "dhcp_mode": a.dhcp_mode,
            "handoff_indicator": a.handoff_indicator,
            "access_technology": a.access_technology, "lifetime": a.lifetime,
            "refreshes": a.refreshes, "server_id": a.server_id,
            # _ms inline (a call less per value; ~150,000 values on 100k frames)
            "address_ms": None if address_ms is None else round(address_ms, 3),
            "attach_ms": None if attach_ms is None else round(attach_ms, 3),
            "frames": sorted(set(a.frames))}


def handoff(h: Handoff) -> dict[str, Any]:
    return {"from_mag": h.from_mag, "to_mag": h.to_mag, "time": h.time,
            "handoff_ms": _ms(h.handoff_ms), "interruption_ms": _ms(h.interruption_ms),
            "hoa_preserved": h.hoa_preserved, "frames": h.frames}


def transaction(t: Transaction) -> dict[str, Any]:
    rtt_ms, setup_ms = t.rtt_ms, t.setup_ms
    return {"kind": t.kind, "mag": t.mag, "lma": t.lma, "seqs": t.seqs,
            "frames": sorted(set(t.frames)), "first_sent": t.first_sent,
            "answered": t.answered,
            "rtt_ms": None if rtt_ms is None else round(rtt_ms, 3),  # _ms inline
            "setup_ms": None if setup_ms is None else round(setup_ms, 3),
            "status": t.status, "status_name": t.status_name, "outcome": t.outcome,
            "retransmissions": t.retransmissions, "handoff_indicator": t.hi,
            "lifetime_requested": t.lifetime_requested,
            "lifetime_granted": t.lifetime_granted, "hoa_requested": t.hoa_requested,
            "hoa_assigned": t.hoa_assigned, "hoa_status": t.hoa_status}


def dhcp(x: DhcpExchange) -> dict[str, Any]:
    return {"xid": x.xid, "mode": x.mode, "mac": x.mac, "mag": x.mag,
            # a message seen once is written as it is (no copy); "also" becomes also_frames
            "messages": [m if "also" not in m else {k: v for k, v in m.items() if k != "also"}
                         | {"also_frames": m["also"]} for m in x.messages],
            "outcome": x.outcome, "yiaddr": x.yiaddr, "server_id": x.server_id,
            "address_ms": _ms(x.address_ms)}


def mobile_node(mn: MobileNode) -> dict[str, Any]:
    return {"id": mn.id, "nai": mn.nai, "nais": mn.nais, "macs": mn.macs,
            "ipv4_hoas": mn.ipv4_hoas, "hnps": mn.hnps, "lma": mn.lma,
            "attachments": [attachment(a) for a in mn.attachments],
            "handoffs": [handoff(h) for h in mn.handoffs],
            "transactions": [transaction(t) for t in mn.transactions],
            "dhcp": [dhcp(x) for x in mn.dhcp],
            "diagnostics": [diagnostic(d) for d in sorted(mn.diagnostics,
                                                          key=lambda d: d.time)]}


def write(r: Report, mobile_nodes: list[MobileNode] | None, out: Callable[[str], Any]) -> None:
    """The same text as ``json.dumps(report(r, mobile_nodes))``, written MN by MN so that
    the whole document is never in memory at once."""
    mns = r.mobile_nodes if mobile_nodes is None else mobile_nodes
    doc = report(r, [])
    out(json.dumps({"capture": doc["capture"], "nodes": doc["nodes"]})[:-1])
    out(', "mobile_nodes": [')
    for i, mn in enumerate(r.complete(mns)):
        out((", " if i else "") + _encode(mobile_node(mn)))
    diags = [diagnostic(d) for d in sorted(
        [*r.diagnostics, *(d for mn in mns for d in mn.diagnostics)], key=lambda d: d.time)]
    out('], "diagnostics": ' + json.dumps(diags) + "}")


def report(r: Report, mobile_nodes: list[MobileNode] | None = None) -> dict[str, Any]:
    mns = r.mobile_nodes if mobile_nodes is None else mobile_nodes
    return {
        "capture": {"frames": r.frames, "signaling_frames": r.signaling_frames,
                    "malformed_frames": r.malformed_frames, "start": r.start, "end": r.end},
        "nodes": [{"name": n.name, "role": n.role, "addresses": n.addresses}
                  for n in r.nodes],
        "mobile_nodes": [mobile_node(mn) for mn in mns],
        "diagnostics": [diagnostic(d) for d in sorted(
            [*r.diagnostics, *(d for mn in mns for d in mn.diagnostics)],
            key=lambda d: d.time)],
    }
