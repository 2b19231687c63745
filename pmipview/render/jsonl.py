"""``dissect --json``: one JSON object per listed frame (schema in docs/json-schema.md)."""

from __future__ import annotations

from typing import Any

from dissectors.fields import to_dict
from dissectors.frame import Frame
from dissectors.mh_codes import MHType, name_of
from pmipview.packets import Packet, kind_of, status_of

SCHEMA_VERSION = 1


def _malformed(m: Any) -> dict[str, Any]:
    return {"layer": m.layer, "offset": m.offset, "reason": m.reason, "severity": m.severity}


def _layers(frame: Frame) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if frame.link is not None:
        out["link"] = {"kind": type(frame.link).__name__.lower(), **to_dict(frame.link)}
    if frame.ip is not None:
        out[f"ipv{frame.ip.version}"] = to_dict(frame.ip)
    if frame.udp is not None:
        out["udp"] = to_dict(frame.udp)
    if frame.mh is not None:
        mh = frame.mh
        mh_type = getattr(mh, "mh_type", getattr(mh, "MH_TYPE", -1))
        body: dict[str, Any] = {"message": mh.short, "mh_type": int(mh_type),
                                "mh_type_name": name_of(MHType, mh_type)}
        if mh.wire is not None:
            body.update(header_len=mh.wire.header_len, checksum=mh.wire.checksum,
                        checksum_ok=mh.wire.checksum_ok)
        body.update(to_dict(mh))
        out["mh"] = body
    if frame.dhcp is not None:
        out["dhcp"] = to_dict(frame.dhcp)
    return out


def packet_json(packet: Packet, first_ts_ns: int | None) -> dict[str, Any]:
    frame = packet.frame
    return {
        "frame": packet.frame_no,
        "time": packet.ts_ns / 1e9,
        "time_rel": (packet.ts_ns - (first_ts_ns or packet.ts_ns)) / 1e9,
        "interface": packet.interface,
        "linktype": frame.linktype,
        "length": frame.length,
        "protocol": frame.protocol,
        "kind": kind_of(frame),
        "status": status_of(frame),
        "src": str(frame.src) if frame.src is not None else None,
        "dst": str(frame.dst) if frame.dst is not None else None,
        "info": frame.info(),
        "malformed": _malformed(frame.malformed) if frame.malformed is not None else None,
        "warnings": [_malformed(w) for w in frame.warnings],
        "fragment": frame.fragment,
        "comment": packet.comment,
        "layers": _layers(frame),
    }
